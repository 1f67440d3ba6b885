package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// insync marks every pending change INSYNC, as the fleet's tracker would
// once the nameservers serve them (the API tests run no nameserver).
func (a *testAPI) insync() {
	a.t.Helper()
	if _, err := a.db.Exec(context.Background(), `UPDATE change SET status = 'INSYNC', insync_at = now() WHERE status = 'PENDING'`); err != nil {
		a.t.Fatal(err)
	}
}

// testTLD configures the TLD test. through the operator API.
func (a *testAPI) testTLD() {
	a.t.Helper()
	a.must(http.StatusCreated, req{method: "PUT", path: "/v1/registry/tlds/test.", bearer: testAdminToken,
		body: map[string]any{"prices": map[string]any{"registration": 1000, "renewal": 1200, "transfer": 900, "restoration": 4000},
			"policy": map[string]any{"negative_ttl": 30}}})
}

var testContact = map[string]any{"name": "Ada Lovelace", "street": []string{"1 Analytical Way"}, "city": "London",
	"postal_code": "N1 9GU", "country_code": "GB", "voice": "+44.2071234567", "email": "ada@example.com"}

// registerTest registers name for token with a new hosted zone, marks the
// changes INSYNC and returns the operation.
func (a *testAPI) registerTest(token, name, ref string) operationJSON {
	a.t.Helper()
	r := a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains", bearer: token, body: map[string]any{
		"name": name, "contacts": map[string]any{"registrant": testContact}, "hosted_zone": "create", "caller_reference": ref}})
	var out operationResponse
	r.decode(a.t, &out)
	a.insync()
	return out.Operation
}

func (a *testAPI) operation(token, id string) operationJSON {
	a.t.Helper()
	r := a.must(http.StatusOK, req{method: "GET", path: "/v1/operations/" + id + "?wait=done&timeout=5s", bearer: token})
	var out operationResponse
	r.decode(a.t, &out)
	return out.Operation
}

// exerciseDomains drives every registrar and registry endpoint once with
// valid requests, for the contract test.
func exerciseDomains(t *testing.T, a *testAPI, token string) {
	t.Helper()
	// The operator's registry.
	a.testTLD()
	r := a.must(http.StatusOK, req{method: "PUT", path: "/v1/registry/tlds/test", bearer: testAdminToken,
		body: map[string]any{"policy": map[string]any{"add_grace_seconds": 3600}}})
	var tld tldResponse
	r.decode(t, &tld)
	if tld.TLD.Prices.Registration != 1000 || tld.TLD.Policy.AddGraceSeconds != 3600 || tld.TLD.Policy.NegativeTTL != 30 ||
		tld.TLD.Policy.RedemptionSeconds != 30*86400 || tld.TLD.HostedZoneID == "" {
		t.Errorf("TLD %s", r.body)
	}
	// A TLD whose creates wait for the operator (land rush), and back.
	for _, on := range []bool{true, false} {
		r = a.must(http.StatusOK, req{method: "PUT", path: "/v1/registry/tlds/test", bearer: testAdminToken,
			body: map[string]any{"policy": map[string]any{"create_approval": on}}})
		r.decode(t, &tld)
		if tld.TLD.Policy.CreateApproval != on || tld.TLD.Policy.AddGraceSeconds != 3600 {
			t.Errorf("create_approval %v: %s", on, r.body)
		}
	}
	// A signed TLD: its DS (the trust anchor) in the answer, and it
	// stays signed.
	r = a.must(http.StatusCreated, req{method: "PUT", path: "/v1/registry/tlds/signed", bearer: testAdminToken,
		body: map[string]any{"dnssec": true}})
	r.decode(t, &tld)
	if len(tld.TLD.DS) != 1 || !strings.HasPrefix(tld.TLD.DS[0], "signed. DS ") {
		t.Errorf("signed TLD %s", r.body)
	}
	if r := a.do(req{method: "PUT", path: "/v1/registry/tlds/signed.", bearer: testAdminToken, body: map[string]any{"dnssec": false}}); r.status != http.StatusBadRequest || r.errorCode(t) != "InvalidInput" {
		t.Errorf("unsigning a TLD: %d %s", r.status, r.body)
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/registry/tlds", bearer: testAdminToken})
	if !strings.Contains(string(r.body), `"ds":["signed. DS `) || !strings.Contains(string(r.body), `"ds":[]`) {
		t.Errorf("TLDs %s", r.body)
	}
	a.must(http.StatusOK, req{method: "GET", path: "/v1/registry/tlds/test.", bearer: testAdminToken})
	a.must(http.StatusOK, req{method: "PUT", path: "/v1/registry/tlds/test./names/gold", bearer: testAdminToken,
		body: map[string]any{"kind": "premium", "price": 50000}})
	a.must(http.StatusOK, req{method: "PUT", path: "/v1/registry/tlds/test./names/Blocked", bearer: testAdminToken,
		body: map[string]any{"kind": "reserved"}})
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/registry/tlds/test./names", bearer: testAdminToken})
	if !strings.Contains(string(r.body), `"label":"blocked","kind":"reserved"`) || !strings.Contains(string(r.body), `"price":50000`) {
		t.Errorf("names %s", r.body)
	}
	a.must(http.StatusNoContent, req{method: "DELETE", path: "/v1/registry/tlds/test./names/blocked", bearer: testAdminToken})

	// Looking before registering.
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/availability?name=hello.test", bearer: token})
	if !strings.Contains(string(r.body), `"availability":"AVAILABLE"`) || !strings.Contains(string(r.body), `"price":1000,"currency":"USD"`) {
		t.Errorf("availability %s", r.body)
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/availability?name=gold.test", bearer: token})
	if !strings.Contains(string(r.body), `"premium":true,"price":50000`) {
		t.Errorf("premium availability %s", r.body)
	}
	a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/transferability?name=hello.test", bearer: token})
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/suggestions?name=hello.test&count=3&only_available=true", bearer: token})
	var sugg suggestionsResponse
	r.decode(t, &sugg)
	if len(sugg.Suggestions) != 3 {
		t.Errorf("suggestions %s", r.body)
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/prices?tld=test", bearer: token})
	if !strings.Contains(string(r.body), `"tld":"test.","currency":"USD","registration":1000,"renewal":1200`) {
		t.Errorf("prices %s", r.body)
	}

	// Register, with external nameservers and glue, and with a zone.
	r = a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains", bearer: token, body: map[string]any{
		"name": "glue.test", "duration_in_years": 2, "privacy": false, "auto_renew": true, "max_price": 5000,
		"contacts":    map[string]any{"registrant": testContact, "admin": testContact, "tech": testContact, "billing": testContact},
		"nameservers": []map[string]any{{"name": "ns1.glue.test", "glue_ips": []string{"192.0.2.53", "2001:db8::53"}}, {"name": "ns.example.net"}},
	}})
	if r.header.Get("Location") == "" {
		t.Error("no Location")
	}
	a.insync()
	op := a.registerTest(token, "hello.test", "reg-hello")
	if got := a.operation(token, op.ID); got.Status != "SUCCESSFUL" || got.Type != "REGISTER_DOMAIN" || got.CallerReference != "reg-hello" {
		t.Errorf("operation %+v", got)
	}
	a.must(http.StatusOK, req{method: "GET", path: "/v1/operations/" + op.ID, bearer: token})
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains?max_items=1&sort_by=expiry&sort_order=DESC", bearer: token})
	var list listDomainsResponse
	r.decode(t, &list)
	if len(list.Domains) != 1 || list.Domains[0].Name != "glue.test." || list.NextMarker == "" {
		t.Errorf("domains %s", r.body)
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains?max_items=1&sort_by=expiry&sort_order=DESC&marker=" + list.NextMarker, bearer: token})
	list = listDomainsResponse{}
	r.decode(t, &list)
	if len(list.Domains) != 1 || list.Domains[0].Name != "hello.test." || list.NextMarker != "" {
		t.Errorf("second page %s", r.body)
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/glue.test", bearer: token})
	var d domainResponse
	r.decode(t, &d)
	if len(d.Domain.Nameservers) != 2 || len(d.Domain.Nameservers[0].GlueIPs) != 2 || d.Domain.Privacy || !d.Domain.TransferLock ||
		d.Domain.Contacts["billing"].Email != "ada@example.com" || d.Domain.RGPStatus != "addPeriod" {
		t.Errorf("domain %s", r.body)
	}

	// Settings: auto-renew alone is synchronous, a lock change an operation.
	r = a.must(http.StatusOK, req{method: "PATCH", path: "/v1/domains/hello.test", bearer: token, body: map[string]any{"auto_renew": false}})
	var upd updateDomainResponse
	r.decode(t, &upd)
	if upd.Operation != nil || upd.Domain.AutoRenew {
		t.Errorf("auto-renew off: %s", r.body)
	}
	r = a.must(http.StatusOK, req{method: "PATCH", path: "/v1/domains/hello.test", bearer: token, body: map[string]any{
		"transfer_lock": false, "privacy": true, "contacts": map[string]any{"tech": testContact}, "caller_reference": "patch-1"}})
	upd = updateDomainResponse{}
	r.decode(t, &upd)
	if upd.Operation == nil || upd.Operation.Type != "UPDATE_DOMAIN_CONTACT" || upd.Domain.TransferLock {
		t.Errorf("settings: %s", r.body)
	}
	a.insync()
	a.must(http.StatusAccepted, req{method: "PUT", path: "/v1/domains/hello.test/nameservers", bearer: token, body: map[string]any{
		"nameservers": []map[string]any{{"name": "ns1.hello.test", "glue_ips": []string{"192.0.2.1"}}, {"name": "ns2.example.net"}}, "caller_reference": "ns-1"}})
	a.insync()

	// DS records, by DS and by DNSKEY.
	r = a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains/hello.test/ds", bearer: token, body: map[string]any{
		"records": []map[string]any{
			{"key_tag": 2371, "algorithm": 13, "digest_type": 2, "digest": "1F987CC6583E92DF0890718C42B3D5B3E3B1F8F5C3A4F1B7E6E2C7D0A9B8C7D6"},
			{"flags": 257, "algorithm": 13, "public_key": "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="},
		}, "caller_reference": "ds-1"}})
	var added addDSResponse
	r.decode(t, &added)
	if len(added.DS) != 2 || added.Operation.Type != "ADD_DNSSEC" {
		t.Fatalf("add DS %s", r.body)
	}
	a.insync()
	a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/hello.test/ds", bearer: token})
	a.must(http.StatusAccepted, req{method: "DELETE", path: "/v1/domains/hello.test/ds/" + added.DS[0].ID, bearer: token})
	a.insync()

	// Auth code, renewal, operations.
	a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/hello.test/authcode", bearer: token})
	a.must(http.StatusOK, req{method: "POST", path: "/v1/domains/hello.test/authcode/rotate", bearer: token})
	year := a.clock.Now().AddDate(1, 0, 0).Year()
	r = a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains/hello.test/renew", bearer: token,
		body: map[string]any{"duration_in_years": 1, "current_expiry_year": year, "caller_reference": "renew-1"}})
	if !strings.Contains(string(r.body), `"status":"SUCCESSFUL"`) {
		t.Errorf("renew %s", r.body)
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/operations?status=SUCCESSFUL,IN_PROGRESS&type=REGISTER_DOMAIN&domain=hello.test&submitted_since=2020-01-01T00:00:00Z&sort_order=ASC&max_items=5", bearer: token})
	var ops listOperationsResponse
	r.decode(t, &ops)
	if len(ops.Operations) != 1 || ops.Operations[0].ID != op.ID {
		t.Errorf("operations %s", r.body)
	}

	// Delete after the add grace period (an hour): redemption, then restore.
	a.clock.Advance(2 * time.Hour)
	a.must(http.StatusAccepted, req{method: "DELETE", path: "/v1/domains/hello.test", bearer: token})
	a.insync()
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/hello.test", bearer: token})
	if !strings.Contains(string(r.body), `"rgp_status":"redemptionPeriod"`) {
		t.Errorf("after delete %s", r.body)
	}
	a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains/hello.test/restore", bearer: token, body: map[string]any{"caller_reference": "restore-1"}})
	a.insync()

	// Transfers and registrant verification (domain_transfers_test.go).
	exerciseDomainTransfers(t, a)
}

// TestIntegrationDomainsAPI: the registrar's refusals, with the right
// status and code; caller references; another tenant's domain answering
// exactly like a missing one; DS ids stable; DuplicateRequest naming the
// operation in progress.
func TestIntegrationDomainsAPI(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, nil)
	a.testTLD()
	_, owner := a.tenant("owner")
	_, intruder := a.tenant("intruder")
	first := a.registerTest(owner, "own.test", "ref-own")
	year := a.clock.Now().AddDate(1, 0, 0).Year()
	a.must(http.StatusOK, req{method: "PUT", path: "/v1/registry/tlds/test./names/blocked", bearer: testAdminToken, body: map[string]any{"kind": "reserved"}})

	reg := func(extra map[string]any) map[string]any {
		b := map[string]any{"name": "new.test", "contacts": map[string]any{"registrant": testContact}, "hosted_zone": "create"}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	for _, tc := range []struct {
		name         string
		method, path string
		bearer       string
		body         any
		status       int
		code         string
	}{
		{"11 years", "POST", "/v1/domains", owner, reg(map[string]any{"duration_in_years": 11}), 400, "InvalidInput"},
		{"no registrant", "POST", "/v1/domains", owner, map[string]any{"name": "new.test", "hosted_zone": "create"}, 400, "InvalidInput"},
		{"no nameservers", "POST", "/v1/domains", owner, map[string]any{"name": "new.test", "contacts": map[string]any{"registrant": testContact}}, 400, "InvalidInput"},
		{"both", "POST", "/v1/domains", owner, reg(map[string]any{"nameservers": []map[string]any{{"name": "ns.example.net"}}}), 400, "InvalidInput"},
		{"bad glue", "POST", "/v1/domains", owner, reg(map[string]any{"hosted_zone": "", "nameservers": []map[string]any{{"name": "ns.new.test", "glue_ips": []string{"nope"}}}}), 400, "InvalidInput"},
		{"bad contact", "POST", "/v1/domains", owner, reg(map[string]any{"contacts": map[string]any{"registrant": map[string]any{"name": "x", "city": "y", "country_code": "gb", "email": "e@x"}}}), 400, "InvalidInput"},
		{"unknown TLD", "POST", "/v1/domains", owner, reg(map[string]any{"name": "new.example"}), 400, "UnsupportedTLD"},
		{"reserved", "POST", "/v1/domains", owner, reg(map[string]any{"name": "blocked.test"}), 400, "TLDRulesViolation"},
		{"too expensive", "POST", "/v1/domains", owner, reg(map[string]any{"max_price": 999}), 400, "PriceTooHigh"},
		{"dnssec with nameservers", "POST", "/v1/domains", owner, reg(map[string]any{"hosted_zone": "", "dnssec": true, "nameservers": []map[string]any{{"name": "ns.example.net"}}}), 400, "InvalidInput"},
		{"taken", "POST", "/v1/domains", intruder, reg(map[string]any{"name": "own.test"}), 409, "DomainUnavailable"},
		{"wrong expiry year", "POST", "/v1/domains/own.test/renew", owner, map[string]any{"current_expiry_year": year - 1}, 400, "InvalidInput"},
		{"no expiry year", "POST", "/v1/domains/own.test/renew", owner, map[string]any{"duration_in_years": 1}, 400, "InvalidInput"},
		{"renew 11 years", "POST", "/v1/domains/own.test/renew", owner, map[string]any{"duration_in_years": 11, "current_expiry_year": year}, 400, "InvalidInput"},
		{"renew beyond 10 years", "POST", "/v1/domains/own.test/renew", owner, map[string]any{"duration_in_years": 10, "current_expiry_year": year}, 400, "TLDRulesViolation"},
		{"restore, not deleted", "POST", "/v1/domains/own.test/restore", owner, nil, 400, "TLDRulesViolation"},
		{"nothing to change", "PATCH", "/v1/domains/own.test", owner, map[string]any{}, 400, "InvalidInput"},
		{"no nameservers to set", "PUT", "/v1/domains/own.test/nameservers", owner, map[string]any{"nameservers": []any{}}, 400, "InvalidInput"},
		{"missing DS", "DELETE", "/v1/domains/own.test/ds/ds-0000", owner, nil, 404, "NoSuchDS"},
		{"bad DS", "POST", "/v1/domains/own.test/ds", owner, map[string]any{"records": []map[string]any{{"key_tag": 1, "algorithm": 13, "digest_type": 2, "digest": "ABCD"}}}, 400, "InvalidInput"},
		{"missing operation", "GET", "/v1/operations/op-NOSUCH", owner, nil, 404, "NoSuchOperation"},
		{"another tenant's operation", "GET", "/v1/operations/" + first.ID, intruder, nil, 404, "NoSuchOperation"},
		{"bad wait", "GET", "/v1/operations/" + first.ID + "?wait=insync", owner, nil, 400, "InvalidInput"},
		{"bad marker", "GET", "/v1/domains?marker=%21%21", owner, nil, 400, "InvalidInput"},
		{"bad status filter", "GET", "/v1/operations?status=DONE", owner, nil, 400, "InvalidInput"},
		{"availability without name", "GET", "/v1/domains/availability", owner, nil, 400, "InvalidInput"},
		{"suggestions count", "GET", "/v1/domains/suggestions?name=x.test&count=51", owner, nil, 400, "InvalidInput"},
		{"prices of no TLD", "GET", "/v1/domains/prices?tld=example", owner, nil, 400, "UnsupportedTLD"},
		{"registry with a tenant key", "GET", "/v1/registry/tlds", owner, nil, 403, "Forbidden"},
		{"registry without credentials", "PUT", "/v1/registry/tlds/x", "", map[string]any{}, 401, "Unauthorized"},
		{"missing TLD", "GET", "/v1/registry/tlds/nosuch", testAdminToken, nil, 404, "NoSuchTLD"},
		{"bad name rule", "PUT", "/v1/registry/tlds/test./names/gold", testAdminToken, map[string]any{"kind": "premium"}, 400, "InvalidInput"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.must(tc.status, req{method: tc.method, path: tc.path, bearer: tc.bearer, body: tc.body})
			if got := r.errorCode(t); got != tc.code {
				t.Errorf("code %s, want %s: %s", got, tc.code, r.body)
			}
		})
	}

	// A repeated caller reference returns the first operation.
	r := a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains", bearer: owner, body: map[string]any{
		"name": "own.test", "contacts": map[string]any{"registrant": testContact}, "hosted_zone": "create", "caller_reference": "ref-own"}})
	var again operationResponse
	r.decode(t, &again)
	if again.Operation.ID != first.ID {
		t.Errorf("repeated caller_reference: %s, want %s", again.Operation.ID, first.ID)
	}
	r = a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains/own.test/renew", bearer: owner,
		body: map[string]any{"current_expiry_year": year, "caller_reference": "renew-own"}})
	var renew1, renew2 operationResponse
	r.decode(t, &renew1)
	// The same request again would be refused (the year moved on) but
	// the caller reference answers it with the first operation.
	r = a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains/own.test/renew", bearer: owner,
		body: map[string]any{"current_expiry_year": year, "caller_reference": "renew-own"}})
	r.decode(t, &renew2)
	if renew1.Operation.ID != renew2.Operation.ID || renew1.Operation.Status != "SUCCESSFUL" {
		t.Errorf("renew twice with one caller reference: %+v, %+v", renew1, renew2)
	}
	a.must(http.StatusBadRequest, req{method: "POST", path: "/v1/domains/own.test/renew", bearer: owner,
		body: map[string]any{"current_expiry_year": year}})

	// An operation in progress: a second request names it.
	pending := a.do(req{method: "POST", path: "/v1/domains", bearer: owner, body: reg(map[string]any{"name": "busy.test"})})
	var p operationResponse
	pending.decode(t, &p)
	r = a.must(http.StatusConflict, req{method: "PATCH", path: "/v1/domains/busy.test", bearer: owner, body: map[string]any{"transfer_lock": false}})
	var e errorBody
	r.decode(t, &e)
	if e.Error.Code != "DuplicateRequest" || e.Error.OperationID != p.Operation.ID || !strings.Contains(e.Error.Message, p.Operation.ID) {
		t.Errorf("duplicate request: %s, want operation %s", r.body, p.Operation.ID)
	}
	a.insync()

	// DS ids: the same in the POST's answer, every GET, and a repeated add.
	ds := map[string]any{"key_tag": 2371, "algorithm": 13, "digest_type": 2, "digest": "1f987cc6583e92df0890718c42b3d5b3e3b1f8f5c3a4f1b7e6e2c7d0a9b8c7d6"}
	var ids []string
	for i := range 2 {
		r = a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains/own.test/ds", bearer: owner, body: map[string]any{"records": []any{ds}}})
		var added addDSResponse
		r.decode(t, &added)
		a.insync()
		r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/own.test/ds", bearer: owner})
		var list listDSResponse
		r.decode(t, &list)
		if len(added.DS) != 1 || len(list.DS) != 1 || list.DS[0].ID != added.DS[0].ID || !strings.HasPrefix(list.DS[0].ID, "ds-") {
			t.Fatalf("round %d: added %+v, listed %s", i, added.DS, r.body)
		}
		ids = append(ids, list.DS[0].ID)
	}
	if ids[0] != ids[1] {
		t.Errorf("DS id changed: %v", ids)
	}

	// Another tenant's domain answers exactly like a missing one.
	for _, tc := range []struct {
		method, path string // %s is the domain
		body         any
	}{
		{"GET", "/v1/domains/%s", nil},
		{"PATCH", "/v1/domains/%s", map[string]any{"auto_renew": false}},
		{"PATCH", "/v1/domains/%s", map[string]any{"transfer_lock": false}},
		{"DELETE", "/v1/domains/%s", nil},
		{"PUT", "/v1/domains/%s/nameservers", map[string]any{"nameservers": []map[string]any{{"name": "ns.evil.example"}}}},
		{"POST", "/v1/domains/%s/renew", map[string]any{"current_expiry_year": year + 1}},
		{"POST", "/v1/domains/%s/restore", nil},
		{"GET", "/v1/domains/%s/ds", nil},
		{"POST", "/v1/domains/%s/ds", map[string]any{"records": []any{ds}}},
		{"DELETE", "/v1/domains/%s/ds/" + ids[0], nil},
		{"GET", "/v1/domains/%s/authcode", nil},
		{"POST", "/v1/domains/%s/authcode/rotate", nil},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			theirs := a.do(req{method: tc.method, path: strings.Replace(tc.path, "%s", "own.test", 1), bearer: intruder, body: tc.body})
			missing := a.do(req{method: tc.method, path: strings.Replace(tc.path, "%s", "nosuch.test", 1), bearer: intruder, body: tc.body})
			if theirs.status != http.StatusNotFound || missing.status != http.StatusNotFound {
				t.Fatalf("got %d and %d, want 404: %s", theirs.status, missing.status, theirs.body)
			}
			var e1, e2 errorBody
			theirs.decode(t, &e1)
			missing.decode(t, &e2)
			if e1.Error.Code != "NoSuchDomain" || e1.Error.Code != e2.Error.Code ||
				strings.ReplaceAll(e1.Error.Message, "own.test", "X") != strings.ReplaceAll(e2.Error.Message, "nosuch.test", "X") {
				t.Errorf("another tenant's domain answers differently from a missing one:\n%+v\n%+v", e1, e2)
			}
		})
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains", bearer: intruder})
	if strings.Contains(string(r.body), "own.test") {
		t.Errorf("the intruder lists the owner's domain: %s", r.body)
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/own.test", bearer: owner})
	var d domainResponse
	r.decode(t, &d)
	if !d.Domain.AutoRenew || !d.Domain.TransferLock || len(d.Domain.Nameservers) == 0 || d.Domain.ExpiresAt.Year() != year+1 {
		t.Errorf("the owner's domain changed: %s", r.body)
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/transferability?name=own.test", bearer: intruder})
	if !strings.Contains(string(r.body), `"DOMAIN_IN_ANOTHER_ACCOUNT"`) {
		t.Errorf("transferability %s", r.body)
	}
}

// TestDomainsWithoutRegistrar: a server without a registrar answers the
// registrar's routes 404.
func TestIntegrationDomainsWithoutRegistrar(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, func(c *Config) { c.Registrar = nil })
	_, token := a.tenant("plain")
	r := a.must(http.StatusNotFound, req{method: "GET", path: "/v1/domains", bearer: token})
	if r.errorCode(t) != "NotFound" || !strings.Contains(string(r.body), "does not register domains") {
		t.Errorf("got %s", r.body)
	}
}
