package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/dataplane"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/healthcfg"
	"github.com/waymark-dns/waymark/healthcheck"
	"github.com/waymark-dns/waymark/internal/testkit"
	"github.com/waymark-dns/waymark/zonecfg"
)

// The health checks of these tests: probed every second, unhealthy after
// two failures in a row. Route 53's fastest is 10 s × 1; the operator
// option MinRequestInterval allows 1 s for tests and development.
const (
	hcInterval  = 1 // seconds
	hcThreshold = 2
	// flipDeadline bounds every wait for DNS to follow a health change.
	// The target is interval × threshold + 1 s (3 s); the deadline is
	// generous because the machine is shared and timings are not asserted.
	flipDeadline = 30 * time.Second
)

// checkerRegions are the health checker regions run in-process, one
// checker each, as `waymark dev` does.
var checkerRegions = [...]string{"us-east-1", "eu-west-1", "ap-southeast-1"}

// healthCluster is a cluster with health checking wired as cmd/waymark
// wires it: the aggregator under the leader lock, one checker per region,
// and nameservers that evaluate routing with the health feed
// (dataplane.StartRouting before the sync node).
type healthCluster struct {
	*cluster

	// The test's own view of the status bucket, to time the transitions
	// the aggregator publishes (what the nameservers watch too).
	mu          sync.Mutex
	transitions map[string][]transition // check id → transitions seen
}

type transition struct {
	healthy bool
	at      time.Time
}

func newHealthCluster(tb testing.TB, nameservers int) *healthCluster {
	tb.Helper()
	c := &healthCluster{
		cluster:     newCluster(tb, clusterConfig{HealthChecks: controlplane.HealthCheckOptions{Options: healthcfg.Options{AllowPrivateTargets: true, MinRequestInterval: 1}}}),
		transitions: map[string][]transition{},
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	tb.Cleanup(func() { cancel(); wg.Wait() })

	// The aggregator with its production defaults. The advisory lock is
	// database-wide, and every test schema lives in the same database:
	// with the default key this test's aggregator would wait while
	// another package's test (or a parallel test here) leads. A key of
	// its own keeps the election to this cluster's processes.
	agg, err := healthcheck.NewAggregator(healthcheck.AggregatorConfig{NATS: c.connect(), Store: c.svc})
	if err != nil {
		tb.Fatal(err)
	}
	lockKey := int64(rand.Uint64() >> 1)
	wg.Go(func() { _ = c.svc.RunLeader(ctx, lockKey, agg.Run) })

	for _, region := range checkerRegions {
		hc, err := healthcheck.NewChecker(healthcheck.Config{
			Region: region, NodeID: "e2e-hc-" + region, NATS: c.connect(), AllowPrivateTargets: true,
		})
		if err != nil {
			tb.Fatal(err)
		}
		wg.Go(func() { _ = hc.Run(ctx) })
	}

	w := event.NewHealthWatcher()
	w.OnChange = func(id string, healthy bool) {
		now := time.Now()
		c.mu.Lock()
		c.transitions[id] = append(c.transitions[id], transition{healthy, now})
		c.mu.Unlock()
	}
	js, err := jetstream.New(c.connect())
	if err != nil {
		tb.Fatal(err)
	}
	if err := w.Start(ctx, js); err != nil {
		tb.Fatalf("health watcher: %v", err)
	}

	for i := range nameservers {
		c.startRoutedNameserver(fmt.Sprintf("ns%d", i+1), checkerRegions[i%len(checkerRegions)])
	}
	return c
}

// startRoutedNameserver runs a nameserver as cmd/waymark's does: DNS
// server, routing inputs (the health feed over NATS), then the sync node.
func (c *healthCluster) startRoutedNameserver(id, region string) *nameserver {
	c.t.Helper()
	store := dataplane.NewStore()
	srv := dataplane.NewServer(store, dataplane.Config{Addr: "127.0.0.1:0"})
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Start(ctx); err != nil {
		cancel()
		c.t.Fatalf("start DNS server %s: %v", id, err)
	}
	nc := c.connect()
	stopRouting, err := dataplane.StartRouting(ctx, nc, srv.Handler(), dataplane.RoutingOptions{
		NodeID: id, Region: region, RetryInterval: 100 * time.Millisecond,
	})
	if err != nil {
		cancel()
		c.t.Fatalf("StartRouting %s: %v", id, err)
	}
	node, err := dataplane.NewNode(dataplane.NodeConfig{
		NodeID: id, Region: region, NATS: nc,
		SnapshotURL: c.api.URL, AdminToken: adminToken,
		Store: store, SetReady: srv.SetReady,
		HeartbeatInterval: 100 * time.Millisecond, RetryInterval: 100 * time.Millisecond,
	})
	if err != nil {
		cancel()
		stopRouting()
		c.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = node.Run(ctx) }()
	var once sync.Once
	ns := &nameserver{id: id, region: region, node: node, srv: srv}
	ns.stop = func() {
		once.Do(func() {
			cancel()
			<-done
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			_ = srv.Shutdown(sctx)
			stopRouting()
		})
	}
	c.t.Cleanup(ns.stop)
	c.mu.Lock()
	c.ns[id] = ns
	c.mu.Unlock()
	return ns
}

// createCheck creates an HTTP check of ep and waits until every checker
// region has probed it, so that a later failure is timed from steady
// state rather than from the check's creation.
func (c *healthCluster) createCheck(ref string, ep *endpoint) string {
	c.t.Helper()
	host, port, _ := net.SplitHostPort(ep.addr)
	p, err := strconv.Atoi(port)
	if err != nil {
		c.t.Fatal(err)
	}
	hc, err := c.svc.CreateHealthCheck(context.Background(), c.tenant, controlplane.CreateHealthCheckInput{
		CallerReference: ref,
		Config: healthcfg.Config{
			Type: "HTTP", IPAddress: host, Port: p, ResourcePath: "/health",
			RequestInterval: hcInterval, FailureThreshold: hcThreshold,
		},
	})
	if err != nil {
		c.t.Fatalf("CreateHealthCheck %s: %v", ref, err)
	}
	testkit.Eventually(c.t, flipDeadline, func() error {
		st, err := c.svc.HealthCheckStatus(context.Background(), c.tenant, hc.ID)
		if err != nil {
			return err
		}
		if len(st.Checkers) != len(checkerRegions) || !st.Healthy {
			return fmt.Errorf("check %s: healthy %v, %d regions reporting", ref, st.Healthy, len(st.Checkers))
		}
		return nil
	})
	return hc.ID
}

// change applies a batch and waits until every nameserver has it.
func (c *healthCluster) change(zoneID string, sets ...zonecfg.RRSet) {
	c.t.Helper()
	b := controlplane.ChangeBatch{}
	for _, rs := range sets {
		b.Changes = append(b.Changes, controlplane.RRSetChange{Action: controlplane.ActionCreate, RRSet: rs})
	}
	ch, err := c.svc.ChangeRRSets(context.Background(), c.tenant, zoneID, b)
	if err != nil {
		c.t.Fatalf("ChangeRRSets: %v", err)
	}
	c.waitInSync(ch, 20*time.Second)
}

// transitionAfter returns when the status bucket first showed check id
// with the given status after t (zero if it has not yet).
func (c *healthCluster) transitionAfter(id string, healthy bool, t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, tr := range c.transitions[id] {
		if tr.healthy == healthy && !tr.at.Before(t) {
			return tr.at
		}
	}
	return time.Time{}
}

// flip is one measured change of answer: from the endpoint's change to
// the aggregator's published status (detect) and to the last nameserver
// answering the new address over UDP (dns).
type flip struct {
	detect, dns time.Duration
}

func (f flip) String() string {
	return fmt.Sprintf("status published after %v, every nameserver answering after %v",
		f.detect.Round(time.Millisecond), f.dns.Round(time.Millisecond))
}

// waitFlip polls every nameserver until each answers name with exactly
// want, and returns how long after since the last one started to, and
// when the status of check went to healthy in the bucket. A nameserver
// is counted from the first answer with want; the final pass requires
// all of them at once, so one that flipped back would be caught.
func (c *healthCluster) waitFlip(check string, healthy bool, name, want string, since time.Time) flip {
	c.t.Helper()
	servers := c.nameservers()
	first := map[string]time.Time{}
	testkit.Eventually(c.t, flipDeadline, func() error {
		var wrong []string
		for _, ns := range servers {
			got, err := answersA(ns, name)
			now := time.Now()
			if err == nil && len(got) == 1 && got[0] == want {
				if _, ok := first[ns.id]; !ok {
					first[ns.id] = now
				}
				continue
			}
			wrong = append(wrong, fmt.Sprintf("%s: %v %v", ns.id, got, err))
		}
		if len(wrong) > 0 {
			return fmt.Errorf("%s not yet %s everywhere: %s", name, want, strings.Join(wrong, "; "))
		}
		return nil
	})
	var last time.Time
	for _, at := range first {
		if at.After(last) {
			last = at
		}
	}
	f := flip{dns: last.Sub(since)}
	if at := c.transitionAfter(check, healthy, since); !at.IsZero() {
		f.detect = at.Sub(since)
	}
	return f
}

// sample asks every nameserver n times for name's A records and returns
// how often each address came back, over all of them.
func (c *healthCluster) sample(name string, n int) map[string]int {
	c.t.Helper()
	seen := map[string]int{}
	for _, ns := range c.nameservers() {
		for range n {
			got, err := answersA(ns, name)
			if err != nil {
				c.t.Fatalf("%s: %v", ns.id, err)
			}
			for _, ip := range got {
				seen[ip]++
			}
		}
	}
	return seen
}

// seenSet returns the sorted addresses of a sample.
func seenSet(seen map[string]int) []string {
	out := make([]string, 0, len(seen))
	for ip := range seen {
		out = append(out, ip)
	}
	slices.Sort(out)
	return out
}

// waitSeen polls until n queries per nameserver return exactly the
// addresses want between them.
func (c *healthCluster) waitSeen(name string, n int, want ...string) {
	c.t.Helper()
	slices.Sort(want)
	testkit.Eventually(c.t, flipDeadline, func() error {
		if got := seenSet(c.sample(name, n)); !slices.Equal(got, want) {
			return fmt.Errorf("%s: answers %v, want %v", name, got, want)
		}
		return nil
	})
}

// endpoint is the health-checked HTTP server: a real listener on a fixed
// 127.0.0.1 port that can go away (listener and connections closed, so
// probes get "connection refused") and come back on the same address,
// as a restarted service would.
type endpoint struct {
	t    testing.TB
	addr string
	mu   sync.Mutex
	srv  *httptest.Server // nil while down
}

func newEndpoint(t testing.TB) *endpoint {
	t.Helper()
	e := &endpoint{t: t}
	e.srv = httptest.NewServer(endpointHandler())
	e.addr = e.srv.Listener.Addr().String()
	t.Cleanup(e.stop)
	return e
}

func endpointHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
}

// stop closes the listener and every connection.
func (e *endpoint) stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.srv != nil {
		e.srv.Close()
		e.srv = nil
	}
}

// start listens on the same address again.
func (e *endpoint) start() {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.srv != nil {
		return
	}
	var ln net.Listener
	testkit.Eventually(e.t, 5*time.Second, func() error {
		var err error
		ln, err = net.Listen("tcp", e.addr)
		return err
	})
	s := httptest.NewUnstartedServer(endpointHandler())
	_ = s.Listener.Close()
	s.Listener = ln
	s.Start()
	e.srv = s
}

// TestIntegrationFailoverFollowsHealth is the end-to-end proof that DNS
// answers follow health checks: real HTTP endpoints probed by three
// checker regions over TCP, the aggregator as elected leader publishing
// statuses over NATS, record sets created through the control plane, and
// three nameservers answering over real UDP sockets. The endpoints go
// down and come back; every routing policy that uses health must follow.
//
// Timings are measured and logged, never asserted (run
// BenchmarkFailover for figures).
func TestIntegrationFailoverFollowsHealth(t *testing.T) {
	t.Parallel()
	c := newHealthCluster(t, 3)
	e1, e2, e3 := newEndpoint(t), newEndpoint(t), newEndpoint(t)
	h1, h2, h3 := c.createCheck("e1", e1), c.createCheck("e2", e2), c.createCheck("e3", e3)

	z, create := c.createZone("fo.example.com.")
	c.waitInSync(create, 20*time.Second)
	w := func(v uint8) *uint8 { return &v }
	rec := func(name, setID, ip string, hc string) zonecfg.RRSet {
		return zonecfg.RRSet{Name: name, Type: "A", SetIdentifier: setID, TTL: 60, Records: []string{ip}, Routing: zonecfg.Routing{HealthCheckID: hc}}
	}
	withFailover := func(rs zonecfg.RRSet, role string) zonecfg.RRSet { rs.Failover = role; return rs }
	withWeight := func(rs zonecfg.RRSet, v uint8) zonecfg.RRSet { rs.Weight = w(v); return rs }
	multi := func(rs zonecfg.RRSet) zonecfg.RRSet { rs.MultiValue = true; return rs }
	c.change(z.ID,
		// Failover with a checked primary and an unchecked secondary.
		withFailover(rec("www.fo.example.com.", "primary", "192.0.2.1", h1), zonecfg.FailoverPrimary),
		withFailover(rec("www.fo.example.com.", "secondary", "192.0.2.2", ""), zonecfg.FailoverSecondary),
		// Weighted, both members checked.
		withWeight(rec("wt.fo.example.com.", "a", "198.51.100.1", h1), 1),
		withWeight(rec("wt.fo.example.com.", "b", "198.51.100.2", h2), 1),
		// Multivalue, three checked members.
		multi(rec("mv.fo.example.com.", "a", "203.0.113.1", h1)),
		multi(rec("mv.fo.example.com.", "b", "203.0.113.2", h2)),
		multi(rec("mv.fo.example.com.", "c", "203.0.113.3", h3)),
		// Failover with both members checked: the alias's target.
		withFailover(rec("fo2.fo.example.com.", "primary", "192.0.2.11", h1), zonecfg.FailoverPrimary),
		withFailover(rec("fo2.fo.example.com.", "secondary", "192.0.2.12", h2), zonecfg.FailoverSecondary),
	)
	// An alias evaluating its target's health as the primary of a
	// failover pair: healthy while fo2 has a healthy record set.
	c.change(z.ID,
		zonecfg.RRSet{Name: "api.fo.example.com.", Type: "A", SetIdentifier: "primary", Routing: zonecfg.Routing{Failover: zonecfg.FailoverPrimary, Alias: &zonecfg.AliasTarget{HostedZoneID: z.ID, DNSName: "fo2.fo.example.com.", EvaluateTargetHealth: true}}},
		withFailover(rec("api.fo.example.com.", "secondary", "192.0.2.13", ""), zonecfg.FailoverSecondary),
	)

	const n = 40 // queries per nameserver when sampling random policies
	// P(missing one of two equal weights in 3×40 queries) = 2^-119.
	notIn := func(name string, bad ...string) {
		t.Helper()
		seen := c.sample(name, n)
		for _, ip := range bad {
			if seen[ip] > 0 {
				t.Errorf("%s answered unhealthy %s %d times (answers %v)", name, ip, seen[ip], seenSet(seen))
			}
		}
	}

	t.Log("everything healthy")
	c.waitAnswer("www.fo.example.com.", "192.0.2.1", flipDeadline)
	c.waitAnswer("api.fo.example.com.", "192.0.2.11", flipDeadline)
	c.waitSeen("wt.fo.example.com.", n, "198.51.100.1", "198.51.100.2")
	c.waitSeen("mv.fo.example.com.", 1, "203.0.113.1", "203.0.113.2", "203.0.113.3")

	t.Log("e1 down: failover to the secondary, weighted and multivalue skip e1")
	t0 := time.Now()
	e1.stop()
	down := c.waitFlip(h1, false, "www.fo.example.com.", "192.0.2.2", t0)
	t.Logf("failover (connection refused → secondary): %v", down)
	// Every nameserver has h1 unhealthy now (www proves it): no polling.
	notIn("wt.fo.example.com.", "198.51.100.1")
	notIn("mv.fo.example.com.", "203.0.113.1")
	if got := seenSet(c.sample("mv.fo.example.com.", 1)); !slices.Equal(got, []string{"203.0.113.2", "203.0.113.3"}) {
		t.Errorf("multivalue with e1 down answers %v", got)
	}
	// fo2 still has a healthy member, so the alias is healthy and follows
	// fo2 to its secondary.
	c.waitAnswer("fo2.fo.example.com.", "192.0.2.12", time.Second)
	c.waitAnswer("api.fo.example.com.", "192.0.2.12", time.Second)

	// A nameserver starting now must not answer the dead primary, not
	// even once: its first answer (it refuses until synced) is the
	// secondary. The race this guards against (ready before the health
	// feed loaded) lost about one start in eight, hence the repetitions.
	for i := range 20 {
		late := c.startRoutedNameserver(fmt.Sprintf("late%d", i), checkerRegions[i%len(checkerRegions)])
		// No pause between queries: the window is a few milliseconds.
		for deadline := time.Now().Add(flipDeadline); ; {
			got, err := answersA(late, "www.fo.example.com.")
			if err == nil {
				if len(got) != 1 || got[0] != "192.0.2.2" {
					t.Fatalf("nameserver %s started while e1 is down first answers %v, want the secondary", late.id, got)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("nameserver %s not answering after %v: %v", late.id, flipDeadline, err)
			}
		}
		late.stop()
		c.mu.Lock()
		delete(c.ns, late.id)
		c.mu.Unlock()
	}

	t.Log("e1 and e2 down: weighted all unhealthy answers as if all healthy; alias target unhealthy")
	e2.stop()
	// fo2 has no healthy member: the alias (evaluate_target_health) is
	// unhealthy and api answers its own secondary. fo2 itself, all
	// unhealthy, answers as if all were healthy: its primary.
	c.waitAnswer("api.fo.example.com.", "192.0.2.13", flipDeadline)
	c.waitAnswer("fo2.fo.example.com.", "192.0.2.11", time.Second)
	if got := seenSet(c.sample("wt.fo.example.com.", n)); !slices.Equal(got, []string{"198.51.100.1", "198.51.100.2"}) {
		t.Errorf("weighted with every member unhealthy answers %v, want both", got)
	}
	notIn("mv.fo.example.com.", "203.0.113.1", "203.0.113.2")
	if got := seenSet(c.sample("mv.fo.example.com.", 1)); !slices.Equal(got, []string{"203.0.113.3"}) {
		t.Errorf("multivalue with e1, e2 down answers %v", got)
	}

	t.Log("all down: multivalue answers every record as if all healthy")
	e3.stop()
	c.waitSeen("mv.fo.example.com.", 1, "203.0.113.1", "203.0.113.2", "203.0.113.3")
	c.waitAnswer("www.fo.example.com.", "192.0.2.2", time.Second)

	t.Log("e3's check disabled: counts healthy again although e3 is down")
	disabled := true
	if _, err := c.svc.UpdateHealthCheck(context.Background(), c.tenant, h3,
		controlplane.UpdateHealthCheckInput{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	c.waitSeen("mv.fo.example.com.", n, "203.0.113.3")

	t.Log("e1 back on the same address: fail back")
	t1 := time.Now()
	e1.start()
	up := c.waitFlip(h1, true, "www.fo.example.com.", "192.0.2.1", t1)
	t.Logf("failback (listening again → primary): %v", up)
	c.waitAnswer("api.fo.example.com.", "192.0.2.11", time.Second)
	notIn("wt.fo.example.com.", "198.51.100.2")
	if got := seenSet(c.sample("mv.fo.example.com.", n)); !slices.Equal(got, []string{"203.0.113.1", "203.0.113.3"}) {
		t.Errorf("multivalue with e1 up and e3's check disabled answers %v", got)
	}
	t.Logf("target: request_interval × failure_threshold + 1 s = %v", time.Duration(hcInterval*hcThreshold+1)*time.Second)
}

// BenchmarkFailover measures, over b.N down/up cycles of one endpoint,
// the time from the endpoint refusing connections to every one of three
// nameservers answering a failover name's secondary over UDP, and from
// the endpoint listening again to every one answering the primary. The
// check probes every 1 s with failure threshold 2 from three regions.
// Reported: failover and failback (DNS) and the aggregator's status
// publication (detect), mean and max in milliseconds.
//
// The time per op (one cycle, random pauses included) means nothing.
//
// Run with: go test ./internal/e2e/ -run '^$' -bench Failover -benchtime 10x
func BenchmarkFailover(b *testing.B) {
	c := newHealthCluster(b, 3)
	ep := newEndpoint(b)
	h := c.createCheck("bench", ep)
	z, create := c.createZone("bench.example.com.")
	c.waitInSync(create, 20*time.Second)
	c.change(z.ID,
		zonecfg.RRSet{Name: "www.bench.example.com.", Type: "A", SetIdentifier: "primary", TTL: 60, Records: []string{"192.0.2.1"}, Routing: zonecfg.Routing{Failover: zonecfg.FailoverPrimary, HealthCheckID: h}},
		zonecfg.RRSet{Name: "www.bench.example.com.", Type: "A", SetIdentifier: "secondary", TTL: 60, Records: []string{"192.0.2.2"}, Routing: zonecfg.Routing{Failover: zonecfg.FailoverSecondary}},
	)
	c.waitAnswer("www.bench.example.com.", "192.0.2.1", flipDeadline)
	var downs, ups []flip
	b.ResetTimer()
	// Each change waits a random part of the interval first: a flip is
	// detected just after a probe, so changing at once would always fall
	// at the same point of the probe cycle, where a real outage falls
	// anywhere.
	phase := func() { time.Sleep(rand.N(time.Duration(hcInterval) * time.Second)) }
	for i := range b.N {
		phase()
		t0 := time.Now()
		ep.stop()
		f := c.waitFlip(h, false, "www.bench.example.com.", "192.0.2.2", t0)
		downs = append(downs, f)
		phase()
		t1 := time.Now()
		ep.start()
		g := c.waitFlip(h, true, "www.bench.example.com.", "192.0.2.1", t1)
		ups = append(ups, g)
		b.Logf("cycle %d: failover %v; failback %v", i+1, f, g)
	}
	b.StopTimer()
	report := func(name string, fs []flip, pick func(flip) time.Duration) {
		var sum, mx time.Duration
		for _, f := range fs {
			d := pick(f)
			sum += d
			mx = max(mx, d)
		}
		b.ReportMetric(float64((sum / time.Duration(len(fs))).Milliseconds()), name+"-mean-ms")
		b.ReportMetric(float64(mx.Milliseconds()), name+"-max-ms")
	}
	report("failover", downs, func(f flip) time.Duration { return f.dns })
	report("failback", ups, func(f flip) time.Duration { return f.dns })
	report("detect-down", downs, func(f flip) time.Duration { return f.detect })
	report("detect-up", ups, func(f flip) time.Duration { return f.detect })
}
