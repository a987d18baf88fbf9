package httpapi

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nahook/nahook"
)

// Fixed records for the wire tests: times with sub-millisecond parts and
// outside UTC, to show the API writes UTC to the millisecond.
var (
	wireT0 = time.Date(2026, 1, 2, 3, 4, 5, 678_900_000, time.UTC)
	wireT1 = time.Date(2026, 1, 2, 4, 4, 5, 1_000, time.FixedZone("CET", 3600)) // 03:04:05.000001 UTC

	wireApp = nahook.Application{ID: "app_01kaaaaaaaaaaaaaaaaaaaaaaa", WorkspaceID: "ws_01kaaaaaaaaaaaaaaaaaaaaaaa",
		ExternalID: "cust_123", Name: "Acme <Corp> & Co", Metadata: map[string]string{"plan": "enterprise", "region": "eu"},
		CreatedAt: wireT0, UpdatedAt: wireT1}
	wireEnv = nahook.Environment{ID: "env_01kaaaaaaaaaaaaaaaaaaaaaaa", WorkspaceID: "ws_01kaaaaaaaaaaaaaaaaaaaaaaa",
		Name: "Production", Slug: "production", IsDefault: true, CreatedAt: wireT0, UpdatedAt: wireT0}
	wireEventType = nahook.EventType{ID: "evt_01kaaaaaaaaaaaaaaaaaaaaaaa", WorkspaceID: "ws_01kaaaaaaaaaaaaaaaaaaaaaaa",
		Name: "order.created", CreatedAt: wireT0, UpdatedAt: wireT1}
	wireEndpoint = nahook.Endpoint{ID: "ep_01kaaaaaaaaaaaaaaaaaaaaaaa", WorkspaceID: "ws_01kaaaaaaaaaaaaaaaaaaaaaaa",
		EnvironmentID: "env_01kaaaaaaaaaaaaaaaaaaaaaaa", ApplicationID: "app_01kaaaaaaaaaaaaaaaaaaaaaaa",
		URL: "https://acme.com/webhooks?a=1&b=2", Description: "Production webhook", EventTypes: []string{"order.*", "user.created"},
		CreatedAt: wireT0, UpdatedAt: wireT1}
	wireKey = nahook.APIKey{ID: "key_01kaaaaaaaaaaaaaaaaaaaaaaa", WorkspaceID: "ws_01kaaaaaaaaaaaaaaaaaaaaaaa",
		EnvironmentID: "env_01kaaaaaaaaaaaaaaaaaaaaaaa", Kind: nahook.KeyKindEnvironment, Name: "backend",
		Prefix: "nhk_4fQz8Lw2", Hash: [32]byte{1, 2, 3}, CreatedAt: wireT0}
	wireDelivery = nahook.Delivery{ID: "dlv_01kaaaaaaaaaaaaaaaaaaaaaaa", WorkspaceID: "ws_01kaaaaaaaaaaaaaaaaaaaaaaa",
		EventID: "msg_01kaaaaaaaaaaaaaaaaaaaaaaa", EventType: "order.created", EndpointID: "ep_01kaaaaaaaaaaaaaaaaaaaaaaa",
		Status: nahook.DeliveryPending, NextAttemptAt: wireT1, CreatedAt: wireT0, UpdatedAt: wireT0}
	wireFailed = nahook.Delivery{ID: "dlv_01kbbbbbbbbbbbbbbbbbbbbbbb", WorkspaceID: "ws_01kaaaaaaaaaaaaaaaaaaaaaaa",
		EventID: "msg_01kbbbbbbbbbbbbbbbbbbbbbbb", EndpointID: "ep_01kaaaaaaaaaaaaaaaaaaaaaaa",
		Status: nahook.DeliveryFailed, Attempts: 3, LastAttemptAt: wireT1, LastStatusCode: 503, LastError: "HTTP 503",
		CreatedAt: wireT0, UpdatedAt: wireT1}
	wireEvent = nahook.Event{ID: "msg_01kaaaaaaaaaaaaaaaaaaaaaaa", WorkspaceID: "ws_01kaaaaaaaaaaaaaaaaaaaaaaa",
		EnvironmentID: "env_01kaaaaaaaaaaaaaaaaaaaaaaa", EventType: "order.created",
		Payload: []byte(`{ "id": "ord_1", "total": 12.50, "note": "<b>&</b>" }`), IdempotencyKey: "order-1", CreatedAt: wireT0}
	wireSession = nahook.PortalSession{ID: "ps_01kaaaaaaaaaaaaaaaaaaaaaaa", WorkspaceID: "ws_01kaaaaaaaaaaaaaaaaaaaaaaa",
		ApplicationID: "app_01kaaaaaaaaaaaaaaaaaaaaaaa", EnvironmentID: "env_01kaaaaaaaaaaaaaaaaaaaaaaa",
		Hash: [32]byte{4, 5, 6}, ExpiresAt: wireT1, CreatedAt: wireT0}
)

// TestWireFormat pins, byte for byte, how the API writes each resource:
// field names, null for what is absent, payloads as JSON, times in UTC to
// the millisecond, and nothing of what only storage keeps (workspace IDs,
// hashes, idempotency keys). Each answer is also held to the OpenAPI
// schema it claims to be.
func TestWireFormat(t *testing.T) {
	doc, err := loadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	noApp, noExternal := wireEndpoint, wireApp
	noApp.ApplicationID, noApp.EventTypes, noApp.Disabled = "", []string{}, true
	noExternal.ExternalID, noExternal.Metadata = "", map[string]string{}
	revokedKey, revokedSession := wireKey, wireSession
	revokedKey.RevokedAt, revokedSession.RevokedAt = wireT1, wireT1
	direct := wireEvent
	direct.EventType, direct.EndpointID = "", wireEndpoint.ID
	detail := nahook.DeliveryDetail{Delivery: wireFailed, Event: direct, Attempts: []nahook.Attempt{
		{Number: 1, AttemptedAt: wireT0, Duration: 1234567 * time.Microsecond, StatusCode: 503, Response: `{"busy":true}`},
		{Number: 2, AttemptedAt: wireT1, Duration: 0, Error: "connection refused"},
	}}
	const (
		appJSON     = `{"id":"app_01kaaaaaaaaaaaaaaaaaaaaaaa","externalId":"cust_123","name":"Acme <Corp> & Co","metadata":{"plan":"enterprise","region":"eu"},"createdAt":"2026-01-02T03:04:05.678Z","updatedAt":"2026-01-02T03:04:05.000Z"}`
		etJSON      = `{"id":"evt_01kaaaaaaaaaaaaaaaaaaaaaaa","name":"order.created","description":"","createdAt":"2026-01-02T03:04:05.678Z","updatedAt":"2026-01-02T03:04:05.000Z"}`
		sessionJSON = `{"id":"ps_01kaaaaaaaaaaaaaaaaaaaaaaa","applicationId":"app_01kaaaaaaaaaaaaaaaaaaaaaaa","environmentId":"env_01kaaaaaaaaaaaaaaaaaaaaaaa","expiresAt":"2026-01-02T03:04:05.000Z","createdAt":"2026-01-02T03:04:05.678Z","revokedAt":null}`
		failedJSON  = `{"id":"dlv_01kbbbbbbbbbbbbbbbbbbbbbbb","eventId":"msg_01kbbbbbbbbbbbbbbbbbbbbbbb","eventType":null,"endpointId":"ep_01kaaaaaaaaaaaaaaaaaaaaaaa","status":"failed","attemptCount":3,"nextAttemptAt":null,"lastAttemptAt":"2026-01-02T03:04:05.000Z","lastStatusCode":503,"lastError":"HTTP 503","createdAt":"2026-01-02T03:04:05.678Z","updatedAt":"2026-01-02T03:04:05.000Z"}`
	)
	cases := []struct {
		name   string
		schema string // the OpenAPI component the answer is
		value  any
		want   string
	}{
		{"application", "Application", applicationOut(wireApp), appJSON},
		{"application without externalId", "Application", applicationOut(noExternal),
			`{"id":"app_01kaaaaaaaaaaaaaaaaaaaaaaa","externalId":null,"name":"Acme <Corp> & Co","metadata":{},"createdAt":"2026-01-02T03:04:05.678Z","updatedAt":"2026-01-02T03:04:05.000Z"}`},
		{"application list", "ApplicationList", page(nahook.Page[nahook.Application]{Items: []nahook.Application{wireApp}, NextCursor: "YXBwXzAx"}, applicationOut),
			`{"data":[` + appJSON + `],"nextCursor":"YXBwXzAx"}`},
		{"empty list", "ApplicationList", page(nahook.Page[nahook.Application]{Items: []nahook.Application{}}, applicationOut),
			`{"data":[],"nextCursor":null}`},
		{"environment", "Environment", environmentOut(wireEnv),
			`{"id":"env_01kaaaaaaaaaaaaaaaaaaaaaaa","name":"Production","slug":"production","isDefault":true,"createdAt":"2026-01-02T03:04:05.678Z","updatedAt":"2026-01-02T03:04:05.678Z"}`},
		{"event type", "EventType", eventTypeOut(wireEventType), etJSON},
		{"portal event types", "EventTypeList", page(nahook.Page[nahook.EventType]{Items: []nahook.EventType{wireEventType}}, eventTypeOut),
			`{"data":[` + etJSON + `],"nextCursor":null}`},
		{"visibility", "EventTypeVisibility", visibilityOut(nahook.EventTypeVisibility{EventTypeID: wireEventType.ID, EventTypeName: "order.created", Published: true}),
			`{"eventTypeId":"evt_01kaaaaaaaaaaaaaaaaaaaaaaa","eventTypeName":"order.created","published":true}`},
		{"visibility list", "EventTypeVisibilityList", visibilityListOut([]nahook.EventTypeVisibility{{EventTypeID: wireEventType.ID, EventTypeName: "order.created"}}),
			`[{"eventTypeId":"evt_01kaaaaaaaaaaaaaaaaaaaaaaa","eventTypeName":"order.created","published":false}]`},
		{"empty visibility list", "EventTypeVisibilityList", visibilityListOut(nil), `[]`},
		{"endpoint", "Endpoint", endpointOut(wireEndpoint),
			`{"id":"ep_01kaaaaaaaaaaaaaaaaaaaaaaa","environmentId":"env_01kaaaaaaaaaaaaaaaaaaaaaaa","applicationId":"app_01kaaaaaaaaaaaaaaaaaaaaaaa","url":"https://acme.com/webhooks?a=1&b=2","description":"Production webhook","eventTypes":["order.*","user.created"],"disabled":false,"createdAt":"2026-01-02T03:04:05.678Z","updatedAt":"2026-01-02T03:04:05.000Z"}`},
		{"endpoint of no application", "Endpoint", endpointOut(noApp),
			`{"id":"ep_01kaaaaaaaaaaaaaaaaaaaaaaa","environmentId":"env_01kaaaaaaaaaaaaaaaaaaaaaaa","applicationId":null,"url":"https://acme.com/webhooks?a=1&b=2","description":"Production webhook","eventTypes":[],"disabled":true,"createdAt":"2026-01-02T03:04:05.678Z","updatedAt":"2026-01-02T03:04:05.000Z"}`},
		{"API key", "APIKey", apiKeyOut(wireKey),
			`{"id":"key_01kaaaaaaaaaaaaaaaaaaaaaaa","environmentId":"env_01kaaaaaaaaaaaaaaaaaaaaaaa","name":"backend","prefix":"nhk_4fQz8Lw2","createdAt":"2026-01-02T03:04:05.678Z","revokedAt":null}`},
		{"revoked API key", "APIKey", apiKeyOut(revokedKey),
			`{"id":"key_01kaaaaaaaaaaaaaaaaaaaaaaa","environmentId":"env_01kaaaaaaaaaaaaaaaaaaaaaaa","name":"backend","prefix":"nhk_4fQz8Lw2","createdAt":"2026-01-02T03:04:05.678Z","revokedAt":"2026-01-02T03:04:05.000Z"}`},
		{"issued API key", "APIKeyCreated", issuedAPIKeyOut(nahook.IssuedAPIKey{APIKey: wireKey, Plaintext: "nhk_4fQz8Lw2sEcReT0123456789abcdefghijk"}),
			`{"id":"key_01kaaaaaaaaaaaaaaaaaaaaaaa","environmentId":"env_01kaaaaaaaaaaaaaaaaaaaaaaa","name":"backend","prefix":"nhk_4fQz8Lw2","key":"nhk_4fQz8Lw2sEcReT0123456789abcdefghijk","createdAt":"2026-01-02T03:04:05.678Z","revokedAt":null}`},
		{"ingested", "IngestAccepted", ingestedOut(nahook.Ingested{Event: wireEvent, Deliveries: []nahook.Delivery{wireDelivery}}),
			`{"eventId":"msg_01kaaaaaaaaaaaaaaaaaaaaaaa","eventType":"order.created","environmentId":"env_01kaaaaaaaaaaaaaaaaaaaaaaa","deliveries":[{"id":"dlv_01kaaaaaaaaaaaaaaaaaaaaaaa","endpointId":"ep_01kaaaaaaaaaaaaaaaaaaaaaaa"}]}`},
		{"ingested direct, to nobody", "IngestAccepted", ingestedOut(nahook.Ingested{Event: direct}),
			`{"eventId":"msg_01kaaaaaaaaaaaaaaaaaaaaaaa","eventType":null,"environmentId":"env_01kaaaaaaaaaaaaaaaaaaaaaaa","deliveries":[]}`},
		{"pending delivery", "Delivery", deliveryOut(wireDelivery),
			`{"id":"dlv_01kaaaaaaaaaaaaaaaaaaaaaaa","eventId":"msg_01kaaaaaaaaaaaaaaaaaaaaaaa","eventType":"order.created","endpointId":"ep_01kaaaaaaaaaaaaaaaaaaaaaaa","status":"pending","attemptCount":0,"nextAttemptAt":"2026-01-02T03:04:05.000Z","lastAttemptAt":null,"lastStatusCode":null,"lastError":null,"createdAt":"2026-01-02T03:04:05.678Z","updatedAt":"2026-01-02T03:04:05.678Z"}`},
		{"failed delivery", "Delivery", deliveryOut(wireFailed), failedJSON},
		{"delivery list", "DeliveryList", page(nahook.Page[nahook.Delivery]{Items: []nahook.Delivery{wireFailed}}, deliveryOut),
			`{"data":[` + failedJSON + `],"nextCursor":null}`},
		{"delivery detail", "DeliveryDetail", deliveryDetailOut(detail),
			strings.TrimSuffix(failedJSON, "}") + `,"event":{"id":"msg_01kaaaaaaaaaaaaaaaaaaaaaaa","eventType":null,"payload":{"id":"ord_1","total":12.50,"note":"<b>&</b>"},"createdAt":"2026-01-02T03:04:05.678Z"},` +
				`"attempts":[{"number":1,"attemptedAt":"2026-01-02T03:04:05.678Z","durationMs":1234,"statusCode":503,"response":"{\"busy\":true}","error":null},` +
				`{"number":2,"attemptedAt":"2026-01-02T03:04:05.000Z","durationMs":0,"statusCode":null,"response":"","error":"connection refused"}]}`},
		{"delivery detail before any attempt", "DeliveryDetail", deliveryDetailOut(nahook.DeliveryDetail{Delivery: wireDelivery, Event: wireEvent}),
			`{"id":"dlv_01kaaaaaaaaaaaaaaaaaaaaaaa","eventId":"msg_01kaaaaaaaaaaaaaaaaaaaaaaa","eventType":"order.created","endpointId":"ep_01kaaaaaaaaaaaaaaaaaaaaaaa","status":"pending","attemptCount":0,"nextAttemptAt":"2026-01-02T03:04:05.000Z","lastAttemptAt":null,"lastStatusCode":null,"lastError":null,"createdAt":"2026-01-02T03:04:05.678Z","updatedAt":"2026-01-02T03:04:05.678Z",` +
				`"event":{"id":"msg_01kaaaaaaaaaaaaaaaaaaaaaaa","eventType":"order.created","payload":{"id":"ord_1","total":12.50,"note":"<b>&</b>"},"createdAt":"2026-01-02T03:04:05.678Z"},"attempts":[]}`},
		{"endpoint health", "EndpointHealth", endpointHealthOut(nahook.EndpointHealth{EndpointID: wireEndpoint.ID, At: wireT1,
			LastHour: nahook.HealthWindow{Attempts: 3, Succeeded: 2, Failed: 1, SuccessRate: 2.0 / 3, P50: 128 * time.Millisecond, P99: 939 * time.Millisecond},
			LastDay:  nahook.HealthWindow{Attempts: 1200, Succeeded: 1200, SuccessRate: 1, P50: time.Millisecond, P99: 1 << 20 * time.Millisecond}}),
			`{"endpointId":"ep_01kaaaaaaaaaaaaaaaaaaaaaaa","at":"2026-01-02T03:04:05.000Z",` +
				`"lastHour":{"attempts":3,"succeeded":2,"failed":1,"successRate":0.6666666666666666,"p50Ms":128,"p99Ms":939},` +
				`"lastDay":{"attempts":1200,"succeeded":1200,"failed":0,"successRate":1,"p50Ms":1,"p99Ms":1048576}}`},
		{"endpoint health without attempts", "EndpointHealth", endpointHealthOut(nahook.EndpointHealth{EndpointID: wireEndpoint.ID, At: wireT0}),
			`{"endpointId":"ep_01kaaaaaaaaaaaaaaaaaaaaaaa","at":"2026-01-02T03:04:05.678Z",` +
				`"lastHour":{"attempts":0,"succeeded":0,"failed":0,"successRate":null,"p50Ms":null,"p99Ms":null},` +
				`"lastDay":{"attempts":0,"succeeded":0,"failed":0,"successRate":null,"p50Ms":null,"p99Ms":null}}`},
		{"secret", "EndpointSecret", secretOut("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), `{"key":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`},
		{"portal session", "PortalSession", portalSessionOut(wireSession), sessionJSON},
		{"revoked portal session", "PortalSession", portalSessionOut(revokedSession),
			strings.Replace(sessionJSON, `"revokedAt":null`, `"revokedAt":"2026-01-02T03:04:05.000Z"`, 1)},
		{"portal session list", "PortalSessionList", page(nahook.Page[nahook.PortalSession]{Items: []nahook.PortalSession{wireSession}}, portalSessionOut),
			`{"data":[` + sessionJSON + `],"nextCursor":null}`},
		{"issued portal session", "PortalSessionCreated", issuedPortalSessionOut(nahook.IssuedPortalSession{PortalSession: wireSession,
			Token: "nhp_T0kEn0123456789abcdefghijklmnopqrstuv", URL: "https://portal.example/#token=nhp_T0kEn0123456789abcdefghijklmnopqrstuv&x=<y>"}),
			strings.TrimSuffix(sessionJSON, "}") + `,"token":"nhp_T0kEn0123456789abcdefghijklmnopqrstuv","url":"https://portal.example/#token=nhp_T0kEn0123456789abcdefghijklmnopqrstuv&x=<y>"}`},
		{"issued portal session without a page", "PortalSessionCreated", issuedPortalSessionOut(nahook.IssuedPortalSession{PortalSession: wireSession, Token: "nhp_T0kEn0123456789abcdefghijklmnopqrstuv"}),
			strings.TrimSuffix(sessionJSON, "}") + `,"token":"nhp_T0kEn0123456789abcdefghijklmnopqrstuv","url":null}`},
		{"sessions revoked", "PortalSessionsRevoked", revokedOut(2), `{"revoked":2}`},
		{"portal session info", "PortalSessionInfo", portalSessionInfoOut(wireApp, wireEnv, wireSession),
			`{"applicationId":"app_01kaaaaaaaaaaaaaaaaaaaaaaa","applicationName":"Acme <Corp> & Co","environmentId":"env_01kaaaaaaaaaaaaaaaaaaaaaaa","environmentName":"Production","expiresAt":"2026-01-02T03:04:05.000Z"}`},
		{"error", "Error", errorResponse{errorBody{Code: "not_found", Message: `endpoint "ep_x" not found`, Field: "endpointId"}},
			`{"error":{"code":"not_found","message":"endpoint \"ep_x\" not found","field":"endpointId"}}`},
		{"error without a field", "Error", errorResponse{errorBody{Code: "internal", Message: "internal error"}},
			`{"error":{"code":"internal","message":"internal error"}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			writeJSON(rec, 200, c.value)
			if got := rec.Body.String(); got != c.want+"\n" {
				t.Errorf("wrote\n%s\nwant\n%s", got, c.want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var v any
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
				t.Fatal(err)
			}
			if errs := doc.validate(schema{Ref: "#/components/schemas/" + c.schema}, v, "body"); len(errs) > 0 {
				t.Errorf("not a %s:\n%s", c.schema, strings.Join(errs, "\n"))
			}
		})
	}
}
