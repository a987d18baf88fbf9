package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/matryer/is"

	"github.com/nahook/nahook/internal/pgtest"
	"github.com/nahook/nahook/store"
	"github.com/nahook/nahook/store/postgres"
	"github.com/nahook/nahook/storetest"
)

// open returns a migrated store on the database at url, closed when the
// test ends.
func open(t *testing.T, url string) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// txStore is the store with host transactions begun on its pool, as a
// host program would, READ COMMITTED as postgres.Tx advises: under
// REPEATABLE READ, a key committed by a concurrent transaction is a
// serialization failure, which the host retries.
type txStore struct{ *postgres.Store }

func (s txStore) BeginHostTx(ctx context.Context) (storetest.HostTx, error) {
	tx, err := s.Pool().BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return storetest.HostTx{}, err
	}
	return storetest.HostTx{Tx: postgres.Tx(tx), Commit: tx.Commit, Rollback: tx.Rollback}, nil
}

func TestConformance(t *testing.T) {
	pgtest.URL(t) // skip, or fail in CI, once rather than in every case
	storetest.Run(t, func(t *testing.T) store.Store { return txStore{open(t, pgtest.Schema(t))} })
}

func TestConformanceShared(t *testing.T) {
	pgtest.URL(t)
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		url := pgtest.Schema(t)
		return txStore{open(t, url)}, txStore{open(t, url)}
	})
}

// Stores whose sessions default to REPEATABLE READ still pass the
// concurrency cases: the store sets its own isolation, and retries what
// Postgres aborts to serialize.
func TestConformanceRepeatableReadDefault(t *testing.T) {
	pgtest.URL(t)
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		u := pgtest.Schema(t) + "&default_transaction_isolation=repeatable%20read"
		return txStore{open(t, u)}, txStore{open(t, u)}
	})
}

// TestMigrateProcesses starts several processes that migrate one empty
// schema at the same instant: all must succeed and leave one schema, each
// migration applied once.
func TestMigrateProcesses(t *testing.T) {
	url := pgtest.Schema(t)
	const processes = 3
	at := time.Now().Add(time.Second).UnixNano()
	cmds := make([]*exec.Cmd, processes)
	for i := range cmds {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestMigrateHelper$", "-test.count=1")
		cmds[i].Env = append(os.Environ(), "NAHOOK_MIGRATE_URL="+url, fmt.Sprint("NAHOOK_MIGRATE_AT=", at))
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v", i, err)
		}
	}

	is := is.New(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	is.NoErr(err)
	defer conn.Close(ctx)
	var versions, tables int
	is.NoErr(conn.QueryRow(ctx, `SELECT count(*) FROM nahook_migrations`).Scan(&versions))
	is.NoErr(conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&tables))
	all, creates, err := migrationFiles()
	is.NoErr(err)
	is.Equal(versions, all)     // each migration recorded once
	is.Equal(tables, creates+1) // each table of the migrations, and nahook_migrations, once

	st := open(t, url) // migrating an up-to-date schema changes nothing
	is.NoErr(st.Migrate(ctx))
	is.NoErr(conn.QueryRow(ctx, `SELECT count(*) FROM nahook_migrations`).Scan(&versions))
	is.Equal(versions, all)
}

// TestMigrateHelper is one of TestMigrateProcesses's processes; run on its
// own, it does nothing.
func TestMigrateHelper(t *testing.T) {
	url := os.Getenv("NAHOOK_MIGRATE_URL")
	if url == "" {
		return
	}
	at, err := strconv.ParseInt(os.Getenv("NAHOOK_MIGRATE_AT"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(time.Unix(0, at)))
	st, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
}

// migrationFiles counts the migration files the store embeds and the
// tables they create.
func migrationFiles() (files, tables int, err error) {
	entries, err := os.ReadDir("migrations")
	if err != nil {
		return 0, 0, err
	}
	for _, e := range entries {
		b, err := os.ReadFile("migrations/" + e.Name())
		if err != nil {
			return 0, 0, err
		}
		tables += strings.Count(string(b), "CREATE TABLE ")
	}
	return len(entries), tables, nil
}

// TestMigrationsInStep checks that the SQLite and Postgres stores have the
// same migrations, so that version N means the same schema in both.
func TestMigrationsInStep(t *testing.T) {
	is := is.New(t)
	pg, err := os.ReadDir("migrations")
	is.NoErr(err)
	lite, err := os.ReadDir("../sqlite/migrations")
	is.NoErr(err)
	var a, b []string
	for _, e := range pg {
		a = append(a, e.Name())
	}
	for _, e := range lite {
		b = append(b, e.Name())
	}
	is.Equal(a, b) // same versions under the same names
}

// A database that cannot be reached is ErrUnavailable, a condition a
// caller may wait out, and never a broken rule. No server is needed:
// nothing listens on port 1 of the loopback.
func TestUnreachableIsUnavailable(t *testing.T) {
	const url = "postgres://nahook@127.0.0.1:1/nahook?sslmode=disable"
	ctx := context.Background()
	unavailable := func(is *is.I, err error) {
		is.Helper()
		is.True(errors.Is(err, store.ErrUnavailable))
		is.True(!errors.Is(err, store.ErrNotFound))
		e, ok := errors.AsType[*store.Error](err)
		is.True(ok)
		is.True(!strings.Contains(e.Message, "127.0.0.1")) // the message is for users; the cause, for logs
		is.True(strings.Contains(err.Error(), "127.0.0.1"))
	}
	t.Run("Open", func(t *testing.T) {
		is := is.New(t)
		st, err := postgres.Open(ctx, url) // migrating needs the database
		is.True(st == nil)
		unavailable(is, err)
	})
	t.Run("Call", func(t *testing.T) {
		is := is.New(t)
		pool, err := pgxpool.New(ctx, url) // no I/O yet
		is.NoErr(err)
		defer pool.Close()
		st := postgres.New(pool)
		_, err = st.GetWorkspace(ctx, "ws_01kaaaaaaaaaaaaaaaaaaaaaaa")
		unavailable(is, err)
		unavailable(is, st.Migrate(ctx))
	})
}

// A schema that another nahook has migrated further, or another program
// has put a nahook_migrations table in, is refused rather than changed.
func TestMigrateRefusesUnknownSchema(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	url := pgtest.Schema(t)
	open(t, url)
	conn, err := pgx.Connect(ctx, url)
	is.NoErr(err)
	defer conn.Close(ctx)
	all, _, err := migrationFiles()
	is.NoErr(err)
	_, err = conn.Exec(ctx, `INSERT INTO nahook_migrations (version, name) VALUES ($1, 'from_the_future.sql')`, all+1)
	is.NoErr(err)
	st, err := postgres.Open(ctx, url)
	is.True(st == nil)
	is.True(err != nil)
	is.True(strings.Contains(err.Error(), "newer than this nahook knows")) // says why

	_, err = conn.Exec(ctx, `DELETE FROM nahook_migrations WHERE version > 1`)
	is.NoErr(err)
	_, err = conn.Exec(ctx, `UPDATE nahook_migrations SET name = 'someone_else.sql'`)
	is.NoErr(err)
	_, err = postgres.Open(ctx, url)
	is.True(err != nil)
	is.True(strings.Contains(err.Error(), `as "someone_else.sql"`))
}
