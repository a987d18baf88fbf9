package store

import (
	"context"
	"strings"
)

// RoutingStore gives nahook's router what it holds in memory, and tells it
// what changed since it last looked.
//
// Every call of a method of WorkspaceStore, EnvironmentStore,
// ApplicationStore, EventTypeStore, EndpointStore or APIKeyStore that
// succeeds advances the database's routing version in its transaction, and
// records that version as the latest change of the workspace written to,
// even when it changed nothing; so does RecordAttempts, for the workspace
// of each endpoint it disables. No other write does: what the outbox keeps
// (events, deliveries, attempts, signing keys) and portal sessions are no
// part of Routing. Versions are committed in increasing order, across
// every process sharing the database: a reader that has seen version V has
// seen every write up to V. A deleted workspace keeps its change record, so
// readers learn that it is gone.
type RoutingStore interface {
	// LoadRouting returns the routing data of the given workspaces, or of
	// every workspace when ws is nil, read in one snapshot and consistent
	// with the routing version it reports. Workspaces that do not exist are
	// left out of Routing.Workspaces and have no data.
	LoadRouting(ctx context.Context, ws []WorkspaceID) (Routing, error)
	// RoutingChanges returns the current routing version and, for every
	// workspace written to after version since, the version of its latest
	// change.
	RoutingChanges(ctx context.Context, since int64) (current int64, changed []RoutingChange, err error)
}

// RoutingNotifier is implemented by stores that can announce routing
// changes, made by any process, as they commit: faster than polling
// RoutingChanges.
type RoutingNotifier interface {
	// WatchRouting calls changed once it is listening, so that nothing
	// written before goes unnoticed, and again after each commit of a write
	// that may have changed routing data (a hint: the caller asks
	// RoutingChanges what changed). It blocks until ctx ends or the
	// connection it listens on fails, and returns why.
	WatchRouting(ctx context.Context, changed func()) error
}

// RoutingChange says a workspace's routing data changed at Version.
type RoutingChange struct {
	WorkspaceID WorkspaceID
	Version     int64
}

// Routing is the data that decides where events go, for a set of
// workspaces.
type Routing struct {
	// Version is the routing version the data is consistent with.
	Version int64
	// Workspaces are those of the requested workspaces that exist.
	Workspaces []WorkspaceID
	// Environments are every environment of the workspaces, so that a
	// router can name a workspace's default one and tell an environment
	// with nothing in it from one that does not exist.
	Environments []RoutingEnvironment
	// Keys are the active (not revoked) environment keys.
	Keys []RoutingKey
	// EventTypes are the event types, with the environments they are
	// published in.
	EventTypes []RoutingEventType
	// Endpoints are the endpoints, disabled ones included.
	Endpoints []RoutingEndpoint
}

// RoutingEnvironment is an environment, as the router needs it.
type RoutingEnvironment struct {
	ID          EnvironmentID
	WorkspaceID WorkspaceID
	IsDefault   bool
}

// RoutingKey is an active environment key, as the router needs it.
type RoutingKey struct {
	Hash          KeyHash
	ID            APIKeyID
	WorkspaceID   WorkspaceID
	EnvironmentID EnvironmentID
}

// RoutingEventType is an event type and where it is published.
type RoutingEventType struct {
	ID          EventTypeID
	WorkspaceID WorkspaceID
	Name        string
	PublishedIn []EnvironmentID
}

// RoutingEndpoint is an endpoint, as the router needs it.
type RoutingEndpoint struct {
	ID            EndpointID
	WorkspaceID   WorkspaceID
	EnvironmentID EnvironmentID
	ApplicationID ApplicationID
	URL           string
	Disabled      bool
	// EventTypes are the subscriptions, as in Endpoint.EventTypes.
	EventTypes []string
}

// IsWildcard reports whether a subscription pattern, one of
// Endpoint.EventTypes, is a wildcard ("*", "order.*"), which names no event
// type, rather than the name of one.
func IsWildcard(pattern string) bool { return strings.HasSuffix(pattern, "*") }
