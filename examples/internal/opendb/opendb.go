// Package opendb opens the store an example is pointed at: Postgres for a
// postgres:// URL, SQLite for anything else. Either is migrated.
package opendb

import (
	"context"
	"strings"

	"github.com/nahook/nahook/store"
	"github.com/nahook/nahook/store/postgres"
	"github.com/nahook/nahook/store/sqlite"
)

// Open opens and migrates the store at db: a postgres:// (or
// postgresql://) URL, or a SQLite file name (":memory:" keeps nothing).
func Open(ctx context.Context, db string) (store.Store, error) {
	if !IsPostgres(db) {
		return sqlite.Open(ctx, db)
	}
	st, err := postgres.Open(db)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// IsPostgres reports whether db names a Postgres database.
func IsPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}
