package nahook_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
	"github.com/nahook/nahook/store/sqlite"
)

// newClient returns a client on a fresh in-memory SQLite store, closed when
// the test ends.
func newClient(t testing.TB, cfg nahook.Config) *nahook.Client {
	t.Helper()
	nh, _ := newClientStore(t, cfg)
	return nh
}

// newClientStore is newClient, and returns the store too.
func newClientStore(t testing.TB, cfg nahook.Config) (*nahook.Client, store.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	nh, err := nahook.New(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		nh.Close()
		st.Close()
	})
	return nh, st
}

// must returns v, or panics with err: for test set-up, where any error
// is a broken test.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func targetIDs(r nahook.Route) []nahook.EndpointID {
	var ids []nahook.EndpointID
	for i := range r.NumEndpoints() {
		ids = append(ids, r.Endpoint(i).ID)
	}
	return ids
}

// The seed's example: a staging key sends order.created, published in
// staging. A (staging, subscribed) receives it; B (production, subscribed)
// and C (staging, not subscribed) do not.
func TestResolveSeedExample(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	nh := newClient(t, nahook.Config{})
	ws := must(nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme SaaS"}))
	prod := must(nh.Environments.Default(ctx, ws.ID))
	staging := must(nh.Environments.Create(ctx, ws.ID, nahook.EnvironmentInput{Name: "Staging", Slug: "staging"}))
	created := must(nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"}))
	must(nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.refunded"}))
	for _, env := range []nahook.Environment{prod, staging} {
		is.NoErr(nh.EventTypes.SetPublished(ctx, ws.ID, env.ID, created.ID, true))
	}
	a := must(nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{EnvironmentID: staging.ID, URL: "https://a.example/hook", EventTypes: []string{"order.created"}}))
	must(nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{EnvironmentID: prod.ID, URL: "https://b.example/hook", EventTypes: []string{"order.created"}}))
	must(nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{EnvironmentID: staging.ID, URL: "https://c.example/hook", EventTypes: []string{"order.refunded"}}))
	key := must(nh.APIKeys.Create(ctx, ws.ID, nahook.APIKeyInput{EnvironmentID: staging.ID}))

	route, err := nh.Router.Resolve(ctx, key.Plaintext, "order.created")
	is.NoErr(err)
	is.Equal(route.Endpoints(), []nahook.Target{{ID: a.ID, URL: "https://a.example/hook"}}) // A only
	is.Equal(route.WorkspaceID, ws.ID)
	is.Equal(route.EnvironmentID, staging.ID)
	is.Equal(route.KeyID, key.ID)
	is.Equal(route.EventTypeID, created.ID)
	is.Equal(route.EventType, "order.created")

	x, err := nh.Router.Explain(ctx, key.Plaintext, "order.created")
	is.NoErr(err)
	is.Equal(len(x.Endpoints), 3)
	is.Equal(x.Endpoints[0].Reasons, []nahook.Reason(nil)) // A receives
	is.True(x.Endpoints[0].Receives)
	is.Equal(x.Endpoints[1].Reasons, []nahook.Reason{nahook.ReasonOtherEnvironment}) // B: production
	is.Equal(x.Endpoints[2].Reasons, []nahook.Reason{nahook.ReasonNotSubscribed})    // C: not subscribed

	// Isolation leaves it as it was: A, B and C belong to no application,
	// so a broadcast, and the keyless route, say the same.
	for _, q := range []nahook.RouteQuery{
		{WorkspaceID: ws.ID, EnvironmentID: staging.ID, EventType: "order.created"},
		{WorkspaceID: ws.ID, EnvironmentID: staging.ID, EventType: "order.created", Broadcast: true},
	} {
		r, err := nh.Router.Route(ctx, q)
		is.NoErr(err)
		is.Equal(r.Endpoints(), []nahook.Target{{ID: a.ID, URL: "https://a.example/hook"}})
	}
}

// isolation is a workspace's own endpoint and two customers' endpoints,
// all subscribed to order.created in the default environment.
type isolation struct {
	nh                  *nahook.Client
	st                  store.Store
	ws                  nahook.Workspace
	acme, globex        nahook.Application
	own, acmeEP, globEP nahook.Endpoint
	key                 nahook.IssuedAPIKey
}

func newIsolation(t *testing.T) *isolation {
	ctx := context.Background()
	nh, st := newClientStore(t, nahook.Config{})
	w := &isolation{nh: nh, st: st}
	w.ws = must(nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Shop"}))
	env := must(nh.Environments.Default(ctx, w.ws.ID))
	et := must(nh.EventTypes.Create(ctx, w.ws.ID, nahook.EventTypeInput{Name: "order.created"}))
	check(nh.EventTypes.SetPublished(ctx, w.ws.ID, env.ID, et.ID, true))
	w.acme = must(nh.Applications.Create(ctx, w.ws.ID, nahook.ApplicationInput{Name: "Acme", ExternalID: "cust_acme"}))
	w.globex = must(nh.Applications.Create(ctx, w.ws.ID, nahook.ApplicationInput{Name: "Globex", ExternalID: "cust_globex"}))
	w.own = must(nh.Endpoints.Create(ctx, w.ws.ID, nahook.EndpointInput{URL: "https://shop.example/hook", EventTypes: []string{"order.created"}}))
	w.acmeEP = must(nh.Endpoints.Create(ctx, w.ws.ID, nahook.EndpointInput{ApplicationID: w.acme.ID, URL: "https://acme.example/hook", EventTypes: []string{"*"}}))
	w.globEP = must(nh.Endpoints.Create(ctx, w.ws.ID, nahook.EndpointInput{ApplicationID: w.globex.ID, URL: "https://globex.example/hook", EventTypes: []string{"order.*"}}))
	w.key = must(nh.APIKeys.Create(ctx, w.ws.ID, nahook.APIKeyInput{}))
	return w
}

func deliveredTo(in nahook.Ingested) []nahook.EndpointID {
	var ids []nahook.EndpointID
	for _, d := range in.Deliveries {
		ids = append(ids, d.EndpointID)
	}
	slices.Sort(ids)
	return ids
}

// An event for no application reaches the workspace's own endpoints only;
// one for an application, by ID or external ID, that application's only;
// a broadcast, all of them. Router.Route, ExplainFor and Ingest agree.
func TestIngestIsolation(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	w := newIsolation(t)
	for _, c := range []struct {
		name string
		in   nahook.IngestInput
		app  nahook.ApplicationID
		want []nahook.EndpointID
	}{
		{"for no application", nahook.IngestInput{}, "", []nahook.EndpointID{w.own.ID}},
		{"for Acme by ID", nahook.IngestInput{ApplicationID: w.acme.ID}, w.acme.ID, []nahook.EndpointID{w.acmeEP.ID}},
		{"for Globex by external ID", nahook.IngestInput{ApplicationExternalID: "cust_globex"}, w.globex.ID, []nahook.EndpointID{w.globEP.ID}},
		{"broadcast", nahook.IngestInput{Broadcast: true}, "", []nahook.EndpointID{w.own.ID, w.acmeEP.ID, w.globEP.ID}},
	} {
		c.in.Payload = []byte(`{}`)
		in, err := w.nh.Events.Ingest(ctx, w.key.Plaintext, "order.created", c.in)
		is.NoErr(err)
		if got := deliveredTo(in); !slices.Equal(got, c.want) {
			t.Errorf("%s: delivered to %v, want %v", c.name, got, c.want)
		}
		is.Equal(in.Event.ApplicationID, c.app) // kept with the event, by ID

		r, err := w.nh.Router.Route(ctx, nahook.RouteQuery{WorkspaceID: w.ws.ID, ApplicationID: c.app, Broadcast: c.in.Broadcast, EventType: "order.created"})
		is.NoErr(err)
		if got := targetIDs(r); !slices.Equal(got, c.want) {
			t.Errorf("%s: Route %v, want %v", c.name, got, c.want)
		}
		x, err := w.nh.Router.ExplainFor(ctx, w.key.Plaintext, "order.created", nahook.ExplainOptions{ApplicationID: c.app, Broadcast: c.in.Broadcast})
		is.NoErr(err)
		for _, v := range x.Endpoints {
			receives := slices.Contains(c.want, v.ID)
			if v.Receives != receives || (!receives && !slices.Equal(v.Reasons, []nahook.Reason{nahook.ReasonOtherApplication})) {
				t.Errorf("%s: Explain says %s receives %v, reasons %v", c.name, v.ID, v.Receives, v.Reasons)
			}
		}
	}

	before := must(w.st.ListDeliveries(ctx, w.ws.ID, store.DeliveryFilter{}, store.PageRequest{Limit: 100}))
	for _, ext := range []string{"cust_nobody", "has space"} {
		_, err := w.nh.Events.Ingest(ctx, w.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{}`), ApplicationExternalID: ext})
		wantField(t, ext, err, nahook.ErrNotFound, "applicationExternalId")
	}
	_, err := w.nh.Events.Ingest(ctx, "nhk_live_unknown", "order.created", nahook.IngestInput{Payload: []byte(`{}`), ApplicationExternalID: "cust_acme"})
	is.True(errors.Is(err, nahook.ErrUnauthorized)) // the key first: no application is looked up for a stranger
	after := must(w.st.ListDeliveries(ctx, w.ws.ID, store.DeliveryFilter{}, store.PageRequest{Limit: 100}))
	is.Equal(len(after), len(before)) // the refused ingests stored nothing

	// Direct: naming the endpoint is explicit; with an application, it
	// must be that application's, however the application is named.
	d, err := w.nh.Events.IngestDirect(ctx, w.key.Plaintext, w.acmeEP.ID, nahook.IngestInput{Payload: []byte(`{}`)})
	is.NoErr(err)
	is.Equal(deliveredTo(d), []nahook.EndpointID{w.acmeEP.ID})
	d, err = w.nh.Events.IngestDirect(ctx, w.key.Plaintext, w.acmeEP.ID, nahook.IngestInput{Payload: []byte(`{}`), ApplicationExternalID: "cust_acme"})
	is.NoErr(err)
	is.Equal(d.Event.ApplicationID, w.acme.ID)
	_, err = w.nh.Events.IngestDirect(ctx, w.key.Plaintext, w.acmeEP.ID, nahook.IngestInput{Payload: []byte(`{}`), ApplicationExternalID: "cust_globex"})
	wantField(t, "another's endpoint", err, nahook.ErrNotFound, "applicationExternalId")

	// An idempotency key names the application, however it was named.
	first := must(w.nh.Events.Ingest(ctx, w.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{}`), ApplicationExternalID: "cust_acme", IdempotencyKey: "o-1"}))
	again := must(w.nh.Events.Ingest(ctx, w.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{}`), ApplicationID: w.acme.ID, IdempotencyKey: "o-1"}))
	is.True(again.Replayed)
	is.Equal(again.Event.ID, first.Event.ID)
	_, err = w.nh.Events.Ingest(ctx, w.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{}`), ApplicationExternalID: "cust_globex", IdempotencyKey: "o-1"})
	wantField(t, "the key for another application", err, nahook.ErrIdempotencyKeyReused, "idempotencyKey")
}

// fixture is a workspace with two environments, event types, endpoints
// and keys, for the router tests.
type fixture struct {
	nh                   *nahook.Client
	ws                   nahook.Workspace
	prod, staging        nahook.Environment
	created, refunded    nahook.EventType
	prodKey, stagingKey  nahook.IssuedAPIKey
	exact, wild, all     nahook.Endpoint // staging: order.created, order.*, *
	prodEP, disabled     nahook.Endpoint
	otherEP              nahook.Endpoint
	unsubscribed         nahook.Endpoint
	otherKey             nahook.IssuedAPIKey
	shipped, invoicePaid nahook.EventType
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	nh := newClient(t, nahook.Config{})
	f := &fixture{nh: nh}
	f.ws = must(nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme SaaS"}))
	ws := f.ws.ID
	f.prod = must(nh.Environments.Default(ctx, ws))
	f.staging = must(nh.Environments.Create(ctx, ws, nahook.EnvironmentInput{Name: "Staging", Slug: "staging"}))
	f.created = must(nh.EventTypes.Create(ctx, ws, nahook.EventTypeInput{Name: "order.created"}))
	f.refunded = must(nh.EventTypes.Create(ctx, ws, nahook.EventTypeInput{Name: "order.refunded"}))
	f.shipped = must(nh.EventTypes.Create(ctx, ws, nahook.EventTypeInput{Name: "order.item.shipped"}))
	f.invoicePaid = must(nh.EventTypes.Create(ctx, ws, nahook.EventTypeInput{Name: "invoice.paid"}))
	for _, et := range []nahook.EventType{f.created, f.shipped, f.invoicePaid} {
		check(nh.EventTypes.SetPublished(ctx, ws, f.staging.ID, et.ID, true))
	}
	check(nh.EventTypes.SetPublished(ctx, ws, f.prod.ID, f.created.ID, true))
	ep := func(env nahook.EnvironmentID, url string, subs []string, disabled bool) nahook.Endpoint {
		return must(nh.Endpoints.Create(ctx, ws, nahook.EndpointInput{EnvironmentID: env, URL: url, EventTypes: subs, Disabled: disabled}))
	}
	f.exact = ep(f.staging.ID, "https://exact.example/", []string{"order.created"}, false)
	f.wild = ep(f.staging.ID, "https://wild.example/", []string{"order.*", "order.created"}, false)
	f.all = ep(f.staging.ID, "https://all.example/", []string{"*"}, false)
	f.prodEP = ep(f.prod.ID, "https://prod.example/", []string{"*"}, false)
	f.disabled = ep(f.staging.ID, "https://disabled.example/", []string{"*"}, true)
	f.unsubscribed = ep(f.staging.ID, "https://none.example/", nil, false)
	f.stagingKey = must(nh.APIKeys.Create(ctx, ws, nahook.APIKeyInput{EnvironmentID: f.staging.ID}))
	f.prodKey = must(nh.APIKeys.Create(ctx, ws, nahook.APIKeyInput{EnvironmentID: f.prod.ID}))

	other := must(nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Other"}))
	f.otherEP = must(nh.Endpoints.Create(ctx, other.ID, nahook.EndpointInput{URL: "https://other.example/"}))
	f.otherKey = must(nh.APIKeys.Create(ctx, other.ID, nahook.APIKeyInput{}))
	return f
}

func TestResolveWildcards(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	f := newFixture(t)
	for _, c := range []struct {
		eventType string
		want      []nahook.EndpointID
	}{
		{"order.created", []nahook.EndpointID{f.exact.ID, f.wild.ID, f.all.ID}}, // once each, in creation order
		{"order.item.shipped", []nahook.EndpointID{f.wild.ID, f.all.ID}},        // order.* reaches any depth
		{"invoice.paid", []nahook.EndpointID{f.all.ID}},                         // only *
	} {
		r, err := f.nh.Router.Resolve(ctx, f.stagingKey.Plaintext, c.eventType)
		is.NoErr(err)
		is.Equal(targetIDs(r), c.want)
	}
	r, err := f.nh.Router.Resolve(ctx, f.prodKey.Plaintext, "order.created")
	is.NoErr(err)
	is.Equal(targetIDs(r), []nahook.EndpointID{f.prodEP.ID}) // the other environment's own endpoints
}

func TestResolveErrors(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	r := f.nh.Router
	mgmt := must(f.nh.APIKeys.CreateManagement(ctx, f.ws.ID, "ops"))
	for _, c := range []struct {
		name      string
		key, evt  string
		kind      error
		wantField string
	}{
		{"unknown key", otherLastChar(f.stagingKey.Plaintext), "order.created", nahook.ErrUnauthorized, ""},
		{"malformed key", "Bearer " + f.stagingKey.Plaintext, "order.created", nahook.ErrUnauthorized, ""},
		{"empty key", "", "order.created", nahook.ErrUnauthorized, ""},
		{"management key", mgmt.Plaintext, "order.created", nahook.ErrUnauthorized, ""},
		{"unknown event type", f.stagingKey.Plaintext, "order.lost", nahook.ErrUnknownEventType, "eventType"},
		{"other workspace's event type", f.otherKey.Plaintext, "order.created", nahook.ErrUnknownEventType, "eventType"},
		{"not published", f.stagingKey.Plaintext, "order.refunded", nahook.ErrNotPublished, "eventType"},
		{"published elsewhere only", f.prodKey.Plaintext, "invoice.paid", nahook.ErrNotPublished, "eventType"},
	} {
		_, err := r.Resolve(ctx, c.key, c.evt)
		wantErr(t, c.name, err, c.kind, c.wantField)
	}

	route, err := r.ResolveDirect(ctx, f.stagingKey.Plaintext, f.unsubscribed.ID)
	if err != nil || route.NumEndpoints() != 1 || route.Endpoint(0).ID != f.unsubscribed.ID || route.EventType != "" {
		t.Fatalf("direct to a staging endpoint: %+v, %v", route, err) // subscriptions do not matter
	}
	for _, c := range []struct {
		name string
		key  string
		ep   nahook.EndpointID
		kind error
	}{
		{"other environment", f.stagingKey.Plaintext, f.prodEP.ID, nahook.ErrOtherEnvironment},
		{"disabled", f.stagingKey.Plaintext, f.disabled.ID, nahook.ErrEndpointDisabled},
		{"other workspace", f.stagingKey.Plaintext, f.otherEP.ID, nahook.ErrNotFound},
		{"unknown", f.stagingKey.Plaintext, "ep_01kaaaaaaaaaaaaaaaaaaaaaaa", nahook.ErrNotFound},
		{"bad key", "nhk_nope", f.exact.ID, nahook.ErrUnauthorized},
	} {
		_, err := r.ResolveDirect(ctx, c.key, c.ep)
		if !errors.Is(err, c.kind) {
			t.Errorf("direct, %s: error = %v, want %v", c.name, err, c.kind)
		}
	}
}

// A Route hands out copies: whatever a caller does to the endpoints it
// gets, the router's next answers, and the Route itself, are unchanged.
func TestRouteCannotChangeTheSnapshot(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	f := newFixture(t)
	r, key := f.nh.Router, f.stagingKey.Plaintext
	first := must(r.Resolve(ctx, key, "order.created"))
	want := first.Endpoints()
	is.Equal(len(want), 3)

	got := first.Endpoints()
	got[0].URL = "https://attacker.example/"
	got[1] = nahook.Target{ID: f.otherEP.ID, URL: f.otherEP.URL}
	_ = append(got[:1], nahook.Target{URL: "https://appended.example/"})
	is.Equal(must(r.Resolve(ctx, key, "order.created")).Endpoints(), want)
	is.Equal(first.Endpoints(), want)

	direct := must(r.ResolveDirect(ctx, key, f.exact.ID)).Endpoints()
	direct[0].URL = "https://attacker.example/"
	is.Equal(must(r.ResolveDirect(ctx, key, f.exact.ID)).Endpoint(0).URL, f.exact.URL)
	is.Equal(must(r.Resolve(ctx, key, "order.created")).Endpoint(0).URL, f.exact.URL) // the same target, in another list

	x := must(r.Explain(ctx, key, "order.created"))
	x.Endpoints[0].URL = "https://attacker.example/"
	is.Equal(must(r.Explain(ctx, key, "order.created")).Endpoints[0].URL, f.exact.URL)
}

// otherLastChar returns s with its last character changed: a string of the
// same shape that is never s. Replacing it with a fixed character would
// give s back whenever s already ended with it.
func otherLastChar(s string) string {
	last := byte('x')
	if s[len(s)-1] == last {
		last = 'y'
	}
	return s[:len(s)-1] + string(last)
}

func wantErr(t *testing.T, name string, err, kind error, field string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: error = %v, want %v", name, err, kind)
		return
	}
	if e, ok := errors.AsType[*nahook.Error](err); !ok || e.Field != field {
		t.Errorf("%s: error %v does not name field %q", name, err, field)
	}
}

// A write through a Client is seen by that Client's next Resolve: there is
// no window in which its router answers from before the write.
func TestResolveReadYourWrites(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	f := newFixture(t)
	nh, key := f.nh, f.stagingKey.Plaintext
	resolve := func(evt string) ([]nahook.EndpointID, error) {
		r, err := nh.Router.Resolve(ctx, key, evt)
		return targetIDs(r), err
	}
	ids, err := resolve("order.created")
	is.NoErr(err)
	is.Equal(len(ids), 3)

	fresh := must(nh.Endpoints.Create(ctx, f.ws.ID, nahook.EndpointInput{EnvironmentID: f.staging.ID, URL: "https://new.example/", EventTypes: []string{"order.created"}}))
	ids, _ = resolve("order.created")
	is.Equal(ids[len(ids)-1], fresh.ID) // a new endpoint receives at once

	must(nh.Endpoints.Update(ctx, f.ws.ID, fresh.ID, nahook.EndpointPatch{Disabled: ptr(true)}))
	ids, _ = resolve("order.created")
	is.Equal(len(ids), 3) // a disabled one stops at once

	must(nh.Endpoints.Update(ctx, f.ws.ID, f.exact.ID, nahook.EndpointPatch{EventTypes: []string{"invoice.paid"}}))
	ids, _ = resolve("order.created")
	is.Equal(ids, []nahook.EndpointID{f.wild.ID, f.all.ID}) // resubscribing moves it

	is.NoErr(nh.EventTypes.SetPublished(ctx, f.ws.ID, f.staging.ID, f.created.ID, false))
	_, err = resolve("order.created")
	is.True(errors.Is(err, nahook.ErrNotPublished)) // unpublishing stops the type

	renamed := must(nh.EventTypes.Update(ctx, f.ws.ID, f.shipped.ID, nahook.EventTypePatch{Name: ptr("order.shipped")}))
	_, err = resolve("order.item.shipped")
	is.True(errors.Is(err, nahook.ErrUnknownEventType)) // the old name is gone
	ids, err = resolve(renamed.Name)
	is.NoErr(err)
	is.Equal(ids, []nahook.EndpointID{f.wild.ID, f.all.ID})

	newKey := must(nh.APIKeys.Create(ctx, f.ws.ID, nahook.APIKeyInput{EnvironmentID: f.staging.ID}))
	_, err = nh.Router.Resolve(ctx, newKey.Plaintext, "invoice.paid")
	is.NoErr(err) // a new key works at once
	must(nh.APIKeys.Revoke(ctx, f.ws.ID, newKey.ID))
	_, err = nh.Router.Resolve(ctx, newKey.Plaintext, "invoice.paid")
	is.True(errors.Is(err, nahook.ErrUnauthorized)) // a revoked one stops at once

	is.NoErr(nh.Environments.Delete(ctx, f.ws.ID, f.staging.ID))
	_, err = resolve("invoice.paid")
	is.True(errors.Is(err, nahook.ErrUnauthorized)) // its environment's keys went with it

	_, err = nh.Router.Resolve(ctx, f.prodKey.Plaintext, "order.created")
	is.NoErr(err)
	is.NoErr(nh.Workspaces.Delete(ctx, f.ws.ID))
	_, err = nh.Router.Resolve(ctx, f.prodKey.Plaintext, "order.created")
	is.True(errors.Is(err, nahook.ErrUnauthorized)) // and a deleted workspace routes nothing
	_, err = nh.Router.Resolve(ctx, f.otherKey.Plaintext, "order.created")
	is.True(errors.Is(err, nahook.ErrUnknownEventType)) // while the other workspace still answers
}

func TestExplainReasons(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	f := newFixture(t)
	verdicts := func(key, evt string) map[nahook.EndpointID][]nahook.Reason {
		x, err := f.nh.Router.Explain(ctx, key, evt)
		is.NoErr(err)
		route, rerr := f.nh.Router.Resolve(ctx, key, evt)
		receiving := map[nahook.EndpointID]bool{}
		for _, id := range targetIDs(route) {
			receiving[id] = true
		}
		out := map[nahook.EndpointID][]nahook.Reason{}
		for _, v := range x.Endpoints {
			is.Equal(v.Receives, receiving[v.ID]) // Explain agrees with Resolve
			is.Equal(v.Receives, len(v.Reasons) == 0)
			out[v.ID] = v.Reasons
		}
		if rerr != nil {
			is.Equal(len(receiving), 0)
		}
		return out
	}
	v := verdicts(f.stagingKey.Plaintext, "order.created")
	is.Equal(len(v), 6) // every endpoint of the workspace, none of another
	is.Equal(v[f.exact.ID], []nahook.Reason(nil))
	is.Equal(v[f.prodEP.ID], []nahook.Reason{nahook.ReasonOtherEnvironment})
	is.Equal(v[f.disabled.ID], []nahook.Reason{nahook.ReasonDisabled})
	is.Equal(v[f.unsubscribed.ID], []nahook.Reason{nahook.ReasonNotSubscribed})

	v = verdicts(f.stagingKey.Plaintext, "order.refunded") // not published in staging
	is.Equal(v[f.wild.ID], []nahook.Reason{nahook.ReasonNotPublished})
	is.Equal(v[f.exact.ID], []nahook.Reason{nahook.ReasonNotPublished, nahook.ReasonNotSubscribed})
	is.Equal(v[f.prodEP.ID], []nahook.Reason{nahook.ReasonOtherEnvironment, nahook.ReasonNotPublished})

	v = verdicts(f.stagingKey.Plaintext, "order.lost")
	is.Equal(v[f.all.ID], []nahook.Reason{nahook.ReasonUnknownEventType})
	is.Equal(v[f.disabled.ID], []nahook.Reason{nahook.ReasonUnknownEventType, nahook.ReasonDisabled})

	_, err := f.nh.Router.Explain(ctx, "nhk_bad", "order.created")
	is.True(errors.Is(err, nahook.ErrUnauthorized))
}

func ptr[T any](v T) *T { return &v }

// check panics with err, if any: for test set-up.
func check(err error) {
	if err != nil {
		panic(err)
	}
}

// Resolves racing with writes, through the writing client and a second
// one following it on the same store, under -race: no data race, and no
// answer but a route or one of the expected errors.
func TestRouterConcurrentUse(t *testing.T) {
	ctx := context.Background()
	st := must(sqlite.Open(ctx, ":memory:"))
	defer st.Close()
	writer := must(nahook.New(st, nahook.Config{RoutingPollInterval: time.Millisecond}))
	defer writer.Close()
	follower := must(nahook.New(st, nahook.Config{RoutingPollInterval: time.Millisecond}))
	defer follower.Close()
	ws := must(writer.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Busy"}))
	env := must(writer.Environments.Default(ctx, ws.ID))
	et := must(writer.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"}))
	key := must(writer.APIKeys.Create(ctx, ws.ID, nahook.APIKeyInput{}))

	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, nh := range []*nahook.Client{writer, follower, writer, follower} {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				_, err := nh.Router.Resolve(ctx, key.Plaintext, "order.created")
				if err != nil && !errors.Is(err, nahook.ErrNotPublished) {
					t.Errorf("Resolve: %v", err)
					return
				}
				if _, err := nh.Router.Explain(ctx, key.Plaintext, "order.created"); err != nil {
					t.Errorf("Explain: %v", err)
					return
				}
			}
		})
	}
	const writes = 100
	for i := range writes {
		// The last write publishes, so that the routers must end up
		// holding every endpoint, not agreeing on none.
		check(writer.EventTypes.SetPublished(ctx, ws.ID, env.ID, et.ID, i%2 == 1))
		must(writer.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: "https://example.com/", EventTypes: []string{"*"}}))
	}
	close(done)
	wg.Wait()

	// Both routers end agreeing with the store, endpoint by endpoint: none
	// lost an update.
	want, err := storeResolve(ctx, st, key.Plaintext, "order.created")
	if err != nil || len(want) != writes {
		t.Fatalf("the store routes to %d endpoints, %v; the writes made %d", len(want), err, writes)
	}
	waitFollowed(t, ctx, follower, st)
	for _, c := range []struct {
		name string
		nh   *nahook.Client
	}{{"writer", writer}, {"follower", follower}} {
		route, err := c.nh.Router.Resolve(ctx, key.Plaintext, "order.created")
		if got := targetIDs(route); err != nil || !slices.Equal(got, want) {
			t.Fatalf("after the writes the %s's router answers %d endpoints, %v; the store routes to %d", c.name, len(got), err, len(want))
		}
	}
}

// A Client's own write is seen by its very next Resolve even while other
// goroutines resolve through it all along (and so race to reload).
func TestRouterReadYourWritesUnderLoad(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				f.nh.Router.Resolve(ctx, f.stagingKey.Plaintext, "order.created")
				f.nh.Router.Resolve(ctx, f.otherKey.Plaintext, "order.created")
			}
		})
	}
	defer func() { close(done); wg.Wait() }()
	for i := range 500 {
		publish := i%2 == 1
		check(f.nh.EventTypes.SetPublished(ctx, f.ws.ID, f.staging.ID, f.created.ID, publish))
		_, err := f.nh.Router.Resolve(ctx, f.stagingKey.Plaintext, "order.created")
		if (err == nil) != publish {
			t.Fatalf("write %d (published=%v): the next Resolve said %v", i, publish, err)
		}
	}
}

// blockingStore is a store whose change feed hangs until its caller gives
// up, as one behind a dead network does.
type blockingStore struct {
	store.Store
	blocked chan struct{}
	once    sync.Once
}

func (b *blockingStore) RoutingChanges(ctx context.Context, since int64) (int64, []store.RoutingChange, error) {
	b.once.Do(func() { close(b.blocked) })
	<-ctx.Done()
	return 0, nil, ctx.Err()
}

// Close returns promptly even while the router is stuck in the store, and
// leaves no goroutine behind; a Resolve that must wait for the stuck
// router gives up with its own context.
func TestRouterCloseWhileStoreHangs(t *testing.T) {
	ctx := context.Background()
	st := must(sqlite.Open(ctx, ":memory:"))
	defer st.Close()
	base := runtime.NumGoroutine() // the store's own included
	bs := &blockingStore{Store: st, blocked: make(chan struct{})}
	nh := must(nahook.New(bs, nahook.Config{RoutingPollInterval: time.Millisecond, Logger: quiet}))
	ws := must(nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Stuck"}))
	key := must(nh.APIKeys.Create(ctx, ws.ID, nahook.APIKeyInput{}))
	check(nh.Router.Load(ctx))
	<-bs.blocked // the poll is now stuck in RoutingChanges, holding the router

	must(nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"})) // makes the workspace pending
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err := nh.Router.Resolve(short, key.Plaintext, "order.created")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Resolve behind a stuck router: %v, want its context's deadline", err)
	}

	closed := make(chan struct{})
	go func() { nh.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return while the store hung")
	}
	for range 100 {
		if runtime.NumGoroutine() <= base {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d goroutines after Close, %d before", runtime.NumGoroutine(), base)
}
