package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/nahook/nahook/internal/sqlpatch"
	"github.com/nahook/nahook/store"
)

const environmentColumns = `id, workspace_id, name, slug, is_default, created_at, updated_at`

func scanEnvironment(row interface{ Scan(...any) error }) (store.Environment, error) {
	var env store.Environment
	var created, updated int64
	err := row.Scan(&env.ID, &env.WorkspaceID, &env.Name, &env.Slug, &env.IsDefault, &created, &updated)
	env.CreatedAt, env.UpdatedAt = utc(created), utc(updated)
	return env, err
}

func insertEnvironment(ctx context.Context, tx *sql.Tx, env store.Environment) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO environments (`+environmentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		env.ID, env.WorkspaceID, env.Name, env.Slug, env.IsDefault, ms(env.CreatedAt), ms(env.UpdatedAt))
	return err
}

// CreateEnvironment implements store.EnvironmentStore. Counting and
// inserting in one IMMEDIATE transaction is atomic: no other writer, in this
// process or another, runs between the two.
func (s *Store) CreateEnvironment(ctx context.Context, env store.Environment) error {
	return s.write(ctx, env.WorkspaceID, func(tx *sql.Tx) error {
		if err := requireWorkspace(ctx, tx, env.WorkspaceID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM environments WHERE workspace_id = ?`, env.WorkspaceID).Scan(&n); err != nil {
			return err
		}
		if err := store.CheckEnvironmentLimit(n); err != nil {
			return err
		}
		return insertEnvironment(ctx, tx, env)
	})
}

// GetEnvironment implements store.EnvironmentStore.
func (s *Store) GetEnvironment(ctx context.Context, ws store.WorkspaceID, id store.EnvironmentID) (store.Environment, error) {
	env, err := scanEnvironment(s.r.QueryRowContext(ctx,
		`SELECT `+environmentColumns+` FROM environments WHERE workspace_id = ? AND id = ?`, ws, id))
	return env, mapError(notFound(err, id))
}

// GetDefaultEnvironment implements store.EnvironmentStore.
func (s *Store) GetDefaultEnvironment(ctx context.Context, ws store.WorkspaceID) (store.Environment, error) {
	env, err := scanEnvironment(s.r.QueryRowContext(ctx,
		`SELECT `+environmentColumns+` FROM environments WHERE workspace_id = ? AND is_default = 1`, ws))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.Missing("workspaceId", ws)
	}
	return env, mapError(err)
}

// ListEnvironments implements store.EnvironmentStore.
func (s *Store) ListEnvironments(ctx context.Context, ws store.WorkspaceID, page store.PageRequest) ([]store.Environment, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+environmentColumns+` FROM environments
		WHERE workspace_id = ? AND id > ? ORDER BY id LIMIT ?`, ws, page.After, page.Limit)
	return collect(rows, err, scanEnvironment)
}

// UpdateEnvironment implements store.EnvironmentStore.
func (s *Store) UpdateEnvironment(ctx context.Context, ws store.WorkspaceID, id store.EnvironmentID, u store.EnvironmentUpdate) (store.Environment, error) {
	var env store.Environment
	err := s.write(ctx, ws, func(tx *sql.Tx) error {
		set := sqlpatch.Question()
		set.Add("name", u.Name)
		set.Add("slug", u.Slug)
		set.Add("updated_at", ms(u.UpdatedAt))
		res, err := tx.ExecContext(ctx, `UPDATE environments SET `+set.SQL()+` WHERE workspace_id = ? AND id = ?`,
			append(set.Args, ws, id)...)
		if err != nil {
			return err
		}
		if err := affected(res, id); err != nil {
			return err
		}
		env, err = scanEnvironment(tx.QueryRowContext(ctx,
			`SELECT `+environmentColumns+` FROM environments WHERE id = ?`, id))
		return err
	})
	return env, err
}

// DeleteEnvironment implements store.EnvironmentStore. The schema's foreign
// keys cascade the delete to the environment's API keys, endpoints (and
// their subscriptions) and visibility rows.
func (s *Store) DeleteEnvironment(ctx context.Context, ws store.WorkspaceID, id store.EnvironmentID) error {
	return s.write(ctx, ws, func(tx *sql.Tx) error {
		var isDefault bool
		err := tx.QueryRowContext(ctx, `SELECT is_default FROM environments WHERE workspace_id = ? AND id = ?`, ws, id).Scan(&isDefault)
		if err != nil {
			return notFound(err, id)
		}
		if isDefault {
			return store.CannotDeleteDefault()
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM environments WHERE id = ?`, id)
		return err
	})
}
