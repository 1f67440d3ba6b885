package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/miekg/dns"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/api"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/dataplane"
	"github.com/waymark-dns/waymark/dnssec"
	"github.com/waymark-dns/waymark/internal/httpcomp"
	"github.com/waymark-dns/waymark/internal/natstest"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/internal/testkit"
	"github.com/waymark-dns/waymark/nspool"
	"github.com/waymark-dns/waymark/zonecfg"
)

const adminToken = "e2e-admin-token"

// cluster is a whole Waymark deployment inside the test process: the
// control plane on a real PostgreSQL schema, the real API router on an
// httptest server (which the test can make unreachable), an embedded
// NATS server with JetStream, relays, a tracker, and nameservers answering
// on real UDP sockets.
type cluster struct {
	t      testing.TB
	pool   *pgxpool.Pool
	svc    *controlplane.Service
	nats   *natstest.Server
	api    *httptest.Server
	apiOff atomic.Bool
	tenant string
	token  string // the tenant's API bearer token

	liveTimeout time.Duration

	mu     sync.Mutex
	relays map[string]context.CancelFunc
	ns     map[string]*nameserver
}

type nameserver struct {
	id, region, cacheDir string
	node                 *dataplane.Node
	srv                  *dataplane.Server
	stop                 func()
}

type clusterConfig struct {
	// LiveTimeout is the tracker's liveness timeout. Default 2 s.
	LiveTimeout time.Duration
	// HealthChecks are the control plane's health check settings.
	HealthChecks controlplane.HealthCheckOptions
	// Pool is the nameserver pool (default: the control plane's), with
	// predictable delegation sets.
	Pool nspool.Pool
	// DNSSEC are the control plane's signing timings (dnssec_test.go).
	DNSSEC controlplane.DNSSECOptions
}

func newCluster(t testing.TB, cfg clusterConfig) *cluster {
	t.Helper()
	if cfg.LiveTimeout == 0 {
		cfg.LiveTimeout = 2 * time.Second
	}
	pool, _ := pgtest.Schema(t)
	svc, err := controlplane.New(pool, controlplane.Config{
		MasterKey:    []byte(strings.Repeat("m", 32)),
		JWTKey:       []byte(strings.Repeat("j", 32)),
		HealthChecks: cfg.HealthChecks,
		Pool:         cfg.Pool,
		DNSSEC:       cfg.DNSSEC,
		// First free names in pool order, so that tests know which.
		PredictableSets: true,
	})
	if err != nil {
		t.Fatalf("controlplane.New: %v", err)
	}
	c := &cluster{
		t: t, pool: pool, svc: svc, nats: natstest.Run(t), liveTimeout: cfg.LiveTimeout,
		relays: map[string]context.CancelFunc{}, ns: map[string]*nameserver{},
	}
	// Compressed on the wire as `waymark api` serves it.
	router := httpcomp.Prefix("/v1/nameserver/",
		api.NewRouter(api.Config{Service: svc, AdminToken: adminToken, RateLimit: 1e6, RateBurst: 1e6}))
	c.api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.apiOff.Load() {
			// As good as unreachable: the nameserver cannot use it.
			http.Error(w, "control plane down", http.StatusServiceUnavailable)
			return
		}
		router.ServeHTTP(w, r)
	}))
	t.Cleanup(c.api.Close)

	ctx := context.Background()
	tenant, key, err := svc.CreateTenant(ctx, fmt.Sprintf("e2e-%d", time.Now().UnixNano()))
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	c.tenant, c.token = tenant.ID, key.Token

	c.startRelay("relay-1")
	nc := c.connect()
	tctx, cancel := context.WithCancel(ctx)
	tr := controlplane.NewTracker(pool, nc, controlplane.TrackerConfig{LiveTimeout: cfg.LiveTimeout})
	done := make(chan struct{})
	go func() { defer close(done); _ = tr.Run(tctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return c
}

// connect returns a NATS connection that reconnects forever, closed at cleanup.
func (c *cluster) connect() *nats.Conn {
	c.t.Helper()
	nc, err := nats.Connect(c.nats.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		c.t.Fatalf("nats: %v", err)
	}
	c.t.Cleanup(nc.Close)
	return nc
}

func (c *cluster) jetstream() jetstream.JetStream {
	c.t.Helper()
	js, err := jetstream.New(c.connect())
	if err != nil {
		c.t.Fatal(err)
	}
	return js
}

// startRelay runs a relay (as one API process would) until stopRelay.
func (c *cluster) startRelay(name string) {
	c.t.Helper()
	r := controlplane.NewRelay(c.pool, c.jetstream(), controlplane.RelayConfig{Tick: 100 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	stop := func() { cancel(); <-done }
	c.mu.Lock()
	c.relays[name] = stop
	c.mu.Unlock()
	c.t.Cleanup(stop)
}

func (c *cluster) stopRelay(name string) {
	c.mu.Lock()
	stop := c.relays[name]
	c.mu.Unlock()
	stop()
}

// startNameserver runs a nameserver process: DNS server plus sync node.
func (c *cluster) startNameserver(id, region, cacheDir string) *nameserver {
	c.t.Helper()
	store := dataplane.NewStore()
	// The fleet key the control plane's default derives from its master
	// key, so that signed zones are served (dnssec_test.go).
	store.SetSigning(dataplane.SigningConfig{FleetKey: dnssec.FleetKeyFrom([]byte(strings.Repeat("m", 32)))})
	// NOTIFYs from secondary zones' primaries go on to the control plane
	// on NATS, as `waymark nameserver` passes them (secondary_test.go).
	handler := dataplane.NewHandler(store)
	nc := c.connect()
	relay := dataplane.NewNotifyRelay(dataplane.NotifyRelayConfig{Publish: nc.Publish, NodeID: id})
	handler.SetNotifyRelay(relay)
	srv := dataplane.NewServer(store, dataplane.Config{Addr: "127.0.0.1:0", Handler: handler})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = relay.Run(ctx) }()
	if err := srv.Start(ctx); err != nil {
		c.t.Fatalf("start DNS server %s: %v", id, err)
	}
	node, err := dataplane.NewNode(dataplane.NodeConfig{
		NodeID: id, Region: region, NATSURL: c.nats.ClientURL(),
		SnapshotURL: c.api.URL, AdminToken: adminToken, CacheDir: cacheDir,
		Store: store, SetReady: srv.SetReady,
		HeartbeatInterval: 100 * time.Millisecond, RetryInterval: 100 * time.Millisecond,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = node.Run(ctx) }()
	// NOTIFYs to the zones' secondaries (xfr_test.go), retried quickly.
	notified := make(chan struct{})
	go func() {
		defer close(notified)
		_ = dataplane.NewNotifier(store, dataplane.NotifyConfig{MinRetry: 100 * time.Millisecond, MaxRetry: time.Second}).Run(ctx)
	}()
	var once sync.Once
	ns := &nameserver{id: id, region: region, cacheDir: cacheDir, node: node, srv: srv}
	ns.stop = func() {
		once.Do(func() {
			cancel()
			<-done
			<-notified
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			_ = srv.Shutdown(sctx)
		})
	}
	c.t.Cleanup(ns.stop)
	c.mu.Lock()
	c.ns[id] = ns
	c.mu.Unlock()
	return ns
}

func (c *cluster) nameservers() []*nameserver {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*nameserver, 0, len(c.ns))
	for _, n := range c.ns {
		out = append(out, n)
	}
	return out
}

// createZone creates a hosted zone through the control plane.
func (c *cluster) createZone(name string) (controlplane.Zone, controlplane.ChangeInfo) {
	c.t.Helper()
	z, ch, err := c.svc.CreateZone(context.Background(), c.tenant, controlplane.CreateZoneInput{
		Name: name, CallerReference: fmt.Sprintf("%s-%d", name, time.Now().UnixNano()),
	})
	if err != nil {
		c.t.Fatalf("CreateZone %s: %v", name, err)
	}
	return z, ch
}

// upsertA upserts one A record.
func (c *cluster) upsertA(zoneID, name, ip string) controlplane.ChangeInfo {
	c.t.Helper()
	ch, err := c.svc.ChangeRRSets(context.Background(), c.tenant, zoneID, controlplane.ChangeBatch{
		Changes: []controlplane.RRSetChange{{Action: controlplane.ActionUpsert,
			RRSet: zonecfg.RRSet{Name: name, Type: "A", TTL: 60, Records: []string{ip}}}},
	})
	if err != nil {
		c.t.Fatalf("ChangeRRSets %s: %v", name, err)
	}
	return ch
}

// waitInSync waits until the change is INSYNC.
func (c *cluster) waitInSync(ch controlplane.ChangeInfo, d time.Duration) controlplane.ChangeInfo {
	c.t.Helper()
	got, err := c.svc.WaitChange(context.Background(), c.tenant, ch.ID, d)
	if err != nil {
		c.t.Fatalf("WaitChange %s: %v", ch.ID, err)
	}
	if got.Status != controlplane.StatusInSync {
		c.t.Fatalf("change %s still %s after %s", ch.ID, got.Status, d)
	}
	return got
}

// query asks a nameserver over UDP.
func query(addr, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	cl := &dns.Client{Net: "udp", Timeout: time.Second}
	r, _, err := cl.Exchange(m, addr)
	return r, err
}

// answersA returns the A addresses a nameserver gives for name.
func answersA(ns *nameserver, name string) ([]string, error) {
	r, err := query(ns.srv.UDPAddr().String(), name, dns.TypeA)
	if err != nil {
		return nil, err
	}
	if r.Rcode != dns.RcodeSuccess {
		return nil, fmt.Errorf("%s from %s: rcode %s", name, ns.id, dns.RcodeToString[r.Rcode])
	}
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	return out, nil
}

// waitAnswer polls every nameserver until each answers name with ip.
func (c *cluster) waitAnswer(name, ip string, d time.Duration, servers ...*nameserver) {
	c.t.Helper()
	if len(servers) == 0 {
		servers = c.nameservers()
	}
	testkit.Eventually(c.t, d, func() error {
		for _, ns := range servers {
			got, err := answersA(ns, name)
			if err != nil {
				return err
			}
			if len(got) != 1 || got[0] != ip {
				return fmt.Errorf("%s answers %s with %v, want %s", ns.id, name, got, ip)
			}
		}
		return nil
	})
}

// apiGet performs a GET on the API with the given bearer token.
func (c *cluster) apiGet(path, token string, out any) int {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.api.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			c.t.Fatalf("GET %s: decode: %v", path, err)
		}
	}
	return resp.StatusCode
}

func rrA(name, ip string) zonecfg.RRSet {
	return zonecfg.RRSet{Name: name, Type: "A", TTL: 60, Records: []string{ip}}
}
