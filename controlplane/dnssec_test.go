package controlplane

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/dnssec"
	"github.com/waymark-dns/waymark/zonecfg"
)

func TestIntegrationDNSSECLifecycle(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "signed.example.")

	info, err := e.s.GetDNSSEC(ctx, tenant, z.ID)
	if err != nil || info.ServeSignature != SigningStatusNotSigning || len(info.KeySigningKeys) != 0 {
		t.Fatalf("GetDNSSEC of a zone that never signed: %+v %v", info, err)
	}
	// Enabling a zone without a KSK creates and activates one.
	ch, err := e.s.EnableDNSSEC(ctx, tenant, z.ID)
	if err != nil || ch.Status != StatusPending {
		t.Fatalf("EnableDNSSEC: %+v %v", ch, err)
	}
	info, err = e.s.GetDNSSEC(ctx, tenant, z.ID)
	if err != nil || info.ServeSignature != SigningStatusSigning || len(info.KeySigningKeys) != 1 || len(info.ZoneSigningKeys) != 1 {
		t.Fatalf("GetDNSSEC after enable: %+v %v", info, err)
	}
	ksk := info.KeySigningKeys[0]
	if ksk.Flag != 257 || ksk.SigningAlgorithmType != 13 || ksk.DigestAlgorithmType != 2 || ksk.Status != KeyStatusActive ||
		!strings.HasPrefix(ksk.DSRecord, strings.Fields(ksk.DSRecord)[0]+" 13 2 ") || ksk.DigestValue == "" {
		t.Fatalf("KSK = %+v", ksk)
	}

	// The event carries material that verifies: the KSK signs the DNSKEY set.
	ev := e.lastEvent(t, z.ID)
	if !ev.DNSSEC.Signed() || ev.DNSSEC.ActiveZSK() == nil || len(ev.DNSSEC.DNSKEYs) != 2 || len(ev.DNSSEC.DNSKEYSigs) != 1 {
		t.Fatalf("event DNSSEC = %+v", ev.DNSSEC)
	}
	verifyDNSKEYSigs(t, "signed.example.", ev.DNSSEC)
	// The snapshot has it too.
	st, err := e.s.ZoneSnapshot(ctx, z.ID)
	if err != nil || !st.DNSSEC.Signed() || st.DNSSEC.DNSKEYs[0] != ev.DNSSEC.DNSKEYs[0] {
		t.Fatalf("snapshot DNSSEC = %+v %v", st.DNSSEC, err)
	}
	// The nameservers can unwrap the ZSK with the fleet key, and only with it.
	zsk := ev.DNSSEC.ActiveZSK()
	if _, err := dnssec.Open(dnssec.FleetKeyFrom(e.s.cfg.MasterKey), zsk.Wrapped, dnssec.KeyAD(z.ID, zsk.Name)); err != nil {
		t.Fatalf("unwrap ZSK: %v", err)
	}
	if _, err := dnssec.Open(e.s.cfg.MasterKey, zsk.Wrapped, dnssec.KeyAD(z.ID, zsk.Name)); err == nil {
		t.Fatal("the ZSK sent to nameservers opens with the master key")
	}

	steps := []struct {
		name string
		do   func() error
		code Code
	}{
		{"create bad name", func() error {
			_, _, err := e.s.CreateKeySigningKey(ctx, tenant, z.ID, CreateKeySigningKeyInput{Name: "a-b", Status: "ACTIVE"})
			return err
		}, CodeInvalidKeySigningKeyName},
		{"create bad status", func() error {
			_, _, err := e.s.CreateKeySigningKey(ctx, tenant, z.ID, CreateKeySigningKeyInput{Name: "second", Status: "ON"})
			return err
		}, CodeInvalidKeySigningKeyStatus},
		{"create duplicate", func() error {
			_, _, err := e.s.CreateKeySigningKey(ctx, tenant, z.ID, CreateKeySigningKeyInput{Name: "waymark_ksk_1", Status: "ACTIVE"})
			return err
		}, CodeKeySigningKeyAlreadyExists},
		{"create second", func() error {
			_, _, err := e.s.CreateKeySigningKey(ctx, tenant, z.ID, CreateKeySigningKeyInput{Name: "second", Status: "INACTIVE", CallerReference: "r2"})
			return err
		}, ""},
		{"create third", func() error {
			_, _, err := e.s.CreateKeySigningKey(ctx, tenant, z.ID, CreateKeySigningKeyInput{Name: "third", Status: "INACTIVE"})
			return err
		}, CodeTooManyKeySigningKeys},
		{"activate active", func() error { _, err := e.s.ActivateKeySigningKey(ctx, tenant, z.ID, "waymark_ksk_1"); return err }, CodeInvalidKeySigningKeyStatus},
		{"deactivate missing", func() error { _, err := e.s.DeactivateKeySigningKey(ctx, tenant, z.ID, "nope"); return err }, CodeNoSuchKeySigningKey},
		{"deactivate last active", func() error { _, err := e.s.DeactivateKeySigningKey(ctx, tenant, z.ID, "waymark_ksk_1"); return err }, CodeKeySigningKeyInUse},
		{"delete active", func() error { _, err := e.s.DeleteKeySigningKey(ctx, tenant, z.ID, "waymark_ksk_1"); return err }, CodeInvalidKeySigningKeyStatus},
		{"delete zone while signing", func() error { _, err := e.s.DeleteZone(ctx, tenant, z.ID); return err }, CodeHostedZoneNotEmpty},
		{"activate second", func() error { _, err := e.s.ActivateKeySigningKey(ctx, tenant, z.ID, "second"); return err }, ""},
		{"deactivate first", func() error { _, err := e.s.DeactivateKeySigningKey(ctx, tenant, z.ID, "waymark_ksk_1"); return err }, ""},
		{"delete first", func() error { _, err := e.s.DeleteKeySigningKey(ctx, tenant, z.ID, "waymark_ksk_1"); return err }, ""},
		{"zsk roll", func() error { _, err := e.s.RollZSK(ctx, tenant, z.ID); return err }, ""},
		{"zsk roll again", func() error { _, err := e.s.RollZSK(ctx, tenant, z.ID); return err }, CodePriorRequestNotComplete},
		{"other tenant", func() error { _, err := e.s.EnableDNSSEC(ctx, testTenant(t, e.pool), z.ID); return err }, CodeNoSuchHostedZone},
		{"disable", func() error { _, err := e.s.DisableDNSSEC(ctx, tenant, z.ID); return err }, ""},
		{"zsk roll unsigned", func() error { _, err := e.s.RollZSK(ctx, tenant, z.ID); return err }, CodeDNSSECNotEnabled},
	}
	for _, st := range steps {
		err := st.do()
		if st.code == "" && err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if st.code != "" {
			if e, ok := AsError(err); !ok || e.Code != st.code {
				t.Fatalf("%s: got %v, want %s", st.name, err, st.code)
			}
		}
	}
	if ev := e.lastEvent(t, z.ID); ev.DNSSEC == nil || ev.DNSSEC.Signed() {
		t.Fatalf("after disable the event says %+v", ev.DNSSEC)
	}
	// Enabling again with an INACTIVE KSK only is Route 53's refusal.
	if _, err := e.s.DeactivateKeySigningKey(ctx, tenant, z.ID, "second"); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.EnableDNSSEC(ctx, tenant, z.ID)
	wantErr(t, err, CodeKeySigningKeyWithActiveStatusNotFound)
}

// TestIntegrationDNSSECParentDS: a KSK whose DS a parent of the same
// tenant holds, a parent that does not delegate to the zone (so Waymark
// does not manage its DS), cannot be deactivated, deleted or disabled.
func TestIntegrationDNSSECParentDS(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	parent := e.mustZone(t, tenant, "parent.example.")
	child := e.mustZone(t, tenant, "child.parent.example.")
	if _, err := e.s.EnableDNSSEC(ctx, tenant, child.ID); err != nil {
		t.Fatal(err)
	}
	info, err := e.s.GetDNSSEC(ctx, tenant, child.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.mustChange(t, tenant, parent.ID,
		rrs(ActionCreate, "child.parent.example.", "DS", 300, info.KeySigningKeys[0].DSRecord))
	_, err = e.s.DisableDNSSEC(ctx, tenant, child.ID)
	wantErr(t, err, CodeKeySigningKeyInParentDSRecord)
}

// TestIntegrationDNSSECManagedParent: with the parent hosted here by the
// same tenant and delegating to the zone, the DS follows the KSKs by
// itself: added once a key is INSYNC, double-DS during a KSK roll, the
// old key kept (DELETING) until its DS has left the parent and the DS TTL
// has passed, and disable through DELETING.
func TestIntegrationDNSSECManagedParent(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	e := newZoneEnv(t, func(c *Config) { c.NowFunc = clock })
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	parent := e.mustZone(t, tenant, "managed.example.")
	child := e.mustZone(t, tenant, "kid.managed.example.")
	e.mustChange(t, tenant, parent.ID, rrs(ActionCreate, "kid.managed.example.", "NS", 300, "ns1.waymark.test."))
	insync := func() {
		t.Helper()
		if _, err := e.pool.Exec(ctx, `UPDATE change SET status = 'INSYNC', insync_at = $1 WHERE status = 'PENDING'`, clock()); err != nil {
			t.Fatal(err)
		}
	}
	step := func() {
		t.Helper()
		if _, err := e.s.AdvanceDNSSEC(ctx); err != nil {
			t.Fatal(err)
		}
	}
	parentDS := func() []string {
		t.Helper()
		var ds []string
		err := e.pool.QueryRow(ctx, `SELECT rdata FROM rrset WHERE zone_id = $1 AND name = 'kid.managed.example.' AND type = 'DS'`, parent.ID).Scan(&ds)
		if err != nil && err.Error() != "no rows in result set" {
			t.Fatal(err)
		}
		return ds
	}
	ksks := func() map[string]KeySigningKey {
		t.Helper()
		info, err := e.s.GetDNSSEC(ctx, tenant, child.ID)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]KeySigningKey{"": {Status: info.ServeSignature}}
		for _, k := range info.KeySigningKeys {
			out[k.Name] = k
		}
		return out
	}
	if _, err := e.s.EnableDNSSEC(ctx, tenant, child.ID); err != nil {
		t.Fatal(err)
	}
	step()
	if ds := parentDS(); len(ds) != 0 {
		t.Fatalf("DS in the parent before the signed zone is INSYNC: %v", ds)
	}
	insync()
	step()
	k1 := ksks()["waymark_ksk_1"]
	if ds := parentDS(); len(ds) != 1 || !strings.EqualFold(ds[0], k1.DSRecord) {
		t.Fatalf("parent DS %v, want %s", ds, k1.DSRecord)
	}
	// A KSK roll: the new key is added, double DS.
	if _, _, err := e.s.CreateKeySigningKey(ctx, tenant, child.ID, CreateKeySigningKeyInput{Name: "ksk_two", Status: "ACTIVE"}); err != nil {
		t.Fatal(err)
	}
	insync()
	step()
	if ds := parentDS(); len(ds) != 2 {
		t.Fatalf("parent DS %v, want both keys", ds)
	}
	insync()
	// The old key leaves: DELETING until its DS is gone and the TTL passed.
	if _, err := e.s.DeactivateKeySigningKey(ctx, tenant, child.ID, "waymark_ksk_1"); err != nil {
		t.Fatal(err)
	}
	if st := ksks()["waymark_ksk_1"].Status; st != "DELETING" {
		t.Fatalf("retiring KSK is %s", st)
	}
	if ev := e.lastEvent(t, child.ID); len(ev.DNSSEC.DNSKEYSigs) != 2 || len(ev.DNSSEC.CDS) != 1 {
		t.Fatalf("while retiring: %d DNSKEY signatures, %d CDS; want 2 and 1", len(ev.DNSSEC.DNSKEYSigs), len(ev.DNSSEC.CDS))
	}
	insync()
	step()
	if ds := parentDS(); len(ds) != 1 || !strings.EqualFold(ds[0], ksks()["ksk_two"].DSRecord) {
		t.Fatalf("parent DS %v, want only the new key", ds)
	}
	insync()
	advance(59 * time.Minute)
	step()
	if st := ksks()["waymark_ksk_1"].Status; st != "DELETING" {
		t.Fatalf("within the DS TTL the old KSK is %s", st)
	}
	advance(2 * time.Minute)
	step()
	if st := ksks()["waymark_ksk_1"].Status; st != "INACTIVE" {
		t.Fatalf("after the DS TTL the old KSK is %s", st)
	}
	verifyDNSKEYSigs(t, "kid.managed.example.", e.lastEvent(t, child.ID).DNSSEC)
	// Disable goes through DELETING.
	insync()
	if _, err := e.s.DisableDNSSEC(ctx, tenant, child.ID); err != nil {
		t.Fatal(err)
	}
	if st := ksks()[""].Status; st != SigningStatusDeleting {
		t.Fatalf("disable: %s, want DELETING", st)
	}
	if ev := e.lastEvent(t, child.ID); !ev.DNSSEC.Signed() || len(ev.DNSSEC.CDS) != 1 || ev.DNSSEC.CDS[0] != "0 0 0 00" {
		t.Fatalf("DELETING material: %+v", ev.DNSSEC)
	}
	insync()
	step()
	if ds := parentDS(); len(ds) != 0 {
		t.Fatalf("parent DS %v after disable", ds)
	}
	insync()
	advance(61 * time.Minute)
	step()
	if st := ksks()[""].Status; st != SigningStatusNotSigning {
		t.Fatalf("after the DS TTL: %s, want NOT_SIGNING", st)
	}
	if ev := e.lastEvent(t, child.ID); ev.DNSSEC == nil || ev.DNSSEC.Signed() {
		t.Fatalf("the nameservers still sign: %+v", ev.DNSSEC)
	}
}

// TestIntegrationDNSSECNoPlainKeys looks for every private key, in raw,
// hex and base64 form, in every row of every table of the schema.
func TestIntegrationDNSSECNoPlainKeys(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "secret.example.")
	if _, err := e.s.EnableDNSSEC(ctx, tenant, z.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.RollZSK(ctx, tenant, z.ID); err != nil {
		t.Fatal(err)
	}
	var privs [][]byte
	rows, err := e.pool.Query(ctx, `SELECT name, sealed_private FROM dnssec_key WHERE zone_id = $1`, z.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		var sealed []byte
		if err := rows.Scan(&name, &sealed); err != nil {
			t.Fatal(err)
		}
		raw, err := dnssec.Open(e.s.cfg.MasterKey, sealed, dnssec.KeyAD(z.ID, name))
		if err != nil {
			t.Fatal(err)
		}
		privs = append(privs, raw)
	}
	if len(privs) != 3 {
		t.Fatalf("%d keys, want 3", len(privs))
	}
	dump := dumpSchema(t, e)
	for _, p := range privs {
		for _, form := range [][]byte{p, []byte(hex.EncodeToString(p)), []byte(base64.StdEncoding.EncodeToString(p)), []byte(`\x` + hex.EncodeToString(p))} {
			if bytes.Contains(dump, form) {
				t.Fatalf("a private key appears in plain text in the database")
			}
		}
	}
}

// dumpSchema returns every row of every table of the test's schema as
// text, bytea columns in PostgreSQL's hex form.
func dumpSchema(t *testing.T, e zoneEnv) []byte {
	t.Helper()
	ctx := context.Background()
	rows, err := e.pool.Query(ctx, `SELECT table_name FROM information_schema.tables
	                                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	var out bytes.Buffer
	for _, tb := range tables {
		r, err := e.pool.Query(ctx, `SELECT row_to_json(t)::text FROM "`+tb+`" t`)
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var s string
			if err := r.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out.WriteString(s)
			out.WriteByte('\n')
		}
	}
	if out.Len() == 0 {
		t.Fatal("empty dump")
	}
	return out.Bytes()
}

func verifyDNSKEYSigs(t *testing.T, zone string, d *zonecfg.DNSSEC) {
	t.Helper()
	var set []dns.RR
	var ksks []*dns.DNSKEY
	for _, v := range d.DNSKEYs {
		rr, err := dns.NewRR(zone + " 3600 IN DNSKEY " + v)
		if err != nil {
			t.Fatal(err)
		}
		set = append(set, rr)
		if k := rr.(*dns.DNSKEY); k.Flags == 257 {
			ksks = append(ksks, k)
		}
	}
	for _, v := range d.DNSKEYSigs {
		rr, err := dns.NewRR(zone + " 3600 IN RRSIG " + v)
		if err != nil {
			t.Fatal(err)
		}
		sig := rr.(*dns.RRSIG)
		ok := false
		for _, k := range ksks {
			if k.KeyTag() == sig.KeyTag && sig.Verify(k, set) == nil {
				ok = true
			}
		}
		if !ok {
			t.Fatalf("DNSKEY signature %s does not verify", v)
		}
	}
}

// TestIntegrationDNSSECTypesRefused: the record types DNSSEC makes are
// the nameservers' and the control plane's, never a tenant's.
func TestIntegrationDNSSECTypesRefused(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "types.example.")
	for _, tc := range []struct{ typ, value string }{
		{"DNSKEY", "257 3 13 AAAA"},
		{"RRSIG", "A 13 2 300 20260101000000 20250101000000 1 types.example. AAAA"},
		{"NSEC", `\000.a.types.example. A RRSIG NSEC`},
		{"NSEC3", "1 0 0 - AAAA A"},
		{"CDS", "1 13 2 AAAA"},
		{"CDNSKEY", "257 3 13 AAAA"},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			_, err := e.s.ChangeRRSets(context.Background(), tenant, z.ID, ChangeBatch{Changes: []RRSetChange{
				rrs(ActionCreate, "a.types.example.", tc.typ, 300, tc.value)}})
			wantErr(t, err, CodeInvalidChangeBatch)
		})
	}
}

// TestIntegrationZSKRollover drives a pre-publish ZSK roll with an
// injected clock: publish, sign with the new key once the change is
// INSYNC and the DNSKEY TTL has passed, remove the old one after
// RetireAfter; then a scheduled roll when the key's lifetime is over.
func TestIntegrationZSKRollover(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	e := newZoneEnv(t, func(c *Config) {
		c.NowFunc = clock
		c.DNSSEC = DNSSECOptions{DNSKEYTTL: time.Minute, RetireAfter: 2 * time.Minute, ZSKLifetime: time.Hour}
	})
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "roll.example.")
	insync := func() {
		t.Helper()
		if _, err := e.pool.Exec(ctx, `UPDATE change SET status = 'INSYNC', insync_at = $2 WHERE zone_id = $1 AND status = 'PENDING'`,
			z.ID, clock()); err != nil {
			t.Fatal(err)
		}
	}
	step := func(wantChanged bool) *zonecfg.DNSSEC {
		t.Helper()
		n, err := e.s.AdvanceDNSSEC(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if (n > 0) != wantChanged {
			t.Fatalf("AdvanceDNSSEC changed %d zones, want changed %v", n, wantChanged)
		}
		ev := e.lastEvent(t, z.ID)
		verifyDNSKEYSigs(t, "roll.example.", ev.DNSSEC)
		return ev.DNSSEC
	}
	zsks := func(d *zonecfg.DNSSEC) (active uint16, all int) {
		for _, k := range d.ZSKs {
			if k.Active {
				active = k.KeyTag
			}
		}
		return active, len(d.ZSKs)
	}
	if _, err := e.s.EnableDNSSEC(ctx, tenant, z.ID); err != nil {
		t.Fatal(err)
	}
	insync()
	first, _ := zsks(step(false))

	if _, err := e.s.RollZSK(ctx, tenant, z.ID); err != nil {
		t.Fatal(err)
	}
	advance(2 * time.Minute)
	if a, n := zsks(step(false)); a != first || n != 2 { // published, but the change is PENDING
		t.Fatalf("active %d of %d, want the first key of 2", a, n)
	}
	insync()
	advance(59 * time.Second)
	step(false) // within the DNSKEY TTL of INSYNC
	advance(2 * time.Second)
	second, n := zsks(step(true))
	if second == first || second == 0 || n != 2 {
		t.Fatalf("after the TTL: active %d (first %d) of %d keys", second, first, n)
	}
	insync()
	advance(119 * time.Second)
	step(false)
	advance(2 * time.Second)
	if a, n := zsks(step(true)); a != second || n != 1 {
		t.Fatalf("after RetireAfter: active %d of %d, want %d alone", a, n, second)
	}
	insync()
	advance(time.Hour)
	if a, n := zsks(step(true)); a != second || n != 2 {
		t.Fatalf("scheduled roll: active %d of %d, want %d and a published key", a, n, second)
	}
	info, err := e.s.GetDNSSEC(ctx, tenant, z.ID)
	if err != nil || len(info.ZoneSigningKeys) != 2 || info.ZoneSigningKeys[1].Status != KeyStatusPublished {
		t.Fatalf("GetDNSSEC %+v %v", info.ZoneSigningKeys, err)
	}
}
