// Package console is Waymark's web console: a single-page application of
// plain ES modules, embedded in the binary and served by the API process
// under /console/. It has no build step and no run-time dependency: the
// files under static/ are what the browser runs, so `make run` needs no
// Node.js. The console speaks only the public /v1 JSON API, with the
// tenant's API key as a Bearer token.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var files embed.FS

// Prefix is where the console is mounted.
const Prefix = "/console/"

// ContentSecurityPolicy is sent with every console response. Scripts,
// styles and API calls come only from this origin; no inline script or
// style element, no eval, no frames, no plugins. Setting element.style
// from a script (CSSOM) is not an inline style and stays allowed.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the console's files under Prefix. Every path that is not
// a file is the application's index.html (its views live in the URL
// fragment, so that never happens for links it makes itself).
func Handler() http.Handler {
	static, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embed directive guarantees static/ exists
	}
	fileServer := http.FileServerFS(static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		// The files change with the binary: revalidate every time, so an
		// upgraded server never mixes old and new modules.
		h.Set("Cache-Control", "no-cache")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean(r.URL.Path), strings.TrimSuffix(Prefix, "/"))
		name = strings.TrimPrefix(name, "/")
		if name == "" || name == "index.html" {
			serveIndex(w, r, static)
			return
		}
		if f, err := fs.Stat(static, name); err != nil || f.IsDir() {
			serveIndex(w, r, static)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + name
		fileServer.ServeHTTP(w, r2)
	})
}

// serveIndex writes index.html directly: http.FileServer would redirect
// /index.html to ./ and a missing file to a 404.
func serveIndex(w http.ResponseWriter, r *http.Request, static fs.FS) {
	b, err := fs.ReadFile(static, "index.html")
	if err != nil {
		http.Error(w, "console is not built into this binary", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(b)
}
