package httpapi

import (
	"net/http"

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
