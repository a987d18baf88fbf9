package nahook_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/internal/pgtest"
	"github.com/nahook/nahook/store"
	"github.com/nahook/nahook/store/postgres"
	"github.com/nahook/nahook/store/sqlite"
)

// onSharedStores runs fn with two stores on one database, as two
// processes would have: a SQLite file, and a Postgres schema (skipped
// when NAHOOK_TEST_POSTGRES_URL is unset, outside CI).
func onSharedStores(t *testing.T, fn func(t *testing.T, a, b store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "nahook.db")
		a := must(sqlite.Open(context.Background(), path))
		b := must(sqlite.Open(context.Background(), path))
		t.Cleanup(func() { b.Close() })
		fn(t, a, b)
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.Schema(t)
		a := must(postgres.Open(context.Background(), url))
		b := must(postgres.Open(context.Background(), url))
		t.Cleanup(func() { b.Close() })
		fn(t, a, b)
	})
}

// A dispatcher hears of deliveries another process ingested from the
// store's announcement, long before its next poll.
func TestDeliverWakesOnAnotherProcessesIngest(t *testing.T) {
	onSharedStores(t, func(t *testing.T, a, b store.Store) {
		is := is.New(t)
		w := newDeliveryWorldOn(t, a, nahook.Config{})
		w.stop() // this process ingests only
		rc := newReceiver(t, func(int, http.ResponseWriter) {})
		w.endpoint(t, rc)

		other := must(nahook.New(b, nahook.Config{AllowPrivateURLs: true, Logger: quiet,
			Delivery: nahook.DeliveryConfig{PollInterval: time.Hour}}))
		t.Cleanup(func() { other.Close() })
		stop := w.start(t, other)
		t.Cleanup(stop)
		time.Sleep(100 * time.Millisecond) // its first look found nothing; it would sleep for an hour

		in := w.ingest(t, `{"n": 1}`)
		is.Equal(len(in.Deliveries), 1)
		waitForWithin(t, 10*time.Second, "the other process to deliver", func() bool { return len(rc.requests()) == 1 })
	})
}
