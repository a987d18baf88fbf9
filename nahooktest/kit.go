package nahooktest

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store/sqlite"
)

// Kit is a nahook Client made for tests, with its clock and its
// transport. Get one with New (or Open, outside a test function).
type Kit struct {
	// Client is the Client to hand to the code under test. It never runs
	// delivery on its own: Flush does.
	Client *nahook.Client
	// Clock is the Client's clock.
	Clock *Clock
	// Transport records what the Client sends and answers it.
	Transport *Transport

	store *sqlite.Store
}

// Option tunes New and Open.
type Option func(*options)

type options struct {
	cfg   nahook.Config
	start time.Time
}

// WithConfig makes the Client with cfg (a retry schedule, limits, a
// Logger…) instead of the zero Config. The Kit's own settings win over
// cfg's: Now is the Kit's clock, Delivery.Transport its Transport, and
// AllowPrivateURLs is on, so that endpoints may be at example.com,
// localhost or anywhere a test likes. A nil Logger discards.
func WithConfig(cfg nahook.Config) Option {
	return func(o *options) { o.cfg = cfg }
}

// WithStart sets the clock's first time. Without it the clock starts at
// the time New or Open is called, to the second.
func WithStart(t time.Time) Option {
	return func(o *options) { o.start = t }
}

// New returns a Kit for the test t, closed when the test ends. It fails
// the test if the store cannot be opened.
func New(t testing.TB, opts ...Option) *Kit {
	t.Helper()
	k, err := Open(context.Background(), opts...)
	if err != nil {
		t.Fatalf("nahooktest: %v", err)
	}
	t.Cleanup(func() {
		if err := k.Close(); err != nil {
			t.Errorf("nahooktest: closing: %v", err)
		}
	})
	return k
}

// Open returns a Kit that the caller closes, for code that has no
// testing.TB at hand (an Example, a TestMain).
func Open(ctx context.Context, opts ...Option) (*Kit, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.start.IsZero() {
		o.start = time.Now().UTC().Truncate(time.Second)
	}
	clock := &Clock{now: o.start}
	transport := &Transport{clock: clock}
	cfg := o.cfg
	cfg.Now = clock.Now
	cfg.Delivery.Transport = transport
	cfg.AllowPrivateURLs = true
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	st, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		return nil, err
	}
	nh, err := nahook.New(st, cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &Kit{Client: nh, Clock: clock, Transport: transport, store: st}, nil
}

// Close closes the Client and its store.
func (k *Kit) Close() error {
	k.Client.Close()
	return k.store.Close()
}

// Flush delivers every delivery due by the Kit's clock, through the
// Transport, records each attempt, and returns when nothing more is due:
// it never sleeps. A retry it schedules waits for the clock to reach it;
// advance the clock and Flush again to make it. It returns how many
// requests it sent; the error is ctx's, if ctx ended first.
func (k *Kit) Flush(ctx context.Context) (int, error) {
	return k.Client.DeliverDue(ctx)
}

// Sent returns the requests sent to the endpoint (to its URL), in the
// order they were sent.
func (k *Kit) Sent(ep nahook.Endpoint) []Request {
	return k.Transport.To(ep.URL)
}

// Verify checks r as the endpoint's receiver would, with nahook.Verify
// and the endpoint's current signing secret: the signature must be the
// secret's over r's webhook-id, webhook-timestamp and body. The timestamp
// must be the Kit's clock when r was sent, to the second; it is checked
// against that clock, not against the time of day, so that a test that
// has moved the clock hours ahead still verifies what it sent. The
// error's kind is nahook.ErrSignature when r is not the endpoint's.
func (k *Kit) Verify(ctx context.Context, r Request, ep nahook.Endpoint) error {
	secret, err := k.Client.Endpoints.Secret(ctx, ep.WorkspaceID, ep.ID)
	if err != nil {
		return err
	}
	tolerance := time.Minute
	if ts, err := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64); err == nil {
		if ts != r.At.Unix() {
			return &nahook.Error{Kind: nahook.ErrSignature,
				Message: fmt.Sprintf("webhook-timestamp %d is not the clock's time when the request was sent (%d)", ts, r.At.Unix())}
		}
		// nahook.Verify measures the timestamp against the time of day;
		// it has just been checked against the clock instead.
		tolerance += time.Since(time.Unix(ts, 0)).Abs()
	}
	return nahook.Verify(secret, r.Header, r.Body, tolerance)
}
