package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"modernc.org/sqlite"

	"github.com/nahook/nahook/store"
)

// Tx returns the store's handle on tx, a transaction the host program has
// open, for nahook's EventService.SendTx: the event and its deliveries are
// written in tx, and commit or roll back with the host's own writes. The
// handle never commits nor rolls back tx.
//
// tx must be on the store's database file. SQLite admits one writer at a
// time, and the first send in tx takes the write lock until tx ends, so
// what a host should do is one of:
//
//   - begin tx on the store's own writer, DB(): it begins IMMEDIATE, so it
//     holds the lock from its first statement and never fails to upgrade;
//     nahook's own writes (the dispatcher's claims, other sends, API
//     calls) queue behind it, in Go, until it ends. Do not make them from
//     the goroutine that holds tx: they would wait for themselves. For an
//     in-memory database, this is the only way: the store's one
//     connection is the database, so while tx is open every nahook call
//     that reads the store waits for it (a send in tx that needs the
//     router reloaded reads through tx itself, store.RoutingTx).
//   - or begin tx on a *sql.DB of the host's own on the same file, opened
//     with "_txlock=immediate" and a busy_timeout (and WAL, which the
//     store sets on the file): nahook's writes then wait for tx in
//     SQLite's busy handler, for up to BusyTimeout.
//
// Nothing tx writes is visible to another connection before it commits,
// so no dispatcher can claim it early; after the commit, WatchDeliveries
// tells the dispatchers within about DeliveryPollInterval.
func Tx(tx *sql.Tx) store.Tx { return hostTx{tx} }

// hostTx is the store.Tx of a *sql.Tx.
type hostTx struct{ tx *sql.Tx }

// Ingest implements store.Tx with the statements Store.Ingest runs.
func (t hostTx) Ingest(ctx context.Context, ev store.Event, ds []store.Delivery) (store.Event, []store.Delivery, bool, error) {
	stored, deliveries, replayed, err := ingest(ctx, t.tx, ev, ds)
	if err != nil {
		return store.Event{}, nil, false, txError(ctx, err)
	}
	return stored, deliveries, replayed, nil
}

// GetEventByIdempotencyKey implements store.Tx.
func (t hostTx) GetEventByIdempotencyKey(ctx context.Context, ws store.WorkspaceID, env store.EnvironmentID, key string) (store.Event, []store.Delivery, error) {
	ev, ds, err := eventByKey(ctx, t.tx, ws, env, key)
	return ev, ds, txError(ctx, err)
}

// GetApplication implements store.Tx.
func (t hostTx) GetApplication(ctx context.Context, ws store.WorkspaceID, id store.ApplicationID) (store.Application, error) {
	return getApplication(ctx, t.tx, ws, id)
}

// GetApplicationByExternalID implements store.Tx.
func (t hostTx) GetApplicationByExternalID(ctx context.Context, ws store.WorkspaceID, externalID string) (store.Application, error) {
	return getApplicationByExternalID(ctx, t.tx, ws, externalID)
}

// LoadRouting implements store.RoutingTx: in memory, the host's
// transaction holds the store's one connection, so a send in it that
// needs the router reloaded reads the routing data through it.
func (t hostTx) LoadRouting(ctx context.Context, ws []store.WorkspaceID) (store.Routing, error) {
	r, err := loadRoutingIn(ctx, t.tx, ws)
	if err != nil {
		return store.Routing{}, txError(ctx, err)
	}
	return r, nil
}

var _ store.RoutingTx = hostTx{}

// DB returns the store's writer: one connection, whose transactions begin
// IMMEDIATE. A host program begins on it the transactions it sends events
// in (see Tx). It is the store's: do not close it, nor change its pool
// settings.
func (s *Store) DB() *sql.DB { return s.w }

// DeliveryPollInterval is how often WatchDeliveries looks whether another
// connection committed to the database file.
const DeliveryPollInterval = 50 * time.Millisecond

// WatchDeliveries implements store.DeliveryNotifier. On a database file,
// it reads PRAGMA data_version on a connection of its own every
// DeliveryPollInterval: the value changes when any other connection, the
// store's writer, a host's or another process's, commits to the file,
// and only when it commits; a read of a page of shared memory, with no
// I/O. In-memory, where the store's one connection is the whole database,
// it hears that connection's commits, from a commit hook, at once; a
// dispatcher woken so needs that connection to look, and so looks only
// after the commit ends. Either way it may call added for commits that
// added no delivery.
func (s *Store) WatchDeliveries(ctx context.Context, added func()) error {
	if s.name == "" {
		return s.hooks.watch(ctx, added)
	}
	db, err := sql.Open("sqlite", s.name+"&_query_only=1")
	if err != nil {
		return fmt.Errorf("sqlite: delivery watcher: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: delivery watcher: %w", err)
	}
	defer conn.Close()
	version := func() (int64, error) {
		var v int64
		err := conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v)
		return v, err
	}
	last, err := version()
	if err != nil {
		return fmt.Errorf("sqlite: delivery watcher: %w", err)
	}
	added()
	t := time.NewTicker(DeliveryPollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		v, err := version()
		if err != nil {
			return fmt.Errorf("sqlite: delivery watcher: %w", err)
		}
		if v != last {
			last = v
			added()
		}
	}
}

var _ store.DeliveryNotifier = (*Store)(nil)

// commitHooks fans the commits of an in-memory store's one connection out
// to its watchers.
type commitHooks struct {
	mu       sync.Mutex
	next     int
	watchers map[int]func()
}

// install registers the hook on db's one connection, which the store
// keeps for life.
func (h *commitHooks) install(db *sql.DB) error {
	conn, err := db.Conn(context.Background())
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		hr, ok := dc.(sqlite.HookRegisterer)
		if !ok {
			return fmt.Errorf("sqlite: driver connection %T has no commit hook", dc)
		}
		hr.RegisterCommitHook(h.committed)
		return nil
	})
}

// committed runs inside SQLite's commit: it only signals, never blocks,
// and lets the commit go on (0).
func (h *commitHooks) committed() int32 {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, fn := range h.watchers {
		fn()
	}
	return 0
}

// watch calls added now and on every commit until ctx ends.
func (h *commitHooks) watch(ctx context.Context, added func()) error {
	h.mu.Lock()
	if h.watchers == nil {
		h.watchers = map[int]func(){}
	}
	id := h.next
	h.next++
	h.watchers[id] = added
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.watchers, id)
		h.mu.Unlock()
	}()
	added()
	<-ctx.Done()
	return ctx.Err()
}
