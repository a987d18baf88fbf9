package storetest

// Endpoint health: the rollup RecordAttempts keeps per endpoint, minute
// and latency bucket, what EndpointHealth sums from it over the last hour
// and day, and what PruneEndpointHealth deletes.

import (
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

// healthAttempt is an attempt for the health cases: when, how long, and
// the answer (0: none, an error instead).
type healthAttempt struct {
	at       time.Time
	duration time.Duration
	code     int
}

// healthResult is the result of attempt a of delivery d, leaving d
// pending, so that more attempts of it can be recorded.
func healthResult(d nahook.Delivery, a healthAttempt) store.AttemptResult {
	r := store.AttemptResult{DeliveryID: d.ID, WorkspaceID: d.WorkspaceID, EndpointID: d.EndpointID,
		Attempt: store.Attempt{AttemptedAt: a.at, Duration: a.duration, StatusCode: a.code},
		Status:  nahook.DeliveryPending, NextAttemptAt: a.at.Add(time.Minute)}
	if a.code == 0 {
		r.Attempt.Error = "timeout"
	}
	return r
}

// endpointHealth reads the endpoint's health at now, failing the case on
// error.
func endpointHealth(t *testing.T, h *harness, ep nahook.EndpointID, now time.Time) []store.HealthBucket {
	t.Helper()
	hb, err := h.st.EndpointHealth(h.ctx, ep, now)
	if err != nil {
		t.Fatalf("EndpointHealth: %v", err)
	}
	if hb == nil {
		t.Fatal("EndpointHealth returned nil, want an empty slice for none")
	}
	return hb
}

var healthTests = []test{
	{
		name: "EndpointHealth/Windows",
		contract: "EndpointHealth sums, per latency bucket in ascending order, the endpoint's recorded attempts and successes (2xx) over the last hour (the minute of now and the 59 before) " +
			"and the last day (the minute of now and the 1439 before); older attempts, those stamped after now's minute, and other endpoints' count in neither.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			in := o.ingest(t, `{}`, "")
			toA, toB := toEndpoint(t, in, o.a.ID), toEndpoint(t, in, o.b.ID)
			// Half a minute into a minute, so that the edges are whole
			// minutes away.
			now := start.UTC().Truncate(time.Minute).Add(30 * time.Second)
			ago := func(d time.Duration) time.Time { return now.Add(-d) }
			ms := time.Millisecond
			fast, slow, timeout := 120*ms, 900*ms, 15*time.Second
			attempts := []healthAttempt{
				{now, fast, 200},
				{now.Add(2 * time.Minute), fast, 204},               // after now: not yet
				{ago(59 * time.Minute), fast, 200},                  // the hour's first minute
				{ago(40 * time.Minute), slow, 500},                  // the hour
				{ago(20 * time.Minute), timeout, 0},                 // the hour, no answer
				{ago(60 * time.Minute), slow, 200},                  // the day, not the hour
				{ago(61 * time.Minute), slow, 503},                  // the day, not the hour
				{ago(1439 * time.Minute), 5 * ms, 200},              // the day's first minute
				{ago(1440 * time.Minute), 5 * ms, 200},              // neither
				{ago(25 * time.Hour), fast, 200},                    // neither
				{ago(30 * time.Second), 120_999_999, 301},           // the hour; a redirect fails; 120 ms to the millisecond
				{ago(30*time.Second + time.Millisecond), fast, 200}, // the minute before now's: the hour
			}
			// Some in one batch, the rest one by one; the other endpoint's
			// in the same batches.
			batch := []store.AttemptResult{healthResult(toB, healthAttempt{now, fast, 500})}
			for i, a := range attempts {
				if i%2 == 0 {
					batch = append(batch, healthResult(toA, a))
					continue
				}
				is.NoErr(recordAttempts(h.ctx, h.st, []store.AttemptResult{healthResult(toA, a), healthResult(toB, healthAttempt{a.at, slow, 200})}, 0))
			}
			is.NoErr(recordAttempts(h.ctx, h.st, batch, 0))

			b := store.LatencyBucket
			want := []store.HealthBucket{
				{Latency: b(5 * ms), DayAttempts: 1, DaySucceeded: 1},
				{Latency: b(fast), HourAttempts: 4, HourSucceeded: 3, DayAttempts: 4, DaySucceeded: 3},
				{Latency: b(slow), HourAttempts: 1, HourSucceeded: 0, DayAttempts: 3, DaySucceeded: 1},
				{Latency: b(timeout), HourAttempts: 1, HourSucceeded: 0, DayAttempts: 1, DaySucceeded: 0},
			}
			is.Equal(endpointHealth(t, h, o.a.ID, now), want)
			// The minute's first and last millisecond read the same minutes.
			is.Equal(endpointHealth(t, h, o.a.ID, now.Add(-30*time.Second)), want)
			is.Equal(endpointHealth(t, h, o.a.ID, now.Add(29*time.Second+999*time.Millisecond)), want)
			// Two minutes on, the attempt stamped then counts, and the
			// hour's first minute and the day's have left.
			is.Equal(endpointHealth(t, h, o.a.ID, now.Add(2*time.Minute)), []store.HealthBucket{
				{Latency: b(fast), HourAttempts: 4, HourSucceeded: 3, DayAttempts: 5, DaySucceeded: 4},
				{Latency: b(slow), HourAttempts: 1, HourSucceeded: 0, DayAttempts: 3, DaySucceeded: 1},
				{Latency: b(timeout), HourAttempts: 1, HourSucceeded: 0, DayAttempts: 1, DaySucceeded: 0},
			})
			is.Equal(endpointHealth(t, h, o.b.ID, now), []store.HealthBucket{
				{Latency: b(fast), HourAttempts: 1, HourSucceeded: 0, DayAttempts: 1, DaySucceeded: 0},
				{Latency: b(slow), HourAttempts: 2, HourSucceeded: 2, DayAttempts: 4, DaySucceeded: 4},
			})
		},
	},
	{
		name:     "EndpointHealth/None",
		contract: "An endpoint with no attempts recorded in the day, or that does not exist, has an empty health (an empty slice, no error).",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			now := h.at()
			is.Equal(len(endpointHealth(t, h, o.a.ID, now)), 0)
			is.Equal(len(endpointHealth(t, h, "ep_01kaaaaaaaaaaaaaaaaaaaaaaa", now)), 0)
			d := toEndpoint(t, o.ingest(t, `{}`, ""), o.a.ID)
			is.NoErr(recordAttempts(h.ctx, h.st, []store.AttemptResult{healthResult(d, healthAttempt{now, time.Second, 200})}, 0))
			is.Equal(len(endpointHealth(t, h, o.a.ID, now)), 1)
			is.Equal(len(endpointHealth(t, h, o.a.ID, now.Add(24*time.Hour))), 0) // a day on
		},
	},
	{
		name: "RecordAttempts/HealthOfDeletedEndpoint",
		contract: "A batch holding a result for a deleted endpoint's delivery still records the others' attempts and their health, adding to the rows earlier batches wrote; " +
			"the deleted delivery's result adds nothing, and the deleted endpoint's earlier health stays readable until pruned.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			in := o.ingest(t, `{}`, "")
			toA, toB := toEndpoint(t, in, o.a.ID), toEndpoint(t, in, o.b.ID)
			now := h.at()
			fast := 40 * time.Millisecond
			is.NoErr(recordAttempts(h.ctx, h.st, []store.AttemptResult{
				healthResult(toA, healthAttempt{now, fast, 200}),
				healthResult(toB, healthAttempt{now, fast, 200}),
			}, 0))
			is.NoErr(h.nh.Endpoints.Delete(h.ctx, o.ws.ID, o.b.ID))
			is.NoErr(recordAttempts(h.ctx, h.st, []store.AttemptResult{
				healthResult(toB, healthAttempt{now, fast, 200}), // gone: ignored
				healthResult(toA, healthAttempt{now, fast, 500}),
				healthResult(toA, healthAttempt{now, fast, 200}),
			}, 0))
			is.Equal(endpointHealth(t, h, o.a.ID, now), []store.HealthBucket{
				{Latency: store.LatencyBucket(fast), HourAttempts: 3, HourSucceeded: 2, DayAttempts: 3, DaySucceeded: 2},
			})
			is.Equal(endpointHealth(t, h, o.b.ID, now), []store.HealthBucket{
				{Latency: store.LatencyBucket(fast), HourAttempts: 1, HourSucceeded: 1, DayAttempts: 1, DaySucceeded: 1},
			})
			d, err := h.nh.Deliveries.Get(h.ctx, o.ws.ID, toA.ID)
			is.NoErr(err)
			is.Equal(len(d.Attempts), 3) // the attempts themselves
		},
	},
	{
		name:     "PruneEndpointHealth/Age",
		contract: "PruneEndpointHealth deletes up to limit rows, of any endpoint, whose minute is before before's, and returns how many; the rest stay as they were.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			in := o.ingest(t, `{}`, "")
			toA, toB := toEndpoint(t, in, o.a.ID), toEndpoint(t, in, o.b.ID)
			// Far in the future of every other case's rows, which the
			// prune must not reach.
			now := start.UTC().Add(1000 * 24 * time.Hour).Truncate(time.Minute).Add(30 * time.Second)
			old := now.Add(-26 * time.Hour)
			var results []store.AttemptResult
			for _, d := range []nahook.Delivery{toA, toB} {
				for i := range 3 { // three old minutes each
					results = append(results, healthResult(d, healthAttempt{old.Add(time.Duration(i) * time.Minute), time.Millisecond, 200}))
				}
				results = append(results, healthResult(d, healthAttempt{now.Add(-time.Minute), time.Millisecond, 200}))
			}
			is.NoErr(recordAttempts(h.ctx, h.st, results, 0))
			before := old.Add(2 * time.Minute) // the first two old minutes go, the third stays
			n, err := h.st.PruneEndpointHealth(h.ctx, before, 3)
			is.NoErr(err)
			is.Equal(n, 3) // the limit
			n, err = h.st.PruneEndpointHealth(h.ctx, before, 3)
			is.NoErr(err)
			is.Equal(n, 1) // the rest
			n, err = h.st.PruneEndpointHealth(h.ctx, before, 3)
			is.NoErr(err)
			is.Equal(n, 0)
			// What stayed: the third old minute, read two hours on (in
			// the day, not the hour), and the recent one.
			for _, ep := range []nahook.EndpointID{o.a.ID, o.b.ID} {
				is.Equal(endpointHealth(t, h, ep, old.Add(2*time.Hour)), []store.HealthBucket{
					{Latency: time.Millisecond, DayAttempts: 1, DaySucceeded: 1},
				})
				is.Equal(endpointHealth(t, h, ep, now), []store.HealthBucket{
					{Latency: time.Millisecond, HourAttempts: 1, HourSucceeded: 1, DayAttempts: 1, DaySucceeded: 1},
				})
			}
		},
	},
}

var healthRaces = []test{
	{
		name: "RecordAttempts/HealthUnderRace",
		contract: "Recorders racing with attempts of two endpoints in one minute and latency bucket, in one process or several, each batch meeting the rows in its own order, " +
			"lose none of them: each row counts every attempt recorded and every success.",
		run: func(t *testing.T, h *harness) {
			for range raceRounds {
				is := is.New(t)
				o := h.outbox(t)
				const racers, each = 8, 3
				now := h.at()
				batches := make([][]store.AttemptResult, racers)
				want := map[nahook.EndpointID]store.HealthBucket{}
				for i := range racers {
					for j := range each {
						in := o.ingest(t, `{}`, "")
						first, second := toEndpoint(t, in, o.a.ID), toEndpoint(t, in, o.b.ID)
						if i%2 == 1 { // half the batches name b first
							first, second = second, first
						}
						for k, d := range []nahook.Delivery{first, second} {
							code := 200
							if (i+j+k)%3 == 0 {
								code = 500
							}
							batches[i] = append(batches[i], healthResult(d, healthAttempt{now, 10 * time.Millisecond, code}))
							w := want[d.EndpointID]
							w.Latency = store.LatencyBucket(10 * time.Millisecond)
							w.HourAttempts++
							w.DayAttempts++
							if code == 200 {
								w.HourSucceeded++
								w.DaySucceeded++
							}
							want[d.EndpointID] = w
						}
					}
				}
				errs := race(racers, func(i int) error {
					return recordAttempts(h.ctx, h.stores[i%len(h.stores)], batches[i], 0)
				})
				tally(t, errs)
				for _, ep := range []nahook.EndpointID{o.a.ID, o.b.ID} {
					is.Equal(endpointHealth(t, h, ep, now), []store.HealthBucket{want[ep]})
				}
			}
		},
	},
}
