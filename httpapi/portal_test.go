package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
)

// portalSession makes a portal session of h's workspace for app, in the
// default environment.
func (h *harness) portalSession(app string) nahook.IssuedPortalSession {
	h.t.Helper()
	s, err := h.nh.PortalSessions.Create(context.Background(), h.ws, nahook.PortalSessionInput{ApplicationID: nahook.ApplicationID(app)})
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// TestPortal walks every portal route with a session's token, as the
// portal page does.
func TestPortal(t *testing.T) {
	is := is.New(t)
	h := newHarness(t, Config{})
	m := h.mgmtPath
	app := h.do("POST", m("/applications"), h.mgmt, map[string]string{"name": "Acme Corp"}).field("id")
	et := h.do("POST", m("/event-types"), h.mgmt, map[string]string{"name": "order.created"}).field("id")
	env := h.do("GET", m("/environments"), h.mgmt, nil).body.(map[string]any)["data"].([]any)[0].(map[string]any)["id"].(string)
	h.want(h.do("PUT", m("/environments/"+env+"/event-types/"+et+"/visibility"), h.mgmt, map[string]bool{"published": true}), http.StatusOK)
	h.do("POST", m("/event-types"), h.mgmt, map[string]string{"name": "internal.audit"}) // never published
	auth := "Bearer " + h.portalSession(app).Token
	for body, field := range map[string]string{
		`{"applicationId": "` + app + `", "expiresIn": 1.5}`:   "expiresIn",
		`{"applicationId": "` + app + `", "expiresIn": 86401}`: "expiresIn",
		`{"applicationId": "` + app + `", "expiresIn": 0}`:     "expiresIn",
		`{"expiresIn": 60}`: "applicationId",
		`{"applicationId": "` + app + `", "environmentId": "env_01kaaaaaaaaaaaaaaaaaaaaaaa"}`: "environmentId",
	} {
		res := h.do("POST", m("/portal-sessions"), h.mgmt, body)
		if res.status/100 != 4 || res.errorField() != field {
			t.Fatalf("%s: %d %s, want a 4xx naming %s", body, res.status, res.raw, field)
		}
	}
	sessions := h.do("GET", m("/applications/"+app+"/portal-sessions"), h.mgmt, nil)
	is.Equal(len(sessions.body.(map[string]any)["data"].([]any)), 1) // refused requests made none

	info := h.do("GET", "/portal/v1/session", auth, nil)
	h.want(info, http.StatusOK)
	is.Equal(info.field("applicationName"), "Acme Corp")
	is.Equal(info.field("environmentName"), "Production")
	is.Equal(info.header.Get("Cache-Control"), "no-store")

	types := h.do("GET", "/portal/v1/event-types", auth, nil)
	h.want(types, http.StatusOK)
	is.Equal(len(types.body.(map[string]any)["data"].([]any)), 1)
	is.True(!strings.Contains(string(types.raw), "internal.audit")) // unpublished types stay hidden

	h.want(h.do("GET", "/portal/v1/endpoints", auth, nil), http.StatusOK)
	ep := h.do("POST", "/portal/v1/endpoints", auth, map[string]any{"url": "https://acme.example/hook", "description": "Orders", "eventTypes": []string{"order.created"}})
	h.want(ep, http.StatusCreated)
	is.Equal(ep.field("applicationId"), app)
	is.Equal(ep.field("environmentId"), env)
	id := ep.field("id")
	h.want(h.do("GET", "/portal/v1/endpoints/"+id, auth, nil), http.StatusOK)
	h.want(h.do("PATCH", "/portal/v1/endpoints/"+id, auth, map[string]any{"disabled": true}), http.StatusOK)
	secret := h.do("GET", "/portal/v1/endpoints/"+id+"/secret", auth, nil)
	h.want(secret, http.StatusOK)
	is.True(strings.HasPrefix(secret.field("key"), "whsec_"))
	rotated := h.do("POST", "/portal/v1/endpoints/"+id+"/secret/rotate", auth, nil)
	h.want(rotated, http.StatusOK)
	is.True(rotated.field("key") != secret.field("key"))
	h.want(h.do("GET", "/portal/v1/endpoints/"+id+"/deliveries", auth, nil), http.StatusOK)
	h.want(h.do("GET", "/portal/v1/endpoints/"+id+"/health", auth, nil), http.StatusOK)

	// Mistakes name their field, and write nothing.
	h.want(h.do("POST", "/portal/v1/endpoints", auth, map[string]any{"url": "https://a.example/", "applicationId": app}), http.StatusBadRequest, "invalid", "applicationId")
	h.want(h.do("POST", "/portal/v1/endpoints", auth, map[string]any{"url": "https://a.example/", "eventTypes": []string{"internal.audit"}}), http.StatusBadRequest, "invalid", "eventTypes[0]")
	h.want(h.do("POST", "/portal/v1/endpoints", auth, map[string]any{"url": "http://10.0.0.1/"}), http.StatusBadRequest, "invalid", "url")
	list := h.do("GET", "/portal/v1/endpoints", auth, nil)
	is.Equal(len(list.body.(map[string]any)["data"].([]any)), 1)

	h.want(h.do("DELETE", "/portal/v1/endpoints/"+id, auth, nil), http.StatusNoContent)
	h.want(h.do("GET", "/portal/v1/endpoints/"+id, auth, nil), http.StatusNotFound, "not_found")

	// Signing out ends the session.
	h.want(h.do("DELETE", "/portal/v1/session", auth, nil), http.StatusNoContent)
	h.want(h.do("GET", "/portal/v1/endpoints", auth, nil), http.StatusUnauthorized, "unauthorized")
}

// TestPortalIsolation: a token of application A never sees or touches an
// endpoint of application B, of A in another environment, of no
// application, or of another workspace, on any portal route; it is a 404
// that reveals nothing, and the endpoint is left as it was.
func TestPortalIsolation(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	m := h.mgmtPath
	appA := h.do("POST", m("/applications"), h.mgmt, map[string]string{"name": "Acme"}).field("id")
	appB := h.do("POST", m("/applications"), h.mgmt, map[string]string{"name": "Globex"}).field("id")
	staging := h.do("POST", m("/environments"), h.mgmt, map[string]string{"name": "Staging", "slug": "staging"}).field("id")
	mine := h.do("POST", m("/applications/"+appA+"/endpoints"), h.mgmt, map[string]string{"url": "https://acme.example/mine"}).field("id")
	others := map[string]string{
		"application B":  h.do("POST", m("/applications/"+appB+"/endpoints"), h.mgmt, map[string]string{"url": "https://globex.example/b"}).field("id"),
		"A in staging":   h.do("POST", m("/applications/"+appA+"/endpoints"), h.mgmt, map[string]string{"url": "https://globex.example/staging", "environmentId": staging}).field("id"),
		"no application": h.do("POST", m("/endpoints"), h.mgmt, map[string]string{"url": "https://globex.example/none"}).field("id"),
		"another workspace": func() string {
			ws, key := h.workspace()
			p := "/management/v1/workspaces/" + string(ws)
			app := h.do("POST", p+"/applications", key, map[string]string{"name": "Acme"}).field("id")
			return h.do("POST", p+"/applications/"+app+"/endpoints", key, map[string]string{"url": "https://globex.example/ws"}).field("id")
		}(),
	}
	tokenA := "Bearer " + h.portalSession(appA).Token
	tokenB := "Bearer " + h.portalSession(appB).Token

	// Every route that names an endpoint, with each endpoint out of scope.
	for what, id := range others {
		before, err := h.nh.Endpoints.Get(ctx, mustEndpointWorkspace(t, h, id), nahook.EndpointID(id))
		if err != nil {
			t.Fatal(err)
		}
		for _, rt := range portalRoutes {
			if !strings.Contains(rt.path, "{endpointId}") {
				continue
			}
			var body any
			if rt.method == "PATCH" {
				body = map[string]any{"url": "https://stolen.example/", "disabled": true}
			}
			res := h.do(rt.method, portalPrefix+strings.ReplaceAll(rt.path, "{endpointId}", id), tokenA, body)
			if res.status != http.StatusNotFound || res.errorCode() != "not_found" {
				t.Fatalf("%s %s with %s's endpoint: %d %s, want 404", rt.method, rt.path, what, res.status, res.raw)
			}
			if strings.Contains(string(res.raw), "globex") {
				t.Fatalf("%s %s: a 404 reveals the endpoint: %s", rt.method, rt.path, res.raw)
			}
		}
		after, err := h.nh.Endpoints.Get(ctx, before.WorkspaceID, before.ID)
		if err != nil {
			t.Fatalf("%s's endpoint is gone: %v", what, err)
		}
		if after.URL != before.URL || after.Disabled != before.Disabled || !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Fatalf("%s's endpoint changed: %+v, was %+v", what, after, before)
		}
	}

	// Lists show only A's endpoint in production.
	list := h.do("GET", "/portal/v1/endpoints", tokenA, nil)
	h.want(list, http.StatusOK)
	data := list.body.(map[string]any)["data"].([]any)
	if len(data) != 1 || data[0].(map[string]any)["id"] != mine {
		t.Fatalf("A's list: %s, want only %s", list.raw, mine)
	}
	if strings.Contains(string(list.raw), "globex") {
		t.Fatalf("A's list shows another's endpoint: %s", list.raw)
	}
	// And B sees nothing of A.
	res := h.do("GET", "/portal/v1/endpoints/"+mine, tokenB, nil)
	h.want(res, http.StatusNotFound, "not_found")
	listB := h.do("GET", "/portal/v1/endpoints", tokenB, nil)
	if strings.Contains(string(listB.raw), mine) {
		t.Fatalf("B's list shows A's endpoint: %s", listB.raw)
	}
}

// mustEndpointWorkspace finds which workspace an endpoint is in.
func mustEndpointWorkspace(t *testing.T, h *harness, id string) nahook.WorkspaceID {
	t.Helper()
	ctx := context.Background()
	page, err := h.nh.Workspaces.List(ctx, nahook.ListOptions{Limit: nahook.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, ws := range page.Items {
		if _, err := h.nh.Endpoints.Get(ctx, ws.ID, nahook.EndpointID(id)); err == nil {
			return ws.ID
		}
	}
	t.Fatalf("endpoint %s is in no workspace", id)
	return ""
}

// TestPortalAuthentication: only a live portal session token opens the
// portal API, and it opens nothing else.
func TestPortalAuthentication(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	app := h.do("POST", h.mgmtPath("/applications"), h.mgmt, map[string]string{"name": "Acme"}).field("id")
	live := h.portalSession(app)
	short, err := h.nh.PortalSessions.Create(ctx, h.ws, nahook.PortalSessionInput{ApplicationID: nahook.ApplicationID(app), ExpiresIn: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	revoked := h.portalSession(app)
	if _, err := h.nh.PortalSessions.Revoke(ctx, h.ws, revoked.ID); err != nil {
		t.Fatal(err)
	}
	envKey, err := h.nh.APIKeys.Create(ctx, h.ws, nahook.APIKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // short has expired
	for _, auth := range []string{"", "Bearer", "Bearer nhp_", "Basic " + live.Token, "Bearer " + live.Token + "x",
		"Bearer " + short.Token, "Bearer " + revoked.Token, h.mgmt, "Bearer " + envKey.Plaintext} {
		for _, rt := range portalRoutes {
			path := portalPrefix + strings.ReplaceAll(rt.path, "{endpointId}", "ep_01kaaaaaaaaaaaaaaaaaaaaaaa")
			h.want(h.do(rt.method, path, auth, nil), http.StatusUnauthorized, "unauthorized")
		}
	}
	// A portal token is no management key.
	res := h.do("GET", h.mgmtPath("/applications"), "Bearer "+live.Token, nil)
	h.want(res, http.StatusUnauthorized, "unauthorized")
	h.want(h.do("GET", "/portal/v1/session", "Bearer "+live.Token, nil), http.StatusOK)
}

// TestPortalPage: the page and its assets are served from the binary,
// with headers that keep the token to the page, and load nothing from
// elsewhere.
func TestPortalPage(t *testing.T) {
	is := is.New(t)
	page := PortalPage("")
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		page.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec
	}
	html := get("/portal/")
	is.Equal(html.Code, http.StatusOK)
	is.Equal(html.Header().Get("Content-Type"), "text/html; charset=utf-8")
	is.True(strings.Contains(html.Body.String(), `<meta name="nahook-api" content="/portal/v1">`))
	is.True(strings.Contains(html.Header().Get("Content-Security-Policy"), "script-src 'self'"))
	is.Equal(html.Header().Get("Referrer-Policy"), "no-referrer")
	for _, asset := range []string{"/portal/common.js", "/portal/portal.js", "/portal/portal.css"} {
		res := get(asset)
		is.Equal(res.Code, http.StatusOK)
		is.True(!regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/`).MatchString(res.Body.String())) // no CDN
	}
	for _, script := range []string{"/portal/common.js", "/portal/portal.js"} {
		is.Equal(get(script).Header().Get("Content-Type"), "text/javascript; charset=utf-8")
		is.True(strings.Contains(get(script).Body.String(), "textContent")) // API data goes in as text
		is.True(!strings.Contains(get(script).Body.String(), "innerHTML"))  // never as HTML
	}
	// The shared script loads first; the shared recovery forms are drawn
	// with the portal's own words.
	is.True(strings.Contains(html.Body.String(), `<script src="common.js" defer></script>
<script src="portal.js" defer></script>`))
	is.True(strings.Contains(html.Body.String(), `<template id="recovery-template">`))
	is.True(strings.Contains(html.Body.String(), "failed, once your endpoint is back up.</p>"))
	is.Equal(get("/portal/secrets.txt").Code, http.StatusNotFound)
	is.Equal(get("/portal/templates.html").Code, http.StatusNotFound) // parsed into the page, not served
	is.Equal(get("/portal/dashboard.js").Code, http.StatusNotFound)
	is.True(strings.Contains(bodyOf(PortalPage("/custom/api"), "/x/"), `content="/custom/api"`)) // mounted elsewhere
}

// TestDashboardPage: the dashboard and its assets are served from the
// binary like the portal's, with the same headers, the portal's look as
// its base, and nothing from elsewhere.
func TestDashboardPage(t *testing.T) {
	is := is.New(t)
	page := DashboardPage("")
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		page.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec
	}
	html := get("/dashboard/")
	is.Equal(html.Code, http.StatusOK)
	is.Equal(html.Header().Get("Content-Type"), "text/html; charset=utf-8")
	is.True(strings.Contains(html.Body.String(), `<meta name="nahook-api" content="/api/workspaces">`))
	is.Equal(html.Header().Get("Content-Security-Policy"), served(PortalPage(""), "/portal/").Header().Get("Content-Security-Policy"))
	is.True(strings.Contains(html.Header().Get("Content-Security-Policy"), "script-src 'self'"))
	is.Equal(html.Header().Get("Referrer-Policy"), "no-referrer")
	for _, asset := range []string{"/dashboard/common.js", "/dashboard/dashboard.js", "/dashboard/dashboard.css", "/dashboard/base.css"} {
		res := get(asset)
		is.Equal(res.Code, http.StatusOK)
		is.True(!regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/`).MatchString(res.Body.String())) // no CDN
	}
	is.Equal(get("/dashboard/dashboard.js").Header().Get("Content-Type"), "text/javascript; charset=utf-8")
	is.Equal(get("/dashboard/common.js").Header().Get("Content-Type"), "text/javascript; charset=utf-8")
	is.Equal(get("/dashboard/common.js").Body.String(), bodyOf(PortalPage(""), "/portal/common.js")) // the portal's helpers
	is.True(strings.Contains(html.Body.String(), `<script src="common.js" defer></script>
<script src="dashboard.js" defer></script>`))
	is.True(strings.Contains(html.Body.String(), `<template id="recovery-template">`))
	is.True(strings.Contains(html.Body.String(), "made in a period that failed.</p>"))
	is.Equal(get("/dashboard/base.css").Body.String(), bodyOf(PortalPage(""), "/portal/portal.css")) // the portal's look
	js := get("/dashboard/dashboard.js").Body.String()
	is.True(strings.Contains(js, "textContent")) // API data goes in as text
	is.True(!strings.Contains(js, "innerHTML"))  // never as HTML
	is.Equal(get("/dashboard/portal.js").Code, http.StatusNotFound)
	is.Equal(get("/dashboard/templates.html").Code, http.StatusNotFound)
	rec := httptest.NewRecorder()
	page.ServeHTTP(rec, httptest.NewRequest("POST", "/dashboard/", nil))
	is.Equal(rec.Code, http.StatusNotFound)
	is.True(strings.Contains(bodyOf(DashboardPage("/custom/api"), "/x/"), `content="/custom/api"`)) // mounted elsewhere
}

func bodyOf(h http.Handler, path string) string {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Body.String()
}

// TestIngestForApplication: an event ingested with ?applicationId= reaches
// that customer's endpoints only, even when another customer subscribed
// to everything from the portal.
func TestIngestForApplication(t *testing.T) {
	is := is.New(t)
	h := newHarness(t, Config{})
	m := h.mgmtPath
	acme := h.do("POST", m("/applications"), h.mgmt, map[string]string{"name": "Acme"}).field("id")
	globex := h.do("POST", m("/applications"), h.mgmt, map[string]string{"name": "Globex"}).field("id")
	et := h.do("POST", m("/event-types"), h.mgmt, map[string]string{"name": "invoice.paid"}).field("id")
	env := h.do("GET", m("/environments"), h.mgmt, nil).body.(map[string]any)["data"].([]any)[0].(map[string]any)["id"].(string)
	h.want(h.do("PUT", m("/environments/"+env+"/event-types/"+et+"/visibility"), h.mgmt, map[string]bool{"published": true}), http.StatusOK)
	acmeEP := h.do("POST", m("/applications/"+acme+"/endpoints"), h.mgmt, map[string]any{"url": "https://acme.example/", "eventTypes": []string{"invoice.paid"}}).field("id")
	globexAuth := "Bearer " + h.portalSession(globex).Token
	greedy := h.do("POST", "/portal/v1/endpoints", globexAuth, map[string]any{"url": "https://globex.example/all", "eventTypes": []string{"*"}}).field("id")
	key := "Bearer " + h.do("POST", m("/api-keys"), h.mgmt, map[string]string{}).field("key")

	res := h.do("POST", "/api/ingest/event/invoice.paid?applicationId="+acme, key, `{"amount": 42}`)
	h.want(res, http.StatusAccepted)
	ds := res.body.(map[string]any)["deliveries"].([]any)
	is.Equal(len(ds), 1)
	is.Equal(ds[0].(map[string]any)["endpointId"], acmeEP)
	seen := h.do("GET", "/portal/v1/endpoints/"+greedy+"/deliveries", globexAuth, nil)
	is.Equal(len(seen.body.(map[string]any)["data"].([]any)), 0) // Globex saw nothing of Acme's

	h.want(h.do("POST", "/api/ingest/event/invoice.paid?applicationId=app_01kaaaaaaaaaaaaaaaaaaaaaaa", key, `{}`), http.StatusNotFound, "not_found", "applicationId")
	h.want(h.do("POST", "/api/ingest/event/invoice.paid?applicationId=acme", key, `{}`), http.StatusBadRequest, "invalid", "applicationId")
	h.want(h.do("POST", "/api/ingest/"+greedy+"?applicationId="+acme, key, `{}`), http.StatusNotFound, "not_found", "applicationId")

	// Without it, the event is for no application: isolation keeps it from
	// both customers' endpoints (it is stored, with no delivery).
	none := h.do("POST", "/api/ingest/event/invoice.paid", key, `{}`)
	h.want(none, http.StatusAccepted)
	is.Equal(len(none.body.(map[string]any)["deliveries"].([]any)), 0)
	// The status filter of the portal's delivery list.
	failed := h.do("GET", "/portal/v1/endpoints/"+greedy+"/deliveries?status=failed", globexAuth, nil)
	h.want(failed, http.StatusOK)
	is.Equal(len(failed.body.(map[string]any)["data"].([]any)), 0)
	h.want(h.do("GET", "/portal/v1/endpoints/"+greedy+"/deliveries?status=lost", globexAuth, nil), http.StatusBadRequest, "invalid", "status")
}

// TestPortalEndpointLimit: past the limit, adding an endpoint is a 409
// the page can show, and nothing is written.
func TestPortalEndpointLimit(t *testing.T) {
	is := is.New(t)
	h := newHarness(t, Config{})
	app := h.do("POST", h.mgmtPath("/applications"), h.mgmt, map[string]string{"name": "Acme"}).field("id")
	auth := "Bearer " + h.portalSession(app).Token
	for range nahook.DefaultPortalMaxEndpoints {
		h.want(h.do("POST", "/portal/v1/endpoints", auth, map[string]string{"url": "https://acme.example/"}), http.StatusCreated)
	}
	h.want(h.do("POST", "/portal/v1/endpoints", auth, map[string]string{"url": "https://acme.example/"}), http.StatusConflict, "limit_exceeded")
	list := h.do("GET", "/portal/v1/endpoints?limit=250", auth, nil)
	is.Equal(len(list.body.(map[string]any)["data"].([]any)), nahook.DefaultPortalMaxEndpoints)
}

// served is what h answers a GET of path.
func served(h http.Handler, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec
}
