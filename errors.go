// Errors: every sentinel error of the nahook API and the Error type that
// carries them, in one place. Test for them with errors.Is; never compare
// error strings.

package nahook

import (
	"errors"

	"github.com/nahook/nahook/store"
)

// Error is the error returned for every broken rule: errors.Is matches its
// Kind, and Field names the input at fault. See store.Error.
type Error = store.Error

// Errors for broken rules, tested with errors.Is.
var (
	// ErrNotFound: the resource does not exist in the scope asked for; a
	// resource of another workspace is not found, never revealed.
	ErrNotFound = store.ErrNotFound
	// ErrConflict: a uniqueness rule would break (slug, externalId, event
	// type name), or the resource's state does not allow the change
	// (retrying a delivery that has not failed).
	ErrConflict = store.ErrConflict
	// ErrLimitExceeded: a limit would be exceeded (MaxEnvironments).
	ErrLimitExceeded = store.ErrLimitExceeded
	// ErrDefaultEnvironment: the default environment cannot be deleted.
	ErrDefaultEnvironment = store.ErrDefaultEnvironment
	// ErrInvalid: an input breaks a validation rule; Error.Field names it.
	ErrInvalid = store.ErrInvalid
	// ErrUnavailable: the store cannot be reached or did not answer in
	// time; the call may succeed if made again shortly. The HTTP API
	// answers it with 503 and Retry-After.
	ErrUnavailable = store.ErrUnavailable
	// ErrIdempotencyKeyReused: an idempotency key was used before for
	// another request (another event type, endpoint, application or
	// payload); nothing was stored. The HTTP API answers it with 422.
	ErrIdempotencyKeyReused = errors.New("idempotency key reused")
	// ErrUnauthorized: an API key is malformed, unknown or revoked.
	ErrUnauthorized = errors.New("unauthorized")
)

// Routing errors, tested with errors.Is. An unknown, revoked or malformed
// key is ErrUnauthorized; an endpoint that does not exist in the key's
// workspace is ErrNotFound.
var (
	// ErrUnknownEventType: the workspace has no event type of that name.
	ErrUnknownEventType = errors.New("unknown event type")
	// ErrNotPublished: the event type exists but is not published in the
	// key's environment.
	ErrNotPublished = errors.New("event type not published")
	// ErrOtherEnvironment: a direct delivery names an endpoint of another
	// environment than the key's.
	ErrOtherEnvironment = errors.New("endpoint in another environment")
	// ErrEndpointDisabled: a direct delivery names a disabled endpoint.
	ErrEndpointDisabled = errors.New("endpoint disabled")
)

// ErrSignature: a webhook's signature does not verify, or its timestamp is
// too far from now.
var ErrSignature = errors.New("webhook signature not valid")
