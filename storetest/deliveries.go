package storetest

import (
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

var deliveryTests = join(
	[]test{
		{
			name:     "RetryDelivery/FailedOnly",
			contract: "Only a failed delivery can be retried: it becomes pending and due at the time given, keeping its attempts; any other is ErrConflict and changes nothing.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				o := h.outbox(t)
				in := o.ingest(t, `{}`, "")
				d := in.Deliveries[0]
				_, err := h.st.RetryDelivery(h.ctx, o.ws.ID, d.ID, h.at())
				wantErr(t, err, store.ErrConflict, "") // pending
				recordOne(t, h, d, store.DeliveryFailed, 410, in.Event.CreatedAt)
				h.tick()
				retried, err := h.st.RetryDelivery(h.ctx, o.ws.ID, d.ID, h.at())
				is.NoErr(err)
				is.Equal(retried.Status, nahook.DeliveryPending)
				is.Equal(retried.Attempts, 1)
				is.Equal(retried.NextAttemptAt, h.at())
				got, attempts, err := h.st.GetDelivery(h.ctx, o.ws.ID, d.ID)
				is.NoErr(err)
				is.Equal(got, retried) // as returned
				is.Equal(len(attempts), 1)
				is.Equal(len(h.claimAll(t, h.at())), 2) // due again, beside the other delivery

				recordOne(t, h, d, store.DeliverySucceeded, 200, h.at())
				before, _, err := h.st.GetDelivery(h.ctx, o.ws.ID, d.ID)
				is.NoErr(err)
				_, err = h.st.RetryDelivery(h.ctx, o.ws.ID, d.ID, h.at())
				wantErr(t, err, store.ErrConflict, "") // succeeded
				after, _, err := h.st.GetDelivery(h.ctx, o.ws.ID, d.ID)
				is.NoErr(err)
				is.Equal(after, before) // the refused retry changed nothing
			},
		},
		{
			name:     "ListDeliveries/Filters",
			contract: "Deliveries list by workspace, narrowed by endpoint, event, the application owning their endpoint, status and a time window (Until excluded); a filter naming another workspace's endpoint, event or application lists nothing.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				o := h.outbox(t)
				first := o.ingest(t, `{}`, "")
				o.ingest(t, `{}`, "")
				list := func(ws nahook.WorkspaceID, f store.DeliveryFilter) []store.Delivery {
					t.Helper()
					ds, err := h.st.ListDeliveries(h.ctx, ws, f, store.PageRequest{Limit: 100})
					is.NoErr(err)
					return ds
				}
				is.Equal(len(list(o.ws.ID, store.DeliveryFilter{})), 4)
				toA := list(o.ws.ID, store.DeliveryFilter{EndpointID: o.a.ID})
				is.Equal(len(toA), 2)
				for _, d := range toA {
					is.Equal(d.EndpointID, o.a.ID)
				}
				d := toA[0]
				recordOne(t, h, d, store.DeliverySucceeded, 200, d.CreatedAt)
				ok := list(o.ws.ID, store.DeliveryFilter{Status: nahook.DeliverySucceeded})
				is.Equal(len(ok), 1)
				is.Equal(ok[0].ID, d.ID)
				is.Equal(len(list(o.ws.ID, store.DeliveryFilter{Status: nahook.DeliveryPending, EndpointID: o.a.ID})), 1)
				ofFirst := list(o.ws.ID, store.DeliveryFilter{EventID: first.Event.ID})
				is.Equal(len(ofFirst), 2)
				for _, d := range ofFirst {
					is.Equal(d.EventID, first.Event.ID)
				}
				is.Equal(len(list(o.ws.ID, store.DeliveryFilter{EventID: first.Event.ID, EndpointID: o.b.ID})), 1)
				acme := h.app(t, o.ws.ID, "acme")
				owned := h.endpoint(t, o.ws.ID, nahook.EndpointInput{ApplicationID: acme.ID, EventTypes: []string{"order.created"}})
				h.tick()
				since := h.at()
				forAcme, err := h.nh.Events.Ingest(h.ctx, o.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{}`), ApplicationID: acme.ID})
				is.NoErr(err)
				h.tick()
				until := h.at()
				o.ingest(t, `{}`, "")
				toAcme := list(o.ws.ID, store.DeliveryFilter{ApplicationID: acme.ID})
				is.Equal(len(toAcme), 1)
				is.Equal(toAcme[0].EndpointID, owned.ID)
				window := list(o.ws.ID, store.DeliveryFilter{Since: since, Until: until})
				is.Equal(len(window), 1)
				is.Equal(window[0].EventID, forAcme.Event.ID)
				is.Equal(len(list(o.ws.ID, store.DeliveryFilter{Since: until})), 2) // the last event's, to a and b

				other := h.outbox(t)
				other.ingest(t, `{}`, "")
				is.Equal(len(list(other.ws.ID, store.DeliveryFilter{EndpointID: o.a.ID})), 0) // not through another workspace
				is.Equal(len(list(other.ws.ID, store.DeliveryFilter{EventID: first.Event.ID})), 0)
				is.Equal(len(list(other.ws.ID, store.DeliveryFilter{ApplicationID: acme.ID})), 0)
				for _, d := range list(other.ws.ID, store.DeliveryFilter{}) {
					is.Equal(d.WorkspaceID, other.ws.ID) // its own only
				}
				_, err = h.nh.Deliveries.List(h.ctx, other.ws.ID, nahook.DeliveryFilter{EndpointID: o.a.ID}, nahook.ListOptions{})
				wantErr(t, err, nahook.ErrNotFound, "") // through nahook, another workspace's endpoint is not found
			},
		},
		{
			name:     "ListDeliveries/NewestFirst",
			contract: "Deliveries list newest first when asked, every one exactly once across pages.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				o := h.outbox(t)
				var want []nahook.DeliveryID
				for range 5 {
					in := o.ingest(t, `{}`, "")
					for _, d := range in.Deliveries {
						if d.EndpointID == o.a.ID {
							want = append([]nahook.DeliveryID{d.ID}, want...)
						}
					}
				}
				got := all(t, func(opts nahook.ListOptions) (nahook.Page[nahook.Delivery], error) {
					opts.Limit = 2
					return h.nh.Deliveries.List(h.ctx, o.ws.ID, nahook.DeliveryFilter{EndpointID: o.a.ID, NewestFirst: true}, opts)
				})
				var ids []nahook.DeliveryID
				for _, d := range got {
					ids = append(ids, d.ID)
				}
				is.Equal(ids, want)
			},
		},
	},
	scoped("GetDelivery", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		_, _, err := h.st.GetDelivery(h.ctx, ws, id.delivery)
		return err
	}),
	scoped("RetryDelivery", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		_, err := h.st.RetryDelivery(h.ctx, ws, id.delivery, h.at())
		return err
	}),
)
