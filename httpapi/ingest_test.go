package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
)

// TestIngestErrorIsNew checks that the ingest routes name the inputs as the
// API spells them (the body, the Idempotency-Key header) by answering a new
// error: the library's error, which it may keep or hand to other callers,
// is never edited.
func TestIngestErrorIsNew(t *testing.T) {
	for field, want := range map[string]string{"payload": "body", "idempotencyKey": "Idempotency-Key"} {
		t.Run(field, func(t *testing.T) {
			is := is.New(t)
			cause := errors.New("driver detail")
			lib := &nahook.Error{Kind: nahook.ErrInvalid, Field: field, Message: "not valid", Err: cause}
			got := ingestError(fmt.Errorf("ingest: %w", lib))
			e, ok := errors.AsType[*nahook.Error](got)
			is.True(ok)
			is.True(e != lib) // a new error
			is.Equal(e.Field, want)
			is.Equal(e.Message, "not valid")
			is.True(errors.Is(got, nahook.ErrInvalid))
			is.True(errors.Is(got, cause))
			is.Equal(*lib, nahook.Error{Kind: nahook.ErrInvalid, Field: field, Message: "not valid", Err: cause}) // untouched
		})
	}
	t.Run("other fields", func(t *testing.T) {
		is := is.New(t)
		lib := &nahook.Error{Kind: nahook.ErrNotFound, Field: "applicationId", Message: "not found"}
		is.Equal(ingestError(lib), error(lib)) // nothing to rename: passed on as it is
		plain := errors.New("boom")
		is.Equal(ingestError(plain), plain)
	})
}

// TestIngestQuery checks how both ingest routes read whom an event goes
// to: applicationId or applicationExternalId, and broadcast, handed to the
// library as they are; a malformed query refused with 400 naming the
// parameter before the library is reached; and the library's answers
// about them (an unknown application, a rule it holds) passed on naming
// the parameter.
func TestIngestQuery(t *testing.T) {
	h := newHarness(t, Config{})
	const app = "app_01kaaaaaaaaaaaaaaaaaaaaaaa"
	accepted := nahook.Ingested{Event: nahook.Event{ID: "msg_01kaaaaaaaaaaaaaaaaaaaaaaa", EnvironmentID: "env_01kaaaaaaaaaaaaaaaaaaaaaaa"}}
	for _, path := range []string{"/api/ingest/event/order.created", "/api/ingest/ep_01kaaaaaaaaaaaaaaaaaaaaaaa"} {
		for _, c := range []struct {
			query string
			want  nahook.IngestInput // when no field
			field string             // of the 400
		}{
			{query: ""},
			{query: "applicationId=" + app, want: nahook.IngestInput{ApplicationID: app}},
			{query: "applicationExternalId=acme", want: nahook.IngestInput{ApplicationExternalID: "acme"}},
			{query: "broadcast=true", want: nahook.IngestInput{Broadcast: true}},
			{query: "broadcast=false"},
			{query: "broadcast=false&applicationId=" + app, want: nahook.IngestInput{ApplicationID: app}},
			// Which parameters go together is the library's rule: they
			// reach it as given, and its refusal is checked below and in
			// TestIngestApplication.
			{query: "applicationId=" + app + "&applicationExternalId=acme", want: nahook.IngestInput{ApplicationID: app, ApplicationExternalID: "acme"}},
			{query: "broadcast=true&applicationId=" + app, want: nahook.IngestInput{ApplicationID: app, Broadcast: true}},
			{query: "broadcast=true&applicationExternalId=acme", want: nahook.IngestInput{ApplicationExternalID: "acme", Broadcast: true}},

			{query: "broadcast=", field: "broadcast"},
			{query: "applicationId=", field: "applicationId"},
			{query: "applicationId=&applicationExternalId=acme", field: "applicationId"},
			{query: "applicationExternalId=", field: "applicationExternalId"},
			{query: "broadcast=yes", field: "broadcast"},
			{query: "broadcast=TRUE", field: "broadcast"},
			{query: "broadcast=1", field: "broadcast"},
			{query: "broadcast=true&broadcast=true", field: "broadcast"},
			{query: "applicationId=" + app + "&applicationId=" + app, field: "applicationId"},
			{query: "applicationExternalId=a&applicationExternalId=b", field: "applicationExternalId"},
		} {
			t.Run(path+"?"+c.query, func(t *testing.T) {
				h := h.on(t)
				var got *nahook.IngestInput
				res := h.ingestWith(path+"?"+c.query, func(in nahook.IngestInput) (nahook.Ingested, error) {
					got = &in
					return accepted, nil
				})
				if c.field != "" {
					h.want(res, http.StatusBadRequest, "invalid", c.field)
					if got != nil {
						t.Fatalf("a query refused reached the library with %+v", *got)
					}
					return
				}
				h.want(res, http.StatusAccepted)
				want := c.want
				want.Payload, want.IdempotencyKey = []byte(`{"n": 1}`), "k-1"
				if got == nil || !reflect.DeepEqual(*got, want) {
					t.Fatalf("the library got %+v, want %+v", got, want)
				}
			})
		}
		// What the library answers about these parameters reaches the
		// client naming them as the query does.
		for _, lib := range []*nahook.Error{
			{Kind: nahook.ErrNotFound, Field: "applicationExternalId", Message: `application "acme" not found`},
			{Kind: nahook.ErrNotFound, Field: "applicationId", Message: "application not found"},
			{Kind: nahook.ErrInvalid, Field: "broadcast", Message: "not with an application"},
			{Kind: nahook.ErrInvalid, Field: "applicationExternalId", Message: "not with applicationId"},
		} {
			res := h.ingestWith(path+"?applicationExternalId=acme", func(nahook.IngestInput) (nahook.Ingested, error) {
				return nahook.Ingested{}, fmt.Errorf("ingest: %w", lib)
			})
			status, code := http.StatusNotFound, "not_found"
			if errors.Is(lib, nahook.ErrInvalid) {
				status, code = http.StatusBadRequest, "invalid"
			}
			h.want(res, status, code, lib.Field)
			if res.errorPart("message") != lib.Message {
				t.Fatalf("message %q, want the library's %q", res.errorPart("message"), lib.Message)
			}
		}
	}
}

// on returns the harness reporting to t, a subtest's.
func (h *harness) on(t *testing.T) *harness {
	sub := *h
	sub.t = t
	return &sub
}

// ingestWith sends an ingest request with a well-formed environment key
// to path through the ingest handler, with send standing in for the
// library, and returns the answer, checked against the OpenAPI document.
func (h *harness) ingestWith(path string, send func(nahook.IngestInput) (nahook.Ingested, error)) response {
	h.t.Helper()
	const body = `{"n": 1}`
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer nhk_"+strings.Repeat("a", 40))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "k-1")
	rec := httptest.NewRecorder()
	err := h.api.ingest(rec, req, func(_ string, in nahook.IngestInput) (nahook.Ingested, error) { return send(in) })
	if err != nil {
		h.api.fail(rec, req, err)
	}
	res := response{status: rec.Code, header: rec.Header(), raw: rec.Body.Bytes()}
	if err := json.Unmarshal(res.raw, &res.body); err != nil {
		h.t.Fatalf("%s: %d with a body that is not JSON: %q", path, res.status, res.raw)
	}
	h.conforms(req, res, body)
	return res
}

// TestIngestApplication routes through both ingest routes with
// applicationId: one customer's event reaches that customer's endpoints
// and no other's; an application that does not exist, or a direct
// ingest to another application's endpoint, is 404 naming applicationId
// and stores nothing; a malformed query stores nothing either.
func TestIngestApplication(t *testing.T) {
	is := is.New(t)
	h := newHarness(t, Config{})
	p, auth := h.mgmtPath, h.mgmt
	env := h.do("GET", p("/environments"), auth, nil).body.(map[string]any)["data"].([]any)[0].(map[string]any)["id"].(string)
	et := h.do("POST", p("/event-types"), auth, map[string]string{"name": "order.created"}).field("id")
	h.want(h.do("PUT", p("/environments/"+env+"/event-types/"+et+"/visibility"), auth, map[string]bool{"published": true}), http.StatusOK)
	acme := h.do("POST", p("/applications"), auth, map[string]string{"name": "Acme", "externalId": "acme"}).field("id")
	globex := h.do("POST", p("/applications"), auth, map[string]string{"name": "Globex", "externalId": "globex"}).field("id")
	endpoint := func(app, host string) string {
		res := h.do("POST", p("/applications/"+app+"/endpoints"), auth, map[string]any{"url": "https://" + host + "/hooks", "eventTypes": []string{"*"}})
		h.want(res, http.StatusCreated)
		return res.field("id")
	}
	acmeEp, globexEp := endpoint(acme, "acme.example"), endpoint(globex, "globex.example")
	key := "Bearer " + h.do("POST", p("/api-keys"), auth, map[string]string{"environmentId": env}).field("key")
	reached := func(res response) []string {
		t.Helper()
		h.want(res, http.StatusAccepted)
		var eps []string
		for _, d := range res.body.(map[string]any)["deliveries"].([]any) {
			eps = append(eps, d.(map[string]any)["endpointId"].(string))
		}
		return eps
	}
	stored := func() int {
		t.Helper()
		page, err := h.nh.Deliveries.List(context.Background(), h.ws, nahook.DeliveryFilter{}, nahook.ListOptions{Limit: nahook.MaxLimit})
		is.NoErr(err)
		return len(page.Items)
	}

	is.Equal(reached(h.do("POST", "/api/ingest/event/order.created?applicationId="+acme, key, `{}`)), []string{acmeEp})
	is.Equal(reached(h.do("POST", "/api/ingest/event/order.created?applicationId="+globex, key, `{}`)), []string{globexEp})
	is.Equal(reached(h.do("POST", "/api/ingest/"+acmeEp+"?applicationId="+acme, key, `{}`)), []string{acmeEp})
	is.Equal(reached(h.do("POST", "/api/ingest/event/order.created?applicationExternalId=globex", key, `{}`)), []string{globexEp})
	// Isolation by default: without an application, no customer's endpoint
	// receives the event; only the workspace's own does, and a broadcast
	// reaches every subscribed endpoint.
	own := h.do("POST", p("/endpoints"), auth, map[string]any{"url": "https://ops.example/hooks", "eventTypes": []string{"*"}, "environmentId": env})
	h.want(own, http.StatusCreated)
	ownEp := own.field("id")
	is.Equal(reached(h.do("POST", "/api/ingest/event/order.created", key, `{}`)), []string{ownEp})
	all := reached(h.do("POST", "/api/ingest/event/order.created?broadcast=true", key, `{}`))
	slices.Sort(all)
	want := []string{acmeEp, globexEp, ownEp}
	slices.Sort(want)
	is.Equal(all, want)
	before := stored()
	is.Equal(before, 8)

	h.want(h.do("POST", "/api/ingest/"+acmeEp+"?applicationId="+globex, key, `{}`), http.StatusNotFound, "not_found", "applicationId")
	for _, path := range []string{"/api/ingest/event/order.created", "/api/ingest/" + acmeEp} {
		h.want(h.do("POST", path+"?applicationId=app_01kaaaaaaaaaaaaaaaaaaaaaaa", key, `{}`), http.StatusNotFound, "not_found", "applicationId")
		h.want(h.do("POST", path+"?applicationExternalId=initech", key, `{}`), http.StatusNotFound, "not_found", "applicationExternalId")
		h.want(h.do("POST", path+"?broadcast=maybe", key, `{}`), http.StatusBadRequest, "invalid", "broadcast")
		h.want(h.do("POST", path+"?broadcast=true&applicationId="+acme, key, `{}`), http.StatusBadRequest, "invalid", "broadcast")
		h.want(h.do("POST", path+"?broadcast=true&applicationExternalId=acme", key, `{}`), http.StatusBadRequest, "invalid", "broadcast")
		h.want(h.do("POST", path+"?applicationId="+acme+"&applicationExternalId=acme", key, `{}`), http.StatusBadRequest, "invalid", "applicationExternalId")
	}
	is.Equal(stored(), before) // nothing from the refused
}
