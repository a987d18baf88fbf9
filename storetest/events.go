package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
)

var eventTests = join(
	[]test{
		{
			name:     "Ingest/Outbox",
			contract: "Ingesting stores the event, byte for byte, and one pending delivery due at once per endpoint it is routed to, before it returns.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				o := h.outbox(t)
				payload := `{"orderId": "ord_1",  "total": 42.50, "note": "ünïcode"}`
				in := o.ingest(t, payload, "")
				is.True(!in.Replayed)
				is.True(strings.HasPrefix(string(in.Event.ID), "msg_"))
				is.Equal(in.Event.EventType, "order.created")
				is.Equal(in.Event.EnvironmentID, o.env.ID)
				is.Equal(endpointsOf(in.Deliveries), endpointsOf([]nahook.Delivery{{EndpointID: o.a.ID}, {EndpointID: o.b.ID}}))
				ev, err := h.st.GetEvent(h.ctx, o.ws.ID, in.Event.ID)
				is.NoErr(err)
				is.Equal(string(ev.Payload), payload) // byte for byte: what is signed must be what was sent
				is.Equal(ev, in.Event)
				for _, d := range in.Deliveries {
					got, attempts, err := h.st.GetDelivery(h.ctx, o.ws.ID, d.ID)
					is.NoErr(err)
					is.Equal(got, d) // as Ingest returned it
					is.Equal(got.Status, nahook.DeliveryPending)
					is.Equal(got.Attempts, 0)
					is.Equal(got.NextAttemptAt, in.Event.CreatedAt) // due at once
					is.Equal(got.EventID, in.Event.ID)
					is.Equal(len(attempts), 0)
				}
				page, err := h.st.ListDeliveries(h.ctx, o.ws.ID, store.DeliveryFilter{}, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(page), 2) // nothing more
			},
		},
		{
			name:     "Ingest/Idempotent",
			contract: "An idempotency key makes a repeated ingest in the same environment return the first event and deliveries and store nothing, even after routing changed; the same key in another environment is another event.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				o := h.outbox(t)
				first := o.ingest(t, `{"n": 1}`, "order-1")
				again := o.ingest(t, `{"n": 1}`, "order-1")
				is.True(again.Replayed)
				is.Equal(again.Event, first.Event)
				is.Equal(endpointsOf(again.Deliveries), endpointsOf(first.Deliveries))
				page, err := h.st.ListDeliveries(h.ctx, o.ws.ID, store.DeliveryFilter{}, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(page), 2) // nothing new stored

				// The store itself replays: another event under the same key.
				ev := first.Event
				ev.ID = store.EventID(typeid.New("msg"))
				stored, ds, replayed, err := h.st.Ingest(h.ctx, ev, []store.Delivery{{ID: store.DeliveryID(typeid.New("dlv")), EndpointID: o.a.ID}})
				is.NoErr(err)
				is.True(replayed)
				is.Equal(stored, first.Event)
				is.Equal(endpointsOf(ds), endpointsOf(first.Deliveries))
				_, err = h.st.GetEvent(h.ctx, o.ws.ID, ev.ID)
				wantErr(t, err, store.ErrNotFound, "") // and stored nothing

				is.NoErr(h.nh.EventTypes.SetPublished(h.ctx, o.ws.ID, o.env.ID, o.et.ID, false))
				late := o.ingest(t, `{"n": 1}`, "order-1")
				is.True(late.Replayed)
				is.Equal(late.Event.ID, first.Event.ID) // answered as the first was, though no longer routable
				_, err = h.nh.Events.Ingest(h.ctx, o.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{}`), IdempotencyKey: "order-2"})
				wantErr(t, err, nahook.ErrNotPublished, "eventType") // a new key is routed afresh

				staging := h.env(t, o.ws.ID, "staging")
				h.publish(t, o.ws.ID, staging.ID, o.et.ID)
				stagingKey := h.key(t, o.ws.ID, staging.ID)
				other, err := h.nh.Events.Ingest(h.ctx, stagingKey.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{}`), IdempotencyKey: "order-1"})
				is.NoErr(err)
				is.True(!other.Replayed) // keys are per environment
				is.True(other.Event.ID != first.Event.ID)
			},
		},
		{
			name:     "Ingest/IdempotencyKeyReused",
			contract: "An idempotency key used again with another payload (byte for byte), event type, endpoint, application or audience (broadcast or not) is ErrIdempotencyKeyReused and stores nothing; the event keeps what it was sent to.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				o := h.outbox(t)
				h.publish(t, o.ws.ID, o.env.ID, h.eventType(t, o.ws.ID, "order.refunded").ID)
				app := h.app(t, o.ws.ID, "cust_1")
				first := o.ingest(t, `{"n": 1}`, "order-1")
				is.Equal(first.Event.EndpointID, nahook.EndpointID(""))
				is.Equal(first.Event.ApplicationID, nahook.ApplicationID(""))
				direct, err := h.nh.Events.IngestDirect(h.ctx, o.key.Plaintext, o.a.ID, nahook.IngestInput{Payload: []byte(`{}`), IdempotencyKey: "direct-1"})
				is.NoErr(err)
				stored, err := h.st.GetEvent(h.ctx, o.ws.ID, direct.Event.ID)
				is.NoErr(err)
				is.Equal(stored.EndpointID, o.a.ID) // kept with the event
				broadcast, err := h.nh.Events.Ingest(h.ctx, o.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{}`), IdempotencyKey: "all-1", Broadcast: true})
				is.NoErr(err)
				stored, err = h.st.GetEvent(h.ctx, o.ws.ID, broadcast.Event.ID)
				is.NoErr(err)
				is.True(stored.Broadcast) // kept with the event
				is.True(!first.Event.Broadcast)
				again, err := h.nh.Events.Ingest(h.ctx, o.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{}`), IdempotencyKey: "all-1", Broadcast: true})
				is.NoErr(err)
				is.True(again.Replayed)
				is.Equal(again.Event.ID, broadcast.Event.ID)
				ingest := func(eventType string, in nahook.IngestInput) error {
					_, err := h.nh.Events.Ingest(h.ctx, o.key.Plaintext, eventType, in)
					return err
				}
				for _, c := range []struct {
					what string
					err  error
				}{
					{"another payload", ingest("order.created", nahook.IngestInput{Payload: []byte(`{"n": 2}`), IdempotencyKey: "order-1"})},
					{"the payload spaced otherwise", ingest("order.created", nahook.IngestInput{Payload: []byte(`{"n":1}`), IdempotencyKey: "order-1"})},
					{"another event type", ingest("order.refunded", nahook.IngestInput{Payload: []byte(`{"n": 1}`), IdempotencyKey: "order-1"})},
					{"an application", ingest("order.created", nahook.IngestInput{Payload: []byte(`{"n": 1}`), IdempotencyKey: "order-1", ApplicationID: app.ID})},
					{"a broadcast", ingest("order.created", nahook.IngestInput{Payload: []byte(`{"n": 1}`), IdempotencyKey: "order-1", Broadcast: true})},
					{"not a broadcast", ingest("order.created", nahook.IngestInput{Payload: []byte(`{}`), IdempotencyKey: "all-1"})},
					{"one endpoint", func() error {
						_, err := h.nh.Events.IngestDirect(h.ctx, o.key.Plaintext, o.a.ID, nahook.IngestInput{Payload: []byte(`{"n": 1}`), IdempotencyKey: "order-1"})
						return err
					}()},
					{"another endpoint", func() error {
						_, err := h.nh.Events.IngestDirect(h.ctx, o.key.Plaintext, o.b.ID, nahook.IngestInput{Payload: []byte(`{}`), IdempotencyKey: "direct-1"})
						return err
					}()},
				} {
					t.Logf("%s: %v", c.what, c.err)
					wantErr(t, c.err, nahook.ErrIdempotencyKeyReused, "idempotencyKey")
				}
				page, err := h.st.ListDeliveries(h.ctx, o.ws.ID, store.DeliveryFilter{}, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(page), 3+len(broadcast.Deliveries)) // the three events' deliveries, nothing more
			},
		},
		{
			name:     "ListEvents/Filters",
			contract: "Events list by workspace, without their payloads, narrowed by environment, type, application and a time window (Until excluded), oldest or newest first; another workspace's events are never listed.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				o := h.outbox(t)
				acme := h.app(t, o.ws.ID, "acme")
				refunded := h.eventType(t, o.ws.ID, "order.refunded")
				h.publish(t, o.ws.ID, o.env.ID, refunded.ID)
				staging := h.env(t, o.ws.ID, "staging")
				h.publish(t, o.ws.ID, staging.ID, o.et.ID)
				stagingKey := h.key(t, o.ws.ID, staging.ID)
				send := func(key, eventType string, in nahook.IngestInput) nahook.EventID {
					t.Helper()
					in.Payload = []byte(`{"big": "payload"}`)
					got, err := h.nh.Events.Ingest(h.ctx, key, eventType, in)
					is.NoErr(err)
					h.tick()
					return got.Event.ID
				}
				first := send(o.key.Plaintext, "order.created", nahook.IngestInput{})
				since := h.at()
				forAcme := send(o.key.Plaintext, "order.created", nahook.IngestInput{ApplicationID: acme.ID})
				refund := send(o.key.Plaintext, "order.refunded", nahook.IngestInput{})
				inStaging := send(stagingKey.Plaintext, "order.created", nahook.IngestInput{})
				until := h.at()
				last := send(o.key.Plaintext, "order.created", nahook.IngestInput{})
				h.outbox(t).ingest(t, `{}`, "") // another workspace's

				ids := func(f store.EventFilter) []nahook.EventID {
					t.Helper()
					evs, err := h.st.ListEvents(h.ctx, o.ws.ID, f, store.PageRequest{Limit: 100})
					is.NoErr(err)
					var out []nahook.EventID
					for _, ev := range evs {
						is.Equal(ev.WorkspaceID, o.ws.ID)
						is.Equal(len(ev.Payload), 0) // left out of lists
						out = append(out, ev.ID)
					}
					return out
				}
				is.Equal(ids(store.EventFilter{}), []nahook.EventID{first, forAcme, refund, inStaging, last})
				is.Equal(ids(store.EventFilter{NewestFirst: true}), []nahook.EventID{last, inStaging, refund, forAcme, first})
				is.Equal(ids(store.EventFilter{EnvironmentID: staging.ID}), []nahook.EventID{inStaging})
				is.Equal(ids(store.EventFilter{EventType: "order.refunded"}), []nahook.EventID{refund})
				is.Equal(ids(store.EventFilter{ApplicationID: acme.ID}), []nahook.EventID{forAcme})
				is.Equal(ids(store.EventFilter{Since: since, Until: until}), []nahook.EventID{forAcme, refund, inStaging})
				is.Equal(ids(store.EventFilter{Since: since, EventType: "order.created", EnvironmentID: o.env.ID}), []nahook.EventID{forAcme, last})
				page, err := h.st.ListEvents(h.ctx, o.ws.ID, store.EventFilter{NewestFirst: true}, store.PageRequest{After: string(refund), Limit: 100})
				is.NoErr(err)
				is.Equal(len(page), 2) // older than refund: forAcme, first
				is.Equal(page[0].ID, forAcme)
				is.Equal(page[0].ApplicationID, acme.ID)
			},
		},
		{
			name:     "Ingest/SkipsDeletedEndpoints",
			contract: "A delivery to an endpoint deleted since the event was routed, or to an endpoint of another workspace, is left out of the outbox rather than failing the ingest.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				o := h.outbox(t)
				theirs := h.endpoint(t, h.workspace(t).ID, nahook.EndpointInput{})
				now := h.at()
				ev := store.Event{ID: store.EventID(typeid.New("msg")), WorkspaceID: o.ws.ID, EnvironmentID: o.env.ID, EventType: "order.created", Payload: []byte(`{}`), CreatedAt: now}
				ds := []store.Delivery{
					{ID: store.DeliveryID(typeid.New("dlv")), EndpointID: o.a.ID},
					{ID: store.DeliveryID(typeid.New("dlv")), EndpointID: "ep_01kaaaaaaaaaaaaaaaaaaaaaaa"},
					{ID: store.DeliveryID(typeid.New("dlv")), EndpointID: theirs.ID},
				}
				_, stored, replayed, err := h.st.Ingest(h.ctx, ev, ds)
				is.NoErr(err)
				is.True(!replayed)
				is.Equal(len(stored), 1)
				is.Equal(stored[0].EndpointID, o.a.ID)
				_, _, err = h.st.GetDelivery(h.ctx, theirs.WorkspaceID, ds[2].ID)
				wantErr(t, err, store.ErrNotFound, "") // nothing reached the other workspace
				list, err := h.st.ListDeliveries(h.ctx, theirs.WorkspaceID, store.DeliveryFilter{}, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(list), 0)
			},
		},
		{
			name: "Ingest/ForApplication",
			contract: "An event ingested for an application goes to that application's routed endpoints only, whatever others subscribe to; one for no application to the endpoints of none, unless broadcast; an application not in the workspace is ErrNotFound naming applicationId and stores nothing; " +
				"a direct ingest for an application refuses another's endpoint.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				o := h.outbox(t) // a and b belong to no application
				acme := h.app(t, o.ws.ID, "acme")
				globex := h.app(t, o.ws.ID, "globex")
				acmeEP := h.endpoint(t, o.ws.ID, nahook.EndpointInput{ApplicationID: acme.ID, URL: "https://acme.example/hook", EventTypes: []string{"order.created"}})
				p := h.portal(t, h.portalSession(t, o.ws.ID, nahook.PortalSessionInput{ApplicationID: globex.ID}).Token)
				greedy, err := p.CreateEndpoint(h.ctx, nahook.PortalEndpointInput{URL: "https://globex.example/all", EventTypes: []string{"*"}})
				is.NoErr(err)

				in, err := h.nh.Events.Ingest(h.ctx, o.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{"for":"acme"}`), ApplicationID: acme.ID})
				is.NoErr(err)
				is.Equal(endpointsOf(in.Deliveries), []nahook.EndpointID{acmeEP.ID}) // not globex's "*", not the unowned ones
				stored, err := h.st.GetEvent(h.ctx, o.ws.ID, in.Event.ID)
				is.NoErr(err)
				is.Equal(stored.ApplicationID, acme.ID) // kept with the event
				list, err := p.ListDeliveries(h.ctx, greedy.ID, "", nahook.ListOptions{})
				is.NoErr(err)
				is.Equal(len(list.Items), 0) // globex never sees acme's event

				none, err := h.nh.Events.Ingest(h.ctx, o.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{}`)})
				is.NoErr(err)
				is.Equal(endpointsOf(none.Deliveries), []nahook.EndpointID{o.a.ID, o.b.ID}) // for no application: the endpoints of none only
				all, err := h.nh.Events.Ingest(h.ctx, o.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{}`), Broadcast: true})
				is.NoErr(err)
				is.Equal(len(all.Deliveries), 4) // a broadcast: every subscribed endpoint, the applications' too

				other := h.workspace(t)
				before, err := h.st.ListDeliveries(h.ctx, o.ws.ID, store.DeliveryFilter{}, store.PageRequest{Limit: 100})
				is.NoErr(err)
				_, err = h.nh.Events.Ingest(h.ctx, o.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{}`), ApplicationID: h.app(t, other.ID, "acme").ID})
				wantErr(t, err, nahook.ErrNotFound, "applicationId")
				after, err := h.st.ListDeliveries(h.ctx, o.ws.ID, store.DeliveryFilter{}, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(after), len(before)) // the refused ingest stored nothing

				direct, err := h.nh.Events.IngestDirect(h.ctx, o.key.Plaintext, acmeEP.ID, nahook.IngestInput{Payload: []byte(`{}`), ApplicationID: acme.ID})
				is.NoErr(err)
				is.Equal(len(direct.Deliveries), 1)
				_, err = h.nh.Events.IngestDirect(h.ctx, o.key.Plaintext, greedy.ID, nahook.IngestInput{Payload: []byte(`{}`), ApplicationID: acme.ID})
				wantErr(t, err, nahook.ErrNotFound, "applicationId")
			},
		},
		{
			name:     "GetEventByIdempotencyKey/OtherEnvironment",
			contract: "An idempotency key belongs to one environment: looked up in another environment of the same workspace it is ErrNotFound; in its own it returns the event with its deliveries.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				f := h.filled(t)
				_, _, err := h.st.GetEventByIdempotencyKey(h.ctx, f.ws.ID, f.staging.ID, "order-1")
				wantErr(t, err, store.ErrNotFound, "idempotencyKey")
				ev, ds, err := h.st.GetEventByIdempotencyKey(h.ctx, f.ws.ID, f.env.ID, "order-1")
				is.NoErr(err)
				is.Equal(ev, f.event.Event)
				is.Equal(endpointsOf(ds), endpointsOf(f.event.Deliveries))
			},
		},
		{
			name:     "PruneEvents/Retention",
			contract: "Pruning deletes events older (by ID) than the cut with their deliveries and attempts, but never one with a delivery still pending, nor a more recent one, and no more than the limit.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				o := h.outbox(t)
				var done []nahook.Ingested
				for range 3 {
					in := o.ingest(t, `{"old": true}`, "")
					for _, d := range in.Deliveries {
						recordOne(t, h, d, store.DeliverySucceeded, 200, in.Event.CreatedAt)
					}
					done = append(done, in)
				}
				waiting := o.ingest(t, `{"old": true, "pending": true}`, "")
				h.tick()
				recent := o.ingest(t, `{"recent": true}`, "")
				n, err := h.st.PruneEvents(h.ctx, recent.Event.ID, 2)
				is.NoErr(err)
				is.Equal(n, 2) // the limit
				n, err = h.st.PruneEvents(h.ctx, recent.Event.ID, 100)
				is.NoErr(err)
				is.Equal(n, 1) // the rest
				for _, in := range done {
					_, err = h.st.GetEvent(h.ctx, o.ws.ID, in.Event.ID)
					wantErr(t, err, store.ErrNotFound, "")
					_, _, err = h.st.GetDelivery(h.ctx, o.ws.ID, in.Deliveries[0].ID)
					wantErr(t, err, store.ErrNotFound, "") // its deliveries went too
				}
				for _, keep := range []nahook.Ingested{waiting, recent} {
					_, err := h.st.GetEvent(h.ctx, o.ws.ID, keep.Event.ID)
					is.NoErr(err)
				}

				// The same event and delivery again: an attempt that
				// survived would be attached.
				ev := done[0].Event
				_, stored, _, err := h.st.Ingest(h.ctx, ev, []store.Delivery{{ID: done[0].Deliveries[0].ID, EndpointID: done[0].Deliveries[0].EndpointID}})
				is.NoErr(err)
				is.Equal(len(stored), 1)
				_, attempts, err := h.st.GetDelivery(h.ctx, o.ws.ID, done[0].Deliveries[0].ID)
				is.NoErr(err)
				is.Equal(len(attempts), 0) // no attempt survived
			},
		},
	},
	scoped("GetEvent", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		_, err := h.st.GetEvent(h.ctx, ws, id.event)
		return err
	}),
	scoped("GetEventByIdempotencyKey", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		_, _, err := h.st.GetEventByIdempotencyKey(h.ctx, ws, id.env, id.idempotencyKey)
		return err
	}),
)

var eventRaces = []test{
	{
		name: "Ingest/IdempotencyKeyUnderRace",
		contract: "Concurrent ingests with one idempotency key store exactly one event: in every round, one answer is the original, every other with the same payload replays it, " +
			"and every other with another payload is ErrIdempotencyKeyReused.",
		run: func(t *testing.T, h *harness) {
			o := h.outbox(t)
			for round := range raceRounds / 2 {
				is := is.New(t)
				key := fmt.Sprint("same-", round)
				var mu sync.Mutex
				var got []nahook.Ingested
				errs := race(20, func(i int) error {
					payload := fmt.Sprint(`{"n":`, i%2, `}`)
					in, err := h.racer(i).Events.Ingest(h.ctx, o.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(payload), IdempotencyKey: key})
					if err == nil {
						mu.Lock()
						got = append(got, in)
						mu.Unlock()
					}
					return err
				})
				counts := tally(t, errs, nahook.ErrIdempotencyKeyReused)
				is.Equal(counts[nil], 10)                            // the winner's payload: the original and its replays
				is.Equal(counts[nahook.ErrIdempotencyKeyReused], 10) // the other payload
				originals := 0
				for _, in := range got {
					is.Equal(in.Event.ID, got[0].Event.ID) // one event
					is.Equal(len(in.Deliveries), 2)
					if !in.Replayed {
						originals++
					}
				}
				is.Equal(originals, 1)
				page, err := h.st.ListDeliveries(h.ctx, o.ws.ID, store.DeliveryFilter{}, store.PageRequest{Limit: 1000})
				is.NoErr(err)
				is.Equal(len(page), 2*(round+1)) // and its two deliveries
			}
		},
	},
}
