package nahook

import (
	"context"
	"testing"
	"time"

	"github.com/nahook/nahook/store/sqlite"
)

// A send in the host's transaction on an in-memory SQLite store, whose one
// connection that transaction holds: the router, behind this Client's own
// write, reloads through the transaction rather than wait for it to end,
// which would be for ever; and while another reload holds the router's
// lock (the poll, say, itself waiting for the connection), the send routes
// from a snapshot of its own rather than wait for that one. Either way it
// sees the endpoint just made.
func TestSendTxInMemoryDoesNotWaitForItself(t *testing.T) {
	for _, lockHeld := range []bool{false, true} {
		name := map[bool]string{false: "reload", true: "lock-held"}[lockHeld]
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			st, err := sqlite.Open(ctx, ":memory:")
			if err != nil {
				t.Fatal(err)
			}
			c, err := New(st, Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ws := orPanic(c.Workspaces.Create(ctx, WorkspaceInput{Name: "Shop"}))
			env := orPanic(c.Environments.Default(ctx, ws.ID))
			et := orPanic(c.EventTypes.Create(ctx, ws.ID, EventTypeInput{Name: "order.created"}))
			if err := c.EventTypes.SetPublished(ctx, ws.ID, env.ID, et.ID, true); err != nil {
				t.Fatal(err)
			}
			app := orPanic(c.Applications.Create(ctx, ws.ID, ApplicationInput{Name: "Acme"}))
			if err := c.Router.Load(ctx); err != nil {
				t.Fatal(err)
			}
			// Made after the load: the router must reload to see it.
			ep := orPanic(c.Endpoints.Create(ctx, ws.ID, EndpointInput{ApplicationID: app.ID,
				URL: "https://acme.example.com/webhooks", EventTypes: []string{"order.created"}}))
			if lockHeld {
				c.Router.lock <- struct{}{}
				defer c.Router.release()
			}
			tx, err := st.DB().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			in, err := c.Events.SendTx(ctx, sqlite.Tx(tx), Message{WorkspaceID: ws.ID, ApplicationID: app.ID,
				EventType: "order.created", Payload: []byte(`{}`)})
			if err != nil {
				t.Fatalf("SendTx: %v", err)
			}
			if len(in.Deliveries) != 1 || in.Deliveries[0].EndpointID != ep.ID {
				t.Fatalf("SendTx delivered to %+v, want endpoint %s alone", in.Deliveries, ep.ID)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// orPanic returns v, or panics with err: for setup that cannot fail.
func orPanic[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
