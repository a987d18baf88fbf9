package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/nahook/nahook/store"
)

const portalSessionColumns = `id, workspace_id, application_id, environment_id, hash, expires_at, created_at, revoked_at`

func scanPortalSession(row interface{ Scan(...any) error }) (store.PortalSession, error) {
	var p store.PortalSession
	var hash []byte
	var expires, created int64
	var revoked sql.NullInt64
	if err := row.Scan(&p.ID, &p.WorkspaceID, &p.ApplicationID, &p.EnvironmentID, &hash, &expires, &created, &revoked); err != nil {
		return p, err
	}
	copy(p.Hash[:], hash)
	p.ExpiresAt, p.CreatedAt = utc(expires), utc(created)
	if revoked.Valid {
		p.RevokedAt = utc(revoked.Int64)
	}
	return p, nil
}

// CreatePortalSession implements store.PortalSessionStore. A session
// changes no route, so it does not bump the routing version.
func (s *Store) CreatePortalSession(ctx context.Context, p store.PortalSession) error {
	return s.transact(ctx, func(tx *sql.Tx) error {
		if err := requireApplication(ctx, tx, "applicationId", p.WorkspaceID, p.ApplicationID); err != nil {
			return err
		}
		if err := requireEnvironment(ctx, tx, "environmentId", p.WorkspaceID, p.EnvironmentID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM portal_sessions
			WHERE workspace_id = ? AND application_id = ? AND expires_at < ?`,
			p.WorkspaceID, p.ApplicationID, ms(p.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO portal_sessions (`+portalSessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)`,
			p.ID, p.WorkspaceID, p.ApplicationID, p.EnvironmentID, p.Hash[:], ms(p.ExpiresAt), ms(p.CreatedAt))
		return err
	})
}

// GetPortalSession implements store.PortalSessionStore.
func (s *Store) GetPortalSession(ctx context.Context, ws store.WorkspaceID, id store.PortalSessionID) (store.PortalSession, error) {
	p, err := scanPortalSession(s.r.QueryRowContext(ctx, `SELECT `+portalSessionColumns+` FROM portal_sessions
		WHERE workspace_id = ? AND id = ?`, ws, id))
	return p, mapError(notFound(err, id))
}

// GetPortalSessionByHash implements store.PortalSessionStore.
func (s *Store) GetPortalSessionByHash(ctx context.Context, hash store.KeyHash) (store.PortalSession, error) {
	p, err := scanPortalSession(s.r.QueryRowContext(ctx, `SELECT `+portalSessionColumns+` FROM portal_sessions WHERE hash = ?`, hash[:]))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.UnknownSessionHash()
	}
	return p, mapError(err)
}

// ListPortalSessions implements store.PortalSessionStore.
func (s *Store) ListPortalSessions(ctx context.Context, ws store.WorkspaceID, app store.ApplicationID, now time.Time, page store.PageRequest) ([]store.PortalSession, error) {
	var out []store.PortalSession
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := requireApplication(ctx, tx, "applicationId", ws, app); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+portalSessionColumns+` FROM portal_sessions
			WHERE workspace_id = ? AND application_id = ? AND revoked_at IS NULL AND expires_at > ? AND id > ?
			ORDER BY id LIMIT ?`, ws, app, ms(now), page.After, page.Limit)
		out, err = collect(rows, err, scanPortalSession)
		return err
	})
	return out, err
}

// RevokePortalSession implements store.PortalSessionStore.
func (s *Store) RevokePortalSession(ctx context.Context, ws store.WorkspaceID, id store.PortalSessionID, at time.Time) (store.PortalSession, error) {
	var p store.PortalSession
	err := s.transact(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE portal_sessions SET revoked_at = coalesce(revoked_at, ?)
			WHERE workspace_id = ? AND id = ?`, ms(at), ws, id); err != nil {
			return err
		}
		var err error
		p, err = scanPortalSession(tx.QueryRowContext(ctx, `SELECT `+portalSessionColumns+` FROM portal_sessions
			WHERE workspace_id = ? AND id = ?`, ws, id))
		return notFound(err, id)
	})
	return p, err
}

// RevokePortalSessions implements store.PortalSessionStore.
func (s *Store) RevokePortalSessions(ctx context.Context, ws store.WorkspaceID, app store.ApplicationID, at time.Time) (int, error) {
	var n int64
	err := s.transact(ctx, func(tx *sql.Tx) error {
		if err := requireApplication(ctx, tx, "applicationId", ws, app); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE portal_sessions SET revoked_at = ?
			WHERE workspace_id = ? AND application_id = ? AND revoked_at IS NULL AND expires_at > ?`,
			ms(at), ws, app, ms(at))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
