package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/internal/typeid"
)

// ingestResponse answers an accepted event: its ID and where it goes.
type ingestResponse struct {
	EventID       string               `json:"eventId"`
	EventType     *string              `json:"eventType"`
	EnvironmentID nahook.EnvironmentID `json:"environmentId"`
	Deliveries    []deliveryJSON       `json:"deliveries"`
}

type deliveryJSON struct {
	EndpointID nahook.EndpointID `json:"endpointId"`
}

// ingestEvent accepts an event for fan-out: every endpoint of the key's
// environment subscribed to its type.
func ingestEvent(a *api, w http.ResponseWriter, r *http.Request) error {
	return a.ingest(w, r, func(key string) (nahook.Route, error) {
		return a.nh.Router.Resolve(r.Context(), key, r.PathValue("eventType"))
	})
}

// ingestDirect accepts an event for one endpoint of the key's environment.
func ingestDirect(a *api, w http.ResponseWriter, r *http.Request) error {
	return a.ingest(w, r, func(key string) (nahook.Route, error) {
		return a.nh.Router.ResolveDirect(r.Context(), key, nahook.EndpointID(r.PathValue("endpointId")))
	})
}

// ingest routes an event with the request's key, then accepts its payload.
// Routing comes first: a request with a bad key or type is refused without
// reading its body.
func (a *api) ingest(w http.ResponseWriter, r *http.Request, resolve func(key string) (nahook.Route, error)) error {
	key, err := a.ingestKey(r)
	if err != nil {
		return err
	}
	route, err := resolve(key)
	if err != nil {
		return err
	}
	if _, err := a.payload(w, r); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, accepted(route))
	return nil
}

func accepted(route nahook.Route) ingestResponse {
	out := ingestResponse{
		EventID:       typeid.New("msg"),
		EventType:     nullable(route.EventType),
		EnvironmentID: route.EnvironmentID,
		Deliveries:    make([]deliveryJSON, 0, len(route.Endpoints)),
	}
	for _, t := range route.Endpoints {
		out.Deliveries = append(out.Deliveries, deliveryJSON{EndpointID: t.ID})
	}
	return out
}

// ingestKey returns the environment key of an ingest request.
func (a *api) ingestKey(r *http.Request) (string, error) {
	key, err := bearer(r)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(key, nahook.ManagementKeyPrefix) {
		return "", errForbidden("a management key (nhm_…) cannot ingest events; use an environment key (nhk_…)")
	}
	return key, nil
}

// payload reads the event's body: any JSON value, within the size limit.
func (a *api) payload(w http.ResponseWriter, r *http.Request) (json.RawMessage, error) {
	body, err := a.readBody(w, r)
	if err != nil {
		return nil, err
	}
	if !json.Valid(body) {
		return nil, invalid("body", "the event payload must be valid JSON")
	}
	return body, nil
}
