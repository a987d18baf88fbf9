package sqlite

import (
	"context"
	"database/sql"

	"github.com/nahook/nahook/internal/sqlpatch"
	"github.com/nahook/nahook/store"
)

const eventTypeColumns = `id, workspace_id, name, description, created_at, updated_at`

func scanEventType(row interface{ Scan(...any) error }) (store.EventType, error) {
	var et store.EventType
	var created, updated int64
	err := row.Scan(&et.ID, &et.WorkspaceID, &et.Name, &et.Description, &created, &updated)
	et.CreatedAt, et.UpdatedAt = utc(created), utc(updated)
	return et, err
}

// CreateEventType implements store.EventTypeStore.
func (s *Store) CreateEventType(ctx context.Context, et store.EventType) error {
	return s.write(ctx, et.WorkspaceID, func(tx *sql.Tx) error {
		if err := requireWorkspace(ctx, tx, et.WorkspaceID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO event_types (`+eventTypeColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			et.ID, et.WorkspaceID, et.Name, et.Description, ms(et.CreatedAt), ms(et.UpdatedAt))
		return err
	})
}

// GetEventType implements store.EventTypeStore.
func (s *Store) GetEventType(ctx context.Context, ws store.WorkspaceID, id store.EventTypeID) (store.EventType, error) {
	et, err := scanEventType(s.r.QueryRowContext(ctx,
		`SELECT `+eventTypeColumns+` FROM event_types WHERE workspace_id = ? AND id = ?`, ws, id))
	return et, mapError(notFound(err, id))
}

// ListEventTypes implements store.EventTypeStore.
func (s *Store) ListEventTypes(ctx context.Context, ws store.WorkspaceID, page store.PageRequest) ([]store.EventType, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+eventTypeColumns+` FROM event_types
		WHERE workspace_id = ? AND id > ? ORDER BY id LIMIT ?`, ws, page.After, page.Limit)
	return collect(rows, err, scanEventType)
}

// UpdateEventType implements store.EventTypeStore. Subscriptions reference
// the event type by ID, so a rename carries them along.
func (s *Store) UpdateEventType(ctx context.Context, ws store.WorkspaceID, id store.EventTypeID, u store.EventTypeUpdate) (store.EventType, error) {
	var et store.EventType
	err := s.write(ctx, ws, func(tx *sql.Tx) error {
		set := sqlpatch.Question()
		set.Add("name", u.Name)
		set.Add("description", u.Description)
		set.Add("updated_at", ms(u.UpdatedAt))
		res, err := tx.ExecContext(ctx, `UPDATE event_types SET `+set.SQL()+` WHERE workspace_id = ? AND id = ?`,
			append(set.Args, ws, id)...)
		if err != nil {
			return err
		}
		if err := affected(res, id); err != nil {
			return err
		}
		et, err = scanEventType(tx.QueryRowContext(ctx, `SELECT `+eventTypeColumns+` FROM event_types WHERE id = ?`, id))
		return err
	})
	return et, err
}

// DeleteEventType implements store.EventTypeStore. The schema's foreign keys
// cascade the delete to visibility rows and subscriptions by name.
func (s *Store) DeleteEventType(ctx context.Context, ws store.WorkspaceID, id store.EventTypeID) error {
	return s.write(ctx, ws, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM event_types WHERE workspace_id = ? AND id = ?`, ws, id)
		if err != nil {
			return err
		}
		return affected(res, id)
	})
}

// SetEventTypeVisibility implements store.EventTypeStore.
func (s *Store) SetEventTypeVisibility(ctx context.Context, ws store.WorkspaceID, env store.EnvironmentID, et store.EventTypeID, published bool) error {
	return s.write(ctx, ws, func(tx *sql.Tx) error {
		if err := requireEnvironment(ctx, tx, "environmentId", ws, env); err != nil {
			return err
		}
		ok, err := exists(ctx, tx, `SELECT 1 FROM event_types WHERE workspace_id = ? AND id = ?`, ws, et)
		if err != nil {
			return err
		}
		if !ok {
			return store.Missing("eventTypeId", et)
		}
		if published {
			_, err = tx.ExecContext(ctx, `INSERT INTO event_type_visibility (workspace_id, environment_id, event_type_id)
				VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, ws, env, et)
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM event_type_visibility WHERE environment_id = ? AND event_type_id = ?`, env, et)
		}
		return err
	})
}

// ListEventTypeVisibility implements store.EventTypeStore.
func (s *Store) ListEventTypeVisibility(ctx context.Context, ws store.WorkspaceID, env store.EnvironmentID) ([]store.EventTypeVisibility, error) {
	var out []store.EventTypeVisibility
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := requireEnvironment(ctx, tx, "", ws, env); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT et.id, et.name, v.event_type_id IS NOT NULL
			FROM event_types et
			LEFT JOIN event_type_visibility v ON v.environment_id = ? AND v.event_type_id = et.id
			WHERE et.workspace_id = ?
			ORDER BY et.name`, env, ws)
		out, err = collect(rows, err, func(row interface{ Scan(...any) error }) (store.EventTypeVisibility, error) {
			var v store.EventTypeVisibility
			return v, row.Scan(&v.EventTypeID, &v.EventTypeName, &v.Published)
		})
		return err
	})
	if out == nil && err == nil {
		out = []store.EventTypeVisibility{}
	}
	return out, err
}
