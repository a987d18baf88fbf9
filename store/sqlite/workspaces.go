package sqlite

import (
	"context"
	"database/sql"

	"github.com/nahook/nahook/internal/sqlpatch"
	"github.com/nahook/nahook/store"
)

const workspaceColumns = `id, name, created_at, updated_at`

func scanWorkspace(row interface{ Scan(...any) error }) (store.Workspace, error) {
	var ws store.Workspace
	var created, updated int64
	err := row.Scan(&ws.ID, &ws.Name, &created, &updated)
	ws.CreatedAt, ws.UpdatedAt = utc(created), utc(updated)
	return ws, err
}

// CreateWorkspace implements store.WorkspaceStore.
func (s *Store) CreateWorkspace(ctx context.Context, ws store.Workspace, env store.Environment) error {
	return s.write(ctx, ws.ID, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO workspaces (`+workspaceColumns+`) VALUES (?, ?, ?, ?)`,
			ws.ID, ws.Name, ms(ws.CreatedAt), ms(ws.UpdatedAt)); err != nil {
			return err
		}
		return insertEnvironment(ctx, tx, env)
	})
}

// GetWorkspace implements store.WorkspaceStore.
func (s *Store) GetWorkspace(ctx context.Context, id store.WorkspaceID) (store.Workspace, error) {
	ws, err := scanWorkspace(s.r.QueryRowContext(ctx, `SELECT `+workspaceColumns+` FROM workspaces WHERE id = ?`, id))
	return ws, mapError(notFound(err, id))
}

// ListWorkspaces implements store.WorkspaceStore.
func (s *Store) ListWorkspaces(ctx context.Context, page store.PageRequest) ([]store.Workspace, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+workspaceColumns+` FROM workspaces WHERE id > ? ORDER BY id LIMIT ?`, page.After, page.Limit)
	return collect(rows, err, scanWorkspace)
}

// UpdateWorkspace implements store.WorkspaceStore.
func (s *Store) UpdateWorkspace(ctx context.Context, id store.WorkspaceID, u store.WorkspaceUpdate) (store.Workspace, error) {
	var ws store.Workspace
	err := s.write(ctx, id, func(tx *sql.Tx) error {
		set := sqlpatch.Question()
		set.Add("name", u.Name)
		set.Add("updated_at", ms(u.UpdatedAt))
		res, err := tx.ExecContext(ctx, `UPDATE workspaces SET `+set.SQL()+` WHERE id = ?`, append(set.Args, id)...)
		if err != nil {
			return err
		}
		if err := affected(res, id); err != nil {
			return err
		}
		ws, err = scanWorkspace(tx.QueryRowContext(ctx, `SELECT `+workspaceColumns+` FROM workspaces WHERE id = ?`, id))
		return err
	})
	return ws, err
}

// DeleteWorkspace implements store.WorkspaceStore. The schema's foreign keys
// cascade the delete to everything in the workspace.
func (s *Store) DeleteWorkspace(ctx context.Context, id store.WorkspaceID) error {
	return s.write(ctx, id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM workspaces WHERE id = ?`, id)
		if err != nil {
			return err
		}
		return affected(res, id)
	})
}

// collect scans every row with scan, closing rows. It takes the error of the
// query that made rows so callers can pass a query's results straight in.
func collect[T any](rows *sql.Rows, err error, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, mapError(err)
		}
		out = append(out, v)
	}
	return out, mapError(rows.Err())
}
