// Command embed shows nahook inside a host program's own HTTP server: the
// host's handler for new orders stores the order and sends its
// order.created event in one transaction of its own, so that an order
// committed is always announced and an order rolled back never is.
//
//	go run ./examples/embed
//	curl -X POST localhost:8081/orders -d '{"customer": "cust_123", "total": 4200}'
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/examples/internal/opendb"
	"github.com/nahook/nahook/store"
	"github.com/nahook/nahook/store/postgres"
	"github.com/nahook/nahook/store/sqlite"
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
	ws, err := setup(ctx, nh)
	if err != nil {
		log.Fatal(err)
	}
	sh, err := openShop(ctx, st)
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("POST /orders", orders(nh, ws, sh))
	slog.Info("try: curl -X POST http://" + *addr + `/orders -d '{"customer": "cust_123", "total": 4200}'`)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// setup gives the demo a workspace with order.created published in
// production, and two customers with an endpoint each subscribed to
// order.*. A real host program does this through its own admin flows,
// once. The host's own code needs no API key to send.
func setup(ctx context.Context, nh *nahook.Client) (nahook.WorkspaceID, error) {
	ws, err := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Shop"})
	if err != nil {
		return "", err
	}
	prod, err := nh.Environments.Default(ctx, ws.ID)
	if err != nil {
		return "", err
	}
	et, err := nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"})
	if err != nil {
		return "", err
	}
	if err := nh.EventTypes.SetPublished(ctx, ws.ID, prod.ID, et.ID, true); err != nil {
		return "", err
	}
	for _, c := range []struct{ id, name, url string }{
		{"cust_123", "Acme Corp", "https://acme.example/webhooks"},
		{"cust_456", "Globex", "https://globex.example/hooks"},
	} {
		app, err := nh.Applications.Create(ctx, ws.ID, nahook.ApplicationInput{Name: c.name, ExternalID: c.id})
		if err != nil {
			return "", err
		}
		if _, err := nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{
			ApplicationID: app.ID, URL: c.url, EventTypes: []string{"order.*"},
		}); err != nil {
			return "", err
		}
	}
	return ws.ID, nil
}

// orders is the host's own handler. It stores the order and sends
// order.created for the customer in the same transaction: no API key, and
// an event for the customer reaches that customer's endpoints only.
func orders(nh *nahook.Client, ws nahook.WorkspaceID, sh shop) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var order struct {
			Customer string `json:"customer"`
			Total    int    `json:"total"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&order); err != nil || order.Customer == "" {
			http.Error(w, "the order must be JSON with a customer", http.StatusBadRequest)
			return
		}
		payload, _ := json.Marshal(order)
		var sent nahook.Ingested
		err := sh.place(r.Context(), order.Customer, order.Total, func(tx store.Tx) (err error) {
			sent, err = nh.Events.SendTx(r.Context(), tx, nahook.Message{
				WorkspaceID:           ws,
				ApplicationExternalID: order.Customer,
				EventType:             "order.created",
				Payload:               payload,
			})
			return err
		})
		if errors.Is(err, nahook.ErrNotFound) {
			http.Error(w, "no such customer", http.StatusNotFound) // and no order was stored
			return
		} else if err != nil {
			slog.Error("placing an order", "err", err)
			http.Error(w, "placing the order failed", http.StatusInternalServerError)
			return
		}
		notify := []nahook.EndpointID{}
		for _, d := range sent.Deliveries {
			notify = append(notify, d.EndpointID)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"customer": order.Customer, "total": order.Total, "event": sent.Event.ID, "notify": notify})
	})
}

// shop is the host's own data, its orders, kept in the same database as
// nahook's tables so that one transaction holds both.
type shop interface {
	// place stores an order and calls send with the transaction it is in;
	// it commits only if both succeed.
	place(ctx context.Context, customer string, total int, send func(store.Tx) error) error
}

// openShop creates the host's orders table beside nahook's.
func openShop(ctx context.Context, st store.Store) (shop, error) {
	switch st := st.(type) {
	case *sqlite.Store:
		_, err := st.DB().ExecContext(ctx, `CREATE TABLE IF NOT EXISTS shop_orders (
			id INTEGER PRIMARY KEY, customer TEXT NOT NULL, total INTEGER NOT NULL)`)
		return sqliteShop{st.DB()}, err
	case *postgres.Store:
		_, err := st.Pool().Exec(ctx, `CREATE TABLE IF NOT EXISTS shop_orders (
			id bigserial PRIMARY KEY, customer text NOT NULL, total bigint NOT NULL)`)
		return postgresShop{st.Pool()}, err
	}
	return nil, fmt.Errorf("embed: no shop for a %T", st)
}

// sqliteShop begins on the store's writer, whose transactions begin
// IMMEDIATE (see sqlite.Tx).
type sqliteShop struct{ db *sql.DB }

func (s sqliteShop) place(ctx context.Context, customer string, total int, send func(store.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO shop_orders (customer, total) VALUES (?, ?)`, customer, total); err != nil {
		return err
	}
	if err := send(sqlite.Tx(tx)); err != nil {
		return err
	}
	return tx.Commit()
}

// postgresShop begins on the store's pool, so the transaction sees
// nahook's schema (see postgres.Tx).
type postgresShop struct{ pool *pgxpool.Pool }

func (s postgresShop) place(ctx context.Context, customer string, total int, send func(store.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `INSERT INTO shop_orders (customer, total) VALUES ($1, $2)`, customer, total); err != nil {
		return err
	}
	if err := send(postgres.Tx(tx)); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
