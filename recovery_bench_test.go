package nahook_test

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store/postgres"
	"github.com/nahook/nahook/store/sqlite"
)

// recoverBenchDeliveries is how many failed deliveries BenchmarkRecover
// recovers: a busy endpoint down for a day.
const recoverBenchDeliveries = 100_000

// BenchmarkRecover recovers an endpoint's 100,000 failed deliveries with
// Deliveries.Recover while Deliver runs, on SQLite and on Postgres, and
// waits until the receiver has had every one: ns/op is from the call to
// the last delivery. It reports how long Recover itself took (recover-ms),
// the deliveries' rate (deliveries/s) and the heap at its highest
// (peak-heap-MB, sampled every 10 ms), and fails if any delivery is sent
// twice. The receiver is a transport that answers 204 at once, so the
// figures are nahook's and the store's.
func BenchmarkRecover(b *testing.B) {
	for _, s := range benchStores {
		b.Run(s.name, func(b *testing.B) {
			ctx := context.Background()
			st := s.open(b)
			defer st.Close()
			rx := &countingReceiver{seen: map[string]int{}}
			nh := must(nahook.New(st, nahook.Config{AllowPrivateURLs: true, Logger: quiet,
				Delivery: nahook.DeliveryConfig{Transport: rx, Workers: 64, MaxInFlightPerEndpoint: 32}}))
			defer nh.Close()
			ws := must(nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Bench"}))
			env := must(nh.Environments.Default(ctx, ws.ID))
			et := must(nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"}))
			check(nh.EventTypes.SetPublished(ctx, ws.ID, env.ID, et.ID, true))
			ep := must(nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: "https://down.example/hook", EventTypes: []string{"order.created"}}))
			since := time.Now().Add(-time.Hour)
			var fail func() // marks every delivery failed again
			switch st := st.(type) {
			case *sqlite.Store:
				fail = seedFailedSQLite(b, st.DB(), ws.ID, env.ID, ep.ID)
			case *postgres.Store:
				fail = seedFailedPostgres(b, st.Pool(), ws.ID, env.ID, ep.ID)
			}

			deliverCtx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() {
				nh.Deliver(deliverCtx)
				close(done)
			}()
			defer func() {
				stop()
				<-done
			}()

			var recoverTime time.Duration
			var peak uint64
			for b.Loop() {
				b.StopTimer()
				fail()
				rx.reset()
				b.StartTimer()
				sampling := make(chan struct{})
				sampled := make(chan uint64)
				go func() { sampled <- peakHeap(sampling) }()
				start := time.Now()
				n, err := nh.Deliveries.Recover(ctx, ws.ID, ep.ID, nahook.RecoverOptions{Since: since})
				if err != nil {
					b.Fatal(err)
				}
				if n != recoverBenchDeliveries {
					b.Fatalf("recovered %d, want %d", n, recoverBenchDeliveries)
				}
				recoverTime += time.Since(start)
				for rx.count() < recoverBenchDeliveries {
					time.Sleep(10 * time.Millisecond)
				}
				close(sampling)
				peak = max(peak, <-sampled)
				if twice := rx.twice(); twice != "" {
					b.Fatalf("delivery %s was sent twice", twice)
				}
			}
			b.ReportMetric(float64(recoverTime.Milliseconds())/float64(b.N), "recover-ms")
			b.ReportMetric(float64(recoverBenchDeliveries)*float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		})
	}
}

// peakHeap samples the heap in use every 10 ms until stop is closed, and
// returns the highest reading.
func peakHeap(stop <-chan struct{}) uint64 {
	var peak uint64
	var m runtime.MemStats
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapInuse)
		select {
		case <-stop:
			return peak
		case <-t.C:
		}
	}
}

// countingReceiver answers every delivery 204 at once and counts them by
// webhook-id, which is one per delivery here (one endpoint).
type countingReceiver struct {
	n    atomic.Int64
	mu   sync.Mutex
	seen map[string]int
}

func (rx *countingReceiver) RoundTrip(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	rx.mu.Lock()
	rx.seen[r.Header.Get("webhook-id")]++
	rx.mu.Unlock()
	rx.n.Add(1)
	return &http.Response{StatusCode: http.StatusNoContent, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
}

func (rx *countingReceiver) count() int { return int(rx.n.Load()) }

func (rx *countingReceiver) reset() {
	rx.mu.Lock()
	defer rx.mu.Unlock()
	clear(rx.seen)
	rx.n.Store(0)
}

// twice returns a webhook-id sent more than once, or "".
func (rx *countingReceiver) twice() string {
	rx.mu.Lock()
	defer rx.mu.Unlock()
	for id, n := range rx.seen {
		if n > 1 {
			return id
		}
	}
	return ""
}

// seedFailedSQLite stores recoverBenchDeliveries events, each with one
// failed delivery to ep, in one transaction (through the Client they would
// take a commit each), and returns what fails them all again.
func seedFailedSQLite(b *testing.B, db *sql.DB, ws nahook.WorkspaceID, env nahook.EnvironmentID, ep nahook.EndpointID) func() {
	ctx := context.Background()
	now := time.Now().UnixMilli()
	tx := must(db.BeginTx(ctx, nil))
	ev := must(tx.Prepare(`INSERT INTO events (id, workspace_id, environment_id, event_type, payload, created_at) VALUES (?, ?, ?, 'order.created', X'7B7D', ?)`))
	dl := must(tx.Prepare(`INSERT INTO deliveries (id, workspace_id, event_id, endpoint_id, status, attempts, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'failed', 1, ?, ?)`))
	for range recoverBenchDeliveries {
		id := typeid.New("msg")
		must(ev.Exec(id, ws, env, now))
		must(dl.Exec(typeid.New("dlv"), ws, id, ep, now, now))
	}
	check(tx.Commit())
	return func() {
		must(db.Exec(`UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, leased_until = NULL WHERE endpoint_id = ?`, ep))
	}
}

// seedFailedPostgres is seedFailedSQLite on Postgres, in batches.
func seedFailedPostgres(b *testing.B, pool *pgxpool.Pool, ws nahook.WorkspaceID, env nahook.EnvironmentID, ep nahook.EndpointID) func() {
	ctx := context.Background()
	now := time.Now()
	const batch = 10_000
	for i := 0; i < recoverBenchDeliveries; i += batch {
		events, deliveries := make([]string, batch), make([]string, batch)
		for j := range batch {
			events[j], deliveries[j] = typeid.New("msg"), typeid.New("dlv")
		}
		must(pool.Exec(ctx, `WITH e AS (
				INSERT INTO events (id, workspace_id, environment_id, event_type, payload, created_at)
				SELECT id, $1, $2, 'order.created', '{}', $3 FROM unnest($4::text[]) AS id
			)
			INSERT INTO deliveries (id, workspace_id, event_id, endpoint_id, status, attempts, created_at, updated_at)
			SELECT d, $1, e, $5, 'failed', 1, $3, $3 FROM unnest($6::text[], $4::text[]) AS x(d, e)`,
			ws, env, now, events, ep, deliveries))
	}
	return func() {
		must(pool.Exec(ctx, `UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, leased_until = NULL WHERE endpoint_id = $1`, ep))
	}
}
