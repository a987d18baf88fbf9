// The Client: New and Close, and the aliases that let a host
// program name the store's records without importing the store package.

package nahook

import (
	"errors"
	"time"

	"github.com/nahook/nahook/store"
)

// The records nahook returns are the store's own; these aliases let a host
// program name them without importing the store package.
type (
	// Workspace is the top-level scope; see store.Workspace.
	Workspace = store.Workspace
	// Environment is one of a workspace's environments; see store.Environment.
	Environment = store.Environment
	// Application is one end-customer; see store.Application.
	Application = store.Application
	// EventType is an entry of the event catalogue; see store.EventType.
	EventType = store.EventType
	// EventTypeVisibility is an event type's state in one environment.
	EventTypeVisibility = store.EventTypeVisibility
	// Endpoint is a URL that receives events; see store.Endpoint.
	Endpoint = store.Endpoint
	// APIKey is an issued key, without its plaintext; see store.APIKey.
	APIKey = store.APIKey
	// KeyKind tells environment keys from management keys.
	KeyKind = store.KeyKind
	// Event is an ingested event; see store.Event.
	Event = store.Event
	// Delivery is one event on its way to one endpoint; see store.Delivery.
	Delivery = store.Delivery
	// Attempt is one try of a delivery; see store.Attempt.
	Attempt = store.Attempt
	// DeliveryStatus is where a delivery stands: pending, succeeded or
	// failed.
	DeliveryStatus = store.DeliveryStatus

	// WorkspaceID identifies a workspace: "ws_…".
	WorkspaceID = store.WorkspaceID
	// EnvironmentID identifies an environment: "env_…".
	EnvironmentID = store.EnvironmentID
	// ApplicationID identifies an application: "app_…".
	ApplicationID = store.ApplicationID
	// EventTypeID identifies an event type: "evt_…".
	EventTypeID = store.EventTypeID
	// EndpointID identifies an endpoint: "ep_…".
	EndpointID = store.EndpointID
	// APIKeyID identifies an API key: "key_…".
	APIKeyID = store.APIKeyID
	// EventID identifies an event: "msg_…", the webhook-id its deliveries
	// carry.
	EventID = store.EventID
	// DeliveryID identifies a delivery: "dlv_…".
	DeliveryID = store.DeliveryID
)

// Key kinds, as stored on APIKey.Kind.
const (
	// KeyKindEnvironment keys ("nhk_…") ingest events into one environment.
	KeyKindEnvironment = store.KeyKindEnvironment
	// KeyKindManagement keys ("nhm_…") manage one workspace.
	KeyKindManagement = store.KeyKindManagement
)

// Delivery statuses.
const (
	DeliveryPending   = store.DeliveryPending
	DeliverySucceeded = store.DeliverySucceeded
	DeliveryFailed    = store.DeliveryFailed
)

// MaxEnvironments is how many environments a workspace may have, its default
// environment included.
const MaxEnvironments = store.MaxEnvironments

// Client is nahook inside a host program: the services below, all sharing
// one Store. It is safe for concurrent use.
type Client struct {
	// Workspaces manages workspaces, each created with its default
	// environment.
	Workspaces *WorkspaceService
	// Environments manages a workspace's environments.
	Environments *EnvironmentService
	// Applications manages applications, one per end-customer.
	Applications *ApplicationService
	// EventTypes manages the event-type catalogue and where each type is
	// published.
	EventTypes *EventTypeService
	// Endpoints manages endpoints and their subscriptions.
	Endpoints *EndpointService
	// APIKeys issues, lists, revokes and checks API keys.
	APIKeys *APIKeyService
	// Router decides, from memory, which endpoints receive an event.
	Router *Router
	// Events ingests events into the outbox.
	Events *EventService
	// Deliveries reads the delivery log and retries deliveries.
	Deliveries *DeliveryService
	// PortalSessions issues developer-portal sessions and opens the
	// portal a session's token grants.
	PortalSessions *PortalSessionService

	store        store.Store
	cfg          Config
	deliveryHint chan struct{} // wakes Deliver: a delivery is due now
	relayHint    chan struct{} // wakes Deliver's relay: an operational event may be recorded
	opKey        []byte        // signs the operational webhook; nil without one
	ingests      ingestQueue   // batches concurrent ingests into shared commits
}

// New returns a Client over st. It does no I/O; st must already be migrated
// (each adapter's Open migrates; a store made otherwise has a Migrate
// method). Close the Client when done with it; it does not close st.
func New(st store.Store, cfg Config) (*Client, error) {
	if st == nil {
		return nil, errors.New("nahook: New needs a store")
	}
	if err := checkPortalURL(cfg.PortalURL); err != nil {
		return nil, err
	}
	opKey, err := checkOperationalWebhook(cfg.OperationalWebhook, cfg.AllowPrivateURLs)
	if err != nil {
		return nil, err
	}
	c := &Client{store: st, cfg: cfg.withDefaults(st), deliveryHint: make(chan struct{}, 1), relayHint: make(chan struct{}, 1), opKey: opKey}
	c.Workspaces = &WorkspaceService{c}
	c.Environments = &EnvironmentService{c}
	c.Applications = &ApplicationService{c}
	c.EventTypes = &EventTypeService{c}
	c.Endpoints = &EndpointService{c}
	c.APIKeys = &APIKeyService{c}
	c.Router = newRouter(c)
	c.Events = &EventService{c}
	c.Deliveries = &DeliveryService{c}
	c.PortalSessions = &PortalSessionService{c}
	return c, nil
}

// Close stops the Client's background work (the router's following of
// changes; Deliver stops with its own context). The store stays open.
func (c *Client) Close() error {
	c.Router.close()
	return nil
}

// wrote tells the router that ws was written to through this Client, so
// that its next answer includes the write. It returns err, and tells the
// router nothing when err says the write failed.
func (c *Client) wrote(ws WorkspaceID, err error) error {
	if err == nil {
		c.Router.changed(ws)
	}
	return err
}

// now returns the time to stamp on a record: UTC, truncated to the
// millisecond every store keeps and every API response shows, so a record
// reads back exactly as it was returned.
func (c *Client) now() time.Time {
	return stored(c.cfg.Now())
}
