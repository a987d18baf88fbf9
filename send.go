// Trusted sends: events host code sends itself, naming its workspace
// rather than presenting an API key, on their own (Send) or inside the
// host's own database transaction (SendTx).

package nahook

import (
	"context"

	"github.com/nahook/nahook/store"
)

// Message is an event host code sends itself, with EventService.Send or
// SendTx. The host program is trusted: it names the workspace and
// environment instead of presenting an environment's API key, and is
// routed by Router.Route (or RouteDirect), from the same snapshot as
// Ingest.
type Message struct {
	WorkspaceID WorkspaceID
	// EnvironmentID empty means the workspace's default environment.
	EnvironmentID EnvironmentID
	// ApplicationID, or ApplicationExternalID (the host's own identifier
	// for the customer), names the application the event is for, as in
	// IngestInput: it reaches that application's endpoints only. Without
	// one, it reaches only the endpoints of no application, unless
	// Broadcast.
	ApplicationID         ApplicationID
	ApplicationExternalID string
	// Broadcast sends an event of no application to every subscribed
	// endpoint of the environment, whoever owns it; with an application it
	// is ErrInvalid.
	Broadcast bool
	// EventType routes the event to the endpoints subscribed to it.
	EventType string
	// EndpointID, instead of EventType, sends the event straight to one
	// endpoint of the environment, as IngestDirect does: with an
	// application, it must be that application's endpoint.
	EndpointID EndpointID
	// Payload is the event's JSON body, signed and sent byte for byte.
	Payload []byte
	// IdempotencyKey makes sending idempotent per environment, as in
	// IngestInput, inside a transaction too.
	IdempotencyKey string
}

// Send routes m and stores it with a pending delivery for every endpoint
// it goes to, as Ingest does, and wakes this process's dispatchers. It
// fails as Router.Route does for an unknown workspace, environment or
// event type, or one not published in the environment, and as
// RouteDirect does for an endpoint; an application the workspace does not
// have is ErrNotFound naming the field that named it, and nothing is
// stored.
func (s *EventService) Send(ctx context.Context, m Message) (Ingested, error) {
	ctx, start := s.c.observeIngestStart(ctx, SourceSend)
	r, err := s.send(ctx, s.c.store, true, m)
	got, err := s.settle(ctx, s.c.store, true, r, err)
	s.c.observeIngestEnd(ctx, SourceSend, start, got, err)
	return got, err
}

// SendTx is Send inside tx, a transaction the host program has open on
// the store's database (postgres.Tx, sqlite.Tx): the event and its
// deliveries commit with the host's own writes, or roll back with them,
// leaving nothing and sending nothing. SendTx never commits nor rolls
// back tx. Until the host commits, no dispatcher can see the deliveries;
// after, stores that announce new deliveries (store.DeliveryNotifier: the
// Postgres and SQLite stores) wake every dispatcher at once, in any
// process, and others find them at the next poll. An idempotency key
// works across transactions and within one: a key committed before, or
// used earlier in tx, replays that event.
//
// The one rule for the host: tx is on the same database as the store,
// and, on Postgres, sees the same schema (search_path). An error leaves tx
// to the host, which should roll it back; a replay is no error, and leaves
// tx usable.
func (s *EventService) SendTx(ctx context.Context, tx store.Tx, m Message) (Ingested, error) {
	if tx == nil {
		return Ingested{}, store.Invalid("tx", "SendTx needs the host's transaction, as postgres.Tx or sqlite.Tx returns it")
	}
	ctx, start := s.c.observeIngestStart(ctx, SourceSendTx)
	r, err := s.send(ctx, tx, false, m)
	got, err := s.settle(ctx, tx, false, r, err)
	s.c.observeIngestEnd(ctx, SourceSendTx, start, got, err)
	return got, err
}

// send is Send and SendTx up to the write: w is where the event is
// looked up (and, by settle, written): the store or the host's transaction
// (store.Store has store.Tx's methods); committed says whether what w
// writes is committed when it returns, so that the host's transaction is
// read through rather than the store.
func (s *EventService) send(ctx context.Context, w store.Tx, committed bool, m Message) (routed, error) {
	if err := s.checkMessage(m); err != nil {
		return routed{}, err
	}
	in := IngestInput{Payload: m.Payload, IdempotencyKey: m.IdempotencyKey, ApplicationID: m.ApplicationID,
		ApplicationExternalID: m.ApplicationExternalID, Broadcast: m.Broadcast}
	to := target{eventType: m.EventType, endpoint: m.EndpointID}
	app := m.ApplicationID
	if m.ApplicationExternalID != "" {
		var err error
		if app, err = s.applicationByExternalID(ctx, w, m.WorkspaceID, m.ApplicationExternalID); err != nil {
			return routed{}, err
		}
	}
	// Routed as Router.Route and RouteDirect do, from one snapshot; in the
	// host's transaction, one that can be brought up to date without
	// waiting for that transaction to end (Router.currentIn).
	var snap *snapshot
	var err error
	if committed {
		snap, err = s.c.Router.currentFor(ctx, m.WorkspaceID)
	} else {
		snap, err = s.c.Router.currentIn(ctx, m.WorkspaceID, w)
	}
	if err != nil {
		return routed{}, err
	}
	var r Route
	if m.EndpointID != "" {
		r, err = routeDirect(snap, m.WorkspaceID, m.EnvironmentID, m.EndpointID)
		if err == nil {
			err = endpointOf(r, m.EndpointID, app, in)
		}
	} else {
		err = route(&r, snap, RouteQuery{WorkspaceID: m.WorkspaceID, EnvironmentID: m.EnvironmentID,
			ApplicationID: app, Broadcast: m.Broadcast, EventType: m.EventType})
	}
	if err != nil {
		if m.IdempotencyKey != "" {
			// A repeat answers as the first did, even if routing has
			// changed since.
			if _, env, perr := snap.place(m.WorkspaceID, m.EnvironmentID); perr == nil {
				if ev, ds, err := w.GetEventByIdempotencyKey(ctx, m.WorkspaceID, env.id, m.IdempotencyKey); err == nil {
					return routed{answered: true, answer: Ingested{Event: ev, Deliveries: ds, Replayed: true}}, sameRequest(ev, in, app, to)
				}
			}
		}
		return routed{}, err
	}
	return s.prepare(ctx, w, r, in, app, to)
}

// checkMessage checks what Send is given before anything is looked up.
func (s *EventService) checkMessage(m Message) error {
	if err := workspace(m.WorkspaceID); err != nil {
		return err
	}
	if m.EnvironmentID != "" {
		if err := subject("environmentId", prefixEnvironment, m.EnvironmentID); err != nil {
			return err
		}
	}
	switch {
	case m.EventType != "" && m.EndpointID != "":
		return store.Invalid("endpointId", "send a message to an event type's subscribers or to one endpoint, not both")
	case m.EventType == "" && m.EndpointID == "":
		return store.Invalid("eventType", "a message needs an event type, or an endpoint to go to")
	case m.EndpointID != "":
		if err := subject("endpointId", prefixEndpoint, m.EndpointID); err != nil {
			return err
		}
	}
	return s.checkInput(IngestInput{Payload: m.Payload, IdempotencyKey: m.IdempotencyKey, ApplicationID: m.ApplicationID,
		ApplicationExternalID: m.ApplicationExternalID, Broadcast: m.Broadcast})
}
