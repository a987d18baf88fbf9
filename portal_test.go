package nahook_test

import (
	"context"
	"errors"
	"testing"

	"github.com/nahook/nahook"
)

// A portal's scope is read-only: changing the session a Portal reports
// does not let it reach another customer's endpoints.
func TestPortalScopeIsReadOnly(t *testing.T) {
	ctx := context.Background()
	nh := newClient(t, nahook.Config{})
	ws := must(nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme SaaS"}))
	acme := must(nh.Applications.Create(ctx, ws.ID, nahook.ApplicationInput{Name: "Acme Corp"}))
	globex := must(nh.Applications.Create(ctx, ws.ID, nahook.ApplicationInput{Name: "Globex"}))
	theirs := must(nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{ApplicationID: globex.ID, URL: "https://globex.example/hook"}))
	s := must(nh.PortalSessions.Create(ctx, ws.ID, nahook.PortalSessionInput{ApplicationID: acme.ID}))
	p := must(nh.PortalSessions.Authenticate(ctx, s.Token))

	scope := p.Session()
	scope.ApplicationID = globex.ID
	if _, err := p.GetEndpoint(ctx, theirs.ID); !errors.Is(err, nahook.ErrNotFound) {
		t.Fatalf("a portal of Acme reached Globex's endpoint: %v", err)
	}
	if got := p.Session(); got.ID != s.ID || got.ApplicationID != acme.ID || got.EnvironmentID != s.EnvironmentID {
		t.Fatalf("the portal's session became %+v; it was opened with %+v", got, s.PortalSession)
	}
}
