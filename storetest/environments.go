package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

var environmentTests = []test{
	{
		name:     "Environments.Create/SeedShape",
		contract: "A created environment has an env_ ID, the name and slug given, isDefault false, and createdAt equal to updatedAt; it reads back the same.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			env, err := h.nh.Environments.Create(h.ctx, ws.ID, nahook.EnvironmentInput{Name: "Staging", Slug: "staging"})
			is.NoErr(err)
			is.True(strings.HasPrefix(string(env.ID), "env_")) // a TypeID with the env_ prefix
			is.Equal(len(env.ID), len("env_")+26)
			is.Equal(env.Name, "Staging")
			is.Equal(env.Slug, "staging")
			is.True(!env.IsDefault)
			is.Equal(env.CreatedAt, env.UpdatedAt)
			got, err := h.nh.Environments.Get(h.ctx, ws.ID, env.ID)
			is.NoErr(err)
			is.Equal(got, env)
		},
	},
	{
		name:     "Environments.Create/SlugFormat",
		contract: "A slug is 1 to 63 lowercase letters and digits with single hyphens between runs; anything else is ErrInvalid naming slug.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			for _, slug := range []string{"staging", "eu-prod", "a", "0", "a1-b2-c3", strings.Repeat("a", 63)} {
				env, err := h.nh.Environments.Create(h.ctx, ws.ID, nahook.EnvironmentInput{Name: "Valid", Slug: slug})
				if err != nil {
					t.Fatalf("slug %q: %v", slug, err)
				}
				is.NoErr(h.nh.Environments.Delete(h.ctx, ws.ID, env.ID))
			}
			for _, slug := range []string{"", "-a", "a-", "a--b", "Staging", "eu_prod", "eu prod", "é", "a.b", strings.Repeat("a", 64)} {
				_, err := h.nh.Environments.Create(h.ctx, ws.ID, nahook.EnvironmentInput{Name: "Invalid", Slug: slug})
				wantErr(t, err, nahook.ErrInvalid, "slug")
			}
			envs, err := h.st.ListEnvironments(h.ctx, ws.ID, store.Page{Limit: 100})
			is.NoErr(err)
			is.Equal(len(envs), 1) // no refused environment was stored
		},
	},
	{
		name:     "Environments.Create/NameRules",
		contract: "An environment name is 1 to 100 characters after trimming surrounding space, and is stored trimmed.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			env, err := h.nh.Environments.Create(h.ctx, ws.ID, nahook.EnvironmentInput{Name: "  Staging \t", Slug: "staging"})
			is.NoErr(err)
			is.Equal(env.Name, "Staging")
			_, err = h.nh.Environments.Create(h.ctx, ws.ID, nahook.EnvironmentInput{Name: strings.Repeat("é", 100), Slug: "long"})
			is.NoErr(err) // 100 characters is allowed
			for _, n := range []string{"", "  ", strings.Repeat("é", 101), "bad\x00name"} {
				_, err := h.nh.Environments.Create(h.ctx, ws.ID, nahook.EnvironmentInput{Name: n, Slug: "other"})
				wantErr(t, err, nahook.ErrInvalid, "name")
			}
		},
	},
	{
		name:     "Environments.Create/SlugUniquePerWorkspace",
		contract: "A slug is unique within its workspace (ErrConflict naming slug), the default environment's included, and free in every other workspace.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			h.env(t, ws.ID, "staging")
			_, err := h.nh.Environments.Create(h.ctx, ws.ID, nahook.EnvironmentInput{Name: "Again", Slug: "staging"})
			wantErr(t, err, nahook.ErrConflict, "slug")
			_, err = h.nh.Environments.Create(h.ctx, ws.ID, nahook.EnvironmentInput{Name: "Prod 2", Slug: "production"})
			wantErr(t, err, nahook.ErrConflict, "slug")
			other := h.workspace(t)
			_, err = h.nh.Environments.Create(h.ctx, other.ID, nahook.EnvironmentInput{Name: "Staging", Slug: "staging"})
			is.NoErr(err) // another workspace may use the slug
		},
	},
	{
		name:     "Environments.Create/Limit",
		contract: "A workspace holds at most 10 environments, the default included: the 11th is ErrLimitExceeded and stores nothing; deleting one frees a place.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			var last nahook.Environment
			for i := 1; i < nahook.MaxEnvironments; i++ {
				last = h.env(t, ws.ID, fmt.Sprintf("env-%d", i))
			}
			_, err := h.nh.Environments.Create(h.ctx, ws.ID, nahook.EnvironmentInput{Name: "Eleventh", Slug: "eleventh"})
			wantErr(t, err, nahook.ErrLimitExceeded, "")
			envs, err := h.st.ListEnvironments(h.ctx, ws.ID, store.Page{Limit: 100})
			is.NoErr(err)
			is.Equal(len(envs), nahook.MaxEnvironments) // exactly 10
			is.NoErr(h.nh.Environments.Delete(h.ctx, ws.ID, last.ID))
			_, err = h.nh.Environments.Create(h.ctx, ws.ID, nahook.EnvironmentInput{Name: "Eleventh", Slug: "eleventh"})
			is.NoErr(err) // a place was freed
		},
	},
	{
		name:     "Environments.Create/NothingPublished",
		contract: "A new environment has no event type published: visibility is never copied from another environment.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			prod := h.defaultEnv(t, ws.ID)
			et := h.eventType(t, ws.ID, "order.created")
			h.publish(t, ws.ID, prod.ID, et.ID)
			staging := h.env(t, ws.ID, "staging")
			vis, err := h.nh.EventTypes.Visibility(h.ctx, ws.ID, staging.ID)
			is.NoErr(err)
			is.Equal(vis, []nahook.EventTypeVisibility{{EventTypeID: et.ID, EventTypeName: "order.created", Published: false}})
		},
	},
	{
		name:     "Environments.Create/UnknownWorkspace",
		contract: "Creating an environment in a workspace that does not exist is ErrNotFound.",
		run: func(t *testing.T, h *harness) {
			_, err := h.nh.Environments.Create(h.ctx, "ws_01kaaaaaaaaaaaaaaaaaaaaaaa", nahook.EnvironmentInput{Name: "Staging", Slug: "staging"})
			wantErr(t, err, nahook.ErrNotFound, "workspaceId")
		},
	},
	{
		name:     "Environments.Update/NameAndSlug",
		contract: "Updating an environment changes the fields given, under the same rules as create: a taken slug is ErrConflict, a bad one ErrInvalid, and neither changes anything.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			env := h.env(t, ws.ID, "staging")
			h.env(t, ws.ID, "qa")
			h.tick()
			got, err := h.nh.Environments.Update(h.ctx, ws.ID, env.ID, nahook.EnvironmentPatch{Slug: ptr("stage")})
			is.NoErr(err)
			is.Equal(got.Slug, "stage")
			is.Equal(got.Name, env.Name) // not given, not changed
			is.True(got.UpdatedAt.After(env.UpdatedAt))
			_, err = h.nh.Environments.Update(h.ctx, ws.ID, env.ID, nahook.EnvironmentPatch{Name: ptr("QA too"), Slug: ptr("qa")})
			wantErr(t, err, nahook.ErrConflict, "slug")
			_, err = h.nh.Environments.Update(h.ctx, ws.ID, env.ID, nahook.EnvironmentPatch{Name: ptr("Fine"), Slug: ptr("Not-OK")})
			wantErr(t, err, nahook.ErrInvalid, "slug")
			after, err := h.nh.Environments.Get(h.ctx, ws.ID, env.ID)
			is.NoErr(err)
			is.Equal(after, got) // the refused updates changed nothing, the name included
			_, err = h.nh.Environments.Update(h.ctx, ws.ID, env.ID, nahook.EnvironmentPatch{Slug: ptr("stage")})
			is.NoErr(err) // keeping its own slug is no conflict
		},
	},
	{
		name:     "Environments.Delete/Default",
		contract: "The default environment cannot be deleted: ErrDefaultEnvironment, and it is still there with everything in it.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			def := h.defaultEnv(t, ws.ID)
			key := h.key(t, ws.ID, def.ID)
			err := h.nh.Environments.Delete(h.ctx, ws.ID, def.ID)
			wantErr(t, err, nahook.ErrDefaultEnvironment, "")
			err = h.st.DeleteEnvironment(h.ctx, ws.ID, def.ID)
			wantErr(t, err, store.ErrDefaultEnvironment, "") // the store refuses it too
			got, err := h.nh.Environments.Get(h.ctx, ws.ID, def.ID)
			is.NoErr(err)
			is.Equal(got, def)
			_, err = h.nh.APIKeys.Authenticate(h.ctx, key.Plaintext)
			is.NoErr(err) // its keys still work
		},
	},
	{
		name:     "Environments.Delete/Cascade",
		contract: "Deleting an environment deletes its API keys, endpoints and event-type visibility, leaving nothing behind, and nothing of any other environment or the applications.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			prod := h.defaultEnv(t, ws.ID)
			staging := h.env(t, ws.ID, "staging")
			et := h.eventType(t, ws.ID, "order.created")
			app := h.app(t, ws.ID, "cust_1")
			var keys, eps = map[nahook.EnvironmentID]nahook.IssuedAPIKey{}, map[nahook.EnvironmentID]nahook.Endpoint{}
			for _, env := range []nahook.Environment{prod, staging} {
				h.publish(t, ws.ID, env.ID, et.ID)
				keys[env.ID] = h.key(t, ws.ID, env.ID)
				eps[env.ID] = h.endpoint(t, ws.ID, nahook.EndpointInput{EnvironmentID: env.ID, ApplicationID: app.ID, EventTypes: []string{"order.created"}})
			}

			is.NoErr(h.nh.Environments.Delete(h.ctx, ws.ID, staging.ID))

			_, err := h.nh.Environments.Get(h.ctx, ws.ID, staging.ID)
			wantErr(t, err, nahook.ErrNotFound, "")
			_, err = h.nh.APIKeys.Authenticate(h.ctx, keys[staging.ID].Plaintext)
			wantErr(t, err, nahook.ErrUnauthorized, "") // its key no longer works
			_, err = h.st.GetAPIKeyByHash(h.ctx, keys[staging.ID].Hash)
			wantErr(t, err, store.ErrNotFound, "") // and is gone, not merely revoked
			_, err = h.nh.Endpoints.Get(h.ctx, ws.ID, eps[staging.ID].ID)
			wantErr(t, err, nahook.ErrNotFound, "")

			// Recreate the environment under the same ID: anything the
			// delete left behind would belong to it again.
			is.NoErr(h.st.CreateEnvironment(h.ctx, staging))
			vis, err := h.st.ListEventTypeVisibility(h.ctx, ws.ID, staging.ID)
			is.NoErr(err)
			is.Equal(vis, []store.EventTypeVisibility{{EventTypeID: et.ID, EventTypeName: et.Name, Published: false}}) // visibility rows went with it
			left, err := h.st.ListEndpoints(h.ctx, ws.ID, store.EndpointFilter{EnvironmentID: staging.ID}, store.Page{Limit: 100})
			is.NoErr(err)
			is.Equal(len(left), 0) // no endpoint left
			leftKeys, err := h.st.ListAPIKeys(h.ctx, ws.ID, store.APIKeyFilter{EnvironmentID: staging.ID}, store.Page{Limit: 100})
			is.NoErr(err)
			is.Equal(len(leftKeys), 0) // no key left

			_, err = h.nh.APIKeys.Authenticate(h.ctx, keys[prod.ID].Plaintext)
			is.NoErr(err) // the other environment keeps its key
			got, err := h.nh.Endpoints.Get(h.ctx, ws.ID, eps[prod.ID].ID)
			is.NoErr(err)
			is.Equal(got, eps[prod.ID]) // its endpoint
			vis, err = h.nh.EventTypes.Visibility(h.ctx, ws.ID, prod.ID)
			is.NoErr(err)
			is.True(vis[0].Published) // and its visibility
			_, err = h.nh.Applications.Get(h.ctx, ws.ID, app.ID)
			is.NoErr(err) // applications are workspace-wide and stay
		},
	},
}
