package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

var applicationTests = []test{
	{
		name:     "Applications.Create/SeedShape",
		contract: "A created application has an app_ ID and the externalId, name and metadata given; it reads back the same by ID and by externalId.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			app, err := h.nh.Applications.Create(h.ctx, ws.ID, nahook.ApplicationInput{
				ExternalID: "cust_123",
				Name:       "Acme Corp",
				Metadata:   map[string]string{"plan": "enterprise"},
			})
			is.NoErr(err)
			is.True(strings.HasPrefix(string(app.ID), "app_"))
			is.Equal(app.ExternalID, "cust_123")
			is.Equal(app.Name, "Acme Corp")
			is.Equal(app.Metadata, map[string]string{"plan": "enterprise"})
			is.Equal(app.CreatedAt, app.UpdatedAt)
			got, err := h.nh.Applications.Get(h.ctx, ws.ID, app.ID)
			is.NoErr(err)
			is.Equal(got, app)
			byExt, err := h.nh.Applications.GetByExternalID(h.ctx, ws.ID, "cust_123")
			is.NoErr(err)
			is.Equal(byExt, app)

			bare, err := h.nh.Applications.Create(h.ctx, ws.ID, nahook.ApplicationInput{Name: "No extras"})
			is.NoErr(err)
			is.Equal(bare.ExternalID, "")
			is.Equal(bare.Metadata, map[string]string{}) // empty, never nil
			got, err = h.nh.Applications.Get(h.ctx, ws.ID, bare.ID)
			is.NoErr(err)
			is.Equal(got, bare)
		},
	},
	{
		name:     "Applications.Create/NameRules",
		contract: "An application needs a name of 1 to 256 characters after trimming; otherwise ErrInvalid naming name, and nothing is stored.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			for _, n := range []string{"", " \n ", strings256 + "x"} {
				_, err := h.nh.Applications.Create(h.ctx, ws.ID, nahook.ApplicationInput{Name: n, ExternalID: "cust_1"})
				wantErr(t, err, nahook.ErrInvalid, "name")
			}
			_, err := h.nh.Applications.GetByExternalID(h.ctx, ws.ID, "cust_1")
			wantErr(t, err, nahook.ErrNotFound, "externalId") // nothing was stored
			app, err := h.nh.Applications.Create(h.ctx, ws.ID, nahook.ApplicationInput{Name: " " + strings256 + " "})
			is.NoErr(err)
			is.Equal(app.Name, strings256)
		},
	},
	{
		name:     "Applications.Create/ExternalIDFormat",
		contract: "An externalId is 1 to 256 characters of letters, digits and . _ : -; anything else is ErrInvalid naming externalId.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			for _, id := range []string{"cust_123", "org:abc.def-1", "A", strings.Repeat("x", 256)} {
				_, err := h.nh.Applications.Create(h.ctx, ws.ID, nahook.ApplicationInput{Name: "Valid", ExternalID: id})
				if err != nil {
					t.Fatalf("externalId %q: %v", id, err)
				}
			}
			for _, id := range []string{"has space", "ü", "a/b", "a?b", "semi;colon", strings.Repeat("x", 257)} {
				_, err := h.nh.Applications.Create(h.ctx, ws.ID, nahook.ApplicationInput{Name: "Invalid", ExternalID: id})
				wantErr(t, err, nahook.ErrInvalid, "externalId")
			}
			list, err := h.nh.Applications.List(h.ctx, ws.ID, nahook.ListOptions{})
			is.NoErr(err)
			is.Equal(len(list.Items), 4) // only the valid ones were stored
		},
	},
	{
		name:     "Applications.Create/ExternalIDUnique",
		contract: "An externalId is unique within its workspace (ErrConflict naming externalId) and free in every other; any number of applications may have none.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			first := h.app(t, ws.ID, "cust_123")
			_, err := h.nh.Applications.Create(h.ctx, ws.ID, nahook.ApplicationInput{Name: "Copy", ExternalID: "cust_123"})
			wantErr(t, err, nahook.ErrConflict, "externalId")
			got, err := h.nh.Applications.GetByExternalID(h.ctx, ws.ID, "cust_123")
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
		name:     "Applications.GetByExternalID/Scoped",
		contract: "Finding an application by externalId searches only the given workspace; an unknown or malformed externalId is ErrNotFound.",
		run: func(t *testing.T, h *harness) {
			a, b := h.workspace(t), h.workspace(t)
			h.app(t, a.ID, "cust_123")
			_, err := h.nh.Applications.GetByExternalID(h.ctx, b.ID, "cust_123")
			wantErr(t, err, nahook.ErrNotFound, "externalId")
			_, err = h.nh.Applications.GetByExternalID(h.ctx, a.ID, "cust_999")
			wantErr(t, err, nahook.ErrNotFound, "externalId")
			_, err = h.nh.Applications.GetByExternalID(h.ctx, a.ID, "not valid")
			wantErr(t, err, nahook.ErrNotFound, "externalId")
		},
	},
	{
		name:     "Applications.Create/Metadata",
		contract: "Metadata holds at most 5 pairs, keys of 1 to 64 characters and values of at most 512; beyond that ErrInvalid naming metadata, and nothing is stored.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			ok := map[string]string{
				"plan": "enterprise", "region": "us-east", "accountManager": "jane@example.com",
				strings.Repeat("k", 64): strings.Repeat("é", 512), "empty": "",
			}
			app, err := h.nh.Applications.Create(h.ctx, ws.ID, nahook.ApplicationInput{Name: "Full", Metadata: ok})
			is.NoErr(err)
			got, err := h.nh.Applications.Get(h.ctx, ws.ID, app.ID)
			is.NoErr(err)
			is.Equal(got.Metadata, ok) // five pairs at the limits round-trip
			ok["plan"] = "changed"
			is.Equal(got.Metadata["plan"], "enterprise") // the caller's map is not shared

			six := map[string]string{}
			for i := range 6 {
				six[fmt.Sprint("k", i)] = "v"
			}
			for _, md := range []map[string]string{
				six,
				{"": "v"},
				{strings.Repeat("k", 65): "v"},
				{"k": strings.Repeat("v", 513)},
				{"k": "\xff"},
				{"k": "a\x00b"},
				{"a\x00b": "v"},
				{"k\n": "v"},
			} {
				_, err := h.nh.Applications.Create(h.ctx, ws.ID, nahook.ApplicationInput{Name: "Bad", Metadata: md})
				wantErr(t, err, nahook.ErrInvalid, "metadata")
			}
			list, err := h.nh.Applications.List(h.ctx, ws.ID, nahook.ListOptions{})
			is.NoErr(err)
			is.Equal(len(list.Items), 1) // none of the refused ones was stored
		},
	},
	{
		name:     "Applications.Update/Patch",
		contract: "Updating an application changes only the fields given: an empty externalId removes it (freeing it for another), metadata is replaced whole, and a taken externalId is ErrConflict that changes nothing.",
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
			is.True(got.UpdatedAt.After(app.UpdatedAt))

			got, err = h.nh.Applications.Update(h.ctx, ws.ID, app.ID, nahook.ApplicationPatch{Metadata: map[string]string{"plan": "pro"}})
			is.NoErr(err)
			is.Equal(got.Metadata, map[string]string{"plan": "pro"}) // replaced whole

			_, err = h.nh.Applications.Update(h.ctx, ws.ID, app.ID, nahook.ApplicationPatch{Name: ptr("Stolen"), ExternalID: ptr("cust_2")})
			wantErr(t, err, nahook.ErrConflict, "externalId")
			after, err := h.nh.Applications.Get(h.ctx, ws.ID, app.ID)
			is.NoErr(err)
			is.Equal(after, got) // the refused update changed nothing

			got, err = h.nh.Applications.Update(h.ctx, ws.ID, app.ID, nahook.ApplicationPatch{ExternalID: ptr("")})
			is.NoErr(err)
			is.Equal(got.ExternalID, "")
			_, err = h.nh.Applications.GetByExternalID(h.ctx, ws.ID, "cust_1")
			wantErr(t, err, nahook.ErrNotFound, "externalId")
			h.app(t, ws.ID, "cust_1") // the externalId is free again

			_, err = h.nh.Applications.Update(h.ctx, ws.ID, app.ID, nahook.ApplicationPatch{Metadata: map[string]string{"": "x"}})
			wantErr(t, err, nahook.ErrInvalid, "metadata")
			_, err = h.nh.Applications.Update(h.ctx, ws.ID, app.ID, nahook.ApplicationPatch{ExternalID: ptr("no spaces")})
			wantErr(t, err, nahook.ErrInvalid, "externalId")
		},
	},
	{
		name:     "Applications.Delete/Cascade",
		contract: "Deleting an application deletes all its endpoints in every environment, leaving nothing behind, and no endpoint of another application or of none.",
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

			is.NoErr(h.nh.Applications.Delete(h.ctx, ws.ID, app.ID))
			_, err := h.nh.Applications.Get(h.ctx, ws.ID, app.ID)
			wantErr(t, err, nahook.ErrNotFound, "")
			for _, ep := range mine {
				_, err := h.nh.Endpoints.Get(h.ctx, ws.ID, ep.ID)
				wantErr(t, err, nahook.ErrNotFound, "")
			}
			is.NoErr(h.st.CreateApplication(h.ctx, app)) // the same ID again
			left, err := h.st.ListEndpoints(h.ctx, ws.ID, store.EndpointFilter{ApplicationID: app.ID}, store.Page{Limit: 100})
			is.NoErr(err)
			is.Equal(len(left), 0) // nothing left behind

			for _, ep := range []nahook.Endpoint{theirs, nobodys} {
				got, err := h.nh.Endpoints.Get(h.ctx, ws.ID, ep.ID)
				is.NoErr(err)
				is.Equal(got, ep) // others untouched
			}
		},
	},
}
