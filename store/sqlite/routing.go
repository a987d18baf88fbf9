package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/nahook/nahook/store"
)

// bump advances the routing version and records it as the workspace's
// latest change. Every write of routing data calls it last in its
// transaction (see store.RoutingStore); the single writer commits versions
// in order.
func bump(ctx context.Context, tx *sql.Tx, ws store.WorkspaceID) error {
	if _, err := tx.ExecContext(ctx, `UPDATE routing_version SET version = version + 1 WHERE id = 1`); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO routing_changes (workspace_id, version)
		SELECT ?, version FROM routing_version WHERE id = 1
		ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version`, ws)
	return err
}

// RoutingChanges implements store.RoutingStore.
func (s *Store) RoutingChanges(ctx context.Context, since int64) (int64, []store.RoutingChange, error) {
	var current int64
	var changed []store.RoutingChange
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT version FROM routing_version WHERE id = 1`).Scan(&current); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT workspace_id, version FROM routing_changes WHERE version > ? ORDER BY version`, since)
		changed, err = collect(rows, err, func(row interface{ Scan(...any) error }) (store.RoutingChange, error) {
			var c store.RoutingChange
			return c, row.Scan(&c.WorkspaceID, &c.Version)
		})
		return err
	})
	return current, changed, err
}

// loadChunk is how many workspaces one round of LoadRouting's queries
// names, well under SQLite's limit on a statement's parameters.
const loadChunk = 500

// LoadRouting implements store.RoutingStore. Many workspaces are read in
// chunks, all in one read transaction.
func (s *Store) LoadRouting(ctx context.Context, ws []store.WorkspaceID) (store.Routing, error) {
	var r store.Routing
	err := s.read(ctx, func(tx *sql.Tx) (err error) {
		r, err = loadRoutingIn(ctx, tx, ws)
		return err
	})
	return r, err
}

// loadRoutingIn is LoadRouting in tx, the store's read transaction or a
// host's (hostTx).
func loadRoutingIn(ctx context.Context, tx *sql.Tx, ws []store.WorkspaceID) (store.Routing, error) {
	var r store.Routing
	if err := tx.QueryRowContext(ctx, `SELECT version FROM routing_version WHERE id = 1`).Scan(&r.Version); err != nil {
		return r, err
	}
	if ws == nil {
		return r, loadRouting(ctx, tx, nil, &r)
	}
	for chunk := range slices.Chunk(ws, loadChunk) {
		if err := loadRouting(ctx, tx, chunk, &r); err != nil {
			return r, err
		}
	}
	return r, nil
}

// loadRouting appends to r the routing data of the given workspaces, or of
// all when ws is nil.
func loadRouting(ctx context.Context, tx *sql.Tx, ws []store.WorkspaceID, r *store.Routing) error {
	// where restricts a query to the requested workspaces, by the column
	// named; it restricts nothing when every workspace is requested.
	var args []any
	for _, id := range ws {
		args = append(args, id)
	}
	where := func(col string) string {
		if ws == nil {
			return ""
		}
		return " AND " + col + " IN (?" + strings.Repeat(", ?", len(ws)-1) + ")"
	}

	rows, err := tx.QueryContext(ctx, `SELECT id FROM workspaces WHERE 1 = 1`+where("id"), args...)
	wss, err := collect(rows, err, func(row interface{ Scan(...any) error }) (store.WorkspaceID, error) {
		var id store.WorkspaceID
		return id, row.Scan(&id)
	})
	if err != nil {
		return err
	}
	r.Workspaces = append(r.Workspaces, wss...)

	rows, err = tx.QueryContext(ctx, `SELECT id, workspace_id, is_default FROM environments
		WHERE 1 = 1`+where("workspace_id"), args...)
	envs, err := collect(rows, err, func(row interface{ Scan(...any) error }) (store.RoutingEnvironment, error) {
		var e store.RoutingEnvironment
		return e, row.Scan(&e.ID, &e.WorkspaceID, &e.IsDefault)
	})
	if err != nil {
		return err
	}
	r.Environments = append(r.Environments, envs...)

	rows, err = tx.QueryContext(ctx, `SELECT hash, id, workspace_id, environment_id FROM api_keys
		WHERE kind = 'environment' AND revoked_at IS NULL`+where("workspace_id"), args...)
	keys, err := collect(rows, err, func(row interface{ Scan(...any) error }) (store.RoutingKey, error) {
		var k store.RoutingKey
		var hash []byte
		err := row.Scan(&hash, &k.ID, &k.WorkspaceID, &k.EnvironmentID)
		copy(k.Hash[:], hash)
		return k, err
	})
	if err != nil {
		return err
	}
	r.Keys = append(r.Keys, keys...)

	rows, err = tx.QueryContext(ctx, `SELECT et.id, et.workspace_id, et.name, coalesce(group_concat(v.environment_id), '')
		FROM event_types et
		LEFT JOIN event_type_visibility v ON v.workspace_id = et.workspace_id AND v.event_type_id = et.id
		WHERE 1 = 1`+where("et.workspace_id")+`
		GROUP BY et.id`, args...)
	types, err := collect(rows, err, func(row interface{ Scan(...any) error }) (store.RoutingEventType, error) {
		var et store.RoutingEventType
		var envs string
		err := row.Scan(&et.ID, &et.WorkspaceID, &et.Name, &envs)
		for env := range strings.SplitSeq(envs, ",") {
			if env != "" {
				et.PublishedIn = append(et.PublishedIn, store.EnvironmentID(env))
			}
		}
		return et, err
	})
	if err != nil {
		return err
	}
	r.EventTypes = append(r.EventTypes, types...)

	rows, err = tx.QueryContext(ctx, `SELECT id, workspace_id, environment_id, coalesce(application_id, ''), url, disabled
		FROM endpoints WHERE 1 = 1`+where("workspace_id")+` ORDER BY id`, args...)
	eps, err := collect(rows, err, func(row interface{ Scan(...any) error }) (store.RoutingEndpoint, error) {
		var ep store.RoutingEndpoint
		return ep, row.Scan(&ep.ID, &ep.WorkspaceID, &ep.EnvironmentID, &ep.ApplicationID, &ep.URL, &ep.Disabled)
	})
	if err != nil {
		return err
	}
	index := make(map[store.EndpointID]*store.RoutingEndpoint, len(eps))
	for i := range eps {
		index[eps[i].ID] = &eps[i]
	}
	rows, err = tx.QueryContext(ctx, `SELECT s.endpoint_id, coalesce(et.name, s.pattern)
		FROM endpoint_subscriptions s
		LEFT JOIN event_types et ON et.id = s.event_type_id
		WHERE 1 = 1`+where("s.workspace_id")+`
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
		if ep := index[id]; ep != nil {
			ep.EventTypes = append(ep.EventTypes, name)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	r.Endpoints = append(r.Endpoints, eps...)
	return nil
}

// Backup writes a consistent copy of the database to path, which must not
// exist, while the store stays in use: in WAL mode the copy is a read, so
// writers go on. The copy is compact (VACUUM INTO) and opens with Open like
// any other database file.
func (s *Store) Backup(ctx context.Context, path string) error {
	db := s.w // an in-memory database has only its one connection
	if s.name != "" {
		// The read-only connections may not write even another file.
		var err error
		if db, err = sql.Open("sqlite", s.name); err != nil {
			return mapError(err)
		}
		defer db.Close()
	}
	_, err := db.ExecContext(ctx, `VACUUM INTO ?`, path)
	return mapError(err)
}
