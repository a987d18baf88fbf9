// Operational events: what happened to an endpoint or a delivery that the
// host program should hear about (an endpoint disabled, failing or
// recovered; a delivery given up), the outbox RecordAttempts writes them
// to, and the store methods that hand them out.

package store

import (
	"context"
	"time"

	"github.com/nahook/nahook/internal/typeid"
)

// OperationalEventID identifies an operational event: "op_…". It is the
// webhook-id of the event's operational webhook, the same on every try.
type OperationalEventID string

// OperationalEventPrefix is the prefix of every OperationalEventID.
const OperationalEventPrefix = "op"

// NewOperationalEventID returns a fresh ID. IDs sort by the time they were
// made, so the outbox hands events out roughly in the order they happened.
// Adapters make them inside RecordAttempts, which alone knows whether an
// event happened.
func NewOperationalEventID() OperationalEventID {
	return OperationalEventID(typeid.New(OperationalEventPrefix))
}

// OperationalEventType says what happened.
type OperationalEventType string

// Operational event types, named as Svix and Convoy name theirs.
const (
	// EndpointDisabled: nahook disabled the endpoint because every attempt
	// to it had failed for DeliveryConfig.DisableAfter. It receives nothing
	// until enabled again.
	EndpointDisabled OperationalEventType = "endpoint.disabled"
	// EndpointFailing: the endpoint's consecutive failed attempts reached
	// DeliveryConfig.FailingAfter. Reported once per failure streak.
	EndpointFailing OperationalEventType = "endpoint.failing"
	// EndpointRecovered: an attempt succeeded, ending a failure streak that
	// had been reported as endpoint.failing.
	EndpointRecovered OperationalEventType = "endpoint.recovered"
	// DeliveryExhausted: a delivery failed for good, its last retry used
	// or its endpoint's answer not worth retrying. It can still be retried
	// by hand.
	DeliveryExhausted OperationalEventType = "delivery.exhausted"
)

// OperationalEvent is one thing that happened, as the outbox keeps it
// until the host has heard of it.
type OperationalEvent struct {
	ID   OperationalEventID
	Type OperationalEventType
	// WorkspaceID, EnvironmentID and EndpointID name the endpoint it
	// happened to (or whose delivery it happened to); ApplicationID is the
	// application that owns the endpoint, the customer to tell, or empty
	// for an endpoint of none.
	WorkspaceID   WorkspaceID
	EnvironmentID EnvironmentID
	ApplicationID ApplicationID
	EndpointID    EndpointID
	// DeliveryID and EventID name the delivery given up and its event, for
	// delivery.exhausted; empty otherwise.
	DeliveryID DeliveryID
	EventID    EventID
	// FailingSince is when the endpoint's failure streak began: the streak
	// that disabled it, that it reached endpoint.failing with, or that it
	// recovered from. Zero for delivery.exhausted.
	FailingSince time.Time
	// Failures counts attempts: the streak's consecutive failures for the
	// endpoint events (for endpoint.recovered, the streak that ended), the
	// delivery's attempts for delivery.exhausted.
	Failures int
	// At is when it happened: the time of the attempt that caused it.
	At time.Time
	// Attempts counts the times the outbox has handed the event out, the
	// time that returned it included: 1 the first time. More means an
	// earlier try failed, or its lease ran out, and the host may have seen
	// the event already.
	Attempts int
}

// OperationalEventStore is the outbox of operational events.
// RecordAttempts writes them, only on a real transition and only when
// asked (see Streak.Report and AttemptResult.Report); these methods hand
// them out, at least once each.
type OperationalEventStore interface {
	// ClaimOperationalEvents leases up to limit of the events available
	// at now, oldest first, until now+lease, counting the claim in each
	// one's Attempts, and returns them. An event is leased to one caller
	// at a time, in this process or another; one whose lease runs out
	// unacknowledged is available again.
	ClaimOperationalEvents(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OperationalEvent, error)
	// AckOperationalEvent removes the event: the host has heard of it. An
	// event already removed is not an error.
	AckOperationalEvent(ctx context.Context, id OperationalEventID) error
	// RetryOperationalEvent ends the event's lease and makes it available
	// again at at, after a failed try. An event already removed is not an
	// error.
	RetryOperationalEvent(ctx context.Context, id OperationalEventID, at time.Time) error
}

// Reports says which of the failure-streak events applying s reports,
// given the endpoint's consecutive failed attempts before it and after it:
// endpoint.failing when the count reaches s.FailingAfter (crossing it in
// this batch, or afresh after a success in it ended the previous streak),
// endpoint.recovered when a success in the batch ended a streak that had
// reached it. A streak that both reaches FailingAfter and ends within one
// batch reports neither, so the host never hears of a recovery from a
// failure it was not told of. Adapters read before and after inside the
// RecordAttempts transaction, with the endpoint's row held, so that two
// recorders never report one transition twice; none is reported unless
// s.Report and s.FailingAfter > 0.
func (s Streak) Reports(before, after int) (failing, recovered bool) {
	n := s.FailingAfter
	if !s.Report || n <= 0 {
		return false, false
	}
	if s.Ended || s.Restart {
		return after >= n, before >= n
	}
	return before < n && after >= n, false
}

// EndpointStreak is an endpoint's failure streak as its row holds it: what
// an adapter reads, inside RecordAttempts's transaction and with the row
// held, before and after applying a Streak.
type EndpointStreak struct {
	WorkspaceID   WorkspaceID
	EnvironmentID EnvironmentID
	ApplicationID ApplicationID
	// Failures counts its consecutive failed attempts.
	Failures int
	// FailingSince is when its failure streak began; zero when it is not
	// failing.
	FailingSince time.Time
}

// Events returns the operational events applying s caused to its
// endpoint, whose streak was before and is now after, disabled telling
// whether this application disabled it (the adapter's conditional update
// did): endpoint.recovered, endpoint.failing (see Reports) and
// endpoint.disabled, in that order, with fresh IDs. None unless s.Report.
func (s Streak) Events(before, after EndpointStreak, disabled bool) []OperationalEvent {
	if !s.Report {
		return nil
	}
	event := func(typ OperationalEventType, st EndpointStreak, at time.Time) OperationalEvent {
		return OperationalEvent{ID: NewOperationalEventID(), Type: typ, WorkspaceID: st.WorkspaceID, EnvironmentID: st.EnvironmentID,
			ApplicationID: st.ApplicationID, EndpointID: s.EndpointID, FailingSince: st.FailingSince, Failures: st.Failures, At: at}
	}
	var evs []OperationalEvent
	failing, recovered := s.Reports(before.Failures, after.Failures)
	if recovered {
		evs = append(evs, event(EndpointRecovered, before, s.EndedAt))
	}
	if failing {
		evs = append(evs, event(EndpointFailing, after, s.LastFailure))
	}
	if disabled {
		evs = append(evs, event(EndpointDisabled, after, s.LastFailure))
	}
	return evs
}
