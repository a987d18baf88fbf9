package store

import (
	"context"
	"slices"
	"time"
)

type (
	// EventID identifies an ingested event: "msg_…". It is the webhook-id
	// every delivery of the event carries.
	EventID string
	// DeliveryID identifies a delivery: "dlv_…".
	DeliveryID string
)

// Event is an ingested event, stored before ingestion returns.
type Event struct {
	ID            EventID
	WorkspaceID   WorkspaceID
	EnvironmentID EnvironmentID
	// EventType is empty for an event sent straight to one endpoint.
	EventType string
	// EndpointID is the endpoint an event sent straight to one names;
	// empty for an event routed by its type.
	EndpointID EndpointID
	// ApplicationID is the application the event was sent for, whose
	// endpoints alone receive it; empty when it was sent for none.
	ApplicationID ApplicationID
	// Broadcast reports an event for no application sent to every
	// subscribed endpoint, whoever owns it.
	Broadcast bool
	// Payload is the JSON body, byte for byte as ingested: what is signed
	// and sent.
	Payload []byte
	// IdempotencyKey is the key the event was ingested with, or empty.
	IdempotencyKey string
	CreatedAt      time.Time
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// Delivery statuses.
const (
	// DeliveryPending: not yet delivered; attempted when due.
	DeliveryPending DeliveryStatus = "pending"
	// DeliverySucceeded: the endpoint answered 2xx.
	DeliverySucceeded DeliveryStatus = "succeeded"
	// DeliveryFailed: given up, after the last retry or an answer not worth
	// retrying. It can be retried by hand.
	DeliveryFailed DeliveryStatus = "failed"
)

// Delivery is one event on its way to one endpoint.
type Delivery struct {
	ID          DeliveryID
	WorkspaceID WorkspaceID
	EventID     EventID
	EventType   string
	EndpointID  EndpointID
	Status      DeliveryStatus
	Attempts    int
	// SeriesStart is how many attempts were made before the current
	// series of retries: 0, until the delivery is resent or recovered,
	// which starts the retry schedule over (attempts are numbered on).
	SeriesStart   int
	NextAttemptAt time.Time // zero unless pending
	// The last attempt, for lists; zero values before the first.
	LastAttemptAt  time.Time
	LastStatusCode int
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Attempt is one try of a delivery.
type Attempt struct {
	Number      int
	AttemptedAt time.Time
	Duration    time.Duration // kept to the millisecond
	// StatusCode is the endpoint's answer, or 0 when there was none.
	StatusCode int
	// Response is the start of the answer's body.
	Response string
	// Error says why the attempt failed, or is empty.
	Error string
}

// Dispatch is a delivery leased to a dispatcher, with all it needs to make
// an attempt.
type Dispatch struct {
	Delivery Delivery
	URL      string
	Payload  []byte
	// Keys are the endpoint's signing keys as stored; Keys.Signing says
	// which sign an attempt.
	Keys EndpointKeys
}

// AttemptResult is an attempt made and what it decided.
type AttemptResult struct {
	DeliveryID  DeliveryID
	WorkspaceID WorkspaceID
	EndpointID  EndpointID
	Attempt     Attempt
	// Status is the delivery's new status: succeeded, failed, or pending
	// again, to be retried at NextAttemptAt.
	Status        DeliveryStatus
	NextAttemptAt time.Time
	// Probation puts the endpoint on probation (the attempt failed, or
	// took too long), or, when false, ends it.
	Probation bool
	// Report asks RecordAttempts to write a delivery.exhausted operational
	// event if this result is what fails the delivery (moves it from
	// pending to failed); nahook sets it when the host hears of
	// operational events.
	Report bool
}

// DueEndpoint is an endpoint with deliveries due, as DueEndpoints reports
// it.
type DueEndpoint struct {
	EndpointID  EndpointID
	WorkspaceID WorkspaceID
	// ApplicationID is the application that owns the endpoint, or empty.
	ApplicationID ApplicationID
	// Due counts its deliveries due, up to the upTo asked for.
	Due int
	// InFlight counts its deliveries leased now, by any caller in any
	// process, up to the upTo asked for.
	InFlight int
	// Probation: the endpoint is new, or the last attempt recorded for it
	// failed or was slow (see AttemptResult.Probation).
	Probation bool
	// DueSince is when its earliest delivery due fell due.
	DueSince time.Time
}

// ClaimRequest asks ClaimDeliveries for one endpoint's due deliveries.
type ClaimRequest struct {
	EndpointID EndpointID
	// Want is how many to lease at most.
	Want int
	// MaxInFlight caps the endpoint's leased deliveries, counting those
	// leased by every caller in every process.
	MaxInFlight int
	// Finished are deliveries of the endpoint, leased by this caller,
	// whose attempts have ended and whose results are yet to be recorded:
	// they are in flight no more, and do not count against MaxInFlight.
	Finished []DeliveryID
}

// EndpointKeys are an endpoint's signing keys.
type EndpointKeys struct {
	Current []byte
	// Previous signs too until PreviousUntil, after a rotation; nil
	// otherwise.
	Previous      []byte
	PreviousUntil time.Time
}

// Signing returns the keys that sign a message sent at at: the current
// key, then the previous one while its grace period lasts.
func (k EndpointKeys) Signing(at time.Time) [][]byte {
	keys := [][]byte{k.Current}
	if k.Previous != nil && k.PreviousUntil.After(at) {
		keys = append(keys, k.Previous)
	}
	return keys
}

// DeliveryFilter narrows ListDeliveries. Empty fields do not filter.
type DeliveryFilter struct {
	EndpointID EndpointID
	// EventID lists one event's deliveries.
	EventID EventID
	// ApplicationID lists the deliveries to the application's endpoints.
	ApplicationID ApplicationID
	Status        DeliveryStatus
	// Since and Until bound when the deliveries were made (CreatedAt),
	// Until excluded; zero bounds nothing.
	Since, Until time.Time
	// NewestFirst lists the newest deliveries first; PageRequest.After is then
	// the last ID of the previous page in that order, and older ones
	// follow it.
	NewestFirst bool
}

// IngestItem is an event for IngestBatch, with its deliveries (ID and
// EndpointID set), as Ingest takes them.
type IngestItem struct {
	Event      Event
	Deliveries []Delivery
}

// IngestResult is what IngestBatch did with one item: the event and the
// deliveries it stored or, Replayed, those of the event first stored with
// its idempotency key.
type IngestResult struct {
	Event      Event
	Deliveries []Delivery
	Replayed   bool
}

// EventFilter narrows ListEvents. Empty fields do not filter.
type EventFilter struct {
	EnvironmentID EnvironmentID
	EventType     string
	// ApplicationID lists the events sent for the application.
	ApplicationID ApplicationID
	// Since and Until bound when the events were made (CreatedAt), Until
	// excluded; zero bounds nothing.
	Since, Until time.Time
	NewestFirst  bool
}

// DeliveryStore is the outbox: events, their deliveries and every attempt.
type DeliveryStore interface {
	// Ingest stores ev and, for every delivery given (ID and EndpointID
	// set), a pending delivery due at ev.CreatedAt, in one transaction, and
	// returns the deliveries stored. The event is stored whole, its
	// target (EndpointID, ApplicationID) included. A delivery to an
	// endpoint that no longer exists is left out. When ev.IdempotencyKey is set and the
	// environment already has an event with that key, nothing is stored:
	// Ingest returns that event and its deliveries, with replayed true,
	// however many callers race with the same key. Ingesting changes no
	// routing version.
	Ingest(ctx context.Context, ev Event, ds []Delivery) (stored Event, deliveries []Delivery, replayed bool, err error)
	// IngestBatch is Ingest of every item in one transaction: it returns a
	// result per item, in order, each as Ingest would have answered it
	// alone. Items may share an idempotency key (within an environment):
	// the first stores its event, the others replay it. Any error fails
	// the whole batch and stores nothing of it; a caller that must not
	// let one item fail the others ingests them again one by one. An
	// empty batch is no error.
	IngestBatch(ctx context.Context, items []IngestItem) ([]IngestResult, error)
	// GetEvent returns the event, or ErrNotFound.
	GetEvent(ctx context.Context, ws WorkspaceID, id EventID) (Event, error)
	// ListEvents returns the workspace's events that match f, in ID order,
	// ascending or, with f.NewestFirst, descending (see PageRequest and
	// DeliveryFilter.NewestFirst). A listed event has no Payload: a page
	// of them stays small whatever was sent; GetEvent reads it.
	ListEvents(ctx context.Context, ws WorkspaceID, f EventFilter, page PageRequest) ([]Event, error)
	// GetEventByIdempotencyKey returns the environment's event ingested
	// with the idempotency key, with its deliveries, or ErrNotFound.
	GetEventByIdempotencyKey(ctx context.Context, ws WorkspaceID, env EnvironmentID, key string) (Event, []Delivery, error)

	// DueEndpoints returns the enabled endpoints that have pending
	// deliveries due at now: at most limit of them, earliest due first,
	// each with how many are due and how many are leased now, by any
	// process (both counted up to upTo), and whether it is on probation. Its cost
	// grows with the number of endpoints that have pending deliveries, not
	// with their number: a backlog of any size at one endpoint is one
	// step.
	DueEndpoints(ctx context.Context, now time.Time, upTo, limit int) ([]DueEndpoint, error)
	// ClaimDeliveries leases, for each request, up to Want of the
	// endpoint's deliveries due at now, earliest due first, until
	// now+lease, and returns them ready to send. It leases no more than
	// keep the endpoint's leased deliveries within MaxInFlight, counting
	// those leased by every caller in every process: callers claiming for
	// one endpoint at once together stay within it. No delivery is leased
	// to two callers at once; one whose lease ends unrecorded (its
	// dispatcher died) is due again, and no longer counts as leased. A
	// disabled endpoint's deliveries are not claimed, nor any request's
	// for an endpoint another caller is claiming for at that moment (it is
	// skipped, not waited for).
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, requests []ClaimRequest) ([]Dispatch, error)
	// ClaimAndLook is ClaimDeliveries, then DueEndpoints(now, upTo,
	// limit) as the endpoints stand once the claim has leased what it
	// returns: what a dispatcher plans its next claim from, so that a
	// busy one needs no look of its own between claims. A store across a
	// network answers both in one round trip. If the look fails once the
	// claim is made, it may return the claim and no endpoints: the caller
	// then looks for itself.
	ClaimAndLook(ctx context.Context, now time.Time, lease time.Duration, requests []ClaimRequest, upTo, limit int) ([]Dispatch, []DueEndpoint, error)
	// RecordAttempts stores the attempts and their deliveries' new states,
	// ending their leases, in the order given, and applies streaks, what
	// nahook decided the attempts do to their endpoints (see Streak), all
	// in one transaction. Disabling an endpoint is a routing change. A
	// result for a delivery that no longer exists is ignored, and so is a
	// streak of an endpoint that no longer exists. In the same
	// transaction it writes the operational events asked for (see
	// AttemptResult.Report, Streak.Report) that the batch causes, each on
	// a transition that this call made, however many callers in however
	// many processes record at once: a delivery.exhausted only for a
	// delivery it moved from pending to failed, an endpoint.disabled only
	// for an endpoint it disabled, endpoint.failing and endpoint.recovered
	// as Streak.Reports decides from the endpoint's count of consecutive
	// failures before and after this call. In the same transaction it
	// adds every attempt it records to the endpoint-health rollup (see
	// HealthStore, HealthRows); an ignored result adds nothing, and no
	// result fails for want of its endpoint.
	RecordAttempts(ctx context.Context, results []AttemptResult, streaks []Streak) error

	// GetDelivery returns the delivery with its attempts in order, or
	// ErrNotFound.
	GetDelivery(ctx context.Context, ws WorkspaceID, id DeliveryID) (Delivery, []Attempt, error)
	// ListDeliveries returns the workspace's deliveries that match f, in
	// ascending ID order (see PageRequest).
	ListDeliveries(ctx context.Context, ws WorkspaceID, f DeliveryFilter, page PageRequest) ([]Delivery, error)
	// RetryDelivery makes a failed delivery pending again, due at at, and
	// returns it. It returns ErrNotFound, or ErrConflict when the
	// delivery has not failed.
	RetryDelivery(ctx context.Context, ws WorkspaceID, id DeliveryID, at time.Time) (Delivery, error)

	// GetEndpointKeys returns the endpoint's signing keys, or ErrNotFound.
	GetEndpointKeys(ctx context.Context, ws WorkspaceID, id EndpointID) (EndpointKeys, error)
	// RotateEndpointKey makes key the endpoint's current signing key and
	// the current one its previous, signing until previousUntil, and
	// returns the keys as they now are; or ErrNotFound.
	RotateEndpointKey(ctx context.Context, ws WorkspaceID, id EndpointID, key []byte, previousUntil time.Time) (EndpointKeys, error)

	// PruneEvents deletes up to limit events whose IDs sort before before,
	// with their deliveries and attempts, unless a delivery is still
	// pending, and returns how many it deleted. Event IDs are time-ordered
	// (UUIDv7), so before names a time: nahook passes the smallest ID of
	// the retention's start.
	PruneEvents(ctx context.Context, before EventID, limit int) (int, error)
}

// Streak is what a batch of attempt results does to one endpoint's failure
// streak and probation, as Streaks works it out: what RecordAttempts
// applies, without deciding anything itself.
type Streak struct {
	EndpointID  EndpointID
	WorkspaceID WorkspaceID
	// Ended: the batch's last attempt to the endpoint succeeded, so it is
	// failing no more. Since, Restart, LastFailure and
	// DisableIfFailingSince then do not apply.
	Ended bool
	// Since is the first failure after the batch's last success (or its
	// first failure, without one). The endpoint is failing since Since if
	// Restart (a success in the batch ended the streak before it), and
	// otherwise since the start of a streak it was already in, or Since.
	Since   time.Time
	Restart bool
	// LastFailure is the batch's last failed attempt to the endpoint.
	LastFailure time.Time
	// DisableIfFailingSince, unless zero, disables the endpoint, as of
	// LastFailure, if it is failing since then or earlier (as Since and
	// Restart leave it).
	DisableIfFailingSince time.Time
	// Probation is the batch's last attempt's AttemptResult.Probation.
	Probation bool
	// Failures counts the batch's failed attempts after its last success
	// (all of them, without one): what the endpoint's count of
	// consecutive failures grows by, from zero if a success in the batch
	// ended the streak (Ended, Restart).
	Failures int
	// EndedAt is the batch's first success, which ended the streak the
	// endpoint was in, if any; zero unless Ended or Restart.
	EndedAt time.Time
	// Report asks RecordAttempts to write the operational events the
	// streak causes: endpoint.disabled, and, when FailingAfter > 0,
	// endpoint.failing and endpoint.recovered (see Reports). Streaks
	// leaves both unset; nahook sets them when the host hears of
	// operational events.
	Report       bool
	FailingAfter int
}

// Streaks works out, from a batch of attempt results in any order, what it
// does to each endpoint's failure streak and probation: what applying the
// results one by one, in the order they were attempted, would do, but for
// disabling, which looks at the streak as the batch leaves it. A failed
// attempt (see Attempt.Succeeded) starts or continues its endpoint's
// failure streak and a successful one ends it; an endpoint failing for
// disableAfter by its last failure is to be disabled (never, when
// disableAfter is 0 or less). nahook passes the result to RecordAttempts,
// which applies it in a few statements for the whole batch.
func Streaks(results []AttemptResult, disableAfter time.Duration) []Streak {
	type state struct {
		s    Streak
		seen bool // a success came earlier in the batch
	}
	byEndpoint := map[EndpointID]*state{}
	var order []EndpointID
	sorted := slices.Clone(results)
	slices.SortStableFunc(sorted, func(a, b AttemptResult) int { return a.Attempt.AttemptedAt.Compare(b.Attempt.AttemptedAt) })
	for _, r := range sorted {
		st := byEndpoint[r.EndpointID]
		if st == nil {
			st = &state{s: Streak{EndpointID: r.EndpointID, WorkspaceID: r.WorkspaceID}}
			byEndpoint[r.EndpointID] = st
			order = append(order, r.EndpointID)
		}
		at := r.Attempt.AttemptedAt
		st.s.Probation = r.Probation
		if r.Attempt.Succeeded() {
			st.s.Ended, st.s.Since, st.s.Restart = true, time.Time{}, false
			st.s.Failures = 0
			if !st.seen {
				st.s.EndedAt = at
			}
			st.seen = true
			continue
		}
		st.s.Failures++
		if st.s.Ended || st.s.Since.IsZero() {
			st.s.Since = at
			st.s.Restart = st.seen // that success ended the old streak
		}
		st.s.Ended = false
		st.s.LastFailure = at
	}
	out := make([]Streak, 0, len(order))
	for _, id := range order {
		s := byEndpoint[id].s
		if !s.Ended && disableAfter > 0 {
			s.DisableIfFailingSince = s.LastFailure.Add(-disableAfter)
		}
		out = append(out, s)
	}
	return out
}

// Succeeded reports whether the endpoint answered the attempt with a 2xx
// status: the one definition of a successful attempt, for the delivery's
// status, the endpoint's failure streak and its health alike.
func (a Attempt) Succeeded() bool { return a.StatusCode >= 200 && a.StatusCode < 300 }

// PendingDelivery returns the delivery Ingest stores for ev to endpoint,
// with the given ID: pending, due when ev was created.
func PendingDelivery(ev Event, id DeliveryID, endpoint EndpointID) Delivery {
	return Delivery{ID: id, WorkspaceID: ev.WorkspaceID, EventID: ev.ID, EventType: ev.EventType, EndpointID: endpoint,
		Status: DeliveryPending, NextAttemptAt: ev.CreatedAt, CreatedAt: ev.CreatedAt, UpdatedAt: ev.CreatedAt}
}
