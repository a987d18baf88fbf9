// Batches: many events ingested or sent in one call, and one transaction,
// each answered on its own.

package nahook

import (
	"context"
	"time"

	"github.com/nahook/nahook/store"
)

// MaxBatchEvents bounds the events of one IngestBatch or SendBatch.
const MaxBatchEvents = 100

// BatchEvent is one event of IngestBatch: of EventType, routed as Ingest
// routes it, or, with EndpointID instead, sent straight to that endpoint
// as IngestDirect sends it.
type BatchEvent struct {
	EventType  string
	EndpointID EndpointID
	IngestInput
}

// BatchResult is one event's answer in a batch: what Ingest, IngestDirect
// or Send would have answered for it alone, Err included.
type BatchResult struct {
	Ingested
	Err error
}

// IngestBatch ingests events sent with one environment's API key, all in
// one transaction, and answers each in its own BatchResult, in order. The
// call fails only for what concerns them all: an empty batch or one of
// more than MaxBatchEvents (ErrInvalid, "events"), or a bad key
// (ErrUnauthorized). Every other refusal, an unknown type, a bad payload,
// an idempotency key reused for another event, is its event's own: it
// stores nothing of that event and fails no other. Idempotency keys work
// per event, within the batch too: a key given twice stores the event
// once, and the second answers as a replay of the first (or
// ErrIdempotencyKeyReused if it asks for another event).
func (s *EventService) IngestBatch(ctx context.Context, apiKey string, events []BatchEvent) ([]BatchResult, error) {
	if err := batchSize(len(events)); err != nil {
		return nil, err
	}
	if _, err := s.c.Router.keyRoute(ctx, apiKey); err != nil {
		return nil, err
	}
	calls := make([]batchCall, len(events))
	for i, e := range events {
		c := &calls[i]
		c.source = SourceIngest
		if e.EndpointID != "" {
			c.source = SourceIngestDirect
		}
		c.ctx, c.start = s.c.observeIngestStart(ctx, c.source)
		switch {
		case e.EventType != "" && e.EndpointID != "":
			c.err = store.Invalid("endpointId", "give eventType or endpointId, not both")
		case e.EndpointID != "":
			c.r, c.err = s.ingestDirect(c.ctx, apiKey, e.EndpointID, e.IngestInput)
		case e.EventType == "":
			c.err = store.Invalid("eventType", "give eventType, or endpointId to send the event straight to one endpoint")
		default:
			c.r, c.err = s.ingestTyped(c.ctx, apiKey, e.EventType, e.IngestInput)
		}
	}
	return s.settleBatch(ctx, calls), nil
}

// SendBatch sends messages from host code, as Send does, all in one
// transaction, and answers each in its own BatchResult, in order. It fails
// only for an empty batch or one of more than MaxBatchEvents; every other
// refusal is its message's own, as in IngestBatch.
func (s *EventService) SendBatch(ctx context.Context, ms []Message) ([]BatchResult, error) {
	if err := batchSize(len(ms)); err != nil {
		return nil, err
	}
	calls := make([]batchCall, len(ms))
	for i, m := range ms {
		c := &calls[i]
		c.source = SourceSend
		c.ctx, c.start = s.c.observeIngestStart(ctx, c.source)
		c.r, c.err = s.send(c.ctx, s.c.store, true, m)
	}
	return s.settleBatch(ctx, calls), nil
}

// batchSize refuses a batch of no events, or of too many.
func batchSize(n int) error {
	if n == 0 || n > MaxBatchEvents {
		return store.Invalid("events", "give 1 to %d events; this batch has %d", MaxBatchEvents, n)
	}
	return nil
}

// batchCall is one event of a batch on its way: routed (or refused), then
// written with the others.
type batchCall struct {
	source IngestSource
	ctx    context.Context
	start  time.Time
	r      routed
	err    error
	res    store.IngestResult
}

// settleBatch writes the events of calls that are routed and not answered
// yet in one transaction (ingestAll) and answers each call.
func (s *EventService) settleBatch(ctx context.Context, calls []batchCall) []BatchResult {
	var items []store.IngestItem
	var writing []*batchCall
	for i := range calls {
		if c := &calls[i]; c.err == nil && !c.r.answered {
			items = append(items, c.r.item)
			writing = append(writing, c)
		}
	}
	if len(items) > 0 {
		results, errs := ingestAll(ctx, s.c.store, items)
		for i, c := range writing {
			c.res, c.err = results[i], errs[i]
		}
	}
	out := make([]BatchResult, len(calls))
	for i := range calls {
		c := &calls[i]
		var got Ingested
		err := c.err
		switch {
		case c.r.answered:
			got = c.r.answer
		case err == nil:
			got, err = s.stored(c.r, c.res, true)
		}
		s.c.observeIngestEnd(c.ctx, c.source, c.start, got, err)
		out[i] = BatchResult{Ingested: got, Err: err}
	}
	return out
}
