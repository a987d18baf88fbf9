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

// Route is where one event goes: the decision of Resolve or ResolveDirect.
//
// Its endpoints are read through methods because they live in the router's
// snapshot, shared by every caller: NumEndpoints and Endpoint read them in
// place without allocating, and Endpoints returns a copy. No caller can
// change what the router answers next.
type Route struct {
	WorkspaceID   WorkspaceID
	EnvironmentID EnvironmentID
	// KeyID is the API key the event came with.
	KeyID APIKeyID
	// EventTypeID and EventType name the event's type; a direct route has
	// neither.
	EventTypeID EventTypeID
	EventType   string

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
	// ReasonNotSubscribed: none of the endpoint's subscriptions matches the
	// event type.
	ReasonNotSubscribed Reason = "not_subscribed"
)

// Explanation is Explain's answer: for every endpoint of the workspace,
// whether it receives the event, and if not, why.
type Explanation struct {
	WorkspaceID   WorkspaceID
	EnvironmentID EnvironmentID
	KeyID         APIKeyID
	EventType     string
	// EventTypeID is empty when the workspace has no such event type.
	EventTypeID EventTypeID
	// Published reports whether the event type is published in the key's
	// environment.
	Published bool
	// Endpoints are every endpoint of the workspace, in creation order.
	// They are built for this answer: the caller's to keep or change.
	Endpoints []EndpointVerdict
}

// EndpointVerdict is one endpoint's part of an Explanation.
type EndpointVerdict struct {
	Target
	EnvironmentID EnvironmentID
	// Receives reports whether Resolve routes the event to the endpoint;
	// it is true exactly when Reasons is empty.
	Receives bool
	// Reasons lists every rule that keeps the event from the endpoint.
	Reasons []Reason
}

// resolve is Resolve's answer from s. It allocates only to report an
// event type it cannot route: a route, or a refused key, costs nothing.
func resolve(s *snapshot, apiKey, eventType string) (Route, error) {
	k := s.key(apiKey)
	if k == nil {
		return Route{}, errUnknownKey
	}
	if tr := k.env.routes[eventType]; tr != nil {
		return Route{WorkspaceID: k.ws.id, EnvironmentID: k.env.id, KeyID: k.id,
			EventTypeID: tr.id, EventType: tr.name, endpoints: tr.targets}, nil
	}
	if k.ws.types[eventType] == nil {
		return Route{}, &Error{Kind: ErrUnknownEventType, Field: "eventType",
			Message: fmt.Sprintf("the workspace has no event type %s", quote(eventType))}
	}
	return Route{}, &Error{Kind: ErrNotPublished, Field: "eventType",
		Message: fmt.Sprintf("event type %s is not published in environment %s", quote(eventType), k.env.id)}
}

// resolveDirect is ResolveDirect's answer from s.
func resolveDirect(s *snapshot, apiKey string, endpoint EndpointID) (Route, error) {
	k := s.key(apiKey)
	if k == nil {
		return Route{}, errUnknownKey
	}
	ep := k.ws.endpoints[endpoint]
	switch {
	case ep == nil:
		return Route{}, store.Missing("endpointId", endpoint)
	case ep.env != k.env.id:
		return Route{}, &Error{Kind: ErrOtherEnvironment, Field: "endpointId",
			Message: fmt.Sprintf("endpoint %s is not in the API key's environment", endpoint)}
	case ep.disabled:
		return Route{}, &Error{Kind: ErrEndpointDisabled, Field: "endpointId",
			Message: fmt.Sprintf("endpoint %s is disabled", endpoint)}
	}
	return Route{WorkspaceID: k.ws.id, EnvironmentID: k.env.id, KeyID: k.id, endpoints: ep.target}, nil
}

// explain is Explain's answer from s. It applies the rules one by one to
// every endpoint, where resolve reads a list built in advance, so that
// the two agreeing is a check of the snapshot builder.
func explain(s *snapshot, apiKey, eventType string) (Explanation, error) {
	k := s.key(apiKey)
	if k == nil {
		return Explanation{}, errUnknownKey
	}
	x := Explanation{WorkspaceID: k.ws.id, EnvironmentID: k.env.id, KeyID: k.id, EventType: eventType}
	known := k.ws.types[eventType]
	if known != nil {
		x.EventTypeID = known.id
		x.Published = known.published[k.env.id]
	}
	x.Endpoints = make([]EndpointVerdict, 0, len(k.ws.ordered))
	for _, ep := range k.ws.ordered {
		v := EndpointVerdict{Target: ep.target[0], EnvironmentID: ep.env}
		if ep.env != k.env.id {
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
		if !ep.subscribes(eventType) {
			v.Reasons = append(v.Reasons, ReasonNotSubscribed)
		}
		v.Receives = len(v.Reasons) == 0
		x.Endpoints = append(x.Endpoints, v)
	}
	return x, nil
}
