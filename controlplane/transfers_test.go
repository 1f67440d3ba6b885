package controlplane

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/waymark-dns/waymark/dnssec"
	"github.com/waymark-dns/waymark/zonecfg"
)

func TestIntegrationTransfersConfig(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "xfr.example.")

	k, err := e.s.CreateTSIGKey(ctx, tenant, "Knot-Secondary.example", TSIGHMACSHA256)
	if err != nil || k.Name != "knot-secondary.example." || k.Algorithm != TSIGHMACSHA256 {
		t.Fatalf("CreateTSIGKey: %+v %v", k.TSIGKey, err)
	}
	secret, err := base64.StdEncoding.DecodeString(k.Secret)
	if err != nil || len(secret) != 32 {
		t.Fatalf("secret %q: %d bytes, %v", k.Secret, len(secret), err)
	}
	for _, c := range []struct {
		name, alg string
		code      Code
	}{
		{"knot-secondary.example.", TSIGHMACSHA256, CodeTSIGKeyAlreadyExists},
		{"k2.example.", "hmac-md5", CodeInvalidInput},
		{"bad..name", TSIGHMACSHA512, CodeInvalidInput},
	} {
		if _, err := e.s.CreateTSIGKey(ctx, tenant, c.name, c.alg); !isCode(err, c.code) {
			t.Errorf("CreateTSIGKey(%q, %q) = %v, want %s", c.name, c.alg, err, c.code)
		}
	}
	var sealed []byte
	if err := e.pool.QueryRow(ctx, `SELECT sealed_secret FROM tsig_key WHERE name = $1`, k.Name).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if slices.Equal(sealed, secret) || len(sealed) < len(secret)+16 {
		t.Error("the secret is not stored sealed")
	}

	for _, in := range []TransferConfig{
		{Allow: []TransferAllow{{TSIGKey: "", CIDRs: []string{"192.0.2.0/24"}}}},
		{Allow: []TransferAllow{{TSIGKey: k.Name}}},
		{Allow: []TransferAllow{{TSIGKey: k.Name, CIDRs: []string{"300.0.0.0/8"}}}},
		{Notify: []TransferNotify{{Address: "ns.example"}}},
	} {
		if _, _, err := e.s.PutTransfers(ctx, tenant, z.ID, in); !isCode(err, CodeInvalidInput) {
			t.Errorf("PutTransfers(%+v) = %v, want InvalidInput", in, err)
		}
	}
	if _, _, err := e.s.PutTransfers(ctx, tenant, z.ID, TransferConfig{Allow: []TransferAllow{{TSIGKey: "nope.example.", CIDRs: []string{"192.0.2.0/24"}}}}); !isCode(err, CodeNoSuchTSIGKey) {
		t.Errorf("PutTransfers with an unknown key = %v", err)
	}
	cfg, ch, err := e.s.PutTransfers(ctx, tenant, z.ID, TransferConfig{
		Allow:  []TransferAllow{{TSIGKey: "knot-secondary.example", CIDRs: []string{"192.0.2.7/24", "2001:db8::/32"}}},
		Notify: []TransferNotify{{Address: "192.0.2.7", TSIGKey: k.Name}},
	})
	if err != nil || ch.Status != StatusPending {
		t.Fatalf("PutTransfers: %+v %v", ch, err)
	}
	if cfg.Allow[0].CIDRs[0] != "192.0.2.0/24" || cfg.Notify[0].Port != 53 || cfg.Allow[0].TSIGKey != k.Name {
		t.Errorf("normalised configuration %+v", cfg)
	}
	// What nameservers get: the secret wrapped under the fleet key for
	// this zone, which opens to the secret the tenant was shown.
	var raw []byte
	if err := e.pool.QueryRow(ctx, `SELECT transfers FROM hosted_zone WHERE id = $1`, z.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var mat zonecfg.Transfers
	if err := json.Unmarshal(raw, &mat); err != nil || len(mat.Keys) != 1 {
		t.Fatalf("material %s: %v", raw, err)
	}
	got, err := dnssec.Open(e.s.fleetKey(), mat.Keys[0].Wrapped, zonecfg.TSIGKeyAD(z.ID, k.Name))
	if err != nil || !slices.Equal(got, secret) {
		t.Errorf("wrapped secret opens to %x, %v", got, err)
	}
	if _, err := dnssec.Open(e.s.fleetKey(), mat.Keys[0].Wrapped, zonecfg.TSIGKeyAD("ZOTHER", k.Name)); err == nil {
		t.Error("the wrapped secret opens for another zone")
	}

	st, err := e.s.GetTransfers(ctx, tenant, z.ID)
	if err != nil || !st.Available || len(st.Config.Allow) != 1 || st.Note == "" {
		t.Errorf("GetTransfers: %+v %v", st, err)
	}
	keys, err := e.s.ListTSIGKeys(ctx, tenant)
	if err != nil || len(keys) != 1 || !slices.Equal(keys[0].Zones, []string{z.ID}) {
		t.Errorf("ListTSIGKeys: %+v %v", keys, err)
	}
	if err := e.s.DeleteTSIGKey(ctx, tenant, k.Name); !isCode(err, CodeTSIGKeyInUse) {
		t.Errorf("DeleteTSIGKey in use = %v", err)
	}
	other := testTenant(t, e.pool)
	if _, err := e.s.GetTransfers(ctx, other, z.ID); !isCode(err, CodeNoSuchHostedZone) {
		t.Errorf("another tenant's GetTransfers = %v", err)
	}
	if err := e.s.DeleteTSIGKey(ctx, other, k.Name); !isCode(err, CodeNoSuchTSIGKey) {
		t.Errorf("another tenant's DeleteTSIGKey = %v", err)
	}

	// Signed zones are not transferred (yet).
	if _, _, err := e.s.PutTransfers(ctx, tenant, z.ID, TransferConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.EnableDNSSEC(ctx, tenant, z.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.s.PutTransfers(ctx, tenant, z.ID, TransferConfig{Allow: []TransferAllow{{TSIGKey: k.Name, CIDRs: []string{"192.0.2.0/24"}}}}); !isCode(err, CodeTransferNotAvailable) {
		t.Errorf("PutTransfers on a signed zone = %v", err)
	}
	if err := e.s.DeleteTSIGKey(ctx, tenant, k.Name); err != nil {
		t.Errorf("DeleteTSIGKey once unused: %v", err)
	}
}

func isCode(err error, c Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == c
}
