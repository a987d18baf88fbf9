package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

var eventTypeTests = join(
	[]test{
		{
			name:     "CreateEventType/Fields",
			contract: "A created event type has an evt_ ID and the name and description given, at their longest, newlines and tabs included; it reads back the same.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				long := strings.Repeat("a", 127) + "." + strings.Repeat("b", 128)
				for _, in := range []nahook.EventTypeInput{
					{Name: "order.created", Description: "An event."},
					{Name: "A-b.C_d.9"},
					{Name: long, Description: strings.Repeat("é", 1024)},
					{Name: "multi.line", Description: "First line.\n\tSecond line."},
				} {
					et, err := h.nh.EventTypes.Create(h.ctx, ws.ID, in)
					if err != nil {
						t.Fatalf("name %q: %v", in.Name, err)
					}
					is.True(strings.HasPrefix(string(et.ID), "evt_"))
					is.Equal(et.Name, in.Name)
					is.Equal(et.Description, in.Description)
					got, err := h.st.GetEventType(h.ctx, ws.ID, et.ID)
					is.NoErr(err)
					is.Equal(got, et) // reads back exactly
				}
			},
		},
		{
			name:     "CreateEventType/NameTaken",
			contract: "An event type name is unique within its workspace (ErrConflict naming name) and free in every other.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				h.eventType(t, ws.ID, "order.created")
				_, err := h.nh.EventTypes.Create(h.ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"})
				wantErr(t, err, nahook.ErrConflict, "name")
				ets, err := h.st.ListEventTypes(h.ctx, ws.ID, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(ets), 1) // the refused create stored nothing
				_, err = h.nh.EventTypes.Create(h.ctx, h.workspace(t).ID, nahook.EventTypeInput{Name: "order.created"})
				is.NoErr(err)
			},
		},
		{
			name:     "ListEventTypeVisibility/Fields",
			contract: "The visibility list of an environment holds every event type of the workspace, ordered by name, each with whether it is published there; new types start unpublished in every environment.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				prod := h.defaultEnv(t, ws.ID)
				staging := h.env(t, ws.ID, "staging")
				refunded := h.eventType(t, ws.ID, "order.refunded")
				created := h.eventType(t, ws.ID, "order.created")
				for _, env := range []nahook.Environment{prod, staging} {
					vis, err := h.st.ListEventTypeVisibility(h.ctx, ws.ID, env.ID)
					is.NoErr(err)
					is.Equal(vis, []store.EventTypeVisibility{
						{EventTypeID: created.ID, EventTypeName: "order.created", Published: false},
						{EventTypeID: refunded.ID, EventTypeName: "order.refunded", Published: false},
					}) // unpublished by default, in every environment
				}
				h.publish(t, ws.ID, prod.ID, created.ID)
				vis, err := h.st.ListEventTypeVisibility(h.ctx, ws.ID, prod.ID)
				is.NoErr(err)
				is.Equal(vis, []store.EventTypeVisibility{
					{EventTypeID: created.ID, EventTypeName: "order.created", Published: true},
					{EventTypeID: refunded.ID, EventTypeName: "order.refunded", Published: false},
				}) // the seed's example
				other := h.workspace(t)
				h.eventType(t, other.ID, "order.created")
				vis, err = h.st.ListEventTypeVisibility(h.ctx, ws.ID, prod.ID)
				is.NoErr(err)
				is.Equal(len(vis), 2) // another workspace's event types are not listed
			},
		},
		{
			name: "ListEventTypeVisibility/PortalSees",
			contract: "A portal sees only the event types published in its environment, by name, and may subscribe only to those (or wildcards); " +
				"a name an endpoint already has survives an edit.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				env := h.defaultEnv(t, ws.ID)
				staging := h.env(t, ws.ID, "staging")
				for _, n := range []string{"order.created", "invoice.paid", "user.deleted"} {
					h.eventType(t, ws.ID, n)
				}
				vis, err := h.nh.EventTypes.Visibility(h.ctx, ws.ID, env.ID)
				is.NoErr(err)
				for _, v := range vis {
					if v.EventTypeName != "user.deleted" {
						h.publish(t, ws.ID, env.ID, v.EventTypeID)
					} else {
						h.publish(t, ws.ID, staging.ID, v.EventTypeID) // published, but elsewhere
					}
				}
				app := h.app(t, ws.ID, "cust_1")
				p := h.portal(t, h.portalSession(t, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID}).Token)
				types, err := p.EventTypes(h.ctx)
				is.NoErr(err)
				var names []string
				for _, et := range types {
					names = append(names, et.Name)
				}
				is.Equal(names, []string{"invoice.paid", "order.created"})

				_, err = p.CreateEndpoint(h.ctx, nahook.PortalEndpointInput{URL: "https://a.example/hook", EventTypes: []string{"order.created", "user.deleted"}})
				wantErr(t, err, nahook.ErrInvalid, "eventTypes[1]")
				ep, err := p.CreateEndpoint(h.ctx, nahook.PortalEndpointInput{URL: "https://a.example/hook", EventTypes: []string{"*", "user.*", "order.created"}})
				is.NoErr(err)
				is.Equal(ep.EventTypes, []string{"*", "user.*", "order.created"})

				// The operator subscribes it to user.deleted; the customer's edit keeps it.
				_, err = h.nh.Endpoints.Update(h.ctx, ws.ID, ep.ID, nahook.EndpointPatch{EventTypes: []string{"order.created", "user.deleted"}})
				is.NoErr(err)
				kept, err := p.UpdateEndpoint(h.ctx, ep.ID, nahook.EndpointPatch{EventTypes: []string{"user.deleted", "invoice.paid"}})
				is.NoErr(err)
				is.Equal(kept.EventTypes, []string{"user.deleted", "invoice.paid"})
				_, err = p.UpdateEndpoint(h.ctx, ep.ID, nahook.EndpointPatch{EventTypes: []string{"invoice.paid", "nope.never"}})
				wantErr(t, err, nahook.ErrInvalid, "eventTypes[1]")
			},
		},
		{
			name:     "SetEventTypeVisibility/PerEnvironment",
			contract: "Publishing is per environment: it never changes another environment; repeating it is harmless; unpublishing reverts it.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				prod := h.defaultEnv(t, ws.ID)
				staging := h.env(t, ws.ID, "staging")
				et := h.eventType(t, ws.ID, "order.refunded")
				published := func(env nahook.EnvironmentID) bool {
					vis, err := h.st.ListEventTypeVisibility(h.ctx, ws.ID, env)
					is.NoErr(err)
					return vis[0].Published
				}
				set := func(env nahook.EnvironmentID, on bool) {
					is.NoErr(h.st.SetEventTypeVisibility(h.ctx, ws.ID, env, et.ID, on))
				}
				set(prod.ID, true)
				set(prod.ID, true) // twice is fine
				is.True(published(prod.ID))
				is.True(!published(staging.ID)) // staging is untouched
				set(staging.ID, true)
				set(staging.ID, false)
				is.True(!published(staging.ID))
				is.True(published(prod.ID)) // unpublishing in staging leaves production alone
				set(prod.ID, false)
				set(prod.ID, false)
				is.True(!published(prod.ID))
			},
		},
		{
			name:     "SetEventTypeVisibility/MixedWorkspaces",
			contract: "Visibility can be set only for an environment and an event type of the same workspace; otherwise ErrNotFound naming the one that is missing, and nothing changes.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				a, b := h.workspace(t), h.workspace(t)
				envA, envB := h.defaultEnv(t, a.ID), h.defaultEnv(t, b.ID)
				etA, etB := h.eventType(t, a.ID, "order.created"), h.eventType(t, b.ID, "order.created")
				err := h.st.SetEventTypeVisibility(h.ctx, a.ID, envB.ID, etA.ID, true)
				wantErr(t, err, store.ErrNotFound, "environmentId")
				err = h.st.SetEventTypeVisibility(h.ctx, a.ID, envA.ID, etB.ID, true)
				wantErr(t, err, store.ErrNotFound, "eventTypeId")
				err = h.st.SetEventTypeVisibility(h.ctx, b.ID, envA.ID, etB.ID, true)
				wantErr(t, err, store.ErrNotFound, "environmentId")
				for _, c := range []struct {
					ws  nahook.WorkspaceID
					env nahook.EnvironmentID
				}{{a.ID, envA.ID}, {b.ID, envB.ID}} {
					vis, err := h.st.ListEventTypeVisibility(h.ctx, c.ws, c.env)
					is.NoErr(err)
					is.Equal(len(vis), 1)
					is.True(!vis[0].Published) // nothing was published anywhere
				}
			},
		},
		{
			name:     "UpdateEventType/RenameFollows",
			contract: "Renaming an event type keeps its visibility and carries along every endpoint subscribed to it by name; renaming to a taken name is ErrConflict and changes nothing.",
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
				is.Equal(got.CreatedAt, et.CreatedAt)
				is.True(got.UpdatedAt.After(et.UpdatedAt))
				epNow, err := h.st.GetEndpoint(h.ctx, ws.ID, ep.ID)
				is.NoErr(err)
				is.Equal(epNow.EventTypes, []string{"order.*", "order.completed"}) // follows the rename, in place
				vis, err := h.st.ListEventTypeVisibility(h.ctx, ws.ID, prod.ID)
				is.NoErr(err)
				is.Equal(vis[0], store.EventTypeVisibility{EventTypeID: et.ID, EventTypeName: "order.completed", Published: true})
				_, err = h.nh.EventTypes.Update(h.ctx, ws.ID, et.ID, nahook.EventTypePatch{Name: ptr("order.placed"), Description: ptr("Taken.")})
				wantErr(t, err, nahook.ErrConflict, "name")
				after, err := h.st.GetEventType(h.ctx, ws.ID, et.ID)
				is.NoErr(err)
				is.Equal(after, got) // the refused rename changed nothing, the description included
				d, err := h.nh.EventTypes.Update(h.ctx, ws.ID, et.ID, nahook.EventTypePatch{Description: ptr("Placed and paid.")})
				is.NoErr(err)
				is.Equal(d.Name, "order.completed") // not given, not changed
				is.Equal(d.Description, "Placed and paid.")
			},
		},
		{
			name:     "DeleteEventType/Cascade",
			contract: "Deleting an event type removes it from every environment's visibility and from every subscription by name, leaving wildcards and other subscriptions in place; deleting it again is ErrNotFound.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				prod := h.defaultEnv(t, ws.ID)
				staging := h.env(t, ws.ID, "staging")
				et := h.eventType(t, ws.ID, "order.created")
				keep := h.eventType(t, ws.ID, "order.refunded")
				h.publish(t, ws.ID, prod.ID, et.ID)
				h.publish(t, ws.ID, staging.ID, et.ID)
				h.publish(t, ws.ID, prod.ID, keep.ID)
				ep := h.endpoint(t, ws.ID, nahook.EndpointInput{EventTypes: []string{"order.refunded", "order.created", "order.*"}})

				is.NoErr(h.st.DeleteEventType(h.ctx, ws.ID, et.ID))
				_, err := h.st.GetEventType(h.ctx, ws.ID, et.ID)
				wantErr(t, err, store.ErrNotFound, "")
				got, err := h.st.GetEndpoint(h.ctx, ws.ID, ep.ID)
				is.NoErr(err)
				is.Equal(got.EventTypes, []string{"order.refunded", "order.*"})
				wantErr(t, h.st.DeleteEventType(h.ctx, ws.ID, et.ID), store.ErrNotFound, "") // deleting twice

				is.NoErr(h.st.CreateEventType(h.ctx, et)) // the same ID again
				for _, env := range []nahook.Environment{prod, staging} {
					vis, err := h.st.ListEventTypeVisibility(h.ctx, ws.ID, env.ID)
					is.NoErr(err)
					is.Equal(vis, []store.EventTypeVisibility{
						{EventTypeID: et.ID, EventTypeName: "order.created", Published: false}, // visibility did not survive
						{EventTypeID: keep.ID, EventTypeName: "order.refunded", Published: env.ID == prod.ID},
					})
				}
				got, err = h.st.GetEndpoint(h.ctx, ws.ID, ep.ID)
				is.NoErr(err)
				is.Equal(got.EventTypes, []string{"order.refunded", "order.*"}) // nor did the subscription
			},
		},
	},
	scoped("GetEventType", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		_, err := h.st.GetEventType(h.ctx, ws, id.et)
		return err
	}),
	scoped("UpdateEventType", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		_, err := h.st.UpdateEventType(h.ctx, ws, id.et, store.EventTypeUpdate{Name: ptr("hijacked"), Description: ptr("Hijacked."), UpdatedAt: h.at()})
		return err
	}),
	scoped("DeleteEventType", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		return h.st.DeleteEventType(h.ctx, ws, id.et)
	}),
	scoped("SetEventTypeVisibility", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		return h.st.SetEventTypeVisibility(h.ctx, ws, id.env, id.et, false)
	}),
	scoped("ListEventTypeVisibility", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		_, err := h.st.ListEventTypeVisibility(h.ctx, ws, id.env)
		return err
	}),
	listCases(lister{
		method: "ListEventTypes",
		scoped: true,
		make: func(t *testing.T, h *harness, ws nahook.WorkspaceID, i int) string {
			// Names sort against creation order, so a list ordered by
			// name rather than ID would fail.
			return string(h.eventType(t, ws, fmt.Sprintf("type.n%03d", 999-i)).ID)
		},
		list: func(h *harness, ws nahook.WorkspaceID, o nahook.ListOptions) ([]string, string, error) {
			p, err := h.nh.EventTypes.List(h.ctx, ws, o)
			return page(p, err, func(e nahook.EventType) string { return string(e.ID) })
		},
	}),
)

var eventTypeRaces = []test{
	{
		name:     "CreateEventType/NameUnderRace",
		contract: "Event type name uniqueness holds under concurrent creates: of 20 parallel creates with one name exactly one succeeds, the others are ErrConflict naming name.",
		run: func(t *testing.T, h *harness) {
			ws := h.workspace(t)
			for round := range raceRounds / 2 {
				is := is.New(t)
				name := fmt.Sprint("order.created", round)
				errs := race(20, func(i int) error {
					_, err := h.racer(i).EventTypes.Create(h.ctx, ws.ID, nahook.EventTypeInput{Name: name})
					return err
				})
				counts := tally(t, errs, nahook.ErrConflict)
				is.Equal(counts[nil], 1)
				is.Equal(counts[nahook.ErrConflict], 19)
				for _, err := range errs {
					if err != nil {
						wantErr(t, err, nahook.ErrConflict, "name")
					}
				}
			}
		},
	},
}
