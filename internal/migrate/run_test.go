package migrate

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/matryer/is"
)

// fakeDB is a database for Run: the migrations it records, what its
// schema holds (the SQL of each migration applied), and, for the test,
// every statement made in order. A transaction works on a copy, kept only
// if it commits.
type fakeDB struct {
	recorded []Migration
	schema   []string
	calls    []string
	fail     string // SQL that fails when executed
}

func (db *fakeDB) transact(fn func(Tx) error) error {
	tx := &fakeTx{db: db, recorded: slices.Clone(db.recorded), schema: slices.Clone(db.schema)}
	if err := fn(tx); err != nil {
		db.calls = append(db.calls, "rollback")
		return err
	}
	db.recorded, db.schema = tx.recorded, tx.schema
	db.calls = append(db.calls, "commit")
	return nil
}

type fakeTx struct {
	db       *fakeDB
	recorded []Migration
	schema   []string
}

func (tx *fakeTx) Lock(context.Context) error {
	tx.db.calls = append(tx.db.calls, "lock")
	return nil
}

func (tx *fakeTx) CreateTable(context.Context) error {
	tx.db.calls = append(tx.db.calls, "create")
	return nil
}

func (tx *fakeTx) Applied(context.Context) ([]Migration, error) {
	tx.db.calls = append(tx.db.calls, "applied")
	return slices.Clone(tx.recorded), nil
}

func (tx *fakeTx) Exec(_ context.Context, sql string) error {
	tx.db.calls = append(tx.db.calls, "exec "+sql)
	if sql == tx.db.fail {
		return errors.New("syntax error")
	}
	tx.schema = append(tx.schema, sql)
	return nil
}

func (tx *fakeTx) Record(_ context.Context, m Migration) error {
	tx.db.calls = append(tx.db.calls, "record "+m.Name)
	tx.recorded = append(tx.recorded, Migration{Version: m.Version, Name: m.Name})
	return nil
}

var three = []Migration{{1, "0001_a.sql", "A"}, {2, "0002_b.sql", "B"}, {3, "0003_c.sql", "C"}}

// names returns the names of ms.
func names(ms []Migration) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

// Run takes the lock before anything else, then applies the pending
// migrations in version order, recording each after it runs, and commits
// once.
func TestRunAppliesPendingInOrder(t *testing.T) {
	is := is.New(t)
	db := &fakeDB{recorded: []Migration{{Version: 1, Name: "0001_a.sql"}}, schema: []string{"A"}}
	is.NoErr(Run(context.Background(), three, db.transact))
	is.Equal(db.calls, []string{"lock", "create", "applied",
		"exec B", "record 0002_b.sql", "exec C", "record 0003_c.sql", "commit"})
	is.Equal(names(db.recorded), names(three)) // every migration recorded once
	is.Equal(db.recorded[2].Version, 3)
	is.Equal(db.schema, []string{"A", "B", "C"}) // each applied once, in order

	db.calls = nil
	is.NoErr(Run(context.Background(), three, db.transact))
	is.Equal(db.calls, []string{"lock", "create", "applied", "commit"}) // up to date: nothing to run
	is.Equal(db.schema, []string{"A", "B", "C"})
}

// An empty database gets every migration.
func TestRunEmptyDatabase(t *testing.T) {
	is := is.New(t)
	db := &fakeDB{}
	is.NoErr(Run(context.Background(), three, db.transact))
	is.Equal(db.schema, []string{"A", "B", "C"})
	is.Equal(names(db.recorded), names(three))
}

// A database Run cannot vouch for is refused before any migration runs,
// and left as it was.
func TestRunRefuses(t *testing.T) {
	for _, c := range []struct {
		name     string
		recorded []Migration
		want     string
	}{
		{"unknown migration", []Migration{{Version: 1, Name: "0001_other.sql"}},
			`database has migration 1 as "0001_other.sql" where this nahook has "0001_a.sql"`},
		{"renamed migration", []Migration{{Version: 1, Name: "0001_a.sql"}, {Version: 2, Name: "0002_renamed.sql"}},
			`database has migration 2 as "0002_renamed.sql" where this nahook has "0002_b.sql"`},
		{"newer database", append(slices.Clone(three), Migration{Version: 4, Name: "0004_d.sql"}),
			"database schema is at version 4, newer than this nahook knows (3); upgrade nahook"},
		{"gap", []Migration{{Version: 1, Name: "0001_a.sql"}, {Version: 3, Name: "0003_c.sql"}},
			"database migrations skip from 1 to 3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			is := is.New(t)
			db := &fakeDB{recorded: slices.Clone(c.recorded)}
			err := Run(context.Background(), three, db.transact)
			is.True(err != nil)
			is.True(strings.Contains(err.Error(), c.want))                        // says why
			is.Equal(db.calls, []string{"lock", "create", "applied", "rollback"}) // no migration ran
			is.Equal(db.recorded, c.recorded)
		})
	}
}

// A migration that fails rolls back the whole run: the migrations before
// it in the same run are neither applied nor recorded, and those after it
// never run.
func TestRunFailingMigrationLeavesNothing(t *testing.T) {
	is := is.New(t)
	db := &fakeDB{recorded: []Migration{{Version: 1, Name: "0001_a.sql"}}, schema: []string{"A"}, fail: "C"}
	err := Run(context.Background(), three, db.transact)
	is.True(err != nil)
	is.True(strings.HasPrefix(err.Error(), "migration 0003_c.sql: ")) // names the migration
	is.Equal(err.Error(), "migration 0003_c.sql: syntax error")       // and keeps the cause
	is.Equal(db.calls, []string{"lock", "create", "applied",
		"exec B", "record 0002_b.sql", "exec C", "rollback"})
	is.Equal(names(db.recorded), []string{"0001_a.sql"}) // as before the run
	is.Equal(db.schema, []string{"A"})
}

// An error of the database itself ends the run, uncommitted.
func TestRunDatabaseError(t *testing.T) {
	is := is.New(t)
	broken := errors.New("connection lost")
	err := Run(context.Background(), three, func(fn func(Tx) error) error {
		return fn(lockFails{broken})
	})
	is.True(errors.Is(err, broken))
}

// lockFails is a Tx whose Lock fails and whose other statements must not
// be made.
type lockFails struct{ err error }

func (l lockFails) Lock(context.Context) error                 { return l.err }
func (lockFails) CreateTable(context.Context) error            { panic("after a failed lock") }
func (lockFails) Applied(context.Context) ([]Migration, error) { panic("after a failed lock") }
func (lockFails) Exec(context.Context, string) error           { panic("after a failed lock") }
func (lockFails) Record(context.Context, Migration) error      { panic("after a failed lock") }
