package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/nahook/nahook"
)

// Deliveries and signing secrets.

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

func resendDelivery(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	d, err := a.nh.Deliveries.Resend(r.Context(), ws, nahook.DeliveryID(r.PathValue("deliveryId")))
	return respond(w, http.StatusAccepted, deliveryOut, d, err)
}

// The endpoint of a recovery is looked up before its body is read, so
// that a bad body cannot tell apart endpoints that exist from those that
// do not.

func recoverEndpoint(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	ep, err := a.nh.Endpoints.Get(r.Context(), ws, nahook.EndpointID(r.PathValue("endpointId")))
	if err != nil {
		return err
	}
	opts, err := a.decodeRecover(w, r)
	if err != nil {
		return err
	}
	n, err := a.nh.Deliveries.Recover(r.Context(), ws, ep.ID, opts)
	return respond(w, http.StatusAccepted, queuedOut, n, err)
}

func replayMissing(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	ep, err := a.nh.Endpoints.Get(r.Context(), ws, nahook.EndpointID(r.PathValue("endpointId")))
	if err != nil {
		return err
	}
	opts, err := a.decodeReplay(w, r)
	if err != nil {
		return err
	}
	n, err := a.nh.Deliveries.ReplayMissing(r.Context(), ws, ep.ID, opts)
	return respond(w, http.StatusAccepted, queuedOut, n, err)
}

// decodeRecover reads the window of a recovery: {"since", "until"?}.
func (a *api) decodeRecover(w http.ResponseWriter, r *http.Request) (nahook.RecoverOptions, error) {
	var in struct {
		Since optional[string] `json:"since"`
		Until optional[string] `json:"until"`
	}
	if err := a.decode(w, r, &in); err != nil {
		return nahook.RecoverOptions{}, err
	}
	since, err := timeField("since", in.Since, true)
	if err != nil {
		return nahook.RecoverOptions{}, err
	}
	until, err := timeField("until", in.Until, false)
	return nahook.RecoverOptions{Since: since, Until: until}, err
}

// decodeReplay reads how far back a replay looks: {"since"}.
func (a *api) decodeReplay(w http.ResponseWriter, r *http.Request) (nahook.ReplayOptions, error) {
	var in struct {
		Since optional[string] `json:"since"`
	}
	if err := a.decode(w, r, &in); err != nil {
		return nahook.ReplayOptions{}, err
	}
	since, err := timeField("since", in.Since, true)
	return nahook.ReplayOptions{Since: since}, err
}

// timeField reads a time given as RFC 3339 text; absent or null, it is the
// zero time, or, if required, refused.
func timeField(field string, v optional[string], required bool) (time.Time, error) {
	if !v.Set || v.Null {
		if required {
			return time.Time{}, invalid(field, "%s is required: a time such as 2026-12-01T09:00:00Z", field)
		}
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v.Value)
	if err != nil {
		return time.Time{}, invalid(field, "%s must be a time in RFC 3339, such as 2026-12-01T09:00:00Z", field)
	}
	return t, nil
}

// listEvents is the message log: the workspace's events, newest first,
// narrowed by environment, type, application and time.
func listEvents(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	opts, err := listOptions(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := singleParams(q, "environmentId", "eventType", "applicationId", "since", "until"); err != nil {
		return err
	}
	f := nahook.EventFilter{EnvironmentID: nahook.EnvironmentID(q.Get("environmentId")), EventType: q.Get("eventType"),
		ApplicationID: nahook.ApplicationID(q.Get("applicationId")), NewestFirst: true}
	if f.Since, err = timeParam(q, "since"); err != nil {
		return err
	}
	if f.Until, err = timeParam(q, "until"); err != nil {
		return err
	}
	p, err := a.nh.Events.List(r.Context(), ws, f, opts)
	return respondPage(w, eventSummaryOut, p, err)
}

// listDeliveries lists the workspace's deliveries, newest first, narrowed
// by endpoint, event, application, status and time.
func listDeliveries(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	opts, err := listOptions(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := singleParams(q, "endpointId", "eventId", "applicationId", "status", "since", "until"); err != nil {
		return err
	}
	f := nahook.DeliveryFilter{EndpointID: nahook.EndpointID(q.Get("endpointId")), EventID: nahook.EventID(q.Get("eventId")),
		ApplicationID: nahook.ApplicationID(q.Get("applicationId")), Status: nahook.DeliveryStatus(q.Get("status")), NewestFirst: true}
	if f.Since, err = timeParam(q, "since"); err != nil {
		return err
	}
	if f.Until, err = timeParam(q, "until"); err != nil {
		return err
	}
	p, err := a.nh.Deliveries.List(r.Context(), ws, f, opts)
	return respondPage(w, deliveryOut, p, err)
}

// timeParam reads a query parameter given as an RFC 3339 time; absent, it
// is the zero time.
func timeParam(q url.Values, name string) (time.Time, error) {
	if !q.Has(name) {
		return time.Time{}, nil
	}
	return timeField(name, optional[string]{Set: true, Value: q.Get(name)}, false)
}

// explainEvent answers "who would receive this event, and why not the
// others": Router.ExplainRoute for the event the query names.
func explainEvent(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	q := r.URL.Query()
	if err := singleParams(q, "eventType", "environmentId", "applicationId", "broadcast"); err != nil {
		return err
	}
	rq := nahook.RouteQuery{WorkspaceID: ws, EventType: q.Get("eventType"),
		EnvironmentID: nahook.EnvironmentID(q.Get("environmentId")), ApplicationID: nahook.ApplicationID(q.Get("applicationId"))}
	if rq.EventType == "" {
		return invalid("eventType", "eventType is required: the name of the event type to explain")
	}
	var err error
	if rq.Broadcast, err = boolParam(q, "broadcast"); err != nil {
		return err
	}
	if rq.ApplicationID != "" {
		// An application the workspace does not have owns no endpoint:
		// every endpoint would be "other_application", which explains
		// nothing.
		if _, err := a.nh.Applications.Get(r.Context(), ws, rq.ApplicationID); errors.Is(err, nahook.ErrNotFound) {
			return &nahook.Error{Kind: nahook.ErrNotFound, Field: "applicationId", Message: fmt.Sprintf("application %q not found", rq.ApplicationID)}
		} else if err != nil {
			return err
		}
	}
	x, err := a.nh.Router.ExplainRoute(r.Context(), rq)
	return respond(w, http.StatusOK, explanationOut, x, err)
}

// explainStoredEvent answers why each endpoint did or did not get a stored
// event: EventService.Explain.
func explainStoredEvent(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	x, err := a.nh.Events.Explain(r.Context(), ws, nahook.EventID(r.PathValue("eventId")))
	return respond(w, http.StatusOK, explanationOut, x, err)
}

func getEndpointHealth(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	h, err := a.nh.Endpoints.Health(r.Context(), ws, nahook.EndpointID(r.PathValue("endpointId")))
	return respond(w, http.StatusOK, endpointHealthOut, h, err)
}

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
