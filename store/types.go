package store

import (
	"time"
)

// Typed IDs keep a workspace ID from being passed where an environment ID is
// expected. Every ID is a TypeID: a prefix ("ws", "env", "app", "evt", "ep",
// "key"), an underscore and a UUIDv7 in 26 lowercase Crockford base32
// characters, so IDs sort by creation time.
type (
	// WorkspaceID identifies a workspace: "ws_…".
	WorkspaceID string
	// EnvironmentID identifies an environment: "env_…".
	EnvironmentID string
	// ApplicationID identifies an application: "app_…".
	ApplicationID string
	// EventTypeID identifies an event type: "evt_…".
	EventTypeID string
	// EndpointID identifies an endpoint: "ep_…".
	EndpointID string
	// APIKeyID identifies an API key: "key_…".
	APIKeyID string
)

// MaxEnvironments is how many environments a workspace may have, its default
// environment included. Stores enforce it atomically.
const MaxEnvironments = 10

// Workspace is the top-level scope: everything else belongs to exactly one
// workspace and is never visible from another.
type Workspace struct {
	ID        WorkspaceID
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Environment separates API keys, endpoints and event-type visibility within
// a workspace (Production, Staging, …).
type Environment struct {
	ID          EnvironmentID
	WorkspaceID WorkspaceID
	Name        string
	// Slug is unique within the workspace.
	Slug string
	// IsDefault marks the environment every workspace is created with. It
	// cannot be deleted, and endpoints created without an environment go to
	// it.
	IsDefault bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Application represents one end-customer of the host program. Its endpoints
// may live in any environment of the workspace.
type Application struct {
	ID          ApplicationID
	WorkspaceID WorkspaceID
	// ExternalID is the host program's own identifier for the customer,
	// unique within the workspace, or empty.
	ExternalID string
	Name       string
	// Metadata holds at most 5 pairs. It is never nil when read from a store.
	Metadata  map[string]string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// EventType is an entry of the workspace's event catalogue. It is workspace-
// wide; whether it is published is decided per environment.
type EventType struct {
	ID          EventTypeID
	WorkspaceID WorkspaceID
	// Name is dot-separated ("order.created") and unique within the workspace.
	Name        string
	Description string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// EventTypeVisibility says whether an event type is published in one
// environment.
type EventTypeVisibility struct {
	EventTypeID   EventTypeID
	EventTypeName string
	Published     bool
}

// Endpoint is a URL that receives events. It belongs to exactly one
// environment and optionally to one application.
type Endpoint struct {
	ID            EndpointID
	WorkspaceID   WorkspaceID
	EnvironmentID EnvironmentID
	// ApplicationID is empty when the endpoint belongs to no application.
	ApplicationID ApplicationID
	URL           string
	Description   string
	// EventTypes lists the subscriptions in the order they were given: names
	// of event types of the workspace, "*" (every published type) or a
	// trailing wildcard such as "order.*". It is never nil when read from a
	// store.
	EventTypes []string
	Disabled   bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// KeyKind tells what an API key grants.
type KeyKind string

const (
	// KeyKindEnvironment keys ("nhk_…") ingest events into one environment.
	KeyKindEnvironment KeyKind = "environment"
	// KeyKindManagement keys ("nhm_…") manage one workspace.
	KeyKindManagement KeyKind = "management"
)

// KeyHash is the SHA-256 of an API key's plaintext: all a store ever keeps.
type KeyHash [32]byte

// APIKey is a stored API key: never its plaintext, only its hash and a short
// prefix to recognise it by.
type APIKey struct {
	ID          APIKeyID
	WorkspaceID WorkspaceID
	// EnvironmentID is set for environment keys and empty for management keys.
	EnvironmentID EnvironmentID
	Kind          KeyKind
	Name          string
	// Prefix is the start of the plaintext ("nhk_4fQz8Lw2"), enough to tell
	// keys apart in a list and useless to an attacker.
	Prefix    string
	Hash      KeyHash
	CreatedAt time.Time
	// RevokedAt is the zero time while the key is active.
	RevokedAt time.Time
}

// Revoked reports whether the key has been revoked.
func (k APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// PageRequest asks a list method for at most Limit items whose ID sorts after
// After, in ascending ID order. Because IDs are time-ordered and unique, a
// client walking pages with the last ID it saw visits every item exactly
// once, in a stable order.
type PageRequest struct {
	// After is the last ID of the previous page, or empty for the first page.
	After string
	// Limit is at least 1.
	Limit int
}

// WorkspaceUpdate changes a workspace. Nil fields are left as they are.
type WorkspaceUpdate struct {
	Name      *string
	UpdatedAt time.Time
}

// EnvironmentUpdate changes an environment. Nil fields are left as they are.
type EnvironmentUpdate struct {
	Name      *string
	Slug      *string
	UpdatedAt time.Time
}

// ApplicationUpdate changes an application. Nil fields are left as they are.
type ApplicationUpdate struct {
	Name *string
	// ExternalID set to "" removes the external ID.
	ExternalID *string
	// Metadata, when not nil, replaces the metadata whole.
	Metadata  map[string]string
	UpdatedAt time.Time
}

// EventTypeUpdate changes an event type. Nil fields are left as they are.
type EventTypeUpdate struct {
	Name        *string
	Description *string
	UpdatedAt   time.Time
}

// EndpointUpdate changes an endpoint. Nil fields are left as they are.
type EndpointUpdate struct {
	URL         *string
	Description *string
	// EventTypes, when not nil, replaces the subscriptions whole; an empty
	// non-nil slice removes them all.
	EventTypes []string
	Disabled   *bool
	UpdatedAt  time.Time
}

// EndpointFilter narrows ListEndpoints. Empty fields do not filter.
type EndpointFilter struct {
	EnvironmentID EnvironmentID
	ApplicationID ApplicationID
}

// APIKeyFilter narrows ListAPIKeys. Empty fields do not filter.
type APIKeyFilter struct {
	Kind          KeyKind
	EnvironmentID EnvironmentID
}
