package nahook

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/nahook/nahook/store"
)

// The pure answers, on a snapshot built straight from routing data: no
// Router, no store, no freshness. Every rule of routing shows here.

// A staging key and a production key of one workspace, and a key of
// another; each is well formed, so only the snapshot decides.
var (
	pureStagingKey = EnvironmentKeyPrefix + strings.Repeat("s", keyChars)
	pureProdKey    = EnvironmentKeyPrefix + strings.Repeat("p", keyChars)
	pureOtherKey   = EnvironmentKeyPrefix + strings.Repeat("o", keyChars)
	pureUnknownKey = EnvironmentKeyPrefix + strings.Repeat("u", keyChars)
)

func pureSnapshot() *snapshot {
	owned := func(app ApplicationID, id EndpointID, ws WorkspaceID, env EnvironmentID, disabled bool, subs ...string) store.RoutingEndpoint {
		return store.RoutingEndpoint{ID: id, WorkspaceID: ws, EnvironmentID: env, ApplicationID: app,
			URL: "https://" + string(id) + ".example/", Disabled: disabled, EventTypes: subs}
	}
	// The workspace's own endpoints, of no application, which events sent
	// for no application reach.
	ep := func(id EndpointID, ws WorkspaceID, env EnvironmentID, disabled bool, subs ...string) store.RoutingEndpoint {
		return owned("", id, ws, env, disabled, subs...)
	}
	data := store.Routing{
		Version:    7,
		Workspaces: []WorkspaceID{"ws_1", "ws_2"},
		Environments: []store.RoutingEnvironment{
			{ID: "env_prod", WorkspaceID: "ws_1", IsDefault: true},
			{ID: "env_stg", WorkspaceID: "ws_1"},
			{ID: "env_empty", WorkspaceID: "ws_1"},
			{ID: "env_other", WorkspaceID: "ws_2", IsDefault: true},
		},
		Keys: []store.RoutingKey{
			{Hash: hashKey(pureStagingKey), ID: "key_s", WorkspaceID: "ws_1", EnvironmentID: "env_stg"},
			{Hash: hashKey(pureProdKey), ID: "key_p", WorkspaceID: "ws_1", EnvironmentID: "env_prod"},
			{Hash: hashKey(pureOtherKey), ID: "key_o", WorkspaceID: "ws_2", EnvironmentID: "env_other"},
		},
		EventTypes: []store.RoutingEventType{
			{ID: "et_created", WorkspaceID: "ws_1", Name: "order.created", PublishedIn: []EnvironmentID{"env_prod", "env_stg"}},
			{ID: "et_shipped", WorkspaceID: "ws_1", Name: "order.item.shipped", PublishedIn: []EnvironmentID{"env_stg"}},
			{ID: "et_refunded", WorkspaceID: "ws_1", Name: "order.refunded"},
			{ID: "et_paid", WorkspaceID: "ws_1", Name: "invoice.paid", PublishedIn: []EnvironmentID{"env_stg"}},
			{ID: "et_other", WorkspaceID: "ws_2", Name: "invoice.paid", PublishedIn: []EnvironmentID{"env_other"}},
		},
		// In ID order, as the store returns them.
		Endpoints: []store.RoutingEndpoint{
			ep("ep_1exact", "ws_1", "env_stg", false, "order.created"),
			ep("ep_2wild", "ws_1", "env_stg", false, "order.*", "order.created"),
			ep("ep_3all", "ws_1", "env_stg", false, "*"),
			ep("ep_4prod", "ws_1", "env_prod", false, "*"),
			ep("ep_5off", "ws_1", "env_stg", true, "*"),
			ep("ep_6none", "ws_1", "env_stg", false),
			ep("ep_7other", "ws_2", "env_other", false, "*"),
			owned("app_1", "ep_8app1", "ws_1", "env_stg", false, "*"),
			owned("app_2", "ep_9app2", "ws_1", "env_stg", false, "order.*"),
			owned("app_1", "ep_a1off", "ws_1", "env_stg", true, "*"),
			owned("app_1", "ep_b1prod", "ws_1", "env_prod", false, "order.created"),
		},
	}
	return (&snapshot{}).with(build(data), nil)
}

// pureResolve and pureRoute are resolve and route returning the answer
// they write.
func pureResolve(s *snapshot, apiKey, eventType string, app ApplicationID, broadcast bool) (Route, error) {
	var r Route
	err := resolve(&r, s, apiKey, eventType, app, broadcast)
	return r, err
}

func pureRoute(s *snapshot, q RouteQuery) (Route, error) {
	var r Route
	err := route(&r, s, q)
	return r, err
}

func routeIDs(r Route) []EndpointID {
	var ids []EndpointID
	for i := range r.NumEndpoints() {
		ids = append(ids, r.Endpoint(i).ID)
	}
	return ids
}

func TestResolvePure(t *testing.T) {
	s := pureSnapshot()
	for _, c := range []struct {
		name, key, eventType string
		want                 []EndpointID
		err                  error
	}{
		{"exact, wildcard and *, once each, in ID order", pureStagingKey, "order.created", []EndpointID{"ep_1exact", "ep_2wild", "ep_3all"}, nil},
		{"a wildcard reaches any depth", pureStagingKey, "order.item.shipped", []EndpointID{"ep_2wild", "ep_3all"}, nil},
		{"only the key's environment", pureProdKey, "order.created", []EndpointID{"ep_4prod"}, nil},
		{"only the key's workspace", pureOtherKey, "invoice.paid", []EndpointID{"ep_7other"}, nil},
		{"published, no subscriber", pureProdKey, "invoice.paid", nil, ErrNotPublished},
		{"published nowhere", pureStagingKey, "order.refunded", nil, ErrNotPublished},
		{"unknown event type", pureStagingKey, "order.lost", nil, ErrUnknownEventType},
		{"another workspace's event type", pureOtherKey, "order.created", nil, ErrUnknownEventType},
		{"unknown key", pureUnknownKey, "order.created", nil, ErrUnauthorized},
		{"malformed key", "Bearer " + pureStagingKey, "order.created", nil, ErrUnauthorized},
	} {
		r, err := pureResolve(s, c.key, c.eventType, "", false)
		if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("%s: error = %v, want %v", c.name, err, c.err)
			continue
		}
		if got := routeIDs(r); !slices.Equal(got, c.want) {
			t.Errorf("%s: endpoints %v, want %v", c.name, got, c.want)
		}
	}
	r, _ := pureResolve(s, pureStagingKey, "order.created", "", false)
	if r.WorkspaceID != "ws_1" || r.EnvironmentID != "env_stg" || r.KeyID != "key_s" || r.EventTypeID != "et_created" || r.EventType != "order.created" ||
		r.Endpoint(0) != (Target{ID: "ep_1exact", URL: "https://ep_1exact.example/"}) {
		t.Errorf("route = %+v", r)
	}
}

// The isolation rule: an application's endpoints receive its events, and
// broadcasts; an event for no application reaches endpoints of none.
func TestResolveIsolationPure(t *testing.T) {
	s := pureSnapshot()
	for _, c := range []struct {
		name      string
		app       ApplicationID
		broadcast bool
		eventType string
		want      []EndpointID
		err       error
	}{
		{"for no application: the workspace's own endpoints", "", false, "order.created", []EndpointID{"ep_1exact", "ep_2wild", "ep_3all"}, nil},
		{"for app_1: its enabled endpoints, none of the workspace's", "app_1", false, "order.created", []EndpointID{"ep_8app1"}, nil},
		{"for app_2: its own only", "app_2", false, "order.item.shipped", []EndpointID{"ep_9app2"}, nil},
		{"for app_2, a type it does not subscribe to", "app_2", false, "invoice.paid", nil, nil},
		{"for an application with no endpoint", "app_9", false, "order.created", nil, nil},
		{"broadcast: every subscribed endpoint, owned or not", "", true, "order.created", []EndpointID{"ep_1exact", "ep_2wild", "ep_3all", "ep_8app1", "ep_9app2"}, nil},
		{"an application and broadcast", "app_1", true, "order.created", nil, ErrInvalid},
		{"the type rules come first", "app_1", false, "order.lost", nil, ErrUnknownEventType},
	} {
		r, err := pureResolve(s, pureStagingKey, c.eventType, c.app, c.broadcast)
		if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("%s: error = %v, want %v", c.name, err, c.err)
			continue
		}
		if got := routeIDs(r); !slices.Equal(got, c.want) {
			t.Errorf("%s: endpoints %v, want %v", c.name, got, c.want)
		}
		if err == nil && (r.ApplicationID != c.app || r.Broadcast != c.broadcast) {
			t.Errorf("%s: route for %q, broadcast %v", c.name, r.ApplicationID, r.Broadcast)
		}
		// The keyless route answers the same from the workspace and
		// environment the key names.
		kr, kerr := pureRoute(s, RouteQuery{WorkspaceID: "ws_1", EnvironmentID: "env_stg", ApplicationID: c.app, Broadcast: c.broadcast, EventType: c.eventType})
		if !errors.Is(kerr, c.err) || (c.err == nil) != (kerr == nil) || !slices.Equal(routeIDs(kr), c.want) || kr.KeyID != "" {
			t.Errorf("%s: route = %v, %v; resolve %v, %v", c.name, routeIDs(kr), kerr, routeIDs(r), err)
		}
	}
}

func TestRoutePure(t *testing.T) {
	s := pureSnapshot()
	for _, c := range []struct {
		name  string
		q     RouteQuery
		want  []EndpointID
		err   error
		field string
	}{
		{"no environment: the default one", RouteQuery{WorkspaceID: "ws_1", EventType: "order.created"}, []EndpointID{"ep_4prod"}, nil, ""},
		{"the default, for an application", RouteQuery{WorkspaceID: "ws_1", ApplicationID: "app_1", EventType: "order.created"}, []EndpointID{"ep_b1prod"}, nil, ""},
		{"another workspace's default", RouteQuery{WorkspaceID: "ws_2", EventType: "invoice.paid"}, []EndpointID{"ep_7other"}, nil, ""},
		{"an environment with nothing in it", RouteQuery{WorkspaceID: "ws_1", EnvironmentID: "env_empty", EventType: "order.created"}, nil, ErrNotPublished, "eventType"},
		{"unknown workspace", RouteQuery{WorkspaceID: "ws_9", EventType: "order.created"}, nil, ErrNotFound, "workspaceId"},
		{"no workspace", RouteQuery{EventType: "order.created"}, nil, ErrNotFound, "workspaceId"},
		{"unknown environment", RouteQuery{WorkspaceID: "ws_1", EnvironmentID: "env_9", EventType: "order.created"}, nil, ErrNotFound, "environmentId"},
		{"another workspace's environment", RouteQuery{WorkspaceID: "ws_1", EnvironmentID: "env_other", EventType: "order.created"}, nil, ErrNotFound, "environmentId"},
		{"another workspace's event type", RouteQuery{WorkspaceID: "ws_2", EventType: "order.created"}, nil, ErrUnknownEventType, "eventType"},
		{"an application and broadcast", RouteQuery{WorkspaceID: "ws_1", ApplicationID: "app_1", Broadcast: true, EventType: "order.created"}, nil, ErrInvalid, "broadcast"},
	} {
		r, err := pureRoute(s, c.q)
		var e *Error
		if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) || (err != nil && (!errors.As(err, &e) || e.Field != c.field)) {
			t.Errorf("%s: error = %v, want %v naming %q", c.name, err, c.err, c.field)
			continue
		}
		if got := routeIDs(r); !slices.Equal(got, c.want) {
			t.Errorf("%s: endpoints %v, want %v", c.name, got, c.want)
		}
	}
	r, _ := pureRoute(s, RouteQuery{WorkspaceID: "ws_1", EventType: "order.created"})
	if r.WorkspaceID != "ws_1" || r.EnvironmentID != "env_prod" || r.KeyID != "" || r.EventTypeID != "et_created" || r.EventType != "order.created" {
		t.Errorf("route = %+v", r)
	}
}

func TestRouteDirectPure(t *testing.T) {
	s := pureSnapshot()
	for _, c := range []struct {
		name string
		ws   WorkspaceID
		env  EnvironmentID
		ep   EndpointID
		err  error
	}{
		{"subscriptions do not matter", "ws_1", "env_stg", "ep_6none", nil},
		{"an application's endpoint, named", "ws_1", "env_stg", "ep_8app1", nil},
		{"the default environment", "ws_1", "", "ep_4prod", nil},
		{"not in the default environment", "ws_1", "", "ep_1exact", ErrOtherEnvironment},
		{"other environment", "ws_1", "env_stg", "ep_4prod", ErrOtherEnvironment},
		{"disabled", "ws_1", "env_stg", "ep_5off", ErrEndpointDisabled},
		{"other workspace", "ws_1", "env_stg", "ep_7other", ErrNotFound},
		{"unknown workspace", "ws_9", "", "ep_7other", ErrNotFound},
		{"unknown environment", "ws_1", "env_9", "ep_1exact", ErrNotFound},
	} {
		r, err := routeDirect(s, c.ws, c.env, c.ep)
		switch {
		case c.err != nil && !errors.Is(err, c.err), c.err == nil && err != nil:
			t.Errorf("%s: error = %v, want %v", c.name, err, c.err)
		case c.err == nil && (!slices.Equal(routeIDs(r), []EndpointID{c.ep}) || r.EventType != "" || r.KeyID != ""):
			t.Errorf("%s: route = %+v", c.name, r)
		}
	}
}

func TestResolveDirectPure(t *testing.T) {
	s := pureSnapshot()
	for _, c := range []struct {
		name string
		key  string
		ep   EndpointID
		err  error
	}{
		{"subscriptions do not matter", pureStagingKey, "ep_6none", nil},
		{"other environment", pureStagingKey, "ep_4prod", ErrOtherEnvironment},
		{"disabled", pureStagingKey, "ep_5off", ErrEndpointDisabled},
		{"other workspace", pureStagingKey, "ep_7other", ErrNotFound},
		{"unknown key", pureUnknownKey, "ep_1exact", ErrUnauthorized},
	} {
		r, err := resolveDirect(s, c.key, c.ep)
		switch {
		case c.err != nil && !errors.Is(err, c.err), c.err == nil && err != nil:
			t.Errorf("%s: error = %v, want %v", c.name, err, c.err)
		case c.err == nil && (!slices.Equal(routeIDs(r), []EndpointID{c.ep}) || r.EventType != "" || r.EventTypeID != ""):
			t.Errorf("%s: route = %+v", c.name, r)
		}
	}
}

// explain applies the rules one endpoint at a time; resolve reads lists
// built in advance. They must agree on every key and type, known or not.
func TestExplainPure(t *testing.T) {
	s := pureSnapshot()
	x, err := explain(s, pureStagingKey, "order.refunded", ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[EndpointID][]Reason{}
	for _, v := range x.Endpoints {
		reasons[v.ID] = v.Reasons
	}
	want := map[EndpointID][]Reason{
		"ep_1exact": {ReasonNotPublished, ReasonNotSubscribed},
		"ep_2wild":  {ReasonNotPublished},
		"ep_3all":   {ReasonNotPublished},
		"ep_4prod":  {ReasonOtherEnvironment, ReasonNotPublished},
		"ep_5off":   {ReasonNotPublished, ReasonDisabled},
		"ep_6none":  {ReasonNotPublished, ReasonNotSubscribed},
		"ep_8app1":  {ReasonNotPublished, ReasonOtherApplication},
		"ep_9app2":  {ReasonNotPublished, ReasonOtherApplication},
		"ep_a1off":  {ReasonNotPublished, ReasonDisabled, ReasonOtherApplication},
		"ep_b1prod": {ReasonOtherEnvironment, ReasonNotPublished, ReasonOtherApplication, ReasonNotSubscribed},
	}
	if len(reasons) != len(want) || x.EventTypeID != "et_refunded" || x.Published {
		t.Fatalf("explanation = %+v", x)
	}
	for id, w := range want {
		if !slices.Equal(reasons[id], w) {
			t.Errorf("%s: reasons %v, want %v", id, reasons[id], w)
		}
	}
	x, _ = explain(s, pureStagingKey, "order.created", ExplainOptions{ApplicationID: "app_1"})
	for _, v := range x.Endpoints {
		if other := slices.Contains(v.Reasons, ReasonOtherApplication); other != (v.ApplicationID != "app_1") {
			t.Errorf("for app_1, %s of %q: reasons %v", v.ID, v.ApplicationID, v.Reasons)
		}
	}
	if x.ApplicationID != "app_1" || x.Broadcast {
		t.Errorf("explanation for app_1 = %+v", x)
	}
	if _, err := explain(s, pureStagingKey, "order.created", ExplainOptions{ApplicationID: "app_1", Broadcast: true}); !errors.Is(err, ErrInvalid) {
		t.Errorf("an application and broadcast: %v", err)
	}
	if x, _ := explain(s, pureStagingKey, "order.lost", ExplainOptions{}); x.EventTypeID != "" || !slices.Equal(x.Endpoints[2].Reasons, []Reason{ReasonUnknownEventType}) {
		t.Errorf("unknown event type: %+v", x)
	}
	if _, err := explain(s, pureUnknownKey, "order.created", ExplainOptions{}); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("unknown key: %v", err)
	}

	audiences := []ExplainOptions{{}, {Broadcast: true}, {ApplicationID: "app_1"}, {ApplicationID: "app_2"}, {ApplicationID: "app_9"}}
	for _, key := range []string{pureStagingKey, pureProdKey, pureOtherKey} {
		for _, evt := range []string{"order.created", "order.item.shipped", "order.refunded", "invoice.paid", "order.lost"} {
			for _, a := range audiences {
				r, _ := pureResolve(s, key, evt, a.ApplicationID, a.Broadcast)
				x, err := explain(s, key, evt, a)
				if err != nil {
					t.Fatal(err)
				}
				var receiving []EndpointID
				for _, v := range x.Endpoints {
					if v.Receives != (len(v.Reasons) == 0) {
						t.Errorf("%s: Receives %v with reasons %v", v.ID, v.Receives, v.Reasons)
					}
					if v.Receives {
						receiving = append(receiving, v.ID)
					}
				}
				if !slices.Equal(receiving, routeIDs(r)) {
					t.Errorf("key %s…, %s, %+v: explain says %v receive, resolve %v", key[:5], evt, a, receiving, routeIDs(r))
				}
			}
		}
	}
}

// The hot path allocates nothing: a route, and a refused key, the answer
// to an attacker guessing keys.
func TestResolvePureAllocations(t *testing.T) {
	s := pureSnapshot()
	for _, key := range []string{pureStagingKey, pureUnknownKey, "nhk_short"} {
		n := testing.AllocsPerRun(100, func() {
			r, _ := pureResolve(s, key, "order.created", "app_1", false)
			_ = r.NumEndpoints()
		})
		if n != 0 {
			t.Errorf("resolve with key %s…: %v allocations, want 0", key[:5], n)
		}
	}
	for _, q := range []RouteQuery{
		{WorkspaceID: "ws_1", EventType: "order.created"},
		{WorkspaceID: "ws_1", EnvironmentID: "env_stg", ApplicationID: "app_1", EventType: "order.created"},
		{WorkspaceID: "ws_1", EnvironmentID: "env_stg", Broadcast: true, EventType: "order.created"},
	} {
		n := testing.AllocsPerRun(100, func() {
			r, _ := pureRoute(s, q)
			_ = r.NumEndpoints()
		})
		if n != 0 {
			t.Errorf("route %+v: %v allocations, want 0", q, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = routeDirect(s, "ws_1", "env_stg", "ep_8app1") }); n != 0 {
		t.Errorf("routeDirect: %v allocations, want 0", n)
	}
}
