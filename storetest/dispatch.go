package storetest

import (
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
	"github.com/nahook/nahook/store"
)

var dispatchTests = []test{
	{
		name:     "DueEndpoints/Counts",
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
		name:     "ClaimAndLook/SeesItsClaim",
		contract: "ClaimAndLook leases as ClaimDeliveries does, and returns DueEndpoints as it stands once the claim is made: the claimed endpoint with what is left due and its new leases, the others as they were; without requests it only looks.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			for i := range 4 {
				o.ingest(t, fmt.Sprint(`{"n": `, i, `}`), "")
			}
			now := h.clock().Add(time.Millisecond)

			claimed, due, err := h.st.ClaimAndLook(h.ctx, now, time.Minute,
				[]store.ClaimRequest{{EndpointID: o.a.ID, Want: 3, MaxInFlight: 10}}, 10, 1000)
			is.NoErr(err)
			is.Equal(len(claimed), 3)
			for _, d := range claimed {
				is.Equal(d.Delivery.EndpointID, o.a.ID)
			}
			is.Equal(due, dueEndpoints(t, h.st, now, 10)) // the look is what a look after the claim sees
			is.Equal(len(due), 2)
			byID := map[store.EndpointID]store.DueEndpoint{}
			for _, e := range due {
				byID[e.EndpointID] = e
			}
			is.Equal(byID[o.a.ID].Due, 1)      // 4 due, 3 leased
			is.Equal(byID[o.a.ID].InFlight, 3) // by this claim
			is.Equal(byID[o.b.ID].Due, 4)      // untouched
			is.Equal(byID[o.b.ID].InFlight, 0)

			// The cap holds as in ClaimDeliveries: one more of a's, not two.
			claimed, due, err = h.st.ClaimAndLook(h.ctx, now, time.Minute,
				[]store.ClaimRequest{{EndpointID: o.a.ID, Want: 2, MaxInFlight: 4}}, 10, 1000)
			is.NoErr(err)
			is.Equal(len(claimed), 1)
			is.Equal(len(due), 1) // a has nothing left due
			is.Equal(due[0].EndpointID, o.b.ID)

			claimed, due, err = h.st.ClaimAndLook(h.ctx, now, time.Minute, nil, 10, 1000)
			is.NoErr(err)
			is.Equal(len(claimed), 0)
			is.Equal(due, dueEndpoints(t, h.st, now, 10))
		},
	},
	{
		name:     "ClaimDeliveries/Lease",
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
		name:     "ClaimDeliveries/LeaseLength",
		contract: "A claimed delivery is leased for the length asked for, each claim its own: it is not claimed again before its lease ends, and is due again once it has.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			in := o.ingest(t, `{}`, "")
			now := in.Event.CreatedAt.Add(time.Millisecond)
			claimOne := func(ep nahook.EndpointID, lease time.Duration) {
				t.Helper()
				ds, err := h.st.ClaimDeliveries(h.ctx, now, lease, []store.ClaimRequest{{EndpointID: ep, Want: 1, MaxInFlight: 10}})
				is.NoErr(err)
				is.Equal(len(ds), 1)
			}
			claimOne(o.a.ID, time.Minute)
			claimOne(o.b.ID, 5*time.Minute)
			dueAt := func(at time.Time) []nahook.EndpointID {
				t.Helper()
				var eps []nahook.EndpointID
				for _, e := range dueEndpoints(t, h.st, at, 10) {
					eps = append(eps, e.EndpointID)
				}
				ds, err := h.st.ClaimDeliveries(h.ctx, at, time.Second, []store.ClaimRequest{
					{EndpointID: o.a.ID, Want: 1, MaxInFlight: 10}, {EndpointID: o.b.ID, Want: 1, MaxInFlight: 10}})
				is.NoErr(err)
				var claimed []nahook.EndpointID
				for _, d := range ds {
					claimed = append(claimed, d.Delivery.EndpointID)
				}
				slices.Sort(claimed)
				is.Equal(claimed, eps) // what is due is what a claim leases
				return claimed
			}
			is.Equal(dueAt(now.Add(time.Minute-time.Second)), []nahook.EndpointID(nil))      // both leased
			is.Equal(dueAt(now.Add(time.Minute+time.Second)), []nahook.EndpointID{o.a.ID})   // the one-minute lease ran out; the five-minute one runs on
			is.Equal(dueAt(now.Add(5*time.Minute-time.Second)), []nahook.EndpointID{o.a.ID}) // a's one-second lease ran out too
			both := []nahook.EndpointID{o.a.ID, o.b.ID}
			slices.Sort(both)
			is.Equal(dueAt(now.Add(5*time.Minute+time.Second)), both) // and now the five-minute lease
		},
	},
	{
		name:     "ClaimDeliveries/MaxInFlight",
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
		name:     "RecordAttempts/Probation",
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
		name:     "RecordAttempts/Transitions",
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
		name:     "RecordAttempts/DisablesFailingEndpoint",
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
		name:     "RecordAttempts/BatchedStreaks",
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
}

// raceDeadline bounds the loops of the claim races: a store that never
// leases, or leases the same delivery again and again, fails them rather
// than hanging.
const raceDeadline = 30 * time.Second

var dispatchRaces = []test{
	{
		name: "ClaimDeliveries/MaxInFlightUnderRace",
		contract: "Callers claiming for one endpoint at once, in one process or several, never hold more of its deliveries than MaxInFlight: " +
			"the cap is counted and leased atomically, in every round.",
		run: func(t *testing.T, h *harness) {
			o := h.outbox(t)
			const events, maxInFlight = 20, 3
			for round := range raceRounds / 2 {
				is := is.New(t)
				var last nahook.Ingested
				for i := range events {
					last = o.ingest(t, fmt.Sprint(`{"round":`, round, `,"n":`, i, `}`), "")
				}
				now := last.Event.CreatedAt.Add(time.Millisecond)
				deadline := time.Now().Add(raceDeadline)
				var inFlight, most, delivered atomic.Int64
				errs := race(8, func(i int) error {
					st := h.stores[i%len(h.stores)]
					for delivered.Load() < events {
						if time.Now().After(deadline) {
							return fmt.Errorf("round %d: %d of %d deliveries recorded after %v", round, delivered.Load(), events, raceDeadline)
						}
						var ds []store.Dispatch
						err := retried(deadline, func() (err error) {
							ds, err = st.ClaimDeliveries(h.ctx, now, time.Minute, []store.ClaimRequest{{EndpointID: o.a.ID, Want: 2, MaxInFlight: maxInFlight}})
							return err
						})
						if err != nil {
							return err
						}
						if len(ds) == 0 {
							// As a dispatcher waits before claiming again: a
							// claimer of one store looping on empty claims
							// could keep the other store's writer out of a
							// shared SQLite file for as long as it likes.
							time.Sleep(time.Millisecond)
						}
						n := inFlight.Add(int64(len(ds)))
						for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
						}
						for _, d := range ds {
							// Out of flight before the lease ends, as a dispatcher's
							// attempt is, so the count here never trails the store's.
							inFlight.Add(-1)
							result := store.AttemptResult{DeliveryID: d.Delivery.ID, WorkspaceID: o.ws.ID, EndpointID: o.a.ID,
								Attempt: store.Attempt{AttemptedAt: now, StatusCode: 200}, Status: nahook.DeliverySucceeded}
							if err := retried(deadline, func() error {
								return recordAttempts(h.ctx, st, []store.AttemptResult{result}, 0)
							}); err != nil {
								return err
							}
							delivered.Add(1)
						}
					}
					return nil
				})
				tally(t, errs)
				is.Equal(delivered.Load(), int64(events)) // each once
				if most.Load() > maxInFlight {
					t.Fatalf("round %d: %d in flight at once, more than MaxInFlight %d", round, most.Load(), maxInFlight)
				}
			}
		},
	},
	{
		name:     "ClaimDeliveries/ExclusiveUnderRace",
		contract: "Concurrent claimers never lease one delivery twice: in every round, together they claim each due delivery exactly once, and then nothing is due.",
		run: func(t *testing.T, h *harness) {
			o := h.outbox(t)
			for round := range raceRounds / 2 {
				is := is.New(t)
				var last nahook.Ingested
				for i := range 20 {
					last = o.ingest(t, fmt.Sprint(`{"round":`, round, `,"n":`, i, `}`), "")
				}
				now := last.Event.CreatedAt.Add(time.Millisecond)
				deadline := time.Now().Add(raceDeadline)
				var mu sync.Mutex
				seen := map[nahook.DeliveryID]int{}
				endpoint := map[nahook.DeliveryID]nahook.EndpointID{}
				errs := race(8, func(i int) error {
					st := h.stores[i%len(h.stores)]
					for {
						// Until nothing is due: a claim that finds another
						// one at an endpoint comes back empty-handed.
						var due []store.DueEndpoint
						if err := retried(deadline, func() (err error) {
							due, err = st.DueEndpoints(h.ctx, now, 1, 10)
							return err
						}); err != nil || len(due) == 0 {
							return err
						}
						if time.Now().After(deadline) {
							return fmt.Errorf("round %d: deliveries still due after %v of claiming", round, raceDeadline)
						}
						var batch []store.Dispatch
						err := retried(deadline, func() (err error) {
							batch, err = claim(h.ctx, st, now, time.Minute, 7, 1000)
							return err
						})
						if err != nil {
							return err
						}
						if len(batch) == 0 {
							time.Sleep(time.Millisecond) // as a dispatcher waits: see MaxInFlightUnderRace
						}
						mu.Lock()
						for _, d := range batch {
							seen[d.Delivery.ID]++
							endpoint[d.Delivery.ID] = d.Delivery.EndpointID
						}
						mu.Unlock()
					}
				})
				tally(t, errs)
				is.Equal(len(seen), 40) // every delivery claimed
				for id, n := range seen {
					if n != 1 {
						t.Fatalf("round %d: delivery %s claimed %d times", round, id, n)
					}
				}
				// Done with this round's deliveries, so the next round's are
				// the only ones due.
				var results []store.AttemptResult
				for id := range seen {
					results = append(results, store.AttemptResult{DeliveryID: id, WorkspaceID: o.ws.ID, EndpointID: endpoint[id],
						Attempt: store.Attempt{AttemptedAt: now, StatusCode: 200}, Status: nahook.DeliverySucceeded})
				}
				is.NoErr(recordAttempts(h.ctx, h.st, results, 0))
			}
		},
	},
}

// recordAttempts records results as nahook does: with the streaks
// store.Streaks works out from them.
func recordAttempts(ctx context.Context, st store.Store, results []store.AttemptResult, disableAfter time.Duration) error {
	return st.RecordAttempts(ctx, results, store.Streaks(results, disableAfter))
}
