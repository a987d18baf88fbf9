package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3.1 description of the API, checked by the tests
// against the routes the handler serves.
//
//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(_ *api, w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPI)
	return nil
}
