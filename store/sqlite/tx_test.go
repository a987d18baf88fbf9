package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
	"github.com/nahook/nahook/store/sqlite"
)

// world makes a workspace with an endpoint subscribed to "order.created"
// in st, and returns an event of that type with a delivery to it.
func world(t *testing.T, st *sqlite.Store) (store.Event, []store.Delivery) {
	t.Helper()
	ctx := t.Context()
	nh, err := nahook.New(st, nahook.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nh.Close() })
	ws, err := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	env, err := nh.Environments.Default(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"}); err != nil {
		t.Fatal(err)
	}
	ep, err := nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: "https://a.example/hook", EventTypes: []string{"order.created"}})
	if err != nil {
		t.Fatal(err)
	}
	ev := store.Event{ID: store.EventID(typeid.New("msg")), WorkspaceID: ws.ID, EnvironmentID: env.ID, EventType: "order.created",
		Payload: []byte(`{}`), CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	return ev, []store.Delivery{{ID: store.DeliveryID(typeid.New("dlv")), EndpointID: ep.ID}}
}

// watch runs WatchDeliveries until the test ends, and returns the channel
// its calls arrive on, after the first.
func watch(t *testing.T, st *sqlite.Store) <-chan struct{} {
	t.Helper()
	added := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		st.WatchDeliveries(ctx, func() {
			select {
			case added <- struct{}{}:
			default:
			}
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-added:
	case <-time.After(5 * time.Second):
		t.Fatal("WatchDeliveries did not call back once listening")
	}
	return added
}

// quiet fails the test if added is called within a while.
func quiet(t *testing.T, added <-chan struct{}) {
	t.Helper()
	select {
	case <-added:
		t.Fatal("WatchDeliveries called back before the commit")
	case <-time.After(200 * time.Millisecond):
	}
}

// called fails the test unless added is called soon.
func called(t *testing.T, added <-chan struct{}) {
	t.Helper()
	select {
	case <-added:
	case <-time.After(5 * time.Second):
		t.Fatal("WatchDeliveries did not call back after the commit")
	}
}

// In memory, the host's transaction is on the store's one connection,
// DB(): it commits what it sent and the commit hook tells the watchers; a
// rollback leaves nothing.
func TestTxInMemory(t *testing.T) {
	is := is.New(t)
	ctx := t.Context()
	st, err := sqlite.Open(ctx, ":memory:")
	is.NoErr(err)
	defer st.Close()
	ev, ds := world(t, st)
	added := watch(t, st)

	tx, err := st.DB().BeginTx(ctx, nil)
	is.NoErr(err)
	_, stored, replayed, err := sqlite.Tx(tx).Ingest(ctx, ev, ds)
	is.NoErr(err)
	is.True(!replayed)
	is.Equal(len(stored), 1)
	quiet(t, added)
	is.NoErr(tx.Commit())
	called(t, added)
	got, err := st.GetEvent(ctx, ev.WorkspaceID, ev.ID)
	is.NoErr(err)
	is.Equal(got, ev)

	tx, err = st.DB().BeginTx(ctx, nil)
	is.NoErr(err)
	other := ev
	other.ID = store.EventID(typeid.New("msg"))
	_, _, _, err = sqlite.Tx(tx).Ingest(ctx, other, []store.Delivery{{ID: store.DeliveryID(typeid.New("dlv")), EndpointID: ds[0].EndpointID}})
	is.NoErr(err)
	is.NoErr(tx.Rollback())
	_, err = st.GetEvent(ctx, ev.WorkspaceID, other.ID)
	is.True(errors.Is(err, store.ErrNotFound))
}

// A host's own *sql.DB on the store's file, opened as sqlite.Tx advises,
// works too: the store sees nothing before the commit, and the watcher
// hears the commit, made on a connection not the store's.
func TestTxOwnConnection(t *testing.T) {
	is := is.New(t)
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "nahook.db")
	st, err := sqlite.Open(ctx, path)
	is.NoErr(err)
	defer st.Close()
	ev, ds := world(t, st)
	added := watch(t, st)

	host, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
	is.NoErr(err)
	defer host.Close()
	tx, err := host.BeginTx(ctx, nil)
	is.NoErr(err)
	defer tx.Rollback()
	_, stored, _, err := sqlite.Tx(tx).Ingest(ctx, ev, ds)
	is.NoErr(err)
	is.Equal(len(stored), 1)
	_, err = st.GetEvent(ctx, ev.WorkspaceID, ev.ID)
	is.True(errors.Is(err, store.ErrNotFound)) // not before the commit
	due, err := st.DueEndpoints(ctx, ev.CreatedAt, 10, 10)
	is.NoErr(err)
	is.Equal(len(due), 0)
	quiet(t, added)
	is.NoErr(tx.Commit())
	called(t, added)
	due, err = st.DueEndpoints(ctx, ev.CreatedAt, 10, 10)
	is.NoErr(err)
	is.Equal(len(due), 1)
}
