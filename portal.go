package nahook

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/url"
	"slices"
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
	if err := subject("applicationId", "application", prefixApplication, app); err != nil {
		return Page[PortalSession]{}, err
	}
	now := s.c.now()
	return list(opts, prefixPortalSession, func(p PortalSession) PortalSessionID { return p.ID },
		func(p store.Page) ([]PortalSession, error) { return s.c.store.ListPortalSessions(ctx, ws, app, now, p) })
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
	if err := subject("applicationId", "application", prefixApplication, app); err != nil {
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
	return subject("", "portal session", prefixPortalSession, id)
}

// Portal is what one portal session may do: manage its application's
// endpoints in its environment and read the event types published there.
// An endpoint outside that scope is ErrNotFound, exactly as one that does
// not exist. Get one from PortalSessionService.Authenticate, per request.
//
// Routing is by environment and event type: an event ingested without
// IngestInput.ApplicationID reaches every subscribed endpoint of the
// environment, those customers made here included. Ingest events about
// one customer with its ApplicationID, so that no other customer's
// endpoint receives them.
type Portal struct {
	c *Client
	// session is the session the portal was opened with. It is unexported
	// so that no caller can widen the portal's scope by changing it.
	session PortalSession
}

// Session returns the session the portal was opened with: its scope
// (workspace, application, environment) and its lifetime. It is a copy;
// changing it changes nothing the portal may do.
func (p *Portal) Session() PortalSession { return p.session }

// PortalEndpointInput creates an endpoint through the portal: always in
// the session's application and environment.
type PortalEndpointInput struct {
	// URL is where deliveries go, under the rules of EndpointInput.URL.
	URL string
	// Description is optional, at most 1024 characters.
	Description string
	// EventTypes are the subscriptions: names of event types published in
	// the session's environment, "*" or trailing wildcards like "order.*".
	EventTypes []string
	// Disabled endpoints receive nothing until enabled.
	Disabled bool
}

// check refuses everything once the session has expired; a Portal kept
// past its request would otherwise outlive its session.
func (p *Portal) check() error {
	if !p.session.Active(p.c.now()) {
		return errPortalUnauthorized()
	}
	return nil
}

// Application returns the session's application.
func (p *Portal) Application(ctx context.Context) (Application, error) {
	if err := p.check(); err != nil {
		return Application{}, err
	}
	return p.c.store.GetApplication(ctx, p.session.WorkspaceID, p.session.ApplicationID)
}

// Environment returns the session's environment.
func (p *Portal) Environment(ctx context.Context) (Environment, error) {
	if err := p.check(); err != nil {
		return Environment{}, err
	}
	return p.c.store.GetEnvironment(ctx, p.session.WorkspaceID, p.session.EnvironmentID)
}

// EventTypes returns the event types published in the session's
// environment, by name: the ones its endpoints can subscribe to. Those
// published elsewhere or nowhere are not shown.
func (p *Portal) EventTypes(ctx context.Context) ([]EventType, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	published, err := p.published(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]EventType, 0, len(published))
	opts := ListOptions{Limit: MaxLimit}
	for {
		page, err := p.c.EventTypes.List(ctx, p.session.WorkspaceID, opts)
		if err != nil {
			return nil, err
		}
		for _, et := range page.Items {
			if published[et.Name] {
				out = append(out, et)
			}
		}
		if page.NextCursor == "" {
			break
		}
		opts.Cursor = page.NextCursor
	}
	slices.SortFunc(out, func(a, b EventType) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// published returns the names of the event types published in the
// session's environment.
func (p *Portal) published(ctx context.Context) (map[string]bool, error) {
	vis, err := p.c.store.ListEventTypeVisibility(ctx, p.session.WorkspaceID, p.session.EnvironmentID)
	if err != nil {
		return nil, err
	}
	names := make(map[string]bool, len(vis))
	for _, v := range vis {
		if v.Published {
			names[v.EventTypeName] = true
		}
	}
	return names, nil
}

// checkPublished refuses a subscription to an event type not published in
// the session's environment, so that the portal reveals no other name of
// the catalogue. Names the endpoint already has stay allowed: an operator
// may have subscribed it to one, and an edit must not drop it.
func (p *Portal) checkPublished(ctx context.Context, patterns, kept []string) error {
	published, err := p.published(ctx)
	if err != nil {
		return err
	}
	for i, pat := range patterns {
		if _, wild := wildcardPrefix(pat); wild || pat == "*" || published[pat] || slices.Contains(kept, pat) {
			continue
		}
		return store.Invalid(indexed("eventTypes", i), "%s is not an event type published in this environment", quote(pat))
	}
	return nil
}

// ListEndpoints returns one page of the application's endpoints in the
// session's environment, oldest first.
func (p *Portal) ListEndpoints(ctx context.Context, opts ListOptions) (Page[Endpoint], error) {
	if err := p.check(); err != nil {
		return Page[Endpoint]{}, err
	}
	return p.c.Endpoints.List(ctx, p.session.WorkspaceID,
		EndpointFilter{EnvironmentID: p.session.EnvironmentID, ApplicationID: p.session.ApplicationID}, opts)
}

// GetEndpoint returns one of the application's endpoints in the session's
// environment, or ErrNotFound.
func (p *Portal) GetEndpoint(ctx context.Context, id EndpointID) (Endpoint, error) {
	if err := p.check(); err != nil {
		return Endpoint{}, err
	}
	ep, err := p.c.Endpoints.Get(ctx, p.session.WorkspaceID, id)
	if err != nil {
		return Endpoint{}, err
	}
	// An endpoint's application and environment never change, so an
	// endpoint found in scope here is still in scope when it is written.
	if ep.ApplicationID != p.session.ApplicationID || ep.EnvironmentID != p.session.EnvironmentID {
		return Endpoint{}, store.NotFound("", "endpoint", id)
	}
	return ep, nil
}

// CreateEndpoint creates an endpoint for the application in the session's
// environment. Once the application has Config.PortalMaxEndpoints there,
// it is ErrLimitExceeded.
func (p *Portal) CreateEndpoint(ctx context.Context, in PortalEndpointInput) (Endpoint, error) {
	if err := p.check(); err != nil {
		return Endpoint{}, err
	}
	// The input is checked in the order EndpointService.Create checks it,
	// and the catalogue only consulted for input worth storing.
	if err := checkURL(in.URL, p.c.cfg.AllowPrivateURLs); err != nil {
		return Endpoint{}, err
	}
	if _, err := description("description", in.Description, MaxDescriptionChars); err != nil {
		return Endpoint{}, err
	}
	subs, err := checkSubscriptions(in.EventTypes)
	if err != nil {
		return Endpoint{}, err
	}
	if err := p.checkPublished(ctx, subs, nil); err != nil {
		return Endpoint{}, err
	}
	limit := p.c.cfg.PortalMaxEndpoints
	switch {
	case limit == 0:
		limit = DefaultPortalMaxEndpoints
	case limit < 0:
		limit = 0
	}
	return p.c.Endpoints.create(ctx, p.session.WorkspaceID, EndpointInput{
		EnvironmentID: p.session.EnvironmentID,
		ApplicationID: p.session.ApplicationID,
		URL:           in.URL,
		Description:   in.Description,
		EventTypes:    subs,
		Disabled:      in.Disabled,
	}, limit)
}

// UpdateEndpoint applies patch to one of the application's endpoints and
// returns it as it now is.
func (p *Portal) UpdateEndpoint(ctx context.Context, id EndpointID, patch EndpointPatch) (Endpoint, error) {
	ep, err := p.GetEndpoint(ctx, id)
	if err != nil {
		return Endpoint{}, err
	}
	if patch.EventTypes != nil {
		subs, err := checkSubscriptions(patch.EventTypes)
		if err != nil {
			return Endpoint{}, err
		}
		if err := p.checkPublished(ctx, subs, ep.EventTypes); err != nil {
			return Endpoint{}, err
		}
	}
	return p.c.Endpoints.Update(ctx, p.session.WorkspaceID, id, patch)
}

// DeleteEndpoint deletes one of the application's endpoints.
func (p *Portal) DeleteEndpoint(ctx context.Context, id EndpointID) error {
	if _, err := p.GetEndpoint(ctx, id); err != nil {
		return err
	}
	return p.c.Endpoints.Delete(ctx, p.session.WorkspaceID, id)
}

// Secret returns the signing secret of one of the application's endpoints.
func (p *Portal) Secret(ctx context.Context, id EndpointID) (string, error) {
	if _, err := p.GetEndpoint(ctx, id); err != nil {
		return "", err
	}
	return p.c.Endpoints.Secret(ctx, p.session.WorkspaceID, id)
}

// RotateSecret gives one of the application's endpoints a new signing
// secret, as EndpointService.RotateSecret does.
func (p *Portal) RotateSecret(ctx context.Context, id EndpointID) (string, error) {
	if _, err := p.GetEndpoint(ctx, id); err != nil {
		return "", err
	}
	return p.c.Endpoints.RotateSecret(ctx, p.session.WorkspaceID, id)
}

// ListDeliveries returns one page of an endpoint's deliveries, newest
// first; a status other than empty lists only those with it.
func (p *Portal) ListDeliveries(ctx context.Context, id EndpointID, status DeliveryStatus, opts ListOptions) (Page[Delivery], error) {
	if _, err := p.GetEndpoint(ctx, id); err != nil {
		return Page[Delivery]{}, err
	}
	// GetEndpoint found it in scope: the list need not look it up again.
	return p.c.Deliveries.list(ctx, p.session.WorkspaceID, DeliveryFilter{EndpointID: id, Status: status, NewestFirst: true}, opts)
}

// Revoke ends the portal's own session, as signing out does.
func (p *Portal) Revoke(ctx context.Context) error {
	_, err := p.c.store.RevokePortalSession(ctx, p.session.WorkspaceID, p.session.ID, p.c.now())
	return err
}
