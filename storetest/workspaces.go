package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

var workspaceTests = join(
	[]test{
		{
			name:     "CreateWorkspace/DefaultEnvironment",
			contract: "Creating a workspace creates its default environment, Production (slug production, isDefault true), and no other.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				envs := all(t, func(o nahook.ListOptions) (nahook.Page[nahook.Environment], error) {
					return h.nh.Environments.List(h.ctx, ws.ID, o)
				})
				is.Equal(len(envs), 1) // exactly one environment
				env := envs[0]
				is.Equal(env.Name, "Production")
				is.Equal(env.Slug, "production")
				is.True(env.IsDefault)
				is.Equal(env.WorkspaceID, ws.ID)
				def, err := h.st.GetDefaultEnvironment(h.ctx, ws.ID)
				is.NoErr(err)
				is.Equal(def, env) // GetDefaultEnvironment returns that environment
			},
		},
		{
			name:     "CreateWorkspace/TimesUTCMillisecond",
			contract: "Times are stored and returned in UTC with millisecond precision, and a record reads back exactly as it was returned.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				want := start.UTC().Truncate(time.Millisecond)
				is.Equal(ws.CreatedAt, want) // stamped with the clock, in UTC, to the millisecond
				is.Equal(ws.UpdatedAt, want)
				got, err := h.st.GetWorkspace(h.ctx, ws.ID)
				is.NoErr(err)
				is.Equal(got, ws) // reads back exactly
				is.Equal(got.CreatedAt.Location(), time.UTC)
			},
		},
		{
			name:     "CreateWorkspace/Atomic",
			contract: "CreateWorkspace stores the workspace and its default environment together or not at all.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				first := h.workspace(t)
				def := h.defaultEnv(t, first.ID)
				// A second workspace whose default environment reuses the
				// first's environment ID cannot be stored whole.
				ws := store.Workspace{ID: "ws_01kaaaaaaaaaaaaaaaaaaaaaaa", Name: "Second", CreatedAt: start.UTC(), UpdatedAt: start.UTC()}
				env := def
				env.WorkspaceID = ws.ID
				err := h.st.CreateWorkspace(h.ctx, ws, env)
				is.True(err != nil) // the duplicate environment ID fails the create
				_, err = h.st.GetWorkspace(h.ctx, ws.ID)
				wantErr(t, err, store.ErrNotFound, "") // and the workspace was not stored either
			},
		},
		{
			name:     "CreateWorkspace/DuplicateID",
			contract: "Creating a workspace under an ID already stored is ErrConflict and changes nothing.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				again := ws
				again.Name = "Impostor"
				env := store.Environment{ID: "env_01kaaaaaaaaaaaaaaaaaaaaaaa", WorkspaceID: ws.ID, Name: "Production", Slug: "production", IsDefault: true,
					CreatedAt: ws.CreatedAt, UpdatedAt: ws.UpdatedAt}
				err := h.st.CreateWorkspace(h.ctx, again, env)
				is.True(err != nil)
				is.True(errors.Is(err, store.ErrConflict)) // a duplicate ID is a conflict
				got, err := h.st.GetWorkspace(h.ctx, ws.ID)
				is.NoErr(err)
				is.Equal(got, ws) // unchanged
				_, err = h.st.GetEnvironment(h.ctx, ws.ID, env.ID)
				wantErr(t, err, store.ErrNotFound, "") // and its environment was not stored
			},
		},
		{
			name:     "GetWorkspace/UnknownID",
			contract: "Getting a workspace, or its default environment, by a well-formed ID that exists nowhere is ErrNotFound.",
			run: func(t *testing.T, h *harness) {
				h.workspace(t)
				_, err := h.st.GetWorkspace(h.ctx, "ws_01kaaaaaaaaaaaaaaaaaaaaaaa")
				wantErr(t, err, store.ErrNotFound, "")
				_, err = h.nh.Workspaces.Get(h.ctx, "ws_01kaaaaaaaaaaaaaaaaaaaaaaa")
				wantErr(t, err, nahook.ErrNotFound, "")
				_, err = h.st.GetDefaultEnvironment(h.ctx, "ws_01kaaaaaaaaaaaaaaaaaaaaaaa")
				wantErr(t, err, store.ErrNotFound, "workspaceId")
			},
		},
		{
			name:     "UpdateWorkspace/Fields",
			contract: "Updating a workspace changes only the fields given and advances updatedAt, never createdAt; an unknown workspace is ErrNotFound.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				other := h.workspace(t)
				h.tick()
				got, err := h.nh.Workspaces.Update(h.ctx, ws.ID, nahook.WorkspacePatch{Name: ptr("Renamed")})
				is.NoErr(err)
				is.Equal(got.Name, "Renamed")
				is.Equal(got.CreatedAt, ws.CreatedAt)      // unchanged
				is.True(got.UpdatedAt.After(ws.UpdatedAt)) // advanced
				read, err := h.st.GetWorkspace(h.ctx, ws.ID)
				is.NoErr(err)
				is.Equal(read, got) // as returned
				untouched, err := h.st.GetWorkspace(h.ctx, other.ID)
				is.NoErr(err)
				is.Equal(untouched, other) // no other workspace changed
				_, err = h.st.UpdateWorkspace(h.ctx, "ws_01kaaaaaaaaaaaaaaaaaaaaaaa", store.WorkspaceUpdate{Name: ptr("x"), UpdatedAt: h.at()})
				wantErr(t, err, store.ErrNotFound, "")
			},
		},
		{
			name: "DeleteWorkspace/Cascade",
			contract: "Deleting a workspace deletes everything in it (environments, applications, event types and their visibility, endpoints and their keys, " +
				"API keys, portal sessions, events, deliveries and attempts), leaving nothing behind, and touches no other workspace.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				f := h.filled(t)
				other := h.filled(t)
				otherBefore := other.snapshot(t, h)
				def := f.env

				is.NoErr(h.nh.Workspaces.Delete(h.ctx, f.ws.ID))
				_, err := h.st.GetWorkspace(h.ctx, f.ws.ID)
				wantErr(t, err, store.ErrNotFound, "")
				for _, k := range []nahook.IssuedAPIKey{f.key, f.mgmt} {
					_, err = h.st.GetAPIKeyByHash(h.ctx, k.Hash)
					wantErr(t, err, store.ErrNotFound, "") // its keys are gone
				}
				_, err = h.st.GetPortalSessionByHash(h.ctx, f.session.Hash)
				wantErr(t, err, store.ErrNotFound, "") // and its portal sessions
				r, err := h.st.LoadRouting(h.ctx, []store.WorkspaceID{f.ws.ID})
				is.NoErr(err)
				is.Equal(len(r.Workspaces)+len(r.Keys)+len(r.Endpoints)+len(r.EventTypes), 0) // nothing to route

				// Recreate the workspace and its parents under the same IDs:
				// whatever survived the delete would show up in it again.
				is.NoErr(h.st.CreateWorkspace(h.ctx, f.ws, def))
				envs, err := h.st.ListEnvironments(h.ctx, f.ws.ID, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(envs), 1) // only the recreated default environment
				is.NoErr(h.st.CreateEnvironment(h.ctx, f.staging))
				apps, err := h.st.ListApplications(h.ctx, f.ws.ID, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(apps), 0) // no application survived
				is.NoErr(h.st.CreateApplication(h.ctx, f.app))
				ets, err := h.st.ListEventTypes(h.ctx, f.ws.ID, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(ets), 0) // no event type survived
				is.NoErr(h.st.CreateEventType(h.ctx, f.et))
				for _, env := range []store.EnvironmentID{def.ID, f.staging.ID} {
					vis, err := h.st.ListEventTypeVisibility(h.ctx, f.ws.ID, env)
					is.NoErr(err)
					is.Equal(vis, []store.EventTypeVisibility{{EventTypeID: f.et.ID, EventTypeName: f.et.Name}}) // no visibility survived
				}
				eps, err := h.st.ListEndpoints(h.ctx, f.ws.ID, store.EndpointFilter{}, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(eps), 0) // no endpoint survived
				_, err = h.st.GetEndpointKeys(h.ctx, f.ws.ID, f.a.ID)
				wantErr(t, err, store.ErrNotFound, "") // nor its signing keys
				keys, err := h.st.ListAPIKeys(h.ctx, f.ws.ID, store.APIKeyFilter{}, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(keys), 0) // no key survived
				_, err = h.st.GetPortalSession(h.ctx, f.ws.ID, f.session.ID)
				wantErr(t, err, store.ErrNotFound, "")
				sessions, err := h.st.ListPortalSessions(h.ctx, f.ws.ID, f.app.ID, h.at(), store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(sessions), 0) // no portal session survived
				_, err = h.st.GetEvent(h.ctx, f.ws.ID, f.event.Event.ID)
				wantErr(t, err, store.ErrNotFound, "") // no event survived
				_, _, err = h.st.GetEventByIdempotencyKey(h.ctx, f.ws.ID, def.ID, "order-1")
				wantErr(t, err, store.ErrNotFound, "idempotencyKey")
				ds, err := h.st.ListDeliveries(h.ctx, f.ws.ID, store.DeliveryFilter{}, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(ds), 0) // no delivery survived
				_, _, err = h.st.GetDelivery(h.ctx, f.ws.ID, f.failed.ID)
				wantErr(t, err, store.ErrNotFound, "")

				// The same endpoint, event and delivery again: an attempt
				// that survived would be attached to the delivery.
				is.NoErr(h.st.CreateEndpoint(h.ctx, f.a, newKey(), 0))
				ev := f.event.Event
				ev.IdempotencyKey = ""
				_, stored, _, err := h.st.Ingest(h.ctx, ev, []store.Delivery{{ID: f.failed.ID, EndpointID: f.a.ID}})
				is.NoErr(err)
				is.Equal(len(stored), 1)
				_, attempts, err := h.st.GetDelivery(h.ctx, f.ws.ID, f.failed.ID)
				is.NoErr(err)
				is.Equal(len(attempts), 0) // no attempt survived

				other.unchanged(t, h, otherBefore) // the other workspace is untouched
				_, err = h.nh.APIKeys.Authenticate(h.ctx, other.key.Plaintext)
				is.NoErr(err)
			},
		},
		{
			name:     "DeleteWorkspace/UnknownID",
			contract: "Deleting a workspace that does not exist, or no longer does, is ErrNotFound.",
			run: func(t *testing.T, h *harness) {
				err := h.st.DeleteWorkspace(h.ctx, "ws_01kaaaaaaaaaaaaaaaaaaaaaaa")
				wantErr(t, err, store.ErrNotFound, "")
				ws := h.workspace(t)
				is.New(t).NoErr(h.st.DeleteWorkspace(h.ctx, ws.ID))
				wantErr(t, h.st.DeleteWorkspace(h.ctx, ws.ID), store.ErrNotFound, "") // deleting twice
			},
		},
	},
	listCases(lister{
		method: "ListWorkspaces",
		make:   func(t *testing.T, h *harness, _ nahook.WorkspaceID, _ int) string { return string(h.workspace(t).ID) },
		list: func(h *harness, _ nahook.WorkspaceID, o nahook.ListOptions) ([]string, string, error) {
			p, err := h.nh.Workspaces.List(h.ctx, o)
			return page(p, err, func(w nahook.Workspace) string { return string(w.ID) })
		},
	}),
)
