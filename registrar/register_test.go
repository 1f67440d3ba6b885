package registrar_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/internal/testkit"
	"github.com/waymark-dns/waymark/nspool"
	"github.com/waymark-dns/waymark/registrar"
	"github.com/waymark-dns/waymark/registrar/registry"
	"github.com/waymark-dns/waymark/zonecfg"
)

// TestIntegrationRegisterResolvesThroughUnbound: a caching, validating
// unbound that has just cached a name as NXDOMAIN (from the TLD zone)
// resolves it through the TLD's referral after registration with
// hosted_zone "create", within the TLD's negative TTL plus a second of the
// operation turning SUCCESSFUL.
func TestIntegrationRegisterResolvesThroughUnbound(t *testing.T) {
	if _, err := exec.LookPath("unbound"); err != nil {
		t.Fatal("unbound is not installed: .ci/apt.d/i12.txt lists it (apt-get install unbound)")
	}
	const negTTL = 2
	w := newWorld(t, "53", negTTL)
	resolver := startUnbound(t, w.addrs["ns1.pool.wmk."])
	ctx := context.Background()
	tenant := w.tenant(t, "reg")

	q := func() *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion("www.example.wmk.", dns.TypeA)
		r, err := dns.Exchange(m, resolver)
		if err != nil {
			t.Fatalf("unbound: %v", err)
		}
		return r
	}
	// The TLD zone must be served before the resolver asks it.
	testkit.Eventually(t, 10*time.Second, func() error {
		if r := q(); r.Rcode != dns.RcodeNameError {
			return fmt.Errorf("before: rcode %s", dns.RcodeToString[r.Rcode])
		}
		return nil
	})
	op, err := w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: "example.wmk", HostedZone: "create", CallerReference: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	// A record in the new zone, to resolve.
	zoneID := zoneOf(t, w, tenant, "example.wmk.")
	addRecord(t, w, tenant, zoneID, "www.example.wmk.", "192.0.2.80")
	op, err = w.svc.WaitOperation(ctx, tenant, op.ID, 10*time.Second)
	if err != nil || op.Status != registrar.StatusSuccessful {
		t.Fatalf("operation = %+v, %v", op, err)
	}
	done := time.Now()
	testkit.Eventually(t, (negTTL+1)*time.Second, func() error {
		r := q()
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			return fmt.Errorf("after: %s %v", dns.RcodeToString[r.Rcode], r.Answer)
		}
		return nil
	})
	t.Logf("resolvable %v after SUCCESSFUL (negative TTL %d s)", time.Since(done).Round(time.Millisecond), negTTL)
}

// startUnbound runs a caching, validating unbound that reaches the TLD
// wmk. through a stub at tldAddr and everything below it by referrals.
func startUnbound(t *testing.T, tldAddr string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(tldAddr)
	l, err := net.ListenPacket("udp", "127.0.92.100:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.LocalAddr().String()
	_ = l.Close()
	lh, lp, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	conf := fmt.Sprintf(`server:
  interface: %s@%s
  port: %s
  do-not-query-localhost: no
  username: ""
  chroot: ""
  directory: "%s"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 1
  module-config: "validator iterator"
  domain-insecure: "wmk."
  local-zone: "wmk." nodefault
  qname-minimisation: no
  harden-referral-path: no
  access-control: 127.0.0.0/8 allow
stub-zone:
  name: "wmk."
  stub-addr: %s@%s
`, lh, lp, lp, dir, host, port)
	path := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "unbound", "-d", "-c", path)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	testkit.Eventually(t, 10*time.Second, func() error {
		m := new(dns.Msg)
		m.SetQuestion("pool.wmk.", dns.TypeNS)
		_, err := dns.Exchange(m, addr)
		return err
	})
	return addr
}

func controlplaneList(name string) controlplane.ListZonesInput {
	return controlplane.ListZonesInput{StartName: name, MaxItems: 1}
}

func addRecord(t *testing.T, w *world, tenant, zoneID, name, addr string) {
	t.Helper()
	_, err := w.cp.ChangeRRSets(context.Background(), tenant, zoneID, controlplane.ChangeBatch{Changes: []controlplane.RRSetChange{{
		Action: controlplane.ActionUpsert, RRSet: zonecfg.RRSet{Name: name, Type: "A", TTL: 60, Records: []string{addr}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
}

func zoneOf(t *testing.T, w *world, tenant, name string) string {
	t.Helper()
	page, err := w.cp.ListZones(context.Background(), tenant, controlplaneList(name))
	if err != nil || len(page.Zones) == 0 || page.Zones[0].Name != name {
		t.Fatalf("zone %s: %+v, %v", name, page, err)
	}
	return page.Zones[0].ID
}

// TestIntegrationRegisterExternalNameservers: a registration with
// nameservers inside the domain gives a referral with their glue.
func TestIntegrationRegisterExternalNameservers(t *testing.T) {
	w := newWorld(t, "0", 60)
	ctx := context.Background()
	tenant := w.tenant(t, "ext")
	op, err := w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: "ext.wmk", Nameservers: []registrar.Nameserver{
		{Name: "ns1.ext.wmk", GlueIPs: []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}},
		{Name: "ns.elsewhere.example"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if op, err = w.svc.WaitOperation(ctx, tenant, op.ID, 10*time.Second); err != nil || op.Status != registrar.StatusSuccessful {
		t.Fatalf("operation = %+v, %v", op, err)
	}
	r := ask(t, w.addrs["ns1.pool.wmk."], "www.ext.wmk.", dns.TypeA)
	if r.Authoritative || len(r.Ns) != 2 {
		t.Fatalf("not a referral: %v", r)
	}
	var glue []string
	for _, rr := range r.Extra {
		switch rr := rr.(type) {
		case *dns.A:
			glue = append(glue, rr.Hdr.Name+" "+rr.A.String())
		case *dns.AAAA:
			glue = append(glue, rr.Hdr.Name+" "+rr.AAAA.String())
		}
	}
	if fmt.Sprint(glue) != "[ns1.ext.wmk. 192.0.2.1 ns1.ext.wmk. 2001:db8::1]" {
		t.Errorf("glue = %v", glue)
	}
}

// TestIntegrationRegisterRace: 64 tenants race for one name with
// hosted_zone "create", 20 rounds: exactly one registration each round,
// the others DomainUnavailable, and exactly one zone of the name.
func TestIntegrationRegisterRace(t *testing.T) {
	w := newWorld(t, "", 60)
	ctx := context.Background()
	tenants := make([]string, 64)
	for i := range tenants {
		tenants[i] = w.tenant(t, fmt.Sprintf("race%d", i))
	}
	for round := range 20 {
		name := fmt.Sprintf("race%d.wmk", round)
		var mu sync.Mutex
		var won []string
		var wg sync.WaitGroup
		for _, tn := range tenants {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := w.svc.Register(ctx, tn, registrar.RegisterInput{Name: name, HostedZone: "create"})
				if e, ok := err.(*registrar.Error); ok && e.Code == registrar.CodeDomainUnavailable {
					return
				}
				if err != nil {
					t.Errorf("register: %v", err)
					return
				}
				mu.Lock()
				won = append(won, tn)
				mu.Unlock()
			}()
		}
		wg.Wait()
		if len(won) != 1 {
			t.Fatalf("round %d: %d registrations", round, len(won))
		}
		zones := 0
		for _, tn := range tenants {
			page, err := w.cp.ListZones(ctx, tn, controlplaneList(name+"."))
			if err != nil {
				t.Fatal(err)
			}
			for _, z := range page.Zones {
				if z.Name == name+"." {
					zones++
				}
			}
		}
		if zones != 1 {
			t.Fatalf("round %d: %d zones of %s", round, zones, name)
		}
	}
}

// TestRegisterRules: years, renew guards, caller references and duplicates.
func TestRegisterRules(t *testing.T) {
	w := newWorld(t, "", 60)
	ctx := context.Background()
	tenant := w.tenant(t, "rules")
	code := func(err error) registrar.Code {
		if e, ok := err.(*registrar.Error); ok {
			return e.Code
		}
		return registrar.Code(fmt.Sprint(err))
	}
	if _, err := w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: "long.wmk", Years: 11}); code(err) != registrar.CodeInvalidInput {
		t.Errorf("11 years: %v", err)
	}
	if _, err := w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: "x.example", Years: 1}); code(err) != registrar.CodeUnsupportedTLD {
		t.Errorf("unknown TLD: %v", err)
	}
	if _, err := w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: "ns.wmk", DNSSEC: true,
		Nameservers: []registrar.Nameserver{{Name: "ns.elsewhere.example"}}}); code(err) != registrar.CodeInvalidInput {
		t.Errorf("dnssec with nameservers: %v", err)
	}
	if _, err := w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: "pricey.wmk", MaxPrice: 999}); code(err) != registrar.CodePriceTooHigh {
		t.Errorf("max price: %v", err)
	}
	op1, err := w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: "rules.wmk", Years: 2, HostedZone: "create", CallerReference: "ref-1"})
	if err != nil {
		t.Fatal(err)
	}
	// Same caller reference: the same operation, not a second attempt.
	op2, err := w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: "rules.wmk", Years: 2, HostedZone: "create", CallerReference: "ref-1"})
	if err != nil || op2.ID != op1.ID {
		t.Errorf("repeated caller reference: %+v, %v; want %s", op2, err, op1.ID)
	}
}

// TestIntegrationRenew: a wrong current_expiry_year, more than 10 years
// ahead and a repeated renewal are refused; a right one is charged.
func TestIntegrationRenew(t *testing.T) {
	w := newWorld(t, "0", 60)
	ctx := context.Background()
	tenant := w.tenant(t, "renew")
	code := func(err error) registrar.Code {
		if e, ok := err.(*registrar.Error); ok {
			return e.Code
		}
		return registrar.Code(fmt.Sprint(err))
	}
	op, err := w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: "rules.wmk", Years: 2, HostedZone: "create"})
	if err != nil {
		t.Fatal(err)
	}
	if op, err = w.svc.WaitOperation(ctx, tenant, op.ID, 10*time.Second); err != nil || op.Status != registrar.StatusSuccessful {
		t.Fatalf("operation = %+v, %v", op, err)
	}
	exp := w.clock.now().AddDate(2, 0, 0).Year()
	for _, tc := range []struct {
		years, year int
		want        registrar.Code
	}{
		{1, exp - 1, registrar.CodeInvalidInput},
		{9, exp, registrar.CodeTLDRulesViolation},
		{0, exp + 1, registrar.CodeInvalidInput},
	} {
		if _, err := w.svc.Renew(ctx, tenant, "rules.wmk", tc.years, tc.year); code(err) != tc.want {
			t.Errorf("renew %d years from %d: %v, want %s", tc.years, tc.year, err, tc.want)
		}
	}
	op, err = w.svc.Renew(ctx, tenant, "rules.wmk", 1, exp)
	if err != nil || op.Status != registrar.StatusSuccessful {
		t.Fatalf("renew: %+v, %v", op, err)
	}
	if _, err := w.svc.Renew(ctx, tenant, "rules.wmk", 1, exp); code(err) != registrar.CodeInvalidInput {
		t.Errorf("repeated renew: %v", err)
	}
}

// TestRegisterOntoExistingZoneOneConnection: a registration onto one of
// the tenant's hosted zones reads the zone inside its own transaction, so
// it completes on a pool of one connection (reading it on a second
// connection while the transaction holds the only one waited until the
// context ended).
func TestRegisterOntoExistingZoneOneConnection(t *testing.T) {
	t.Parallel()
	_, dsn := pgtest.Schema(t)
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1
	db, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	var items []string
	for i := 1; i <= 8; i++ {
		items = append(items, fmt.Sprintf("ns%d.pool.wmk.=127.0.92.%d", i, i))
	}
	pool, err := nspool.Parse(strings.Join(items, ","), 4)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := controlplane.New(db, controlplane.Config{
		MasterKey: []byte(strings.Repeat("m", 32)), JWTKey: []byte(strings.Repeat("j", 32)), Pool: pool, PredictableSets: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Open(ctx, db, cp, registry.Config{Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.ConfigureTLD(ctx, "wmk.", registry.Prices{Register: 1000, Renew: 1000, Transfer: 1000, Restore: 5000}, registry.DefaultPolicy()); err != nil {
		t.Fatal(err)
	}
	svc, err := registrar.New(ctx, db, cp, reg, registrar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	tn, _, err := cp.CreateTenant(ctx, "one-conn")
	if err != nil {
		t.Fatal(err)
	}
	z, _, err := cp.CreateZone(ctx, tn.ID, controlplane.CreateZoneInput{Name: "existing.wmk", CallerReference: "z1"})
	if err != nil {
		t.Fatal(err)
	}
	// Bounded, so that a regression fails instead of hanging the run.
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	op, err := svc.Register(rctx, tn.ID, registrar.RegisterInput{Name: "existing.wmk", HostedZone: z.ID})
	if err != nil {
		t.Fatalf("register onto %s: %v", z.ID, err)
	}
	d, err := svc.GetDomain(ctx, tn.ID, "existing.wmk")
	if err != nil || d.HostedZoneID != z.ID {
		t.Fatalf("domain = %+v, %v (operation %s)", d, err, op.ID)
	}
}
