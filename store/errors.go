package store

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// The sentinel errors below classify every failure a store or the nahook API
// reports for a broken rule. Test for them with errors.Is; the concrete
// *Error carries the field at fault and a message fit to show a user.
var (
	// ErrNotFound: the resource does not exist in the scope asked for. A
	// resource of another workspace is not found, never revealed.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the write would break a uniqueness rule (an environment
	// slug, an application externalId, an event type name), or the
	// resource is not in a state that allows it (retrying a delivery that
	// has not failed).
	ErrConflict = errors.New("conflict")
	// ErrLimitExceeded: the write would exceed a limit, such as
	// MaxEnvironments per workspace.
	ErrLimitExceeded = errors.New("limit exceeded")
	// ErrDefaultEnvironment: the operation is not allowed on a workspace's
	// default environment (it cannot be deleted).
	ErrDefaultEnvironment = errors.New("default environment")
	// ErrInvalid: an input breaks a validation rule; Error.Field names it.
	ErrInvalid = errors.New("invalid")
	// ErrUnavailable: the database could not be reached, or did not answer
	// in time (it is down, out of connections or disk, or held locked by
	// another process). No rule was broken and the same call may succeed
	// shortly; a write that failed this way may or may not have committed.
	ErrUnavailable = errors.New("unavailable")
)

// Error is the error returned for a broken rule. Kind is one of the sentinel
// errors above, so errors.Is(err, ErrConflict) and friends work; Err, when
// set, is the underlying cause (a driver error, say) and is reachable with
// errors.As and errors.Is too.
type Error struct {
	// Kind is ErrNotFound, ErrConflict, ErrLimitExceeded,
	// ErrDefaultEnvironment, ErrInvalid or ErrUnavailable when a store
	// returns the error. The nahook package adds kinds of its own
	// (ErrIdempotencyKeyReused, ErrUnauthorized, the routing errors), which
	// no store returns.
	Kind error
	// Field names the input at fault in its JSON spelling ("slug",
	// "externalId", "eventTypes[1]"), or is empty when no single field is.
	Field string
	// Message says what is wrong in a sentence fit for an API response.
	Message string
	// Err is the cause, if any.
	Err error
}

// Error returns the message, followed by the cause when there is one.
func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Kind.Error()
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

// Is reports whether target is the error's Kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Invalid returns an ErrInvalid error naming field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Kind: ErrInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// notFound returns an ErrNotFound error saying which resource was missing.
// The ID is quoted and cut short, since it may be whatever a client sent.
func notFound[ID ~string](field, resource string, id ID) *Error {
	s := string(id)
	if utf8.RuneCountInString(s) > 64 {
		s = string([]rune(s)[:64]) + "…"
	}
	return &Error{Kind: ErrNotFound, Field: field, Message: fmt.Sprintf("%s %q not found", resource, s)}
}

// The constructors below are the errors of the rules a store enforces, one
// for each, so that every adapter reports a broken rule in the same words:
// an adapter maps its database's errors to these and writes no message of
// its own.

// Missing returns the ErrNotFound error of a resource that is not in the
// scope asked for, named by the type of its ID (a WorkspaceID is a
// workspace). field names the input that referred to it, or is empty when
// the resource was the subject of the call.
func Missing[ID ~string](field string, id ID) *Error {
	return notFound(field, resourceOf(id), id)
}

// Dangling returns the ErrNotFound error of a write that refers, through
// field, to a resource of ID's type that does not exist: what an adapter
// reports when a foreign key of its schema refuses the write.
func Dangling[ID ~string](field string, cause error) *Error {
	var id ID
	return &Error{Kind: ErrNotFound, Field: field, Message: resourceOf(id) + " not found", Err: cause}
}

// BrokenReference returns the ErrNotFound error of a write that refers to
// a resource that does not exist, for a database that does not say which.
func BrokenReference(cause error) *Error {
	return &Error{Kind: ErrNotFound, Message: "a resource it refers to does not exist", Err: cause}
}

// NoRow returns the ErrNotFound error of a row a statement needed and did
// not find, where the adapter cannot tell which resource it was (one
// deleted by another transaction meanwhile, say).
func NoRow(cause error) *Error {
	return &Error{Kind: ErrNotFound, Message: "not found", Err: cause}
}

// resourceOf names the resource an ID identifies, for messages.
func resourceOf(id any) string {
	switch id.(type) {
	case WorkspaceID:
		return "workspace"
	case EnvironmentID:
		return "environment"
	case ApplicationID:
		return "application"
	case EventTypeID:
		return "event type"
	case EndpointID:
		return "endpoint"
	case APIKeyID:
		return "API key"
	case PortalSessionID:
		return "portal session"
	case EventID:
		return "event"
	case DeliveryID:
		return "delivery"
	}
	return "resource"
}

// UnknownExternalID returns the ErrNotFound error of a lookup of an
// application by an external ID that no application of the workspace has.
func UnknownExternalID(externalID string) *Error {
	return notFound("externalId", "application with externalId", externalID)
}

// UnknownIdempotencyKey returns the ErrNotFound error of a lookup of an
// event by an idempotency key the environment has not seen.
func UnknownIdempotencyKey(key string) *Error {
	return notFound("idempotencyKey", "event with idempotency key", key)
}

// UnknownKeyHash returns the ErrNotFound error of a lookup of an API key by
// a hash no key has. It names no field: the hash is of a secret.
func UnknownKeyHash() *Error {
	return &Error{Kind: ErrNotFound, Message: "no API key has that hash"}
}

// UnknownSessionHash returns the ErrNotFound error of a lookup of a portal
// session by a hash no session has.
func UnknownSessionHash() *Error {
	return &Error{Kind: ErrNotFound, Message: "no portal session has that hash"}
}

// UnknownEventType returns the ErrInvalid error of a subscription, the
// i-th of an endpoint's, to an event type name the workspace does not have.
func UnknownEventType(i int, name string) *Error {
	return Invalid(fmt.Sprintf("eventTypes[%d]", i),
		"event type %q does not exist in this workspace; create it first or subscribe with a wildcard", name)
}

// Unique names a uniqueness rule: a value no two records of its scope may
// share. An adapter enforces each with a unique constraint or index of its
// schema, and reports a violation with Duplicate.
type Unique int

// The uniqueness rules.
const (
	// UniqueUnknown is a unique constraint the adapter cannot name (a
	// duplicate ID, say).
	UniqueUnknown Unique = iota
	// UniqueEnvironmentSlug: an environment's slug, within its workspace.
	UniqueEnvironmentSlug
	// UniqueApplicationExternalID: an application's externalId, within its
	// workspace.
	UniqueApplicationExternalID
	// UniqueEventTypeName: an event type's name, within its workspace.
	UniqueEventTypeName
	// UniqueAPIKeyHash: an API key's hash, in the whole database.
	UniqueAPIKeyHash
	// UniqueIdempotencyKey: an event's idempotency key, within its
	// environment.
	UniqueIdempotencyKey
	// UniquePortalSessionHash: a portal session's token hash, in the whole
	// database.
	UniquePortalSessionHash
)

// uniqueRules gives each uniqueness rule the input field at fault and what
// to tell the user.
var uniqueRules = [...]struct{ field, message string }{
	UniqueUnknown:               {"", "the resource already exists"},
	UniqueEnvironmentSlug:       {"slug", "slug is already used by another environment of this workspace"},
	UniqueApplicationExternalID: {"externalId", "externalId is already used by another application of this workspace"},
	UniqueEventTypeName:         {"name", "name is already used by another event type of this workspace"},
	UniqueAPIKeyHash:            {"", "an API key with this hash already exists"},
	UniqueIdempotencyKey:        {"idempotencyKey", "another event of this environment has this idempotency key"},
	UniquePortalSessionHash:     {"", "a portal session with this hash already exists"},
}

// Duplicate returns the ErrConflict error of a write that breaks rule,
// wrapping cause, the database's refusal.
func Duplicate(rule Unique, cause error) *Error {
	if rule < 0 || int(rule) >= len(uniqueRules) {
		rule = UniqueUnknown
	}
	r := uniqueRules[rule]
	return &Error{Kind: ErrConflict, Field: r.field, Message: r.message, Err: cause}
}

// CheckEnvironmentLimit returns ErrLimitExceeded when a workspace that has
// count environments may not have another (see MaxEnvironments), and nil
// when it may.
func CheckEnvironmentLimit(count int) error {
	if count < MaxEnvironments {
		return nil
	}
	return &Error{Kind: ErrLimitExceeded,
		Message: fmt.Sprintf("a workspace may have at most %d environments; delete one first", MaxEnvironments)}
}

// CheckEndpointLimit returns ErrLimitExceeded when an application that has
// count endpoints in an environment may not have another there, max being
// the most it may have (0 sets no limit), and nil when it may.
func CheckEndpointLimit(count, max int) error {
	if max <= 0 || count < max {
		return nil
	}
	return &Error{Kind: ErrLimitExceeded,
		Message: fmt.Sprintf("this application has %d endpoints in this environment, the most allowed here; delete one first", max)}
}

// CannotDeleteDefault returns the ErrDefaultEnvironment error of deleting a
// workspace's default environment.
func CannotDeleteDefault() *Error {
	return &Error{Kind: ErrDefaultEnvironment, Message: "the default environment cannot be deleted"}
}

// CheckRetryable returns ErrConflict unless a delivery in status may be
// retried by hand, which only a failed one may.
func CheckRetryable(status DeliveryStatus) error {
	if status == DeliveryFailed {
		return nil
	}
	return &Error{Kind: ErrConflict, Message: fmt.Sprintf("only a failed delivery can be retried; this one is %s", status)}
}

// Unstorable returns the ErrInvalid error of an input holding text the
// database cannot store (a NUL character, which Postgres refuses in text).
// nahook refuses such input before it reaches a store; this keeps any
// that slips through a client's mistake rather than a server error.
func Unstorable(cause error) *Error {
	return &Error{Kind: ErrInvalid, Message: "the input holds a character the database cannot store", Err: cause}
}

// Unavailable returns an ErrUnavailable error wrapping cause, the
// database's own error, which stays reachable for logs but is not shown to
// users.
func Unavailable(cause error) *Error {
	return &Error{Kind: ErrUnavailable, Message: "the database is unavailable; try again shortly", Err: cause}
}
