package api

import (
	"net/http"

	"github.com/waymark-dns/waymark/console"
)

// The web console (package console) is served at /console/ by the routes
// of the table in router.go. It is not part of the JSON API: no
// authentication here (the console's scripts send the tenant's key to /v1
// themselves) and not in openapi.yaml.

// consoleRedirect sends /console to /console/, where the console's
// relative URLs resolve.
func (h *handler) consoleRedirect(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, console.Prefix, http.StatusMovedPermanently)
	return nil
}

// consoleFiles serves the console's embedded files.
func (h *handler) consoleFiles() handlerFunc {
	files := console.Handler()
	return func(w http.ResponseWriter, r *http.Request) error {
		files.ServeHTTP(w, r)
		return nil
	}
}
