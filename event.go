// Events: ingesting them (routing, idempotency, a pending delivery per
// endpoint reached) and reading them back.

package nahook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
)

// EventService ingests events: it routes each one and stores it, with one
// delivery per endpoint it goes to, before it returns, so that an event it
// accepted is delivered even if the process dies the next moment. Get it
// from Client.Events.
type EventService struct{ c *Client }

// Ingestion limits.
const (
	// DefaultMaxPayloadBytes bounds an event's payload when
	// Config.MaxPayloadBytes is 0.
	DefaultMaxPayloadBytes = 1 << 20
	// MaxIdempotencyKeyChars bounds an idempotency key.
	MaxIdempotencyKeyChars = 255
)

// IngestInput is an event to send.
type IngestInput struct {
	// Payload is the event's JSON body, signed and sent byte for byte.
	Payload []byte
	// IdempotencyKey, when set, makes ingestion idempotent per environment:
	// ingesting the same event again with the same key, for as long as the
	// event is kept (Config.Delivery.Retention, at least 24 hours),
	// returns the first result and stores nothing. The same key with
	// another event type, endpoint, application or payload (byte for
	// byte) is ErrIdempotencyKeyReused, and stores nothing either. 1 to 255
	// printable ASCII characters.
	IdempotencyKey string
	// ApplicationID, when set, sends the event to that application's
	// endpoints only: the event of one customer, which no other customer's
	// endpoint may receive, whatever it subscribes to. Empty, the event
	// reaches only the endpoints of no application (the workspace's own),
	// unless Broadcast: an endpoint a customer made in the developer portal
	// never receives an event that was not sent for its application by
	// mistake of a forgotten parameter.
	ApplicationID ApplicationID
	// ApplicationExternalID names the application by its ExternalID, the
	// host program's own identifier for the customer, instead of
	// ApplicationID: setting both is ErrInvalid. An application the
	// workspace does not have is ErrNotFound naming
	// "applicationExternalId", and nothing is stored.
	ApplicationExternalID string
	// Broadcast sends an event for no application to every subscribed
	// endpoint of the environment, whoever owns it: news for every
	// customer. With an application it is ErrInvalid. An event sent
	// straight to one endpoint ignores it.
	Broadcast bool
}

// Ingested is an event accepted: stored, with its deliveries.
type Ingested struct {
	Event      Event
	Deliveries []Delivery
	// Replayed reports that the idempotency key had been used already: the
	// event and deliveries are those of the first ingestion.
	Replayed bool
}

// Ingest routes an event of the named type, sent with an environment's
// API key, as Router.Route does for the key's workspace and environment
// and in.ApplicationID, in.ApplicationExternalID or in.Broadcast, and
// stores it with a pending delivery for every endpoint it goes to. It
// fails as Resolve does for a bad key, an unknown or unpublished type; an
// event that goes to no endpoint is still stored.
func (s *EventService) Ingest(ctx context.Context, apiKey, eventType string, in IngestInput) (Ingested, error) {
	ctx, start := s.c.observeIngestStart(ctx, SourceIngest)
	r, err := s.ingestTyped(ctx, apiKey, eventType, in)
	got, err := s.settle(ctx, s.c.store, true, r, err)
	s.c.observeIngestEnd(ctx, SourceIngest, start, got, err)
	return got, err
}

// IngestDirect sends an event straight to one endpoint of the key's
// environment, as Router.ResolveDirect decides. Naming the endpoint is
// explicit enough: without an application it may be anyone's.
//
// With an application (in.ApplicationID or in.ApplicationExternalID), the
// endpoint must be that application's: another is ErrNotFound naming the
// field that named the application.
func (s *EventService) IngestDirect(ctx context.Context, apiKey string, endpoint EndpointID, in IngestInput) (Ingested, error) {
	ctx, start := s.c.observeIngestStart(ctx, SourceIngestDirect)
	r, err := s.ingestDirect(ctx, apiKey, endpoint, in)
	got, err := s.settle(ctx, s.c.store, true, r, err)
	s.c.observeIngestEnd(ctx, SourceIngestDirect, start, got, err)
	return got, err
}

// ingestTyped routes an event of eventType sent with apiKey: Ingest up to
// the write.
func (s *EventService) ingestTyped(ctx context.Context, apiKey, eventType string, in IngestInput) (routed, error) {
	return s.ingest(ctx, apiKey, in, target{eventType: eventType}, func(app ApplicationID) (Route, error) {
		var rt Route
		err := s.c.Router.resolve(&rt, ctx, apiKey, eventType, app, in.Broadcast)
		return rt, err
	})
}

// ingestDirect routes an event sent with apiKey straight to endpoint:
// IngestDirect up to the write.
func (s *EventService) ingestDirect(ctx context.Context, apiKey string, endpoint EndpointID, in IngestInput) (routed, error) {
	return s.ingest(ctx, apiKey, in, target{endpoint: endpoint}, func(app ApplicationID) (Route, error) {
		route, err := s.c.Router.ResolveDirect(ctx, apiKey, endpoint)
		if err == nil {
			err = endpointOf(route, endpoint, app, in)
		}
		return route, err
	})
}

// endpointOf returns nil unless an event for app (named in in, by ID or
// external ID) is sent straight to an endpoint, route's, that is not
// app's: then ErrNotFound, naming the field that named the application.
func endpointOf(route Route, endpoint EndpointID, app ApplicationID, in IngestInput) error {
	if app == "" || route.NumEndpoints() == 1 && route.Endpoint(0).ApplicationID == app {
		return nil
	}
	field, name := "applicationId", string(app)
	if in.ApplicationExternalID != "" {
		field, name = "applicationExternalId", in.ApplicationExternalID
	}
	return &Error{Kind: ErrNotFound, Field: field,
		Message: fmt.Sprintf("endpoint %q is not an endpoint of application %q", endpoint, name)}
}

// target is where an ingest call sends its event: to the endpoints
// subscribed to an event type, or to one endpoint.
type target struct {
	eventType string
	endpoint  EndpointID
}

// routed is an ingest or send call routed and checked: an event ready to
// store, or, answered, the answer already (a replay of the event first
// sent with its idempotency key, which routing no longer serves).
type routed struct {
	item     store.IngestItem
	in       IngestInput
	app      ApplicationID
	to       target
	answered bool
	answer   Ingested
}

// ingest is Ingest and IngestDirect up to the write: resolve routes the
// event for the application in names (by ID or external ID, looked up
// first), and prepare makes it an event ready to store.
func (s *EventService) ingest(ctx context.Context, apiKey string, in IngestInput, to target, resolve func(app ApplicationID) (Route, error)) (routed, error) {
	if err := s.checkInput(in); err != nil {
		return routed{}, err
	}
	app := in.ApplicationID
	if in.ApplicationExternalID != "" {
		// The key says which workspace's applications to look in; a bad
		// key is refused before anything is looked up.
		k, err := s.c.Router.keyRoute(ctx, apiKey)
		if err != nil {
			return routed{}, err
		}
		if app, err = s.applicationByExternalID(ctx, s.c.store, k.ws.id, in.ApplicationExternalID); err != nil {
			return routed{}, err
		}
	}
	route, err := resolve(app)
	if err != nil {
		if in.IdempotencyKey != "" {
			// A repeat must answer as the first did, even if routing has
			// changed since (the type unpublished, the endpoint disabled).
			if first, ok := s.replay(ctx, apiKey, in.IdempotencyKey); ok {
				return routed{answered: true, answer: first}, sameRequest(first.Event, in, app, to)
			}
		}
		return routed{}, err
	}
	return s.prepare(ctx, s.c.store, route, in, app, to)
}

// settle finishes an ingest or send that r and err are the routing of:
// its answer, or its error, or the event written through w as record
// does.
func (s *EventService) settle(ctx context.Context, w store.Tx, committed bool, r routed, err error) (Ingested, error) {
	if r.answered {
		return r.answer, err
	}
	if err != nil {
		return Ingested{}, err
	}
	return s.record(ctx, w, committed, r)
}

// applicationByExternalID returns the ID of the workspace's application
// with that external ID, looked up in w (the store, or a host's
// transaction), or ErrNotFound naming "applicationExternalId".
func (s *EventService) applicationByExternalID(ctx context.Context, w store.Tx, ws WorkspaceID, externalID string) (ApplicationID, error) {
	missing := func() error {
		return &Error{Kind: ErrNotFound, Field: "applicationExternalId",
			Message: fmt.Sprintf("application with externalId %s not found", quote(externalID))}
	}
	if checkExternalID(externalID) != nil {
		return "", missing() // no application has an external ID of that shape
	}
	a, err := w.GetApplicationByExternalID(ctx, ws, externalID)
	switch {
	case errors.Is(err, ErrNotFound):
		return "", missing()
	case err != nil:
		return "", err
	}
	return a.ID, nil
}

// prepare makes a routed event ready to store: the event, with a pending
// delivery for each of the route's endpoints. An application named by ID
// must exist in w (the store, or a host's transaction).
func (s *EventService) prepare(ctx context.Context, w store.Tx, route Route, in IngestInput, app ApplicationID, to target) (routed, error) {
	ev := Event{
		ID:             EventID(typeid.New(prefixEvent)),
		WorkspaceID:    route.WorkspaceID,
		EnvironmentID:  route.EnvironmentID,
		EventType:      route.EventType,
		EndpointID:     to.endpoint,
		ApplicationID:  app,
		Broadcast:      in.Broadcast,
		Payload:        in.Payload,
		IdempotencyKey: in.IdempotencyKey,
		CreatedAt:      s.c.now(),
	}
	if in.ApplicationID != "" {
		// An application that is not there would silently receive nothing.
		if _, err := w.GetApplication(ctx, route.WorkspaceID, in.ApplicationID); err != nil {
			if errors.Is(err, ErrNotFound) {
				return routed{}, store.Missing("applicationId", in.ApplicationID)
			}
			return routed{}, err
		}
	}
	// The route is the event's audience already: the isolation rule chose
	// it (typeRoute.targets), or the caller named the endpoint.
	ds := make([]Delivery, 0, route.NumEndpoints())
	for i := range route.NumEndpoints() {
		ds = append(ds, Delivery{ID: DeliveryID(typeid.New(prefixDelivery)), EndpointID: route.Endpoint(i).ID})
	}
	return routed{item: store.IngestItem{Event: ev, Deliveries: ds}, in: in, app: app, to: to}, nil
}

// record stores r's event and its deliveries through w: the store (which
// has store.Tx's methods), in a commit shared with the ingests that arrive
// meanwhile (ingestQueue), or a host's transaction (SendTx). When
// committed, what w wrote is committed already, and this process's
// dispatchers are woken; a host's transaction commits later, and the
// store announces it then (store.DeliveryNotifier). A repeated idempotency
// key returns the first event, if r asks for the same.
func (s *EventService) record(ctx context.Context, w store.Tx, committed bool, r routed) (Ingested, error) {
	var res store.IngestResult
	var err error
	if committed {
		res, err = s.c.ingests.ingest(ctx, s.c.store, r.item)
	} else {
		res.Event, res.Deliveries, res.Replayed, err = w.Ingest(ctx, r.item.Event, r.item.Deliveries)
	}
	if err != nil {
		return Ingested{}, err
	}
	return s.stored(r, res, committed)
}

// stored is the answer to r once the store has written it, as res says.
func (s *EventService) stored(r routed, res store.IngestResult, committed bool) (Ingested, error) {
	if res.Replayed {
		if err := sameRequest(res.Event, r.in, r.app, r.to); err != nil {
			return Ingested{}, err
		}
	}
	if committed && !res.Replayed && len(res.Deliveries) > 0 {
		s.c.nudgeDelivery()
	}
	return Ingested{Event: res.Event, Deliveries: res.Deliveries, Replayed: res.Replayed}, nil
}

// sameRequest returns ErrIdempotencyKeyReused unless first, the event an
// idempotency key was first used for, is what in asks to send to to: the
// same event type or endpoint, for the same application, with the same
// payload byte for byte. A key names one request, so its repeat is a
// retry; anything else is a mistake that replaying would hide.
func sameRequest(first Event, in IngestInput, app ApplicationID, to target) error {
	var differs string
	switch {
	case first.EventType != to.eventType && to.endpoint == "":
		differs = "event type"
	case first.EndpointID != to.endpoint:
		differs = "endpoint"
	case first.ApplicationID != app:
		differs = "application"
	case first.Broadcast != in.Broadcast:
		differs = "audience (broadcast or not)"
	case !bytes.Equal(first.Payload, in.Payload):
		differs = "payload"
	default:
		return nil
	}
	return &Error{Kind: ErrIdempotencyKeyReused, Field: "idempotencyKey",
		Message: fmt.Sprintf("idempotency key %q was used for event %s, with another %s; send a new event with a new key", in.IdempotencyKey, first.ID, differs)}
}

// replay returns the event the key's environment ingested with an
// idempotency key, if there is one.
func (s *EventService) replay(ctx context.Context, apiKey, idempotencyKey string) (Ingested, bool) {
	k, err := s.c.Router.keyRoute(ctx, apiKey)
	if err != nil {
		return Ingested{}, false
	}
	ev, ds, err := s.c.store.GetEventByIdempotencyKey(ctx, k.ws.id, k.env.id, idempotencyKey)
	if err != nil {
		return Ingested{}, false
	}
	return Ingested{Event: ev, Deliveries: ds, Replayed: true}, true
}

func (s *EventService) checkInput(in IngestInput) error {
	limit := s.c.cfg.MaxPayloadBytes
	switch {
	case len(in.Payload) > limit:
		return store.Invalid("payload", "the payload is larger than %d bytes", limit)
	case !json.Valid(in.Payload):
		return store.Invalid("payload", "the payload must be valid JSON")
	case !utf8.Valid(in.Payload):
		// JSON text is UTF-8 (RFC 8259); what is not would be signed and
		// sent as it is, and cannot be shown back as JSON.
		return store.Invalid("payload", "the payload must be UTF-8: it holds bytes that are not")
	}
	switch {
	case in.ApplicationID != "" && in.ApplicationExternalID != "":
		return store.Invalid("applicationExternalId", "name the application by applicationId or by applicationExternalId, not both")
	case in.Broadcast && (in.ApplicationID != "" || in.ApplicationExternalID != ""):
		return errBroadcastForApplication
	case in.ApplicationID != "":
		if err := ref("applicationId", prefixApplication, in.ApplicationID); err != nil {
			return err
		}
	}
	if in.IdempotencyKey != "" {
		if len(in.IdempotencyKey) > MaxIdempotencyKeyChars {
			return store.Invalid("idempotencyKey", "an idempotency key must be at most %d characters", MaxIdempotencyKeyChars)
		}
		for i := 0; i < len(in.IdempotencyKey); i++ {
			if c := in.IdempotencyKey[i]; c < 0x21 || c > 0x7e {
				return store.Invalid("idempotencyKey", "an idempotency key must be printable ASCII without spaces")
			}
		}
	}
	return nil
}

// Get returns an event of the workspace, or ErrNotFound.
func (s *EventService) Get(ctx context.Context, ws WorkspaceID, id EventID) (Event, error) {
	return s.get(ctx, ws, id)
}

// EventFilter narrows a list of events, the message log; empty fields do
// not filter.
type EventFilter struct {
	EnvironmentID EnvironmentID
	EventType     string
	// ApplicationID lists the events sent for the application.
	ApplicationID ApplicationID
	// Since and Until bound when the events were sent, Until excluded;
	// zero bounds nothing.
	Since, Until time.Time
	// NewestFirst lists the newest first instead of the oldest; the
	// cursor then leads to older ones.
	NewestFirst bool
}

// List returns one page of the workspace's events that match f, oldest
// first (newest first with f.NewestFirst): the message log. Listed events
// carry no payload, so that a page stays small whatever was sent; Get
// reads one whole. An Until not after Since is ErrInvalid ("until").
func (s *EventService) List(ctx context.Context, ws WorkspaceID, f EventFilter, opts ListOptions) (Page[Event], error) {
	if err := workspace(ws); err != nil {
		return Page[Event]{}, err
	}
	if f.EnvironmentID != "" {
		if err := ref("environmentId", prefixEnvironment, f.EnvironmentID); err != nil {
			return Page[Event]{}, err
		}
	}
	if f.ApplicationID != "" {
		if err := ref("applicationId", prefixApplication, f.ApplicationID); err != nil {
			return Page[Event]{}, err
		}
	}
	var err error
	if f.Since, f.Until, err = window(f.Since, f.Until); err != nil {
		return Page[Event]{}, err
	}
	sf := store.EventFilter{EnvironmentID: f.EnvironmentID, EventType: f.EventType, ApplicationID: f.ApplicationID,
		Since: f.Since, Until: f.Until, NewestFirst: f.NewestFirst}
	return list(opts, prefixEvent, func(e Event) EventID { return e.ID },
		func(p store.PageRequest) ([]Event, error) { return s.c.store.ListEvents(ctx, ws, sf, p) })
}

// Explain answers "why didn't Acme get it?" for a stored event: every
// endpoint of the workspace with its delivery of the event, if it had one
// (EndpointVerdict.DeliveryID), and whether an event like it sent now
// would reach it, and if not, why (by its type, environment and audience;
// for an event sent straight to an endpoint, ReasonOtherEndpoint for the
// others). Routing as it stood when the event was sent is not kept: an
// endpoint with a delivery may have reasons now (disabled, unsubscribed
// since), and one without may receive an event like it now (made or
// subscribed since: Deliveries.ReplayMissing sends it this one). An event
// whose environment was deleted is ErrNotFound, as the event is.
func (s *EventService) Explain(ctx context.Context, ws WorkspaceID, id EventID) (Explanation, error) {
	ev, err := s.get(ctx, ws, id)
	if err != nil {
		return Explanation{}, err
	}
	x, err := s.c.Router.explainEvent(ctx, ev)
	if err != nil {
		return Explanation{}, err
	}
	delivered := map[EndpointID]DeliveryID{}
	opts := ListOptions{Limit: MaxLimit}
	for {
		page, err := s.c.Deliveries.list(ctx, ws, DeliveryFilter{EventID: id}, opts)
		if err != nil {
			return Explanation{}, err
		}
		for _, d := range page.Items {
			delivered[d.EndpointID] = d.ID
		}
		if page.NextCursor == "" {
			break
		}
		opts.Cursor = page.NextCursor
	}
	for i := range x.Endpoints {
		x.Endpoints[i].DeliveryID = delivered[x.Endpoints[i].ID]
	}
	return x, nil
}

func (s *EventService) get(ctx context.Context, ws WorkspaceID, id EventID) (Event, error) {
	if err := workspace(ws); err != nil {
		return Event{}, err
	}
	if err := subject("", prefixEvent, id); err != nil {
		return Event{}, err
	}
	return s.c.store.GetEvent(ctx, ws, id)
}
