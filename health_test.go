package nahook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
	"github.com/nahook/nahook/store/sqlite"
)

// healthWorld is a client on a fake clock whose receiver answers with the
// status and takes the latency set, moving the clock on by it, so that
// every attempt's duration is exact.
type healthWorld struct {
	nh  *nahook.Client
	ws  nahook.WorkspaceID
	key string
	url string
	app nahook.ApplicationID // the application events are sent for

	mu      sync.Mutex
	now     time.Time
	status  int
	latency time.Duration
}

func newHealthWorld(t *testing.T, st store.Store) *healthWorld {
	t.Helper()
	w := &healthWorld{now: time.Date(2026, 3, 1, 10, 0, 30, 0, time.UTC), status: http.StatusOK}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.now = w.now.Add(w.latency)
		status := w.status
		w.mu.Unlock()
		rw.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	w.url = srv.URL + "/hook"
	t.Cleanup(func() { st.Close() }) // after the client's: cleanups run last first
	// One worker: attempts one at a time, so that each moves the clock by
	// its own latency alone. No retries: a failure fails its delivery.
	w.nh = must(nahook.New(st, nahook.Config{Now: w.clock, AllowPrivateURLs: true, Logger: quiet,
		Delivery: nahook.DeliveryConfig{Workers: 1, Schedule: []time.Duration{}}}))
	t.Cleanup(func() { w.nh.Close() })
	w.ws, w.key = shop(w.nh, "Health")
	return w
}

func (w *healthWorld) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *healthWorld) advance(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = w.now.Add(d)
}

// deliver sends n events, answered with status after latency, and delivers
// them.
func (w *healthWorld) deliver(t *testing.T, n, status int, latency time.Duration) {
	t.Helper()
	ctx := context.Background()
	w.mu.Lock()
	w.status, w.latency = status, latency
	w.mu.Unlock()
	for range n {
		in := must(w.nh.Events.Ingest(ctx, w.key, "order.created", nahook.IngestInput{Payload: []byte(`{}`), ApplicationID: w.app}))
		if len(in.Deliveries) != 1 {
			t.Fatalf("%d deliveries, want 1", len(in.Deliveries))
		}
	}
	if got := must(w.nh.DeliverDue(ctx)); got != n {
		t.Fatalf("DeliverDue made %d attempts, want %d", got, n)
	}
}

// An endpoint's health from real attempts, on each store: attempts,
// successes, failures, the success rate and the latency percentiles over
// the last hour and day, as the clock moves on.
func TestEndpointHealth(t *testing.T) {
	onEachStore(t, func(t *testing.T, st store.Store) {
		is := is.New(t)
		ctx := context.Background()
		w := newHealthWorld(t, st)
		app := must(w.nh.Applications.Create(ctx, w.ws, nahook.ApplicationInput{Name: "Acme"}))
		w.app = app.ID
		ep := must(w.nh.Endpoints.Create(ctx, w.ws, nahook.EndpointInput{ApplicationID: app.ID, URL: w.url, EventTypes: []string{"order.created"}}))

		empty := must(w.nh.Endpoints.Health(ctx, w.ws, ep.ID))
		is.Equal(empty, nahook.EndpointHealth{EndpointID: ep.ID, At: w.clock()}) // nothing yet: all zero

		ms := time.Millisecond
		w.deliver(t, 1, 500, 900*ms)
		w.deliver(t, 3, 200, 120*ms)
		w.advance(2 * time.Hour)
		w.deliver(t, 2, 204, 40*ms)
		w.deliver(t, 1, 503, 900*ms)

		// The hour: 40, 40, 900 ms; the day adds 120 ms three times and
		// 900 ms once. Percentiles are their buckets' bounds.
		got := must(w.nh.Endpoints.Health(ctx, w.ws, ep.ID))
		is.Equal(got, nahook.EndpointHealth{EndpointID: ep.ID, At: w.clock(),
			LastHour: nahook.HealthWindow{Attempts: 3, Succeeded: 2, Failed: 1, SuccessRate: 2.0 / 3, P50: 41 * ms, P99: 939 * ms},
			LastDay:  nahook.HealthWindow{Attempts: 7, Succeeded: 5, Failed: 2, SuccessRate: 5.0 / 7, P50: 128 * ms, P99: 939 * ms}})

		// The portal shows its application's endpoint the same.
		session := must(w.nh.PortalSessions.Create(ctx, w.ws, nahook.PortalSessionInput{ApplicationID: app.ID}))
		portal := must(w.nh.PortalSessions.Authenticate(ctx, session.Token))
		is.Equal(must(portal.EndpointHealth(ctx, ep.ID)), got)

		// A day on, the first attempts have left the day and the last the
		// hour.
		w.advance(23 * time.Hour)
		got = must(w.nh.Endpoints.Health(ctx, w.ws, ep.ID))
		is.Equal(got, nahook.EndpointHealth{EndpointID: ep.ID, At: w.clock(),
			LastDay: nahook.HealthWindow{Attempts: 3, Succeeded: 2, Failed: 1, SuccessRate: 2.0 / 3, P50: 41 * ms, P99: 939 * ms}})
	})
}

// Health reaches an endpoint only through its workspace, and the portal
// only its application's endpoints in its environment: any other is
// ErrNotFound, as one that does not exist.
func TestEndpointHealthScope(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	w := newHealthWorld(t, must(sqlite.Open(ctx, ":memory:")))
	mine := must(w.nh.Applications.Create(ctx, w.ws, nahook.ApplicationInput{Name: "Mine"}))
	theirs := must(w.nh.Applications.Create(ctx, w.ws, nahook.ApplicationInput{Name: "Theirs"}))
	staging := must(w.nh.Environments.Create(ctx, w.ws, nahook.EnvironmentInput{Name: "Staging", Slug: "staging"}))
	own := must(w.nh.Endpoints.Create(ctx, w.ws, nahook.EndpointInput{ApplicationID: mine.ID, URL: w.url}))
	other := must(w.nh.Endpoints.Create(ctx, w.ws, nahook.EndpointInput{ApplicationID: theirs.ID, URL: w.url}))
	elsewhere := must(w.nh.Endpoints.Create(ctx, w.ws, nahook.EndpointInput{ApplicationID: mine.ID, EnvironmentID: staging.ID, URL: w.url}))
	unowned := must(w.nh.Endpoints.Create(ctx, w.ws, nahook.EndpointInput{URL: w.url}))
	otherWS := must(w.nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Other"})).ID

	_, err := w.nh.Endpoints.Health(ctx, otherWS, own.ID)
	wantErr(t, "Health through another workspace", err, nahook.ErrNotFound, "")
	_, err = w.nh.Endpoints.Health(ctx, w.ws, "ep_01kaaaaaaaaaaaaaaaaaaaaaaa")
	wantErr(t, "Health of no endpoint", err, nahook.ErrNotFound, "")
	_, err = w.nh.Endpoints.Health(ctx, w.ws, "nope")
	wantErr(t, "Health of a malformed ID", err, nahook.ErrNotFound, "")

	session := must(w.nh.PortalSessions.Create(ctx, w.ws, nahook.PortalSessionInput{ApplicationID: mine.ID}))
	portal := must(w.nh.PortalSessions.Authenticate(ctx, session.Token))
	is.Equal(must(portal.EndpointHealth(ctx, own.ID)).EndpointID, own.ID)
	for name, id := range map[string]nahook.EndpointID{"another application's": other.ID, "another environment's": elsewhere.ID, "no application's": unowned.ID} {
		_, err := portal.EndpointHealth(ctx, id)
		wantErr(t, "portal health of "+name+" endpoint", err, nahook.ErrNotFound, "")
	}
}

// Deliver prunes the health rollup's rows older than
// store.HealthRetention, once at its start and hourly after; newer rows
// stay.
func TestEndpointHealthPruned(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	st := must(sqlite.Open(ctx, ":memory:"))
	w := newHealthWorld(t, st)
	ep := must(w.nh.Endpoints.Create(ctx, w.ws, nahook.EndpointInput{URL: w.url, EventTypes: []string{"order.created"}}))
	old := w.clock()
	w.deliver(t, 1, 200, time.Millisecond)
	w.advance(store.HealthRetention - time.Hour)
	recent := w.clock()
	w.deliver(t, 1, 200, time.Millisecond)
	w.advance(2 * time.Hour) // the first row is past the retention, the second not
	is.Equal(len(must(st.EndpointHealth(ctx, ep.ID, old))), 1)

	run, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.nh.Deliver(run) }()
	waitForWithin(t, 10*time.Second, "the old row to be pruned", func() bool {
		return len(must(st.EndpointHealth(ctx, ep.ID, old))) == 0
	})
	cancel()
	is.NoErr(<-done)
	is.Equal(must(st.EndpointHealth(ctx, ep.ID, recent)), []store.HealthBucket{
		{Latency: time.Millisecond, HourAttempts: 1, HourSucceeded: 1, DayAttempts: 1, DaySucceeded: 1}})
}
