package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
	"github.com/nahook/nahook/store/postgres"
	"github.com/nahook/nahook/store/sqlite"
)

// harness is an API on a fresh in-memory store with one workspace, its
// management key and a dashboard session. Every response it sees is
// checked against the OpenAPI document.
type harness struct {
	t    *testing.T
	api  *api
	nh   *nahook.Client
	st   store.Store
	doc  *openAPIDoc
	ws   nahook.WorkspaceID
	mgmt string // Authorization header values
	dash string
	// unavailable: the store cannot be reached, so 503 is the right answer
	// rather than a failure of the API.
	unavailable bool
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	nh, err := nahook.New(st, nahook.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		nh.Close()
		st.Close()
	})
	h := &harness{t: t, nh: nh, st: st}
	h.ws, h.mgmt = h.workspace()
	h.dash = "Bearer session-" + string(h.ws)
	cfg.Client = nh
	if cfg.Dashboard == nil {
		cfg.Dashboard = func(r *http.Request, ws nahook.WorkspaceID) error {
			token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer session-")
			switch {
			case !ok:
				return nahook.ErrUnauthorized
			case token != string(ws):
				return nahook.ErrNotFound
			}
			return nil
		}
	}
	cfg.Logger = slog.New(slog.DiscardHandler)
	handler, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.api = handler.(*api)
	if h.doc, err = loadOpenAPI(); err != nil {
		t.Fatal(err)
	}
	return h
}

// workspace makes a workspace and returns it with a management key's
// Authorization header.
func (h *harness) workspace() (nahook.WorkspaceID, string) {
	ctx := context.Background()
	ws, err := h.nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme SaaS"})
	if err != nil {
		h.t.Fatal(err)
	}
	k, err := h.nh.APIKeys.CreateManagement(ctx, ws.ID, "ci")
	if err != nil {
		h.t.Fatal(err)
	}
	return ws.ID, "Bearer " + k.Plaintext
}

// response is an answer of the API, its body decoded.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   any
}

// field returns a top-level string field of an object body.
func (r response) field(name string) string {
	m, _ := r.body.(map[string]any)
	s, _ := m[name].(string)
	return s
}

// errorCode and errorField read an error body.
func (r response) errorCode() string  { return r.errorPart("code") }
func (r response) errorField() string { return r.errorPart("field") }
func (r response) errorPart(name string) string {
	m, _ := r.body.(map[string]any)
	e, _ := m["error"].(map[string]any)
	s, _ := e[name].(string)
	return s
}

// do sends a request: body is sent as is when a string, as JSON otherwise;
// headers are name, value pairs. The answer must be documented for the
// route, in status and shape.
func (h *harness) do(method, path, auth string, body any, headers ...string) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.api.ServeHTTP(rec, req)
	res := response{status: rec.Code, header: rec.Header(), raw: rec.Body.Bytes()}
	if len(res.raw) > 0 {
		if err := json.Unmarshal(res.raw, &res.body); err != nil {
			h.t.Fatalf("%s %s: %d with a body that is not JSON: %q", method, path, res.status, res.raw)
		}
	}
	if res.status >= 500 && !(h.unavailable && res.status == http.StatusServiceUnavailable) {
		h.t.Fatalf("%s %s: %d %s", method, path, res.status, res.raw)
	}
	h.conforms(req, res, body)
	return res
}

// conforms fails the test unless the response is what the OpenAPI
// document says the route answers, and, when the request succeeded, its
// body is one the document describes: the document may refuse nothing the
// API accepts.
func (h *harness) conforms(req *http.Request, res response, body any) {
	h.t.Helper()
	_, pattern := h.api.mux.Handler(req)
	if pattern == "" {
		if res.errorCode() != "not_found" && res.errorCode() != "method_not_allowed" {
			h.t.Fatalf("%s %s: no route, but answered %d %s", req.Method, req.URL.Path, res.status, res.raw)
		}
		return
	}
	method, path, _ := strings.Cut(pattern, " ")
	s, ok, err := h.doc.responseSchema(method, path, res.status)
	if err != nil {
		h.t.Fatalf("%s: %v", pattern, err)
	}
	if !ok {
		h.t.Fatalf("%s answered %d, which the OpenAPI document does not list: %s", pattern, res.status, res.raw)
	}
	// Every query parameter the request carries is documented for the
	// route, and one the API accepted is one the document allows.
	params, err := h.doc.queryParameters(method, path)
	if err != nil {
		h.t.Fatalf("%s: %v", pattern, err)
	}
	for name, values := range req.URL.Query() {
		ps, ok := params[name]
		if !ok {
			h.t.Fatalf("%s was sent query parameter %q, which the OpenAPI document does not list", pattern, name)
		}
		if res.status >= 300 {
			continue
		}
		for _, v := range values {
			if errs := h.doc.validate(ps, queryValue(ps, v), "query."+name); len(errs) > 0 {
				h.t.Fatalf("%s accepted a query the OpenAPI document refuses:\n%s", pattern, strings.Join(errs, "\n"))
			}
		}
	}
	if res.status < 300 && body != nil {
		if rs, ok, err := h.doc.requestSchema(method, path); err == nil && ok && len(rs.Properties)+len(rs.Ref) > 0 {
			var sent any
			raw, _ := body.(string)
			if raw == "" {
				b, _ := json.Marshal(body)
				raw = string(b)
			}
			if err := json.Unmarshal([]byte(raw), &sent); err == nil {
				if errs := h.doc.validate(rs, sent, "request"); len(errs) > 0 {
					h.t.Fatalf("%s accepted a body the OpenAPI document refuses:\n%s\n%s", pattern, strings.Join(errs, "\n"), raw)
				}
			}
		}
	}
	if res.status == http.StatusNoContent {
		if len(res.raw) > 0 {
			h.t.Fatalf("%s answered 204 with a body", pattern)
		}
		return
	}
	if errs := h.doc.validate(s, res.body, "body"); len(errs) > 0 {
		h.t.Fatalf("%s answered %d with a body the OpenAPI document does not describe:\n%s\n%s", pattern, res.status, strings.Join(errs, "\n"), res.raw)
	}
}

// want fails the test unless the response has the status, and for an
// error, the code and field.
func (h *harness) want(res response, status int, codeAndField ...string) {
	h.t.Helper()
	if res.status != status {
		h.t.Fatalf("status %d, want %d: %s", res.status, status, res.raw)
	}
	if len(codeAndField) > 0 && res.errorCode() != codeAndField[0] {
		h.t.Fatalf("error code %q, want %q: %s", res.errorCode(), codeAndField[0], res.raw)
	}
	if len(codeAndField) > 1 && res.errorField() != codeAndField[1] {
		h.t.Fatalf("error field %q, want %q: %s", res.errorField(), codeAndField[1], res.raw)
	}
}

// viaAPIs runs fn twice, each time on a fresh harness: through the
// management API, then through the dashboard's, with the path builder
// and Authorization header of the one it goes through.
func viaAPIs(t *testing.T, fn func(t *testing.T, h *harness, p func(string) string, auth string)) {
	t.Run("management", func(t *testing.T) {
		h := newHarness(t, Config{})
		fn(t, h, h.mgmtPath, h.mgmt)
	})
	t.Run("dashboard", func(t *testing.T) {
		h := newHarness(t, Config{})
		fn(t, h, h.dashPath, h.dash)
	})
}

func (h *harness) mgmtPath(p string) string { return "/management/v1/workspaces/" + string(h.ws) + p }
func (h *harness) dashPath(p string) string { return "/api/workspaces/" + string(h.ws) + p }

// TestEveryRoute walks every workspace route, through the management API
// and the dashboard API alike, checking each answer against the OpenAPI
// document.
func TestEveryRoute(t *testing.T) {
	viaAPIs(t, func(t *testing.T, h *harness, p func(string) string, auth string) {
		is := is.New(t)
		created := func(path string, body any) response {
			t.Helper()
			res := h.do("POST", p(path), auth, body)
			h.want(res, http.StatusCreated)
			return res
		}

		app := created("/applications", map[string]any{"externalId": "cust_123", "name": "Acme Corp", "metadata": map[string]string{"plan": "enterprise"}})
		appID := app.field("id")
		is.Equal(app.body.(map[string]any)["metadata"], map[string]any{"plan": "enterprise"})
		h.want(h.do("GET", p("/applications"), auth, nil), http.StatusOK)
		found := h.do("GET", p("/applications?externalId=cust_123"), auth, nil)
		is.Equal(len(found.body.(map[string]any)["data"].([]any)), 1)
		h.want(h.do("POST", p("/applications"), auth, `{"name": "No extras", "externalId": null, "metadata": null}`), http.StatusCreated) // null is leaving it out
		none := h.do("GET", p("/applications?externalId=cust_999"), auth, nil)
		is.Equal(len(none.body.(map[string]any)["data"].([]any)), 0)
		h.want(h.do("GET", p("/applications/"+appID), auth, nil), http.StatusOK)
		patched := h.do("PATCH", p("/applications/"+appID), auth, map[string]any{"externalId": nil, "metadata": map[string]string{}})
		h.want(patched, http.StatusOK)
		is.Equal(patched.body.(map[string]any)["externalId"], nil) // null removes it

		env := created("/environments", map[string]string{"name": "Staging", "slug": "staging"})
		envID := env.field("id")
		h.want(h.do("GET", p("/environments"), auth, nil), http.StatusOK)
		h.want(h.do("GET", p("/environments/"+envID), auth, nil), http.StatusOK)
		h.want(h.do("PATCH", p("/environments/"+envID), auth, map[string]string{"name": "Stage"}), http.StatusOK)

		et := created("/event-types", map[string]string{"name": "order.created", "description": "An order was placed."})
		etID := et.field("id")
		h.want(h.do("GET", p("/event-types"), auth, nil), http.StatusOK)
		h.want(h.do("GET", p("/event-types/"+etID), auth, nil), http.StatusOK)
		h.want(h.do("PATCH", p("/event-types/"+etID), auth, map[string]any{"description": nil}), http.StatusOK)
		vis := h.do("PUT", p("/environments/"+envID+"/event-types/"+etID+"/visibility"), auth, map[string]bool{"published": true})
		h.want(vis, http.StatusOK)
		is.Equal(vis.body, map[string]any{"eventTypeId": etID, "eventTypeName": "order.created", "published": true})
		list := h.do("GET", p("/environments/"+envID+"/event-types"), auth, nil)
		h.want(list, http.StatusOK)
		is.Equal(list.body, []any{map[string]any{"eventTypeId": etID, "eventTypeName": "order.created", "published": true}}) // the seed's bare array

		ep := created("/applications/"+appID+"/endpoints", map[string]any{"url": "https://acme.com/webhooks", "description": "Production webhook"})
		epID := ep.field("id")
		is.Equal(ep.field("applicationId"), appID)
		h.want(h.do("GET", p("/applications/"+appID+"/endpoints"), auth, nil), http.StatusOK)
		ep2 := created("/endpoints", map[string]any{"url": "https://acme.com/staging", "environmentId": envID, "eventTypes": []string{"order.*"}})
		h.want(h.do("GET", p("/endpoints?environmentId="+envID), auth, nil), http.StatusOK)
		h.want(h.do("GET", p("/endpoints/"+epID), auth, nil), http.StatusOK)
		h.want(h.do("PATCH", p("/endpoints/"+ep2.field("id")), auth, map[string]any{"disabled": true, "eventTypes": nil}), http.StatusOK)

		key := created("/api-keys", map[string]string{"environmentId": envID, "name": "backend"})
		is.True(strings.HasPrefix(key.field("key"), "nhk_"))
		is.Equal(key.header.Get("Cache-Control"), "no-store")
		keys := h.do("GET", p("/api-keys"), auth, nil)
		h.want(keys, http.StatusOK)
		is.True(!strings.Contains(string(keys.raw), key.field("key"))) // never the plaintext again
		h.want(h.do("DELETE", p("/api-keys/"+key.field("id")), auth, nil), http.StatusNoContent)

		secret := h.do("GET", p("/endpoints/"+epID+"/secret"), auth, nil)
		h.want(secret, http.StatusOK)
		rotated := h.do("POST", p("/endpoints/"+epID+"/secret/rotate"), auth, nil)
		h.want(rotated, http.StatusOK)
		is.True(rotated.field("key") != secret.field("key"))
		is.Equal(h.do("GET", p("/endpoints/"+epID+"/secret"), auth, nil).field("key"), rotated.field("key"))
		h.want(h.do("GET", p("/endpoints/"+epID+"/deliveries"), auth, nil), http.StatusOK)
		h.want(h.do("GET", p("/endpoints/"+epID+"/health"), auth, nil), http.StatusOK)
		h.want(h.do("GET", p("/deliveries/dlv_01kaaaaaaaaaaaaaaaaaaaaaaa"), auth, nil), http.StatusNotFound, "not_found")
		h.want(h.do("POST", p("/deliveries/dlv_01kaaaaaaaaaaaaaaaaaaaaaaa/retry"), auth, nil), http.StatusNotFound, "not_found")

		session := created("/portal-sessions", map[string]any{"applicationId": appID, "environmentId": envID, "expiresIn": 600})
		is.True(strings.HasPrefix(session.field("token"), "nhp_"))
		is.Equal(session.header.Get("Cache-Control"), "no-store")
		sessions := h.do("GET", p("/applications/"+appID+"/portal-sessions"), auth, nil)
		h.want(sessions, http.StatusOK)
		is.True(!strings.Contains(string(sessions.raw), session.field("token"))) // never the token again
		h.want(h.do("DELETE", p("/portal-sessions/"+session.field("id")), auth, nil), http.StatusNoContent)
		created("/portal-sessions", map[string]any{"applicationId": appID})
		revoked := h.do("DELETE", p("/applications/"+appID+"/portal-sessions"), auth, nil)
		h.want(revoked, http.StatusOK)
		is.Equal(revoked.body, map[string]any{"revoked": 1.0})

		h.want(h.do("DELETE", p("/endpoints/"+epID), auth, nil), http.StatusNoContent)
		h.want(h.do("DELETE", p("/event-types/"+etID), auth, nil), http.StatusNoContent)
		h.want(h.do("DELETE", p("/applications/"+appID), auth, nil), http.StatusNoContent)
		h.want(h.do("DELETE", p("/environments/"+envID), auth, nil), http.StatusNoContent)
		h.want(h.do("GET", p("/environments/"+envID), auth, nil), http.StatusNotFound, "not_found")
	})
}

// The seed's routing example, through the ingest routes.
func TestIngest(t *testing.T) {
	is := is.New(t)
	h := newHarness(t, Config{MaxBodyBytes: 4096})
	p, auth := h.mgmtPath, h.mgmt
	prod := h.do("GET", p("/environments"), auth, nil).body.(map[string]any)["data"].([]any)[0].(map[string]any)["id"].(string)
	staging := h.do("POST", p("/environments"), auth, map[string]string{"name": "Staging", "slug": "staging"}).field("id")
	et := h.do("POST", p("/event-types"), auth, map[string]string{"name": "order.created"}).field("id")
	h.do("POST", p("/event-types"), auth, map[string]string{"name": "order.refunded"})
	h.want(h.do("PUT", p("/environments/"+staging+"/event-types/"+et+"/visibility"), auth, map[string]bool{"published": true}), http.StatusOK)
	endpoint := func(env string, subs ...string) string {
		return h.do("POST", p("/endpoints"), auth, map[string]any{"url": "https://example.com/" + env, "environmentId": env, "eventTypes": subs}).field("id")
	}
	a := endpoint(staging, "order.created")
	b := endpoint(prod, "order.created")
	c := endpoint(staging, "order.refunded")
	key := "Bearer " + h.do("POST", p("/api-keys"), auth, map[string]string{"environmentId": staging}).field("key")

	res := h.do("POST", "/api/ingest/event/order.created", key, `{"orderId": "o_1", "total": 42}`)
	h.want(res, http.StatusAccepted)
	is.True(strings.HasPrefix(res.field("eventId"), "msg_"))
	deliveries := res.body.(map[string]any)["deliveries"].([]any)
	is.Equal(len(deliveries), 1)
	is.Equal(deliveries[0].(map[string]any)["endpointId"], a) // A only: not B (production), not C (not subscribed)
	dlv := deliveries[0].(map[string]any)["id"].(string)

	// The delivery is in the outbox, pending, with the event as sent.
	detail := h.do("GET", p("/deliveries/"+dlv), auth, nil)
	h.want(detail, http.StatusOK)
	is.Equal(detail.field("status"), "pending")
	is.Equal(detail.body.(map[string]any)["event"].(map[string]any)["payload"], map[string]any{"orderId": "o_1", "total": float64(42)})
	h.want(h.do("POST", p("/deliveries/"+dlv+"/retry"), auth, nil), http.StatusConflict, "conflict") // only a failed one
	list := h.do("GET", p("/endpoints/"+a+"/deliveries?status=pending"), auth, nil)
	h.want(list, http.StatusOK)
	is.Equal(len(list.body.(map[string]any)["data"].([]any)), 1)
	h.want(h.do("GET", p("/endpoints/"+a+"/deliveries?status=lost"), auth, nil), http.StatusBadRequest, "invalid", "status")

	// Idempotency: a repeat answers as the first did and stores nothing;
	// the key reused for another request is 422 and stores nothing either.
	first := h.do("POST", "/api/ingest/event/order.created", key, `{"n": 1}`, "Idempotency-Key", "order-77")
	h.want(first, http.StatusAccepted)
	is.Equal(first.header.Get("Idempotent-Replayed"), "")
	again := h.do("POST", "/api/ingest/event/order.created", key, `{"n": 1}`, "Idempotency-Key", "order-77")
	h.want(again, http.StatusAccepted)
	is.Equal(again.header.Get("Idempotent-Replayed"), "true")
	is.Equal(again.body, first.body)
	h.want(h.do("POST", "/api/ingest/event/order.created", key, `{"n": 2}`, "Idempotency-Key", "order-77"),
		http.StatusUnprocessableEntity, "idempotency_key_reused", "Idempotency-Key") // another payload
	h.want(h.do("POST", "/api/ingest/"+a, key, `{"n": 1}`, "Idempotency-Key", "order-77"),
		http.StatusUnprocessableEntity, "idempotency_key_reused", "Idempotency-Key") // another target
	h.want(h.do("POST", "/api/ingest/event/order.created", key, `{}`, "Idempotency-Key", "has space"), http.StatusBadRequest, "invalid", "Idempotency-Key")
	outbox := h.do("GET", p("/endpoints/"+a+"/deliveries"), auth, nil)
	is.Equal(len(outbox.body.(map[string]any)["data"].([]any)), 2) // the first event's and order-77's: nothing from the refused

	// JSON is UTF-8: a payload or a field that is not is refused, naming it.
	h.want(h.do("POST", "/api/ingest/event/order.created", key, "{\"name\": \"caf\xe9\"}"), http.StatusBadRequest, "invalid", "body")
	h.want(h.do("POST", p("/applications"), auth, "{\"name\": \"caf\xe9\"}"), http.StatusBadRequest, "invalid", "name")
	h.want(h.do("POST", p("/applications"), auth, "{\"na\xffme\": \"x\"}"), http.StatusBadRequest, "invalid")

	h.want(h.do("POST", "/api/ingest/event/order.refunded", key, `{}`), http.StatusConflict, "not_published", "eventType")
	h.want(h.do("POST", "/api/ingest/event/order.lost", key, `{}`), http.StatusNotFound, "unknown_event_type", "eventType")
	h.want(h.do("POST", "/api/ingest/event/order.created", key, `{"unterminated": `), http.StatusBadRequest, "invalid", "body")
	h.want(h.do("POST", "/api/ingest/event/order.created", key, `{"big": "`+strings.Repeat("x", 5000)+`"}`), http.StatusRequestEntityTooLarge, "payload_too_large")
	h.want(h.do("POST", "/api/ingest/event/order.created", "", `{}`), http.StatusUnauthorized, "unauthorized")
	h.want(h.do("POST", "/api/ingest/event/order.created", "Bearer nhk_nope", `{}`), http.StatusUnauthorized, "unauthorized")
	h.want(h.do("POST", "/api/ingest/event/order.created", h.mgmt, `{}`), http.StatusForbidden, "forbidden")

	direct := h.do("POST", "/api/ingest/"+c, key, `[1, 2, 3]`)
	h.want(direct, http.StatusAccepted)
	is.Equal(direct.body.(map[string]any)["eventType"], nil)
	is.Equal(direct.body.(map[string]any)["deliveries"].([]any)[0].(map[string]any)["endpointId"], c)
	other := h.do("POST", "/api/ingest/"+b, key, `{}`)
	h.want(other, http.StatusNotFound, "not_found", "endpointId") // another environment's endpoint is not found
	is.True(!strings.Contains(string(other.raw), "environment"))
	missing := h.do("POST", "/api/ingest/ep_01kaaaaaaaaaaaaaaaaaaaaaaa", key, `{}`)
	h.want(missing, http.StatusNotFound, "not_found", "endpointId")
	// In the very words used for one that does not exist.
	is.Equal(strings.ReplaceAll(string(other.raw), b, "ep_01kaaaaaaaaaaaaaaaaaaaaaaa"), string(missing.raw))
}

// Hostile bodies are refused with 400 naming the field, or 413, and store
// nothing.
func TestHostileBodies(t *testing.T) {
	h := newHarness(t, Config{MaxBodyBytes: 2048})
	apps := h.mgmtPath("/applications")
	for _, c := range []struct {
		body, field string
	}{
		{``, "body"},
		{`   `, "body"},
		{`{`, "body"},
		{`{"name": "Acme",}`, "body"},
		{`[]`, "body"},
		{`"Acme"`, "body"},
		{`null`, "body"},
		{`{"Name": "Acme"}`, "Name"},
		{`{"name": "Acme", "name": "Again"}`, "name"},

		{`{"name": 5}`, "name"},
		{`{"name": "Acme", "plan": "pro"}`, "plan"},
		{`{"name": "Acme", "metadata": {"plan": 5}}`, "metadata"},
		{`{"name": "Acme", "metadata": ["plan"]}`, "metadata"},
		{`{"name": "Acme", "externalId": ""}`, "externalId"},
		{`{"name": "Acme", "externalId": "no spaces"}`, "externalId"},
		{`{"name": "Acme"} {"name": "Again"}`, "body"},
		{`{"name": "` + strings.Repeat("é", 257) + `"}`, "name"},
	} {
		res := h.do("POST", apps, h.mgmt, c.body)
		if res.status != http.StatusBadRequest || res.errorField() != c.field {
			t.Errorf("body %.40q: %d field %q, want 400 field %q: %s", c.body, res.status, res.errorField(), c.field, res.raw)
		}
	}
	h.want(h.do("POST", apps, h.mgmt, `{"name": "`+strings.Repeat("x", 3000)+`"}`), http.StatusRequestEntityTooLarge, "payload_too_large")
	h.want(h.do("POST", h.mgmtPath("/event-types"), h.mgmt, `{"name": "a.b", "description": "a\u0000b"}`), http.StatusBadRequest, "invalid", "description")
	h.want(h.do("POST", apps, h.mgmt, `{"name": "Acme", "metadata": {"k": "v\u0000"}}`), http.StatusBadRequest, "invalid", "metadata")

	// A body sent as anything but JSON is refused before it is read, so
	// that no cross-site form can reach a route.
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""} {
		req := httptest.NewRequest("POST", apps, strings.NewReader(`{"name": "Acme"}`))
		req.Header.Set("Authorization", h.mgmt)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		rec := httptest.NewRecorder()
		h.api.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnsupportedMediaType {
			t.Errorf("Content-Type %q: %d, want 415: %s", ct, rec.Code, rec.Body)
		}
	}
	// A body that breaks off is the client's mistake, not the server's.
	req := httptest.NewRequest("POST", apps, io.MultiReader(strings.NewReader(`{"name": "Ac`), errReader{}))
	req.Header.Set("Authorization", h.mgmt)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	rec := httptest.NewRecorder()
	h.api.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("a body that breaks off: %d, want 400: %s", rec.Code, rec.Body)
	}
	h.want(h.do("POST", h.mgmtPath("/endpoints"), h.mgmt, `{"url": "https://a.example/", "eventTypes": "order.created"}`), http.StatusBadRequest, "invalid", "eventTypes")
	h.want(h.do("POST", h.mgmtPath("/endpoints"), h.mgmt, `{"url": "https://a.example/", "disabled": "yes"}`), http.StatusBadRequest, "invalid", "disabled")
	h.want(h.do("POST", h.mgmtPath("/endpoints"), h.mgmt, `{"url": "http://169.254.169.254/"}`), http.StatusBadRequest, "invalid", "url")
	h.want(h.do("PATCH", h.mgmtPath("/applications/app_01kaaaaaaaaaaaaaaaaaaaaaaa"), h.mgmt, `{"name": null}`), http.StatusBadRequest, "invalid", "name")
	h.want(h.do("PUT", h.mgmtPath("/environments/env_01kaaaaaaaaaaaaaaaaaaaaaaa/event-types/evt_01kaaaaaaaaaaaaaaaaaaaaaaa/visibility"), h.mgmt, `{}`), http.StatusBadRequest, "invalid", "published")
	h.want(h.do("GET", apps+"?limit=251", h.mgmt, nil), http.StatusBadRequest, "invalid", "limit")
	h.want(h.do("GET", apps+"?limit=ten", h.mgmt, nil), http.StatusBadRequest, "invalid", "limit")
	h.want(h.do("GET", apps+"?cursor=forged", h.mgmt, nil), http.StatusBadRequest, "invalid", "cursor")

	list := h.do("GET", apps, h.mgmt, nil)
	if n := len(list.body.(map[string]any)["data"].([]any)); n != 0 {
		t.Fatalf("%d applications stored by refused requests", n)
	}
}

// A key or session of one workspace reaches nothing of another, and an ID
// of another workspace is not found through this one: 404, no data.
func TestIsolation(t *testing.T) {
	h := newHarness(t, Config{})
	otherWS, otherKey := h.workspace()
	other := func(p string) string { return "/management/v1/workspaces/" + string(otherWS) + p }
	app := h.do("POST", other("/applications"), otherKey, map[string]string{"name": "Globex", "externalId": "globex"}).field("id")
	env := h.do("POST", other("/environments"), otherKey, map[string]string{"name": "Staging", "slug": "staging"}).field("id")
	et := h.do("POST", other("/event-types"), otherKey, map[string]string{"name": "secret.event"}).field("id")
	ep := h.do("POST", other("/endpoints"), otherKey, map[string]string{"url": "https://globex.example/"}).field("id")
	key := h.do("POST", other("/api-keys"), otherKey, map[string]string{}).field("id")
	// What the other workspace holds; the IDs are the caller's own input
	// and may be echoed, its data may not.
	secrets := []string{"Globex", "globex", "secret.event", "globex.example"}
	check := func(res response) {
		t.Helper()
		if res.status != http.StatusNotFound {
			t.Fatalf("status %d, want 404: %s", res.status, res.raw)
		}
		for _, s := range secrets {
			if strings.Contains(string(res.raw), s) {
				t.Fatalf("a 404 reveals %q: %s", s, res.raw)
			}
		}
	}
	// This workspace's key and session on the other's paths.
	for _, path := range []string{"/applications", "/applications/" + app, "/environments/" + env, "/event-types", "/endpoints/" + ep, "/api-keys"} {
		check(h.do("GET", other(path), h.mgmt, nil))
		check(h.do("GET", "/api/workspaces/"+string(otherWS)+path, h.dash, nil))
	}
	check(h.do("POST", other("/applications"), h.mgmt, map[string]string{"name": "Intruder"}))
	// The other workspace's IDs on this workspace's paths.
	p := h.mgmtPath
	for _, path := range []string{"/applications/" + app, "/applications/" + app + "/endpoints", "/environments/" + env, "/environments/" + env + "/event-types", "/event-types/" + et, "/endpoints/" + ep} {
		check(h.do("GET", p(path), h.mgmt, nil))
	}
	check(h.do("GET", p("/endpoints/"+ep+"/secret"), h.mgmt, nil))
	check(h.do("POST", p("/endpoints/"+ep+"/secret/rotate"), h.mgmt, nil))
	check(h.do("GET", p("/endpoints/"+ep+"/deliveries"), h.mgmt, nil))
	check(h.do("DELETE", p("/api-keys/"+key), h.mgmt, nil))
	check(h.do("DELETE", p("/endpoints/"+ep), h.mgmt, nil))
	check(h.do("PATCH", p("/applications/"+app), h.mgmt, map[string]string{"name": "Mine"}))
	check(h.do("POST", p("/applications/"+app+"/endpoints"), h.mgmt, map[string]string{"url": "https://x.example/"}))
	check(h.do("PUT", p("/environments/"+env+"/event-types/"+et+"/visibility"), h.mgmt, map[string]bool{"published": true}))
	res := h.do("POST", p("/endpoints"), h.mgmt, map[string]string{"url": "https://x.example/", "environmentId": env})
	h.want(res, http.StatusNotFound, "not_found", "environmentId")
	// And everything of the other workspace is as it was.
	h.want(h.do("GET", other("/applications/"+app), otherKey, nil), http.StatusOK)
	h.want(h.do("GET", other("/endpoints/"+ep), otherKey, nil), http.StatusOK)
}

func TestAuthentication(t *testing.T) {
	h := newHarness(t, Config{})
	p := h.mgmtPath("/applications")
	h.want(h.do("GET", p, "", nil), http.StatusUnauthorized, "unauthorized")
	h.want(h.do("GET", p, "Basic dXNlcjpwYXNz", nil), http.StatusUnauthorized, "unauthorized")
	h.want(h.do("GET", p, "Bearer nhm_unknown", nil), http.StatusUnauthorized, "unauthorized")
	h.want(h.do("GET", p, h.dash, nil), http.StatusUnauthorized, "unauthorized") // a dashboard session is no management key
	envKey := h.do("POST", h.mgmtPath("/api-keys"), h.mgmt, map[string]string{}).field("key")
	h.want(h.do("GET", p, "Bearer "+envKey, nil), http.StatusForbidden, "forbidden")
	h.want(h.do("GET", h.dashPath("/applications"), h.mgmt, nil), http.StatusUnauthorized, "unauthorized") // nor the reverse
	h.want(h.do("GET", "/management/v1/workspaces/nonsense/applications", h.mgmt, nil), http.StatusNotFound, "not_found")

	ctx := context.Background()
	k, err := h.nh.APIKeys.CreateManagement(ctx, h.ws, "temporary")
	if err != nil {
		t.Fatal(err)
	}
	h.want(h.do("GET", p, "Bearer "+k.Plaintext, nil), http.StatusOK)
	if _, err := h.nh.APIKeys.Revoke(ctx, h.ws, k.ID); err != nil {
		t.Fatal(err)
	}
	h.want(h.do("GET", p, "Bearer "+k.Plaintext, nil), http.StatusUnauthorized, "unauthorized") // revoked at once

	h.want(h.do("GET", "/nowhere", "", nil), http.StatusNotFound, "not_found")
	noDashboard, err := New(Config{Client: h.nh, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	noDashboard.ServeHTTP(rec, httptest.NewRequest("GET", h.dashPath("/applications"), nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("without Config.Dashboard, the dashboard routes answer %d, want 404", rec.Code)
	}
	h.want(h.do("PUT", p, h.mgmt, nil), http.StatusMethodNotAllowed, "method_not_allowed")
}

// The OpenAPI document lists exactly the routes the handler serves, and
// every reference in it resolves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	is := is.New(t)
	h := newHarness(t, Config{})
	documented := map[string]bool{}
	for path, item := range h.doc.Paths {
		for method := range item {
			if method != "parameters" {
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	served := map[string]bool{}
	for _, rt := range workspaceRoutes {
		served[rt.method+" "+managementPrefix+rt.path] = true
		served[rt.method+" "+dashboardPrefix+rt.path] = true
	}
	for _, rt := range otherRoutes {
		served[rt.method+" "+rt.path] = true
	}
	for _, rt := range portalRoutes {
		served[rt.method+" "+portalPrefix+rt.path] = true
	}
	for route := range served {
		if !documented[route] {
			t.Errorf("%s is served but not documented", route)
		}
		// And it really is served: the mux knows the pattern.
		method, path, _ := strings.Cut(route, " ")
		concrete := strings.NewReplacer("{workspaceId}", string(h.ws), "{", "x", "}", "").Replace(path)
		if _, pattern := h.api.mux.Handler(httptest.NewRequest(method, concrete, nil)); pattern != route {
			t.Errorf("%s is not what the mux serves for %s %s (got %q)", route, method, concrete, pattern)
		}
	}
	for route := range documented {
		is.True(served[route]) // documented routes are served
	}
	refs := regexpRefs.FindAllStringSubmatch(string(openAPI), -1)
	var doc map[string]any
	is.NoErr(json.Unmarshal(openAPI, &doc))
	is.Equal(doc["openapi"], "3.1.0")
	for _, m := range refs {
		parts := strings.Split(m[1], "/")
		var node any = doc
		for _, part := range parts {
			node = node.(map[string]any)[part]
		}
		if node == nil {
			t.Errorf("$ref #/%s does not resolve", m[1])
		}
	}
	res := h.do("GET", "/openapi.json", "", nil)
	h.want(res, http.StatusOK)
	is.Equal(res.raw, openAPI)
}

var regexpRefs = mustCompile(`"\$ref": "#/([^"]+)"`)

// TestNeverAServerError throws mangled bodies and paths at every route:
// whatever a client sends, the answer is never a 5xx, and always documented.
func TestNeverAServerError(t *testing.T) {
	h := newHarness(t, Config{MaxBodyBytes: 4096})
	app := h.do("POST", h.mgmtPath("/applications"), h.mgmt, map[string]string{"name": "Acme"}).field("id")
	// The portal's own application, which no mangled route below deletes.
	portal := "Bearer " + h.portalSession(h.do("POST", h.mgmtPath("/applications"), h.mgmt, map[string]string{"name": "Portal"}).field("id")).Token
	bodies := []string{``, `{}`, `null`, `[]`, `{"name": null}`, `{"name": ""}`, `{"name": {}}`, `{"url": 1}`, `{"eventTypes": [1]}`,
		`{"eventTypes": [""]}`, `{"environmentId": "env_x"}`, `{"applicationId": "app_x"}`, `{"metadata": null}`, `{"published": "true"}`,
		`{"slug": "-"}`, `{"name": "x", "slug": "x"}`, `{"url": "https://a.example/", "environmentId": "` + app + `"}`, "\x00", `{"a":` + strings.Repeat("[", 5000)}
	ids := []string{app, "app_01kaaaaaaaaaaaaaaaaaaaaaaa", "x", "%00", strings.Repeat("a", 300)}
	for _, rt := range workspaceRoutes {
		for _, id := range ids {
			path := rt.path
			for _, name := range []string{"{appId}", "{envId}", "{eventTypeId}", "{endpointId}", "{keyId}", "{deliveryId}", "{sessionId}"} {
				path = strings.ReplaceAll(path, name, id)
			}
			for _, body := range bodies {
				for _, auth := range []struct{ prefix, header string }{{"/management/v1/workspaces/", h.mgmt}, {"/api/workspaces/", h.dash}} {
					h.do(rt.method, auth.prefix+string(h.ws)+path, auth.header, body) // fails the test on a 5xx or an undocumented answer
				}
			}
		}
	}
	for _, rt := range portalRoutes {
		for _, id := range ids {
			for _, body := range bodies {
				h.do(rt.method, portalPrefix+strings.ReplaceAll(rt.path, "{endpointId}", id), portal, body)
			}
		}
	}
	for _, body := range bodies {
		h.do("POST", "/api/ingest/event/order.created", h.mgmt, body)
		h.do("POST", "/api/ingest/event/"+fmt.Sprint(len(body)), "Bearer nhk_"+strings.Repeat("a", 40), body)
	}
}

// errReader fails, as a connection that drops mid-body does.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// TestUnavailableStore: when the database cannot be reached, every kind of
// route answers 503 with Retry-After and the API's error shape, at once,
// rather than a 500 or a hang.
func TestUnavailableStore(t *testing.T) {
	is := is.New(t)
	// Nothing listens on port 1 of the loopback: every connection is
	// refused at once.
	pool, err := pgxpool.New(context.Background(), "postgres://nahook@127.0.0.1:1/nahook?sslmode=disable")
	is.NoErr(err)
	st := postgres.New(pool) // no I/O: Open would fail, migrating
	nh, err := nahook.New(st, nahook.Config{Logger: slog.New(slog.DiscardHandler)})
	is.NoErr(err)
	t.Cleanup(func() {
		nh.Close()
		pool.Close()
	})
	handler, err := New(Config{Client: nh, Logger: slog.New(slog.DiscardHandler),
		Dashboard: func(*http.Request, nahook.WorkspaceID) error { return nil }})
	is.NoErr(err)
	h := &harness{t: t, api: handler.(*api), nh: nh, unavailable: true}
	h.doc, err = loadOpenAPI()
	is.NoErr(err)
	ws := "/workspaces/ws_01kaaaaaaaaaaaaaaaaaaaaaaa"
	key := func(prefix string) string { return "Bearer " + prefix + strings.Repeat("a", 40) }
	for _, c := range []struct{ method, path, auth, body string }{
		{"POST", "/api/ingest/event/order.created", key("nhk_"), `{"orderId": 1}`},
		{"POST", "/api/ingest/ep_01kaaaaaaaaaaaaaaaaaaaaaaa", key("nhk_"), `{}`},
		{"GET", "/management/v1" + ws + "/applications", key("nhm_"), ""},
		{"POST", "/management/v1" + ws + "/applications", key("nhm_"), `{"name": "Acme"}`},
		{"GET", "/api" + ws + "/endpoints", "Bearer dashboard", ""},
		{"GET", "/portal/v1/endpoints", key("nhp_"), ""},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		res := h.do(c.method, c.path, c.auth, body)
		h.want(res, http.StatusServiceUnavailable, "unavailable")
		is.Equal(res.header.Get("Retry-After"), retryAfterUnavailable)
		is.True(!strings.Contains(string(res.raw), "127.0.0.1")) // what is down stays in the log
	}
}
