package nahook_test

import (
	"context"
	"errors"
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

// hostDB is a host program's database, shared with its nahook store: it
// begins the transactions the host writes its own rows and sends events
// in, and reads back its own rows.
type hostDB struct {
	st store.Store
	// begin opens a transaction and returns nahook's handle on it, and
	// what ends it.
	begin func(t *testing.T) (tx store.Tx, exec func(sql string) error, commit, rollback func() error)
	count func(t *testing.T, sql string) int
}

// onEachHostDB runs fn with a SQLite store, on a file and in memory, the
// host's transactions on its writer (DB()), and a Postgres store, the
// host's transactions on its pool.
func onEachHostDB(t *testing.T, fn func(t *testing.T, h hostDB)) {
	for _, name := range []string{"sqlite", "sqlite-memory"} {
		t.Run(name, func(t *testing.T) {
			path := ":memory:"
			if name == "sqlite" {
				path = filepath.Join(t.TempDir(), "nahook.db")
			}
			st := must(sqlite.Open(context.Background(), path))
			fn(t, hostDB{st: st,
				begin: func(t *testing.T) (store.Tx, func(string) error, func() error, func() error) {
					tx := must(st.DB().BeginTx(t.Context(), nil))
					t.Cleanup(func() { tx.Rollback() })
					exec := func(q string) error { _, err := tx.ExecContext(t.Context(), q); return err }
					return sqlite.Tx(tx), exec, tx.Commit, tx.Rollback
				},
				count: func(t *testing.T, q string) int {
					var n int
					check(st.DB().QueryRowContext(t.Context(), q).Scan(&n))
					return n
				}})
		})
	}
	t.Run("postgres", func(t *testing.T) {
		st := must(postgres.Open(context.Background(), pgtest.Schema(t)))
		fn(t, hostDB{st: st,
			begin: func(t *testing.T) (store.Tx, func(string) error, func() error, func() error) {
				tx := must(st.Pool().Begin(t.Context()))
				t.Cleanup(func() { tx.Rollback(context.Background()) })
				exec := func(q string) error { _, err := tx.Exec(t.Context(), q); return err }
				return postgres.Tx(tx), exec, func() error { return tx.Commit(t.Context()) }, func() error { return tx.Rollback(t.Context()) }
			},
			count: func(t *testing.T, q string) int {
				var n int
				check(st.Pool().QueryRow(t.Context(), q).Scan(&n))
				return n
			}})
	})
}

// SendTx in a host's transaction: the host's row and the event commit
// together, and the dispatcher, which polls only hourly, delivers the
// event signed at once after the commit, never before.
func TestSendTxCommitDelivers(t *testing.T) {
	onEachHostDB(t, func(t *testing.T, h hostDB) {
		is := is.New(t)
		ctx := t.Context()
		w := newDeliveryWorldOn(t, h.st, nahook.Config{Delivery: nahook.DeliveryConfig{PollInterval: time.Hour}})
		rc := newReceiver(t, func(int, http.ResponseWriter) {})
		w.endpoint(t, rc)
		tx, exec, commit, _ := h.begin(t)
		check(exec(`CREATE TABLE orders (id TEXT PRIMARY KEY)`))
		check(exec(`INSERT INTO orders (id) VALUES ('ord_1')`))
		in, err := w.nh.Events.SendTx(ctx, tx, nahook.Message{WorkspaceID: w.ws, EventType: "order.created", Payload: []byte(`{"id": "ord_1"}`)})
		is.NoErr(err)
		is.Equal(len(in.Deliveries), 1)
		time.Sleep(300 * time.Millisecond)
		is.Equal(len(rc.requests()), 0) // not before the commit
		is.NoErr(commit())
		waitForWithin(t, 10*time.Second, "the delivery", func() bool { return len(rc.requests()) == 1 })
		got := rc.requests()[0]
		is.NoErr(got.verified)
		is.Equal(got.body, `{"id": "ord_1"}`)
		is.Equal(h.count(t, `SELECT count(*) FROM orders`), 1)
		w.waitStatus(t, in.Deliveries[0].ID, nahook.DeliverySucceeded)
	})
}

// SendTx in a transaction the host rolls back: neither the host's row nor
// the event exists, and nothing is sent, though the dispatcher looks
// often.
func TestSendTxRollbackSendsNothing(t *testing.T) {
	onEachHostDB(t, func(t *testing.T, h hostDB) {
		is := is.New(t)
		ctx := t.Context()
		w := newDeliveryWorldOn(t, h.st, nahook.Config{Delivery: nahook.DeliveryConfig{PollInterval: 5 * time.Millisecond}})
		rc := newReceiver(t, func(int, http.ResponseWriter) {})
		w.endpoint(t, rc)
		tx, exec, _, rollback := h.begin(t)
		check(exec(`CREATE TABLE orders (id TEXT PRIMARY KEY)`))
		in, err := w.nh.Events.SendTx(ctx, tx, nahook.Message{WorkspaceID: w.ws, EventType: "order.created", Payload: []byte(`{}`), IdempotencyKey: "ord_1"})
		is.NoErr(err)
		is.Equal(len(in.Deliveries), 1)
		is.NoErr(rollback())
		time.Sleep(300 * time.Millisecond)
		is.Equal(len(rc.requests()), 0)
		_, err = w.nh.Events.Get(ctx, w.ws, in.Event.ID)
		is.True(errors.Is(err, nahook.ErrNotFound))
		again := must(w.nh.Events.Send(ctx, nahook.Message{WorkspaceID: w.ws, EventType: "order.created", Payload: []byte(`{}`), IdempotencyKey: "ord_1"}))
		is.True(!again.Replayed) // the key was never taken
	})
}

// Send routes as Ingest does, by workspace instead of key: isolated by
// application, by ID or external ID, or broadcast, or straight to one
// endpoint; and idempotent.
func TestSend(t *testing.T) {
	onEachStore(t, func(t *testing.T, st store.Store) {
		is := is.New(t)
		ctx := t.Context()
		w := newDeliveryWorldOn(t, st, nahook.Config{Delivery: nahook.DeliveryConfig{PollInterval: 5 * time.Millisecond}})
		acme := must(w.nh.Applications.Create(ctx, w.ws, nahook.ApplicationInput{Name: "Acme", ExternalID: "acme"}))
		globex := w.customer(t, "Globex")
		own, a, b := newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil)
		w.endpoint(t, own)
		w.endpoint(t, a, acme.ID)
		bEndpoint := w.endpoint(t, b, globex)
		send := func(m nahook.Message) (nahook.Ingested, error) {
			m.WorkspaceID, m.Payload = w.ws, []byte(`{}`)
			if m.EndpointID == "" {
				m.EventType = "order.created"
			}
			return w.nh.Events.Send(ctx, m)
		}
		counts := func(want ...int) {
			t.Helper()
			waitFor(t, "the deliveries", func() bool {
				return len(own.requests()) == want[0] && len(a.requests()) == want[1] && len(b.requests()) == want[2]
			})
		}
		must(send(nahook.Message{}))
		counts(1, 0, 0) // no application: the workspace's own endpoints only
		must(send(nahook.Message{ApplicationExternalID: "acme"}))
		counts(1, 1, 0)
		must(send(nahook.Message{ApplicationID: globex}))
		counts(1, 1, 1)
		must(send(nahook.Message{Broadcast: true}))
		counts(2, 2, 2)
		must(send(nahook.Message{EndpointID: bEndpoint.ID}))
		counts(2, 2, 3) // a named endpoint is explicit
		_, err := send(nahook.Message{EndpointID: bEndpoint.ID, ApplicationID: acme.ID})
		wantErr(t, "another application's endpoint", err, nahook.ErrNotFound, "applicationId")
		_, err = send(nahook.Message{ApplicationExternalID: "initech"})
		wantErr(t, "unknown external ID", err, nahook.ErrNotFound, "applicationExternalId")

		first := must(send(nahook.Message{IdempotencyKey: "k-1"}))
		again := must(send(nahook.Message{IdempotencyKey: "k-1"}))
		is.True(again.Replayed)
		is.Equal(again.Event.ID, first.Event.ID)
		counts(3, 2, 3)
		page := must(w.nh.Deliveries.List(ctx, w.ws, nahook.DeliveryFilter{}, nahook.ListOptions{Limit: 100}))
		is.Equal(len(page.Items), 8) // nothing stored by the refusals and the replay
	})
}

// Send and SendTx refuse a message that names no workspace, both or
// neither of an event type and an endpoint, and SendTx one without a
// transaction, before anything is looked up.
func TestSendRefuses(t *testing.T) {
	w := newDeliveryWorld(t, nahook.Config{})
	ctx := t.Context()
	for _, c := range []struct {
		name  string
		m     nahook.Message
		kind  error
		field string
	}{
		{"no workspace", nahook.Message{EventType: "order.created", Payload: []byte(`{}`)}, nahook.ErrNotFound, "workspaceId"},
		{"unknown workspace", nahook.Message{WorkspaceID: "ws_01kaaaaaaaaaaaaaaaaaaaaaaa", EventType: "order.created", Payload: []byte(`{}`)}, nahook.ErrNotFound, "workspaceId"},
		{"unknown environment", nahook.Message{WorkspaceID: w.ws, EnvironmentID: "env_01kaaaaaaaaaaaaaaaaaaaaaaa", EventType: "order.created", Payload: []byte(`{}`)}, nahook.ErrNotFound, "environmentId"},
		{"both", nahook.Message{WorkspaceID: w.ws, EventType: "order.created", EndpointID: "ep_01kaaaaaaaaaaaaaaaaaaaaaaa", Payload: []byte(`{}`)}, nahook.ErrInvalid, "endpointId"},
		{"neither", nahook.Message{WorkspaceID: w.ws, Payload: []byte(`{}`)}, nahook.ErrInvalid, "eventType"},
		{"unknown event type", nahook.Message{WorkspaceID: w.ws, EventType: "order.shipped", Payload: []byte(`{}`)}, nahook.ErrUnknownEventType, "eventType"},
		{"broadcast for an application", nahook.Message{WorkspaceID: w.ws, EventType: "order.created", ApplicationExternalID: "acme", Broadcast: true, Payload: []byte(`{}`)}, nahook.ErrInvalid, "broadcast"},
		{"not JSON", nahook.Message{WorkspaceID: w.ws, EventType: "order.created", Payload: []byte(`{`)}, nahook.ErrInvalid, "payload"},
	} {
		_, err := w.nh.Events.Send(ctx, c.m)
		wantErr(t, c.name, err, c.kind, c.field)
	}
	_, err := w.nh.Events.SendTx(ctx, nil, nahook.Message{WorkspaceID: w.ws, EventType: "order.created", Payload: []byte(`{}`)})
	wantErr(t, "no transaction", err, nahook.ErrInvalid, "tx")
}
