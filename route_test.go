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
	ep := func(id EndpointID, ws WorkspaceID, env EnvironmentID, disabled bool, subs ...string) store.RoutingEndpoint {
		return store.RoutingEndpoint{ID: id, WorkspaceID: ws, EnvironmentID: env, ApplicationID: "app_1",
			URL: "https://" + string(id) + ".example/", Disabled: disabled, EventTypes: subs}
	}
	data := store.Routing{
		Version:    7,
		Workspaces: []WorkspaceID{"ws_1", "ws_2"},
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
		},
	}
	return (&snapshot{}).with(build(data), nil)
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
		r, err := resolve(s, c.key, c.eventType)
		if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("%s: error = %v, want %v", c.name, err, c.err)
			continue
		}
		if got := routeIDs(r); !slices.Equal(got, c.want) {
			t.Errorf("%s: endpoints %v, want %v", c.name, got, c.want)
		}
	}
	r, _ := resolve(s, pureStagingKey, "order.created")
	if r.WorkspaceID != "ws_1" || r.EnvironmentID != "env_stg" || r.KeyID != "key_s" || r.EventTypeID != "et_created" || r.EventType != "order.created" ||
		r.Endpoint(0) != (Target{ID: "ep_1exact", ApplicationID: "app_1", URL: "https://ep_1exact.example/"}) {
		t.Errorf("route = %+v", r)
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
	x, err := explain(s, pureStagingKey, "order.refunded")
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
	}
	if len(reasons) != len(want) || x.EventTypeID != "et_refunded" || x.Published {
		t.Fatalf("explanation = %+v", x)
	}
	for id, w := range want {
		if !slices.Equal(reasons[id], w) {
			t.Errorf("%s: reasons %v, want %v", id, reasons[id], w)
		}
	}
	if x, _ := explain(s, pureStagingKey, "order.lost"); x.EventTypeID != "" || !slices.Equal(x.Endpoints[2].Reasons, []Reason{ReasonUnknownEventType}) {
		t.Errorf("unknown event type: %+v", x)
	}
	if _, err := explain(s, pureUnknownKey, "order.created"); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("unknown key: %v", err)
	}

	for _, key := range []string{pureStagingKey, pureProdKey, pureOtherKey} {
		for _, evt := range []string{"order.created", "order.item.shipped", "order.refunded", "invoice.paid", "order.lost"} {
			r, _ := resolve(s, key, evt)
			x, err := explain(s, key, evt)
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
				t.Errorf("key %s…, %s: explain says %v receive, resolve %v", key[:5], evt, receiving, routeIDs(r))
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
			r, _ := resolve(s, key, "order.created")
			_ = r.NumEndpoints()
		})
		if n != 0 {
			t.Errorf("resolve with key %s…: %v allocations, want 0", key[:5], n)
		}
	}
}
