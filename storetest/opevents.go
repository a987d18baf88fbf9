package storetest

// Operational events: what RecordAttempts writes to the outbox, on which
// transitions, and how ClaimOperationalEvents, AckOperationalEvent and
// RetryOperationalEvent hand them out.

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

var opEventTests = []test{
	{
		name: "RecordAttempts/ReportsEndpointTransitions",
		contract: "Asked to report, RecordAttempts writes endpoint.failing once, when an endpoint's consecutive failures reach FailingAfter, and endpoint.recovered when a success ends such a streak, " +
			"each naming the endpoint's workspace, environment and application, the streak's start and length, and the attempt's time; a streak that reaches FailingAfter and ends within one batch writes neither.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			app := h.app(t, o.ws.ID, "cust_1")
			c := h.endpoint(t, o.ws.ID, nahook.EndpointInput{URL: "https://c.example/hook", EventTypes: []string{"order.created"}, ApplicationID: app.ID})
			var ds []nahook.Delivery
			for range 4 {
				in, err := h.nh.Events.Ingest(h.ctx, o.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{}`), ApplicationID: app.ID})
				is.NoErr(err)
				is.Equal(len(in.Deliveries), 1)
				ds = append(ds, in.Deliveries[0])
			}
			t0 := h.at()
			at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
			// Each result is a retry of one of the deliveries: the
			// deliveries stay pending, and only the streak moves.
			res := func(i, min, code int) store.AttemptResult {
				r := store.AttemptResult{DeliveryID: ds[i%len(ds)].ID, WorkspaceID: o.ws.ID, EndpointID: c.ID,
					Attempt: store.Attempt{AttemptedAt: at(min), StatusCode: code}, Status: nahook.DeliveryPending, NextAttemptAt: at(min + 1)}
				if code == 200 {
					r.Status, r.NextAttemptAt = nahook.DeliverySucceeded, time.Time{}
				}
				return r
			}
			record := func(results ...store.AttemptResult) []store.OperationalEvent {
				t.Helper()
				is.NoErr(recordReporting(h.ctx, h.st, results, 0, 3))
				return takeAll(t, h)
			}
			is.Equal(len(record(res(0, 0, 500))), 0) // one failure of three
			evs := record(res(1, 2, 503), res(2, 1, 0))
			is.Equal(len(evs), 1)
			is.Equal(evs[0].Type, nahook.EndpointFailing)
			is.True(evs[0].ID != "")
			is.Equal(evs[0].WorkspaceID, o.ws.ID)
			is.Equal(evs[0].EnvironmentID, o.env.ID)
			is.Equal(evs[0].ApplicationID, app.ID)
			is.Equal(evs[0].EndpointID, c.ID)
			is.Equal(evs[0].FailingSince, t0) // since the first failure
			is.Equal(evs[0].Failures, 3)
			is.Equal(evs[0].At, at(2)) // the attempt that made three
			is.Equal(evs[0].DeliveryID, nahook.DeliveryID(""))
			is.Equal(evs[0].Attempts, 1)

			is.Equal(len(record(res(3, 3, 500))), 0) // reported once per streak
			evs = record(res(0, 4, 200))
			is.Equal(len(evs), 1)
			is.Equal(evs[0].Type, nahook.EndpointRecovered)
			is.Equal(evs[0].FailingSince, t0) // the streak that ended
			is.Equal(evs[0].Failures, 4)
			is.Equal(evs[0].At, at(4))
			is.Equal(evs[0].ApplicationID, app.ID)
			is.Equal(len(record(res(1, 5, 200))), 0) // no streak to end

			// Reached and ended within one batch: neither.
			is.Equal(len(record(res(0, 6, 500), res(1, 7, 500), res(2, 8, 500), res(3, 9, 200))), 0)
			// Ended, then failing afresh within one batch: both, in order.
			is.Equal(len(record(res(0, 10, 500), res(1, 11, 500), res(2, 12, 500))), 1) // failing
			evs = record(res(3, 16, 500), res(0, 15, 500), res(1, 14, 500), res(2, 13, 200))
			is.Equal(len(evs), 2)
			is.Equal(evs[0].Type, nahook.EndpointRecovered)
			is.Equal(evs[0].Failures, 3)
			is.Equal(evs[0].At, at(13))
			is.Equal(evs[1].Type, nahook.EndpointFailing)
			is.Equal(evs[1].FailingSince, at(14))
			is.Equal(evs[1].Failures, 3)
			is.Equal(evs[1].At, at(16))
		},
	},
	{
		name:     "RecordAttempts/ReportsDisabled",
		contract: "Asked to report, RecordAttempts writes one endpoint.disabled when it disables an endpoint, with the streak's start and length; recording more failures of the disabled endpoint writes no other.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			t0 := h.at()
			var ds []nahook.Delivery
			for range 3 {
				ds = append(ds, toEndpoint(t, o.ingest(t, `{}`, ""), o.a.ID))
			}
			fail := func(d nahook.Delivery, at time.Time) []store.OperationalEvent {
				t.Helper()
				is.NoErr(recordReporting(h.ctx, h.st, []store.AttemptResult{{DeliveryID: d.ID, WorkspaceID: o.ws.ID, EndpointID: o.a.ID,
					Attempt: store.Attempt{AttemptedAt: at, StatusCode: 500}, Status: nahook.DeliveryPending, NextAttemptAt: at.Add(time.Hour)}}, time.Hour, 0))
				return takeAll(t, h)
			}
			is.Equal(len(fail(ds[0], t0)), 0)
			is.Equal(len(fail(ds[1], t0.Add(30*time.Minute))), 0)
			evs := fail(ds[2], t0.Add(61*time.Minute))
			is.Equal(len(evs), 1)
			is.Equal(evs[0].Type, nahook.EndpointDisabled)
			is.Equal(evs[0].EndpointID, o.a.ID)
			is.Equal(evs[0].EnvironmentID, o.env.ID)
			is.Equal(evs[0].ApplicationID, nahook.ApplicationID("")) // an endpoint of no application
			is.Equal(evs[0].FailingSince, t0)
			is.Equal(evs[0].Failures, 3)
			is.Equal(evs[0].At, t0.Add(61*time.Minute))
			ep, err := h.nh.Endpoints.Get(h.ctx, o.ws.ID, o.a.ID)
			is.NoErr(err)
			is.True(ep.Disabled)
			is.Equal(len(fail(ds[0], t0.Add(2*time.Hour))), 0) // a late result: disabled already
		},
	},
	{
		name: "RecordAttempts/ReportsExhaustedOnce",
		contract: "Asked to report, RecordAttempts writes delivery.exhausted for a result that moves its delivery from pending to failed, naming the delivery, its event and the attempts made; " +
			"a late result for a delivery already final writes none, and a delivery retried by hand and failed again writes another.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			in := o.ingest(t, `{}`, "")
			a, b := toEndpoint(t, in, o.a.ID), toEndpoint(t, in, o.b.ID)
			at := h.at()
			record := func(d nahook.Delivery, status nahook.DeliveryStatus, code int) []store.OperationalEvent {
				t.Helper()
				r := store.AttemptResult{DeliveryID: d.ID, WorkspaceID: o.ws.ID, EndpointID: d.EndpointID,
					Attempt: store.Attempt{AttemptedAt: at, StatusCode: code}, Status: status}
				if status == nahook.DeliveryPending {
					r.NextAttemptAt = at.Add(time.Minute)
				}
				is.NoErr(recordReporting(h.ctx, h.st, []store.AttemptResult{r}, 0, 0))
				return takeAll(t, h)
			}
			is.Equal(len(record(a, nahook.DeliveryPending, 503)), 0) // to be retried
			evs := record(a, nahook.DeliveryFailed, 503)
			is.Equal(len(evs), 1)
			is.Equal(evs[0].Type, nahook.DeliveryExhausted)
			is.Equal(evs[0].DeliveryID, a.ID)
			is.Equal(evs[0].EventID, in.Event.ID)
			is.Equal(evs[0].EndpointID, o.a.ID)
			is.Equal(evs[0].WorkspaceID, o.ws.ID)
			is.Equal(evs[0].EnvironmentID, o.env.ID)
			is.Equal(evs[0].Failures, 2) // attempts made
			is.Equal(evs[0].At, at)
			is.True(evs[0].FailingSince.IsZero())
			is.Equal(len(record(a, nahook.DeliveryFailed, 0)), 0) // a late result: failed already

			is.Equal(len(record(b, nahook.DeliverySucceeded, 200)), 0)
			is.Equal(len(record(b, nahook.DeliveryFailed, 500)), 0) // a late failure of a success

			_, err := h.st.RetryDelivery(h.ctx, o.ws.ID, a.ID, at)
			is.NoErr(err)
			evs = record(a, nahook.DeliveryFailed, 410)
			is.Equal(len(evs), 1) // failed again: a new transition
			is.Equal(evs[0].Failures, 4)
		},
	},
	{
		name:     "RecordAttempts/ReportsNothingUnasked",
		contract: "RecordAttempts writes no operational event unless asked (AttemptResult.Report, Streak.Report): with nobody to hear them, the outbox stays empty whatever the attempts do.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			t0 := h.at()
			var ds []nahook.Delivery
			for range 6 { // all before the endpoint is disabled, which routes nothing more to it
				ds = append(ds, toEndpoint(t, o.ingest(t, `{}`, ""), o.a.ID))
			}
			for i, d := range ds {
				at := t0.Add(time.Duration(i) * 30 * time.Minute)
				results := []store.AttemptResult{{DeliveryID: d.ID, WorkspaceID: o.ws.ID, EndpointID: o.a.ID,
					Attempt: store.Attempt{AttemptedAt: at, StatusCode: 500}, Status: nahook.DeliveryFailed}}
				streaks := store.Streaks(results, time.Hour)
				for i := range streaks {
					streaks[i].FailingAfter = 1 // a threshold, but not asked to report
				}
				is.NoErr(h.st.RecordAttempts(h.ctx, results, streaks))
			}
			ep, err := h.nh.Endpoints.Get(h.ctx, o.ws.ID, o.a.ID)
			is.NoErr(err)
			is.True(ep.Disabled) // disabled, failing and exhausted, all unreported
			is.Equal(len(takeAll(t, h)), 0)
		},
	},
	{
		name: "ClaimOperationalEvents/Lease",
		contract: "ClaimOperationalEvents hands out the events available, oldest first, up to the limit, each leased: not handed out again before its lease ends, and again after, its Attempts counting the claims; " +
			"AckOperationalEvent removes an event for good; RetryOperationalEvent makes it available at the time given and not before; either on an event gone is no error.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			exhaust(t, h, o, 3)
			now := h.at().Add(time.Second)
			claim := func(at time.Time, limit int) []store.OperationalEvent {
				t.Helper()
				evs, err := h.st.ClaimOperationalEvents(h.ctx, at, time.Minute, limit)
				is.NoErr(err)
				return evs
			}
			first := claim(now, 2)
			is.Equal(len(first), 2) // the limit
			rest := claim(now, 10)
			is.Equal(len(rest), 1) // the rest
			made := opIDs(append(first, rest...))
			is.True(slices.IsSorted(made)) // oldest first
			for _, ev := range append(first, rest...) {
				is.Equal(ev.Attempts, 1)
				is.Equal(ev.Type, nahook.DeliveryExhausted)
			}
			is.Equal(len(claim(now.Add(59*time.Second), 10)), 0)      // all leased
			again := claim(now.Add(time.Minute+time.Millisecond), 10) // every lease ran out
			is.Equal(opIDs(again), made)
			for _, ev := range again {
				is.Equal(ev.Attempts, 2)
			}

			later := now.Add(2*time.Minute + time.Millisecond) // after the second leases
			is.NoErr(h.st.AckOperationalEvent(h.ctx, made[0]))
			is.NoErr(h.st.RetryOperationalEvent(h.ctx, made[1], later.Add(time.Hour)))
			is.Equal(opIDs(claim(later, 10)), made[2:]) // one removed, one put off
			put := claim(later.Add(time.Hour), 10)
			is.Equal(opIDs(put), made[1:]) // available again at the time given, beside the third, whose lease ran out
			is.Equal(put[0].Attempts, 3)
			is.Equal(len(claim(later.Add(24*time.Hour), 10)), 2) // the put off one and the third; not the removed one

			is.NoErr(h.st.AckOperationalEvent(h.ctx, made[0]))          // already gone
			is.NoErr(h.st.RetryOperationalEvent(h.ctx, made[0], later)) // already gone
			is.Equal(len(claim(later.Add(48*time.Hour), 10)), 2)        // and not brought back
		},
	},
}

var opEventRaces = []test{
	{
		name: "RecordAttempts/ReportsDisabledOnceUnderRace",
		contract: "Recorders racing with failures of one endpoint, in one process or several, together write exactly one endpoint.disabled and one endpoint.failing for its streak, " +
			"and one delivery.exhausted per delivery however many of them record its failure: each transition is made, and reported, once.",
		run: func(t *testing.T, h *harness) {
			for round := range raceRounds {
				is := is.New(t)
				o := h.outbox(t)
				const deliveries, racers = 4, 8
				var ds []nahook.Delivery
				for range deliveries {
					ds = append(ds, toEndpoint(t, o.ingest(t, `{}`, ""), o.a.ID))
				}
				t0 := h.at()
				// A streak begun an hour and more before the racers' failures.
				start := toEndpoint(t, o.ingest(t, `{}`, ""), o.a.ID)
				is.NoErr(recordReporting(h.ctx, h.st, []store.AttemptResult{{DeliveryID: start.ID, WorkspaceID: o.ws.ID, EndpointID: o.a.ID,
					Attempt: store.Attempt{AttemptedAt: t0, StatusCode: 500}, Status: nahook.DeliveryPending, NextAttemptAt: t0.Add(time.Hour)}}, time.Hour, 2))
				errs := race(racers, func(i int) error {
					at := t0.Add(2*time.Hour + time.Duration(i)*time.Millisecond)
					return recordReporting(h.ctx, h.stores[i%len(h.stores)], []store.AttemptResult{{DeliveryID: ds[i%deliveries].ID, WorkspaceID: o.ws.ID, EndpointID: o.a.ID,
						Attempt: store.Attempt{AttemptedAt: at, StatusCode: 500}, Status: nahook.DeliveryFailed}}, time.Hour, 2)
				})
				tally(t, errs)
				count := map[store.OperationalEventType]int{}
				exhausted := map[nahook.DeliveryID]int{}
				for _, ev := range takeAll(t, h) {
					if ev.WorkspaceID != o.ws.ID {
						continue // an earlier round's
					}
					count[ev.Type]++
					if ev.Type == nahook.DeliveryExhausted {
						exhausted[ev.DeliveryID]++
					}
				}
				if count[nahook.EndpointDisabled] != 1 || count[nahook.EndpointFailing] != 1 {
					t.Fatalf("round %d: %d endpoint.disabled and %d endpoint.failing, want one each", round, count[nahook.EndpointDisabled], count[nahook.EndpointFailing])
				}
				is.Equal(len(exhausted), deliveries)
				for id, n := range exhausted {
					if n != 1 {
						t.Fatalf("round %d: %d delivery.exhausted for %s, want one", round, n, id)
					}
				}
			}
		},
	},
	{
		name:     "ClaimOperationalEvents/ExclusiveUnderRace",
		contract: "Concurrent claimers, in one process or several, never lease one operational event twice: together they claim each available event exactly once, and then none is available.",
		run: func(t *testing.T, h *harness) {
			o := h.outbox(t)
			for round := range raceRounds / 2 {
				is := is.New(t)
				exhaust(t, h, o, 20)
				now := h.at().Add(time.Second)
				h.advance(time.Hour) // the next round's events come after this one's leases
				var mu sync.Mutex
				seen := map[store.OperationalEventID]int{}
				errs := race(8, func(i int) error {
					st := h.stores[i%len(h.stores)]
					for {
						evs, err := st.ClaimOperationalEvents(h.ctx, now, time.Minute, 3)
						if err != nil || len(evs) == 0 {
							return err
						}
						mu.Lock()
						for _, ev := range evs {
							seen[ev.ID]++
						}
						mu.Unlock()
					}
				})
				tally(t, errs)
				is.Equal(len(seen), 20)
				for id, n := range seen {
					if n != 1 {
						t.Fatalf("round %d: operational event %s claimed %d times", round, id, n)
					}
					is.NoErr(h.st.AckOperationalEvent(h.ctx, id))
				}
			}
		},
	},
}

// recordReporting records results as nahook does when the host hears of
// operational events: each result and streak asks for reports, with
// failingAfter as the streaks' threshold.
func recordReporting(ctx context.Context, st store.Store, results []store.AttemptResult, disableAfter time.Duration, failingAfter int) error {
	results = slices.Clone(results)
	for i := range results {
		results[i].Report = true
	}
	streaks := store.Streaks(results, disableAfter)
	for i := range streaks {
		streaks[i].Report, streaks[i].FailingAfter = true, failingAfter
	}
	return st.RecordAttempts(ctx, results, streaks)
}

// takeAll claims every operational event available at any time, removes
// each, and returns them oldest first, failing the case on error.
func takeAll(t *testing.T, h *harness) []store.OperationalEvent {
	t.Helper()
	far := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	var out []store.OperationalEvent
	for {
		evs, err := h.st.ClaimOperationalEvents(h.ctx, far, time.Minute, 100)
		if err != nil {
			t.Fatalf("ClaimOperationalEvents: %v", err)
		}
		if len(evs) == 0 {
			return out
		}
		for _, ev := range evs {
			if err := h.st.AckOperationalEvent(h.ctx, ev.ID); err != nil {
				t.Fatalf("AckOperationalEvent: %v", err)
			}
		}
		out = append(out, evs...)
	}
}

// exhaust ingests n events and fails each one's delivery to endpoint a,
// reporting: n delivery.exhausted events, available at the clock's time.
func exhaust(t *testing.T, h *harness, o *outbox, n int) {
	t.Helper()
	var results []store.AttemptResult
	for range n {
		d := toEndpoint(t, o.ingest(t, `{}`, ""), o.a.ID)
		results = append(results, store.AttemptResult{DeliveryID: d.ID, WorkspaceID: o.ws.ID, EndpointID: o.a.ID,
			Attempt: store.Attempt{AttemptedAt: h.at(), StatusCode: 410}, Status: nahook.DeliveryFailed})
	}
	if err := recordReporting(h.ctx, h.st, results, 0, 0); err != nil {
		t.Fatalf("RecordAttempts: %v", err)
	}
}

// opIDs returns the events' IDs, in order.
func opIDs(evs []store.OperationalEvent) []store.OperationalEventID {
	var out []store.OperationalEventID
	for _, ev := range evs {
		out = append(out, ev.ID)
	}
	return out
}

// toEndpoint returns the ingested event's delivery to ep, failing the
// case without one.
func toEndpoint(t *testing.T, in nahook.Ingested, ep nahook.EndpointID) nahook.Delivery {
	t.Helper()
	for _, d := range in.Deliveries {
		if d.EndpointID == ep {
			return d
		}
	}
	t.Fatalf("event %s has no delivery to %s", in.Event.ID, ep)
	return nahook.Delivery{}
}
