package registrar_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/internal/testkit"
	"github.com/waymark-dns/waymark/registrar"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// advance moves the world's clock forward.
func (w *world) advance(d time.Duration) {
	w.clock.mu.Lock()
	w.clock.t = w.clock.t.Add(d)
	w.clock.mu.Unlock()
}

const day = 24 * time.Hour

// registerExternal registers name for tenant with one external
// nameserver and waits for the operation to succeed.
func registerExternal(t *testing.T, w *world, tenant, name string, autoRenew bool, contacts map[string]registry.ContactInfo) {
	t.Helper()
	ctx := context.Background()
	op, err := w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: name, AutoRenew: autoRenew, Contacts: contacts,
		Nameservers: []registrar.Nameserver{{Name: "ns1.elsewhere.example"}, {Name: "ns2.elsewhere.example"}}})
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	if len(w.addrs) == 0 {
		return // no nameservers: nothing becomes INSYNC
	}
	if op, err = w.svc.WaitOperation(ctx, tenant, op.ID, 10*time.Second); err != nil || op.Status != registrar.StatusSuccessful {
		t.Fatalf("register %s: %+v, %v", name, op, err)
	}
}

// ledgerCount counts the tenant's ledger rows of a kind, per domain.
func ledgerCount(t *testing.T, w *world, tenant, kind string) map[string]int {
	t.Helper()
	entries, err := w.svc.Ledger(context.Background(), tenant, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range entries {
		if e.Kind == kind {
			out[e.Domain]++
		}
	}
	return out
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestIntegrationAutoRenewOnceAcrossKill: 20 domains with auto-renew
// expire at once. A lifecycle leader with batches of 5 is killed (its
// context cancelled) in the middle of its third batch; a second worker
// takes over the leadership and finishes. Every domain is renewed for
// exactly one year and charged exactly once, with one operation each.
// Then, a year later, three workers run the same pass concurrently: again
// exactly one charge per domain for the new period.
func TestIntegrationAutoRenewOnceAcrossKill(t *testing.T) {
	w := newWorld(t, "", 60)
	ctx := context.Background()
	tenant := w.tenant(t, "renewer")
	const n = 20
	exp := map[string]time.Time{}
	for i := range n {
		name := fmt.Sprintf("auto%02d.wmk.", i)
		registerExternal(t, w, tenant, name, true, nil)
		d, err := w.reg.Domain(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		exp[name] = d.ExpiresAt
	}
	// The add grace periods end first, so that every step below is an
	// auto-renewal.
	w.advance(6 * day)
	if p := pass(t, w, registrar.LifecycleConfig{}); p.GraceEnded != n {
		t.Fatalf("add grace pass: %+v", p)
	}
	w.advance(360 * day)

	// Worker A leads and is killed after 12 steps: batches 1 and 2 have
	// committed, the third dies with it.
	actx, cancelA := context.WithCancel(ctx)
	var steps atomic.Int32
	cfgA := registrar.LifecycleConfig{BatchSize: 5, Interval: 20 * time.Millisecond}
	registrar.SetAfterStep(&cfgA, func() {
		if steps.Add(1) == 12 {
			cancelA()
		}
	})
	doneA := make(chan struct{})
	go func() { defer close(doneA); _ = w.svc.NewLifecycle(cfgA).Run(actx) }()
	select {
	case <-doneA:
	case <-time.After(30 * time.Second):
		t.Fatal("worker A did not stop")
	}
	if got := total(ledgerCount(t, w, tenant, "autorenew")); got != 10 {
		t.Fatalf("after the kill: %d charges, want the 10 of the two committed batches", got)
	}

	// Worker B takes over.
	bctx, cancelB := context.WithCancel(ctx)
	doneB := make(chan struct{})
	go func() {
		defer close(doneB)
		_ = w.svc.NewLifecycle(registrar.LifecycleConfig{BatchSize: 5, Interval: 20 * time.Millisecond}).Run(bctx)
	}()
	testkit.Eventually(t, 30*time.Second, func() error {
		if got := total(ledgerCount(t, w, tenant, "autorenew")); got != n {
			return fmt.Errorf("%d of %d charged", got, n)
		}
		return nil
	})
	cancelB()
	<-doneB
	check := func(years int) {
		t.Helper()
		charges := ledgerCount(t, w, tenant, "autorenew")
		ops, err := w.svc.ListOperations(ctx, tenant, 100)
		if err != nil {
			t.Fatal(err)
		}
		renewOps := map[string]int{}
		for _, op := range ops {
			if op.Type == registrar.OpRenew {
				renewOps[op.Domain]++
			}
		}
		for name, e := range exp {
			d, err := w.reg.Domain(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if !d.ExpiresAt.Equal(e.AddDate(years, 0, 0)) || charges[name] != years || renewOps[name] != years {
				t.Errorf("%s: expires %v (want %v), %d charges, %d operations; want %d each",
					name, d.ExpiresAt, e.AddDate(years, 0, 0), charges[name], renewOps[name], years)
			}
		}
	}
	check(1)

	// A year later, three concurrent workers.
	w.advance(365 * day)
	var wg sync.WaitGroup
	var renewed atomic.Int32
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := w.svc.NewLifecycle(registrar.LifecycleConfig{BatchSize: 3}).RunOnce(ctx)
			if err != nil {
				t.Error(err)
			}
			renewed.Add(int32(p.AutoRenewed))
		}()
	}
	wg.Wait()
	// Whatever a concurrent pass skipped (held by another) is due still:
	// one more pass finishes it.
	p, err := w.svc.NewLifecycle(registrar.LifecycleConfig{}).RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := int(renewed.Load()) + p.AutoRenewed; got != n {
		t.Errorf("%d auto-renewals in the second year, want %d", got, n)
	}
	check(2)
}

// tldServer is the address of a nameserver of the TLD zone.
func tldServer(t *testing.T, w *world) string {
	t.Helper()
	tld, err := w.reg.TLD(context.Background(), "wmk.")
	if err != nil {
		t.Fatal(err)
	}
	addr := w.addrs[tld.NameServers[0]]
	if addr == "" {
		t.Fatalf("no listener for %s", tld.NameServers[0])
	}
	return addr
}

// delegated waits until the TLD zone refers name to its nameservers
// (want true) or answers NXDOMAIN for it (want false).
func delegated(t *testing.T, server, name string, want bool) {
	t.Helper()
	testkit.Eventually(t, 10*time.Second, func() error {
		r := ask(t, server, "www."+name, dns.TypeA)
		switch {
		case want && r.Rcode == dns.RcodeSuccess && len(r.Ns) > 0 && !r.Authoritative:
			return nil
		case !want && r.Rcode == dns.RcodeNameError:
			return nil
		}
		return fmt.Errorf("www.%s: %s, %d authority records, want delegated=%v", name, dns.RcodeToString[r.Rcode], len(r.Ns), want)
	})
}

// pass runs one lifecycle pass.
func pass(t testing.TB, w *world, cfg registrar.LifecycleConfig) registrar.Pass {
	t.Helper()
	p, err := w.svc.NewLifecycle(cfg).RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestIntegrationExpiry: two domains without auto-renew expire: their
// delegations leave the TLD zone (NXDOMAIN from a real nameserver), the
// auto-renew grace period passes and they enter redemption. One is
// restored (restore fee plus a year's renewal, back in the DNS); the
// other goes on to pending delete and is released: available again, and
// another tenant registers it.
func TestIntegrationExpiry(t *testing.T) {
	w := newWorld(t, "0", 1)
	ctx := context.Background()
	tenant := w.tenant(t, "lapse")
	server := tldServer(t, w)
	for _, name := range []string{"kept.wmk.", "gone.wmk."} {
		registerExternal(t, w, tenant, name, false, nil)
		delegated(t, server, name, true)
	}
	pol := registry.DefaultPolicy()

	w.advance(365*day + time.Minute)
	if p := pass(t, w, registrar.LifecycleConfig{}); p.Expired != 2 {
		t.Fatalf("expiry pass: %+v", p)
	}
	for _, name := range []string{"kept.wmk.", "gone.wmk."} {
		delegated(t, server, name, false)
		if d, _ := w.reg.Domain(ctx, name); !d.Expired() || d.RGP != registry.RGPAutoRenew {
			t.Errorf("%s after expiry: rgp %q, expired %v", name, d.RGP, d.Expired())
		}
	}
	if p := pass(t, w, registrar.LifecycleConfig{}); p != (registrar.Pass{}) {
		t.Errorf("a second pass at the same time did %+v", p)
	}

	w.advance(pol.AutoRenewGrace)
	if p := pass(t, w, registrar.LifecycleConfig{}); p.Redemption != 2 {
		t.Fatalf("grace end pass: %+v", p)
	}
	for _, name := range []string{"kept.wmk.", "gone.wmk."} {
		if d, _ := w.reg.Domain(ctx, name); d.RGP != registry.RGPRedemption {
			t.Errorf("%s: rgp %q, want redemption", name, d.RGP)
		}
	}

	before, _ := w.reg.Domain(ctx, "kept.wmk.")
	// One operation at a time per domain: the delete waits for the
	// restore's delegation to be served.
	op, err := w.svc.Restore(ctx, tenant, "kept.wmk", "")
	if err != nil {
		t.Fatal(err)
	}
	if op, err = w.svc.WaitOperation(ctx, tenant, op.ID, 10*time.Second); err != nil || op.Status != registrar.StatusSuccessful {
		t.Fatalf("restore: %+v, %v", op, err)
	}
	delegated(t, server, "kept.wmk.", true)
	if d, _ := w.reg.Domain(ctx, "kept.wmk."); d.RGP != "" || !d.ExpiresAt.Equal(before.ExpiresAt.AddDate(1, 0, 0)) {
		t.Errorf("restored: rgp %q, expires %v, want a year after %v", d.RGP, d.ExpiresAt, before.ExpiresAt)
	}
	// The restore fee and the year it renewed.
	if r, n := ledgerCount(t, w, tenant, "restore")["kept.wmk."], ledgerCount(t, w, tenant, "renew")["kept.wmk."]; r != 1 || n != 1 {
		t.Errorf("%d restore and %d renewal charges, want 1 and 1", r, n)
	}

	w.advance(pol.Redemption)
	if p := pass(t, w, registrar.LifecycleConfig{}); p.PendingDelete != 1 {
		t.Fatalf("redemption end pass: %+v", p)
	}
	w.advance(pol.PendingDelete)
	if p := pass(t, w, registrar.LifecycleConfig{}); p.Released != 1 {
		t.Fatalf("pending delete end pass: %+v", p)
	}
	c, err := w.svc.Availability(ctx, "gone.wmk")
	if err != nil || c.Availability != registry.Available {
		t.Fatalf("released: %+v, %v", c, err)
	}
	other := w.tenant(t, "newcomer")
	registerExternal(t, w, other, "gone.wmk.", true, nil)
	delegated(t, server, "gone.wmk.", true)
}

// verifyToken reads the verification token from the newest verify mail
// in dir.
func verifyToken(t *testing.T, dir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*-verify.eml"))
	if len(files) == 0 {
		t.Fatal("no verification mail")
	}
	b, err := os.ReadFile(files[len(files)-1])
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^Token: (\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no token in %s", b)
	}
	return string(m[1])
}

// TestIntegrationUnverifiedRegistrantHeld: the registrant of a new domain
// gets a verification mail (file sink); not verified within 15 days, the
// domain goes on clientHold and its delegation leaves the TLD zone
// (NXDOMAIN); verifying lifts the hold and the delegation returns.
func TestIntegrationUnverifiedRegistrantHeld(t *testing.T) {
	w := newWorld(t, "0", 1)
	ctx := context.Background()
	tenant := w.tenant(t, "verify")
	server := tldServer(t, w)
	mails := t.TempDir()
	cfg := registrar.LifecycleConfig{Mailer: registrar.FileMailer{Dir: mails}}
	contacts := map[string]registry.ContactInfo{"registrant": {Name: "Ada Registrant", City: "Zurich", CountryCode: "CH",
		Email: "Ada@Example.COM", Voice: "+41.445550100", Street: []string{"Bahnhofstrasse 1"}, PostalCode: "8001"}}
	registerExternal(t, w, tenant, "held.wmk.", true, contacts)
	if p := pass(t, w, cfg); p.VerificationsStarted != 1 || p.MailsSent != 1 {
		t.Fatalf("first pass: %+v", p)
	}
	token := verifyToken(t, mails)
	if r, err := w.svc.ContactReachability(ctx, tenant, "held.wmk"); err != nil || r.Status != registrar.ReachabilityPending || r.Email != "ada@example.com" {
		t.Fatalf("reachability: %+v, %v", r, err)
	}
	w.advance(registrar.VerifyWithin - time.Minute)
	if p := pass(t, w, cfg); p.Held != 0 {
		t.Fatalf("held before the deadline: %+v", p)
	}
	delegated(t, server, "held.wmk.", true)
	w.advance(2 * time.Minute)
	if p := pass(t, w, cfg); p.Held != 1 {
		t.Fatalf("deadline pass: %+v", p)
	}
	delegated(t, server, "held.wmk.", false)
	if d, _ := w.reg.Domain(ctx, "held.wmk."); len(d.Statuses) == 0 || !contains(d.Statuses, registry.StatusClientHold) {
		t.Errorf("statuses %v, want clientHold", d.Statuses)
	}
	if r, _ := w.svc.ContactReachability(ctx, tenant, "held.wmk"); r.Status != registrar.ReachabilityExpired {
		t.Errorf("reachability %+v, want EXPIRED", r)
	}
	if _, err := w.svc.VerifyContact(ctx, "not-a-token"); err == nil {
		t.Error("a wrong token verified")
	}
	v, err := w.svc.VerifyContact(ctx, token)
	if err != nil || v.Email != "ada@example.com" || len(v.Released) != 1 {
		t.Fatalf("verify: %+v, %v", v, err)
	}
	delegated(t, server, "held.wmk.", true)
	if r, _ := w.svc.ContactReachability(ctx, tenant, "held.wmk"); r.Status != registrar.ReachabilityDone {
		t.Errorf("reachability %+v, want DONE", r)
	}
	// The hold mail went out too.
	if files, _ := filepath.Glob(filepath.Join(mails, "*-hold.eml")); len(files) != 1 {
		t.Errorf("hold mails: %v", files)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// ledgerSum is the tenant's balance for a domain.
func ledgerSum(t *testing.T, w *world, tenant, domain string) int64 {
	t.Helper()
	entries, err := w.svc.Ledger(context.Background(), tenant, domain)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, e := range entries {
		sum += e.Amount
	}
	return sum
}

// TestIntegrationGraceRefunds: a delete inside a grace period refunds the
// charge that opened it and takes its years back: the registration in the
// add grace period (the name is released at once), a renewal in the renew
// grace period, an auto-renewal in the auto-renew grace period. Outside a
// grace period nothing is refunded.
func TestIntegrationGraceRefunds(t *testing.T) {
	w := newWorld(t, "0", 1)
	ctx := context.Background()
	tenant := w.tenant(t, "refunds")
	pol := registry.DefaultPolicy()
	deleteIt := func(name string) {
		t.Helper()
		op, err := w.svc.Delete(ctx, tenant, name, "")
		if err != nil {
			t.Fatalf("delete %s: %v", name, err)
		}
		if op, err = w.svc.WaitOperation(ctx, tenant, op.ID, 10*time.Second); err != nil || op.Status != registrar.StatusSuccessful {
			t.Fatalf("delete %s: %+v, %v", name, op, err)
		}
	}
	for _, n := range []string{"added.wmk.", "renewed.wmk.", "autorenewed.wmk.", "kept.wmk."} {
		registerExternal(t, w, tenant, n, n == "autorenewed.wmk.", nil)
	}

	// Add grace: refunded, released, available again.
	w.advance(pol.AddGrace - time.Hour)
	deleteIt("added.wmk.")
	if got := ledgerSum(t, w, tenant, "added.wmk."); got != 0 {
		t.Errorf("added.wmk.: balance %d after a delete in the add grace period, want 0", got)
	}
	if c, _ := w.svc.Availability(ctx, "added.wmk"); c.Availability != registry.Available {
		t.Errorf("added.wmk. after the delete: %+v", c)
	}

	// Renew grace: the renewal refunded and its year taken back.
	w.advance(2 * time.Hour)
	pass(t, w, registrar.LifecycleConfig{}) // the add grace periods end
	d, _ := w.reg.Domain(ctx, "renewed.wmk.")
	if _, err := w.svc.Renew(ctx, tenant, "renewed.wmk", 2, d.ExpiresAt.Year()); err != nil {
		t.Fatal(err)
	}
	w.advance(pol.RenewGrace - time.Hour)
	deleteIt("renewed.wmk.")
	if got := ledgerSum(t, w, tenant, "renewed.wmk."); got != 1000 {
		t.Errorf("renewed.wmk.: balance %d, want the registration's 1000 alone", got)
	}
	if after, _ := w.reg.Domain(ctx, "renewed.wmk."); !after.ExpiresAt.Equal(d.ExpiresAt) || after.RGP != registry.RGPRedemption {
		t.Errorf("renewed.wmk. after the delete: expires %v (want %v), rgp %q", after.ExpiresAt, d.ExpiresAt, after.RGP)
	}

	// Auto-renew grace: the auto-renewal refunded.
	w.advance(365 * day)
	if p := pass(t, w, registrar.LifecycleConfig{}); p.AutoRenewed != 1 {
		t.Fatalf("expiry pass: %+v", p)
	}
	if got := ledgerSum(t, w, tenant, "autorenewed.wmk."); got != 2000 {
		t.Fatalf("autorenewed.wmk.: balance %d, want 2000", got)
	}
	// The grace period runs from the old expiry, ten days ago.
	w.advance(pol.AutoRenewGrace - 15*day)
	deleteIt("autorenewed.wmk.")
	if got := ledgerSum(t, w, tenant, "autorenewed.wmk."); got != 1000 {
		t.Errorf("autorenewed.wmk.: balance %d after a delete in the auto-renew grace period, want 1000", got)
	}

	// No grace period: no refund (kept.wmk. expired without auto-renew
	// and is in redemption by now; restore it, then delete it).
	w.advance(10 * day)
	if p := pass(t, w, registrar.LifecycleConfig{}); p.Redemption != 1 {
		t.Fatalf("grace end pass: %+v", p)
	}
	// One operation at a time per domain: the delete waits for the
	// restore's delegation to be served.
	op, err := w.svc.Restore(ctx, tenant, "kept.wmk", "")
	if err != nil {
		t.Fatal(err)
	}
	if op, err = w.svc.WaitOperation(ctx, tenant, op.ID, 10*time.Second); err != nil || op.Status != registrar.StatusSuccessful {
		t.Fatalf("restore: %+v, %v", op, err)
	}
	before := ledgerSum(t, w, tenant, "kept.wmk.")
	deleteIt("kept.wmk.")
	if got := ledgerSum(t, w, tenant, "kept.wmk."); got != before {
		t.Errorf("kept.wmk.: balance %d after a delete outside grace periods, want %d", got, before)
	}
}

// TestIntegrationExpiryNotices: the registrant is mailed 30 and 7 days
// before expiry, once each however many passes run, and again before the
// next expiry once the domain is renewed.
func TestIntegrationExpiryNotices(t *testing.T) {
	w := newWorld(t, "", 60)
	mails := t.TempDir()
	cfg := registrar.LifecycleConfig{Mailer: registrar.FileMailer{Dir: mails}}
	tenant := w.tenant(t, "notices")
	contacts := map[string]registry.ContactInfo{"registrant": {Name: "Ada Registrant", City: "Zurich", CountryCode: "CH",
		Email: "ada@example.com", Voice: "+41.445550100", Street: []string{"Bahnhofstrasse 1"}, PostalCode: "8001"}}
	registerExternal(t, w, tenant, "soon.wmk.", true, contacts)
	count := func(kind string) int {
		files, _ := filepath.Glob(filepath.Join(mails, "*-"+kind+".eml"))
		return len(files)
	}
	w.advance(300 * day)
	if p := pass(t, w, cfg); p.Notices != 0 {
		t.Fatalf("65 days before expiry: %+v", p)
	}
	w.advance(40 * day) // 25 days before
	pass(t, w, cfg)
	pass(t, w, cfg)
	if count("notice30") != 1 || count("notice7") != 0 {
		t.Fatalf("25 days before: %d and %d notices", count("notice30"), count("notice7"))
	}
	w.advance(20 * day) // 5 days before
	pass(t, w, cfg)
	if count("notice30") != 1 || count("notice7") != 1 {
		t.Fatalf("5 days before: %d and %d notices", count("notice30"), count("notice7"))
	}
	w.advance(6 * day) // auto-renewed; 30 days before the next expiry later
	pass(t, w, cfg)
	w.advance(340 * day)
	pass(t, w, cfg)
	if count("notice30") != 2 || count("autorenew") != 1 {
		t.Errorf("before the next expiry: %d notices, %d renewal mails", count("notice30"), count("autorenew"))
	}
}
