package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"time"

	"github.com/nahook/nahook/internal/migrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrate brings the database schema up to date; Open calls it, and
// calling it again changes nothing. It runs in one IMMEDIATE transaction,
// so concurrent callers, in this process or others, apply each migration
// once, and a failed migration leaves the schema as it was. Version
// numbers are in step with the Postgres store's.
func (s *Store) Migrate(ctx context.Context) error {
	all, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return migrate.Run(ctx, all, func(fn func(migrate.Tx) error) error {
		return s.transact(ctx, func(tx *sql.Tx) error { return fn(migrationTx{tx}) })
	})
}

// migrationTx is SQLite's dialect of the statements migrate.Run makes.
type migrationTx struct{ tx *sql.Tx }

// Lock does nothing: the transaction began IMMEDIATE, holding the
// database's write lock, which keeps every other migrator waiting.
func (migrationTx) Lock(context.Context) error { return nil }

func (m migrationTx) CreateTable(ctx context.Context) error {
	_, err := m.tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS nahook_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`)
	return err
}

func (m migrationTx) Applied(ctx context.Context) ([]migrate.Migration, error) {
	rows, err := m.tx.QueryContext(ctx, `SELECT version, name FROM nahook_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []migrate.Migration
	for rows.Next() {
		var r migrate.Migration
		if err := rows.Scan(&r.Version, &r.Name); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (m migrationTx) Exec(ctx context.Context, sql string) error {
	_, err := m.tx.ExecContext(ctx, sql)
	return err
}

func (m migrationTx) Record(ctx context.Context, mg migrate.Migration) error {
	_, err := m.tx.ExecContext(ctx, `INSERT INTO nahook_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		mg.Version, mg.Name, ms(time.Now()))
	return err
}
