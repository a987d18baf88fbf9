package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/nahook/nahook/internal/sqlpatch"
	"github.com/nahook/nahook/store"
)

// endpointColumns reads an endpoint with its subscriptions, names read
// through the event types so that renames show, in one statement and so
// from one snapshot.
const endpointColumns = `e.id, e.workspace_id, e.environment_id, e.application_id, e.url, e.description, e.disabled,
	e.created_at, e.updated_at,
	ARRAY(SELECT coalesce(et.name, s.pattern)
		FROM endpoint_subscriptions s
		LEFT JOIN event_types et ON et.id = s.event_type_id
		WHERE s.endpoint_id = e.id
		ORDER BY s.position)`

func scanEndpoint(row pgx.Row) (store.Endpoint, error) {
	var ep store.Endpoint
	var app *string
	err := row.Scan(&ep.ID, &ep.WorkspaceID, &ep.EnvironmentID, &app, &ep.URL, &ep.Description, &ep.Disabled,
		&ep.CreatedAt, &ep.UpdatedAt, &ep.EventTypes)
	if app != nil {
		ep.ApplicationID = store.ApplicationID(*app)
	}
	if ep.EventTypes == nil {
		ep.EventTypes = []string{}
	}
	ep.CreatedAt, ep.UpdatedAt = utc(ep.CreatedAt), utc(ep.UpdatedAt)
	return ep, err
}

// CreateEndpoint implements store.EndpointStore.
func (s *Store) CreateEndpoint(ctx context.Context, ep store.Endpoint, key []byte, maxPerApplication int) error {
	return s.write(ctx, ep.WorkspaceID, func(tx pgx.Tx) error {
		if err := requireEnvironment(ctx, tx, "environmentId", ep.WorkspaceID, ep.EnvironmentID); err != nil {
			return err
		}
		if ep.ApplicationID != "" {
			// With a limit, the application's row is locked, so that
			// concurrent limited creates count one after another.
			lock := ""
			if maxPerApplication > 0 {
				lock = " FOR UPDATE"
			}
			err := require(ctx, tx, "applicationId", ep.ApplicationID, applicationExists+lock, ep.WorkspaceID, ep.ApplicationID)
			if err != nil {
				return err
			}
			if maxPerApplication > 0 {
				var n int
				if err := tx.QueryRow(ctx, `SELECT count(*) FROM endpoints WHERE workspace_id = $1 AND application_id = $2 AND environment_id = $3`,
					ep.WorkspaceID, ep.ApplicationID, ep.EnvironmentID).Scan(&n); err != nil {
					return err
				}
				if err := store.CheckEndpointLimit(n, maxPerApplication); err != nil {
					return err
				}
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO endpoints (id, workspace_id, environment_id, application_id, url, description, disabled, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			ep.ID, ep.WorkspaceID, ep.EnvironmentID, null(ep.ApplicationID), ep.URL, ep.Description, ep.Disabled,
			ep.CreatedAt, ep.UpdatedAt); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO endpoint_keys (endpoint_id, current_key) VALUES ($1, $2)`, ep.ID, key); err != nil {
			return err
		}
		return insertSubscriptions(ctx, tx, ep.WorkspaceID, ep.ID, ep.EventTypes)
	})
}

// insertSubscriptions stores patterns in order. A wildcard is kept as
// written; a name must be an event type of the workspace, and is stored as
// its ID.
func insertSubscriptions(ctx context.Context, tx pgx.Tx, ws store.WorkspaceID, ep store.EndpointID, patterns []string) error {
	for i, p := range patterns {
		var etID, pattern any
		if store.IsWildcard(p) {
			pattern = p
		} else {
			var id string
			err := tx.QueryRow(ctx, `SELECT id FROM event_types WHERE workspace_id = $1 AND name = $2`, ws, p).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				return store.UnknownEventType(i, p)
			}
			if err != nil {
				return err
			}
			etID = id
		}
		if _, err := tx.Exec(ctx, `INSERT INTO endpoint_subscriptions (endpoint_id, position, workspace_id, event_type_id, pattern)
			VALUES ($1, $2, $3, $4, $5)`, ep, i, ws, etID, pattern); err != nil {
			return err
		}
	}
	return nil
}

// GetEndpoint implements store.EndpointStore.
func (s *Store) GetEndpoint(ctx context.Context, ws store.WorkspaceID, id store.EndpointID) (store.Endpoint, error) {
	ep, err := scanEndpoint(s.pool.QueryRow(ctx, `SELECT `+endpointColumns+` FROM endpoints e WHERE e.workspace_id = $1 AND e.id = $2`, ws, id))
	return ep, mapError(notFound(err, id))
}

// ListEndpoints implements store.EndpointStore.
func (s *Store) ListEndpoints(ctx context.Context, ws store.WorkspaceID, f store.EndpointFilter, page store.PageRequest) ([]store.Endpoint, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+endpointColumns+` FROM endpoints e
		WHERE e.workspace_id = $1
			AND ($2 = '' OR e.environment_id = $2)
			AND ($3 = '' OR e.application_id = $3)
			AND e.id > $4
		ORDER BY e.id LIMIT $5`, ws, string(f.EnvironmentID), string(f.ApplicationID), page.After, page.Limit)
	return collect(rows, err, scanEndpoint)
}

// UpdateEndpoint implements store.EndpointStore.
func (s *Store) UpdateEndpoint(ctx context.Context, ws store.WorkspaceID, id store.EndpointID, u store.EndpointUpdate) (store.Endpoint, error) {
	var ep store.Endpoint
	err := s.write(ctx, ws, func(tx pgx.Tx) error {
		set := sqlpatch.Dollar()
		set.Add("url", u.URL)
		set.Add("description", u.Description)
		set.Add("disabled", u.Disabled)
		set.Add("updated_at", u.UpdatedAt)
		tag, err := tx.Exec(ctx, `UPDATE endpoints SET `+set.SQL()+` WHERE workspace_id = `+set.Next(1)+` AND id = `+set.Next(2),
			append(set.Args, ws, id)...)
		if err := affected(tag, err, id); err != nil {
			return err
		}
		if u.EventTypes != nil {
			if _, err := tx.Exec(ctx, `DELETE FROM endpoint_subscriptions WHERE endpoint_id = $1`, id); err != nil {
				return err
			}
			if err := insertSubscriptions(ctx, tx, ws, id, u.EventTypes); err != nil {
				return err
			}
		}
		ep, err = scanEndpoint(tx.QueryRow(ctx, `SELECT `+endpointColumns+` FROM endpoints e WHERE e.id = $1`, id))
		return err
	})
	return ep, err
}

// DeleteEndpoint implements store.EndpointStore.
func (s *Store) DeleteEndpoint(ctx context.Context, ws store.WorkspaceID, id store.EndpointID) error {
	return s.write(ctx, ws, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM endpoints WHERE workspace_id = $1 AND id = $2`, ws, id)
		return affected(tag, err, id)
	})
}
