// Package sqlite is the embedded nahook store: one SQLite database file,
// pure Go (modernc.org/sqlite, no cgo).
//
// Writes go through a single connection whose transactions begin IMMEDIATE:
// SQLite admits one writer at a time anyway, and queueing writers in Go
// rather than in SQLite's busy handler keeps the limit and uniqueness checks
// of a transaction atomic without retries. Reads use a pool of read-only
// connections, which WAL mode lets run beside the writer. Several processes
// may share the file; they wait on each other for up to BusyTimeout.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/nahook/nahook/store"
)

// BusyTimeout is how long a connection waits for another process holding
// the database's write lock before giving up.
const BusyTimeout = 10 * time.Second

// Store is a nahook store on a SQLite database. It is safe for concurrent
// use.
type Store struct {
	w    *sql.DB // the one writer connection
	r    *sql.DB // read-only connections; the writer itself for :memory:
	name string  // the data source name, for Backup's own connection
	// hooks hears an in-memory store's commits, for WatchDeliveries.
	hooks *commitHooks
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the SQLite database at path, applies any
// migrations it lacks (Migrate), and returns the store, as the Postgres
// store's Open does with a URL. path is a file name or a SQLite URI
// ("file:nahook.db?mode=rwc"); ":memory:" (or any in-memory URI) gives a
// private database that lives as long as the store, for tests and
// examples. Close closes the database.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: Open needs a database path")
	}
	s, err := open(path)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func open(path string) (*Store, error) {
	// busy_timeout comes first so that switching to WAL, itself a write,
	// waits for other processes too. synchronous(FULL) makes a commit
	// durable across power loss, not only across a crash of the process.
	params := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)", BusyTimeout.Milliseconds())
	name := path
	if !strings.HasPrefix(name, "file:") {
		name = "file:" + escapePath(name)
	}
	if strings.Contains(name, "?") {
		name += "&" + params
	} else {
		name += "?" + params
	}
	if path == ":memory:" || strings.HasPrefix(path, "file::memory:") || strings.Contains(path, "mode=memory") {
		// Every connection to an in-memory database is a database of its
		// own, so the store has exactly one, which it keeps for life.
		db, err := sql.Open("sqlite", name+"&_txlock=immediate")
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		s := &Store{w: db, r: db, hooks: &commitHooks{}}
		if err := s.hooks.install(db); err != nil {
			db.Close()
			return nil, err
		}
		return s, nil
	}
	w, err := sql.Open("sqlite", name+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", name+"&_query_only=1")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	r.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	return &Store{w: w, r: r, name: name}, nil
}

// escapePath makes a file name safe inside a SQLite URI, where "?" starts
// the parameters, "#" a fragment and "%" an escape.
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// Close closes the database.
func (s *Store) Close() error {
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// write runs fn in an IMMEDIATE transaction on the writer connection, then
// advances the routing version for workspace ws, and commits if both
// succeed.
func (s *Store) write(ctx context.Context, ws store.WorkspaceID, fn func(tx *sql.Tx) error) error {
	return s.transact(ctx, func(tx *sql.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return bump(ctx, tx, ws)
	})
}

// transact runs fn in an IMMEDIATE transaction on the writer connection and
// commits it if fn succeeds.
func (s *Store) transact(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return txError(ctx, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return txError(ctx, err)
	}
	return txError(ctx, tx.Commit())
}

// read runs fn in a read transaction, so that its queries see one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: s.r != s.w})
	if err != nil {
		return txError(ctx, err)
	}
	defer tx.Rollback()
	return txError(ctx, fn(tx))
}

// txError maps err, and reports a transaction that database/sql rolled back
// because ctx ended as the context's error, which callers can test for,
// rather than as sql.ErrTxDone.
func txError(ctx context.Context, err error) error {
	if errors.Is(err, sql.ErrTxDone) && ctx.Err() != nil {
		err = ctx.Err()
	}
	return mapError(err)
}

// querier is what *sql.DB and *sql.Tx share, so reads can run in either.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// execer is a querier that writes too: a transaction, the store's or a
// host's.
type execer interface {
	querier
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// uniques names, for each unique constraint (as SQLite reports it: the
// constrained columns), the rule it enforces.
var uniques = map[string]store.Unique{
	"environments.workspace_id, environments.slug":        store.UniqueEnvironmentSlug,
	"applications.workspace_id, applications.external_id": store.UniqueApplicationExternalID,
	"event_types.workspace_id, event_types.name":          store.UniqueEventTypeName,
	"api_keys.hash": store.UniqueAPIKeyHash,
	"events.environment_id, events.idempotency_key": store.UniqueIdempotencyKey,
	"portal_sessions.hash":                          store.UniquePortalSessionHash,
}

// mapError is the one place SQLite errors become store errors: a unique
// violation is ErrConflict for the rule its constraint enforces, a
// foreign-key violation ErrNotFound, no rows ErrNotFound, a database that
// cannot be used now ErrUnavailable; the driver's error is kept as the
// cause. Any other error is marked as the store's, once. Errors it has
// mapped already pass through unchanged.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*store.Error](err); ok {
		return err
	}
	if _, ok := errors.AsType[*driverError](err); ok {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.NoRow(err)
	}
	if e, ok := errors.AsType[*sqlite.Error](err); ok {
		switch e.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			// The message ends "…constraint failed: table.col, table.col (2067)".
			msg := e.Error()
			cols := msg[strings.LastIndex(msg, "constraint failed: ")+len("constraint failed: "):]
			cols, _, _ = strings.Cut(cols, " (")
			return store.Duplicate(uniques[cols], err) // UniqueUnknown when not listed
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return store.BrokenReference(err) // SQLite does not say which key
		}
		// The primary result code, without the extended part.
		switch e.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
			sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_PROTOCOL:
			// Another process holding the database past BusyTimeout, or
			// a disk that fails or is full: nothing the caller did wrong,
			// and it may pass.
			return store.Unavailable(err)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return store.Unavailable(err)
	}
	return &driverError{err}
}

// driverError is an error of the database or the driver that is no broken
// rule: an I/O error, a cancelled context, a closed store.
type driverError struct{ err error }

func (e *driverError) Error() string { return "sqlite: " + e.err.Error() }
func (e *driverError) Unwrap() error { return e.err }

// ms converts a time to what the database keeps: milliseconds since the
// Unix epoch.
func ms(t time.Time) int64 { return t.UnixMilli() }

// utc converts milliseconds since the Unix epoch back to a UTC time.
func utc(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// null turns the empty string, which the store types use for "none", into
// SQL NULL.
func null[T ~string](s T) any {
	if s == "" {
		return nil
	}
	return string(s)
}

// exists reports whether a query returning one row returns one.
func exists(ctx context.Context, q querier, query string, args ...any) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// requireWorkspace returns ErrNotFound (field "workspaceId") unless the
// workspace exists.
func requireWorkspace(ctx context.Context, q querier, ws store.WorkspaceID) error {
	ok, err := exists(ctx, q, `SELECT 1 FROM workspaces WHERE id = ?`, ws)
	if err == nil && !ok {
		err = store.Missing("workspaceId", ws)
	}
	return err
}

// requireEnvironment returns ErrNotFound naming field unless the
// environment is in the workspace.
func requireEnvironment(ctx context.Context, q querier, field string, ws store.WorkspaceID, env store.EnvironmentID) error {
	ok, err := exists(ctx, q, `SELECT 1 FROM environments WHERE workspace_id = ? AND id = ?`, ws, env)
	if err == nil && !ok {
		err = store.Missing(field, env)
	}
	return err
}

// requireApplication returns ErrNotFound naming field unless the
// application is in the workspace.
func requireApplication(ctx context.Context, q querier, field string, ws store.WorkspaceID, app store.ApplicationID) error {
	ok, err := exists(ctx, q, `SELECT 1 FROM applications WHERE workspace_id = ? AND id = ?`, ws, app)
	if err == nil && !ok {
		err = store.Missing(field, app)
	}
	return err
}

// affected turns an UPDATE or DELETE that touched no row into ErrNotFound
// for the resource id identifies.
func affected[ID ~string](res sql.Result, id ID) error {
	n, err := res.RowsAffected()
	if err == nil && n == 0 {
		err = store.Missing("", id)
	}
	return err
}

// notFound turns sql.ErrNoRows into ErrNotFound for the resource id
// identifies.
func notFound[ID ~string](err error, id ID) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.Missing("", id)
	}
	return err
}
