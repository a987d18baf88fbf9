package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nahook/nahook/store"
)

const portalSessionColumns = `id, workspace_id, application_id, environment_id, hash, expires_at, created_at, revoked_at`

func scanPortalSession(row pgx.Row) (store.PortalSession, error) {
	var p store.PortalSession
	var hash []byte
	var revoked *time.Time
	if err := row.Scan(&p.ID, &p.WorkspaceID, &p.ApplicationID, &p.EnvironmentID, &hash, &p.ExpiresAt, &p.CreatedAt, &revoked); err != nil {
		return p, err
	}
	copy(p.Hash[:], hash)
	p.ExpiresAt, p.CreatedAt = utc(p.ExpiresAt), utc(p.CreatedAt)
	if revoked != nil {
		p.RevokedAt = utc(*revoked)
	}
	return p, nil
}

// CreatePortalSession implements store.PortalSessionStore. A session
// changes no route, so it does not bump the routing version. The
// references are checked first so that the error names the missing ID, as
// SQLite's does; the foreign keys still hold against a concurrent delete.
func (s *Store) CreatePortalSession(ctx context.Context, p store.PortalSession) error {
	return s.transact(ctx, func(tx pgx.Tx) error {
		if err := requireApplication(ctx, tx, "applicationId", p.WorkspaceID, p.ApplicationID); err != nil {
			return err
		}
		if err := requireEnvironment(ctx, tx, "environmentId", p.WorkspaceID, p.EnvironmentID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM portal_sessions
			WHERE workspace_id = $1 AND application_id = $2 AND expires_at < $3`,
			p.WorkspaceID, p.ApplicationID, p.CreatedAt); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO portal_sessions (`+portalSessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)`,
			p.ID, p.WorkspaceID, p.ApplicationID, p.EnvironmentID, p.Hash[:], p.ExpiresAt, p.CreatedAt)
		return err
	})
}

// GetPortalSession implements store.PortalSessionStore.
func (s *Store) GetPortalSession(ctx context.Context, ws store.WorkspaceID, id store.PortalSessionID) (store.PortalSession, error) {
	p, err := scanPortalSession(s.pool.QueryRow(ctx, `SELECT `+portalSessionColumns+` FROM portal_sessions
		WHERE workspace_id = $1 AND id = $2`, ws, id))
	return p, mapError(notFound(err, id))
}

// GetPortalSessionByHash implements store.PortalSessionStore.
func (s *Store) GetPortalSessionByHash(ctx context.Context, hash store.KeyHash) (store.PortalSession, error) {
	p, err := scanPortalSession(s.pool.QueryRow(ctx, `SELECT `+portalSessionColumns+` FROM portal_sessions WHERE hash = $1`, hash[:]))
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.UnknownSessionHash()
	}
	return p, mapError(err)
}

// ListPortalSessions implements store.PortalSessionStore.
func (s *Store) ListPortalSessions(ctx context.Context, ws store.WorkspaceID, app store.ApplicationID, now time.Time, page store.PageRequest) ([]store.PortalSession, error) {
	var out []store.PortalSession
	err := s.read(ctx, func(tx pgx.Tx) error {
		if err := requireApplication(ctx, tx, "applicationId", ws, app); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+portalSessionColumns+` FROM portal_sessions
			WHERE workspace_id = $1 AND application_id = $2 AND revoked_at IS NULL AND expires_at > $3 AND id > $4
			ORDER BY id LIMIT $5`, ws, app, now, page.After, page.Limit)
		out, err = collect(rows, err, scanPortalSession)
		return err
	})
	return out, err
}

// RevokePortalSession implements store.PortalSessionStore.
func (s *Store) RevokePortalSession(ctx context.Context, ws store.WorkspaceID, id store.PortalSessionID, at time.Time) (store.PortalSession, error) {
	var p store.PortalSession
	err := s.statement(ctx, func(q querier) (err error) {
		p, err = scanPortalSession(q.QueryRow(ctx, `UPDATE portal_sessions SET revoked_at = coalesce(revoked_at, $1)
			WHERE workspace_id = $2 AND id = $3 RETURNING `+portalSessionColumns, at, ws, id))
		return notFound(err, id)
	})
	return p, err
}

// RevokePortalSessions implements store.PortalSessionStore.
func (s *Store) RevokePortalSessions(ctx context.Context, ws store.WorkspaceID, app store.ApplicationID, at time.Time) (int, error) {
	var n int64
	err := s.transact(ctx, func(tx pgx.Tx) error {
		if err := requireApplication(ctx, tx, "applicationId", ws, app); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE portal_sessions SET revoked_at = $1
			WHERE workspace_id = $2 AND application_id = $3 AND revoked_at IS NULL AND expires_at > $1`, at, ws, app)
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}
