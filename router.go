// The Router: its state and its public methods. Each answer takes the
// current snapshot (freshness.go) and hands it to a pure function of the
// snapshot (route.go), so that keeping the snapshot fresh and deciding
// where an event goes never mix.

package nahook

import (
	"context"
	"sync"
	"sync/atomic"
)

// Router decides which endpoints receive an event, from an in-memory
// snapshot of the store, in a few map reads and without allocating. Get it
// from Client.Router.
//
// The snapshot is loaded on first use and kept coherent: a write through
// the same Client is seen by the next call (read-your-writes); writes by
// other processes sharing the database are seen after the store announces
// them (Postgres: LISTEN/NOTIFY, within milliseconds) or the next poll
// (Config.RoutingPollInterval). Only the workspaces that changed are
// reloaded. If the store cannot be reached while following other processes'
// changes, the router keeps answering from the snapshot it has and logs
// the failure; only a call that must first load, or reload after this
// Client's own write, returns the store's error.
type Router struct {
	c    *Client
	snap atomic.Pointer[snapshot]

	// lock serialises loads and swaps of snap. It is a channel rather than
	// a mutex so that a caller waiting for it gives up when its context
	// ends: a load holds it across database calls.
	lock  chan struct{}
	since atomic.Int64 // the routing version changes have been followed to

	// Workspaces written to through this Client and not yet reloaded, each
	// with the generation of its latest write, so that a write made while
	// a reload runs is not taken as reloaded by it.
	pendingMu  sync.Mutex
	pendingWS  map[WorkspaceID]uint64
	pendingGen uint64
	pendingN   atomic.Int32

	hint    chan struct{}
	stopMu  sync.Mutex
	stop    context.CancelFunc // under stopMu
	closed  bool               // under stopMu
	stopped sync.WaitGroup
}

func newRouter(c *Client) *Router {
	return &Router{c: c, lock: make(chan struct{}, 1), pendingWS: map[WorkspaceID]uint64{}, hint: make(chan struct{}, 1)}
}

// Resolve returns where an event of the named type, sent with apiKey for
// no application, goes: every enabled endpoint of the key's environment
// that belongs to no application and subscribes to the type by name or by
// a matching wildcard, in creation order. An application's endpoints
// receive only events sent for it, or broadcast (IngestInput); ExplainFor
// shows either audience. The type must exist (ErrUnknownEventType) and be
// published in the key's environment (ErrNotPublished); the key must be an
// active environment key (ErrUnauthorized). A published type nobody
// subscribes to routes to no endpoint, without error.
func (r *Router) Resolve(ctx context.Context, apiKey, eventType string) (Route, error) {
	var rt Route
	err := r.resolve(&rt, ctx, apiKey, eventType, "", false)
	return rt, err
}

// resolve is Resolve for an event sent for app, or broadcast, written to
// *rt: see the function resolve for why.
func (r *Router) resolve(rt *Route, ctx context.Context, apiKey, eventType string, app ApplicationID, broadcast bool) error {
	s, err := r.current(ctx, apiKey)
	if err != nil {
		return err
	}
	return resolve(rt, s, apiKey, eventType, app, broadcast)
}

// ResolveDirect returns the route of an event sent with apiKey straight to
// one endpoint, which must be in the key's environment
// (ErrOtherEnvironment), exist in its workspace (ErrNotFound) and be
// enabled (ErrEndpointDisabled).
func (r *Router) ResolveDirect(ctx context.Context, apiKey string, endpoint EndpointID) (Route, error) {
	s, err := r.current(ctx, apiKey)
	if err != nil {
		return Route{}, err
	}
	return resolveDirect(s, apiKey, endpoint)
}

// RouteQuery names an event for Router.Route, by where it is sent rather
// than by an API key.
type RouteQuery struct {
	WorkspaceID WorkspaceID
	// EnvironmentID empty means the workspace's default environment.
	EnvironmentID EnvironmentID
	// ApplicationID, when set, is the application the event is for: it
	// reaches that application's endpoints only. Empty, the event reaches
	// only endpoints of no application, unless Broadcast.
	ApplicationID ApplicationID
	// Broadcast, for an event of no application, reaches every subscribed
	// endpoint, whoever owns it. With ApplicationID it is ErrInvalid.
	Broadcast bool
	EventType string
}

// Route is Resolve for trusted host code, which names the workspace and
// environment instead of presenting a key: the same answer from the same
// snapshot, without hashing a key, and without allocating unless it
// refuses. An unknown workspace or environment is ErrNotFound (fields
// "workspaceId", "environmentId"); the event type fails as in Resolve;
// ApplicationID with Broadcast is ErrInvalid ("broadcast"). Route does not
// check that the application exists: one unknown to the workspace owns no
// endpoint, so its route is empty.
func (r *Router) Route(ctx context.Context, q RouteQuery) (Route, error) {
	s, err := r.currentFor(ctx, q.WorkspaceID)
	if err != nil {
		return Route{}, err
	}
	var rt Route
	err = route(&rt, s, q)
	return rt, err
}

// RouteDirect is ResolveDirect for trusted host code: the route of an event
// sent straight to one endpoint of the workspace, which must exist
// (ErrNotFound), be in the environment (empty: the default one;
// ErrOtherEnvironment) and be enabled (ErrEndpointDisabled).
func (r *Router) RouteDirect(ctx context.Context, ws WorkspaceID, env EnvironmentID, endpoint EndpointID) (Route, error) {
	s, err := r.currentFor(ctx, ws)
	if err != nil {
		return Route{}, err
	}
	return routeDirect(s, ws, env, endpoint)
}

// Explain answers the question support engineers ask most: for an event
// of the named type sent with apiKey for no application, which endpoints
// of the workspace receive it, and why each of the others does not. It is
// ExplainFor with the zero ExplainOptions.
func (r *Router) Explain(ctx context.Context, apiKey, eventType string) (Explanation, error) {
	return r.ExplainFor(ctx, apiKey, eventType, ExplainOptions{})
}

// ExplainFor is Explain for an event sent for an application, or
// broadcast, as opts says: an endpoint the isolation rule keeps the event
// from has ReasonOtherApplication. It agrees with the routes of Resolve,
// Route and Ingest, from the same snapshot. Only a bad key, or an
// application with Broadcast (ErrInvalid), is an error.
func (r *Router) ExplainFor(ctx context.Context, apiKey, eventType string, opts ExplainOptions) (Explanation, error) {
	s, err := r.current(ctx, apiKey)
	if err != nil {
		return Explanation{}, err
	}
	return explain(s, apiKey, eventType, opts)
}

// ExplainRoute is ExplainFor for trusted host code, as Route is Resolve:
// the event is named by workspace, environment (empty: the default one),
// application or broadcast, and type, without a key. It is what an
// operator asks about a customer ("why didn't Acme get it?"). An unknown
// workspace or environment is ErrNotFound, as in Route; an event type the
// workspace does not have, or has not published there, is no error: the
// answer says so, with every endpoint's reasons.
func (r *Router) ExplainRoute(ctx context.Context, q RouteQuery) (Explanation, error) {
	s, err := r.currentFor(ctx, q.WorkspaceID)
	if err != nil {
		return Explanation{}, err
	}
	return explainRoute(s, q)
}

// explainEvent is the explanation of an event like ev sent now: by its
// type, environment and audience, or, sent straight to an endpoint, to it.
func (r *Router) explainEvent(ctx context.Context, ev Event) (Explanation, error) {
	s, err := r.currentFor(ctx, ev.WorkspaceID)
	if err != nil {
		return Explanation{}, err
	}
	if ev.EndpointID != "" {
		w, env, err := s.place(ev.WorkspaceID, ev.EnvironmentID)
		if err != nil {
			return Explanation{}, err
		}
		return explainDirect(w, env, ev.EndpointID), nil
	}
	return explainRoute(s, RouteQuery{WorkspaceID: ev.WorkspaceID, EnvironmentID: ev.EnvironmentID,
		ApplicationID: ev.ApplicationID, Broadcast: ev.Broadcast, EventType: ev.EventType})
}

// Version returns the store's routing version the router has followed
// changes to: its answers include every write up to it, by any process. It
// is 0 until the router has loaded.
func (r *Router) Version() int64 { return r.since.Load() }

// Load loads the routing snapshot now, rather than on the first Resolve,
// and starts following changes. Calling it again is harmless.
func (r *Router) Load(ctx context.Context) error {
	_, err := r.catchUp(ctx)
	return err
}

// keyRoute returns the route of an active environment key from the
// current snapshot, for callers that need the key's workspace and
// environment rather than a Route.
func (r *Router) keyRoute(ctx context.Context, apiKey string) (*keyRoute, error) {
	s, err := r.current(ctx, apiKey)
	if err != nil {
		return nil, err
	}
	if k := s.key(apiKey); k != nil {
		return k, nil
	}
	return nil, errUnknownKey
}
