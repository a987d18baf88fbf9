package storetest

import (
	"errors"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
)

var ingestBatchTests = []test{
	{
		name: "IngestBatch/AsIngestWould",
		contract: "IngestBatch answers each item, in order, as Ingest would alone: its event and deliveries stored; an idempotency key " +
			"used before (committed) or earlier in the batch replays that event and stores nothing; an empty batch is no error.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			before := o.ingest(t, `{"n": 0}`, "before")
			now := h.at()
			event := func(payload, key string) store.IngestItem {
				ev := store.Event{ID: store.EventID(typeid.New("msg")), WorkspaceID: o.ws.ID, EnvironmentID: o.env.ID,
					EventType: "order.created", Payload: []byte(payload), IdempotencyKey: key, CreatedAt: now}
				return store.IngestItem{Event: ev, Deliveries: []store.Delivery{
					{ID: store.DeliveryID(typeid.New("dlv")), EndpointID: o.a.ID},
					{ID: store.DeliveryID(typeid.New("dlv")), EndpointID: o.b.ID},
				}}
			}
			items := []store.IngestItem{event(`{"n": 1}`, ""), event(`{"n": 2}`, "k"), event(`{"n": 3}`, "k"), event(`{"n": 4}`, "before")}
			got, err := h.st.IngestBatch(h.ctx, items)
			is.NoErr(err)
			is.Equal(len(got), 4)

			for _, i := range []int{0, 1} { // stored, as given
				is.True(!got[i].Replayed)
				is.Equal(got[i].Event.ID, items[i].Event.ID)
				is.Equal(len(got[i].Deliveries), 2)
				stored, err := h.st.GetEvent(h.ctx, o.ws.ID, items[i].Event.ID)
				is.NoErr(err)
				is.Equal(string(stored.Payload), string(items[i].Event.Payload))
			}
			is.True(got[2].Replayed) // the key of the item before it
			is.Equal(got[2].Event.ID, items[1].Event.ID)
			is.Equal(len(got[2].Deliveries), 2)
			is.True(got[3].Replayed) // the key of an event committed before
			is.Equal(got[3].Event.ID, before.Event.ID)
			for _, i := range []int{2, 3} {
				_, err := h.st.GetEvent(h.ctx, o.ws.ID, items[i].Event.ID)
				is.True(errors.Is(err, store.ErrNotFound)) // nothing stored for a replay
			}
			is.Equal(len(h.deliveriesTo(t, o.ws.ID, o.a.ID)), 3) // before's, 1's and 2's

			empty, err := h.st.IngestBatch(h.ctx, nil)
			is.NoErr(err)
			is.Equal(len(empty), 0)
		},
	},
	{
		name:     "IngestBatch/AllOrNothing",
		contract: "IngestBatch stores nothing of a batch when one item cannot be stored (here: an environment the workspace does not have).",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			now := h.at()
			good := store.Event{ID: store.EventID(typeid.New("msg")), WorkspaceID: o.ws.ID, EnvironmentID: o.env.ID,
				EventType: "order.created", Payload: []byte(`{}`), CreatedAt: now}
			bad := good
			bad.ID = store.EventID(typeid.New("msg"))
			bad.EnvironmentID = store.EnvironmentID(typeid.New("env"))
			_, err := h.st.IngestBatch(h.ctx, []store.IngestItem{
				{Event: good, Deliveries: []store.Delivery{{ID: store.DeliveryID(typeid.New("dlv")), EndpointID: o.a.ID}}},
				{Event: bad},
			})
			is.True(err != nil)
			_, err = h.st.GetEvent(h.ctx, o.ws.ID, good.ID)
			is.True(errors.Is(err, store.ErrNotFound)) // the good one went with the bad
			is.Equal(len(h.deliveriesTo(t, o.ws.ID, o.a.ID)), 0)
		},
	},
}
