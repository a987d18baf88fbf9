package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/nahook/nahook/store"
)

// routingChannel is the channel every write notifies, with the schema it
// wrote to as the payload, so routers of other schemas can ignore it.
const routingChannel = "nahook_routing"

// bump advances the routing version, records it as the workspace's latest
// change and notifies routingChannel, in one statement. Every write of
// routing data (see store.RoutingStore) calls it last in its transaction:
// the row lock on routing_version, held until commit, commits versions in
// increasing order, and the notification is delivered only if the
// transaction commits.
func bump(ctx context.Context, tx pgx.Tx, ws store.WorkspaceID) error {
	_, err := tx.Exec(ctx, `WITH v AS (
			UPDATE routing_version SET version = version + 1 WHERE id = 1 RETURNING version
		), c AS (
			INSERT INTO routing_changes (workspace_id, version) SELECT $1, version FROM v
			ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version
		)
		SELECT pg_notify('`+routingChannel+`', current_schema()) FROM v`, ws)
	return err
}

// RoutingChanges implements store.RoutingStore.
func (s *Store) RoutingChanges(ctx context.Context, since int64) (int64, []store.RoutingChange, error) {
	var current int64
	var changed []store.RoutingChange
	err := s.read(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT version FROM routing_version WHERE id = 1`).Scan(&current); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT workspace_id, version FROM routing_changes WHERE version > $1 ORDER BY version`, since)
		changed, err = collect(rows, err, func(row pgx.Row) (store.RoutingChange, error) {
			var c store.RoutingChange
			return c, row.Scan(&c.WorkspaceID, &c.Version)
		})
		return err
	})
	return current, changed, err
}

// LoadRouting implements store.RoutingStore.
func (s *Store) LoadRouting(ctx context.Context, ws []store.WorkspaceID) (store.Routing, error) {
	var r store.Routing
	// Every query takes the requested workspaces as $1, a text array, or
	// NULL for all of them.
	var filter any
	if ws != nil {
		ids := make([]string, len(ws))
		for i, id := range ws {
			ids[i] = string(id)
		}
		filter = ids
	}
	err := s.read(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT version FROM routing_version WHERE id = 1`).Scan(&r.Version); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id FROM workspaces WHERE $1::text[] IS NULL OR id = ANY($1)`, filter)
		if r.Workspaces, err = collect(rows, err, func(row pgx.Row) (store.WorkspaceID, error) {
			var id store.WorkspaceID
			return id, row.Scan(&id)
		}); err != nil {
			return err
		}

		rows, err = tx.Query(ctx, `SELECT id, workspace_id, is_default FROM environments
			WHERE $1::text[] IS NULL OR workspace_id = ANY($1)`, filter)
		if r.Environments, err = collect(rows, err, func(row pgx.Row) (store.RoutingEnvironment, error) {
			var e store.RoutingEnvironment
			return e, row.Scan(&e.ID, &e.WorkspaceID, &e.IsDefault)
		}); err != nil {
			return err
		}

		rows, err = tx.Query(ctx, `SELECT hash, id, workspace_id, environment_id FROM api_keys
			WHERE kind = 'environment' AND revoked_at IS NULL AND ($1::text[] IS NULL OR workspace_id = ANY($1))`, filter)
		if r.Keys, err = collect(rows, err, func(row pgx.Row) (store.RoutingKey, error) {
			var k store.RoutingKey
			var hash []byte
			err := row.Scan(&hash, &k.ID, &k.WorkspaceID, &k.EnvironmentID)
			copy(k.Hash[:], hash)
			return k, err
		}); err != nil {
			return err
		}

		rows, err = tx.Query(ctx, `SELECT et.id, et.workspace_id, et.name,
				ARRAY(SELECT v.environment_id FROM event_type_visibility v
					WHERE v.workspace_id = et.workspace_id AND v.event_type_id = et.id)
			FROM event_types et
			WHERE $1::text[] IS NULL OR et.workspace_id = ANY($1)`, filter)
		if r.EventTypes, err = collect(rows, err, func(row pgx.Row) (store.RoutingEventType, error) {
			var et store.RoutingEventType
			var envs []string
			err := row.Scan(&et.ID, &et.WorkspaceID, &et.Name, &envs)
			for _, env := range envs {
				et.PublishedIn = append(et.PublishedIn, store.EnvironmentID(env))
			}
			return et, err
		}); err != nil {
			return err
		}

		rows, err = tx.Query(ctx, `SELECT e.id, e.workspace_id, e.environment_id, coalesce(e.application_id, ''), e.url, e.disabled,
				ARRAY(SELECT coalesce(et.name, s.pattern)
					FROM endpoint_subscriptions s
					LEFT JOIN event_types et ON et.id = s.event_type_id
					WHERE s.endpoint_id = e.id
					ORDER BY s.position)
			FROM endpoints e
			WHERE $1::text[] IS NULL OR e.workspace_id = ANY($1)
			ORDER BY e.id`, filter)
		r.Endpoints, err = collect(rows, err, func(row pgx.Row) (store.RoutingEndpoint, error) {
			var ep store.RoutingEndpoint
			err := row.Scan(&ep.ID, &ep.WorkspaceID, &ep.EnvironmentID, &ep.ApplicationID, &ep.URL, &ep.Disabled, &ep.EventTypes)
			return ep, err
		})
		return err
	})
	return r, err
}

// WatchRouting implements store.RoutingNotifier: it listens on
// routingChannel.
func (s *Store) WatchRouting(ctx context.Context, changed func()) error {
	return s.listen(ctx, routingChannel, "nahook-routing-listener", changed)
}

var _ store.RoutingNotifier = (*Store)(nil)

// listen calls fn once it listens on channel, and again on each
// notification whose payload is the store's schema, until ctx ends or the
// connection fails. The connection is taken from the pool, so it is set
// up as the pool's are (AfterConnect, credentials, search_path), and then
// hijacked, so it never holds one of the pool's places; appName names it
// in pg_stat_activity.
func (s *Store) listen(ctx context.Context, channel, appName string, fn func()) error {
	pooled, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", appName, err)
	}
	conn := pooled.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `SELECT set_config('application_name', $1, false)`, appName); err != nil {
		return fmt.Errorf("postgres: %s: %w", appName, err)
	}
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("postgres: %s: %w", appName, err)
	}
	if _, err := conn.Exec(ctx, `LISTEN `+channel); err != nil {
		return fmt.Errorf("postgres: %s: %w", appName, err)
	}
	fn()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("postgres: %s: %w", appName, err)
		}
		if n.Payload == schema {
			fn()
		}
	}
}
