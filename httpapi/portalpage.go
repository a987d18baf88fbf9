package httpapi

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strings"
)

// pageAssets holds the two pages' files: the developer portal's, the
// dashboard's, and what they share (pagecommon).
//
//go:embed portalpage dashboardpage pagecommon
var pageAssets embed.FS

// What both pages share: the script of the helpers both are made of,
// served beside each page as common.js, and the templates (such as the
// recovery forms) that each page's index.html draws from.
const (
	commonScript    = "pagecommon/common.js"
	commonTemplates = "pagecommon/templates.html"
)

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
// It serves its page at any path ending in "/" and its assets beside it. api is where the page finds the portal API, on the same origin;
// empty means "/portal/v1", where New serves it.
func PortalPage(api string) http.Handler {
	if api == "" {
		api = portalPrefix
	}
	return staticPage("portalpage/index.html", api, map[string]string{
		"portal.js":  "portalpage/portal.js",
		"portal.css": "portalpage/portal.css",
	})
}

// pageFile is one file a page serves.
type pageFile struct {
	body []byte
	kind string
}

// staticPage serves the page whose HTML template is index (parsed with the
// shared templates), told where its API is, at any path ending in "/", and
// beside it the assets (served name: file in pageAssets) and the shared
// script, common.js, with the headers both pages need.
func staticPage(index, api string, assets map[string]string) http.Handler {
	tmpl := template.Must(template.ParseFS(pageAssets, index, commonTemplates))
	var page bytes.Buffer
	if err := tmpl.Execute(&page, struct{ API string }{api}); err != nil {
		panic("httpapi: " + index + ": " + err.Error()) // the template is ours, and fixed
	}
	files := map[string]pageFile{
		"":          {page.Bytes(), "text/html; charset=utf-8"},
		"common.js": {mustRead(commonScript), "text/javascript; charset=utf-8"},
	}
	for name, file := range assets {
		kind := "text/css; charset=utf-8"
		if strings.HasSuffix(name, ".js") {
			kind = "text/javascript; charset=utf-8"
		}
		files[name] = pageFile{mustRead(file), kind}
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
		// could read the token.
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "+
			"img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
		w.Write(f.body)
	})
}

func mustRead(name string) []byte {
	b, err := pageAssets.ReadFile(name)
	if err != nil {
		panic("httpapi: " + err.Error())
	}
	return b
}
