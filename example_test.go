package nahook_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store/sqlite"
)

// open returns a client on a private in-memory database. A host program
// passes a file name instead, such as "nahook.db".
func open(ctx context.Context) *nahook.Client {
	st, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	nh, err := nahook.New(st, nahook.Config{})
	if err != nil {
		log.Fatal(err)
	}
	return nh
}

// The whole setup of one customer: a workspace, a staging environment, an
// event type published there, an application with an endpoint, and the API
// key that ingests into staging.
func Example() {
	ctx := context.Background()
	nh := open(ctx)

	ws, _ := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme SaaS"})
	staging, _ := nh.Environments.Create(ctx, ws.ID, nahook.EnvironmentInput{Name: "Staging", Slug: "staging"})
	orderCreated, _ := nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"})
	_ = nh.EventTypes.SetPublished(ctx, ws.ID, staging.ID, orderCreated.ID, true)
	app, _ := nh.Applications.Create(ctx, ws.ID, nahook.ApplicationInput{ExternalID: "cust_123", Name: "Acme Corp"})
	ep, err := nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{
		EnvironmentID: staging.ID,
		ApplicationID: app.ID,
		URL:           "https://acme.com/webhooks",
		EventTypes:    []string{"order.created"},
	})
	if err != nil {
		log.Fatal(err)
	}
	key, _ := nh.APIKeys.Create(ctx, ws.ID, nahook.APIKeyInput{EnvironmentID: staging.ID, Name: "backend"})

	fmt.Println("endpoint", ep.URL, "in", staging.Slug, "receives", ep.EventTypes)
	fmt.Println("key kind:", key.Kind, "prefix:", key.Plaintext[:4])
	// Output:
	// endpoint https://acme.com/webhooks in staging receives [order.created]
	// key kind: environment prefix: nhk_
}

// Every broken rule is an *nahook.Error: errors.Is tells its kind, and
// Field names the input at fault.
func ExampleError() {
	ctx := context.Background()
	nh := open(ctx)
	ws, _ := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme SaaS"})

	_, err := nh.Environments.Create(ctx, ws.ID, nahook.EnvironmentInput{Name: "Staging", Slug: "Staging"})
	var e *nahook.Error
	if errors.As(err, &e) && errors.Is(err, nahook.ErrInvalid) {
		fmt.Println("invalid field:", e.Field)
	}

	_, err = nh.Environments.Create(ctx, ws.ID, nahook.EnvironmentInput{Name: "Prod again", Slug: "production"})
	fmt.Println("conflict:", errors.Is(err, nahook.ErrConflict))

	def, _ := nh.Environments.Default(ctx, ws.ID)
	err = nh.Environments.Delete(ctx, ws.ID, def.ID)
	fmt.Println(err)
	// Output:
	// invalid field: slug
	// conflict: true
	// the default environment cannot be deleted
}

// Event types are workspace-wide and start unpublished in every
// environment; Visibility lists them with their state in one environment.
func ExampleEventTypeService_Visibility() {
	ctx := context.Background()
	nh := open(ctx)
	ws, _ := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme SaaS"})
	prod, _ := nh.Environments.Default(ctx, ws.ID)
	created, _ := nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"})
	_, _ = nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.refunded"})
	_ = nh.EventTypes.SetPublished(ctx, ws.ID, prod.ID, created.ID, true)

	vis, _ := nh.EventTypes.Visibility(ctx, ws.ID, prod.ID)
	for _, v := range vis {
		fmt.Println(v.EventTypeName, v.Published)
	}
	// Output:
	// order.created true
	// order.refunded false
}

// Authenticate turns the plaintext a caller presents into the key it
// stands for; a revoked key stops working at once.
func ExampleAPIKeyService_Authenticate() {
	ctx := context.Background()
	nh := open(ctx)
	ws, _ := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme SaaS"})
	issued, _ := nh.APIKeys.Create(ctx, ws.ID, nahook.APIKeyInput{Name: "backend"})

	k, err := nh.APIKeys.Authenticate(ctx, issued.Plaintext)
	fmt.Println(k.ID == issued.ID, err)

	_, _ = nh.APIKeys.Revoke(ctx, ws.ID, issued.ID)
	_, err = nh.APIKeys.Authenticate(ctx, issued.Plaintext)
	fmt.Println(errors.Is(err, nahook.ErrUnauthorized))
	// Output:
	// true <nil>
	// true
}

// Lists come a page at a time; NextCursor fetches the next page and is
// empty on the last.
func ExampleApplicationService_List() {
	ctx := context.Background()
	nh := open(ctx)
	ws, _ := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme SaaS"})
	for _, name := range []string{"Acme Corp", "Globex", "Initech"} {
		_, _ = nh.Applications.Create(ctx, ws.ID, nahook.ApplicationInput{Name: name})
	}

	opts := nahook.ListOptions{Limit: 2}
	for {
		page, err := nh.Applications.List(ctx, ws.ID, opts)
		if err != nil {
			log.Fatal(err)
		}
		for _, app := range page.Items {
			fmt.Println(app.Name)
		}
		if page.NextCursor == "" {
			break
		}
		opts.Cursor = page.NextCursor
	}
	// Output:
	// Acme Corp
	// Globex
	// Initech
}

// A host program's handler asks the router where an event goes, with the
// API key it came with. This is the seed's example: a staging key sends
// order.created; endpoint A (staging, subscribed) receives it, B
// (production) and C (not subscribed) do not.
func ExampleRouter_Resolve() {
	ctx := context.Background()
	nh := open(ctx)
	defer nh.Close()
	ws, _ := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme SaaS"})
	prod, _ := nh.Environments.Default(ctx, ws.ID)
	staging, _ := nh.Environments.Create(ctx, ws.ID, nahook.EnvironmentInput{Name: "Staging", Slug: "staging"})
	created, _ := nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"})
	_, _ = nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.refunded"})
	_ = nh.EventTypes.SetPublished(ctx, ws.ID, staging.ID, created.ID, true)
	for _, ep := range []nahook.EndpointInput{
		{EnvironmentID: staging.ID, URL: "https://a.example/hook", EventTypes: []string{"order.created"}},
		{EnvironmentID: prod.ID, URL: "https://b.example/hook", EventTypes: []string{"order.created"}},
		{EnvironmentID: staging.ID, URL: "https://c.example/hook", EventTypes: []string{"order.refunded"}},
	} {
		_, _ = nh.Endpoints.Create(ctx, ws.ID, ep)
	}
	key, _ := nh.APIKeys.Create(ctx, ws.ID, nahook.APIKeyInput{EnvironmentID: staging.ID})

	route, err := nh.Router.Resolve(ctx, key.Plaintext, "order.created")
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range route.Endpoints() {
		fmt.Println("deliver to", t.URL)
	}
	_, err = nh.Router.Resolve(ctx, key.Plaintext, "order.refunded")
	fmt.Println("order.refunded not published:", errors.Is(err, nahook.ErrNotPublished))

	x, _ := nh.Router.Explain(ctx, key.Plaintext, "order.created")
	for _, v := range x.Endpoints {
		fmt.Println(v.URL, v.Receives, v.Reasons)
	}
	// Output:
	// deliver to https://a.example/hook
	// order.refunded not published: true
	// https://a.example/hook true []
	// https://b.example/hook false [other_environment]
	// https://c.example/hook false [not_subscribed]
}

// A portal session hands one customer their application's endpoints: the
// Portal its token opens reaches those, in one environment, and nothing
// else.
func ExamplePortalSessionService() {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	nh, _ := nahook.New(st, nahook.Config{PortalURL: "https://example.com/portal/"})
	defer nh.Close()

	ws, _ := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme SaaS"})
	acme, _ := nh.Applications.Create(ctx, ws.ID, nahook.ApplicationInput{Name: "Acme Corp"})
	globex, _ := nh.Applications.Create(ctx, ws.ID, nahook.ApplicationInput{Name: "Globex"})
	theirs, _ := nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{ApplicationID: globex.ID, URL: "https://globex.example/hook"})

	s, _ := nh.PortalSessions.Create(ctx, ws.ID, nahook.PortalSessionInput{ApplicationID: acme.ID})
	fmt.Println(strings.HasPrefix(s.URL, "https://example.com/portal/#token=nhp_"), s.ExpiresAt.Sub(s.CreatedAt))

	// The customer's browser comes back with the token.
	p, err := nh.PortalSessions.Authenticate(ctx, s.Token)
	if err != nil {
		log.Fatal(err)
	}
	ep, _ := p.CreateEndpoint(ctx, nahook.PortalEndpointInput{URL: "https://acme.example/hook"})
	fmt.Println(ep.ApplicationID == acme.ID)
	_, err = p.GetEndpoint(ctx, theirs.ID)
	fmt.Println(errors.Is(err, nahook.ErrNotFound))

	_, _ = nh.PortalSessions.RevokeAll(ctx, ws.ID, acme.ID)
	_, err = nh.PortalSessions.Authenticate(ctx, s.Token)
	fmt.Println(errors.Is(err, nahook.ErrUnauthorized))
	// Output:
	// true 1h0m0s
	// true
	// true
	// true
}
