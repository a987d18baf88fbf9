package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/nahook/nahook"
)

// portalPrefix is where the portal API lives: the routes an end-customer's
// browser calls with a portal session token (nhp_…).
const portalPrefix = "/portal/v1"

// portalRoutes lists every route of the portal API. Each acts only on the
// session's application in the session's environment.
var portalRoutes = []struct {
	method, path string
	handle       func(a *api, w http.ResponseWriter, r *http.Request, p *nahook.Portal) error
}{
	{"GET", "/session", getPortalSession},
	{"DELETE", "/session", endPortalSession},
	{"GET", "/event-types", listPortalEventTypes},
	{"POST", "/endpoints", createPortalEndpoint},
	{"GET", "/endpoints", listPortalEndpoints},
	{"GET", "/endpoints/{endpointId}", getPortalEndpoint},
	{"PATCH", "/endpoints/{endpointId}", updatePortalEndpoint},
	{"DELETE", "/endpoints/{endpointId}", deletePortalEndpoint},
	{"GET", "/endpoints/{endpointId}/secret", getPortalEndpointSecret},
	{"POST", "/endpoints/{endpointId}/secret/rotate", rotatePortalEndpointSecret},
	{"GET", "/endpoints/{endpointId}/deliveries", listPortalEndpointDeliveries},
	{"GET", "/endpoints/{endpointId}/health", getPortalEndpointHealth},
	{"POST", "/endpoints/{endpointId}/recover", recoverPortalEndpoint},
	{"POST", "/endpoints/{endpointId}/replay-missing", replayPortalMissing},
	{"GET", "/deliveries/{deliveryId}", getPortalDelivery},
	{"POST", "/deliveries/{deliveryId}/resend", resendPortalDelivery},
}

// portal authenticates a portal request by its session token, then serves
// it. Nothing a portal answers may be cached: it is one customer's view,
// secrets included.
func (a *api) portal(h func(a *api, w http.ResponseWriter, r *http.Request, p *nahook.Portal) error) http.Handler {
	return a.handler(func(a *api, w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "no-store")
		token, err := bearer(r)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(token, nahook.PortalTokenPrefix) {
			return &nahook.Error{Kind: nahook.ErrUnauthorized, Message: "the portal API takes a portal session token (nhp_…); API keys cannot use it"}
		}
		p, err := a.nh.PortalSessions.Authenticate(r.Context(), token)
		if err != nil {
			return err
		}
		return h(a, w, r, p)
	})
}

// Portal sessions, as the management and dashboard APIs issue them.

// maxExpiresIn is MaxPortalSessionTTL in the seconds expiresIn counts.
const maxExpiresIn = int64(nahook.MaxPortalSessionTTL / time.Second)

func createPortalSession(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	var in struct {
		ApplicationID nahook.ApplicationID `json:"applicationId"`
		EnvironmentID nahook.EnvironmentID `json:"environmentId"`
		ExpiresIn     optional[int64]      `json:"expiresIn"`
	}
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	input := nahook.PortalSessionInput{ApplicationID: in.ApplicationID, EnvironmentID: in.EnvironmentID}
	if in.ExpiresIn.Set && !in.ExpiresIn.Null {
		if in.ExpiresIn.Value < 1 || in.ExpiresIn.Value > maxExpiresIn {
			return invalid("expiresIn", "expiresIn must be a whole number of seconds from 1 to %d (24 hours); leave it out for 1 hour", maxExpiresIn)
		}
		input.ExpiresIn = time.Duration(in.ExpiresIn.Value) * time.Second
	}
	s, err := a.nh.PortalSessions.Create(r.Context(), ws, input)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store") // the token must not linger in caches
	writeJSON(w, http.StatusCreated, issuedPortalSessionOut(s))
	return nil
}

func revokePortalSession(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	_, err := a.nh.PortalSessions.Revoke(r.Context(), ws, nahook.PortalSessionID(r.PathValue("sessionId")))
	return noContent(w, err)
}

func listApplicationPortalSessions(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	opts, err := listOptions(r)
	if err != nil {
		return err
	}
	p, err := a.nh.PortalSessions.List(r.Context(), ws, nahook.ApplicationID(r.PathValue("appId")), opts)
	return respondPage(w, portalSessionOut, p, err)
}

func revokeApplicationPortalSessions(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	n, err := a.nh.PortalSessions.RevokeAll(r.Context(), ws, nahook.ApplicationID(r.PathValue("appId")))
	return respond(w, http.StatusOK, revokedOut, n, err)
}

// The portal API.

func getPortalSession(a *api, w http.ResponseWriter, r *http.Request, p *nahook.Portal) error {
	app, err := p.Application(r.Context())
	if err != nil {
		return err
	}
	env, err := p.Environment(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, portalSessionInfoOut(app, env, p.Session()))
	return nil
}

// endPortalSession revokes the session the request came with: signing out.
func endPortalSession(a *api, w http.ResponseWriter, r *http.Request, p *nahook.Portal) error {
	return noContent(w, p.Revoke(r.Context()))
}

func listPortalEventTypes(a *api, w http.ResponseWriter, r *http.Request, p *nahook.Portal) error {
	types, err := p.EventTypes(r.Context())
	return respondPage(w, eventTypeOut, nahook.Page[nahook.EventType]{Items: types}, err)
}

// portalEndpointInput is the body that creates an endpoint in the portal:
// the application and environment are the session's, never the body's.
type portalEndpointInput struct {
	URL         string   `json:"url"`
	Description string   `json:"description"`
	EventTypes  []string `json:"eventTypes"`
	Disabled    bool     `json:"disabled"`
}

func createPortalEndpoint(a *api, w http.ResponseWriter, r *http.Request, p *nahook.Portal) error {
	var in portalEndpointInput
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	ep, err := p.CreateEndpoint(r.Context(), nahook.PortalEndpointInput{URL: in.URL, Description: in.Description,
		EventTypes: in.EventTypes, Disabled: in.Disabled})
	return respond(w, http.StatusCreated, endpointOut, ep, err)
}

func listPortalEndpoints(a *api, w http.ResponseWriter, r *http.Request, p *nahook.Portal) error {
	opts, err := listOptions(r)
	if err != nil {
		return err
	}
	page, err := p.ListEndpoints(r.Context(), opts)
	return respondPage(w, endpointOut, page, err)
}

func getPortalEndpoint(a *api, w http.ResponseWriter, r *http.Request, p *nahook.Portal) error {
	ep, err := p.GetEndpoint(r.Context(), nahook.EndpointID(r.PathValue("endpointId")))
	return respond(w, http.StatusOK, endpointOut, ep, err)
}

func updatePortalEndpoint(a *api, w http.ResponseWriter, r *http.Request, p *nahook.Portal) error {
	patch, err := a.decodeEndpointPatch(w, r)
	if err != nil {
		return err
	}
	ep, err := p.UpdateEndpoint(r.Context(), nahook.EndpointID(r.PathValue("endpointId")), patch)
	return respond(w, http.StatusOK, endpointOut, ep, err)
}

func deletePortalEndpoint(a *api, w http.ResponseWriter, r *http.Request, p *nahook.Portal) error {
	return noContent(w, p.DeleteEndpoint(r.Context(), nahook.EndpointID(r.PathValue("endpointId"))))
}

func getPortalEndpointSecret(a *api, w http.ResponseWriter, r *http.Request, p *nahook.Portal) error {
	s, err := p.Secret(r.Context(), nahook.EndpointID(r.PathValue("endpointId")))
	return respond(w, http.StatusOK, secretOut, s, err)
}

func rotatePortalEndpointSecret(a *api, w http.ResponseWriter, r *http.Request, p *nahook.Portal) error {
	s, err := p.RotateSecret(r.Context(), nahook.EndpointID(r.PathValue("endpointId")))
	return respond(w, http.StatusOK, secretOut, s, err)
}

func getPortalEndpointHealth(a *api, w http.ResponseWriter, r *http.Request, p *nahook.Portal) error {
	h, err := p.EndpointHealth(r.Context(), nahook.EndpointID(r.PathValue("endpointId")))
	return respond(w, http.StatusOK, endpointHealthOut, h, err)
}

func listPortalEndpointDeliveries(a *api, w http.ResponseWriter, r *http.Request, p *nahook.Portal) error {
	opts, err := listOptions(r)
	if err != nil {
		return err
	}
	page, err := p.ListDeliveries(r.Context(), nahook.EndpointID(r.PathValue("endpointId")),
		nahook.DeliveryStatus(r.URL.Query().Get("status")), opts)
	return respondPage(w, deliveryOut, page, err)
}

func getPortalDelivery(a *api, w http.ResponseWriter, r *http.Request, p *nahook.Portal) error {
	d, err := p.GetDelivery(r.Context(), nahook.DeliveryID(r.PathValue("deliveryId")))
	return respond(w, http.StatusOK, deliveryDetailOut, d, err)
}

func resendPortalDelivery(a *api, w http.ResponseWriter, r *http.Request, p *nahook.Portal) error {
	d, err := p.Resend(r.Context(), nahook.DeliveryID(r.PathValue("deliveryId")))
	return respond(w, http.StatusAccepted, deliveryOut, d, err)
}

func recoverPortalEndpoint(a *api, w http.ResponseWriter, r *http.Request, p *nahook.Portal) error {
	// In scope before the body is read, as in recoverEndpoint.
	ep, err := p.GetEndpoint(r.Context(), nahook.EndpointID(r.PathValue("endpointId")))
	if err != nil {
		return err
	}
	opts, err := a.decodeRecover(w, r)
	if err != nil {
		return err
	}
	n, err := p.Recover(r.Context(), ep.ID, opts)
	return respond(w, http.StatusAccepted, queuedOut, n, err)
}

func replayPortalMissing(a *api, w http.ResponseWriter, r *http.Request, p *nahook.Portal) error {
	// In scope before the body is read, as in recoverEndpoint.
	ep, err := p.GetEndpoint(r.Context(), nahook.EndpointID(r.PathValue("endpointId")))
	if err != nil {
		return err
	}
	opts, err := a.decodeReplay(w, r)
	if err != nil {
		return err
	}
	n, err := p.ReplayMissing(r.Context(), ep.ID, opts)
	return respond(w, http.StatusAccepted, queuedOut, n, err)
}
