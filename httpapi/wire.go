package httpapi

import (
	"encoding/json"
	"time"

	"github.com/nahook/nahook"
)

// The wire format: every body the API answers, one type and one function
// per resource. The library's records (store records, aliased by nahook)
// are storage shapes and carry no JSON tags; what a client reads is decided
// here alone, against the OpenAPI document, and pinned by TestWireFormat:
// camelCase names, null (never "") for what is absent, payloads as the
// JSON they are, times in UTC to the millisecond, and nothing only storage
// keeps (workspace IDs, hashes, idempotency keys).

// timestamp is a time as the API writes it: RFC 3339, UTC, milliseconds.
type timestamp time.Time

// MarshalJSON implements json.Marshaler.
func (t timestamp) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}

// nullableTime is a timestamp that may be absent: null.
func nullableTime(t time.Time) *timestamp {
	if t.IsZero() {
		return nil
	}
	ts := timestamp(t)
	return &ts
}

// nullable returns nil for the empty string, which the API writes as null.
func nullable[T ~string](s T) *T {
	if s == "" {
		return nil
	}
	return &s
}

// nullableInt returns nil for 0, which the API writes as null.
func nullableInt(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

// errorResponse is the body of every error: {"error": {...}}.
type errorResponse struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// listResponse is a page of a list: {"data": [...], "nextCursor": …}.
type listResponse[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"nextCursor"`
}

// page converts a page of records to the API's list.
func page[R, T any](p nahook.Page[R], convert func(R) T) listResponse[T] {
	out := listResponse[T]{Data: make([]T, 0, len(p.Items)), NextCursor: nullable(p.NextCursor)}
	for _, item := range p.Items {
		out.Data = append(out.Data, convert(item))
	}
	return out
}

// Applications.

type applicationJSON struct {
	ID         nahook.ApplicationID `json:"id"`
	ExternalID *string              `json:"externalId"`
	Name       string               `json:"name"`
	Metadata   map[string]string    `json:"metadata"`
	CreatedAt  timestamp            `json:"createdAt"`
	UpdatedAt  timestamp            `json:"updatedAt"`
}

func applicationOut(a nahook.Application) applicationJSON {
	return applicationJSON{ID: a.ID, ExternalID: nullable(a.ExternalID), Name: a.Name, Metadata: a.Metadata,
		CreatedAt: timestamp(a.CreatedAt), UpdatedAt: timestamp(a.UpdatedAt)}
}

// Environments.

type environmentJSON struct {
	ID        nahook.EnvironmentID `json:"id"`
	Name      string               `json:"name"`
	Slug      string               `json:"slug"`
	IsDefault bool                 `json:"isDefault"`
	CreatedAt timestamp            `json:"createdAt"`
	UpdatedAt timestamp            `json:"updatedAt"`
}

func environmentOut(e nahook.Environment) environmentJSON {
	return environmentJSON{ID: e.ID, Name: e.Name, Slug: e.Slug, IsDefault: e.IsDefault,
		CreatedAt: timestamp(e.CreatedAt), UpdatedAt: timestamp(e.UpdatedAt)}
}

// Event types and their visibility.

type eventTypeJSON struct {
	ID          nahook.EventTypeID `json:"id"`
	Name        string             `json:"name"`
	Description string             `json:"description"`
	CreatedAt   timestamp          `json:"createdAt"`
	UpdatedAt   timestamp          `json:"updatedAt"`
}

func eventTypeOut(e nahook.EventType) eventTypeJSON {
	return eventTypeJSON{ID: e.ID, Name: e.Name, Description: e.Description,
		CreatedAt: timestamp(e.CreatedAt), UpdatedAt: timestamp(e.UpdatedAt)}
}

type visibilityJSON struct {
	EventTypeID   nahook.EventTypeID `json:"eventTypeId"`
	EventTypeName string             `json:"eventTypeName"`
	Published     bool               `json:"published"`
}

func visibilityOut(v nahook.EventTypeVisibility) visibilityJSON {
	return visibilityJSON{EventTypeID: v.EventTypeID, EventTypeName: v.EventTypeName, Published: v.Published}
}

// visibilityListOut is the seed's shape: a bare array, not a page.
func visibilityListOut(vis []nahook.EventTypeVisibility) []visibilityJSON {
	out := make([]visibilityJSON, 0, len(vis))
	for _, v := range vis {
		out = append(out, visibilityOut(v))
	}
	return out
}

// Endpoints and their signing secrets.

type endpointJSON struct {
	ID            nahook.EndpointID     `json:"id"`
	EnvironmentID nahook.EnvironmentID  `json:"environmentId"`
	ApplicationID *nahook.ApplicationID `json:"applicationId"`
	URL           string                `json:"url"`
	Description   string                `json:"description"`
	EventTypes    []string              `json:"eventTypes"`
	Disabled      bool                  `json:"disabled"`
	CreatedAt     timestamp             `json:"createdAt"`
	UpdatedAt     timestamp             `json:"updatedAt"`
}

func endpointOut(e nahook.Endpoint) endpointJSON {
	return endpointJSON{ID: e.ID, EnvironmentID: e.EnvironmentID, ApplicationID: nullable(e.ApplicationID), URL: e.URL,
		Description: e.Description, EventTypes: e.EventTypes, Disabled: e.Disabled,
		CreatedAt: timestamp(e.CreatedAt), UpdatedAt: timestamp(e.UpdatedAt)}
}

// secretJSON is an endpoint's signing secret, as the spec writes it:
// {"key": "whsec_…"}.
type secretJSON struct {
	Key string `json:"key"`
}

func secretOut(key string) secretJSON { return secretJSON{key} }

// Endpoint health.

type endpointHealthJSON struct {
	EndpointID nahook.EndpointID `json:"endpointId"`
	At         timestamp         `json:"at"`
	LastHour   healthWindowJSON  `json:"lastHour"`
	LastDay    healthWindowJSON  `json:"lastDay"`
}

// healthWindowJSON is one window of an endpoint's health: the rate and
// percentiles are null when the window has no attempts, rather than a 0
// that reads as a figure.
type healthWindowJSON struct {
	Attempts    int      `json:"attempts"`
	Succeeded   int      `json:"succeeded"`
	Failed      int      `json:"failed"`
	SuccessRate *float64 `json:"successRate"`
	P50Ms       *int64   `json:"p50Ms"`
	P99Ms       *int64   `json:"p99Ms"`
}

func endpointHealthOut(h nahook.EndpointHealth) endpointHealthJSON {
	return endpointHealthJSON{EndpointID: h.EndpointID, At: timestamp(h.At),
		LastHour: healthWindowOut(h.LastHour), LastDay: healthWindowOut(h.LastDay)}
}

func healthWindowOut(w nahook.HealthWindow) healthWindowJSON {
	out := healthWindowJSON{Attempts: w.Attempts, Succeeded: w.Succeeded, Failed: w.Failed}
	if w.Attempts > 0 {
		rate, p50, p99 := w.SuccessRate, w.P50.Milliseconds(), w.P99.Milliseconds()
		out.SuccessRate, out.P50Ms, out.P99Ms = &rate, &p50, &p99
	}
	return out
}

// API keys.

type apiKeyJSON struct {
	ID            nahook.APIKeyID      `json:"id"`
	EnvironmentID nahook.EnvironmentID `json:"environmentId"`
	Name          string               `json:"name"`
	Prefix        string               `json:"prefix"`
	// Key is the plaintext, present only in the answer that creates it.
	Key       string     `json:"key,omitempty"`
	CreatedAt timestamp  `json:"createdAt"`
	RevokedAt *timestamp `json:"revokedAt"`
}

func apiKeyOut(k nahook.APIKey) apiKeyJSON {
	return apiKeyJSON{ID: k.ID, EnvironmentID: k.EnvironmentID, Name: k.Name, Prefix: k.Prefix,
		CreatedAt: timestamp(k.CreatedAt), RevokedAt: nullableTime(k.RevokedAt)}
}

// issuedAPIKeyOut answers the request that creates a key: the only answer
// that carries its plaintext.
func issuedAPIKeyOut(k nahook.IssuedAPIKey) apiKeyJSON {
	out := apiKeyOut(k.APIKey)
	out.Key = k.Plaintext
	return out
}

// Ingestion.

// ingestResponse answers an accepted event: its ID and its deliveries.
type ingestResponse struct {
	EventID       nahook.EventID       `json:"eventId"`
	EventType     *string              `json:"eventType"`
	EnvironmentID nahook.EnvironmentID `json:"environmentId"`
	Deliveries    []ingestDelivery     `json:"deliveries"`
}

type ingestDelivery struct {
	ID         nahook.DeliveryID `json:"id"`
	EndpointID nahook.EndpointID `json:"endpointId"`
}

// batchResponse answers a batch: one item per event, in order.
type batchResponse struct {
	Data []batchItem `json:"data"`
}

// batchItem is one event's answer in a batch: its status, and what a
// single ingest would have answered: the event accepted (and whether it
// was a replay, which a single ingest says in a header), or the error.
type batchItem struct {
	Status   int             `json:"status"`
	Replayed *bool           `json:"replayed,omitempty"`
	Event    *ingestResponse `json:"event,omitempty"`
	Error    *errorBody      `json:"error,omitempty"`
}

func ingestedOut(res nahook.Ingested) ingestResponse {
	out := ingestResponse{EventID: res.Event.ID, EventType: nullable(res.Event.EventType),
		EnvironmentID: res.Event.EnvironmentID, Deliveries: make([]ingestDelivery, 0, len(res.Deliveries))}
	for _, d := range res.Deliveries {
		out.Deliveries = append(out.Deliveries, ingestDelivery{ID: d.ID, EndpointID: d.EndpointID})
	}
	return out
}

// Deliveries, their events and attempts.

type deliveryJSON struct {
	ID             nahook.DeliveryID     `json:"id"`
	EventID        nahook.EventID        `json:"eventId"`
	EventType      *string               `json:"eventType"`
	EndpointID     nahook.EndpointID     `json:"endpointId"`
	Status         nahook.DeliveryStatus `json:"status"`
	AttemptCount   int                   `json:"attemptCount"`
	NextAttemptAt  *timestamp            `json:"nextAttemptAt"`
	LastAttemptAt  *timestamp            `json:"lastAttemptAt"`
	LastStatusCode *int                  `json:"lastStatusCode"`
	LastError      *string               `json:"lastError"`
	CreatedAt      timestamp             `json:"createdAt"`
	UpdatedAt      timestamp             `json:"updatedAt"`
}

func deliveryOut(d nahook.Delivery) deliveryJSON {
	return deliveryJSON{ID: d.ID, EventID: d.EventID, EventType: nullable(d.EventType), EndpointID: d.EndpointID,
		Status: d.Status, AttemptCount: d.Attempts, NextAttemptAt: nullableTime(d.NextAttemptAt),
		LastAttemptAt: nullableTime(d.LastAttemptAt), LastStatusCode: nullableInt(d.LastStatusCode),
		LastError: nullable(d.LastError), CreatedAt: timestamp(d.CreatedAt), UpdatedAt: timestamp(d.UpdatedAt)}
}

type attemptJSON struct {
	Number      int       `json:"number"`
	AttemptedAt timestamp `json:"attemptedAt"`
	DurationMs  int64     `json:"durationMs"`
	StatusCode  *int      `json:"statusCode"`
	Response    string    `json:"response"`
	Error       *string   `json:"error"`
}

func attemptOut(a nahook.Attempt) attemptJSON {
	return attemptJSON{Number: a.Number, AttemptedAt: timestamp(a.AttemptedAt), DurationMs: a.Duration.Milliseconds(),
		StatusCode: nullableInt(a.StatusCode), Response: a.Response, Error: nullable(a.Error)}
}

// eventJSON is an event as a delivery's detail shows it: the payload is
// the JSON it was ingested as, never base64.
type eventJSON struct {
	ID        nahook.EventID  `json:"id"`
	EventType *string         `json:"eventType"`
	Payload   json.RawMessage `json:"payload"`
	CreatedAt timestamp       `json:"createdAt"`
}

func eventOut(e nahook.Event) eventJSON {
	return eventJSON{ID: e.ID, EventType: nullable(e.EventType), Payload: json.RawMessage(e.Payload),
		CreatedAt: timestamp(e.CreatedAt)}
}

type deliveryDetailJSON struct {
	deliveryJSON
	Event    eventJSON     `json:"event"`
	Attempts []attemptJSON `json:"attempts"`
}

func deliveryDetailOut(d nahook.DeliveryDetail) deliveryDetailJSON {
	out := deliveryDetailJSON{deliveryJSON: deliveryOut(d.Delivery), Event: eventOut(d.Event),
		Attempts: make([]attemptJSON, 0, len(d.Attempts))}
	for _, a := range d.Attempts {
		out.Attempts = append(out.Attempts, attemptOut(a))
	}
	return out
}

// Portal sessions.

type portalSessionJSON struct {
	ID            nahook.PortalSessionID `json:"id"`
	ApplicationID nahook.ApplicationID   `json:"applicationId"`
	EnvironmentID nahook.EnvironmentID   `json:"environmentId"`
	ExpiresAt     timestamp              `json:"expiresAt"`
	CreatedAt     timestamp              `json:"createdAt"`
	RevokedAt     *timestamp             `json:"revokedAt"`
}

func portalSessionOut(s nahook.PortalSession) portalSessionJSON {
	return portalSessionJSON{ID: s.ID, ApplicationID: s.ApplicationID, EnvironmentID: s.EnvironmentID,
		ExpiresAt: timestamp(s.ExpiresAt), CreatedAt: timestamp(s.CreatedAt), RevokedAt: nullableTime(s.RevokedAt)}
}

// issuedPortalSessionJSON answers the request that creates a session: the
// only answer that carries its token.
type issuedPortalSessionJSON struct {
	portalSessionJSON
	Token string `json:"token"`
	// URL is null when the server has no portal page configured.
	URL *string `json:"url"`
}

func issuedPortalSessionOut(s nahook.IssuedPortalSession) issuedPortalSessionJSON {
	return issuedPortalSessionJSON{portalSessionOut(s.PortalSession), s.Token, nullable(s.URL)}
}

// revokedJSON counts the sessions a revocation ended.
type revokedJSON struct {
	Revoked int `json:"revoked"`
}

func revokedOut(n int) revokedJSON { return revokedJSON{n} }

// queuedJSON answers a recovery: how many deliveries it made due.
type queuedJSON struct {
	Queued int `json:"queued"`
}

func queuedOut(n int) queuedJSON { return queuedJSON{n} }

// portalSessionInfoJSON tells the portal page whose endpoints it shows.
type portalSessionInfoJSON struct {
	ApplicationID   nahook.ApplicationID `json:"applicationId"`
	ApplicationName string               `json:"applicationName"`
	EnvironmentID   nahook.EnvironmentID `json:"environmentId"`
	EnvironmentName string               `json:"environmentName"`
	ExpiresAt       timestamp            `json:"expiresAt"`
}

func portalSessionInfoOut(app nahook.Application, env nahook.Environment, s nahook.PortalSession) portalSessionInfoJSON {
	return portalSessionInfoJSON{ApplicationID: app.ID, ApplicationName: app.Name,
		EnvironmentID: env.ID, EnvironmentName: env.Name, ExpiresAt: timestamp(s.ExpiresAt)}
}

// eventSummaryJSON is an event as the message log lists it: what it was
// sent to, without its payload.
type eventSummaryJSON struct {
	ID            nahook.EventID        `json:"id"`
	EventType     *string               `json:"eventType"`
	EnvironmentID nahook.EnvironmentID  `json:"environmentId"`
	ApplicationID *nahook.ApplicationID `json:"applicationId"`
	EndpointID    *nahook.EndpointID    `json:"endpointId"`
	Broadcast     bool                  `json:"broadcast"`
	CreatedAt     timestamp             `json:"createdAt"`
}

func eventSummaryOut(e nahook.Event) eventSummaryJSON {
	return eventSummaryJSON{ID: e.ID, EventType: nullable(e.EventType), EnvironmentID: e.EnvironmentID,
		ApplicationID: nullable(e.ApplicationID), EndpointID: nullable(e.EndpointID), Broadcast: e.Broadcast,
		CreatedAt: timestamp(e.CreatedAt)}
}

// Explanations.

// explanationJSON is Router.ExplainRoute's answer: every endpoint of the
// workspace, whether it receives the event, and if not, why.
type explanationJSON struct {
	EventType     string                `json:"eventType"`
	EventTypeID   *nahook.EventTypeID   `json:"eventTypeId"`
	EnvironmentID nahook.EnvironmentID  `json:"environmentId"`
	ApplicationID *nahook.ApplicationID `json:"applicationId"`
	Broadcast     bool                  `json:"broadcast"`
	Published     bool                  `json:"published"`
	Endpoints     []verdictJSON         `json:"endpoints"`
}

type verdictJSON struct {
	ID            nahook.EndpointID     `json:"id"`
	URL           string                `json:"url"`
	EnvironmentID nahook.EnvironmentID  `json:"environmentId"`
	ApplicationID *nahook.ApplicationID `json:"applicationId"`
	Receives      bool                  `json:"receives"`
	Reasons       []nahook.Reason       `json:"reasons"`
	DeliveryID    *nahook.DeliveryID    `json:"deliveryId"`
}

func explanationOut(x nahook.Explanation) explanationJSON {
	out := explanationJSON{EventType: x.EventType, EventTypeID: nullable(x.EventTypeID), EnvironmentID: x.EnvironmentID,
		ApplicationID: nullable(x.ApplicationID), Broadcast: x.Broadcast, Published: x.Published,
		Endpoints: make([]verdictJSON, 0, len(x.Endpoints))}
	for _, v := range x.Endpoints {
		reasons := v.Reasons
		if reasons == nil {
			reasons = []nahook.Reason{}
		}
		out.Endpoints = append(out.Endpoints, verdictJSON{ID: v.ID, URL: v.URL, EnvironmentID: v.EnvironmentID,
			ApplicationID: nullable(v.ApplicationID), Receives: v.Receives, Reasons: reasons, DeliveryID: nullable(v.DeliveryID)})
	}
	return out
}
