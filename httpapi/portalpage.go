package httpapi

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strings"
)

//go:embed portalpage
var portalAssets embed.FS

// portalPageTemplate is the page's HTML; it only fills in where the portal
// API is.
var portalPageTemplate = template.Must(template.ParseFS(portalAssets, "portalpage/index.html"))

// PortalPage returns the developer-portal page: the web page an
// end-customer opens with a portal session's URL, to see, add, edit,
// disable and delete their endpoints, see each one's health (success
// rate, attempts and latency over the last hour and day), read and rotate
// their secrets, read their deliveries with every attempt, and send again
// a delivery, the deliveries that failed in a period, or the events an
// endpoint missed. It is plain HTML, CSS and JavaScript embedded in the
// binary, with no external asset. Mount it at the path of Config.PortalURL:
//
//	mux.Handle("GET /portal/", httpapi.PortalPage(""))
//
// It serves its page at any path ending in "/" and its two assets beside
// it. api is where the page finds the portal API, on the same origin;
// empty means "/portal/v1", where New serves it.
func PortalPage(api string) http.Handler {
	if api == "" {
		api = portalPrefix
	}
	var page bytes.Buffer
	if err := portalPageTemplate.Execute(&page, struct{ API string }{api}); err != nil {
		panic("httpapi: portal page: " + err.Error()) // the template is ours, and fixed
	}
	files := map[string]struct {
		body []byte
		kind string
	}{
		"":           {page.Bytes(), "text/html; charset=utf-8"},
		"portal.js":  {mustRead("portalpage/portal.js"), "text/javascript; charset=utf-8"},
		"portal.css": {mustRead("portalpage/portal.css"), "text/css; charset=utf-8"},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		f, ok := files[name]
		if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.kind)
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// Only the page's own script, style and API: an injected script
		// could read the session token.
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "+
			"img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
		w.Write(f.body)
	})
}

func mustRead(name string) []byte {
	b, err := portalAssets.ReadFile(name)
	if err != nil {
		panic("httpapi: " + err.Error())
	}
	return b
}
