package storetest

import (
	"strings"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
)

var endpointTests = []test{
	{
		name:     "Endpoints.Create/Fields",
		contract: "A created endpoint has an ep_ ID and the fields given, subscriptions in the order given without duplicates; it reads back the same.",
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
				Description:   " Production webhook ",
				EventTypes:    []string{"order.created", "invoice.*", "order.created", "*"},
				Disabled:      true,
			})
			is.NoErr(err)
			is.True(strings.HasPrefix(string(ep.ID), "ep_"))
			is.Equal(ep.WorkspaceID, ws.ID)
			is.Equal(ep.EnvironmentID, staging.ID)
			is.Equal(ep.ApplicationID, app.ID)
			is.Equal(ep.URL, "https://acme.com/webhooks")
			is.Equal(ep.Description, "Production webhook")
			is.Equal(ep.EventTypes, []string{"order.created", "invoice.*", "*"}) // ordered, deduplicated
			is.True(ep.Disabled)
			got, err := h.nh.Endpoints.Get(h.ctx, ws.ID, ep.ID)
			is.NoErr(err)
			is.Equal(got, ep)
		},
	},
	{
		name:     "Endpoints.Create/DefaultEnvironment",
		contract: "An endpoint created without an environment goes to the workspace's default environment; one with no subscriptions lists none, not nil.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			ep, err := h.nh.Endpoints.Create(h.ctx, ws.ID, nahook.EndpointInput{URL: "https://acme.com/webhooks", Description: "Production webhook"})
			is.NoErr(err)
			is.Equal(ep.EnvironmentID, h.defaultEnv(t, ws.ID).ID)
			is.Equal(ep.ApplicationID, nahook.ApplicationID(""))
			is.Equal(ep.EventTypes, []string{})
			got, err := h.nh.Endpoints.Get(h.ctx, ws.ID, ep.ID)
			is.NoErr(err)
			is.Equal(got, ep)
		},
	},
	{
		name:     "Endpoints.Create/URLRules",
		contract: "An endpoint URL is an absolute http:// or https:// URL with a valid host, at most 2048 characters; anything else is ErrInvalid naming url.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			long := "https://example.com/" + strings.Repeat("a", 2048-len("https://example.com/"))
			for _, u := range []string{
				"https://acme.com/webhooks",
				"http://example.com:8080/hook?source=nahook",
				"https://bücher.example/hook",
				"https://[2606:4700:4700::1111]/hook",
				"https://भारत.भारत/hook",
				"https://my_host.example.com/hook",
				"https://93.184.216.34/hook",
				long,
			} {
				if _, err := h.nh.Endpoints.Create(h.ctx, ws.ID, nahook.EndpointInput{URL: u}); err != nil {
					t.Fatalf("url %q: %v", u, err)
				}
			}
			for _, u := range []string{
				"",
				"ftp://example.com/hook",
				"example.com/hook",
				"//example.com/hook",
				"https://",
				"http:///path",
				"https:example.com",
				"https://exa mple.com/",
				"https://example.com:99999/",
				"https://example.com:0/",
				"https://bad_host!.com/",
				"https://1.2.3.4.5/",
				"https://example..com/",
				long + "a",
			} {
				_, err := h.nh.Endpoints.Create(h.ctx, ws.ID, nahook.EndpointInput{URL: u})
				if err == nil {
					t.Fatalf("url %q was accepted", u)
				}
				wantErr(t, err, nahook.ErrInvalid, "url")
			}
			list, err := h.nh.Endpoints.List(h.ctx, ws.ID, nahook.EndpointFilter{}, nahook.ListOptions{})
			is.NoErr(err)
			is.Equal(len(list.Items), 8) // only the valid ones were stored
		},
	},
	{
		name:     "Endpoints.Create/PrivateHosts",
		contract: "URLs whose host is loopback, private, link-local or unspecified (in any spelling) are ErrInvalid naming url, unless the host program opts in with Config.AllowPrivateURLs.",
		run: func(t *testing.T, h *harness) {
			ws := h.workspace(t)
			private := []string{
				"http://localhost:8080/hook",
				"http://LOCALHOST./hook",
				"http://app.localhost/hook",
				"http://127.0.0.1/hook",
				"http://127.1.2.3/hook",
				"http://10.0.0.1/hook",
				"http://172.16.5.4/hook",
				"http://192.168.1.1/hook",
				"http://169.254.169.254/latest/meta-data",
				"http://0.0.0.0/hook",
				"http://100.64.0.1/hook",
				"http://[::1]/hook",
				"http://[::]/hook",
				"http://[fe80::1%25eth0]/hook",
				"http://[fd00::1]/hook",
				"http://[::ffff:127.0.0.1]/hook",
				"http://[::ffff:10.1.2.3]/hook",
				"http://[::127.0.0.1]/hook",        // IPv4-compatible
				"http://[64:ff9b::a9fe:a9fe]/hook", // NAT64 to 169.254.169.254
				"http://[2002:a9fe:a9fe::]/hook",   // 6to4 from 169.254.169.254
				"http://[::ffff:0:7f00:1]/hook",    // SIIT
				"http://１２７.０.０.１/hook",            // full-width digits, which IDNA maps to 127.0.0.1
				"http://ｌｏｃａｌｈｏｓｔ/hook",            // full-width letters
				"http://192.0.2.10/hook",           // documentation
				"http://[2001:db8::1]/hook",        // documentation
			}
			// Legacy numeric spellings that some resolvers read as
			// 127.0.0.1 are not host names at all: refused even with the
			// opt-in.
			legacy := []string{
				"http://2130706433/hook",
				"http://0x7f000001/hook",
				"http://0177.0.0.1/hook",
				"http://127.1/hook",
			}
			for _, u := range append(private, legacy...) {
				_, err := h.nh.Endpoints.Create(h.ctx, ws.ID, nahook.EndpointInput{URL: u})
				if err == nil {
					t.Fatalf("url %q was accepted without opting in", u)
				}
				wantErr(t, err, nahook.ErrInvalid, "url")
			}
			local := h.client(t, nahook.Config{AllowPrivateURLs: true})
			for _, u := range private {
				if _, err := local.Endpoints.Create(h.ctx, ws.ID, nahook.EndpointInput{URL: u}); err != nil {
					t.Fatalf("url %q with AllowPrivateURLs: %v", u, err)
				}
			}
			for _, u := range legacy {
				_, err := local.Endpoints.Create(h.ctx, ws.ID, nahook.EndpointInput{URL: u})
				wantErr(t, err, nahook.ErrInvalid, "url")
			}
		},
	},
	{
		name:     "Endpoints.Create/Subscriptions",
		contract: "Subscriptions name existing event types of the workspace, \"*\" or a trailing wildcard like \"order.*\"; an unknown name or malformed pattern is ErrInvalid naming eventTypes[i], and nothing is stored.",
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
			for _, p := range []string{"order.**", "*.created", "order*", ".*", "order.*.x", "", " order.created"} {
				_, err := h.nh.Endpoints.Create(h.ctx, ws.ID, nahook.EndpointInput{URL: "https://acme.com/hook", EventTypes: []string{"order.created", p}})
				wantErr(t, err, nahook.ErrInvalid, "eventTypes[1]")
			}
			list, err := h.nh.Endpoints.List(h.ctx, ws.ID, nahook.EndpointFilter{}, nahook.ListOptions{})
			is.NoErr(err)
			is.Equal(len(list.Items), 1) // the refused endpoints were not stored
		},
	},
	{
		name:     "Endpoints.Create/References",
		contract: "An endpoint's environment and application must be in its workspace: a well-formed ID of another workspace is ErrNotFound, a malformed one ErrInvalid, each naming its field.",
		run: func(t *testing.T, h *harness) {
			a, b := h.workspace(t), h.workspace(t)
			envB := h.defaultEnv(t, b.ID)
			appB := h.app(t, b.ID, "cust_1")
			_, err := h.nh.Endpoints.Create(h.ctx, a.ID, nahook.EndpointInput{URL: "https://acme.com/hook", EnvironmentID: envB.ID})
			wantErr(t, err, nahook.ErrNotFound, "environmentId")
			_, err = h.nh.Endpoints.Create(h.ctx, a.ID, nahook.EndpointInput{URL: "https://acme.com/hook", ApplicationID: appB.ID})
			wantErr(t, err, nahook.ErrNotFound, "applicationId")
			_, err = h.nh.Endpoints.Create(h.ctx, a.ID, nahook.EndpointInput{URL: "https://acme.com/hook", EnvironmentID: "staging"})
			wantErr(t, err, nahook.ErrInvalid, "environmentId")
			_, err = h.nh.Endpoints.Create(h.ctx, a.ID, nahook.EndpointInput{URL: "https://acme.com/hook", ApplicationID: "cust_1"})
			wantErr(t, err, nahook.ErrInvalid, "applicationId")
			_, err = h.nh.Endpoints.Create(h.ctx, "ws_01kaaaaaaaaaaaaaaaaaaaaaaa", nahook.EndpointInput{URL: "https://acme.com/hook"})
			wantErr(t, err, nahook.ErrNotFound, "workspaceId")
		},
	},
	{
		name:     "Endpoints.Update/Patch",
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
			_, err = h.nh.Endpoints.Update(h.ctx, ws.ID, ep.ID, nahook.EndpointPatch{URL: ptr("http://127.0.0.1/"), EventTypes: []string{}})
			wantErr(t, err, nahook.ErrInvalid, "url")
			after, err := h.nh.Endpoints.Get(h.ctx, ws.ID, ep.ID)
			is.NoErr(err)
			is.Equal(after, got) // nothing changed

			got, err = h.nh.Endpoints.Update(h.ctx, ws.ID, ep.ID, nahook.EndpointPatch{EventTypes: []string{}})
			is.NoErr(err)
			is.Equal(got.EventTypes, []string{}) // cleared
		},
	},
	{
		name:     "Endpoints.List/Filters",
		contract: "Endpoints list by workspace, narrowed by environment and application; filtering by an environment or application of another workspace is ErrNotFound, not an empty list.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			prod := h.defaultEnv(t, ws.ID)
			staging := h.env(t, ws.ID, "staging")
			app := h.app(t, ws.ID, "cust_1")
			e1 := h.endpoint(t, ws.ID, nahook.EndpointInput{ApplicationID: app.ID})
			e2 := h.endpoint(t, ws.ID, nahook.EndpointInput{ApplicationID: app.ID, EnvironmentID: staging.ID})
			e3 := h.endpoint(t, ws.ID, nahook.EndpointInput{EnvironmentID: staging.ID})
			h.endpoint(t, h.workspace(t).ID, nahook.EndpointInput{}) // elsewhere

			ids := func(f nahook.EndpointFilter) []nahook.EndpointID {
				var out []nahook.EndpointID
				for _, ep := range all(t, func(o nahook.ListOptions) (nahook.Page[nahook.Endpoint], error) {
					return h.nh.Endpoints.List(h.ctx, ws.ID, f, o)
				}) {
					out = append(out, ep.ID)
				}
				return out
			}
			is.Equal(ids(nahook.EndpointFilter{}), []nahook.EndpointID{e1.ID, e2.ID, e3.ID})
			is.Equal(ids(nahook.EndpointFilter{EnvironmentID: staging.ID}), []nahook.EndpointID{e2.ID, e3.ID})
			is.Equal(ids(nahook.EndpointFilter{ApplicationID: app.ID}), []nahook.EndpointID{e1.ID, e2.ID})
			is.Equal(ids(nahook.EndpointFilter{ApplicationID: app.ID, EnvironmentID: prod.ID}), []nahook.EndpointID{e1.ID})

			other := h.workspace(t)
			_, err := h.nh.Endpoints.List(h.ctx, ws.ID, nahook.EndpointFilter{EnvironmentID: h.defaultEnv(t, other.ID).ID}, nahook.ListOptions{})
			wantErr(t, err, nahook.ErrNotFound, "")
			_, err = h.nh.Endpoints.List(h.ctx, ws.ID, nahook.EndpointFilter{ApplicationID: h.app(t, other.ID, "x").ID}, nahook.ListOptions{})
			wantErr(t, err, nahook.ErrNotFound, "")
		},
	},
}
