package nahook_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nahook/nahook"
)

// BenchmarkIngestConcurrent ingests from 1, 8 and 32 goroutines at once,
// with no dispatcher, each event to one endpoint, on SQLite and Postgres:
// the rate at which events are stored and acknowledged (events/s).
func BenchmarkIngestConcurrent(b *testing.B) {
	for _, s := range benchStores {
		for _, clients := range []int{1, 8, 32} {
			b.Run(fmt.Sprintf("%s/clients=%d", s.name, clients), func(b *testing.B) {
				st := s.open(b)
				defer st.Close()
				ctx := context.Background()
				nh := must(nahook.New(st, nahook.Config{Logger: quiet}))
				defer nh.Close()
				ws, key := shop(nh, "Bench")
				must(nh.Endpoints.Create(ctx, ws, nahook.EndpointInput{URL: "https://example.com/hook", EventTypes: []string{"order.created"}}))
				check(nh.Router.Load(ctx))
				b.ResetTimer()
				b.ReportMetric(ingestFrom(b, nh, key, clients), "events/s")
			})
		}
	}
}

// ingestFrom ingests b.N events of order.created with key from clients
// goroutines at once, each with its own idempotency key, and returns the
// rate: events stored and acknowledged per second.
func ingestFrom(b *testing.B, nh *nahook.Client, key string, clients int) float64 {
	ctx := context.Background()
	payload := []byte(`{"orderId":"ord_1","total":4200}`)
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				if _, err := nh.Events.Ingest(ctx, key, "order.created",
					nahook.IngestInput{Payload: payload, IdempotencyKey: strconv.FormatInt(i, 10)}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(b.N) / time.Since(start).Seconds()
}
