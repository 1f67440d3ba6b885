package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// TestIntegrationAuditLog runs a scripted sequence of calls on both APIs
// and checks that the log holds every mutating one, in order, with its
// result; that reads and a read-only POST are not in it; that another
// tenant sees none of it; and that no secret is in it.
func TestIntegrationAuditLog(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, nil)
	// The SDK signs with the real time, which the server checks.
	a.clock.Advance(time.Since(a.clock.Now()))
	srv := httptest.NewServer(a.h)
	t.Cleanup(srv.Close)

	r := a.must(http.StatusCreated, req{method: "POST", path: "/v1/tenants", bearer: testAdminToken,
		body: map[string]string{"name": "audited"}})
	var ct createTenantResponse
	r.decode(t, &ct)
	token, keyID, secret := ct.APIKey.Token, ct.APIKey.ID, ct.APIKey.Secret
	_, otherToken := a.tenant("bystander")

	// /v1: a zone, a change, a failed change, a comment, a key made and
	// deleted (its secret in the response only), reads in between.
	zone := a.zone(token, "audit.example.")
	a.must(http.StatusOK, req{method: "POST", path: "/v1/hostedzones/" + zone + "/rrsets/changes", bearer: token,
		body: map[string]any{"changes": []map[string]any{{"action": "CREATE", "rrset": map[string]any{
			"name": "www.audit.example.", "type": "A", "ttl": 60, "records": []string{"192.0.2.1"}}}}}})
	a.must(http.StatusBadRequest, req{method: "POST", path: "/v1/hostedzones/" + zone + "/rrsets/changes", bearer: token,
		body: map[string]any{"changes": []map[string]any{{"action": "DELETE", "rrset": map[string]any{
			"name": "nothere.audit.example.", "type": "A", "ttl": 60, "records": []string{"192.0.2.9"}}}}}})
	a.must(http.StatusOK, req{method: "GET", path: "/v1/hostedzones/" + zone, bearer: token})
	a.must(http.StatusOK, req{method: "PATCH", path: "/v1/hostedzones/" + zone, bearer: token,
		body: map[string]string{"comment": "audited zone"}})
	r = a.must(http.StatusCreated, req{method: "POST", path: "/v1/apikeys", bearer: token,
		body: map[string]string{"description": "second"}})
	var nkr apiKeyResponse
	r.decode(t, &nkr)
	nk := nkr.APIKey
	a.must(http.StatusNoContent, req{method: "DELETE", path: "/v1/apikeys/" + nk.ID, bearer: token})
	a.must(http.StatusNotFound, req{method: "DELETE", path: "/v1/hostedzones/Z0000000000000000", bearer: token})
	// Another tenant's zone is not found for this one, and its attempt is
	// in its own log, not in the owner's.
	a.must(http.StatusNotFound, req{method: "DELETE", path: "/v1/hostedzones/" + zone, bearer: otherToken})

	// Route 53: a zone created, a change, a read-only POST, a failure.
	ctx := context.Background()
	c := r53.NewFromConfig(aws.Config{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, "")},
		func(o *r53.Options) { o.BaseEndpoint = aws.String(srv.URL); o.RetryMaxAttempts = 1 })
	hz, err := c.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("r53.audit.example."), CallerReference: aws.String("r53-1")})
	if err != nil {
		t.Fatalf("CreateHostedZone: %v", err)
	}
	r53zone := strings.TrimPrefix(aws.ToString(hz.HostedZone.Id), "/hostedzone/")
	if _, err := c.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(r53zone),
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: r53types.ChangeActionCreate,
			ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String("api.r53.audit.example."), Type: r53types.RRTypeA,
				TTL: aws.Int64(60), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("192.0.2.7")}}}}}}}); err != nil {
		t.Fatalf("ChangeResourceRecordSets: %v", err)
	}
	if _, err := c.ListTagsForResources(ctx, &r53.ListTagsForResourcesInput{ResourceType: r53types.TagResourceTypeHostedzone,
		ResourceIds: []string{r53zone}}); err != nil {
		t.Fatalf("ListTagsForResources: %v", err)
	}
	if _, err := c.DeleteHostedZone(ctx, &r53.DeleteHostedZoneInput{Id: aws.String(r53zone)}); err == nil {
		t.Fatal("DeleteHostedZone of a zone with records succeeded")
	}

	type row struct{ api, op, target, result string }
	want := []row{
		{"v1", "POST /v1/tenants", "/v1/tenants", "Success"},
		{"v1", "POST /v1/hostedzones", "/v1/hostedzones", "Success"},
		{"v1", "POST /v1/hostedzones/{id}/rrsets/changes", "/v1/hostedzones/" + zone + "/rrsets/changes", "Success"},
		{"v1", "POST /v1/hostedzones/{id}/rrsets/changes", "/v1/hostedzones/" + zone + "/rrsets/changes", "InvalidChangeBatch"},
		{"v1", "PATCH /v1/hostedzones/{id}", "/v1/hostedzones/" + zone, "Success"},
		{"v1", "POST /v1/apikeys", "/v1/apikeys", "Success"},
		{"v1", "DELETE /v1/apikeys/{id}", "/v1/apikeys/" + nk.ID, "Success"},
		{"v1", "DELETE /v1/hostedzones/{id}", "/v1/hostedzones/Z0000000000000000", "NoSuchHostedZone"},
		{"route53", "CreateHostedZone", "/2013-04-01/hostedzone", "Success"},
		{"route53", "ChangeResourceRecordSets", "/2013-04-01/hostedzone/" + r53zone + "/rrset", "Success"},
		{"route53", "DeleteHostedZone", "/2013-04-01/hostedzone/" + r53zone, "HostedZoneNotEmpty"},
	}

	// Read it back in pages of 4, oldest last.
	var got []auditEntryJSON
	next := ""
	for range 10 {
		path := "/v1/auditlog?max_items=4"
		if next != "" {
			path += "&next_token=" + next
		}
		var page auditPageJSON
		a.must(http.StatusOK, req{method: "GET", path: path, bearer: token}).decode(t, &page)
		got = append(got, page.Entries...)
		if next = page.NextToken; next == "" {
			break
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		e := got[len(got)-1-i]
		if e.API != w.api || e.Operation != w.op || e.Target != w.target || e.Result != w.result {
			t.Errorf("entry %d: got %s %q %q %s, want %+v", i, e.API, e.Operation, e.Target, e.Result, w)
		}
		if e.ID == "" || e.RequestID == "" || e.Source == "" || e.Time.IsZero() {
			t.Errorf("entry %d lacks a field: %+v", i, e)
		}
		switch {
		case i == 0 && e.KeyID != "operator":
			t.Errorf("tenant creation's key id %q, want operator", e.KeyID)
		case i > 0 && e.KeyID != keyID:
			t.Errorf("entry %d key id %q, want %q", i, e.KeyID, keyID)
		}
		if w.result != "Success" && e.Status < 400 {
			t.Errorf("failed entry %d has status %d", i, e.Status)
		}
	}

	// Filters.
	var page auditPageJSON
	a.must(http.StatusOK, req{method: "GET", path: "/v1/auditlog?result=failure", bearer: token}).decode(t, &page)
	if len(page.Entries) != 3 {
		t.Errorf("result=failure: %d entries, want 3", len(page.Entries))
	}
	a.must(http.StatusOK, req{method: "GET", path: "/v1/auditlog?api=route53&operation=CreateHostedZone", bearer: token}).decode(t, &page)
	if len(page.Entries) != 1 {
		t.Errorf("api=route53&operation=CreateHostedZone: %d entries, want 1", len(page.Entries))
	}
	a.must(http.StatusBadRequest, req{method: "GET", path: "/v1/auditlog?result=maybe", bearer: token})
	a.must(http.StatusBadRequest, req{method: "GET", path: "/v1/auditlog?next_token=%21%21", bearer: token})

	// The bystander sees its own creation and its failed delete, nothing
	// of the other tenant.
	a.must(http.StatusOK, req{method: "GET", path: "/v1/auditlog", bearer: otherToken}).decode(t, &page)
	if len(page.Entries) != 2 || page.Entries[0].Result != "NoSuchHostedZone" || page.Entries[1].Operation != "POST /v1/tenants" {
		t.Errorf("the bystander's log: %+v", page.Entries)
	}

	// No secret anywhere in the table.
	var dump string
	if err := a.db.QueryRow(ctx, `SELECT coalesce(string_agg(audit_log::text, E'\n'), '') FROM audit_log`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{secret, token, nk.Secret, nk.Token, testAdminToken} {
		if s != "" && strings.Contains(dump, s) {
			t.Errorf("the audit log holds a secret %q", s)
		}
	}
}

// TestIntegrationAuditRollsBackWithEffect checks that an entry written in
// a transaction goes when the transaction does: a change batch rejected
// inside its transaction leaves one failure entry, never a success.
func TestIntegrationAuditRollsBackWithEffect(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, nil)
	_, token := a.tenant("rollback")
	zone := a.zone(token, "rb.example.")
	// Valid alone, invalid against the zone (CREATE of an existing set):
	// rejected inside applyChanges' transaction.
	body := map[string]any{"changes": []map[string]any{{"action": "CREATE", "rrset": map[string]any{
		"name": "x.rb.example.", "type": "A", "ttl": 60, "records": []string{"192.0.2.1"}}}}}
	a.must(http.StatusOK, req{method: "POST", path: "/v1/hostedzones/" + zone + "/rrsets/changes", bearer: token, body: body})
	a.must(http.StatusBadRequest, req{method: "POST", path: "/v1/hostedzones/" + zone + "/rrsets/changes", bearer: token, body: body})
	var n, failed int
	if err := a.db.QueryRow(context.Background(),
		`SELECT count(*), count(*) FILTER (WHERE result <> 'Success') FROM audit_log WHERE operation LIKE '%rrsets/changes'`).Scan(&n, &failed); err != nil {
		t.Fatal(err)
	}
	if n != 2 || failed != 1 {
		t.Errorf("change batch entries: %d, %d failed; want 2, 1 failed", n, failed)
	}
}
