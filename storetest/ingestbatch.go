package storetest

import (
	"errors"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
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
	{
		name: "IngestBatch/SkipsDeletedEndpoints",
		contract: "In a batch as alone, a delivery to an endpoint deleted since the event was routed, or to an endpoint of another workspace, " +
			"is left out rather than failing the batch; each item's other deliveries are answered in the order given.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			theirs := h.endpoint(t, h.workspace(t).ID, nahook.EndpointInput{})
			now := h.at()
			item := func(endpoints ...store.EndpointID) store.IngestItem {
				it := store.IngestItem{Event: store.Event{ID: store.EventID(typeid.New("msg")), WorkspaceID: o.ws.ID, EnvironmentID: o.env.ID,
					EventType: "order.created", Payload: []byte(`{}`), CreatedAt: now}}
				for _, ep := range endpoints {
					it.Deliveries = append(it.Deliveries, store.Delivery{ID: store.DeliveryID(typeid.New("dlv")), EndpointID: ep})
				}
				return it
			}
			items := []store.IngestItem{
				item(o.b.ID, "ep_01kaaaaaaaaaaaaaaaaaaaaaaa", o.a.ID, theirs.ID),
				item(theirs.ID),
				item(o.a.ID, o.b.ID),
			}
			got, err := h.st.IngestBatch(h.ctx, items)
			is.NoErr(err)
			is.Equal(len(got), 3)
			endpoints := func(r store.IngestResult) []store.EndpointID {
				var eps []store.EndpointID
				for _, d := range r.Deliveries {
					eps = append(eps, d.EndpointID)
				}
				return eps
			}
			is.Equal(endpoints(got[0]), []store.EndpointID{o.b.ID, o.a.ID})
			is.Equal(len(got[1].Deliveries), 0) // stored, with nothing to deliver
			is.True(!got[1].Replayed)
			is.Equal(endpoints(got[2]), []store.EndpointID{o.a.ID, o.b.ID})
			list, err := h.st.ListDeliveries(h.ctx, theirs.WorkspaceID, store.DeliveryFilter{}, store.PageRequest{Limit: 100})
			is.NoErr(err)
			is.Equal(len(list), 0) // nothing reached the other workspace
		},
	},
}
