package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
)

// TxStore is the store an adapter's test gives Run so that the suite
// proves its store.Tx, the handle on a host's own transaction: the
// adapter's store with a way to open a transaction as a host program
// would. Stores that are not TxStores skip those cases.
type TxStore interface {
	store.Store
	// BeginHostTx opens a transaction on the store's database the way the
	// adapter tells host programs to, and returns the adapter's handle on
	// it with the functions that end it.
	BeginHostTx(ctx context.Context) (HostTx, error)
}

// HostTx is a host program's transaction, as the cases use it.
type HostTx struct {
	// Tx is the adapter's handle on the transaction (postgres.Tx,
	// sqlite.Tx).
	Tx       store.Tx
	Commit   func(ctx context.Context) error
	Rollback func(ctx context.Context) error
}

var sendTxTests = []test{
	{
		name:     "Tx.Ingest/CommitDelivers",
		contract: "An event ingested in a host's transaction is stored with a pending delivery per endpoint when the host commits, as Ingest stores it, and its deliveries are claimable at once.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			tx := h.begin(t)
			ev, ds := h.txEvent(o, `{"n": 1}`, "")
			stored, deliveries, replayed, err := tx.Tx.Ingest(h.ctx, ev, ds)
			is.NoErr(err)
			is.True(!replayed)
			is.Equal(stored, ev)
			is.Equal(endpointsOf(deliveries), endpointsOf([]nahook.Delivery{{EndpointID: o.a.ID}, {EndpointID: o.b.ID}}))
			is.NoErr(tx.Commit(h.ctx))

			got, err := h.st.GetEvent(h.ctx, o.ws.ID, ev.ID)
			is.NoErr(err)
			is.Equal(got, ev)
			for _, d := range deliveries {
				got, _, err := h.st.GetDelivery(h.ctx, o.ws.ID, d.ID)
				is.NoErr(err)
				is.Equal(got, d) // as the handle returned it
			}
			claimed := h.claimAll(t, h.at())
			is.Equal(len(claimed), 2)
			for _, c := range claimed {
				is.Equal(c.Delivery.EventID, ev.ID)
				is.Equal(string(c.Payload), `{"n": 1}`)
			}
		},
	},
	{
		name:     "Tx.Ingest/RollbackLeavesNothing",
		contract: "An event ingested in a host's transaction that rolls back leaves no event, no delivery and no idempotency key behind: nothing to claim, and the key is free.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			tx := h.begin(t)
			ev, ds := h.txEvent(o, `{"n": 1}`, "order-1")
			_, deliveries, _, err := tx.Tx.Ingest(h.ctx, ev, ds)
			is.NoErr(err)
			is.Equal(len(deliveries), 2)
			is.NoErr(tx.Rollback(h.ctx))

			_, err = h.st.GetEvent(h.ctx, o.ws.ID, ev.ID)
			wantErr(t, err, store.ErrNotFound, "")
			page, err := h.st.ListDeliveries(h.ctx, o.ws.ID, store.DeliveryFilter{}, store.PageRequest{Limit: 100})
			is.NoErr(err)
			is.Equal(len(page), 0)
			is.Equal(len(h.claimAll(t, h.at())), 0)
			_, _, err = h.st.GetEventByIdempotencyKey(h.ctx, o.ws.ID, o.env.ID, "order-1")
			wantErr(t, err, store.ErrNotFound, "idempotencyKey")
			again := o.ingest(t, `{"n": 2}`, "order-1")
			is.True(!again.Replayed) // the key was never taken
		},
	},
	{
		name:     "Tx.Ingest/Idempotent",
		contract: "An idempotency key taken by a committed event, whether ingested in a host's transaction or not, replays that event in a later host transaction and stores nothing; the replay is no error, and the transaction stays usable for more writes.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			tx := h.begin(t)
			first, ds := h.txEvent(o, `{"n": 1}`, "order-1")
			_, firstDs, _, err := tx.Tx.Ingest(h.ctx, first, ds)
			is.NoErr(err)
			is.NoErr(tx.Commit(h.ctx))
			outside := o.ingest(t, `{"n": 2}`, "order-2")

			tx = h.begin(t)
			for _, c := range []struct {
				key  string
				want nahook.Event
				ds   []nahook.Delivery
			}{{"order-1", first, firstDs}, {"order-2", outside.Event, outside.Deliveries}} {
				ev, ds := h.txEvent(o, `{"n": 3}`, c.key)
				stored, deliveries, replayed, err := tx.Tx.Ingest(h.ctx, ev, ds)
				is.NoErr(err) // a replay, not a conflict that would abort the transaction
				is.True(replayed)
				is.Equal(stored, c.want)
				is.Equal(endpointsOf(deliveries), endpointsOf(c.ds))
			}
			// The transaction is still usable: a new key stores.
			fresh, ds := h.txEvent(o, `{"n": 4}`, "order-3")
			_, _, replayed, err := tx.Tx.Ingest(h.ctx, fresh, ds)
			is.NoErr(err)
			is.True(!replayed)
			is.NoErr(tx.Commit(h.ctx))
			page, err := h.st.ListDeliveries(h.ctx, o.ws.ID, store.DeliveryFilter{}, store.PageRequest{Limit: 100})
			is.NoErr(err)
			is.Equal(len(page), 6) // three events, nothing stored by the replays
		},
	},
	{
		name:     "Tx.Ingest/SameKeyInOneTransaction",
		contract: "An idempotency key used twice in one host transaction replays the first event, which the transaction sees though it is not committed; after the commit the key names that one event.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			tx := h.begin(t)
			first, ds := h.txEvent(o, `{"n": 1}`, "order-1")
			_, _, _, err := tx.Tx.Ingest(h.ctx, first, ds)
			is.NoErr(err)
			seen, _, err := tx.Tx.GetEventByIdempotencyKey(h.ctx, o.ws.ID, o.env.ID, "order-1")
			is.NoErr(err)
			is.Equal(seen, first) // the transaction sees its own write
			again, ds := h.txEvent(o, `{"n": 1}`, "order-1")
			stored, deliveries, replayed, err := tx.Tx.Ingest(h.ctx, again, ds)
			is.NoErr(err)
			is.True(replayed)
			is.Equal(stored, first)
			is.Equal(len(deliveries), 2)
			is.NoErr(tx.Commit(h.ctx))
			got, _, err := h.st.GetEventByIdempotencyKey(h.ctx, o.ws.ID, o.env.ID, "order-1")
			is.NoErr(err)
			is.Equal(got, first)
			_, err = h.st.GetEvent(h.ctx, o.ws.ID, again.ID)
			wantErr(t, err, store.ErrNotFound, "")
		},
	},
	{
		name:     "Tx.Ingest/InvisibleUntilCommit",
		contract: "What a host's transaction ingested is invisible to the store until the host commits: no event, no idempotency key, no due endpoint, nothing claimable, even when asked for by endpoint; a claim may wait for the host's transaction, or give up, but never returns its deliveries.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			tx := h.begin(t)
			ev, ds := h.txEvent(o, `{"n": 1}`, "order-1")
			_, _, _, err := tx.Tx.Ingest(h.ctx, ev, ds)
			is.NoErr(err)

			_, err = h.st.GetEvent(h.ctx, o.ws.ID, ev.ID)
			wantErr(t, err, store.ErrNotFound, "")
			_, _, err = h.st.GetEventByIdempotencyKey(h.ctx, o.ws.ID, o.env.ID, "order-1")
			wantErr(t, err, store.ErrNotFound, "idempotencyKey")
			is.Equal(len(dueEndpoints(t, h.st, h.at(), 100)), 0)
			// On a single-writer database the claim waits for the host's
			// transaction; it gives up after a while, with nothing.
			ctx, cancel := context.WithTimeout(h.ctx, 300*time.Millisecond)
			claimed, err := h.st.ClaimDeliveries(ctx, h.at(), time.Minute, []store.ClaimRequest{
				{EndpointID: o.a.ID, Want: 10, MaxInFlight: 10}, {EndpointID: o.b.ID, Want: 10, MaxInFlight: 10}})
			cancel()
			if err != nil && !errors.Is(err, store.ErrUnavailable) && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("claim during the host's transaction: %v", err)
			}
			is.Equal(len(claimed), 0)

			is.NoErr(tx.Commit(h.ctx))
			is.Equal(len(h.claimAll(t, h.at())), 2)
		},
	},
	{
		name:     "WatchDeliveries/AfterCommit",
		contract: "A store that is a DeliveryNotifier calls back once it listens, and after the commit of an ingest, in a host's transaction or not, that stored deliveries; never while the host's transaction is open.",
		run: func(t *testing.T, h *harness) {
			n, ok := h.st.(store.DeliveryNotifier)
			if !ok {
				t.Skip("the store is no store.DeliveryNotifier")
			}
			is := is.New(t)
			o := h.outbox(t)
			added := make(chan struct{}, 1)
			ctx, cancel := context.WithCancel(h.ctx)
			var watching sync.WaitGroup
			watching.Go(func() {
				err := n.WatchDeliveries(ctx, func() {
					select {
					case added <- struct{}{}:
					default:
					}
				})
				if ctx.Err() == nil {
					t.Errorf("WatchDeliveries: %v", err)
				}
			})
			defer watching.Wait()
			defer cancel()
			waitFor := func(what string) {
				t.Helper()
				select {
				case <-added:
				case <-time.After(10 * time.Second):
					t.Fatalf("no call back %s", what)
				}
			}
			waitFor("once listening")

			tx := h.begin(t)
			ev, ds := h.txEvent(o, `{"n": 1}`, "")
			_, _, _, err := tx.Tx.Ingest(h.ctx, ev, ds)
			is.NoErr(err)
			select {
			case <-added:
				t.Fatal("called back while the host's transaction was open")
			case <-time.After(300 * time.Millisecond):
			}
			is.NoErr(tx.Commit(h.ctx))
			waitFor("after the host's commit")

			o.ingest(t, `{"n": 2}`, "")
			waitFor("after an ingest")
		},
	},
}

// begin opens a host transaction on the case's store, skipping the case
// when the adapter's test gave Run no TxStore, and rolls it back at the
// end of the case unless it ended.
func (h *harness) begin(t *testing.T) HostTx { return h.beginOn(t, h.st) }

// beginOn is begin on st, one of the stores racing cases spread their
// calls over.
func (h *harness) beginOn(t *testing.T, st store.Store) HostTx {
	t.Helper()
	ts := txStore(t, st)
	tx, err := beginTx(h.ctx, ts)
	if err != nil {
		t.Fatalf("begin host transaction: %v", err)
	}
	t.Cleanup(func() { tx.Rollback(context.Background()) })
	return tx
}

// txStore returns st as a TxStore, or skips the case.
func txStore(t *testing.T, st store.Store) TxStore {
	t.Helper()
	ts, ok := st.(TxStore)
	if !ok {
		t.Skip("the store given to Run is no storetest.TxStore: its store.Tx is not tested")
	}
	return ts
}

// beginTx opens a host transaction on ts, whose Commit and Rollback may be
// called again, and after each other: only the first call ends it.
func beginTx(ctx context.Context, ts TxStore) (HostTx, error) {
	tx, err := ts.BeginHostTx(ctx)
	if err != nil {
		return HostTx{}, err
	}
	var once sync.Once
	end := func(fn func(context.Context) error) func(context.Context) error {
		return func(ctx context.Context) error {
			err := errors.New("the host transaction already ended")
			once.Do(func() { err = fn(ctx) })
			return err
		}
	}
	tx.Commit, tx.Rollback = end(tx.Commit), end(tx.Rollback)
	return tx, nil
}

// txEvent returns an event of o's type, created now, with a delivery to
// each of o's endpoints, as nahook would route it.
func (h *harness) txEvent(o *outbox, payload, idempotencyKey string) (store.Event, []store.Delivery) {
	ev := store.Event{ID: store.EventID(typeid.New("msg")), WorkspaceID: o.ws.ID, EnvironmentID: o.env.ID, EventType: o.et.Name,
		Payload: []byte(payload), IdempotencyKey: idempotencyKey, CreatedAt: h.at()}
	return ev, []store.Delivery{
		{ID: store.DeliveryID(typeid.New("dlv")), EndpointID: o.a.ID},
		{ID: store.DeliveryID(typeid.New("dlv")), EndpointID: o.b.ID},
	}
}

var sendTxRaces = []test{
	{
		name:     "Tx.Ingest/KeyRace",
		contract: "Two host transactions ingesting one idempotency key at once store one event: the second waits for the first and, when it commits, replays its event, without error; when it rolls back, the second stores its own.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			for _, commit := range []bool{true, false} {
				key := "order-commit"
				if !commit {
					key = "order-rollback"
				}
				a := h.beginOn(t, h.stores[0])
				other := txStore(t, h.stores[1%len(h.stores)])
				first, ds := h.txEvent(o, `{"n": 1}`, key)
				_, _, _, err := a.Tx.Ingest(h.ctx, first, ds)
				is.NoErr(err)

				type answer struct {
					ev       store.Event
					replayed bool
					err      error
				}
				second, ds2 := h.txEvent(o, `{"n": 1}`, key)
				done := make(chan answer, 1)
				go func() {
					b, err := beginTx(h.ctx, other) // on a single-writer database, this waits for a
					if err != nil {
						done <- answer{err: err}
						return
					}
					defer b.Rollback(context.Background())
					ev, _, replayed, err := b.Tx.Ingest(h.ctx, second, ds2)
					if err == nil {
						err = b.Commit(h.ctx)
					}
					done <- answer{ev, replayed, err}
				}()
				select {
				case got := <-done:
					t.Fatalf("the second transaction did not wait for the first: %+v", got)
				case <-time.After(200 * time.Millisecond):
				}
				if commit {
					is.NoErr(a.Commit(h.ctx))
				} else {
					is.NoErr(a.Rollback(h.ctx))
				}
				got := <-done
				is.NoErr(got.err)
				if commit {
					is.True(got.replayed)
					is.Equal(got.ev, first)
				} else {
					is.True(!got.replayed)
					is.Equal(got.ev, second)
				}
				stored, _, err := h.st.GetEventByIdempotencyKey(h.ctx, o.ws.ID, o.env.ID, key)
				is.NoErr(err)
				is.Equal(stored, got.ev)
			}
		},
	},
}
