package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nahook/nahook/store"
)

// recordHealth adds the recorded results to the endpoint-health rollup in
// one statement, an upsert of the rows they add to, in key order (see
// store.HealthRows).
func recordHealth(ctx context.Context, tx pgx.Tx, recorded []store.AttemptResult) error {
	rows := store.HealthRows(recorded)
	if len(rows) == 0 {
		return nil
	}
	n := len(rows)
	eps, minutes, latencies := make([]string, n), make([]int64, n), make([]int32, n)
	attempts, succeeded := make([]int32, n), make([]int32, n)
	for i, r := range rows {
		eps[i], minutes[i], latencies[i] = string(r.EndpointID), r.Minute, int32(r.Latency.Milliseconds())
		attempts[i], succeeded[i] = int32(r.Attempts), int32(r.Succeeded)
	}
	_, err := tx.Exec(ctx, `INSERT INTO endpoint_health AS h (endpoint_id, minute, latency_ms, attempts, succeeded)
		SELECT e, m, l, a, s FROM unnest($1::text[], $2::bigint[], $3::int[], $4::int[], $5::int[]) WITH ORDINALITY AS r(e, m, l, a, s, i)
		ORDER BY i
		ON CONFLICT (endpoint_id, minute, latency_ms) DO UPDATE SET
			attempts = h.attempts + excluded.attempts, succeeded = h.succeeded + excluded.succeeded`,
		eps, minutes, latencies, attempts, succeeded)
	return err
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
