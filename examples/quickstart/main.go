// Command quickstart walks through nahook's API on an embedded SQLite
// database: it sets up a workspace the way a host program would, then breaks
// a few rules on purpose to show the errors a host gets back.
//
//	go run ./examples/quickstart              # in memory
//	go run ./examples/quickstart -db nahook.db
//	go run ./examples/quickstart -db 'postgres://user@localhost:5432/app?search_path=nahook'
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/examples/internal/opendb"
)

func main() {
	db := flag.String("db", ":memory:", "SQLite database file (:memory: keeps nothing), or a postgres:// URL")
	flag.Parse()
	if err := run(context.Background(), *db); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, db string) error {
	st, err := opendb.Open(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	nh, err := nahook.New(st, nahook.Config{})
	if err != nil {
		return err
	}

	// The happy path: one workspace, set up for one customer.
	ws, err := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme SaaS"})
	if err != nil {
		return err
	}
	prod, err := nh.Environments.Default(ctx, ws.ID)
	if err != nil {
		return err
	}
	staging, err := nh.Environments.Create(ctx, ws.ID, nahook.EnvironmentInput{Name: "Staging", Slug: "staging"})
	if err != nil {
		return err
	}
	created, err := nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created", Description: "An order was placed."})
	if err != nil {
		return err
	}
	if _, err := nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.refunded"}); err != nil {
		return err
	}
	for _, env := range []nahook.Environment{prod, staging} {
		if err := nh.EventTypes.SetPublished(ctx, ws.ID, env.ID, created.ID, true); err != nil {
			return err
		}
	}
	app, err := nh.Applications.Create(ctx, ws.ID, nahook.ApplicationInput{
		ExternalID: "cust_123",
		Name:       "Acme Corp",
		Metadata:   map[string]string{"plan": "enterprise"},
	})
	if err != nil {
		return err
	}
	ep, err := nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{
		EnvironmentID: staging.ID,
		ApplicationID: app.ID,
		URL:           "https://acme.com/webhooks",
		Description:   "Staging webhook",
		EventTypes:    []string{"order.*"},
	})
	if err != nil {
		return err
	}
	key, err := nh.APIKeys.Create(ctx, ws.ID, nahook.APIKeyInput{EnvironmentID: staging.ID, Name: "backend"})
	if err != nil {
		return err
	}

	out := os.Stdout
	fmt.Fprintf(out, "workspace    %s  %s\n", ws.ID, ws.Name)
	fmt.Fprintf(out, "environments %s (default), %s\n", prod.Slug, staging.Slug)
	fmt.Fprintf(out, "application  %s  %s (externalId %s)\n", app.ID, app.Name, app.ExternalID)
	fmt.Fprintf(out, "endpoint     %s  %s in %s, subscribed to %v\n", ep.ID, ep.URL, staging.Slug, ep.EventTypes)
	fmt.Fprintf(out, "API key      %s  (shown once; stored as a SHA-256 hash, listed as %s…)\n", key.Plaintext, key.Prefix)
	vis, err := nh.EventTypes.Visibility(ctx, ws.ID, staging.ID)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "visibility in staging:")
	for _, v := range vis {
		fmt.Fprintf(out, "  %-16s published=%v\n", v.EventTypeName, v.Published)
	}

	// Rules broken on purpose: each error names its kind and field.
	fmt.Fprintln(out, "\nbroken rules:")
	show := func(what string, err error) {
		var e *nahook.Error
		if errors.As(err, &e) {
			fmt.Fprintf(out, "  %-34s %-19s field=%-16q %s\n", what, e.Kind, e.Field, e.Message)
		} else {
			fmt.Fprintf(out, "  %-34s unexpected: %v\n", what, err)
		}
	}
	_, err = nh.Environments.Create(ctx, ws.ID, nahook.EnvironmentInput{Name: "Staging", Slug: "Staging"})
	show("slug with a capital letter", err)
	_, err = nh.Environments.Create(ctx, ws.ID, nahook.EnvironmentInput{Name: "Staging 2", Slug: "staging"})
	show("slug already taken", err)
	show("delete the default environment", nh.Environments.Delete(ctx, ws.ID, prod.ID))
	_, err = nh.Applications.Create(ctx, ws.ID, nahook.ApplicationInput{Name: "Acme again", ExternalID: "cust_123"})
	show("externalId already taken", err)
	_, err = nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: "http://169.254.169.254/latest"})
	show("endpoint on a link-local address", err)
	_, err = nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: "https://acme.com/h", EventTypes: []string{"order.shipped"}})
	show("subscribe to an unknown event type", err)
	for i := 2; ; i++ {
		_, err = nh.Environments.Create(ctx, ws.ID, nahook.EnvironmentInput{Name: "Extra", Slug: fmt.Sprint("extra-", i)})
		if err != nil {
			break
		}
	}
	show("an eleventh environment", err)
	return nil
}
