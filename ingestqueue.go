// Natural batching of ingests: the events that arrive while one commit is
// in flight are written together by the next, so that concurrent callers
// share commits instead of queueing for one each.

package nahook

import (
	"context"
	"sync"
	"time"

	"github.com/nahook/nahook/store"
)

// maxIngestBatch bounds the events one commit takes: a batch's statements
// travel together, and its callers wait for all of them.
const maxIngestBatch = 128

// maxIngestBatchBytes bounds the payload bytes one commit takes (its first
// event's, whatever their size), for the same reason: without it, a
// customer sending megabyte payloads from many goroutines would fill every
// commit with them, and the small events of everyone else waiting with
// them would wait for a hundred megabytes to be written.
const maxIngestBatchBytes = 4 << 20

// ingestBatchTimeout bounds a batch's commit. A batch of one is the
// caller's alone and runs under the caller's ctx; a larger one serves
// callers whose contexts differ, so it runs under none of them.
const ingestBatchTimeout = 30 * time.Second

// ingestQueue writes the Client's own ingests (not a host's transaction's)
// in batches that form only while a commit is in flight: a caller that
// finds the queue empty commits at once, alone, as if there were no
// queue; callers that arrive meanwhile wait, and the first of them, once
// that commit is done, commits them all in one transaction. Each caller
// gets its own item's answer, and nothing before its commit.
//
// There is no goroutine of its own: the caller at the front of the queue
// does the work (the leader), as in a group commit, so nothing needs
// stopping and a Client that is not ingesting costs nothing.
type ingestQueue struct {
	mu      sync.Mutex
	waiting []*queuedIngest // the front is the leader's batch, or the next leader
}

// queuedIngest is one caller's item in the queue. done is closed once,
// when the item is committed (or failed), or when its caller is to lead.
type queuedIngest struct {
	item store.IngestItem
	ctx  context.Context
	done chan struct{}
	// Guarded by ingestQueue.mu.
	lead, taken, abandoned bool
	// Set before done is closed.
	res store.IngestResult
	err error
}

// ingest stores item through st, with whatever other items are waiting
// when its turn comes, and returns its own result.
func (q *ingestQueue) ingest(ctx context.Context, st store.Store, item store.IngestItem) (store.IngestResult, error) {
	w := &queuedIngest{item: item, ctx: ctx, done: make(chan struct{})}
	q.mu.Lock()
	q.waiting = append(q.waiting, w)
	w.lead = len(q.waiting) == 1
	lead := w.lead
	q.mu.Unlock()
	if !lead {
		select {
		case <-w.done:
		case <-ctx.Done():
			q.mu.Lock()
			if !w.taken && !w.lead {
				// Not in a batch yet: it never will be.
				w.abandoned = true
				q.mu.Unlock()
				return store.IngestResult{}, ctx.Err()
			}
			q.mu.Unlock()
			// Taken into a batch, or about to lead one: its commit is
			// under way, and its answer must not be lost.
			<-w.done
		}
		q.mu.Lock()
		lead = w.lead && !w.taken
		q.mu.Unlock()
		if !lead {
			return w.res, w.err
		}
	}
	q.commit(st)
	return w.res, w.err
}

// commit writes the batch at the front of the queue (the leader's item
// first), answers its callers, and hands the lead to the next in line.
func (q *ingestQueue) commit(st store.Store) {
	q.mu.Lock()
	n, size := 0, 0
	var batch []*queuedIngest
	for _, w := range q.waiting[:min(len(q.waiting), maxIngestBatch)] {
		if w.abandoned {
			n++
			continue
		}
		if size += len(w.item.Event.Payload); size > maxIngestBatchBytes && len(batch) > 0 {
			break
		}
		w.taken = true
		batch = append(batch, w)
		n++
	}
	q.mu.Unlock()

	write(st, batch)

	q.mu.Lock()
	q.waiting = append(q.waiting[:0:0], q.waiting[n:]...)
	for len(q.waiting) > 0 && q.waiting[0].abandoned {
		q.waiting = q.waiting[1:]
	}
	var next *queuedIngest
	if len(q.waiting) > 0 {
		next = q.waiting[0]
		next.lead = true
	}
	q.mu.Unlock()
	for _, w := range batch[1:] {
		close(w.done)
	}
	if next != nil {
		close(next.done)
	}
}

// write stores the batch's items and sets each one's answer, alone
// through Ingest for a batch of one, else through ingestAll.
func write(st store.Store, batch []*queuedIngest) {
	if len(batch) == 1 {
		w := batch[0]
		ev, ds, replayed, err := st.Ingest(w.ctx, w.item.Event, w.item.Deliveries)
		w.res, w.err = store.IngestResult{Event: ev, Deliveries: ds, Replayed: replayed}, err
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(batch[0].ctx), ingestBatchTimeout)
	defer cancel()
	items := make([]store.IngestItem, len(batch))
	for i, w := range batch {
		items[i] = w.item
	}
	results, errs := ingestAll(ctx, st, items)
	for i, w := range batch {
		w.res, w.err = results[i], errs[i]
	}
}

// ingestAll writes items in one IngestBatch and returns each one's result
// or error. A batch the store refuses is written again item by item, so
// that one item (an environment deleted meanwhile, say) fails no other.
func ingestAll(ctx context.Context, st store.Store, items []store.IngestItem) ([]store.IngestResult, []error) {
	errs := make([]error, len(items))
	results, err := st.IngestBatch(ctx, items)
	if err == nil {
		return results, errs
	}
	results = make([]store.IngestResult, len(items))
	for i, it := range items {
		r := &results[i]
		r.Event, r.Deliveries, r.Replayed, errs[i] = st.Ingest(ctx, it.Event, it.Deliveries)
	}
	return results, errs
}
