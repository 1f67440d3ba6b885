package api

import (
	"net/http"
	"testing"
)

// exerciseTags drives the tag endpoints of zones and health checks (part
// of TestIntegrationOpenAPIContract, so every response is checked against
// openapi.yaml), including another tenant's ids.
func exerciseTags(t *testing.T, a *testAPI, token string) {
	t.Helper()
	zone := a.zone(token, "tagged.example.")
	r := a.must(http.StatusOK, req{method: "POST", path: "/v1/hostedzones/" + zone + "/tags", bearer: token,
		body: map[string]any{"add": []map[string]string{{"key": "env", "value": "prod"}, {"key": "team", "value": "dns"}}}})
	var tags tagsResponse
	r.decode(t, &tags)
	if tags.ResourceType != "hostedzone" || tags.ResourceID != zone || len(tags.Tags) != 2 || tags.Tags[0].Key != "env" {
		t.Errorf("got %s", r.body)
	}
	a.must(http.StatusOK, req{method: "POST", path: "/v1/hostedzones/" + zone + "/tags", bearer: token,
		body: map[string]any{"add": []map[string]string{{"key": "env", "value": "staging"}}, "remove": []string{"team"}}})
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/hostedzones/" + zone + "/tags", bearer: token})
	tags = tagsResponse{}
	r.decode(t, &tags)
	if len(tags.Tags) != 1 || tags.Tags[0] != (tagJSON{Key: "env", Value: "staging"}) {
		t.Errorf("got %s", r.body)
	}
	r = a.must(http.StatusBadRequest, req{method: "POST", path: "/v1/hostedzones/" + zone + "/tags", bearer: token,
		body: map[string]any{"add": []map[string]string{{"key": "aws:reserved", "value": "x"}}}})
	if got := r.errorCode(t); got != "InvalidInput" {
		t.Errorf("got %s", got)
	}

	r = a.must(http.StatusCreated, req{method: "POST", path: "/v1/healthchecks", bearer: token,
		body: map[string]any{"caller_reference": "tagged", "config": map[string]any{"type": "TCP", "ip_address": "192.0.2.44", "port": 22}}})
	var hc healthCheckResponse
	r.decode(t, &hc)
	a.must(http.StatusOK, req{method: "POST", path: "/v1/healthchecks/" + hc.HealthCheck.ID + "/tags", bearer: token,
		body: map[string]any{"add": []map[string]string{{"key": "Name", "value": "web"}}}})
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/healthchecks/" + hc.HealthCheck.ID + "/tags", bearer: token})
	tags = tagsResponse{}
	r.decode(t, &tags)
	if tags.ResourceType != "healthcheck" || len(tags.Tags) != 1 || tags.Tags[0].Value != "web" {
		t.Errorf("got %s", r.body)
	}

	// Another tenant's resources answer like missing ones.
	_, other := a.tenant("tags-intruder")
	for _, path := range []string{"/v1/hostedzones/" + zone + "/tags", "/v1/hostedzones/ZAAAAAAAAAAAAAAAA/tags"} {
		r := a.must(http.StatusNotFound, req{method: "GET", path: path, bearer: other})
		if got := r.errorCode(t); got != "NoSuchHostedZone" {
			t.Errorf("%s: got %s", path, got)
		}
	}
	r = a.must(http.StatusNotFound, req{method: "POST", path: "/v1/healthchecks/" + hc.HealthCheck.ID + "/tags", bearer: other,
		body: map[string]any{"remove": []string{"Name"}}})
	if got := r.errorCode(t); got != "NoSuchHealthCheck" {
		t.Errorf("got %s", got)
	}
	a.must(http.StatusNoContent, req{method: "DELETE", path: "/v1/healthchecks/" + hc.HealthCheck.ID, bearer: token})
	a.must(http.StatusNotFound, req{method: "GET", path: "/v1/healthchecks/" + hc.HealthCheck.ID + "/tags", bearer: token})
}
