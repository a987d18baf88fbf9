package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

// version returns the store's current routing version.
func (h *harness) version(t *testing.T) int64 {
	t.Helper()
	v, _, err := h.st.RoutingChanges(h.ctx, 0)
	if err != nil {
		t.Fatalf("RoutingChanges: %v", err)
	}
	return v
}

// changedSince returns the workspaces written to after version since, with
// the version of each one's latest change.
func (h *harness) changedSince(t *testing.T, since int64) (int64, map[nahook.WorkspaceID]int64) {
	t.Helper()
	current, changes, err := h.st.RoutingChanges(h.ctx, since)
	if err != nil {
		t.Fatalf("RoutingChanges: %v", err)
	}
	out := map[nahook.WorkspaceID]int64{}
	for _, c := range changes {
		if _, dup := out[c.WorkspaceID]; dup {
			t.Fatalf("workspace %s listed twice in RoutingChanges", c.WorkspaceID)
		}
		out[c.WorkspaceID] = c.Version
	}
	return current, out
}

var routingChangesTests = []test{
	{
		name:     "RoutingChanges/EveryWriteBumps",
		contract: "Every write advances the routing version and records it as its workspace's latest change, in the same transaction; a refused write records nothing.",
		run: func(t *testing.T, h *harness) {
			ws := h.workspace(t)
			other := h.workspace(t)
			env := h.env(t, ws.ID, "staging")
			app := h.app(t, ws.ID, "cust_1")
			et := h.eventType(t, ws.ID, "order.created")
			ep := h.endpoint(t, ws.ID, nahook.EndpointInput{EnvironmentID: env.ID, EventTypes: []string{"order.created"}})
			key := h.key(t, ws.ID, env.ID)
			var doomed nahook.Workspace
			writes := []struct {
				name string
				ws   func() nahook.WorkspaceID
				do   func() error
			}{
				{"create workspace", func() nahook.WorkspaceID { return doomed.ID }, func() (err error) {
					doomed, err = h.nh.Workspaces.Create(h.ctx, nahook.WorkspaceInput{Name: "Doomed"})
					return err
				}},
				{"update workspace", nil, func() error {
					_, err := h.nh.Workspaces.Update(h.ctx, ws.ID, nahook.WorkspacePatch{Name: ptr("Renamed")})
					return err
				}},
				{"create environment", nil, func() error {
					_, err := h.nh.Environments.Create(h.ctx, ws.ID, nahook.EnvironmentInput{Name: "QA", Slug: "qa"})
					return err
				}},
				{"update environment", nil, func() error {
					_, err := h.nh.Environments.Update(h.ctx, ws.ID, env.ID, nahook.EnvironmentPatch{Name: ptr("Stage")})
					return err
				}},
				{"create application", nil, func() error {
					_, err := h.nh.Applications.Create(h.ctx, ws.ID, nahook.ApplicationInput{Name: "Globex"})
					return err
				}},
				{"update application", nil, func() error {
					_, err := h.nh.Applications.Update(h.ctx, ws.ID, app.ID, nahook.ApplicationPatch{Name: ptr("Acme")})
					return err
				}},
				{"create event type", nil, func() error {
					_, err := h.nh.EventTypes.Create(h.ctx, ws.ID, nahook.EventTypeInput{Name: "order.refunded"})
					return err
				}},
				{"update event type", nil, func() error {
					_, err := h.nh.EventTypes.Update(h.ctx, ws.ID, et.ID, nahook.EventTypePatch{Name: ptr("order.placed")})
					return err
				}},
				{"publish", nil, func() error { return h.nh.EventTypes.SetPublished(h.ctx, ws.ID, env.ID, et.ID, true) }},
				{"unpublish", nil, func() error { return h.nh.EventTypes.SetPublished(h.ctx, ws.ID, env.ID, et.ID, false) }},
				{"create endpoint", nil, func() error {
					_, err := h.nh.Endpoints.Create(h.ctx, ws.ID, nahook.EndpointInput{URL: "https://example.com/2"})
					return err
				}},
				{"update endpoint", nil, func() error {
					_, err := h.nh.Endpoints.Update(h.ctx, ws.ID, ep.ID, nahook.EndpointPatch{Disabled: ptr(true)})
					return err
				}},
				{"create key", nil, func() error {
					_, err := h.nh.APIKeys.Create(h.ctx, ws.ID, nahook.APIKeyInput{})
					return err
				}},
				{"revoke key", nil, func() error {
					_, err := h.nh.APIKeys.Revoke(h.ctx, ws.ID, key.ID)
					return err
				}},
				{"delete endpoint", nil, func() error { return h.nh.Endpoints.Delete(h.ctx, ws.ID, ep.ID) }},
				{"delete event type", nil, func() error { return h.nh.EventTypes.Delete(h.ctx, ws.ID, et.ID) }},
				{"delete application", nil, func() error { return h.nh.Applications.Delete(h.ctx, ws.ID, app.ID) }},
				{"delete environment", nil, func() error { return h.nh.Environments.Delete(h.ctx, ws.ID, env.ID) }},
				{"delete workspace", func() nahook.WorkspaceID { return doomed.ID }, func() error {
					return h.nh.Workspaces.Delete(h.ctx, doomed.ID)
				}},
			}
			for _, w := range writes {
				before := h.version(t)
				if err := w.do(); err != nil {
					t.Fatalf("%s: %v", w.name, err)
				}
				target := ws.ID
				if w.ws != nil {
					target = w.ws()
				}
				current, changed := h.changedSince(t, before)
				if current <= before {
					t.Fatalf("%s: routing version stayed at %d", w.name, before)
				}
				if v, ok := changed[target]; !ok || v <= before || v > current {
					t.Fatalf("%s: changes since %d are %v, want workspace %s between %d and %d", w.name, before, changed, target, before+1, current)
				}
				if _, ok := changed[other.ID]; ok {
					t.Fatalf("%s: recorded a change of an untouched workspace", w.name)
				}
			}

			before := h.version(t)
			_, err := h.nh.Environments.Create(h.ctx, ws.ID, nahook.EnvironmentInput{Name: "QA", Slug: "qa"})
			wantErr(t, err, nahook.ErrConflict, "slug")
			is := is.New(t)
			is.Equal(h.version(t), before) // a refused write changes nothing
		},
	},
	{
		name:     "RoutingChanges/Since",
		contract: "RoutingChanges(since) lists each workspace written to after since once, with the version of its latest change, and the current version.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			a, b := h.workspace(t), h.workspace(t)
			mid := h.version(t)
			h.app(t, a.ID, "one")
			h.app(t, a.ID, "two")
			aLatest := h.version(t)
			h.app(t, b.ID, "three")
			current, changed := h.changedSince(t, mid)
			is.Equal(current, h.version(t))
			is.Equal(changed[a.ID], aLatest) // a's latest change only
			is.Equal(changed[b.ID], current) // b changed last
			is.Equal(len(changed), 2)
			_, changed = h.changedSince(t, current)
			is.Equal(len(changed), 0) // nothing after the current version
		},
	},
	{
		name:     "RoutingChanges/DeletedWorkspace",
		contract: "A deleted workspace stays in RoutingChanges, so routers learn it is gone, and LoadRouting returns nothing of it.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			h.key(t, ws.ID, "")
			h.endpoint(t, ws.ID, nahook.EndpointInput{})
			before := h.version(t)
			is.NoErr(h.nh.Workspaces.Delete(h.ctx, ws.ID))
			_, changed := h.changedSince(t, before)
			is.True(changed[ws.ID] > before)
			r, err := h.st.LoadRouting(h.ctx, []store.WorkspaceID{ws.ID})
			is.NoErr(err)
			is.Equal(len(r.Workspaces)+len(r.Keys)+len(r.Endpoints)+len(r.EventTypes), 0)
		},
	},
}

var routingChangesRaces = []test{
	{
		name:     "RoutingChanges/InOrderUnderRace",
		contract: "Routing versions commit in increasing order under concurrent writers: a reader that follows RoutingChanges from the version it last saw never misses a workspace's latest change.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			const writers, writes = 8, 15
			wss := make([]nahook.WorkspaceID, writers)
			for i := range wss {
				wss[i] = h.workspace(t).ID
			}
			seen := map[nahook.WorkspaceID]int64{}
			since := h.version(t)
			follow := func() {
				current, changed := h.changedSince(t, since)
				for ws, v := range changed {
					seen[ws] = max(seen[ws], v)
				}
				since = current
			}
			done := make(chan struct{})
			var wg sync.WaitGroup
			for i := range writers {
				wg.Go(func() {
					for j := range writes {
						_, err := h.racer(i+j).Applications.Create(h.ctx, wss[i], nahook.ApplicationInput{Name: fmt.Sprint("App ", j)})
						if err != nil {
							t.Errorf("write: %v", err)
							return
						}
					}
				})
			}
			go func() { wg.Wait(); close(done) }()
			for running := true; running; {
				select {
				case <-done:
					running = false
				default:
				}
				follow()
			}
			follow()
			_, final := h.changedSince(t, 0)
			for _, ws := range wss {
				is.Equal(seen[ws], final[ws]) // the follower saw each workspace's latest change
			}
		},
	},
}
