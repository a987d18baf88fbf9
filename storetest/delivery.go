package storetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
)

// outbox is a workspace set up to ingest: order.created published in
// production, two endpoints subscribed, a key.
type outbox struct {
	ws     nahook.Workspace
	env    nahook.Environment
	et     nahook.EventType
	a, b   nahook.Endpoint
	key    nahook.IssuedAPIKey
	ingest func(t *testing.T, payload string, idempotencyKey string) nahook.Ingested
}

func (h *harness) outbox(t *testing.T) *outbox {
	t.Helper()
	o := &outbox{ws: h.workspace(t)}
	o.env = h.defaultEnv(t, o.ws.ID)
	o.et = h.eventType(t, o.ws.ID, "order.created")
	h.publish(t, o.ws.ID, o.env.ID, o.et.ID)
	o.a = h.endpoint(t, o.ws.ID, nahook.EndpointInput{URL: "https://a.example/hook", EventTypes: []string{"order.created"}})
	o.b = h.endpoint(t, o.ws.ID, nahook.EndpointInput{URL: "https://b.example/hook", EventTypes: []string{"order.*"}})
	o.key = h.key(t, o.ws.ID, o.env.ID)
	o.ingest = func(t *testing.T, payload, idempotencyKey string) nahook.Ingested {
		t.Helper()
		in, err := h.nh.Events.Ingest(h.ctx, o.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(payload), IdempotencyKey: idempotencyKey})
		if err != nil {
			t.Fatalf("ingest: %v", err)
		}
		return in
	}
	return o
}

// claimAll claims everything due at now, for a minute, failing the case on
// error.
func (h *harness) claimAll(t *testing.T, now time.Time) []store.Dispatch {
	t.Helper()
	ds, err := claim(h.ctx, h.st, now, 1000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// claim claims, for a minute, up to perEndpoint of each endpoint's
// deliveries due at now, keeping its leases within maxInFlight, as a
// dispatcher does.
func claim(ctx context.Context, st store.Store, now time.Time, perEndpoint, maxInFlight int) ([]store.Dispatch, error) {
	due, err := st.DueEndpoints(ctx, now, perEndpoint, 1000)
	if err != nil {
		return nil, fmt.Errorf("DueEndpoints: %w", err)
	}
	var requests []store.ClaimRequest
	for _, e := range due {
		requests = append(requests, store.ClaimRequest{EndpointID: e.EndpointID, Want: e.Due, MaxInFlight: maxInFlight})
	}
	ds, err := st.ClaimDeliveries(ctx, now, time.Minute, requests)
	if err != nil {
		return nil, fmt.Errorf("ClaimDeliveries: %w", err)
	}
	return ds, nil
}

// dueEndpoints returns DueEndpoints(now, upTo, 1000), failing the case on
// error.
func dueEndpoints(t *testing.T, st store.Store, now time.Time, upTo int) []store.DueEndpoint {
	t.Helper()
	due, err := st.DueEndpoints(t.Context(), now, upTo, 1000)
	if err != nil {
		t.Fatalf("DueEndpoints: %v", err)
	}
	return due
}

func endpointsOf(ds []nahook.Delivery) []nahook.EndpointID {
	var out []nahook.EndpointID
	for _, d := range ds {
		out = append(out, d.EndpointID)
	}
	slices.Sort(out)
	return out
}

var deliveryTests = []test{
	{
		name:     "Events.Ingest/Outbox",
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
			ev, err := h.nh.Events.Get(h.ctx, o.ws.ID, in.Event.ID)
			is.NoErr(err)
			is.Equal(string(ev.Payload), payload) // byte for byte: what is signed must be what was sent
			is.Equal(ev.CreatedAt, in.Event.CreatedAt)
			for _, d := range in.Deliveries {
				got, err := h.nh.Deliveries.Get(h.ctx, o.ws.ID, d.ID)
				is.NoErr(err)
				is.Equal(got.Delivery.Status, nahook.DeliveryPending)
				is.Equal(got.Delivery.Attempts, 0)
				is.Equal(got.Delivery.NextAttemptAt, in.Event.CreatedAt) // due at once
				is.Equal(got.Event.ID, in.Event.ID)
				is.Equal(len(got.Attempts), 0)
			}
			_, err = h.nh.Events.Ingest(h.ctx, o.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{"broken":`)})
			wantErr(t, err, nahook.ErrInvalid, "payload")
			_, err = h.nh.Events.Ingest(h.ctx, o.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{}`), IdempotencyKey: "has space"})
			wantErr(t, err, nahook.ErrInvalid, "idempotencyKey")
			_, err = h.nh.Events.Ingest(h.ctx, o.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte("{\"name\": \"caf\xe9\"}")})
			wantErr(t, err, nahook.ErrInvalid, "payload") // JSON is UTF-8
			page, err := h.nh.Deliveries.List(h.ctx, o.ws.ID, nahook.DeliveryFilter{}, nahook.ListOptions{})
			is.NoErr(err)
			is.Equal(len(page.Items), 2) // the refused ingests stored nothing
		},
	},
	{
		name:     "Events.Ingest/Idempotent",
		contract: "An idempotency key makes a repeated ingest in the same environment return the first event and deliveries and store nothing, even after routing changed; the same key in another environment is another event.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			first := o.ingest(t, `{"n": 1}`, "order-1")
			again := o.ingest(t, `{"n": 1}`, "order-1")
			is.True(again.Replayed)
			is.Equal(again.Event.ID, first.Event.ID)
			is.Equal(endpointsOf(again.Deliveries), endpointsOf(first.Deliveries))
			page, err := h.nh.Deliveries.List(h.ctx, o.ws.ID, nahook.DeliveryFilter{}, nahook.ListOptions{})
			is.NoErr(err)
			is.Equal(len(page.Items), 2) // nothing new stored

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
		name:     "Events.Ingest/IdempotencyKeyReused",
		contract: "An idempotency key used again with another payload (byte for byte), event type, endpoint or application is ErrIdempotencyKeyReused and stores nothing; the event keeps what it was sent to.",
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
			stored, err := h.nh.Events.Get(h.ctx, o.ws.ID, direct.Event.ID)
			is.NoErr(err)
			is.Equal(stored.EndpointID, o.a.ID) // kept with the event
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
			page, err := h.nh.Deliveries.List(h.ctx, o.ws.ID, nahook.DeliveryFilter{}, nahook.ListOptions{})
			is.NoErr(err)
			is.Equal(len(page.Items), 3) // the two events' deliveries, nothing more
		},
	},
	{
		name:     "Store.Ingest/SkipsDeletedEndpoints",
		contract: "A delivery to an endpoint deleted since the event was routed is left out of the outbox rather than failing the ingest.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			now := start.UTC().Truncate(time.Millisecond)
			ev := store.Event{ID: store.EventID(typeid.New("msg")), WorkspaceID: o.ws.ID, EnvironmentID: o.env.ID, EventType: "order.created", Payload: []byte(`{}`), CreatedAt: now}
			ds := []store.Delivery{
				{ID: store.DeliveryID(typeid.New("dlv")), EndpointID: o.a.ID},
				{ID: store.DeliveryID(typeid.New("dlv")), EndpointID: "ep_01kaaaaaaaaaaaaaaaaaaaaaaa"},
			}
			_, stored, replayed, err := h.st.Ingest(h.ctx, ev, ds)
			is.NoErr(err)
			is.True(!replayed)
			is.Equal(len(stored), 1)
			is.Equal(stored[0].EndpointID, o.a.ID)
		},
	},
	{
		name:     "Store.ClaimDeliveries/Lease",
		contract: "A due delivery is claimed once, with its URL, payload and signing key; claimed again only when its lease runs out; a delivery not yet due, or of a disabled endpoint, is not claimed.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			in := o.ingest(t, `{"n": 1}`, "")
			now := in.Event.CreatedAt
			claimed := h.claimAll(t, now.Add(time.Millisecond))
			is.Equal(len(claimed), 2)
			for _, c := range claimed {
				is.Equal(string(c.Payload), `{"n": 1}`)
				is.Equal(c.Delivery.EventID, in.Event.ID)
				is.Equal(c.Delivery.Attempts, 0)
				is.True(c.Keys.Previous == nil)
				is.Equal(len(c.Keys.Current), 32)
				if c.Delivery.EndpointID == o.a.ID {
					is.Equal(c.URL, "https://a.example/hook")
				}
			}
			is.Equal(len(h.claimAll(t, now.Add(time.Second))), 0)             // leased
			is.Equal(len(h.claimAll(t, now.Add(time.Minute+time.Second))), 2) // the lease ran out: due again

			fresh := o.ingest(t, `{"n": 2}`, "")
			is.Equal(len(h.claimAll(t, fresh.Event.CreatedAt.Add(-time.Second))), 0) // not yet due
			_, err := h.nh.Endpoints.Update(h.ctx, o.ws.ID, o.b.ID, nahook.EndpointPatch{Disabled: ptr(true)})
			is.NoErr(err)
			got := h.claimAll(t, fresh.Event.CreatedAt.Add(time.Millisecond))
			is.Equal(len(got), 1) // a disabled endpoint's delivery waits
			is.Equal(got[0].Delivery.EndpointID, o.a.ID)
			_, err = h.nh.Endpoints.Update(h.ctx, o.ws.ID, o.b.ID, nahook.EndpointPatch{Disabled: ptr(false)})
			is.NoErr(err)
			got = h.claimAll(t, fresh.Event.CreatedAt.Add(2*time.Millisecond))
			is.Equal(len(got), 1) // and goes once it is enabled again
			is.Equal(got[0].Delivery.EndpointID, o.b.ID)
		},
	},
	{
		name:     "Store.DueEndpoints/Counts",
		contract: "DueEndpoints lists each enabled endpoint with deliveries due once, earliest due first, with its due deliveries and leases counted up to upTo and its probation (new endpoints are on it); endpoints with nothing due, or disabled, are left out.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			first := o.ingest(t, `{"n": 1}`, "")
			h.tick()
			is.NoErr(h.nh.Endpoints.Delete(h.ctx, o.ws.ID, o.b.ID))
			c := h.endpoint(t, o.ws.ID, nahook.EndpointInput{URL: "https://c.example/hook", EventTypes: []string{"order.created"}})
			d := h.endpoint(t, o.ws.ID, nahook.EndpointInput{URL: "https://d.example/hook", EventTypes: []string{"order.created"}})
			for i := range 3 {
				o.ingest(t, fmt.Sprint(`{"n": `, i+2, `}`), "")
			}
			_, err := h.nh.Endpoints.Update(h.ctx, o.ws.ID, d.ID, nahook.EndpointPatch{Disabled: ptr(true)})
			is.NoErr(err)
			now := h.clock().Add(time.Millisecond)
			is.Equal(len(dueEndpoints(t, h.st, first.Event.CreatedAt.Add(-time.Second), 10)), 0) // nothing due yet

			due := dueEndpoints(t, h.st, now, 2)
			is.Equal(len(due), 2)               // a and c; not d, disabled
			is.Equal(due[0].EndpointID, o.a.ID) // due since the first event
			is.Equal(due[0].DueSince, first.Event.CreatedAt)
			is.Equal(due[1].EndpointID, c.ID)
			for _, e := range due {
				is.Equal(e.Due, 2) // 4 and 3 due, counted up to 2
				is.Equal(e.InFlight, 0)
				is.True(e.Probation) // new: on probation until an attempt succeeds in good time
			}

			claimed, err := h.st.ClaimDeliveries(h.ctx, now, time.Minute, []store.ClaimRequest{{EndpointID: o.a.ID, Want: 3, MaxInFlight: 10}})
			is.NoErr(err)
			is.Equal(len(claimed), 3)
			due = dueEndpoints(t, h.st, now, 10)
			is.Equal(due[0].EndpointID, o.a.ID)
			is.Equal(due[0].Due, 1)      // the one left
			is.Equal(due[0].InFlight, 3) // and the three leased
			is.Equal(dueEndpoints(t, h.st, now, 2)[0].InFlight, 2)
		},
	},
	{
		name:     "Store.ClaimDeliveries/MaxInFlight",
		contract: "A claim leases only as many of an endpoint's due deliveries as keep its leases within MaxInFlight, earliest due first; a lease ends when its attempt is recorded or runs out, and one the caller reports Finished no longer counts.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			var events []nahook.Ingested
			for i := range 5 {
				events = append(events, o.ingest(t, fmt.Sprint(`{"n": `, i, `}`), ""))
				h.tick()
			}
			now := h.clock()
			ask := func(at time.Time, want int, finished ...store.DeliveryID) []store.Dispatch {
				t.Helper()
				ds, err := h.st.ClaimDeliveries(h.ctx, at, time.Minute, []store.ClaimRequest{{EndpointID: o.a.ID, Want: want, MaxInFlight: 2, Finished: finished}})
				is.NoErr(err)
				return ds
			}
			got := ask(now, 5)
			is.Equal(len(got), 2) // the cap, not the five wanted
			slices.SortFunc(got, func(a, b store.Dispatch) int { return strings.Compare(string(a.Delivery.ID), string(b.Delivery.ID)) })
			is.Equal(got[0].Delivery.EventID, events[0].Event.ID)
			is.Equal(got[1].Delivery.EventID, events[1].Event.ID) // earliest due first
			is.Equal(len(ask(now, 5)), 0)                         // at the cap

			is.Equal(len(ask(now, 5, got[0].Delivery.ID)), 1) // one reported finished makes room for one
			is.NoErr(recordAttempts(h.ctx, h.st, []store.AttemptResult{{DeliveryID: got[1].Delivery.ID, WorkspaceID: o.ws.ID, EndpointID: o.a.ID,
				Attempt: store.Attempt{AttemptedAt: now, StatusCode: 200}, Status: nahook.DeliverySucceeded}}, 0))
			is.Equal(len(ask(now, 5, got[0].Delivery.ID)), 1) // a recorded attempt ends its lease

			later := now.Add(time.Minute + time.Second)
			again := ask(later, 5)
			is.Equal(len(again), 2) // the leases ran out: due again, and in flight no more
			var leased []nahook.EventID
			for _, d := range again {
				leased = append(leased, d.Delivery.EventID)
			}
			is.True(slices.Contains(leased, events[4].Event.ID)) // due the longest: since it was ingested, not since a lease ran out

			// A request for an endpoint that is disabled leases nothing.
			_, err := h.nh.Endpoints.Update(h.ctx, o.ws.ID, o.b.ID, nahook.EndpointPatch{Disabled: ptr(true)})
			is.NoErr(err)
			ds, err := h.st.ClaimDeliveries(h.ctx, later, time.Minute, []store.ClaimRequest{{EndpointID: o.b.ID, Want: 5, MaxInFlight: 5}})
			is.NoErr(err)
			is.Equal(len(ds), 0)
		},
	},
	{
		name:     "Store.RecordAttempts/Probation",
		contract: "An endpoint's probation is what the last attempt recorded for it says, in the order attempted within a batch; a new endpoint starts on it.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			var ds []nahook.Delivery
			for range 3 {
				for _, d := range o.ingest(t, `{}`, "").Deliveries {
					if d.EndpointID == o.a.ID {
						ds = append(ds, d)
					}
				}
			}
			t0 := h.clock().UTC().Truncate(time.Millisecond)
			res := func(d nahook.Delivery, at time.Time, probation bool) store.AttemptResult {
				return store.AttemptResult{DeliveryID: d.ID, WorkspaceID: o.ws.ID, EndpointID: o.a.ID, Probation: probation,
					Attempt: store.Attempt{AttemptedAt: at, StatusCode: 200}, Status: nahook.DeliveryPending, NextAttemptAt: at.Add(time.Hour)}
			}
			probation := func() bool {
				t.Helper()
				for _, e := range dueEndpoints(t, h.st, t0.Add(time.Hour), 10) {
					if e.EndpointID == o.a.ID {
						return e.Probation
					}
				}
				t.Fatal("endpoint a has nothing due")
				return false
			}
			is.True(probation())
			is.NoErr(recordAttempts(h.ctx, h.st, []store.AttemptResult{res(ds[0], t0, false)}, 0))
			is.True(!probation()) // an attempt in good time ends it
			is.NoErr(recordAttempts(h.ctx, h.st, []store.AttemptResult{
				res(ds[2], t0.Add(2*time.Second), false),
				res(ds[1], t0.Add(time.Second), true),
			}, 0))
			is.True(!probation()) // the batch's last attempt, not its last result, decides
			is.NoErr(recordAttempts(h.ctx, h.st, []store.AttemptResult{res(ds[1], t0.Add(3*time.Second), true)}, 0))
			is.True(probation())
		},
	},
	{
		name:     "Store.RecordAttempts/Transitions",
		contract: "Recording an attempt numbers it, keeps its answer, and moves the delivery to succeeded, failed, or pending at the next retry; a final delivery stays final whatever is recorded late; a result for a deleted delivery is ignored.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			in := o.ingest(t, `{}`, "")
			at := in.Event.CreatedAt.Add(time.Second)
			var toA, toB nahook.Delivery
			for _, d := range in.Deliveries {
				if d.EndpointID == o.a.ID {
					toA = d
				} else {
					toB = d
				}
			}
			result := func(d nahook.Delivery, status nahook.DeliveryStatus, code int, errMsg string, next time.Time) store.AttemptResult {
				return store.AttemptResult{DeliveryID: d.ID, WorkspaceID: o.ws.ID, EndpointID: d.EndpointID,
					Attempt: store.Attempt{AttemptedAt: at, Duration: 42 * time.Millisecond, StatusCode: code, Response: "body", Error: errMsg},
					Status:  status, NextAttemptAt: next}
			}
			retryAt := at.Add(5 * time.Second)
			is.NoErr(recordAttempts(h.ctx, h.st, []store.AttemptResult{
				result(toA, nahook.DeliverySucceeded, 200, "", time.Time{}),
				result(toB, nahook.DeliveryPending, 503, "the endpoint answered 503", retryAt),
			}, 0))
			a, err := h.nh.Deliveries.Get(h.ctx, o.ws.ID, toA.ID)
			is.NoErr(err)
			is.Equal(a.Delivery.Status, nahook.DeliverySucceeded)
			is.Equal(a.Delivery.Attempts, 1)
			is.Equal(a.Delivery.LastStatusCode, 200)
			is.True(a.Delivery.NextAttemptAt.IsZero())
			is.Equal(a.Attempts, []nahook.Attempt{{Number: 1, AttemptedAt: at, Duration: 42 * time.Millisecond, StatusCode: 200, Response: "body"}})
			b, err := h.nh.Deliveries.Get(h.ctx, o.ws.ID, toB.ID)
			is.NoErr(err)
			is.Equal(b.Delivery.Status, nahook.DeliveryPending)
			is.Equal(b.Delivery.NextAttemptAt, retryAt)
			is.Equal(b.Delivery.LastError, "the endpoint answered 503")

			// A late failure of an expired lease does not undo the success.
			is.NoErr(recordAttempts(h.ctx, h.st, []store.AttemptResult{result(toA, nahook.DeliveryFailed, 0, "timeout", time.Time{})}, 0))
			a, err = h.nh.Deliveries.Get(h.ctx, o.ws.ID, toA.ID)
			is.NoErr(err)
			is.Equal(a.Delivery.Status, nahook.DeliverySucceeded)
			is.Equal(len(a.Attempts), 2) // but it is kept, as attempt 2
			is.Equal(a.Attempts[1].Number, 2)

			is.NoErr(recordAttempts(h.ctx, h.st, []store.AttemptResult{result(toB, nahook.DeliveryFailed, 404, "the endpoint answered 404", time.Time{})}, 0))
			b, err = h.nh.Deliveries.Get(h.ctx, o.ws.ID, toB.ID)
			is.NoErr(err)
			is.Equal(b.Delivery.Status, nahook.DeliveryFailed)
			is.True(b.Delivery.NextAttemptAt.IsZero())

			is.NoErr(h.nh.Endpoints.Delete(h.ctx, o.ws.ID, o.b.ID))
			is.NoErr(recordAttempts(h.ctx, h.st, []store.AttemptResult{result(toB, nahook.DeliverySucceeded, 200, "", time.Time{})}, 0)) // ignored
			_, err = h.nh.Deliveries.Get(h.ctx, o.ws.ID, toB.ID)
			wantErr(t, err, nahook.ErrNotFound, "") // the delivery went with its endpoint
		},
	},
	{
		name:     "Store.RecordAttempts/DisablesFailingEndpoint",
		contract: "An endpoint whose attempts have all failed for disableAfter is disabled, a routing change; a success ends the streak.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			t0 := start.UTC().Truncate(time.Millisecond)
			fail := func(at time.Time, code int) {
				t.Helper()
				in := o.ingest(t, `{}`, "")
				for _, d := range in.Deliveries {
					if d.EndpointID == o.a.ID {
						is.NoErr(recordAttempts(h.ctx, h.st, []store.AttemptResult{{DeliveryID: d.ID, WorkspaceID: o.ws.ID, EndpointID: o.a.ID,
							Attempt: store.Attempt{AttemptedAt: at, StatusCode: code}, Status: nahook.DeliveryFailed}}, time.Hour))
					}
				}
			}
			disabled := func() bool {
				ep, err := h.nh.Endpoints.Get(h.ctx, o.ws.ID, o.a.ID)
				is.NoErr(err)
				return ep.Disabled
			}
			fail(t0, 500)
			fail(t0.Add(30*time.Minute), 0)
			is.True(!disabled())              // failing for half the period
			fail(t0.Add(61*time.Minute), 200) // a success ends the streak
			fail(t0.Add(62*time.Minute), 500)
			fail(t0.Add(90*time.Minute), 500)
			is.True(!disabled()) // the streak began at 62 minutes
			before := h.version(t)
			fail(t0.Add(123*time.Minute), 500)
			is.True(disabled()) // failing for an hour and more
			_, changed := h.changedSince(t, before)
			is.True(changed[o.ws.ID] > before) // and routers learn of it
		},
	},
	{
		name:     "Store.RecordAttempts/BatchedStreaks",
		contract: "A batch of results, in any order, affects failure streaks as its attempts would one by one in the order made: a success inside the batch ends the old streak, and the failures after it start a new one.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			t0 := start.UTC().Truncate(time.Millisecond)
			var ds []nahook.Delivery
			for range 4 {
				for _, d := range o.ingest(t, `{}`, "").Deliveries {
					if d.EndpointID == o.a.ID {
						ds = append(ds, d)
					}
				}
			}
			res := func(d nahook.Delivery, at time.Time, code int) store.AttemptResult {
				status := nahook.DeliveryFailed
				if code == 200 {
					status = nahook.DeliverySucceeded
				}
				return store.AttemptResult{DeliveryID: d.ID, WorkspaceID: o.ws.ID, EndpointID: o.a.ID,
					Attempt: store.Attempt{AttemptedAt: at, StatusCode: code}, Status: status}
			}
			// Failing since t0, then in one batch, out of order: a failure at
			// 50 minutes, a success at 60 and a failure at 70.
			is.NoErr(recordAttempts(h.ctx, h.st, []store.AttemptResult{res(ds[0], t0, 500)}, time.Hour))
			is.NoErr(recordAttempts(h.ctx, h.st, []store.AttemptResult{
				res(ds[3], t0.Add(100*time.Minute), 500),
				res(ds[2], t0.Add(60*time.Minute), 200),
				res(ds[1], t0.Add(50*time.Minute), 500),
			}, time.Hour))
			ep, err := h.nh.Endpoints.Get(h.ctx, o.ws.ID, o.a.ID)
			is.NoErr(err)
			is.True(!ep.Disabled) // failing since 100 minutes only: the success at 60 ended the streak begun at 0
		},
	},
	{
		name:     "Deliveries.Retry/FailedOnly",
		contract: "Only a failed delivery can be retried: it becomes pending and due at once; any other is ErrConflict, and another workspace's is ErrNotFound.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			in := o.ingest(t, `{}`, "")
			d := in.Deliveries[0]
			_, err := h.nh.Deliveries.Retry(h.ctx, o.ws.ID, d.ID)
			wantErr(t, err, nahook.ErrConflict, "") // pending
			is.NoErr(recordAttempts(h.ctx, h.st, []store.AttemptResult{{DeliveryID: d.ID, WorkspaceID: o.ws.ID, EndpointID: d.EndpointID,
				Attempt: store.Attempt{AttemptedAt: in.Event.CreatedAt, StatusCode: 410}, Status: nahook.DeliveryFailed}}, 0))
			h.tick()
			retried, err := h.nh.Deliveries.Retry(h.ctx, o.ws.ID, d.ID)
			is.NoErr(err)
			is.Equal(retried.Status, nahook.DeliveryPending)
			is.Equal(retried.Attempts, 1)
			is.Equal(retried.NextAttemptAt, h.clock().UTC().Truncate(time.Millisecond))
			_, err = h.nh.Deliveries.Retry(h.ctx, h.workspace(t).ID, d.ID)
			wantErr(t, err, nahook.ErrNotFound, "")
		},
	},
	{
		name:     "Endpoints.RotateSecret/Grace",
		contract: "An endpoint gets a whsec_ secret of 32 bytes at creation; rotating makes a new one current while the old one keeps signing until its grace period ends.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			old, err := h.nh.Endpoints.Secret(h.ctx, o.ws.ID, o.a.ID)
			is.NoErr(err)
			is.True(strings.HasPrefix(old, "whsec_"))
			other, err := h.nh.Endpoints.Secret(h.ctx, o.ws.ID, o.b.ID)
			is.NoErr(err)
			is.True(other != old) // every endpoint its own
			rotated, err := h.nh.Endpoints.RotateSecret(h.ctx, o.ws.ID, o.a.ID)
			is.NoErr(err)
			is.True(rotated != old)
			now, err := h.nh.Endpoints.Secret(h.ctx, o.ws.ID, o.a.ID)
			is.NoErr(err)
			is.Equal(now, rotated)
			keys, err := h.st.GetEndpointKeys(h.ctx, o.ws.ID, o.a.ID)
			is.NoErr(err)
			is.True(keys.Previous != nil)
			is.Equal(keys.PreviousUntil, h.clock().UTC().Truncate(time.Millisecond).Add(24*time.Hour))

			in := o.ingest(t, `{}`, "")
			var ds []store.Dispatch
			for _, c := range h.claimAll(t, in.Event.CreatedAt.Add(time.Millisecond)) {
				if c.Delivery.EndpointID == o.a.ID {
					ds = append(ds, c)
				}
			}
			is.Equal(len(ds), 1)
			is.Equal(ds[0].Keys.PreviousUntil, keys.PreviousUntil) // the keys as stored: during the grace, both sign
			is.True(bytes.Equal(ds[0].Keys.Current, keys.Current))
			is.True(bytes.Equal(ds[0].Keys.Previous, keys.Previous))
			late := h.claimAll(t, keys.PreviousUntil.Add(time.Minute))
			for _, c := range late {
				if c.Delivery.EndpointID == o.a.ID {
					is.Equal(len(c.Keys.Signing(keys.PreviousUntil.Add(time.Minute))), 1) // after it, only the new one
				}
			}
			_, err = h.nh.Endpoints.Secret(h.ctx, h.workspace(t).ID, o.a.ID)
			wantErr(t, err, nahook.ErrNotFound, "")
		},
	},
	{
		name:     "Store.PruneEvents/Retention",
		contract: "Pruning deletes events older (by ID) than the cut with their deliveries and attempts, but never one with a delivery still pending, nor a more recent one.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			done := o.ingest(t, `{"old": true}`, "")
			for _, d := range done.Deliveries {
				is.NoErr(recordAttempts(h.ctx, h.st, []store.AttemptResult{{DeliveryID: d.ID, WorkspaceID: o.ws.ID, EndpointID: d.EndpointID,
					Attempt: store.Attempt{AttemptedAt: done.Event.CreatedAt, StatusCode: 200}, Status: nahook.DeliverySucceeded}}, 0))
			}
			waiting := o.ingest(t, `{"old": true, "pending": true}`, "")
			h.tick()
			recent := o.ingest(t, `{"recent": true}`, "")
			n, err := h.st.PruneEvents(h.ctx, recent.Event.ID, 100)
			is.NoErr(err)
			is.Equal(n, 1)
			_, err = h.nh.Events.Get(h.ctx, o.ws.ID, done.Event.ID)
			wantErr(t, err, nahook.ErrNotFound, "")
			_, err = h.nh.Deliveries.Get(h.ctx, o.ws.ID, done.Deliveries[0].ID)
			wantErr(t, err, nahook.ErrNotFound, "") // its deliveries went too
			for _, keep := range []nahook.Ingested{waiting, recent} {
				_, err := h.nh.Events.Get(h.ctx, o.ws.ID, keep.Event.ID)
				is.NoErr(err)
			}
		},
	},
	{
		name:     "Deliveries/Cascade",
		contract: "Deleting an endpoint deletes its deliveries; deleting an environment deletes its events and all their deliveries.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			staging := h.env(t, o.ws.ID, "staging")
			h.publish(t, o.ws.ID, staging.ID, o.et.ID)
			ep := h.endpoint(t, o.ws.ID, nahook.EndpointInput{EnvironmentID: staging.ID, EventTypes: []string{"*"}})
			key := h.key(t, o.ws.ID, staging.ID)
			in, err := h.nh.Events.Ingest(h.ctx, key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{}`)})
			is.NoErr(err)
			is.Equal(endpointsOf(in.Deliveries), []nahook.EndpointID{ep.ID})
			prod := o.ingest(t, `{}`, "")
			is.NoErr(h.nh.Endpoints.Delete(h.ctx, o.ws.ID, o.a.ID))
			list, err := h.nh.Deliveries.List(h.ctx, o.ws.ID, nahook.DeliveryFilter{}, nahook.ListOptions{})
			is.NoErr(err)
			for _, d := range list.Items {
				is.True(d.EndpointID != o.a.ID) // none of the deleted endpoint's
			}
			is.NoErr(h.nh.Environments.Delete(h.ctx, o.ws.ID, staging.ID))
			_, err = h.nh.Events.Get(h.ctx, o.ws.ID, in.Event.ID)
			wantErr(t, err, nahook.ErrNotFound, "")
			_, err = h.nh.Deliveries.Get(h.ctx, o.ws.ID, in.Deliveries[0].ID)
			wantErr(t, err, nahook.ErrNotFound, "")
			_, err = h.nh.Events.Get(h.ctx, o.ws.ID, prod.Event.ID)
			is.NoErr(err) // production's event stays
		},
	},
	{
		name:     "Deliveries.List/Filters",
		contract: "Deliveries list by workspace, narrowed by endpoint and status; another workspace's are never listed, and its deliveries and events are not found.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			o.ingest(t, `{}`, "")
			o.ingest(t, `{}`, "")
			all, err := h.nh.Deliveries.List(h.ctx, o.ws.ID, nahook.DeliveryFilter{}, nahook.ListOptions{})
			is.NoErr(err)
			is.Equal(len(all.Items), 4)
			toA, err := h.nh.Deliveries.List(h.ctx, o.ws.ID, nahook.DeliveryFilter{EndpointID: o.a.ID}, nahook.ListOptions{})
			is.NoErr(err)
			is.Equal(len(toA.Items), 2)
			d := toA.Items[0]
			is.NoErr(recordAttempts(h.ctx, h.st, []store.AttemptResult{{DeliveryID: d.ID, WorkspaceID: o.ws.ID, EndpointID: d.EndpointID,
				Attempt: store.Attempt{AttemptedAt: d.CreatedAt, StatusCode: 200}, Status: nahook.DeliverySucceeded}}, 0))
			ok, err := h.nh.Deliveries.List(h.ctx, o.ws.ID, nahook.DeliveryFilter{Status: nahook.DeliverySucceeded}, nahook.ListOptions{})
			is.NoErr(err)
			is.Equal(len(ok.Items), 1)
			is.Equal(ok.Items[0].ID, d.ID)
			_, err = h.nh.Deliveries.List(h.ctx, o.ws.ID, nahook.DeliveryFilter{Status: "lost"}, nahook.ListOptions{})
			wantErr(t, err, nahook.ErrInvalid, "status")

			other := h.workspace(t)
			none, err := h.nh.Deliveries.List(h.ctx, other.ID, nahook.DeliveryFilter{}, nahook.ListOptions{})
			is.NoErr(err)
			is.Equal(len(none.Items), 0)
			_, err = h.nh.Deliveries.List(h.ctx, other.ID, nahook.DeliveryFilter{EndpointID: o.a.ID}, nahook.ListOptions{})
			wantErr(t, err, nahook.ErrNotFound, "")
			_, err = h.nh.Deliveries.Get(h.ctx, other.ID, d.ID)
			wantErr(t, err, nahook.ErrNotFound, "")
			_, err = h.nh.Events.Get(h.ctx, other.ID, d.EventID)
			wantErr(t, err, nahook.ErrNotFound, "")
		},
	},
}

var deliveryConcurrencyTests = []test{
	{
		name:     "Concurrency/MaxInFlight",
		contract: "Callers claiming for one endpoint at once, in one process or several, never hold more of its deliveries than MaxInFlight: the cap is counted and leased atomically.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			const events, maxInFlight = 60, 3
			var last nahook.Ingested
			for i := range events {
				last = o.ingest(t, fmt.Sprint(`{"n":`, i, `}`), "")
			}
			now := last.Event.CreatedAt.Add(time.Millisecond)
			var inFlight, most, delivered atomic.Int64
			errs := race(8, func(i int) error {
				st := h.stores[i%len(h.stores)]
				for delivered.Load() < events {
					ds, err := st.ClaimDeliveries(h.ctx, now, time.Minute, []store.ClaimRequest{{EndpointID: o.a.ID, Want: 2, MaxInFlight: maxInFlight}})
					if err != nil {
						return err
					}
					n := inFlight.Add(int64(len(ds)))
					for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
					}
					for _, d := range ds {
						// Out of flight before the lease ends, as a dispatcher's
						// attempt is, so the count here never trails the store's.
						inFlight.Add(-1)
						if err := recordAttempts(h.ctx, st, []store.AttemptResult{{DeliveryID: d.Delivery.ID, WorkspaceID: o.ws.ID, EndpointID: o.a.ID,
							Attempt: store.Attempt{AttemptedAt: now, StatusCode: 200}, Status: nahook.DeliverySucceeded}}, 0); err != nil {
							return err
						}
						delivered.Add(1)
					}
				}
				return nil
			})
			tally(t, errs)
			is.Equal(delivered.Load(), int64(events)) // each once
			t.Logf("at most %d in flight", most.Load())
			is.True(most.Load() <= maxInFlight)
		},
	},
	{
		name:     "Concurrency/IdempotencyKey",
		contract: "Concurrent ingests with one idempotency key store exactly one event: one answer is the original, every other with the same payload replays it, and every other with another payload is ErrIdempotencyKeyReused.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			var mu sync.Mutex
			var got []nahook.Ingested
			errs := race(20, func(i int) error {
				payload := fmt.Sprint(`{"n":`, i%2, `}`)
				in, err := h.racer(i).Events.Ingest(h.ctx, o.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(payload), IdempotencyKey: "same"})
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
			page, err := h.nh.Deliveries.List(h.ctx, o.ws.ID, nahook.DeliveryFilter{}, nahook.ListOptions{})
			is.NoErr(err)
			is.Equal(len(page.Items), 2) // and its two deliveries
		},
	},
	{
		name:     "Concurrency/ClaimExclusive",
		contract: "Concurrent claimers never lease one delivery twice: together they claim each due delivery exactly once.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			var last nahook.Ingested
			for i := range 60 {
				last = o.ingest(t, fmt.Sprint(`{"n":`, i, `}`), "")
			}
			now := last.Event.CreatedAt.Add(time.Millisecond)
			var mu sync.Mutex
			seen := map[nahook.DeliveryID]int{}
			errs := race(8, func(i int) error {
				st := h.st
				if i%2 == 1 && len(h.stores) > 1 {
					st = h.stores[1]
				}
				for {
					// Until nothing is due: a claim that finds another
					// one at an endpoint comes back empty-handed.
					if due, err := st.DueEndpoints(h.ctx, now, 1, 10); err != nil || len(due) == 0 {
						return err
					}
					batch, err := claim(h.ctx, st, now, 7, 1000)
					if err != nil {
						return err
					}
					mu.Lock()
					for _, d := range batch {
						seen[d.Delivery.ID]++
					}
					mu.Unlock()
				}
			})
			tally(t, errs)
			is.Equal(len(seen), 120) // every delivery claimed
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("delivery %s claimed %d times", id, n)
				}
			}
		},
	},
}

// recordAttempts records results as nahook does: with what they do to
// their endpoints' failure streaks (store.Streaks).
func recordAttempts(ctx context.Context, st store.Store, results []store.AttemptResult, disableAfter time.Duration) error {
	return st.RecordAttempts(ctx, results, store.Streaks(results, disableAfter))
}
