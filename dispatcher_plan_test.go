package nahook

import (
	"testing"

	"github.com/nahook/nahook/store"
)

// Claims planned from one look count what earlier claims from it leased:
// as in flight at their endpoints, and as no longer due; an endpoint that
// gave fewer than asked for is left alone until the next look; and what
// results recorded since did to an endpoint's probation counts over what
// the look saw.
func TestPlanCountsWhatWasClaimedSinceTheLook(t *testing.T) {
	d := newDispatcher(&Client{cfg: Config{Delivery: DeliveryConfig{Workers: 32, MaxInFlightPerEndpoint: 4, ProbeWorkers: 4}}})
	look := []store.DueEndpoint{
		{EndpointID: "ep_a", Due: 4, InFlight: 1}, // 4: counted up to the cap, more may be due
		{EndpointID: "ep_b", Due: 2},
		{EndpointID: "ep_c", Due: 1},
	}
	wants := func(requests []store.ClaimRequest) map[EndpointID]int {
		m := map[EndpointID]int{}
		for _, r := range requests {
			m[r.EndpointID] = r.Want
		}
		return m
	}
	check := func(what string, got, want map[EndpointID]int) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: asked for %v; want %v", what, got, want)
		}
		for id, n := range want {
			if got[id] != n {
				t.Fatalf("%s: asked for %v; want %v", what, got, want)
			}
		}
	}

	requests, _ := d.plan(look, 32, 0)
	check("first claim", wants(requests), map[EndpointID]int{"ep_a": 3, "ep_b": 2, "ep_c": 1})

	// ep_a gives all 3, ep_b one of 2, ep_c its one.
	d.claimedSince(requests, []store.Dispatch{
		{Delivery: store.Delivery{ID: "dlv_1", EndpointID: "ep_a"}},
		{Delivery: store.Delivery{ID: "dlv_2", EndpointID: "ep_a"}},
		{Delivery: store.Delivery{ID: "dlv_3", EndpointID: "ep_a"}},
		{Delivery: store.Delivery{ID: "dlv_4", EndpointID: "ep_b"}},
		{Delivery: store.Delivery{ID: "dlv_5", EndpointID: "ep_c"}},
	})
	requests, _ = d.plan(look, 27, 0)
	check("at the cap, given less, nothing left", wants(requests), map[EndpointID]int{})

	// Two of ep_a's attempts end: room for two, before and after their
	// results are recorded.
	d.finished["ep_a"] = []DeliveryID{"dlv_1", "dlv_2"}
	requests, _ = d.plan(look, 29, 0)
	check("two ended", wants(requests), map[EndpointID]int{"ep_a": 2})
	delete(d.finished, "ep_a")
	d.recorded["ep_a"] = 2
	requests, _ = d.plan(look, 29, 0)
	check("two recorded", wants(requests), map[EndpointID]int{"ep_a": 2})

	// A new look starts the counts again.
	d.looking()
	requests, _ = d.plan(look, 32, 0)
	check("a new look", wants(requests), map[EndpointID]int{"ep_a": 3, "ep_b": 2, "ep_c": 1})

	// Results recorded since the look put ep_a and ep_b on probation:
	// one attempt in flight at most, and a probe's worker for it.
	d.probation["ep_a"], d.probation["ep_b"] = true, true
	requests, probation := d.plan(look, 32, 4)
	check("on probation since", wants(requests), map[EndpointID]int{"ep_b": 1, "ep_c": 1})
	if len(probation) != 1 || probation["ep_b"] == nil {
		t.Fatalf("planned probes: %v; want ep_b's", probation)
	}
	// And one taken off probation since is planned in full.
	look[1].Probation = true
	d.probation["ep_b"] = false
	requests, _ = d.plan(look, 32, 4)
	check("off probation since", wants(requests), map[EndpointID]int{"ep_b": 2, "ep_c": 1})
}
