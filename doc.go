// Package nahook gives a Go backend multi-tenant webhooks in-process.
//
// A host program opens a Store (store/sqlite for an embedded database,
// store/postgres when several processes share one) and builds a Client on
// it. The Client's services manage workspaces, environments, applications
// (one per end-customer), the event-type catalogue and its visibility per
// environment, endpoints and API keys, enforcing every rule of the product:
//
//	st, err := sqlite.Open(ctx, "nahook.db")
//	...
//	nh, err := nahook.New(st, nahook.Config{})
//	ws, err := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme SaaS"})
//
// Client.Router decides, from an in-memory snapshot kept coherent with the
// store, which endpoints receive an event sent with an environment's API
// key: Resolve for fan-out by event type, ResolveDirect for one endpoint,
// Explain for why each endpoint does or does not receive it.
//
// Client.Events stores an event with its deliveries before it returns;
// Client.Deliver sends them, signed, retried and recorded, and shares its
// workers fairly: no endpoint has more than a few attempts in flight, in
// every process together, endpoints with deliveries due are served in
// turn, and failing, slow or new endpoints get one attempt at a time from
// a bounded share of the workers. What a receiver answers is stored as
// bounded, valid text, never as a fault.
//
// Every error for a broken rule is an *Error whose kind is tested with
// errors.Is (ErrInvalid, ErrNotFound, ErrConflict, ErrLimitExceeded,
// ErrDefaultEnvironment, ErrIdempotencyKeyReused) and whose Field names
// the input at fault. Invalid input is refused before it reaches the
// store. A store that cannot be reached is ErrUnavailable.
//
// IDs are TypeIDs ("app_" followed by a UUIDv7 in 26 Crockford base32
// characters), so they sort by creation time; lists are paginated with an
// opaque cursor over them. Times are UTC with millisecond precision.
package nahook
