package nahooktest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/nahooktest"
)

// Shop is the host program: its handler places an order and tells the
// customer's endpoints.
type Shop struct {
	Webhooks *nahook.Client
	Key      string // the environment's API key
}

// PlaceOrder is the handler under test.
func (s *Shop) PlaceOrder(ctx context.Context, customer nahook.ApplicationID, orderID string) error {
	payload := fmt.Sprintf(`{"orderId":%q}`, orderID)
	_, err := s.Webhooks.Events.Ingest(ctx, s.Key, "order.created",
		nahook.IngestInput{Payload: []byte(payload), ApplicationID: customer})
	return err
}

// A test of the host's handler: it sent order.created to Acme's endpoint,
// signed, and nothing to Globex's. In a test function, New(t) replaces
// Open and the deferred Close.
func Example() {
	ctx := context.Background()
	kit, err := nahooktest.Open(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer kit.Close()

	// The world the test needs: a workspace that publishes
	// order.created, and two customers with an endpoint each.
	nh := kit.Client
	ws := must(nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Shop"}))
	env := must(nh.Environments.Default(ctx, ws.ID))
	et := must(nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"}))
	if err := nh.EventTypes.SetPublished(ctx, ws.ID, env.ID, et.ID, true); err != nil {
		log.Fatal(err)
	}
	key := must(nh.APIKeys.Create(ctx, ws.ID, nahook.APIKeyInput{}))
	endpoint := func(name, url string) (nahook.ApplicationID, nahook.Endpoint) {
		app := must(nh.Applications.Create(ctx, ws.ID, nahook.ApplicationInput{Name: name}))
		return app.ID, must(nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{
			URL: url, ApplicationID: app.ID, EventTypes: []string{"order.*"}}))
	}
	acme, acmeEndpoint := endpoint("Acme", "https://acme.example/webhooks")
	_, globexEndpoint := endpoint("Globex", "https://globex.example/webhooks")

	// The code under test.
	shop := &Shop{Webhooks: nh, Key: key.Plaintext}
	if err := shop.PlaceOrder(ctx, acme, "ord_1"); err != nil {
		log.Fatal(err)
	}

	// Deliver what it sent, and look.
	if _, err := kit.Flush(ctx); err != nil {
		log.Fatal(err)
	}
	for _, r := range kit.Sent(acmeEndpoint) {
		fmt.Printf("%s to Acme: %s, signed: %v\n", r.EventType(), r.Body, kit.Verify(ctx, r, acmeEndpoint) == nil)
	}
	fmt.Println("to Globex:", len(kit.Sent(globexEndpoint)))
	// Output:
	// order.created to Acme: {"orderId":"ord_1"}, signed: true
	// to Globex: 0
}

func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}
