package registrar_test

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/internal/testkit"
	"github.com/waymark-dns/waymark/registrar"
	"github.com/waymark-dns/waymark/zonecfg"
)

// tldDS asks the TLD zone's nameserver for the DS set of name, as a
// validating resolver following the referral does: the records in
// canonical RDATA, upper case, sorted.
func tldDS(t *testing.T, w *world, name string) []string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeDS)
	m.RecursionDesired = false
	m.SetEdns0(1232, true)
	r, err := dns.Exchange(m, tldServer(t, w))
	if err != nil {
		t.Fatalf("DS %s: %v", name, err)
	}
	var out []string
	for _, rr := range r.Answer {
		if ds, ok := rr.(*dns.DS); ok {
			out = append(out, strings.ToUpper(zonecfg.RData(ds)))
		}
	}
	slices.Sort(out)
	return out
}

// activeDS is the DS of each ACTIVE key-signing key of the zone.
func activeDS(t *testing.T, w *world, tenant, zoneID string) ([]string, map[string]string) {
	t.Helper()
	info, err := w.cp.GetDNSSEC(context.Background(), tenant, zoneID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	byName := map[string]string{}
	for _, k := range info.KeySigningKeys {
		byName[k.Name] = strings.ToUpper(k.DSRecord)
		if k.Status == controlplane.KeyStatusActive {
			out = append(out, strings.ToUpper(k.DSRecord))
		}
	}
	slices.Sort(out)
	return out, byName
}

// untilDS runs the control plane's DNSSEC passes until the TLD zone's
// nameserver answers want for name.
func untilDS(t *testing.T, w *world, name string, want []string) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := w.cp.AdvanceDNSSEC(ctx); err != nil {
			t.Fatal(err)
		}
		got := tldDS(t, w, name)
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("DS of %s in the TLD zone = %v, want %v", name, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// insync waits until the change is on every nameserver.
func insync(t *testing.T, w *world, tenant, id string) {
	t.Helper()
	testkit.Eventually(t, 30*time.Second, func() error {
		c, err := w.cp.GetChange(context.Background(), tenant, id)
		if err != nil || c.Status != controlplane.StatusInSync {
			return fmt.Errorf("change %s: %s, %v", id, c.Status, err)
		}
		return nil
	})
}

// TestIntegrationSignedZoneDSInTLD: the DS of a domain's signed hosted
// zone reaches the TLD zone from the key model, with no call to
// /v1/domains/{name}/ds: after signing a zone registered with
// hosted_zone "create"; through a KSK rollover (both DS while both keys
// are active, then only the new one, the old key DELETING meanwhile);
// and at once, with the delegation, when an already signed zone is
// registered. Asked of the TLD zone's nameserver.
func TestIntegrationSignedZoneDSInTLD(t *testing.T) {
	w := newWorld(t, "0", 60)
	ctx := context.Background()
	tenant := w.tenant(t, "signed")

	op, err := w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: "signed.wmk", HostedZone: "create"})
	if err != nil {
		t.Fatal(err)
	}
	if op, err = w.svc.WaitOperation(ctx, tenant, op.ID, 10*time.Second); err != nil || op.Status != registrar.StatusSuccessful {
		t.Fatalf("register = %+v, %v", op, err)
	}
	d, err := w.svc.GetDomain(ctx, tenant, "signed.wmk")
	if err != nil {
		t.Fatal(err)
	}
	if got := tldDS(t, w, "signed.wmk."); len(got) != 0 {
		t.Fatalf("DS before signing: %v", got)
	}
	if _, err := w.cp.EnableDNSSEC(ctx, tenant, d.HostedZoneID); err != nil {
		t.Fatal(err)
	}
	first, keys := activeDS(t, w, tenant, d.HostedZoneID)
	if len(first) != 1 {
		t.Fatalf("active KSKs: %v", first)
	}
	untilDS(t, w, "signed.wmk.", first)
	if list, err := w.svc.ListDS(ctx, tenant, "signed.wmk"); err != nil || len(list) != 1 {
		t.Errorf("ListDS = %+v, %v", list, err)
	}
	ops, err := w.svc.ListOperations(ctx, tenant, 10)
	if err != nil || !slices.ContainsFunc(ops, func(o registrar.Operation) bool {
		return o.Type == registrar.OpAddDNSSEC && strings.HasPrefix(o.Message, "automatic")
	}) {
		t.Errorf("no automatic ADD_DNSSEC operation: %+v, %v", ops, err)
	}

	// A KSK rollover: the new key's DS joins, then the old one's leaves.
	var oldName string
	for n := range keys {
		oldName = n
	}
	if _, _, err := w.cp.CreateKeySigningKey(ctx, tenant, d.HostedZoneID, controlplane.CreateKeySigningKeyInput{Name: "next_key", Status: controlplane.KeyStatusActive}); err != nil {
		t.Fatal(err)
	}
	both, keys := activeDS(t, w, tenant, d.HostedZoneID)
	if len(both) != 2 {
		t.Fatalf("active KSKs: %v", both)
	}
	untilDS(t, w, "signed.wmk.", both)
	if _, err := w.cp.DeactivateKeySigningKey(ctx, tenant, d.HostedZoneID, oldName); err != nil {
		t.Fatal(err)
	}
	untilDS(t, w, "signed.wmk.", []string{keys["next_key"]})
	info, err := w.cp.GetDNSSEC(ctx, tenant, d.HostedZoneID)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range info.KeySigningKeys {
		// Retiring (DELETING, as Route 53 shows it): still signing
		// until the DS TTL has passed since its DS left.
		if k.Name == oldName && k.Status != controlplane.SigningStatusDeleting {
			t.Errorf("old key %s is %s, want DELETING", k.Name, k.Status)
		}
	}

	// A zone signed before its name is registered: the DS comes with
	// the delegation, in the registration's transaction.
	z, _, err := w.cp.CreateZone(ctx, tenant, controlplane.CreateZoneInput{Name: "presigned.wmk", CallerReference: "pre"})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := w.cp.EnableDNSSEC(ctx, tenant, z.ID)
	if err != nil {
		t.Fatal(err)
	}
	insync(t, w, tenant, ch.ID)
	want, _ := activeDS(t, w, tenant, z.ID)
	op, err = w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: "presigned.wmk", HostedZone: z.ID})
	if err != nil {
		t.Fatal(err)
	}
	if op, err = w.svc.WaitOperation(ctx, tenant, op.ID, 10*time.Second); err != nil || op.Status != registrar.StatusSuccessful {
		t.Fatalf("register onto the signed zone = %+v, %v", op, err)
	}
	if got := tldDS(t, w, "presigned.wmk."); !slices.Equal(got, want) {
		t.Errorf("DS with the delegation = %v, want %v", got, want)
	}
}

// TestIntegrationSignedDomainValidates: a validating unbound whose only
// trust anchor is the signed TLD's DS (WAYMARK_TLD_DS in `waymark dev`)
// follows the TLD's referral to a registered domain and, once its hosted
// zone is signed and the DS has reached the TLD zone by itself, answers
// the domain's records with AD. Before the DS is there the same answer is
// insecure (no AD): the AD comes from the chain through the TLD.
func TestIntegrationSignedDomainValidates(t *testing.T) {
	if _, err := exec.LookPath("unbound"); err != nil {
		t.Fatal("unbound is not installed: .ci/apt.d/i12.txt lists it (apt-get install unbound)")
	}
	w := newWorld(t, "53", 1)
	ctx := context.Background()
	tld, err := w.reg.SignTLD(ctx, "wmk.")
	if err != nil || len(tld.DS) != 1 {
		t.Fatalf("SignTLD = %+v, %v", tld, err)
	}
	tenant := w.tenant(t, "secure")
	op, err := w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: "secure.wmk", HostedZone: "create"})
	if err != nil {
		t.Fatal(err)
	}
	if op, err = w.svc.WaitOperation(ctx, tenant, op.ID, 10*time.Second); err != nil || op.Status != registrar.StatusSuccessful {
		t.Fatalf("register = %+v, %v", op, err)
	}
	d, err := w.svc.GetDomain(ctx, tenant, "secure.wmk")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := w.cp.ChangeRRSets(ctx, tenant, d.HostedZoneID, controlplane.ChangeBatch{Changes: []controlplane.RRSetChange{{
		Action: controlplane.ActionUpsert, RRSet: zonecfg.RRSet{Name: "www.secure.wmk.", Type: "A", TTL: 1, Records: []string{"192.0.2.80"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	insync(t, w, tenant, ch.ID)
	resolver := startValidator(t, tldServer(t, w), tld.DS[0])
	ask := func(name string, wantAD bool) func() error {
		return func() error {
			m := new(dns.Msg)
			m.SetQuestion(name, dns.TypeA)
			m.SetEdns0(1232, true)
			r, err := dns.Exchange(m, resolver)
			if err != nil {
				return err
			}
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 || r.AuthenticatedData != wantAD {
				return fmt.Errorf("%s A: %s, %d answers, AD %v (change %s)", name, dns.RcodeToString[r.Rcode], len(r.Answer), r.AuthenticatedData, ch.ID)
			}
			return nil
		}
	}
	testkit.Eventually(t, 20*time.Second, ask("www.secure.wmk.", false)) // insecure delegation: no DS yet
	if _, err := w.cp.EnableDNSSEC(ctx, tenant, d.HostedZoneID); err != nil {
		t.Fatal(err)
	}
	want, _ := activeDS(t, w, tenant, d.HostedZoneID)
	untilDS(t, w, "secure.wmk.", want)
	testkit.Eventually(t, 20*time.Second, ask("www.secure.wmk.", true))

	// Registered with dnssec: true, the new zone signs in the
	// registration's transaction and its DS comes with the delegation:
	// no DNSSEC pass runs before it validates.
	op, err = w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: "born.wmk", HostedZone: "create", DNSSEC: true})
	if err != nil {
		t.Fatal(err)
	}
	if op, err = w.svc.WaitOperation(ctx, tenant, op.ID, 10*time.Second); err != nil || op.Status != registrar.StatusSuccessful {
		t.Fatalf("register with dnssec = %+v, %v", op, err)
	}
	born, err := w.svc.GetDomain(ctx, tenant, "born.wmk")
	if err != nil {
		t.Fatal(err)
	}
	want, _ = activeDS(t, w, tenant, born.HostedZoneID)
	if got := tldDS(t, w, "born.wmk."); len(want) != 1 || !slices.Equal(got, want) {
		t.Fatalf("DS of born.wmk. once SUCCESSFUL = %v, want %v", got, want)
	}
	ch, err = w.cp.ChangeRRSets(ctx, tenant, born.HostedZoneID, controlplane.ChangeBatch{Changes: []controlplane.RRSetChange{{
		Action: controlplane.ActionUpsert, RRSet: zonecfg.RRSet{Name: "www.born.wmk.", Type: "A", TTL: 1, Records: []string{"192.0.2.81"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	// Asked before the record is served, unbound would cache the
	// denial for the zone's negative TTL.
	insync(t, w, tenant, ch.ID)
	testkit.Eventually(t, 20*time.Second, ask("www.born.wmk.", true))
}
