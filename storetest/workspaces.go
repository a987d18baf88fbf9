package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

var workspaceTests = []test{
	{
		name:     "Workspaces.Create/DefaultEnvironment",
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
			def := h.defaultEnv(t, ws.ID)
			is.Equal(def, env) // Default returns that environment
		},
	},
	{
		name:     "Workspaces.Create/TimesUTCMillisecond",
		contract: "Times are stored and returned in UTC with millisecond precision, and a record reads back exactly as it was returned.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			want := start.UTC().Truncate(time.Millisecond)
			is.Equal(ws.CreatedAt, want) // stamped with the clock, in UTC, to the millisecond
			is.Equal(ws.UpdatedAt, want)
			got, err := h.nh.Workspaces.Get(h.ctx, ws.ID)
			is.NoErr(err)
			is.Equal(got, ws) // reads back exactly
			is.Equal(got.CreatedAt.Location(), time.UTC)
		},
	},
	{
		name:     "Workspaces.Create/NameRequired",
		contract: "A workspace needs a name of 1 to 256 characters; a refused create stores nothing.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			for _, n := range []string{"", "   ", strings256 + "x"} {
				_, err := h.nh.Workspaces.Create(h.ctx, nahook.WorkspaceInput{Name: n})
				wantErr(t, err, nahook.ErrInvalid, "name")
			}
			list, err := h.nh.Workspaces.List(h.ctx, nahook.ListOptions{})
			is.NoErr(err)
			is.Equal(len(list.Items), 0) // nothing stored
			_, err = h.nh.Workspaces.Create(h.ctx, nahook.WorkspaceInput{Name: strings256})
			is.NoErr(err) // 256 characters is allowed
		},
	},
	{
		name:     "Workspaces.Create/Atomic",
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
		name:     "Workspaces.Get/Unknown",
		contract: "Getting a workspace that does not exist, or by an ID of the wrong shape, is ErrNotFound.",
		run: func(t *testing.T, h *harness) {
			h.workspace(t)
			_, err := h.nh.Workspaces.Get(h.ctx, "ws_01kaaaaaaaaaaaaaaaaaaaaaaa")
			wantErr(t, err, nahook.ErrNotFound, "")
			_, err = h.nh.Workspaces.Get(h.ctx, "nonsense")
			wantErr(t, err, nahook.ErrNotFound, "")
			_, err = h.st.GetWorkspace(h.ctx, "ws_01kaaaaaaaaaaaaaaaaaaaaaaa")
			wantErr(t, err, store.ErrNotFound, "")
		},
	},
	{
		name:     "Workspaces.Update/Name",
		contract: "Updating a workspace changes only the fields given and advances updatedAt, never createdAt.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			h.tick()
			got, err := h.nh.Workspaces.Update(h.ctx, ws.ID, nahook.WorkspacePatch{Name: ptr("  Renamed  ")})
			is.NoErr(err)
			is.Equal(got.Name, "Renamed")              // trimmed
			is.Equal(got.CreatedAt, ws.CreatedAt)      // unchanged
			is.True(got.UpdatedAt.After(ws.UpdatedAt)) // advanced
			same, err := h.nh.Workspaces.Update(h.ctx, ws.ID, nahook.WorkspacePatch{})
			is.NoErr(err)
			is.Equal(same, got) // an empty patch changes nothing
			_, err = h.nh.Workspaces.Update(h.ctx, ws.ID, nahook.WorkspacePatch{Name: ptr("")})
			wantErr(t, err, nahook.ErrInvalid, "name")
			_, err = h.nh.Workspaces.Update(h.ctx, "ws_01kaaaaaaaaaaaaaaaaaaaaaaa", nahook.WorkspacePatch{Name: ptr("x")})
			wantErr(t, err, nahook.ErrNotFound, "")
		},
	},
	{
		name:     "Workspaces.Delete/Cascade",
		contract: "Deleting a workspace deletes everything in it, leaving nothing behind, and touches no other workspace.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			other := h.workspace(t)
			otherKey := h.key(t, other.ID, "")
			def := h.defaultEnv(t, ws.ID)
			staging := h.env(t, ws.ID, "staging")
			et := h.eventType(t, ws.ID, "order.created")
			h.publish(t, ws.ID, staging.ID, et.ID)
			app := h.app(t, ws.ID, "cust_1")
			ep := h.endpoint(t, ws.ID, nahook.EndpointInput{EnvironmentID: staging.ID, ApplicationID: app.ID, EventTypes: []string{"order.created"}})
			key := h.key(t, ws.ID, staging.ID)
			mgmt, err := h.nh.APIKeys.CreateManagement(h.ctx, ws.ID, "ops")
			is.NoErr(err)

			is.NoErr(h.nh.Workspaces.Delete(h.ctx, ws.ID))
			_, err = h.nh.Workspaces.Get(h.ctx, ws.ID)
			wantErr(t, err, nahook.ErrNotFound, "")
			for _, k := range []nahook.IssuedAPIKey{key, mgmt} {
				_, err = h.st.GetAPIKeyByHash(h.ctx, k.Hash)
				wantErr(t, err, store.ErrNotFound, "") // its keys are gone
			}

			// Recreate the workspace under the same IDs: whatever survived
			// the delete would show up in it again.
			is.NoErr(h.st.CreateWorkspace(h.ctx, ws, def))
			envs, err := h.st.ListEnvironments(h.ctx, ws.ID, store.Page{Limit: 100})
			is.NoErr(err)
			is.Equal(len(envs), 1) // only the recreated default environment
			apps, err := h.st.ListApplications(h.ctx, ws.ID, store.Page{Limit: 100})
			is.NoErr(err)
			is.Equal(len(apps), 0) // no application survived
			ets, err := h.st.ListEventTypes(h.ctx, ws.ID, store.Page{Limit: 100})
			is.NoErr(err)
			is.Equal(len(ets), 0) // no event type survived
			eps, err := h.st.ListEndpoints(h.ctx, ws.ID, store.EndpointFilter{}, store.Page{Limit: 100})
			is.NoErr(err)
			is.Equal(len(eps), 0) // no endpoint survived
			_, err = h.st.GetEndpoint(h.ctx, ws.ID, ep.ID)
			wantErr(t, err, store.ErrNotFound, "")
			keys, err := h.st.ListAPIKeys(h.ctx, ws.ID, store.APIKeyFilter{}, store.Page{Limit: 100})
			is.NoErr(err)
			is.Equal(len(keys), 0) // no key survived

			_, err = h.nh.APIKeys.Authenticate(h.ctx, otherKey.Plaintext)
			is.NoErr(err) // the other workspace is untouched
			_, err = h.nh.Workspaces.Get(h.ctx, other.ID)
			is.NoErr(err)
		},
	},
	{
		name:     "Workspaces.Delete/Unknown",
		contract: "Deleting a workspace that does not exist is ErrNotFound.",
		run: func(t *testing.T, h *harness) {
			err := h.nh.Workspaces.Delete(h.ctx, "ws_01kaaaaaaaaaaaaaaaaaaaaaaa")
			wantErr(t, err, nahook.ErrNotFound, "")
		},
	},
}

// strings256 is a name of exactly 256 characters, each two bytes long, so
// a store or validator counting bytes instead of characters fails.
var strings256 = strings.Repeat("é", 256)
