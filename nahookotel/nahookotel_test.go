package nahookotel_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matryer/is"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/nahookotel"
	"github.com/nahook/nahook/store/sqlite"
)

// clock stands still but for what the transport makes an attempt take.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// transport answers by host, and makes the attempt take, by the clock,
// what the host's answer says.
type transport struct {
	clock   *clock
	answers map[string]answer
}

type answer struct {
	status int
	err    error
	takes  time.Duration
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	a := t.answers[r.URL.Host]
	t.clock.advance(a.takes)
	if a.err != nil {
		return nil, a.err
	}
	return &http.Response{StatusCode: a.status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(nil)), Request: r}, nil
}

type world struct {
	nh    *nahook.Client
	clock *clock
	ws    nahook.Workspace
	key   string
	ok    nahook.Endpoint
}

func newWorld(t testing.TB, obs nahook.Observer) *world {
	t.Helper()
	is := is.New(t)
	ctx := context.Background()
	c := &clock{now: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)}
	tr := &transport{clock: c, answers: map[string]answer{
		"ok.example":      {status: 200, takes: 100 * time.Millisecond},
		"gone.example":    {status: 410},                           // fails the delivery at once
		"slow.example":    {err: context.DeadlineExceeded},         // no answer in time: retried
		"refused.example": {err: errors.New("connection refused")}, // no answer at all: retried
	}}
	st, err := sqlite.Open(ctx, ":memory:")
	is.NoErr(err)
	t.Cleanup(func() { st.Close() })
	nh, err := nahook.New(st, nahook.Config{
		Now: c.Now, AllowPrivateURLs: true, Logger: slog.New(slog.DiscardHandler), Observer: obs,
		Delivery: nahook.DeliveryConfig{
			// One attempt at a time, so that only the transport moves the
			// clock while one is under way.
			Workers: 1, Transport: tr, Schedule: []time.Duration{time.Hour}, FailingAfter: 1,
		},
	})
	is.NoErr(err)
	t.Cleanup(func() { nh.Close() })
	w := &world{nh: nh, clock: c}
	w.ws, err = nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Shop"})
	is.NoErr(err)
	env, err := nh.Environments.Default(ctx, w.ws.ID)
	is.NoErr(err)
	et, err := nh.EventTypes.Create(ctx, w.ws.ID, nahook.EventTypeInput{Name: "order.created"})
	is.NoErr(err)
	is.NoErr(nh.EventTypes.SetPublished(ctx, w.ws.ID, env.ID, et.ID, true))
	key, err := nh.APIKeys.Create(ctx, w.ws.ID, nahook.APIKeyInput{})
	is.NoErr(err)
	w.key = key.Plaintext
	for _, host := range []string{"ok", "gone", "slow", "refused"} {
		ep, err := nh.Endpoints.Create(ctx, w.ws.ID, nahook.EndpointInput{URL: "https://" + host + ".example/hook", EventTypes: []string{"order.created"}})
		is.NoErr(err)
		if host == "ok" {
			w.ok = ep
		}
	}
	return w
}

// A known sequence of ingests and attempts gives exact figures: counts by
// every attribute, durations and latencies by the clock, the backlog, the
// endpoints by state, and the operational events.
func TestMetrics(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	tel, err := nahookotel.New(nahookotel.Options{MeterProvider: mp})
	is.NoErr(err)
	w := newWorld(t, tel.Observer())
	reg, err := tel.ObserveStats(w.nh)
	is.NoErr(err)
	defer reg.Unregister()

	// Two events to the four endpoints, one of them sent again with its
	// idempotency key; one of a type the workspace does not have; one
	// sent by host code straight to the endpoint that answers.
	for _, key := range []string{"a", "b", "a"} {
		_, err := w.nh.Events.Ingest(ctx, w.key, "order.created", nahook.IngestInput{Payload: []byte(`{"n":1}`), IdempotencyKey: key})
		is.NoErr(err)
	}
	_, err = w.nh.Events.Ingest(ctx, w.key, "order.shipped", nahook.IngestInput{Payload: []byte(`{}`)})
	is.True(errors.Is(err, nahook.ErrUnknownEventType))
	_, err = w.nh.Events.Send(ctx, nahook.Message{WorkspaceID: w.ws.ID, EndpointID: w.ok.ID, Payload: []byte(`{}`)})
	is.NoErr(err)

	// A second later, before any attempt: nine deliveries due for a
	// second, every endpoint new and on probation.
	w.clock.advance(time.Second)
	rm := collect(t, reader)
	is.Equal(counts(rm, "nahook.ingest.events"), map[string]int64{
		"nahook.outcome=accepted,nahook.source=ingest":                              2,
		"nahook.outcome=replayed,nahook.source=ingest":                              1,
		"error.type=unknown_event_type,nahook.outcome=refused,nahook.source=ingest": 1,
		"nahook.outcome=accepted,nahook.source=send":                                1,
	})
	is.Equal(counts(rm, "nahook.ingest.deliveries"), map[string]int64{"nahook.source=ingest": 8, "nahook.source=send": 1})
	is.Equal(histogramCounts(rm, "nahook.ingest.duration"), map[string]uint64{
		"nahook.outcome=accepted,nahook.source=ingest": 2,
		"nahook.outcome=replayed,nahook.source=ingest": 1,
		"nahook.outcome=refused,nahook.source=ingest":  1,
		"nahook.outcome=accepted,nahook.source=send":   1,
	})
	is.Equal(gauges(rm), map[string]float64{
		"nahook.queue.pending": 9, "nahook.queue.due": 9, "nahook.queue.in_flight": 0, "nahook.queue.oldest_due_age": 1,
		"nahook.endpoints{nahook.endpoint.state=active}":    0,
		"nahook.endpoints{nahook.endpoint.state=probation}": 4,
		"nahook.endpoints{nahook.endpoint.state=disabled}":  0,
	})

	n, err := w.nh.DeliverDue(ctx)
	is.NoErr(err)
	is.Equal(n, 9)
	rm = collect(t, reader)
	is.Equal(counts(rm, "nahook.attempts"), map[string]int64{
		"http.response.status_class=2xx,nahook.delivery.status=succeeded,nahook.outcome=succeeded": 3,
		"http.response.status_class=4xx,nahook.delivery.status=failed,nahook.outcome=failed":       2,
		"http.response.status_class=none,nahook.delivery.status=pending,nahook.outcome=timeout":    2,
		"http.response.status_class=none,nahook.delivery.status=pending,nahook.outcome=error":      2,
	})
	is.Equal(histogramCounts(rm, "nahook.attempt.duration"), map[string]uint64{
		"nahook.outcome=succeeded": 3, "nahook.outcome=failed": 2, "nahook.outcome=timeout": 2, "nahook.outcome=error": 2,
	})
	// Only the answering endpoint's attempts take time: 100ms each.
	approx(t, histogramSum(rm, "nahook.attempt.duration", "nahook.outcome=succeeded"), 0.3)
	approx(t, histogramSum(rm, "nahook.attempt.duration", "nahook.outcome=failed"), 0)
	// Its three events, ingested at the start, arrive one after another,
	// a second and 100, 200 and 300ms later, whatever else is attempted
	// between them (which takes no time).
	is.Equal(histogramCounts(rm, "nahook.delivery.latency"), map[string]uint64{"": 3})
	approx(t, histogramSum(rm, "nahook.delivery.latency", ""), 1.1+1.2+1.3)
	// The three endpoints that failed are failing (after one failure,
	// FailingAfter), and the one that answered 410 gave up both its
	// deliveries.
	is.Equal(counts(rm, "nahook.operational_events"), map[string]int64{
		"nahook.operational_event.type=endpoint.failing":   3,
		"nahook.operational_event.type=delivery.exhausted": 2,
	})
	// Left: the four retries, due in an hour; the endpoint that answered
	// is off probation.
	is.Equal(gauges(rm), map[string]float64{
		"nahook.queue.pending": 4, "nahook.queue.due": 0, "nahook.queue.in_flight": 0, "nahook.queue.oldest_due_age": 0,
		"nahook.endpoints{nahook.endpoint.state=active}":    1,
		"nahook.endpoints{nahook.endpoint.state=probation}": 3,
		"nahook.endpoints{nahook.endpoint.state=disabled}":  0,
	})
}

// Asked for, endpoints and event types are attributes of the attempt
// metrics, and event types of the accepted events'.
func TestMetricsOptIn(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	tel, err := nahookotel.New(nahookotel.Options{MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)),
		EndpointAttributes: true, EventTypeAttribute: true})
	is.NoErr(err)
	w := newWorld(t, tel.Observer())
	_, err = w.nh.Events.Send(ctx, nahook.Message{WorkspaceID: w.ws.ID, EventType: "order.created", Payload: []byte(`{}`)})
	is.NoErr(err)
	_, err = w.nh.Events.Send(ctx, nahook.Message{WorkspaceID: w.ws.ID, EventType: "order.nope", Payload: []byte(`{}`)})
	is.True(err != nil)
	_, err = w.nh.DeliverDue(ctx)
	is.NoErr(err)
	rm := collect(t, reader)
	is.Equal(counts(rm, "nahook.ingest.events"), map[string]int64{
		"nahook.event_type=order.created,nahook.outcome=accepted,nahook.source=send": 1,
		"error.type=unknown_event_type,nahook.outcome=refused,nahook.source=send":    1, // a refused type is no attribute
	})
	want := "http.response.status_class=2xx,nahook.delivery.status=succeeded,nahook.endpoint.id=" + string(w.ok.ID) +
		",nahook.event_type=order.created,nahook.outcome=succeeded,nahook.workspace.id=" + string(w.ws.ID)
	is.Equal(counts(rm, "nahook.attempts")[want], int64(1))
	is.Equal(len(counts(rm, "nahook.attempts")), 4) // one series per endpoint
}

// An ingest is a span in the caller's trace; an attempt a client span of
// its own, timed by the clock.
func TestSpans(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	tel, err := nahookotel.New(nahookotel.Options{MeterProvider: sdkmetric.NewMeterProvider(), TracerProvider: tp})
	is.NoErr(err)
	w := newWorld(t, tel.Observer())

	parentCtx, parent := tp.Tracer("host").Start(ctx, "PlaceOrder")
	in, err := w.nh.Events.Send(parentCtx, nahook.Message{WorkspaceID: w.ws.ID, EndpointID: w.ok.ID, Payload: []byte(`{}`)})
	is.NoErr(err)
	parent.End()
	_, err = w.nh.Events.Ingest(ctx, "nhk_nope", "order.created", nahook.IngestInput{Payload: []byte(`{}`)})
	is.True(errors.Is(err, nahook.ErrUnauthorized))
	start := w.clock.Now()
	_, err = w.nh.DeliverDue(ctx)
	is.NoErr(err)

	byName := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range spans.Ended() {
		byName[s.Name()] = append(byName[s.Name()], s)
	}
	is.Equal(len(byName["nahook.ingest"]), 2)
	sent, refused := byName["nahook.ingest"][0], byName["nahook.ingest"][1]
	is.Equal(sent.Parent().SpanID(), parent.SpanContext().SpanID()) // a child of the host's span
	is.Equal(attr(sent, "nahook.event.id"), string(in.Event.ID))
	is.Equal(attr(sent, "nahook.outcome"), "accepted")
	is.Equal(attr(refused, "error.type"), "unauthorized")
	is.Equal(refused.Status().Code.String(), "Error")

	is.Equal(len(byName["nahook.attempt"]), 1)
	a := byName["nahook.attempt"][0]
	is.True(!a.Parent().IsValid()) // a root: no request of the host's runs it
	is.Equal(attr(a, "nahook.event.id"), string(in.Event.ID))
	is.Equal(attr(a, "nahook.outcome"), "succeeded")
	is.Equal(a.StartTime(), start)
	is.Equal(a.EndTime(), start.Add(100*time.Millisecond))
}

func collect(t *testing.T, r *sdkmetric.ManualReader) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

func find(rm metricdata.ResourceMetrics, name string) (metricdata.Metrics, bool) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// key writes an attribute set as "k=v,k=v", in key order.
func key(s attribute.Set) string {
	var parts []string
	for _, kv := range s.ToSlice() {
		parts = append(parts, string(kv.Key)+"="+kv.Value.String())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func counts(rm metricdata.ResourceMetrics, name string) map[string]int64 {
	out := map[string]int64{}
	if m, ok := find(rm, name); ok {
		for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
			out[key(p.Attributes)] = p.Value
		}
	}
	return out
}

func histogramCounts(rm metricdata.ResourceMetrics, name string) map[string]uint64 {
	out := map[string]uint64{}
	if m, ok := find(rm, name); ok {
		for _, p := range m.Data.(metricdata.Histogram[float64]).DataPoints {
			out[key(p.Attributes)] = p.Count
		}
	}
	return out
}

func histogramSum(rm metricdata.ResourceMetrics, name, attrs string) float64 {
	if m, ok := find(rm, name); ok {
		for _, p := range m.Data.(metricdata.Histogram[float64]).DataPoints {
			if key(p.Attributes) == attrs {
				return p.Sum
			}
		}
	}
	return math.NaN()
}

// gauges returns every gauge's points, named "name{attrs}" when they
// have attributes.
func gauges(rm metricdata.ResourceMetrics) map[string]float64 {
	out := map[string]float64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch g := m.Data.(type) {
			case metricdata.Gauge[int64]:
				for _, p := range g.DataPoints {
					out[gaugeName(m.Name, p.Attributes)] = float64(p.Value)
				}
			case metricdata.Gauge[float64]:
				for _, p := range g.DataPoints {
					out[gaugeName(m.Name, p.Attributes)] = p.Value
				}
			}
		}
	}
	return out
}

func gaugeName(name string, s attribute.Set) string {
	if s.Len() == 0 {
		return name
	}
	return name + "{" + key(s) + "}"
}

func approx(t *testing.T, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9 {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func attr(s sdktrace.ReadOnlySpan, k string) string {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == k {
			return kv.Value.String()
		}
	}
	return ""
}
