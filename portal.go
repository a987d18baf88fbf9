// The developer portal: what one authenticated portal session may do,
// confined to its application's endpoints in its environment. Sessions
// are issued and checked in portalsession.go.

package nahook

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/nahook/nahook/store"
)

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
	return p.c.published(ctx, p.session.WorkspaceID, p.session.EnvironmentID)
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
		return Endpoint{}, store.Missing("", id)
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
	return p.c.Endpoints.create(ctx, p.session.WorkspaceID, EndpointInput{
		EnvironmentID: p.session.EnvironmentID,
		ApplicationID: p.session.ApplicationID,
		URL:           in.URL,
		Description:   in.Description,
		EventTypes:    subs,
		Disabled:      in.Disabled,
	}, p.c.cfg.PortalMaxEndpoints) // negative: no limit, as for create
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

// GetDelivery returns a delivery to one of the application's endpoints,
// with its event and every attempt (what the endpoint answered), or
// ErrNotFound.
func (p *Portal) GetDelivery(ctx context.Context, id DeliveryID) (DeliveryDetail, error) {
	if err := p.check(); err != nil {
		return DeliveryDetail{}, err
	}
	d, err := p.c.Deliveries.Get(ctx, p.session.WorkspaceID, id)
	if err != nil {
		return DeliveryDetail{}, err
	}
	if _, err := p.GetEndpoint(ctx, d.Delivery.EndpointID); errors.Is(err, ErrNotFound) {
		return DeliveryDetail{}, store.Missing("", id) // another's: as if it did not exist
	} else if err != nil {
		return DeliveryDetail{}, err
	}
	return d, nil
}

// Resend sends a delivery to one of the application's endpoints again, as
// DeliveryService.Resend does.
func (p *Portal) Resend(ctx context.Context, id DeliveryID) (Delivery, error) {
	if _, err := p.GetDelivery(ctx, id); err != nil {
		return Delivery{}, err
	}
	return p.c.Deliveries.Resend(ctx, p.session.WorkspaceID, id)
}

// Recover sends again the failed deliveries of one of the application's
// endpoints, as DeliveryService.Recover does, and returns how many.
func (p *Portal) Recover(ctx context.Context, endpoint EndpointID, opts RecoverOptions) (int, error) {
	if _, err := p.GetEndpoint(ctx, endpoint); err != nil {
		return 0, err
	}
	return p.c.Deliveries.Recover(ctx, p.session.WorkspaceID, endpoint, opts)
}

// ReplayMissing sends one of the application's endpoints the events it
// missed, as DeliveryService.ReplayMissing does, and returns how many.
func (p *Portal) ReplayMissing(ctx context.Context, endpoint EndpointID, opts ReplayOptions) (int, error) {
	if _, err := p.GetEndpoint(ctx, endpoint); err != nil {
		return 0, err
	}
	return p.c.Deliveries.ReplayMissing(ctx, p.session.WorkspaceID, endpoint, opts)
}

// Revoke ends the portal's own session, as signing out does.
func (p *Portal) Revoke(ctx context.Context) error {
	_, err := p.c.store.RevokePortalSession(ctx, p.session.WorkspaceID, p.session.ID, p.c.now())
	return err
}
