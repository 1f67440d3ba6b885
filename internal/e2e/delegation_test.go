package e2e

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/dataplane"
	"github.com/waymark-dns/waymark/internal/testkit"
	"github.com/waymark-dns/waymark/nspool"
	"github.com/waymark-dns/waymark/zonecfg"
)

// viewPool is eight pool names on 127.0.90.1 … 127.0.90.8, in sets of 4.
func viewPool(t testing.TB) nspool.Pool {
	t.Helper()
	var items []string
	for i := 1; i <= 8; i++ {
		items = append(items, fmt.Sprintf("ns%d.pool.test.=127.0.90.%d", i, i))
	}
	p, err := nspool.Parse(strings.Join(items, ","), 4)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// viewNameserver is a nameserver with one listener per served pool name,
// on that name's address (random port), each answering from its view.
type viewNameserver struct {
	*nameserver
	store *dataplane.Store
	addrs map[string]string // pool name → host:port
}

func (c *cluster) startViewNameserver(id string, pool nspool.Pool, serve ...string) *viewNameserver {
	c.t.Helper()
	served := pool
	if len(serve) > 0 {
		var err error
		if served, err = pool.Select(serve); err != nil {
			c.t.Fatal(err)
		}
	}
	store := dataplane.NewStoreViews(served.Names())
	if err := store.SetSystemZones(pool.SystemZones("hostmaster.pool.test.")); err != nil {
		c.t.Fatal(err)
	}
	base := dataplane.NewHandler(store)
	ctx, cancel := context.WithCancel(context.Background())
	vn := &viewNameserver{store: store, addrs: map[string]string{}}
	var servers []*dataplane.Server
	for v, s := range served.Servers {
		srv := dataplane.NewServer(store, dataplane.Config{Addr: net.JoinHostPort(s.Addrs[0].String(), "0"), Handler: base.ForView(v)})
		if err := srv.Start(ctx); err != nil {
			c.t.Fatalf("listen %s: %v", s.Name, err)
		}
		servers = append(servers, srv)
		vn.addrs[s.Name] = srv.UDPAddr().String()
	}
	node, err := dataplane.NewNode(dataplane.NodeConfig{
		NodeID: id, Region: "r", NATSURL: c.nats.ClientURL(),
		SnapshotURL: c.api.URL, AdminToken: adminToken,
		Store: store, SetReady: base.SetReady, Serves: served.Names(),
		HeartbeatInterval: 100 * time.Millisecond, RetryInterval: 100 * time.Millisecond,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = node.Run(ctx) }()
	var once sync.Once
	vn.nameserver = &nameserver{id: id, region: "r", node: node, srv: servers[0]}
	vn.stop = func() {
		once.Do(func() {
			cancel()
			<-done
			for _, s := range servers {
				_ = s.Shutdown(context.Background())
			}
		})
	}
	c.t.Cleanup(vn.stop)
	c.mu.Lock()
	c.ns[id] = vn.nameserver
	c.mu.Unlock()
	return vn
}

// ask queries the listener of pool name ns.
func (vn *viewNameserver) ask(t testing.TB, ns, name string, qtype uint16) *dns.Msg {
	t.Helper()
	r, err := query(vn.addrs[ns], name, qtype)
	if err != nil {
		t.Fatalf("%s @%s: %v", name, ns, err)
	}
	return r
}

func (c *cluster) createZoneFor(tenant, name string) (controlplane.Zone, controlplane.ChangeInfo) {
	c.t.Helper()
	z, ch, err := c.svc.CreateZone(context.Background(), tenant, controlplane.CreateZoneInput{
		Name: name, CallerReference: fmt.Sprintf("%s-%d", name, time.Now().UnixNano()),
	})
	if err != nil {
		c.t.Fatalf("CreateZone %s: %v", name, err)
	}
	return z, ch
}

func (c *cluster) change(tenant, zoneID string, sets ...zonecfg.RRSet) controlplane.ChangeInfo {
	c.t.Helper()
	var changes []controlplane.RRSetChange
	for _, rs := range sets {
		changes = append(changes, controlplane.RRSetChange{Action: controlplane.ActionUpsert, RRSet: rs})
	}
	ch, err := c.svc.ChangeRRSets(context.Background(), tenant, zoneID, controlplane.ChangeBatch{Changes: changes})
	if err != nil {
		c.t.Fatalf("ChangeRRSets: %v", err)
	}
	return ch
}

func aValues(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	return out
}

// TestIntegrationViews: two tenants host the same name, each answered on
// its own set's addresses and REFUSED on the other's; a parent's referral
// leads to its child on disjoint names; the fleet's own zone answers every
// pool name's address everywhere.
func TestIntegrationViews(t *testing.T) {
	t.Parallel()
	pool := viewPool(t)
	c := newCluster(t, clusterConfig{Pool: pool})
	ns := c.startViewNameserver("all", pool)
	ctx := context.Background()
	other, _, err := c.svc.CreateTenant(ctx, fmt.Sprintf("other-%d", time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}

	za, _ := c.createZoneFor(c.tenant, "shared.example.")
	zb, _ := c.createZoneFor(other.ID, "shared.example.")
	if !slices.Equal(za.PoolNames, pool.Names()[:4]) || !slices.Equal(zb.PoolNames, pool.Names()[4:]) {
		t.Fatalf("sets: %v and %v", za.PoolNames, zb.PoolNames)
	}
	c.waitInSync(c.change(c.tenant, za.ID, zonecfg.RRSet{Name: "www.shared.example.", Type: "A", TTL: 60, Records: []string{"192.0.2.1"}}), 10*time.Second)
	chb := c.change(other.ID, zb.ID, zonecfg.RRSet{Name: "www.shared.example.", Type: "A", TTL: 60, Records: []string{"192.0.2.2"}})
	if got, err := c.svc.WaitChange(ctx, other.ID, chb.ID, 10*time.Second); err != nil || got.Status != controlplane.StatusInSync {
		t.Fatalf("change of the other tenant: %+v, %v", got, err)
	}
	for _, n := range za.PoolNames {
		if r := ns.ask(t, n, "www.shared.example.", dns.TypeA); !r.Authoritative || fmt.Sprint(aValues(r)) != "[192.0.2.1]" {
			t.Errorf("@%s: %v", n, r)
		}
	}
	for _, n := range zb.PoolNames {
		if r := ns.ask(t, n, "www.shared.example.", dns.TypeA); !r.Authoritative || fmt.Sprint(aValues(r)) != "[192.0.2.2]" {
			t.Errorf("@%s: %v", n, r)
		}
	}

	// A zone on ns1-4 only is REFUSED on ns5-8.
	zo, cho := c.createZoneFor(c.tenant, "only.example.")
	c.waitInSync(cho, 10*time.Second)
	if r := ns.ask(t, zo.PoolNames[0], "only.example.", dns.TypeSOA); r.Rcode != dns.RcodeSuccess || !r.Authoritative {
		t.Errorf("@%s: %v", zo.PoolNames[0], r)
	}
	if r := ns.ask(t, "ns5.pool.test.", "only.example.", dns.TypeSOA); r.Rcode != dns.RcodeRefused || r.Authoritative {
		t.Errorf("@ns5: rcode %s, want REFUSED", dns.RcodeToString[r.Rcode])
	}

	// Parent and child in one tenant: disjoint sets; the parent's
	// delegation (the child's names, as the API gave them) is a referral,
	// and the child's servers answer.
	parent, _ := c.createZoneFor(c.tenant, "corp.example.")
	child, _ := c.createZoneFor(c.tenant, "dev.corp.example.")
	if slices.ContainsFunc(child.PoolNames, func(n string) bool { return slices.Contains(parent.PoolNames, n) }) {
		t.Fatalf("parent %v and child %v share names", parent.PoolNames, child.PoolNames)
	}
	c.change(c.tenant, parent.ID, zonecfg.RRSet{Name: "dev.corp.example.", Type: "NS", TTL: 3600, Records: child.NameServers})
	c.waitInSync(c.change(c.tenant, child.ID, zonecfg.RRSet{Name: "app.dev.corp.example.", Type: "A", TTL: 60, Records: []string{"192.0.2.9"}}), 10*time.Second)
	ref := ns.ask(t, parent.PoolNames[0], "app.dev.corp.example.", dns.TypeA)
	if ref.Authoritative || len(ref.Answer) != 0 || len(ref.Ns) == 0 {
		t.Fatalf("parent's answer is not a referral: %v", ref)
	}
	var next []string
	for _, rr := range ref.Ns {
		if nsrr, ok := rr.(*dns.NS); ok && nsrr.Hdr.Name == "dev.corp.example." {
			next = append(next, nsrr.Ns)
		}
	}
	if len(next) == 0 || !slices.Contains(child.PoolNames, next[0]) {
		t.Fatalf("referral to %v, want the child's %v", next, child.PoolNames)
	}
	// Follow it as a resolver would: the address of the name server from
	// the fleet's own zone, then the query at that address.
	addr := ns.ask(t, parent.PoolNames[0], next[0], dns.TypeA)
	if !addr.Authoritative || len(aValues(addr)) != 1 {
		t.Fatalf("address of %s: %v", next[0], addr)
	}
	if got := aValues(addr)[0]; got != pool.Servers[pool.Index(next[0])].Addrs[0].String() {
		t.Errorf("%s has address %s", next[0], got)
	}
	if r := ns.ask(t, next[0], "app.dev.corp.example.", dns.TypeA); !r.Authoritative || fmt.Sprint(aValues(r)) != "[192.0.2.9]" {
		t.Errorf("child's server: %v", r)
	}

	// The fleet's own domain: every pool name's address, on every
	// listener, authoritatively.
	for _, at := range pool.Names() {
		for i, n := range pool.Names() {
			r := ns.ask(t, at, n, dns.TypeA)
			if !r.Authoritative || fmt.Sprint(aValues(r)) != fmt.Sprintf("[127.0.90.%d]", i+1) {
				t.Fatalf("%s @%s: %v", n, at, r)
			}
		}
	}
	if r := ns.ask(t, "ns2.pool.test.", "pool.test.", dns.TypeNS); !r.Authoritative || len(r.Answer) != 8 {
		t.Errorf("pool.test. NS: %v", r)
	}
	if r := ns.ask(t, "ns2.pool.test.", "nope.pool.test.", dns.TypeA); r.Rcode != dns.RcodeNameError || !r.Authoritative {
		t.Errorf("nope.pool.test.: %v", r)
	}
}

// TestIntegrationSharding: a nameserver serving two of eight names loads
// only the zones on their sets, from a filtered snapshot and the stream;
// INSYNC and progress count only the nodes that serve a zone.
func TestIntegrationSharding(t *testing.T) {
	t.Parallel()
	pool := viewPool(t)
	c := newCluster(t, clusterConfig{Pool: pool})
	ctx := context.Background()
	// Before the node starts: zones on ns1-4 and ns5-8 (same names, so
	// disjoint sets), loaded from the snapshot.
	other, _, err := c.svc.CreateTenant(ctx, fmt.Sprintf("other-%d", time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	lo, _ := c.createZoneFor(c.tenant, "a.example.")
	hi, _ := c.createZoneFor(other.ID, "a.example.")
	left := c.startViewNameserver("left", pool, "ns1", "ns2")
	right := c.startViewNameserver("right", pool, "ns7.pool.test.")
	testkit.Eventually(t, 10*time.Second, func() error {
		if !left.node.Ready() || !right.node.Ready() {
			return fmt.Errorf("not ready")
		}
		return nil
	})
	if ids := left.store.ZoneIDs(); !slices.Equal(ids, []string{lo.ID}) {
		t.Errorf("left holds %v, want only %s", ids, lo.ID)
	}
	if ids := right.store.ZoneIDs(); !slices.Equal(ids, []string{hi.ID}) {
		t.Errorf("right holds %v, want only %s", ids, hi.ID)
	}
	// Then from the stream: created, updated, deleted.
	lo2, ch := c.createZoneFor(c.tenant, "b.example.")
	c.waitInSync(ch, 10*time.Second)
	ch = c.change(c.tenant, lo2.ID, zonecfg.RRSet{Name: "x.b.example.", Type: "A", TTL: 60, Records: []string{"192.0.2.3"}})
	c.waitInSync(ch, 10*time.Second)
	_, prog, err := c.svc.ChangeProgress(ctx, c.tenant, ch.ID)
	if err != nil || prog.Live != 1 || prog.Applied != 1 {
		t.Errorf("progress of a zone on ns1-4 = %+v, %v: want only the left node", prog, err)
	}
	if r, _ := query(left.addrs["ns1.pool.test."], "x.b.example.", dns.TypeA); r == nil || fmt.Sprint(aValues(r)) != "[192.0.2.3]" {
		t.Errorf("left: %v", r)
	}
	if ids := right.store.ZoneIDs(); !slices.Equal(ids, []string{hi.ID}) {
		t.Errorf("right holds %v after the stream, want only %s", ids, hi.ID)
	}
	// The right node (ns7) stopping does not hold back a zone it does not
	// serve; a zone it serves waits for it.
	right.stop()
	ch = c.change(c.tenant, lo2.ID, zonecfg.RRSet{Name: "y.b.example.", Type: "A", TTL: 60, Records: []string{"192.0.2.4"}})
	c.waitInSync(ch, 10*time.Second)

	// A change of a zone only the stopped node served: nobody live serves
	// it, so it stays PENDING even once the left node, which has seen it
	// go by in the stream, reported past it (the same flush would have
	// marked it).
	chHi, err := c.svc.ChangeRRSets(ctx, other.ID, hi.ID, controlplane.ChangeBatch{Changes: []controlplane.RRSetChange{{
		Action: controlplane.ActionUpsert, RRSet: zonecfg.RRSet{Name: "z.a.example.", Type: "A", TTL: 60, Records: []string{"192.0.2.5"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		got, _, err := c.svc.ChangeProgress(ctx, other.ID, chHi.ID)
		if err != nil || got.StreamSeq == nil {
			return fmt.Errorf("not published: %v", err)
		}
		list, err := c.svc.ListNameservers(ctx)
		if err != nil {
			return err
		}
		for _, n := range list {
			if n.NodeID == "left" && n.AppliedSeq >= *got.StreamSeq {
				return nil
			}
		}
		return fmt.Errorf("left has not reported seq %d", *got.StreamSeq)
	})
	got, prog, err := c.svc.ChangeProgress(ctx, other.ID, chHi.ID)
	if err != nil || got.Status != controlplane.StatusPending || prog.Live != 0 {
		t.Errorf("change of a zone no live node serves: %s, %+v, %v", got.Status, prog, err)
	}

	list, err := c.svc.ListNameservers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	serves := map[string][]string{}
	for _, n := range list {
		serves[n.NodeID] = n.Serves
	}
	if !slices.Equal(serves["left"], []string{"ns1.pool.test.", "ns2.pool.test."}) || !slices.Equal(serves["right"], []string{"ns7.pool.test."}) {
		t.Errorf("serves = %v", serves)
	}
}
