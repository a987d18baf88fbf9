package migrate

import (
	"context"
	"fmt"
)

// Tx is what a database supplies for Run: its dialect of the few
// statements migrating takes, each made in the one transaction Run works
// in.
type Tx interface {
	// Lock keeps every other migrator of the same schema waiting until the
	// transaction ends, so that processes starting at once apply each
	// migration once. A database whose transactions already exclude each
	// other (SQLite's IMMEDIATE ones) has nothing to do.
	Lock(ctx context.Context) error
	// CreateTable creates the nahook_migrations table (version, name,
	// applied_at) unless it exists.
	CreateTable(ctx context.Context) error
	// Applied returns the migrations nahook_migrations records, in version
	// order, with their versions and names (and no SQL).
	Applied(ctx context.Context) ([]Migration, error)
	// Exec runs one migration's SQL.
	Exec(ctx context.Context, sql string) error
	// Record adds m to nahook_migrations, stamped with the time.
	Record(ctx context.Context, m Migration) error
}

// Run brings a database up to date with all, the migrations its store
// embeds (as Load returns them). transact runs its argument in one
// transaction and commits only if it returns nil, so that a migration
// that fails leaves the schema, and the record of it, as they were.
//
// Run refuses a database that records a migration this program does not
// know, a migration under another name, or a gap in the versions.
func Run(ctx context.Context, all []Migration, transact func(fn func(Tx) error) error) error {
	return transact(func(tx Tx) error {
		if err := tx.Lock(ctx); err != nil {
			return err
		}
		if err := tx.CreateTable(ctx); err != nil {
			return err
		}
		recorded, err := tx.Applied(ctx)
		if err != nil {
			return err
		}
		applied := make([]string, len(recorded))
		for i, m := range recorded {
			if m.Version != i+1 {
				return fmt.Errorf("database migrations skip from %d to %d", i, m.Version)
			}
			applied[i] = m.Name
		}
		pending, err := Pending(all, applied)
		if err != nil {
			return err
		}
		for _, m := range pending {
			if err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if err := tx.Record(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
}
