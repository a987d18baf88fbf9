// Operational events: writing them inside RecordAttempts, on the
// transitions it makes, and handing them out from the outbox.

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/nahook/nahook/store"
)

// readStreak reads the endpoint's failure streak as it stands in tx,
// which the single writer keeps as read until the transaction ends; found
// is false when the endpoint no longer exists.
func readStreak(ctx context.Context, tx *sql.Tx, id store.EndpointID) (st store.EndpointStreak, found bool, err error) {
	var since sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT workspace_id, environment_id, coalesce(application_id, ''), failures, failing_since
		FROM endpoints WHERE id = ?`, id).Scan(&st.WorkspaceID, &st.EnvironmentID, &st.ApplicationID, &st.Failures, &since)
	if errors.Is(err, sql.ErrNoRows) {
		return st, false, nil
	}
	if since.Valid {
		st.FailingSince = utc(since.Int64)
	}
	return st, err == nil, err
}

// reportStreak writes the operational events applying st caused (see
// store.Streak.Events), given the endpoint's streak before it was applied
// and whether this call disabled it. It writes nothing unless st.Report.
func reportStreak(ctx context.Context, tx *sql.Tx, st store.Streak, before store.EndpointStreak, disabled bool) error {
	if !st.Report {
		return nil
	}
	after, found, err := readStreak(ctx, tx, st.EndpointID)
	if err != nil || !found {
		return err
	}
	return insertOperationalEvents(ctx, tx, st.Events(before, after, disabled))
}

// reportExhausted writes a delivery.exhausted event for r if r fails a
// delivery still pending: called before the delivery is moved on, so a
// result that arrives for a delivery already final writes none.
func reportExhausted(ctx context.Context, tx *sql.Tx, r store.AttemptResult) error {
	if !r.Report || r.Status != store.DeliveryFailed {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO operational_events (id, type, workspace_id, environment_id, application_id, endpoint_id,
			delivery_id, event_id, failures, at, available_at)
		SELECT ?1, ?2, e.workspace_id, e.environment_id, e.application_id, e.id, d.id, d.event_id, d.attempts + 1, ?3, ?3
		FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
		WHERE d.id = ?4 AND d.status = 'pending'`,
		store.NewOperationalEventID(), store.DeliveryExhausted, ms(r.Attempt.AttemptedAt), r.DeliveryID)
	return err
}

// insertOperationalEvents adds evs to the outbox, available at once.
func insertOperationalEvents(ctx context.Context, tx *sql.Tx, evs []store.OperationalEvent) error {
	for _, ev := range evs {
		var since any
		if !ev.FailingSince.IsZero() {
			since = ms(ev.FailingSince)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO operational_events (id, type, workspace_id, environment_id, application_id, endpoint_id,
				delivery_id, event_id, failing_since, failures, at, available_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ev.ID, ev.Type, ev.WorkspaceID, ev.EnvironmentID, null(ev.ApplicationID), ev.EndpointID,
			null(ev.DeliveryID), null(ev.EventID), since, ev.Failures, ms(ev.At), ms(ev.At)); err != nil {
			return err
		}
	}
	return nil
}

const operationalEventColumns = `id, type, workspace_id, environment_id, coalesce(application_id, ''), endpoint_id,
	coalesce(delivery_id, ''), coalesce(event_id, ''), failing_since, failures, at, attempts`

// ClaimOperationalEvents implements store.OperationalEventStore. The
// single writer (and, between processes, the write lock BEGIN IMMEDIATE
// takes) makes choosing the events and leasing them one step.
func (s *Store) ClaimOperationalEvents(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OperationalEvent, error) {
	var out []store.OperationalEvent
	err := s.transact(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE operational_events SET available_at = ?1, attempts = attempts + 1
			WHERE id IN (SELECT id FROM operational_events WHERE available_at <= ?2 ORDER BY available_at, id LIMIT ?3)
			RETURNING `+operationalEventColumns, ms(now.Add(lease)), ms(now), limit)
		out, err = collect(rows, err, func(row interface{ Scan(...any) error }) (store.OperationalEvent, error) {
			var ev store.OperationalEvent
			var since sql.NullInt64
			var at int64
			err := row.Scan(&ev.ID, &ev.Type, &ev.WorkspaceID, &ev.EnvironmentID, &ev.ApplicationID, &ev.EndpointID,
				&ev.DeliveryID, &ev.EventID, &since, &ev.Failures, &at, &ev.Attempts)
			if since.Valid {
				ev.FailingSince = utc(since.Int64)
			}
			ev.At = utc(at)
			return ev, err
		})
		return err
	})
	// RETURNING follows no order: oldest first, as IDs sort.
	slices.SortFunc(out, func(a, b store.OperationalEvent) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return out, err
}

// AckOperationalEvent implements store.OperationalEventStore.
func (s *Store) AckOperationalEvent(ctx context.Context, id store.OperationalEventID) error {
	return s.transact(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM operational_events WHERE id = ?`, id)
		return err
	})
}

// RetryOperationalEvent implements store.OperationalEventStore.
func (s *Store) RetryOperationalEvent(ctx context.Context, id store.OperationalEventID, at time.Time) error {
	return s.transact(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE operational_events SET available_at = ? WHERE id = ?`, ms(at), id)
		return err
	})
}
