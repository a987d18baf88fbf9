// Observing a Client: the hooks a host (or package nahookotel) turns into
// metrics and traces, and the outbox's figures for its gauges.

package nahook

import (
	"context"
	"errors"
	"time"

	"github.com/nahook/nahook/store"
)

// Observer hears what a Client does as it does it, so that a host can
// make metrics and traces of it without nahook depending on any metrics
// library: package nahookotel builds one for OpenTelemetry. Set it as
// Config.Observer. Every hook is optional, and one left nil costs nothing.
//
// The hooks run on the goroutine doing the work, in its hot path (an
// ingest's caller, a delivery worker): they must return quickly, must not
// block, and must not call the Client. They may run concurrently.
type Observer struct {
	// IngestStart, unless nil, is called as an event is ingested or sent
	// (Ingest, IngestDirect, Send, SendTx), with the caller's ctx; the
	// ingest goes on with the ctx it returns (a span started in it is the
	// parent of whatever the store traces) and hands it to IngestEnd.
	IngestStart func(ctx context.Context, source IngestSource) context.Context
	// IngestEnd, unless nil, is called once an ingest or send returns,
	// whatever its outcome, with the ctx IngestStart returned (or the
	// caller's, without IngestStart).
	IngestEnd func(ctx context.Context, o IngestObservation)
	// AttemptEnd, unless nil, is called once for every delivery attempt,
	// when it has ended and before its result is recorded.
	AttemptEnd func(o AttemptObservation)
	// OperationalEvent, unless nil, hears every operational event (an
	// endpoint failing, disabled or recovered, a delivery given up) as
	// Deliver's relay hands it out for the first time, beside
	// Config.OnOperationalEvent: once per event, unless a process dies
	// between the hand-out and its acknowledgement. Setting it makes
	// nahook record operational events, as OnOperationalEvent does.
	OperationalEvent func(ev OperationalEvent)
}

// IngestSource says which call an event came through.
type IngestSource string

// Ingest sources.
const (
	// SourceIngest: EventService.Ingest, with an environment's API key.
	SourceIngest IngestSource = "ingest"
	// SourceIngestDirect: EventService.IngestDirect, to one endpoint.
	SourceIngestDirect IngestSource = "ingest_direct"
	// SourceSend: EventService.Send, from host code.
	SourceSend IngestSource = "send"
	// SourceSendTx: EventService.SendTx, inside the host's transaction.
	SourceSendTx IngestSource = "send_tx"
)

// IngestObservation is an ingest or send as it ended.
type IngestObservation struct {
	Source IngestSource
	// Event is the event stored, or, when Replayed, the one first stored
	// with the idempotency key; its Payload is the caller's, to be read,
	// not kept. Zero when the call was refused.
	Event Event
	// Deliveries counts the event's deliveries: the endpoints it goes to.
	Deliveries int
	// Replayed reports an idempotency key used before: nothing was stored.
	Replayed bool
	// Err is why the call was refused, or nil. ErrorKind names its kind.
	Err error
	// Duration is how long the call took, by Config.Now.
	Duration time.Duration
}

// ErrorKind returns the kind of o.Err (see ErrorKind), or "" when the
// call succeeded: a value from a short, fixed list, fit to label a
// metric with.
func (o IngestObservation) ErrorKind() string {
	if o.Err == nil {
		return ""
	}
	return ErrorKind(o.Err)
}

// ErrorKind returns the name of err's kind, "invalid", "not_found",
// "unauthenticated" and so on (the code the HTTP API answers with), or
// "internal" for an error of no kind nahook knows.
func ErrorKind(err error) string {
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return "internal"
}

// errorKinds names the kinds of error, the most specific first, as the
// HTTP API's codes do.
var errorKinds = []struct {
	err  error
	name string
}{
	{ErrInvalid, "invalid"},
	{ErrUnauthorized, "unauthorized"},
	{ErrUnknownEventType, "unknown_event_type"},
	{ErrNotFound, "not_found"},
	{ErrDefaultEnvironment, "default_environment"},
	{ErrLimitExceeded, "limit_exceeded"},
	{ErrConflict, "conflict"},
	{ErrNotPublished, "not_published"},
	{ErrOtherEnvironment, "other_environment"},
	{ErrEndpointDisabled, "endpoint_disabled"},
	{ErrIdempotencyKeyReused, "idempotency_key_reused"},
	{ErrUnavailable, "unavailable"},
	{context.Canceled, "canceled"},
	{context.DeadlineExceeded, "deadline_exceeded"},
}

// AttemptOutcome is how a delivery attempt ended.
type AttemptOutcome string

// Attempt outcomes.
const (
	// AttemptSucceeded: the endpoint answered 2xx.
	AttemptSucceeded AttemptOutcome = "succeeded"
	// AttemptFailed: the endpoint answered, with another status.
	AttemptFailed AttemptOutcome = "failed"
	// AttemptTimedOut: no answer within DeliveryConfig.Timeout.
	AttemptTimedOut AttemptOutcome = "timeout"
	// AttemptError: no answer at all: the name did not resolve, the
	// connection was refused or broke, TLS failed, the address is not
	// allowed.
	AttemptError AttemptOutcome = "error"
)

// AttemptObservation is one delivery attempt, ended.
type AttemptObservation struct {
	WorkspaceID WorkspaceID
	EndpointID  EndpointID
	DeliveryID  DeliveryID
	EventID     EventID
	// EventType is empty for an event sent straight to the endpoint.
	EventType string
	// Number is the delivery's attempt number: 1 for the first.
	Number  int
	Outcome AttemptOutcome
	// StatusCode is the endpoint's answer, or 0 without one.
	StatusCode int
	// Start is when the attempt began, and Duration how long it took, by
	// Config.Now (to the millisecond kept).
	Start    time.Time
	Duration time.Duration
	// Status is where the delivery stands after it: succeeded, pending (a
	// retry is scheduled) or failed (given up).
	Status DeliveryStatus
	// Probation reports that the attempt leaves its endpoint on
	// probation, one attempt at a time from a share of the workers: it
	// failed, or succeeded slowly (DeliveryConfig.SlowAfter). False, it
	// takes the endpoint off: nahook's circuit breaker, closed.
	Probation bool
	// Latency is, for an attempt that succeeded, the time from the
	// event's ingestion to the end of this attempt: how long the event
	// took to arrive. Zero otherwise.
	Latency time.Duration
}

// observeIngestStart begins observing an ingest: it returns the ctx to go
// on with and the time it began (zero, and no clock read, without
// IngestEnd).
func (c *Client) observeIngestStart(ctx context.Context, source IngestSource) (context.Context, time.Time) {
	o := &c.cfg.Observer
	if o.IngestStart != nil {
		ctx = o.IngestStart(ctx, source)
	}
	if o.IngestEnd == nil {
		return ctx, time.Time{}
	}
	return ctx, c.cfg.Now()
}

// observeIngestEnd ends observing an ingest that began at start.
func (c *Client) observeIngestEnd(ctx context.Context, source IngestSource, start time.Time, in Ingested, err error) {
	f := c.cfg.Observer.IngestEnd
	if f == nil {
		return
	}
	o := IngestObservation{Source: source, Err: err, Duration: c.cfg.Now().Sub(start)}
	if err == nil || in.Replayed {
		o.Event, o.Deliveries, o.Replayed = in.Event, len(in.Deliveries), in.Replayed
	}
	f(ctx, o)
}

// observeAttempt tells the observer, if it listens, of an attempt ended
// with res, its outcome as attempt decided.
func (c *Client) observeAttempt(job store.Dispatch, res store.AttemptResult, outcome AttemptOutcome) {
	f := c.cfg.Observer.AttemptEnd
	if f == nil {
		return
	}
	o := AttemptObservation{
		WorkspaceID: res.WorkspaceID,
		EndpointID:  res.EndpointID,
		DeliveryID:  res.DeliveryID,
		EventID:     job.Delivery.EventID,
		EventType:   job.Delivery.EventType,
		Number:      res.Attempt.Number,
		Outcome:     outcome,
		StatusCode:  res.Attempt.StatusCode,
		Start:       res.Attempt.AttemptedAt,
		Duration:    res.Attempt.Duration,
		Status:      res.Status,
		Probation:   res.Probation,
	}
	if outcome == AttemptSucceeded {
		o.Latency = res.Attempt.AttemptedAt.Add(res.Attempt.Duration).Sub(job.Delivery.CreatedAt)
	}
	f(o)
}

// Stats is the outbox as a whole, read at At; see store.Stats for its
// figures.
type Stats struct {
	store.Stats
	// At is when the figures were read, by Config.Now.
	At time.Time
}

// OldestDueAge returns how long the longest-waiting due delivery had
// waited at At, or 0 when none was due.
func (s Stats) OldestDueAge() time.Duration {
	if s.OldestDue.IsZero() {
		return 0
	}
	return max(s.At.Sub(s.OldestDue), 0)
}

// Stats returns the outbox's figures now, across every workspace: the
// deliveries pending, due and in flight, how long the oldest due has
// waited, and the endpoints by state. Every process sharing the store
// sees the same figures (add them up across processes and they count
// twice). Its cost grows with the pending deliveries: read it for a gauge
// every few seconds, not for every event.
func (c *Client) Stats(ctx context.Context) (Stats, error) {
	now := c.cfg.Now().UTC()
	st, err := c.store.Stats(ctx, now)
	if err != nil {
		return Stats{}, err
	}
	return Stats{Stats: st, At: now}, nil
}
