package store

import (
	"context"
	"time"
)

// Stats is the outbox as a whole, at one moment: what an operator's
// gauges show. It spans every workspace, and every process sharing the
// database sees the same figures.
type Stats struct {
	// Pending counts the deliveries not yet done: due, waiting for a
	// retry, or in flight.
	Pending int
	// Due counts the pending deliveries of enabled endpoints due now and
	// not in flight: the backlog the dispatchers have yet to take.
	Due int
	// InFlight counts the deliveries leased now: attempts under way in
	// some process (or whose dispatcher died, until their lease ends).
	InFlight int
	// OldestDue is when the longest-waiting of the Due deliveries fell
	// due; zero when none is.
	OldestDue time.Time
	// Endpoints counts the enabled endpoints; EndpointsOnProbation those
	// of them on probation (new, failing or slow: see
	// AttemptResult.Probation); EndpointsDisabled the disabled ones.
	Endpoints            int
	EndpointsOnProbation int
	EndpointsDisabled    int
}

// StatsStore reads the outbox's figures.
type StatsStore interface {
	// Stats returns the outbox as it stands at now. A delivery of a
	// disabled endpoint is pending but never due: it waits for the
	// endpoint to be enabled, and must not look like a stalled
	// dispatcher. Its cost grows with the pending deliveries: it is for a
	// gauge read every few seconds, not for every event.
	Stats(ctx context.Context, now time.Time) (Stats, error)
}
