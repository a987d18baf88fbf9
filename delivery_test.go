package nahook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/matryer/is"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/internal/pgtest"
	"github.com/nahook/nahook/store"
	"github.com/nahook/nahook/store/postgres"
	"github.com/nahook/nahook/store/sqlite"
)

// receiver is a webhook receiver that checks every request's signature
// with the Standard Webhooks reference library, code independent of
// nahook's signer, and answers as told.
type receiver struct {
	t      testing.TB
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	got    []received
	answer func(n int, w http.ResponseWriter) // n counts requests from 1
}

type received struct {
	at       time.Time
	header   http.Header
	body     string
	verified error
}

func newReceiver(t testing.TB, answer func(n int, w http.ResponseWriter)) *receiver {
	rc := &receiver{t: t, answer: answer}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		var verr error = errors.New("no secret set")
		if rc.secret != "" {
			wh, err := standardwebhooks.NewWebhook(rc.secret)
			if err == nil {
				err = wh.Verify(body, r.Header)
			}
			verr = err
		}
		rc.got = append(rc.got, received{at: time.Now(), header: r.Header.Clone(), body: string(body), verified: verr})
		n := len(rc.got)
		rc.mu.Unlock()
		if rc.answer != nil {
			rc.answer(n, w)
		}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) setSecret(s string) {
	rc.mu.Lock()
	rc.secret = s
	rc.mu.Unlock()
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// waitFor polls until cond holds, failing the test after a generous limit.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	waitForWithin(t, 20*time.Second, what, cond)
}

// waitForWithin is waitFor with a limit of its own, for waits on much
// work, which the race detector can make many times slower.
func waitForWithin(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// onEachStore runs fn on a fresh SQLite store and on a fresh Postgres one
// (in a schema of its own; skipped when NAHOOK_TEST_POSTGRES_URL is unset,
// outside CI).
func onEachStore(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, must(sqlite.Open(context.Background(), ":memory:")))
	})
	t.Run("postgres", func(t *testing.T) {
		st, err := postgres.Open(context.Background(), pgtest.Schema(t))
		if err != nil {
			t.Fatal(err)
		}
		fn(t, st)
	})
}

// deliveryWorld is a client on an in-memory store with one workspace that
// publishes order.created, and a running dispatcher.
type deliveryWorld struct {
	nh   *nahook.Client
	st   store.Store
	ws   nahook.WorkspaceID
	key  string
	stop func() // cancels Deliver and waits for it to return
}

func newDeliveryWorld(t *testing.T, cfg nahook.Config) *deliveryWorld {
	t.Helper()
	return newDeliveryWorldOn(t, must(sqlite.Open(context.Background(), ":memory:")), cfg)
}

// newDeliveryWorldOn is newDeliveryWorld on st, which it closes when the
// test ends.
// shop makes a workspace named name that publishes order.created in its
// default environment, and returns it with an environment key, the
// plaintext.
func shop(nh *nahook.Client, name string) (nahook.WorkspaceID, string) {
	ctx := context.Background()
	ws := must(nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: name}))
	env := must(nh.Environments.Default(ctx, ws.ID))
	et := must(nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"}))
	check(nh.EventTypes.SetPublished(ctx, ws.ID, env.ID, et.ID, true))
	return ws.ID, must(nh.APIKeys.Create(ctx, ws.ID, nahook.APIKeyInput{})).Plaintext
}

func newDeliveryWorldOn(t *testing.T, st store.Store, cfg nahook.Config) *deliveryWorld {
	t.Helper()
	cfg.AllowPrivateURLs = true // the receivers listen on loopback
	cfg.Logger = quiet
	nh := must(nahook.New(st, cfg))
	w := &deliveryWorld{nh: nh, st: st}
	w.ws, w.key = shop(nh, "Delivery")
	w.stop = w.start(t, nh)
	t.Cleanup(func() {
		w.stop()
		nh.Close()
		st.Close()
	})
	return w
}

// start runs Deliver for nh and returns what stops it.
func (w *deliveryWorld) start(t *testing.T, nh *nahook.Client) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- nh.Deliver(ctx) }()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Deliver: %v", err)
			}
		})
	}
}

// endpoint makes an endpoint for rc, subscribed to order.created and owned
// by app, if one is given, and tells rc its secret.
func (w *deliveryWorld) endpoint(t *testing.T, rc *receiver, app ...nahook.ApplicationID) nahook.Endpoint {
	ep := w.endpointAt(t, rc.srv.URL+"/hook", app...)
	rc.setSecret(must(w.nh.Endpoints.Secret(context.Background(), w.ws, ep.ID)))
	return ep
}

// endpointAt makes an endpoint at url, subscribed to order.created and
// owned by app, if one is given.
func (w *deliveryWorld) endpointAt(t *testing.T, url string, app ...nahook.ApplicationID) nahook.Endpoint {
	in := nahook.EndpointInput{URL: url, EventTypes: []string{"order.created"}}
	if len(app) > 0 {
		in.ApplicationID = app[0]
	}
	return must(w.nh.Endpoints.Create(context.Background(), w.ws, in))
}

// customer makes an application.
func (w *deliveryWorld) customer(t *testing.T, name string) nahook.ApplicationID {
	return must(w.nh.Applications.Create(context.Background(), w.ws, nahook.ApplicationInput{Name: name})).ID
}

func (w *deliveryWorld) ingest(t *testing.T, payload string) nahook.Ingested {
	return must(w.nh.Events.Ingest(context.Background(), w.key, "order.created", nahook.IngestInput{Payload: []byte(payload)}))
}

// broadcast ingests an event for every subscribed endpoint, those of
// applications too: events for no application reach only endpoints of
// none.
func (w *deliveryWorld) broadcast(t *testing.T, payload string) nahook.Ingested {
	return must(w.nh.Events.Ingest(context.Background(), w.key, "order.created", nahook.IngestInput{Payload: []byte(payload), Broadcast: true}))
}

func (w *deliveryWorld) delivery(t *testing.T, id nahook.DeliveryID) nahook.DeliveryDetail {
	return must(w.nh.Deliveries.Get(context.Background(), w.ws, id))
}

func (w *deliveryWorld) waitStatus(t *testing.T, id nahook.DeliveryID, want nahook.DeliveryStatus) nahook.DeliveryDetail {
	t.Helper()
	var d nahook.DeliveryDetail
	waitFor(t, "delivery "+string(id)+" to be "+string(want), func() bool {
		d = w.delivery(t, id)
		return d.Delivery.Status == want
	})
	return d
}

func TestDeliverSignedAndRecorded(t *testing.T) {
	is := is.New(t)
	w := newDeliveryWorld(t, nahook.Config{})
	rc := newReceiver(t, func(int, http.ResponseWriter) {})
	w.endpoint(t, rc)
	in := w.ingest(t, `{"orderId": "ord_1", "total": 42}`)
	d := w.waitStatus(t, in.Deliveries[0].ID, nahook.DeliverySucceeded)

	got := rc.requests()
	is.Equal(len(got), 1)
	is.NoErr(got[0].verified) // the reference implementation accepts the signature
	is.Equal(got[0].body, `{"orderId": "ord_1", "total": 42}`)
	is.Equal(got[0].header.Get("webhook-id"), string(in.Event.ID))
	is.Equal(got[0].header.Get("Content-Type"), "application/json")
	is.Equal(got[0].header.Get("nahook-event-type"), "order.created")
	is.Equal(d.Delivery.Attempts, 1)
	is.Equal(len(d.Attempts), 1)
	is.Equal(d.Attempts[0].StatusCode, 200)
	is.Equal(d.Attempts[0].Error, "")
}

func TestDeliverRetriesThenSucceeds(t *testing.T) {
	is := is.New(t)
	w := newDeliveryWorld(t, nahook.Config{Delivery: nahook.DeliveryConfig{Schedule: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond}, PollInterval: 5 * time.Millisecond}})
	rc := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "down for maintenance")
		}
	})
	w.endpoint(t, rc)
	in := w.ingest(t, `{}`)
	d := w.waitStatus(t, in.Deliveries[0].ID, nahook.DeliverySucceeded)
	is.Equal(d.Delivery.Attempts, 3)
	is.Equal(len(d.Attempts), 3)
	is.Equal(d.Attempts[0].StatusCode, 503)
	is.Equal(d.Attempts[0].Response, "down for maintenance") // the answer is kept
	is.Equal(d.Attempts[2].StatusCode, 200)
	got := rc.requests()
	for _, r := range got {
		is.NoErr(r.verified)
		is.Equal(r.header.Get("webhook-id"), string(in.Event.ID)) // the same id on every retry
	}
}

func TestDeliverHonoursRetryAfter(t *testing.T) {
	is := is.New(t)
	w := newDeliveryWorld(t, nahook.Config{Delivery: nahook.DeliveryConfig{Schedule: []time.Duration{time.Millisecond}, PollInterval: 5 * time.Millisecond}})
	rc := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	w.endpoint(t, rc)
	in := w.ingest(t, `{}`)
	w.waitStatus(t, in.Deliveries[0].ID, nahook.DeliverySucceeded)
	got := rc.requests()
	is.Equal(len(got), 2)
	is.True(got[1].at.Sub(got[0].at) >= time.Second) // not before the receiver asked
}

func TestDeliverGivesUp(t *testing.T) {
	is := is.New(t)
	w := newDeliveryWorld(t, nahook.Config{Delivery: nahook.DeliveryConfig{Schedule: []time.Duration{time.Millisecond, time.Millisecond}, PollInterval: 5 * time.Millisecond, DisableAfter: -1}})
	failing := newReceiver(t, func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) })
	gone := newReceiver(t, func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusGone) })
	redirected := newReceiver(t, nil)
	redirecting := newReceiver(t, func(_ int, w http.ResponseWriter) {
		w.Header().Set("Location", redirected.srv.URL)
		w.WriteHeader(http.StatusFound)
	})
	for _, c := range []struct {
		rc       *receiver
		attempts int
	}{
		{failing, 3},     // retried through the schedule, then failed
		{gone, 1},        // a client error is not retried
		{redirecting, 1}, // nor is a redirect, which is not followed
	} {
		ep := w.endpoint(t, c.rc)
		in := w.ingest(t, `{}`)
		var id nahook.DeliveryID
		for _, d := range in.Deliveries {
			if d.EndpointID == ep.ID {
				id = d.ID
			}
		}
		d := w.waitStatus(t, id, nahook.DeliveryFailed)
		is.Equal(d.Delivery.Attempts, c.attempts)
		is.True(d.Delivery.LastError != "")
		check(w.nh.Endpoints.Delete(context.Background(), w.ws, ep.ID))
	}
	is.Equal(len(redirected.requests()), 0) // the redirect led nowhere
}

func TestDeliverDisablesFailingEndpoint(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	w := newDeliveryWorld(t, nahook.Config{Delivery: nahook.DeliveryConfig{Schedule: []time.Duration{20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond},
		PollInterval: 5 * time.Millisecond, DisableAfter: 50 * time.Millisecond}})
	rc := newReceiver(t, func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusBadGateway) })
	ep := w.endpoint(t, rc)
	w.ingest(t, `{}`)
	waitFor(t, "the endpoint to be disabled", func() bool {
		return must(w.nh.Endpoints.Get(ctx, w.ws, ep.ID)).Disabled
	})
	waitFor(t, "the router to stop routing to it", func() bool {
		r := must(w.nh.Router.Resolve(ctx, w.key, "order.created"))
		return r.NumEndpoints() == 0
	})
	n := len(rc.requests())
	time.Sleep(100 * time.Millisecond)
	is.Equal(len(rc.requests()), n) // and no attempt goes to it while disabled
}

// A dispatcher that does not allow private addresses refuses to connect to
// one, whatever the URL says: the check is on the address dialed.
func TestDeliverRefusesPrivateAddressesOnConnect(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	w := newDeliveryWorld(t, nahook.Config{}) // this one may save private URLs
	w.stop()                                  // but its dispatcher is replaced by a strict one:
	strict := must(nahook.New(w.st, nahook.Config{Logger: quiet, Delivery: nahook.DeliveryConfig{Schedule: []time.Duration{}}}))
	defer strict.Close()
	stop := w.start(t, strict)
	defer stop()
	rc := newReceiver(t, nil)
	ep := must(w.nh.Endpoints.Create(ctx, w.ws, nahook.EndpointInput{URL: "http://localhost:" + rc.srv.URL[len("http://127.0.0.1:"):] + "/hook", EventTypes: []string{"order.created"}}))
	in := w.ingest(t, `{}`)
	d := w.waitStatus(t, in.Deliveries[0].ID, nahook.DeliveryFailed)
	is.Equal(d.Delivery.EndpointID, ep.ID)
	is.True(len(d.Attempts) == 1 && d.Attempts[0].StatusCode == 0)
	t.Logf("refused: %s", d.Attempts[0].Error)
	is.Equal(len(rc.requests()), 0) // nothing reached the loopback receiver
}

func TestDeliverSignsWithBothSecretsDuringRotation(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	w := newDeliveryWorld(t, nahook.Config{})
	oldSide := newReceiver(t, nil)
	ep := w.endpoint(t, oldSide)
	oldSecret := oldSide.secret
	newSecret := must(w.nh.Endpoints.RotateSecret(ctx, w.ws, ep.ID))
	is.True(newSecret != oldSecret)
	in := w.ingest(t, `{"rotated": true}`)
	w.waitStatus(t, in.Deliveries[0].ID, nahook.DeliverySucceeded)
	got := oldSide.requests()[0]
	is.NoErr(got.verified) // a receiver still on the old secret accepts it
	wh := must(standardwebhooks.NewWebhook(newSecret))
	is.NoErr(wh.Verify([]byte(got.body), got.header)) // and so does one on the new
}

func TestDeliverDrainsOnShutdown(t *testing.T) {
	is := is.New(t)
	w := newDeliveryWorld(t, nahook.Config{})
	started := make(chan struct{}, 1)
	rc := newReceiver(t, func(int, http.ResponseWriter) {
		started <- struct{}{}
		time.Sleep(300 * time.Millisecond)
	})
	w.endpoint(t, rc)
	in := w.ingest(t, `{}`)
	<-started
	w.stop() // returns only when the attempt in flight is done and recorded
	d := w.delivery(t, in.Deliveries[0].ID)
	is.Equal(d.Delivery.Status, nahook.DeliverySucceeded)
	is.Equal(len(d.Attempts), 1)
}

func TestDeliverManualRetry(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	w := newDeliveryWorld(t, nahook.Config{Delivery: nahook.DeliveryConfig{Schedule: []time.Duration{}}})
	var mu sync.Mutex
	healthy := false
	rc := newReceiver(t, func(_ int, w http.ResponseWriter) {
		mu.Lock()
		defer mu.Unlock()
		if !healthy {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	w.endpoint(t, rc)
	in := w.ingest(t, `{}`)
	w.waitStatus(t, in.Deliveries[0].ID, nahook.DeliveryFailed) // no retries scheduled
	mu.Lock()
	healthy = true
	mu.Unlock()
	must(w.nh.Deliveries.Retry(ctx, w.ws, in.Deliveries[0].ID))
	d := w.waitStatus(t, in.Deliveries[0].ID, nahook.DeliverySucceeded)
	is.Equal(d.Delivery.Attempts, 2)
}
