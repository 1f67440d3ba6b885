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

// hcReceiver is a local webhook target for health check notifications:
// it checks signatures and records what it was sent; failFirst makes its
// first answer a 500.
type hcReceiver struct {
	mu        sync.Mutex
	got       []HealthCheckNotification
	bad       int
	calls     int
	failFirst bool
}

func (rc *hcReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.calls++
	if rc.failFirst && rc.calls == 1 {
		http.Error(w, "not yet", http.StatusInternalServerError)
		return
	}
	var n HealthCheckNotification
	if r.Header.Get(SignatureHeader) != Sign("s3cret", body) || json.Unmarshal(body, &n) != nil {
		rc.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	rc.got = append(rc.got, n)
}

func (rc *hcReceiver) statuses() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, n := range rc.got {
		out = append(out, n.OldStatus+">"+n.Status)
	}
	return out
}

func notifyTo(url string) []AlarmAction {
	return []AlarmAction{{Webhook: &Webhook{URL: url, Secret: "s3cret"}}}
}

func TestIntegrationHealthCheckNotifyValidation(t *testing.T) {
	t.Parallel()
	s, tenant := newHealthTestService(t, HealthCheckOptions{Options: healthcfg.Options{AllowPrivateTargets: true}})
	strict := withHealthChecks(t, s, HealthCheckOptions{})
	ctx := context.Background()
	cfg := healthcfg.Config{Type: "TCP", IPAddress: "192.0.2.5", Port: 22}
	for _, tc := range []struct {
		name   string
		svc    *Service
		notify []AlarmAction
	}{
		{"no-webhook", s, []AlarmAction{{}}},
		{"no-secret", s, []AlarmAction{{Webhook: &Webhook{URL: "https://hooks.example/x"}}}},
		{"scheme", s, []AlarmAction{{Webhook: &Webhook{URL: "ftp://hooks.example/x", Secret: "s"}}}},
		{"credentials", s, []AlarmAction{{Webhook: &Webhook{URL: "https://u:p@hooks.example/x", Secret: "s"}}}},
		{"too-many", s, append(append(append(notifyTo("https://a.example/"), notifyTo("https://b.example/")...),
			append(notifyTo("https://c.example/"), notifyTo("https://d.example/")...)...), append(notifyTo("https://e.example/"), notifyTo("https://f.example/")...)...)},
		// Targets in private or loopback ranges are refused unless the
		// operator allows them, as for alarms.
		{"loopback", strict, notifyTo("http://127.0.0.1:8080/hook")},
		{"private", strict, notifyTo("http://10.1.2.3/hook")},
		{"localhost", strict, notifyTo("http://localhost/hook")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.svc.CreateHealthCheck(ctx, tenant, CreateHealthCheckInput{CallerReference: "v-" + tc.name, Config: cfg, Notify: tc.notify})
			wantErr(t, err, CodeInvalidInput)
		})
	}
	hc, err := s.CreateHealthCheck(ctx, tenant, CreateHealthCheckInput{CallerReference: "ok", Config: cfg, Notify: notifyTo("https://hooks.example/a")})
	if err != nil {
		t.Fatal(err)
	}
	if len(hc.Notify) != 1 || hc.Notify[0].Webhook.URL != "https://hooks.example/a" || hc.Notify[0].Webhook.Secret != "" {
		t.Errorf("created notify %+v", hc.Notify)
	}
	got, err := s.GetHealthCheck(ctx, tenant, hc.ID)
	if err != nil || len(got.Notify) != 1 || got.Notify[0].Webhook.Secret != "" {
		t.Errorf("read notify %+v, %v", got.Notify, err)
	}
	// The same create again is the same check; other webhooks are another.
	if again, err := s.CreateHealthCheck(ctx, tenant, CreateHealthCheckInput{CallerReference: "ok", Config: cfg,
		Notify: notifyTo("https://hooks.example/a")}); err != nil || again.ID != hc.ID || again.Notify[0].Webhook.Secret != "" {
		t.Errorf("repeated create: %+v, %v", again, err)
	}
	_, err = s.CreateHealthCheck(ctx, tenant, CreateHealthCheckInput{CallerReference: "ok", Config: cfg, Notify: notifyTo("https://hooks.example/b")})
	wantErr(t, err, CodeHealthCheckAlreadyExists)
	bad := notifyTo("http://127.0.0.1/")
	_, err = strict.UpdateHealthCheck(ctx, tenant, hc.ID, UpdateHealthCheckInput{Notify: &bad})
	wantErr(t, err, CodeInvalidInput)
	none := []AlarmAction{}
	up, err := s.UpdateHealthCheck(ctx, tenant, hc.ID, UpdateHealthCheckInput{Notify: &none})
	if err != nil || len(up.Notify) != 0 || up.Version != 2 {
		t.Errorf("cleared notify: %+v, %v", up, err)
	}
	if got, err := s.GetHealthCheck(ctx, tenant, hc.ID); err != nil || got.Notify == nil || len(got.Notify) != 0 {
		t.Errorf("after clearing: %+v, %v", got.Notify, err)
	}
}

// TestIntegrationHealthCheckNotify drives a check down and up through the
// health pipeline's store and queues with two services at once, as an old
// and a new leader would during a failover: one signed notification per
// transition, the first one retried, delivery history in the check's
// history, nothing after notify is removed.
func TestIntegrationHealthCheckNotify(t *testing.T) {
	t.Parallel()
	a, b, clock, tenant, _ := alarmTestEnv(t)
	ctx := context.Background()
	rc := &hcReceiver{failFirst: true}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	hc, err := a.CreateHealthCheck(ctx, tenant, CreateHealthCheckInput{CallerReference: "notify",
		Config: healthcfg.Config{Type: "TCP", IPAddress: "192.0.2.7", Port: 22}, Notify: notifyTo(srv.URL + "/hook")})
	if err != nil {
		t.Fatal(err)
	}
	client := a.webhookClient()
	queueBoth := func() int {
		t.Helper()
		var wg sync.WaitGroup
		var n [2]int
		for i, s := range []*Service{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				if n[i], err = s.NotifyHealthTransitions(ctx); err != nil {
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
	// The initial status is not a change.
	if n := queueBoth(); n != 0 {
		t.Fatalf("queued %d for a new check", n)
	}
	t0 := clock.Now()
	save := func(healthy bool, at time.Duration) {
		t.Helper()
		if err := a.SaveHealth(ctx, nil, []event.HealthStatus{{CheckID: hc.ID, Healthy: healthy, Changed: t0.Add(at), Reason: fmt.Sprint("healthy ", healthy)}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	save(false, time.Second)
	save(false, 2*time.Second) // the same status: no transition
	if n := queueBoth(); n != 1 {
		t.Fatalf("failure: queued %d, want 1", n)
	}
	deliver() // the receiver's 500
	if got := rc.statuses(); len(got) != 0 {
		t.Fatalf("delivered %v before the retry", got)
	}
	clock.Advance(2 * time.Second)
	deliver()
	save(true, 3*time.Second)
	if n := queueBoth(); n != 1 {
		t.Fatalf("recovery: queued %d, want 1", n)
	}
	if n := queueBoth(); n != 0 {
		t.Fatalf("again: queued %d, want 0", n)
	}
	deliver()
	want := []string{"HEALTHY>UNHEALTHY", "UNHEALTHY>HEALTHY"}
	if got := rc.statuses(); fmt.Sprint(got) != fmt.Sprint(want) || rc.bad != 0 {
		t.Fatalf("received %v (%d badly signed), want %v", got, rc.bad, want)
	}
	if n := rc.got[0]; n.HealthCheckID != hc.ID || n.CallerReference != "notify" || n.Reason != "healthy false" ||
		!n.Timestamp.Equal(t0.Add(time.Second).Truncate(time.Microsecond)) || n.TransitionID == 0 || rc.got[1].TransitionID <= n.TransitionID {
		t.Errorf("first notification %+v", n)
	}
	hist, _, err := b.HealthCheckHistory(ctx, tenant, hc.ID, 0, 10)
	if err != nil || len(hist) != 3 {
		t.Fatalf("history %+v, %v", hist, err)
	}
	// Newest first: the recovery, the failure (retried once), the creation.
	if d := hist[1].Deliveries; hist[1].Healthy || len(d) != 1 || d[0].Status != "delivered" || d[0].Attempts != 2 ||
		d[0].URL != srv.URL+"/hook" || d[0].LastStatus == nil || *d[0].LastStatus != 200 || d[0].DeliveredAt == nil {
		t.Errorf("failure's deliveries %+v", hist[1].Deliveries)
	}
	if !hist[0].Healthy || len(hist[0].Deliveries) != 1 || hist[0].Deliveries[0].Attempts != 1 || len(hist[2].Deliveries) != 0 {
		t.Errorf("history %+v", hist)
	}
	if _, _, err := b.HealthCheckHistory(ctx, "TNOBODY", hc.ID, 0, 10); !IsCode(err, CodeNoSuchHealthCheck) {
		t.Errorf("another tenant's history: %v", err)
	}
	// Without notify, a change is not sent; with it again, only later ones.
	none := []AlarmAction{}
	if _, err := a.UpdateHealthCheck(ctx, tenant, hc.ID, UpdateHealthCheckInput{Notify: &none}); err != nil {
		t.Fatal(err)
	}
	save(false, 4*time.Second)
	if n := queueBoth(); n != 0 {
		t.Fatalf("without notify: queued %d", n)
	}
	again := notifyTo(srv.URL + "/hook")
	if _, err := a.UpdateHealthCheck(ctx, tenant, hc.ID, UpdateHealthCheckInput{Notify: &again}); err != nil {
		t.Fatal(err)
	}
	if n := queueBoth(); n != 0 {
		t.Fatalf("a change from before notify was set again: queued %d", n)
	}
	save(true, 5*time.Second)
	if n := queueBoth(); n != 1 {
		t.Fatalf("after notify set again: queued %d, want 1", n)
	}
}

// TestIntegrationHealthCheckNotifyLeaderFailover runs the alarm leader in
// two services; the first goes away after notifying the failure, the
// second takes over and notifies the recovery: one notification each.
func TestIntegrationHealthCheckNotifyLeaderFailover(t *testing.T) {
	t.Parallel()
	a, b, clock, tenant, _ := alarmTestEnv(t)
	ctx := context.Background()
	rc := &hcReceiver{}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	hc, err := a.CreateHealthCheck(ctx, tenant, CreateHealthCheckInput{CallerReference: "failover",
		Config: healthcfg.Config{Type: "TCP", IPAddress: "192.0.2.8", Port: 22}, Notify: notifyTo(srv.URL)})
	if err != nil {
		t.Fatal(err)
	}
	t0 := clock.Now()
	if err := a.SaveHealth(ctx, nil, []event.HealthStatus{{CheckID: hc.ID, Healthy: false, Changed: t0.Add(time.Second)}}, nil); err != nil {
		t.Fatal(err)
	}
	actx, stopA := context.WithCancel(ctx)
	doneA := make(chan error, 1)
	go func() {
		doneA <- a.RunLeader(actx, DefaultAlarmLockKey, func(ctx context.Context) error { return a.RunAlarms(ctx, 20*time.Millisecond) })
	}()
	testkit.Eventually(t, 10*time.Second, func() error {
		if got := rc.statuses(); len(got) != 1 {
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
	if err := b.SaveHealth(ctx, nil, []event.HealthStatus{{CheckID: hc.ID, Healthy: true, Changed: t0.Add(2 * time.Second)}}, nil); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		if got := rc.statuses(); len(got) != 2 {
			return fmt.Errorf("received %v", got)
		}
		return nil
	})
	// Every notification is out: nothing more can come.
	testkit.Eventually(t, 10*time.Second, func() error {
		var pending int
		if err := b.pool.QueryRow(ctx, `SELECT count(*) FROM notification WHERE source_id = $1 AND status <> 'delivered'`, hc.ID).Scan(&pending); err != nil {
			return err
		}
		if pending != 0 {
			return fmt.Errorf("%d not delivered", pending)
		}
		return nil
	})
	if got := rc.statuses(); fmt.Sprint(got) != "[HEALTHY>UNHEALTHY UNHEALTHY>HEALTHY]" || rc.bad != 0 {
		t.Errorf("received %v (%d bad)", got, rc.bad)
	}
}
