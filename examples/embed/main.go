// Command embed shows nahook inside a host program's own HTTP server: the
// host's handler for new orders asks the router, from memory, which of its
// customers' endpoints should hear about each order.
//
//	go run ./examples/embed
//	curl -X POST localhost:8081/orders -d '{"customer": "cust_123", "total": 4200}'
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log"
	"log/slog"
	"net/http"
	"time"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/examples/internal/opendb"
)

func main() {
	addr := flag.String("addr", "localhost:8081", "listen address")
	db := flag.String("db", ":memory:", "SQLite file or postgres:// URL")
	flag.Parse()
	ctx := context.Background()
	st, err := opendb.Open(ctx, *db)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	nh, err := nahook.New(st, nahook.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer nh.Close()
	ws, _, err := setup(ctx, nh)
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("POST /orders", orders(nh, ws))
	slog.Info("try: curl -X POST http://" + *addr + `/orders -d '{"customer": "cust_123", "total": 4200}'`)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// setup gives the demo a workspace with order.created published in
// production, two customers with an endpoint each subscribed to order.*,
// and the production key the host sends its events with. A real host
// program does this through its own admin flows, once.
func setup(ctx context.Context, nh *nahook.Client) (nahook.WorkspaceID, string, error) {
	ws, err := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Shop"})
	if err != nil {
		return "", "", err
	}
	prod, err := nh.Environments.Default(ctx, ws.ID)
	if err != nil {
		return "", "", err
	}
	et, err := nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"})
	if err != nil {
		return "", "", err
	}
	if err := nh.EventTypes.SetPublished(ctx, ws.ID, prod.ID, et.ID, true); err != nil {
		return "", "", err
	}
	for _, c := range []struct{ id, name, url string }{
		{"cust_123", "Acme Corp", "https://acme.example/webhooks"},
		{"cust_456", "Globex", "https://globex.example/hooks"},
	} {
		app, err := nh.Applications.Create(ctx, ws.ID, nahook.ApplicationInput{Name: c.name, ExternalID: c.id})
		if err != nil {
			return "", "", err
		}
		if _, err := nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{
			ApplicationID: app.ID, URL: c.url, EventTypes: []string{"order.*"},
		}); err != nil {
			return "", "", err
		}
	}
	key, err := nh.APIKeys.Create(ctx, ws.ID, nahook.APIKeyInput{EnvironmentID: prod.ID, Name: "shop backend"})
	return ws.ID, key.Plaintext, err
}

// orders is the host's own handler. After doing its own work, it asks the
// router where the customer's order.created event goes, a lookup in
// memory cheaper than the JSON decoding before it, and needing no key: an
// event for the customer reaches that customer's endpoints only.
func orders(nh *nahook.Client, ws nahook.WorkspaceID) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var order struct {
			Customer string `json:"customer"`
			Total    int    `json:"total"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&order); err != nil {
			http.Error(w, "the order must be JSON", http.StatusBadRequest)
			return
		}
		customer, err := nh.Applications.GetByExternalID(r.Context(), ws, order.Customer)
		if errors.Is(err, nahook.ErrNotFound) {
			http.Error(w, "no such customer", http.StatusNotFound)
			return
		} else if err != nil {
			http.Error(w, "looking up the customer failed", http.StatusInternalServerError)
			return
		}
		// ... the host stores the order here ...

		route, err := nh.Router.Route(r.Context(), nahook.RouteQuery{WorkspaceID: ws, ApplicationID: customer.ID, EventType: "order.created"})
		if errors.Is(err, nahook.ErrNotPublished) {
			route = nahook.Route{} // nobody is to hear of orders yet
		} else if err != nil {
			http.Error(w, "routing failed", http.StatusInternalServerError)
			return
		}
		notify := []string{}
		for i := range route.NumEndpoints() {
			notify = append(notify, route.Endpoint(i).URL)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"customer": order.Customer, "total": order.Total, "notify": notify})
	})
}
