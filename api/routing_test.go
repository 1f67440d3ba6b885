package api

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/natstest"
)

// testAnswerer starts an embedded NATS server with a stand-in nameserver
// on event.TestAnswerSubject (the real one is the data plane's, which this
// package may not import) and returns the TestAnswerFunc cmd/waymark
// wires, plus the last request the stand-in received.
func testAnswerer(t *testing.T) (TestAnswerFunc, func() event.TestAnswerRequest) {
	t.Helper()
	s := natstest.Run(t)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	var mu sync.Mutex
	var last event.TestAnswerRequest
	if _, err := event.ServeTestAnswer(nc, func(r event.TestAnswerRequest) event.TestAnswerResponse {
		mu.Lock()
		last = r
		mu.Unlock()
		if r.Type == "TXT" {
			return event.TestAnswerResponse{Error: "zone not loaded yet"}
		}
		return event.TestAnswerResponse{NodeID: "ns-test", ZoneVersion: 3, Rcode: "NOERROR",
			Records:     []event.TestAnswerRecord{{Name: r.Name, Type: r.Type, TTL: 60, Data: "192.0.2.1"}},
			Explanation: []string{"weighted: chose set a (weight 10 of 10)"}}
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return func(ctx context.Context, req event.TestAnswerRequest) (event.TestAnswerResponse, error) {
			return event.RequestTestAnswer(ctx, nc, req)
		}, func() event.TestAnswerRequest {
			mu.Lock()
			defer mu.Unlock()
			return last
		}
}

// exerciseRouting drives the routing endpoints for the contract test:
// CIDR collections, routed and alias record sets, test answers.
func exerciseRouting(t *testing.T, a *testAPI, token string, lastTestAnswer func() event.TestAnswerRequest) {
	t.Helper()
	r := a.must(http.StatusCreated, req{method: "POST", path: "/v1/cidrcollections", bearer: token,
		body: map[string]string{"name": "offices", "caller_reference": "c-1"}})
	var cc cidrCollectionResponse
	r.decode(t, &cc)
	coll := cc.Collection.ID
	if cc.Collection.Version != 1 || r.header.Get("Location") != "/v1/cidrcollections/"+coll {
		t.Errorf("got %s", r.body)
	}
	a.must(http.StatusOK, req{method: "POST", path: "/v1/cidrcollections", bearer: token,
		body: map[string]string{"name": "offices", "caller_reference": "c-1"}})
	r = a.must(http.StatusOK, req{method: "POST", path: "/v1/cidrcollections/" + coll + "/changes", bearer: token,
		body: map[string]any{"collection_version": 1, "changes": []map[string]any{
			{"location_name": "paris", "action": "PUT", "cidr_list": []string{"192.0.2.0/24", "2001:db8::/48"}},
			{"location_name": "oslo", "action": "PUT", "cidr_list": []string{"198.51.100.0/24"}},
		}}})
	var cr changeCIDRCollectionResponse
	r.decode(t, &cr)
	if cr.Collection.Version != 2 || len(cr.Changes) != 0 {
		t.Errorf("got %s", r.body)
	}
	r = a.must(http.StatusConflict, req{method: "POST", path: "/v1/cidrcollections/" + coll + "/changes", bearer: token,
		body: map[string]any{"collection_version": 1, "changes": []map[string]any{
			{"location_name": "rome", "action": "PUT", "cidr_list": []string{"203.0.113.0/24"}}}}})
	if got := r.errorCode(t); got != "CidrCollectionVersionMismatch" {
		t.Errorf("got %s", r.body)
	}
	a.must(http.StatusOK, req{method: "GET", path: "/v1/cidrcollections", bearer: token})
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/cidrcollections/" + coll, bearer: token})
	if !strings.Contains(string(r.body), `"location_name":"paris","block_count":2`) {
		t.Errorf("got %s", r.body)
	}
	a.must(http.StatusOK, req{method: "GET", path: "/v1/cidrcollections/" + coll + "/locations", bearer: token})
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/cidrcollections/" + coll + "/blocks?location=oslo", bearer: token})
	if string(r.body) != `{"blocks":[{"cidr":"198.51.100.0/24","location_name":"oslo"}]}`+"\n" {
		t.Errorf("got %s", r.body)
	}

	// Routed and alias record sets, listed back as sent.
	zone := a.zone(token, "routing.example.")
	batch := map[string]any{"changes": []map[string]any{
		{"action": "CREATE", "rrset": map[string]any{"name": "w.routing.example.", "type": "A", "set_identifier": "a", "weight": 10, "ttl": 60, "records": []string{"192.0.2.1"}}},
		{"action": "CREATE", "rrset": map[string]any{"name": "w.routing.example.", "type": "A", "set_identifier": "b", "weight": 0, "ttl": 60, "records": []string{"192.0.2.2"}}},
		{"action": "CREATE", "rrset": map[string]any{"name": "g.routing.example.", "type": "A", "set_identifier": "wa", "ttl": 60, "records": []string{"192.0.2.3"},
			"geolocation": map[string]string{"country_code": "US", "subdivision_code": "WA"}}},
		{"action": "CREATE", "rrset": map[string]any{"name": "c.routing.example.", "type": "A", "set_identifier": "p", "ttl": 60, "records": []string{"192.0.2.4"},
			"cidr_routing": map[string]string{"collection_id": coll, "location_name": "paris"}}},
		{"action": "CREATE", "rrset": map[string]any{"name": "f.routing.example.", "type": "A", "set_identifier": "p", "failover": "PRIMARY", "ttl": 60, "records": []string{"192.0.2.5"}}},
		{"action": "CREATE", "rrset": map[string]any{"name": "l.routing.example.", "type": "A", "set_identifier": "eu", "region": "eu-west-1", "ttl": 60, "records": []string{"192.0.2.6"}}},
		{"action": "CREATE", "rrset": map[string]any{"name": "m.routing.example.", "type": "A", "set_identifier": "1", "multivalue_answer": true, "ttl": 60, "records": []string{"192.0.2.7"}}},
		{"action": "CREATE", "rrset": map[string]any{"name": "routing.example.", "type": "A",
			"alias_target": map[string]any{"hosted_zone_id": zone, "dns_name": "w.routing.example.", "evaluate_target_health": true}}},
	}}
	a.must(http.StatusOK, req{method: "POST", path: "/v1/hostedzones/" + zone + "/rrsets/changes", bearer: token, body: batch})
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/hostedzones/" + zone + "/rrsets", bearer: token})
	for _, want := range []string{
		`{"name":"routing.example.","type":"A","alias_target":{"hosted_zone_id":"` + zone + `","dns_name":"w.routing.example.","evaluate_target_health":true}}`,
		`"set_identifier":"b","ttl":60,"records":["192.0.2.2"],"weight":0}`,
		`"geolocation":{"country_code":"US","subdivision_code":"WA"}`,
		`"cidr_routing":{"collection_id":"` + coll + `","location_name":"paris"}`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("listing lacks %s: %s", want, r.body)
		}
	}
	// The collection is in use now; the changed content goes to the zone.
	r = a.must(http.StatusOK, req{method: "POST", path: "/v1/cidrcollections/" + coll + "/changes", bearer: token,
		body: map[string]any{"changes": []map[string]any{{"location_name": "paris", "action": "DELETE_IF_EXISTS", "cidr_list": []string{"2001:db8::/48"}}}}})
	cr = changeCIDRCollectionResponse{}
	r.decode(t, &cr)
	if len(cr.Changes) != 1 || cr.Changes[0].HostedZoneID != zone {
		t.Errorf("got %s", r.body)
	}
	r = a.must(http.StatusConflict, req{method: "DELETE", path: "/v1/cidrcollections/" + coll, bearer: token})
	if got := r.errorCode(t); got != "CidrCollectionInUse" {
		t.Errorf("got %s", r.body)
	}
	r = a.must(http.StatusCreated, req{method: "POST", path: "/v1/cidrcollections", bearer: token,
		body: map[string]string{"name": "unused", "caller_reference": "c-2"}})
	cc = cidrCollectionResponse{}
	r.decode(t, &cc)
	a.must(http.StatusNoContent, req{method: "DELETE", path: "/v1/cidrcollections/" + cc.Collection.ID, bearer: token})

	// Test answers through NATS.
	r = a.must(http.StatusOK, req{method: "GET", bearer: token,
		path: "/v1/hostedzones/" + zone + "/test-answer?name=W.routing.example&type=a&client_ip=192.0.2.53&ecs=198.51.100.77"})
	var ta testAnswerResponse
	r.decode(t, &ta)
	last := lastTestAnswer()
	if ta.ResponseCode != "NOERROR" || len(ta.Records) != 1 || ta.Nameserver != "ns-test" || len(ta.Explanation) != 1 ||
		last.ZoneID != zone || last.Name != "w.routing.example." || last.Type != "A" || last.ECS != "198.51.100.0/24" || last.ClientIP != "192.0.2.53" {
		t.Errorf("got %s, nameserver saw %+v", r.body, last)
	}
	a.must(http.StatusBadRequest, req{method: "GET", bearer: token, path: "/v1/hostedzones/" + zone + "/test-answer?name=www.elsewhere.example&type=A"})
	a.must(http.StatusBadRequest, req{method: "GET", bearer: token, path: "/v1/hostedzones/" + zone + "/test-answer?name=w.routing.example&type=A&ecs=nope"})
	a.must(http.StatusServiceUnavailable, req{method: "GET", bearer: token, path: "/v1/hostedzones/" + zone + "/test-answer?name=w.routing.example&type=TXT"})
}

// TestIntegrationTestAnswerUnavailable checks the 503s: no nameserver
// connection wired, and nobody answering on NATS.
func TestIntegrationTestAnswerUnavailable(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	for _, wired := range []bool{false, true} {
		a := newTestAPI(t, func(c *Config) {
			if wired {
				c.TestAnswer = func(ctx context.Context, req event.TestAnswerRequest) (event.TestAnswerResponse, error) {
					return event.RequestTestAnswer(ctx, nc, req)
				}
			}
		})
		_, token := a.tenant("ta")
		zone := a.zone(token, "ta.example.")
		r := a.must(http.StatusServiceUnavailable, req{method: "GET", bearer: token, path: "/v1/hostedzones/" + zone + "/test-answer?name=ta.example&type=SOA"})
		if got := r.errorCode(t); got != "ServiceUnavailable" {
			t.Errorf("wired %v: got %s", wired, r.body)
		}
	}
}

// TestIntegrationRoutingDecode checks the rules the API itself applies to
// routing fields, which a strict OpenAPI validator would refuse before
// they reach it: weight range, alias with a TTL, a missing
// evaluate_target_health.
func TestIntegrationRoutingDecode(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, nil)
	_, token := a.tenant("decode")
	zone := a.zone(token, "routing.example.")
	a.must(http.StatusOK, req{method: "POST", path: "/v1/hostedzones/" + zone + "/rrsets/changes", bearer: token,
		body: map[string]any{"changes": []map[string]any{{"action": "CREATE", "rrset": map[string]any{
			"name": "w.routing.example.", "type": "A", "ttl": 60, "records": []string{"192.0.2.1"}}}}}})
	for _, rs := range []map[string]any{
		{"name": "x.routing.example.", "type": "A", "set_identifier": "a", "weight": 256, "ttl": 60, "records": []string{"192.0.2.1"}},
		{"name": "x.routing.example.", "type": "A", "ttl": 60, "alias_target": map[string]any{"hosted_zone_id": zone, "dns_name": "w.routing.example.", "evaluate_target_health": false}},
		{"name": "x.routing.example.", "type": "A", "alias_target": map[string]any{"hosted_zone_id": zone, "dns_name": "w.routing.example."}},
	} {
		r := a.must(http.StatusBadRequest, req{method: "POST", path: "/v1/hostedzones/" + zone + "/rrsets/changes", bearer: token,
			body: map[string]any{"changes": []map[string]any{{"action": "CREATE", "rrset": rs}}}})
		if got := r.errorCode(t); got != "InvalidInput" {
			t.Errorf("got %s", r.body)
		}
	}
}
