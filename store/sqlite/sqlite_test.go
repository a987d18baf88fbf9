package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook/store"
	"github.com/nahook/nahook/store/sqlite"
	"github.com/nahook/nahook/storetest"
)

// txStore is the store with host transactions begun as sqlite.Tx tells
// hosts to: on the store's writer, DB().
type txStore struct{ *sqlite.Store }

func (s txStore) BeginHostTx(ctx context.Context) (storetest.HostTx, error) {
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		return storetest.HostTx{}, err
	}
	return storetest.HostTx{
		Tx:       sqlite.Tx(tx),
		Commit:   func(context.Context) error { return tx.Commit() },
		Rollback: func(context.Context) error { return tx.Rollback() },
	}, nil
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "nahook.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return txStore{st}
	})
}

func TestConformanceInMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		st, err := sqlite.Open(context.Background(), ":memory:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}

func TestConformanceShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		path := filepath.Join(t.TempDir(), "nahook.db")
		a, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		b, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return txStore{a}, txStore{b}
	})
}

// Backup copies a database in use into a file that opens as a store with
// the same data, and refuses to overwrite a file.
func TestBackup(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	for _, src := range []string{":memory:", filepath.Join(t.TempDir(), "source.db")} {
		st, err := sqlite.Open(ctx, src)
		is.NoErr(err)
		defer st.Close()
		now := time.Now().UTC().Truncate(time.Millisecond)
		ws := store.Workspace{ID: "ws_01kaaaaaaaaaaaaaaaaaaaaaaa", Name: "Acme", CreatedAt: now, UpdatedAt: now}
		env := store.Environment{ID: "env_01kaaaaaaaaaaaaaaaaaaaaaaa", WorkspaceID: ws.ID, Name: "Production", Slug: "production", IsDefault: true, CreatedAt: now, UpdatedAt: now}
		is.NoErr(st.CreateWorkspace(ctx, ws, env))

		dst := filepath.Join(t.TempDir(), "backup.db")
		is.NoErr(st.Backup(ctx, dst))
		is.True(st.Backup(ctx, dst) != nil) // never overwrites

		copied, err := sqlite.Open(ctx, dst)
		is.NoErr(err)
		defer copied.Close()
		got, err := copied.GetWorkspace(ctx, ws.ID)
		is.NoErr(err)
		is.Equal(got, ws)
		gotEnv, err := copied.GetDefaultEnvironment(ctx, ws.ID)
		is.NoErr(err)
		is.Equal(gotEnv, env)
	}
}

// A database held locked by another process is ErrUnavailable once the
// caller stops waiting, a condition to wait out, never a broken rule.
func TestLockedIsUnavailable(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nahook.db")
	st, err := sqlite.Open(ctx, path)
	is.NoErr(err)
	defer st.Close()
	// Another process, as far as SQLite can tell: its own connection,
	// holding the write lock.
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	is.NoErr(err)
	defer other.Close()
	conn, err := other.Conn(ctx)
	is.NoErr(err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
	is.NoErr(err)
	defer conn.ExecContext(ctx, "ROLLBACK")

	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	err = st.CreateWorkspace(short, store.Workspace{ID: "ws_01kaaaaaaaaaaaaaaaaaaaaaaa", Name: "Acme"},
		store.Environment{ID: "env_01kaaaaaaaaaaaaaaaaaaaaaaa", WorkspaceID: "ws_01kaaaaaaaaaaaaaaaaaaaaaaa", Name: "Production", Slug: "production", IsDefault: true})
	is.True(errors.Is(err, store.ErrUnavailable))
	t.Logf("%v", err)
}

// Migrating an up-to-date database changes nothing; a database that
// another nahook has migrated further, or another program has put a
// nahook_migrations table in, is refused rather than changed.
func TestMigrate(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nahook.db")
	st, err := sqlite.Open(ctx, path)
	is.NoErr(err)
	defer st.Close()
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	is.NoErr(err)
	defer other.Close()
	count := func() (n int) {
		is.NoErr(other.QueryRowContext(ctx, `SELECT count(*) FROM nahook_migrations`).Scan(&n))
		return n
	}
	files, err := os.ReadDir("migrations")
	is.NoErr(err)
	is.Equal(count(), len(files)) // each migration recorded once
	is.NoErr(st.Migrate(ctx))
	is.Equal(count(), len(files)) // and no more when migrated again

	_, err = other.ExecContext(ctx, `INSERT INTO nahook_migrations (version, name, applied_at) VALUES (?, 'from_the_future.sql', 0)`, len(files)+1)
	is.NoErr(err)
	_, err = sqlite.Open(ctx, path)
	is.True(err != nil)
	is.True(strings.Contains(err.Error(), "newer than this nahook knows")) // says why

	_, err = other.ExecContext(ctx, `DELETE FROM nahook_migrations WHERE version > 1`)
	is.NoErr(err)
	_, err = other.ExecContext(ctx, `UPDATE nahook_migrations SET name = 'someone_else.sql'`)
	is.NoErr(err)
	_, err = sqlite.Open(ctx, path)
	is.True(err != nil)
	is.True(strings.Contains(err.Error(), `as "someone_else.sql"`))
}
