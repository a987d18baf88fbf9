// Portal sessions: issuing the tokens that open the developer portal, and
// listing, revoking and authenticating them. What an open session may do
// is in portal.go.

package nahook

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
)

type (
	// PortalSession is a developer-portal session, without its token; see
	// store.PortalSession.
	PortalSession = store.PortalSession
	// PortalSessionID identifies a portal session: "ps_…".
	PortalSessionID = store.PortalSessionID
)

// Portal session tokens and lifetimes.
const (
	// PortalTokenPrefix starts every portal session token: "nhp_" and 40
	// random base62 characters.
	PortalTokenPrefix = "nhp_"
	// DefaultPortalSessionTTL is how long a session lasts when
	// PortalSessionInput.ExpiresIn is zero.
	DefaultPortalSessionTTL = time.Hour
	// MaxPortalSessionTTL is the longest a session may last.
	MaxPortalSessionTTL = 24 * time.Hour
	// DefaultPortalMaxEndpoints is Config.PortalMaxEndpoints when zero.
	DefaultPortalMaxEndpoints = 50
)

// PortalSessionService issues developer-portal sessions: a token that lets
// one end-customer manage one application's endpoints in one environment,
// and nothing else, until it expires or is revoked. The token is returned
// once, by Create; only its SHA-256 is stored. Get it from
// Client.PortalSessions.
type PortalSessionService struct{ c *Client }

// PortalSessionInput creates a portal session.
type PortalSessionInput struct {
	// ApplicationID is the application whose endpoints the session
	// manages. Required.
	ApplicationID ApplicationID
	// EnvironmentID is the environment it manages them in; empty means the
	// workspace's default environment.
	EnvironmentID EnvironmentID
	// ExpiresIn is how long the session lasts: zero means
	// DefaultPortalSessionTTL (1 hour); at most MaxPortalSessionTTL (24
	// hours).
	ExpiresIn time.Duration
}

// IssuedPortalSession is a session just created: the stored record, the
// token, which nahook never shows again, and the URL to send the customer
// to.
type IssuedPortalSession struct {
	PortalSession
	// Token is the bearer token of the portal API ("nhp_…").
	Token string
	// URL is Config.PortalURL with the token in its fragment, or empty
	// when no PortalURL is configured.
	URL string
}

// Create issues a session for an application. It returns ErrNotFound when
// the application or environment is not in the workspace.
func (s *PortalSessionService) Create(ctx context.Context, ws WorkspaceID, in PortalSessionInput) (IssuedPortalSession, error) {
	if err := workspace(ws); err != nil {
		return IssuedPortalSession{}, err
	}
	if in.ApplicationID == "" {
		return IssuedPortalSession{}, store.Invalid("applicationId", "applicationId is required")
	}
	if err := ref("applicationId", prefixApplication, in.ApplicationID); err != nil {
		return IssuedPortalSession{}, err
	}
	if in.EnvironmentID != "" {
		if err := ref("environmentId", prefixEnvironment, in.EnvironmentID); err != nil {
			return IssuedPortalSession{}, err
		}
	}
	ttl := in.ExpiresIn
	switch {
	case ttl == 0:
		ttl = DefaultPortalSessionTTL
	case ttl < time.Second || ttl > MaxPortalSessionTTL:
		return IssuedPortalSession{}, store.Invalid("expiresIn", "expiresIn must be between 1 second and %v", MaxPortalSessionTTL)
	}
	env, err := s.c.environmentOrDefault(ctx, ws, in.EnvironmentID)
	if err != nil {
		return IssuedPortalSession{}, err
	}
	token := PortalTokenPrefix + randomBase62(keyChars)
	now := s.c.now()
	ps := PortalSession{
		ID:            PortalSessionID(typeid.New(prefixPortalSession)),
		WorkspaceID:   ws,
		ApplicationID: in.ApplicationID,
		EnvironmentID: env,
		Hash:          sha256.Sum256([]byte(token)),
		ExpiresAt:     now.Add(ttl).Truncate(time.Millisecond),
		CreatedAt:     now,
	}
	if err := s.c.store.CreatePortalSession(ctx, ps); err != nil {
		return IssuedPortalSession{}, err
	}
	return IssuedPortalSession{PortalSession: ps, Token: token, URL: s.c.portalURL(token)}, nil
}

// portalURL returns the page a customer opens with token. The token goes
// in the fragment, which browsers send to no server, keep out of Referer
// headers and out of access logs; the page reads it from there.
func (c *Client) portalURL(token string) string {
	if c.cfg.PortalURL == "" {
		return ""
	}
	return c.cfg.PortalURL + "#token=" + token
}

// checkPortalURL checks Config.PortalURL.
func checkPortalURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.Contains(raw, "#") {
		return errors.New("nahook: Config.PortalURL must be an absolute http:// or https:// URL without a fragment")
	}
	return nil
}

// Get returns the session (never its token), or ErrNotFound.
func (s *PortalSessionService) Get(ctx context.Context, ws WorkspaceID, id PortalSessionID) (PortalSession, error) {
	if err := portalSession(ws, id); err != nil {
		return PortalSession{}, err
	}
	return s.c.store.GetPortalSession(ctx, ws, id)
}

// List returns one page of the application's sessions that are still
// active, oldest first.
func (s *PortalSessionService) List(ctx context.Context, ws WorkspaceID, app ApplicationID, opts ListOptions) (Page[PortalSession], error) {
	if err := workspace(ws); err != nil {
		return Page[PortalSession]{}, err
	}
	if err := subject("applicationId", prefixApplication, app); err != nil {
		return Page[PortalSession]{}, err
	}
	now := s.c.now()
	return list(opts, prefixPortalSession, func(p PortalSession) PortalSessionID { return p.ID },
		func(p store.PageRequest) ([]PortalSession, error) {
			return s.c.store.ListPortalSessions(ctx, ws, app, now, p)
		})
}

// Revoke ends the session now: its token is refused from then on.
// Revoking a revoked session is not an error and keeps the first
// revocation time.
func (s *PortalSessionService) Revoke(ctx context.Context, ws WorkspaceID, id PortalSessionID) (PortalSession, error) {
	if err := portalSession(ws, id); err != nil {
		return PortalSession{}, err
	}
	return s.c.store.RevokePortalSession(ctx, ws, id, s.c.now())
}

// RevokeAll ends every active session of the application, as when the
// customer's access is withdrawn, and returns how many it ended.
func (s *PortalSessionService) RevokeAll(ctx context.Context, ws WorkspaceID, app ApplicationID) (int, error) {
	if err := workspace(ws); err != nil {
		return 0, err
	}
	if err := subject("applicationId", prefixApplication, app); err != nil {
		return 0, err
	}
	return s.c.store.RevokePortalSessions(ctx, ws, app, s.c.now())
}

// Authenticate returns the portal that an active session's token opens.
// A malformed, unknown, expired or revoked token is ErrUnauthorized; they
// are not told apart. Call it for every request: a Portal does not notice
// that its session was revoked after it was returned.
func (s *PortalSessionService) Authenticate(ctx context.Context, token string) (*Portal, error) {
	rest, ok := strings.CutPrefix(token, PortalTokenPrefix)
	if !ok || len(rest) != keyChars || !allBase62(rest) {
		return nil, errPortalUnauthorized()
	}
	ps, err := s.c.store.GetPortalSessionByHash(ctx, sha256.Sum256([]byte(token)))
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, errPortalUnauthorized()
	case err != nil:
		return nil, err
	case !ps.Active(s.c.now()):
		return nil, errPortalUnauthorized()
	}
	return &Portal{c: s.c, session: ps}, nil
}

func errPortalUnauthorized() error {
	return &Error{Kind: ErrUnauthorized, Message: "portal session is missing, unknown, expired or revoked; ask for a new portal link"}
}

func portalSession(ws WorkspaceID, id PortalSessionID) error {
	if err := workspace(ws); err != nil {
		return err
	}
	return subject("", prefixPortalSession, id)
}
