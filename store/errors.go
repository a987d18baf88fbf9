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
	// slug, an application externalId, an event type name).
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
	// ErrDefaultEnvironment, ErrInvalid or ErrUnavailable.
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

// NotFound returns an ErrNotFound error saying which resource was missing.
// field names the input that referred to it, or is empty when the resource
// was the subject of the call (a path parameter, say). The ID is quoted and
// cut short, since it may be whatever a client sent.
func NotFound[ID ~string](field, resource string, id ID) *Error {
	s := string(id)
	if utf8.RuneCountInString(s) > 64 {
		s = string([]rune(s)[:64]) + "…"
	}
	return &Error{Kind: ErrNotFound, Field: field, Message: fmt.Sprintf("%s %q not found", resource, s)}
}

// Conflict returns an ErrConflict error naming field, wrapping cause.
func Conflict(field, message string, cause error) *Error {
	return &Error{Kind: ErrConflict, Field: field, Message: message, Err: cause}
}

// EndpointLimit is the error of CreateEndpoint when an application has its
// most endpoints in an environment already.
func EndpointLimit(max int) error {
	return &Error{Kind: ErrLimitExceeded,
		Message: fmt.Sprintf("this application has %d endpoints in this environment, the most allowed here; delete one first", max)}
}

// Unavailable returns an ErrUnavailable error wrapping cause, the
// database's own error, which stays reachable for logs but is not shown to
// users.
func Unavailable(cause error) *Error {
	return &Error{Kind: ErrUnavailable, Message: "the database is unavailable; try again shortly", Err: cause}
}
