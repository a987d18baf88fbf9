// Configuration: Config and DeliveryConfig, their documented defaults, and
// withDefaults, which New calls once so that no other code resolves a
// default.

package nahook

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/nahook/nahook/store"
)

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
	// OnOperationalEvent, unless nil, hears of every operational event
	// (see OperationalEvent): an endpoint disabled, failing or recovered,
	// a delivery given up. Deliver calls it from a goroutine of its own,
	// one event at a time, at least once per event (twice, rarely, when a
	// process dies or a lease runs out between the call and its
	// acknowledgement: ev.ID tells a repeat); DeliverDue calls it for the
	// events waiting when its deliveries are done. An error or a panic
	// (recovered, and logged to Logger) makes it retried with backoff,
	// by Now, from 5 seconds up to an hour; it never holds up a delivery.
	// Its ctx ends after Delivery.Timeout; when Deliver's ctx ends, Deliver
	// returns once the call in progress has. With neither this nor
	// OperationalWebhook (nor Observer.OperationalEvent) set, no
	// operational event is recorded at all.
	OnOperationalEvent func(ctx context.Context, ev OperationalEvent) error
	// OperationalWebhook, when its URL is set, receives every operational
	// event as a signed webhook (see OperationalWebhook), beside
	// OnOperationalEvent if both are set: an event is done once both have
	// taken it, and retried to both otherwise.
	OperationalWebhook OperationalWebhook
	// Observer hears of ingests, delivery attempts and operational events
	// as they happen, for metrics and traces (package nahookotel makes
	// one for OpenTelemetry). Its zero value hears nothing and costs
	// nothing.
	Observer Observer
}

// withDefaults returns c with the default its doc comment states in each
// field left zero, or negative where a negative value means nothing (a
// negative PortalMaxEndpoints, Delivery.DisableAfter or
// Delivery.FailingAfter means "no limit" or "never", and is kept). New calls it once, so that the rest of the
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

// DeliveryConfig tunes delivery. Its zero value gives the defaults.
type DeliveryConfig struct {
	// Workers is how many attempts run at once in one Deliver call.
	// Default 32.
	Workers int
	// MaxInFlightPerEndpoint caps the attempts in flight to one endpoint,
	// counting those of every process sharing the store: however large
	// its backlog, or slow its answers, an endpoint holds at most this
	// many workers anywhere. Default 4.
	MaxInFlightPerEndpoint int
	// ProbeWorkers is how many of the Workers may be sending to endpoints
	// on probation, one attempt per endpoint at a time. An endpoint is on
	// probation while it is new, and from an attempt that fails or is
	// slow until one succeeds in good time: this is what bounds the
	// workers that dead, slow or garbage-answering endpoints can hold,
	// however many there are. One application's endpoints (or, for
	// endpoints without one, one workspace's) hold at most half of them,
	// so that one customer alone cannot take them all from another's new
	// endpoint. Default Workers/4, at least 1.
	ProbeWorkers int
	// SlowAfter makes an attempt that succeeds, but takes longer than
	// this, put its endpoint on probation as a failure does (its delivery
	// has succeeded, and is not retried). Default 5s.
	SlowAfter time.Duration
	// Timeout bounds one attempt, from dialing to the end of reading the
	// answer. Default 15s. A claimed delivery is leased for twice this and
	// 5 seconds: if its dispatcher dies, it falls due again then.
	Timeout time.Duration
	// Schedule is the wait before each retry; a delivery still failing
	// after the last is failed. Each wait is jittered by ±20%. Default: 5s,
	// 5m, 30m, 2h, 5h, 10h, 10h: eight attempts over about 27 hours.
	Schedule []time.Duration
	// DisableAfter disables an endpoint whose every attempt has failed for
	// this long. Default 5 days; negative never disables.
	DisableAfter time.Duration
	// FailingAfter is how many consecutive failed attempts make an
	// endpoint.failing operational event (and the success that ends such
	// a streak an endpoint.recovered). Default 5; negative reports
	// neither.
	FailingAfter int
	// SecretGrace is how long, after a rotation, the previous signing
	// secret keeps signing beside the new one. Default 24h.
	SecretGrace time.Duration
	// Retention is how long events (with their deliveries and attempts)
	// are kept once no delivery is pending; it is also how long
	// idempotency keys are remembered. Default 30 days; at least 24h.
	Retention time.Duration
	// PollInterval is how often an idle dispatcher looks for deliveries
	// falling due or ingested by other processes; an ingest through the
	// same Client wakes it at once. Default 1s.
	PollInterval time.Duration
	// ResponseBytes is how much of an answer's body an attempt keeps, cut
	// before a character rather than through it. Default 4096; at most
	// 64 KiB. What is kept is made valid UTF-8 without NUL, as every
	// attempt's error text is, which is at most 1 KiB.
	ResponseBytes int
	// Transport sends the requests. Nil means one that refuses
	// non-public addresses after DNS resolution (unless
	// Config.AllowPrivateURLs), follows no redirect and uses no proxy.
	Transport http.RoundTripper
}

// Delivery defaults.
var defaultSchedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// withDefaults fills in the zero fields.
func (d DeliveryConfig) withDefaults() DeliveryConfig {
	if d.Workers <= 0 {
		d.Workers = 32
	}
	if d.MaxInFlightPerEndpoint <= 0 {
		d.MaxInFlightPerEndpoint = 4
	}
	if d.ProbeWorkers <= 0 {
		d.ProbeWorkers = d.Workers / 4
	}
	d.ProbeWorkers = min(max(d.ProbeWorkers, 1), d.Workers)
	if d.SlowAfter <= 0 {
		d.SlowAfter = 5 * time.Second
	}
	if d.Timeout <= 0 {
		d.Timeout = 15 * time.Second
	}
	if d.Schedule == nil {
		d.Schedule = defaultSchedule
	}
	if d.DisableAfter == 0 {
		d.DisableAfter = 5 * 24 * time.Hour
	}
	if d.FailingAfter == 0 {
		d.FailingAfter = 5
	}
	if d.SecretGrace <= 0 {
		d.SecretGrace = 24 * time.Hour
	}
	if d.Retention <= 0 {
		d.Retention = 30 * 24 * time.Hour
	}
	d.Retention = max(d.Retention, 24*time.Hour)
	if d.PollInterval <= 0 {
		d.PollInterval = time.Second
	}
	if d.ResponseBytes <= 0 {
		d.ResponseBytes = 4096
	}
	d.ResponseBytes = min(d.ResponseBytes, 64<<10)
	return d
}
