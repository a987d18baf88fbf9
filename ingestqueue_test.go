package nahook

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook/store"
)

// batchStore is a store whose Ingest blocks while held, and which records
// the batches it is given: enough to watch the queue form batches.
type batchStore struct {
	store.Store // nil: only the ingests are called

	held    chan struct{} // Ingest waits on it when it is not nil
	entered chan struct{} // Ingest signals it when it starts

	mu      sync.Mutex
	batches [][]EventID
}

var errPoison = errors.New("poisoned")

func (s *batchStore) Ingest(ctx context.Context, ev Event, ds []Delivery) (Event, []Delivery, bool, error) {
	if s.entered != nil {
		select {
		case s.entered <- struct{}{}:
		default:
		}
	}
	if s.held != nil {
		<-s.held
	}
	if string(ev.Payload) == "poison" {
		return Event{}, nil, false, errPoison
	}
	return ev, ds, false, nil
}

func (s *batchStore) IngestBatch(ctx context.Context, items []store.IngestItem) ([]store.IngestResult, error) {
	ids := make([]EventID, len(items))
	out := make([]store.IngestResult, len(items))
	poisoned := false
	for i, it := range items {
		ids[i] = it.Event.ID
		out[i] = store.IngestResult{Event: it.Event, Deliveries: it.Deliveries}
		poisoned = poisoned || string(it.Event.Payload) == "poison"
	}
	s.mu.Lock()
	s.batches = append(s.batches, ids)
	s.mu.Unlock()
	if poisoned {
		return nil, errPoison
	}
	return out, nil
}

// queueWhileHeld starts a leader that the store holds, then n followers
// (payloads as given), and waits until they all wait in the queue.
func queueWhileHeld(t *testing.T, q *ingestQueue, st *batchStore, ctx func(i int) context.Context, payloads []string) ([]store.IngestResult, []error, func()) {
	t.Helper()
	st.held, st.entered = make(chan struct{}), make(chan struct{}, 1)
	results, errs := make([]store.IngestResult, len(payloads)), make([]error, len(payloads))
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := q.ingest(context.Background(), st, item("leader", "leader")); err != nil {
			t.Errorf("leader: %v", err)
		}
	})
	<-st.entered
	// One at a time, so that they queue in order.
	for i, p := range payloads {
		wg.Go(func() { results[i], errs[i] = q.ingest(ctx(i), st, item(fmt.Sprint("msg_", i), p)) })
		waitFor(t, q, func() bool { return len(q.waiting) == i+2 })
	}
	return results, errs, func() { close(st.held); wg.Wait() }
}

// waitFor waits until cond, which reads q under its lock, holds.
func waitFor(t *testing.T, q *ingestQueue, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Microsecond) {
		q.mu.Lock()
		ok := cond()
		q.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the queue did not get there in 10s")
		}
	}
}

func item(id, payload string) store.IngestItem {
	return store.IngestItem{Event: Event{ID: EventID(id), Payload: []byte(payload)}}
}

// Callers that arrive while a commit is in flight are committed together,
// by the next commit, each with its own answer; a lone caller commits
// alone, at once.
func TestIngestQueueBatchesWhileACommitIsInFlight(t *testing.T) {
	is := is.New(t)
	var q ingestQueue
	st := &batchStore{}
	payloads := make([]string, 10)
	for i := range payloads {
		payloads[i] = fmt.Sprint(i)
	}
	results, errs, release := queueWhileHeld(t, &q, st, func(int) context.Context { return context.Background() }, payloads)
	release()
	is.Equal(len(st.batches), 1)     // the ten followers, in one commit
	is.Equal(len(st.batches[0]), 10) // (the leader committed alone)
	for i := range payloads {
		is.NoErr(errs[i])
		is.Equal(results[i].Event.ID, EventID(fmt.Sprint("msg_", i))) // its own
	}
	is.Equal(len(q.waiting), 0)

	st.held = nil
	r, err := q.ingest(context.Background(), st, item("alone", "x"))
	is.NoErr(err)
	is.Equal(r.Event.ID, EventID("alone"))
	is.Equal(len(st.batches), 1) // alone: no batch
}

// One item the store refuses fails no other item of its batch.
func TestIngestQueueOneBadItemFailsNoOther(t *testing.T) {
	is := is.New(t)
	var q ingestQueue
	st := &batchStore{}
	payloads := []string{"a", "poison", "b", "c"}
	results, errs, release := queueWhileHeld(t, &q, st, func(int) context.Context { return context.Background() }, payloads)
	release()
	for i, p := range payloads {
		if p == "poison" {
			is.True(errors.Is(errs[i], errPoison))
			continue
		}
		is.NoErr(errs[i])
		is.Equal(string(results[i].Event.Payload), p)
	}
}

// A caller whose ctx ends while it waits, before a batch takes it, goes
// with ctx's error, and its event is not written.
func TestIngestQueueCallerGivesUpBeforeItsTurn(t *testing.T) {
	is := is.New(t)
	var q ingestQueue
	st := &batchStore{}
	gone, cancel := context.WithCancel(context.Background())
	ctxs := func(i int) context.Context {
		if i == 1 {
			return gone
		}
		return context.Background()
	}
	_, errs, release := queueWhileHeld(t, &q, st, ctxs, []string{"a", "b", "c"})
	cancel()
	waitFor(t, &q, func() bool { return q.waiting[2].abandoned }) // [0] is the leader
	release()
	is.True(errors.Is(errs[1], context.Canceled))
	is.NoErr(errs[0])
	is.NoErr(errs[2])
	is.Equal(st.batches, [][]EventID{{"msg_0", "msg_2"}})
}

// A batch takes at most maxIngestBatch items; the rest go in the next.
func TestIngestQueueBoundsBatches(t *testing.T) {
	is := is.New(t)
	var q ingestQueue
	st := &batchStore{}
	payloads := make([]string, maxIngestBatch+5)
	for i := range payloads {
		payloads[i] = "p"
	}
	_, errs, release := queueWhileHeld(t, &q, st, func(int) context.Context { return context.Background() }, payloads)
	release()
	for _, err := range errs {
		is.NoErr(err)
	}
	is.Equal(len(st.batches), 2)
	is.Equal(len(st.batches[0]), maxIngestBatch)
	is.Equal(len(st.batches[1]), 5)
}

// A batch takes at most maxIngestBatchBytes of payloads, or its first
// event whatever its size: the rest go in the next batches, in order.
func TestIngestQueueBoundsBatchBytes(t *testing.T) {
	is := is.New(t)
	var q ingestQueue
	st := &batchStore{}
	big := strings.Repeat("x", maxIngestBatchBytes/2)
	huge := strings.Repeat("x", maxIngestBatchBytes+1)
	payloads := []string{big, "small", big, "small", huge, "small", "small"}
	results, errs, release := queueWhileHeld(t, &q, st, func(int) context.Context { return context.Background() }, payloads)
	release()
	for _, err := range errs {
		is.NoErr(err)
	}
	is.Equal(st.batches, [][]EventID{
		{"msg_0", "msg_1"}, // the next big one would pass the bound
		{"msg_2", "msg_3"}, // and so would the huge one,
		{"msg_5", "msg_6"}, // which went alone, through Ingest, being first
	})
	is.Equal(results[4].Event.ID, EventID("msg_4"))
}
