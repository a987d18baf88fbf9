package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
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

// ingestBatch accepts up to 100 events in one request, stored in one
// transaction, and answers each with its own status: 202 and what ingest
// answers, or the error ingest would have answered, in the error shape.
// The answer is 200 whatever the events' statuses; only what concerns
// the whole batch (the key, the body, the number of events) fails it.
func ingestBatch(a *api, w http.ResponseWriter, r *http.Request) error {
	key, err := a.ingestKey(r)
	if err != nil {
		return err
	}
	var in struct {
		Events []struct {
			EventType             string            `json:"eventType"`
			EndpointID            nahook.EndpointID `json:"endpointId"`
			Payload               json.RawMessage   `json:"payload"`
			IdempotencyKey        string            `json:"idempotencyKey"`
			ApplicationID         string            `json:"applicationId"`
			ApplicationExternalID string            `json:"applicationExternalId"`
			Broadcast             bool              `json:"broadcast"`
		} `json:"events"`
	}
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	events := make([]nahook.BatchEvent, len(in.Events))
	for i, e := range in.Events {
		events[i] = nahook.BatchEvent{EventType: e.EventType, EndpointID: e.EndpointID, IngestInput: nahook.IngestInput{
			Payload: e.Payload, IdempotencyKey: e.IdempotencyKey, ApplicationID: nahook.ApplicationID(e.ApplicationID),
			ApplicationExternalID: e.ApplicationExternalID, Broadcast: e.Broadcast}}
	}
	results, err := a.nh.Events.IngestBatch(r.Context(), key, events)
	if err != nil {
		return err
	}
	out := batchResponse{Data: make([]batchItem, len(results))}
	for i, res := range results {
		if res.Err == nil {
			accepted, replayed := ingestedOut(res.Ingested), res.Replayed
			out.Data[i] = batchItem{Status: http.StatusAccepted, Replayed: &replayed, Event: &accepted}
			continue
		}
		err := res.Err
		if errors.Is(err, nahook.ErrOtherEnvironment) {
			// As ingestDirect: another environment's endpoint is not found.
			err = store.Missing("endpointId", events[i].EndpointID)
		}
		status, body, ok := brokenRule(err)
		if !ok {
			// No broken rule of the client's: logged, and told as little
			// as a 500 tells.
			a.cfg.Logger.ErrorContext(r.Context(), "httpapi: internal error in a batch", "event", i, "err", err)
			status, body = http.StatusInternalServerError, errorBody{Code: "internal", Message: "internal error"}
		}
		out.Data[i] = batchItem{Status: status, Error: &body}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// ingest stores an event with the request's key: routed, and in the outbox
// with its deliveries, before the 202. A repeat with an Idempotency-Key
// already used answers as the first did, with Idempotent-Replayed: true.
func (a *api) ingest(w http.ResponseWriter, r *http.Request, send func(key string, in nahook.IngestInput) (nahook.Ingested, error)) error {
	key, err := a.ingestKey(r)
	if err != nil {
		return err
	}
	in, err := ingestQuery(r.URL.Query())
	if err != nil {
		return err
	}
	if in.Payload, err = a.readBody(w, r); err != nil {
		return err
	}
	in.IdempotencyKey = r.Header.Get("Idempotency-Key")
	res, err := send(key, in)
	if err != nil {
		return ingestError(err)
	}
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, http.StatusAccepted, ingestedOut(res))
	return nil
}

// ingestQuery reads whom an ingest request sends its event to: one
// application, by applicationId or by applicationExternalId, or with
// broadcast=true every subscribed endpoint, whoever owns it. It refuses
// only what the query's syntax gets wrong, naming the parameter: one given
// twice, a broadcast neither true nor false, and one given empty, which is
// not read as left out: "?applicationId=" is most often a variable that
// was never set, and the event it sends is one customer's. Which
// parameters may go together is the library's rule.
func ingestQuery(q url.Values) (nahook.IngestInput, error) {
	var in nahook.IngestInput
	if err := singleParams(q, "applicationId", "applicationExternalId", "broadcast"); err != nil {
		return in, err
	}
	in.ApplicationID = nahook.ApplicationID(q.Get("applicationId"))
	in.ApplicationExternalID = q.Get("applicationExternalId")
	var err error
	in.Broadcast, err = boolParam(q, "broadcast")
	// Which of them may go together is the library's rule (IngestInput),
	// and its refusal names the parameter as the query does.
	return in, err
}

// singleParams refuses a query that gives one of the named parameters
// twice, or empty: an empty one is not read as left out, being most often
// a variable that was never set.
func singleParams(q url.Values, names ...string) error {
	for _, name := range names {
		switch v, given := q[name]; {
		case !given:
		case len(v) > 1:
			return invalid(name, "give %s once", name)
		case v[0] == "":
			return invalid(name, "%s is empty; leave it out, or give a value", name)
		}
	}
	return nil
}

// boolParam reads a parameter that is true, false, or left out (false).
func boolParam(q url.Values, name string) (bool, error) {
	switch q.Get(name) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, invalid(name, "%s must be true or false", name)
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
