package controlplane

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/healthcfg"
)

func TestIntegrationQueryMetricsZone(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant, other := testTenant(t, e.pool), testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "metrics.test.")
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	err := e.s.RecordZoneQueries(ctx, []ZoneQueryCount{
		{ZoneID: z.ID, Minute: t0, Region: "eu-west-1", RCode: "NOERROR", Queries: 5},
		{ZoneID: z.ID, Minute: t0.Add(30 * time.Second), Region: "eu-west-1", RCode: "NOERROR", Queries: 2}, // same minute
		{ZoneID: z.ID, Minute: t0, Region: "us-east-1", RCode: "NXDOMAIN", Queries: 3},
		{ZoneID: z.ID, Minute: t0.Add(2 * time.Minute), Region: "us-east-1", RCode: "NOERROR", Queries: 4},
		{ZoneID: "ZGONE", Minute: t0, Region: "us-east-1", RCode: "NOERROR", Queries: 9}, // dropped
	})
	if err != nil {
		t.Fatal(err)
	}
	// A second report of the same minute adds.
	if err := e.s.RecordZoneQueries(ctx, []ZoneQueryCount{{ZoneID: z.ID, Minute: t0, Region: "eu-west-1", RCode: "NOERROR", Queries: 1}}); err != nil {
		t.Fatal(err)
	}
	q := MetricQuery{Namespace: NamespaceHostedZone, ResourceID: z.ID, Metric: MetricDNSQueries,
		Start: t0, End: t0.Add(5 * time.Minute), Period: time.Minute}
	for _, tc := range []struct {
		name   string
		mod    func(*MetricQuery)
		want   []Datapoint
		code   Code
		tenant string
	}{
		{name: "per-minute", want: []Datapoint{{t0, 11}, {t0.Add(2 * time.Minute), 4}}},
		{name: "5-minute", mod: func(q *MetricQuery) { q.Period = 5 * time.Minute }, want: []Datapoint{{t0, 15}}},
		{name: "rcode", mod: func(q *MetricQuery) { q.RCode = "nxdomain" }, want: []Datapoint{{t0, 3}, {t0.Add(2 * time.Minute), 0}}},
		{name: "region", mod: func(q *MetricQuery) { q.Region = "us-east-1" }, want: []Datapoint{{t0, 3}, {t0.Add(2 * time.Minute), 4}}},
		{name: "range", mod: func(q *MetricQuery) { q.Start = t0.Add(time.Minute) }, want: []Datapoint{{t0.Add(2 * time.Minute), 4}}},
		{name: "other-tenant", tenant: other, code: CodeNoSuchHostedZone},
		{name: "bad-period", mod: func(q *MetricQuery) { q.Period = 90 * time.Second }, code: CodeInvalidInput},
		{name: "too-many", mod: func(q *MetricQuery) { q.End = t0.Add(1441 * time.Minute) }, code: CodeInvalidInput},
		{name: "backwards", mod: func(q *MetricQuery) { q.End = t0 }, code: CodeInvalidInput},
		{name: "unknown", mod: func(q *MetricQuery) { q.Metric = "nope" }, code: CodeInvalidInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := q
			if tc.mod != nil {
				tc.mod(&q)
			}
			tn := tenant
			if tc.tenant != "" {
				tn = tc.tenant
			}
			got, err := e.s.QueryMetrics(ctx, tn, q)
			if tc.code != "" {
				wantErr(t, err, tc.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Metric != MetricDNSQueries || got.Period != int(q.Period/time.Second) || !slices.Equal(got.Datapoints, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	n, err := e.s.PruneMetrics(ctx, t0.Add(time.Minute))
	if err != nil || n != 2 {
		t.Errorf("PruneMetrics = %d, %v; want the 2 rows of the first minute", n, err)
	}
}

func TestIntegrationQueryMetricsHealthStatus(t *testing.T) {
	t.Parallel()
	s, tenant := newHealthTestService(t, HealthCheckOptions{Options: healthcfg.Options{AllowPrivateTargets: true}})
	ctx := context.Background()
	hc, err := s.CreateHealthCheck(ctx, tenant, CreateHealthCheckInput{CallerReference: "m",
		Config: healthcfg.Config{Type: "TCP", IPAddress: "192.0.2.5", Port: 22}})
	if err != nil {
		t.Fatal(err)
	}
	// Put the history in the minutes after the check's creation.
	t0 := hc.CreatedAt.UTC().Truncate(time.Minute).Add(time.Minute)
	err = s.SaveHealth(ctx, nil, []event.HealthStatus{
		{CheckID: hc.ID, Healthy: false, Changed: t0.Add(70 * time.Second)},
		{CheckID: hc.ID, Healthy: true, Changed: t0.Add(190 * time.Second)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.QueryMetrics(ctx, tenant, MetricQuery{Namespace: NamespaceHealthCheck, ResourceID: hc.ID,
		Metric: MetricHealthCheckStatus, Start: t0.Add(-3 * time.Minute), End: t0.Add(5 * time.Minute), Period: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	// Minutes before creation have no datapoint; the creation minute and
	// t0 are healthy; t0+1 and t0+2 saw unhealthy, t0+3 saw the recovery
	// (lowest: 0), t0+4 healthy.
	want := []Datapoint{{t0.Add(-time.Minute), 1}, {t0, 1}, {t0.Add(time.Minute), 0}, {t0.Add(2 * time.Minute), 0},
		{t0.Add(3 * time.Minute), 0}, {t0.Add(4 * time.Minute), 1}}
	if !slices.Equal(got.Datapoints, want) {
		t.Errorf("status series:\n got %+v\nwant %+v", got.Datapoints, want)
	}
	if _, err := s.QueryMetrics(ctx, "TNOBODY", MetricQuery{Namespace: NamespaceHealthCheck, ResourceID: hc.ID,
		Metric: MetricHealthCheckStatus, Start: t0, End: t0.Add(time.Minute), Period: time.Minute}); !IsCode(err, CodeNoSuchHealthCheck) {
		t.Errorf("another tenant: %v", err)
	}
}

// TestIntegrationQueryMetricsHealthProbes reads the probe metrics from
// known rollups: two regions, two minutes, a region filter, a rollup added
// to twice, another tenant, bad parameters and the retention.
func TestIntegrationQueryMetricsHealthProbes(t *testing.T) {
	t.Parallel()
	s, tenant := newHealthTestService(t, HealthCheckOptions{Options: healthcfg.Options{AllowPrivateTargets: true}})
	ctx := context.Background()
	hc, err := s.CreateHealthCheck(ctx, tenant, CreateHealthCheckInput{CallerReference: "probes",
		Config: healthcfg.Config{Type: "HTTP", IPAddress: "192.0.2.5", Port: 80}})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := s.CreateHealthCheck(ctx, tenant, CreateHealthCheckInput{CallerReference: "gone",
		Config: healthcfg.Config{Type: "TCP", IPAddress: "192.0.2.6", Port: 22}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteHealthCheck(ctx, tenant, gone.ID); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m := func(region string, minute time.Time, samples, healthy int64, cs float64, cn int64, ts float64, tn int64) event.HealthMinute {
		return event.HealthMinute{CheckID: hc.ID, Region: region, Minute: minute, Samples: samples, Healthy: healthy,
			ConnectMSSum: cs, ConnectCount: cn, FirstByteMSSum: ts, FirstByteCount: tn}
	}
	// Minute t0: region a 2 of 2 healthy, b 1 of 2 (its failed probe
	// measured nothing); minute t0+2: region a only, sent in two flushes.
	err = s.SaveHealth(ctx, nil, nil, []event.HealthMinute{
		m("a", t0, 2, 2, 30, 2, 80, 2),
		m("b", t0.Add(10*time.Second), 2, 1, 30, 1, 0, 0),
		m("a", t0.Add(2*time.Minute), 1, 0, 5, 1, 9, 1),
		{CheckID: gone.ID, Region: "a", Minute: t0, Samples: 1, Healthy: 1}, // deleted: dropped
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveHealth(ctx, nil, nil, []event.HealthMinute{m("a", t0.Add(2*time.Minute), 1, 1, 15, 1, 21, 1)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		q      MetricQuery
		want   []Datapoint
		code   Code
		tenant string
	}{
		// (100 + 50) / 2 regions; then 1 of 2 observations of region a.
		{name: "percentage", q: MetricQuery{Metric: MetricHealthPercentageHealthy}, want: []Datapoint{{t0, 75}, {t0.Add(2 * time.Minute), 50}}},
		{name: "percentage-region", q: MetricQuery{Metric: MetricHealthPercentageHealthy, Region: "b"}, want: []Datapoint{{t0, 50}}},
		// Means of every measured probe: (30 + 30) / 3, (5 + 15) / 2.
		{name: "connection", q: MetricQuery{Metric: MetricHealthConnectionTime}, want: []Datapoint{{t0, 20}, {t0.Add(2 * time.Minute), 10}}},
		{name: "connection-region", q: MetricQuery{Metric: MetricHealthConnectionTime, Region: "b"}, want: []Datapoint{{t0, 30}}},
		{name: "ttfb", q: MetricQuery{Metric: MetricHealthTimeToFirstByte}, want: []Datapoint{{t0, 40}, {t0.Add(2 * time.Minute), 15}}},
		// Region b measured no first byte: no datapoint, not a 0.
		{name: "ttfb-region-without", q: MetricQuery{Metric: MetricHealthTimeToFirstByte, Region: "b"}, want: []Datapoint{}},
		{name: "5-minute", q: MetricQuery{Metric: MetricHealthConnectionTime, Period: 5 * time.Minute}, want: []Datapoint{{t0, 16}}},
		{name: "unknown-region", q: MetricQuery{Metric: MetricHealthConnectionTime, Region: "nowhere"}, want: []Datapoint{}},
		{name: "other-tenant", q: MetricQuery{Metric: MetricHealthConnectionTime}, tenant: "TNOBODY", code: CodeNoSuchHealthCheck},
		{name: "deleted", q: MetricQuery{Metric: MetricHealthConnectionTime, ResourceID: gone.ID}, code: CodeNoSuchHealthCheck},
		{name: "rcode", q: MetricQuery{Metric: MetricHealthConnectionTime, RCode: "NOERROR"}, code: CodeInvalidInput},
		{name: "status-region", q: MetricQuery{Metric: MetricHealthCheckStatus, Region: "a"}, code: CodeInvalidInput},
		{name: "zone-metric", q: MetricQuery{Metric: MetricDNSQueries}, code: CodeInvalidInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Namespace = NamespaceHealthCheck
			if q.ResourceID == "" {
				q.ResourceID = hc.ID
			}
			q.Start, q.End = t0, t0.Add(5*time.Minute)
			if q.Period == 0 {
				q.Period = time.Minute
			}
			tn := tenant
			if tc.tenant != "" {
				tn = tc.tenant
			}
			got, err := s.QueryMetrics(ctx, tn, q)
			if tc.code != "" {
				wantErr(t, err, tc.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Metric != q.Metric || !slices.Equal(got.Datapoints, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	n, err := s.PruneMetrics(ctx, t0.Add(time.Minute))
	if err != nil || n != 2 {
		t.Errorf("PruneMetrics = %d, %v; want the 2 rows of the first minute", n, err)
	}
}

// TestIntegrationQueryMetricsZoneDerived: nxdomain_queries is the NXDOMAIN
// part of dns_queries; change_pending_seconds measures, at each period's
// end, the oldest change still pending then, and 0 once none is.
func TestIntegrationQueryMetricsZoneDerived(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	now := t0.Add(5*time.Minute + 30*time.Second)
	e := newZoneEnv(t, func(c *Config) { c.NowFunc = func() time.Time { return now } })
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "derived.test.")
	if err := e.s.RecordZoneQueries(ctx, []ZoneQueryCount{
		{ZoneID: z.ID, Minute: t0, Region: "r", RCode: "NOERROR", Queries: 5},
		{ZoneID: z.ID, Minute: t0, Region: "r", RCode: "NXDOMAIN", Queries: 3},
		{ZoneID: z.ID, Minute: t0.Add(time.Minute), Region: "s", RCode: "NXDOMAIN", Queries: 4},
	}); err != nil {
		t.Fatal(err)
	}
	q := MetricQuery{Namespace: NamespaceHostedZone, ResourceID: z.ID, Metric: MetricNXDOMAINQueries,
		Start: t0, End: t0.Add(3 * time.Minute), Period: time.Minute}
	got, err := e.s.QueryMetrics(ctx, tenant, q)
	if err != nil || !slices.Equal(got.Datapoints, []Datapoint{{t0, 3}, {t0.Add(time.Minute), 4}}) {
		t.Errorf("nxdomain_queries: %+v, %v", got, err)
	}
	q.RCode = "NOERROR"
	if _, err := e.s.QueryMetrics(ctx, tenant, q); !IsCode(err, CodeInvalidInput) {
		t.Errorf("nxdomain_queries with rcode: %v", err)
	}

	// The zone's own creation change is pending since the real now; put
	// it out of the way, then two changes: one pending from t0+30s to
	// t0+2m30s, one from t0+2m until now.
	if _, err := e.pool.Exec(ctx, `UPDATE change SET status = 'INSYNC', submitted_at = $2, insync_at = $2 WHERE zone_id = $1`,
		z.ID, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(ctx, `INSERT INTO change (id, tenant_id, zone_id, zone_version, status, submitted_at, insync_at)
	    VALUES ('CPEND1', $1, $2, 2, 'INSYNC', $3, $4), ('CPEND2', $1, $2, 3, 'PENDING', $5, NULL)`,
		tenant, z.ID, t0.Add(30*time.Second), t0.Add(150*time.Second), t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err = e.s.QueryMetrics(ctx, tenant, MetricQuery{Namespace: NamespaceHostedZone, ResourceID: z.ID,
		Metric: MetricChangePendingSeconds, Start: t0, End: t0.Add(10 * time.Minute), Period: time.Minute})
	// At t0+1m: 30 s; t0+2m: 90 s (the first, still pending); t0+3m: 60 s
	// (the first is INSYNC, the second 1 min old); … t0+5m30s (now): 210 s.
	want := []Datapoint{{t0, 30}, {t0.Add(time.Minute), 90}, {t0.Add(2 * time.Minute), 60},
		{t0.Add(3 * time.Minute), 120}, {t0.Add(4 * time.Minute), 180}, {t0.Add(5 * time.Minute), 210}}
	if err != nil || !slices.Equal(got.Datapoints, want) {
		t.Errorf("change_pending_seconds:\n got %+v, %v\nwant %+v", got.Datapoints, err, want)
	}
}
