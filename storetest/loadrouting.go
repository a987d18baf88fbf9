package storetest

import (
	"cmp"
	"slices"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

var loadRoutingTests = []test{
	{
		name:     "LoadRouting/Matches",
		contract: "LoadRouting returns, for the workspaces asked for, exactly their environments (the default one marked), their active environment keys, event types with where each is published, and endpoints with their subscriptions in order, at a version that includes every write made before.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws, other := h.workspace(t), h.workspace(t)
			prod := h.defaultEnv(t, ws.ID)
			staging := h.env(t, ws.ID, "staging")
			created := h.eventType(t, ws.ID, "order.created")
			refunded := h.eventType(t, ws.ID, "order.refunded")
			h.eventType(t, ws.ID, "invoice.paid")
			h.publish(t, ws.ID, prod.ID, created.ID)
			h.publish(t, ws.ID, staging.ID, created.ID)
			h.publish(t, ws.ID, prod.ID, refunded.ID)
			app := h.app(t, ws.ID, "cust_1")
			e1 := h.endpoint(t, ws.ID, nahook.EndpointInput{ApplicationID: app.ID, EventTypes: []string{"order.refunded", "order.created"}})
			e2 := h.endpoint(t, ws.ID, nahook.EndpointInput{EnvironmentID: staging.ID, URL: "https://example.com/b", EventTypes: []string{"*"}, Disabled: true})
			e3 := h.endpoint(t, ws.ID, nahook.EndpointInput{EnvironmentID: staging.ID, URL: "https://example.com/c"})
			active := h.key(t, ws.ID, staging.ID)
			revoked := h.key(t, ws.ID, prod.ID)
			_, err := h.nh.APIKeys.Revoke(h.ctx, ws.ID, revoked.ID)
			is.NoErr(err)
			_, err = h.nh.APIKeys.CreateManagement(h.ctx, ws.ID, "ops")
			is.NoErr(err)
			h.endpoint(t, other.ID, nahook.EndpointInput{})
			h.key(t, other.ID, "")
			h.eventType(t, other.ID, "order.created")
			version := h.version(t)

			r, err := h.st.LoadRouting(h.ctx, []store.WorkspaceID{ws.ID})
			is.NoErr(err)
			is.True(r.Version >= version) // includes every write made before
			is.Equal(r.Workspaces, []store.WorkspaceID{ws.ID})
			envs := slices.Clone(r.Environments)
			slices.SortFunc(envs, func(a, b store.RoutingEnvironment) int { return cmp.Compare(a.ID, b.ID) })
			wantEnvs := []store.RoutingEnvironment{{ID: prod.ID, WorkspaceID: ws.ID, IsDefault: true}, {ID: staging.ID, WorkspaceID: ws.ID}}
			slices.SortFunc(wantEnvs, func(a, b store.RoutingEnvironment) int { return cmp.Compare(a.ID, b.ID) })
			is.Equal(envs, wantEnvs)                                                                                                // every environment, the default one marked
			is.Equal(r.Keys, []store.RoutingKey{{Hash: active.Hash, ID: active.ID, WorkspaceID: ws.ID, EnvironmentID: staging.ID}}) // the active environment key only

			types := map[string][]store.EnvironmentID{}
			for _, et := range r.EventTypes {
				is.Equal(et.WorkspaceID, ws.ID)
				envs := slices.Clone(et.PublishedIn)
				slices.Sort(envs)
				types[et.Name] = envs
			}
			both := []store.EnvironmentID{prod.ID, staging.ID}
			slices.Sort(both)
			is.Equal(types, map[string][]store.EnvironmentID{
				"order.created":  both,
				"order.refunded": {prod.ID},
				"invoice.paid":   nil,
			})

			is.Equal(len(r.Endpoints), 3)
			want := []store.RoutingEndpoint{
				{ID: e1.ID, WorkspaceID: ws.ID, EnvironmentID: prod.ID, ApplicationID: app.ID, URL: e1.URL, EventTypes: []string{"order.refunded", "order.created"}},
				{ID: e2.ID, WorkspaceID: ws.ID, EnvironmentID: staging.ID, URL: e2.URL, Disabled: true, EventTypes: []string{"*"}},
				{ID: e3.ID, WorkspaceID: ws.ID, EnvironmentID: staging.ID, URL: e3.URL},
			}
			for i, ep := range r.Endpoints {
				if len(ep.EventTypes) == 0 {
					ep.EventTypes = nil
				}
				is.Equal(ep, want[i]) // in ID order, with their subscriptions in order
			}

			everything, err := h.st.LoadRouting(h.ctx, nil)
			is.NoErr(err)
			is.Equal(len(everything.Workspaces), 2) // nil asks for every workspace
			is.Equal(len(everything.Keys), 2)
			is.Equal(len(everything.Endpoints), 4)
			is.Equal(len(everything.EventTypes), 4)

			none, err := h.st.LoadRouting(h.ctx, []store.WorkspaceID{"ws_01kaaaaaaaaaaaaaaaaaaaaaaa"})
			is.NoErr(err)
			is.Equal(len(none.Workspaces)+len(none.Keys)+len(none.Endpoints)+len(none.EventTypes), 0) // an unknown workspace has nothing
		},
	},
}
