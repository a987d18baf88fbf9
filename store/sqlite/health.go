package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/nahook/nahook/store"
)

// recordHealth adds the recorded results to the endpoint-health rollup,
// one upsert per row they add to.
func recordHealth(ctx context.Context, tx *sql.Tx, recorded []store.AttemptResult) error {
	for _, row := range store.HealthRows(recorded) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO endpoint_health (endpoint_id, minute, latency_ms, attempts, succeeded)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (endpoint_id, minute, latency_ms) DO UPDATE SET
				attempts = attempts + excluded.attempts, succeeded = succeeded + excluded.succeeded`,
			row.EndpointID, row.Minute, row.Latency.Milliseconds(), row.Attempts, row.Succeeded); err != nil {
			return err
		}
	}
	return nil
}

// EndpointHealth implements store.HealthStore: the sums over the
// endpoint's rows of the last day, a range of its primary key.
func (s *Store) EndpointHealth(ctx context.Context, ep store.EndpointID, now time.Time) ([]store.HealthBucket, error) {
	minute := store.HealthMinute(now)
	rows, err := s.r.QueryContext(ctx, `SELECT latency_ms,
			sum(CASE WHEN minute > ?1 THEN attempts ELSE 0 END), sum(CASE WHEN minute > ?1 THEN succeeded ELSE 0 END),
			sum(attempts), sum(succeeded)
		FROM endpoint_health WHERE endpoint_id = ?2 AND minute > ?3 AND minute <= ?4
		GROUP BY latency_ms ORDER BY latency_ms`, minute-60, ep, minute-1440, minute)
	out, err := collect(rows, err, func(row interface{ Scan(...any) error }) (store.HealthBucket, error) {
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
	var n int64
	err := s.transact(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM endpoint_health WHERE (endpoint_id, minute, latency_ms) IN (
			SELECT endpoint_id, minute, latency_ms FROM endpoint_health WHERE minute < ? LIMIT ?)`, store.HealthMinute(before), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
