package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

// ingestEvent accepts an event for fan-out: every endpoint of the key's
// environment subscribed to its type.
func ingestEvent(a *api, w http.ResponseWriter, r *http.Request) error {
	return a.ingest(w, r, func(key string, in nahook.IngestInput) (nahook.Ingested, error) {
		return a.nh.Events.Ingest(r.Context(), key, r.PathValue("eventType"), in)
	})
}

// ingestDirect accepts an event for one endpoint of the key's environment.
// An endpoint of another environment is not found, in the very words used
// for one that does not exist, so that a key cannot learn what lies outside
// its environment.
func ingestDirect(a *api, w http.ResponseWriter, r *http.Request) error {
	endpoint := nahook.EndpointID(r.PathValue("endpointId"))
	return a.ingest(w, r, func(key string, in nahook.IngestInput) (nahook.Ingested, error) {
		res, err := a.nh.Events.IngestDirect(r.Context(), key, endpoint, in)
		if errors.Is(err, nahook.ErrOtherEnvironment) {
			return res, store.Missing("endpointId", endpoint)
		}
		return res, err
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
	if err != nil {
		return ingestError(err)
	}
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, http.StatusAccepted, ingestedOut(res))
	return nil
}

// ingestFields names the inputs of an ingest call as this API spells
// them: the payload is the request body, the idempotency key a header.
var ingestFields = map[string]string{"payload": "body", "idempotencyKey": "Idempotency-Key"}

// ingestError returns err with the field at fault spelled as this API
// spells it: a new error, never the library's edited in place (the library
// may hand the same value to other callers, or keep it).
func ingestError(err error) error {
	e, ok := errors.AsType[*nahook.Error](err)
	if !ok {
		return err
	}
	field, ok := ingestFields[e.Field]
	if !ok {
		return err
	}
	renamed := *e
	renamed.Field = field
	return &renamed
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
