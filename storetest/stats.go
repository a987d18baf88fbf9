package storetest

import (
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

var statsTests = []test{
	{
		name:     "Stats/Empty",
		contract: "Stats of a store with nothing in it is all zeros, OldestDue zero.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			st, err := h.st.Stats(h.ctx, h.clock())
			is.NoErr(err)
			is.Equal(st, store.Stats{})
		},
	},
	{
		name: "Stats/Outbox",
		contract: "Stats counts every workspace's pending deliveries; those due now and not leased (of enabled endpoints only) as Due, " +
			"with the earliest's time as OldestDue; the leased as InFlight; and endpoints enabled, on probation (of the enabled) and disabled. " +
			"A claim moves a delivery from Due to InFlight, a recorded success out of Pending and its endpoint off probation.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			first := o.ingest(t, `{"n": 1}`, "")
			h.tick()
			second := o.ingest(t, `{"n": 2}`, "")
			h.tick()
			o.ingest(t, `{"n": 3}`, "")
			// Another workspace's endpoint, enabled, with nothing due.
			other := h.workspace(t)
			h.endpoint(t, other.ID, nahook.EndpointInput{URL: "https://other.example/hook", EventTypes: []string{"*"}})
			_, err := h.nh.Endpoints.Update(h.ctx, o.ws.ID, o.b.ID, nahook.EndpointPatch{Disabled: ptr(true)})
			is.NoErr(err)
			now := h.clock().Add(time.Millisecond)

			st, err := h.st.Stats(h.ctx, now)
			is.NoErr(err)
			is.Equal(st, store.Stats{Pending: 6, Due: 3, OldestDue: first.Event.CreatedAt,
				Endpoints: 2, EndpointsOnProbation: 2, EndpointsDisabled: 1}) // b's three wait for it, never due

			before, err := h.st.Stats(h.ctx, first.Event.CreatedAt.Add(-time.Millisecond))
			is.NoErr(err)
			is.Equal(before.Due, 0) // nothing due yet
			is.Equal(before.OldestDue, time.Time{})
			is.Equal(before.Pending, 6)

			claimed, err := h.st.ClaimDeliveries(h.ctx, now, time.Minute, []store.ClaimRequest{{EndpointID: o.a.ID, Want: 1, MaxInFlight: 4}})
			is.NoErr(err)
			is.Equal(len(claimed), 1)
			is.Equal(claimed[0].Delivery.EventID, first.Event.ID) // the earliest due
			st, err = h.st.Stats(h.ctx, now)
			is.NoErr(err)
			is.Equal(st, store.Stats{Pending: 6, Due: 2, InFlight: 1, OldestDue: second.Event.CreatedAt,
				Endpoints: 2, EndpointsOnProbation: 2, EndpointsDisabled: 1})

			is.NoErr(recordAttempts(h.ctx, h.st, []store.AttemptResult{{DeliveryID: claimed[0].Delivery.ID, WorkspaceID: o.ws.ID,
				EndpointID: o.a.ID, Attempt: store.Attempt{Number: 1, AttemptedAt: now, StatusCode: 200}, Status: nahook.DeliverySucceeded}}, 0))
			st, err = h.st.Stats(h.ctx, now)
			is.NoErr(err)
			is.Equal(st, store.Stats{Pending: 5, Due: 2, OldestDue: second.Event.CreatedAt,
				Endpoints: 2, EndpointsOnProbation: 1, EndpointsDisabled: 1}) // a is off probation; the other workspace's is new
		},
	},
}
