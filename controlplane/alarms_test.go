package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/healthcfg"
	"github.com/waymark-dns/waymark/internal/testkit"
)

// receiver is a local webhook target that checks signatures and records
// what it was sent; failFirst makes its first answer a 500.
type receiver struct {
	mu        sync.Mutex
	got       []AlarmNotification
	bad       int
	calls     int
	failFirst bool
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.calls++
	if rc.failFirst && rc.calls == 1 {
		http.Error(w, "not yet", http.StatusInternalServerError)
		return
	}
	var n AlarmNotification
	if r.Header.Get(SignatureHeader) != Sign("s3cret", body) || json.Unmarshal(body, &n) != nil {
		rc.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	rc.got = append(rc.got, n)
}

func (rc *receiver) states() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, n := range rc.got {
		out = append(out, n.OldState+">"+n.NewState)
	}
	return out
}

func alarmTestEnv(t *testing.T) (a, b *Service, clock *authClock, tenant string, hc HealthCheck) {
	t.Helper()
	s, clock := newAuthTestService(t)
	tn, _, err := s.CreateTenant(context.Background(), "alarms")
	if err != nil {
		t.Fatal(err)
	}
	opts := HealthCheckOptions{Options: healthcfg.Options{AllowPrivateTargets: true}}
	a, b = withHealthChecks(t, s, opts), withHealthChecks(t, s, opts)
	hc, err = a.CreateHealthCheck(context.Background(), tn.ID, CreateHealthCheckInput{CallerReference: "al",
		Config: healthcfg.Config{Type: "TCP", IPAddress: "192.0.2.5", Port: 22}})
	if err != nil {
		t.Fatal(err)
	}
	return a, b, clock, tn.ID, hc
}

func healthAlarm(hc HealthCheck, url string) CreateAlarmInput {
	hook := func() []AlarmAction { return []AlarmAction{{Webhook: &Webhook{URL: url, Secret: "s3cret"}}} }
	return CreateAlarmInput{Name: "hc-down", Metric: AlarmMetric{Namespace: NamespaceHealthCheck, Name: MetricHealthCheckStatus, ResourceID: hc.ID},
		Statistic: "Minimum", Period: 60, EvaluationPeriods: 1, Threshold: 1, Comparison: "LessThanThreshold",
		AlarmActions: hook(), OKActions: hook()}
}

func TestIntegrationAlarmValidation(t *testing.T) {
	t.Parallel()
	s, _, _, tenant, hc := alarmTestEnv(t)
	strict := withHealthChecks(t, s, HealthCheckOptions{})
	ctx := context.Background()
	other, _, err := s.CreateTenant(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		mod    func(*CreateAlarmInput)
		svc    *Service
		tenant string
		code   Code
	}{
		{name: "no-name", mod: func(in *CreateAlarmInput) { in.Name = " " }, code: CodeInvalidInput},
		{name: "namespace", mod: func(in *CreateAlarmInput) { in.Metric.Namespace = "ec2" }, code: CodeInvalidInput},
		{name: "metric", mod: func(in *CreateAlarmInput) { in.Metric.Name = "dns_queries" }, code: CodeInvalidInput},
		{name: "statistic", mod: func(in *CreateAlarmInput) { in.Statistic = "Average" }, code: CodeInvalidInput},
		{name: "period", mod: func(in *CreateAlarmInput) { in.Period = 90 }, code: CodeInvalidInput},
		{name: "evaluation-periods", mod: func(in *CreateAlarmInput) { in.EvaluationPeriods = 0 }, code: CodeInvalidInput},
		{name: "datapoints", mod: func(in *CreateAlarmInput) { in.DatapointsToAlarm = 2 }, code: CodeInvalidInput},
		{name: "comparison", mod: func(in *CreateAlarmInput) { in.Comparison = "Equal" }, code: CodeInvalidInput},
		{name: "no-webhook", mod: func(in *CreateAlarmInput) { in.AlarmActions = []AlarmAction{{}} }, code: CodeInvalidInput},
		{name: "no-secret", mod: func(in *CreateAlarmInput) { in.OKActions[0].Webhook.Secret = "" }, code: CodeInvalidInput},
		{name: "bad-url", mod: func(in *CreateAlarmInput) { in.OKActions[0].Webhook.URL = "ftp://x/" }, code: CodeInvalidInput},
		{name: "loopback-refused", svc: strict, code: CodeInvalidInput},
		{name: "private-refused", svc: strict, mod: func(in *CreateAlarmInput) {
			in.AlarmActions[0].Webhook.URL, in.OKActions[0].Webhook.URL = "http://10.1.2.3/h", "http://10.1.2.3/h"
		}, code: CodeInvalidInput},
		{name: "localhost-refused", svc: strict, mod: func(in *CreateAlarmInput) {
			in.AlarmActions[0].Webhook.URL, in.OKActions[0].Webhook.URL = "http://localhost/h", "http://localhost/h"
		}, code: CodeInvalidInput},
		{name: "other-tenant", tenant: other.ID, code: CodeNoSuchHealthCheck},
		{name: "ok"},
		{name: "duplicate", code: CodeAlarmAlreadyExists},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := healthAlarm(hc, "http://127.0.0.1:9/h")
			if tc.mod != nil {
				tc.mod(&in)
			}
			svc, tn := s, tenant
			if tc.svc != nil {
				svc = tc.svc
			}
			if tc.tenant != "" {
				tn = tc.tenant
			}
			a, err := svc.CreateAlarm(ctx, tn, in)
			if tc.code != "" {
				wantErr(t, err, tc.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.State != AlarmInsufficientData || a.AlarmActions[0].Webhook.Secret != "" {
				t.Errorf("created %+v: want INSUFFICIENT_DATA and no secret", a)
			}
			got, err := s.GetAlarm(ctx, tenant, a.ID)
			if err != nil || got.OKActions[0].Webhook.Secret != "" || got.OKActions[0].Webhook.URL != "http://127.0.0.1:9/h" {
				t.Errorf("GetAlarm = %+v, %v", got, err)
			}
			if _, err := s.GetAlarm(ctx, other.ID, a.ID); !IsCode(err, CodeNoSuchAlarm) {
				t.Errorf("another tenant's GetAlarm: %v", err)
			}
		})
	}
	list, err := s.ListAlarms(ctx, tenant)
	if err != nil || len(list) != 1 {
		t.Fatalf("ListAlarms = %+v, %v", list, err)
	}
	if err := s.DeleteAlarm(ctx, other.ID, list[0].ID); !IsCode(err, CodeNoSuchAlarm) {
		t.Errorf("another tenant's DeleteAlarm: %v", err)
	}
	if err := s.DeleteAlarm(ctx, tenant, list[0].ID); err != nil {
		t.Fatal(err)
	}
}

// TestIntegrationAlarmHealthCheck drives a health check down and up
// through the health pipeline's store (SaveHealth) and evaluates with two
// services at once, as an old and a new leader would during a failover:
// each transition is recorded and notified exactly once, signed.
func TestIntegrationAlarmHealthCheck(t *testing.T) {
	t.Parallel()
	a, b, clock, tenant, hc := alarmTestEnv(t)
	ctx := context.Background()
	rc := &receiver{failFirst: true}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	al, err := a.CreateAlarm(ctx, tenant, healthAlarm(hc, srv.URL+"/hook"))
	if err != nil {
		t.Fatal(err)
	}
	t0 := clock.Now().Truncate(time.Minute)
	client := a.webhookClient()
	// evalBoth evaluates at t0+at on both services concurrently.
	evalBoth := func(at time.Duration) int {
		t.Helper()
		clock.mu.Lock()
		clock.t = t0.Add(at)
		clock.mu.Unlock()
		var wg sync.WaitGroup
		var n [2]int
		for i, s := range []*Service{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				if n[i], err = s.EvaluateAlarms(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		return n[0] + n[1]
	}
	deliver := func() {
		t.Helper()
		for _, s := range []*Service{a, b} {
			if _, err := s.DeliverNotifications(ctx, client); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The creation minute is healthy: INSUFFICIENT_DATA > OK. The
	// receiver's first answer is a 500, so this needs a retry after
	// the backoff.
	if n := evalBoth(time.Minute); n != 1 {
		t.Fatalf("first evaluation: %d transitions, want 1", n)
	}
	deliver()
	if got := rc.states(); len(got) != 0 {
		t.Fatalf("delivered %v before the retry", got)
	}
	clock.Advance(2 * time.Second)
	deliver()
	// The check fails during the next minute.
	if err := a.SaveHealth(ctx, nil, []event.HealthStatus{{CheckID: hc.ID, Healthy: false, Changed: t0.Add(70 * time.Second)}}, nil); err != nil {
		t.Fatal(err)
	}
	if n := evalBoth(2 * time.Minute); n != 1 {
		t.Fatalf("failure: %d transitions, want 1", n)
	}
	if n := evalBoth(2*time.Minute + 30*time.Second); n != 0 {
		t.Fatalf("same state again: %d transitions, want 0", n)
	}
	deliver()
	// It recovers; the minute after is healthy throughout.
	if err := a.SaveHealth(ctx, nil, []event.HealthStatus{{CheckID: hc.ID, Healthy: true, Changed: t0.Add(130 * time.Second)}}, nil); err != nil {
		t.Fatal(err)
	}
	if n := evalBoth(3 * time.Minute); n != 0 {
		t.Fatalf("minute of the recovery still saw 0: %d transitions, want 0", n)
	}
	if n := evalBoth(4 * time.Minute); n != 1 {
		t.Fatalf("recovery: %d transitions, want 1", n)
	}
	deliver()
	want := []string{"INSUFFICIENT_DATA>OK", "OK>ALARM", "ALARM>OK"}
	if got := rc.states(); fmt.Sprint(got) != fmt.Sprint(want) || rc.bad != 0 {
		t.Fatalf("received %v (%d badly signed), want %v", got, rc.bad, want)
	}
	if rc.got[1].AlarmID != al.ID || rc.got[1].AlarmName != "hc-down" || rc.got[1].Reason == "" {
		t.Errorf("ALARM notification %+v", rc.got[1])
	}
	hist, err := a.AlarmHistory(ctx, tenant, al.ID)
	if err != nil || len(hist) != 3 {
		t.Fatalf("history = %+v, %v", hist, err)
	}
	first := hist[2] // newest first
	if first.NewState != AlarmOK || len(first.Deliveries) != 1 || first.Deliveries[0].Attempts != 2 ||
		first.Deliveries[0].Status != "delivered" || first.Deliveries[0].LastError != "" {
		t.Errorf("first transition's history %+v", first)
	}
	if hist[0].NewState != AlarmOK || hist[1].NewState != AlarmAlarm || hist[1].Deliveries[0].Attempts != 1 {
		t.Errorf("history %+v", hist)
	}
	if _, err := b.AlarmHistory(ctx, "TNOBODY", al.ID); !IsCode(err, CodeNoSuchAlarm) {
		t.Errorf("another tenant's history: %v", err)
	}
}

// TestIntegrationAlarmLeaderFailover runs the evaluator under RunLeader
// in two services; the first leader goes away after the ALARM, the second
// takes over and sends the OK: one notification per transition.
func TestIntegrationAlarmLeaderFailover(t *testing.T) {
	t.Parallel()
	a, b, clock, tenant, hc := alarmTestEnv(t)
	ctx := context.Background()
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	in := healthAlarm(hc, srv.URL)
	in.OKActions = nil // only ALARM notifies: the count below is exact
	if _, err := a.CreateAlarm(ctx, tenant, in); err != nil {
		t.Fatal(err)
	}
	t0 := clock.Now().Truncate(time.Minute)
	if err := a.SaveHealth(ctx, nil, []event.HealthStatus{{CheckID: hc.ID, Healthy: false, Changed: t0.Add(70 * time.Second)}}, nil); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	actx, stopA := context.WithCancel(ctx)
	doneA := make(chan error, 1)
	go func() {
		doneA <- a.RunLeader(actx, DefaultAlarmLockKey, func(ctx context.Context) error { return a.RunAlarms(ctx, 20*time.Millisecond) })
	}()
	testkit.Eventually(t, 10*time.Second, func() error {
		if got := rc.states(); len(got) != 1 {
			return fmt.Errorf("received %v", got)
		}
		return nil
	})
	bctx, stopB := context.WithCancel(ctx)
	doneB := make(chan error, 1)
	go func() {
		doneB <- b.RunLeader(bctx, DefaultAlarmLockKey, func(ctx context.Context) error { return b.RunAlarms(ctx, 20*time.Millisecond) })
	}()
	t.Cleanup(func() { stopB(); <-doneB })
	stopA()
	<-doneA
	// Recover, then fail again: the new leader records both.
	if err := b.SaveHealth(ctx, nil, []event.HealthStatus{{CheckID: hc.ID, Healthy: true, Changed: t0.Add(130 * time.Second)}}, nil); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	testkit.Eventually(t, 10*time.Second, func() error {
		h, err := b.ListAlarms(ctx, tenant)
		if err != nil || len(h) != 1 || h[0].State != AlarmOK {
			return fmt.Errorf("alarms %+v, %v", h, err)
		}
		return nil
	})
	if err := b.SaveHealth(ctx, nil, []event.HealthStatus{{CheckID: hc.ID, Healthy: false, Changed: t0.Add(250 * time.Second)}}, nil); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	testkit.Eventually(t, 10*time.Second, func() error {
		if got := rc.states(); len(got) != 2 {
			return fmt.Errorf("received %v", got)
		}
		return nil
	})
	if got := rc.states(); fmt.Sprint(got) != "[INSUFFICIENT_DATA>ALARM OK>ALARM]" || rc.bad != 0 {
		t.Errorf("received %v (%d bad)", got, rc.bad)
	}
}

// TestIntegrationAlarmZoneQueryRate: an alarm on a zone's query rate
// (dns_queries, Sum per minute) goes to ALARM when the nameservers'
// reports, ingested as in production, pass the threshold, and back to
// OK when they fall, each transition a signed webhook; alarms on the
// NXDOMAIN rate and on a stuck change evaluate on the same zone.
func TestIntegrationAlarmZoneQueryRate(t *testing.T) {
	t.Parallel()
	a, _, clock, tenant, _ := alarmTestEnv(t)
	ctx := context.Background()
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	z, _, err := a.CreateZone(ctx, tenant, CreateZoneInput{Name: "rate.test.", CallerReference: "rate"})
	if err != nil {
		t.Fatal(err)
	}
	hook := func() []AlarmAction {
		return []AlarmAction{{Webhook: &Webhook{URL: srv.URL + "/hook", Secret: "s3cret"}}}
	}
	al, err := a.CreateAlarm(ctx, tenant, CreateAlarmInput{Name: "queries-high",
		Metric:    AlarmMetric{Namespace: NamespaceHostedZone, Name: MetricDNSQueries, ResourceID: z.ID},
		Statistic: "Sum", Period: 60, EvaluationPeriods: 1, Threshold: 100, Comparison: "GreaterThanThreshold",
		AlarmActions: hook(), OKActions: hook()})
	if err != nil {
		t.Fatal(err)
	}
	nx, err := a.CreateAlarm(ctx, tenant, CreateAlarmInput{Name: "nxdomain-high",
		Metric:    AlarmMetric{Namespace: NamespaceHostedZone, Name: MetricNXDOMAINQueries, ResourceID: z.ID},
		Statistic: "Sum", Period: 60, EvaluationPeriods: 1, Threshold: 20, Comparison: "GreaterThanThreshold"})
	if err != nil {
		t.Fatal(err)
	}
	stuck, err := a.CreateAlarm(ctx, tenant, CreateAlarmInput{Name: "change-stuck",
		Metric:    AlarmMetric{Namespace: NamespaceHostedZone, Name: MetricChangePendingSeconds, ResourceID: z.ID},
		Statistic: "Maximum", Period: 60, EvaluationPeriods: 1, Threshold: 30, Comparison: "GreaterThanThreshold"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateAlarm(ctx, tenant, CreateAlarmInput{Name: "bad-stat",
		Metric:    AlarmMetric{Namespace: NamespaceHostedZone, Name: MetricChangePendingSeconds, ResourceID: z.ID},
		Statistic: "Sum", Period: 60, EvaluationPeriods: 1, Threshold: 30, Comparison: "GreaterThanThreshold"}); !IsCode(err, CodeInvalidInput) {
		t.Errorf("change_pending_seconds with Sum: %v", err)
	}
	t0 := clock.Now().UTC().Truncate(time.Minute)
	report := func(node string, at time.Duration, ok, nxdomain uint64) {
		t.Helper()
		rep := event.ZoneQueryReport{NodeID: node, Region: "eu-west-1", Start: t0.Add(at), End: t0.Add(at + 10*time.Second)}
		for _, c := range []event.ZoneQueryCount{{ZoneID: z.ID, RCode: "NOERROR", Queries: ok}, {ZoneID: z.ID, RCode: "NXDOMAIN", Queries: nxdomain}} {
			if c.Queries > 0 {
				rep.Counts = append(rep.Counts, c)
			}
		}
		if _, err := a.IngestZoneQueryReport(ctx, rep); err != nil {
			t.Fatal(err)
		}
	}
	state := func(id string) string {
		t.Helper()
		got, err := a.GetAlarm(ctx, tenant, id)
		if err != nil {
			t.Fatal(err)
		}
		return got.State
	}
	eval := func(at time.Duration) {
		t.Helper()
		clock.mu.Lock()
		clock.t = t0.Add(at)
		clock.mu.Unlock()
		if _, err := a.EvaluateAlarms(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.DeliverNotifications(ctx, a.webhookClient()); err != nil {
			t.Fatal(err)
		}
	}
	// Minute t0+1: two nameservers, 60 + 50 queries (30 NXDOMAIN): over
	// both thresholds. The zone's creation change is still pending.
	report("ns-a", time.Minute, 40, 20)
	report("ns-b", time.Minute+20*time.Second, 40, 10)
	eval(2 * time.Minute)
	if s := state(al.ID); s != AlarmAlarm {
		t.Fatalf("query-rate alarm %s after 110 queries in a minute, want ALARM", s)
	}
	if s := state(nx.ID); s != AlarmAlarm {
		t.Errorf("NXDOMAIN alarm %s after 30 NXDOMAIN in a minute, want ALARM", s)
	}
	if s := state(stuck.ID); s != AlarmAlarm {
		t.Errorf("change-pending alarm %s with the creation change pending, want ALARM", s)
	}
	// Minute t0+2: 10 queries; the change goes INSYNC.
	report("ns-a", 2*time.Minute, 10, 0)
	if _, err := a.pool.Exec(ctx, `UPDATE change SET status = 'INSYNC', insync_at = $2 WHERE zone_id = $1`, z.ID, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	eval(3 * time.Minute)
	for _, id := range []string{al.ID, nx.ID, stuck.ID} {
		if s := state(id); s != AlarmOK {
			t.Errorf("alarm %s is %s after the quiet minute, want OK", id, s)
		}
	}
	want := []string{"INSUFFICIENT_DATA>ALARM", "ALARM>OK"}
	if got := rc.states(); fmt.Sprint(got) != fmt.Sprint(want) || rc.bad != 0 {
		t.Fatalf("received %v (%d badly signed), want %v", got, rc.bad, want)
	}
	if n := rc.got[0]; n.AlarmID != al.ID || n.AlarmName != "queries-high" || n.NewState != AlarmAlarm {
		t.Errorf("ALARM notification %+v", n)
	}
}
