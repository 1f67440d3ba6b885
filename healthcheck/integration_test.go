package healthcheck_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/healthcfg"
	"github.com/waymark-dns/waymark/healthcheck"
	"github.com/waymark-dns/waymark/internal/natstest"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/internal/testkit"
)

// The control plane is the aggregator's store.
var _ healthcheck.Store = (*controlplane.Service)(nil)

// env is a real control plane (PostgreSQL) and NATS server for one test.
type env struct {
	t      *testing.T
	ctx    context.Context
	svc    *controlplane.Service
	nc     *nats.Conn
	js     jetstream.JetStream
	tenant string
	status *event.HealthWatcher
}

func newEnv(t *testing.T) *env {
	t.Helper()
	pool, _ := pgtest.Schema(t)
	svc, err := controlplane.New(pool, controlplane.Config{MasterKey: bytes.Repeat([]byte{1}, 32), JWTKey: bytes.Repeat([]byte{2}, 32),
		HealthChecks: controlplane.HealthCheckOptions{Options: healthcfg.Options{AllowPrivateTargets: true, MinRequestInterval: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	ns := natstest.Run(t)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	tn, _, err := svc.CreateTenant(ctx, "hc-"+strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, svc: svc, nc: nc, js: js, tenant: tn.ID}
	return e
}

// with returns a copy of e whose helpers report to t (a subtest).
func (e *env) with(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// aggregate runs an aggregator (under the leader lock) until the test
// ends or the returned function stops it.
func (e *env) aggregate() (stop func()) {
	e.t.Helper()
	agg, err := healthcheck.NewAggregator(healthcheck.AggregatorConfig{
		NATS: e.nc, Store: e.svc, PollInterval: 50 * time.Millisecond, FlushInterval: 20 * time.Millisecond,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	stop = e.run(func(ctx context.Context) { _ = e.svc.RunLeader(ctx, controlplane.DefaultHealthLockKey, agg.Run) })
	if e.status == nil {
		e.status = event.NewHealthWatcher()
		if err := e.status.Start(e.ctx, e.js); err != nil {
			e.t.Fatal(err)
		}
	}
	return stop
}

// run runs fn in the background until the test ends or stop is called;
// stop waits for fn to return.
func (e *env) run(fn func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(ctx)
	}()
	stop = func() {
		cancel()
		<-done
	}
	e.t.Cleanup(stop)
	return stop
}

// checker starts a checker with short timeouts and no jitter.
func (e *env) checker(region, node string) *healthcheck.Checker {
	e.t.Helper()
	c, err := healthcheck.NewChecker(healthcheck.Config{
		Region: region, NodeID: node, NATS: e.nc, AllowPrivateTargets: true,
		ConnectTimeout: time.Second, ResponseTimeout: 500 * time.Millisecond, TCPTimeout: time.Second,
		HeartbeatInterval: 100 * time.Millisecond,
		Jitter:            func(time.Duration) time.Duration { return 0 },
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.run(func(ctx context.Context) { _ = c.Run(ctx) })
	return c
}

func (e *env) create(ref string, cfg healthcfg.Config) controlplane.HealthCheck {
	e.t.Helper()
	hc, err := e.svc.CreateHealthCheck(e.ctx, e.tenant, controlplane.CreateHealthCheckInput{CallerReference: ref, Config: cfg})
	if err != nil {
		e.t.Fatalf("create %s: %v", ref, err)
	}
	return hc
}

// settle bounds every wait for the checkers, the aggregator and the feed.
const settle = 20 * time.Second

// waitStatus waits until the check's status is healthy in PostgreSQL and
// in the nameservers' feed.
func (e *env) waitStatus(id string, healthy bool) {
	e.t.Helper()
	testkit.Eventually(e.t, settle, func() error {
		st, err := e.svc.HealthCheckStatus(e.ctx, e.tenant, id)
		if err != nil {
			return err
		}
		feed, known := e.status.Snapshot()[id]
		if st.Healthy != healthy || !known || feed != healthy {
			return fmt.Errorf("check %s healthy=%v: database %v, feed %v (known %v); checkers %+v", id, healthy, st.Healthy, feed, known, st.Checkers)
		}
		return nil
	})
}

// httpTarget is a local HTTP(S) server whose health the test switches.
type httpTarget struct {
	srv  *httptest.Server
	code atomic.Int32
	body atomic.Value // string
}

func newHTTPTarget(t *testing.T, useTLS bool) *httpTarget {
	h := &httpTarget{}
	h.code.Store(200)
	h.body.Store("status: all systems go")
	h.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(int(h.code.Load()))
		_, _ = io.WriteString(w, h.body.Load().(string))
	}))
	h.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if useTLS {
		h.srv.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
		h.srv.StartTLS()
	} else {
		h.srv.Start()
	}
	t.Cleanup(h.srv.Close)
	return h
}

func (h *httpTarget) port() int {
	return h.srv.Listener.Addr().(*net.TCPAddr).Port
}

// TestIntegrationFailover runs three regions of checkers and the
// aggregator against real HTTP, HTTPS and TCP servers going down and up.
func TestIntegrationFailover(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.aggregate()
	for _, r := range []string{"us-east-1", "eu-west-1", "ap-southeast-1"} {
		e.checker(r, "node-"+r)
	}

	web := newHTTPTarget(t, false)
	secure := newHTTPTarget(t, true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tcpAddr := ln.Addr().String()
	serve := func(ln net.Listener) {
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				_ = c.Close()
			}
		}()
	}
	serve(ln)
	_, tcpPortS, _ := net.SplitHostPort(tcpAddr)
	tcpPort, _ := strconv.Atoi(tcpPortS)

	httpCheck := e.create("http", healthcfg.Config{Type: "HTTP", IPAddress: "127.0.0.1", Port: web.port(),
		ResourcePath: "/health", RequestInterval: 1, FailureThreshold: 2})
	strCheck := e.create("https-str", healthcfg.Config{Type: "HTTPS_STR_MATCH", IPAddress: "127.0.0.1", Port: secure.port(),
		SearchString: "all systems go", RequestInterval: 1, FailureThreshold: 1, FQDN: "secure.example.com", EnableSNI: true})
	tcpCheck := e.create("tcp", healthcfg.Config{Type: "TCP", IPAddress: "127.0.0.1", Port: tcpPort,
		RequestInterval: 1, FailureThreshold: 1})

	// Every region reports, and everything is healthy.
	for _, id := range []string{httpCheck.ID, strCheck.ID, tcpCheck.ID} {
		// Wait until three regions report the check.
		testkit.Eventually(t, settle, func() error {
			st, err := e.svc.HealthCheckStatus(e.ctx, e.tenant, id)
			if err != nil {
				return err
			}
			if len(st.Checkers) != 3 {
				return fmt.Errorf("%d checkers", len(st.Checkers))
			}
			for _, c := range st.Checkers {
				if !c.Healthy || !strings.HasPrefix(c.Reason, "Success") {
					return fmt.Errorf("checker %+v", c)
				}
			}
			return nil
		})
		e.waitStatus(id, true)
	}

	// HTTP: a 503 fails every region; after two results the check flips.
	web.code.Store(503)
	e.waitStatus(httpCheck.ID, false)
	st, err := e.svc.HealthCheckStatus(e.ctx, e.tenant, httpCheck.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range st.Checkers {
		if c.LastFailureAt == nil || !strings.Contains(c.LastFailureReason, "HTTP Status Code 503") {
			t.Errorf("checker %s: last failure %v %q", c.Region, c.LastFailureAt, c.LastFailureReason)
		}
	}
	web.code.Store(302) // a redirect counts as healthy
	e.waitStatus(httpCheck.ID, true)
	hist, _, err := e.svc.HealthCheckHistory(e.ctx, e.tenant, httpCheck.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || !hist[0].Healthy || hist[1].Healthy || !hist[2].Healthy || hist[2].Reason != "created" {
		t.Errorf("history %+v", hist)
	}

	// HTTPS string match: the body changes, then comes back.
	secure.body.Store("status: degraded")
	e.waitStatus(strCheck.ID, false)
	secure.body.Store("status: all systems go")
	e.waitStatus(strCheck.ID, true)

	// TCP: the listener goes away, then comes back on the same port.
	_ = ln.Close()
	e.waitStatus(tcpCheck.ID, false)
	ln2, err := net.Listen("tcp", tcpAddr)
	if err != nil {
		t.Fatalf("re-listen on %s: %v", tcpAddr, err)
	}
	t.Cleanup(func() { _ = ln2.Close() })
	serve(ln2)
	e.waitStatus(tcpCheck.ID, true)

	// A disabled check stops being probed and is healthy; disabled and
	// inverted, it is unhealthy.
	web.code.Store(500)
	e.waitStatus(httpCheck.ID, false)
	yes := true
	if _, err := e.svc.UpdateHealthCheck(e.ctx, e.tenant, httpCheck.ID, controlplane.UpdateHealthCheckInput{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(httpCheck.ID, true)
	if _, err := e.svc.UpdateHealthCheck(e.ctx, e.tenant, httpCheck.ID, controlplane.UpdateHealthCheckInput{Inverted: &yes}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(httpCheck.ID, false)

	// Deleting a check removes it from the feed.
	if err := e.svc.DeleteHealthCheck(e.ctx, e.tenant, tcpCheck.ID); err != nil {
		t.Fatal(err)
	}
	// Wait until the deleted check leaves the feed.
	testkit.Eventually(t, settle, func() error {
		if _, ok := e.status.Snapshot()[tcpCheck.ID]; ok {
			return errors.New("still there")
		}
		return nil
	})
}

// observe publishes a synthetic observation, as a checker of region would.
func (e *env) observe(id, region string, ok bool) time.Time {
	e.t.Helper()
	now := time.Now().UTC()
	reason := "Success: HTTP Status Code 200, OK"
	if !ok {
		reason = "Failure: HTTP Status Code 500, Internal Server Error"
	}
	b, err := event.HealthObservation{CheckID: id, Region: region, NodeID: "test-" + region, OK: ok, Reason: reason, CheckedAt: now}.Encode()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.nc.Publish(event.HealthObservedSubject(id), b); err != nil {
		e.t.Fatal(err)
	}
	return now
}

// settled waits until region's observation at is stored, so that the
// status read next reflects it (views and transitions are stored together).
func (e *env) settled(id, region string, at time.Time) controlplane.HealthCheckStatus {
	e.t.Helper()
	var out controlplane.HealthCheckStatus
	// Wait until the observation is stored.
	testkit.Eventually(e.t, settle, func() error {
		st, err := e.svc.HealthCheckStatus(e.ctx, e.tenant, id)
		if err != nil {
			return err
		}
		for _, c := range st.Checkers {
			if c.Region == region && !c.CheckedAt.Before(at.Truncate(time.Microsecond)) {
				out = st
				return nil
			}
		}
		return errors.New("not yet")
	})
	return out
}

// waitKnown waits until the aggregator has picked up a new check.
func (e *env) waitKnown(id string) {
	e.t.Helper()
	// Wait until the aggregator knows the check.
	testkit.Eventually(e.t, settle, func() error {
		if _, ok := e.status.Snapshot()[id]; !ok {
			return errors.New("not in the feed")
		}
		return nil
	})
}

// TestIntegrationAggregationRules feeds the aggregator observations from
// several regions' checkers and checks Route 53's rules.
func TestIntegrationAggregationRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.aggregate()
	regions := []string{"r1", "r2", "r3", "r4", "r5", "r6"}

	t.Run("18-percent", func(t *testing.T) {
		e := e.with(t)
		hc := e.create("pct", healthcfg.Config{Type: "HTTP", IPAddress: "127.0.0.1", RequestInterval: 10, FailureThreshold: 1})
		e.waitKnown(hc.ID)
		for _, r := range regions {
			e.observe(hc.ID, r, false)
		}
		e.waitStatus(hc.ID, false)
		// 1 of 6 healthy is 16.7%: not more than 18%.
		if st := e.settled(hc.ID, "r1", e.observe(hc.ID, "r1", true)); st.Healthy {
			t.Fatalf("1 of 6 healthy: got healthy; %+v", st)
		}
		// 2 of 6 is 33%.
		e.observe(hc.ID, "r2", true)
		e.waitStatus(hc.ID, true)
		// Back to 1 of 6.
		e.observe(hc.ID, "r2", false)
		e.waitStatus(hc.ID, false)
	})

	t.Run("failure-threshold", func(t *testing.T) {
		e := e.with(t)
		hc := e.create("thr", healthcfg.Config{Type: "HTTP", IPAddress: "127.0.0.1", RequestInterval: 10, FailureThreshold: 3})
		e.waitKnown(hc.ID)
		for i := 0; i < 2; i++ {
			if st := e.settled(hc.ID, "r1", e.observe(hc.ID, "r1", false)); !st.Healthy {
				t.Fatalf("after %d failures: unhealthy", i+1)
			}
		}
		// A pass resets the streak.
		e.settled(hc.ID, "r1", e.observe(hc.ID, "r1", true))
		for i := 0; i < 2; i++ {
			if st := e.settled(hc.ID, "r1", e.observe(hc.ID, "r1", false)); !st.Healthy {
				t.Fatalf("after a pass and %d failures: unhealthy", i+1)
			}
		}
		e.observe(hc.ID, "r1", false)
		e.waitStatus(hc.ID, false)
		// Coming back takes three passes too.
		for i := 0; i < 2; i++ {
			if st := e.settled(hc.ID, "r1", e.observe(hc.ID, "r1", true)); st.Healthy {
				t.Fatalf("after %d passes: healthy", i+1)
			}
		}
		e.observe(hc.ID, "r1", true)
		e.waitStatus(hc.ID, true)
	})

	t.Run("inverted", func(t *testing.T) {
		e := e.with(t)
		hc := e.create("inv", healthcfg.Config{Type: "TCP", IPAddress: "127.0.0.1", Port: 9, RequestInterval: 10, FailureThreshold: 1, Inverted: true})
		if hc.Healthy {
			t.Fatal("a new inverted check starts unhealthy")
		}
		e.waitKnown(hc.ID)
		e.waitStatus(hc.ID, false)
		e.observe(hc.ID, "r1", false)
		e.waitStatus(hc.ID, true)
		e.observe(hc.ID, "r1", true)
		e.waitStatus(hc.ID, false)
	})

	t.Run("disabled", func(t *testing.T) {
		e := e.with(t)
		hc := e.create("dis", healthcfg.Config{Type: "HTTP", IPAddress: "127.0.0.1", RequestInterval: 10, FailureThreshold: 1, Disabled: true})
		e.waitKnown(hc.ID)
		e.observe(hc.ID, "r1", false) // ignored: a disabled check is not probed
		e.waitStatus(hc.ID, true)
		no := false
		if _, err := e.svc.UpdateHealthCheck(e.ctx, e.tenant, hc.ID, controlplane.UpdateHealthCheckInput{Disabled: &no}); err != nil {
			t.Fatal(err)
		}
		// Wait until the enabled check takes observations.
		testkit.Eventually(t, settle, func() error {
			e.observe(hc.ID, "r1", false)
			st, err := e.svc.HealthCheckStatus(e.ctx, e.tenant, hc.ID)
			if err != nil || st.Healthy {
				return fmt.Errorf("healthy %v, err %v", st.Healthy, err)
			}
			return nil
		})
		e.waitStatus(hc.ID, false)
	})

	t.Run("calculated", func(t *testing.T) {
		e := e.with(t)
		a := e.create("child-a", healthcfg.Config{Type: "HTTP", IPAddress: "127.0.0.1", RequestInterval: 10, FailureThreshold: 1})
		b := e.create("child-b", healthcfg.Config{Type: "HTTP", IPAddress: "127.0.0.1", RequestInterval: 10, FailureThreshold: 1})
		d := e.create("child-disabled", healthcfg.Config{Type: "HTTP", IPAddress: "127.0.0.1", RequestInterval: 10, FailureThreshold: 1, Disabled: true, Inverted: true})
		two := e.create("calc-2", healthcfg.Config{Type: "CALCULATED", ChildHealthChecks: []string{a.ID, b.ID}, HealthThreshold: 2})
		zero := e.create("calc-0", healthcfg.Config{Type: "CALCULATED", ChildHealthChecks: []string{a.ID}, HealthThreshold: 0})
		over := e.create("calc-3", healthcfg.Config{Type: "CALCULATED", ChildHealthChecks: []string{a.ID, b.ID}, HealthThreshold: 3})
		withDisabled := e.create("calc-d", healthcfg.Config{Type: "CALCULATED", ChildHealthChecks: []string{a.ID, d.ID}, HealthThreshold: 2})
		e.waitStatus(two.ID, true)
		e.waitStatus(over.ID, false) // more than the children: never healthy
		e.waitStatus(withDisabled.ID, true)
		e.observe(a.ID, "r1", false)
		e.waitStatus(a.ID, false)
		e.waitStatus(two.ID, false)
		e.waitStatus(zero.ID, true) // 0: always healthy
		e.waitStatus(withDisabled.ID, false)
		e.observe(a.ID, "r1", true)
		e.waitStatus(two.ID, true)
		hist, _, err := e.svc.HealthCheckHistory(e.ctx, e.tenant, two.ID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) < 3 || !strings.Contains(hist[1].Reason, "1 of 2 child health checks are healthy") {
			t.Errorf("history %+v", hist)
		}
	})
}

// TestIntegrationCheckersShareRegion runs two checkers in one region and
// one in another: each region probes every check, the two checkers of a
// region split them, and a survivor takes over its peer's share.
func TestIntegrationCheckersShareRegion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.aggregate() // it mirrors the configurations for the checkers
	web := newHTTPTarget(t, false)
	var ids []string
	for i := 0; i < 8; i++ {
		hc := e.create(fmt.Sprintf("share-%d", i), healthcfg.Config{Type: "HTTP", IPAddress: "127.0.0.1",
			Port: web.port(), RequestInterval: 1, FailureThreshold: 1})
		ids = append(ids, hc.ID)
	}
	a := e.checker("eu-west-1", "a")
	ctxB, stopB := context.WithCancel(e.ctx)
	b, err := healthcheck.NewChecker(healthcheck.Config{Region: "eu-west-1", NodeID: "b", NATS: e.nc, AllowPrivateTargets: true,
		HeartbeatInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	doneB := make(chan struct{})
	go func() {
		defer close(doneB)
		_ = b.Run(ctxB)
	}()
	t.Cleanup(func() {
		stopB()
		<-doneB
	})
	other := e.checker("us-east-1", "c")

	// Wait until the region's checks are split.
	testkit.Eventually(t, settle, func() error {
		as, bs := a.Assigned(), b.Assigned()
		seen := map[string]int{}
		for _, id := range append(as, bs...) {
			seen[id]++
		}
		if len(as) == 0 || len(bs) == 0 || len(seen) != len(ids) || len(as)+len(bs) != len(ids) {
			return fmt.Errorf("a %d, b %d, distinct %d", len(as), len(bs), len(seen))
		}
		if len(other.Assigned()) != len(ids) {
			return fmt.Errorf("the other region probes %d", len(other.Assigned()))
		}
		return nil
	})
	stopB()
	<-doneB
	// Wait until the survivor takes over.
	testkit.Eventually(t, settle, func() error {
		if n := len(a.Assigned()); n != len(ids) {
			return fmt.Errorf("a probes %d", n)
		}
		return nil
	})
}

// TestIntegrationLeaderTakeover checks that RunLeader runs one leader at a
// time and hands over when the leader stops.
func TestIntegrationLeaderTakeover(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const key = 42
	var active, maxActive, runs atomic.Int32
	lead := func(ctx context.Context) error {
		n := active.Add(1)
		defer active.Add(-1)
		runs.Add(1)
		for {
			if m := maxActive.Load(); n > m && !maxActive.CompareAndSwap(m, n) {
				continue
			}
			break
		}
		<-ctx.Done()
		return nil
	}
	ctx1, stop1 := context.WithCancel(e.ctx)
	done1 := make(chan struct{})
	go func() { defer close(done1); _ = e.svc.RunLeader(ctx1, key, lead) }()
	// Wait for the first leader.
	testkit.Eventually(t, settle, func() error {
		if runs.Load() != 1 {
			return errors.New("no leader yet")
		}
		return nil
	})
	e.run(func(ctx context.Context) { _ = e.svc.RunLeader(ctx, key, lead) })
	stop1()
	<-done1
	// Wait for the second leader.
	testkit.Eventually(t, settle, func() error {
		if runs.Load() != 2 || active.Load() != 1 {
			return fmt.Errorf("runs %d, active %d", runs.Load(), active.Load())
		}
		return nil
	})
	if maxActive.Load() != 1 {
		t.Errorf("%d leaders at once", maxActive.Load())
	}
}

// TestIntegrationAggregatorResume stops the aggregator in the middle of a
// failure streak: the next leader resumes from the stored region views.
func TestIntegrationAggregatorResume(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	stop := e.aggregate()
	hc := e.create("resume", healthcfg.Config{Type: "HTTP", IPAddress: "127.0.0.1", RequestInterval: 10, FailureThreshold: 3})
	e.waitKnown(hc.ID)
	e.settled(hc.ID, "r1", e.observe(hc.ID, "r1", false))
	e.settled(hc.ID, "r1", e.observe(hc.ID, "r1", false))
	kv, err := e.js.KeyValue(e.ctx, event.HealthStatusBucket)
	if err != nil {
		t.Fatal(err)
	}
	before, err := kv.Get(e.ctx, hc.ID)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	e.aggregate()
	// A new leader re-publishes every status once it has loaded its state.
	// Wait until the new leader is ready.
	testkit.Eventually(t, settle, func() error {
		now, err := kv.Get(e.ctx, hc.ID)
		if err != nil || now.Revision() <= before.Revision() {
			return fmt.Errorf("not yet (%v)", err)
		}
		return nil
	})
	// The third failure completes the streak the first leader began.
	if st := e.settled(hc.ID, "r1", e.observe(hc.ID, "r1", false)); st.Healthy {
		t.Fatalf("after three failures across leaders: healthy; %+v", st)
	}
	hist, _, err := e.svc.HealthCheckHistory(e.ctx, e.tenant, hc.ID, 0, 10)
	if err != nil || len(hist) != 2 || hist[0].Healthy {
		t.Fatalf("history %+v, %v", hist, err)
	}
}

// TestIntegrationCheckerJitter checks that every check's first probe is
// offset by the injected jitter, drawn over the check's own interval.
func TestIntegrationCheckerJitter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.aggregate()
	web := newHTTPTarget(t, false)
	for i := 0; i < 5; i++ {
		e.create(fmt.Sprintf("j%d", i), healthcfg.Config{Type: "HTTP", IPAddress: "127.0.0.1",
			Port: web.port(), RequestInterval: 1 + i%2*9, FailureThreshold: 1})
	}
	var calls atomic.Int32
	var bad atomic.Value
	c, err := healthcheck.NewChecker(healthcheck.Config{Region: "r", NodeID: "n", NATS: e.nc, AllowPrivateTargets: true,
		Jitter: func(d time.Duration) time.Duration {
			if d != time.Second && d != 10*time.Second {
				bad.Store(d)
			}
			calls.Add(1)
			return d / 2
		}})
	if err != nil {
		t.Fatal(err)
	}
	e.run(func(ctx context.Context) { _ = c.Run(ctx) })
	// Wait until every check is jittered.
	testkit.Eventually(t, settle, func() error {
		if n := calls.Load(); n != 5 {
			return fmt.Errorf("%d jitter calls", n)
		}
		return nil
	})
	if d := bad.Load(); d != nil {
		t.Errorf("jitter asked for interval %v", d)
	}
}

// observeTimed publishes an observation at a given time with probe times.
func (e *env) observeTimed(id, region string, ok bool, at time.Time, connectMS, ttfbMS *float64) {
	e.t.Helper()
	b, err := event.HealthObservation{CheckID: id, Region: region, NodeID: "test-" + region, OK: ok,
		Reason: "test", CheckedAt: at, ConnectMS: connectMS, FirstByteMS: ttfbMS}.Encode()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.nc.Publish(event.HealthObservedSubject(id), b); err != nil {
		e.t.Fatal(err)
	}
}

// TestIntegrationProbeMetrics: the aggregator rolls known observations up
// into the check's metrics, and a real checker's probes of a local HTTP
// server give it connection and first-byte times.
func TestIntegrationProbeMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.aggregate()
	hc := e.create("metrics", healthcfg.Config{Type: healthcfg.HTTP, IPAddress: "127.0.0.1", Port: 9, RequestInterval: 30, FailureThreshold: 1})
	e.waitKnown(hc.ID)
	f := func(v float64) *float64 { return &v }
	m := time.Now().UTC().Truncate(time.Minute).Add(-10 * time.Minute)
	e.observeTimed(hc.ID, "a", true, m.Add(1*time.Second), f(10), f(30))
	e.observeTimed(hc.ID, "a", true, m.Add(2*time.Second), f(20), f(50))
	e.observeTimed(hc.ID, "b", false, m.Add(1*time.Second), nil, nil) // threshold 1: b's view turns unhealthy
	e.observeTimed(hc.ID, "b", true, m.Add(2*time.Second), f(30), nil)
	e.observeTimed(hc.ID, "a", true, m.Add(-time.Second), f(999), f(999)) // older than a's view: not applied
	series := func(metric, region string) ([]controlplane.Datapoint, error) {
		s, err := e.svc.QueryMetrics(e.ctx, e.tenant, controlplane.MetricQuery{Namespace: controlplane.NamespaceHealthCheck,
			ResourceID: hc.ID, Metric: metric, Region: region, Start: m, End: m.Add(time.Minute), Period: time.Minute})
		return s.Datapoints, err
	}
	// a: 2 of 2 healthy, b: 1 of 2; connects (10+20+30)/3, first bytes (30+50)/2.
	for _, tc := range []struct {
		metric, region string
		want           float64
	}{
		{controlplane.MetricHealthPercentageHealthy, "", 75},
		{controlplane.MetricHealthPercentageHealthy, "b", 50},
		{controlplane.MetricHealthConnectionTime, "", 20},
		{controlplane.MetricHealthConnectionTime, "a", 15},
		{controlplane.MetricHealthTimeToFirstByte, "", 40},
	} {
		testkit.Eventually(t, settle, func() error {
			dps, err := series(tc.metric, tc.region)
			if err != nil {
				return err
			}
			if len(dps) != 1 || !dps[0].Timestamp.Equal(m) || dps[0].Value != tc.want {
				return fmt.Errorf("%s region %q: got %+v, want %v at %s", tc.metric, tc.region, dps, tc.want, m)
			}
			return nil
		})
	}

	// A real checker measures a real server.
	target := newHTTPTarget(t, false)
	e.checker("us-east-1", "node-1")
	live := e.create("live", healthcfg.Config{Type: healthcfg.HTTP, IPAddress: "127.0.0.1", Port: target.port(), RequestInterval: 1, FailureThreshold: 1})
	for _, metric := range []string{controlplane.MetricHealthConnectionTime, controlplane.MetricHealthTimeToFirstByte, controlplane.MetricHealthPercentageHealthy} {
		testkit.Eventually(t, settle, func() error {
			now := time.Now().UTC()
			s, err := e.svc.QueryMetrics(e.ctx, e.tenant, controlplane.MetricQuery{Namespace: controlplane.NamespaceHealthCheck,
				ResourceID: live.ID, Metric: metric, Region: "us-east-1", Start: now.Add(-5 * time.Minute), End: now, Period: 5 * time.Minute})
			if err != nil {
				return err
			}
			if len(s.Datapoints) == 0 {
				return fmt.Errorf("%s: no datapoint yet", metric)
			}
			for _, d := range s.Datapoints {
				if d.Value <= 0 {
					return fmt.Errorf("%s: %+v", metric, s.Datapoints)
				}
			}
			return nil
		})
	}
}

// hookReceiver is a local webhook target: it checks the signature and
// keeps the notifications.
type hookReceiver struct {
	mu  sync.Mutex
	got []controlplane.HealthCheckNotification
	bad int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var n controlplane.HealthCheckNotification
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Header.Get(controlplane.SignatureHeader) != controlplane.Sign("hook-secret", body) || json.Unmarshal(body, &n) != nil {
		h.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	h.got = append(h.got, n)
}

func (h *hookReceiver) statuses() (out []string, bad int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range h.got {
		out = append(out, n.OldStatus+">"+n.Status)
	}
	return out, h.bad
}

// TestIntegrationNotifyOnStatusChange: checkers in three regions probe a
// local HTTP server; it goes down and the check's webhook receives one
// signed notification, the notifier's leader changes, and the recovery
// brings one more.
func TestIntegrationNotifyOnStatusChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.aggregate()
	for _, r := range []string{"us-east-1", "eu-west-1", "ap-southeast-1"} {
		e.checker(r, "node-"+r)
	}
	hooks := &hookReceiver{}
	hookSrv := httptest.NewServer(hooks)
	t.Cleanup(hookSrv.Close)
	target := newHTTPTarget(t, false)
	hc, err := e.svc.CreateHealthCheck(e.ctx, e.tenant, controlplane.CreateHealthCheckInput{CallerReference: "notify",
		Config: healthcfg.Config{Type: healthcfg.HTTP, IPAddress: "127.0.0.1", Port: target.port(), RequestInterval: 1, FailureThreshold: 1},
		Notify: []controlplane.AlarmAction{{Webhook: &controlplane.Webhook{URL: hookSrv.URL + "/hook", Secret: "hook-secret"}}}})
	if err != nil {
		t.Fatal(err)
	}
	notifier := func() (stop func()) {
		return e.run(func(ctx context.Context) {
			_ = e.svc.RunLeader(ctx, controlplane.DefaultAlarmLockKey, func(ctx context.Context) error { return e.svc.RunAlarms(ctx, 20*time.Millisecond) })
		})
	}
	stopFirst := notifier()
	received := func(want ...string) {
		t.Helper()
		testkit.Eventually(t, settle, func() error {
			got, bad := hooks.statuses()
			if fmt.Sprint(got) != fmt.Sprint(want) || bad != 0 {
				return fmt.Errorf("received %v (%d badly signed), want %v", got, bad, want)
			}
			return nil
		})
	}
	e.waitStatus(hc.ID, true)
	target.code.Store(503)
	e.waitStatus(hc.ID, false)
	received("HEALTHY>UNHEALTHY")
	// The notifier's leader goes; a new one takes over.
	stopFirst()
	notifier()
	target.code.Store(200)
	e.waitStatus(hc.ID, true)
	received("HEALTHY>UNHEALTHY", "UNHEALTHY>HEALTHY")
	// Every notification is delivered: nothing more is on its way.
	testkit.Eventually(t, settle, func() error {
		h, _, err := e.svc.HealthCheckHistory(e.ctx, e.tenant, hc.ID, 0, 10)
		if err != nil {
			return err
		}
		if len(h) != 3 || len(h[0].Deliveries) != 1 || h[0].Deliveries[0].Status != "delivered" ||
			len(h[1].Deliveries) != 1 || h[1].Deliveries[0].Status != "delivered" {
			return fmt.Errorf("history %+v", h)
		}
		return nil
	})
	if got, _ := hooks.statuses(); len(got) != 2 {
		t.Errorf("received %v", got)
	}
	hooks.mu.Lock()
	defer hooks.mu.Unlock()
	if a, b := hooks.got[0], hooks.got[1]; a.HealthCheckID != hc.ID || b.HealthCheckID != hc.ID || b.TransitionID <= a.TransitionID {
		t.Errorf("notifications %+v", hooks.got)
	}
}
