// Package nahooktest lets a host program's own tests check the webhooks
// its code sends, without opening a port or sleeping: "this handler sent
// order.created to Acme's endpoint, signed".
//
// New gives a test a Kit: a nahook.Client on an in-memory SQLite store
// (closed when the test ends), whose clock stands still until the test
// moves it, and whose deliveries go to a recording http.RoundTripper
// instead of the network. The test hands Kit.Client to the code under
// test, calls Kit.Flush to deliver what that code sent, and reads what
// was sent with Kit.Sent, checking each request's signature with
// Kit.Verify:
//
//	func TestPlaceOrder(t *testing.T) {
//		kit := nahooktest.New(t)
//		ws, acme, ep := setUp(t, kit.Client) // a workspace, an application, its endpoint
//		shop := &Shop{Webhooks: kit.Client}
//
//		shop.PlaceOrder(ctx, acme, "ord_1")
//		kit.Flush(ctx)
//
//		sent := kit.Sent(ep)
//		if len(sent) != 1 || sent[0].EventType() != "order.created" {
//			t.Fatalf("sent %v, want one order.created", sent)
//		}
//		if err := kit.Verify(ctx, sent[0], ep); err != nil {
//			t.Fatal(err)
//		}
//	}
//
// Retries are tested by moving the clock: answer 503 with
// Transport.Respond, Flush, Clock.Advance past the retry, Flush again.
// The code under test must not run Client.Deliver itself: Flush is what
// delivers.
package nahooktest
