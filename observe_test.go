package nahook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/nahooktest"
	"github.com/nahook/nahook/store/sqlite"
)

type ctxKey struct{}

// The observer hears every ingest and send by its source, with the ctx
// IngestStart returned, and what each did; every attempt with its
// outcome, the delivery's new status and its latency.
func TestObserver(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	var mu sync.Mutex
	var ingests []nahook.IngestObservation
	var attempts []nahook.AttemptObservation
	obs := nahook.Observer{
		IngestStart: func(ctx context.Context, source nahook.IngestSource) context.Context {
			return context.WithValue(ctx, ctxKey{}, source)
		},
		IngestEnd: func(ctx context.Context, o nahook.IngestObservation) {
			if ctx.Value(ctxKey{}) != o.Source {
				t.Errorf("IngestEnd for %s got the ctx of %v", o.Source, ctx.Value(ctxKey{}))
			}
			mu.Lock()
			ingests = append(ingests, o)
			mu.Unlock()
		},
		AttemptEnd: func(o nahook.AttemptObservation) {
			mu.Lock()
			attempts = append(attempts, o)
			mu.Unlock()
		},
	}
	st, err := sqlite.Open(ctx, t.TempDir()+"/nahook.db")
	is.NoErr(err)
	defer st.Close()
	start := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	clock := &nahooktest.Clock{}
	clock.Set(start)
	nh := must(nahook.New(st, nahook.Config{Now: clock.Now, AllowPrivateURLs: true, Observer: obs,
		Delivery: nahook.DeliveryConfig{Transport: answer(func(r *http.Request) int {
			if r.URL.Host == "gone.example" {
				return http.StatusGone
			}
			return http.StatusOK
		})}}))
	defer nh.Close()
	ws, key := shop(nh, "Shop")
	ok := must(nh.Endpoints.Create(ctx, ws, nahook.EndpointInput{URL: "https://ok.example/hook", EventTypes: []string{"order.created"}}))
	gone := must(nh.Endpoints.Create(ctx, ws, nahook.EndpointInput{URL: "https://gone.example/hook", EventTypes: []string{"order.created"}}))

	first := must(nh.Events.Ingest(ctx, key, "order.created", nahook.IngestInput{Payload: []byte(`{}`), IdempotencyKey: "k"}))
	must(nh.Events.Ingest(ctx, key, "order.created", nahook.IngestInput{Payload: []byte(`{}`), IdempotencyKey: "k"}))
	must(nh.Events.IngestDirect(ctx, key, ok.ID, nahook.IngestInput{Payload: []byte(`{}`)}))
	_, err = nh.Events.Send(ctx, nahook.Message{WorkspaceID: ws, EventType: "order.nope", Payload: []byte(`{}`)})
	is.True(errors.Is(err, nahook.ErrUnknownEventType))
	tx := must(st.DB().BeginTx(ctx, nil))
	_, err = nh.Events.SendTx(ctx, sqlite.Tx(tx), nahook.Message{WorkspaceID: ws, EventType: "order.created", Payload: []byte(`{"tx":1}`)})
	is.NoErr(err)
	is.NoErr(tx.Commit())

	mu.Lock()
	type seen struct {
		source     nahook.IngestSource
		deliveries int
		replayed   bool
		kind       string
	}
	var got []seen
	for _, o := range ingests {
		got = append(got, seen{o.Source, o.Deliveries, o.Replayed, o.ErrorKind()})
	}
	is.Equal(got, []seen{
		{nahook.SourceIngest, 2, false, ""},
		{nahook.SourceIngest, 2, true, ""}, // the first event's deliveries, replayed
		{nahook.SourceIngestDirect, 1, false, ""},
		{nahook.SourceSend, 0, false, "unknown_event_type"},
		{nahook.SourceSendTx, 2, false, ""},
	})
	is.Equal(ingests[1].Event.ID, first.Event.ID)
	is.Equal(ingests[3].Event, nahook.Event{}) // refused: no event
	mu.Unlock()

	clock.Advance(3 * time.Second)
	n, err := nh.DeliverDue(ctx)
	is.NoErr(err)
	is.Equal(n, 5)
	mu.Lock()
	defer mu.Unlock()
	is.Equal(len(attempts), 5)
	var succeeded, failed int
	for _, a := range attempts {
		is.Equal(a.WorkspaceID, ws)
		is.Equal(a.Number, 1)
		is.Equal(a.Start, start.Add(3*time.Second))
		switch a.EndpointID {
		case ok.ID:
			succeeded++
			is.Equal(a.Outcome, nahook.AttemptSucceeded)
			is.Equal(a.Status, nahook.DeliverySucceeded)
			is.Equal(a.StatusCode, 200)
			is.Equal(a.Latency, 3*time.Second) // ingested at start, delivered 3s later
			is.True(!a.Probation)              // succeeded in good time
		case gone.ID:
			failed++
			is.Equal(a.Outcome, nahook.AttemptFailed)
			is.Equal(a.Status, nahook.DeliveryFailed) // 410: given up at once
			is.Equal(a.StatusCode, 410)
			is.Equal(a.Latency, time.Duration(0))
			is.True(a.Probation)
		}
	}
	is.Equal([]int{succeeded, failed}, []int{3, 2})
	is.True(slices.ContainsFunc(attempts, func(a nahook.AttemptObservation) bool { return a.EventType == "" })) // the direct one
}

// answer is a transport that answers every request with the status f
// gives it, sending nothing.
type answer func(r *http.Request) int

func (f answer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: f(r), Header: http.Header{}, Body: http.NoBody, Request: r}, nil
}

func TestErrorKind(t *testing.T) {
	is := is.New(t)
	is.Equal(nahook.ErrorKind(&nahook.Error{Kind: nahook.ErrInvalid, Field: "payload"}), "invalid")
	is.Equal(nahook.ErrorKind(nahook.ErrNotPublished), "not_published")
	is.Equal(nahook.ErrorKind(context.Canceled), "canceled")
	is.Equal(nahook.ErrorKind(errors.New("boom")), "internal")
}
