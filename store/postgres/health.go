package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nahook/nahook/store"
)

// healthSQL adds attempts to the endpoint-health rollup: those of
// healthArgs' results whose deliveries exist (the ones recorded, in the
// transaction that recorded them), summed by endpoint, minute and latency
// bucket, and written in that order (bytewise, as store.HealthRows sorts),
// so that batches recorded at once lock shared rows in one order and
// cannot deadlock on them.
const healthSQL = `INSERT INTO endpoint_health AS h (endpoint_id, minute, latency_ms, attempts, succeeded)
	SELECT r.e, r.m, r.l, count(*), count(*) FILTER (WHERE r.s)
	FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[], $5::bool[]) AS r(d, e, m, l, s)
	WHERE EXISTS (SELECT FROM deliveries WHERE id = r.d)
	GROUP BY r.e, r.m, r.l
	ORDER BY r.e COLLATE "C", r.m, r.l
	ON CONFLICT (endpoint_id, minute, latency_ms) DO UPDATE SET
		attempts = h.attempts + excluded.attempts, succeeded = h.succeeded + excluded.succeeded`

// healthArgs are healthSQL's arguments for results.
func healthArgs(results []store.AttemptResult) []any {
	n := len(results)
	ds, eps, minutes, latencies, succeeded := make([]string, n), make([]string, n), make([]int64, n), make([]int32, n), make([]bool, n)
	for i, r := range results {
		ds[i], eps[i] = string(r.DeliveryID), string(r.EndpointID)
		minutes[i], latencies[i] = store.HealthMinute(r.Attempt.AttemptedAt), int32(store.LatencyBucket(r.Attempt.Duration).Milliseconds())
		succeeded[i] = r.Attempt.Succeeded()
	}
	return []any{ds, eps, minutes, latencies, succeeded}
}

// EndpointHealth implements store.HealthStore: the sums over the
// endpoint's rows of the last day, a range of its primary key.
func (s *Store) EndpointHealth(ctx context.Context, ep store.EndpointID, now time.Time) ([]store.HealthBucket, error) {
	minute := store.HealthMinute(now)
	rows, err := s.pool.Query(ctx, `SELECT latency_ms,
			sum(CASE WHEN minute > $1 THEN attempts ELSE 0 END), sum(CASE WHEN minute > $1 THEN succeeded ELSE 0 END),
			sum(attempts), sum(succeeded)
		FROM endpoint_health WHERE endpoint_id = $2 AND minute > $3 AND minute <= $4
		GROUP BY latency_ms ORDER BY latency_ms`, minute-60, ep, minute-1440, minute)
	out, err := collect(rows, err, func(row pgx.Row) (store.HealthBucket, error) {
		var b store.HealthBucket
		var latency int64
		err := row.Scan(&latency, &b.HourAttempts, &b.HourSucceeded, &b.DayAttempts, &b.DaySucceeded)
		b.Latency = time.Duration(latency) * time.Millisecond
		return b, err
	})
	if out == nil && err == nil {
		out = []store.HealthBucket{}
	}
	return out, err
}

// PruneEndpointHealth implements store.HealthStore.
func (s *Store) PruneEndpointHealth(ctx context.Context, before time.Time, limit int) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM endpoint_health WHERE (endpoint_id, minute, latency_ms) IN (
		SELECT endpoint_id, minute, latency_ms FROM endpoint_health WHERE minute < $1 LIMIT $2)`, store.HealthMinute(before), limit)
	return int(tag.RowsAffected()), mapError(err)
}
