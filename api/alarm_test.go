package api

import (
	"net/http"
	"strings"
	"testing"
)

// exerciseAlarms drives /v1/alarms for the contract test: create on a
// zone's query count, read, list, history, the 400s of validation and of
// a private webhook target (this API does not allow private targets),
// secrets absent from every answer, another tenant's 404, delete.
func exerciseAlarms(t *testing.T, a *testAPI, token string) {
	t.Helper()
	zone := a.zone(token, "alarms.example.")
	body := func(mod func(m map[string]any)) map[string]any {
		m := map[string]any{"name": "queries-high",
			"metric":    map[string]any{"namespace": "hostedzone", "name": "dns_queries", "resource_id": zone},
			"statistic": "Sum", "period": 60, "evaluation_periods": 3, "datapoints_to_alarm": 2,
			"threshold": 1000, "comparison": "GreaterThanThreshold",
			"alarm_actions": []any{map[string]any{"webhook": map[string]any{"url": "https://hooks.example.com/w", "secret": "top-secret-value"}}},
			"ok_actions":    []any{}}
		if mod != nil {
			mod(m)
		}
		return m
	}
	r := a.must(http.StatusCreated, req{method: "POST", path: "/v1/alarms", bearer: token, body: body(nil)})
	var created alarmResponse
	r.decode(t, &created)
	id := created.Alarm.ID
	if created.Alarm.State != "INSUFFICIENT_DATA" || len(created.Alarm.AlarmActions) != 1 ||
		!created.Alarm.AlarmActions[0].Webhook.SecretSet || strings.Contains(string(r.body), "top-secret-value") {
		t.Errorf("created: %s", r.body)
	}
	if r.header.Get("Location") != "/v1/alarms/"+id {
		t.Errorf("Location %q", r.header.Get("Location"))
	}
	for _, path := range []string{"/v1/alarms", "/v1/alarms/" + id, "/v1/alarms/" + id + "/history"} {
		if r := a.must(http.StatusOK, req{method: "GET", path: path, bearer: token}); strings.Contains(string(r.body), "top-secret-value") {
			t.Errorf("%s shows the secret: %s", path, r.body)
		}
	}
	a.must(http.StatusConflict, req{method: "POST", path: "/v1/alarms", bearer: token, body: body(nil)})
	// These requests break the schema on purpose (the answers are still
	// checked against it).
	strict := a.strictRequests
	a.strictRequests = false
	for name, mod := range map[string]func(m map[string]any){
		"comparison": func(m map[string]any) { m["comparison"] = "Equals" },
		"statistic":  func(m map[string]any) { m["statistic"] = "Average" },
		"period":     func(m map[string]any) { m["period"] = 30 },
		"threshold":  func(m map[string]any) { delete(m, "threshold") },
		"loopback": func(m map[string]any) {
			m["alarm_actions"] = []any{map[string]any{"webhook": map[string]any{"url": "http://127.0.0.1:8080/", "secret": "x"}}}
		},
	} {
		r := a.must(http.StatusBadRequest, req{method: "POST", path: "/v1/alarms", bearer: token, body: body(func(m map[string]any) {
			m["name"] = "bad-" + name
			mod(m)
		})})
		if r.errorCode(t) != "InvalidInput" {
			t.Errorf("%s: %s", name, r.body)
		}
	}
	a.strictRequests = strict
	a.must(http.StatusNotFound, req{method: "POST", path: "/v1/alarms", bearer: token, body: body(func(m map[string]any) {
		m["name"] = "missing-zone"
		m["metric"] = map[string]any{"namespace": "hostedzone", "name": "dns_queries", "resource_id": "ZNOSUCHZONE"}
	})})
	_, other := a.tenant("alarm-other")
	a.must(http.StatusNotFound, req{method: "GET", path: "/v1/alarms/" + id, bearer: other})
	a.must(http.StatusNotFound, req{method: "DELETE", path: "/v1/alarms/" + id, bearer: other})
	a.must(http.StatusNoContent, req{method: "DELETE", path: "/v1/alarms/" + id, bearer: token})
	a.must(http.StatusNotFound, req{method: "GET", path: "/v1/alarms/" + id + "/history", bearer: token})
}
