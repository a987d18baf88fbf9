// Package postgres is the nahook store for PostgreSQL, for host programs
// that run several processes against one database. It uses pgx (pgxpool).
//
// The rules that need atomicity hold across processes: the environment
// limit serialises on a lock of the workspace row, uniqueness rests on
// named constraints, and references and cascades on composite foreign keys.
// Tables live in the connection's search_path, so a host can keep them in a
// schema of their own ("?search_path=nahook" in the URL).
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nahook/nahook/internal/migrate"
	"github.com/nahook/nahook/store"
)

// Store is a nahook store on a PostgreSQL database. It is safe for
// concurrent use.
type Store struct {
	pool  *pgxpool.Pool
	owned bool // whether Close closes the pool
}

var _ store.Store = (*Store)(nil)

// New returns a store on pool, a pool the host program already has. Like
// River's drivers it does no I/O: call Migrate before first use. Close
// leaves the pool open: it is the caller's.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool}
}

// Pool returns the store's pool: the host's, given to New, or the one
// Open made. A host program begins on it the transactions it sends events
// in (see Tx), which then see the store's schema. It is the store's when
// Open made it: do not close it.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// DefaultMaxConns is the size of the pool Open makes when the URL does not
// set pool_max_conns: ingest requests, the dispatcher's claims and records,
// and the router's reloads each hold a connection for a round trip or
// two, and pgx's own default (4 on a small machine) queues them behind one
// another.
const DefaultMaxConns = 20

// DefaultConnectTimeout bounds each connection attempt Open's pool makes,
// unless the URL's connect_timeout says otherwise.
const DefaultConnectTimeout = 5 * time.Second

// Open connects to the database at url
// ("postgres://user@host:5432/db?search_path=nahook") with a pool of its
// own, applies any migrations the schema lacks (Migrate), and returns the
// store, as the SQLite store's Open does with a file. A database that
// cannot be reached is ErrUnavailable. Close closes the pool. The pool has
// DefaultMaxConns connections unless the URL's pool_max_conns says
// otherwise.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns=") {
		cfg.MaxConns = DefaultMaxConns
	}
	if !strings.Contains(url, "connect_timeout=") {
		// A database host that does not answer fails a call after this,
		// as ErrUnavailable, rather than holding it until its caller
		// gives up.
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool, owned: true}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the pool if Open made it.
func (s *Store) Close() error {
	if s.owned {
		s.pool.Close()
	}
	return nil
}

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrate brings the schema up to date; Open calls it, and calling it
// again changes nothing. It holds an advisory lock for the whole
// transaction, so any number of processes starting at once apply each
// migration exactly once, and a failed migration leaves the schema as it
// was. Version numbers are in step with the SQLite store's.
func (s *Store) Migrate(ctx context.Context) error {
	all, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return migrate.Run(ctx, all, func(fn func(migrate.Tx) error) error {
		return s.transact(ctx, func(tx pgx.Tx) error { return fn(migrationTx{tx}) })
	})
}

// migrationLock is the first key of the advisory lock Migrate holds; the
// second is a hash of the schema, so migrations of different schemas in one
// database do not wait for each other.
const migrationLock = 0x6e61686f // "naho"

// migrationTx is Postgres's dialect of the statements migrate.Run makes.
type migrationTx struct{ tx pgx.Tx }

func (m migrationTx) Lock(ctx context.Context) error {
	_, err := m.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))`, migrationLock)
	return err
}

func (m migrationTx) CreateTable(ctx context.Context) error {
	_, err := m.tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS nahook_migrations (
		version    integer     PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`)
	return err
}

func (m migrationTx) Applied(ctx context.Context) ([]migrate.Migration, error) {
	rows, _ := m.tx.Query(ctx, `SELECT version, name FROM nahook_migrations ORDER BY version`)
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (migrate.Migration, error) {
		var r migrate.Migration
		err := row.Scan(&r.Version, &r.Name)
		return r, err
	})
}

func (m migrationTx) Exec(ctx context.Context, sql string) error {
	_, err := m.tx.Exec(ctx, sql)
	return err
}

func (m migrationTx) Record(ctx context.Context, mg migrate.Migration) error {
	_, err := m.tx.Exec(ctx, `INSERT INTO nahook_migrations (version, name) VALUES ($1, $2)`, mg.Version, mg.Name)
	return err
}

// write runs fn in a transaction, then advances the routing version for
// workspace ws, and commits if both succeed.
func (s *Store) write(ctx context.Context, ws store.WorkspaceID, fn func(tx pgx.Tx) error) error {
	return s.transact(ctx, func(tx pgx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return bump(ctx, tx, ws)
	})
}

// transactTries bounds the tries of a transaction that Postgres aborts to
// resolve a serialization failure or a deadlock (cascading deletes racing
// each other can meet one); each try starts afresh.
const transactTries = 4

// transact runs fn in a READ COMMITTED transaction, whatever the server's
// default, and commits it if fn succeeds. A serialization failure or a
// deadlock is retried, fn and all.
func (s *Store) transact(ctx context.Context, fn func(tx pgx.Tx) error) error {
	var err error
	for try := 1; ; try++ {
		err = s.try(ctx, fn)
		if try == transactTries || !retryable(err) || ctx.Err() != nil {
			return mapError(err)
		}
	}
}

// statement runs fn, which makes a single statement through q, outside an
// explicit transaction: one round trip and one commit, which the hot paths
// (ingest, claim) need. A serialization failure or deadlock is retried as
// transact retries; under the server's default isolation a single
// statement can meet either.
func (s *Store) statement(ctx context.Context, fn func(q querier) error) error {
	var err error
	for try := 1; ; try++ {
		err = fn(s.pool)
		if try == transactTries || !retryable(err) || ctx.Err() != nil {
			return mapError(err)
		}
	}
}

func (s *Store) try(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// retryable reports whether err is Postgres giving up a transaction that
// may well succeed if tried again: serialization_failure or
// deadlock_detected.
func retryable(err error) bool {
	e, ok := errors.AsType[*pgconn.PgError](err)
	return ok && (e.Code == "40001" || e.Code == "40P01")
}

// read runs fn in a read-only REPEATABLE READ transaction, so that its
// queries see one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return mapError(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	return mapError(fn(tx))
}

// querier is what the pool and a transaction share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// uniques names, for each unique constraint or index, the rule it
// enforces.
var uniques = map[string]store.Unique{
	"environments_slug_key":        store.UniqueEnvironmentSlug,
	"applications_external_id_key": store.UniqueApplicationExternalID,
	"event_types_name_key":         store.UniqueEventTypeName,
	"api_keys_hash_key":            store.UniqueAPIKeyHash,
	"events_idempotency_key":       store.UniqueIdempotencyKey,
	"portal_sessions_hash_key":     store.UniquePortalSessionHash,
}

// foreignKeys makes, for each foreign key, the error of a write that
// refers through it to a missing resource: the field that referred, and
// the resource by the type of its ID.
var foreignKeys = map[string]func(cause error) *store.Error{
	"environments_workspace_fkey":            dangling[store.WorkspaceID]("workspaceId"),
	"applications_workspace_fkey":            dangling[store.WorkspaceID]("workspaceId"),
	"event_types_workspace_fkey":             dangling[store.WorkspaceID]("workspaceId"),
	"endpoints_workspace_fkey":               dangling[store.WorkspaceID]("workspaceId"),
	"api_keys_workspace_fkey":                dangling[store.WorkspaceID]("workspaceId"),
	"endpoints_environment_fkey":             dangling[store.EnvironmentID]("environmentId"),
	"api_keys_environment_fkey":              dangling[store.EnvironmentID]("environmentId"),
	"event_type_visibility_environment_fkey": dangling[store.EnvironmentID]("environmentId"),
	"event_type_visibility_event_type_fkey":  dangling[store.EventTypeID]("eventTypeId"),
	"endpoints_application_fkey":             dangling[store.ApplicationID]("applicationId"),
	"endpoint_subscriptions_event_type_fkey": dangling[store.EventTypeID]("eventTypes"),
	"endpoint_subscriptions_endpoint_fkey":   dangling[store.EndpointID](""),
	"events_environment_fkey":                dangling[store.EnvironmentID]("environmentId"),
	"deliveries_endpoint_fkey":               dangling[store.EndpointID]("endpointId"),
	"deliveries_event_fkey":                  dangling[store.EventID]("eventId"),
	"endpoint_keys_endpoint_fkey":            dangling[store.EndpointID](""),
	"delivery_attempts_delivery_fkey":        dangling[store.DeliveryID](""),
	"portal_sessions_workspace_fkey":         dangling[store.WorkspaceID]("workspaceId"),
	"portal_sessions_application_fkey":       dangling[store.ApplicationID]("applicationId"),
	"portal_sessions_environment_fkey":       dangling[store.EnvironmentID]("environmentId"),
}

// dangling returns store.Dangling for ID and field, as foreignKeys keeps
// it.
func dangling[ID ~string](field string) func(cause error) *store.Error {
	return func(cause error) *store.Error { return store.Dangling[ID](field, cause) }
}

// mapError is the one place Postgres errors become store errors: a unique
// violation (23505) is ErrConflict for the rule its constraint enforces, a
// foreign-key violation (23503) ErrNotFound naming the field that referred
// to the missing resource, no rows ErrNotFound, text Postgres cannot store
// ErrInvalid, a database that cannot be reached ErrUnavailable; the
// driver's error is kept as the cause. Any other error is marked as the
// store's, once. Errors it has mapped already pass through unchanged.
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
	if errors.Is(err, pgx.ErrNoRows) {
		return store.NoRow(err)
	}
	if e, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch e.Code {
		case "23505":
			return store.Duplicate(uniques[e.ConstraintName], err) // UniqueUnknown when not listed
		case "22021", "22P05":
			return store.Unstorable(err) // a NUL character
		case "23503":
			if dangling, ok := foreignKeys[e.ConstraintName]; ok {
				return dangling(err)
			}
			return store.BrokenReference(err)
		}
	}
	if unreachable(err) {
		return store.Unavailable(err)
	}
	return &driverError{err}
}

// unreachable reports whether err says the database could not be reached
// or did not answer in time, rather than that a statement broke a rule: a
// failed connection, a network error or a connection cut short, a deadline,
// or the server refusing work (connection exceptions, class 08; lack of
// resources such as connections or disk, 53; shutting down or cancelling,
// 57).
func unreachable(err error) bool {
	if e, ok := errors.AsType[*pgconn.PgError](err); ok {
		class := e.Code[:min(2, len(e.Code))]
		return class == "08" || class == "53" || class == "57"
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// driverError is an error of the database or the driver that is no broken
// rule: a lost connection, a cancelled context, a closed pool.
type driverError struct{ err error }

func (e *driverError) Error() string { return "postgres: " + e.err.Error() }
func (e *driverError) Unwrap() error { return e.err }

// requireEnvironment returns ErrNotFound naming field unless the
// environment is in the workspace.
func requireEnvironment(ctx context.Context, q querier, field string, ws store.WorkspaceID, env store.EnvironmentID) error {
	return require(ctx, q, field, env, `SELECT 1 FROM environments WHERE workspace_id = $1 AND id = $2`, ws, env)
}

// applicationExists finds an application of a workspace.
const applicationExists = `SELECT 1 FROM applications WHERE workspace_id = $1 AND id = $2`

// requireApplication returns ErrNotFound naming field unless the
// application is in the workspace.
func requireApplication(ctx context.Context, q querier, field string, ws store.WorkspaceID, app store.ApplicationID) error {
	return require(ctx, q, field, app, applicationExists, ws, app)
}

// require returns ErrNotFound (naming field) for the resource id
// identifies unless query returns a row.
func require[ID ~string](ctx context.Context, q querier, field string, id ID, query string, args ...any) error {
	var one int
	err := q.QueryRow(ctx, query, args...).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Missing(field, id)
	}
	return err
}

// affected turns an UPDATE or DELETE that touched no row into ErrNotFound
// for the resource id identifies.
func affected[ID ~string](tag pgconn.CommandTag, err error, id ID) error {
	if err == nil && tag.RowsAffected() == 0 {
		err = store.Missing("", id)
	}
	return err
}

// notFound turns pgx.ErrNoRows into ErrNotFound for the resource id
// identifies.
func notFound[ID ~string](err error, id ID) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Missing("", id)
	}
	return err
}

// null turns the empty string, which the store types use for "none", into
// SQL NULL.
func null[T ~string](s T) any {
	if s == "" {
		return nil
	}
	return string(s)
}

// utc returns t in UTC: pgx reads timestamptz in the local time zone.
func utc(t time.Time) time.Time { return t.UTC() }
