package controlplane

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/waymark-dns/waymark/zonecfg"
)

func TestIntegrationSecondaryZone(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	k, err := e.s.CreateTSIGKey(ctx, tenant, "primary.example.", TSIGHMACSHA256)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		sec  SecondaryConfig
		code Code
	}{
		{SecondaryConfig{}, CodeInvalidInput},
		{SecondaryConfig{Primaries: []SecondaryPrimary{{Address: "ns.example:53", TSIGKey: k.Name}}}, CodeInvalidInput},
		{SecondaryConfig{Primaries: []SecondaryPrimary{{Address: "127.0.0.1:0", TSIGKey: k.Name}}}, CodeInvalidInput},
		{SecondaryConfig{Primaries: []SecondaryPrimary{{Address: "0.0.0.0:53", TSIGKey: k.Name}}}, CodeInvalidInput},
		{SecondaryConfig{Primaries: []SecondaryPrimary{{Address: "127.0.0.1:5353"}}}, CodeInvalidInput},
		{SecondaryConfig{Primaries: []SecondaryPrimary{{Address: "127.0.0.1:5353", TSIGKey: "nope.example."}}}, CodeNoSuchTSIGKey},
	} {
		sec := c.sec
		_, _, err := e.s.CreateZone(ctx, tenant, CreateZoneInput{Name: "sec.example.", CallerReference: "bad" + string(rune('a'+i)), Secondary: &sec})
		if !isCode(err, c.code) {
			t.Errorf("CreateZone(%+v) = %v, want %s", c.sec, err, c.code)
		}
	}
	z, _, err := e.s.CreateZone(ctx, tenant, CreateZoneInput{Name: "sec.example.", CallerReference: "ok",
		Secondary: &SecondaryConfig{Primaries: []SecondaryPrimary{{Address: "127.0.0.1:5353", TSIGKey: "Primary.Example"}, {Address: "2001:db8::1", TSIGKey: k.Name}}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.s.GetZone(ctx, tenant, z.ID)
	if err != nil || got.Secondary == nil || len(got.Secondary.Primaries) != 2 ||
		got.Secondary.Primaries[0] != (SecondaryPrimary{Address: "127.0.0.1:5353", TSIGKey: k.Name}) ||
		got.Secondary.Primaries[1].Address != "[2001:db8::1]:53" || got.SecondaryStatus.Serial != 0 {
		t.Fatalf("GetZone: %+v %v", got, err)
	}
	b := ChangeBatch{Changes: []RRSetChange{{Action: ActionUpsert, RRSet: zonecfg.RRSet{Name: "www.sec.example.", Type: "A", TTL: 60, Records: []string{"192.0.2.1"}}}}}
	if _, err := e.s.ChangeRRSets(ctx, tenant, z.ID, b); !isCode(err, CodeHostedZoneIsSecondary) {
		t.Errorf("ChangeRRSets on a secondary = %v", err)
	}
	if _, err := e.s.ImportZone(ctx, tenant, z.ID, "www 60 IN A 192.0.2.1\n"); !isCode(err, CodeHostedZoneIsSecondary) {
		t.Errorf("ImportZone on a secondary = %v", err)
	}
	if _, err := e.s.EnableDNSSEC(ctx, tenant, z.ID); !isCode(err, CodeHostedZoneIsSecondary) {
		t.Errorf("EnableDNSSEC on a secondary = %v", err)
	}
	// An ordinary zone still takes change batches and shows no secondary.
	p := e.mustZone(t, tenant, "prim.example.")
	if p.Secondary != nil {
		t.Errorf("ordinary zone has secondary %+v", p.Secondary)
	}
	b.Changes[0].RRSet.Name = "www.prim.example."
	if _, err := e.s.ChangeRRSets(ctx, tenant, p.ID, b); err != nil {
		t.Errorf("ChangeRRSets on an ordinary zone: %v", err)
	}
	// The secondary's key is in use: listed with the zone, not deletable.
	keys, err := e.s.ListTSIGKeys(ctx, tenant)
	if err != nil || len(keys) != 1 || len(keys[0].Zones) != 1 || keys[0].Zones[0] != z.ID {
		t.Errorf("ListTSIGKeys = %+v, %v; want %s using %s", keys, err, k.Name, z.ID)
	}
	if err := e.s.DeleteTSIGKey(ctx, tenant, k.Name); !isCode(err, CodeTSIGKeyInUse) {
		t.Errorf("DeleteTSIGKey of a secondary's key = %v, want %s", err, CodeTSIGKeyInUse)
	}
	if err := e.s.DeleteTSIGKey(ctx, tenant, "nope.example."); !isCode(err, CodeNoSuchTSIGKey) {
		t.Errorf("DeleteTSIGKey of no key = %v", err)
	}
	// A refresh is asked for a secondary zone of the tenant only; the
	// leader's poll takes the request once.
	other := testTenant(t, e.pool)
	if _, err := e.s.RequestSecondaryRefresh(ctx, other, z.ID); !isCode(err, CodeNoSuchHostedZone) {
		t.Errorf("RequestSecondaryRefresh by another tenant = %v, want %s", err, CodeNoSuchHostedZone)
	}
	if _, err := e.s.RequestSecondaryRefresh(ctx, tenant, p.ID); !isCode(err, CodeInvalidInput) {
		t.Errorf("RequestSecondaryRefresh of an ordinary zone = %v, want %s", err, CodeInvalidInput)
	}
	if got, err := e.s.RequestSecondaryRefresh(ctx, tenant, z.ID); err != nil || !got.SecondaryStatus.NotServed {
		t.Errorf("RequestSecondaryRefresh = %+v, %v; want the zone, not served yet", got.SecondaryStatus, err)
	}
	for i, want := range [][]string{{z.ID}, nil} {
		found, requested, err := e.s.listSecondaries(ctx, false)
		if err != nil || len(found) != 1 || found[0].id != z.ID || !slices.Equal(requested, want) {
			t.Errorf("listSecondaries #%d: %d zones, requested %v, %v; want %s, requested %v", i, len(found), requested, err, z.ID, want)
		}
	}
	free, err := e.s.CreateTSIGKey(ctx, tenant, "free.example.", TSIGHMACSHA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.DeleteTSIGKey(ctx, tenant, free.Name); err != nil {
		t.Errorf("DeleteTSIGKey of an unused key: %v", err)
	}
}

// TestSkippedText: record sets the nameservers cannot serve are dropped
// from a refresh and named, at most five of them.
func TestSkippedText(t *testing.T) {
	a := zonecfg.RRSet{Name: "www.sec.example.", Type: "A", TTL: 60, Records: []string{"192.0.2.1"}}
	hinfo := func(i int) zonecfg.RRSet {
		return zonecfg.RRSet{Name: fmt.Sprintf("h%d.sec.example.", i), Type: "HINFO", TTL: 60, Records: []string{`"PC" "Linux"`}}
	}
	badTTL := zonecfg.RRSet{Name: "ttl.sec.example.", Type: "A", TTL: zonecfg.MaxTTL + 1, Records: []string{"192.0.2.1"}}
	for _, c := range []struct {
		name string
		in   []zonecfg.RRSet
		kept int
		want []string
	}{
		{"all served", []zonecfg.RRSet{a}, 1, nil},
		{"one type not served", []zonecfg.RRSet{a, hinfo(1)}, 1, []string{"1 record sets", "h1.sec.example. HINFO"}},
		{"a value refused", []zonecfg.RRSet{badTTL, a}, 1, []string{"ttl.sec.example. A: Invalid TTL"}},
		{"many", []zonecfg.RRSet{hinfo(1), hinfo(2), hinfo(3), hinfo(4), hinfo(5), hinfo(6), hinfo(7), a}, 1, []string{"7 record sets", "and 2 more"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sets := slices.Clone(c.in)
			got := skippedText(&sets)
			if len(sets) != c.kept || (c.want == nil) != (got == "") {
				t.Fatalf("kept %d, text %q; want %d kept", len(sets), got, c.kept)
			}
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("text %q lacks %q", got, w)
				}
			}
		})
	}
}
