// The Client: Config, New and Close, and the aliases that let a host
// program name the store's records without importing the store package.

package nahook

import (
	"errors"
	"log/slog"
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

// Config tunes a Client. Its zero value gives the defaults a production
// deployment wants: New replaces each field left zero with the default its
// comment states.
type Config struct {
	// AllowPrivateURLs lets endpoint URLs name loopback, private, link-local
	// and unspecified addresses (and "localhost"). Leave it off in
	// production: such URLs let whoever manages endpoints make the host
	// program's network call its own internal services. Turn it on for local
	// testing.
	AllowPrivateURLs bool
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// RoutingPollInterval is how often the router asks the store for writes
	// made by other processes sharing the database. Zero (or negative)
	// means 1s for stores that also announce changes as they commit
	// (Postgres), where polling is only a safety net, and 100ms for the
	// others (SQLite).
	RoutingPollInterval time.Duration
	// Logger receives what goes wrong in the background, such as a store
	// that cannot be reached while following routing changes. Nil means
	// slog.Default().
	Logger *slog.Logger
	// MaxPayloadBytes bounds an event's payload. Zero (or negative) means
	// DefaultMaxPayloadBytes (1 MiB).
	MaxPayloadBytes int
	// Delivery tunes Client.Deliver: workers, timeouts, the retry
	// schedule. Each field's comment states its default.
	Delivery DeliveryConfig
	// PortalURL is the address of the developer-portal page, such as
	// "https://example.com/portal/": a portal session's URL is this with
	// the session's token in the fragment. Empty means sessions have no
	// URL and the host program builds its own.
	PortalURL string
	// PortalMaxEndpoints is how many endpoints an application may have in
	// one environment for a portal session to add another, so that a
	// customer cannot multiply deliveries without bound. Zero means
	// DefaultPortalMaxEndpoints (50); negative, no limit. Endpoints made
	// through EndpointService are not limited.
	PortalMaxEndpoints int
}

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
	c := &Client{store: st, cfg: cfg.withDefaults(st), deliveryHint: make(chan struct{}, 1)}
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

// withDefaults returns c with the default its doc comment states in each
// field left zero, or negative where a negative value means nothing (a
// negative PortalMaxEndpoints or Delivery.DisableAfter means "no limit"
// or "never", and is kept). New calls it once, so that the rest of the
// package reads every setting from the Client's config as it is, and no
// two places can disagree on a default. RoutingPollInterval's default
// depends on st.
func (c Config) withDefaults(st store.Store) Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.RoutingPollInterval <= 0 {
		c.RoutingPollInterval = 100 * time.Millisecond
		if _, notifies := st.(store.RoutingNotifier); notifies {
			c.RoutingPollInterval = time.Second
		}
	}
	if c.MaxPayloadBytes <= 0 {
		c.MaxPayloadBytes = DefaultMaxPayloadBytes
	}
	if c.PortalMaxEndpoints == 0 {
		c.PortalMaxEndpoints = DefaultPortalMaxEndpoints
	}
	c.Delivery = c.Delivery.withDefaults()
	return c
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
	return c.cfg.Now().UTC().Truncate(time.Millisecond)
}
