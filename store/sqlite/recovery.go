package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/nahook/nahook/store"
)

// Recovery: resending one delivery, recovering an endpoint's failed ones,
// and queueing the deliveries an endpoint is missing. Each runs in one
// write transaction, which SQLite serialises with every other write, so a
// delivery checked in it cannot change before it is written.

// ResendDelivery implements store.RecoveryStore.
func (s *Store) ResendDelivery(ctx context.Context, ws store.WorkspaceID, id store.DeliveryID, at time.Time) (store.Delivery, error) {
	var d store.Delivery
	err := s.transact(ctx, func(tx *sql.Tx) error {
		var status store.DeliveryStatus
		var leased sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT status, leased_until FROM deliveries WHERE workspace_id = ? AND id = ?`, ws, id).Scan(&status, &leased)
		if err != nil {
			return notFound(err, id)
		}
		var until time.Time
		if leased.Valid {
			until = utc(leased.Int64)
		}
		if err := store.CheckResendable(status, until, at); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ?1, updated_at = ?1,
				series_start = attempts, leased_until = NULL
			WHERE id = ?2`, ms(at), id); err != nil {
			return err
		}
		d, err = scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+deliveryFrom+`WHERE d.id = ?`, id))
		return err
	})
	return d, mapError(err)
}

// RecoverDeliveries implements store.RecoveryStore.
func (s *Store) RecoverDeliveries(ctx context.Context, r store.RecoverRequest) (int, store.DeliveryID, int, error) {
	var recovered, looked int
	var last store.DeliveryID
	err := s.transact(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM deliveries
			WHERE endpoint_id = ? AND status = 'failed' AND id > ? AND workspace_id = ? AND created_at >= ? AND created_at < ?
			ORDER BY id LIMIT ?`, r.EndpointID, r.After, r.WorkspaceID, ms(r.Since), ms(r.Until), r.Limit)
		ids, err := collect(rows, err, func(row interface{ Scan(...any) error }) (store.DeliveryID, error) {
			var id store.DeliveryID
			return id, row.Scan(&id)
		})
		if err != nil || len(ids) == 0 {
			return err
		}
		looked, last = len(ids), ids[len(ids)-1]
		args := []any{ms(r.At)}
		for _, id := range ids {
			args = append(args, id)
		}
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ?1, updated_at = ?1,
				series_start = attempts, leased_until = NULL
			WHERE status = 'failed' AND id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		recovered = int(n)
		return err
	})
	return recovered, last, looked, mapError(err)
}

// QueueMissing implements store.RecoveryStore. The events are looked for
// in a read transaction, which holds no lock a writer waits for, however
// many it reads past; the deliveries are added in a write transaction,
// where one queued meanwhile by another caller is left as it is.
func (s *Store) QueueMissing(ctx context.Context, r store.MissingRequest) (int, store.EventID, int, error) {
	if len(r.EventTypes) == 0 {
		return 0, "", 0, nil
	}
	var events []store.EventID
	err := s.read(ctx, func(tx *sql.Tx) error {
		args := []any{r.WorkspaceID, r.EnvironmentID, r.After, ms(r.Since), r.EndpointID}
		audience := `ev.application_id IS NULL`
		if r.ApplicationID != "" {
			audience = `(ev.application_id = ? OR ev.broadcast = 1)`
			args = append(args, r.ApplicationID)
		}
		for _, t := range r.EventTypes {
			args = append(args, t)
		}
		args = append(args, r.Limit)
		rows, err := tx.QueryContext(ctx, `SELECT ev.id FROM events ev
			WHERE ev.workspace_id = ? AND ev.environment_id = ? AND ev.id > ? AND ev.created_at >= ? AND ev.endpoint_id IS NULL
				AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = ev.id AND d.endpoint_id = ?)
				AND `+audience+` AND ev.event_type IN (?`+strings.Repeat(", ?", len(r.EventTypes)-1)+`)
			ORDER BY ev.id LIMIT ?`, args...)
		events, err = collect(rows, err, func(row interface{ Scan(...any) error }) (store.EventID, error) {
			var id store.EventID
			return id, row.Scan(&id)
		})
		return err
	})
	if err != nil || len(events) == 0 {
		return 0, "", 0, mapError(err)
	}
	queued := 0
	err = s.transact(ctx, func(tx *sql.Tx) error {
		queued = 0
		// The endpoint is looked up with each insert, so that one deleted
		// meanwhile gets nothing, as in Ingest.
		for _, ev := range events {
			res, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, workspace_id, event_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
				SELECT ?1, workspace_id, ?2, id, 'pending', ?3, ?3, ?3 FROM endpoints WHERE workspace_id = ?4 AND id = ?5
				ON CONFLICT (event_id, endpoint_id) DO NOTHING`, r.NewID(), ev, ms(r.At), r.WorkspaceID, r.EndpointID)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			queued += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, "", 0, mapError(err)
	}
	return queued, events[len(events)-1], len(events), nil
}
