// Endpoints: the URLs that receive events, their subscriptions and their
// signing secrets.

package nahook

import (
	"context"

	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
)

// EndpointService manages endpoints: the URLs that receive events, each in
// one environment and optionally owned by one application. Get it from
// Client.Endpoints.
type EndpointService struct{ c *Client }

// MaxURLChars bounds an endpoint URL.
const MaxURLChars = 2048

// EndpointInput creates an endpoint.
type EndpointInput struct {
	// EnvironmentID is the environment the endpoint receives events of;
	// empty means the workspace's default environment.
	EnvironmentID EnvironmentID
	// ApplicationID is the application (customer) that owns the endpoint,
	// or empty.
	ApplicationID ApplicationID
	// URL is an absolute http:// or https:// URL with a host, at most 2048
	// characters. Loopback, private, link-local and unspecified addresses
	// are refused unless Config.AllowPrivateURLs is set.
	URL string
	// Description is optional, at most 1024 characters.
	Description string
	// EventTypes are the subscriptions: event type names of the workspace,
	// "*" or trailing wildcards like "order.*". An endpoint with none
	// receives only direct deliveries.
	EventTypes []string
	// Disabled endpoints receive nothing until enabled.
	Disabled bool
}

// EndpointPatch changes an endpoint; nil fields are left as they are.
type EndpointPatch struct {
	URL         *string
	Description *string
	// EventTypes, when not nil, replaces the subscriptions whole; an empty
	// slice removes them all.
	EventTypes []string
	Disabled   *bool
}

// EndpointFilter narrows a list of endpoints; empty fields do not filter.
type EndpointFilter struct {
	EnvironmentID EnvironmentID
	ApplicationID ApplicationID
}

// Create creates an endpoint. It returns ErrNotFound when the environment or
// application is not in the workspace, and ErrInvalid when a subscription
// names an event type the workspace does not have.
func (s *EndpointService) Create(ctx context.Context, ws WorkspaceID, in EndpointInput) (Endpoint, error) {
	return s.create(ctx, ws, in, 0)
}

// create creates an endpoint; with maxPerApplication > 0, the store refuses
// it once its application has that many endpoints in its environment.
func (s *EndpointService) create(ctx context.Context, ws WorkspaceID, in EndpointInput, maxPerApplication int) (Endpoint, error) {
	if err := workspace(ws); err != nil {
		return Endpoint{}, err
	}
	if in.EnvironmentID != "" {
		if err := ref("environmentId", prefixEnvironment, in.EnvironmentID); err != nil {
			return Endpoint{}, err
		}
	}
	if in.ApplicationID != "" {
		if err := ref("applicationId", prefixApplication, in.ApplicationID); err != nil {
			return Endpoint{}, err
		}
	}
	if err := checkURL(in.URL, s.c.cfg.AllowPrivateURLs); err != nil {
		return Endpoint{}, err
	}
	d, err := description("description", in.Description, MaxDescriptionChars)
	if err != nil {
		return Endpoint{}, err
	}
	subs, err := checkSubscriptions(in.EventTypes)
	if err != nil {
		return Endpoint{}, err
	}
	env, err := s.c.environmentOrDefault(ctx, ws, in.EnvironmentID)
	if err != nil {
		return Endpoint{}, err
	}
	now := s.c.now()
	ep := Endpoint{
		ID:            EndpointID(typeid.New(prefixEndpoint)),
		WorkspaceID:   ws,
		EnvironmentID: env,
		ApplicationID: in.ApplicationID,
		URL:           in.URL,
		Description:   d,
		EventTypes:    subs,
		Disabled:      in.Disabled,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	if err := s.c.wrote(ws, s.c.store.CreateEndpoint(ctx, ep, newSigningKey(), maxPerApplication)); err != nil {
		return Endpoint{}, err
	}
	return ep, nil
}

// Get returns the endpoint, or ErrNotFound.
func (s *EndpointService) Get(ctx context.Context, ws WorkspaceID, id EndpointID) (Endpoint, error) {
	if err := endpoint(ws, id); err != nil {
		return Endpoint{}, err
	}
	return s.c.store.GetEndpoint(ctx, ws, id)
}

// List returns one page of the workspace's endpoints that match f, oldest
// first. Filtering by an environment or application that is not in the
// workspace is ErrNotFound, not an empty page.
func (s *EndpointService) List(ctx context.Context, ws WorkspaceID, f EndpointFilter, opts ListOptions) (Page[Endpoint], error) {
	if err := workspace(ws); err != nil {
		return Page[Endpoint]{}, err
	}
	if f.EnvironmentID != "" {
		if _, err := s.c.Environments.Get(ctx, ws, f.EnvironmentID); err != nil {
			return Page[Endpoint]{}, err
		}
	}
	if f.ApplicationID != "" {
		if _, err := s.c.Applications.Get(ctx, ws, f.ApplicationID); err != nil {
			return Page[Endpoint]{}, err
		}
	}
	sf := store.EndpointFilter{EnvironmentID: f.EnvironmentID, ApplicationID: f.ApplicationID}
	return list(opts, prefixEndpoint, func(e Endpoint) EndpointID { return e.ID },
		func(p store.PageRequest) ([]Endpoint, error) { return s.c.store.ListEndpoints(ctx, ws, sf, p) })
}

// Update applies p and returns the endpoint as it now is.
func (s *EndpointService) Update(ctx context.Context, ws WorkspaceID, id EndpointID, p EndpointPatch) (Endpoint, error) {
	if err := endpoint(ws, id); err != nil {
		return Endpoint{}, err
	}
	u := store.EndpointUpdate{UpdatedAt: s.c.now(), Disabled: p.Disabled}
	if p.URL != nil {
		if err := checkURL(*p.URL, s.c.cfg.AllowPrivateURLs); err != nil {
			return Endpoint{}, err
		}
		u.URL = p.URL
	}
	if p.Description != nil {
		d, err := description("description", *p.Description, MaxDescriptionChars)
		if err != nil {
			return Endpoint{}, err
		}
		u.Description = &d
	}
	if p.EventTypes != nil {
		subs, err := checkSubscriptions(p.EventTypes)
		if err != nil {
			return Endpoint{}, err
		}
		u.EventTypes = subs
	}
	if u.URL == nil && u.Description == nil && u.EventTypes == nil && u.Disabled == nil {
		return s.c.store.GetEndpoint(ctx, ws, id)
	}
	ep, err := s.c.store.UpdateEndpoint(ctx, ws, id, u)
	return ep, s.c.wrote(ws, err)
}

// Delete deletes the endpoint.
func (s *EndpointService) Delete(ctx context.Context, ws WorkspaceID, id EndpointID) error {
	if err := endpoint(ws, id); err != nil {
		return err
	}
	return s.c.wrote(ws, s.c.store.DeleteEndpoint(ctx, ws, id))
}

// Secret returns the endpoint's signing secret ("whsec_…"), which its
// receiver verifies deliveries with.
func (s *EndpointService) Secret(ctx context.Context, ws WorkspaceID, id EndpointID) (string, error) {
	if err := endpoint(ws, id); err != nil {
		return "", err
	}
	k, err := s.c.store.GetEndpointKeys(ctx, ws, id)
	if err != nil {
		return "", err
	}
	return formatSecret(k.Current), nil
}

// RotateSecret gives the endpoint a new signing secret and returns it.
// The previous one keeps signing beside it for Config.Delivery.SecretGrace
// (24 hours by default), so the receiver can switch without failing a
// delivery.
func (s *EndpointService) RotateSecret(ctx context.Context, ws WorkspaceID, id EndpointID) (string, error) {
	if err := endpoint(ws, id); err != nil {
		return "", err
	}
	grace := s.c.cfg.Delivery.SecretGrace
	k, err := s.c.store.RotateEndpointKey(ctx, ws, id, newSigningKey(), s.c.now().Add(grace))
	if err != nil {
		return "", err
	}
	return formatSecret(k.Current), nil
}

func endpoint(ws WorkspaceID, id EndpointID) error {
	if err := workspace(ws); err != nil {
		return err
	}
	return subject("", prefixEndpoint, id)
}
