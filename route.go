// Answers: what the Router tells its callers (Route, Target, Explanation)
// and the pure functions that work them out from one snapshot. Nothing
// here touches the store, a context or the freshness of the snapshot, so
// that the routing rules can be read, and tested, on their own.

package nahook

import (
	"fmt"
	"slices"

	"github.com/nahook/nahook/store"
)

// errUnknownKey is returned as is, so that refusing a bad key, the answer
// an attacker guessing keys gets, allocates nothing.
var errUnknownKey = &Error{Kind: ErrUnauthorized, Message: "API key is missing, unknown or revoked"}

// Route is where one event goes: the decision of Resolve, ResolveDirect,
// Route or RouteDirect.
//
// Its endpoints are read through methods because they live in the router's
// snapshot, shared by every caller: NumEndpoints and Endpoint read them in
// place without allocating, and Endpoints returns a copy. No caller can
// change what the router answers next.
type Route struct {
	WorkspaceID   WorkspaceID
	EnvironmentID EnvironmentID
	// KeyID is the API key the event came with; empty for a keyless
	// route (Router.Route, Router.RouteDirect).
	KeyID APIKeyID
	// EventTypeID and EventType name the event's type; a direct route has
	// neither.
	EventTypeID EventTypeID
	EventType   string
	// ApplicationID is the application the event is for, whose endpoints
	// alone it reaches; empty for an event for none, which reaches only
	// endpoints of no application unless Broadcast.
	ApplicationID ApplicationID
	// Broadcast reports an event for no application that reaches every
	// subscribed endpoint, whoever owns it.
	Broadcast bool

	// endpoints is the snapshot's own list, in creation (ID) order: never
	// handed out, never modified.
	endpoints []Target
}

// NumEndpoints returns how many endpoints receive the event.
func (r Route) NumEndpoints() int { return len(r.endpoints) }

// Endpoint returns the i-th endpoint that receives the event, in creation
// (ID) order, without copying the others. It panics unless
// 0 <= i < NumEndpoints(), as indexing a slice does.
func (r Route) Endpoint(i int) Target { return r.endpoints[i] }

// Endpoints returns the endpoints that receive the event, in creation (ID)
// order, or nil if none does. The slice is a copy, the caller's to keep or
// change; loop with NumEndpoints and Endpoint where an allocation per
// event matters.
func (r Route) Endpoints() []Target { return slices.Clone(r.endpoints) }

// Target is an endpoint an event is routed to.
type Target struct {
	ID            EndpointID
	ApplicationID ApplicationID
	URL           string
}

// Reason says why an endpoint does not receive an event.
type Reason string

// Reasons, as Explain reports them.
const (
	// ReasonOtherEnvironment: the endpoint is in another environment than
	// the key's.
	ReasonOtherEnvironment Reason = "other_environment"
	// ReasonUnknownEventType: the workspace has no event type of that name.
	ReasonUnknownEventType Reason = "unknown_event_type"
	// ReasonNotPublished: the event type is not published in the key's
	// environment.
	ReasonNotPublished Reason = "not_published"
	// ReasonDisabled: the endpoint is disabled.
	ReasonDisabled Reason = "disabled"
	// ReasonOtherApplication: the isolation rule keeps the event from the
	// endpoint. It belongs to another application than the one the event
	// is for; or to an application while the event is for none and is not
	// a broadcast; or to none while the event is for an application.
	ReasonOtherApplication Reason = "other_application"
	// ReasonNotSubscribed: none of the endpoint's subscriptions matches the
	// event type.
	ReasonNotSubscribed Reason = "not_subscribed"
	// ReasonOtherEndpoint: the event was sent straight to another endpoint
	// (EventService.Explain of a direct event).
	ReasonOtherEndpoint Reason = "other_endpoint"
)

// Explanation is Explain's answer: for every endpoint of the workspace,
// whether it receives the event, and if not, why.
type Explanation struct {
	WorkspaceID   WorkspaceID
	EnvironmentID EnvironmentID
	// KeyID is the key asked with; empty for Router.ExplainRoute.
	KeyID     APIKeyID
	EventType string
	// ApplicationID and Broadcast are the audience asked about, as in
	// ExplainOptions.
	ApplicationID ApplicationID
	Broadcast     bool
	// EventTypeID is empty when the workspace has no such event type.
	EventTypeID EventTypeID
	// Published reports whether the event type is published in the key's
	// environment.
	Published bool
	// Endpoints are every endpoint of the workspace, in creation order.
	// They are built for this answer: the caller's to keep or change.
	Endpoints []EndpointVerdict
}

// ExplainOptions say who the event Router.ExplainFor explains is for, as
// IngestInput does: one application, or none, broadcast or not. The zero
// value is an event for no application, not broadcast, which reaches only
// endpoints of no application.
type ExplainOptions struct {
	ApplicationID ApplicationID
	Broadcast     bool
}

// EndpointVerdict is one endpoint's part of an Explanation.
type EndpointVerdict struct {
	Target
	EnvironmentID EnvironmentID
	// Receives reports whether the event, for the audience asked about,
	// is routed to the endpoint;
	// it is true exactly when Reasons is empty.
	Receives bool
	// Reasons lists every rule that keeps the event from the endpoint.
	Reasons []Reason
	// DeliveryID, in EventService.Explain's answer, is the endpoint's
	// delivery of the stored event; empty if it had none.
	DeliveryID DeliveryID
}

// errBroadcastForApplication refuses an event both for one application
// and for all of them. It is returned as is, so that refusing allocates
// nothing.
var errBroadcastForApplication = &Error{Kind: ErrInvalid, Field: "broadcast",
	Message: "an event is either sent for one application or broadcast to every endpoint, not both"}

// reaches is the isolation rule: whether an event sent for app (none: ""),
// broadcast or not, may reach an endpoint owned by owner (none: ""). An
// application's endpoint receives only that application's events and
// broadcasts; an event for no application reaches only endpoints of none,
// unless it is a broadcast.
func reaches(owner, app ApplicationID, broadcast bool) bool {
	if app != "" {
		return owner == app
	}
	return broadcast || owner == ""
}

// resolve is Resolve's answer from s, for an event sent for app, or
// broadcast, written to *rt; on error *rt is left as it was. It allocates
// only to report an event type it cannot route: a route, or a refused
// key, costs nothing.
//
// The answer is written through rt, here and in route and routeType,
// rather than returned, because a Route is seventeen words: returned, it
// is copied again at every return on the way to the caller, and these
// copies cost more than the lookups do.
func resolve(rt *Route, s *snapshot, apiKey, eventType string, app ApplicationID, broadcast bool) error {
	k := s.keySlot(apiKey)
	if k == nil {
		return errUnknownKey
	}
	return routeType(rt, k.types, k.route, eventType, app, broadcast)
}

// route is Route's answer from s, written to *rt as resolve writes it:
// resolve with the key's hash and lookup replaced by the workspace and
// environment the query names.
func route(rt *Route, s *snapshot, q RouteQuery) error {
	w, env, err := s.place(q.WorkspaceID, q.EnvironmentID)
	if err != nil {
		return err
	}
	// The workspace's ID is the query's, found equal: reading w's would
	// cost a cache miss on a large snapshot.
	return routeType(rt, env.types, &keyRoute{wsID: q.WorkspaceID, envID: env.id, ws: w, env: env},
		q.EventType, q.ApplicationID, q.Broadcast)
}

// routeType writes to *rt where an event of the named type goes, sent
// for app or broadcast from the workspace and environment of from: a
// key's route, or, for a keyless call, one with no key ID. types is
// from.env.types, passed apart so that a key's lookup need not wait for
// from to be read (keySlot). It reads from.ws only to refuse.
func routeType(rt *Route, types typeTable, from *keyRoute, eventType string, app ApplicationID, broadcast bool) error {
	if app != "" && broadcast {
		return errBroadcastForApplication
	}
	if tr := types.find(eventType); tr != nil {
		// Field by field: a composite literal is built on the stack and
		// then copied whole.
		rt.WorkspaceID, rt.EnvironmentID, rt.KeyID = from.wsID, from.envID, from.id
		rt.EventTypeID, rt.EventType = tr.id, tr.name
		rt.ApplicationID, rt.Broadcast = app, broadcast
		rt.endpoints = tr.targets(app, broadcast)
		return nil
	}
	if from.ws.types[eventType] == nil {
		return &Error{Kind: ErrUnknownEventType, Field: "eventType",
			Message: fmt.Sprintf("the workspace has no event type %s", quote(eventType))}
	}
	return &Error{Kind: ErrNotPublished, Field: "eventType",
		Message: fmt.Sprintf("event type %s is not published in environment %s", quote(eventType), from.envID)}
}

// resolveDirect is ResolveDirect's answer from s.
func resolveDirect(s *snapshot, apiKey string, endpoint EndpointID) (Route, error) {
	k := s.key(apiKey)
	if k == nil {
		return Route{}, errUnknownKey
	}
	return direct(k.ws, k.env, k.id, endpoint)
}

// routeDirect is RouteDirect's answer from s.
func routeDirect(s *snapshot, ws WorkspaceID, envID EnvironmentID, endpoint EndpointID) (Route, error) {
	w, env, err := s.place(ws, envID)
	if err != nil {
		return Route{}, err
	}
	return direct(w, env, "", endpoint)
}

// direct is the route of an event sent in env of w straight to endpoint.
func direct(w *wsRoutes, env *envRoutes, key APIKeyID, endpoint EndpointID) (Route, error) {
	ep := w.endpoints[endpoint]
	switch {
	case ep == nil:
		return Route{}, store.Missing("endpointId", endpoint)
	case ep.env != env.id:
		return Route{}, &Error{Kind: ErrOtherEnvironment, Field: "endpointId",
			Message: fmt.Sprintf("endpoint %s is not in environment %s", endpoint, env.id)}
	case ep.disabled:
		return Route{}, &Error{Kind: ErrEndpointDisabled, Field: "endpointId",
			Message: fmt.Sprintf("endpoint %s is disabled", endpoint)}
	}
	return Route{WorkspaceID: w.id, EnvironmentID: env.id, KeyID: key, endpoints: ep.target}, nil
}

// explain is ExplainFor's answer from s. It applies the rules one by one
// to every endpoint, where resolve reads a list built in advance, so that
// the two agreeing is a check of the snapshot builder.
func explain(s *snapshot, apiKey, eventType string, opts ExplainOptions) (Explanation, error) {
	k := s.key(apiKey)
	if k == nil {
		return Explanation{}, errUnknownKey
	}
	return explainIn(k.ws, k.env, k.id, eventType, opts)
}

// explainRoute is ExplainRoute's answer from s: explain with the key
// replaced by the workspace and environment the query names.
func explainRoute(s *snapshot, q RouteQuery) (Explanation, error) {
	w, env, err := s.place(q.WorkspaceID, q.EnvironmentID)
	if err != nil {
		return Explanation{}, err
	}
	return explainIn(w, env, "", q.EventType, ExplainOptions{ApplicationID: q.ApplicationID, Broadcast: q.Broadcast})
}

// explainDirect is the explanation of an event sent in env of w straight
// to endpoint: it reaches that endpoint, if in env and enabled, and no
// other.
func explainDirect(w *wsRoutes, env *envRoutes, endpoint EndpointID) Explanation {
	x := Explanation{WorkspaceID: w.id, EnvironmentID: env.id, Endpoints: make([]EndpointVerdict, 0, len(w.ordered))}
	for _, ep := range w.ordered {
		v := EndpointVerdict{Target: ep.target[0], EnvironmentID: ep.env}
		switch {
		case v.ID != endpoint:
			v.Reasons = append(v.Reasons, ReasonOtherEndpoint)
		case ep.env != env.id:
			v.Reasons = append(v.Reasons, ReasonOtherEnvironment)
		}
		if v.ID == endpoint && ep.disabled {
			v.Reasons = append(v.Reasons, ReasonDisabled)
		}
		v.Receives = len(v.Reasons) == 0
		x.Endpoints = append(x.Endpoints, v)
	}
	return x
}

// explainIn is the explanation of an event of the named type sent in env
// of w (with key, or none) for the audience opts names.
func explainIn(w *wsRoutes, env *envRoutes, key APIKeyID, eventType string, opts ExplainOptions) (Explanation, error) {
	if opts.ApplicationID != "" && opts.Broadcast {
		return Explanation{}, errBroadcastForApplication
	}
	x := Explanation{WorkspaceID: w.id, EnvironmentID: env.id, KeyID: key, EventType: eventType,
		ApplicationID: opts.ApplicationID, Broadcast: opts.Broadcast}
	known := w.types[eventType]
	if known != nil {
		x.EventTypeID = known.id
		x.Published = known.published[env.id]
	}
	x.Endpoints = make([]EndpointVerdict, 0, len(w.ordered))
	for _, ep := range w.ordered {
		v := EndpointVerdict{Target: ep.target[0], EnvironmentID: ep.env}
		if ep.env != env.id {
			v.Reasons = append(v.Reasons, ReasonOtherEnvironment)
		}
		switch {
		case known == nil:
			v.Reasons = append(v.Reasons, ReasonUnknownEventType)
		case !x.Published:
			v.Reasons = append(v.Reasons, ReasonNotPublished)
		}
		if ep.disabled {
			v.Reasons = append(v.Reasons, ReasonDisabled)
		}
		if !reaches(ep.app, opts.ApplicationID, opts.Broadcast) {
			v.Reasons = append(v.Reasons, ReasonOtherApplication)
		}
		if !ep.subscribes(eventType) {
			v.Reasons = append(v.Reasons, ReasonNotSubscribed)
		}
		v.Receives = len(v.Reasons) == 0
		x.Endpoints = append(x.Endpoints, v)
	}
	return x, nil
}
