package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/healthcfg"
)

func newHealthTestService(t *testing.T, opts HealthCheckOptions) (*Service, string) {
	t.Helper()
	s, _ := newAuthTestService(t)
	tn, _, err := s.CreateTenant(context.Background(), "hc")
	if err != nil {
		t.Fatal(err)
	}
	return withHealthChecks(t, s, opts), tn.ID
}

// withHealthChecks returns a Service on s's database and configuration
// but with the health check settings opts.
func withHealthChecks(t *testing.T, s *Service, opts HealthCheckOptions) *Service {
	t.Helper()
	cfg := s.cfg
	cfg.HealthChecks = opts
	n, err := New(s.pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestIntegrationHealthCheckValidation(t *testing.T) {
	t.Parallel()
	strict, tenant := newHealthTestService(t, HealthCheckOptions{})
	lax := withHealthChecks(t, strict, HealthCheckOptions{Options: healthcfg.Options{AllowPrivateTargets: true, MinRequestInterval: 1}})
	ctx := context.Background()
	child, err := strict.CreateHealthCheck(ctx, tenant, CreateHealthCheckInput{CallerReference: "child",
		Config: healthcfg.Config{Type: "TCP", IPAddress: "192.0.2.5", Port: 22}})
	if err != nil {
		t.Fatal(err)
	}
	calc, err := strict.CreateHealthCheck(ctx, tenant, CreateHealthCheckInput{CallerReference: "calc",
		Config: healthcfg.Config{Type: "CALCULATED", ChildHealthChecks: []string{child.ID}, HealthThreshold: 1}})
	if err != nil {
		t.Fatal(err)
	}

	for i, tc := range []struct {
		name  string
		lax   bool
		cfg   healthcfg.Config
		code  Code // "" means accepted
		check func(healthcfg.Config) error
	}{
		{name: "http-defaults", cfg: healthcfg.Config{Type: "http", IPAddress: "192.0.2.1"}, check: func(c healthcfg.Config) error {
			if c.Type != "HTTP" || c.Port != 80 || c.RequestInterval != 30 || c.FailureThreshold != 3 {
				return fmt.Errorf("defaults %+v", c)
			}
			return nil
		}},
		{name: "https-default-port", cfg: healthcfg.Config{Type: "HTTPS", FQDN: "Www.Example.COM."}, check: func(c healthcfg.Config) error {
			if c.Port != 443 || c.FQDN != "www.example.com" {
				return fmt.Errorf("got %+v", c)
			}
			return nil
		}},
		{name: "path-gets-slash", cfg: healthcfg.Config{Type: "HTTP", IPAddress: "192.0.2.1", ResourcePath: "status?x=1"}, check: func(c healthcfg.Config) error {
			if c.ResourcePath != "/status?x=1" {
				return fmt.Errorf("path %q", c.ResourcePath)
			}
			return nil
		}},
		{name: "ipv6", cfg: healthcfg.Config{Type: "TCP", IPAddress: "2001:db8::1", Port: 443}},
		{name: "unknown-type", cfg: healthcfg.Config{Type: "PING", IPAddress: "192.0.2.1"}, code: CodeInvalidInput},
		{name: "cloudwatch-not-supported", cfg: healthcfg.Config{Type: "CLOUDWATCH_METRIC"}, code: CodeInvalidInput},
		{name: "no-target", cfg: healthcfg.Config{Type: "HTTP"}, code: CodeInvalidInput},
		{name: "bad-ip", cfg: healthcfg.Config{Type: "HTTP", IPAddress: "300.1.1.1"}, code: CodeInvalidInput},
		{name: "private-ip", cfg: healthcfg.Config{Type: "HTTP", IPAddress: "10.0.0.1"}, code: CodeInvalidInput},
		{name: "loopback", cfg: healthcfg.Config{Type: "HTTP", IPAddress: "127.0.0.1"}, code: CodeInvalidInput},
		{name: "loopback-allowed", lax: true, cfg: healthcfg.Config{Type: "HTTP", IPAddress: "127.0.0.1"}},
		{name: "localhost-name", cfg: healthcfg.Config{Type: "HTTP", FQDN: "localhost"}, code: CodeInvalidInput},
		{name: "bad-fqdn", cfg: healthcfg.Config{Type: "HTTP", FQDN: "a..b"}, code: CodeInvalidInput},
		{name: "tcp-needs-port", cfg: healthcfg.Config{Type: "TCP", IPAddress: "192.0.2.1"}, code: CodeInvalidInput},
		{name: "port-range", cfg: healthcfg.Config{Type: "HTTP", IPAddress: "192.0.2.1", Port: 70000}, code: CodeInvalidInput},
		{name: "interval-10", cfg: healthcfg.Config{Type: "HTTP", IPAddress: "192.0.2.1", RequestInterval: 10}},
		{name: "interval-5-refused", cfg: healthcfg.Config{Type: "HTTP", IPAddress: "192.0.2.1", RequestInterval: 5}, code: CodeInvalidInput},
		{name: "interval-1-allowed", lax: true, cfg: healthcfg.Config{Type: "HTTP", IPAddress: "192.0.2.1", RequestInterval: 1}},
		{name: "interval-20", lax: true, cfg: healthcfg.Config{Type: "HTTP", IPAddress: "192.0.2.1", RequestInterval: 20}, code: CodeInvalidInput},
		{name: "threshold-11", cfg: healthcfg.Config{Type: "HTTP", IPAddress: "192.0.2.1", FailureThreshold: 11}, code: CodeInvalidInput},
		{name: "str-match-needs-string", cfg: healthcfg.Config{Type: "HTTP_STR_MATCH", IPAddress: "192.0.2.1"}, code: CodeInvalidInput},
		{name: "string-only-for-str-match", cfg: healthcfg.Config{Type: "HTTP", IPAddress: "192.0.2.1", SearchString: "x"}, code: CodeInvalidInput},
		{name: "sni-only-https", cfg: healthcfg.Config{Type: "HTTP", IPAddress: "192.0.2.1", EnableSNI: true}, code: CodeInvalidInput},
		{name: "tcp-no-path", cfg: healthcfg.Config{Type: "TCP", IPAddress: "192.0.2.1", Port: 1, ResourcePath: "/"}, code: CodeInvalidInput},
		{name: "path-with-space", cfg: healthcfg.Config{Type: "HTTP", IPAddress: "192.0.2.1", ResourcePath: "/a b"}, code: CodeInvalidInput},
		{name: "regions-three", cfg: healthcfg.Config{Type: "HTTP", IPAddress: "192.0.2.1", Regions: []string{"a", "b", "c"}}},
		{name: "regions-two", cfg: healthcfg.Config{Type: "HTTP", IPAddress: "192.0.2.1", Regions: []string{"a", "b"}}, code: CodeInvalidInput},
		{name: "regions-dup", cfg: healthcfg.Config{Type: "HTTP", IPAddress: "192.0.2.1", Regions: []string{"a", "b", "a"}}, code: CodeInvalidInput},
		{name: "children-on-http", cfg: healthcfg.Config{Type: "HTTP", IPAddress: "192.0.2.1", ChildHealthChecks: []string{child.ID}}, code: CodeInvalidInput},
		{name: "calculated", cfg: healthcfg.Config{Type: "CALCULATED", ChildHealthChecks: []string{child.ID}, HealthThreshold: 1}},
		{name: "calculated-empty", cfg: healthcfg.Config{Type: "CALCULATED"}},
		{name: "calculated-with-ip", cfg: healthcfg.Config{Type: "CALCULATED", IPAddress: "192.0.2.1"}, code: CodeInvalidInput},
		{name: "calculated-with-interval", cfg: healthcfg.Config{Type: "CALCULATED", RequestInterval: 10}, code: CodeInvalidInput},
		{name: "calculated-missing-child", cfg: healthcfg.Config{Type: "CALCULATED", ChildHealthChecks: []string{"nope"}}, code: CodeNoSuchHealthCheck},
		{name: "calculated-child-calculated", cfg: healthcfg.Config{Type: "CALCULATED", ChildHealthChecks: []string{calc.ID}}, code: CodeInvalidInput},
		{name: "calculated-child-twice", cfg: healthcfg.Config{Type: "CALCULATED", ChildHealthChecks: []string{child.ID, child.ID}}, code: CodeInvalidInput},
		{name: "calculated-threshold-range", cfg: healthcfg.Config{Type: "CALCULATED", HealthThreshold: 257}, code: CodeInvalidInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := strict
			if tc.lax {
				h = lax
			}
			hc, err := h.CreateHealthCheck(ctx, tenant, CreateHealthCheckInput{CallerReference: fmt.Sprintf("v%d", i), Config: tc.cfg})
			if tc.code != "" {
				wantCode(t, err, tc.code)
				return
			}
			if err != nil {
				t.Fatalf("got %v", err)
			}
			if tc.check != nil {
				if err := tc.check(hc.Config); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestIntegrationHealthCheckLifecycle(t *testing.T) {
	t.Parallel()
	h, tenant := newHealthTestService(t, HealthCheckOptions{Quota: 3})
	ctx := context.Background()
	cfg := healthcfg.Config{Type: "HTTP", IPAddress: "192.0.2.1", Port: 8080, Inverted: true}
	a, err := h.CreateHealthCheck(ctx, tenant, CreateHealthCheckInput{CallerReference: "a", Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if a.Version != 1 || a.Healthy {
		t.Errorf("a new inverted check: %+v", a)
	}
	// Caller references (ROUTE53.md §6.4).
	again, err := h.CreateHealthCheck(ctx, tenant, CreateHealthCheckInput{CallerReference: "a", Config: cfg})
	if err != nil || again.ID != a.ID {
		t.Fatalf("same reference and settings: %+v, %v", again, err)
	}
	_, err = h.CreateHealthCheck(ctx, tenant, CreateHealthCheckInput{CallerReference: "a", Config: healthcfg.Config{Type: "HTTP", IPAddress: "192.0.2.2"}})
	wantCode(t, err, CodeHealthCheckAlreadyExists)
	b, err := h.CreateHealthCheck(ctx, tenant, CreateHealthCheckInput{CallerReference: "b", Config: cfg})
	if err != nil || b.ID == a.ID {
		t.Fatalf("same settings, new reference: %+v, %v", b, err)
	}
	c, err := h.CreateHealthCheck(ctx, tenant, CreateHealthCheckInput{CallerReference: "c", Config: healthcfg.Config{Type: "HTTP", FQDN: "example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.CreateHealthCheck(ctx, tenant, CreateHealthCheckInput{CallerReference: "d", Config: cfg})
	wantCode(t, err, CodeTooManyHealthChecks)

	// Updates.
	v1 := int64(1)
	port := 9090
	up, err := h.UpdateHealthCheck(ctx, tenant, a.ID, UpdateHealthCheckInput{Version: &v1, Port: &port})
	if err != nil || up.Version != 2 || up.Config.Port != 9090 {
		t.Fatalf("update: %+v, %v", up, err)
	}
	_, err = h.UpdateHealthCheck(ctx, tenant, a.ID, UpdateHealthCheckInput{Version: &v1, Port: &port})
	wantCode(t, err, CodeHealthCheckVersionMismatch)
	empty, ip := "", "192.0.2.9"
	_, err = h.UpdateHealthCheck(ctx, tenant, a.ID, UpdateHealthCheckInput{IPAddress: &empty})
	wantCode(t, err, CodeInvalidInput) // an IP check stays an IP check
	_, err = h.UpdateHealthCheck(ctx, tenant, c.ID, UpdateHealthCheckInput{IPAddress: &ip})
	wantCode(t, err, CodeInvalidInput) // and an FQDN check an FQDN check
	up, err = h.UpdateHealthCheck(ctx, tenant, a.ID, UpdateHealthCheckInput{IPAddress: &ip, Regions: &[]string{"x", "y", "z"}})
	if err != nil || up.Config.IPAddress != ip || len(up.Config.Regions) != 3 {
		t.Fatalf("update: %+v, %v", up, err)
	}
	up, err = h.UpdateHealthCheck(ctx, tenant, a.ID, UpdateHealthCheckInput{ResetElements: []string{"Regions", "resource_path"}})
	if err != nil || up.Config.Regions != nil || up.Version != 4 {
		t.Fatalf("reset: %+v, %v", up, err)
	}
	_, err = h.UpdateHealthCheck(ctx, tenant, a.ID, UpdateHealthCheckInput{ResetElements: []string{"Type"}})
	wantCode(t, err, CodeInvalidInput)
	_, err = h.UpdateHealthCheck(ctx, tenant, "missing", UpdateHealthCheckInput{})
	wantCode(t, err, CodeNoSuchHealthCheck)

	// Listing pages by id.
	page, err := h.ListHealthChecks(ctx, tenant, "", 2)
	if err != nil || len(page.HealthChecks) != 2 || !page.IsTruncated || page.NextMarker == "" {
		t.Fatalf("page 1: %+v, %v", page, err)
	}
	page2, err := h.ListHealthChecks(ctx, tenant, page.NextMarker, 2)
	if err != nil || len(page2.HealthChecks) != 1 || page2.IsTruncated {
		t.Fatalf("page 2: %+v, %v", page2, err)
	}

	// In use by a record set.
	z, _, err := h.CreateZone(ctx, tenant, CreateZoneInput{Name: "hc.example.", CallerReference: "z"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.pool.Exec(ctx, `UPDATE rrset SET health_check_id = $1 WHERE zone_id = $2 AND type = 'NS'`, b.ID, z.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, h.DeleteHealthCheck(ctx, tenant, b.ID), CodeHealthCheckInUse)

	// Deleting frees the quota but never the caller reference.
	if err := h.DeleteHealthCheck(ctx, tenant, a.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, h.DeleteHealthCheck(ctx, tenant, a.ID), CodeNoSuchHealthCheck)
	_, err = h.GetHealthCheck(ctx, tenant, a.ID)
	wantCode(t, err, CodeNoSuchHealthCheck)
	_, err = h.CreateHealthCheck(ctx, tenant, CreateHealthCheckInput{CallerReference: "a", Config: cfg})
	wantCode(t, err, CodeHealthCheckAlreadyExists)
	if _, err := h.CreateHealthCheck(ctx, tenant, CreateHealthCheckInput{CallerReference: "e", Config: cfg}); err != nil {
		t.Fatalf("after a delete: %v", err)
	}
}

// TestIntegrationHealthStore checks the aggregator's store methods.
func TestIntegrationHealthStore(t *testing.T) {
	t.Parallel()
	h, tenant := newHealthTestService(t, HealthCheckOptions{Options: healthcfg.Options{AllowPrivateTargets: true, MinRequestInterval: 1}})
	ctx := context.Background()
	mk := func(ref string) HealthCheck {
		hc, err := h.CreateHealthCheck(ctx, tenant, CreateHealthCheckInput{CallerReference: ref,
			Config: healthcfg.Config{Type: "TCP", IPAddress: "127.0.0.1", Port: 1, RequestInterval: 1}})
		if err != nil {
			t.Fatal(err)
		}
		return hc
	}
	a, b := mk("a"), mk("b")
	full, err := h.HealthConfigChanges(ctx, 0)
	if err != nil || !full.Full || len(full.Checks) != 2 || len(full.Status) != 2 || full.Revision == 0 {
		t.Fatalf("full: %+v, %v", full, err)
	}
	if full.Checks[0].Type != healthcfg.TCP || full.Checks[0].RequestInterval != 1 || !full.Status[0].Healthy {
		t.Errorf("full: %+v", full)
	}
	none, err := h.HealthConfigChanges(ctx, full.Revision)
	if err != nil || len(none.Checks)+len(none.Deleted) != 0 || none.Revision != full.Revision {
		t.Fatalf("nothing new: %+v, %v", none, err)
	}
	yes := true
	if _, err := h.UpdateHealthCheck(ctx, tenant, a.ID, UpdateHealthCheckInput{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if err := h.DeleteHealthCheck(ctx, tenant, b.ID); err != nil {
		t.Fatal(err)
	}
	d, err := h.HealthConfigChanges(ctx, full.Revision)
	if err != nil || d.Full || len(d.Checks) != 1 || !d.Checks[0].Disabled || d.Checks[0].Version != 2 ||
		len(d.Deleted) != 1 || d.Deleted[0] != b.ID || d.Revision <= full.Revision {
		t.Fatalf("delta: %+v, %v", d, err)
	}

	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	views := []event.HealthRegionState{
		{CheckID: a.ID, Region: "r1", Healthy: false, Streak: 0, LastOK: false, CheckedAt: t0, Reason: "Failure: x", LastFailureAt: t0, LastFailureReason: "Failure: x"},
		{CheckID: b.ID, Region: "r1", Healthy: true, CheckedAt: t0}, // deleted: skipped
	}
	transitions := []event.HealthStatus{
		{CheckID: a.ID, Healthy: false, Changed: t0, Reason: "0 of 1"},
		{CheckID: a.ID, Healthy: false, Changed: t0, Reason: "again"}, // no change: skipped
		{CheckID: b.ID, Healthy: false, Changed: t0, Reason: "deleted"},
	}
	if err := h.SaveHealth(ctx, views, transitions, nil); err != nil {
		t.Fatal(err)
	}
	// An older view does not replace a newer one.
	if err := h.SaveHealth(ctx, []event.HealthRegionState{{CheckID: a.ID, Region: "r1", Healthy: true, CheckedAt: t0.Add(-time.Second)}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	st, err := h.HealthCheckStatus(ctx, tenant, a.ID)
	if err != nil || st.Healthy || len(st.Checkers) != 1 || st.Checkers[0].Healthy || st.Checkers[0].LastFailureReason != "Failure: x" {
		t.Fatalf("status: %+v, %v", st, err)
	}
	hist, _, err := h.HealthCheckHistory(ctx, tenant, a.ID, 0, 10)
	if err != nil || len(hist) != 2 || hist[0].Reason != "0 of 1" || hist[1].Reason != "created" {
		t.Fatalf("history: %+v, %v", hist, err)
	}
	page, next, err := h.HealthCheckHistory(ctx, tenant, a.ID, 0, 1)
	if err != nil || len(page) != 1 || next == 0 {
		t.Fatalf("history page: %+v %d %v", page, next, err)
	}
	page, next, err = h.HealthCheckHistory(ctx, tenant, a.ID, next, 1)
	if err != nil || len(page) != 1 || page[0].Reason != "created" || next != 0 {
		t.Fatalf("history page 2: %+v %d %v", page, next, err)
	}
	regions, err := h.HealthRegionStates(ctx)
	if err != nil || len(regions) != 1 || regions[0].CheckID != a.ID || !regions[0].LastFailureAt.Equal(t0) {
		t.Fatalf("regions: %+v, %v", regions, err)
	}
}

// TestStoredConfigShape checks the health_check.config column: no type
// (it has a column), no zero interval or threshold (CALCULATED checks have
// none), and what is stored reads back the same.
func TestStoredConfigShape(t *testing.T) {
	t.Parallel()
	for _, c := range []healthcfg.Config{
		{Type: healthcfg.Calculated, ChildHealthChecks: []string{"a", "b"}, HealthThreshold: 1},
		{Type: healthcfg.HTTPSStrMatch, IPAddress: "192.0.2.1", FQDN: "a.example", Port: 443, ResourcePath: "/x",
			SearchString: "ok", RequestInterval: 10, FailureThreshold: 3, Inverted: true, EnableSNI: true,
			Regions: []string{"a", "b", "c"}},
	} {
		b, err := json.Marshal(storedConfig(c))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if _, ok := m["type"]; ok {
			t.Errorf("%s: stored config has a type: %s", c.Type, b)
		}
		for _, k := range []string{"request_interval", "failure_threshold"} {
			if _, ok := m[k]; ok != (c.Type != healthcfg.Calculated) {
				t.Errorf("%s: %s present = %v: %s", c.Type, k, ok, b)
			}
		}
		back, err := loadConfig(string(c.Type), string(b))
		if err != nil || !back.Equal(c) {
			t.Errorf("%s: read back %+v, %v; want %+v", c.Type, back, err, c)
		}
	}
}
