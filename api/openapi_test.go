package api

import (
	"context"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/api/route53"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/healthcfg"
	"github.com/waymark-dns/waymark/internal/clock"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/zonecfg"
)

// TestIntegrationOpenAPIContract drives every documented endpoint through
// the router against a real database, validating every request and
// response with openapi3filter, then checks that every operation in
// openapi.yaml was exercised and every route of the router is documented.
func TestIntegrationOpenAPIContract(t *testing.T) {
	t.Parallel()
	answer, lastTestAnswer := testAnswerer(t)
	registryClock := clock.NewTest(time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC))
	a := newTestAPIWith(t, controlplane.HealthCheckOptions{Options: healthcfg.Options{MinRequestInterval: 1}}, func(c *Config) {
		c.SignupEnabled = true
		c.TestAnswer = answer
		c.Metrics = prometheus.NewRegistry()
		c.RegistryClock = registryClock
	})
	a.strictRequests = true

	// Health.
	a.must(http.StatusOK, req{method: "GET", path: "/healthz"})
	a.must(http.StatusOK, req{method: "GET", path: "/readyz"})
	a.must(http.StatusOK, req{method: "GET", path: "/metrics"})

	// Tenants, sign-up, keys, tokens.
	_, token := a.tenant("contract")
	a.must(http.StatusCreated, req{method: "POST", path: "/v1/signup", body: map[string]string{"name": "signed-up"}})
	a.must(http.StatusOK, req{method: "GET", path: "/v1/apikeys", bearer: token})
	// Zone transfers' TSIG keys (the zone's transfer configuration is
	// exercised with the zone below).
	a.must(http.StatusCreated, req{method: "POST", path: "/v1/tsigkeys", bearer: token,
		body: map[string]string{"name": "contract-xfr.example.", "algorithm": "hmac-sha512"}})
	a.must(http.StatusOK, req{method: "GET", path: "/v1/tsigkeys", bearer: token})
	r := a.must(http.StatusCreated, req{method: "POST", path: "/v1/apikeys", bearer: token, body: map[string]string{"description": "second"}})
	var key apiKeyResponse
	r.decode(t, &key)
	a.must(http.StatusOK, req{method: "GET", path: "/v1/apikeys", bearer: key.APIKey.Token}) // now with last_used_at
	a.must(http.StatusNoContent, req{method: "DELETE", path: "/v1/apikeys/" + key.APIKey.ID, bearer: token})
	r = a.must(http.StatusOK, req{method: "POST", path: "/v1/tokens", bearer: token})
	var tok tokenResponse
	r.decode(t, &tok)
	jwt := tok.Token

	// Zones.
	r = a.must(http.StatusCreated, req{method: "POST", path: "/v1/hostedzones", bearer: jwt,
		body: map[string]string{"name": "Example.COM", "caller_reference": "c1", "comment": "first"}})
	var cz createZoneResponse
	r.decode(t, &cz)
	zone := cz.HostedZone.ID
	if cz.HostedZone.Name != "example.com." || len(cz.DelegationSet.NameServers) == 0 || cz.Change.Status != "PENDING" {
		t.Errorf("got %s", r.body)
	}
	if r.header.Get("Location") != "/v1/hostedzones/"+zone {
		t.Errorf("got Location %q", r.header.Get("Location"))
	}
	a.zone(token, "example.org.")
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/hostedzones?max_items=1", bearer: token})
	var page listZonesResponse
	r.decode(t, &page)
	if len(page.HostedZones) != 1 || !page.IsTruncated || page.NextName == "" || page.MaxItems != 1 {
		t.Fatalf("got %s", r.body)
	}
	r = a.must(http.StatusOK, req{method: "GET", bearer: token,
		path: "/v1/hostedzones?max_items=1&name=" + page.NextName + "&zone_id=" + page.NextZoneID})
	r.decode(t, &page)
	if len(page.HostedZones) != 1 || page.IsTruncated {
		t.Fatalf("got %s", r.body)
	}
	a.must(http.StatusOK, req{method: "GET", path: "/v1/hostedzones/" + zone, bearer: token})
	a.must(http.StatusOK, req{method: "PUT", path: "/v1/hostedzones/" + zone + "/transfers", bearer: token,
		body: map[string]any{"allow": []map[string]any{{"tsig_key": "contract-xfr.example.", "cidrs": []string{"192.0.2.0/24"}}}}})
	a.must(http.StatusOK, req{method: "GET", path: "/v1/hostedzones/" + zone + "/transfers", bearer: token})
	a.must(http.StatusConflict, req{method: "DELETE", path: "/v1/tsigkeys/contract-xfr.example.", bearer: token})
	// A secondary zone's refresh; an ordinary zone has none.
	r = a.must(http.StatusCreated, req{method: "POST", path: "/v1/hostedzones", bearer: token,
		body: map[string]any{"name": "secondary.example.net.", "caller_reference": "sec1",
			"secondary": map[string]any{"primaries": []map[string]any{{"address": "192.0.2.53", "tsig_key": "contract-xfr.example."}}}}})
	var sz createZoneResponse
	r.decode(t, &sz)
	r = a.must(http.StatusAccepted, req{method: "POST", path: "/v1/hostedzones/" + sz.HostedZone.ID + "/secondary/refresh", bearer: token})
	if !strings.Contains(string(r.body), `"serving":false`) {
		t.Errorf("a secondary zone never transferred: %s", r.body)
	}
	a.must(http.StatusBadRequest, req{method: "POST", path: "/v1/hostedzones/" + zone + "/secondary/refresh", bearer: token})
	a.must(http.StatusOK, req{method: "DELETE", path: "/v1/hostedzones/" + sz.HostedZone.ID, bearer: token})
	a.must(http.StatusOK, req{method: "PUT", path: "/v1/hostedzones/" + zone + "/transfers", bearer: token, body: map[string]any{}})
	a.must(http.StatusNoContent, req{method: "DELETE", path: "/v1/tsigkeys/contract-xfr.example.", bearer: token})
	// Query logging (the NDJSON read itself, against a real stream and
	// nameserver: cmd/waymark TestIntegrationQueryLogs; here there is no
	// stream, so it is 503).
	r = a.must(http.StatusCreated, req{method: "POST", path: "/v1/hostedzones/" + zone + "/querylogging", bearer: token})
	if !strings.Contains(string(r.body), `"hosted_zone_id":"`+zone+`"`) || r.header.Get("Location") != "/v1/hostedzones/"+zone+"/querylogging" {
		t.Errorf("query logging: %s %v", r.body, r.header)
	}
	a.must(http.StatusConflict, req{method: "POST", path: "/v1/hostedzones/" + zone + "/querylogging", bearer: token})
	a.must(http.StatusOK, req{method: "GET", path: "/v1/hostedzones/" + zone + "/querylogging", bearer: token})
	a.must(http.StatusServiceUnavailable, req{method: "GET", path: "/v1/hostedzones/" + zone + "/querylogs?since=5m", bearer: token})
	a.must(http.StatusBadRequest, req{method: "GET", path: "/v1/hostedzones/" + zone + "/querylogs?since=yesterday", bearer: token})
	a.must(http.StatusOK, req{method: "DELETE", path: "/v1/hostedzones/" + zone + "/querylogging", bearer: token})
	a.must(http.StatusNotFound, req{method: "GET", path: "/v1/hostedzones/" + zone + "/querylogging", bearer: token})
	exerciseDNSSEC(t, a, token, zone)
	r = a.must(http.StatusOK, req{method: "PATCH", path: "/v1/hostedzones/" + zone, bearer: token, body: map[string]string{"comment": "renamed"}})
	if !strings.Contains(string(r.body), `"comment":"renamed"`) {
		t.Errorf("got %s", r.body)
	}
	a.must(http.StatusConflict, req{method: "POST", path: "/v1/hostedzones", bearer: token,
		body: map[string]string{"name": "other.example.", "caller_reference": "c1"}})

	// Reusable delegation sets: one shared by a new zone, one made from a
	// zone's own set; a set in use cannot be deleted.
	r = a.must(http.StatusCreated, req{method: "POST", path: "/v1/delegationsets", bearer: token,
		body: map[string]any{"caller_reference": "ds1"}})
	var ds delegationSetResponse
	r.decode(t, &ds)
	a.must(http.StatusCreated, req{method: "POST", path: "/v1/delegationsets", bearer: token,
		body: map[string]any{"caller_reference": "ds2", "hosted_zone_id": zone}})
	a.must(http.StatusConflict, req{method: "POST", path: "/v1/delegationsets", bearer: token,
		body: map[string]any{"caller_reference": "ds2"}})
	r = a.must(http.StatusCreated, req{method: "POST", path: "/v1/hostedzones", bearer: token,
		body: map[string]string{"name": "shared.example.", "caller_reference": "c-ds", "delegation_set_id": ds.DelegationSet.ID}})
	var shared createZoneResponse
	r.decode(t, &shared)
	if shared.DelegationSet.ID != ds.DelegationSet.ID || fmt.Sprint(shared.DelegationSet.NameServers) != fmt.Sprint(ds.DelegationSet.NameServers) {
		t.Errorf("zone on a reusable set: %s", r.body)
	}
	a.must(http.StatusOK, req{method: "GET", path: "/v1/delegationsets", bearer: token})
	a.must(http.StatusOK, req{method: "GET", path: "/v1/delegationsets/" + ds.DelegationSet.ID, bearer: token})
	a.must(http.StatusNotFound, req{method: "GET", path: "/v1/delegationsets/NNOSUCH", bearer: token})
	a.must(http.StatusConflict, req{method: "DELETE", path: "/v1/delegationsets/" + ds.DelegationSet.ID, bearer: token})
	a.must(http.StatusOK, req{method: "DELETE", path: "/v1/hostedzones/" + shared.HostedZone.ID, bearer: token})
	a.must(http.StatusNoContent, req{method: "DELETE", path: "/v1/delegationsets/" + ds.DelegationSet.ID, bearer: token})
	r = a.must(http.StatusBadRequest, req{method: "POST", path: "/v1/hostedzones", bearer: token,
		body: map[string]string{"name": "co.uk.", "caller_reference": "c-psl"}})
	if r.errorCode(t) != "InvalidDomainName" || !strings.Contains(string(r.body), "public suffix") {
		t.Errorf("co.uk.: %s", r.body)
	}

	// Change batches.
	batch := map[string]any{
		"comment": "web",
		"changes": []map[string]any{
			{"action": "CREATE", "rrset": map[string]any{"name": "www.example.com.", "type": "A", "ttl": 300, "records": []string{"192.0.2.1", "192.0.2.2"}}},
			{"action": "CREATE", "rrset": map[string]any{"name": "example.com.", "type": "MX", "ttl": 3600, "records": []string{"10 mail.example.com."}}},
			{"action": "UPSERT", "rrset": map[string]any{"name": "example.com.", "type": "TXT", "ttl": 60, "records": []string{`"v=spf1 -all"`}}},
		},
	}
	r = a.must(http.StatusOK, req{method: "POST", path: "/v1/hostedzones/" + zone + "/rrsets/changes", bearer: token, body: batch})
	var ch changeResponse
	r.decode(t, &ch)
	if ch.Change.Comment != "web" || ch.Change.Status != "PENDING" {
		t.Errorf("got %s", r.body)
	}
	r = a.must(http.StatusBadRequest, req{method: "POST", path: "/v1/hostedzones/" + zone + "/rrsets/changes", bearer: token, body: batch})
	if got := r.errorCode(t); got != "InvalidChangeBatch" || !strings.Contains(string(r.body), `"index":0`) {
		t.Errorf("got %s", r.body)
	}
	a.must(http.StatusOK, req{method: "GET", path: "/v1/changes/" + ch.Change.ID, bearer: token})
	// With an idempotency key the same batch is safe to send again.
	keyed := map[string]any{"changes": []map[string]any{
		{"action": "UPSERT", "rrset": map[string]any{"name": "example.com.", "type": "TXT", "ttl": 60, "records": []string{`"v=spf1 -all"`}}}}}
	idem := map[string]string{"Idempotency-Key": "contract-key-1"}
	var first, again changeResponse
	a.must(http.StatusOK, req{method: "POST", path: "/v1/hostedzones/" + zone + "/rrsets/changes", bearer: token, body: keyed, header: idem}).decode(t, &first)
	a.must(http.StatusOK, req{method: "POST", path: "/v1/hostedzones/" + zone + "/rrsets/changes", bearer: token, body: keyed, header: idem}).decode(t, &again)
	if again.Change.ID != first.Change.ID {
		t.Errorf("the retry with the key made change %s, the first %s", again.Change.ID, first.Change.ID)
	}
	r = a.must(http.StatusUnprocessableEntity, req{method: "POST", path: "/v1/hostedzones/" + zone + "/rrsets/changes", bearer: token, body: batch, header: idem})
	if got := r.errorCode(t); got != "IdempotencyKeyReused" {
		t.Errorf("the key with another batch: %s", r.body)
	}

	// Record sets, paged by name and type.
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/hostedzones/" + zone + "/rrsets?max_items=2", bearer: token})
	var rp listRRSetsResponse
	r.decode(t, &rp)
	if len(rp.RRSets) != 2 || !rp.IsTruncated || rp.NextName == "" || rp.NextType == "" {
		t.Fatalf("got %s", r.body)
	}
	var names []string
	for {
		for _, rs := range rp.RRSets {
			names = append(names, rs.Name+" "+rs.Type)
		}
		if !rp.IsTruncated {
			break
		}
		r = a.must(http.StatusOK, req{method: "GET", bearer: token,
			path: "/v1/hostedzones/" + zone + "/rrsets?max_items=2&name=" + rp.NextName + "&type=" + rp.NextType + "&identifier=" + rp.NextIdentifier})
		rp = listRRSetsResponse{}
		r.decode(t, &rp)
	}
	want := []string{"example.com. MX", "example.com. NS", "example.com. SOA", "example.com. TXT", "www.example.com. A"}
	if !slices.Equal(names, want) {
		t.Errorf("got record sets %v, want %v", names, want)
	}

	// Zone files.
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/hostedzones/" + zone + "/export", bearer: token})
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/dns") || !strings.Contains(string(r.body), "www.example.com.") {
		t.Errorf("got %s: %s", ct, r.body)
	}
	file := string(r.body) + "api.example.com. 300 IN CNAME www.example.com.\n"
	a.must(http.StatusOK, req{method: "POST", path: "/v1/hostedzones/" + zone + "/import", bearer: token, body: file, contentType: "text/dns"})
	r = a.must(http.StatusBadRequest, req{method: "POST", path: "/v1/hostedzones/" + zone + "/import", bearer: token,
		body: "$ORIGIN example.com.\nok 300 IN A 192.0.2.9\nbad 300 IN A not-an-ip\n", contentType: "text/plain"})
	if got := r.errorCode(t); got != "InvalidInput" || !strings.Contains(string(r.body), `"line":3`) {
		t.Errorf("got %s", r.body)
	}

	// Deleting: not while records remain, then empty it and delete.
	r = a.must(http.StatusConflict, req{method: "DELETE", path: "/v1/hostedzones/" + zone, bearer: token})
	if got := r.errorCode(t); got != "HostedZoneNotEmpty" {
		t.Errorf("got %s", got)
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/hostedzones/" + zone + "/rrsets", bearer: token})
	rp = listRRSetsResponse{}
	r.decode(t, &rp)
	var dels []map[string]any
	for _, rs := range rp.RRSets {
		if rs.Type == "SOA" || rs.Type == "NS" && rs.Name == "example.com." {
			continue
		}
		dels = append(dels, map[string]any{"action": "DELETE", "rrset": rs})
	}
	a.must(http.StatusOK, req{method: "POST", path: "/v1/hostedzones/" + zone + "/rrsets/changes", bearer: token,
		body: map[string]any{"changes": dels}})
	a.must(http.StatusOK, req{method: "DELETE", path: "/v1/hostedzones/" + zone, bearer: token})
	a.must(http.StatusNotFound, req{method: "GET", path: "/v1/hostedzones/" + zone, bearer: token})

	exerciseHealthChecks(t, a, token)
	exerciseAlarms(t, a, token)
	exerciseMetrics(t, a, token)
	exerciseTags(t, a, token)
	exerciseRouting(t, a, token, lastTestAnswer)
	exerciseFleet(t, a, token)
	exerciseDomains(t, a, token)
	exerciseRegistryClock(t, a, registryClock, token)
	exerciseExternalRegistries(t, a)
	a.must(http.StatusOK, req{method: "GET", path: "/v1/auditlog?max_items=2&result=success&api=v1", bearer: token})
	a.must(http.StatusBadRequest, req{method: "GET", path: "/v1/auditlog?next_token=x", bearer: token})
	checkCoverage(t, a)
}

// exerciseFleet drives the operator's fleet endpoints: the snapshot and
// one zone of it (after exerciseRouting, so routing fields, aliases and
// CIDR collections are in it), the fleet list with two nameserver rows,
// and the 401/403/404 answers.
func exerciseFleet(t *testing.T, a *testAPI, token string) {
	t.Helper()
	r := a.must(http.StatusOK, req{method: "GET", path: "/v1/nameserver/snapshot", bearer: testAdminToken})
	var snap event.Snapshot
	r.decode(t, &snap)
	var routed *event.ZoneState
	for i, z := range snap.Zones {
		if z.Name == "routing.example." {
			routed = &snap.Zones[i]
		}
	}
	if routed == nil || len(routed.CIDRCollections) == 0 || !slices.ContainsFunc(routed.RRSets, func(rs zonecfg.RRSet) bool { return rs.Alias != nil }) {
		t.Fatalf("the snapshot lacks the routed zone, its alias or its CIDR collection: %s", r.body)
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/nameserver/zones/" + routed.ID, bearer: testAdminToken})
	var zs event.ZoneState
	r.decode(t, &zs)
	if zs.ID != routed.ID || zs.Version != routed.Version || len(zs.RRSets) != len(routed.RRSets) {
		t.Errorf("got %s", r.body)
	}

	// The fleet, as two trackers' rows: one live, one silent for an hour.
	now := a.clock.Now()
	_, err := a.db.Exec(context.Background(),
		`INSERT INTO nameserver (node_id, region, applied_seq, ready, zones, first_seen_at, last_heartbeat, live_until)
		 VALUES ('ns-b', 'eu-west-1', $1, true, $2, $3, $4, $5),
		        ('ns-a', 'us-east-1', 0, false, 0, $3, $6, $6)`,
		snap.Seq, len(snap.Zones), now.Add(-2*time.Hour), now, now.Add(5*time.Second), now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/nameservers", bearer: testAdminToken})
	var fleet listNameserversResponse
	r.decode(t, &fleet)
	if len(fleet.Nameservers) != 2 || fleet.Nameservers[0].NodeID != "ns-b" || !fleet.Nameservers[0].Live ||
		fleet.Nameservers[1].Live || !fleet.Nameservers[1].LastHeartbeat.Equal(now.Add(-time.Hour)) {
		t.Errorf("got %s", r.body)
	}

	for _, tc := range []struct {
		name, path string
		bearer     string
		status     int
		code       string
	}{
		{"snapshot without credentials", "/v1/nameserver/snapshot", "", http.StatusUnauthorized, "Unauthorized"},
		{"snapshot with a bad token", "/v1/nameserver/snapshot", "not-a-token", http.StatusUnauthorized, "Unauthorized"},
		{"snapshot with a tenant key", "/v1/nameserver/snapshot", token, http.StatusForbidden, "Forbidden"},
		{"zone without credentials", "/v1/nameserver/zones/" + routed.ID, "", http.StatusUnauthorized, "Unauthorized"},
		{"zone with a tenant key", "/v1/nameserver/zones/" + routed.ID, token, http.StatusForbidden, "Forbidden"},
		{"missing zone", "/v1/nameserver/zones/ZAAAAAAAAAAAAAAAA", testAdminToken, http.StatusNotFound, "NoSuchHostedZone"},
		{"fleet without credentials", "/v1/nameservers", "", http.StatusUnauthorized, "Unauthorized"},
		{"fleet with a tenant key", "/v1/nameservers", token, http.StatusForbidden, "Forbidden"},
	} {
		r := a.must(tc.status, req{method: "GET", path: tc.path, bearer: tc.bearer})
		if got := r.errorCode(t); got != tc.code {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.code)
		}
	}
}

// undocumentedRoutes are the routes of the router that are not the JSON
// API, so not in openapi.yaml: the web console's files (api/console.go)
// and the Route 53 Domains API (docs/route53domains.md).
var undocumentedRoutes = []string{"GET /console", "GET /console/*", "HEAD /console/*", "POST /"}

// checkCoverage fails unless every operation in openapi.yaml was seen by
// a, and every route of the router is in openapi.yaml.
func checkCoverage(t *testing.T, a *testAPI) {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			op := method + " " + path
			documented[op] = true
			if !a.seen[op] {
				t.Errorf("openapi.yaml operation %s is not exercised by this test", op)
			}
		}
	}
	routes, ok := a.h.(chi.Routes)
	if !ok {
		t.Fatal("the router is not a chi.Routes")
	}
	err = chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		op := method + " " + route
		if strings.HasPrefix(route, route53.Prefix+"/") {
			return nil // the Route 53 API, not part of openapi.yaml (docs/route53.md)
		}
		if slices.Contains(undocumentedRoutes, op) {
			return nil
		}
		if !documented[op] {
			t.Errorf("route %s is not in openapi.yaml", op)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestIntegrationTenantIsolation checks that another tenant's resources
// answer exactly like missing ones, on every endpoint that takes an id.
func TestIntegrationTenantIsolation(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, nil)
	_, owner := a.tenant("owner")
	_, intruder := a.tenant("intruder")
	zone := a.zone(owner, "private.example.")
	r := a.must(http.StatusOK, req{method: "POST", path: "/v1/hostedzones/" + zone + "/rrsets/changes", bearer: owner,
		body: map[string]any{"changes": []map[string]any{{"action": "CREATE", "rrset": map[string]any{
			"name": "a.private.example.", "type": "A", "ttl": 60, "records": []string{"192.0.2.1"}}}}}})
	var ch changeResponse
	r.decode(t, &ch)
	const missingZone, missingChange = "ZAAAAAAAAAAAAAAAA", "CAAAAAAAAAAAAAAAA"

	batch := map[string]any{"changes": []map[string]any{{"action": "DELETE", "rrset": map[string]any{
		"name": "a.private.example.", "type": "A", "ttl": 60, "records": []string{"192.0.2.1"}}}}}
	for _, tc := range []struct {
		name         string
		method, path string // %s is the id
		id, missing  string
		body         any
		contentType  string
	}{
		{"get zone", "GET", "/v1/hostedzones/%s", zone, missingZone, nil, ""},
		{"patch zone", "PATCH", "/v1/hostedzones/%s", zone, missingZone, map[string]string{"comment": "mine"}, ""},
		{"delete zone", "DELETE", "/v1/hostedzones/%s", zone, missingZone, nil, ""},
		{"list rrsets", "GET", "/v1/hostedzones/%s/rrsets", zone, missingZone, nil, ""},
		{"change rrsets", "POST", "/v1/hostedzones/%s/rrsets/changes", zone, missingZone, batch, ""},
		{"export", "GET", "/v1/hostedzones/%s/export", zone, missingZone, nil, ""},
		{"import", "POST", "/v1/hostedzones/%s/import", zone, missingZone, "b 60 IN A 192.0.2.2\n", "text/dns"},
		{"get change", "GET", "/v1/changes/%s", ch.Change.ID, missingChange, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			theirs := a.do(req{method: tc.method, path: strings.Replace(tc.path, "%s", tc.id, 1), bearer: intruder, body: tc.body, contentType: tc.contentType})
			missing := a.do(req{method: tc.method, path: strings.Replace(tc.path, "%s", tc.missing, 1), bearer: intruder, body: tc.body, contentType: tc.contentType})
			if theirs.status != http.StatusNotFound || missing.status != http.StatusNotFound {
				t.Fatalf("got %d and %d, want 404 for both: %s", theirs.status, missing.status, theirs.body)
			}
			var e1, e2 errorBody
			theirs.decode(t, &e1)
			missing.decode(t, &e2)
			e1.RequestID, e2.RequestID = "", ""
			e1.Error.Message = strings.ReplaceAll(e1.Error.Message, tc.id, "ID")
			e2.Error.Message = strings.ReplaceAll(e2.Error.Message, tc.missing, "ID")
			if e1.Error.Code != e2.Error.Code || e1.Error.Message != e2.Error.Message || len(e1.Error.Details) != len(e2.Error.Details) {
				t.Errorf("another tenant's resource answers differently from a missing one:\n%+v\n%+v", e1, e2)
			}
		})
	}
	// The owner's zone is untouched.
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/hostedzones/" + zone + "/rrsets", bearer: owner})
	if !strings.Contains(string(r.body), "a.private.example.") {
		t.Errorf("got %s", r.body)
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/hostedzones", bearer: intruder})
	if strings.Contains(string(r.body), zone) {
		t.Errorf("the intruder lists the owner's zone: %s", r.body)
	}
}

// BenchmarkRouterGetZone measures one authenticated read through the whole
// stack (middleware, API key check, one zone read) against PostgreSQL.
func BenchmarkRouterGetZone(b *testing.B) {
	pool, _ := pgtest.Schema(b)
	svc, err := controlplane.New(pool, controlplane.Config{MasterKey: make([]byte, 32), JWTKey: make([]byte, 32)})
	if err != nil {
		b.Fatal(err)
	}
	h := NewRouter(Config{Service: svc, RateLimit: 1e9, RateBurst: 1 << 30})
	ctx := context.Background()
	tn, key, err := svc.CreateTenant(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	z, _, err := svc.CreateZone(ctx, tn.ID, controlplane.CreateZoneInput{Name: "bench.example.", CallerReference: "b"})
	if err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("GET", "/v1/hostedzones/"+z.ID, nil)
			r.Header.Set("Authorization", "Bearer "+key.Token)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				b.Errorf("got %d: %s", rec.Code, rec.Body)
				return
			}
		}
	})
}
