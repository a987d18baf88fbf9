package httpapi

import (
	"net/http"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
)

// POST /api/ingest/batch answers each event with the status and body a
// single ingest would have answered, in order, in a 200; only what
// concerns the whole request (the key, the body, the number of events)
// fails it.
func TestIngestBatchRoute(t *testing.T) {
	is := is.New(t)
	h := newHarness(t, Config{})
	p, auth := h.mgmtPath, h.mgmt
	env := h.do("GET", p("/environments"), auth, nil).body.(map[string]any)["data"].([]any)[0].(map[string]any)["id"].(string)
	et := h.do("POST", p("/event-types"), auth, map[string]string{"name": "order.created"}).field("id")
	h.want(h.do("PUT", p("/environments/"+env+"/event-types/"+et+"/visibility"), auth, map[string]bool{"published": true}), http.StatusOK)
	ep := h.do("POST", p("/endpoints"), auth, map[string]any{"url": "https://ops.example/hooks", "eventTypes": []string{"*"}, "environmentId": env}).field("id")
	key := "Bearer " + h.do("POST", p("/api-keys"), auth, map[string]string{"environmentId": env}).field("key")

	res := h.do("POST", "/api/ingest/batch", key, `{"events": [
		{"eventType": "order.created", "payload": {"n": 1}, "idempotencyKey": "k"},
		{"endpointId": "`+ep+`", "payload": [1, 2]},
		{"eventType": "order.nope", "payload": {}},
		{"eventType": "order.created", "payload": {"n": 1}, "idempotencyKey": "k"},
		{"eventType": "order.created", "payload": {"n": 2}, "idempotencyKey": "k"},
		{"endpointId": "ep_01kaaaaaaaaaaaaaaaaaaaaaaa", "payload": {}}
	]}`)
	h.want(res, http.StatusOK)
	items := res.body.(map[string]any)["data"].([]any)
	is.Equal(len(items), 6)
	item := func(i int) map[string]any { return items[i].(map[string]any) }
	status := func(i int) float64 { return item(i)["status"].(float64) }
	code := func(i int) string { return item(i)["error"].(map[string]any)["code"].(string) }
	event := func(i int) map[string]any { return item(i)["event"].(map[string]any) }

	is.Equal(status(0), float64(http.StatusAccepted))
	is.Equal(item(0)["replayed"], false)
	is.Equal(len(event(0)["deliveries"].([]any)), 1)
	is.Equal(status(1), float64(http.StatusAccepted))
	is.Equal(event(1)["eventType"], nil) // sent straight to the endpoint
	is.Equal(status(2), float64(http.StatusNotFound))
	is.Equal(code(2), "unknown_event_type")
	is.Equal(status(3), float64(http.StatusAccepted))
	is.Equal(item(3)["replayed"], true)
	is.Equal(event(3)["eventId"], event(0)["eventId"])
	is.Equal(status(4), float64(http.StatusUnprocessableEntity))
	is.Equal(code(4), "idempotency_key_reused")
	is.Equal(status(5), float64(http.StatusNotFound))
	is.Equal(code(5), "not_found")

	// The payload is kept byte for byte, as sent.
	got, err := h.nh.Events.Get(t.Context(), h.ws, nahook.EventID(event(1)["eventId"].(string)))
	is.NoErr(err)
	is.Equal(string(got.Payload), `[1, 2]`)

	h.want(h.do("POST", "/api/ingest/batch", key, `{"events": []}`), http.StatusBadRequest, "invalid", "events")
	h.want(h.do("POST", "/api/ingest/batch", key, `{"events": [{"eventType": "order.created", "payload": {}, "colour": 1}]}`), http.StatusBadRequest, "invalid")
	h.want(h.do("POST", "/api/ingest/batch", "Bearer nhk_nope", `{"events": [{"eventType": "order.created", "payload": {}}]}`), http.StatusUnauthorized, "unauthorized")
	h.want(h.do("POST", "/api/ingest/batch", auth, `{"events": [{"eventType": "order.created", "payload": {}}]}`), http.StatusForbidden, "forbidden")
}
