package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/nahook/nahook"
)

// ingestEvent accepts an event for fan-out: every endpoint of the key's
// environment subscribed to its type.
func ingestEvent(a *api, w http.ResponseWriter, r *http.Request) error {
	return a.ingest(w, r, func(key string, in nahook.IngestInput) (nahook.Ingested, error) {
		return a.nh.Events.Ingest(r.Context(), key, r.PathValue("eventType"), in)
	})
}

// ingestDirect accepts an event for one endpoint of the key's environment.
func ingestDirect(a *api, w http.ResponseWriter, r *http.Request) error {
	return a.ingest(w, r, func(key string, in nahook.IngestInput) (nahook.Ingested, error) {
		return a.nh.Events.IngestDirect(r.Context(), key, nahook.EndpointID(r.PathValue("endpointId")), in)
	})
}

// ingest stores an event with the request's key: routed, and in the outbox
// with its deliveries, before the 202. A repeat with an Idempotency-Key
// already used answers as the first did, with Idempotent-Replayed: true.
func (a *api) ingest(w http.ResponseWriter, r *http.Request, send func(key string, in nahook.IngestInput) (nahook.Ingested, error)) error {
	key, err := a.ingestKey(r)
	if err != nil {
		return err
	}
	body, err := a.readBody(w, r)
	if err != nil {
		return err
	}
	res, err := send(key, nahook.IngestInput{Payload: body, IdempotencyKey: r.Header.Get("Idempotency-Key"),
		ApplicationID: nahook.ApplicationID(r.URL.Query().Get("applicationId"))})
	if e, ok := errors.AsType[*nahook.Error](err); ok {
		// Name the inputs as this API spells them.
		switch e.Field {
		case "payload":
			e.Field = "body"
		case "idempotencyKey":
			e.Field = "Idempotency-Key"
		}
	}
	if err != nil {
		return err
	}
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, http.StatusAccepted, ingestedOut(res))
	return nil
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
