package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one numbered schema change. Version numbers are kept in step
// with the Postgres store's, so version N means the same schema in both.
type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	files, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, f := range files {
		base := strings.TrimPrefix(f, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("sqlite: migration %s is not named NNNN_name.sql", base)
		}
		body, err := migrationFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("sqlite: migration %s out of sequence: want version %d", m.name, i+1)
		}
	}
	return out, nil
}

// migrate brings the database schema up to date. It runs in one IMMEDIATE
// transaction, so concurrent callers, in this process or others, apply each
// migration once, and a failed migration leaves the schema as it was.
func (s *Store) migrate(ctx context.Context) error {
	all, err := migrations()
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
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
		if len(applied) > len(all) {
			return fmt.Errorf("sqlite: database schema is at version %d, newer than this nahook knows (%d); upgrade nahook", len(applied), len(all))
		}
		for i, name := range applied {
			if name != all[i].name {
				return fmt.Errorf("sqlite: database has migration %d as %q, but this nahook has it as %q: not a nahook database, or a different one", i+1, name, all[i].name)
			}
		}
		current := len(applied)
		for _, m := range all[current:] {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("sqlite: migration %s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO nahook_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, ms(time.Now())); err != nil {
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
			return nil, fmt.Errorf("sqlite: database migrations skip from %d to %d", len(names), v)
		}
		names = append(names, name)
	}
	return names, rows.Err()
}
