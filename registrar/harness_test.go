package registrar_test

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
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
	"github.com/waymark-dns/waymark/nspool"
	"github.com/waymark-dns/waymark/registrar"
	"github.com/waymark-dns/waymark/registrar/registry"
)

const adminToken = "registrar-admin-token"

// world is a whole deployment in the test process: the control plane on a
// real PostgreSQL schema, NATS, a relay and tracker, and (with dnsPort) a
// nameserver answering on every pool address, the registry with TLD wmk.
// and the registrar.
type world struct {
	cp    *controlplane.Service
	reg   *registry.Registry
	svc   *registrar.Service
	pool  nspool.Pool
	addrs map[string]string // pool name → host:port of its listener
	clock *clock
	db    *pgxpool.Pool // the test's schema, for what no service offers (bench setup)
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// newWorld builds a world. With dns, the nameserver listens on port 53
// of 127.0.92.1 … 127.0.92.8 (resolvers follow referrals to port 53 only).
func newWorld(t testing.TB, dnsPort string, negTTL uint32) *world {
	t.Helper()
	var items []string
	for i := 1; i <= 8; i++ {
		items = append(items, fmt.Sprintf("ns%d.pool.wmk.=127.0.92.%d", i, i))
	}
	pool, err := nspool.Parse(strings.Join(items, ","), 4)
	if err != nil {
		t.Fatal(err)
	}
	db, _ := pgtest.Schema(t)
	cp, err := controlplane.New(db, controlplane.Config{
		MasterKey: []byte(strings.Repeat("m", 32)), JWTKey: []byte(strings.Repeat("j", 32)),
		Pool: pool, PredictableSets: true, DefaultZoneQuota: 1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now().UTC()}
	ctx := context.Background()
	reg, err := registry.Open(ctx, db, cp, registry.Config{Now: clk.now, Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	pol := registry.DefaultPolicy()
	pol.NegativeTTL = negTTL
	if _, err := reg.ConfigureTLD(ctx, "wmk.", registry.Prices{Register: 1000, Renew: 1000, Transfer: 1000, Restore: 5000}, pol); err != nil {
		t.Fatal(err)
	}
	svc, err := registrar.New(ctx, db, cp, reg, registrar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{cp: cp, reg: reg, svc: svc, pool: pool, addrs: map[string]string{}, clock: clk, db: db}
	if dnsPort == "" {
		return w
	}

	ns := natstest.Run(t)
	connect := func() *nats.Conn {
		nc, err := nats.Connect(ns.ClientURL(), nats.MaxReconnects(-1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	js, err := jetstream.New(connect())
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	relay := controlplane.NewRelay(db, js, controlplane.RelayConfig{Tick: 50 * time.Millisecond})
	tr := controlplane.NewTracker(db, connect(), controlplane.TrackerConfig{LiveTimeout: 2 * time.Second})
	wg.Add(2)
	go func() { defer wg.Done(); _ = relay.Run(rctx) }()
	go func() { defer wg.Done(); _ = tr.Run(rctx) }()
	apiSrv := httptest.NewServer(httpcomp.Prefix("/v1/nameserver/",
		api.NewRouter(api.Config{Service: cp, AdminToken: adminToken, RateLimit: 1e6, RateBurst: 1e6})))
	t.Cleanup(apiSrv.Close)

	store := dataplane.NewStoreViews(pool.Names())
	// Signed zones (a signed TLD) are signed with the fleet key derived
	// from the master key above, as `waymark nameserver` does.
	store.SetSigning(dataplane.SigningConfig{FleetKey: dnssec.FleetKeyFrom([]byte(strings.Repeat("m", 32)))})
	if err := store.SetSystemZones(pool.SystemZones("hostmaster.pool.wmk.")); err != nil {
		t.Fatal(err)
	}
	base := dataplane.NewHandler(store)
	var servers []*dataplane.Server
	for v, s := range pool.Servers {
		srv := dataplane.NewServer(store, dataplane.Config{Addr: net.JoinHostPort(s.Addrs[0].String(), dnsPort), Handler: base.ForView(v)})
		if err := srv.Start(rctx); err != nil {
			t.Fatalf("listen %s: %v", s.Name, err)
		}
		servers = append(servers, srv)
		w.addrs[s.Name] = srv.UDPAddr().String()
	}
	t.Cleanup(func() {
		for _, s := range servers {
			_ = s.Shutdown(context.Background())
		}
	})
	node, err := dataplane.NewNode(dataplane.NodeConfig{
		NodeID: "ns-a", Region: "r", NATSURL: ns.ClientURL(), SnapshotURL: apiSrv.URL, AdminToken: adminToken,
		Store: store, SetReady: base.SetReady, Serves: pool.Names(),
		HeartbeatInterval: 100 * time.Millisecond, RetryInterval: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() { defer wg.Done(); _ = node.Run(rctx) }()
	return w
}

// tenant creates a tenant and returns its id.
func (w *world) tenant(t testing.TB, name string) string {
	t.Helper()
	tn, _, err := w.cp.CreateTenant(context.Background(), fmt.Sprintf("%s-%d", name, time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	return tn.ID
}

// ask sends one query to addr without recursion.
func ask(t *testing.T, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	r, err := dns.Exchange(m, addr)
	if err != nil {
		t.Fatalf("query %s %s at %s: %v", name, dns.TypeToString[qtype], addr, err)
	}
	return r
}
