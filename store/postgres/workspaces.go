package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/nahook/nahook/internal/sqlpatch"
	"github.com/nahook/nahook/store"
)

const workspaceColumns = `id, name, created_at, updated_at`

func scanWorkspace(row pgx.Row) (store.Workspace, error) {
	var ws store.Workspace
	err := row.Scan(&ws.ID, &ws.Name, &ws.CreatedAt, &ws.UpdatedAt)
	ws.CreatedAt, ws.UpdatedAt = utc(ws.CreatedAt), utc(ws.UpdatedAt)
	return ws, err
}

// CreateWorkspace implements store.WorkspaceStore.
func (s *Store) CreateWorkspace(ctx context.Context, ws store.Workspace, env store.Environment) error {
	return s.write(ctx, ws.ID, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO workspaces (`+workspaceColumns+`) VALUES ($1, $2, $3, $4)`,
			ws.ID, ws.Name, ws.CreatedAt, ws.UpdatedAt); err != nil {
			return err
		}
		return insertEnvironment(ctx, tx, env)
	})
}

// GetWorkspace implements store.WorkspaceStore.
func (s *Store) GetWorkspace(ctx context.Context, id store.WorkspaceID) (store.Workspace, error) {
	ws, err := scanWorkspace(s.pool.QueryRow(ctx, `SELECT `+workspaceColumns+` FROM workspaces WHERE id = $1`, id))
	return ws, mapError(notFound(err, id))
}

// ListWorkspaces implements store.WorkspaceStore.
func (s *Store) ListWorkspaces(ctx context.Context, page store.PageRequest) ([]store.Workspace, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+workspaceColumns+` FROM workspaces WHERE id > $1 ORDER BY id LIMIT $2`, page.After, page.Limit)
	return collect(rows, err, scanWorkspace)
}

// UpdateWorkspace implements store.WorkspaceStore.
func (s *Store) UpdateWorkspace(ctx context.Context, id store.WorkspaceID, u store.WorkspaceUpdate) (store.Workspace, error) {
	set := sqlpatch.Dollar()
	set.Add("name", u.Name)
	set.Add("updated_at", u.UpdatedAt)
	var ws store.Workspace
	err := s.write(ctx, id, func(tx pgx.Tx) (err error) {
		ws, err = scanWorkspace(tx.QueryRow(ctx, `UPDATE workspaces SET `+set.SQL()+` WHERE id = `+set.Next(1)+
			` RETURNING `+workspaceColumns, append(set.Args, id)...))
		return notFound(err, id)
	})
	return ws, err
}

// DeleteWorkspace implements store.WorkspaceStore. The schema's foreign keys
// cascade the delete to everything in the workspace.
func (s *Store) DeleteWorkspace(ctx context.Context, id store.WorkspaceID) error {
	return s.write(ctx, id, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM workspaces WHERE id = $1`, id)
		return affected(tag, err, id)
	})
}

// collect scans every row with scan. It takes the error of the query that
// made rows so callers can pass a query's results straight in.
func collect[T any](rows pgx.Rows, err error, scan func(pgx.Row) (T, error)) ([]T, error) {
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) { return scan(row) })
	return out, mapError(err)
}
