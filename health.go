// Endpoint health: success rate, attempt count and latency percentiles of
// an endpoint over the last hour and day, read from the compact rollup
// the store keeps as it records attempts.

package nahook

import (
	"context"
	"time"

	"github.com/nahook/nahook/store"
)

// EndpointHealth is how an endpoint's attempts have fared lately: over the
// last hour and the last day before At. Windows are counted in whole
// minutes: the last hour is the minute of At and the 59 before it, the
// last day that minute and the 1439 before it. Every attempt recorded
// counts, retries included, whichever delivery it was for.
type EndpointHealth struct {
	EndpointID EndpointID
	// At is when the figures were read (Config.Now), to the millisecond.
	At       time.Time
	LastHour HealthWindow
	LastDay  HealthWindow
}

// HealthWindow is an endpoint's attempts in one window. An attempt
// succeeded when the endpoint answered it 2xx; any other answer, a
// timeout or no connection at all is a failure.
type HealthWindow struct {
	Attempts  int
	Succeeded int
	Failed    int
	// SuccessRate is Succeeded / Attempts, from 0 to 1; it means nothing,
	// and is 0, when Attempts is 0.
	SuccessRate float64
	// P50 and P99 are the median and 99th-percentile latency of the
	// attempts (nearest rank), from dialing to the end of reading the
	// answer. Latencies are kept in buckets (see store.LatencyBucket): a
	// percentile is its bucket's upper bound, at most about 9% above the
	// true figure (to the millisecond, rounded down), never below it.
	// Both are 0 when Attempts is 0.
	P50, P99 time.Duration
}

// Health returns the endpoint's health: attempts, success rate and
// latency over the last hour and day. It reads a compact rollup, so it
// costs the same whatever the endpoint's volume. An endpoint not in the
// workspace is ErrNotFound.
func (s *EndpointService) Health(ctx context.Context, ws WorkspaceID, id EndpointID) (EndpointHealth, error) {
	if _, err := s.Get(ctx, ws, id); err != nil {
		return EndpointHealth{}, err
	}
	return s.health(ctx, id)
}

// health reads the health of an endpoint already found in scope.
func (s *EndpointService) health(ctx context.Context, id EndpointID) (EndpointHealth, error) {
	now := s.c.now()
	buckets, err := s.c.store.EndpointHealth(ctx, id, now)
	if err != nil {
		return EndpointHealth{}, err
	}
	hour := make([]latencyCount, 0, len(buckets))
	day := make([]latencyCount, 0, len(buckets))
	for _, b := range buckets {
		hour = append(hour, latencyCount{b.Latency, b.HourAttempts, b.HourSucceeded})
		day = append(day, latencyCount{b.Latency, b.DayAttempts, b.DaySucceeded})
	}
	return EndpointHealth{EndpointID: id, At: now, LastHour: healthWindow(hour), LastDay: healthWindow(day)}, nil
}

// EndpointHealth returns the health of one of the application's endpoints,
// as EndpointService.Health does.
func (p *Portal) EndpointHealth(ctx context.Context, id EndpointID) (EndpointHealth, error) {
	if _, err := p.GetEndpoint(ctx, id); err != nil {
		return EndpointHealth{}, err
	}
	return p.c.Endpoints.health(ctx, id)
}

// latencyCount is one latency bucket's attempts in a window.
type latencyCount struct {
	latency             time.Duration
	attempts, succeeded int
}

// healthWindow sums a window's buckets, given in ascending latency.
func healthWindow(buckets []latencyCount) HealthWindow {
	var w HealthWindow
	for _, b := range buckets {
		w.Attempts += b.attempts
		w.Succeeded += b.succeeded
	}
	if w.Attempts == 0 {
		return w
	}
	w.Failed = w.Attempts - w.Succeeded
	w.SuccessRate = float64(w.Succeeded) / float64(w.Attempts)
	w.P50 = percentile(buckets, w.Attempts, 50)
	w.P99 = percentile(buckets, w.Attempts, 99)
	return w
}

// percentile returns the latency bucket holding the attempt of nearest
// rank ⌈pct/100 × total⌉, in ascending latency.
func percentile(buckets []latencyCount, total, pct int) time.Duration {
	rank := (pct*total + 99) / 100
	seen := 0
	for _, b := range buckets {
		seen += b.attempts
		if b.attempts > 0 && seen >= rank {
			return b.latency
		}
	}
	return 0
}

// pruneHealth deletes the endpoint-health rollup's rows older than
// store.HealthRetention, which no health read looks at.
func (d *dispatcher) pruneHealth(ctx context.Context) {
	before := d.c.cfg.Now().Add(-store.HealthRetention)
	for {
		n, err := d.c.store.PruneEndpointHealth(ctx, before, 1000)
		if err != nil {
			if ctx.Err() == nil {
				d.c.cfg.Logger.Warn("nahook: pruning old endpoint health failed", "err", err)
			}
			return
		}
		if n < 1000 {
			return
		}
	}
}
