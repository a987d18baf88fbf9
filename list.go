// Lists: the options and the page every List method shares, and the
// paging they all go through.

package nahook

import (
	"encoding/base64"

	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
)

// List limits.
const (
	// DefaultLimit is the page size when ListOptions.Limit is zero.
	DefaultLimit = 50
	// MaxLimit is the largest page size a list accepts.
	MaxLimit = 250
)

// ListOptions asks for one page of a list.
type ListOptions struct {
	// Limit is the page size: 0 means DefaultLimit; more than MaxLimit is
	// refused.
	Limit int
	// Cursor is the NextCursor of the previous page, or empty for the first.
	Cursor string
}

// Page is one page of a list, in creation order.
type Page[T any] struct {
	// Items is never nil.
	Items []T
	// NextCursor fetches the next page; it is empty on the last one.
	NextCursor string
}

// list fetches one page. prefix is the TypeID prefix of the listed
// resource, so that a cursor of one list is refused by another.
func list[T any, ID ~string](opts ListOptions, prefix string, idOf func(T) ID, fetch func(store.PageRequest) ([]T, error)) (Page[T], error) {
	limit := opts.Limit
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 0 || limit > MaxLimit:
		return Page[T]{}, store.Invalid("limit", "limit must be between 1 and %d", MaxLimit)
	}
	var after string
	if opts.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(opts.Cursor)
		if err != nil || !typeid.Valid(prefix, string(raw)) {
			return Page[T]{}, store.Invalid("cursor", "cursor is not one this list returned")
		}
		after = string(raw)
	}
	// One extra item tells whether another page follows without a second
	// query.
	items, err := fetch(store.PageRequest{After: after, Limit: limit + 1})
	if err != nil {
		return Page[T]{}, err
	}
	page := Page[T]{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(idOf(items[limit-1])))
	}
	if page.Items == nil {
		page.Items = []T{}
	}
	return page, nil
}
