// Package httpapi serves nahook over HTTP: the management API
// (/management/v1/workspaces/{workspaceId}/…, bearer management key), the
// same resource routes for a dashboard (/api/workspaces/{workspaceId}/…,
// authenticated by the host program's own check), ingestion
// (/api/ingest/…, bearer environment key) and the developer portal's API
// (/portal/v1/…, bearer portal session token, reaching one application's
// endpoints in one environment), with the paths and JSON shapes of the
// hosted service's documentation. PortalPage serves the page customers use
// it from, and DashboardPage the console operators use the dashboard API
// from.
//
// New returns an http.Handler a host program mounts wherever it likes:
//
//	api, err := httpapi.New(httpapi.Config{Client: nh, Dashboard: mySessionCheck})
//	http.ListenAndServe(":8080", api)
//
// Every error is answered with {"error": {"code", "message", "field"?}};
// a client's mistake is never a 500, and a resource of another workspace,
// application or environment is a 404 that reveals nothing about it.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/nahook/nahook"
)

// DefaultMaxBodyBytes bounds request bodies when Config.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 1 << 20

// Config configures the API.
type Config struct {
	// Client is the nahook client the API serves. Required.
	Client *nahook.Client
	// Dashboard authenticates a request to the dashboard routes: it
	// returns nil when the request may act on workspace ws,
	// nahook.ErrUnauthorized (401) when it has no valid session, and
	// nahook.ErrNotFound (404) when the session is valid but the workspace
	// is not its own. Any other error is the check failing, a 500 that is
	// logged. Nil leaves the dashboard routes out.
	Dashboard func(r *http.Request, ws nahook.WorkspaceID) error
	// MaxBodyBytes bounds request bodies; larger ones are refused with 413.
	// Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives an access-log line per request and every internal
	// error. Nil means slog.Default().
	Logger *slog.Logger
}

// api is the handler New returns.
type api struct {
	cfg Config
	nh  *nahook.Client
	mux *http.ServeMux
}

// scope is how a workspace route authenticates.
type scope int

const (
	management scope = iota
	dashboard
)

// workspaceRoute is a route under a workspace: served under both the
// management and the dashboard prefix.
type workspaceRoute struct {
	method, path string // path below …/workspaces/{workspaceId}
	handle       func(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error
}

// Route prefixes.
const (
	managementPrefix = "/management/v1/workspaces/{workspaceId}"
	dashboardPrefix  = "/api/workspaces/{workspaceId}"
)

// workspaceRoutes lists every route under a workspace. The OpenAPI
// document is checked against this table.
var workspaceRoutes = []workspaceRoute{
	{"POST", "/applications", createApplication},
	{"GET", "/applications", listApplications},
	{"GET", "/applications/{appId}", getApplication},
	{"PATCH", "/applications/{appId}", updateApplication},
	{"DELETE", "/applications/{appId}", deleteApplication},
	{"POST", "/applications/{appId}/endpoints", createApplicationEndpoint},
	{"GET", "/applications/{appId}/endpoints", listApplicationEndpoints},

	{"POST", "/environments", createEnvironment},
	{"GET", "/environments", listEnvironments},
	{"GET", "/environments/{envId}", getEnvironment},
	{"PATCH", "/environments/{envId}", updateEnvironment},
	{"DELETE", "/environments/{envId}", deleteEnvironment},
	{"GET", "/environments/{envId}/event-types", listVisibility},
	{"PUT", "/environments/{envId}/event-types/{eventTypeId}/visibility", setVisibility},

	{"POST", "/event-types", createEventType},
	{"GET", "/event-types", listEventTypes},
	{"GET", "/event-types/{eventTypeId}", getEventType},
	{"PATCH", "/event-types/{eventTypeId}", updateEventType},
	{"DELETE", "/event-types/{eventTypeId}", deleteEventType},

	{"POST", "/endpoints", createEndpoint},
	{"GET", "/endpoints", listEndpoints},
	{"GET", "/endpoints/{endpointId}", getEndpoint},
	{"PATCH", "/endpoints/{endpointId}", updateEndpoint},
	{"DELETE", "/endpoints/{endpointId}", deleteEndpoint},
	{"GET", "/endpoints/{endpointId}/secret", getEndpointSecret},
	{"POST", "/endpoints/{endpointId}/secret/rotate", rotateEndpointSecret},
	{"GET", "/endpoints/{endpointId}/deliveries", listEndpointDeliveries},
	{"GET", "/endpoints/{endpointId}/health", getEndpointHealth},
	{"GET", "/explain", explainEvent},
	{"GET", "/events", listEvents},
	{"GET", "/events/{eventId}/explain", explainStoredEvent},
	{"GET", "/deliveries", listDeliveries},
	{"POST", "/endpoints/{endpointId}/recover", recoverEndpoint},
	{"POST", "/endpoints/{endpointId}/replay-missing", replayMissing},
	{"GET", "/deliveries/{deliveryId}", getDelivery},
	{"POST", "/deliveries/{deliveryId}/retry", retryDelivery},
	{"POST", "/deliveries/{deliveryId}/resend", resendDelivery},

	{"POST", "/api-keys", createAPIKey},
	{"GET", "/api-keys", listAPIKeys},
	{"DELETE", "/api-keys/{keyId}", revokeAPIKey},

	{"POST", "/portal-sessions", createPortalSession},
	{"DELETE", "/portal-sessions/{sessionId}", revokePortalSession},
	{"GET", "/applications/{appId}/portal-sessions", listApplicationPortalSessions},
	{"DELETE", "/applications/{appId}/portal-sessions", revokeApplicationPortalSessions},
}

// otherRoutes lists the routes outside a workspace.
var otherRoutes = []struct {
	method, path string
	handle       func(a *api, w http.ResponseWriter, r *http.Request) error
}{
	{"POST", "/api/ingest/event/{eventType}", ingestEvent},
	{"POST", "/api/ingest/batch", ingestBatch},
	{"POST", "/api/ingest/{endpointId}", ingestDirect},
	{"GET", "/openapi.json", serveOpenAPI},
}

// New returns the API as an http.Handler.
func New(cfg Config) (http.Handler, error) {
	if cfg.Client == nil {
		return nil, errors.New("httpapi: Config.Client is required")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &api{cfg: cfg, nh: cfg.Client, mux: http.NewServeMux()}
	for _, rt := range workspaceRoutes {
		a.mux.Handle(rt.method+" "+managementPrefix+rt.path, a.workspace(management, rt.handle))
		if cfg.Dashboard != nil {
			a.mux.Handle(rt.method+" "+dashboardPrefix+rt.path, a.workspace(dashboard, rt.handle))
		}
	}
	for _, rt := range otherRoutes {
		a.mux.Handle(rt.method+" "+rt.path, a.handler(rt.handle))
	}
	for _, rt := range portalRoutes {
		a.mux.Handle(rt.method+" "+portalPrefix+rt.path, a.portal(rt.handle))
	}
	return a, nil
}

// ServeHTTP serves a request and logs it.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	if _, pattern := a.mux.Handler(r); pattern == "" {
		// No route: answer the mux's 404 or 405 in the API's error shape.
		a.mux.ServeHTTP(&muxError{ResponseWriter: rec}, r)
	} else {
		a.mux.ServeHTTP(rec, r)
	}
	a.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "http",
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", rec.status),
		slog.Int64("bytes", rec.bytes),
		slog.Duration("duration", time.Since(start)),
		slog.String("remote", r.RemoteAddr))
}

// handler adapts a handler that returns an error, writing the error.
func (a *api) handler(h func(a *api, w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(a, w, r); err != nil {
			a.fail(w, r, err)
		}
	})
}

// workspace authenticates a request for the workspace in its path, then
// serves it.
func (a *api) workspace(s scope, h func(a *api, w http.ResponseWriter, r *http.Request, ws nahook.WorkspaceID) error) http.Handler {
	return a.handler(func(a *api, w http.ResponseWriter, r *http.Request) error {
		ws := nahook.WorkspaceID(r.PathValue("workspaceId"))
		var err error
		if s == management {
			err = a.authManagement(r.Context(), r, ws)
		} else {
			err = a.authDashboard(r, ws)
		}
		if err != nil {
			return err
		}
		return h(a, w, r, ws)
	})
}

// authManagement admits a management key of workspace ws. A key of
// another workspace learns only that the workspace is not found.
func (a *api) authManagement(ctx context.Context, r *http.Request, ws nahook.WorkspaceID) error {
	key, err := bearer(r)
	if err != nil {
		return err
	}
	if strings.HasPrefix(key, nahook.EnvironmentKeyPrefix) {
		return errForbidden("an environment key (nhk_…) cannot use the management API; use a management key (nhm_…)")
	}
	k, err := a.nh.APIKeys.Authenticate(ctx, key)
	if err != nil {
		return err
	}
	if k.Kind != nahook.KeyKindManagement {
		return errForbidden("this key cannot use the management API; use a management key (nhm_…)")
	}
	if k.WorkspaceID != ws {
		return notFound("workspace", string(ws))
	}
	return nil
}

// authDashboard asks the host program's check. Its ErrUnauthorized and
// ErrNotFound are the client's; any other error is the check's own failure
// (its session store down, say), a 500 that is logged.
func (a *api) authDashboard(r *http.Request, ws nahook.WorkspaceID) error {
	err := a.cfg.Dashboard(r, ws)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, nahook.ErrNotFound):
		return notFound("workspace", string(ws))
	case errors.Is(err, nahook.ErrUnauthorized):
		return &nahook.Error{Kind: nahook.ErrUnauthorized, Message: "the dashboard session is missing or not valid"}
	}
	return fmt.Errorf("dashboard check: %w", err)
}

// bearer returns the token of an "Authorization: Bearer …" header.
func bearer(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", &nahook.Error{Kind: nahook.ErrUnauthorized, Message: `send your key as "Authorization: Bearer <key>"`}
	}
	return strings.TrimSpace(token), nil
}

// recorder remembers the status and size of a response for the access log.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// muxError rewrites the mux's plain-text 404 and 405 into the API's error
// shape, keeping its status and Allow header.
type muxError struct {
	http.ResponseWriter
	wrote bool
}

func (m *muxError) WriteHeader(code int) {
	if m.wrote {
		return
	}
	m.wrote = true
	e := errorBody{Code: "not_found", Message: "no such route"}
	if code == http.StatusMethodNotAllowed {
		e = errorBody{Code: "method_not_allowed", Message: "method not allowed here; see the Allow header"}
	}
	m.Header().Del("X-Content-Type-Options")
	writeJSON(m.ResponseWriter, code, errorResponse{e})
}

func (m *muxError) Write(b []byte) (int, error) {
	if !m.wrote {
		m.WriteHeader(http.StatusOK)
	}
	return len(b), nil // the mux's own text is dropped
}
