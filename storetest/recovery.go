package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
)

var recoveryTests = join(
	[]test{
		{
			name:     "ResendDelivery/AnyStatus",
			contract: "A delivery pending, succeeded or failed is made pending, due at the time given, its retry schedule started over (SeriesStart = Attempts) and its attempts kept; one leased to a dispatcher is ErrConflict and changes nothing.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				o := h.outbox(t)
				in := o.ingest(t, `{}`, "")
				d := in.Deliveries[0]
				at := h.at()
				for _, status := range []store.DeliveryStatus{store.DeliveryPending, store.DeliverySucceeded, store.DeliveryFailed} {
					if status != store.DeliveryPending {
						recordOne(t, h, d, status, map[store.DeliveryStatus]int{store.DeliverySucceeded: 200, store.DeliveryFailed: 410}[status], at)
					}
					h.tick()
					at = h.at()
					before, attempts, err := h.st.GetDelivery(h.ctx, o.ws.ID, d.ID)
					is.NoErr(err)
					is.Equal(before.Status, status)
					resent, err := h.st.ResendDelivery(h.ctx, o.ws.ID, d.ID, at)
					is.NoErr(err)
					is.Equal(resent.Status, nahook.DeliveryPending)
					is.Equal(resent.NextAttemptAt, at)
					is.Equal(resent.Attempts, len(attempts))
					is.Equal(resent.SeriesStart, len(attempts)) // the schedule starts over
					got, kept, err := h.st.GetDelivery(h.ctx, o.ws.ID, d.ID)
					is.NoErr(err)
					is.Equal(got, resent) // as returned
					is.Equal(len(kept), len(attempts))
				}
				// Leased: a dispatcher is attempting it.
				claimed := h.claimAll(t, at)
				is.Equal(len(claimed), 2)
				before, _, err := h.st.GetDelivery(h.ctx, o.ws.ID, d.ID)
				is.NoErr(err)
				_, err = h.st.ResendDelivery(h.ctx, o.ws.ID, d.ID, at)
				wantErr(t, err, store.ErrConflict, "")
				after, _, err := h.st.GetDelivery(h.ctx, o.ws.ID, d.ID)
				is.NoErr(err)
				is.Equal(after, before)
				// Once its lease has run out it may be resent.
				h.advance(2 * time.Minute)
				_, err = h.st.ResendDelivery(h.ctx, o.ws.ID, d.ID, h.at())
				is.NoErr(err)
			},
		},
		{
			name:     "RecoverDeliveries/FailedInWindowOnly",
			contract: "Only the endpoint's failed deliveries made in the window (Until excluded) are made pending, due at the time given, their schedules started over; other statuses, other times, other endpoints and other workspaces are untouched; steps of Limit report the last ID looked at, and the next step goes on from it.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				o := h.outbox(t)
				other := h.outbox(t)
				fail := func(o *outbox) (nahook.Delivery, nahook.Delivery) {
					in := o.ingest(t, `{}`, "")
					for _, d := range in.Deliveries {
						recordOne(t, h, d, store.DeliveryFailed, 500, h.at())
					}
					a, b := in.Deliveries[0], in.Deliveries[1]
					if a.EndpointID != o.a.ID {
						a, b = b, a
					}
					return a, b
				}
				early, _ := fail(o) // before the window
				h.tick()
				since := h.at()
				var inWindow []nahook.DeliveryID
				var toB nahook.Delivery
				for range 3 {
					a, b := fail(o)
					inWindow = append(inWindow, a.ID)
					toB = b
					h.tick()
				}
				succeeded := o.ingest(t, `{}`, "").Deliveries[0]
				recordOne(t, h, succeeded, store.DeliverySucceeded, 200, h.at())
				pending := o.ingest(t, `{}`, "").Deliveries
				otherFailed, _ := fail(other)
				h.tick()
				until := h.at()
				late, _ := fail(o) // made at until: outside

				snapshot := func(ws nahook.WorkspaceID, id nahook.DeliveryID) store.Delivery {
					d, _, err := h.st.GetDelivery(h.ctx, ws, id)
					is.NoErr(err)
					return d
				}
				untouched := map[nahook.DeliveryID]store.Delivery{}
				for _, id := range []nahook.DeliveryID{early.ID, toB.ID, succeeded.ID, pending[0].ID, pending[1].ID, late.ID} {
					untouched[id] = snapshot(o.ws.ID, id)
				}
				untouched[otherFailed.ID] = snapshot(other.ws.ID, otherFailed.ID)

				h.tick()
				at := h.at()
				req := store.RecoverRequest{WorkspaceID: o.ws.ID, EndpointID: o.a.ID, Since: since, Until: until, At: at, Limit: 2}
				n, last, looked, err := h.st.RecoverDeliveries(h.ctx, req)
				is.NoErr(err)
				is.Equal(n, 2)
				is.Equal(looked, 2)
				is.Equal(last, inWindow[1])
				req.After = last
				n, _, looked, err = h.st.RecoverDeliveries(h.ctx, req)
				is.NoErr(err)
				is.Equal(n, 1)
				is.Equal(looked, 1) // fewer than Limit: the end
				for _, id := range inWindow {
					d := snapshot(o.ws.ID, id)
					is.Equal(d.Status, nahook.DeliveryPending)
					is.Equal(d.NextAttemptAt, at)
					is.Equal(d.SeriesStart, 1)
					is.Equal(d.Attempts, 1)
				}
				for id, before := range untouched {
					ws := o.ws.ID
					if id == otherFailed.ID {
						ws = other.ws.ID
					}
					is.Equal(snapshot(ws, id), before)
				}
				// Through the other workspace, nothing.
				n, _, _, err = h.st.RecoverDeliveries(h.ctx, store.RecoverRequest{WorkspaceID: other.ws.ID, EndpointID: o.a.ID,
					Since: since, Until: h.at(), At: at, Limit: 100})
				is.NoErr(err)
				is.Equal(n, 0)
				is.Equal(snapshot(o.ws.ID, late.ID), untouched[late.ID])
			},
		},
		{
			name: "QueueMissing/ApplicationScopeAndIdempotent",
			contract: "QueueMissing adds a pending delivery for each event since Since of the endpoint's environment, routed by a type it receives, for its audience (its application's events and broadcasts; for an endpoint of none, events of none), " +
				"that it has no delivery for; events sent straight to an endpoint, of other types, environments, audiences or times are not missing; a second call adds none.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				o := h.outbox(t)
				acme, globex := h.app(t, o.ws.ID, "acme"), h.app(t, o.ws.ID, "globex")
				staging := h.env(t, o.ws.ID, "staging")
				h.publish(t, o.ws.ID, staging.ID, o.et.ID)
				refunded := h.eventType(t, o.ws.ID, "order.refunded")
				h.publish(t, o.ws.ID, o.env.ID, refunded.ID)
				stagingKey := h.key(t, o.ws.ID, staging.ID)
				send := func(key, eventType string, in nahook.IngestInput) nahook.EventID {
					t.Helper()
					in.Payload = []byte(`{}`)
					got, err := h.nh.Events.Ingest(h.ctx, key, eventType, in)
					is.NoErr(err)
					return got.Event.ID
				}
				send(o.key.Plaintext, "order.created", nahook.IngestInput{ApplicationID: acme.ID}) // before Since
				h.tick()
				since := h.at()
				forAcme := send(o.key.Plaintext, "order.created", nahook.IngestInput{ApplicationID: acme.ID})
				forAll := send(o.key.Plaintext, "order.created", nahook.IngestInput{Broadcast: true})
				forNone := send(o.key.Plaintext, "order.created", nahook.IngestInput{})
				send(o.key.Plaintext, "order.created", nahook.IngestInput{ApplicationID: globex.ID})
				send(o.key.Plaintext, "order.refunded", nahook.IngestInput{ApplicationID: acme.ID}) // a type not received
				send(stagingKey.Plaintext, "order.created", nahook.IngestInput{ApplicationID: acme.ID})
				direct, err := h.nh.Events.IngestDirect(h.ctx, o.key.Plaintext, o.a.ID, nahook.IngestInput{Payload: []byte(`{}`)})
				is.NoErr(err)
				_ = direct
				h.tick()

				acmeEP := h.endpoint(t, o.ws.ID, nahook.EndpointInput{ApplicationID: acme.ID, EventTypes: []string{"order.created"}})
				newID := func() nahook.DeliveryID { return nahook.DeliveryID(typeid.New("dlv")) }
				queue := func(ep nahook.Endpoint, limit int) (int, nahook.EventID, int) {
					t.Helper()
					n, last, looked, err := h.st.QueueMissing(h.ctx, store.MissingRequest{WorkspaceID: o.ws.ID, EnvironmentID: o.env.ID,
						EndpointID: ep.ID, ApplicationID: ep.ApplicationID, EventTypes: []string{"order.created"},
						Since: since, At: h.at(), Limit: limit, NewID: newID})
					is.NoErr(err)
					return n, last, looked
				}
				n, last, looked := queue(acmeEP, 100)
				is.Equal(n, 2)
				is.Equal(looked, 2)
				is.Equal(last, forAll)
				got := h.deliveriesTo(t, o.ws.ID, acmeEP.ID)
				is.Equal(len(got), 2)
				is.Equal([]nahook.EventID{got[0].EventID, got[1].EventID}, []nahook.EventID{forAcme, forAll})
				for _, d := range got {
					is.Equal(d.Status, nahook.DeliveryPending)
					is.Equal(d.NextAttemptAt, h.at())
				}
				n, _, looked = queue(acmeEP, 100)
				is.Equal(n, 0) // nothing missing any more
				is.Equal(looked, 0)

				// An endpoint of no application misses the events of none,
				// broadcast or not; it already has those it was routed, as
				// b has.
				unowned := h.endpoint(t, o.ws.ID, nahook.EndpointInput{EventTypes: []string{"order.created"}})
				n, _, _ = queue(unowned, 1)
				is.Equal(n, 1)
				n, _, _ = queue(unowned, 100)
				is.Equal(n, 1)
				got = h.deliveriesTo(t, o.ws.ID, unowned.ID)
				is.Equal([]nahook.EventID{got[0].EventID, got[1].EventID}, []nahook.EventID{forAll, forNone})
				n, _, _ = queue(o.b, 100)
				is.Equal(n, 0)
			},
		},
		{
			name:     "QueueMissing/DeletedEndpoint",
			contract: "An endpoint that does not exist in the workspace gets no delivery, and nothing is stored.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				o := h.outbox(t)
				since := h.at()
				o.ingest(t, `{}`, "")
				other := h.outbox(t)
				n, _, _, err := h.st.QueueMissing(h.ctx, store.MissingRequest{WorkspaceID: other.ws.ID, EnvironmentID: other.env.ID,
					EndpointID: o.a.ID, EventTypes: []string{"order.created"}, Since: since, At: h.at(), Limit: 100,
					NewID: func() nahook.DeliveryID { return nahook.DeliveryID(typeid.New("dlv")) }})
				is.NoErr(err)
				is.Equal(n, 0)
				is.Equal(len(h.deliveriesTo(t, other.ws.ID, o.a.ID)), 0)
			},
		},
	},
	scoped("ResendDelivery", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		_, err := h.st.ResendDelivery(h.ctx, ws, id.delivery, h.at())
		return err
	}),
)

// recoveryRaces race recoveries of one endpoint against each other.
var recoveryRaces = []test{
	{
		name:     "RecoverDeliveries/Race",
		contract: "Callers recovering one endpoint at once, in any process, make each failed delivery pending once: their counts add up to the failed deliveries.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			since := h.at()
			const events = 60
			for range events {
				in := o.ingest(t, `{}`, "")
				for _, d := range in.Deliveries {
					recordOne(t, h, d, store.DeliveryFailed, 500, h.at())
				}
			}
			h.tick()
			for round := range 4 {
				at := h.at()
				is.Equal(sumOfRacers(t, h, func(nh *nahook.Client) (int, error) {
					return nh.Deliveries.Recover(h.ctx, o.ws.ID, o.a.ID, nahook.RecoverOptions{Since: since})
				}), events)
				// Fail them all again for the next round.
				for _, d := range h.deliveriesTo(t, o.ws.ID, o.a.ID) {
					is.Equal(d.Status, nahook.DeliveryPending)
					is.Equal(d.NextAttemptAt, at)
					is.Equal(d.SeriesStart, round+1)
					recordOne(t, h, d, store.DeliveryFailed, 500, h.at())
				}
				h.tick()
			}
		},
	},
	{
		name:     "QueueMissing/Race",
		contract: "Callers replaying one endpoint's missing deliveries at once, in any process, add one delivery per event: their counts add up to the events missing.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			since := h.at()
			const events = 60
			for range events {
				o.ingest(t, `{}`, "")
			}
			for range 4 {
				h.tick()
				late := h.endpoint(t, o.ws.ID, nahook.EndpointInput{EventTypes: []string{"order.*"}})
				is.Equal(sumOfRacers(t, h, func(nh *nahook.Client) (int, error) {
					return nh.Deliveries.ReplayMissing(h.ctx, o.ws.ID, late.ID, nahook.ReplayOptions{Since: since})
				}), events)
				is.Equal(len(h.deliveriesTo(t, o.ws.ID, late.ID)), events)
			}
		},
	},
}

// sumOfRacers makes four calls at once, spread over the harness's racing
// clients, and returns the sum of what they count.
func sumOfRacers(t *testing.T, h *harness, call func(nh *nahook.Client) (int, error)) int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for i := range 4 {
		wg.Go(func() {
			n, err := call(h.racer(i))
			if err != nil {
				t.Errorf("racer %d: %v", i, err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	return total
}
