package controlplane

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
)

// fakeParentDS is a parent outside Waymark as the DNS shows it.
type fakeParentDS struct {
	mu  sync.Mutex
	ds  []string
	err error
}

func (f *fakeParentDS) ParentDS(_ context.Context, zone string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if zone != "remote.example." {
		return nil, errors.New("asked about " + zone)
	}
	return f.ds, f.err
}

func (f *fakeParentDS) set(ds []string, err error) {
	f.mu.Lock()
	f.ds, f.err = ds, err
	f.mu.Unlock()
}

// TestIntegrationDNSSECRemoteParentDS: with a parent elsewhere, the KSK
// whose DS the parent's nameservers still answer is not deactivated,
// deleted or signing disabled (KeySigningKeyInParentDSRecord); once the
// parent answers only the new key's DS, or cannot be asked, it may go.
func TestIntegrationDNSSECRemoteParentDS(t *testing.T) {
	t.Parallel()
	parent := &fakeParentDS{}
	e := newZoneEnv(t, func(c *Config) { c.DNSSEC.ParentDS = parent })
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "remote.example.")
	if _, err := e.s.EnableDNSSEC(ctx, tenant, z.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.s.CreateKeySigningKey(ctx, tenant, z.ID, CreateKeySigningKeyInput{Name: "new_key", Status: KeyStatusActive}); err != nil {
		t.Fatal(err)
	}
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
	// The parent's answer in lower case: digests compare without case.
	parent.set([]string{strings.ToLower(oldDS), newDS}, nil)
	_, err = e.s.DeactivateKeySigningKey(ctx, tenant, z.ID, oldKey)
	wantErr(t, err, CodeKeySigningKeyInParentDSRecord)
	_, err = e.s.DisableDNSSEC(ctx, tenant, z.ID)
	wantErr(t, err, CodeKeySigningKeyInParentDSRecord)

	parent.set([]string{newDS}, nil)
	if _, err := e.s.DeactivateKeySigningKey(ctx, tenant, z.ID, oldKey); err != nil {
		t.Fatalf("deactivate once the parent dropped the DS: %v", err)
	}
	parent.set([]string{oldDS}, nil) // put back meanwhile: delete is refused too
	_, err = e.s.DeleteKeySigningKey(ctx, tenant, z.ID, oldKey)
	wantErr(t, err, CodeKeySigningKeyInParentDSRecord)
	parent.set(nil, errors.New("timeout"))
	if _, err := e.s.DeleteKeySigningKey(ctx, tenant, z.ID, oldKey); err != nil {
		t.Fatalf("delete with the parent unreachable: %v", err)
	}
}
