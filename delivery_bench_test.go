package nahook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/internal/pgtest"
	"github.com/nahook/nahook/store"
	"github.com/nahook/nahook/store/postgres"
	"github.com/nahook/nahook/store/sqlite"
)

// BenchmarkDelivery ingests events through Events.Ingest from 16
// goroutines while Deliver sends them to local receivers, with every event
// going to 1 or to 10 endpoints, on SQLite and on Postgres. It reports the
// ingest rate (events/s: stored in the outbox, acknowledged) and the
// delivery rate (deliveries/s: from the first ingest until the receivers
// have every delivery).
func BenchmarkDelivery(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"sqlite", func(b *testing.B) store.Store {
			return must(sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "nahook.db")))
		}},
		{"postgres", func(b *testing.B) store.Store {
			st := must(postgres.Open(pgtest.Schema(b)))
			check(st.Migrate(context.Background()))
			return st
		}},
	}
	for _, s := range stores {
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
	nh := must(nahook.New(st, nahook.Config{AllowPrivateURLs: true, Logger: quiet}))
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
