// Environments: a workspace's separate sets of keys, endpoints and
// event-type visibility, and the default one every workspace has.

package nahook

import (
	"context"

	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
)

// EnvironmentService manages environments: separate sets of API keys,
// endpoints and event-type visibility within a workspace. Get it from
// Client.Environments.
type EnvironmentService struct{ c *Client }

// EnvironmentInput creates an environment.
type EnvironmentInput struct {
	// Name is required: 1 to 100 characters after trimming.
	Name string
	// Slug is 1 to 63 lowercase letters and digits, with single hyphens
	// between them ("staging", "eu-prod"), unique within the workspace.
	Slug string
}

// EnvironmentPatch changes an environment; nil fields are left as they are.
type EnvironmentPatch struct {
	Name *string
	Slug *string
}

// Create creates an environment. A new environment has no event type
// published: visibility is never copied from another environment. It
// returns ErrLimitExceeded when the workspace already has MaxEnvironments
// and ErrConflict when the slug is taken.
func (s *EnvironmentService) Create(ctx context.Context, ws WorkspaceID, in EnvironmentInput) (Environment, error) {
	if err := workspace(ws); err != nil {
		return Environment{}, err
	}
	n, err := name("name", in.Name, 1, 100)
	if err != nil {
		return Environment{}, err
	}
	if err := checkSlug(in.Slug); err != nil {
		return Environment{}, err
	}
	now := s.c.now()
	env := Environment{
		ID:          EnvironmentID(typeid.New(prefixEnvironment)),
		WorkspaceID: ws,
		Name:        n,
		Slug:        in.Slug,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	if err := s.c.wrote(ws, s.c.store.CreateEnvironment(ctx, env)); err != nil {
		return Environment{}, err
	}
	return env, nil
}

// Get returns the environment, or ErrNotFound.
func (s *EnvironmentService) Get(ctx context.Context, ws WorkspaceID, id EnvironmentID) (Environment, error) {
	if err := environment(ws, id); err != nil {
		return Environment{}, err
	}
	return s.c.store.GetEnvironment(ctx, ws, id)
}

// Default returns the workspace's default environment.
func (s *EnvironmentService) Default(ctx context.Context, ws WorkspaceID) (Environment, error) {
	if err := workspace(ws); err != nil {
		return Environment{}, err
	}
	return s.c.store.GetDefaultEnvironment(ctx, ws)
}

// environmentOrDefault returns env, or the workspace's default environment
// when env is empty. The default environment cannot be deleted, so it is
// still there when the record naming it is stored.
func (c *Client) environmentOrDefault(ctx context.Context, ws WorkspaceID, env EnvironmentID) (EnvironmentID, error) {
	if env != "" {
		return env, nil
	}
	def, err := c.store.GetDefaultEnvironment(ctx, ws)
	return def.ID, err
}

// List returns one page of the workspace's environments, oldest (the
// default) first.
func (s *EnvironmentService) List(ctx context.Context, ws WorkspaceID, opts ListOptions) (Page[Environment], error) {
	if err := workspace(ws); err != nil {
		return Page[Environment]{}, err
	}
	return list(opts, prefixEnvironment, func(e Environment) EnvironmentID { return e.ID },
		func(p store.PageRequest) ([]Environment, error) { return s.c.store.ListEnvironments(ctx, ws, p) })
}

// Update applies p and returns the environment as it now is.
func (s *EnvironmentService) Update(ctx context.Context, ws WorkspaceID, id EnvironmentID, p EnvironmentPatch) (Environment, error) {
	if err := environment(ws, id); err != nil {
		return Environment{}, err
	}
	u := store.EnvironmentUpdate{UpdatedAt: s.c.now()}
	if p.Name != nil {
		n, err := name("name", *p.Name, 1, 100)
		if err != nil {
			return Environment{}, err
		}
		u.Name = &n
	}
	if p.Slug != nil {
		if err := checkSlug(*p.Slug); err != nil {
			return Environment{}, err
		}
		u.Slug = p.Slug
	}
	if u.Name == nil && u.Slug == nil {
		return s.c.store.GetEnvironment(ctx, ws, id)
	}
	env, err := s.c.store.UpdateEnvironment(ctx, ws, id, u)
	return env, s.c.wrote(ws, err)
}

// Delete deletes the environment together with its API keys, its endpoints
// and its event-type visibility. The default environment cannot be deleted:
// that is ErrDefaultEnvironment.
func (s *EnvironmentService) Delete(ctx context.Context, ws WorkspaceID, id EnvironmentID) error {
	if err := environment(ws, id); err != nil {
		return err
	}
	return s.c.wrote(ws, s.c.store.DeleteEnvironment(ctx, ws, id))
}

func environment(ws WorkspaceID, id EnvironmentID) error {
	if err := workspace(ws); err != nil {
		return err
	}
	return subject("", prefixEnvironment, id)
}

// checkSlug enforces the slug format: lowercase alphanumeric runs joined by
// single hyphens, 1 to 63 characters, so a slug is safe in a URL path and a
// DNS label alike.
func checkSlug(slug string) error {
	const rule = "slug must be 1 to 63 lowercase letters or digits, with single hyphens between them (like \"eu-prod\")"
	if len(slug) == 0 || len(slug) > 63 {
		return store.Invalid("slug", rule)
	}
	for i := 0; i < len(slug); i++ {
		c := slug[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && i > 0 && i < len(slug)-1 && slug[i-1] != '-':
		default:
			return store.Invalid("slug", rule)
		}
	}
	return nil
}
