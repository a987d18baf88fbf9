package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

// lister makes and lists one kind of resource, so the pagination cases run
// over every list.
type lister struct {
	kind string
	// make creates the i-th item in ws and returns its ID.
	make func(t *testing.T, h *harness, ws nahook.WorkspaceID, i int) string
	// list fetches one page of the kind in ws.
	list func(h *harness, ws nahook.WorkspaceID, o nahook.ListOptions) (ids []string, next string, err error)
}

func page[T any](p nahook.Page[T], err error, id func(T) string) ([]string, string, error) {
	var ids []string
	for _, item := range p.Items {
		ids = append(ids, id(item))
	}
	return ids, p.NextCursor, err
}

var listers = []lister{
	{
		kind: "workspaces",
		make: func(t *testing.T, h *harness, _ nahook.WorkspaceID, _ int) string { return string(h.workspace(t).ID) },
		list: func(h *harness, _ nahook.WorkspaceID, o nahook.ListOptions) ([]string, string, error) {
			p, err := h.nh.Workspaces.List(h.ctx, o)
			return page(p, err, func(w nahook.Workspace) string { return string(w.ID) })
		},
	},
	{
		kind: "environments",
		make: func(t *testing.T, h *harness, ws nahook.WorkspaceID, i int) string {
			return string(h.env(t, ws, fmt.Sprint("env-", i)).ID)
		},
		list: func(h *harness, ws nahook.WorkspaceID, o nahook.ListOptions) ([]string, string, error) {
			p, err := h.nh.Environments.List(h.ctx, ws, o)
			return page(p, err, func(e nahook.Environment) string { return string(e.ID) })
		},
	},
	{
		kind: "applications",
		make: func(t *testing.T, h *harness, ws nahook.WorkspaceID, i int) string {
			return string(h.app(t, ws, fmt.Sprint("cust_", i)).ID)
		},
		list: func(h *harness, ws nahook.WorkspaceID, o nahook.ListOptions) ([]string, string, error) {
			p, err := h.nh.Applications.List(h.ctx, ws, o)
			return page(p, err, func(a nahook.Application) string { return string(a.ID) })
		},
	},
	{
		kind: "event types",
		make: func(t *testing.T, h *harness, ws nahook.WorkspaceID, i int) string {
			// Names sort against creation order, so a list ordered by
			// name rather than ID would fail.
			return string(h.eventType(t, ws, fmt.Sprintf("type.n%03d", 999-i)).ID)
		},
		list: func(h *harness, ws nahook.WorkspaceID, o nahook.ListOptions) ([]string, string, error) {
			p, err := h.nh.EventTypes.List(h.ctx, ws, o)
			return page(p, err, func(e nahook.EventType) string { return string(e.ID) })
		},
	},
	{
		kind: "endpoints",
		make: func(t *testing.T, h *harness, ws nahook.WorkspaceID, i int) string {
			return string(h.endpoint(t, ws, nahook.EndpointInput{URL: fmt.Sprintf("https://example.com/%d", i), EventTypes: []string{"*"}}).ID)
		},
		list: func(h *harness, ws nahook.WorkspaceID, o nahook.ListOptions) ([]string, string, error) {
			p, err := h.nh.Endpoints.List(h.ctx, ws, nahook.EndpointFilter{}, o)
			return page(p, err, func(e nahook.Endpoint) string { return string(e.ID) })
		},
	},
	{
		kind: "API keys",
		make: func(t *testing.T, h *harness, ws nahook.WorkspaceID, _ int) string {
			return string(h.key(t, ws, "").ID)
		},
		list: func(h *harness, ws nahook.WorkspaceID, o nahook.ListOptions) ([]string, string, error) {
			p, err := h.nh.APIKeys.List(h.ctx, ws, nahook.APIKeyFilter{}, o)
			return page(p, err, func(k nahook.APIKey) string { return string(k.ID) })
		},
	},
}

var paginationTests = []test{
	{
		name:     "List/EveryItemOnce",
		contract: "Walking a list page by page with its cursor visits every item exactly once, in creation (ID) order, the last page having no cursor; walking it again gives the same.",
		run: func(t *testing.T, h *harness) {
			for _, l := range listers {
				t.Run(l.kind, func(t *testing.T) {
					is := is.New(t)
					ws := h.workspace(t)
					want, _, err := l.list(h, ws.ID, nahook.ListOptions{}) // what exists already: a default environment, a workspace
					is.NoErr(err)
					for i := range 8 - len(want) {
						want = append(want, l.make(t, h, ws.ID, i))
					}
					for range 2 {
						var got []string
						var sizes []int
						o := nahook.ListOptions{Limit: 3}
						for {
							ids, next, err := l.list(h, ws.ID, o)
							is.NoErr(err)
							got = append(got, ids...)
							sizes = append(sizes, len(ids))
							if next == "" {
								break
							}
							o.Cursor = next
						}
						is.Equal(sizes, []int{3, 3, 2}) // full pages, then the rest
						is.Equal(got, want)             // each item once, in creation order
						is.True(slices.IsSorted(got))   // which is ID order
					}
				})
			}
		},
	},
	{
		name:     "List/Limits",
		contract: "A list returns 50 items when no limit is given and at most 250; a limit above 250 or below 0 is ErrInvalid naming limit.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			for i := range nahook.DefaultLimit + 1 {
				h.eventType(t, ws.ID, fmt.Sprint("type.n", i))
			}
			p, err := h.nh.EventTypes.List(h.ctx, ws.ID, nahook.ListOptions{})
			is.NoErr(err)
			is.Equal(len(p.Items), nahook.DefaultLimit) // the default page size
			is.True(p.NextCursor != "")
			p, err = h.nh.EventTypes.List(h.ctx, ws.ID, nahook.ListOptions{Cursor: p.NextCursor})
			is.NoErr(err)
			is.Equal(len(p.Items), 1)
			is.Equal(p.NextCursor, "")
			p, err = h.nh.EventTypes.List(h.ctx, ws.ID, nahook.ListOptions{Limit: nahook.MaxLimit})
			is.NoErr(err)
			is.Equal(len(p.Items), nahook.DefaultLimit+1)
			is.Equal(p.NextCursor, "") // an exactly-full last page is not followed by an empty one
			for _, limit := range []int{nahook.MaxLimit + 1, -1} {
				_, err = h.nh.EventTypes.List(h.ctx, ws.ID, nahook.ListOptions{Limit: limit})
				wantErr(t, err, nahook.ErrInvalid, "limit")
			}
			empty, err := h.nh.Applications.List(h.ctx, ws.ID, nahook.ListOptions{})
			is.NoErr(err)
			is.True(empty.Items != nil) // an empty page has an empty, non-nil slice
			is.Equal(len(empty.Items), 0)
		},
	},
	{
		name:     "List/Cursor",
		contract: "A cursor is opaque and belongs to its list: a forged cursor or one from another kind of list is ErrInvalid naming cursor.",
		run: func(t *testing.T, h *harness) {
			ws := h.workspace(t)
			for i := range 3 {
				h.app(t, ws.ID, fmt.Sprint("cust_", i))
			}
			p, err := h.nh.Applications.List(h.ctx, ws.ID, nahook.ListOptions{Limit: 1})
			if err != nil || p.NextCursor == "" {
				t.Fatalf("first page: %v, cursor %q", err, p.NextCursor)
			}
			for _, c := range []string{"garbage", "!!!", string(p.Items[0].ID)} {
				_, err := h.nh.Applications.List(h.ctx, ws.ID, nahook.ListOptions{Cursor: c})
				wantErr(t, err, nahook.ErrInvalid, "cursor")
			}
			_, err = h.nh.EventTypes.List(h.ctx, ws.ID, nahook.ListOptions{Cursor: p.NextCursor})
			wantErr(t, err, nahook.ErrInvalid, "cursor")
		},
	},
	{
		name:     "Store/PageAfter",
		contract: "A store list returns at most Page.Limit items whose IDs sort strictly after Page.After, in ascending ID order.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			var ids []nahook.ApplicationID
			for i := range 5 {
				ids = append(ids, h.app(t, ws.ID, fmt.Sprint("cust_", i)).ID)
			}
			got, err := h.st.ListApplications(h.ctx, ws.ID, store.Page{After: string(ids[1]), Limit: 2})
			is.NoErr(err)
			is.Equal(len(got), 2)
			is.Equal(got[0].ID, ids[2])
			is.Equal(got[1].ID, ids[3])
			got, err = h.st.ListApplications(h.ctx, ws.ID, store.Page{After: string(ids[4]), Limit: 2})
			is.NoErr(err)
			is.Equal(len(got), 0)
		},
	},
}
