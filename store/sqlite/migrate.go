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

// migrate brings the database schema up to date. It runs in one IMMEDIATE
// transaction, so concurrent callers, in this process or others, apply each
// migration once, and a failed migration leaves the schema as it was.
func (s *Store) migrate(ctx context.Context) error {
	all, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return s.transact(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS nahook_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at INTEGER NOT NULL
		) STRICT`); err != nil {
			return err
		}
		applied, err := appliedMigrations(ctx, tx)
		if err != nil {
			return err
		}
		pending, err := migrate.Pending(all, applied)
		if err != nil {
			return err
		}
		for _, m := range pending {
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO nahook_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, ms(time.Now())); err != nil {
				return err
			}
		}
		return nil
	})
}

// appliedMigrations returns the names of the migrations the database has,
// in version order.
func appliedMigrations(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT version, name FROM nahook_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			return nil, err
		}
		if v != len(names)+1 {
			return nil, fmt.Errorf("database migrations skip from %d to %d", len(names), v)
		}
		names = append(names, name)
	}
	return names, rows.Err()
}
