package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/nahook/nahook/internal/sqlpatch"
	"github.com/nahook/nahook/store"
)

const endpointColumns = `id, workspace_id, environment_id, application_id, url, description, disabled, created_at, updated_at`

func scanEndpoint(row interface{ Scan(...any) error }) (store.Endpoint, error) {
	var ep store.Endpoint
	var app sql.NullString
	var created, updated int64
	err := row.Scan(&ep.ID, &ep.WorkspaceID, &ep.EnvironmentID, &app, &ep.URL, &ep.Description, &ep.Disabled, &created, &updated)
	ep.ApplicationID = store.ApplicationID(app.String)
	ep.CreatedAt, ep.UpdatedAt = utc(created), utc(updated)
	ep.EventTypes = []string{}
	return ep, err
}

// CreateEndpoint implements store.EndpointStore.
func (s *Store) CreateEndpoint(ctx context.Context, ep store.Endpoint, key []byte, maxPerApplication int) error {
	return s.write(ctx, ep.WorkspaceID, func(tx *sql.Tx) error {
		if err := requireEnvironment(ctx, tx, "environmentId", ep.WorkspaceID, ep.EnvironmentID); err != nil {
			return err
		}
		if ep.ApplicationID != "" {
			if err := requireApplication(ctx, tx, "applicationId", ep.WorkspaceID, ep.ApplicationID); err != nil {
				return err
			}
			// The single writer makes counting then inserting atomic.
			if maxPerApplication > 0 {
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM endpoints WHERE workspace_id = ? AND application_id = ? AND environment_id = ?`,
					ep.WorkspaceID, ep.ApplicationID, ep.EnvironmentID).Scan(&n); err != nil {
					return err
				}
				if err := store.CheckEndpointLimit(n, maxPerApplication); err != nil {
					return err
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO endpoints (`+endpointColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ep.ID, ep.WorkspaceID, ep.EnvironmentID, null(ep.ApplicationID), ep.URL, ep.Description, ep.Disabled,
			ms(ep.CreatedAt), ms(ep.UpdatedAt)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO endpoint_keys (endpoint_id, current_key) VALUES (?, ?)`, ep.ID, key); err != nil {
			return err
		}
		return insertSubscriptions(ctx, tx, ep.WorkspaceID, ep.ID, ep.EventTypes)
	})
}

// insertSubscriptions stores patterns in order. A wildcard is kept as
// written; a name must be an event type of the workspace, and is stored as
// its ID.
func insertSubscriptions(ctx context.Context, tx *sql.Tx, ws store.WorkspaceID, ep store.EndpointID, patterns []string) error {
	for i, p := range patterns {
		var etID, pattern any
		if store.IsWildcard(p) {
			pattern = p
		} else {
			var id string
			err := tx.QueryRowContext(ctx, `SELECT id FROM event_types WHERE workspace_id = ? AND name = ?`, ws, p).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				return store.UnknownEventType(i, p)
			}
			if err != nil {
				return err
			}
			etID = id
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO endpoint_subscriptions (endpoint_id, position, workspace_id, event_type_id, pattern)
			VALUES (?, ?, ?, ?, ?)`, ep, i, ws, etID, pattern); err != nil {
			return err
		}
	}
	return nil
}

// loadSubscriptions fills in the EventTypes of eps, reading names through
// the event types so that renames show.
func loadSubscriptions(ctx context.Context, q querier, eps []store.Endpoint) error {
	if len(eps) == 0 {
		return nil
	}
	index := make(map[store.EndpointID]*store.Endpoint, len(eps))
	args := make([]any, len(eps))
	for i := range eps {
		index[eps[i].ID] = &eps[i]
		args[i] = eps[i].ID
	}
	rows, err := q.QueryContext(ctx, `SELECT s.endpoint_id, coalesce(et.name, s.pattern)
		FROM endpoint_subscriptions s
		LEFT JOIN event_types et ON et.id = s.event_type_id
		WHERE s.endpoint_id IN (?`+strings.Repeat(", ?", len(eps)-1)+`)
		ORDER BY s.endpoint_id, s.position`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id store.EndpointID
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return err
		}
		ep := index[id]
		ep.EventTypes = append(ep.EventTypes, name)
	}
	return rows.Err()
}

func getEndpoint(ctx context.Context, q querier, ws store.WorkspaceID, id store.EndpointID) (store.Endpoint, error) {
	ep, err := scanEndpoint(q.QueryRowContext(ctx,
		`SELECT `+endpointColumns+` FROM endpoints WHERE workspace_id = ? AND id = ?`, ws, id))
	if err != nil {
		return ep, notFound(err, id)
	}
	eps := []store.Endpoint{ep}
	err = loadSubscriptions(ctx, q, eps)
	return eps[0], err
}

// GetEndpoint implements store.EndpointStore.
func (s *Store) GetEndpoint(ctx context.Context, ws store.WorkspaceID, id store.EndpointID) (store.Endpoint, error) {
	var ep store.Endpoint
	err := s.read(ctx, func(tx *sql.Tx) (err error) {
		ep, err = getEndpoint(ctx, tx, ws, id)
		return err
	})
	return ep, err
}

// ListEndpoints implements store.EndpointStore.
func (s *Store) ListEndpoints(ctx context.Context, ws store.WorkspaceID, f store.EndpointFilter, page store.PageRequest) ([]store.Endpoint, error) {
	where, args := `workspace_id = ?`, []any{ws}
	if f.EnvironmentID != "" {
		where += ` AND environment_id = ?`
		args = append(args, f.EnvironmentID)
	}
	if f.ApplicationID != "" {
		where += ` AND application_id = ?`
		args = append(args, f.ApplicationID)
	}
	var eps []store.Endpoint
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+endpointColumns+` FROM endpoints
			WHERE `+where+` AND id > ? ORDER BY id LIMIT ?`, append(args, page.After, page.Limit)...)
		if eps, err = collect(rows, err, scanEndpoint); err != nil {
			return err
		}
		return loadSubscriptions(ctx, tx, eps)
	})
	return eps, err
}

// UpdateEndpoint implements store.EndpointStore.
func (s *Store) UpdateEndpoint(ctx context.Context, ws store.WorkspaceID, id store.EndpointID, u store.EndpointUpdate) (store.Endpoint, error) {
	var ep store.Endpoint
	err := s.write(ctx, ws, func(tx *sql.Tx) error {
		set := sqlpatch.Question()
		set.Add("url", u.URL)
		set.Add("description", u.Description)
		set.Add("disabled", u.Disabled)
		set.Add("updated_at", ms(u.UpdatedAt))
		res, err := tx.ExecContext(ctx, `UPDATE endpoints SET `+set.SQL()+` WHERE workspace_id = ? AND id = ?`,
			append(set.Args, ws, id)...)
		if err != nil {
			return err
		}
		if err := affected(res, id); err != nil {
			return err
		}
		if u.EventTypes != nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM endpoint_subscriptions WHERE endpoint_id = ?`, id); err != nil {
				return err
			}
			if err := insertSubscriptions(ctx, tx, ws, id, u.EventTypes); err != nil {
				return err
			}
		}
		ep, err = getEndpoint(ctx, tx, ws, id)
		return err
	})
	return ep, err
}

// DeleteEndpoint implements store.EndpointStore.
func (s *Store) DeleteEndpoint(ctx context.Context, ws store.WorkspaceID, id store.EndpointID) error {
	return s.write(ctx, ws, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM endpoints WHERE workspace_id = ? AND id = ?`, ws, id)
		if err != nil {
			return err
		}
		return affected(res, id)
	})
}
