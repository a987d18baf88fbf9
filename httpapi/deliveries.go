package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/nahook/nahook"
)

// Deliveries and signing secrets.

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
	out := deliveryJSON{ID: d.ID, EventID: d.EventID, EventType: nullable(d.EventType), EndpointID: d.EndpointID,
		Status: d.Status, AttemptCount: d.Attempts, NextAttemptAt: nullableTime(d.NextAttemptAt), LastAttemptAt: nullableTime(d.LastAttemptAt),
		LastError: nullable(d.LastError), CreatedAt: timestamp(d.CreatedAt), UpdatedAt: timestamp(d.UpdatedAt)}
	if d.LastStatusCode != 0 {
		out.LastStatusCode = &d.LastStatusCode
	}
	return out
}

type attemptJSON struct {
	Number      int       `json:"number"`
	AttemptedAt timestamp `json:"attemptedAt"`
	DurationMs  int64     `json:"durationMs"`
	StatusCode  *int      `json:"statusCode"`
	Response    string    `json:"response"`
	Error       *string   `json:"error"`
}

type eventJSON struct {
	ID        nahook.EventID  `json:"id"`
	EventType *string         `json:"eventType"`
	Payload   json.RawMessage `json:"payload"`
	CreatedAt timestamp       `json:"createdAt"`
}

type deliveryDetailJSON struct {
	deliveryJSON
	Event    eventJSON     `json:"event"`
	Attempts []attemptJSON `json:"attempts"`
}

func deliveryDetailOut(d nahook.DeliveryDetail) deliveryDetailJSON {
	out := deliveryDetailJSON{
		deliveryJSON: deliveryOut(d.Delivery),
		Event: eventJSON{ID: d.Event.ID, EventType: nullable(d.Event.EventType), Payload: json.RawMessage(d.Event.Payload),
			CreatedAt: timestamp(d.Event.CreatedAt)},
		Attempts: make([]attemptJSON, 0, len(d.Attempts)),
	}
	for _, a := range d.Attempts {
		aj := attemptJSON{Number: a.Number, AttemptedAt: timestamp(a.AttemptedAt), DurationMs: a.Duration.Milliseconds(),
			Response: a.Response, Error: nullable(a.Error)}
		if a.StatusCode != 0 {
			aj.StatusCode = &a.StatusCode
		}
		out.Attempts = append(out.Attempts, aj)
	}
	return out
}

func listEndpointDeliveries(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	opts, err := listOptions(r)
	if err != nil {
		return err
	}
	f := nahook.DeliveryFilter{EndpointID: nahook.EndpointID(r.PathValue("endpointId")), Status: nahook.DeliveryStatus(r.URL.Query().Get("status"))}
	p, err := a.nh.Deliveries.List(r.Context(), ws, f, opts)
	return respondPage(w, deliveryOut, p, err)
}

func getDelivery(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	d, err := a.nh.Deliveries.Get(r.Context(), ws, nahook.DeliveryID(r.PathValue("deliveryId")))
	return respond(w, http.StatusOK, deliveryDetailOut, d, err)
}

func retryDelivery(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	d, err := a.nh.Deliveries.Retry(r.Context(), ws, nahook.DeliveryID(r.PathValue("deliveryId")))
	return respond(w, http.StatusAccepted, deliveryOut, d, err)
}

// secretJSON is an endpoint's signing secret, as the spec writes it:
// {"key": "whsec_…"}.
type secretJSON struct {
	Key string `json:"key"`
}

func secretOut(key string) secretJSON { return secretJSON{key} }

func getEndpointSecret(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	s, err := a.nh.Endpoints.Secret(r.Context(), ws, nahook.EndpointID(r.PathValue("endpointId")))
	w.Header().Set("Cache-Control", "no-store")
	return respond(w, http.StatusOK, secretOut, s, err)
}

func rotateEndpointSecret(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	s, err := a.nh.Endpoints.RotateSecret(r.Context(), ws, nahook.EndpointID(r.PathValue("endpointId")))
	w.Header().Set("Cache-Control", "no-store")
	return respond(w, http.StatusOK, secretOut, s, err)
}
