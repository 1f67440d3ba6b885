package registrar_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/registrar"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// settled waits for an operation to be SUCCESSFUL.
func settled(t *testing.T, w *world, tenant string, op registrar.Operation, err error) registrar.Operation {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	op, err = w.svc.WaitOperation(context.Background(), tenant, op.ID, 10*time.Second)
	if err != nil || op.Status != registrar.StatusSuccessful {
		t.Fatalf("operation %+v, %v", op, err)
	}
	return op
}

var contact = registry.ContactInfo{Name: "Ada Lovelace", Street: []string{"1 Analytical Way"}, City: "London",
	PostalCode: "N1", CountryCode: "GB", Voice: "+44.2071234567", Email: "ada@example.com"}

// TestIntegrationDomainService drives the registrar's domain methods: get
// and list (with filters and paging), another tenant's domain missing,
// nameservers with glue, settings, DS with stable ids, auth codes,
// transferability, suggestions, prices and the operation list.
func TestIntegrationDomainService(t *testing.T) {
	w := newWorld(t, "0", 60)
	ctx := context.Background()
	owner, other := w.tenant(t, "owner"), w.tenant(t, "other")

	for _, n := range []string{"alpha.wmk", "beta.wmk", "gamma.wmk"} {
		op, err := w.svc.Register(ctx, owner, registrar.RegisterInput{Name: n, HostedZone: "create", AutoRenew: true,
			Contacts: map[string]registry.ContactInfo{registrar.RoleRegistrant: contact}})
		settled(t, w, owner, op, err)
	}
	if _, err := w.svc.Register(ctx, owner, registrar.RegisterInput{Name: "bad.wmk",
		Contacts: map[string]registry.ContactInfo{"owner": contact}}); codeOf(err) != registrar.CodeInvalidInput {
		t.Errorf("unknown role: %v", err)
	}
	bad := contact
	bad.CountryCode = "gbr"
	if _, err := w.svc.Register(ctx, owner, registrar.RegisterInput{Name: "bad.wmk",
		Contacts: map[string]registry.ContactInfo{registrar.RoleRegistrant: bad}}); codeOf(err) != registrar.CodeInvalidInput {
		t.Errorf("bad country code: %v", err)
	}

	d, err := w.svc.GetDomain(ctx, owner, "Alpha.WMK")
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "alpha.wmk." || !d.AutoRenew || !d.TransferLock || d.HostedZoneID == "" || len(d.Nameservers) != 4 ||
		d.Contacts[registrar.RoleTech].Email != contact.Email || d.RGP != registry.RGPAdd {
		t.Errorf("domain %+v", d)
	}
	if _, err := w.svc.GetDomain(ctx, other, "alpha.wmk"); codeOf(err) != registrar.CodeNoSuchDomain {
		t.Errorf("another tenant's domain: %v", err)
	}
	if _, err := w.svc.UpdateNameservers(ctx, other, "alpha.wmk", []registrar.Nameserver{{Name: "ns.example.net"}}, ""); codeOf(err) != registrar.CodeNoSuchDomain {
		t.Errorf("another tenant's nameservers: %v", err)
	}

	// Paging by name, and a prefix filter.
	var names []string
	marker := ""
	for {
		page, err := w.svc.ListDomains(ctx, owner, registrar.ListDomainsInput{MaxItems: 2, Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range page.Domains {
			names = append(names, x.Name)
		}
		if marker = page.NextMarker; marker == "" {
			break
		}
	}
	if len(names) != 3 || names[0] != "alpha.wmk." || names[2] != "gamma.wmk." {
		t.Errorf("paged names %v", names)
	}
	page, err := w.svc.ListDomains(ctx, owner, registrar.ListDomainsInput{NamePrefix: "be", SortBy: registrar.SortByExpiry, Descending: true})
	if err != nil || len(page.Domains) != 1 || page.Domains[0].Name != "beta.wmk." {
		t.Errorf("prefix be: %+v, %v", page, err)
	}
	if page, _ := w.svc.ListDomains(ctx, other, registrar.ListDomainsInput{}); len(page.Domains) != 0 {
		t.Errorf("the other tenant lists %+v", page.Domains)
	}

	// Nameservers with glue, then new glue for the same host.
	glue := []netip.Addr{netip.MustParseAddr("192.0.2.53")}
	op, err := w.svc.UpdateNameservers(ctx, owner, "alpha.wmk", []registrar.Nameserver{{Name: "ns1.alpha.wmk", GlueIPs: glue}, {Name: "ns.example.net"}}, "ns-1")
	settled(t, w, owner, op, err)
	if again, err := w.svc.UpdateNameservers(ctx, owner, "alpha.wmk", []registrar.Nameserver{{Name: "ns.example.net"}}, "ns-1"); err != nil || again.ID != op.ID {
		t.Errorf("repeated caller reference: %+v, %v", again, err)
	}
	op, err = w.svc.UpdateNameservers(ctx, owner, "alpha.wmk", []registrar.Nameserver{{Name: "ns1.alpha.wmk", GlueIPs: []netip.Addr{netip.MustParseAddr("192.0.2.54")}}}, "")
	settled(t, w, owner, op, err)
	d, _ = w.svc.GetDomain(ctx, owner, "alpha.wmk")
	if len(d.Nameservers) != 1 || d.Nameservers[0].Name != "ns1.alpha.wmk." || len(d.Nameservers[0].GlueIPs) != 1 ||
		d.Nameservers[0].GlueIPs[0].String() != "192.0.2.54" || d.HostedZoneID != "" {
		t.Errorf("after nameservers: %+v", d)
	}

	// Settings: auto-renew alone is synchronous; a lock change is an operation.
	off := false
	d, op2, err := w.svc.UpdateDomain(ctx, owner, "beta.wmk", registrar.UpdateDomainInput{AutoRenew: &off})
	if err != nil || op2 != nil || d.AutoRenew {
		t.Errorf("auto-renew off: %+v %v %v", d, op2, err)
	}
	d, op2, err = w.svc.UpdateDomain(ctx, owner, "beta.wmk", registrar.UpdateDomainInput{TransferLock: &off, Privacy: &off,
		Contacts: map[string]registry.ContactInfo{registrar.RoleBilling: {Name: "Billing", City: "Paris", CountryCode: "FR", Email: "b@example.fr"}}})
	if err != nil || op2 == nil || op2.Type != registrar.OpUpdateContact || d.TransferLock || d.Privacy ||
		d.Contacts[registrar.RoleBilling].City != "Paris" || d.Contacts[registrar.RoleRegistrant].Name != contact.Name {
		t.Errorf("settings: %+v %+v %v", d, op2, err)
	}

	// DS: by record and by DNSKEY; ids are stable and remove by id.
	ds := registry.DS{KeyTag: 12345, Algorithm: 13, DigestType: 2, Digest: "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1"}
	key := &registrar.DNSKEY{Flags: 257, Algorithm: 13, PublicKey: "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="}
	op, recs, err := w.svc.AddDS(ctx, owner, "gamma.wmk", []registrar.DSInput{{DS: &ds}, {DNSKEY: key}}, "")
	settled(t, w, owner, op, err)
	if len(recs) != 2 || recs[0].ID != registrar.DSID(ds) || recs[1].KeyTag == 0 || recs[1].DigestType != 2 {
		t.Fatalf("added %+v", recs)
	}
	list, err := w.svc.ListDS(ctx, owner, "gamma.wmk")
	if err != nil || len(list) != 2 {
		t.Fatalf("list DS: %+v, %v", list, err)
	}
	for _, r := range list {
		if r.ID != registrar.DSID(r.DS) || (r.ID != recs[0].ID && r.ID != recs[1].ID) {
			t.Errorf("DS %+v: id not stable", r)
		}
	}
	if _, _, err := w.svc.AddDS(ctx, owner, "gamma.wmk", []registrar.DSInput{{DS: &registry.DS{KeyTag: 1, Algorithm: 13, DigestType: 2, Digest: "AB"}}}, ""); codeOf(err) != registrar.CodeInvalidInput {
		t.Errorf("short digest: %v", err)
	}
	if _, err := w.svc.RemoveDS(ctx, owner, "gamma.wmk", "ds-nosuch", ""); codeOf(err) != registrar.CodeNoSuchDS {
		t.Errorf("missing DS: %v", err)
	}
	op, err = w.svc.RemoveDS(ctx, owner, "gamma.wmk", recs[0].ID, "")
	settled(t, w, owner, op, err)
	if list, _ := w.svc.ListDS(ctx, owner, "gamma.wmk"); len(list) != 1 || list[0].ID != recs[1].ID {
		t.Errorf("after remove: %+v", list)
	}

	// Auth codes.
	code1, err := w.svc.AuthCode(ctx, owner, "gamma.wmk")
	if err != nil || code1 == "" {
		t.Fatalf("auth code %q, %v", code1, err)
	}
	code2, err := w.svc.RotateAuthCode(ctx, owner, "gamma.wmk")
	if now, _ := w.svc.AuthCode(ctx, owner, "gamma.wmk"); err != nil || code2 == code1 || now != code2 {
		t.Errorf("rotate: %q → %q (%q), %v", code1, code2, now, err)
	}
	if _, err := w.svc.AuthCode(ctx, other, "gamma.wmk"); codeOf(err) != registrar.CodeNoSuchDomain {
		t.Errorf("another tenant's auth code: %v", err)
	}

	// Transferability, suggestions, prices.
	for _, tc := range []struct{ tenant, name, want string }{
		{owner, "alpha.wmk", registrar.DomainInOwnAccount},
		{other, "alpha.wmk", registrar.DomainInAnotherAccount},
		{owner, "free.wmk", registrar.Untransferable},
	} {
		if tr, err := w.svc.Transferability(ctx, tc.tenant, tc.name); err != nil || tr.Transferable != tc.want {
			t.Errorf("transferability of %s: %+v, %v; want %s", tc.name, tr, err, tc.want)
		}
	}
	sugg, err := w.svc.Suggestions(ctx, "alpha.wmk", 5, true)
	if err != nil || len(sugg) != 5 || sugg[0].Name != "alphaapp.wmk." {
		t.Errorf("suggestions: %+v, %v", sugg, err)
	}
	if _, err := w.svc.Suggestions(ctx, "alpha.wmk", 0, true); codeOf(err) != registrar.CodeInvalidInput {
		t.Errorf("count 0: %v", err)
	}
	prices, err := w.svc.Prices(ctx, "wmk")
	if err != nil || len(prices) != 1 || prices[0].Prices.Register != 1000 {
		t.Errorf("prices: %+v, %v", prices, err)
	}

	// Operations, newest first, paged; filters.
	var ids []string
	omarker := ""
	for {
		p, err := w.svc.ListOperationsPage(ctx, owner, registrar.ListOperationsInput{MaxItems: 3, Marker: omarker})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range p.Operations {
			ids = append(ids, o.ID)
		}
		if omarker = p.NextMarker; omarker == "" {
			break
		}
	}
	if len(ids) != 8 {
		t.Errorf("%d operations, want 8: %v", len(ids), ids)
	}
	p, err := w.svc.ListOperationsPage(ctx, owner, registrar.ListOperationsInput{Types: []string{registrar.OpRegister}, Statuses: []string{registrar.StatusSuccessful}})
	if err != nil || len(p.Operations) != 3 {
		t.Errorf("register operations: %+v, %v", p, err)
	}
	if p, _ := w.svc.ListOperationsPage(ctx, other, registrar.ListOperationsInput{}); len(p.Operations) != 0 {
		t.Errorf("the other tenant sees %+v", p.Operations)
	}
}

// TestIntegrationDeleteRestore: a delete in the add grace period releases
// the name and refunds it; a later one goes to redemption, from which a
// restore brings it back.
func TestIntegrationDeleteRestore(t *testing.T) {
	w := newWorld(t, "0", 60)
	ctx := context.Background()
	tenant := w.tenant(t, "del")
	op, err := w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: "early.wmk", HostedZone: "create"})
	settled(t, w, tenant, op, err)
	op, err = w.svc.Delete(ctx, tenant, "early.wmk", "")
	settled(t, w, tenant, op, err)
	if c, _ := w.svc.Availability(ctx, "early.wmk"); c.Availability != registry.Available {
		t.Errorf("after a delete in add grace: %+v", c)
	}
	if l, err := w.svc.Ledger(ctx, tenant, "early.wmk."); err != nil || len(l) != 2 || l[0].Amount+l[1].Amount != 0 || l[1].Kind != "refund" {
		t.Errorf("ledger after a delete in add grace: %+v, %v", l, err)
	}
	if _, err := w.svc.GetDomain(ctx, tenant, "early.wmk"); codeOf(err) != registrar.CodeNoSuchDomain {
		t.Errorf("get after release: %v", err)
	}

	op, err = w.svc.Register(ctx, tenant, registrar.RegisterInput{Name: "late.wmk", HostedZone: "create"})
	settled(t, w, tenant, op, err)
	w.advance(6 * 24 * time.Hour)
	if _, err := w.svc.Restore(ctx, tenant, "late.wmk", ""); codeOf(err) != registrar.CodeTLDRulesViolation {
		t.Errorf("restore before delete: %v", err)
	}
	op, err = w.svc.Delete(ctx, tenant, "late.wmk", "")
	settled(t, w, tenant, op, err)
	d, err := w.svc.GetDomain(ctx, tenant, "late.wmk")
	if err != nil || d.RGP != registry.RGPRedemption {
		t.Fatalf("after delete: %+v, %v", d, err)
	}
	op, err = w.svc.Restore(ctx, tenant, "late.wmk", "")
	settled(t, w, tenant, op, err)
	if d, _ := w.svc.GetDomain(ctx, tenant, "late.wmk"); d.RGP != "" {
		t.Errorf("after restore: %+v", d)
	}
}
