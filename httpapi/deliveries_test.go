package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/matryer/is"
)

// recoveryWorld is a workspace with order.created published in the
// default environment, an endpoint subscribed to it, one event sent to it,
// and a second endpoint made after the event, which missed it.
type recoveryWorld struct {
	app, early, late, delivery string
	key                        string
}

func newRecoveryWorld(h *harness) recoveryWorld {
	h.t.Helper()
	m := h.mgmtPath
	var w recoveryWorld
	w.app = h.do("POST", m("/applications"), h.mgmt, map[string]string{"name": "Acme Corp"}).field("id")
	et := h.do("POST", m("/event-types"), h.mgmt, map[string]string{"name": "order.created"}).field("id")
	env := h.do("GET", m("/environments"), h.mgmt, nil).body.(map[string]any)["data"].([]any)[0].(map[string]any)["id"].(string)
	h.want(h.do("PUT", m("/environments/"+env+"/event-types/"+et+"/visibility"), h.mgmt, map[string]bool{"published": true}), http.StatusOK)
	endpoint := func() string {
		return h.do("POST", m("/applications/"+w.app+"/endpoints"), h.mgmt, map[string]any{"url": "https://acme.example/hook", "eventTypes": []string{"order.created"}}).field("id")
	}
	w.early = endpoint()
	w.key = "Bearer " + h.do("POST", m("/api-keys"), h.mgmt, map[string]string{"environmentId": env}).field("key")
	sent := h.do("POST", "/api/ingest/event/order.created?applicationId="+w.app, w.key, `{"n": 1}`)
	h.want(sent, http.StatusAccepted)
	w.delivery = sent.body.(map[string]any)["deliveries"].([]any)[0].(map[string]any)["id"].(string)
	w.late = endpoint()
	return w
}

// Resend, recover and replay-missing over the management and dashboard
// APIs: the answers, and the fields their refusals name.
func TestRecoveryRoutes(t *testing.T) {
	viaAPIs(t, func(t *testing.T, h *harness, p func(string) string, auth string) {
		is := is.New(t)
		w := newRecoveryWorld(h)
		since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)

		resent := h.do("POST", p("/deliveries/"+w.delivery+"/resend"), auth, nil)
		h.want(resent, http.StatusAccepted)
		is.Equal(resent.field("status"), "pending")
		h.want(h.do("POST", p("/deliveries/dlv_01kaaaaaaaaaaaaaaaaaaaaaaa/resend"), auth, nil), http.StatusNotFound, "not_found")

		replayed := h.do("POST", p("/endpoints/"+w.late+"/replay-missing"), auth, map[string]string{"since": since})
		h.want(replayed, http.StatusAccepted)
		is.Equal(replayed.body, map[string]any{"queued": 1.0})
		again := h.do("POST", p("/endpoints/"+w.late+"/replay-missing"), auth, map[string]string{"since": since})
		is.Equal(again.body, map[string]any{"queued": 0.0})
		recovered := h.do("POST", p("/endpoints/"+w.early+"/recover"), auth, map[string]any{"since": since, "until": nil})
		h.want(recovered, http.StatusAccepted)
		is.Equal(recovered.body, map[string]any{"queued": 0.0}) // nothing has failed

		for _, route := range []string{"/recover", "/replay-missing"} {
			path := p("/endpoints/" + w.early + route)
			h.want(h.do("POST", path, auth, `{}`), http.StatusBadRequest, "invalid", "since")
			h.want(h.do("POST", path, auth, map[string]any{"since": nil}), http.StatusBadRequest, "invalid", "since")
			h.want(h.do("POST", path, auth, map[string]string{"since": "yesterday"}), http.StatusBadRequest, "invalid", "since")
			h.want(h.do("POST", path, auth, map[string]string{"since": "2020-01-01T00:00:00Z"}), http.StatusBadRequest, "invalid", "since") // before the retention
			h.want(h.do("POST", path, auth, map[string]string{"since": since, "other": "x"}), http.StatusBadRequest, "invalid", "other")
			h.want(h.do("POST", p("/endpoints/ep_01kaaaaaaaaaaaaaaaaaaaaaaa"+route), auth, `not json`), http.StatusNotFound, "not_found") // the endpoint first
		}
		h.want(h.do("POST", p("/endpoints/"+w.early+"/recover"), auth, map[string]string{"since": since, "until": since}), http.StatusBadRequest, "invalid", "until")
		h.want(h.do("POST", p("/endpoints/"+w.early+"/replay-missing"), auth, map[string]string{"since": since, "until": since}), http.StatusBadRequest, "invalid", "until") // not a replay's

		h.want(h.do("PATCH", p("/endpoints/"+w.late), auth, map[string]any{"disabled": true}), http.StatusOK)
		h.want(h.do("POST", p("/endpoints/"+w.late+"/recover"), auth, map[string]string{"since": since}), http.StatusConflict, "endpoint_disabled", "endpointId")
	})
}

// The portal shows one of its deliveries with its attempts and sends
// again; another application's delivery and endpoint are not found.
func TestPortalRecovery(t *testing.T) {
	is := is.New(t)
	h := newHarness(t, Config{})
	w := newRecoveryWorld(h)
	auth := "Bearer " + h.portalSession(w.app).Token
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)

	detail := h.do("GET", "/portal/v1/deliveries/"+w.delivery, auth, nil)
	h.want(detail, http.StatusOK)
	is.Equal(detail.field("endpointId"), w.early)
	is.Equal(detail.body.(map[string]any)["attempts"], []any{})
	h.want(h.do("POST", "/portal/v1/deliveries/"+w.delivery+"/resend", auth, nil), http.StatusAccepted)
	replayed := h.do("POST", "/portal/v1/endpoints/"+w.late+"/replay-missing", auth, map[string]string{"since": since})
	h.want(replayed, http.StatusAccepted)
	is.Equal(replayed.body, map[string]any{"queued": 1.0})
	h.want(h.do("POST", "/portal/v1/endpoints/"+w.early+"/recover", auth, map[string]string{"since": since}), http.StatusAccepted)

	other := h.do("POST", h.mgmtPath("/applications"), h.mgmt, map[string]string{"name": "Globex"}).field("id")
	theirs := "Bearer " + h.portalSession(other).Token
	h.want(h.do("GET", "/portal/v1/deliveries/"+w.delivery, theirs, nil), http.StatusNotFound, "not_found")
	h.want(h.do("POST", "/portal/v1/deliveries/"+w.delivery+"/resend", theirs, nil), http.StatusNotFound, "not_found")
	h.want(h.do("POST", "/portal/v1/endpoints/"+w.early+"/recover", theirs, map[string]string{"since": since}), http.StatusNotFound, "not_found")
	h.want(h.do("POST", "/portal/v1/endpoints/"+w.late+"/replay-missing", theirs, `garbage`), http.StatusNotFound, "not_found")
}

// Explain over the management and dashboard APIs: every endpoint's
// verdict for an event of a type, for an application, none, or all; and
// the fields a bad question is refused by.
func TestExplainRoute(t *testing.T) {
	viaAPIs(t, func(t *testing.T, h *harness, p func(string) string, auth string) {
		is := is.New(t)
		w := newRecoveryWorld(h)
		verdicts := func(query string) map[string][]any {
			t.Helper()
			res := h.do("GET", p("/explain?"+query), auth, nil)
			h.want(res, http.StatusOK)
			out := map[string][]any{}
			for _, v := range res.body.(map[string]any)["endpoints"].([]any) {
				v := v.(map[string]any)
				is.Equal(v["receives"], len(v["reasons"].([]any)) == 0)
				out[v["id"].(string)] = v["reasons"].([]any)
			}
			return out
		}
		receives := map[string][]any{w.early: {}, w.late: {}}
		is.Equal(verdicts("eventType=order.created&applicationId="+w.app), receives)
		is.Equal(verdicts("eventType=order.created&broadcast=true"), receives)
		isolated := []any{"other_application"}
		is.Equal(verdicts("eventType=order.created"), map[string][]any{w.early: isolated, w.late: isolated})
		unknown := h.do("GET", p("/explain?eventType=order.lost&applicationId="+w.app), auth, nil)
		h.want(unknown, http.StatusOK)
		is.Equal(unknown.body.(map[string]any)["eventTypeId"], nil)
		is.Equal(verdicts("eventType=order.lost&applicationId=" + w.app)[w.early], []any{"unknown_event_type", "not_subscribed"})

		for query, want := range map[string][]string{
			"":                                      {"400", "eventType"},
			"eventType=":                            {"400", "eventType"},
			"eventType=a&eventType=b":               {"400", "eventType"},
			"eventType=order.created&broadcast=yes": {"400", "broadcast"},
			"eventType=order.created&broadcast=true&applicationId=" + w.app:        {"400", "broadcast"},
			"eventType=order.created&applicationId=app_01kaaaaaaaaaaaaaaaaaaaaaaa": {"404", "applicationId"},
			"eventType=order.created&environmentId=env_01kaaaaaaaaaaaaaaaaaaaaaaa": {"404", "environmentId"},
		} {
			res := h.do("GET", p("/explain?"+query), auth, nil)
			if strconv.Itoa(res.status) != want[0] || res.errorField() != want[1] {
				t.Errorf("explain?%s: %d %s, want %s naming %s", query, res.status, res.raw, want[0], want[1])
			}
		}
	})
}

// Explain of a stored event: who got it (their delivery), and why not the
// others; an event sent straight to an endpoint gives the others
// other_endpoint.
func TestExplainStoredEvent(t *testing.T) {
	viaAPIs(t, func(t *testing.T, h *harness, p func(string) string, auth string) {
		is := is.New(t)
		w := newRecoveryWorld(h)
		event := h.do("GET", p("/deliveries/"+w.delivery), auth, nil).body.(map[string]any)["eventId"].(string)
		verdicts := func(event string) map[string]map[string]any {
			t.Helper()
			res := h.do("GET", p("/events/"+event+"/explain"), auth, nil)
			h.want(res, http.StatusOK)
			out := map[string]map[string]any{}
			for _, v := range res.body.(map[string]any)["endpoints"].([]any) {
				out[v.(map[string]any)["id"].(string)] = v.(map[string]any)
			}
			return out
		}
		got := verdicts(event)
		is.Equal(got[w.early]["deliveryId"], w.delivery)
		is.Equal(got[w.early]["receives"], true)
		is.Equal(got[w.late]["deliveryId"], nil) // made after the event
		is.Equal(got[w.late]["receives"], true)  // but would get one like it now

		direct := h.do("POST", "/api/ingest/"+w.late+"?applicationId="+w.app, w.key, `{}`)
		h.want(direct, http.StatusAccepted)
		got = verdicts(direct.field("eventId"))
		is.Equal(got[w.late]["reasons"], []any{})
		is.True(got[w.late]["deliveryId"] != nil)
		is.Equal(got[w.early]["reasons"], []any{"other_endpoint"})
		is.Equal(got[w.early]["deliveryId"], nil)

		h.want(h.do("GET", p("/events/msg_01kaaaaaaaaaaaaaaaaaaaaaaa/explain"), auth, nil), http.StatusNotFound, "not_found")
	})
}

// The message log: events newest first, by type, application and time,
// without payloads; deliveries across the workspace, by endpoint, event
// and status.
func TestMessageLog(t *testing.T) {
	viaAPIs(t, func(t *testing.T, h *harness, p func(string) string, auth string) {
		is := is.New(t)
		w := newRecoveryWorld(h)
		forNone := h.do("POST", "/api/ingest/event/order.created", w.key, `{"secret": "payload"}`)
		h.want(forNone, http.StatusAccepted)
		ids := func(path string) []any {
			t.Helper()
			res := h.do("GET", p(path), auth, nil)
			h.want(res, http.StatusOK)
			is.True(!strings.Contains(string(res.raw), "secret")) // no payloads
			var out []any
			for _, item := range res.body.(map[string]any)["data"].([]any) {
				out = append(out, item.(map[string]any)["id"])
			}
			return out
		}
		first := h.do("GET", p("/deliveries/"+w.delivery), auth, nil).field("eventId")
		second := forNone.field("eventId")
		is.Equal(ids("/events"), []any{second, first}) // newest first
		is.Equal(ids("/events?applicationId="+w.app), []any{first})
		is.Equal(ids("/events?eventType=order.refunded"), []any(nil))
		hour := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		ago := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		is.Equal(ids("/events?since="+hour), []any(nil))
		is.Equal(ids("/events?since="+ago+"&until="+hour), []any{second, first})
		page := h.do("GET", p("/events?limit=1"), auth, nil)
		is.Equal(len(page.body.(map[string]any)["data"].([]any)), 1)
		is.Equal(ids("/events?limit=1&cursor="+page.field("nextCursor")), []any{first})

		is.Equal(ids("/deliveries"), []any{w.delivery}) // the event for none reached no one
		is.Equal(ids("/deliveries?eventId="+first+"&endpointId="+w.early+"&status=pending"), []any{w.delivery})
		is.Equal(ids("/deliveries?eventId="+second), []any(nil))
		is.Equal(ids("/deliveries?applicationId="+w.app+"&since="+ago+"&until="+hour), []any{w.delivery})
		other := h.do("POST", p("/applications"), auth, map[string]string{"name": "Globex"}).field("id")
		is.Equal(ids("/deliveries?applicationId="+other), []any(nil))
		is.Equal(ids("/deliveries?since="+hour), []any(nil))

		for path, field := range map[string]string{
			"/events?since=yesterday":                     "since",
			"/events?since=" + hour + "&until=" + ago:     "until",
			"/events?applicationId=acme":                  "applicationId",
			"/events?eventType=a&eventType=b":             "eventType",
			"/deliveries?status=lost":                     "status",
			"/deliveries?eventId=nope":                    "eventId",
			"/deliveries?endpointId=":                     "endpointId",
			"/deliveries?applicationId=acme":              "applicationId",
			"/deliveries?since=" + hour + "&until=" + ago: "until",
		} {
			h.want(h.do("GET", p(path), auth, nil), http.StatusBadRequest, "invalid", field)
		}
		h.want(h.do("GET", p("/deliveries?endpointId=ep_01kaaaaaaaaaaaaaaaaaaaaaaa"), auth, nil), http.StatusNotFound, "not_found")
	})
}
