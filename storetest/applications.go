package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
)

var applicationTests = join(
	[]test{
		{
			name:     "CreateApplication/Fields",
			contract: "A created application has an app_ ID and the externalId, name and metadata given, at their longest; it reads back the same by ID and by externalId; one without metadata reads back with an empty map, never nil.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				ext := "cust_" + strings.Repeat("x", 251)
				app, err := h.nh.Applications.Create(h.ctx, ws.ID, nahook.ApplicationInput{
					ExternalID: ext,
					Name:       strings256,
					Metadata:   map[string]string{"plan": "enterprise"},
				})
				is.NoErr(err)
				is.True(strings.HasPrefix(string(app.ID), "app_"))
				is.Equal(app.ExternalID, ext)
				is.Equal(app.Name, strings256)
				is.Equal(app.Metadata, map[string]string{"plan": "enterprise"})
				is.Equal(app.CreatedAt, app.UpdatedAt)
				got, err := h.st.GetApplication(h.ctx, ws.ID, app.ID)
				is.NoErr(err)
				is.Equal(got, app)
				byExt, err := h.st.GetApplicationByExternalID(h.ctx, ws.ID, ext)
				is.NoErr(err)
				is.Equal(byExt, app)

				bare, err := h.nh.Applications.Create(h.ctx, ws.ID, nahook.ApplicationInput{Name: "No extras"})
				is.NoErr(err)
				is.Equal(bare.ExternalID, "")
				is.Equal(bare.Metadata, map[string]string{}) // empty, never nil
				got, err = h.st.GetApplication(h.ctx, ws.ID, bare.ID)
				is.NoErr(err)
				is.True(got.Metadata != nil) // read from the store: empty, never nil
				is.Equal(got, bare)
			},
		},
		{
			name:     "CreateApplication/ExternalIDTaken",
			contract: "An externalId is unique within its workspace (ErrConflict naming externalId) and free in every other; any number of applications may have none.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				first := h.app(t, ws.ID, "cust_123")
				_, err := h.nh.Applications.Create(h.ctx, ws.ID, nahook.ApplicationInput{Name: "Copy", ExternalID: "cust_123"})
				wantErr(t, err, nahook.ErrConflict, "externalId")
				got, err := h.st.GetApplicationByExternalID(h.ctx, ws.ID, "cust_123")
				is.NoErr(err)
				is.Equal(got, first) // the first keeps it
				other := h.workspace(t)
				_, err = h.nh.Applications.Create(h.ctx, other.ID, nahook.ApplicationInput{Name: "Elsewhere", ExternalID: "cust_123"})
				is.NoErr(err) // another workspace may use it
				for range 3 {
					_, err := h.nh.Applications.Create(h.ctx, ws.ID, nahook.ApplicationInput{Name: "Anonymous"})
					is.NoErr(err) // no externalId never conflicts
				}
			},
		},
		{
			name:     "CreateApplication/Metadata",
			contract: "Metadata of 5 pairs, keys of 64 characters and values of 512, round-trips exactly; the store keeps a copy, so changing the caller's map, or a map it returned, changes nothing stored.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				md := map[string]string{
					"plan": "enterprise", "region": "us-east", "accountManager": "jane@example.com",
					strings.Repeat("k", 64): strings.Repeat("é", 512), "empty": "",
				}
				want := map[string]string{}
				for k, v := range md {
					want[k] = v
				}
				now := h.at()
				app := store.Application{ID: store.ApplicationID(typeid.New("app")), WorkspaceID: ws.ID, Name: "Full", Metadata: md, CreatedAt: now, UpdatedAt: now}
				is.NoErr(h.st.CreateApplication(h.ctx, app))
				md["plan"] = "changed" // the caller's map, after the create
				got, err := h.st.GetApplication(h.ctx, ws.ID, app.ID)
				is.NoErr(err)
				is.Equal(got.Metadata, want)         // five pairs at the limits round-trip, and the caller's map is not shared
				got.Metadata["plan"] = "changed too" // a map the store returned
				again, err := h.st.GetApplication(h.ctx, ws.ID, app.ID)
				is.NoErr(err)
				is.Equal(again.Metadata, want) // is not shared either

				u := map[string]string{"plan": "pro"}
				updated, err := h.st.UpdateApplication(h.ctx, ws.ID, app.ID, store.ApplicationUpdate{Metadata: u, UpdatedAt: now})
				is.NoErr(err)
				is.Equal(updated.Metadata, map[string]string{"plan": "pro"})
				u["plan"] = "changed"
				again, err = h.st.GetApplication(h.ctx, ws.ID, app.ID)
				is.NoErr(err)
				is.Equal(again.Metadata, map[string]string{"plan": "pro"}) // nor the map of an update
			},
		},
		{
			name: "UpdateApplication/Fields",
			contract: "Updating an application changes only the fields given: an empty externalId removes it (freeing it for another), metadata is replaced whole, " +
				"and a taken externalId is ErrConflict that changes nothing.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				app, err := h.nh.Applications.Create(h.ctx, ws.ID, nahook.ApplicationInput{
					Name: "Acme", ExternalID: "cust_1", Metadata: map[string]string{"plan": "free", "region": "eu"},
				})
				is.NoErr(err)
				h.app(t, ws.ID, "cust_2")
				h.tick()

				got, err := h.nh.Applications.Update(h.ctx, ws.ID, app.ID, nahook.ApplicationPatch{Name: ptr("Acme Corp")})
				is.NoErr(err)
				is.Equal(got.Name, "Acme Corp")
				is.Equal(got.ExternalID, "cust_1")   // not given, not changed
				is.Equal(got.Metadata, app.Metadata) // not given, not changed
				is.Equal(got.CreatedAt, app.CreatedAt)
				is.True(got.UpdatedAt.After(app.UpdatedAt))

				got, err = h.nh.Applications.Update(h.ctx, ws.ID, app.ID, nahook.ApplicationPatch{Metadata: map[string]string{"plan": "pro"}})
				is.NoErr(err)
				is.Equal(got.Metadata, map[string]string{"plan": "pro"}) // replaced whole

				_, err = h.nh.Applications.Update(h.ctx, ws.ID, app.ID, nahook.ApplicationPatch{Name: ptr("Stolen"), ExternalID: ptr("cust_2")})
				wantErr(t, err, nahook.ErrConflict, "externalId")
				after, err := h.st.GetApplication(h.ctx, ws.ID, app.ID)
				is.NoErr(err)
				is.Equal(after, got) // the refused update changed nothing

				got, err = h.nh.Applications.Update(h.ctx, ws.ID, app.ID, nahook.ApplicationPatch{ExternalID: ptr("")})
				is.NoErr(err)
				is.Equal(got.ExternalID, "")
				_, err = h.st.GetApplicationByExternalID(h.ctx, ws.ID, "cust_1")
				wantErr(t, err, store.ErrNotFound, "externalId")
				h.app(t, ws.ID, "cust_1") // the externalId is free again
			},
		},
		{
			name:     "DeleteApplication/Cascade",
			contract: "Deleting an application deletes all its endpoints in every environment, leaving nothing behind, and no endpoint of another application or of none; deleting it again is ErrNotFound.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				staging := h.env(t, ws.ID, "staging")
				app, other := h.app(t, ws.ID, "cust_1"), h.app(t, ws.ID, "cust_2")
				mine := []nahook.Endpoint{
					h.endpoint(t, ws.ID, nahook.EndpointInput{ApplicationID: app.ID}),
					h.endpoint(t, ws.ID, nahook.EndpointInput{ApplicationID: app.ID, EnvironmentID: staging.ID}),
				}
				theirs := h.endpoint(t, ws.ID, nahook.EndpointInput{ApplicationID: other.ID})
				nobodys := h.endpoint(t, ws.ID, nahook.EndpointInput{EnvironmentID: staging.ID})

				is.NoErr(h.st.DeleteApplication(h.ctx, ws.ID, app.ID))
				_, err := h.st.GetApplication(h.ctx, ws.ID, app.ID)
				wantErr(t, err, store.ErrNotFound, "")
				for _, ep := range mine {
					_, err := h.st.GetEndpoint(h.ctx, ws.ID, ep.ID)
					wantErr(t, err, store.ErrNotFound, "")
				}
				wantErr(t, h.st.DeleteApplication(h.ctx, ws.ID, app.ID), store.ErrNotFound, "") // deleting twice
				is.NoErr(h.st.CreateApplication(h.ctx, app))                                    // the same ID again
				left, err := h.st.ListEndpoints(h.ctx, ws.ID, store.EndpointFilter{ApplicationID: app.ID}, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(left), 0) // nothing left behind

				for _, ep := range []nahook.Endpoint{theirs, nobodys} {
					got, err := h.st.GetEndpoint(h.ctx, ws.ID, ep.ID)
					is.NoErr(err)
					is.Equal(got, ep) // others untouched
				}
			},
		},
		{
			name:     "DeleteApplication/CascadePortalSessions",
			contract: "Deleting an application deletes its portal sessions: their tokens are refused and they are not found; another application's sessions stay.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				app := h.app(t, ws.ID, "cust_1")
				byApp := h.portalSession(t, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID})
				keep := h.portalSession(t, ws.ID, nahook.PortalSessionInput{ApplicationID: h.app(t, ws.ID, "cust_2").ID})

				is.NoErr(h.st.DeleteApplication(h.ctx, ws.ID, app.ID))
				_, err := h.nh.PortalSessions.Authenticate(h.ctx, byApp.Token)
				wantErr(t, err, nahook.ErrUnauthorized, "")
				_, err = h.st.GetPortalSession(h.ctx, ws.ID, byApp.ID)
				wantErr(t, err, store.ErrNotFound, "")
				_, err = h.st.GetPortalSessionByHash(h.ctx, byApp.Hash)
				wantErr(t, err, store.ErrNotFound, "")
				got, err := h.st.GetPortalSession(h.ctx, ws.ID, keep.ID)
				is.NoErr(err)
				is.Equal(got, keep.PortalSession)
			},
		},
		{
			name:     "ListApplications/PageAfter",
			contract: "A store list returns at most Page.Limit items whose IDs sort strictly after Page.After, in ascending ID order.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				var ids []nahook.ApplicationID
				for i := range 5 {
					ids = append(ids, h.app(t, ws.ID, fmt.Sprint("cust_", i)).ID)
				}
				got, err := h.st.ListApplications(h.ctx, ws.ID, store.PageRequest{After: string(ids[1]), Limit: 2})
				is.NoErr(err)
				is.Equal(len(got), 2)
				is.Equal(got[0].ID, ids[2])
				is.Equal(got[1].ID, ids[3])
				got, err = h.st.ListApplications(h.ctx, ws.ID, store.PageRequest{After: string(ids[4]), Limit: 2})
				is.NoErr(err)
				is.Equal(len(got), 0)
			},
		},
	},
	scoped("GetApplication", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		_, err := h.st.GetApplication(h.ctx, ws, id.app)
		return err
	}),
	scoped("GetApplicationByExternalID", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		_, err := h.st.GetApplicationByExternalID(h.ctx, ws, id.externalID)
		return err
	}),
	scoped("UpdateApplication", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		_, err := h.st.UpdateApplication(h.ctx, ws, id.app, store.ApplicationUpdate{Name: ptr("Hijacked"), ExternalID: ptr(""),
			Metadata: map[string]string{"owner": "mallory"}, UpdatedAt: h.at()})
		return err
	}),
	scoped("DeleteApplication", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		return h.st.DeleteApplication(h.ctx, ws, id.app)
	}),
	listCases(lister{
		method: "ListApplications",
		scoped: true,
		make: func(t *testing.T, h *harness, ws nahook.WorkspaceID, i int) string {
			return string(h.app(t, ws, fmt.Sprint("cust_", i)).ID)
		},
		list: func(h *harness, ws nahook.WorkspaceID, o nahook.ListOptions) ([]string, string, error) {
			p, err := h.nh.Applications.List(h.ctx, ws, o)
			return page(p, err, func(a nahook.Application) string { return string(a.ID) })
		},
	}),
)

var applicationRaces = []test{
	{
		name:     "CreateApplication/ExternalIDUnderRace",
		contract: "externalId uniqueness holds under concurrent creates: in every round, 30 parallel creates with one externalId leave exactly one application and 29 ErrConflict errors naming externalId.",
		run: func(t *testing.T, h *harness) {
			ws := h.workspace(t)
			for round := range raceRounds / 2 {
				is := is.New(t)
				ext := fmt.Sprint("cust_", round)
				errs := race(30, func(i int) error {
					_, err := h.racer(i).Applications.Create(h.ctx, ws.ID, nahook.ApplicationInput{Name: fmt.Sprint("Racer ", i), ExternalID: ext})
					return err
				})
				counts := tally(t, errs, nahook.ErrConflict)
				is.Equal(counts[nil], 1)
				is.Equal(counts[nahook.ErrConflict], 29)
				apps, err := h.st.ListApplications(h.ctx, ws.ID, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(apps), round+1) // exactly one application more
				for _, err := range errs {
					if err != nil {
						wantErr(t, err, nahook.ErrConflict, "externalId")
					}
				}
			}
		},
	},
}
