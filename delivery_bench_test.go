package nahook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/internal/pgtest"
	"github.com/nahook/nahook/store"
	"github.com/nahook/nahook/store/postgres"
	"github.com/nahook/nahook/store/sqlite"
)

// benchStores are the stores the delivery benchmarks run on: a SQLite file,
// and Postgres (in a schema of its own, when NAHOOK_TEST_POSTGRES_URL is
// set).
var benchStores = []struct {
	name string
	open func(b *testing.B) store.Store
}{
	{"sqlite", func(b *testing.B) store.Store {
		return must(sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "nahook.db")))
	}},
	{"postgres", func(b *testing.B) store.Store {
		return must(postgres.Open(context.Background(), pgtest.Schema(b)))
	}},
}

// BenchmarkDelivery ingests events through Events.Ingest from 16
// goroutines while Deliver sends them to local receivers, with every event
// going to 1 or to 10 endpoints, on SQLite and on Postgres. It reports the
// ingest rate (events/s: stored in the outbox, acknowledged) and the
// delivery rate (deliveries/s: from the first ingest until the receivers
// have every delivery).
//
// The receivers answer at once, so one endpoint's rate is bounded by its
// cap on attempts in flight (DeliveryConfig.MaxInFlightPerEndpoint, 4 by
// default) over the time a claim takes, not over the receiver's: set
// NAHOOK_BENCH_MAX_IN_FLIGHT to run with another cap.
func BenchmarkDelivery(b *testing.B) {
	for _, s := range benchStores {
		for _, fanout := range []int{1, 10} {
			b.Run(fmt.Sprintf("%s/fanout=%d", s.name, fanout), func(b *testing.B) {
				benchmarkDelivery(b, s.open(b), fanout)
			})
		}
	}
}

func benchmarkDelivery(b *testing.B, st store.Store, fanout int) {
	ctx := context.Background()
	defer st.Close()
	maxInFlight, _ := strconv.Atoi(os.Getenv("NAHOOK_BENCH_MAX_IN_FLIGHT"))
	nh := must(nahook.New(st, nahook.Config{AllowPrivateURLs: true, Logger: quiet,
		Delivery: nahook.DeliveryConfig{MaxInFlightPerEndpoint: maxInFlight}}))
	defer nh.Close()
	ws := must(nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Bench"}))
	env := must(nh.Environments.Default(ctx, ws.ID))
	et := must(nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"}))
	check(nh.EventTypes.SetPublished(ctx, ws.ID, env.ID, et.ID, true))
	var received atomic.Int64
	for range fanout {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			received.Add(1)
			w.WriteHeader(http.StatusNoContent)
		}))
		defer srv.Close()
		must(nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: srv.URL, EventTypes: []string{"order.created"}}))
	}
	key := must(nh.APIKeys.Create(ctx, ws.ID, nahook.APIKeyInput{})).Plaintext
	check(nh.Router.Load(ctx))
	deliverCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- nh.Deliver(deliverCtx) }()
	defer func() { stop(); <-done }()

	payload := []byte(`{"orderId": "ord_1", "customer": "cust_123", "total": 4200, "currency": "EUR"}`)
	start := time.Now()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := nh.Events.Ingest(ctx, key, "order.created", nahook.IngestInput{Payload: payload}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	ingested := time.Since(start)
	b.StopTimer()
	want := int64(b.N * fanout)
	deadline := time.Now().Add(5 * time.Minute)
	for received.Load() < want {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d deliveries after 5 minutes", received.Load(), want)
		}
		time.Sleep(time.Millisecond)
	}
	delivered := time.Since(start)
	b.ReportMetric(float64(b.N)/ingested.Seconds(), "events/s")
	b.ReportMetric(float64(want)/delivered.Seconds(), "deliveries/s")
}

// BenchmarkFairness measures what other endpoints' backlogs do to a
// healthy endpoint's deliveries, with the default DeliveryConfig, on
// SQLite and on Postgres: one endpoint accepts connections and never
// answers, another answers after 5 seconds, each with 400 deliveries
// queued before the run; then the healthy endpoint is sent an event every
// 100ms, b.N of them, and it reports the time from ingest to arrival
// (p50-ms, p99-ms, max-ms). The dead and slow endpoints subscribe to
// every event type, so each event sent to the healthy one adds to their
// backlogs too. Run it with -benchtime=200x (20 seconds a store).
func BenchmarkFairness(b *testing.B) {
	for _, s := range benchStores {
		b.Run(s.name, func(b *testing.B) { benchmarkFairness(b, s.open(b)) })
	}
}

func benchmarkFairness(b *testing.B, st store.Store) {
	const backlog = 400
	ctx := context.Background()
	defer st.Close()
	nh := must(nahook.New(st, nahook.Config{AllowPrivateURLs: true, Logger: quiet}))
	defer nh.Close()
	ws := must(nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Bench"}))
	env := must(nh.Environments.Default(ctx, ws.ID))
	et := must(nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"}))
	check(nh.EventTypes.SetPublished(ctx, ws.ID, env.ID, et.ID, true))
	key := must(nh.APIKeys.Create(ctx, ws.ID, nahook.APIKeyInput{})).Plaintext

	dead, _ := tarpit(b)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if _, ok := arrived[r.Header.Get("webhook-id")]; !ok {
			arrived[r.Header.Get("webhook-id")] = time.Now()
		}
		mu.Unlock()
	}))
	defer healthy.Close()
	for _, url := range []string{dead, slow.URL} {
		ep := must(nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: url, EventTypes: []string{"*"}}))
		for range backlog {
			must(nh.Events.IngestDirect(ctx, key, ep.ID, nahook.IngestInput{Payload: []byte(`{"backlog": true}`)}))
		}
	}
	must(nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: healthy.URL, EventTypes: []string{"order.created"}}))

	deliverCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- nh.Deliver(deliverCtx) }()
	defer func() { stop(); <-done }()

	sent := map[nahook.EventID]time.Time{}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	b.ResetTimer()
	for range b.N {
		<-tick.C
		at := time.Now()
		in := must(nh.Events.Ingest(ctx, key, "order.created", nahook.IngestInput{Payload: []byte(`{"orderId": "ord_1"}`)}))
		sent[in.Event.ID] = at
	}
	deadline := time.Now().Add(2 * time.Minute)
	var latencies []time.Duration
	for {
		mu.Lock()
		latencies = latencies[:0]
		for id, at := range sent {
			if got, ok := arrived[string(id)]; ok {
				latencies = append(latencies, got.Sub(at))
			}
		}
		mu.Unlock()
		if len(latencies) == len(sent) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d events reached the healthy endpoint within 2 minutes of the last", len(latencies), len(sent))
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.StopTimer()
	slices.Sort(latencies)
	at := func(q float64) float64 {
		return float64(latencies[int(q*float64(len(latencies)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.5), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(at(1), "max-ms")
}
