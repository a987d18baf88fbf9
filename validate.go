// Input validation shared by the services: ID prefixes, names,
// descriptions, free text and the IDs a call names.

package nahook

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
)

// ID prefixes, one per resource.
const (
	prefixWorkspace     = "ws"
	prefixEnvironment   = "env"
	prefixApplication   = "app"
	prefixEventType     = "evt"
	prefixEndpoint      = "ep"
	prefixAPIKey        = "key"
	prefixEvent         = "msg" // the webhook-id receivers see: Standard Webhooks' own example prefix
	prefixDelivery      = "dlv"
	prefixPortalSession = "ps"
)

// name checks a single-line name: trimmed of surrounding space, between min
// and max characters, valid UTF-8 and free of control characters (which
// break logs and dashboards). It returns the trimmed name.
func name(field, s string, min, max int) (string, error) {
	s = strings.TrimSpace(s)
	if err := length(field, s, min, max); err != nil {
		return "", err
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		return "", store.Invalid(field, "%s must not contain control characters", field)
	}
	return s, nil
}

// description checks free text, which may span lines and hold tabs, but no
// other control character: NUL in particular, which Postgres cannot store
// and which truncates strings in C libraries downstream. It returns the
// trimmed text.
func description(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if err := length(field, s, 0, max); err != nil {
		return "", err
	}
	return s, text(field, s)
}

// text refuses control characters other than tab, newline and carriage
// return.
func text(field, s string) error {
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' }) >= 0 {
		return store.Invalid(field, "%s must not contain control characters other than tab and newline", field)
	}
	return nil
}

// length checks that s is valid UTF-8 of min to max characters.
func length(field, s string, min, max int) error {
	if !utf8.ValidString(s) {
		return store.Invalid(field, "%s must be valid UTF-8", field)
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0 && min > 0:
		return store.Invalid(field, "%s is required", field)
	case n < min || n > max:
		if min == 0 {
			return store.Invalid(field, "%s must be at most %d characters", field, max)
		}
		return store.Invalid(field, "%s must be %d to %d characters", field, min, max)
	}
	return nil
}

// ref checks an ID given in a request body: refusing one of the wrong shape
// here names the field, where the store could only say "not found".
func ref[ID ~string](field, prefix string, id ID) error {
	if !typeid.Valid(prefix, string(id)) {
		return store.Invalid(field, "%s %q is not an ID of the form %s_…", field, id, prefix)
	}
	return nil
}

// subject checks the ID of the resource a call is about. An ID of the wrong
// shape names nothing that exists, so it is not found, exactly as a
// well-formed ID of another workspace is.
func subject[ID ~string](field, prefix string, id ID) error {
	if !typeid.Valid(prefix, string(id)) {
		return store.Missing(field, id)
	}
	return nil
}

// workspace checks the workspace a call is scoped to.
func workspace(ws WorkspaceID) error {
	return subject("workspaceId", prefixWorkspace, ws)
}

// stored returns t as every store keeps a time: UTC, to the millisecond.
// A bound given finer is drawn alike by every store, and a record reads
// back exactly as it was returned.
func stored(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// window returns the time bounds of a list as stored, zero bounding
// nothing; with both set, until must be after since (ErrInvalid,
// "until").
func window(since, until time.Time) (time.Time, time.Time, error) {
	since, until = stored(since), stored(until)
	if !since.IsZero() && !until.IsZero() {
		return since, until, untilAfter(since, until)
	}
	return since, until, nil
}

// untilAfter returns ErrInvalid ("until") unless until is after since.
func untilAfter(since, until time.Time) error {
	if !until.After(since) {
		return store.Invalid("until", "until must be after since")
	}
	return nil
}
