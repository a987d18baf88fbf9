package nahook_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
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

// BenchmarkDelivery measures delivery on SQLite and on Postgres, with
// every event going to 1 or to 10 local receivers that answer at once. It
// ingests b.N events through Events.Ingest from 8 goroutines, with no
// dispatcher running (events/s: stored in the outbox, acknowledged); then
// runs Deliver until the receivers have every delivery (deliveries/s); then,
// in the same run, POSTs as many requests to the same receivers from a
// plain net/http client with the concurrency the dispatcher had: as many
// requests in flight to one receiver as MaxInFlightPerEndpoint, and in all
// as many as Workers (raw-deliveries/s). pct-of-raw is the dispatcher's
// rate as a percentage of the plain client's: what signing, claiming and
// recording every attempt costs, beside sending it. On Linux it also
// reports the machine's CPU time, every process and core, per delivery
// (cpu-us/delivery) and per plain request (raw-cpu-us/request): once the
// cores are all busy, the rates are in their inverse ratio. Set beside
// BenchmarkDeliveryWrites, the store's floor, they bound pct-of-raw.
//
// NAHOOK_BENCH_MAX_IN_FLIGHT sets MaxInFlightPerEndpoint (4 by default).
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
	cfg := nahook.DeliveryConfig{Workers: 32, MaxInFlightPerEndpoint: 4} // the defaults
	if n, _ := strconv.Atoi(os.Getenv("NAHOOK_BENCH_MAX_IN_FLIGHT")); n > 0 {
		cfg.MaxInFlightPerEndpoint = n
	}
	nh := must(nahook.New(st, nahook.Config{AllowPrivateURLs: true, Logger: quiet, Delivery: cfg}))
	defer nh.Close()
	ws := must(nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Bench"}))
	env := must(nh.Environments.Default(ctx, ws.ID))
	et := must(nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"}))
	check(nh.EventTypes.SetPublished(ctx, ws.ID, env.ID, et.ID, true))
	var received atomic.Int64
	urls := make([]string, fanout)
	for i := range fanout {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			received.Add(1)
			w.WriteHeader(http.StatusNoContent)
		}))
		defer srv.Close()
		urls[i] = srv.URL
		must(nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: srv.URL, EventTypes: []string{"order.created"}}))
	}
	key := must(nh.APIKeys.Create(ctx, ws.ID, nahook.APIKeyInput{})).Plaintext
	check(nh.Router.Load(ctx))
	payload := []byte(`{"orderId":"ord_1","total":4200}`) // as ingestFrom's
	want := int64(b.N * fanout)
	waitFor := func(what string) {
		deadline := time.Now().Add(5 * time.Minute)
		for received.Load() < want {
			if time.Now().After(deadline) {
				b.Fatalf("%s: %d of %d deliveries after 5 minutes", what, received.Load(), want)
			}
			time.Sleep(time.Millisecond)
		}
	}

	b.ResetTimer()
	eventsPerSec := ingestFrom(b, nh, key, 8)

	deliverCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	busy, busyErr := busyTime()
	start := time.Now()
	go func() { done <- nh.Deliver(deliverCtx) }()
	waitFor("nahook")
	delivered := time.Since(start)
	deliverBusy, _ := busyTime()
	deliverBusy -= busy
	b.StopTimer()
	stop()
	check(<-done)

	// The plain client: per receiver as many senders as the cap lets
	// the dispatcher have in flight to it, no more than Workers in all.
	received.Store(0)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.MaxInFlightPerEndpoint}}
	defer client.CloseIdleConnections()
	left := make([]atomic.Int64, fanout)
	for i := range left {
		left[i].Store(int64(b.N))
	}
	var senders sync.WaitGroup
	busy, _ = busyTime()
	start = time.Now()
	for n := range min(cfg.Workers, fanout*cfg.MaxInFlightPerEndpoint) {
		i := n % fanout
		senders.Go(func() {
			for left[i].Add(-1) >= 0 {
				resp, err := client.Post(urls[i], "application/json", bytes.NewReader(payload))
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	senders.Wait()
	waitFor("plain client")
	raw := time.Since(start)
	rawBusy, _ := busyTime()
	rawBusy -= busy

	b.ReportMetric(eventsPerSec, "events/s")
	b.ReportMetric(float64(want)/delivered.Seconds(), "deliveries/s")
	b.ReportMetric(float64(want)/raw.Seconds(), "raw-deliveries/s")
	b.ReportMetric(100*raw.Seconds()/delivered.Seconds(), "pct-of-raw")
	if busyErr == nil {
		// The machine's CPU for each: what bounds the rates when the
		// cores are all busy.
		b.ReportMetric(float64(deliverBusy.Microseconds())/float64(want), "cpu-us/delivery")
		b.ReportMetric(float64(rawBusy.Microseconds())/float64(want), "raw-cpu-us/request")
	}
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
