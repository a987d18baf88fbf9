package storetest

import (
	"strings"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
)

var eventTypeTests = []test{
	{
		name:     "EventTypes.Create/NameFormat",
		contract: "An event type name is dot-separated segments of letters, digits, _ and -, at most 256 characters; anything else is ErrInvalid naming name.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			long := strings.Repeat("a", 127) + "." + strings.Repeat("b", 128)
			for _, n := range []string{"order.created", "a", "invoice.payment_failed", "A-b.C_d.9", long} {
				et, err := h.nh.EventTypes.Create(h.ctx, ws.ID, nahook.EventTypeInput{Name: n, Description: "  An event.  "})
				if err != nil {
					t.Fatalf("name %q: %v", n, err)
				}
				is.True(strings.HasPrefix(string(et.ID), "evt_"))
				is.Equal(et.Description, "An event.") // trimmed
			}
			for _, n := range []string{"", ".a", "a.", "a..b", "order created", "order.*", "*", "ordér.created", long + "c"} {
				_, err := h.nh.EventTypes.Create(h.ctx, ws.ID, nahook.EventTypeInput{Name: n})
				wantErr(t, err, nahook.ErrInvalid, "name")
			}
			_, err := h.nh.EventTypes.Create(h.ctx, ws.ID, nahook.EventTypeInput{Name: "ok.name", Description: strings.Repeat("d", 1025)})
			wantErr(t, err, nahook.ErrInvalid, "description")
			_, err = h.nh.EventTypes.Create(h.ctx, ws.ID, nahook.EventTypeInput{Name: "ok.name", Description: "a\x00b"})
			wantErr(t, err, nahook.ErrInvalid, "description") // NUL, which Postgres cannot store
			multi, err := h.nh.EventTypes.Create(h.ctx, ws.ID, nahook.EventTypeInput{Name: "multi.line", Description: "First line.\n\tSecond line."})
			is.NoErr(err)
			is.Equal(multi.Description, "First line.\n\tSecond line.") // newlines and tabs are text
			is.NoErr(h.nh.EventTypes.Delete(h.ctx, ws.ID, multi.ID))
			list, err := h.nh.EventTypes.List(h.ctx, ws.ID, nahook.ListOptions{})
			is.NoErr(err)
			is.Equal(len(list.Items), 5) // only the valid ones were stored
		},
	},
	{
		name:     "EventTypes.Create/NameUnique",
		contract: "An event type name is unique within its workspace (ErrConflict naming name) and free in every other.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			h.eventType(t, ws.ID, "order.created")
			_, err := h.nh.EventTypes.Create(h.ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"})
			wantErr(t, err, nahook.ErrConflict, "name")
			_, err = h.nh.EventTypes.Create(h.ctx, h.workspace(t).ID, nahook.EventTypeInput{Name: "order.created"})
			is.NoErr(err)
		},
	},
	{
		name:     "EventTypes.Visibility/SeedShape",
		contract: "The visibility list of an environment holds every event type of the workspace, ordered by name, each with whether it is published there; new types start unpublished in every environment.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			prod := h.defaultEnv(t, ws.ID)
			staging := h.env(t, ws.ID, "staging")
			refunded := h.eventType(t, ws.ID, "order.refunded")
			created := h.eventType(t, ws.ID, "order.created")
			for _, env := range []nahook.Environment{prod, staging} {
				vis, err := h.nh.EventTypes.Visibility(h.ctx, ws.ID, env.ID)
				is.NoErr(err)
				is.Equal(vis, []nahook.EventTypeVisibility{
					{EventTypeID: created.ID, EventTypeName: "order.created", Published: false},
					{EventTypeID: refunded.ID, EventTypeName: "order.refunded", Published: false},
				}) // unpublished by default, in every environment
			}
			h.publish(t, ws.ID, prod.ID, created.ID)
			vis, err := h.nh.EventTypes.Visibility(h.ctx, ws.ID, prod.ID)
			is.NoErr(err)
			is.Equal(vis, []nahook.EventTypeVisibility{
				{EventTypeID: created.ID, EventTypeName: "order.created", Published: true},
				{EventTypeID: refunded.ID, EventTypeName: "order.refunded", Published: false},
			}) // the seed's example
			other := h.workspace(t)
			_, err = h.nh.EventTypes.Visibility(h.ctx, other.ID, prod.ID)
			wantErr(t, err, nahook.ErrNotFound, "") // never through another workspace
		},
	},
	{
		name:     "EventTypes.SetPublished/PerEnvironment",
		contract: "Publishing is per environment: it never changes another environment; repeating it is harmless; unpublishing reverts it.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			prod := h.defaultEnv(t, ws.ID)
			staging := h.env(t, ws.ID, "staging")
			et := h.eventType(t, ws.ID, "order.refunded")
			published := func(env nahook.EnvironmentID) bool {
				vis, err := h.nh.EventTypes.Visibility(h.ctx, ws.ID, env)
				is.NoErr(err)
				return vis[0].Published
			}
			h.publish(t, ws.ID, prod.ID, et.ID)
			h.publish(t, ws.ID, prod.ID, et.ID) // twice is fine
			is.True(published(prod.ID))
			is.True(!published(staging.ID)) // staging is untouched
			h.publish(t, ws.ID, staging.ID, et.ID)
			is.NoErr(h.nh.EventTypes.SetPublished(h.ctx, ws.ID, staging.ID, et.ID, false))
			is.True(!published(staging.ID))
			is.True(published(prod.ID)) // unpublishing in staging leaves production alone
			is.NoErr(h.nh.EventTypes.SetPublished(h.ctx, ws.ID, prod.ID, et.ID, false))
			is.NoErr(h.nh.EventTypes.SetPublished(h.ctx, ws.ID, prod.ID, et.ID, false))
			is.True(!published(prod.ID))
		},
	},
	{
		name:     "EventTypes.SetPublished/OtherWorkspace",
		contract: "Visibility can be set only for an environment and an event type of the same workspace; otherwise ErrNotFound naming the one that is missing, and nothing changes.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			a, b := h.workspace(t), h.workspace(t)
			envA, envB := h.defaultEnv(t, a.ID), h.defaultEnv(t, b.ID)
			etA, etB := h.eventType(t, a.ID, "order.created"), h.eventType(t, b.ID, "order.created")
			err := h.nh.EventTypes.SetPublished(h.ctx, a.ID, envB.ID, etA.ID, true)
			wantErr(t, err, nahook.ErrNotFound, "environmentId")
			err = h.nh.EventTypes.SetPublished(h.ctx, a.ID, envA.ID, etB.ID, true)
			wantErr(t, err, nahook.ErrNotFound, "eventTypeId")
			err = h.nh.EventTypes.SetPublished(h.ctx, a.ID, envA.ID, "evt_nonsense", true)
			wantErr(t, err, nahook.ErrNotFound, "eventTypeId")
			for _, c := range []struct {
				ws  nahook.WorkspaceID
				env nahook.EnvironmentID
			}{{a.ID, envA.ID}, {b.ID, envB.ID}} {
				vis, err := h.nh.EventTypes.Visibility(h.ctx, c.ws, c.env)
				is.NoErr(err)
				is.Equal(len(vis), 1)
				is.True(!vis[0].Published) // nothing was published anywhere
			}
		},
	},
	{
		name:     "EventTypes.Update/RenameFollows",
		contract: "Renaming an event type keeps its visibility and carries along every endpoint subscribed to it by name; renaming to a taken name is ErrConflict.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			prod := h.defaultEnv(t, ws.ID)
			et := h.eventType(t, ws.ID, "order.created")
			h.eventType(t, ws.ID, "order.placed")
			h.publish(t, ws.ID, prod.ID, et.ID)
			ep := h.endpoint(t, ws.ID, nahook.EndpointInput{EventTypes: []string{"order.*", "order.created"}})
			h.tick()
			got, err := h.nh.EventTypes.Update(h.ctx, ws.ID, et.ID, nahook.EventTypePatch{Name: ptr("order.completed")})
			is.NoErr(err)
			is.Equal(got.Name, "order.completed")
			is.True(got.UpdatedAt.After(et.UpdatedAt))
			epNow, err := h.nh.Endpoints.Get(h.ctx, ws.ID, ep.ID)
			is.NoErr(err)
			is.Equal(epNow.EventTypes, []string{"order.*", "order.completed"}) // follows the rename, in place
			vis, err := h.nh.EventTypes.Visibility(h.ctx, ws.ID, prod.ID)
			is.NoErr(err)
			is.Equal(vis[0], nahook.EventTypeVisibility{EventTypeID: et.ID, EventTypeName: "order.completed", Published: true})
			_, err = h.nh.EventTypes.Update(h.ctx, ws.ID, et.ID, nahook.EventTypePatch{Name: ptr("order.placed")})
			wantErr(t, err, nahook.ErrConflict, "name")
			_, err = h.nh.EventTypes.Update(h.ctx, ws.ID, et.ID, nahook.EventTypePatch{Name: ptr("order..x")})
			wantErr(t, err, nahook.ErrInvalid, "name")
			d, err := h.nh.EventTypes.Update(h.ctx, ws.ID, et.ID, nahook.EventTypePatch{Description: ptr("Placed and paid.")})
			is.NoErr(err)
			is.Equal(d.Name, "order.completed") // not given, not changed
			is.Equal(d.Description, "Placed and paid.")
		},
	},
	{
		name:     "EventTypes.Delete/Cascade",
		contract: "Deleting an event type removes it from every environment's visibility and from every subscription by name, leaving wildcards and other subscriptions in place.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			prod := h.defaultEnv(t, ws.ID)
			staging := h.env(t, ws.ID, "staging")
			et := h.eventType(t, ws.ID, "order.created")
			keep := h.eventType(t, ws.ID, "order.refunded")
			h.publish(t, ws.ID, prod.ID, et.ID)
			h.publish(t, ws.ID, staging.ID, et.ID)
			ep := h.endpoint(t, ws.ID, nahook.EndpointInput{EventTypes: []string{"order.refunded", "order.created", "order.*"}})

			is.NoErr(h.nh.EventTypes.Delete(h.ctx, ws.ID, et.ID))
			_, err := h.nh.EventTypes.Get(h.ctx, ws.ID, et.ID)
			wantErr(t, err, nahook.ErrNotFound, "")
			got, err := h.nh.Endpoints.Get(h.ctx, ws.ID, ep.ID)
			is.NoErr(err)
			is.Equal(got.EventTypes, []string{"order.refunded", "order.*"})

			is.NoErr(h.st.CreateEventType(h.ctx, et)) // the same ID again
			for _, env := range []nahook.Environment{prod, staging} {
				vis, err := h.nh.EventTypes.Visibility(h.ctx, ws.ID, env.ID)
				is.NoErr(err)
				is.Equal(vis, []nahook.EventTypeVisibility{
					{EventTypeID: et.ID, EventTypeName: "order.created", Published: false}, // visibility did not survive
					{EventTypeID: keep.ID, EventTypeName: "order.refunded", Published: false},
				})
			}
			got, err = h.nh.Endpoints.Get(h.ctx, ws.ID, ep.ID)
			is.NoErr(err)
			is.Equal(got.EventTypes, []string{"order.refunded", "order.*"}) // nor did the subscription
		},
	},
}
