// Package nahookotel reports what a nahook Client does to OpenTelemetry:
// metrics of ingests, delivery attempts, end-to-end latency, operational
// events and the outbox's backlog, and, optionally, spans for ingests
// and attempts. It is a nahook.Observer built on
// go.opentelemetry.io/otel/metric and go.opentelemetry.io/otel/trace, kept
// apart so that nahook itself depends on no telemetry library.
//
//	tel, err := nahookotel.New(nahookotel.Options{MeterProvider: mp})
//	client, err := nahook.New(st, nahook.Config{Observer: tel.Observer()})
//	reg, err := tel.ObserveStats(client) // the backlog and endpoint gauges
//
// Every attribute takes its values from a short, fixed list, so that one
// customer's traffic cannot multiply the series a host stores: no
// endpoint, workspace or event type is an attribute unless Options asks
// for it.
//
// # Metrics
//
//   - nahook.ingest.events (counter, {event}): ingest and send calls, by
//     nahook.source (ingest, ingest_direct, send, send_tx), nahook.outcome
//     (accepted, replayed, refused) and, refused, error.type (invalid,
//     unauthorized, not_found, unknown_event_type, not_published, …).
//   - nahook.ingest.duration (histogram, s): how long those calls took,
//     by nahook.source and nahook.outcome.
//   - nahook.ingest.deliveries (counter, {delivery}): deliveries created by
//     accepted events (not by replays), by nahook.source.
//   - nahook.attempts (counter, {attempt}): delivery attempts, by
//     nahook.outcome (succeeded, failed, timeout, error),
//     nahook.delivery.status (what the delivery became: succeeded, pending
//     for a retry, failed) and http.response.status_class (2xx … 5xx, or
//     none without an answer).
//   - nahook.attempt.duration (histogram, s): attempts' durations, by
//     nahook.outcome.
//   - nahook.delivery.latency (histogram, s): from an event's ingestion to
//     its successful delivery, retries included, per delivery.
//   - nahook.operational_events (counter, {event}): operational events, by
//     nahook.operational_event.type (endpoint.failing, endpoint.disabled,
//     endpoint.recovered, delivery.exhausted).
//   - With ObserveStats: nahook.queue.pending, nahook.queue.due and
//     nahook.queue.in_flight (gauges, {delivery}),
//     nahook.queue.oldest_due_age (gauge, s) and nahook.endpoints (gauge,
//     {endpoint}, by nahook.endpoint.state: active, probation, disabled).
//     They are the shared store's figures: every process reports the same.
//
// # Spans
//
// With a TracerProvider (or a global one set with otel.SetTracerProvider),
// each ingest or send is a span, "nahook.ingest", child of the span in the
// caller's context; each attempt is a span, "nahook.attempt", of kind
// client, the root of its own trace (it runs in no request of the host's),
// carrying the event's and delivery's IDs.
package nahookotel

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/nahook/nahook"
)

// ScopeName is the instrumentation scope of nahook's meter and tracer.
const ScopeName = "github.com/nahook/nahook/nahookotel"

// Options chooses where telemetry goes and which attributes it carries.
// The zero value reports to the global providers, with bounded
// attributes only.
type Options struct {
	// MeterProvider receives the metrics; nil means otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// TracerProvider receives the spans; nil means
	// otel.GetTracerProvider(), which makes none until the host sets one.
	TracerProvider trace.TracerProvider
	// EndpointAttributes adds nahook.workspace.id and nahook.endpoint.id
	// to the attempt metrics: one series per endpoint, which a customer
	// making endpoints in the developer portal multiplies. Leave it off
	// unless the endpoints are few and the host's own.
	EndpointAttributes bool
	// EventTypeAttribute adds nahook.event_type to the ingest (accepted
	// events only, whose type is in the catalogue) and attempt metrics.
	EventTypeAttribute bool
}

// Telemetry is a set of nahook's instruments.
type Telemetry struct {
	opts   Options
	meter  metric.Meter
	tracer trace.Tracer

	ingestEvents     metric.Int64Counter
	ingestDuration   metric.Float64Histogram
	ingestDeliveries metric.Int64Counter
	attempts         metric.Int64Counter
	attemptDuration  metric.Float64Histogram
	latency          metric.Float64Histogram
	operational      metric.Int64Counter
}

// Bucket boundaries, in seconds: an attempt takes milliseconds to its
// timeout (15 s by default); an event's delivery, with retries, up to
// about a day.
var (
	durationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30}
	latencyBuckets  = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 7200, 21600, 86400}
)

// New makes the instruments. It fails only if the meter provider refuses
// one.
func New(opts Options) (*Telemetry, error) {
	mp, tp := opts.MeterProvider, opts.TracerProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	t := &Telemetry{opts: opts, meter: mp.Meter(ScopeName), tracer: tp.Tracer(ScopeName)}
	m := t.meter
	var errs [7]error
	t.ingestEvents, errs[0] = m.Int64Counter("nahook.ingest.events", metric.WithUnit("{event}"),
		metric.WithDescription("Events ingested or sent, by source and outcome."))
	t.ingestDuration, errs[1] = m.Float64Histogram("nahook.ingest.duration", metric.WithUnit("s"),
		metric.WithDescription("How long ingest and send calls took."), metric.WithExplicitBucketBoundaries(durationBuckets...))
	t.ingestDeliveries, errs[2] = m.Int64Counter("nahook.ingest.deliveries", metric.WithUnit("{delivery}"),
		metric.WithDescription("Deliveries created by accepted events."))
	t.attempts, errs[3] = m.Int64Counter("nahook.attempts", metric.WithUnit("{attempt}"),
		metric.WithDescription("Delivery attempts, by outcome and what the delivery became."))
	t.attemptDuration, errs[4] = m.Float64Histogram("nahook.attempt.duration", metric.WithUnit("s"),
		metric.WithDescription("How long delivery attempts took."), metric.WithExplicitBucketBoundaries(durationBuckets...))
	t.latency, errs[5] = m.Float64Histogram("nahook.delivery.latency", metric.WithUnit("s"),
		metric.WithDescription("From an event's ingestion to its successful delivery, retries included."),
		metric.WithExplicitBucketBoundaries(latencyBuckets...))
	t.operational, errs[6] = m.Int64Counter("nahook.operational_events", metric.WithUnit("{event}"),
		metric.WithDescription("Operational events: endpoints failing, disabled or recovered, deliveries given up."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return t, nil
}

// Observer returns the nahook.Observer that feeds the instruments: set it
// as nahook.Config.Observer.
func (t *Telemetry) Observer() nahook.Observer {
	return nahook.Observer{
		IngestStart:      t.ingestStart,
		IngestEnd:        t.ingestEnd,
		AttemptEnd:       t.attemptEnd,
		OperationalEvent: t.operationalEvent,
	}
}

// Attribute keys.
const (
	keySource          = attribute.Key("nahook.source")
	keyOutcome         = attribute.Key("nahook.outcome")
	keyErrorType       = attribute.Key("error.type")
	keyEventType       = attribute.Key("nahook.event_type")
	keyDeliveryStatus  = attribute.Key("nahook.delivery.status")
	keyStatusClass     = attribute.Key("http.response.status_class")
	keyWorkspace       = attribute.Key("nahook.workspace.id")
	keyEndpoint        = attribute.Key("nahook.endpoint.id")
	keyOperationalType = attribute.Key("nahook.operational_event.type")
	keyEndpointState   = attribute.Key("nahook.endpoint.state")
)

func (t *Telemetry) ingestStart(ctx context.Context, source nahook.IngestSource) context.Context {
	ctx, _ = t.tracer.Start(ctx, "nahook.ingest", trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(keySource.String(string(source))))
	return ctx
}

func (t *Telemetry) ingestEnd(ctx context.Context, o nahook.IngestObservation) {
	outcome := "accepted"
	switch {
	case o.Err != nil:
		outcome = "refused"
	case o.Replayed:
		outcome = "replayed"
	}
	attrs := []attribute.KeyValue{keySource.String(string(o.Source)), keyOutcome.String(outcome)}
	set := attribute.NewSet(attrs...)
	t.ingestDuration.Record(ctx, o.Duration.Seconds(), metric.WithAttributeSet(set))
	if o.Err != nil {
		attrs = append(attrs, keyErrorType.String(o.ErrorKind()))
	} else if t.opts.EventTypeAttribute && o.Event.EventType != "" {
		attrs = append(attrs, keyEventType.String(o.Event.EventType))
	}
	t.ingestEvents.Add(ctx, 1, metric.WithAttributes(attrs...))
	if o.Err == nil && !o.Replayed {
		t.ingestDeliveries.Add(ctx, int64(o.Deliveries), metric.WithAttributes(keySource.String(string(o.Source))))
	}

	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(keyOutcome.String(outcome))
	if o.Err != nil {
		span.SetAttributes(keyErrorType.String(o.ErrorKind()))
		span.SetStatus(codes.Error, o.Err.Error())
	} else {
		span.SetAttributes(attribute.String("nahook.event.id", string(o.Event.ID)),
			keyWorkspace.String(string(o.Event.WorkspaceID)),
			attribute.String("nahook.environment.id", string(o.Event.EnvironmentID)),
			attribute.Int("nahook.deliveries", o.Deliveries))
		if o.Event.EventType != "" {
			span.SetAttributes(keyEventType.String(o.Event.EventType))
		}
	}
	span.End()
}

func (t *Telemetry) attemptEnd(o nahook.AttemptObservation) {
	ctx := context.Background()
	attrs := make([]attribute.KeyValue, 0, 6)
	attrs = append(attrs, keyOutcome.String(string(o.Outcome)))
	if t.opts.EndpointAttributes {
		attrs = append(attrs, keyWorkspace.String(string(o.WorkspaceID)), keyEndpoint.String(string(o.EndpointID)))
	}
	if t.opts.EventTypeAttribute && o.EventType != "" {
		attrs = append(attrs, keyEventType.String(o.EventType))
	}
	t.attemptDuration.Record(ctx, o.Duration.Seconds(), metric.WithAttributes(attrs...))
	n := len(attrs)
	attrs = append(attrs, keyDeliveryStatus.String(string(o.Status)), keyStatusClass.String(statusClass(o.StatusCode)))
	t.attempts.Add(ctx, 1, metric.WithAttributes(attrs...))
	if o.Outcome == nahook.AttemptSucceeded {
		// The outcome says nothing here: every latency is a success's.
		t.latency.Record(ctx, o.Latency.Seconds(), metric.WithAttributes(attrs[1:n]...))
	}

	_, span := t.tracer.Start(ctx, "nahook.attempt", trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(o.Start))
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(keyOutcome.String(string(o.Outcome)),
		keyWorkspace.String(string(o.WorkspaceID)), keyEndpoint.String(string(o.EndpointID)),
		attribute.String("nahook.delivery.id", string(o.DeliveryID)),
		attribute.String("nahook.event.id", string(o.EventID)),
		attribute.Int("nahook.attempt.number", o.Number),
		keyDeliveryStatus.String(string(o.Status)))
	if o.EventType != "" {
		span.SetAttributes(keyEventType.String(o.EventType))
	}
	if o.StatusCode != 0 {
		span.SetAttributes(attribute.Int("http.response.status_code", o.StatusCode))
	}
	if o.Outcome != nahook.AttemptSucceeded {
		span.SetStatus(codes.Error, string(o.Outcome))
	}
	span.End(trace.WithTimestamp(o.Start.Add(o.Duration)))
}

// statusClass is an answer's status as a bounded label: what a receiver
// answers is its own choice, any number.
func statusClass(code int) string {
	switch {
	case code >= 100 && code < 200:
		return "1xx"
	case code >= 200 && code < 300:
		return "2xx"
	case code >= 300 && code < 400:
		return "3xx"
	case code >= 400 && code < 500:
		return "4xx"
	case code >= 500 && code < 600:
		return "5xx"
	case code == 0:
		return "none"
	}
	return "other"
}

func (t *Telemetry) operationalEvent(ev nahook.OperationalEvent) {
	t.operational.Add(context.Background(), 1, metric.WithAttributes(keyOperationalType.String(string(ev.Type))))
}

// statsTimeout bounds one reading of the outbox's figures, so that a
// store that does not answer holds up no collection for long.
const statsTimeout = 5 * time.Second

// ObserveStats registers the gauges read from c.Stats at each collection:
// the backlog (pending, due, in flight, age of the oldest due delivery)
// and the endpoints by state. Each collection costs one query, whose time
// grows with the pending deliveries. Unregister the registration it
// returns to stop. Every process sharing a store reports the same
// figures: aggregate them with max, not sum.
func (t *Telemetry) ObserveStats(c *nahook.Client) (metric.Registration, error) {
	m := t.meter
	var errs [5]error
	var pending, due, inFlight, endpoints metric.Int64ObservableGauge
	var age metric.Float64ObservableGauge
	pending, errs[0] = m.Int64ObservableGauge("nahook.queue.pending", metric.WithUnit("{delivery}"),
		metric.WithDescription("Deliveries not yet done: due, waiting for a retry, or in flight."))
	due, errs[1] = m.Int64ObservableGauge("nahook.queue.due", metric.WithUnit("{delivery}"),
		metric.WithDescription("Deliveries of enabled endpoints due now, not in flight."))
	inFlight, errs[2] = m.Int64ObservableGauge("nahook.queue.in_flight", metric.WithUnit("{delivery}"),
		metric.WithDescription("Deliveries leased to an attempt now."))
	age, errs[3] = m.Float64ObservableGauge("nahook.queue.oldest_due_age", metric.WithUnit("s"),
		metric.WithDescription("How long the longest-waiting due delivery has waited; 0 when none is due."))
	endpoints, errs[4] = m.Int64ObservableGauge("nahook.endpoints", metric.WithUnit("{endpoint}"),
		metric.WithDescription("Endpoints by state: active, on probation (new, failing or slow), disabled."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	active := metric.WithAttributeSet(attribute.NewSet(keyEndpointState.String("active")))
	probation := metric.WithAttributeSet(attribute.NewSet(keyEndpointState.String("probation")))
	disabled := metric.WithAttributeSet(attribute.NewSet(keyEndpointState.String("disabled")))
	return m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, statsTimeout)
		defer cancel()
		st, err := c.Stats(ctx)
		if err != nil {
			return err
		}
		o.ObserveInt64(pending, int64(st.Pending))
		o.ObserveInt64(due, int64(st.Due))
		o.ObserveInt64(inFlight, int64(st.InFlight))
		o.ObserveFloat64(age, st.OldestDueAge().Seconds())
		o.ObserveInt64(endpoints, int64(st.Endpoints-st.EndpointsOnProbation), active)
		o.ObserveInt64(endpoints, int64(st.EndpointsOnProbation), probation)
		o.ObserveInt64(endpoints, int64(st.EndpointsDisabled), disabled)
		return nil
	}, pending, due, inFlight, age, endpoints)
}
