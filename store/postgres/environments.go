package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/nahook/nahook/internal/sqlpatch"
	"github.com/nahook/nahook/store"
)

const environmentColumns = `id, workspace_id, name, slug, is_default, created_at, updated_at`

func scanEnvironment(row pgx.Row) (store.Environment, error) {
	var env store.Environment
	err := row.Scan(&env.ID, &env.WorkspaceID, &env.Name, &env.Slug, &env.IsDefault, &env.CreatedAt, &env.UpdatedAt)
	env.CreatedAt, env.UpdatedAt = utc(env.CreatedAt), utc(env.UpdatedAt)
	return env, err
}

func insertEnvironment(ctx context.Context, q querier, env store.Environment) error {
	_, err := q.Exec(ctx, `INSERT INTO environments (`+environmentColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		env.ID, env.WorkspaceID, env.Name, env.Slug, env.IsDefault, env.CreatedAt, env.UpdatedAt)
	return err
}

// CreateEnvironment implements store.EnvironmentStore. Every creator first
// locks the workspace row, so counting and inserting are atomic across
// connections and processes. The lock is FOR NO KEY UPDATE, which does not
// wait for the key-share locks that inserts of other rows referring to the
// workspace take.
func (s *Store) CreateEnvironment(ctx context.Context, env store.Environment) error {
	return s.write(ctx, env.WorkspaceID, func(tx pgx.Tx) error {
		err := require(ctx, tx, "workspaceId", env.WorkspaceID,
			`SELECT 1 FROM workspaces WHERE id = $1 FOR NO KEY UPDATE`, env.WorkspaceID)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM environments WHERE workspace_id = $1`, env.WorkspaceID).Scan(&n); err != nil {
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
	env, err := scanEnvironment(s.pool.QueryRow(ctx,
		`SELECT `+environmentColumns+` FROM environments WHERE workspace_id = $1 AND id = $2`, ws, id))
	return env, mapError(notFound(err, id))
}

// GetDefaultEnvironment implements store.EnvironmentStore.
func (s *Store) GetDefaultEnvironment(ctx context.Context, ws store.WorkspaceID) (store.Environment, error) {
	env, err := scanEnvironment(s.pool.QueryRow(ctx,
		`SELECT `+environmentColumns+` FROM environments WHERE workspace_id = $1 AND is_default`, ws))
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.Missing("workspaceId", ws)
	}
	return env, mapError(err)
}

// ListEnvironments implements store.EnvironmentStore.
func (s *Store) ListEnvironments(ctx context.Context, ws store.WorkspaceID, page store.PageRequest) ([]store.Environment, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+environmentColumns+` FROM environments
		WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3`, ws, page.After, page.Limit)
	return collect(rows, err, scanEnvironment)
}

// UpdateEnvironment implements store.EnvironmentStore.
func (s *Store) UpdateEnvironment(ctx context.Context, ws store.WorkspaceID, id store.EnvironmentID, u store.EnvironmentUpdate) (store.Environment, error) {
	set := sqlpatch.Dollar()
	set.Add("name", u.Name)
	set.Add("slug", u.Slug)
	set.Add("updated_at", u.UpdatedAt)
	var env store.Environment
	err := s.write(ctx, ws, func(tx pgx.Tx) (err error) {
		env, err = scanEnvironment(tx.QueryRow(ctx, `UPDATE environments SET `+set.SQL()+
			` WHERE workspace_id = `+set.Next(1)+` AND id = `+set.Next(2)+` RETURNING `+environmentColumns,
			append(set.Args, ws, id)...))
		return notFound(err, id)
	})
	return env, err
}

// DeleteEnvironment implements store.EnvironmentStore. The schema's foreign
// keys cascade the delete to the environment's API keys, endpoints (and
// their subscriptions) and visibility rows.
func (s *Store) DeleteEnvironment(ctx context.Context, ws store.WorkspaceID, id store.EnvironmentID) error {
	return s.write(ctx, ws, func(tx pgx.Tx) error {
		var isDefault bool
		err := tx.QueryRow(ctx, `SELECT is_default FROM environments WHERE workspace_id = $1 AND id = $2 FOR UPDATE`, ws, id).Scan(&isDefault)
		if err != nil {
			return notFound(err, id)
		}
		if isDefault {
			return store.CannotDeleteDefault()
		}
		_, err = tx.Exec(ctx, `DELETE FROM environments WHERE id = $1`, id)
		return err
	})
}
