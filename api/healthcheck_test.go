package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// exerciseHealthChecks drives every health check endpoint for the
// OpenAPI contract test.
func exerciseHealthChecks(t *testing.T, a *testAPI, token string) {
	t.Helper()
	cfg := map[string]any{"type": "HTTP_STR_MATCH", "ip_address": "192.0.2.10", "port": 8080,
		"resource_path": "health", "search_string": "ok", "request_interval": 10, "failure_threshold": 2}
	r := a.must(http.StatusCreated, req{method: "POST", path: "/v1/healthchecks", bearer: token,
		body: map[string]any{"caller_reference": "hc-1", "config": cfg}})
	var hc healthCheckResponse
	r.decode(t, &hc)
	id := hc.HealthCheck.ID
	if hc.HealthCheck.Version != 1 || hc.HealthCheck.Status != "HEALTHY" || hc.HealthCheck.Config.ResourcePath != "/health" {
		t.Errorf("got %s", r.body)
	}
	if r.header.Get("Location") != "/v1/healthchecks/"+id {
		t.Errorf("got Location %q", r.header.Get("Location"))
	}
	// Route 53's idempotency: same reference and settings → the same check.
	r = a.must(http.StatusCreated, req{method: "POST", path: "/v1/healthchecks", bearer: token,
		body: map[string]any{"caller_reference": "hc-1", "config": cfg}})
	var again healthCheckResponse
	r.decode(t, &again)
	if again.HealthCheck.ID != id {
		t.Errorf("a repeated create made a new check: %s", r.body)
	}
	cfg2 := map[string]any{"type": "TCP", "ip_address": "192.0.2.11", "port": 22}
	r = a.must(http.StatusConflict, req{method: "POST", path: "/v1/healthchecks", bearer: token,
		body: map[string]any{"caller_reference": "hc-1", "config": cfg2}})
	if got := r.errorCode(t); got != "HealthCheckAlreadyExists" {
		t.Errorf("got %s", got)
	}
	r = a.must(http.StatusBadRequest, req{method: "POST", path: "/v1/healthchecks", bearer: token,
		body: map[string]any{"caller_reference": "private", "config": map[string]any{"type": "TCP", "ip_address": "127.0.0.1", "port": 22}}})
	if got := r.errorCode(t); got != "InvalidInput" {
		t.Errorf("got %s", got)
	}

	a.must(http.StatusOK, req{method: "GET", path: "/v1/healthchecks?max_items=10", bearer: token})
	a.must(http.StatusOK, req{method: "GET", path: "/v1/healthchecks/" + id, bearer: token})
	r = a.must(http.StatusOK, req{method: "PATCH", path: "/v1/healthchecks/" + id, bearer: token,
		body: map[string]any{"version": 1, "failure_threshold": 5, "inverted": true}})
	var upd healthCheckResponse
	r.decode(t, &upd)
	if upd.HealthCheck.Version != 2 || upd.HealthCheck.Config.FailureThreshold != 5 || !upd.HealthCheck.Config.Inverted {
		t.Errorf("got %s", r.body)
	}
	r = a.must(http.StatusConflict, req{method: "PATCH", path: "/v1/healthchecks/" + id, bearer: token,
		body: map[string]any{"version": 1, "failure_threshold": 4}})
	if got := r.errorCode(t); got != "HealthCheckVersionMismatch" {
		t.Errorf("got %s", got)
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/healthchecks/" + id + "/status", bearer: token})
	if !strings.Contains(string(r.body), `"status":"HEALTHY"`) {
		t.Errorf("got %s", r.body)
	}
	a.must(http.StatusOK, req{method: "GET", path: "/v1/healthchecks/" + id + "/last-failure", bearer: token})
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/healthchecks/" + id + "/history?max_items=5", bearer: token})
	if !strings.Contains(string(r.body), `"reason":"created"`) {
		t.Errorf("got %s", r.body)
	}

	// Notify webhooks: set on create, shown without secrets, replaced and
	// removed by PATCH, refused when bad.
	hook := []map[string]any{{"webhook": map[string]any{"url": "https://hooks.example/hc", "secret": "hc-secret"}}}
	r = a.must(http.StatusCreated, req{method: "POST", path: "/v1/healthchecks", bearer: token,
		body: map[string]any{"caller_reference": "notify", "config": cfg2, "notify": hook}})
	var nhc healthCheckResponse
	r.decode(t, &nhc)
	if n := nhc.HealthCheck.Notify; len(n) != 1 || n[0].Webhook == nil || n[0].Webhook.URL != "https://hooks.example/hc" ||
		!n[0].Webhook.SecretSet || strings.Contains(string(r.body), "hc-secret") {
		t.Errorf("created with notify: %s", r.body)
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/healthchecks/" + nhc.HealthCheck.ID, bearer: token})
	if !strings.Contains(string(r.body), `"notify":[{"webhook":{"url":"https://hooks.example/hc","secret_set":true}}]`) {
		t.Errorf("read: %s", r.body)
	}
	r = a.must(http.StatusOK, req{method: "PATCH", path: "/v1/healthchecks/" + nhc.HealthCheck.ID, bearer: token,
		body: map[string]any{"notify": []any{}}})
	if !strings.Contains(string(r.body), `"notify":[]`) {
		t.Errorf("notify removed: %s", r.body)
	}
	strict := a.strictRequests
	a.strictRequests = false // two of them break the schema on purpose
	for _, bad := range []any{
		[]map[string]any{{"webhook": map[string]any{"url": "http://127.0.0.1:9/hook", "secret": "s"}}},
		[]map[string]any{{"webhook": map[string]any{"url": "https://hooks.example/hc"}}},
		[]map[string]any{{}},
	} {
		r = a.must(http.StatusBadRequest, req{method: "PATCH", path: "/v1/healthchecks/" + nhc.HealthCheck.ID, bearer: token,
			body: map[string]any{"notify": bad}})
		if got := r.errorCode(t); got != "InvalidInput" {
			t.Errorf("notify %v: %s", bad, got)
		}
	}
	a.strictRequests = strict
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/healthchecks/" + nhc.HealthCheck.ID + "/history", bearer: token})
	if !strings.Contains(string(r.body), `"deliveries":[]`) {
		t.Errorf("history: %s", r.body)
	}
	a.must(http.StatusNoContent, req{method: "DELETE", path: "/v1/healthchecks/" + nhc.HealthCheck.ID, bearer: token})

	// A calculated parent keeps its child in use.
	r = a.must(http.StatusCreated, req{method: "POST", path: "/v1/healthchecks", bearer: token,
		body: map[string]any{"caller_reference": "calc", "config": map[string]any{
			"type": "CALCULATED", "child_health_checks": []string{id}, "health_threshold": 1}}})
	var parent healthCheckResponse
	r.decode(t, &parent)
	r = a.must(http.StatusConflict, req{method: "DELETE", path: "/v1/healthchecks/" + id, bearer: token})
	if got := r.errorCode(t); got != "HealthCheckInUse" {
		t.Errorf("got %s", got)
	}
	a.must(http.StatusNoContent, req{method: "DELETE", path: "/v1/healthchecks/" + parent.HealthCheck.ID, bearer: token})
	a.must(http.StatusNoContent, req{method: "DELETE", path: "/v1/healthchecks/" + id, bearer: token})
	r = a.must(http.StatusNotFound, req{method: "GET", path: "/v1/healthchecks/" + id, bearer: token})
	if got := r.errorCode(t); got != "NoSuchHealthCheck" {
		t.Errorf("got %s", got)
	}
}

// TestIntegrationHealthCheckIsolation checks that another tenant's health
// check answers exactly like a missing one on every endpoint.
func TestIntegrationHealthCheckIsolation(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, nil)
	_, owner := a.tenant("hc-owner")
	_, intruder := a.tenant("hc-intruder")
	r := a.must(http.StatusCreated, req{method: "POST", path: "/v1/healthchecks", bearer: owner,
		body: map[string]any{"caller_reference": "x", "config": map[string]any{"type": "HTTP", "ip_address": "192.0.2.1"}}})
	var hc healthCheckResponse
	r.decode(t, &hc)
	const missing = "00000000-0000-4000-8000-000000000000"
	for _, tc := range []struct {
		method, suffix string
		body           any
	}{
		{"GET", "", nil},
		{"PATCH", "", map[string]any{"inverted": true}},
		{"DELETE", "", nil},
		{"GET", "/status", nil},
		{"GET", "/last-failure", nil},
		{"GET", "/history", nil},
	} {
		t.Run(tc.method+tc.suffix, func(t *testing.T) {
			theirs := a.do(req{method: tc.method, path: "/v1/healthchecks/" + hc.HealthCheck.ID + tc.suffix, bearer: intruder, body: tc.body})
			none := a.do(req{method: tc.method, path: "/v1/healthchecks/" + missing + tc.suffix, bearer: intruder, body: tc.body})
			if theirs.status != http.StatusNotFound || none.status != http.StatusNotFound {
				t.Fatalf("got %d and %d, want 404 for both: %s", theirs.status, none.status, theirs.body)
			}
		})
	}
	// A record set that uses the check keeps it from being deleted.
	zone := a.zone(owner, "hc.example.")
	if _, err := a.db.Exec(context.Background(),
		`UPDATE rrset SET health_check_id = $1 WHERE zone_id = $2 AND type = 'NS'`, hc.HealthCheck.ID, zone); err != nil {
		t.Fatal(err)
	}
	r = a.must(http.StatusConflict, req{method: "DELETE", path: "/v1/healthchecks/" + hc.HealthCheck.ID, bearer: owner})
	if got := r.errorCode(t); got != "HealthCheckInUse" {
		t.Errorf("got %s", got)
	}
}
