package nahooktest_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/nahooktest"
)

// world is what most tests need: a workspace that publishes
// order.created, its key, and an endpoint.
type world struct {
	kit *nahooktest.Kit
	ws  nahook.WorkspaceID
	key string
	ep  nahook.Endpoint
}

func newWorld(t *testing.T, opts ...nahooktest.Option) *world {
	t.Helper()
	ctx := context.Background()
	kit := nahooktest.New(t, opts...)
	nh := kit.Client
	ws := must(nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Shop"}))
	env := must(nh.Environments.Default(ctx, ws.ID))
	et := must(nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"}))
	if err := nh.EventTypes.SetPublished(ctx, ws.ID, env.ID, et.ID, true); err != nil {
		t.Fatal(err)
	}
	w := &world{kit: kit, ws: ws.ID, key: must(nh.APIKeys.Create(ctx, ws.ID, nahook.APIKeyInput{})).Plaintext}
	w.ep = w.endpoint(t, "http://localhost:8080/webhooks")
	return w
}

func (w *world) endpoint(t *testing.T, url string) nahook.Endpoint {
	t.Helper()
	ep, err := w.kit.Client.Endpoints.Create(context.Background(), w.ws, nahook.EndpointInput{URL: url, EventTypes: []string{"order.created"}})
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

func (w *world) send(t *testing.T, payload string) nahook.Ingested {
	t.Helper()
	in, err := w.kit.Client.Events.Ingest(context.Background(), w.key, "order.created", nahook.IngestInput{Payload: []byte(payload)})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func (w *world) flush(t *testing.T) int {
	t.Helper()
	n, err := w.kit.Flush(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// What the code under test sends is recorded as its receiver would get
// it, signed with the endpoint's secret, stamped with the Kit's clock.
func TestSentAndVerified(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	w := newWorld(t, nahooktest.WithStart(start))
	other := w.endpoint(t, "https://other.example/hooks")
	in := w.send(t, `{"orderId": "ord_1"}`)
	is.Equal(in.Event.CreatedAt, start) // the Client reads the Kit's clock

	is.Equal(len(w.kit.Sent(w.ep)), 0) // nothing is sent before Flush
	is.Equal(w.flush(t), 2)
	is.Equal(w.flush(t), 0) // nothing is sent twice

	sent := w.kit.Sent(w.ep)
	is.Equal(len(sent), 1)
	r := sent[0]
	is.Equal(r.URL, "http://localhost:8080/webhooks")
	is.Equal(string(r.Body), `{"orderId": "ord_1"}`)
	is.Equal(r.EventType(), "order.created")
	is.Equal(r.EventID(), in.Event.ID)
	is.Equal(r.At, start)
	is.Equal(r.Status, http.StatusOK)
	is.Equal(r.Header.Get("webhook-timestamp"), strconv.FormatInt(start.Unix(), 10))
	is.NoErr(w.kit.Verify(ctx, r, w.ep))
	is.Equal(len(w.kit.Transport.Requests()), 2)

	// The delivery is recorded as the receiver's answer says.
	d := must(w.kit.Client.Deliveries.Get(ctx, w.ws, in.Deliveries[0].ID))
	is.Equal(d.Delivery.Status, nahook.DeliverySucceeded)

	// Verify fails for what is not the endpoint's, signed by it, as sent.
	wrong := func(name string, r nahooktest.Request, ep nahook.Endpoint) {
		t.Helper()
		if err := w.kit.Verify(ctx, r, ep); !errors.Is(err, nahook.ErrSignature) {
			t.Errorf("%s: Verify = %v, want ErrSignature", name, err)
		}
	}
	wrong("another endpoint's secret", r, other)
	tampered := r
	tampered.Body = []byte(`{"orderId": "ord_2"}`)
	wrong("another body", tampered, w.ep)
	tampered = r
	tampered.Header = r.Header.Clone()
	tampered.Header.Set("webhook-id", "msg_01kaaaaaaaaaaaaaaaaaaaaaaa")
	wrong("another webhook-id", tampered, w.ep)
	tampered.Header = r.Header.Clone()
	tampered.Header.Del("webhook-signature")
	wrong("no signature", tampered, w.ep)
	tampered.Header = r.Header.Clone()
	tampered.Header.Set("webhook-timestamp", strconv.FormatInt(start.Unix()+1, 10))
	wrong("another timestamp", tampered, w.ep)
	tampered = r
	tampered.At = start.Add(time.Hour)
	wrong("sent at another time", tampered, w.ep)
}

// A retry is tested by moving the clock, not by waiting: an answer that
// fails schedules one, which Flush makes once the clock reaches it.
func TestRetryByTheClock(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	w := newWorld(t, nahooktest.WithConfig(nahook.Config{Delivery: nahook.DeliveryConfig{Schedule: []time.Duration{time.Hour}}}))
	answers := []int{http.StatusServiceUnavailable, http.StatusNoContent}
	w.kit.Transport.Respond(func(nahooktest.Request) int {
		status := answers[0]
		answers = answers[1:]
		return status
	})
	in := w.send(t, `{}`)
	is.Equal(w.flush(t), 1)
	is.Equal(w.flush(t), 0) // the retry is not due
	w.kit.Clock.Advance(30 * time.Minute)
	is.Equal(w.flush(t), 0) // nor yet: an hour, less at most 20%
	w.kit.Clock.Advance(2 * time.Hour)
	is.Equal(w.flush(t), 1)

	sent := w.kit.Sent(w.ep)
	is.Equal(len(sent), 2)
	is.Equal(sent[0].Status, http.StatusServiceUnavailable)
	is.Equal(sent[1].Status, http.StatusNoContent)
	is.Equal(sent[1].EventID(), sent[0].EventID())
	is.True(sent[1].At.Sub(sent[0].At) == 150*time.Minute) // when the clock said
	for _, r := range sent {
		is.NoErr(w.kit.Verify(ctx, r, w.ep)) // hours ahead of the time of day, still verified
	}
	d := must(w.kit.Client.Deliveries.Get(ctx, w.ws, in.Deliveries[0].ID))
	is.Equal(d.Delivery.Status, nahook.DeliverySucceeded)
	is.Equal(d.Delivery.Attempts, 2)

	w.kit.Transport.Reset()
	is.Equal(len(w.kit.Transport.Requests()), 0)
}

// Requests are found by their endpoint's URL however it is written, and
// only by it.
func TestTo(t *testing.T) {
	is := is.New(t)
	w := newWorld(t)
	a := w.endpoint(t, "https://a.example/hooks?tenant=1")
	w.send(t, `{}`)
	w.flush(t)
	is.Equal(len(w.kit.Sent(a)), 1)
	is.Equal(len(w.kit.Transport.To("https://a.example/hooks?tenant=1")), 1)
	is.Equal(len(w.kit.Transport.To("https://a.example/hooks")), 0)
	is.Equal(len(w.kit.Transport.To("https://b.example/hooks?tenant=1")), 0)
}

// New closes the Kit when its test ends: its store is gone.
func TestClosedAtTestEnd(t *testing.T) {
	var kit *nahooktest.Kit
	t.Run("inner", func(t *testing.T) { kit = nahooktest.New(t) })
	if _, err := kit.Client.Workspaces.Create(context.Background(), nahook.WorkspaceInput{Name: "After"}); err == nil {
		t.Fatal("the Kit's store still works after its test ended")
	}
}

// Flush stops when its context ends, and says so.
func TestFlushContextEnded(t *testing.T) {
	is := is.New(t)
	w := newWorld(t)
	w.send(t, `{}`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err := w.kit.Flush(ctx)
	is.True(errors.Is(err, context.Canceled))
	is.Equal(n, 0)
	is.Equal(w.flush(t), 1)
}
