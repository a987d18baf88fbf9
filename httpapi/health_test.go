package httpapi

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

// healthWorld is a workspace with an application's endpoint that has had
// three attempts (two answered 200 in 120 ms, one 500 in 900 ms), another
// endpoint of the application with none, and an endpoint of no
// application.
type healthWorld struct {
	app, busy, quiet, unowned string
}

func newHealthWorld(h *harness) healthWorld {
	h.t.Helper()
	m := h.mgmtPath
	var w healthWorld
	w.app = h.do("POST", m("/applications"), h.mgmt, map[string]string{"name": "Acme Corp"}).field("id")
	et := h.do("POST", m("/event-types"), h.mgmt, map[string]string{"name": "order.created"}).field("id")
	env := h.do("GET", m("/environments"), h.mgmt, nil).body.(map[string]any)["data"].([]any)[0].(map[string]any)["id"].(string)
	h.want(h.do("PUT", m("/environments/"+env+"/event-types/"+et+"/visibility"), h.mgmt, map[string]bool{"published": true}), http.StatusOK)
	w.busy = h.do("POST", m("/applications/"+w.app+"/endpoints"), h.mgmt, map[string]any{"url": "https://acme.example/hook", "eventTypes": []string{"order.created"}}).field("id")
	w.quiet = h.do("POST", m("/applications/"+w.app+"/endpoints"), h.mgmt, map[string]any{"url": "https://acme.example/quiet"}).field("id")
	w.unowned = h.do("POST", m("/endpoints"), h.mgmt, map[string]any{"url": "https://acme.example/ops"}).field("id")
	key := "Bearer " + h.do("POST", m("/api-keys"), h.mgmt, map[string]string{"environmentId": env}).field("key")
	now := time.Now()
	var results []store.AttemptResult
	for i, a := range []struct {
		code     int
		duration time.Duration
	}{{200, 120 * time.Millisecond}, {500, 900 * time.Millisecond}, {200, 120 * time.Millisecond}} {
		sent := h.do("POST", "/api/ingest/event/order.created?applicationId="+w.app, key, `{"n": 1}`)
		h.want(sent, http.StatusAccepted)
		id := sent.body.(map[string]any)["deliveries"].([]any)[0].(map[string]any)["id"].(string)
		status := nahook.DeliverySucceeded
		if a.code != 200 {
			status = nahook.DeliveryFailed
		}
		results = append(results, store.AttemptResult{DeliveryID: nahook.DeliveryID(id), WorkspaceID: h.ws, EndpointID: nahook.EndpointID(w.busy),
			Attempt: store.Attempt{Number: 1, AttemptedAt: now.Add(time.Duration(i) * time.Millisecond), Duration: a.duration, StatusCode: a.code},
			Status:  status})
	}
	if err := h.st.RecordAttempts(context.Background(), results, store.Streaks(results, 0)); err != nil {
		h.t.Fatal(err)
	}
	return w
}

// wantHealth checks an endpoint health answer: the endpoint, and the same
// figures in both windows.
func wantHealth(t *testing.T, res response, endpoint string, window map[string]any) {
	t.Helper()
	is := is.New(t)
	body := res.body.(map[string]any)
	is.Equal(body["endpointId"], endpoint)
	at, err := time.Parse(time.RFC3339, body["at"].(string))
	is.NoErr(err)
	is.True(time.Since(at) < time.Minute)
	is.Equal(body["lastHour"], window)
	is.Equal(body["lastDay"], window)
}

// busyWindow and quietWindow are the figures of healthWorld's endpoints:
// percentiles are the bounds of the latency buckets 120 and 900 ms fall
// in.
var (
	busyWindow  = map[string]any{"attempts": 3.0, "succeeded": 2.0, "failed": 1.0, "successRate": 2.0 / 3, "p50Ms": 128.0, "p99Ms": 939.0}
	quietWindow = map[string]any{"attempts": 0.0, "succeeded": 0.0, "failed": 0.0, "successRate": nil, "p50Ms": nil, "p99Ms": nil}
)

// An endpoint's health over the management and dashboard APIs; another
// workspace's endpoint, or none, is 404.
func TestEndpointHealthRoute(t *testing.T) {
	viaAPIs(t, func(t *testing.T, h *harness, p func(string) string, auth string) {
		w := newHealthWorld(h)
		res := h.do("GET", p("/endpoints/"+w.busy+"/health"), auth, nil)
		h.want(res, http.StatusOK)
		wantHealth(t, res, w.busy, busyWindow)
		res = h.do("GET", p("/endpoints/"+w.quiet+"/health"), auth, nil)
		h.want(res, http.StatusOK)
		wantHealth(t, res, w.quiet, quietWindow)

		otherWS, _ := h.workspace()
		theirs, err := h.nh.Endpoints.Create(context.Background(), otherWS, nahook.EndpointInput{URL: "https://globex.example/hook"})
		if err != nil {
			t.Fatal(err)
		}
		h.want(h.do("GET", p("/endpoints/"+string(theirs.ID)+"/health"), auth, nil), http.StatusNotFound, "not_found")
		h.want(h.do("GET", p("/endpoints/ep_01kaaaaaaaaaaaaaaaaaaaaaaa/health"), auth, nil), http.StatusNotFound, "not_found")
		h.want(h.do("GET", p("/endpoints/"+w.busy+"/health"), "", nil), http.StatusUnauthorized, "unauthorized")
	})
}

// The portal reads the health of its application's endpoints alone:
// another application's, or one of no application, is 404.
func TestPortalEndpointHealth(t *testing.T) {
	h := newHarness(t, Config{})
	w := newHealthWorld(h)
	auth := "Bearer " + h.portalSession(w.app).Token
	res := h.do("GET", "/portal/v1/endpoints/"+w.busy+"/health", auth, nil)
	h.want(res, http.StatusOK)
	wantHealth(t, res, w.busy, busyWindow)
	if res.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", res.header.Get("Cache-Control"))
	}
	h.want(h.do("GET", "/portal/v1/endpoints/"+w.unowned+"/health", auth, nil), http.StatusNotFound, "not_found")

	other := h.do("POST", h.mgmtPath("/applications"), h.mgmt, map[string]string{"name": "Globex"}).field("id")
	theirs := "Bearer " + h.portalSession(other).Token
	h.want(h.do("GET", "/portal/v1/endpoints/"+w.busy+"/health", theirs, nil), http.StatusNotFound, "not_found")
	h.want(h.do("GET", "/portal/v1/endpoints/"+w.busy+"/health", h.mgmt, nil), http.StatusUnauthorized, "unauthorized")
}
