package api

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/event"
)

// exerciseMetrics drives the two metrics routes for the contract test: a
// zone's query series from rollups (whole, per rcode, per region, and
// with the defaults), a check's status series, their 400s and another
// tenant's 404.
func exerciseMetrics(t *testing.T, a *testAPI, token string) {
	t.Helper()
	zone := a.zone(token, "metrics.example.")
	now := a.clock.Now().UTC()
	t0 := now.Truncate(time.Minute).Add(-10 * time.Minute)
	if err := a.svc.RecordZoneQueries(context.Background(), []controlplane.ZoneQueryCount{
		{ZoneID: zone, Minute: t0, Region: "eu-west-1", RCode: "NOERROR", Queries: 7},
		{ZoneID: zone, Minute: t0, Region: "us-east-1", RCode: "NXDOMAIN", Queries: 2},
		{ZoneID: zone, Minute: t0.Add(3 * time.Minute), Region: "eu-west-1", RCode: "NOERROR", Queries: 4},
	}); err != nil {
		t.Fatal(err)
	}
	path := func(id, q string) string { return "/v1/hostedzones/" + id + "/metrics?" + q }
	rng := url.Values{"start": {t0.Format(time.RFC3339)}, "end": {t0.Add(5 * time.Minute).Format(time.RFC3339)}}.Encode()
	for _, tc := range []struct {
		q    string
		want []controlplane.Datapoint
	}{
		{"metric=dns_queries&period=60&" + rng, []controlplane.Datapoint{{Timestamp: t0, Value: 9}, {Timestamp: t0.Add(3 * time.Minute), Value: 4}}},
		// Start is rounded down to the period.
		{"metric=dns_queries&period=300&" + rng, []controlplane.Datapoint{{Timestamp: t0.Truncate(5 * time.Minute), Value: 13}}},
		// A minute with queries, none NXDOMAIN: 0.
		{"metric=dns_queries&rcode=NXDOMAIN&" + rng, []controlplane.Datapoint{{Timestamp: t0, Value: 2}, {Timestamp: t0.Add(3 * time.Minute), Value: 0}}},
		{"metric=dns_queries&region=eu-west-1&" + rng, []controlplane.Datapoint{{Timestamp: t0, Value: 7}, {Timestamp: t0.Add(3 * time.Minute), Value: 4}}},
		{"metric=nxdomain_queries&" + rng, []controlplane.Datapoint{{Timestamp: t0, Value: 2}, {Timestamp: t0.Add(3 * time.Minute), Value: 0}}},
		// The defaults: the last hour, by minute.
		{"metric=dns_queries", []controlplane.Datapoint{{Timestamp: t0, Value: 9}, {Timestamp: t0.Add(3 * time.Minute), Value: 4}}},
	} {
		r := a.must(http.StatusOK, req{method: "GET", path: path(zone, tc.q), bearer: token})
		var got controlplane.MetricSeries
		r.decode(t, &got)
		if !slices.Equal(got.Datapoints, tc.want) {
			t.Errorf("?%s: %s", tc.q, r.body)
		}
	}
	r := a.must(http.StatusOK, req{method: "GET", path: path(zone, "metric=change_pending_seconds&"+rng), bearer: token})
	var pending controlplane.MetricSeries
	r.decode(t, &pending)
	if len(pending.Datapoints) != 5 || pending.Datapoints[0].Value != 0 {
		t.Errorf("change_pending_seconds (the zone's creation change came after): %s", r.body)
	}
	strict := a.strictRequests
	a.strictRequests = false
	for _, q := range []string{"", "metric=nope", "metric=dns_queries&period=90", "metric=dns_queries&period=abc",
		"metric=dns_queries&start=yesterday", "metric=dns_queries&start=" + t0.Format(time.RFC3339) + "&end=" + t0.Add(-time.Hour).Format(time.RFC3339),
		"metric=health_check_status"} {
		r := a.must(http.StatusBadRequest, req{method: "GET", path: path(zone, q), bearer: token})
		if got := r.errorCode(t); got != "InvalidInput" {
			t.Errorf("?%s: %s", q, got)
		}
	}
	a.strictRequests = strict
	_, otherToken := a.tenant("metrics-other")
	a.must(http.StatusNotFound, req{method: "GET", path: path(zone, "metric=dns_queries"), bearer: otherToken})

	r = a.must(http.StatusCreated, req{method: "POST", path: "/v1/healthchecks", bearer: token,
		body: map[string]any{"caller_reference": "metrics-hc", "config": map[string]any{"type": "TCP", "ip_address": "192.0.2.20", "port": 22}}})
	var hc healthCheckResponse
	r.decode(t, &hc)
	hpath := "/v1/healthchecks/" + hc.HealthCheck.ID + "/metrics?"
	a.must(http.StatusOK, req{method: "GET", path: hpath + "metric=health_check_status&period=60", bearer: token})
	// Known probe rollups: regions a (2 of 2 healthy) and b (1 of 2).
	if err := a.svc.SaveHealth(context.Background(), nil, nil, []event.HealthMinute{
		{CheckID: hc.HealthCheck.ID, Region: "a", Minute: t0, Samples: 2, Healthy: 2, ConnectMSSum: 8, ConnectCount: 2, FirstByteMSSum: 20, FirstByteCount: 2},
		{CheckID: hc.HealthCheck.ID, Region: "b", Minute: t0, Samples: 2, Healthy: 1, ConnectMSSum: 6, ConnectCount: 1},
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q    string
		want float64
	}{
		{"metric=percentage_healthy&" + rng, 75},
		{"metric=percentage_healthy&region=b&" + rng, 50},
		{"metric=connection_time&" + rng, 14.0 / 3},
		{"metric=connection_time&region=a&" + rng, 4},
		{"metric=time_to_first_byte&period=300&" + rng, 10},
	} {
		r := a.must(http.StatusOK, req{method: "GET", path: hpath + tc.q, bearer: token})
		var got controlplane.MetricSeries
		r.decode(t, &got)
		if len(got.Datapoints) != 1 || got.Datapoints[0].Value != tc.want {
			t.Errorf("?%s: %s, want %v", tc.q, r.body, tc.want)
		}
	}
	a.strictRequests = false
	for _, q := range []string{"metric=dns_queries", "metric=connection_time&rcode=NOERROR", "metric=health_check_status&region=a",
		"metric=connection_time&period=0", "metric=time_to_first_byte&end=soon"} {
		r := a.must(http.StatusBadRequest, req{method: "GET", path: hpath + q, bearer: token})
		if got := r.errorCode(t); got != "InvalidInput" {
			t.Errorf("?%s: %s", q, got)
		}
	}
	a.strictRequests = strict
	a.must(http.StatusNotFound, req{method: "GET", path: hpath + "metric=health_check_status", bearer: otherToken})
	a.must(http.StatusNotFound, req{method: "GET", path: hpath + "metric=connection_time", bearer: otherToken})
}
