package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/zonecfg"
)

// fakeParentDS is a parent outside Waymark as the DNS shows it.
type fakeParentDS struct {
	mu  sync.Mutex
	ds  []string
	ttl uint32
	err error
}

func (f *fakeParentDS) ParentDS(_ context.Context, zone string) ([]string, uint32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if zone != "remote.example." {
		return nil, 0, errors.New("asked about " + zone)
	}
	return f.ds, f.ttl, f.err
}

func (f *fakeParentDS) set(ds []string, err error) {
	f.mu.Lock()
	f.ds, f.err = ds, err
	if f.ttl == 0 {
		f.ttl = 300
	}
	f.mu.Unlock()
}

// TestIntegrationDNSSECRemoteParentDS: with a parent elsewhere, the KSK
// whose DS the parent's nameservers still answer is not deleted nor
// signing disabled (KeySigningKeyInParentDSRecord); deactivating it while
// another key signs retires it instead, and it leaves only once the
// parent no longer answers its DS and that answer's TTL has passed, the
// zone ACTION_NEEDED meanwhile with the DS to add or remove in its status
// message. The clock is the test's.
func TestIntegrationDNSSECRemoteParentDS(t *testing.T) {
	t.Parallel()
	parent := &fakeParentDS{}
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	pass := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	e := newZoneEnv(t, func(c *Config) {
		c.DNSSEC.ParentDS = parent
		c.NowFunc = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	})
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "remote.example.")
	// The nameservers have every change (none run here).
	insync := func() {
		t.Helper()
		if _, err := e.pool.Exec(ctx, `UPDATE change SET status = 'INSYNC', insync_at = $1 WHERE status = 'PENDING'`, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.s.EnableDNSSEC(ctx, tenant, z.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.s.CreateKeySigningKey(ctx, tenant, z.ID, CreateKeySigningKeyInput{Name: "new_key", Status: KeyStatusActive}); err != nil {
		t.Fatal(err)
	}
	insync()
	info, err := e.s.GetDNSSEC(ctx, tenant, z.ID)
	if err != nil || len(info.KeySigningKeys) != 2 {
		t.Fatalf("keys %+v %v", info.KeySigningKeys, err)
	}
	var oldKey, oldDS, newDS string
	for _, k := range info.KeySigningKeys {
		if k.Name == "new_key" {
			newDS = k.DSRecord
		} else {
			oldKey, oldDS = k.Name, k.DSRecord
		}
	}
	// step runs the leader's tick and returns what GET …/dnssec shows:
	// the zone's status, its message and the old key's status.
	step := func() (string, string, string) {
		t.Helper()
		if _, err := e.s.AdvanceDNSSEC(ctx); err != nil {
			t.Fatal(err)
		}
		insync()
		info, err := e.s.GetDNSSEC(ctx, tenant, z.ID)
		if err != nil {
			t.Fatal(err)
		}
		old := ""
		for _, k := range info.KeySigningKeys {
			if k.Name == oldKey {
				old = k.Status
			}
		}
		return info.ServeSignature, info.StatusMessage, old
	}
	want := func(what, gotStatus, gotMsg, gotOld, status, msgPart, old string) {
		t.Helper()
		if gotStatus != status || !strings.Contains(gotMsg, msgPart) || gotOld != old {
			t.Fatalf("%s: zone %s, old key %s, message %q; want %s, %s, message with %q", what, gotStatus, gotOld, gotMsg, status, old, msgPart)
		}
	}

	// 1. Two active keys, the parent has only the old DS: add the new.
	parent.set([]string{oldDS}, nil)
	st, msg, old := step()
	want("new key published", st, msg, old, SigningStatusActionNeeded, "add the DS record(s): remote.example. IN DS "+newDS, KeyStatusActive)
	// The parent's answer in lower case: digests compare without case.
	parent.set([]string{strings.ToLower(oldDS), newDS}, nil)
	st, msg, old = step()
	want("double DS", st, msg, old, SigningStatusSigning, "", KeyStatusActive)
	_, err = e.s.DisableDNSSEC(ctx, tenant, z.ID)
	wantErr(t, err, CodeKeySigningKeyInParentDSRecord)

	// 2. The old key is deactivated: it signs on, the parent holds its DS.
	if _, err := e.s.DeactivateKeySigningKey(ctx, tenant, z.ID, oldKey); err != nil {
		t.Fatalf("deactivate: %v", err)
	}
	insync()
	for range 3 {
		st, msg, old = step()
		want("old DS at the parent", st, msg, old, SigningStatusActionNeeded, "remove the DS record(s): remote.example. IN DS "+oldDS, SigningStatusDeleting)
		pass(time.Hour)
	}
	// material is the DNSKEY set the nameservers are given.
	material := func() string {
		var raw []byte
		if err := e.pool.QueryRow(ctx, `SELECT dnssec FROM hosted_zone WHERE id = $1`, strings.TrimPrefix(z.ID, "/hostedzone/")).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var d zonecfg.DNSSEC
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		return strings.Join(d.DNSKEYs, "\n")
	}
	if n := strings.Count(material(), `257 3 13`); n != 2 {
		t.Fatalf("%d KSKs in the DNSKEY set while the old one retires, want 2", n)
	}

	// 3. The parent drops it: the TTL (300 s) runs from the first answer
	// without it; a DS that comes back starts the wait again.
	parent.set([]string{newDS}, nil)
	st, msg, old = step()
	want("DS gone", st, msg, old, SigningStatusSigning, "leaves at 2026-12-01T03:05:00Z", SigningStatusDeleting)
	pass(299 * time.Second)
	st, msg, old = step()
	want("TTL not passed", st, msg, old, SigningStatusSigning, "leaves at", SigningStatusDeleting)
	parent.set([]string{oldDS, newDS}, nil)
	st, msg, old = step()
	want("DS back", st, msg, old, SigningStatusActionNeeded, "remove", SigningStatusDeleting)
	parent.set(nil, errors.New("i/o timeout"))
	pass(time.Hour)
	st, msg, old = step()
	want("parent unreachable", st, msg, old, SigningStatusActionNeeded, "could not be asked", SigningStatusDeleting)
	parent.set([]string{newDS}, nil)
	st, _, old = step()
	want("DS gone again", st, "", old, SigningStatusSigning, "", SigningStatusDeleting)
	pass(299 * time.Second)
	if _, _, old = step(); old != SigningStatusDeleting {
		t.Fatalf("old key %s before the TTL has passed", old)
	}
	pass(time.Second)
	st, msg, old = step()
	want("TTL passed", st, msg, old, SigningStatusSigning, "", KeyStatusInactive)
	if msg != "" {
		t.Fatalf("message after the roll: %q", msg)
	}
	if n := strings.Count(material(), `257 3 13`); n != 1 {
		t.Fatalf("%d KSKs in the DNSKEY set after the roll, want 1", n)
	}

	parent.set([]string{oldDS}, nil) // put back meanwhile: delete is refused
	_, err = e.s.DeleteKeySigningKey(ctx, tenant, z.ID, oldKey)
	wantErr(t, err, CodeKeySigningKeyInParentDSRecord)
	parent.set(nil, errors.New("timeout"))
	if _, err := e.s.DeleteKeySigningKey(ctx, tenant, z.ID, oldKey); err != nil {
		t.Fatalf("delete with the parent unreachable: %v", err)
	}
}
