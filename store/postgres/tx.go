package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/nahook/nahook/store"
)

// Tx returns the store's handle on tx, a transaction the host program has
// open, for nahook's EventService.SendTx: the event and its deliveries are
// written in tx, and commit or roll back with the host's own writes. The
// handle never commits nor rolls back tx.
//
// tx must be on the store's database and see the store's tables: the
// same search_path as the store's pool (a tx begun on that pool, or on a
// pool with the same connection string, does). Deliveries are
// announced on a notification Postgres sends when tx commits, so
// dispatchers in every process start on them at once; a rollback sends
// nothing and leaves nothing. Begin tx READ COMMITTED (Postgres's
// default): an idempotency key another transaction commits meanwhile then
// replays its event; under REPEATABLE READ or SERIALIZABLE, Postgres
// refuses the insert with a serialization failure, which aborts tx, and
// the host retries it whole.
func Tx(tx pgx.Tx) store.Tx { return hostTx{tx} }

// hostTx is the store.Tx of a pgx.Tx.
type hostTx struct{ tx pgx.Tx }

// Ingest implements store.Tx with the statement Store.Ingest runs. An
// idempotency key already taken is no error, so tx stays usable; the
// first event is read in tx, which sees one ingested earlier in it.
func (t hostTx) Ingest(ctx context.Context, ev store.Event, ds []store.Delivery) (store.Event, []store.Delivery, bool, error) {
	stored, inserted, err := ingest(ctx, t.tx, ev, ds)
	if err != nil {
		return store.Event{}, nil, false, mapError(err)
	}
	if inserted {
		return ev, stored, false, nil
	}
	first, ds, err := eventByKey(ctx, t.tx, ev.WorkspaceID, ev.EnvironmentID, ev.IdempotencyKey)
	if err != nil {
		return store.Event{}, nil, false, mapError(err)
	}
	return first, ds, true, nil
}

// GetEventByIdempotencyKey implements store.Tx.
func (t hostTx) GetEventByIdempotencyKey(ctx context.Context, ws store.WorkspaceID, env store.EnvironmentID, key string) (store.Event, []store.Delivery, error) {
	ev, ds, err := eventByKey(ctx, t.tx, ws, env, key)
	return ev, ds, mapError(err)
}

// GetApplication implements store.Tx.
func (t hostTx) GetApplication(ctx context.Context, ws store.WorkspaceID, id store.ApplicationID) (store.Application, error) {
	return getApplication(ctx, t.tx, ws, id)
}

// GetApplicationByExternalID implements store.Tx.
func (t hostTx) GetApplicationByExternalID(ctx context.Context, ws store.WorkspaceID, externalID string) (store.Application, error) {
	return getApplicationByExternalID(ctx, t.tx, ws, externalID)
}

// WatchDeliveries implements store.DeliveryNotifier: it listens on the
// channel every ingest that stores a delivery notifies, at its commit.
func (s *Store) WatchDeliveries(ctx context.Context, added func()) error {
	return s.listen(ctx, deliveriesChannel, "nahook-delivery-listener", added)
}

var _ store.DeliveryNotifier = (*Store)(nil)
