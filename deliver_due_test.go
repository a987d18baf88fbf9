package nahook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
	"github.com/nahook/nahook/store/sqlite"
)

// dueWorld is a client whose clock stands still until moved, whose
// transport answers from memory, and on which no Deliver runs: what is
// delivered is what DeliverDue delivers.
type dueWorld struct {
	nh  *nahook.Client
	st  store.Store
	ws  nahook.WorkspaceID
	key string

	mu     sync.Mutex
	now    time.Time
	status map[string]int // by URL; 200 when absent
	sent   map[string]int // requests by URL
}

func newDueWorld(t *testing.T, delivery nahook.DeliveryConfig) *dueWorld {
	t.Helper()
	return newDueWorldConfig(t, nahook.Config{Delivery: delivery})
}

// newDueWorldConfig is newDueWorld with more of the config: its clock,
// transport and private URLs are the world's, its logger quiet unless
// set.
func newDueWorldConfig(t *testing.T, cfg nahook.Config) *dueWorld {
	t.Helper()
	ctx := context.Background()
	w := &dueWorld{now: time.Now().UTC().Truncate(time.Second), status: map[string]int{}, sent: map[string]int{}}
	cfg.Delivery.Transport, cfg.AllowPrivateURLs, cfg.Now = w, true, w.clock
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	st := must(sqlite.Open(ctx, ":memory:"))
	w.st = st
	w.nh = must(nahook.New(st, cfg))
	t.Cleanup(func() {
		w.nh.Close()
		st.Close()
	})
	w.ws, w.key = shop(w.nh, "Due")
	return w
}

func (w *dueWorld) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *dueWorld) advance(d time.Duration) {
	w.mu.Lock()
	w.now = w.now.Add(d)
	w.mu.Unlock()
}

// RoundTrip answers the status set for the URL, and counts the request.
func (w *dueWorld) RoundTrip(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	w.mu.Lock()
	defer w.mu.Unlock()
	u := r.URL.String()
	w.sent[u]++
	status := w.status[u]
	if status == 0 {
		status = http.StatusOK
	}
	return &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
}

// setStatus makes the transport answer status for url.
func (w *dueWorld) setStatus(url string, status int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.status[url] = status
}

func (w *dueWorld) requests(url string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sent[url]
}

func (w *dueWorld) endpoint(t *testing.T, url string, status int) nahook.Endpoint {
	w.mu.Lock()
	w.status[url] = status
	w.mu.Unlock()
	return must(w.nh.Endpoints.Create(context.Background(), w.ws, nahook.EndpointInput{URL: url, EventTypes: []string{"order.created"}}))
}

// DeliverDue attempts every delivery due, records each attempt, and
// returns when nothing is left that is due by the clock: a retry waits
// for the clock to reach it, and another call then makes it.
func TestDeliverDue(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	w := newDueWorld(t, nahook.DeliveryConfig{Schedule: []time.Duration{time.Minute}})
	ok := w.endpoint(t, "https://ok.example/hook", http.StatusOK)
	down := w.endpoint(t, "https://down.example/hook", http.StatusServiceUnavailable)
	var ingested []nahook.Ingested
	for range 2 {
		ingested = append(ingested, must(w.nh.Events.Ingest(ctx, w.key, "order.created", nahook.IngestInput{Payload: []byte(`{}`)})))
	}

	n, err := w.nh.DeliverDue(ctx)
	is.NoErr(err)
	is.Equal(n, 4) // two events, two endpoints: each once
	is.Equal(w.requests(ok.URL), 2)
	is.Equal(w.requests(down.URL), 2)
	for _, in := range ingested {
		for _, d := range in.Deliveries {
			got := must(w.nh.Deliveries.Get(ctx, w.ws, d.ID)) // recorded before DeliverDue returned
			is.Equal(got.Delivery.Attempts, 1)
			if d.EndpointID == ok.ID {
				is.Equal(got.Delivery.Status, nahook.DeliverySucceeded)
			} else {
				is.Equal(got.Delivery.Status, nahook.DeliveryPending)
				is.True(got.Delivery.NextAttemptAt.After(w.clock()))
			}
		}
	}

	// The retries wait for their time, by the clock.
	n, err = w.nh.DeliverDue(ctx)
	is.NoErr(err)
	is.Equal(n, 0)
	w.advance(2 * time.Minute) // past the minute, jittered by ±20%
	n, err = w.nh.DeliverDue(ctx)
	is.NoErr(err)
	is.Equal(n, 2)
	is.Equal(w.requests(down.URL), 4)
	for _, in := range ingested {
		for _, d := range in.Deliveries {
			if d.EndpointID == down.ID {
				is.Equal(must(w.nh.Deliveries.Get(ctx, w.ws, d.ID)).Delivery.Status, nahook.DeliveryFailed) // the schedule is spent
			}
		}
	}
	is.Equal(w.requests(ok.URL), 2) // a success is never sent again
}

// DeliverDue works through a backlog larger than its workers, and than one
// endpoint on probation is given at a time, before it returns.
func TestDeliverDueBacklog(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	w := newDueWorld(t, nahook.DeliveryConfig{Workers: 2, MaxInFlightPerEndpoint: 1})
	a := w.endpoint(t, "https://a.example/hook", http.StatusOK)
	b := w.endpoint(t, "https://b.example/hook", http.StatusOK)
	for range 25 {
		must(w.nh.Events.Ingest(ctx, w.key, "order.created", nahook.IngestInput{Payload: []byte(`{}`)}))
	}
	n, err := w.nh.DeliverDue(ctx)
	is.NoErr(err)
	is.Equal(n, 50)
	is.Equal(w.requests(a.URL), 25)
	is.Equal(w.requests(b.URL), 25)
	page := must(w.nh.Deliveries.List(ctx, w.ws, nahook.DeliveryFilter{Status: nahook.DeliveryPending}, nahook.ListOptions{}))
	is.Equal(len(page.Items), 0)
}

// DeliverDue with a context already ended attempts nothing and says so.
func TestDeliverDueContextEnded(t *testing.T) {
	is := is.New(t)
	w := newDueWorld(t, nahook.DeliveryConfig{})
	w.endpoint(t, "https://a.example/hook", http.StatusOK)
	must(w.nh.Events.Ingest(context.Background(), w.key, "order.created", nahook.IngestInput{Payload: []byte(`{}`)}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err := w.nh.DeliverDue(ctx)
	is.True(errors.Is(err, context.Canceled))
	is.Equal(n, 0)
	n, err = w.nh.DeliverDue(context.Background()) // still due
	is.NoErr(err)
	is.Equal(n, 1)
}
