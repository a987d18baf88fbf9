// Package store defines the contract between nahook and its storage
// adapters, and the records that cross it.
//
// The nahook package validates every input before it calls a Store, so an
// adapter may trust the shape of what it is given: IDs are well formed,
// names are within their limits, times are UTC with millisecond precision.
// What an adapter must enforce itself, inside one transaction per method, is
// every rule that needs atomicity: the MaxEnvironments limit, uniqueness
// (environment slug, application externalId, event type name, key hash),
// that referenced resources exist in the same workspace, and cascades,
// reporting a broken rule with the constructor this package has for it.
// The package nahook/storetest proves those rules for any adapter; the
// adapters in store/sqlite and store/postgres pass it. Decisions that need
// no atomicity are nahook's: which of an endpoint's keys sign
// (EndpointKeys.Signing), what a batch of attempts does to failure streaks
// (Streaks); an adapter stores what it is given and applies what nahook
// decided.
//
// The records are storage shapes, not a wire format: they carry no JSON
// tags, and encoding one with encoding/json writes its Go field names, a
// key's or session's Hash included. The JSON of the HTTP API, its names,
// its nulls and its times, is package httpapi's alone; a host program that
// serves records itself should encode them through types of its own.
//
// Every method takes a context first and is atomic by itself. A method that
// names a workspace and a resource finds the resource only within that
// workspace: a resource of another workspace is ErrNotFound, exactly as if
// it did not exist. A broken rule, or a database that cannot be reached, is
// an *Error whose Kind is one of the sentinels of this package (see
// Error.Kind), made by this package's constructors and wrapping the
// driver's error when there is one; any other failure (a cancelled
// context, a closed store) is the adapter's own error wrapping its cause.
package store
