package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/waymark-dns/waymark/console"
)

// TestConsoleMounted checks that the router serves the console at
// /console/ without credentials, with its policy, and that the API's own
// routes are not shadowed by it.
func TestConsoleMounted(t *testing.T) {
	h := NewRouter(Config{})
	for _, tc := range []struct {
		path     string
		status   int
		location string
		csp      bool
	}{
		{"/console", http.StatusMovedPermanently, "/console/", false},
		{"/console/", http.StatusOK, "", true},
		{"/console/js/app.js", http.StatusOK, "", true},
		{"/console/zones/Z123", http.StatusOK, "", true},
		{"/v1/hostedzones", http.StatusUnauthorized, "", false},
		{"/consoles", http.StatusNotFound, "", false},
		{"POST /console/", http.StatusMethodNotAllowed, "", false},
	} {
		method, path, ok := strings.Cut(tc.path, " ")
		if !ok {
			method, path = "GET", tc.path
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		if rec.Code != tc.status {
			t.Errorf("GET %s: %d, want %d: %.200s", tc.path, rec.Code, tc.status, rec.Body)
		}
		if got := rec.Header().Get("Location"); got != tc.location {
			t.Errorf("GET %s: Location %q, want %q", tc.path, got, tc.location)
		}
		if got := rec.Header().Get("Content-Security-Policy"); (got == console.ContentSecurityPolicy) != tc.csp {
			t.Errorf("GET %s: Content-Security-Policy %q", tc.path, got)
		}
		if rec.Header().Get("X-Request-Id") == "" {
			t.Errorf("GET %s: no X-Request-Id (the common middleware is skipped)", tc.path)
		}
		if tc.status == http.StatusOK && strings.HasSuffix(tc.path, "/") && !strings.Contains(rec.Body.String(), "<html") {
			t.Errorf("GET %s: not the console's page", tc.path)
		}
	}
}
