package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/nahook/nahook/store"
)

const eventColumns = `id, workspace_id, environment_id, coalesce(event_type, ''), coalesce(endpoint_id, ''), coalesce(application_id, ''),
	broadcast, payload, coalesce(idempotency_key, ''), created_at`

func scanEvent(row interface{ Scan(...any) error }) (store.Event, error) {
	var ev store.Event
	var created int64
	err := row.Scan(&ev.ID, &ev.WorkspaceID, &ev.EnvironmentID, &ev.EventType, &ev.EndpointID, &ev.ApplicationID, &ev.Broadcast, &ev.Payload, &ev.IdempotencyKey, &created)
	ev.CreatedAt = utc(created)
	return ev, err
}

// deliveryColumns reads a delivery joined with its event, as "d" and "ev".
const deliveryColumns = `d.id, d.workspace_id, d.event_id, coalesce(ev.event_type, ''), d.endpoint_id, d.status, d.attempts, d.series_start,
	d.next_attempt_at, d.last_attempt_at, coalesce(d.last_status_code, 0), coalesce(d.last_error, ''), d.created_at, d.updated_at`

const deliveryFrom = ` FROM deliveries d JOIN events ev ON ev.id = d.event_id `

func scanDelivery(row interface{ Scan(...any) error }) (store.Delivery, error) {
	var ds deliveryScan
	err := row.Scan(ds.targets()...)
	return ds.delivery(), err
}

// Ingest implements store.DeliveryStore with ingest, in a transaction of
// the single writer.
func (s *Store) Ingest(ctx context.Context, ev store.Event, ds []store.Delivery) (store.Event, []store.Delivery, bool, error) {
	var stored []store.Delivery
	replayed := false
	err := s.transact(ctx, func(tx *sql.Tx) (err error) {
		ev, stored, replayed, err = ingest(ctx, tx, ev, ds)
		return err
	})
	if err != nil {
		return store.Event{}, nil, false, err
	}
	return ev, stored, replayed, nil
}

// IngestBatch implements store.DeliveryStore: every item's ingest in one
// transaction, one commit.
func (s *Store) IngestBatch(ctx context.Context, items []store.IngestItem) ([]store.IngestResult, error) {
	if len(items) == 0 {
		return []store.IngestResult{}, nil
	}
	out := make([]store.IngestResult, len(items))
	err := s.transact(ctx, func(tx *sql.Tx) error {
		for i, it := range items {
			ev, stored, replayed, err := ingest(ctx, tx, it.Event, it.Deliveries)
			if err != nil {
				return err
			}
			out[i] = store.IngestResult{Event: ev, Deliveries: stored, Replayed: replayed}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ingest stores the event and its deliveries in tx, the store's own
// transaction or a host's, and returns what it stored; or, when the
// environment already has an event with its idempotency key (committed,
// or earlier in tx), stores nothing and returns that event, replayed. The
// event's insert comes first and does nothing on that key's conflict: a
// write, it takes the database's write lock before the key is looked at,
// so no other connection can insert the key in between, whatever kind of
// transaction tx is. A delivery to an endpoint no longer in the workspace
// is left out.
func ingest(ctx context.Context, tx execer, ev store.Event, ds []store.Delivery) (store.Event, []store.Delivery, bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO events (id, workspace_id, environment_id, event_type, endpoint_id, application_id, broadcast, payload, idempotency_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (environment_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`,
		ev.ID, ev.WorkspaceID, ev.EnvironmentID, null(ev.EventType), null(ev.EndpointID), null(ev.ApplicationID),
		ev.Broadcast, ev.Payload, null(ev.IdempotencyKey), ms(ev.CreatedAt))
	if err != nil {
		return store.Event{}, nil, false, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return store.Event{}, nil, false, err
	} else if n == 0 {
		first, ds, err := eventByKey(ctx, tx, ev.WorkspaceID, ev.EnvironmentID, ev.IdempotencyKey)
		if err != nil {
			return store.Event{}, nil, false, err
		}
		return first, ds, true, nil
	}
	stored := []store.Delivery{}
	for _, d := range ds {
		// Selecting from endpoints leaves out one deleted since routing.
		res, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, workspace_id, event_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
			SELECT ?, workspace_id, ?, id, 'pending', ?, ?, ? FROM endpoints WHERE workspace_id = ? AND id = ?`,
			d.ID, ev.ID, ms(ev.CreatedAt), ms(ev.CreatedAt), ms(ev.CreatedAt), ev.WorkspaceID, d.EndpointID)
		if err != nil {
			return store.Event{}, nil, false, err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			stored = append(stored, store.PendingDelivery(ev, d.ID, d.EndpointID))
		}
	}
	return ev, stored, false, nil
}

// GetEventByIdempotencyKey implements store.DeliveryStore.
func (s *Store) GetEventByIdempotencyKey(ctx context.Context, ws store.WorkspaceID, env store.EnvironmentID, key string) (store.Event, []store.Delivery, error) {
	var ev store.Event
	var ds []store.Delivery
	err := s.read(ctx, func(tx *sql.Tx) (err error) {
		ev, ds, err = eventByKey(ctx, tx, ws, env, key)
		return err
	})
	return ev, ds, err
}

// eventByKey reads an event by idempotency key, with its deliveries.
func eventByKey(ctx context.Context, q querier, ws store.WorkspaceID, env store.EnvironmentID, key string) (store.Event, []store.Delivery, error) {
	ev, err := scanEvent(q.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events
		WHERE workspace_id = ? AND environment_id = ? AND idempotency_key = ?`, ws, env, key))
	if errors.Is(err, sql.ErrNoRows) {
		return ev, nil, store.UnknownIdempotencyKey(key)
	}
	if err != nil {
		return ev, nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT `+deliveryColumns+deliveryFrom+`WHERE d.event_id = ? ORDER BY d.id`, ev.ID)
	ds, err := collect(rows, err, scanDelivery)
	if ds == nil {
		ds = []store.Delivery{}
	}
	return ev, ds, err
}

// GetEvent implements store.DeliveryStore.
func (s *Store) GetEvent(ctx context.Context, ws store.WorkspaceID, id store.EventID) (store.Event, error) {
	ev, err := scanEvent(s.r.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE workspace_id = ? AND id = ?`, ws, id))
	return ev, mapError(notFound(err, id))
}

// eventListColumns are eventColumns without the payload, which a list
// leaves out.
var eventListColumns = strings.Replace(eventColumns, "payload", "NULL", 1)

// ListEvents implements store.DeliveryStore.
func (s *Store) ListEvents(ctx context.Context, ws store.WorkspaceID, f store.EventFilter, page store.PageRequest) ([]store.Event, error) {
	where, args := `workspace_id = ?`, []any{ws}
	for col, v := range map[string]string{"environment_id": string(f.EnvironmentID), "event_type": f.EventType, "application_id": string(f.ApplicationID)} {
		if v != "" {
			where += ` AND ` + col + ` = ?`
			args = append(args, v)
		}
	}
	if !f.Since.IsZero() {
		where += ` AND created_at >= ?`
		args = append(args, ms(f.Since))
	}
	if !f.Until.IsZero() {
		where += ` AND created_at < ?`
		args = append(args, ms(f.Until))
	}
	order := ` AND id > ? ORDER BY id LIMIT ?`
	args = append(args, page.After)
	if f.NewestFirst {
		order = ` AND (? = '' OR id < ?) ORDER BY id DESC LIMIT ?`
		args = append(args, page.After)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+eventListColumns+` FROM events WHERE `+where+order, append(args, page.Limit)...)
	return collect(rows, err, scanEvent)
}

// DueEndpoints implements store.DeliveryStore. The recursive part skips
// through deliveries_pending an endpoint at a time; each endpoint's due
// deliveries and leases are then a few index reads.
func (s *Store) DueEndpoints(ctx context.Context, now time.Time, upTo, limit int) ([]store.DueEndpoint, error) {
	rows, err := s.r.QueryContext(ctx, `WITH RECURSIVE pending (endpoint_id) AS (
			SELECT (SELECT endpoint_id FROM deliveries WHERE status = 'pending' ORDER BY endpoint_id LIMIT 1)
			UNION ALL
			SELECT (SELECT d.endpoint_id FROM deliveries d
				WHERE d.status = 'pending' AND d.endpoint_id > p.endpoint_id ORDER BY d.endpoint_id LIMIT 1)
			FROM pending p WHERE p.endpoint_id IS NOT NULL
		), due AS (
			SELECT e.id, e.workspace_id, coalesce(e.application_id, '') AS application_id, e.probation,
				(SELECT min(d.next_attempt_at) FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending') AS since,
				(SELECT count(*) FROM (SELECT 1 FROM deliveries d
					WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.next_attempt_at <= ?1 LIMIT ?2)) AS due,
				(SELECT count(*) FROM (SELECT 1 FROM deliveries d
					WHERE d.endpoint_id = e.id AND d.leased_until > ?1 LIMIT ?2)) AS in_flight
			FROM pending p JOIN endpoints e ON e.id = p.endpoint_id
			WHERE e.disabled = 0
		)
		SELECT id, workspace_id, application_id, due, in_flight, probation, since FROM due WHERE due > 0 ORDER BY since, id LIMIT ?3`, ms(now), upTo, limit)
	return collect(rows, err, func(row interface{ Scan(...any) error }) (store.DueEndpoint, error) {
		var e store.DueEndpoint
		var since int64
		err := row.Scan(&e.EndpointID, &e.WorkspaceID, &e.ApplicationID, &e.Due, &e.InFlight, &e.Probation, &since)
		e.DueSince = utc(since)
		return e, err
	})
}

// ClaimDeliveries implements store.DeliveryStore. The single writer (and,
// between processes, the write lock BEGIN IMMEDIATE takes) makes counting
// an endpoint's leases and leasing more atomic; a claimed delivery's
// next_attempt_at moves to the end of its lease.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, requests []store.ClaimRequest) ([]store.Dispatch, error) {
	if len(requests) == 0 {
		return nil, nil
	}
	var out []store.Dispatch
	err := s.transact(ctx, func(tx *sql.Tx) error {
		out = nil
		for _, r := range requests {
			var inFlight int
			args := []any{r.EndpointID, ms(now)}
			for _, id := range r.Finished {
				args = append(args, id)
			}
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM deliveries
				WHERE endpoint_id = ? AND leased_until > ?
					AND id NOT IN (`+strings.TrimPrefix(strings.Repeat(", ?", len(r.Finished)), ", ")+`)`, args...).Scan(&inFlight); err != nil {
				return err
			}
			n := min(r.Want, r.MaxInFlight-inFlight)
			if n <= 0 {
				continue
			}
			rows, err := tx.QueryContext(ctx, `SELECT `+deliveryColumns+`, e.url, ev.payload, `+keyColumns+`
				`+deliveryFrom+`
				JOIN endpoints e ON e.id = d.endpoint_id
				LEFT JOIN endpoint_keys k ON k.endpoint_id = d.endpoint_id
				WHERE d.endpoint_id = ? AND d.status = 'pending' AND d.next_attempt_at <= ? AND e.disabled = 0
				ORDER BY d.next_attempt_at
				LIMIT ?`, r.EndpointID, ms(now), n)
			claimed, err := collect(rows, err, func(row interface{ Scan(...any) error }) (store.Dispatch, error) {
				var d store.Dispatch
				var ds deliveryScan
				var ks keysScan
				err := row.Scan(append(ds.targets(), append([]any{&d.URL, &d.Payload}, ks.targets()...)...)...)
				d.Delivery, d.Keys = ds.delivery(), ks.keys()
				return d, err
			})
			if err != nil {
				return err
			}
			out = append(out, claimed...)
		}
		if len(out) == 0 {
			return nil
		}
		args := []any{ms(now.Add(lease))}
		for _, d := range out {
			args = append(args, d.Delivery.ID)
		}
		_, err := tx.ExecContext(ctx, `UPDATE deliveries SET next_attempt_at = ?1, leased_until = ?1
			WHERE id IN (?`+strings.Repeat(", ?", len(out)-1)+`)`, args...)
		return err
	})
	return out, err
}

// ClaimAndLook implements store.DeliveryStore: the claim, then the look,
// each as on its own; neither crosses a network. A look that fails after
// the claim committed returns no endpoints rather than an error: the
// leases are the caller's all the same, and its next look is its own.
func (s *Store) ClaimAndLook(ctx context.Context, now time.Time, lease time.Duration, requests []store.ClaimRequest, upTo, limit int) ([]store.Dispatch, []store.DueEndpoint, error) {
	claimed, err := s.ClaimDeliveries(ctx, now, lease, requests)
	if err != nil {
		return nil, nil, err
	}
	due, err := s.DueEndpoints(ctx, now, upTo, limit)
	if err != nil {
		return claimed, nil, nil
	}
	return claimed, due, nil
}

// deliveryScan receives deliveryColumns, for queries that read more.
type deliveryScan struct {
	d                store.Delivery
	next, last       sql.NullInt64
	created, updated int64
}

func (s *deliveryScan) targets() []any {
	return []any{&s.d.ID, &s.d.WorkspaceID, &s.d.EventID, &s.d.EventType, &s.d.EndpointID, &s.d.Status, &s.d.Attempts, &s.d.SeriesStart,
		&s.next, &s.last, &s.d.LastStatusCode, &s.d.LastError, &s.created, &s.updated}
}

func (s *deliveryScan) delivery() store.Delivery {
	d := s.d
	if s.next.Valid && d.Status == store.DeliveryPending {
		d.NextAttemptAt = utc(s.next.Int64)
	}
	if s.last.Valid {
		d.LastAttemptAt = utc(s.last.Int64)
	}
	d.CreatedAt, d.UpdatedAt = utc(s.created), utc(s.updated)
	return d
}

// keyColumns reads an endpoint's signing keys, as "k".
const keyColumns = `k.current_key, k.previous_key, k.previous_until`

// keysScan receives keyColumns.
type keysScan struct {
	k     store.EndpointKeys
	until sql.NullInt64
}

func (s *keysScan) targets() []any { return []any{&s.k.Current, &s.k.Previous, &s.until} }

func (s *keysScan) keys() store.EndpointKeys {
	k := s.k
	if s.until.Valid {
		k.PreviousUntil = utc(s.until.Int64)
	}
	return k
}

// RecordAttempts implements store.DeliveryStore.
func (s *Store) RecordAttempts(ctx context.Context, results []store.AttemptResult, streaks []store.Streak) error {
	if len(results) == 0 && len(streaks) == 0 {
		return nil
	}
	return s.transact(ctx, func(tx *sql.Tx) error {
		recorded := make([]store.AttemptResult, 0, len(results))
		for _, r := range results {
			ok, err := recordAttempt(ctx, tx, r)
			if err != nil {
				return err
			}
			if ok {
				recorded = append(recorded, r)
			}
		}
		if err := recordHealth(ctx, tx, recorded); err != nil {
			return err
		}
		for _, st := range streaks {
			if err := recordStreak(ctx, tx, st); err != nil {
				return err
			}
		}
		return nil
	})
}

// recordAttempt moves the delivery on and records its attempt, unless the
// delivery no longer exists; it reports whether it did.
func recordAttempt(ctx context.Context, tx *sql.Tx, r store.AttemptResult) (bool, error) {
	a := r.Attempt
	// The attempt takes the next number whoever made it: a dispatcher whose
	// lease ran out may record after the one that claimed the delivery
	// again.
	res, err := tx.ExecContext(ctx, `INSERT INTO delivery_attempts (delivery_id, number, attempted_at, duration_ms, status_code, response, error)
		SELECT id, attempts + 1, ?, ?, ?, ?, ? FROM deliveries WHERE id = ?`,
		ms(a.AttemptedAt), a.Duration.Milliseconds(), nullInt(a.StatusCode), a.Response, null(a.Error), r.DeliveryID)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil // the delivery went with its endpoint or event
	}
	if err := reportExhausted(ctx, tx, r); err != nil {
		return false, err
	}
	var next any
	if r.Status == store.DeliveryPending {
		next = ms(r.NextAttemptAt)
	}
	// A delivery already final stays so: a late result of an expired lease
	// does not undo the attempt that settled it.
	_, err = tx.ExecContext(ctx, `UPDATE deliveries SET
			attempts = attempts + 1,
			status = CASE WHEN status = 'pending' THEN ? ELSE status END,
			next_attempt_at = CASE WHEN status = 'pending' THEN ? ELSE next_attempt_at END,
			last_attempt_at = ?, last_status_code = ?, last_error = ?, updated_at = ?, leased_until = NULL
		WHERE id = ?`, r.Status, next, ms(a.AttemptedAt), nullInt(a.StatusCode), null(a.Error), ms(a.AttemptedAt), r.DeliveryID)
	return err == nil, err
}

// recordStreak applies st to its endpoint; disabling it changes routing.
// It writes the operational events st asks for (see reportStreak).
func recordStreak(ctx context.Context, tx *sql.Tx, st store.Streak) error {
	var before store.EndpointStreak
	if st.Report {
		var found bool
		var err error
		if before, found, err = readStreak(ctx, tx, st.EndpointID); err != nil || !found {
			return err // a streak of an endpoint gone is ignored
		}
	}
	if st.Ended {
		_, err := tx.ExecContext(ctx, `UPDATE endpoints SET failing_since = NULL, probation = ?1, failures = 0
			WHERE id = ?2 AND (failing_since IS NOT NULL OR probation <> ?1 OR failures <> 0)`, st.Probation, st.EndpointID)
		if err != nil {
			return err
		}
		return reportStreak(ctx, tx, st, before, false)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE endpoints SET failing_since = CASE WHEN ?1 THEN ?2 ELSE coalesce(failing_since, ?2) END,
			probation = ?3, failures = CASE WHEN ?1 THEN ?5 ELSE failures + ?5 END
		WHERE id = ?4`, st.Restart, ms(st.Since), st.Probation, st.EndpointID, st.Failures); err != nil {
		return err
	}
	disabled := false
	if !st.DisableIfFailingSince.IsZero() {
		res, err := tx.ExecContext(ctx, `UPDATE endpoints SET disabled = 1, updated_at = ?
			WHERE id = ? AND disabled = 0 AND failing_since <= ?`, ms(st.LastFailure), st.EndpointID, ms(st.DisableIfFailingSince))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			disabled = true
			if err := bump(ctx, tx, st.WorkspaceID); err != nil {
				return err
			}
		}
	}
	return reportStreak(ctx, tx, st, before, disabled)
}

// nullInt turns 0, which the store types use for "none", into SQL NULL.
func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

// GetDelivery implements store.DeliveryStore.
func (s *Store) GetDelivery(ctx context.Context, ws store.WorkspaceID, id store.DeliveryID) (store.Delivery, []store.Attempt, error) {
	var d store.Delivery
	var attempts []store.Attempt
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		d, err = scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+deliveryFrom+`WHERE d.workspace_id = ? AND d.id = ?`, ws, id))
		if err != nil {
			return notFound(err, id)
		}
		rows, err := tx.QueryContext(ctx, `SELECT number, attempted_at, duration_ms, coalesce(status_code, 0), response, coalesce(error, '')
			FROM delivery_attempts WHERE delivery_id = ? ORDER BY number`, id)
		attempts, err = collect(rows, err, func(row interface{ Scan(...any) error }) (store.Attempt, error) {
			var a store.Attempt
			var at, dur int64
			err := row.Scan(&a.Number, &at, &dur, &a.StatusCode, &a.Response, &a.Error)
			a.AttemptedAt, a.Duration = utc(at), time.Duration(dur)*time.Millisecond
			return a, err
		})
		return err
	})
	if attempts == nil {
		attempts = []store.Attempt{}
	}
	return d, attempts, err
}

// ListDeliveries implements store.DeliveryStore.
func (s *Store) ListDeliveries(ctx context.Context, ws store.WorkspaceID, f store.DeliveryFilter, page store.PageRequest) ([]store.Delivery, error) {
	where, args := `d.workspace_id = ?`, []any{ws}
	if f.EndpointID != "" {
		where += ` AND d.endpoint_id = ?`
		args = append(args, f.EndpointID)
	}
	if f.Status != "" {
		where += ` AND d.status = ?`
		args = append(args, f.Status)
	}
	if f.EventID != "" {
		where += ` AND d.event_id = ?`
		args = append(args, f.EventID)
	}
	if f.ApplicationID != "" {
		where += ` AND d.endpoint_id IN (SELECT id FROM endpoints WHERE workspace_id = ? AND application_id = ?)`
		args = append(args, ws, f.ApplicationID)
	}
	if !f.Since.IsZero() {
		where += ` AND d.created_at >= ?`
		args = append(args, ms(f.Since))
	}
	if !f.Until.IsZero() {
		where += ` AND d.created_at < ?`
		args = append(args, ms(f.Until))
	}
	order := ` AND d.id > ? ORDER BY d.id LIMIT ?`
	args = append(args, page.After)
	if f.NewestFirst {
		order = ` AND (? = '' OR d.id < ?) ORDER BY d.id DESC LIMIT ?`
		args = append(args, page.After)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+deliveryColumns+deliveryFrom+`WHERE `+where+order,
		append(args, page.Limit)...)
	return collect(rows, err, scanDelivery)
}

// RetryDelivery implements store.DeliveryStore.
func (s *Store) RetryDelivery(ctx context.Context, ws store.WorkspaceID, id store.DeliveryID, at time.Time) (store.Delivery, error) {
	var d store.Delivery
	err := s.transact(ctx, func(tx *sql.Tx) error {
		var status store.DeliveryStatus
		err := tx.QueryRowContext(ctx, `SELECT status FROM deliveries WHERE workspace_id = ? AND id = ?`, ws, id).Scan(&status)
		if err != nil {
			return notFound(err, id)
		}
		if err := store.CheckRetryable(status); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, updated_at = ? WHERE id = ?`,
			ms(at), ms(at), id); err != nil {
			return err
		}
		d, err = scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+deliveryFrom+`WHERE d.id = ?`, id))
		return err
	})
	return d, err
}

// GetEndpointKeys implements store.DeliveryStore.
func (s *Store) GetEndpointKeys(ctx context.Context, ws store.WorkspaceID, id store.EndpointID) (store.EndpointKeys, error) {
	return getEndpointKeys(ctx, s.r, ws, id)
}

func getEndpointKeys(ctx context.Context, q querier, ws store.WorkspaceID, id store.EndpointID) (store.EndpointKeys, error) {
	var ks keysScan
	err := q.QueryRowContext(ctx, `SELECT `+keyColumns+`
		FROM endpoint_keys k JOIN endpoints e ON e.id = k.endpoint_id
		WHERE e.workspace_id = ? AND e.id = ?`, ws, id).Scan(ks.targets()...)
	return ks.keys(), mapError(notFound(err, id))
}

// RotateEndpointKey implements store.DeliveryStore.
func (s *Store) RotateEndpointKey(ctx context.Context, ws store.WorkspaceID, id store.EndpointID, key []byte, previousUntil time.Time) (store.EndpointKeys, error) {
	var k store.EndpointKeys
	err := s.transact(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE endpoint_keys SET previous_key = current_key, previous_until = ?, current_key = ?
			WHERE endpoint_id = (SELECT id FROM endpoints WHERE workspace_id = ? AND id = ?)`, ms(previousUntil), key, ws, id)
		if err != nil {
			return err
		}
		if err := affected(res, id); err != nil {
			return err
		}
		k, err = getEndpointKeys(ctx, tx, ws, id)
		return err
	})
	return k, err
}

// PruneEvents implements store.DeliveryStore.
func (s *Store) PruneEvents(ctx context.Context, before store.EventID, limit int) (int, error) {
	var n int64
	err := s.transact(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE id IN (
			SELECT id FROM events ev WHERE ev.id < ?
				AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = ev.id AND d.status = 'pending')
			LIMIT ?)`, before, limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
