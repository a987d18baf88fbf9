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
// Most cases drive the store through the nahook API, as a host program
// does, so they check validation and storage together; the rules that need
// atomicity (limits, uniqueness, cascades) are enforced only by the store,
// so these cases prove the adapter. Each case is named Method/Behaviour and
// carries the contract it checks, which a failing case prints.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

// Deadline bounds the whole suite. A store that deadlocks fails with every
// goroutine's stack rather than hanging until the test binary's timeout.
var Deadline = 5 * time.Minute

// test is one conformance case.
type test struct {
	// name is Method/Behaviour.
	name string
	// contract is the rule the case checks, in a sentence an adapter author
	// can act on.
	contract string
	run      func(t *testing.T, h *harness)
}

// Run runs every conformance case against a fresh store from newStore.
// newStore must return an empty, migrated store and close it in a
// t.Cleanup. Cases run in parallel.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	groups := [][]test{
		workspaceTests,
		environmentTests,
		applicationTests,
		eventTypeTests,
		endpointTests,
		apiKeyTests,
		isolationTests,
		paginationTests,
		routingTests,
		deliveryTests,
		portalTests,
		concurrencyTests,
		routingConcurrencyTests,
		deliveryConcurrencyTests,
		portalConcurrencyTests,
	}
	run(t, slices.Concat(groups...), func(t *testing.T) *harness { return newHarness(t, newStore(t)) })
}

// RunShared runs the concurrency cases with the racing writers spread over
// two stores that share one empty, migrated database, as two processes
// sharing it would be. newStores must close both in a t.Cleanup.
func RunShared(t *testing.T, newStores func(t *testing.T) (store.Store, store.Store)) {
	run(t, slices.Concat(concurrencyTests, routingConcurrencyTests, deliveryConcurrencyTests, portalConcurrencyTests), func(t *testing.T) *harness {
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

// harness is what a case works with: the store under test, a nahook client
// on it, and a clock the case controls.
type harness struct {
	ctx context.Context
	st  store.Store
	nh  *nahook.Client
	// racers are the clients concurrency cases spread their calls over: nh
	// alone, or one client per store sharing the database; stores are
	// their stores.
	racers []*nahook.Client
	stores []store.Store

	mu  sync.Mutex
	now time.Time
}

// start is the clock's first reading: deliberately not UTC and finer than
// a millisecond, so cases see the normalisation.
var start = time.Date(2026, 1, 15, 12, 30, 0, 123_456_789, time.FixedZone("CEST", 2*60*60))

func newHarness(t *testing.T, st store.Store, others ...store.Store) *harness {
	h := &harness{ctx: t.Context(), st: st, now: start}
	h.nh = h.client(t, nahook.Config{})
	h.racers = []*nahook.Client{h.nh}
	h.stores = append([]store.Store{st}, others...)
	for _, o := range others {
		nh, err := nahook.New(o, nahook.Config{Now: h.clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nh.Close() })
		h.racers = append(h.racers, nh)
	}
	return h
}

// racer returns the client the i-th racing call goes through.
func (h *harness) racer(i int) *nahook.Client { return h.racers[i%len(h.racers)] }

// client returns another nahook client on the same store and clock.
func (h *harness) client(t *testing.T, cfg nahook.Config) *nahook.Client {
	cfg.Now = h.clock
	nh, err := nahook.New(h.st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nh.Close() }) // before the store closes: cleanups run last first
	return nh
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

// tick advances the clock by a second.
func (h *harness) tick() { h.advance(time.Second) }

// advance moves the clock on by d.
func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(d)
}

// Fixtures: each fails the case on error.

func (h *harness) workspace(t *testing.T) nahook.Workspace {
	t.Helper()
	ws, err := h.nh.Workspaces.Create(h.ctx, nahook.WorkspaceInput{Name: "Acme SaaS"})
	if err != nil {
		t.Fatalf("create workspace: %v", err)
	}
	return ws
}

func (h *harness) defaultEnv(t *testing.T, ws nahook.WorkspaceID) nahook.Environment {
	t.Helper()
	env, err := h.nh.Environments.Default(h.ctx, ws)
	if err != nil {
		t.Fatalf("default environment: %v", err)
	}
	return env
}

func (h *harness) env(t *testing.T, ws nahook.WorkspaceID, slug string) nahook.Environment {
	t.Helper()
	env, err := h.nh.Environments.Create(h.ctx, ws, nahook.EnvironmentInput{Name: "Env " + slug, Slug: slug})
	if err != nil {
		t.Fatalf("create environment %q: %v", slug, err)
	}
	return env
}

func (h *harness) app(t *testing.T, ws nahook.WorkspaceID, externalID string) nahook.Application {
	t.Helper()
	app, err := h.nh.Applications.Create(h.ctx, ws, nahook.ApplicationInput{Name: "Customer " + externalID, ExternalID: externalID})
	if err != nil {
		t.Fatalf("create application: %v", err)
	}
	return app
}

func (h *harness) eventType(t *testing.T, ws nahook.WorkspaceID, name string) nahook.EventType {
	t.Helper()
	et, err := h.nh.EventTypes.Create(h.ctx, ws, nahook.EventTypeInput{Name: name})
	if err != nil {
		t.Fatalf("create event type %q: %v", name, err)
	}
	return et
}

func (h *harness) publish(t *testing.T, ws nahook.WorkspaceID, env nahook.EnvironmentID, et nahook.EventTypeID) {
	t.Helper()
	if err := h.nh.EventTypes.SetPublished(h.ctx, ws, env, et, true); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

func (h *harness) endpoint(t *testing.T, ws nahook.WorkspaceID, in nahook.EndpointInput) nahook.Endpoint {
	t.Helper()
	if in.URL == "" {
		in.URL = "https://example.com/webhooks"
	}
	ep, err := h.nh.Endpoints.Create(h.ctx, ws, in)
	if err != nil {
		t.Fatalf("create endpoint: %v", err)
	}
	return ep
}

func (h *harness) key(t *testing.T, ws nahook.WorkspaceID, env nahook.EnvironmentID) nahook.IssuedAPIKey {
	t.Helper()
	k, err := h.nh.APIKeys.Create(h.ctx, ws, nahook.APIKeyInput{EnvironmentID: env, Name: "backend"})
	if err != nil {
		t.Fatalf("create API key: %v", err)
	}
	return k
}

// wantErr fails the case unless err is a *store.Error of the given kind
// naming the given field.
func wantErr(t *testing.T, err error, kind error, field string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error = %v, want %v", err, kind)
	}
	e, ok := errors.AsType[*store.Error](err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *store.Error", err, err)
	}
	if e.Field != field {
		t.Fatalf("error field = %q, want %q (error: %v)", e.Field, field, err)
	}
	if e.Message == "" {
		t.Fatalf("error %v has no message", err)
	}
}

// all reads every page of a list, failing the case on error.
func all[T any](t *testing.T, fetch func(nahook.ListOptions) (nahook.Page[T], error)) []T {
	t.Helper()
	var out []T
	opts := nahook.ListOptions{Limit: nahook.MaxLimit}
	for {
		page, err := fetch(opts)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		opts.Cursor = page.NextCursor
	}
}

func ptr[T any](v T) *T { return &v }
