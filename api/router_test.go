package api

import (
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/api/route53"
)

// TestRouteTable checks that the route table lists every route once and
// that the router serves exactly the table: two registrations of one
// method and path once hid an endpoint (chi keeps the last).
func TestRouteTable(t *testing.T) {
	t.Parallel()
	h := &handler{}
	want := map[string]bool{}
	for _, rt := range h.routes() {
		k := rt.method + " " + rt.path
		if want[k] {
			t.Errorf("route %s is listed twice", k)
		}
		want[k] = true
		if rt.handle == nil {
			t.Errorf("route %s has no endpoint", k)
		}
	}
	router := NewRouter(Config{}).(chi.Routes)
	got := map[string]bool{}
	err := chi.Walk(router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if route == route53.Prefix+"/*" {
			return nil // the Route 53 API's mount: its own route table (api/route53/routes.go)
		}
		if method == http.MethodPost && route == "/" {
			return nil // the Route 53 Domains API's mount: its own operation table (api/route53domains/operations.go)
		}
		got[method+" "+route] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k := range want {
		if !got[k] {
			t.Errorf("route %s is in the table but not served", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("route %s is served but not in the table", k)
		}
	}
}
