package httpapi

import (
	"net/http"

	"github.com/nahook/nahook"
)

// Applications.

func createApplication(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	var in struct {
		ExternalID *string           `json:"externalId"`
		Name       string            `json:"name"`
		Metadata   map[string]string `json:"metadata"`
	}
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	input := nahook.ApplicationInput{Name: in.Name, Metadata: in.Metadata}
	if in.ExternalID != nil {
		if *in.ExternalID == "" {
			return invalid("externalId", "externalId must be 1 to 256 characters, or left out")
		}
		input.ExternalID = *in.ExternalID
	}
	app, err := a.nh.Applications.Create(r.Context(), ws, input)
	return respond(w, http.StatusCreated, applicationOut, app, err)
}

func listApplications(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	opts, err := listOptions(r)
	if err != nil {
		return err
	}
	if r.URL.Query().Has("externalId") {
		// A lookup by external ID is a list of at most one.
		found := nahook.Page[nahook.Application]{Items: []nahook.Application{}}
		app, err := a.nh.Applications.GetByExternalID(r.Context(), ws, r.URL.Query().Get("externalId"))
		switch {
		case err == nil:
			found.Items = append(found.Items, app)
		case !isNotFound(err):
			return err
		}
		return respondPage(w, applicationOut, found, nil)
	}
	p, err := a.nh.Applications.List(r.Context(), ws, opts)
	return respondPage(w, applicationOut, p, err)
}

func getApplication(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	app, err := a.nh.Applications.Get(r.Context(), ws, nahook.ApplicationID(r.PathValue("appId")))
	return respond(w, http.StatusOK, applicationOut, app, err)
}

func updateApplication(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	var in struct {
		ExternalID optional[string]            `json:"externalId"`
		Name       optional[string]            `json:"name"`
		Metadata   optional[map[string]string] `json:"metadata"`
	}
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	if err := in.Name.notNull("name"); err != nil {
		return err
	}
	p := nahook.ApplicationPatch{Name: in.Name.ptr(), ExternalID: in.ExternalID.ptr()}
	if in.ExternalID.Set && !in.ExternalID.Null && in.ExternalID.Value == "" {
		return invalid("externalId", "externalId must be 1 to 256 characters, or null to remove it")
	}
	if in.Metadata.Set {
		p.Metadata = in.Metadata.Value
		if p.Metadata == nil {
			p.Metadata = map[string]string{} // null removes every pair
		}
	}
	app, err := a.nh.Applications.Update(r.Context(), ws, nahook.ApplicationID(r.PathValue("appId")), p)
	return respond(w, http.StatusOK, applicationOut, app, err)
}

func deleteApplication(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	return noContent(w, a.nh.Applications.Delete(r.Context(), ws, nahook.ApplicationID(r.PathValue("appId"))))
}

// Environments.

func createEnvironment(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	var in struct {
		Name string `json:"name"`
		Slug string `json:"slug"`
	}
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	env, err := a.nh.Environments.Create(r.Context(), ws, nahook.EnvironmentInput{Name: in.Name, Slug: in.Slug})
	return respond(w, http.StatusCreated, environmentOut, env, err)
}

func listEnvironments(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	opts, err := listOptions(r)
	if err != nil {
		return err
	}
	p, err := a.nh.Environments.List(r.Context(), ws, opts)
	return respondPage(w, environmentOut, p, err)
}

func getEnvironment(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	env, err := a.nh.Environments.Get(r.Context(), ws, nahook.EnvironmentID(r.PathValue("envId")))
	return respond(w, http.StatusOK, environmentOut, env, err)
}

func updateEnvironment(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	var in struct {
		Name optional[string] `json:"name"`
		Slug optional[string] `json:"slug"`
	}
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	if err := in.Name.notNull("name"); err != nil {
		return err
	}
	if err := in.Slug.notNull("slug"); err != nil {
		return err
	}
	env, err := a.nh.Environments.Update(r.Context(), ws, nahook.EnvironmentID(r.PathValue("envId")),
		nahook.EnvironmentPatch{Name: in.Name.ptr(), Slug: in.Slug.ptr()})
	return respond(w, http.StatusOK, environmentOut, env, err)
}

func deleteEnvironment(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	return noContent(w, a.nh.Environments.Delete(r.Context(), ws, nahook.EnvironmentID(r.PathValue("envId"))))
}

// listVisibility answers the seed's shape: a bare array, not a page.
func listVisibility(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	vis, err := a.nh.EventTypes.Visibility(r.Context(), ws, nahook.EnvironmentID(r.PathValue("envId")))
	return respond(w, http.StatusOK, visibilityListOut, vis, err)
}

func setVisibility(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	var in struct {
		Published *bool `json:"published"`
	}
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	if in.Published == nil {
		return invalid("published", "published is required: true or false")
	}
	env, id := nahook.EnvironmentID(r.PathValue("envId")), nahook.EventTypeID(r.PathValue("eventTypeId"))
	et, err := a.nh.EventTypes.Get(r.Context(), ws, id)
	if err != nil {
		return err
	}
	if err := a.nh.EventTypes.SetPublished(r.Context(), ws, env, id, *in.Published); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, visibilityOut(nahook.EventTypeVisibility{EventTypeID: et.ID, EventTypeName: et.Name, Published: *in.Published}))
	return nil
}

// Event types.

func createEventType(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	var in struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	et, err := a.nh.EventTypes.Create(r.Context(), ws, nahook.EventTypeInput{Name: in.Name, Description: in.Description})
	return respond(w, http.StatusCreated, eventTypeOut, et, err)
}

func listEventTypes(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	opts, err := listOptions(r)
	if err != nil {
		return err
	}
	p, err := a.nh.EventTypes.List(r.Context(), ws, opts)
	return respondPage(w, eventTypeOut, p, err)
}

func getEventType(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	et, err := a.nh.EventTypes.Get(r.Context(), ws, nahook.EventTypeID(r.PathValue("eventTypeId")))
	return respond(w, http.StatusOK, eventTypeOut, et, err)
}

func updateEventType(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	var in struct {
		Name        optional[string] `json:"name"`
		Description optional[string] `json:"description"`
	}
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	if err := in.Name.notNull("name"); err != nil {
		return err
	}
	et, err := a.nh.EventTypes.Update(r.Context(), ws, nahook.EventTypeID(r.PathValue("eventTypeId")),
		nahook.EventTypePatch{Name: in.Name.ptr(), Description: in.Description.ptr()})
	return respond(w, http.StatusOK, eventTypeOut, et, err)
}

func deleteEventType(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	return noContent(w, a.nh.EventTypes.Delete(r.Context(), ws, nahook.EventTypeID(r.PathValue("eventTypeId"))))
}

// Endpoints.

// applicationEndpointInput is the body that creates an endpoint of the
// application the path names.
type applicationEndpointInput struct {
	EnvironmentID nahook.EnvironmentID `json:"environmentId"`
	URL           string               `json:"url"`
	Description   string               `json:"description"`
	EventTypes    []string             `json:"eventTypes"`
	Disabled      bool                 `json:"disabled"`
}

// endpointInput is the body that creates an endpoint, of an application or
// of none. (Its fields are spelled out rather than embedded, so that a type
// error names the JSON field alone.)
type endpointInput struct {
	EnvironmentID nahook.EnvironmentID `json:"environmentId"`
	ApplicationID nahook.ApplicationID `json:"applicationId"`
	URL           string               `json:"url"`
	Description   string               `json:"description"`
	EventTypes    []string             `json:"eventTypes"`
	Disabled      bool                 `json:"disabled"`
}

func (in applicationEndpointInput) input(app nahook.ApplicationID) nahook.EndpointInput {
	return nahook.EndpointInput{EnvironmentID: in.EnvironmentID, ApplicationID: app, URL: in.URL,
		Description: in.Description, EventTypes: in.EventTypes, Disabled: in.Disabled}
}

func createEndpoint(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	var in endpointInput
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	return a.createEndpoint(w, r, ws, nahook.EndpointInput{EnvironmentID: in.EnvironmentID, ApplicationID: in.ApplicationID,
		URL: in.URL, Description: in.Description, EventTypes: in.EventTypes, Disabled: in.Disabled})
}

func createApplicationEndpoint(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	var in applicationEndpointInput
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	// The path's application must exist whatever the body says, so that a
	// bad body cannot tell apart applications that exist from those that
	// do not.
	app := nahook.ApplicationID(r.PathValue("appId"))
	if _, err := a.nh.Applications.Get(r.Context(), ws, app); err != nil {
		return err
	}
	return a.createEndpoint(w, r, ws, in.input(app))
}

func (a *api) createEndpoint(w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID, in nahook.EndpointInput) error {
	ep, err := a.nh.Endpoints.Create(r.Context(), ws, in)
	return respond(w, http.StatusCreated, endpointOut, ep, err)
}

func listEndpoints(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	q := r.URL.Query()
	return a.listEndpoints(w, r, ws, nahook.EndpointFilter{
		EnvironmentID: nahook.EnvironmentID(q.Get("environmentId")),
		ApplicationID: nahook.ApplicationID(q.Get("applicationId")),
	})
}

func listApplicationEndpoints(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	return a.listEndpoints(w, r, ws, nahook.EndpointFilter{
		EnvironmentID: nahook.EnvironmentID(r.URL.Query().Get("environmentId")),
		ApplicationID: nahook.ApplicationID(r.PathValue("appId")),
	})
}

func (a *api) listEndpoints(w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID, f nahook.EndpointFilter) error {
	opts, err := listOptions(r)
	if err != nil {
		return err
	}
	p, err := a.nh.Endpoints.List(r.Context(), ws, f, opts)
	return respondPage(w, endpointOut, p, err)
}

func getEndpoint(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	ep, err := a.nh.Endpoints.Get(r.Context(), ws, nahook.EndpointID(r.PathValue("endpointId")))
	return respond(w, http.StatusOK, endpointOut, ep, err)
}

func updateEndpoint(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	p, err := a.decodeEndpointPatch(w, r)
	if err != nil {
		return err
	}
	ep, err := a.nh.Endpoints.Update(r.Context(), ws, nahook.EndpointID(r.PathValue("endpointId")), p)
	return respond(w, http.StatusOK, endpointOut, ep, err)
}

// decodeEndpointPatch reads the body that updates an endpoint, through the
// management API or the portal alike.
func (a *api) decodeEndpointPatch(w http.ResponseWriter, r *http.Request) (nahook.EndpointPatch, error) {
	var in struct {
		URL         optional[string]   `json:"url"`
		Description optional[string]   `json:"description"`
		EventTypes  optional[[]string] `json:"eventTypes"`
		Disabled    optional[bool]     `json:"disabled"`
	}
	if err := a.decode(w, r, &in); err != nil {
		return nahook.EndpointPatch{}, err
	}
	if err := in.URL.notNull("url"); err != nil {
		return nahook.EndpointPatch{}, err
	}
	if err := in.Disabled.notNull("disabled"); err != nil {
		return nahook.EndpointPatch{}, err
	}
	p := nahook.EndpointPatch{URL: in.URL.ptr(), Description: in.Description.ptr(), Disabled: in.Disabled.ptr()}
	if in.EventTypes.Set {
		p.EventTypes = in.EventTypes.Value
		if p.EventTypes == nil {
			p.EventTypes = []string{} // null clears the subscriptions
		}
	}
	return p, nil
}

func deleteEndpoint(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	return noContent(w, a.nh.Endpoints.Delete(r.Context(), ws, nahook.EndpointID(r.PathValue("endpointId"))))
}

// API keys: the environment keys of the workspace.

func createAPIKey(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	var in struct {
		EnvironmentID nahook.EnvironmentID `json:"environmentId"`
		Name          string               `json:"name"`
	}
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	k, err := a.nh.APIKeys.Create(r.Context(), ws, nahook.APIKeyInput{EnvironmentID: in.EnvironmentID, Name: in.Name})
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store") // the plaintext must not linger in caches
	writeJSON(w, http.StatusCreated, issuedAPIKeyOut(k))
	return nil
}

func listAPIKeys(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	opts, err := listOptions(r)
	if err != nil {
		return err
	}
	f := nahook.APIKeyFilter{Kind: nahook.KeyKindEnvironment, EnvironmentID: nahook.EnvironmentID(r.URL.Query().Get("environmentId"))}
	p, err := a.nh.APIKeys.List(r.Context(), ws, f, opts)
	return respondPage(w, apiKeyOut, p, err)
}

// revokeAPIKey revokes an environment key; management keys are not
// reachable here.
func revokeAPIKey(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error {
	id := nahook.APIKeyID(r.PathValue("keyId"))
	k, err := a.nh.APIKeys.Get(r.Context(), ws, id)
	if err != nil {
		return err
	}
	if k.Kind != nahook.KeyKindEnvironment {
		return notFound("API key", string(id))
	}
	if _, err := a.nh.APIKeys.Revoke(r.Context(), ws, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
