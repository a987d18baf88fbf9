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

var endpointTests = join(
	[]test{
		{
			name:     "CreateEndpoint/Fields",
			contract: "A created endpoint has an ep_ ID and the fields given, its URL at any length allowed, subscriptions in the order given; it reads back the same.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				staging := h.env(t, ws.ID, "staging")
				app := h.app(t, ws.ID, "cust_1")
				h.eventType(t, ws.ID, "order.created")
				ep, err := h.nh.Endpoints.Create(h.ctx, ws.ID, nahook.EndpointInput{
					EnvironmentID: staging.ID,
					ApplicationID: app.ID,
					URL:           "https://acme.com/webhooks",
					Description:   "Production webhook",
					EventTypes:    []string{"order.created", "invoice.*", "*"},
					Disabled:      true,
				})
				is.NoErr(err)
				is.True(strings.HasPrefix(string(ep.ID), "ep_"))
				is.Equal(ep.WorkspaceID, ws.ID)
				is.Equal(ep.EnvironmentID, staging.ID)
				is.Equal(ep.ApplicationID, app.ID)
				is.Equal(ep.URL, "https://acme.com/webhooks")
				is.Equal(ep.Description, "Production webhook")
				is.Equal(ep.EventTypes, []string{"order.created", "invoice.*", "*"}) // in order
				is.True(ep.Disabled)
				got, err := h.st.GetEndpoint(h.ctx, ws.ID, ep.ID)
				is.NoErr(err)
				is.Equal(got, ep)

				long := "https://example.com/" + strings.Repeat("a", 2048-len("https://example.com/"))
				for _, u := range []string{long, "https://bücher.example/hook", "https://[2606:4700:4700::1111]/hook", "https://भारत.भारत/hook"} {
					ep, err := h.nh.Endpoints.Create(h.ctx, ws.ID, nahook.EndpointInput{URL: u})
					is.NoErr(err)
					got, err := h.st.GetEndpoint(h.ctx, ws.ID, ep.ID)
					is.NoErr(err)
					is.Equal(got.URL, u) // stored as given
				}
			},
		},
		{
			name:     "CreateEndpoint/DefaultEnvironment",
			contract: "An endpoint created without an environment goes to the workspace's default environment; one with no subscriptions lists none, not nil.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				ep, err := h.nh.Endpoints.Create(h.ctx, ws.ID, nahook.EndpointInput{URL: "https://acme.com/webhooks", Description: "Production webhook"})
				is.NoErr(err)
				is.Equal(ep.EnvironmentID, h.defaultEnv(t, ws.ID).ID)
				is.Equal(ep.ApplicationID, nahook.ApplicationID(""))
				is.Equal(ep.EventTypes, []string{})
				got, err := h.st.GetEndpoint(h.ctx, ws.ID, ep.ID)
				is.NoErr(err)
				is.True(got.EventTypes != nil) // read from the store: empty, never nil
				is.Equal(got, ep)
			},
		},
		{
			name: "CreateEndpoint/Subscriptions",
			contract: "Subscriptions name existing event types of the workspace, \"*\" or a trailing wildcard like \"order.*\"; a name the workspace lacks, even one another workspace has, " +
				"is ErrInvalid naming eventTypes[i], and nothing is stored.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				h.eventType(t, ws.ID, "order.created")
				h.eventType(t, h.workspace(t).ID, "order.shipped") // exists, but in another workspace
				ep, err := h.nh.Endpoints.Create(h.ctx, ws.ID, nahook.EndpointInput{
					URL: "https://acme.com/hook", EventTypes: []string{"*", "order.*", "billing.invoice.*", "order.created"},
				})
				is.NoErr(err) // wildcards need no event type to exist
				is.Equal(ep.EventTypes, []string{"*", "order.*", "billing.invoice.*", "order.created"})

				_, err = h.nh.Endpoints.Create(h.ctx, ws.ID, nahook.EndpointInput{URL: "https://acme.com/hook", EventTypes: []string{"order.created", "order.shipped"}})
				wantErr(t, err, nahook.ErrInvalid, "eventTypes[1]")
				_, err = h.nh.Endpoints.Create(h.ctx, ws.ID, nahook.EndpointInput{URL: "https://acme.com/hook", EventTypes: []string{"order.lost"}})
				wantErr(t, err, nahook.ErrInvalid, "eventTypes[0]")
				list, err := h.st.ListEndpoints(h.ctx, ws.ID, store.EndpointFilter{}, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(list), 1) // the refused endpoints were not stored
			},
		},
		{
			name:     "CreateEndpoint/OtherWorkspace",
			contract: "An endpoint's environment and application must be in its workspace: those of another workspace are ErrNotFound naming environmentId or applicationId, and nothing is stored.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				a, b := h.workspace(t), h.workspace(t)
				envB := h.defaultEnv(t, b.ID)
				appB := h.app(t, b.ID, "cust_1")
				_, err := h.nh.Endpoints.Create(h.ctx, a.ID, nahook.EndpointInput{URL: "https://acme.com/hook", EnvironmentID: envB.ID})
				wantErr(t, err, nahook.ErrNotFound, "environmentId")
				_, err = h.nh.Endpoints.Create(h.ctx, a.ID, nahook.EndpointInput{URL: "https://acme.com/hook", ApplicationID: appB.ID})
				wantErr(t, err, nahook.ErrNotFound, "applicationId")
				_, err = h.nh.Endpoints.Create(h.ctx, "ws_01kaaaaaaaaaaaaaaaaaaaaaaa", nahook.EndpointInput{URL: "https://acme.com/hook"})
				wantErr(t, err, nahook.ErrNotFound, "workspaceId")
				for _, ws := range []nahook.WorkspaceID{a.ID, b.ID} {
					eps, err := h.st.ListEndpoints(h.ctx, ws, store.EndpointFilter{}, store.PageRequest{Limit: 100})
					is.NoErr(err)
					is.Equal(len(eps), 0) // nothing stored anywhere
				}
			},
		},
		{
			name: "CreateEndpoint/LimitPerApplication",
			contract: "With maxPerApplication set, an application gets no more than that many endpoints in one environment (ErrLimitExceeded after, writing nothing); " +
				"other environments, applications and workspaces count apart, and a create without the limit is not limited.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				nh := h.client(t, nahook.Config{PortalMaxEndpoints: 2})
				full := h.workspace(t) // another workspace whose application is at the limit
				fullApp := h.app(t, full.ID, "cust_1")
				h.endpoint(t, full.ID, nahook.EndpointInput{ApplicationID: fullApp.ID})
				h.endpoint(t, full.ID, nahook.EndpointInput{ApplicationID: fullApp.ID})
				ws := h.workspace(t)
				app := h.app(t, ws.ID, "cust_1")
				staging := h.env(t, ws.ID, "staging")
				s, err := nh.PortalSessions.Create(h.ctx, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID})
				is.NoErr(err)
				p, err := nh.PortalSessions.Authenticate(h.ctx, s.Token)
				is.NoErr(err)
				for range 2 {
					h.endpoint(t, ws.ID, nahook.EndpointInput{ApplicationID: app.ID, EnvironmentID: staging.ID}) // elsewhere: not counted
				}
				rival := h.app(t, ws.ID, "cust_2")
				for range 2 {
					h.endpoint(t, ws.ID, nahook.EndpointInput{ApplicationID: rival.ID}) // another's: not counted
				}
				for range 2 {
					_, err := p.CreateEndpoint(h.ctx, nahook.PortalEndpointInput{URL: "https://a.example/hook"})
					is.NoErr(err)
				}
				_, err = p.CreateEndpoint(h.ctx, nahook.PortalEndpointInput{URL: "https://a.example/hook"})
				wantErr(t, err, nahook.ErrLimitExceeded, "")
				eps := all(t, func(o nahook.ListOptions) (nahook.Page[nahook.Endpoint], error) { return p.ListEndpoints(h.ctx, o) })
				is.Equal(len(eps), 2) // the refused create wrote nothing
				_, err = nh.Endpoints.Create(h.ctx, ws.ID, nahook.EndpointInput{ApplicationID: app.ID, URL: "https://ops.example/hook"})
				is.NoErr(err) // the operator is not limited
				is.NoErr(p.DeleteEndpoint(h.ctx, eps[0].ID))
				_, err = p.CreateEndpoint(h.ctx, nahook.PortalEndpointInput{URL: "https://a.example/hook"})
				wantErr(t, err, nahook.ErrLimitExceeded, "") // still 2 with the operator's
			},
		},
		{
			name:     "UpdateEndpoint/Fields",
			contract: "Updating an endpoint changes only the fields given; subscriptions are replaced whole (an empty list clears them); a refused update changes nothing at all.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				h.eventType(t, ws.ID, "order.created")
				h.eventType(t, ws.ID, "order.refunded")
				ep := h.endpoint(t, ws.ID, nahook.EndpointInput{Description: "first", EventTypes: []string{"order.created"}})
				h.tick()

				got, err := h.nh.Endpoints.Update(h.ctx, ws.ID, ep.ID, nahook.EndpointPatch{Disabled: ptr(true)})
				is.NoErr(err)
				is.True(got.Disabled)
				is.Equal(got.URL, ep.URL)
				is.Equal(got.EventTypes, ep.EventTypes)
				is.Equal(got.CreatedAt, ep.CreatedAt)
				is.True(got.UpdatedAt.After(ep.UpdatedAt))

				got, err = h.nh.Endpoints.Update(h.ctx, ws.ID, ep.ID, nahook.EndpointPatch{
					URL: ptr("https://acme.com/v2"), Description: ptr("second"), EventTypes: []string{"order.refunded", "order.*"},
				})
				is.NoErr(err)
				is.Equal(got.URL, "https://acme.com/v2")
				is.Equal(got.Description, "second")
				is.Equal(got.EventTypes, []string{"order.refunded", "order.*"})
				is.True(got.Disabled) // not given, not changed

				// A valid URL with an unknown subscription: neither is applied.
				_, err = h.nh.Endpoints.Update(h.ctx, ws.ID, ep.ID, nahook.EndpointPatch{URL: ptr("https://acme.com/v3"), EventTypes: []string{"order.lost"}})
				wantErr(t, err, nahook.ErrInvalid, "eventTypes[0]")
				after, err := h.st.GetEndpoint(h.ctx, ws.ID, ep.ID)
				is.NoErr(err)
				is.Equal(after, got) // nothing changed

				got, err = h.nh.Endpoints.Update(h.ctx, ws.ID, ep.ID, nahook.EndpointPatch{EventTypes: []string{}})
				is.NoErr(err)
				is.Equal(got.EventTypes, []string{}) // cleared
			},
		},
		{
			name:     "ListEndpoints/Filters",
			contract: "Endpoints list by workspace, narrowed by environment and application; a filter naming another workspace's environment or application lists nothing.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				prod := h.defaultEnv(t, ws.ID)
				staging := h.env(t, ws.ID, "staging")
				app := h.app(t, ws.ID, "cust_1")
				e1 := h.endpoint(t, ws.ID, nahook.EndpointInput{ApplicationID: app.ID})
				e2 := h.endpoint(t, ws.ID, nahook.EndpointInput{ApplicationID: app.ID, EnvironmentID: staging.ID})
				e3 := h.endpoint(t, ws.ID, nahook.EndpointInput{EnvironmentID: staging.ID})
				other := h.workspace(t)
				otherApp := h.app(t, other.ID, "x")
				h.endpoint(t, other.ID, nahook.EndpointInput{ApplicationID: otherApp.ID}) // elsewhere

				ids := func(ws nahook.WorkspaceID, f store.EndpointFilter) []nahook.EndpointID {
					eps, err := h.st.ListEndpoints(h.ctx, ws, f, store.PageRequest{Limit: 100})
					is.NoErr(err)
					var out []nahook.EndpointID
					for _, ep := range eps {
						out = append(out, ep.ID)
					}
					return out
				}
				is.Equal(ids(ws.ID, store.EndpointFilter{}), []nahook.EndpointID{e1.ID, e2.ID, e3.ID})
				is.Equal(ids(ws.ID, store.EndpointFilter{EnvironmentID: staging.ID}), []nahook.EndpointID{e2.ID, e3.ID})
				is.Equal(ids(ws.ID, store.EndpointFilter{ApplicationID: app.ID}), []nahook.EndpointID{e1.ID, e2.ID})
				is.Equal(ids(ws.ID, store.EndpointFilter{ApplicationID: app.ID, EnvironmentID: prod.ID}), []nahook.EndpointID{e1.ID})
				is.Equal(len(ids(other.ID, store.EndpointFilter{EnvironmentID: staging.ID})), 0) // not through another workspace
				is.Equal(len(ids(other.ID, store.EndpointFilter{ApplicationID: app.ID})), 0)
				is.Equal(len(ids(ws.ID, store.EndpointFilter{ApplicationID: otherApp.ID})), 0)

				_, err := h.nh.Endpoints.List(h.ctx, ws.ID, nahook.EndpointFilter{EnvironmentID: h.defaultEnv(t, other.ID).ID}, nahook.ListOptions{})
				wantErr(t, err, nahook.ErrNotFound, "") // through nahook, a filter of another workspace is not found
				_, err = h.nh.Endpoints.List(h.ctx, ws.ID, nahook.EndpointFilter{ApplicationID: otherApp.ID}, nahook.ListOptions{})
				wantErr(t, err, nahook.ErrNotFound, "")
			},
		},
		{
			name:     "DeleteEndpoint/CascadeDeliveries",
			contract: "Deleting an endpoint deletes its deliveries and their attempts, and no other endpoint's; deleting it again is ErrNotFound.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				o := h.outbox(t)
				in := o.ingest(t, `{}`, "")
				for _, d := range in.Deliveries {
					recordOne(t, h, d, store.DeliveryFailed, 500, in.Event.CreatedAt)
				}
				is.NoErr(h.st.DeleteEndpoint(h.ctx, o.ws.ID, o.a.ID))
				list, err := h.st.ListDeliveries(h.ctx, o.ws.ID, store.DeliveryFilter{}, store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(list), 1) // none of the deleted endpoint's
				is.Equal(list[0].EndpointID, o.b.ID)
				wantErr(t, h.st.DeleteEndpoint(h.ctx, o.ws.ID, o.a.ID), store.ErrNotFound, "") // deleting twice

				// The same endpoint and delivery again: an attempt that
				// survived would be attached to it.
				is.NoErr(h.st.CreateEndpoint(h.ctx, o.a, newKey(), 0))
				var toA store.DeliveryID
				for _, d := range in.Deliveries {
					if d.EndpointID == o.a.ID {
						toA = d.ID
					}
				}
				ev := in.Event
				ev.ID = store.EventID(typeid.New("msg")) // a new event, the same delivery ID
				_, stored, _, err := h.st.Ingest(h.ctx, ev, []store.Delivery{{ID: toA, EndpointID: o.a.ID}})
				is.NoErr(err)
				is.Equal(len(stored), 1)
				_, attempts, err := h.st.GetDelivery(h.ctx, o.ws.ID, toA)
				is.NoErr(err)
				is.Equal(len(attempts), 0) // no attempt survived
			},
		},
	},
	scoped("GetEndpoint", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		_, err := h.st.GetEndpoint(h.ctx, ws, id.ep)
		return err
	}),
	scoped("UpdateEndpoint", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		_, err := h.st.UpdateEndpoint(h.ctx, ws, id.ep, store.EndpointUpdate{URL: ptr("https://evil.example/"), Disabled: ptr(true),
			EventTypes: []string{"*"}, UpdatedAt: h.at()})
		return err
	}),
	scoped("DeleteEndpoint", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		return h.st.DeleteEndpoint(h.ctx, ws, id.ep)
	}),
	listCases(lister{
		method: "ListEndpoints",
		scoped: true,
		make: func(t *testing.T, h *harness, ws nahook.WorkspaceID, i int) string {
			return string(h.endpoint(t, ws, nahook.EndpointInput{URL: fmt.Sprintf("https://example.com/%d", i), EventTypes: []string{"*"}}).ID)
		},
		list: func(h *harness, ws nahook.WorkspaceID, o nahook.ListOptions) ([]string, string, error) {
			p, err := h.nh.Endpoints.List(h.ctx, ws, nahook.EndpointFilter{}, o)
			return page(p, err, func(e nahook.Endpoint) string { return string(e.ID) })
		},
	}),
)

var endpointRaces = []test{
	{
		name: "CreateEndpoint/LimitUnderRace",
		contract: "The per-application endpoint limit holds under concurrent creates, in one process or several: in every round, 30 parallel creates " +
			"with maxPerApplication 3 leave exactly 3 endpoints of the application in the environment, every refused create failing with ErrLimitExceeded.",
		run: func(t *testing.T, h *harness) {
			ws := h.workspace(t)
			env := h.defaultEnv(t, ws.ID)
			for round := range raceRounds {
				is := is.New(t)
				app := h.app(t, ws.ID, fmt.Sprint("cust_", round))
				const limit, racers = 3, 30
				errs := race(racers, func(i int) error {
					now := h.at()
					ep := store.Endpoint{ID: store.EndpointID(typeid.New("ep")), WorkspaceID: ws.ID, EnvironmentID: env.ID, ApplicationID: app.ID,
						URL: "https://a.example/hook", EventTypes: []string{}, CreatedAt: now, UpdatedAt: now}
					return h.stores[i%len(h.stores)].CreateEndpoint(h.ctx, ep, newKey(), limit)
				})
				counts := tally(t, errs, store.ErrLimitExceeded)
				eps, err := h.st.ListEndpoints(h.ctx, ws.ID, store.EndpointFilter{ApplicationID: app.ID}, store.PageRequest{Limit: 100})
				is.NoErr(err)
				if len(eps) != limit {
					t.Fatalf("round %d: %d endpoints stored, want %d", round, len(eps), limit)
				}
				is.Equal(counts[nil], limit)
				is.Equal(counts[store.ErrLimitExceeded], racers-limit)
			}
		},
	},
}
