package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/nahook/nahook/internal/sqlpatch"
	"github.com/nahook/nahook/store"
)

const eventTypeColumns = `id, workspace_id, name, description, created_at, updated_at`

func scanEventType(row pgx.Row) (store.EventType, error) {
	var et store.EventType
	err := row.Scan(&et.ID, &et.WorkspaceID, &et.Name, &et.Description, &et.CreatedAt, &et.UpdatedAt)
	et.CreatedAt, et.UpdatedAt = utc(et.CreatedAt), utc(et.UpdatedAt)
	return et, err
}

// CreateEventType implements store.EventTypeStore.
func (s *Store) CreateEventType(ctx context.Context, et store.EventType) error {
	return s.write(ctx, et.WorkspaceID, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO event_types (`+eventTypeColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
			et.ID, et.WorkspaceID, et.Name, et.Description, et.CreatedAt, et.UpdatedAt)
		return err
	})
}

// GetEventType implements store.EventTypeStore.
func (s *Store) GetEventType(ctx context.Context, ws store.WorkspaceID, id store.EventTypeID) (store.EventType, error) {
	et, err := scanEventType(s.pool.QueryRow(ctx,
		`SELECT `+eventTypeColumns+` FROM event_types WHERE workspace_id = $1 AND id = $2`, ws, id))
	return et, mapError(notFound(err, id))
}

// ListEventTypes implements store.EventTypeStore.
func (s *Store) ListEventTypes(ctx context.Context, ws store.WorkspaceID, page store.PageRequest) ([]store.EventType, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+eventTypeColumns+` FROM event_types
		WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3`, ws, page.After, page.Limit)
	return collect(rows, err, scanEventType)
}

// UpdateEventType implements store.EventTypeStore. Subscriptions reference
// the event type by ID, so a rename carries them along.
func (s *Store) UpdateEventType(ctx context.Context, ws store.WorkspaceID, id store.EventTypeID, u store.EventTypeUpdate) (store.EventType, error) {
	set := sqlpatch.Dollar()
	set.Add("name", u.Name)
	set.Add("description", u.Description)
	set.Add("updated_at", u.UpdatedAt)
	var et store.EventType
	err := s.write(ctx, ws, func(tx pgx.Tx) (err error) {
		et, err = scanEventType(tx.QueryRow(ctx, `UPDATE event_types SET `+set.SQL()+
			` WHERE workspace_id = `+set.Next(1)+` AND id = `+set.Next(2)+` RETURNING `+eventTypeColumns,
			append(set.Args, ws, id)...))
		return notFound(err, id)
	})
	return et, err
}

// DeleteEventType implements store.EventTypeStore. The schema's foreign keys
// cascade the delete to visibility rows and subscriptions by name.
func (s *Store) DeleteEventType(ctx context.Context, ws store.WorkspaceID, id store.EventTypeID) error {
	return s.write(ctx, ws, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM event_types WHERE workspace_id = $1 AND id = $2`, ws, id)
		return affected(tag, err, id)
	})
}

// SetEventTypeVisibility implements store.EventTypeStore.
func (s *Store) SetEventTypeVisibility(ctx context.Context, ws store.WorkspaceID, env store.EnvironmentID, et store.EventTypeID, published bool) error {
	return s.write(ctx, ws, func(tx pgx.Tx) error {
		if err := requireEnvironment(ctx, tx, "environmentId", ws, env); err != nil {
			return err
		}
		err := require(ctx, tx, "eventTypeId", et, `SELECT 1 FROM event_types WHERE workspace_id = $1 AND id = $2`, ws, et)
		if err != nil {
			return err
		}
		if published {
			_, err = tx.Exec(ctx, `INSERT INTO event_type_visibility (workspace_id, environment_id, event_type_id)
				VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, ws, env, et)
		} else {
			_, err = tx.Exec(ctx, `DELETE FROM event_type_visibility WHERE environment_id = $1 AND event_type_id = $2`, env, et)
		}
		return err
	})
}

// ListEventTypeVisibility implements store.EventTypeStore.
func (s *Store) ListEventTypeVisibility(ctx context.Context, ws store.WorkspaceID, env store.EnvironmentID) ([]store.EventTypeVisibility, error) {
	var out []store.EventTypeVisibility
	err := s.read(ctx, func(tx pgx.Tx) error {
		if err := requireEnvironment(ctx, tx, "", ws, env); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT et.id, et.name, v.event_type_id IS NOT NULL
			FROM event_types et
			LEFT JOIN event_type_visibility v ON v.environment_id = $1 AND v.event_type_id = et.id
			WHERE et.workspace_id = $2
			ORDER BY et.name COLLATE "C"`, env, ws)
		out, err = collect(rows, err, func(row pgx.Row) (store.EventTypeVisibility, error) {
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
