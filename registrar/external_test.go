package registrar_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/internal/testkit"
	"github.com/waymark-dns/waymark/registrar"
	"github.com/waymark-dns/waymark/registrar/epp"
	"github.com/waymark-dns/waymark/registrar/regepp/regepptest"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// runWorker runs an external worker until the returned stop is called
// (or the test ends).
func runWorker(t *testing.T, w *world, cfg registrar.ExternalConfig) (stop func()) {
	t.Helper()
	if cfg.Interval == 0 {
		cfg.Interval = 50 * time.Millisecond
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 100 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = w.svc.NewExternalWorker(cfg).Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// waitStatus polls the operation until it has status want; a different
// final status fails at once.
func waitStatus(t *testing.T, w *world, tenant, id, want string) registrar.Operation {
	t.Helper()
	var op registrar.Operation
	testkit.Eventually(t, 30*time.Second, func() error {
		var err error
		if op, err = w.svc.Operation(context.Background(), tenant, id); err != nil {
			return err
		}
		if op.Status != want && (op.Status == registrar.StatusFailed || op.Status == registrar.StatusSuccessful) {
			t.Fatalf("operation %s is %s (%s), want %s", id, op.Status, op.Message, want)
		}
		if op.Status != want {
			return fmt.Errorf("operation %s is %s (%s), want %s", id, op.Status, op.Message, want)
		}
		return nil
	})
	return op
}

func extLedger(t *testing.T, w *world, tenant, domain string) (charges int, sum int64) {
	t.Helper()
	l, err := w.svc.Ledger(context.Background(), tenant, domain)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range l {
		if e.Kind != "refund" {
			charges++
		}
		sum += e.Amount
	}
	return charges, sum
}

// TestIntegrationRegisterAtExternalRegistry: a registrar sells ext., a
// TLD of another registry reached over EPP/TLS (its own database). A
// registration with hosted_zone "create" is SUBMITTED, then SUCCESSFUL
// once the registry created the domain (contacts, the zone's nameservers)
// and the zone is INSYNC; the other registry shows it sponsored by our
// client id and delegates it from its TLD zone; GetDomain and ListDomains
// show the registry's expiry, statuses and nameservers; one charge. A
// registration with glue creates the hosts after the domain. A name
// another registrar holds there, and a reserved one, are FAILED with the
// registry's message and refunded, and the name is not the tenant's.
func TestIntegrationRegisterAtExternalRegistry(t *testing.T) {
	w := newWorld(t, "0", 60)
	x := regepptest.Start(t, registry.DefaultPolicy())
	ctx := context.Background()
	if _, _, err := w.svc.ConfigureExternal(ctx, "ext", x.Input); err != nil {
		t.Fatal(err)
	}
	runWorker(t, w, registrar.ExternalConfig{})
	tenant := w.tenant(t, "ext-owner")
	contacts := map[string]registry.ContactInfo{registrar.RoleRegistrant: contact}

	op, err := w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: "Good.EXT", Years: 2, HostedZone: "create", Contacts: contacts, CallerReference: "good-1"})
	if err != nil {
		t.Fatal(err)
	}
	if op.Status != registrar.StatusSubmitted {
		t.Errorf("first status %s, want SUBMITTED", op.Status)
	}
	// The same caller reference is the same operation.
	if again, err := w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: "good.ext", HostedZone: "create", Contacts: contacts, CallerReference: "good-1"}); err != nil || again.ID != op.ID {
		t.Errorf("repeated caller reference = %v, %v", again.ID, err)
	}
	waitStatus(t, w, tenant, op.ID, registrar.StatusSuccessful)

	d, err := w.svc.GetDomain(ctx, tenant, "good.ext")
	if err != nil {
		t.Fatal(err)
	}
	b := x.Dial(t)
	info, err := b.InfoDomain(ctx, "good.ext", "")
	if err != nil {
		t.Fatal(err)
	}
	if info.ClID != "wm-ext" {
		t.Errorf("sponsor at the registry = %q, want wm-ext", info.ClID)
	}
	var ns []string
	for _, n := range d.Nameservers {
		ns = append(ns, n.Name)
	}
	z, err := w.cp.GetZone(ctx, tenant, d.HostedZoneID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ns, z.NameServers) || d.Registrar != "wm-ext" || d.RegistryDomainID != info.ROID ||
		!d.ExpiresAt.Equal(info.ExDate) || info.ExDate.Year() != time.Now().Year()+2 || slices.Contains(d.Statuses, registrar.StatusPendingCreate) {
		t.Errorf("domain %+v; zone's nameservers %v; at the registry %+v", d, z.NameServers, info)
	}
	if got := x.Delegation(t, "good.ext."); !slices.Equal(got, z.NameServers) {
		t.Errorf("the registry's TLD zone delegates good.ext. to %v, want %v", got, z.NameServers)
	}
	page, err := w.svc.ListDomains(ctx, tenant, registrar.ListDomainsInput{})
	if err != nil || len(page.Domains) != 1 || page.Domains[0].Name != "good.ext." || !page.Domains[0].ExpiresAt.Equal(info.ExDate) {
		t.Errorf("ListDomains = %+v, %v", page, err)
	}
	if n, sum := extLedger(t, w, tenant, "good.ext"); n != 1 || sum != 2400 {
		t.Errorf("ledger: %d charges, %d", n, sum)
	}
	// Not offered yet at an external registry: said so.
	if _, _, err := w.svc.UpdateDomain(ctx, tenant, "good.ext", registrar.UpdateDomainInput{
		Contacts: map[string]registry.ContactInfo{registrar.RoleTech: contact}}); codeOf(err) != registrar.CodeTLDRulesViolation {
		t.Errorf("a contact change = %v", err)
	}
	// The auth code is the registry's (shown to its sponsor); rotating
	// it is not offered there yet.
	if code, err := w.svc.AuthCode(ctx, tenant, "good.ext"); err != nil || code == "" || code != mustAuth(t, x, "good.ext") {
		t.Errorf("AuthCode = %q, %v", code, err)
	}
	if _, err := w.svc.RotateAuthCode(ctx, tenant, "good.ext"); codeOf(err) != registrar.CodeTLDRulesViolation {
		t.Errorf("RotateAuthCode = %v", err)
	}
	// Locked against transfer at the registry, as a built-in domain is.
	if !d.TransferLock || !slices.Contains(info.Status, registrar.StatusTransferProhibited) {
		t.Errorf("lock: GetDomain %v, at the registry %v", d.TransferLock, info.Status)
	}

	// Glue: the hosts inside the domain are created after it.
	op, err = w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: "glue.ext", Contacts: contacts, Nameservers: []registrar.Nameserver{
		{Name: "ns1.glue.ext", GlueIPs: []netip.Addr{netip.MustParseAddr("192.0.2.53")}}, {Name: "ns.example.net"}}})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, w, tenant, op.ID, registrar.StatusSuccessful)
	if h, err := b.InfoHost(ctx, "ns1.glue.ext"); err != nil || h.ClID != "wm-ext" || len(h.Addrs) != 1 {
		t.Errorf("glue host at the registry = %+v, %v", h, err)
	}
	if got := x.Delegation(t, "glue.ext."); !slices.Equal(got, []string{"ns1.glue.ext.", "ns.example.net."}) {
		t.Errorf("glue.ext. delegated to %v", got)
	}

	// A delete in the add grace period: released at the registry and
	// refunded; the tenant's hosted zone stays.
	op, err = w.svc.Delete(ctx, tenant, "good.ext", "")
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, w, tenant, op.ID, registrar.StatusSuccessful)
	if _, err := x.Registry.Domain(ctx, "good.ext"); !registry.IsCode(err, registry.ErrObjectDoesNotExist) {
		t.Errorf("good.ext at the registry after the delete: %v", err)
	}
	if _, err := w.svc.GetDomain(ctx, tenant, "good.ext"); codeOf(err) != registrar.CodeNoSuchDomain {
		t.Errorf("good.ext after the delete: %v", err)
	}
	if n, sum := extLedger(t, w, tenant, "good.ext"); n != 1 || sum != 0 {
		t.Errorf("good.ext deleted in its add grace period: %d charges, sum %d", n, sum)
	}
	if _, err := w.cp.GetZone(ctx, tenant, d.HostedZoneID); err != nil {
		t.Errorf("the hosted zone after the delete: %v", err)
	}

	// Refusals: another registrar's name, a reserved name.
	if err := b.CreateContact(ctx, epp.Contact{ID: "bowner", Email: "b@example.test", AuthInfo: "2fooBAR!",
		Postal: []epp.Postal{{Type: "int", Name: "B", City: "Oslo", CC: "NO"}}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.CreateDomain(ctx, epp.DomainCreate{Name: "taken.ext", Years: 1, Registrant: "bowner", AuthInfo: "code-Right1"}); err != nil {
		t.Fatal(err)
	}
	if err := x.Registry.SetNameRule(ctx, registry.NameRule{TLD: "ext", Label: "kept", Kind: "reserved"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, message string }{
		{"taken.ext", "another registrar"},
		{"kept.ext", "reserved"},
	} {
		op, err := w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: tc.name, Contacts: contacts, Nameservers: []registrar.Nameserver{{Name: "ns.example.net"}}})
		if err != nil {
			t.Fatal(err)
		}
		op = waitStatus(t, w, tenant, op.ID, registrar.StatusFailed)
		if !strings.Contains(op.Message, tc.message) {
			t.Errorf("%s: message %q, want it to say %q", tc.name, op.Message, tc.message)
		}
		if n, sum := extLedger(t, w, tenant, tc.name); n != 1 || sum != 0 {
			t.Errorf("%s: ledger %d charges, sum %d, want refunded", tc.name, n, sum)
		}
		if _, err := w.svc.GetDomain(ctx, tenant, tc.name); codeOf(err) != registrar.CodeNoSuchDomain {
			t.Errorf("%s after the refusal: %v", tc.name, err)
		}
	}
}

// TestIntegrationExternalCreateExactlyOnce: the worker is killed after the
// registry answered the create and before the answer was recorded. The
// next worker finds the domain sponsored by us (info first) and records
// it: one domain at the registry, one charge, SUCCESSFUL.
func TestIntegrationExternalCreateExactlyOnce(t *testing.T) {
	w := newWorld(t, "", 60)
	x := regepptest.Start(t, registry.DefaultPolicy())
	ctx := context.Background()
	if _, _, err := w.svc.ConfigureExternal(ctx, "ext", x.Input); err != nil {
		t.Fatal(err)
	}
	tenant := w.tenant(t, "ext-once")
	op, err := w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: "once.ext", Contacts: map[string]registry.ContactInfo{registrar.RoleRegistrant: contact},
		Nameservers: []registrar.Nameserver{{Name: "ns.example.net"}}})
	if err != nil {
		t.Fatal(err)
	}
	// The kill: the worker's context ends the moment the answer is in.
	killWorker(t, w, "create", "once.ext.")
	if d, err := x.Registry.Domain(ctx, "once.ext"); err != nil || d.RegistrarID != "wm-ext" {
		t.Fatalf("at the registry after the kill: %+v, %v", d, err)
	}
	if op, err := w.svc.Operation(ctx, tenant, op.ID); err != nil || op.Status != registrar.StatusSubmitted {
		t.Fatalf("after the kill the operation is %+v, %v; want SUBMITTED (the answer unrecorded)", op, err)
	}
	runWorker(t, w, registrar.ExternalConfig{})
	waitStatus(t, w, tenant, op.ID, registrar.StatusSuccessful)
	if n, sum := extLedger(t, w, tenant, "once.ext"); n != 1 || sum != 1200 {
		t.Errorf("ledger: %d charges, %d", n, sum)
	}
	d, err := w.svc.GetDomain(ctx, tenant, "once.ext")
	if err != nil || len(d.Nameservers) != 1 || d.Nameservers[0].Name != "ns.example.net." {
		t.Errorf("GetDomain = %+v, %v", d, err)
	}
}

// TestIntegrationExternalPendingCreate: a TLD whose creates wait for the
// registry operator (CreateApproval, a land-rush period) answers 1001.
// The operation is IN_PROGRESS, stays so across a worker restart, and is
// SUCCESSFUL when the registry's poll message (panData) reaches the new
// worker after the operator approved; rejected, it is FAILED and
// refunded. The messages are acknowledged.
func TestIntegrationExternalPendingCreate(t *testing.T) {
	w := newWorld(t, "", 60)
	pol := registry.DefaultPolicy()
	pol.CreateApproval = true
	x := regepptest.Start(t, pol)
	ctx := context.Background()
	if _, _, err := w.svc.ConfigureExternal(ctx, "ext", x.Input); err != nil {
		t.Fatal(err)
	}
	tenant := w.tenant(t, "ext-pending")
	stop := runWorker(t, w, registrar.ExternalConfig{})
	register := func(name string) registrar.Operation {
		op, err := w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: name, Contacts: map[string]registry.ContactInfo{registrar.RoleRegistrant: contact},
			Nameservers: []registrar.Nameserver{{Name: "ns.example.net"}}})
		if err != nil {
			t.Fatal(err)
		}
		return waitStatus(t, w, tenant, op.ID, registrar.StatusInProgress)
	}
	yes, no := register("yes.ext"), register("no.ext")
	if !strings.Contains(yes.Message, "1001") {
		t.Errorf("pending message %q", yes.Message)
	}
	if d, err := w.svc.GetDomain(ctx, tenant, "yes.ext"); err != nil || !slices.Contains(d.Statuses, registrar.StatusPendingCreate) {
		t.Errorf("pending domain %+v, %v", d, err)
	}
	if got := x.Delegation(t, "yes.ext."); got != nil {
		t.Errorf("a pending create is delegated: %v", got)
	}
	// The worker restarts; meanwhile the operator decides.
	stop()
	if err := x.Registry.DecideCreate(ctx, "yes.ext", true, ""); err != nil {
		t.Fatal(err)
	}
	if err := x.Registry.DecideCreate(ctx, "no.ext", false, "a trademark holder's application won"); err != nil {
		t.Fatal(err)
	}
	if op, err := w.svc.Operation(ctx, tenant, yes.ID); err != nil || op.Status != registrar.StatusInProgress {
		t.Fatalf("with no worker: %+v, %v", op, err)
	}
	runWorker(t, w, registrar.ExternalConfig{})
	waitStatus(t, w, tenant, yes.ID, registrar.StatusSuccessful)
	op := waitStatus(t, w, tenant, no.ID, registrar.StatusFailed)
	if !strings.Contains(op.Message, "did not complete") {
		t.Errorf("rejected: %q", op.Message)
	}
	if n, sum := extLedger(t, w, tenant, "no.ext"); n != 1 || sum != 0 {
		t.Errorf("rejected: ledger %d charges, %d", n, sum)
	}
	if d, err := w.svc.GetDomain(ctx, tenant, "yes.ext"); err != nil || slices.Contains(d.Statuses, registrar.StatusPendingCreate) || d.RegistryDomainID == "" {
		t.Errorf("approved domain %+v, %v", d, err)
	}
	if got := x.Delegation(t, "yes.ext."); !slices.Equal(got, []string{"ns.example.net."}) {
		t.Errorf("approved yes.ext. delegated to %v", got)
	}
	// Both messages were acknowledged (the queue is empty).
	testkit.Eventually(t, 10*time.Second, func() error {
		if _, n, ok, err := x.Registry.Poll(ctx, "wm-ext"); err != nil || ok {
			return fmt.Errorf("%d poll messages left (%v)", n, err)
		}
		return nil
	})
}

// TestIntegrationExternalDomainOperations: after the create, every
// operation offered on an external domain reaches the other registry
// through the worker: a renewal (its expiry a year later there, a second
// one with the same current_expiry_year refused, a renewal killed after
// the registry answered is not renewed again), new nameservers with glue
// (delegated from the registry's TLD zone), a DS added and removed by its
// id (secDNS update), the transfer lock cleared (a client status update),
// a delete past the add grace period (redemption,
// out of the TLD zone) and the restore (RGP; back in it), each charged
// once.
func TestIntegrationExternalDomainOperations(t *testing.T) {
	w := newWorld(t, "", 60)
	pol := registry.DefaultPolicy()
	pol.AddGrace = 0 // a delete enters redemption
	x := regepptest.Start(t, pol)
	ctx := context.Background()
	in := x.Input
	in.Prices.Restore = 5000
	if _, _, err := w.svc.ConfigureExternal(ctx, "ext", in); err != nil {
		t.Fatal(err)
	}
	stop := runWorker(t, w, registrar.ExternalConfig{})
	tenant := w.tenant(t, "ext-ops")
	op, err := w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: "ops.ext", Contacts: map[string]registry.ContactInfo{registrar.RoleRegistrant: contact},
		Nameservers: []registrar.Nameserver{{Name: "ns.example.net"}}})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, w, tenant, op.ID, registrar.StatusSuccessful)
	b := x.Dial(t)
	info := func() epp.Domain {
		t.Helper()
		d, err := b.InfoDomain(ctx, "ops.ext", "")
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	run := func(op registrar.Operation, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		waitStatus(t, w, tenant, op.ID, registrar.StatusSuccessful)
	}

	// Renew.
	exp := info().ExDate
	run(w.svc.Renew(ctx, tenant, "ops.ext", 1, exp.Year()))
	if got := info().ExDate; !got.Equal(exp.AddDate(1, 0, 0)) {
		t.Errorf("expiry at the registry %v, want %v", got, exp.AddDate(1, 0, 0))
	}
	if d, err := w.svc.GetDomain(ctx, tenant, "ops.ext"); err != nil || !d.ExpiresAt.Equal(exp.AddDate(1, 0, 0)) {
		t.Errorf("GetDomain after the renewal: %+v, %v", d, err)
	}
	if _, err := w.svc.Renew(ctx, tenant, "ops.ext", 1, exp.Year()); codeOf(err) != registrar.CodeInvalidInput {
		t.Errorf("a repeated renewal = %v", err)
	}

	// A renewal whose answer is lost: the worker killed after the
	// registry renewed, before recording it; the next one finds the
	// expiry moved by the renewal's years and does not renew again.
	stop()
	exp = info().ExDate
	rop, err := w.svc.Renew(ctx, tenant, "ops.ext", 2, exp.Year())
	if err != nil {
		t.Fatal(err)
	}
	killWorker(t, w, "renew", "ops.ext.")
	if got := info().ExDate; !got.Equal(exp.AddDate(2, 0, 0)) {
		t.Fatalf("after the kill the registry has %v, want %v", got, exp.AddDate(2, 0, 0))
	}
	if op, err := w.svc.Operation(ctx, tenant, rop.ID); err != nil || op.Status != registrar.StatusSubmitted {
		t.Fatalf("after the kill: %+v, %v", op, err)
	}
	runWorker(t, w, registrar.ExternalConfig{})
	waitStatus(t, w, tenant, rop.ID, registrar.StatusSuccessful)
	if got := info().ExDate; !got.Equal(exp.AddDate(2, 0, 0)) {
		t.Errorf("renewed again: the registry has %v, want %v", got, exp.AddDate(2, 0, 0))
	}

	// Nameservers, one inside the domain with glue.
	run(w.svc.UpdateNameservers(ctx, tenant, "ops.ext", []registrar.Nameserver{
		{Name: "ns1.ops.ext", GlueIPs: []netip.Addr{netip.MustParseAddr("192.0.2.7")}}, {Name: "ns2.example.org"}}, ""))
	if got := info().NS; !slices.Equal(got, []string{"ns1.ops.ext", "ns2.example.org"}) {
		t.Errorf("nameservers at the registry %v", got)
	}
	if got := x.Delegation(t, "ops.ext."); !slices.Equal(got, []string{"ns1.ops.ext.", "ns2.example.org."}) {
		t.Errorf("ops.ext. delegated to %v", got)
	}
	d, err := w.svc.GetDomain(ctx, tenant, "ops.ext")
	if err != nil || len(d.Nameservers) != 2 || d.Nameservers[0].Name != "ns1.ops.ext." || len(d.Nameservers[0].GlueIPs) != 1 {
		t.Errorf("GetDomain nameservers %+v, %v", d.Nameservers, err)
	}

	// DS added, then removed by its id.
	ds := registry.DS{KeyTag: 12345, Algorithm: 13, DigestType: 2, Digest: strings.Repeat("AB", 32)}
	op, recs, err := w.svc.AddDS(ctx, tenant, "ops.ext", []registrar.DSInput{{DS: &ds}}, "")
	run(op, err)
	if got := info().DS; len(got) != 1 || got[0].KeyTag != 12345 {
		t.Errorf("DS at the registry %+v", got)
	}
	if list, err := w.svc.ListDS(ctx, tenant, "ops.ext"); err != nil || len(list) != 1 || list[0].ID != recs[0].ID {
		t.Errorf("ListDS = %+v, %v", list, err)
	}
	run(w.svc.RemoveDS(ctx, tenant, "ops.ext", recs[0].ID, ""))
	if got := info().DS; len(got) != 0 {
		t.Errorf("DS at the registry after the removal %+v", got)
	}

	// The transfer lock off, at the registry; privacy alone is the
	// registrar's setting, done at once.
	unlocked, privacy := false, false
	_, lop, err := w.svc.UpdateDomain(ctx, tenant, "ops.ext", registrar.UpdateDomainInput{TransferLock: &unlocked})
	if err != nil {
		t.Fatal(err)
	}
	run(*lop, nil)
	if got := info().Status; slices.Contains(got, registrar.StatusTransferProhibited) {
		t.Errorf("statuses at the registry after unlocking %v", got)
	}
	if d, err := w.svc.GetDomain(ctx, tenant, "ops.ext"); err != nil || d.TransferLock {
		t.Errorf("GetDomain after unlocking %+v, %v", d, err)
	}
	if _, pop, err := w.svc.UpdateDomain(ctx, tenant, "ops.ext", registrar.UpdateDomainInput{Privacy: &privacy}); err != nil || pop.Status != registrar.StatusSuccessful {
		t.Errorf("privacy = %+v, %v", pop, err)
	}

	// Delete (redemption), then restore.
	run(w.svc.Delete(ctx, tenant, "ops.ext", ""))
	if got := info().RGPStatus; !slices.Contains(got, registry.RGPRedemption) {
		t.Errorf("RGP at the registry after the delete %v", got)
	}
	if got := x.Delegation(t, "ops.ext."); got != nil {
		t.Errorf("a deleted domain is delegated to %v", got)
	}
	if d, err := w.svc.GetDomain(ctx, tenant, "ops.ext"); err != nil || !slices.Contains(d.Statuses, registry.RGPRedemption) {
		t.Errorf("GetDomain after the delete %+v, %v", d, err)
	}
	run(w.svc.Restore(ctx, tenant, "ops.ext", ""))
	if got := info().RGPStatus; slices.Contains(got, registry.RGPRedemption) {
		t.Errorf("RGP at the registry after the restore %v", got)
	}
	if got := x.Delegation(t, "ops.ext."); len(got) != 2 {
		t.Errorf("a restored domain is delegated to %v", got)
	}
	l, err := w.svc.Ledger(ctx, tenant, "ops.ext")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range l {
		kinds = append(kinds, fmt.Sprintf("%s %d", e.Kind, e.Amount))
	}
	if want := []string{"register 1200", "renew 1100", "renew 2200", "restore 5000"}; !slices.Equal(kinds, want) {
		t.Errorf("ledger %v, want %v", kinds, want)
	}
}

// killWorker runs a worker until it has the registry's answer to command
// on domain, and kills it there, before the answer is recorded.
func killWorker(t *testing.T, w *world, command, domain string) {
	t.Helper()
	cfg := registrar.ExternalConfig{Interval: 50 * time.Millisecond}
	ctx, kill := context.WithCancel(context.Background())
	defer kill()
	registrar.SetAfterSend(&cfg, func(cmd, d string) {
		if cmd == command && d == domain {
			kill()
		}
	})
	done := make(chan error, 1)
	go func() { done <- w.svc.NewExternalWorker(cfg).Run(ctx) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		kill()
		<-done
		t.Fatalf("the worker never sent %s for %s", command, domain)
	}
}

// TestIntegrationExternalAutoRenew: the lifecycle renews an external
// domain with auto-renew on at its registry a week before it expires,
// once however often it runs (one RENEW_DOMAIN operation, one autorenew
// charge, the registry's expiry a year later), and leaves one with
// auto-renew off alone.
func TestIntegrationExternalAutoRenew(t *testing.T) {
	w := newWorld(t, "", 60)
	x := regepptest.Start(t, registry.DefaultPolicy())
	ctx := context.Background()
	if _, _, err := w.svc.ConfigureExternal(ctx, "ext", x.Input); err != nil {
		t.Fatal(err)
	}
	runWorker(t, w, registrar.ExternalConfig{})
	tenant := w.tenant(t, "ext-auto")
	for _, tc := range []struct {
		name string
		auto bool
	}{{"auto.ext", true}, {"manual.ext", false}} {
		op, err := w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: tc.name, AutoRenew: tc.auto,
			Contacts: map[string]registry.ContactInfo{registrar.RoleRegistrant: contact}, Nameservers: []registrar.Nameserver{{Name: "ns.example.net"}}})
		if err != nil {
			t.Fatal(err)
		}
		waitStatus(t, w, tenant, op.ID, registrar.StatusSuccessful)
	}
	b := x.Dial(t)
	before, err := b.InfoDomain(ctx, "auto.ext", "")
	if err != nil {
		t.Fatal(err)
	}
	lc := w.svc.NewLifecycle(registrar.LifecycleConfig{})
	renewals := func() []registrar.Operation {
		t.Helper()
		page, err := w.svc.ListOperationsPage(ctx, tenant, registrar.ListOperationsInput{Types: []string{registrar.OpRenew}})
		if err != nil {
			t.Fatal(err)
		}
		return page.Operations
	}
	if p, err := lc.RunOnce(ctx); err != nil || p.AutoRenewed != 0 || len(renewals()) != 0 {
		t.Fatalf("a year before expiry: %+v, %v, %d renewals", p, err, len(renewals()))
	}
	w.clock.mu.Lock()
	w.clock.t = before.ExDate.Add(-3 * 24 * time.Hour)
	w.clock.mu.Unlock()
	for range 3 {
		if _, err := lc.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ops := renewals()
	if len(ops) != 1 || ops[0].Domain != "auto.ext." {
		t.Fatalf("renewals %+v", ops)
	}
	waitStatus(t, w, tenant, ops[0].ID, registrar.StatusSuccessful)
	if after, err := b.InfoDomain(ctx, "auto.ext", ""); err != nil || !after.ExDate.Equal(before.ExDate.AddDate(1, 0, 0)) {
		t.Errorf("expiry at the registry %v, want %v (%v)", after.ExDate, before.ExDate.AddDate(1, 0, 0), err)
	}
	if _, err := lc.RunOnce(ctx); err != nil || len(renewals()) != 1 {
		t.Errorf("after the renewal: %d renewals, %v", len(renewals()), err)
	}
	l, err := w.svc.Ledger(ctx, tenant, "auto.ext")
	if err != nil || len(l) != 2 || l[1].Kind != "autorenew" || l[1].Amount != 1100 {
		t.Errorf("ledger %+v, %v", l, err)
	}
	if n, _ := extLedger(t, w, tenant, "manual.ext"); n != 1 {
		t.Errorf("manual.ext charged %d times", n)
	}
}

// mustAuth is a domain's auth code as the registry holds it.
func mustAuth(t *testing.T, x *regepptest.Registry, name string) string {
	t.Helper()
	d, err := x.Registry.Domain(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return d.AuthInfo
}

// TestIntegrationExternalTransferIn: a domain another registrar holds at
// the external registry comes to a tenant with its auth code. A wrong
// code is InvalidInput (the registry's 2202) and FAILED; the right one is
// IN_PROGRESS (EPP 1001) until the losing registrar approves — the
// approval reaches a worker started after it, as a poll message
// (trnData): SUCCESSFUL, the domain the tenant's with the registry's
// expiry, sponsored by us there, charged the transfer price once. A
// second transfer is rejected by its losing registrar: FAILED, no charge;
// a third is cancelled by the tenant (EPP transfer cancel).
func TestIntegrationExternalTransferIn(t *testing.T) {
	w := newWorld(t, "", 60)
	pol := registry.DefaultPolicy()
	pol.TransferLock = 0
	x := regepptest.Start(t, pol)
	ctx := context.Background()
	in := x.Input
	in.Prices.Transfer = 900
	if _, _, err := w.svc.ConfigureExternal(ctx, "ext", in); err != nil {
		t.Fatal(err)
	}
	tenant := w.tenant(t, "ext-gainer")
	b := x.Dial(t)
	if err := b.CreateContact(ctx, epp.Contact{ID: "bowner", Email: "b@example.test", AuthInfo: "2fooBAR!",
		Postal: []epp.Postal{{Type: "int", Name: "B", City: "Oslo", CC: "NO"}}}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"moving.ext", "staying.ext", "maybe.ext"} {
		if _, _, err := b.CreateDomain(ctx, epp.DomainCreate{Name: n, Years: 1, Registrant: "bowner", AuthInfo: "code-Right1", NS: []string{"ns.example.net"}}); err != nil {
			t.Fatal(err)
		}
	}
	if tr, err := w.svc.Transferability(ctx, tenant, "moving.ext"); err != nil || tr.Transferable != registrar.Transferable || tr.TransferPrice != 900 {
		t.Errorf("Transferability = %+v, %v", tr, err)
	}
	contacts := map[string]registry.ContactInfo{registrar.RoleRegistrant: contact}
	if _, err := w.svc.TransferIn(ctx, tenant, registrar.TransferInInput{Name: "moving.ext", AuthCode: "wrong-code1", Contacts: contacts}); codeOf(err) != registrar.CodeInvalidInput {
		t.Errorf("a wrong auth code = %v", err)
	}
	op, err := w.svc.TransferIn(ctx, tenant, registrar.TransferInInput{Name: "moving.ext", AuthCode: "code-Right1", Contacts: contacts, AutoRenew: true, CallerReference: "move-1"})
	if err != nil || op.Status != registrar.StatusInProgress {
		t.Fatalf("TransferIn = %+v, %v", op, err)
	}
	if again, err := w.svc.TransferIn(ctx, tenant, registrar.TransferInInput{Name: "moving.ext", AuthCode: "code-Right1", CallerReference: "move-1"}); err != nil || again.ID != op.ID {
		t.Errorf("repeated caller reference = %+v, %v", again, err)
	}
	// A worker sees it pending, and stops.
	stop := runWorker(t, w, registrar.ExternalConfig{})
	if _, err := w.svc.GetDomain(ctx, tenant, "moving.ext"); codeOf(err) != registrar.CodeNoSuchDomain {
		t.Errorf("a pending transfer's domain: %v", err)
	}
	stop()
	if _, _, err := b.TransferDomain(ctx, epp.TransferRequest{Op: "approve", Name: "moving.ext"}); err != nil {
		t.Fatal(err)
	}
	runWorker(t, w, registrar.ExternalConfig{})
	waitStatus(t, w, tenant, op.ID, registrar.StatusSuccessful)
	at, err := b.InfoDomain(ctx, "moving.ext", "")
	if err != nil || at.ClID != "wm-ext" {
		t.Fatalf("at the registry after the transfer: %+v, %v", at, err)
	}
	d, err := w.svc.GetDomain(ctx, tenant, "moving.ext")
	if err != nil || !d.ExpiresAt.Equal(at.ExDate) || !d.AutoRenew || len(d.Nameservers) != 1 {
		t.Errorf("GetDomain = %+v, %v; at the registry %+v", d, err, at)
	}
	if n, sum := extLedger(t, w, tenant, "moving.ext"); n != 1 || sum != 900 {
		t.Errorf("ledger: %d charges, %d", n, sum)
	}

	// Rejected by the losing registrar; cancelled by the tenant.
	rej, err := w.svc.TransferIn(ctx, tenant, registrar.TransferInInput{Name: "staying.ext", AuthCode: "code-Right1", Contacts: contacts})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.TransferDomain(ctx, epp.TransferRequest{Op: "reject", Name: "staying.ext"}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, w, tenant, rej.ID, registrar.StatusFailed)
	if n, _ := extLedger(t, w, tenant, "staying.ext"); n != 0 {
		t.Errorf("a rejected transfer charged %d times", n)
	}
	can, err := w.svc.TransferIn(ctx, tenant, registrar.TransferInInput{Name: "maybe.ext", AuthCode: "code-Right1", Contacts: contacts})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := w.svc.CancelTransfer(ctx, tenant, "maybe.ext", ""); err != nil || c.ID != can.ID || c.Status != registrar.StatusFailed {
		t.Errorf("CancelTransfer = %+v, %v", c, err)
	}
	if tr, _, err := b.TransferDomain(ctx, epp.TransferRequest{Op: "query", Name: "maybe.ext"}); err != nil || tr.Status != "clientCancelled" {
		t.Errorf("the cancelled transfer at the registry: %+v, %v", tr, err)
	}
	if at, err := b.InfoDomain(ctx, "maybe.ext", ""); err != nil || at.ClID != "reg-b" {
		t.Errorf("maybe.ext at the registry: %+v, %v", at, err)
	}
}

// TestIntegrationExternalJobBackoff: a job whose registry cannot be
// reached is put off 1 s, then 2 s, by the schedule's own clock
// (registrar.Config.Now), and not tried before it is due; once the
// registry is reachable the next due pass runs it. The registry's clock
// stays where it is throughout.
func TestIntegrationExternalJobBackoff(t *testing.T) {
	w := newWorld(t, "", 60)
	x := regepptest.Start(t, registry.DefaultPolicy())
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String() // nothing listens there once closed
	ln.Close()
	down := x.Input
	down.EPPAddress = closed
	if _, _, err := w.svc.ConfigureExternal(ctx, "ext", down); err != nil {
		t.Fatal(err)
	}
	jobs := &clock{t: time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)}
	svc, err := registrar.New(ctx, w.db, w.cp, w.reg, registrar.Config{Now: jobs.now})
	if err != nil {
		t.Fatal(err)
	}
	tenant := w.tenant(t, "ext-backoff")
	op, err := svc.Register(ctx, tenant, registrar.RegisterInput{Name: "later.ext", Contacts: map[string]registry.ContactInfo{registrar.RoleRegistrant: contact},
		Nameservers: []registrar.Nameserver{{Name: "ns.example.net"}}})
	if err != nil {
		t.Fatal(err)
	}
	worker := svc.NewExternalWorker(registrar.ExternalConfig{})
	advance := func(d time.Duration) { jobs.mu.Lock(); jobs.t = jobs.t.Add(d); jobs.mu.Unlock() }
	for _, step := range []struct {
		name     string
		advance  time.Duration
		attempts int
		next     time.Duration // after the first attempt's time
	}{
		{"first attempt", 0, 1, time.Second},
		{"not due yet", 999 * time.Millisecond, 1, time.Second},
		{"due", time.Millisecond, 2, 3 * time.Second},
		{"put off 2 s", 1999 * time.Millisecond, 2, 3 * time.Second},
	} {
		advance(step.advance)
		_ = worker.RunOnce(ctx) // the registry is down: an error, or nothing due
		var attempts int
		var next time.Time
		if err := w.db.QueryRow(ctx, `SELECT attempts, next_at FROM registrar_epp_job WHERE operation_id = $1`, op.ID).Scan(&attempts, &next); err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC).Add(step.next); attempts != step.attempts || !next.Equal(want) {
			t.Errorf("%s: %d attempts, next at %s; want %d, %s", step.name, attempts, next.UTC(), step.attempts, want)
		}
	}
	if o, err := svc.Operation(ctx, tenant, op.ID); err != nil || o.Status != registrar.StatusSubmitted {
		t.Fatalf("while the registry is down the operation is %+v, %v; want SUBMITTED", o, err)
	}
	if _, _, err := w.svc.ConfigureExternal(ctx, "ext", x.Input); err != nil {
		t.Fatal(err)
	}
	advance(time.Millisecond)
	if err := worker.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, w, tenant, op.ID, registrar.StatusSuccessful)
	if d, err := x.Registry.Domain(ctx, "later.ext"); err != nil || d.RegistrarID != "wm-ext" {
		t.Errorf("at the registry: %+v, %v", d, err)
	}
}

// TestIntegrationExternalTransferInFlight: a worker pass that comes while
// a transfer in's request is on its way (after its transaction, before
// the EPP request; the request's own wake-up brings one) must not ask the
// registry, which knows nothing of it yet, and fail the transfer: the
// request then leaves and the transfer is pending at both ends. A request
// that never left (its process died there) is settled FAILED by the
// worker's query once transferRequestGrace has passed on the schedule's
// clock, and not before.
func TestIntegrationExternalTransferInFlight(t *testing.T) {
	w := newWorld(t, "", 60)
	pol := registry.DefaultPolicy()
	pol.TransferLock = 0
	x := regepptest.Start(t, pol)
	ctx := context.Background()
	jobs := &clock{t: time.Now().UTC()}
	svc, err := registrar.New(ctx, w.db, w.cp, w.reg, registrar.Config{Now: jobs.now})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.ConfigureExternal(ctx, "ext", x.Input); err != nil {
		t.Fatal(err)
	}
	b := x.Dial(t)
	if err := b.CreateContact(ctx, epp.Contact{ID: "fowner", Email: "f@example.test", AuthInfo: "2fooBAR!",
		Postal: []epp.Postal{{Type: "int", Name: "F", City: "Oslo", CC: "NO"}}}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"flight.ext", "lost.ext"} {
		if _, _, err := b.CreateDomain(ctx, epp.DomainCreate{Name: n, Years: 1, Registrant: "fowner", AuthInfo: "code-Right1", NS: []string{"ns.example.net"}}); err != nil {
			t.Fatal(err)
		}
	}
	tenant := w.tenant(t, "ext-in-flight")
	contacts := map[string]registry.ContactInfo{registrar.RoleRegistrant: contact}
	worker := svc.NewExternalWorker(registrar.ExternalConfig{})
	status := func(id string) registrar.Operation {
		t.Helper()
		op, err := svc.Operation(ctx, tenant, id)
		if err != nil {
			t.Fatal(err)
		}
		return op
	}

	passes := 0
	registrar.SetBeforeTransferRequest(svc, func() error { passes++; return worker.RunOnce(ctx) })
	op, err := svc.TransferIn(ctx, tenant, registrar.TransferInInput{Name: "flight.ext", AuthCode: "code-Right1", Contacts: contacts})
	if err != nil || passes != 1 {
		t.Fatalf("TransferIn = %+v, %v after %d passes", op, err, passes)
	}
	if got := status(op.ID); got.Status != registrar.StatusInProgress {
		t.Fatalf("after a pass during its request the transfer is %s (%s), want IN_PROGRESS", got.Status, got.Message)
	}
	if tr, _, err := b.TransferDomain(ctx, epp.TransferRequest{Op: "query", Name: "flight.ext"}); err != nil || tr.Status != "pending" || tr.ReID != "wm-ext" {
		t.Errorf("at the registry: %+v, %v", tr, err)
	}

	registrar.SetBeforeTransferRequest(svc, func() error { return errors.New("the process died") })
	lost, err := svc.TransferIn(ctx, tenant, registrar.TransferInInput{Name: "lost.ext", AuthCode: "code-Right1", Contacts: contacts})
	if err != nil {
		t.Fatal(err)
	}
	advance := func(d time.Duration) { jobs.mu.Lock(); jobs.t = jobs.t.Add(d); jobs.mu.Unlock() }
	advance(time.Minute) // past the poll interval, inside the grace
	if err := worker.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := status(lost.ID); got.Status != registrar.StatusInProgress {
		t.Fatalf("inside the grace the transfer that never left is %s (%s), want IN_PROGRESS", got.Status, got.Message)
	}
	advance(time.Minute + time.Second) // past it
	if err := worker.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := status(lost.ID); got.Status != registrar.StatusFailed || !strings.Contains(got.Message, "no transfer of lost.ext") {
		t.Errorf("past the grace the transfer that never left is %s (%s), want FAILED", got.Status, got.Message)
	}
	if got := status(op.ID); got.Status != registrar.StatusInProgress {
		t.Errorf("the transfer pending at the registry is %s (%s), want IN_PROGRESS", got.Status, got.Message)
	}
}
