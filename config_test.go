package nahook

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook/store"
	"github.com/nahook/nahook/store/sqlite"
)

// notifyingStore is a store that announces its changes, as Postgres does.
type notifyingStore struct{ store.Store }

func (notifyingStore) WatchRouting(ctx context.Context, _ func()) error {
	<-ctx.Done()
	return ctx.Err()
}

// resolved returns the config New gives a Client over st.
func resolved(t *testing.T, st store.Store, cfg Config) Config {
	t.Helper()
	c, err := New(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.cfg
}

// A zero Config is resolved once, by New, to the defaults the field
// comments state.
func TestConfigDefaults(t *testing.T) {
	is := is.New(t)
	st, err := sqlite.Open(context.Background(), ":memory:")
	is.NoErr(err)
	defer st.Close()

	got := resolved(t, st, Config{})
	is.True(time.Since(got.Now()) < time.Minute) // time.Now
	is.Equal(got.Logger, slog.Default())
	is.Equal(got.RoutingPollInterval, 100*time.Millisecond) // for a store that does not announce changes
	is.Equal(got.MaxPayloadBytes, DefaultMaxPayloadBytes)
	is.Equal(got.MaxPayloadBytes, 1<<20)
	is.Equal(got.PortalMaxEndpoints, DefaultPortalMaxEndpoints)
	is.Equal(got.PortalMaxEndpoints, 50)
	is.Equal(got.PortalURL, "")
	is.Equal(got.AllowPrivateURLs, false)
	is.Equal(got.Delivery, DeliveryConfig{
		Workers:                32,
		MaxInFlightPerEndpoint: 4,
		ProbeWorkers:           8, // Workers/4
		SlowAfter:              5 * time.Second,
		Timeout:                15 * time.Second,
		Schedule: []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute,
			2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour},
		DisableAfter:  5 * 24 * time.Hour,
		FailingAfter:  5,
		SecretGrace:   24 * time.Hour,
		Retention:     30 * 24 * time.Hour,
		PollInterval:  time.Second,
		ResponseBytes: 4096,
		Transport:     nil, // made by each Deliver call, sized by its Workers
	})

	is.Equal(resolved(t, notifyingStore{st}, Config{}).RoutingPollInterval, time.Second) // polling only as a safety net

	// Negative values mean what the comments say.
	neg := resolved(t, st, Config{RoutingPollInterval: -1, MaxPayloadBytes: -1, PortalMaxEndpoints: -1,
		Delivery: DeliveryConfig{DisableAfter: -1, FailingAfter: -1, Workers: -1}})
	is.Equal(neg.RoutingPollInterval, 100*time.Millisecond)
	is.Equal(neg.MaxPayloadBytes, DefaultMaxPayloadBytes)
	is.Equal(neg.PortalMaxEndpoints, -1)                   // no limit
	is.Equal(neg.Delivery.DisableAfter, time.Duration(-1)) // never disables
	is.Equal(neg.Delivery.FailingAfter, -1)                // never reports a failing endpoint
	is.Equal(neg.Delivery.Workers, 32)

	// Values outside the stated bounds are brought within them.
	bounded := resolved(t, st, Config{Delivery: DeliveryConfig{Workers: 10, ProbeWorkers: 100,
		Retention: time.Hour, ResponseBytes: 1 << 20}})
	is.Equal(bounded.Delivery.ProbeWorkers, 10)        // at most Workers
	is.Equal(bounded.Delivery.Retention, 24*time.Hour) // at least 24h
	is.Equal(bounded.Delivery.ResponseBytes, 64<<10)   // at most 64 KiB
	small := resolved(t, st, Config{Delivery: DeliveryConfig{Workers: 2}})
	is.Equal(small.Delivery.ProbeWorkers, 1) // Workers/4, at least 1
}

// An explicit value is kept as it is.
func TestConfigExplicit(t *testing.T) {
	is := is.New(t)
	st, err := sqlite.Open(context.Background(), ":memory:")
	is.NoErr(err)
	defer st.Close()

	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	logger := slog.New(slog.DiscardHandler)
	transport := &http.Transport{}
	want := Config{
		AllowPrivateURLs:    true,
		RoutingPollInterval: 7 * time.Second,
		Logger:              logger,
		MaxPayloadBytes:     1234,
		PortalURL:           "https://example.com/portal/",
		PortalMaxEndpoints:  3,
		OperationalWebhook:  OperationalWebhook{URL: "https://ops.example.com/hook", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
		Delivery: DeliveryConfig{
			Workers:                5,
			MaxInFlightPerEndpoint: 2,
			ProbeWorkers:           3,
			SlowAfter:              time.Second,
			Timeout:                2 * time.Second,
			Schedule:               []time.Duration{time.Second},
			DisableAfter:           time.Hour,
			FailingAfter:           7,
			SecretGrace:            time.Minute,
			Retention:              48 * time.Hour,
			PollInterval:           3 * time.Second,
			ResponseBytes:          100,
			Transport:              transport,
		},
	}
	in := want
	in.Now = func() time.Time { return at }
	got := resolved(t, notifyingStore{st}, in)
	is.Equal(got.Now(), at)
	got.Now = nil
	is.Equal(got, want)

	// An empty, non-nil schedule means no retries, not the default.
	is.Equal(resolved(t, st, Config{Delivery: DeliveryConfig{Schedule: []time.Duration{}}}).Delivery.Schedule, []time.Duration{})
}
