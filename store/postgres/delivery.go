package postgres

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nahook/nahook/store"
)

const eventColumns = `id, workspace_id, environment_id, coalesce(event_type, ''), coalesce(endpoint_id, ''), coalesce(application_id, ''),
	broadcast, payload, coalesce(idempotency_key, ''), created_at`

func scanEvent(row pgx.Row) (store.Event, error) {
	var ev store.Event
	err := row.Scan(&ev.ID, &ev.WorkspaceID, &ev.EnvironmentID, &ev.EventType, &ev.EndpointID, &ev.ApplicationID, &ev.Broadcast, &ev.Payload, &ev.IdempotencyKey, &ev.CreatedAt)
	ev.CreatedAt = utc(ev.CreatedAt)
	return ev, err
}

// deliveryColumns reads a delivery joined with its event, as "d" and "ev".
const deliveryColumns = `d.id, d.workspace_id, d.event_id, coalesce(ev.event_type, ''), d.endpoint_id, d.status, d.attempts, d.series_start,
	d.next_attempt_at, d.last_attempt_at, coalesce(d.last_status_code, 0), coalesce(d.last_error, ''), d.created_at, d.updated_at`

const deliveryFrom = ` FROM deliveries d JOIN events ev ON ev.id = d.event_id `

// deliveryScan receives deliveryColumns, for queries that read more.
type deliveryScan struct {
	d          store.Delivery
	next, last *time.Time
}

func (s *deliveryScan) targets() []any {
	return []any{&s.d.ID, &s.d.WorkspaceID, &s.d.EventID, &s.d.EventType, &s.d.EndpointID, &s.d.Status, &s.d.Attempts, &s.d.SeriesStart,
		&s.next, &s.last, &s.d.LastStatusCode, &s.d.LastError, &s.d.CreatedAt, &s.d.UpdatedAt}
}

func (s *deliveryScan) delivery() store.Delivery {
	d := s.d
	if s.next != nil && d.Status == store.DeliveryPending {
		d.NextAttemptAt = utc(*s.next)
	}
	if s.last != nil {
		d.LastAttemptAt = utc(*s.last)
	}
	d.CreatedAt, d.UpdatedAt = utc(d.CreatedAt), utc(d.UpdatedAt)
	return d
}

func scanDelivery(row pgx.Row) (store.Delivery, error) {
	var ds deliveryScan
	err := row.Scan(ds.targets()...)
	return ds.delivery(), err
}

// Ingest implements store.DeliveryStore: one statement (see ingest), so
// one round trip and one commit; when the idempotency key was taken, the
// first event is read instead.
func (s *Store) Ingest(ctx context.Context, ev store.Event, ds []store.Delivery) (store.Event, []store.Delivery, bool, error) {
	var stored []store.Delivery
	inserted := false
	err := s.statement(ctx, func(q querier) (err error) {
		stored, inserted, err = ingest(ctx, q, ev, ds)
		return err
	})
	if err != nil {
		return store.Event{}, nil, false, err
	}
	if inserted {
		return ev, stored, false, nil
	}
	// The key was taken: answer with the first event.
	first, ds, err := s.GetEventByIdempotencyKey(ctx, ev.WorkspaceID, ev.EnvironmentID, ev.IdempotencyKey)
	return first, ds, err == nil, err
}

// deliveriesChannel is the channel an ingest that stores deliveries
// notifies, with the schema it wrote to as the payload, so dispatchers of
// other schemas can ignore it. Postgres delivers a notification only when
// the transaction that sent it commits, and sends one per transaction
// however many ingests made it.
const deliveriesChannel = "nahook_deliveries"

// notifyDeliveries is the expression that tells dispatchers, at commit,
// that deliveries are due.
const notifyDeliveries = `pg_notify('` + deliveriesChannel + `', current_schema())`

// ingest stores the event and its deliveries through q, the pool or a
// host's transaction, in one statement, and reports whether it stored the
// event. The event's insert does nothing if its idempotency key is taken
// (by a committed event, or one earlier in the same transaction; a
// concurrent insert of the key is waited for, to commit or not), and then
// neither do the deliveries' inserts. ON CONFLICT DO NOTHING, not a unique
// violation caught afterwards, is what keeps a host's transaction usable:
// any error would abort it, and a savepoint around the insert would cost
// two more round trips on every send. Deliveries to endpoints no longer in
// the workspace are left out by the join. The statement notifies
// deliveriesChannel when it stores a delivery.
func ingest(ctx context.Context, q querier, ev store.Event, ds []store.Delivery) ([]store.Delivery, bool, error) {
	rows, err := q.Query(ctx, ingestSQL, ingestArgs(ev, ds)...)
	out, err := scanIngested(rows, err, []store.IngestItem{{Event: ev}})
	if err != nil {
		return nil, false, err
	}
	return out[0].Deliveries, !out[0].Replayed, nil
}

// IngestBatch implements store.DeliveryStore: one statement for the whole
// batch (ingestBatchSQL), so one round trip and one commit, and the
// store's work per statement (planning, starting the executor, the
// trigger queue of the foreign keys) done once rather than once an item.
// The events first stored with an item's idempotency key, by a committed
// transaction or earlier in the batch, are read after it.
func (s *Store) IngestBatch(ctx context.Context, items []store.IngestItem) ([]store.IngestResult, error) {
	if len(items) == 0 {
		return []store.IngestResult{}, nil
	}
	var out []store.IngestResult
	err := s.statement(ctx, func(q querier) error {
		rows, err := q.Query(ctx, ingestBatchSQL, ingestBatchArgs(items)...)
		out, err = scanIngested(rows, err, items)
		return err
	})
	if err != nil {
		return nil, err
	}
	for i, r := range out {
		if !r.Replayed {
			continue
		}
		ev := items[i].Event
		first, ds, err := s.GetEventByIdempotencyKey(ctx, ev.WorkspaceID, ev.EnvironmentID, ev.IdempotencyKey)
		if err != nil {
			return nil, err
		}
		out[i] = store.IngestResult{Event: first, Deliveries: ds, Replayed: true}
	}
	return out, nil
}

// ingestBatchSQL stores a batch of events and their deliveries, as
// ingestSQL does one: the events in the batch's order, so that of two
// items with one idempotency key the first is stored; the deliveries of
// the events stored, to the endpoints still in the workspace. It answers a
// row for each event stored, with each of its deliveries, these in the
// order given. Its arguments are ingestBatchArgs'.
const ingestBatchSQL = `WITH x AS (
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::text[], $7::timestamptz[],
				$8::text[], $9::text[], $10::bool[]) WITH ORDINALITY
				AS x(id, workspace_id, environment_id, event_type, payload, idempotency_key, created_at, endpoint_id, application_id, broadcast, n)
		), e AS (
			INSERT INTO events (id, workspace_id, environment_id, event_type, payload, idempotency_key, created_at, endpoint_id, application_id, broadcast)
			SELECT id, workspace_id, environment_id, event_type, payload, idempotency_key, created_at, endpoint_id, application_id, broadcast
			FROM x ORDER BY n
			ON CONFLICT (environment_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
			RETURNING id, workspace_id, created_at
		), y AS (
			SELECT * FROM unnest($11::text[], $12::text[], $13::text[]) WITH ORDINALITY AS y(id, event_id, endpoint_id, n)
		), d AS (
			INSERT INTO deliveries (id, workspace_id, event_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
			SELECT y.id, ep.workspace_id, e.id, ep.id, 'pending', e.created_at, e.created_at, e.created_at
			FROM y JOIN e ON e.id = y.event_id
			JOIN endpoints ep ON ep.workspace_id = e.workspace_id AND ep.id = y.endpoint_id
			RETURNING id, event_id, endpoint_id
		)
		SELECT e.id, d.id, d.endpoint_id,
			CASE WHEN d.id IS NOT NULL THEN ` + notifyDeliveries + `::text END
		FROM e LEFT JOIN (d JOIN y ON y.id = d.id) ON d.event_id = e.id
		ORDER BY y.n`

// ingestBatchArgs are ingestBatchSQL's arguments for items: a column of
// the events' each, then the deliveries' IDs, events and endpoints.
func ingestBatchArgs(items []store.IngestItem) []any {
	n := len(items)
	ids, workspaces, environments := make([]string, n), make([]string, n), make([]string, n)
	types, keys, endpoints, apps := make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n)
	payloads, created, broadcast := make([][]byte, n), make([]time.Time, n), make([]bool, n)
	var dIDs, dEvents, dEndpoints []string
	for i, it := range items {
		ev := it.Event
		ids[i], workspaces[i], environments[i] = string(ev.ID), string(ev.WorkspaceID), string(ev.EnvironmentID)
		types[i], keys[i], endpoints[i], apps[i] = nullable(ev.EventType), nullable(ev.IdempotencyKey), nullable(ev.EndpointID), nullable(ev.ApplicationID)
		payloads[i], created[i], broadcast[i] = ev.Payload, ev.CreatedAt, ev.Broadcast
		for _, d := range it.Deliveries {
			dIDs, dEvents, dEndpoints = append(dIDs, string(d.ID)), append(dEvents, string(ev.ID)), append(dEndpoints, string(d.EndpointID))
		}
	}
	return []any{ids, workspaces, environments, types, payloads, keys, created, endpoints, apps, broadcast, dIDs, dEvents, dEndpoints}
}

// nullable is s, or nil for "": an array element that is SQL NULL.
func nullable[T ~string](s T) *string {
	if s == "" {
		return nil
	}
	v := string(s)
	return &v
}

// ingestArgs are ingestSQL's arguments for ev and its deliveries.
func ingestArgs(ev store.Event, ds []store.Delivery) []any {
	ids := make([]string, len(ds))
	endpoints := make([]string, len(ds))
	for i, d := range ds {
		ids[i], endpoints[i] = string(d.ID), string(d.EndpointID)
	}
	return []any{ev.ID, ev.WorkspaceID, ev.EnvironmentID, null(ev.EventType), ev.Payload, null(ev.IdempotencyKey), ev.CreatedAt, ids, endpoints,
		null(ev.EndpointID), null(ev.ApplicationID), ev.Broadcast}
}

// scanIngested reads what ingestSQL or ingestBatchSQL answered for items:
// a row for each event stored, with each of its deliveries. An item whose
// event has no row was not stored (its idempotency key was taken), and is
// answered Replayed, for the caller to read the first event.
func scanIngested(rows pgx.Rows, err error, items []store.IngestItem) ([]store.IngestResult, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]store.IngestResult, len(items))
	at := make(map[string]int, len(items))
	for i, it := range items {
		at[string(it.Event.ID)] = i
		out[i] = store.IngestResult{Event: it.Event, Deliveries: []store.Delivery{}, Replayed: true}
	}
	for rows.Next() {
		var eventID string
		var id, endpoint *string
		if err := rows.Scan(&eventID, &id, &endpoint, nil); err != nil {
			return nil, err
		}
		r := &out[at[eventID]]
		r.Replayed = false
		if id != nil {
			r.Deliveries = append(r.Deliveries, store.PendingDelivery(r.Event, store.DeliveryID(*id), store.EndpointID(*endpoint)))
		}
	}
	return out, rows.Err()
}

// ingestSQL stores an event and its deliveries; see ingest.
const ingestSQL = `WITH e AS (
			INSERT INTO events (id, workspace_id, environment_id, event_type, payload, idempotency_key, created_at, endpoint_id, application_id, broadcast)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $10, $11, $12)
			ON CONFLICT (environment_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
			RETURNING id
		), d AS (
			INSERT INTO deliveries (id, workspace_id, event_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
			SELECT x.id, ep.workspace_id, e.id, ep.id, 'pending', $7, $7, $7
			FROM e, unnest($8::text[], $9::text[]) AS x(id, endpoint_id)
			JOIN endpoints ep ON ep.workspace_id = $2 AND ep.id = x.endpoint_id
			RETURNING id, endpoint_id
		)
		SELECT e.id, d.id, d.endpoint_id,
			CASE WHEN d.id IS NOT NULL THEN ` + notifyDeliveries + `::text END
		FROM e LEFT JOIN d ON true`

// GetEventByIdempotencyKey implements store.DeliveryStore.
func (s *Store) GetEventByIdempotencyKey(ctx context.Context, ws store.WorkspaceID, env store.EnvironmentID, key string) (store.Event, []store.Delivery, error) {
	var ev store.Event
	var ds []store.Delivery
	err := s.read(ctx, func(tx pgx.Tx) (err error) {
		ev, ds, err = eventByKey(ctx, tx, ws, env, key)
		return err
	})
	return ev, ds, err
}

// eventByKey reads an event by idempotency key, with its deliveries,
// through q: a snapshot of the store's, or a host's transaction.
func eventByKey(ctx context.Context, q querier, ws store.WorkspaceID, env store.EnvironmentID, key string) (store.Event, []store.Delivery, error) {
	ev, err := scanEvent(q.QueryRow(ctx, `SELECT `+eventColumns+` FROM events
		WHERE workspace_id = $1 AND environment_id = $2 AND idempotency_key = $3`, ws, env, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return ev, nil, store.UnknownIdempotencyKey(key)
	}
	if err != nil {
		return ev, nil, err
	}
	rows, err := q.Query(ctx, `SELECT `+deliveryColumns+deliveryFrom+`WHERE d.event_id = $1 ORDER BY d.id`, ev.ID)
	ds, err := collect(rows, err, scanDelivery)
	if ds == nil {
		ds = []store.Delivery{}
	}
	return ev, ds, err
}

// GetEvent implements store.DeliveryStore.
func (s *Store) GetEvent(ctx context.Context, ws store.WorkspaceID, id store.EventID) (store.Event, error) {
	ev, err := scanEvent(s.pool.QueryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE workspace_id = $1 AND id = $2`, ws, id))
	return ev, mapError(notFound(err, id))
}

// timeOrNull is t, or SQL NULL for the zero time: a bound left open.
func timeOrNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// eventListColumns are eventColumns without the payload, which a list
// leaves out.
var eventListColumns = strings.Replace(eventColumns, "payload", "NULL::bytea", 1)

// ListEvents implements store.DeliveryStore.
func (s *Store) ListEvents(ctx context.Context, ws store.WorkspaceID, f store.EventFilter, page store.PageRequest) ([]store.Event, error) {
	order := `AND id > $7 ORDER BY id LIMIT $8`
	if f.NewestFirst {
		order = `AND ($7 = '' OR id < $7) ORDER BY id DESC LIMIT $8`
	}
	rows, err := s.pool.Query(ctx, `SELECT `+eventListColumns+` FROM events
		WHERE workspace_id = $1
			AND ($2 = '' OR environment_id = $2)
			AND ($3 = '' OR event_type = $3)
			AND ($4 = '' OR application_id = $4)
			AND ($5::timestamptz IS NULL OR created_at >= $5)
			AND ($6::timestamptz IS NULL OR created_at < $6)
			`+order, ws, string(f.EnvironmentID), f.EventType, string(f.ApplicationID), timeOrNull(f.Since), timeOrNull(f.Until), page.After, page.Limit)
	return collect(rows, err, scanEvent)
}

// DueEndpoints implements store.DeliveryStore. The recursive part skips
// through deliveries_pending an endpoint at a time, reading at each step
// the endpoint's earliest pending delivery (the first entry of its range);
// the due ones are then counted, and the leases, for the endpoints with
// any due. Each step walks the entries that recent claims and recordings
// left dead at the head of an endpoint's range until vacuum clears them, so
// the query reads each endpoint's head as few times as it can, and counts
// with LIMIT: a plain index scan, unlike the bitmap scan the planner would
// otherwise pick, marks the dead entries it meets, so that the next count
// passes them by.
func (s *Store) DueEndpoints(ctx context.Context, now time.Time, upTo, limit int) ([]store.DueEndpoint, error) {
	rows, err := s.pool.Query(ctx, dueSQL, now, upTo, limit)
	return collect(rows, err, scanDue)
}

// dueSQL is DueEndpoints' query, its arguments now, upTo and limit.
const dueSQL = `WITH RECURSIVE pending (endpoint_id, since) AS (
		(SELECT endpoint_id, next_attempt_at FROM deliveries WHERE status = 'pending'
			ORDER BY endpoint_id, next_attempt_at LIMIT 1)
		UNION ALL
		SELECT next.* FROM pending p CROSS JOIN LATERAL (
			SELECT d.endpoint_id, d.next_attempt_at FROM deliveries d
			WHERE d.status = 'pending' AND d.endpoint_id > p.endpoint_id
			ORDER BY d.endpoint_id, d.next_attempt_at LIMIT 1) next
	), due AS (
		SELECT e.id, e.workspace_id, coalesce(e.application_id, '') AS application_id, e.probation, p.since,
			(SELECT count(*) FROM (SELECT FROM deliveries d
				WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.next_attempt_at <= $1 LIMIT $2) x) AS due
		FROM pending p JOIN endpoints e ON e.id = p.endpoint_id
		WHERE p.since <= $1 AND NOT e.disabled
	)
	SELECT id, workspace_id, application_id, due, (SELECT count(*) FROM (SELECT FROM deliveries d
			WHERE d.endpoint_id = due.id AND d.leased_until > $1 LIMIT $2) x), probation, since
	FROM due WHERE due > 0 ORDER BY since, id LIMIT $3`

// scanDue reads a row of dueSQL.
func scanDue(row pgx.Row) (store.DueEndpoint, error) {
	var e store.DueEndpoint
	err := row.Scan(&e.EndpointID, &e.WorkspaceID, &e.ApplicationID, &e.Due, &e.InFlight, &e.Probation, &e.DueSince)
	e.DueSince = utc(e.DueSince)
	return e, err
}

// pipelineBegin opens the transaction of a pipeline: statements sent
// together, ending with COMMIT, in one round trip. It names READ
// COMMITTED, as transact does, whatever the server's default: each
// statement then reads a snapshot of its own, which a claim's count of
// leases after its locks relies on. A statement that fails leaves the
// connection in the failed transaction, and the pool closes it.
const pipelineBegin = `BEGIN ISOLATION LEVEL READ COMMITTED`

// claimLock is the first key of the advisory locks ClaimDeliveries takes,
// one per endpoint (the second is a hash of its ID): what makes counting
// an endpoint's leases and leasing more one step, across processes.
const claimLock = 0x6e68636c // "nhcl"

// ClaimDeliveries implements store.DeliveryStore, in one round trip: a
// transaction of two statements, sent together (see pipelineBegin). The
// first takes, without waiting, each requested endpoint's advisory lock,
// skipping those another claim holds, and leaves the list of endpoints it
// locked in a setting local to the transaction (nahook.claimable). The
// second, a statement of its own so that its snapshot sees every claim
// committed before the locks were taken, counts each locked endpoint's
// leases and leases what the cap leaves. FOR UPDATE SKIP LOCKED passes
// over deliveries a recording or a retry is writing.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, requests []store.ClaimRequest) ([]store.Dispatch, error) {
	if len(requests) == 0 {
		return nil, nil
	}
	claimed, _, err := s.claim(ctx, now, lease, requests, nil)
	return claimed, err
}

// ClaimAndLook implements store.DeliveryStore: ClaimDeliveries' two
// statements and DueEndpoints' query, sent together; the look, last in
// the same transaction, sees the claim's leases.
func (s *Store) ClaimAndLook(ctx context.Context, now time.Time, lease time.Duration, requests []store.ClaimRequest, upTo, limit int) ([]store.Dispatch, []store.DueEndpoint, error) {
	if len(requests) == 0 {
		due, err := s.DueEndpoints(ctx, now, upTo, limit)
		return nil, due, err
	}
	return s.claim(ctx, now, lease, requests, []any{now, upTo, limit})
}

// claim runs ClaimDeliveries in one round trip and, with look (dueSQL's
// arguments), DueEndpoints after it.
func (s *Store) claim(ctx context.Context, now time.Time, lease time.Duration, requests []store.ClaimRequest, look []any) ([]store.Dispatch, []store.DueEndpoint, error) {
	ids := make([]string, len(requests))
	want, caps := make([]int32, len(requests)), make([]int32, len(requests))
	finished := []string{}
	for i, r := range requests {
		ids[i], want[i], caps[i] = string(r.EndpointID), int32(r.Want), int32(r.MaxInFlight)
		for _, id := range r.Finished {
			finished = append(finished, string(id))
		}
	}
	var claimed []store.Dispatch
	var due []store.DueEndpoint
	err := s.statement(ctx, func(querier) error {
		b := &pgx.Batch{}
		b.Queue(pipelineBegin)
		b.Queue(`SELECT set_config('nahook.claimable', coalesce(string_agg(id, ','), ''), true)
			FROM unnest($1::text[]) AS r(id) WHERE pg_try_advisory_xact_lock($2, hashtext(id))`, ids, claimLock)
		b.Queue(claimSQL, ids, want, caps, now, now.Add(lease), finished)
		if look != nil {
			b.Queue(dueSQL, look...)
		}
		b.Queue(`COMMIT`)
		br := s.pool.SendBatch(ctx, b)
		defer br.Close()
		for range 2 { // BEGIN, the locks
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		rows, err := br.Query()
		claimed, err = collect(rows, err, func(row pgx.Row) (store.Dispatch, error) {
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
		if look != nil {
			rows, err := br.Query()
			if due, err = collect(rows, err, scanDue); err != nil {
				return err
			}
		}
		if _, err := br.Exec(); err != nil {
			return err
		}
		return br.Close()
	})
	if err != nil {
		return nil, nil, err
	}
	return claimed, due, nil
}

// claimSQL leases deliveries of the endpoints whose claim locks the
// transaction holds (the setting nahook.claimable), up to each request's
// want and within its cap, and returns them ready to send.
const claimSQL = `WITH r AS (
		SELECT * FROM unnest($1::text[], $2::int[], $3::int[]) AS r(endpoint_id, want, max_in_flight)
		WHERE r.endpoint_id = ANY(string_to_array(current_setting('nahook.claimable'), ','))
	), quota AS (
		SELECT r.endpoint_id, least(r.want, r.max_in_flight - (SELECT count(*) FROM (SELECT FROM deliveries l
			WHERE l.endpoint_id = r.endpoint_id AND l.leased_until > $4 AND l.id <> ALL($6::text[]) LIMIT r.max_in_flight) x)) AS n
		FROM r JOIN endpoints e ON e.id = r.endpoint_id
		WHERE NOT e.disabled
	), picked AS (
		SELECT d.id FROM quota q CROSS JOIN LATERAL (
			SELECT d.id FROM deliveries d
			WHERE d.endpoint_id = q.endpoint_id AND d.status = 'pending' AND d.next_attempt_at <= $4
			ORDER BY d.next_attempt_at
			LIMIT greatest(q.n, 0)
			FOR UPDATE SKIP LOCKED
		) d
	), leased AS (
		UPDATE deliveries d SET next_attempt_at = $5, leased_until = $5 FROM picked WHERE d.id = picked.id
		RETURNING d.*
	)
	SELECT ` + deliveryColumns + `, e.url, ev.payload, ` + keyColumns + `
	FROM leased d
	JOIN events ev ON ev.id = d.event_id
	JOIN endpoints e ON e.id = d.endpoint_id
	LEFT JOIN endpoint_keys k ON k.endpoint_id = d.endpoint_id
	ORDER BY d.created_at, d.id`

// keyColumns reads an endpoint's signing keys, as "k".
const keyColumns = `k.current_key, k.previous_key, k.previous_until`

// keysScan receives keyColumns.
type keysScan struct {
	k     store.EndpointKeys
	until *time.Time
}

func (s *keysScan) targets() []any { return []any{&s.k.Current, &s.k.Previous, &s.until} }

func (s *keysScan) keys() store.EndpointKeys {
	k := s.k
	if s.until != nil {
		k.PreviousUntil = utc(*s.until)
	}
	return k
}

// RecordAttempts implements store.DeliveryStore, in a few statements for
// the whole batch: a dispatcher records hundreds of attempts a second. A
// batch whose writes need nothing read first (each delivery once, no
// operational event asked for, no endpoint to disable: a busy
// dispatcher's usual batch) is one round trip.
func (s *Store) RecordAttempts(ctx context.Context, results []store.AttemptResult, streaks []store.Streak) error {
	if len(results) == 0 && len(streaks) == 0 {
		return nil
	}
	rs := rounds(results)
	if len(rs) <= 1 && !readsBeforeRecording(results, streaks) {
		return s.statement(ctx, func(querier) error {
			b := &pgx.Batch{}
			b.Queue(pipelineBegin)
			for _, w := range recordingWrites(results, streaks) {
				b.Queue(w.sql, w.args...)
			}
			b.Queue(`COMMIT`)
			return s.pool.SendBatch(ctx, b).Close()
		})
	}
	return s.transact(ctx, func(tx pgx.Tx) error {
		// A delivery attempted twice in one batch (its lease ran out
		// between) is recorded in rounds, one attempt per delivery each.
		for _, round := range rs {
			exhausted, err := lockExhausted(ctx, tx, round)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, recordRoundSQL, recordRoundArgs(round)...); err != nil {
				return err
			}
			if err := insertOperationalEvents(ctx, tx, exhausted); err != nil {
				return err
			}
		}
		if len(results) > 0 {
			if _, err := tx.Exec(ctx, healthSQL, healthArgs(results)...); err != nil {
				return err
			}
		}
		return recordStreaks(ctx, tx, streaks)
	})
}

// readsBeforeRecording reports whether recording the batch must read
// before it writes: to report operational events (what the batch changes),
// or to disable endpoints (whose workspaces' routing then changes).
func readsBeforeRecording(results []store.AttemptResult, streaks []store.Streak) bool {
	for _, r := range results {
		if r.Report && r.Status == store.DeliveryFailed {
			return true
		}
	}
	for _, st := range streaks {
		if st.Report || !st.Ended && !st.DisableIfFailingSince.IsZero() {
			return true
		}
	}
	return false
}

// write is a statement and its arguments.
type write struct {
	sql  string
	args []any
}

// recordingWrites are the statements that record a batch of one round
// that reads nothing first (see readsBeforeRecording), in order.
func recordingWrites(results []store.AttemptResult, streaks []store.Streak) []write {
	var ws []write
	if len(results) > 0 {
		ws = append(ws, write{recordRoundSQL, recordRoundArgs(results)}, write{healthSQL, healthArgs(results)})
	}
	return append(ws, streakWrites(streaks)...)
}

// rounds splits results so that no round names a delivery twice, keeping
// their order.
func rounds(results []store.AttemptResult) [][]store.AttemptResult {
	var out [][]store.AttemptResult
	var seen []map[store.DeliveryID]bool
	for _, r := range results {
		i := 0
		for i < len(out) && seen[i][r.DeliveryID] {
			i++
		}
		if i == len(out) {
			out = append(out, nil)
			seen = append(seen, map[store.DeliveryID]bool{})
		}
		out[i] = append(out[i], r)
		seen[i][r.DeliveryID] = true
	}
	return out
}

// recordRoundSQL moves each delivery on and records its attempt, numbered
// after those recorded (a dispatcher whose lease ran out may record after
// the one that claimed the delivery again). A delivery already final
// stays so: a late result does not undo the attempt that settled it. A
// delivery that no longer exists is skipped. Its arguments are
// recordRoundArgs'; a round names each delivery once.
const recordRoundSQL = `WITH r AS (
		SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::bigint[], $6::int[], $7::text[], $8::text[])
			AS r(delivery_id, status, next_attempt_at, attempted_at, duration_ms, status_code, response, error)
	), d AS (
		UPDATE deliveries SET
			attempts = deliveries.attempts + 1,
			status = CASE WHEN deliveries.status = 'pending' THEN r.status ELSE deliveries.status END,
			next_attempt_at = CASE WHEN deliveries.status = 'pending' THEN r.next_attempt_at ELSE deliveries.next_attempt_at END,
			last_attempt_at = r.attempted_at, last_status_code = r.status_code, last_error = r.error, updated_at = r.attempted_at,
			leased_until = NULL
		FROM r WHERE deliveries.id = r.delivery_id
		RETURNING deliveries.id, deliveries.attempts
	)
	INSERT INTO delivery_attempts (delivery_id, number, attempted_at, duration_ms, status_code, response, error)
	SELECT d.id, d.attempts, r.attempted_at, r.duration_ms, r.status_code, r.response, r.error
	FROM d JOIN r ON r.delivery_id = d.id`

// recordRoundArgs are recordRoundSQL's arguments for round.
func recordRoundArgs(round []store.AttemptResult) []any {
	n := len(round)
	ids, statuses, responses := make([]string, n), make([]string, n), make([]string, n)
	at, next := make([]time.Time, n), make([]*time.Time, n)
	durations, codes := make([]int64, n), make([]*int32, n)
	errs := make([]*string, n)
	for i, r := range round {
		ids[i], statuses[i], responses[i] = string(r.DeliveryID), string(r.Status), r.Attempt.Response
		at[i], durations[i] = r.Attempt.AttemptedAt, r.Attempt.Duration.Milliseconds()
		if r.Status == store.DeliveryPending {
			next[i] = &round[i].NextAttemptAt
		}
		if c := int32(r.Attempt.StatusCode); c != 0 {
			codes[i] = &c
		}
		if e := r.Attempt.Error; e != "" {
			errs[i] = &e
		}
	}
	return []any{ids, statuses, next, at, durations, codes, responses, errs}
}

// recordStreaks applies streaks to their endpoints; a disabled endpoint's
// workspace gets a routing change. It writes the operational events the
// streaks ask for (see lockStreaks, reportStreaks).
func recordStreaks(ctx context.Context, tx pgx.Tx, streaks []store.Streak) error {
	before, err := lockStreaks(ctx, tx, streaks)
	if err != nil {
		return err
	}
	for _, w := range streakWrites(streaks) {
		if _, err := tx.Exec(ctx, w.sql, w.args...); err != nil {
			return err
		}
	}
	var disabling []string
	var lastFailure, disableIfSince []time.Time
	for _, st := range streaks {
		if !st.Ended && !st.DisableIfFailingSince.IsZero() {
			disabling = append(disabling, string(st.EndpointID))
			lastFailure = append(lastFailure, st.LastFailure)
			disableIfSince = append(disableIfSince, st.DisableIfFailingSince)
		}
	}
	disabled := map[store.EndpointID]bool{}
	if len(disabling) > 0 {
		rows, err := tx.Query(ctx, `UPDATE endpoints e SET disabled = true, updated_at = f.last_failure
			FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS f(id, last_failure, disable_if_since)
			WHERE e.id = f.id AND NOT e.disabled AND e.failing_since <= f.disable_if_since
			RETURNING e.workspace_id, e.id`, disabling, lastFailure, disableIfSince)
		wss, err := collect(rows, err, func(row pgx.Row) (store.WorkspaceID, error) {
			var ws store.WorkspaceID
			var id store.EndpointID
			err := row.Scan(&ws, &id)
			disabled[id] = true
			return ws, err
		})
		if err != nil {
			return err
		}
		for _, ws := range slices.Compact(slices.Sorted(slices.Values(wss))) {
			if err := bump(ctx, tx, ws); err != nil { // disabling changes routing
				return err
			}
		}
	}
	return reportStreaks(ctx, tx, streaks, before, disabled)
}

// streakWrites are the statements that apply streaks to their endpoints'
// failure counts and probation: one for the streaks that ended, one for
// those that go on.
func streakWrites(streaks []store.Streak) []write {
	var ended, failing []string
	var since []time.Time
	var restart, endedProbation, failingProbation []bool
	var failures []int32
	for _, st := range streaks {
		if st.Ended {
			ended = append(ended, string(st.EndpointID))
			endedProbation = append(endedProbation, st.Probation)
			continue
		}
		failing = append(failing, string(st.EndpointID))
		since = append(since, st.Since)
		restart = append(restart, st.Restart)
		failingProbation = append(failingProbation, st.Probation)
		failures = append(failures, int32(st.Failures))
	}
	var ws []write
	if len(ended) > 0 {
		ws = append(ws, write{`UPDATE endpoints e SET failing_since = NULL, probation = f.probation, failures = 0
			FROM unnest($1::text[], $2::bool[]) AS f(id, probation)
			WHERE e.id = f.id AND (e.failing_since IS NOT NULL OR e.probation <> f.probation OR e.failures <> 0)`,
			[]any{ended, endedProbation}})
	}
	if len(failing) > 0 {
		ws = append(ws, write{`UPDATE endpoints e SET failing_since = CASE WHEN f.restart THEN f.since ELSE coalesce(e.failing_since, f.since) END,
				probation = f.probation, failures = CASE WHEN f.restart THEN f.failures ELSE e.failures + f.failures END
			FROM unnest($1::text[], $2::timestamptz[], $3::bool[], $4::bool[], $5::int[]) AS f(id, since, restart, probation, failures) WHERE e.id = f.id`,
			[]any{failing, since, restart, failingProbation, failures}})
	}
	return ws
}

// GetDelivery implements store.DeliveryStore.
func (s *Store) GetDelivery(ctx context.Context, ws store.WorkspaceID, id store.DeliveryID) (store.Delivery, []store.Attempt, error) {
	var d store.Delivery
	var attempts []store.Attempt
	err := s.read(ctx, func(tx pgx.Tx) error {
		var err error
		d, err = scanDelivery(tx.QueryRow(ctx, `SELECT `+deliveryColumns+deliveryFrom+`WHERE d.workspace_id = $1 AND d.id = $2`, ws, id))
		if err != nil {
			return notFound(err, id)
		}
		rows, err := tx.Query(ctx, `SELECT number, attempted_at, duration_ms, coalesce(status_code, 0), response, coalesce(error, '')
			FROM delivery_attempts WHERE delivery_id = $1 ORDER BY number`, id)
		attempts, err = collect(rows, err, func(row pgx.Row) (store.Attempt, error) {
			var a store.Attempt
			var dur int64
			err := row.Scan(&a.Number, &a.AttemptedAt, &dur, &a.StatusCode, &a.Response, &a.Error)
			a.AttemptedAt, a.Duration = utc(a.AttemptedAt), time.Duration(dur)*time.Millisecond
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
	order := `AND d.id > $4 ORDER BY d.id LIMIT $5`
	if f.NewestFirst {
		order = `AND ($4 = '' OR d.id < $4) ORDER BY d.id DESC LIMIT $5`
	}
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryColumns+deliveryFrom+`
		WHERE d.workspace_id = $1
			AND ($2 = '' OR d.endpoint_id = $2)
			AND ($3 = '' OR d.status = $3)
			AND ($6 = '' OR d.event_id = $6)
			AND ($7 = '' OR d.endpoint_id IN (SELECT id FROM endpoints WHERE workspace_id = $1 AND application_id = $7))
			AND ($8::timestamptz IS NULL OR d.created_at >= $8)
			AND ($9::timestamptz IS NULL OR d.created_at < $9)
			`+order, ws, string(f.EndpointID), string(f.Status), page.After, page.Limit, string(f.EventID),
		string(f.ApplicationID), timeOrNull(f.Since), timeOrNull(f.Until))
	return collect(rows, err, scanDelivery)
}

// RetryDelivery implements store.DeliveryStore.
func (s *Store) RetryDelivery(ctx context.Context, ws store.WorkspaceID, id store.DeliveryID, at time.Time) (store.Delivery, error) {
	var d store.Delivery
	err := s.transact(ctx, func(tx pgx.Tx) error {
		var status store.DeliveryStatus
		err := tx.QueryRow(ctx, `SELECT status FROM deliveries WHERE workspace_id = $1 AND id = $2 FOR UPDATE`, ws, id).Scan(&status)
		if err != nil {
			return notFound(err, id)
		}
		if err := store.CheckRetryable(status); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = $2, updated_at = $2 WHERE id = $1`, id, at); err != nil {
			return err
		}
		d, err = scanDelivery(tx.QueryRow(ctx, `SELECT `+deliveryColumns+deliveryFrom+`WHERE d.id = $1`, id))
		return err
	})
	return d, err
}

// GetEndpointKeys implements store.DeliveryStore.
func (s *Store) GetEndpointKeys(ctx context.Context, ws store.WorkspaceID, id store.EndpointID) (store.EndpointKeys, error) {
	return getEndpointKeys(ctx, s.pool, ws, id)
}

func getEndpointKeys(ctx context.Context, q querier, ws store.WorkspaceID, id store.EndpointID) (store.EndpointKeys, error) {
	var ks keysScan
	err := q.QueryRow(ctx, `SELECT `+keyColumns+`
		FROM endpoint_keys k JOIN endpoints e ON e.id = k.endpoint_id
		WHERE e.workspace_id = $1 AND e.id = $2`, ws, id).Scan(ks.targets()...)
	return ks.keys(), mapError(notFound(err, id))
}

// RotateEndpointKey implements store.DeliveryStore.
func (s *Store) RotateEndpointKey(ctx context.Context, ws store.WorkspaceID, id store.EndpointID, key []byte, previousUntil time.Time) (store.EndpointKeys, error) {
	var k store.EndpointKeys
	err := s.transact(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE endpoint_keys k SET previous_key = current_key, previous_until = $1, current_key = $2
			FROM endpoints e WHERE e.id = k.endpoint_id AND e.workspace_id = $3 AND e.id = $4`, previousUntil, key, ws, id)
		if err := affected(tag, err, id); err != nil {
			return err
		}
		k, err = getEndpointKeys(ctx, tx, ws, id)
		return err
	})
	return k, err
}

// PruneEvents implements store.DeliveryStore.
func (s *Store) PruneEvents(ctx context.Context, before store.EventID, limit int) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM events WHERE id IN (
		SELECT id FROM events ev WHERE ev.id < $1
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = ev.id AND d.status = 'pending')
		LIMIT $2)`, before, limit)
	return int(tag.RowsAffected()), mapError(err)
}
