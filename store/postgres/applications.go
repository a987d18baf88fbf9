package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/nahook/nahook/internal/sqlpatch"
	"github.com/nahook/nahook/store"
)

const applicationColumns = `id, workspace_id, external_id, name, metadata, created_at, updated_at`

func scanApplication(row pgx.Row) (store.Application, error) {
	var app store.Application
	var external *string
	err := row.Scan(&app.ID, &app.WorkspaceID, &external, &app.Name, &app.Metadata, &app.CreatedAt, &app.UpdatedAt)
	if external != nil {
		app.ExternalID = *external
	}
	if app.Metadata == nil {
		app.Metadata = map[string]string{}
	}
	app.CreatedAt, app.UpdatedAt = utc(app.CreatedAt), utc(app.UpdatedAt)
	return app, err
}

// metadata returns md as the jsonb parameter: never null, which the column
// refuses.
func metadata(md map[string]string) map[string]string {
	if md == nil {
		return map[string]string{}
	}
	return md
}

// CreateApplication implements store.ApplicationStore. The unique
// constraint on (workspace_id, external_id) decides races between creators:
// exactly one insert of an external ID commits, the others fail with
// ErrConflict.
func (s *Store) CreateApplication(ctx context.Context, app store.Application) error {
	return s.write(ctx, app.WorkspaceID, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO applications (`+applicationColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			app.ID, app.WorkspaceID, null(app.ExternalID), app.Name, metadata(app.Metadata), app.CreatedAt, app.UpdatedAt)
		return err
	})
}

// GetApplication implements store.ApplicationStore.
func (s *Store) GetApplication(ctx context.Context, ws store.WorkspaceID, id store.ApplicationID) (store.Application, error) {
	return getApplication(ctx, s.pool, ws, id)
}

// GetApplicationByExternalID implements store.ApplicationStore.
func (s *Store) GetApplicationByExternalID(ctx context.Context, ws store.WorkspaceID, externalID string) (store.Application, error) {
	return getApplicationByExternalID(ctx, s.pool, ws, externalID)
}

// getApplication reads an application through q: the pool, or a host's
// transaction.
func getApplication(ctx context.Context, q querier, ws store.WorkspaceID, id store.ApplicationID) (store.Application, error) {
	app, err := scanApplication(q.QueryRow(ctx,
		`SELECT `+applicationColumns+` FROM applications WHERE workspace_id = $1 AND id = $2`, ws, id))
	return app, mapError(notFound(err, id))
}

// getApplicationByExternalID reads an application by external ID through
// q.
func getApplicationByExternalID(ctx context.Context, q querier, ws store.WorkspaceID, externalID string) (store.Application, error) {
	app, err := scanApplication(q.QueryRow(ctx,
		`SELECT `+applicationColumns+` FROM applications WHERE workspace_id = $1 AND external_id = $2`, ws, externalID))
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.UnknownExternalID(externalID)
	}
	return app, mapError(err)
}

// ListApplications implements store.ApplicationStore.
func (s *Store) ListApplications(ctx context.Context, ws store.WorkspaceID, page store.PageRequest) ([]store.Application, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+applicationColumns+` FROM applications
		WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3`, ws, page.After, page.Limit)
	return collect(rows, err, scanApplication)
}

// UpdateApplication implements store.ApplicationStore.
func (s *Store) UpdateApplication(ctx context.Context, ws store.WorkspaceID, id store.ApplicationID, u store.ApplicationUpdate) (store.Application, error) {
	set := sqlpatch.Dollar()
	set.Add("name", u.Name)
	if u.ExternalID != nil {
		set.Add("external_id", null(*u.ExternalID))
	}
	if u.Metadata != nil {
		set.Add("metadata", u.Metadata)
	}
	set.Add("updated_at", u.UpdatedAt)
	var app store.Application
	err := s.write(ctx, ws, func(tx pgx.Tx) (err error) {
		app, err = scanApplication(tx.QueryRow(ctx, `UPDATE applications SET `+set.SQL()+
			` WHERE workspace_id = `+set.Next(1)+` AND id = `+set.Next(2)+` RETURNING `+applicationColumns,
			append(set.Args, ws, id)...))
		return notFound(err, id)
	})
	return app, err
}

// DeleteApplication implements store.ApplicationStore. The schema's foreign
// keys cascade the delete to the application's endpoints in every
// environment.
func (s *Store) DeleteApplication(ctx context.Context, ws store.WorkspaceID, id store.ApplicationID) error {
	return s.write(ctx, ws, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM applications WHERE workspace_id = $1 AND id = $2`, ws, id)
		return affected(tag, err, id)
	})
}
