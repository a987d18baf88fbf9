package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

var environmentTests = join(
	[]test{
		{
			name:     "CreateEnvironment/Fields",
			contract: "A created environment has an env_ ID, the name and slug given, isDefault false, and createdAt equal to updatedAt; it reads back the same.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				env, err := h.nh.Environments.Create(h.ctx, ws.ID, nahook.EnvironmentInput{Name: strings.Repeat("é", 100), Slug: strings.Repeat("a", 63)})
				is.NoErr(err)
				is.True(strings.HasPrefix(string(env.ID), "env_")) // a TypeID with the env_ prefix
				is.Equal(len(env.ID), len("env_")+26)
				is.Equal(env.Name, strings.Repeat("é", 100)) // the longest name and slug allowed fit
				is.Equal(env.Slug, strings.Repeat("a", 63))
				is.True(!env.IsDefault)
				is.Equal(env.CreatedAt, env.UpdatedAt)
				got, err := h.st.GetEnvironment(h.ctx, ws.ID, env.ID)
				is.NoErr(err)
				is.Equal(got, env)
			},
		},
		{
			name:     "CreateEnvironment/SlugTaken",
			contract: "A slug is unique within its workspace (ErrConflict naming slug), the default environment's included, and free in every other workspace.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				h.env(t, ws.ID, "staging")
				_, err := h.nh.Environments.Create(h.ctx, ws.ID, nahook.EnvironmentInput{Name: "Again", Slug: "staging"})
				wantErr(t, err, nahook.ErrConflict, "slug")
				_, err = h.nh.Environments.Create(h.ctx, ws.ID, nahook.EnvironmentInput{Name: "Prod 2", Slug: "production"})
				wantErr(t, err, nahook.ErrConflict, "slug")
				envs, err := h.st.ListEnvironments(h.ctx, ws.ID, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(envs), 2) // the refused creates stored nothing
				other := h.workspace(t)
				_, err = h.nh.Environments.Create(h.ctx, other.ID, nahook.EnvironmentInput{Name: "Staging", Slug: "staging"})
				is.NoErr(err) // another workspace may use the slug
			},
		},
		{
			name: "CreateEnvironment/Limit",
			contract: "A workspace holds at most 10 environments, the default included, counted in that workspace alone: the 11th is ErrLimitExceeded and stores nothing; " +
				"deleting one frees a place; another workspace's environments never count.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				h.fullWorkspace(t) // at the limit already: must not count
				ws := h.workspace(t)
				var last nahook.Environment
				for i := 1; i < nahook.MaxEnvironments; i++ {
					last = h.env(t, ws.ID, fmt.Sprintf("env-%d", i))
				}
				_, err := h.nh.Environments.Create(h.ctx, ws.ID, nahook.EnvironmentInput{Name: "Eleventh", Slug: "eleventh"})
				wantErr(t, err, nahook.ErrLimitExceeded, "")
				envs, err := h.st.ListEnvironments(h.ctx, ws.ID, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(envs), nahook.MaxEnvironments) // exactly 10
				is.NoErr(h.nh.Environments.Delete(h.ctx, ws.ID, last.ID))
				_, err = h.nh.Environments.Create(h.ctx, ws.ID, nahook.EnvironmentInput{Name: "Eleventh", Slug: "eleventh"})
				is.NoErr(err) // a place was freed
			},
		},
		{
			name:     "CreateEnvironment/NothingPublished",
			contract: "A new environment has no event type published: visibility is never copied from another environment.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				prod := h.defaultEnv(t, ws.ID)
				et := h.eventType(t, ws.ID, "order.created")
				h.publish(t, ws.ID, prod.ID, et.ID)
				staging := h.env(t, ws.ID, "staging")
				vis, err := h.st.ListEventTypeVisibility(h.ctx, ws.ID, staging.ID)
				is.NoErr(err)
				is.Equal(vis, []store.EventTypeVisibility{{EventTypeID: et.ID, EventTypeName: "order.created", Published: false}})
			},
		},
		{
			name:     "CreateEnvironment/UnknownWorkspace",
			contract: "Creating an environment in a workspace that does not exist is ErrNotFound naming workspaceId.",
			run: func(t *testing.T, h *harness) {
				_, err := h.nh.Environments.Create(h.ctx, "ws_01kaaaaaaaaaaaaaaaaaaaaaaa", nahook.EnvironmentInput{Name: "Staging", Slug: "staging"})
				wantErr(t, err, nahook.ErrNotFound, "workspaceId")
			},
		},
		{
			name:     "UpdateEnvironment/Fields",
			contract: "Updating an environment changes the fields given; a slug taken in the workspace is ErrConflict and changes nothing, the name included; keeping its own slug is no conflict.",
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
				is.Equal(got.CreatedAt, env.CreatedAt)
				is.True(got.UpdatedAt.After(env.UpdatedAt))
				_, err = h.nh.Environments.Update(h.ctx, ws.ID, env.ID, nahook.EnvironmentPatch{Name: ptr("QA too"), Slug: ptr("qa")})
				wantErr(t, err, nahook.ErrConflict, "slug")
				after, err := h.st.GetEnvironment(h.ctx, ws.ID, env.ID)
				is.NoErr(err)
				is.Equal(after, got) // the refused update changed nothing, the name included
				_, err = h.nh.Environments.Update(h.ctx, ws.ID, env.ID, nahook.EnvironmentPatch{Slug: ptr("stage")})
				is.NoErr(err) // keeping its own slug is no conflict
			},
		},
		{
			name:     "DeleteEnvironment/Default",
			contract: "The default environment cannot be deleted: ErrDefaultEnvironment, and it is still there with everything in it.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				def := h.defaultEnv(t, ws.ID)
				key := h.key(t, ws.ID, def.ID)
				err := h.st.DeleteEnvironment(h.ctx, ws.ID, def.ID)
				wantErr(t, err, store.ErrDefaultEnvironment, "")
				got, err := h.st.GetEnvironment(h.ctx, ws.ID, def.ID)
				is.NoErr(err)
				is.Equal(got, def)
				_, err = h.nh.APIKeys.Authenticate(h.ctx, key.Plaintext)
				is.NoErr(err) // its keys still work
			},
		},
		{
			name: "DeleteEnvironment/Cascade",
			contract: "Deleting an environment deletes its API keys, endpoints and event-type visibility, leaving nothing behind, and nothing of any other environment or the applications; " +
				"deleting it again is ErrNotFound.",
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

				is.NoErr(h.st.DeleteEnvironment(h.ctx, ws.ID, staging.ID))

				_, err := h.st.GetEnvironment(h.ctx, ws.ID, staging.ID)
				wantErr(t, err, store.ErrNotFound, "")
				_, err = h.nh.APIKeys.Authenticate(h.ctx, keys[staging.ID].Plaintext)
				wantErr(t, err, nahook.ErrUnauthorized, "") // its key no longer works
				_, err = h.st.GetAPIKeyByHash(h.ctx, keys[staging.ID].Hash)
				wantErr(t, err, store.ErrNotFound, "") // and is gone, not merely revoked
				_, err = h.st.GetEndpoint(h.ctx, ws.ID, eps[staging.ID].ID)
				wantErr(t, err, store.ErrNotFound, "")
				wantErr(t, h.st.DeleteEnvironment(h.ctx, ws.ID, staging.ID), store.ErrNotFound, "") // deleting twice

				// Recreate the environment under the same ID: anything the
				// delete left behind would belong to it again.
				is.NoErr(h.st.CreateEnvironment(h.ctx, staging))
				vis, err := h.st.ListEventTypeVisibility(h.ctx, ws.ID, staging.ID)
				is.NoErr(err)
				is.Equal(vis, []store.EventTypeVisibility{{EventTypeID: et.ID, EventTypeName: et.Name, Published: false}}) // visibility rows went with it
				left, err := h.st.ListEndpoints(h.ctx, ws.ID, store.EndpointFilter{EnvironmentID: staging.ID}, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(left), 0) // no endpoint left
				leftKeys, err := h.st.ListAPIKeys(h.ctx, ws.ID, store.APIKeyFilter{EnvironmentID: staging.ID}, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(leftKeys), 0) // no key left

				_, err = h.nh.APIKeys.Authenticate(h.ctx, keys[prod.ID].Plaintext)
				is.NoErr(err) // the other environment keeps its key
				got, err := h.st.GetEndpoint(h.ctx, ws.ID, eps[prod.ID].ID)
				is.NoErr(err)
				is.Equal(got, eps[prod.ID]) // its endpoint
				vis, err = h.st.ListEventTypeVisibility(h.ctx, ws.ID, prod.ID)
				is.NoErr(err)
				is.True(vis[0].Published) // and its visibility
				_, err = h.st.GetApplication(h.ctx, ws.ID, app.ID)
				is.NoErr(err) // applications are workspace-wide and stay
			},
		},
		{
			name:     "DeleteEnvironment/CascadeEvents",
			contract: "Deleting an environment deletes its events with all their deliveries and attempts, and nothing of another environment.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				o := h.outbox(t)
				staging := h.env(t, o.ws.ID, "staging")
				h.publish(t, o.ws.ID, staging.ID, o.et.ID)
				ep := h.endpoint(t, o.ws.ID, nahook.EndpointInput{EnvironmentID: staging.ID, EventTypes: []string{"*"}})
				key := h.key(t, o.ws.ID, staging.ID)
				in, err := h.nh.Events.Ingest(h.ctx, key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{}`), IdempotencyKey: "k"})
				is.NoErr(err)
				is.Equal(endpointsOf(in.Deliveries), []nahook.EndpointID{ep.ID})
				recordOne(t, h, in.Deliveries[0], store.DeliveryFailed, 500, in.Event.CreatedAt)
				prod := o.ingest(t, `{}`, "k")

				is.NoErr(h.st.DeleteEnvironment(h.ctx, o.ws.ID, staging.ID))
				_, err = h.st.GetEvent(h.ctx, o.ws.ID, in.Event.ID)
				wantErr(t, err, store.ErrNotFound, "")
				_, _, err = h.st.GetDelivery(h.ctx, o.ws.ID, in.Deliveries[0].ID)
				wantErr(t, err, store.ErrNotFound, "")
				_, err = h.st.GetEvent(h.ctx, o.ws.ID, prod.Event.ID)
				is.NoErr(err) // production's event stays
				_, ds, err := h.st.GetEventByIdempotencyKey(h.ctx, o.ws.ID, o.env.ID, "k")
				is.NoErr(err)
				is.Equal(len(ds), 2) // with its deliveries

				// The same environment, endpoint, event and delivery again:
				// an attempt that survived would be attached.
				is.NoErr(h.st.CreateEnvironment(h.ctx, staging))
				is.NoErr(h.st.CreateEndpoint(h.ctx, ep, newKey(), 0))
				_, stored, replayed, err := h.st.Ingest(h.ctx, in.Event, []store.Delivery{{ID: in.Deliveries[0].ID, EndpointID: ep.ID}})
				is.NoErr(err)
				is.True(!replayed) // the idempotency key went with its event
				is.Equal(len(stored), 1)
				_, attempts, err := h.st.GetDelivery(h.ctx, o.ws.ID, in.Deliveries[0].ID)
				is.NoErr(err)
				is.Equal(len(attempts), 0) // no attempt survived
			},
		},
		{
			name:     "DeleteEnvironment/CascadePortalSessions",
			contract: "Deleting an environment deletes the portal sessions opened in it: their tokens are refused and they are not found; sessions of other environments stay.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				app := h.app(t, ws.ID, "cust_1")
				staging := h.env(t, ws.ID, "staging")
				byEnv := h.portalSession(t, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID, EnvironmentID: staging.ID})
				keep := h.portalSession(t, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID})
				_, err := h.nh.PortalSessions.Authenticate(h.ctx, byEnv.Token)
				is.NoErr(err)
				is.NoErr(h.st.DeleteEnvironment(h.ctx, ws.ID, staging.ID))
				_, err = h.nh.PortalSessions.Authenticate(h.ctx, byEnv.Token)
				wantErr(t, err, nahook.ErrUnauthorized, "")
				_, err = h.st.GetPortalSession(h.ctx, ws.ID, byEnv.ID)
				wantErr(t, err, store.ErrNotFound, "")
				_, err = h.st.GetPortalSessionByHash(h.ctx, byEnv.Hash)
				wantErr(t, err, store.ErrNotFound, "")
				got, err := h.st.GetPortalSession(h.ctx, ws.ID, keep.ID)
				is.NoErr(err)
				is.Equal(got, keep.PortalSession) // production's session stays
			},
		},
	},
	scoped("GetEnvironment", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		_, err := h.st.GetEnvironment(h.ctx, ws, id.staging)
		return err
	}),
	scoped("UpdateEnvironment", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		_, err := h.st.UpdateEnvironment(h.ctx, ws, id.staging, store.EnvironmentUpdate{Name: ptr("Hijacked"), Slug: ptr("hijacked"), UpdatedAt: h.at()})
		return err
	}),
	scoped("DeleteEnvironment", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		return h.st.DeleteEnvironment(h.ctx, ws, id.staging)
	}),
	listCases(lister{
		method: "ListEnvironments",
		scoped: true,
		make: func(t *testing.T, h *harness, ws nahook.WorkspaceID, i int) string {
			return string(h.env(t, ws, fmt.Sprint("env-", i)).ID)
		},
		list: func(h *harness, ws nahook.WorkspaceID, o nahook.ListOptions) ([]string, string, error) {
			p, err := h.nh.Environments.List(h.ctx, ws, o)
			return page(p, err, func(e nahook.Environment) string { return string(e.ID) })
		},
	}),
)

var environmentRaces = []test{
	{
		name: "CreateEnvironment/LimitUnderRace",
		contract: "The 10-environment limit holds under concurrent creates, in one process or several: in every round, 30 parallel creates on a new workspace " +
			"leave exactly 10 environments, every refused create failing with ErrLimitExceeded.",
		run: func(t *testing.T, h *harness) {
			h.fullWorkspace(t) // at the limit already: must not count
			const racers = 30
			for round := range raceRounds {
				is := is.New(t)
				ws := h.workspace(t)
				errs := race(racers, func(i int) error {
					_, err := h.racer(i).Environments.Create(h.ctx, ws.ID, nahook.EnvironmentInput{Name: "Racer", Slug: fmt.Sprint("racer-", i)})
					return err
				})
				counts := tally(t, errs, nahook.ErrLimitExceeded)
				envs, err := h.st.ListEnvironments(h.ctx, ws.ID, store.PageRequest{Limit: 100})
				is.NoErr(err)
				if len(envs) != nahook.MaxEnvironments || counts[nil] != nahook.MaxEnvironments-1 {
					t.Fatalf("round %d: %d environments stored, %d creates succeeded; want %d and %d", round, len(envs), counts[nil], nahook.MaxEnvironments, nahook.MaxEnvironments-1)
				}
				is.Equal(counts[nahook.ErrLimitExceeded], racers-(nahook.MaxEnvironments-1)) // the rest are refused
			}
		},
	},
	{
		name:     "CreateEnvironment/SlugUnderRace",
		contract: "Slug uniqueness holds under concurrent creates: of 20 parallel creates with one slug exactly one succeeds, the others are ErrConflict naming slug.",
		run: func(t *testing.T, h *harness) {
			ws := h.workspace(t)
			for round := range raceRounds / 2 {
				is := is.New(t)
				slug := fmt.Sprint("staging-", round)
				errs := race(20, func(i int) error {
					_, err := h.racer(i).Environments.Create(h.ctx, ws.ID, nahook.EnvironmentInput{Name: "Staging", Slug: slug})
					return err
				})
				counts := tally(t, errs, nahook.ErrConflict)
				is.Equal(counts[nil], 1)
				is.Equal(counts[nahook.ErrConflict], 19)
				for _, err := range errs {
					if err != nil {
						wantErr(t, err, nahook.ErrConflict, "slug")
					}
				}
			}
		},
	},
	{
		name:     "DeleteEnvironment/WhileCreating",
		contract: "Deleting an environment while endpoints and keys are created in it leaves no endpoint or key behind: each create either lands before the delete (and goes with it) or fails with ErrNotFound.",
		run: func(t *testing.T, h *harness) {
			ws := h.workspace(t)
			for round := range raceRounds / 2 {
				is := is.New(t)
				staging := h.env(t, ws.ID, fmt.Sprint("staging-", round))
				errs := race(41, func(i int) error {
					switch {
					case i == 20:
						return h.racer(i).Environments.Delete(h.ctx, ws.ID, staging.ID)
					case i%2 == 0:
						_, err := h.racer(i).Endpoints.Create(h.ctx, ws.ID, nahook.EndpointInput{EnvironmentID: staging.ID, URL: "https://example.com/hook"})
						return err
					default:
						_, err := h.racer(i).APIKeys.Create(h.ctx, ws.ID, nahook.APIKeyInput{EnvironmentID: staging.ID})
						return err
					}
				})
				tally(t, errs, nahook.ErrNotFound)
				is.NoErr(errs[20]) // the delete itself succeeds
				eps, err := h.st.ListEndpoints(h.ctx, ws.ID, store.EndpointFilter{}, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(eps), 0) // no endpoint outlived its environment
				keys, err := h.st.ListAPIKeys(h.ctx, ws.ID, store.APIKeyFilter{}, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(keys), 0) // no key either
			}
		},
	},
}
