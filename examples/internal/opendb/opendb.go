// Package opendb opens the store an example is pointed at: Postgres for a
// postgres:// URL, SQLite for anything else. Both stores open the same way,
// migrated; this only chooses between them.
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
	if IsPostgres(db) {
		return opened(postgres.Open(ctx, db))
	}
	return opened(sqlite.Open(ctx, db))
}

// opened returns a store that failed to open as a nil store.Store, rather
// than one holding a nil pointer.
func opened[S store.Store](st S, err error) (store.Store, error) {
	if err != nil {
		return nil, err
	}
	return st, nil
}

// IsPostgres reports whether db names a Postgres database.
func IsPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}
