package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
)

// harness is what a case works with: the store under test, a nahook client
// on it, and a clock the case controls.
type harness struct {
	ctx context.Context
	st  store.Store
	nh  *nahook.Client
	// racers are the clients race cases spread their calls over: nh
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

// at is the clock's reading as a store keeps it: UTC, to the millisecond.
func (h *harness) at() time.Time { return h.clock().UTC().Truncate(time.Millisecond) }

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

// fullWorkspace returns a workspace that has MaxEnvironments environments,
// so that a limit counted over every workspace, not per workspace, shows.
func (h *harness) fullWorkspace(t *testing.T) nahook.Workspace {
	t.Helper()
	ws := h.workspace(t)
	for i := 1; i < nahook.MaxEnvironments; i++ {
		h.env(t, ws.ID, fmt.Sprint("full-", i))
	}
	return ws
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

func (h *harness) portalSession(t *testing.T, ws nahook.WorkspaceID, in nahook.PortalSessionInput) nahook.IssuedPortalSession {
	t.Helper()
	s, err := h.nh.PortalSessions.Create(h.ctx, ws, in)
	if err != nil {
		t.Fatalf("create portal session: %v", err)
	}
	return s
}

func (h *harness) portal(t *testing.T, token string) *nahook.Portal {
	t.Helper()
	p, err := h.nh.PortalSessions.Authenticate(h.ctx, token)
	if err != nil {
		t.Fatalf("authenticate portal session: %v", err)
	}
	return p
}

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

// filled is a workspace holding one of everything a store keeps, so that
// a call aimed at it through the wrong scope has something to find and
// something to change.
type filled struct {
	*outbox
	staging nahook.Environment
	app     nahook.Application
	// owned is the application's endpoint, in production.
	owned   nahook.Endpoint
	mgmt    nahook.IssuedAPIKey
	session nahook.IssuedPortalSession
	// event went to a, b and owned, with idempotency key "order-1".
	event nahook.Ingested
	// failed is the event's delivery to a, failed after one attempt.
	failed nahook.Delivery
}

func (h *harness) filled(t *testing.T) *filled {
	t.Helper()
	f := &filled{outbox: h.outbox(t)}
	f.staging = h.env(t, f.ws.ID, "staging")
	h.publish(t, f.ws.ID, f.staging.ID, f.et.ID)
	f.app = h.app(t, f.ws.ID, "cust_"+string(f.ws.ID[len(f.ws.ID)-8:])) // unique, so that finding it through another workspace shows
	f.owned = h.endpoint(t, f.ws.ID, nahook.EndpointInput{ApplicationID: f.app.ID, URL: "https://owned.example/hook", EventTypes: []string{"order.created"}})
	h.endpoint(t, f.ws.ID, nahook.EndpointInput{ApplicationID: f.app.ID, EnvironmentID: f.staging.ID, URL: "https://staging.example/hook"})
	h.key(t, f.ws.ID, f.staging.ID)
	var err error
	if f.mgmt, err = h.nh.APIKeys.CreateManagement(h.ctx, f.ws.ID, "ops"); err != nil {
		t.Fatalf("create management key: %v", err)
	}
	f.session = h.portalSession(t, f.ws.ID, nahook.PortalSessionInput{ApplicationID: f.app.ID})
	f.event = f.ingest(t, `{"n": 1}`, "order-1")
	for _, d := range f.event.Deliveries {
		if d.EndpointID == f.a.ID {
			f.failed = d
		}
	}
	recordOne(t, h, f.failed, store.DeliveryFailed, 410, f.event.Event.CreatedAt)
	return f
}

// recordOne records one attempt of d, answered with code at at, leaving d
// with the given status.
func recordOne(t *testing.T, h *harness, d nahook.Delivery, status store.DeliveryStatus, code int, at time.Time) {
	t.Helper()
	r := store.AttemptResult{DeliveryID: d.ID, WorkspaceID: d.WorkspaceID, EndpointID: d.EndpointID,
		Attempt: store.Attempt{AttemptedAt: at, StatusCode: code, Response: "answer"}, Status: status}
	if status == store.DeliveryPending {
		r.NextAttemptAt = at.Add(time.Minute)
	}
	if err := recordAttempts(h.ctx, h.st, []store.AttemptResult{r}, 0); err != nil {
		t.Fatalf("RecordAttempts: %v", err)
	}
}

// ids name one resource of each kind, for the cases that call a store
// method with IDs from the wrong scope.
type ids struct {
	env, staging   store.EnvironmentID
	app            store.ApplicationID
	externalID     string
	et             store.EventTypeID
	ep             store.EndpointID
	key            store.APIKeyID
	session        store.PortalSessionID
	event          store.EventID
	idempotencyKey string
	delivery       store.DeliveryID
}

func (f *filled) ids() ids {
	return ids{env: f.env.ID, staging: f.staging.ID, app: f.app.ID, externalID: f.app.ExternalID, et: f.et.ID, ep: f.owned.ID,
		key: f.key.ID, session: f.session.ID, event: f.event.Event.ID, idempotencyKey: "order-1", delivery: f.failed.ID}
}

// unknownIDs are well-formed IDs that exist nowhere.
func unknownIDs() ids {
	return ids{env: store.EnvironmentID(typeid.New("env")), staging: store.EnvironmentID(typeid.New("env")),
		app: store.ApplicationID(typeid.New("app")), externalID: "cust_404", et: store.EventTypeID(typeid.New("evt")),
		ep: store.EndpointID(typeid.New("ep")), key: store.APIKeyID(typeid.New("key")), session: store.PortalSessionID(typeid.New("ps")),
		event: store.EventID(typeid.New("msg")), idempotencyKey: "order-404", delivery: store.DeliveryID(typeid.New("dlv"))}
}

// snapshot is everything a store holds of one workspace, read through the
// store, so a case can tell that a call changed nothing.
type snapshot struct {
	Workspace    store.Workspace
	Environments []store.Environment
	Applications []store.Application
	EventTypes   []store.EventType
	Visibility   map[store.EnvironmentID][]store.EventTypeVisibility
	Endpoints    []store.Endpoint
	EndpointKeys map[store.EndpointID]store.EndpointKeys
	APIKeys      []store.APIKey
	Sessions     []store.PortalSession
	Event        store.Event
	Deliveries   []store.Delivery
	Attempts     map[store.DeliveryID][]store.Attempt
	Routing      store.Routing
	// Changed is the version of the workspace's latest routing change.
	Changed int64
}

func (f *filled) snapshot(t *testing.T, h *harness) snapshot {
	t.Helper()
	ctx, ws, all := h.ctx, f.ws.ID, store.PageRequest{Limit: 1000}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("snapshot: %s: %v", what, err)
		}
	}
	var s snapshot
	var err error
	s.Workspace, err = h.st.GetWorkspace(ctx, ws)
	must("GetWorkspace", err)
	s.Environments, err = h.st.ListEnvironments(ctx, ws, all)
	must("ListEnvironments", err)
	s.Applications, err = h.st.ListApplications(ctx, ws, all)
	must("ListApplications", err)
	s.EventTypes, err = h.st.ListEventTypes(ctx, ws, all)
	must("ListEventTypes", err)
	s.Visibility = map[store.EnvironmentID][]store.EventTypeVisibility{}
	for _, env := range s.Environments {
		s.Visibility[env.ID], err = h.st.ListEventTypeVisibility(ctx, ws, env.ID)
		must("ListEventTypeVisibility", err)
	}
	s.Endpoints, err = h.st.ListEndpoints(ctx, ws, store.EndpointFilter{}, all)
	must("ListEndpoints", err)
	s.EndpointKeys = map[store.EndpointID]store.EndpointKeys{}
	for _, ep := range s.Endpoints {
		s.EndpointKeys[ep.ID], err = h.st.GetEndpointKeys(ctx, ws, ep.ID)
		must("GetEndpointKeys", err)
	}
	s.APIKeys, err = h.st.ListAPIKeys(ctx, ws, store.APIKeyFilter{}, all)
	must("ListAPIKeys", err)
	session, err := h.st.GetPortalSession(ctx, ws, f.session.ID)
	must("GetPortalSession", err)
	active, err := h.st.ListPortalSessions(ctx, ws, f.app.ID, h.at(), all)
	must("ListPortalSessions", err)
	s.Sessions = append([]store.PortalSession{session}, active...)
	s.Event, err = h.st.GetEvent(ctx, ws, f.event.Event.ID)
	must("GetEvent", err)
	s.Deliveries, err = h.st.ListDeliveries(ctx, ws, store.DeliveryFilter{}, all)
	must("ListDeliveries", err)
	s.Attempts = map[store.DeliveryID][]store.Attempt{}
	for _, d := range s.Deliveries {
		_, s.Attempts[d.ID], err = h.st.GetDelivery(ctx, ws, d.ID)
		must("GetDelivery", err)
	}
	s.Routing, err = h.st.LoadRouting(ctx, []store.WorkspaceID{ws})
	must("LoadRouting", err)
	s.Routing.Version = 0
	_, changes, err := h.st.RoutingChanges(ctx, 0)
	must("RoutingChanges", err)
	for _, c := range changes {
		if c.WorkspaceID == ws {
			s.Changed = c.Version
		}
	}
	return s
}

// unchanged fails the case, naming what differs, unless the workspace is
// as it was when before was taken.
func (f *filled) unchanged(t *testing.T, h *harness, before snapshot) {
	t.Helper()
	after := f.snapshot(t, h)
	b, a := reflect.ValueOf(before), reflect.ValueOf(after)
	for i := range b.NumField() {
		if !reflect.DeepEqual(b.Field(i).Interface(), a.Field(i).Interface()) {
			t.Errorf("workspace %s changed: %s was\n\t%+v\nand is now\n\t%+v", f.ws.ID, b.Type().Field(i).Name, b.Field(i).Interface(), a.Field(i).Interface())
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// scoped returns the case proving that method finds what it is given only
// in the scope it is given: called with another workspace, or with IDs
// that exist nowhere, it is ErrNotFound and changes nothing. call makes the
// call with ws and the IDs; it may check more of the answer itself.
func scoped(method string, call func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error) []test {
	return []test{{
		name: method + "/OtherWorkspace",
		contract: method + " reaches a resource only through its own workspace: given the IDs of another workspace's resources, or IDs that exist nowhere, " +
			"it is ErrNotFound, as if they did not exist, reveals nothing of them, and changes nothing in either workspace.",
		run: func(t *testing.T, h *harness) {
			a, b := h.filled(t), h.filled(t)
			beforeA, beforeB := a.snapshot(t, h), b.snapshot(t, h)
			wantNotFound(t, call(t, h, b.ws.ID, a.ids()))
			a.unchanged(t, h, beforeA)
			b.unchanged(t, h, beforeB)
			wantNotFound(t, call(t, h, a.ws.ID, unknownIDs()))
			a.unchanged(t, h, beforeA)
		},
	}}
}

// newKey returns a fresh 32-byte signing key.
func newKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
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

// wantNotFound fails the case unless err is a *store.Error of kind
// ErrNotFound, whatever field it names.
func wantNotFound(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("error = %v, want %v", err, store.ErrNotFound)
	}
	if _, ok := errors.AsType[*store.Error](err); !ok {
		t.Fatalf("error %v (%T) is not a *store.Error", err, err)
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

// race runs fn n times at once and returns the errors, one per call.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-ready // start together, to make the race as tight as possible
			errs[i] = fn(i)
		})
	}
	close(ready)
	wg.Wait()
	return errs
}

// raceRounds is how many rounds a race case runs. One round of a race a
// broken store loses only sometimes passes now and then; several fail in
// every run.
const raceRounds = 8

// retried runs op until it succeeds, fails otherwise than with
// store.ErrUnavailable after waiting, or deadline passes. A store that
// waited for its database and gave up asks to be tried again shortly, and
// a dispatcher does so: two stores sharing one SQLite file report it when
// one's writer waits out BusyTimeout behind the other's, which a slow run
// (-race) makes likelier. The race cases check what stores do when they
// answer, not that they always do in time; a store unavailable without
// waiting (a lock taken too late, say) still fails them.
func retried(deadline time.Time, op func() error) error {
	for {
		start := time.Now()
		err := op()
		if err == nil || !errors.Is(err, store.ErrUnavailable) || time.Since(start) < time.Second || time.Now().After(deadline) {
			return err
		}
	}
}

// tally counts errs by kind; any other error fails the case.
func tally(t *testing.T, errs []error, kinds ...error) map[error]int {
	t.Helper()
	counts := map[error]int{}
	for _, err := range errs {
		if err == nil {
			counts[nil]++
			continue
		}
		known := false
		for _, k := range kinds {
			if errors.Is(err, k) {
				counts[k]++
				known = true
				break
			}
		}
		if !known {
			t.Errorf("unexpected error: %v", err)
		}
	}
	return counts
}

// claimAll claims everything due at now, for a minute, failing the case on
// error.
func (h *harness) claimAll(t *testing.T, now time.Time) []store.Dispatch {
	t.Helper()
	ds, err := claim(h.ctx, h.st, now, time.Minute, 1000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// deliveriesTo returns the endpoint's deliveries, oldest first.
func (h *harness) deliveriesTo(t *testing.T, ws nahook.WorkspaceID, ep nahook.EndpointID) []store.Delivery {
	t.Helper()
	ds, err := h.st.ListDeliveries(h.ctx, ws, store.DeliveryFilter{EndpointID: ep}, store.PageRequest{Limit: 1000})
	if err != nil {
		t.Fatalf("ListDeliveries: %v", err)
	}
	return ds
}

// claim claims, for lease, up to perEndpoint of each endpoint's deliveries
// due at now, keeping its leases within maxInFlight, as a dispatcher does.
func claim(ctx context.Context, st store.Store, now time.Time, lease time.Duration, perEndpoint, maxInFlight int) ([]store.Dispatch, error) {
	due, err := st.DueEndpoints(ctx, now, perEndpoint, 1000)
	if err != nil {
		return nil, fmt.Errorf("DueEndpoints: %w", err)
	}
	var requests []store.ClaimRequest
	for _, e := range due {
		requests = append(requests, store.ClaimRequest{EndpointID: e.EndpointID, Want: e.Due, MaxInFlight: maxInFlight})
	}
	ds, err := st.ClaimDeliveries(ctx, now, lease, requests)
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

// join joins groups of cases.
func join(groups ...[]test) []test {
	var out []test
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// lister makes and lists one kind of resource, so the pagination cases run
// over every list.
type lister struct {
	// method is the store method the list calls.
	method string
	// make creates the i-th item in ws and returns its ID.
	make func(t *testing.T, h *harness, ws nahook.WorkspaceID, i int) string
	// list fetches one page of the kind in ws.
	list func(h *harness, ws nahook.WorkspaceID, o nahook.ListOptions) (ids []string, next string, err error)
	// scoped lists are lists of one workspace.
	scoped bool
}

func page[T any](p nahook.Page[T], err error, id func(T) string) ([]string, string, error) {
	var ids []string
	for _, item := range p.Items {
		ids = append(ids, id(item))
	}
	return ids, p.NextCursor, err
}

// listCases returns the cases every list method must pass.
func listCases(l lister) []test {
	out := []test{{
		name:     l.method + "/EveryItemOnce",
		contract: "Walking a list page by page (Page.After and Page.Limit) visits every item exactly once, in creation (ID) order, the last page having no cursor; walking it again gives the same.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			want, _, err := l.list(h, ws.ID, nahook.ListOptions{}) // what exists already: a default environment, a workspace
			is.NoErr(err)
			for i := range 8 - len(want) {
				want = append(want, l.make(t, h, ws.ID, i))
			}
			for range 2 {
				var got []string
				var sizes []int
				o := nahook.ListOptions{Limit: 3}
				for len(sizes) < 10 {
					ids, next, err := l.list(h, ws.ID, o)
					is.NoErr(err)
					got = append(got, ids...)
					sizes = append(sizes, len(ids))
					if next == "" {
						break
					}
					o.Cursor = next
				}
				is.Equal(sizes, []int{3, 3, 2}) // full pages, then the rest
				is.Equal(got, want)             // each item once, in creation order
				for i := 1; i < len(got); i++ {
					is.True(got[i-1] < got[i]) // which is ID order
				}
			}
		},
	}}
	if !l.scoped {
		return out
	}
	return append(out, test{
		name:     l.method + "/OtherWorkspace",
		contract: "A list of a workspace holds only that workspace's resources, however many other workspaces hold.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			a, b := h.workspace(t), h.workspace(t)
			mine := map[nahook.WorkspaceID][]string{}
			for _, ws := range []nahook.WorkspaceID{a.ID, b.ID} {
				mine[ws], _, _ = l.list(h, ws, nahook.ListOptions{}) // a default environment
				for i := range 3 {
					mine[ws] = append(mine[ws], l.make(t, h, ws, i))
				}
			}
			for _, ws := range []nahook.WorkspaceID{a.ID, b.ID} {
				got, _, err := l.list(h, ws, nahook.ListOptions{})
				is.NoErr(err)
				is.Equal(got, mine[ws]) // its own, and nothing else
			}
		},
	})
}

// strings256 is a name of exactly 256 characters, each two bytes long, so
// a store counting bytes instead of characters fails.
var strings256 = strings.Repeat("é", 256)
