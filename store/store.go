package store

import (
	"context"
	"time"
)

// Store is what nahook needs from a database. See the package documentation
// for the rules every method follows; each method's comment adds its own
// edge cases.
type Store interface {
	WorkspaceStore
	EnvironmentStore
	ApplicationStore
	EventTypeStore
	EndpointStore
	APIKeyStore
	RoutingStore
	DeliveryStore
	StatsStore
	RecoveryStore
	OperationalEventStore
	PortalSessionStore
	HealthStore

	// Close releases the store's resources. The store is unusable after.
	Close() error
}

// WorkspaceStore keeps workspaces.
type WorkspaceStore interface {
	// CreateWorkspace stores ws together with its default environment, env
	// (env.IsDefault is true and env.WorkspaceID is ws.ID), in one
	// transaction: either both exist afterwards or neither does. A duplicate
	// ID is ErrConflict.
	CreateWorkspace(ctx context.Context, ws Workspace, env Environment) error
	// GetWorkspace returns the workspace, or ErrNotFound.
	GetWorkspace(ctx context.Context, id WorkspaceID) (Workspace, error)
	// ListWorkspaces returns workspaces in ascending ID order (see PageRequest).
	ListWorkspaces(ctx context.Context, page PageRequest) ([]Workspace, error)
	// UpdateWorkspace applies u and returns the workspace as it now is, or
	// ErrNotFound.
	UpdateWorkspace(ctx context.Context, id WorkspaceID, u WorkspaceUpdate) (Workspace, error)
	// DeleteWorkspace deletes the workspace and everything in it, default
	// environment included, or returns ErrNotFound.
	DeleteWorkspace(ctx context.Context, id WorkspaceID) error
}

// EnvironmentStore keeps environments.
type EnvironmentStore interface {
	// CreateEnvironment stores env, which is never a default environment.
	// It returns ErrNotFound (field "workspaceId") when the workspace does not
	// exist, ErrLimitExceeded when the workspace already has
	// MaxEnvironments, and ErrConflict (field "slug") when the slug is taken
	// in the workspace. The limit holds under any number of concurrent
	// callers, in this process or others sharing the database.
	CreateEnvironment(ctx context.Context, env Environment) error
	// GetEnvironment returns the environment, or ErrNotFound.
	GetEnvironment(ctx context.Context, ws WorkspaceID, id EnvironmentID) (Environment, error)
	// GetDefaultEnvironment returns the workspace's default environment, or
	// ErrNotFound when the workspace does not exist.
	GetDefaultEnvironment(ctx context.Context, ws WorkspaceID) (Environment, error)
	// ListEnvironments returns the workspace's environments in ascending ID
	// order (see PageRequest). An unknown workspace has none.
	ListEnvironments(ctx context.Context, ws WorkspaceID, page PageRequest) ([]Environment, error)
	// UpdateEnvironment applies u and returns the environment as it now is.
	// It returns ErrNotFound, or ErrConflict (field "slug") when the new slug
	// is taken by another environment of the workspace.
	UpdateEnvironment(ctx context.Context, ws WorkspaceID, id EnvironmentID, u EnvironmentUpdate) (Environment, error)
	// DeleteEnvironment deletes the environment with its API keys, its
	// endpoints (and their subscriptions) and its event-type visibility, in
	// one transaction. It returns ErrNotFound, or ErrDefaultEnvironment for
	// the default environment, which is then left untouched.
	DeleteEnvironment(ctx context.Context, ws WorkspaceID, id EnvironmentID) error
}

// ApplicationStore keeps applications.
type ApplicationStore interface {
	// CreateApplication stores app. It returns ErrNotFound (field
	// "workspaceId") when the workspace does not exist, and ErrConflict
	// (field "externalId") when app.ExternalID is not empty and another
	// application of the workspace has it, however many callers race.
	CreateApplication(ctx context.Context, app Application) error
	// GetApplication returns the application, or ErrNotFound.
	GetApplication(ctx context.Context, ws WorkspaceID, id ApplicationID) (Application, error)
	// GetApplicationByExternalID returns the workspace's application with
	// that external ID, or ErrNotFound.
	GetApplicationByExternalID(ctx context.Context, ws WorkspaceID, externalID string) (Application, error)
	// ListApplications returns the workspace's applications in ascending ID
	// order (see PageRequest).
	ListApplications(ctx context.Context, ws WorkspaceID, page PageRequest) ([]Application, error)
	// UpdateApplication applies u and returns the application as it now is.
	// It returns ErrNotFound, or ErrConflict (field "externalId").
	UpdateApplication(ctx context.Context, ws WorkspaceID, id ApplicationID, u ApplicationUpdate) (Application, error)
	// DeleteApplication deletes the application and all its endpoints, in
	// every environment, in one transaction; or returns ErrNotFound.
	DeleteApplication(ctx context.Context, ws WorkspaceID, id ApplicationID) error
}

// EventTypeStore keeps the event-type catalogue and its per-environment
// visibility.
type EventTypeStore interface {
	// CreateEventType stores et, published in no environment. It returns
	// ErrNotFound (field "workspaceId") when the workspace does not exist and
	// ErrConflict (field "name") when the name is taken in the workspace.
	CreateEventType(ctx context.Context, et EventType) error
	// GetEventType returns the event type, or ErrNotFound.
	GetEventType(ctx context.Context, ws WorkspaceID, id EventTypeID) (EventType, error)
	// ListEventTypes returns the workspace's event types in ascending ID
	// order (see PageRequest).
	ListEventTypes(ctx context.Context, ws WorkspaceID, page PageRequest) ([]EventType, error)
	// UpdateEventType applies u and returns the event type as it now is. It
	// returns ErrNotFound, or ErrConflict (field "name"). Subscriptions
	// follow a renamed event type: endpoints subscribed to it by name list
	// its new name.
	UpdateEventType(ctx context.Context, ws WorkspaceID, id EventTypeID, u EventTypeUpdate) (EventType, error)
	// DeleteEventType deletes the event type, its visibility in every
	// environment and every endpoint's subscription to it by name (wildcard
	// subscriptions stay), in one transaction; or returns ErrNotFound.
	DeleteEventType(ctx context.Context, ws WorkspaceID, id EventTypeID) error
	// SetEventTypeVisibility publishes or unpublishes the event type in the
	// environment. Setting the state it already has is not an error. It
	// returns ErrNotFound (field "environmentId" or "eventTypeId") when
	// either is not in the workspace.
	SetEventTypeVisibility(ctx context.Context, ws WorkspaceID, env EnvironmentID, et EventTypeID, published bool) error
	// ListEventTypeVisibility returns every event type of the workspace with
	// whether it is published in env, ordered by name. It returns
	// ErrNotFound when env is not in the workspace.
	ListEventTypeVisibility(ctx context.Context, ws WorkspaceID, env EnvironmentID) ([]EventTypeVisibility, error)
}

// EndpointStore keeps endpoints and their subscriptions.
type EndpointStore interface {
	// CreateEndpoint stores ep with its first signing key. ep.EnvironmentID
	// is always set (nahook fills in the default environment). It returns ErrNotFound with field
	// "environmentId" or "applicationId" when either is not in the workspace
	// (a missing workspace has no environments), and ErrInvalid with field
	// "eventTypes[i]" when the i-th subscription names an event type the
	// workspace does not have. Wildcards ("*", "order.*") need no event type.
	// With maxPerApplication > 0 and ep.ApplicationID set, it returns
	// ErrLimitExceeded when the application already has that many endpoints
	// in ep's environment, decided atomically against concurrent creates;
	// 0 sets no limit.
	CreateEndpoint(ctx context.Context, ep Endpoint, key []byte, maxPerApplication int) error
	// GetEndpoint returns the endpoint, or ErrNotFound.
	GetEndpoint(ctx context.Context, ws WorkspaceID, id EndpointID) (Endpoint, error)
	// ListEndpoints returns the workspace's endpoints that match f, in
	// ascending ID order (see PageRequest).
	ListEndpoints(ctx context.Context, ws WorkspaceID, f EndpointFilter, page PageRequest) ([]Endpoint, error)
	// UpdateEndpoint applies u and returns the endpoint as it now is. It
	// returns ErrNotFound, or ErrInvalid ("eventTypes[i]") as CreateEndpoint
	// does.
	UpdateEndpoint(ctx context.Context, ws WorkspaceID, id EndpointID, u EndpointUpdate) (Endpoint, error)
	// DeleteEndpoint deletes the endpoint and its subscriptions, or returns
	// ErrNotFound.
	DeleteEndpoint(ctx context.Context, ws WorkspaceID, id EndpointID) error
}

// APIKeyStore keeps API keys, by hash only.
type APIKeyStore interface {
	// CreateAPIKey stores k. An environment key whose environment is not in
	// the workspace is ErrNotFound (field "environmentId"); a management key
	// of a missing workspace is ErrNotFound (field "workspaceId"); a hash
	// already stored is ErrConflict.
	CreateAPIKey(ctx context.Context, k APIKey) error
	// GetAPIKey returns the key, revoked or not, or ErrNotFound.
	GetAPIKey(ctx context.Context, ws WorkspaceID, id APIKeyID) (APIKey, error)
	// GetAPIKeyByHash returns the key with that hash, revoked or not, or
	// ErrNotFound. It is the only lookup that is not scoped to a workspace:
	// the key is what tells the workspace.
	GetAPIKeyByHash(ctx context.Context, hash KeyHash) (APIKey, error)
	// ListAPIKeys returns the workspace's keys that match f, revoked ones
	// included, in ascending ID order (see PageRequest).
	ListAPIKeys(ctx context.Context, ws WorkspaceID, f APIKeyFilter, page PageRequest) ([]APIKey, error)
	// RevokeAPIKey marks the key revoked at the given time and returns it. A
	// key already revoked keeps its first revocation time. It returns
	// ErrNotFound.
	RevokeAPIKey(ctx context.Context, ws WorkspaceID, id APIKeyID, at time.Time) (APIKey, error)
}
