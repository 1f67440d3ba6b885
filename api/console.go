package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/console"
)

// mountConsole serves the web console (package console) at /console/. It
// is not part of the JSON API: no authentication here (the console's
// scripts send the tenant's key to /v1 themselves) and not in
// openapi.yaml.
func mountConsole(r chi.Router) {
	r.Get("/console", func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, console.Prefix, http.StatusMovedPermanently)
	})
	r.Handle(console.Prefix+"*", console.Handler())
}
