package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/nahook/nahook/internal/sqlpatch"
	"github.com/nahook/nahook/store"
)

const applicationColumns = `id, workspace_id, external_id, name, metadata, created_at, updated_at`

func scanApplication(row interface{ Scan(...any) error }) (store.Application, error) {
	var app store.Application
	var external sql.NullString
	var metadata string
	var created, updated int64
	if err := row.Scan(&app.ID, &app.WorkspaceID, &external, &app.Name, &metadata, &created, &updated); err != nil {
		return app, err
	}
	app.ExternalID = external.String
	app.CreatedAt, app.UpdatedAt = utc(created), utc(updated)
	return app, json.Unmarshal([]byte(metadata), &app.Metadata)
}

func metadataJSON(md map[string]string) string {
	if md == nil {
		return "{}"
	}
	b, _ := json.Marshal(md) // a map of strings always marshals
	return string(b)
}

// CreateApplication implements store.ApplicationStore. The unique index on
// (workspace_id, external_id) decides races between creators: exactly one
// insert of an external ID commits, the others fail with ErrConflict.
func (s *Store) CreateApplication(ctx context.Context, app store.Application) error {
	return s.write(ctx, app.WorkspaceID, func(tx *sql.Tx) error {
		if err := requireWorkspace(ctx, tx, app.WorkspaceID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO applications (`+applicationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			app.ID, app.WorkspaceID, null(app.ExternalID), app.Name, metadataJSON(app.Metadata), ms(app.CreatedAt), ms(app.UpdatedAt))
		return err
	})
}

// GetApplication implements store.ApplicationStore.
func (s *Store) GetApplication(ctx context.Context, ws store.WorkspaceID, id store.ApplicationID) (store.Application, error) {
	return getApplication(ctx, s.r, ws, id)
}

// GetApplicationByExternalID implements store.ApplicationStore.
func (s *Store) GetApplicationByExternalID(ctx context.Context, ws store.WorkspaceID, externalID string) (store.Application, error) {
	return getApplicationByExternalID(ctx, s.r, ws, externalID)
}

// getApplication reads an application through q: the readers, or a
// host's transaction.
func getApplication(ctx context.Context, q querier, ws store.WorkspaceID, id store.ApplicationID) (store.Application, error) {
	app, err := scanApplication(q.QueryRowContext(ctx,
		`SELECT `+applicationColumns+` FROM applications WHERE workspace_id = ? AND id = ?`, ws, id))
	return app, mapError(notFound(err, id))
}

// getApplicationByExternalID reads an application by external ID through
// q.
func getApplicationByExternalID(ctx context.Context, q querier, ws store.WorkspaceID, externalID string) (store.Application, error) {
	app, err := scanApplication(q.QueryRowContext(ctx,
		`SELECT `+applicationColumns+` FROM applications WHERE workspace_id = ? AND external_id = ?`, ws, externalID))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.UnknownExternalID(externalID)
	}
	return app, mapError(err)
}

// ListApplications implements store.ApplicationStore.
func (s *Store) ListApplications(ctx context.Context, ws store.WorkspaceID, page store.PageRequest) ([]store.Application, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+applicationColumns+` FROM applications
		WHERE workspace_id = ? AND id > ? ORDER BY id LIMIT ?`, ws, page.After, page.Limit)
	return collect(rows, err, scanApplication)
}

// UpdateApplication implements store.ApplicationStore.
func (s *Store) UpdateApplication(ctx context.Context, ws store.WorkspaceID, id store.ApplicationID, u store.ApplicationUpdate) (store.Application, error) {
	var app store.Application
	err := s.write(ctx, ws, func(tx *sql.Tx) error {
		set := sqlpatch.Question()
		set.Add("name", u.Name)
		if u.ExternalID != nil {
			set.Add("external_id", null(*u.ExternalID))
		}
		if u.Metadata != nil {
			set.Add("metadata", metadataJSON(u.Metadata))
		}
		set.Add("updated_at", ms(u.UpdatedAt))
		res, err := tx.ExecContext(ctx, `UPDATE applications SET `+set.SQL()+` WHERE workspace_id = ? AND id = ?`,
			append(set.Args, ws, id)...)
		if err != nil {
			return err
		}
		if err := affected(res, id); err != nil {
			return err
		}
		app, err = scanApplication(tx.QueryRowContext(ctx, `SELECT `+applicationColumns+` FROM applications WHERE id = ?`, id))
		return err
	})
	return app, err
}

// DeleteApplication implements store.ApplicationStore. The schema's foreign
// keys cascade the delete to the application's endpoints in every
// environment.
func (s *Store) DeleteApplication(ctx context.Context, ws store.WorkspaceID, id store.ApplicationID) error {
	return s.write(ctx, ws, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM applications WHERE workspace_id = ? AND id = ?`, ws, id)
		if err != nil {
			return err
		}
		return affected(res, id)
	})
}
