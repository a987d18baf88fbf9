package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nahook/nahook/store"
)

// Recovery: resending one delivery, recovering an endpoint's failed ones,
// and queueing the deliveries an endpoint is missing. A delivery moves
// only from the status the statement checks, in the statement that moves
// it, so two processes recovering at once move each delivery once; each
// write that makes deliveries due tells every dispatcher
// (deliveriesChannel) at commit.

// ResendDelivery implements store.RecoveryStore.
func (s *Store) ResendDelivery(ctx context.Context, ws store.WorkspaceID, id store.DeliveryID, at time.Time) (store.Delivery, error) {
	var d store.Delivery
	err := s.transact(ctx, func(tx pgx.Tx) error {
		var status store.DeliveryStatus
		var leased *time.Time
		err := tx.QueryRow(ctx, `SELECT status, leased_until FROM deliveries WHERE workspace_id = $1 AND id = $2 FOR UPDATE`, ws, id).Scan(&status, &leased)
		if err != nil {
			return notFound(err, id)
		}
		var until time.Time
		if leased != nil {
			until = *leased
		}
		if err := store.CheckResendable(status, until, at); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = $2, updated_at = $2,
				series_start = attempts, leased_until = NULL
			WHERE id = $1`, id, at); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT `+notifyDeliveries); err != nil {
			return err
		}
		d, err = scanDelivery(tx.QueryRow(ctx, `SELECT `+deliveryColumns+deliveryFrom+`WHERE d.id = $1`, id))
		return err
	})
	return d, err
}

// RecoverDeliveries implements store.RecoveryStore, in one statement: the
// deliveries looked at, and those of them still failed made pending.
func (s *Store) RecoverDeliveries(ctx context.Context, r store.RecoverRequest) (int, store.DeliveryID, int, error) {
	var recovered, looked int
	var last *string
	err := s.statement(ctx, func(q querier) error {
		return q.QueryRow(ctx, `WITH looked AS (
				SELECT id FROM deliveries
				WHERE endpoint_id = $2 AND status = 'failed' AND id > $3 AND workspace_id = $1 AND created_at >= $4 AND created_at < $7
				ORDER BY id LIMIT $5
			), moved AS (
				UPDATE deliveries d SET status = 'pending', next_attempt_at = $6, updated_at = $6,
					series_start = d.attempts, leased_until = NULL
				FROM looked WHERE d.id = looked.id AND d.status = 'failed'
				RETURNING d.id
			), told AS (
				SELECT `+notifyDeliveries+` WHERE EXISTS (SELECT 1 FROM moved)
			)
			SELECT (SELECT count(*) FROM moved), (SELECT max(id) FROM looked), (SELECT count(*) FROM looked),
				(SELECT count(*) FROM told)`,
			r.WorkspaceID, r.EndpointID, r.After, r.Since, r.Limit, r.At, r.Until).Scan(&recovered, &last, &looked, nil)
	})
	if err != nil || last == nil {
		return 0, "", 0, err
	}
	return recovered, store.DeliveryID(*last), looked, nil
}

// QueueMissing implements store.RecoveryStore: the events looked at, then
// a delivery for each, in one transaction; a delivery another caller
// queued meanwhile is left as it is.
func (s *Store) QueueMissing(ctx context.Context, r store.MissingRequest) (int, store.EventID, int, error) {
	if len(r.EventTypes) == 0 {
		return 0, "", 0, nil
	}
	var queued, looked int
	var last store.EventID
	err := s.transact(ctx, func(tx pgx.Tx) error {
		queued, looked, last = 0, 0, ""
		rows, err := tx.Query(ctx, `SELECT ev.id FROM events ev
			WHERE ev.workspace_id = $1 AND ev.environment_id = $2 AND ev.id > $3 AND ev.created_at >= $8 AND ev.endpoint_id IS NULL
				AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = ev.id AND d.endpoint_id = $4)
				AND CASE WHEN $5 = '' THEN ev.application_id IS NULL ELSE (ev.application_id = $5 OR ev.broadcast) END
				AND ev.event_type = ANY($6)
			ORDER BY ev.id LIMIT $7`,
			r.WorkspaceID, r.EnvironmentID, r.After, r.EndpointID, string(r.ApplicationID), r.EventTypes, r.Limit, r.Since)
		events, err := collect(rows, err, func(row pgx.Row) (string, error) {
			var id string
			return id, row.Scan(&id)
		})
		if err != nil || len(events) == 0 {
			return err
		}
		looked, last = len(events), store.EventID(events[len(events)-1])
		ids := make([]string, len(events))
		for i := range ids {
			ids[i] = string(r.NewID())
		}
		// Joined with the endpoint, so that one deleted meanwhile gets
		// nothing, as in Ingest.
		tag, err := tx.Exec(ctx, `INSERT INTO deliveries (id, workspace_id, event_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
			SELECT x.id, ep.workspace_id, x.event_id, ep.id, 'pending', $3, $3, $3
			FROM unnest($4::text[], $5::text[]) AS x(id, event_id)
			JOIN endpoints ep ON ep.workspace_id = $1 AND ep.id = $2
			ON CONFLICT (event_id, endpoint_id) DO NOTHING`,
			r.WorkspaceID, r.EndpointID, r.At, ids, events)
		if err != nil {
			return err
		}
		if queued = int(tag.RowsAffected()); queued > 0 {
			_, err = tx.Exec(ctx, `SELECT `+notifyDeliveries)
		}
		return err
	})
	return queued, last, looked, err
}
