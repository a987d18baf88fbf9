package postgres

import (
	"context"
	"time"

	"github.com/nahook/nahook/store"
)

// Stats implements store.StatsStore. The counts read the partial indexes
// of pending and leased deliveries; only the due ones are joined to their
// endpoints, to leave out the disabled.
func (s *Store) Stats(ctx context.Context, now time.Time) (store.Stats, error) {
	var st store.Stats
	var oldest *time.Time
	err := s.pool.QueryRow(ctx, `WITH due AS (
			SELECT count(*) AS n, min(d.next_attempt_at) AS oldest
			FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
			WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND NOT e.disabled
		), eps AS (
			SELECT count(*) FILTER (WHERE NOT disabled) AS enabled,
				count(*) FILTER (WHERE NOT disabled AND probation) AS probation,
				count(*) FILTER (WHERE disabled) AS disabled
			FROM endpoints
		)
		SELECT (SELECT count(*) FROM deliveries WHERE status = 'pending'),
			(SELECT count(*) FROM deliveries WHERE leased_until > $1),
			due.n, due.oldest, eps.enabled, eps.probation, eps.disabled
		FROM due, eps`, now).Scan(&st.Pending, &st.InFlight, &st.Due, &oldest,
		&st.Endpoints, &st.EndpointsOnProbation, &st.EndpointsDisabled)
	if err != nil {
		return store.Stats{}, mapError(err)
	}
	if oldest != nil {
		st.OldestDue = utc(*oldest)
	}
	return st, nil
}
