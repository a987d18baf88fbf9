// Operational events: writing them inside RecordAttempts, on the
// transitions it makes, and handing them out from the outbox.

package postgres

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nahook/nahook/store"
)

// lockStreaks locks the rows of the endpoints whose streaks ask for
// reports, in ID order, and returns their streaks as they stand: under READ
// COMMITTED, FOR UPDATE waits for a concurrent recording of the same
// endpoint to end and then reads what it committed, so each transition is
// seen, and reported, by one recorder alone. Endpoints no longer there are
// left out.
func lockStreaks(ctx context.Context, tx pgx.Tx, streaks []store.Streak) (map[store.EndpointID]store.EndpointStreak, error) {
	var ids []string
	for _, st := range streaks {
		if st.Report {
			ids = append(ids, string(st.EndpointID))
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return readStreaks(ctx, tx, ids, ` ORDER BY id FOR UPDATE`)
}

// readStreaks reads the endpoints' streaks, the query ending with tail.
func readStreaks(ctx context.Context, tx pgx.Tx, ids []string, tail string) (map[store.EndpointID]store.EndpointStreak, error) {
	rows, err := tx.Query(ctx, `SELECT id, workspace_id, environment_id, coalesce(application_id, ''), failures, failing_since
		FROM endpoints WHERE id = ANY($1::text[])`+tail, ids)
	type row struct {
		id store.EndpointID
		st store.EndpointStreak
	}
	got, err := collect(rows, err, func(r pgx.Row) (row, error) {
		var x row
		var since *time.Time
		err := r.Scan(&x.id, &x.st.WorkspaceID, &x.st.EnvironmentID, &x.st.ApplicationID, &x.st.Failures, &since)
		if since != nil {
			x.st.FailingSince = utc(*since)
		}
		return x, err
	})
	out := make(map[store.EndpointID]store.EndpointStreak, len(got))
	for _, x := range got {
		out[x.id] = x.st
	}
	return out, err
}

// reportStreaks writes the operational events applying streaks caused
// (see store.Streak.Events), given the streaks before, as lockStreaks
// read them, and the endpoints this call disabled.
func reportStreaks(ctx context.Context, tx pgx.Tx, streaks []store.Streak, before map[store.EndpointID]store.EndpointStreak, disabled map[store.EndpointID]bool) error {
	if len(before) == 0 {
		return nil
	}
	ids := make([]string, 0, len(before))
	for id := range before {
		ids = append(ids, string(id))
	}
	after, err := readStreaks(ctx, tx, ids, "")
	if err != nil {
		return err
	}
	var evs []store.OperationalEvent
	for _, st := range streaks {
		b, ok := before[st.EndpointID]
		a, still := after[st.EndpointID]
		if ok && still {
			evs = append(evs, st.Events(b, a, disabled[st.EndpointID])...)
		}
	}
	return insertOperationalEvents(ctx, tx, evs)
}

// lockExhausted locks the deliveries still pending that results asking for
// reports fail, and returns their delivery.exhausted events; the caller
// moves them on in the same transaction. Under READ COMMITTED, FOR UPDATE
// waits for a concurrent recording of the same delivery and then checks
// that it is still pending, so a late result for a delivery already final
// reports nothing.
func lockExhausted(ctx context.Context, tx pgx.Tx, results []store.AttemptResult) ([]store.OperationalEvent, error) {
	var ids []string
	at := map[store.DeliveryID]time.Time{}
	for _, r := range results {
		if r.Report && r.Status == store.DeliveryFailed {
			ids = append(ids, string(r.DeliveryID))
			at[r.DeliveryID] = r.Attempt.AttemptedAt
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `SELECT d.id, d.event_id, d.attempts + 1, e.workspace_id, e.environment_id, coalesce(e.application_id, ''), e.id
		FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
		WHERE d.id = ANY($1::text[]) AND d.status = 'pending'
		ORDER BY d.id FOR UPDATE OF d`, ids)
	return collect(rows, err, func(row pgx.Row) (store.OperationalEvent, error) {
		ev := store.OperationalEvent{ID: store.NewOperationalEventID(), Type: store.DeliveryExhausted}
		err := row.Scan(&ev.DeliveryID, &ev.EventID, &ev.Failures, &ev.WorkspaceID, &ev.EnvironmentID, &ev.ApplicationID, &ev.EndpointID)
		ev.At = at[ev.DeliveryID]
		return ev, err
	})
}

// insertOperationalEvents adds evs to the outbox, available at once, in
// one statement.
func insertOperationalEvents(ctx context.Context, tx pgx.Tx, evs []store.OperationalEvent) error {
	if len(evs) == 0 {
		return nil
	}
	n := len(evs)
	ids, types, wss, envs, endpoints := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	apps, deliveries, events := make([]*string, n), make([]*string, n), make([]*string, n)
	since, at := make([]*time.Time, n), make([]time.Time, n)
	failures := make([]int32, n)
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	for i, ev := range evs {
		ids[i], types[i], wss[i], envs[i], endpoints[i] = string(ev.ID), string(ev.Type), string(ev.WorkspaceID), string(ev.EnvironmentID), string(ev.EndpointID)
		apps[i], deliveries[i], events[i] = opt(string(ev.ApplicationID)), opt(string(ev.DeliveryID)), opt(string(ev.EventID))
		if !ev.FailingSince.IsZero() {
			since[i] = &evs[i].FailingSince
		}
		at[i], failures[i] = ev.At, int32(ev.Failures)
	}
	_, err := tx.Exec(ctx, `INSERT INTO operational_events (id, type, workspace_id, environment_id, endpoint_id, application_id,
			delivery_id, event_id, failing_since, failures, at, available_at)
		SELECT id, type, workspace_id, environment_id, endpoint_id, application_id, delivery_id, event_id, failing_since, failures, at, at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::int[], $11::timestamptz[])
			AS x(id, type, workspace_id, environment_id, endpoint_id, application_id, delivery_id, event_id, failing_since, failures, at)`,
		ids, types, wss, envs, endpoints, apps, deliveries, events, since, failures, at)
	return err
}

// ClaimOperationalEvents implements store.OperationalEventStore. FOR
// UPDATE SKIP LOCKED passes over the events another claim is leasing; one
// it leased and committed is checked again, and is no longer available.
func (s *Store) ClaimOperationalEvents(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OperationalEvent, error) {
	var out []store.OperationalEvent
	err := s.statement(ctx, func(q querier) error {
		rows, err := q.Query(ctx, `WITH picked AS (
				SELECT id FROM operational_events WHERE available_at <= $1
				ORDER BY available_at, id LIMIT $3
				FOR UPDATE SKIP LOCKED
			)
			UPDATE operational_events o SET available_at = $2, attempts = o.attempts + 1
			FROM picked WHERE o.id = picked.id
			RETURNING o.id, o.type, o.workspace_id, o.environment_id, coalesce(o.application_id, ''), o.endpoint_id,
				coalesce(o.delivery_id, ''), coalesce(o.event_id, ''), o.failing_since, o.failures, o.at, o.attempts`,
			now, now.Add(lease), limit)
		out, err = collect(rows, err, func(row pgx.Row) (store.OperationalEvent, error) {
			var ev store.OperationalEvent
			var since *time.Time
			err := row.Scan(&ev.ID, &ev.Type, &ev.WorkspaceID, &ev.EnvironmentID, &ev.ApplicationID, &ev.EndpointID,
				&ev.DeliveryID, &ev.EventID, &since, &ev.Failures, &ev.At, &ev.Attempts)
			if since != nil {
				ev.FailingSince = utc(*since)
			}
			ev.At = utc(ev.At)
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
	_, err := s.pool.Exec(ctx, `DELETE FROM operational_events WHERE id = $1`, id)
	return mapError(err)
}

// RetryOperationalEvent implements store.OperationalEventStore.
func (s *Store) RetryOperationalEvent(ctx context.Context, id store.OperationalEventID, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE operational_events SET available_at = $2 WHERE id = $1`, id, at)
	return mapError(err)
}
