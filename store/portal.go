package store

import (
	"context"
	"time"
)

// PortalSessionID identifies a developer-portal session: "ps_…".
type PortalSessionID string

// PortalSession lets one end-customer manage one application's endpoints
// in one environment, until it expires or is revoked. Only the SHA-256 of
// its token is kept.
type PortalSession struct {
	ID            PortalSessionID
	WorkspaceID   WorkspaceID
	ApplicationID ApplicationID
	EnvironmentID EnvironmentID
	Hash          KeyHash
	ExpiresAt     time.Time
	CreatedAt     time.Time
	// RevokedAt is zero until the session is revoked.
	RevokedAt time.Time
}

// Active reports whether the session still grants access at now.
func (s PortalSession) Active(now time.Time) bool {
	return s.RevokedAt.IsZero() && now.Before(s.ExpiresAt)
}

// PortalSessionStore keeps developer-portal sessions, by token hash only.
// Deleting a session's application or environment deletes the session.
type PortalSessionStore interface {
	// CreatePortalSession stores s. It returns ErrNotFound naming
	// "applicationId" or "environmentId" when either is not in the
	// workspace. It also deletes the application's sessions that expired
	// before s.CreatedAt, so that sessions do not pile up.
	CreatePortalSession(ctx context.Context, s PortalSession) error
	// GetPortalSession returns the session, expired and revoked ones
	// included, or ErrNotFound.
	GetPortalSession(ctx context.Context, ws WorkspaceID, id PortalSessionID) (PortalSession, error)
	// GetPortalSessionByHash returns the session whose token has this
	// hash, expired and revoked ones included, or ErrNotFound.
	GetPortalSessionByHash(ctx context.Context, hash KeyHash) (PortalSession, error)
	// ListPortalSessions returns one page of the application's sessions
	// that are active at now, oldest first. An application not in the
	// workspace is ErrNotFound.
	ListPortalSessions(ctx context.Context, ws WorkspaceID, app ApplicationID, now time.Time, page PageRequest) ([]PortalSession, error)
	// RevokePortalSession revokes the session at at and returns it.
	// Revoking a revoked session keeps the first revocation time. It
	// returns ErrNotFound.
	RevokePortalSession(ctx context.Context, ws WorkspaceID, id PortalSessionID, at time.Time) (PortalSession, error)
	// RevokePortalSessions revokes, at at, every session of the
	// application still active then, and returns how many. An application
	// not in the workspace is ErrNotFound.
	RevokePortalSessions(ctx context.Context, ws WorkspaceID, app ApplicationID, at time.Time) (int, error)
}
