// Package storetest is the conformance suite every nahook store adapter must
// pass. An adapter's tests call Run with a function that makes an empty,
// migrated store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "nahook.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { st.Close() })
//			return st
//		})
//	}
//
// Each case is named after the store method it proves, Method/Behaviour
// (CreateEnvironment/LimitUnderRace, RotateEndpointKey/OtherWorkspace), and
// carries the contract it checks, which a failing case prints. The cases of
// one area of the Store interface live in one file. Many drive the store
// through the nahook API, as a host program does; every case checks a rule
// the adapter can break: scoping to a workspace, limits, uniqueness,
// cascades, leases, routing versions. Input validation, which nahook does
// before it calls a store, is tested in the nahook package itself.
package storetest

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/nahook/nahook/store"
)

// Deadline bounds the whole suite. A store that deadlocks fails with every
// goroutine's stack rather than hanging until the test binary's timeout.
var Deadline = 5 * time.Minute

// test is one conformance case.
type test struct {
	// name is Method/Behaviour, Method being the store method proven.
	name string
	// contract is the rule the case checks, in a sentence an adapter author
	// can act on.
	contract string
	run      func(t *testing.T, h *harness)
}

// cases are the conformance cases, one group per area of the Store
// interface.
func cases() []test {
	return slices.Concat(
		workspaceTests,
		environmentTests,
		applicationTests,
		eventTypeTests,
		endpointTests,
		apiKeyTests,
		portalSessionTests,
		eventTests,
		ingestBatchTests,
		sendTxTests,
		dispatchTests,
		statsTests,
		deliveryTests,
		recoveryTests,
		opEventTests,
		healthTests,
		endpointKeyTests,
		routingChangesTests,
		loadRoutingTests,
	)
}

// races are the cases that race writers against each other; RunShared
// spreads them over two stores.
func races() []test {
	return slices.Concat(
		environmentRaces,
		applicationRaces,
		eventTypeRaces,
		endpointRaces,
		eventRaces,
		sendTxRaces,
		dispatchRaces,
		recoveryRaces,
		opEventRaces,
		healthRaces,
		routingChangesRaces,
	)
}

// Run runs every conformance case against a fresh store from newStore, the
// races included. newStore must return an empty, migrated store and close
// it in a t.Cleanup. Cases run in parallel.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	run(t, slices.Concat(cases(), races()), func(t *testing.T) *harness { return newHarness(t, newStore(t)) })
}

// RunShared runs the race cases with the racing callers spread over two
// stores that share one empty, migrated database, as two processes sharing
// it would be. newStores must close both in a t.Cleanup.
func RunShared(t *testing.T, newStores func(t *testing.T) (store.Store, store.Store)) {
	run(t, races(), func(t *testing.T) *harness {
		a, b := newStores(t)
		return newHarness(t, a, b)
	})
}

func run(t *testing.T, cases []test, newHarness func(t *testing.T) *harness) {
	watchdog := time.AfterFunc(Deadline, func() {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		fmt.Fprintf(os.Stderr, "storetest: suite still running after %v; goroutines:\n%s\n", Deadline, buf)
		panic("storetest: deadline exceeded")
	})
	t.Cleanup(func() { watchdog.Stop() })
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("contract: %s", c.contract)
				}
			})
			c.run(t, newHarness(t))
		})
	}
}
