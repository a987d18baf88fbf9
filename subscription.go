// Event type names and subscription patterns: the rules that validate
// them and the match the router applies.
//
// An event type name is dot-separated segments of letters, digits, "_" and
// "-" ("order.created", "invoice.payment_failed"), at most 256 characters.
// An endpoint subscribes with a list of patterns, each one of:
//
//   - an event type name: exactly that type;
//   - "*": every event type;
//   - a name followed by ".*" ("order.*"): every event type whose name
//     starts with that name and a dot, at any depth ("order.created",
//     "order.item.shipped"), but not "order" itself.
//
// Whatever the pattern, an event is routed only where its type is published.

package nahook

import (
	"strconv"
	"strings"

	"github.com/nahook/nahook/store"
)

// Limits on names and subscriptions.
const (
	MaxEventTypeNameChars = 256
	// MaxSubscriptions is how many patterns one endpoint may list. Wildcards
	// exist so that no endpoint needs more.
	MaxSubscriptions = 1000
)

// validEventTypeName reports whether s is a well-formed event type name.
func validEventTypeName(s string) bool {
	if len(s) == 0 || len(s) > MaxEventTypeNameChars {
		return false
	}
	segment := 0 // length of the current segment
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
			segment++
		case c == '.' && segment > 0:
			segment = 0
		default:
			return false
		}
	}
	return segment > 0
}

// checkEventTypeName validates an event type name for field.
func checkEventTypeName(field, s string) error {
	if !validEventTypeName(s) {
		return store.Invalid(field, "%s must be dot-separated segments of letters, digits, _ and - (like \"order.created\"), at most %d characters", field, MaxEventTypeNameChars)
	}
	return nil
}

// wildcardPrefix returns, for a trailing wildcard "order.*", the prefix
// "order." that the names it matches start with.
func wildcardPrefix(pattern string) (string, bool) {
	if p, ok := strings.CutSuffix(pattern, ".*"); ok && validEventTypeName(p) {
		return pattern[:len(pattern)-1], true
	}
	return "", false
}

// checkSubscriptions validates an endpoint's patterns and returns them with
// duplicates dropped, in the order given. It never returns nil, so an
// endpoint read back lists [] rather than nothing.
func checkSubscriptions(patterns []string) ([]string, error) {
	if len(patterns) > MaxSubscriptions {
		return nil, store.Invalid("eventTypes", "eventTypes may list at most %d event types; subscribe with a wildcard such as \"order.*\" instead", MaxSubscriptions)
	}
	out := make([]string, 0, len(patterns))
	seen := make(map[string]bool, len(patterns))
	for i, p := range patterns {
		if _, ok := wildcardPrefix(p); !ok && p != "*" && !validEventTypeName(p) {
			return nil, store.Invalid(indexed("eventTypes", i), "%s is not an event type name, \"*\" or a wildcard like \"order.*\"", quote(p))
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

func indexed(field string, i int) string {
	return field + "[" + strconv.Itoa(i) + "]"
}

// subscriptionMatches reports whether an endpoint subscribed with pattern
// receives events of the type called name (if it is published).
func subscriptionMatches(pattern, name string) bool {
	if pattern == "*" || pattern == name {
		return true
	}
	prefix, ok := wildcardPrefix(pattern)
	return ok && len(name) > len(prefix) && strings.HasPrefix(name, prefix)
}
