package sqlite

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
	var oldest int64
	err := s.r.QueryRowContext(ctx, `WITH due AS (
			SELECT count(*) AS n, coalesce(min(d.next_attempt_at), 0) AS oldest
			FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
			WHERE d.status = 'pending' AND d.next_attempt_at <= ?1 AND e.disabled = 0
		), eps AS (
			SELECT coalesce(sum(disabled = 0), 0) AS enabled, coalesce(sum(disabled = 0 AND probation = 1), 0) AS probation,
				coalesce(sum(disabled = 1), 0) AS disabled
			FROM endpoints
		)
		SELECT (SELECT count(*) FROM deliveries WHERE status = 'pending'),
			(SELECT count(*) FROM deliveries WHERE leased_until > ?1),
			due.n, due.oldest, eps.enabled, eps.probation, eps.disabled
		FROM due, eps`, ms(now)).Scan(&st.Pending, &st.InFlight, &st.Due, &oldest,
		&st.Endpoints, &st.EndpointsOnProbation, &st.EndpointsDisabled)
	if err != nil {
		return store.Stats{}, mapError(err)
	}
	if st.Due > 0 {
		st.OldestDue = utc(oldest)
	}
	return st, nil
}
