package store

import "context"

// Tx is an adapter's handle on a transaction the host program already has
// open on the store's database (postgres.Tx wraps a pgx.Tx, sqlite.Tx a
// *sql.Tx): what nahook's EventService.SendTx writes through, so that an
// event and its deliveries commit or roll back with the host's own writes.
//
// Its methods do what the Store methods of the same names do, but inside
// the host's transaction: they never commit it nor roll it back, and a
// case they handle (an idempotency key already taken, a resource not
// found) leaves it usable. Any other error may leave the transaction as
// the database leaves it (on Postgres, aborted): the host rolls it back.
// What Ingest stores is invisible to every other connection, the
// dispatcher's among them, until the host commits; a rollback leaves no
// trace of it.
//
// The one rule for the host: the transaction is on the same database as
// the store, and, on Postgres, sees the same schema (the same search_path)
// as the store's pool; otherwise the event is written where no dispatcher
// looks, or the write fails.
type Tx interface {
	// Ingest is DeliveryStore.Ingest in the transaction. An idempotency
	// key taken by an event committed before, or by an event ingested
	// earlier in the same transaction, replays that event; while another
	// transaction holding the key is still open, Ingest waits for it to
	// end (on SQLite, the write lock makes the wait).
	Ingest(ctx context.Context, ev Event, ds []Delivery) (stored Event, deliveries []Delivery, replayed bool, err error)
	// GetEventByIdempotencyKey is DeliveryStore.GetEventByIdempotencyKey
	// in the transaction: it sees the transaction's own writes.
	GetEventByIdempotencyKey(ctx context.Context, ws WorkspaceID, env EnvironmentID, key string) (Event, []Delivery, error)
	// GetApplication is ApplicationStore.GetApplication in the
	// transaction.
	GetApplication(ctx context.Context, ws WorkspaceID, id ApplicationID) (Application, error)
	// GetApplicationByExternalID is
	// ApplicationStore.GetApplicationByExternalID in the transaction.
	GetApplicationByExternalID(ctx context.Context, ws WorkspaceID, externalID string) (Application, error)
}

// RoutingTx is implemented by a Tx that can read routing data in the
// transaction, as RoutingStore.LoadRouting does. nahook reads through it
// when a send in the transaction needs the router reloaded and the store
// may be unable to answer until the transaction ends: the SQLite store in
// memory has one connection, which the host's transaction holds. A store
// whose own connections stay free while a host's transaction is open
// need not implement it.
type RoutingTx interface {
	Tx
	LoadRouting(ctx context.Context, ws []WorkspaceID) (Routing, error)
}

// DeliveryNotifier is implemented by stores that can announce new
// deliveries, ingested by any process or in any host transaction, once
// they are committed: so that a dispatcher learns of an event sent in a
// transaction it had no part in promptly, rather than at its next poll.
type DeliveryNotifier interface {
	// WatchDeliveries calls added once it is listening, so that nothing
	// committed before goes unnoticed, and again after commits that may
	// have added deliveries (a hint: the caller looks for due deliveries
	// as usual). It never calls added for a write before that write is
	// committed. added must return at once (it may be called inside the
	// database driver). It blocks until ctx ends or the connection it
	// listens on fails, and returns why.
	WatchDeliveries(ctx context.Context, added func()) error
}
