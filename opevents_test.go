package nahook_test

// Operational events as the host hears them: through Config.OnOperationalEvent
// and Config.OperationalWebhook, at least once, retried with backoff, never
// in the way of a delivery.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store/sqlite"
)

// heard collects the operational events a callback is given, answering
// with fail's error (nil when fail is nil) or its panic.
type heard struct {
	mu    sync.Mutex
	evs   []nahook.OperationalEvent
	calls int
	fail  func(n int) error // n counts calls from 1
}

func (h *heard) callback(_ context.Context, ev nahook.OperationalEvent) error {
	h.mu.Lock()
	h.evs = append(h.evs, ev)
	h.calls++
	n := h.calls
	h.mu.Unlock()
	if h.fail != nil {
		return h.fail(n)
	}
	return nil
}

// take returns the events heard since the last take.
func (h *heard) take() []nahook.OperationalEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	evs := h.evs
	h.evs = nil
	return evs
}

func types(evs []nahook.OperationalEvent) []nahook.OperationalEventType {
	var out []nahook.OperationalEventType
	for _, ev := range evs {
		out = append(out, ev.Type)
	}
	return out
}

// deliverDue runs DeliverDue, failing the test on error.
func deliverDue(t *testing.T, w *dueWorld) int {
	t.Helper()
	n, err := w.nh.DeliverDue(context.Background())
	if err != nil {
		t.Fatalf("DeliverDue: %v", err)
	}
	return n
}

// A customer's endpoint that keeps failing is reported failing, then its
// delivery given up and the endpoint disabled, and, once it answers again,
// recovered: each event once, naming the customer.
func TestOperationalEventsReported(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	h := &heard{}
	w := newDueWorldConfig(t, nahook.Config{OnOperationalEvent: h.callback, Delivery: nahook.DeliveryConfig{
		Schedule: []time.Duration{time.Minute, time.Minute, time.Minute}, DisableAfter: 5 * time.Minute, FailingAfter: 2}})
	app := must(w.nh.Applications.Create(ctx, w.ws, nahook.ApplicationInput{Name: "Customer"}))
	const url = "https://customer.example/hook"
	w.status[url] = http.StatusServiceUnavailable
	ep := must(w.nh.Endpoints.Create(ctx, w.ws, nahook.EndpointInput{URL: url, EventTypes: []string{"order.created"}, ApplicationID: app.ID}))
	in := must(w.nh.Events.Ingest(ctx, w.key, "order.created", nahook.IngestInput{Payload: []byte(`{}`), ApplicationID: app.ID}))
	t0 := w.clock()

	is.Equal(deliverDue(t, w), 1)
	is.Equal(len(h.take()), 0) // one failure of two
	w.advance(2 * time.Minute)
	is.Equal(deliverDue(t, w), 1)
	evs := h.take()
	is.Equal(types(evs), []nahook.OperationalEventType{nahook.EndpointFailing})
	is.Equal(evs[0].ApplicationID, app.ID) // the customer to tell
	is.Equal(evs[0].EndpointID, ep.ID)
	is.Equal(evs[0].WorkspaceID, w.ws)
	is.Equal(evs[0].FailingSince, t0)
	is.Equal(evs[0].Failures, 2)
	is.True(strings.HasPrefix(string(evs[0].ID), "op_"))

	w.advance(2 * time.Minute)
	is.Equal(deliverDue(t, w), 1)
	is.Equal(len(h.take()), 0) // failing still: reported once
	w.advance(2 * time.Minute)
	is.Equal(deliverDue(t, w), 1) // the last retry, six minutes into the streak
	evs = h.take()
	is.Equal(types(evs), []nahook.OperationalEventType{nahook.DeliveryExhausted, nahook.EndpointDisabled})
	is.Equal(evs[0].DeliveryID, in.Deliveries[0].ID)
	is.Equal(evs[0].EventID, in.Event.ID)
	is.Equal(evs[0].Failures, 4)
	is.Equal(evs[1].FailingSince, t0)
	is.Equal(evs[1].Failures, 4)
	is.Equal(evs[1].At, w.clock())
	is.True(must(w.nh.Endpoints.Get(ctx, w.ws, ep.ID)).Disabled)
	is.Equal(deliverDue(t, w), 0)
	is.Equal(len(h.take()), 0) // heard once each

	// Enabled again, and answering.
	must(w.nh.Endpoints.Update(ctx, w.ws, ep.ID, nahook.EndpointPatch{Disabled: ptr(false)}))
	w.mu.Lock()
	w.status[url] = http.StatusOK
	w.mu.Unlock()
	must(w.nh.Events.Ingest(ctx, w.key, "order.created", nahook.IngestInput{Payload: []byte(`{}`), ApplicationID: app.ID}))
	is.Equal(deliverDue(t, w), 1)
	evs = h.take()
	is.Equal(types(evs), []nahook.OperationalEventType{nahook.EndpointRecovered})
	is.Equal(evs[0].FailingSince, t0) // the streak it recovered from
	is.Equal(evs[0].Failures, 4)
}

// With nobody to hear them, no operational event is recorded: the outbox
// does not grow unread.
func TestOperationalEventsNotRecordedUnheard(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	w := newDueWorld(t, nahook.DeliveryConfig{Schedule: []time.Duration{}, DisableAfter: time.Nanosecond, FailingAfter: 1})
	w.endpoint(t, "https://down.example/hook", http.StatusGone)
	for range 3 {
		must(w.nh.Events.Ingest(ctx, w.key, "order.created", nahook.IngestInput{Payload: []byte(`{}`)}))
		deliverDue(t, w)
		w.advance(time.Second)
	}
	evs, err := w.st.ClaimOperationalEvents(ctx, w.clock().Add(time.Hour), time.Minute, 100)
	is.NoErr(err)
	is.Equal(len(evs), 0)
}

// A callback that errors or panics delays no delivery: DeliverDue makes
// every attempt due and records it, and the event waits for its retry.
func TestOperationalEventCallbackFailureDelaysNoDelivery(t *testing.T) {
	for _, c := range []struct {
		name string
		fail func(int) error
	}{
		{"error", func(int) error { return errors.New("mail server down") }},
		{"panic", func(int) error { panic("host bug") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			is := is.New(t)
			ctx := context.Background()
			var logs syncBuffer
			h := &heard{fail: c.fail}
			w := newDueWorldConfig(t, nahook.Config{OnOperationalEvent: h.callback, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
				Delivery: nahook.DeliveryConfig{Schedule: []time.Duration{}}})
			ok := w.endpoint(t, "https://ok.example/hook", http.StatusOK)
			w.endpoint(t, "https://gone.example/hook", http.StatusGone)
			ingest := func(n int) (ids []nahook.DeliveryID) {
				for range n {
					for _, d := range must(w.nh.Events.Ingest(ctx, w.key, "order.created", nahook.IngestInput{Payload: []byte(`{}`)})).Deliveries {
						if d.EndpointID == ok.ID {
							ids = append(ids, d.ID)
						}
					}
				}
				return ids
			}
			succeeded := func(ids []nahook.DeliveryID) {
				t.Helper()
				for _, id := range ids {
					is.Equal(must(w.nh.Deliveries.Get(ctx, w.ws, id)).Delivery.Status, nahook.DeliverySucceeded)
				}
			}

			first := ingest(1)
			is.Equal(deliverDue(t, w), 2)
			succeeded(first)
			is.Equal(types(h.take()), []nahook.OperationalEventType{nahook.DeliveryExhausted}) // tried, and failed

			more := ingest(3)
			is.Equal(deliverDue(t, w), 6) // every attempt due, the failed event waiting
			succeeded(more)
			is.Equal(len(h.take()), 3) // the three new ones; the first waits for its retry

			w.advance(time.Hour) // past every backoff
			is.Equal(deliverDue(t, w), 0)
			is.Equal(len(h.take()), 4) // all tried again
			if c.name == "panic" {
				is.True(strings.Contains(logs.String(), "OnOperationalEvent panicked")) // logged, with the panic
				is.True(strings.Contains(logs.String(), "host bug"))
			}
		})
	}
}

// A failed callback is tried again with a growing backoff, by the clock,
// until it takes the event, and then never again.
func TestOperationalEventCallbackRetriedWithBackoff(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	h := &heard{fail: func(n int) error {
		if n <= 3 {
			return errors.New("not yet")
		}
		return nil
	}}
	w := newDueWorldConfig(t, nahook.Config{OnOperationalEvent: h.callback, Delivery: nahook.DeliveryConfig{Schedule: []time.Duration{}}})
	w.endpoint(t, "https://gone.example/hook", http.StatusGone)
	must(w.nh.Events.Ingest(ctx, w.key, "order.created", nahook.IngestInput{Payload: []byte(`{}`)}))

	is.Equal(deliverDue(t, w), 1)
	tries := h.take()
	is.Equal(len(tries), 1)
	// Backoffs of 5s, 10s and 20s, each jittered by ±20%: each retry
	// comes neither before its shortest wait nor after its longest.
	for _, wait := range []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second} {
		w.advance(wait*8/10 - time.Millisecond)
		deliverDue(t, w)
		is.Equal(len(h.take()), 0) // not yet due
		w.advance(wait*4/10 + 2*time.Millisecond)
		deliverDue(t, w)
		again := h.take()
		is.Equal(len(again), 1)
		tries = append(tries, again...)
	}
	for i, ev := range tries {
		is.Equal(ev.ID, tries[0].ID) // the same event
		is.Equal(ev.Attempts, i+1)
	}
	w.advance(24 * time.Hour)
	deliverDue(t, w)
	is.Equal(len(h.take()), 0) // taken on the fourth try: done
}

// A callback that never returns holds up no delivery while Deliver runs.
func TestOperationalEventCallbackNeverBlocksDeliver(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	w := newDeliveryWorld(t, nahook.Config{
		OnOperationalEvent: func(ctx context.Context, ev nahook.OperationalEvent) error {
			select {
			case entered <- struct{}{}:
			default:
			}
			<-release
			return nil
		},
		Delivery: nahook.DeliveryConfig{Schedule: []time.Duration{}},
	})
	t.Cleanup(func() { close(release) }) // before Deliver is stopped
	gone := newReceiver(t, func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusGone) })
	ok := newReceiver(t, nil)
	w.endpoint(t, gone)
	okEp := w.endpoint(t, ok)
	w.ingest(t, `{"n": 1}`)
	<-entered // the callback holds the relay from now on
	in := w.ingest(t, `{"n": 2}`)
	for _, d := range in.Deliveries {
		if d.EndpointID == okEp.ID {
			w.waitStatus(t, d.ID, nahook.DeliverySucceeded)
		}
	}
}

// The operational webhook posts each event, signed as deliveries are, as
// JSON shaped like Svix's operational webhooks, through the Client's
// transport; an answer other than 2xx makes it retried.
func TestOperationalWebhook(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	ops := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	ops.setSecret(secret)
	gone := newReceiver(t, func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusGone) })
	var mu sync.Mutex
	now := time.Now().UTC().Truncate(time.Second)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	st := must(sqlite.Open(ctx, ":memory:"))
	t.Cleanup(func() { st.Close() })
	nh := must(nahook.New(st, nahook.Config{AllowPrivateURLs: true, Logger: quiet, Now: clock,
		OperationalWebhook: nahook.OperationalWebhook{URL: ops.srv.URL + "/ops", Secret: secret},
		Delivery:           nahook.DeliveryConfig{Schedule: []time.Duration{}}}))
	t.Cleanup(func() { nh.Close() })
	ws := must(nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Ops"}))
	env := must(nh.Environments.Default(ctx, ws.ID))
	must(nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"}))
	ep := must(nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: gone.srv.URL + "/hook", EventTypes: []string{"order.created"}}))
	key := must(nh.APIKeys.Create(ctx, ws.ID, nahook.APIKeyInput{})).Plaintext
	in := must(nh.Events.IngestDirect(ctx, key, ep.ID, nahook.IngestInput{Payload: []byte(`{}`)}))

	_, err := nh.DeliverDue(ctx)
	is.NoErr(err)
	is.Equal(len(ops.requests()), 1) // answered 503
	mu.Lock()
	now = now.Add(time.Minute) // past the first backoff
	mu.Unlock()
	_, err = nh.DeliverDue(ctx)
	is.NoErr(err)
	got := ops.requests()
	is.Equal(len(got), 2) // tried again, and taken
	for _, r := range got {
		is.NoErr(r.verified) // signed: the Standard Webhooks library verifies it
	}
	is.Equal(got[0].header.Get("webhook-id"), got[1].header.Get("webhook-id")) // one event, tried twice
	is.True(strings.HasPrefix(got[1].header.Get("webhook-id"), "op_"))
	var body struct {
		Type      string         `json:"type"`
		Timestamp string         `json:"timestamp"`
		Data      map[string]any `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(got[1].body)))
	dec.UseNumber()
	is.NoErr(dec.Decode(&body))
	is.Equal(body.Type, "delivery.exhausted")
	is.Equal(body.Timestamp, in.Event.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"))
	is.Equal(body.Data, map[string]any{
		"id":            got[1].header.Get("webhook-id"),
		"workspaceId":   string(ws.ID),
		"environmentId": string(env.ID),
		"endpointId":    string(ep.ID),
		"deliveryId":    string(in.Deliveries[0].ID),
		"eventId":       string(in.Event.ID),
		"failures":      json.Number("1"),
	})
	_, err = nh.DeliverDue(ctx)
	is.NoErr(err)
	is.Equal(len(ops.requests()), 2) // taken: not sent again
}

// A bad operational webhook is refused by New, naming the field.
func TestOperationalWebhookConfig(t *testing.T) {
	st := must(sqlite.Open(context.Background(), ":memory:"))
	defer st.Close()
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	for _, c := range []struct {
		name    string
		cfg     nahook.Config
		wantErr string // "" for none
	}{
		{"none", nahook.Config{}, ""},
		{"public", nahook.Config{OperationalWebhook: nahook.OperationalWebhook{URL: "https://ops.example.com/hook", Secret: secret}}, ""},
		{"loopback", nahook.Config{OperationalWebhook: nahook.OperationalWebhook{URL: "http://127.0.0.1:8080/hook", Secret: secret}}, "Config.OperationalWebhook.URL"},
		{"loopback allowed", nahook.Config{AllowPrivateURLs: true, OperationalWebhook: nahook.OperationalWebhook{URL: "http://127.0.0.1:8080/hook", Secret: secret}}, ""},
		{"not a URL", nahook.Config{OperationalWebhook: nahook.OperationalWebhook{URL: "ops", Secret: secret}}, "Config.OperationalWebhook.URL"},
		{"no secret", nahook.Config{OperationalWebhook: nahook.OperationalWebhook{URL: "https://ops.example.com/hook"}}, "Config.OperationalWebhook.Secret"},
		{"short secret", nahook.Config{OperationalWebhook: nahook.OperationalWebhook{URL: "https://ops.example.com/hook", Secret: "whsec_c2hvcnQ="}}, "Config.OperationalWebhook.Secret"},
		{"secret alone", nahook.Config{OperationalWebhook: nahook.OperationalWebhook{Secret: secret}}, "Config.OperationalWebhook.URL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			nh, err := nahook.New(st, c.cfg)
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				nh.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("New: error %v, want one naming %s", err, c.wantErr)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the relay's logging and the
// test's reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
