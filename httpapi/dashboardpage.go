package httpapi

import "net/http"

// DashboardPage returns the dashboard: the operator's console for a
// workspace, on the dashboard API. Its Developer Portal lists the
// applications (create, edit, delete, their endpoints, "Open portal");
// Settings > Environments creates, renames and deletes environments; an
// environment switcher, always shown and remembered across reloads,
// chooses the environment whose Event Types (published or not there, and
// the workspace's catalogue), API keys and Endpoints (with their secrets,
// deliveries, health, recovery and "explain") the other views show. It is
// plain HTML, CSS and JavaScript embedded in the binary, with no external
// asset.
//
// The page holds no data and no secret: everything it shows comes from the
// dashboard API, which the host's Config.Dashboard check guards. So it
// needs no check of its own; mount it beside the API:
//
//	mux.Handle("GET /dashboard/", httpapi.DashboardPage(""))
//
// It serves its page at any path ending in "/" and its assets beside it.
// The page puts the workspace's ID in every path and sends the token it
// was given as "Authorization: Bearer …", for Config.Dashboard to check:
// it takes both from its address's fragment (#workspace=ws_…&token=…),
// which no server sees, or from its sign-in form, and keeps them in the
// tab's sessionStorage. api is where the page finds the dashboard API, on
// the same origin; empty means "/api/workspaces", where New serves it.
func DashboardPage(api string) http.Handler {
	if api == "" {
		api = "/api/workspaces"
	}
	return staticPage("dashboardpage/index.html", api, map[string]string{
		"dashboard.js":  "dashboardpage/dashboard.js",
		"dashboard.css": "dashboardpage/dashboard.css",
		"base.css":      "portalpage/portal.css", // the portal's look, which the dashboard extends
	})
}
