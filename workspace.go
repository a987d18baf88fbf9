// Workspaces: the top-level scope every other resource lives in.

package nahook

import (
	"context"

	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
)

// WorkspaceService manages workspaces, the top-level scope of everything
// else. Get it from Client.Workspaces.
type WorkspaceService struct{ c *Client }

// WorkspaceInput creates a workspace.
type WorkspaceInput struct {
	// Name is required: 1 to 256 characters after trimming.
	Name string
}

// WorkspacePatch changes a workspace; nil fields are left as they are.
type WorkspacePatch struct {
	Name *string
}

// Default environment every workspace is created with.
const (
	DefaultEnvironmentName = "Production"
	DefaultEnvironmentSlug = "production"
)

// Create creates a workspace together with its default environment,
// Production (slug "production"), in one step.
func (s *WorkspaceService) Create(ctx context.Context, in WorkspaceInput) (Workspace, error) {
	n, err := name("name", in.Name, 1, 256)
	if err != nil {
		return Workspace{}, err
	}
	now := s.c.now()
	ws := Workspace{ID: WorkspaceID(typeid.New(prefixWorkspace)), Name: n, CreatedAt: now, UpdatedAt: now}
	env := Environment{
		ID:          EnvironmentID(typeid.New(prefixEnvironment)),
		WorkspaceID: ws.ID,
		Name:        DefaultEnvironmentName,
		Slug:        DefaultEnvironmentSlug,
		IsDefault:   true,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	if err := s.c.wrote(ws.ID, s.c.store.CreateWorkspace(ctx, ws, env)); err != nil {
		return Workspace{}, err
	}
	return ws, nil
}

// Get returns the workspace, or ErrNotFound.
func (s *WorkspaceService) Get(ctx context.Context, id WorkspaceID) (Workspace, error) {
	if err := subject("", prefixWorkspace, id); err != nil {
		return Workspace{}, err
	}
	return s.c.store.GetWorkspace(ctx, id)
}

// List returns one page of workspaces, oldest first.
func (s *WorkspaceService) List(ctx context.Context, opts ListOptions) (Page[Workspace], error) {
	return list(opts, prefixWorkspace, func(w Workspace) WorkspaceID { return w.ID },
		func(p store.PageRequest) ([]Workspace, error) { return s.c.store.ListWorkspaces(ctx, p) })
}

// Update applies p and returns the workspace as it now is.
func (s *WorkspaceService) Update(ctx context.Context, id WorkspaceID, p WorkspacePatch) (Workspace, error) {
	if err := subject("", prefixWorkspace, id); err != nil {
		return Workspace{}, err
	}
	u := store.WorkspaceUpdate{UpdatedAt: s.c.now()}
	if p.Name != nil {
		n, err := name("name", *p.Name, 1, 256)
		if err != nil {
			return Workspace{}, err
		}
		u.Name = &n
	}
	if u.Name == nil {
		return s.c.store.GetWorkspace(ctx, id)
	}
	ws, err := s.c.store.UpdateWorkspace(ctx, id, u)
	return ws, s.c.wrote(id, err)
}

// Delete deletes the workspace and everything in it: environments,
// applications, event types, endpoints and API keys.
func (s *WorkspaceService) Delete(ctx context.Context, id WorkspaceID) error {
	if err := subject("", prefixWorkspace, id); err != nil {
		return err
	}
	return s.c.wrote(id, s.c.store.DeleteWorkspace(ctx, id))
}
