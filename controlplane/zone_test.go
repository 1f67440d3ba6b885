package controlplane

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

func TestIntegrationCreateZone(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)

	tests := []struct {
		name     string
		input    string
		want     string
		wantCode Code
	}{
		{name: "canonicalised", input: "Example.COM", want: "example.com."},
		{name: "trailing dot", input: "shop.example.net.", want: "shop.example.net."},
		{name: "idn", input: "bücher.example", want: "xn--bcher-kva.example."},
		{name: "underscore", input: "_sub.example.org", want: "_sub.example.org."},
		{name: "root", input: ".", wantCode: CodeInvalidDomainName},
		{name: "tld", input: "com", wantCode: CodeInvalidDomainName},
		{name: "wildcard", input: "*.example.com", wantCode: CodeInvalidDomainName},
		{name: "empty label", input: "a..example.com", wantCode: CodeInvalidDomainName},
		{name: "empty", input: "", wantCode: CodeInvalidDomainName},
		{name: "label too long", input: strings.Repeat("a", 64) + ".com", wantCode: CodeInvalidDomainName},
		{name: "space", input: "a b.com", wantCode: CodeInvalidDomainName},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			z, info, err := e.s.CreateZone(ctx, tenant, CreateZoneInput{Name: tc.input, CallerReference: fmt.Sprint("r", i), Comment: "c"})
			if tc.wantCode != "" {
				wantErr(t, err, tc.wantCode)
				return
			}
			if err != nil {
				t.Fatalf("CreateZone: %v", err)
			}
			if z.Name != tc.want || z.Version != 1 || z.RRSetCount != 2 || z.Comment != "c" || !strings.HasPrefix(z.ID, "Z") {
				t.Errorf("zone = %+v", z)
			}
			if !slices.Equal(z.NameServers, []string{"ns1.waymark.test.", "ns2.waymark.test.", "ns3.waymark.test.", "ns4.waymark.test."}) {
				t.Errorf("name servers = %v", z.NameServers)
			}
			if info.Status != StatusPending || info.ZoneID != z.ID || info.ZoneVersion != 1 {
				t.Errorf("change = %+v", info)
			}
			sets := e.allRRSets(t, tenant, z.ID)
			want := []zonecfg.RRSet{
				{Name: tc.want, Type: "NS", TTL: 172800, Records: []string{"ns1.waymark.test.", "ns2.waymark.test.", "ns3.waymark.test.", "ns4.waymark.test."}},
				{Name: tc.want, Type: "SOA", TTL: 900, Records: []string{"ns1.waymark.test. hostmaster.waymark.test. 1 7200 900 1209600 86400"}},
			}
			if fmt.Sprint(sets) != fmt.Sprint(want) {
				t.Errorf("rrsets = %v, want %v", sets, want)
			}
			ev := e.lastEvent(t, z.ID)
			if ev.Kind != event.ZoneCreated || ev.FromVersion != 0 || ev.ToVersion != 1 || ev.ZoneName != tc.want ||
				ev.ChangeID != info.ID || ev.TenantID != tenant || len(ev.Upserts) != 2 || len(ev.Deletes) != 0 {
				t.Errorf("event = %+v", ev)
			}
			got, err := e.s.GetChange(ctx, tenant, info.ID)
			if err != nil || got.ID != info.ID || got.ZoneVersion != 1 || got.Status != StatusPending {
				t.Errorf("GetChange = %+v, %v", got, err)
			}
		})
	}
}

func TestIntegrationCreateZoneInputs(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	a, b := testTenant(t, e.pool), testTenant(t, e.pool)

	if _, _, err := e.s.CreateZone(ctx, a, CreateZoneInput{Name: "one.example", CallerReference: "same"}); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.s.CreateZone(ctx, a, CreateZoneInput{Name: "two.example", CallerReference: "same"})
	wantErr(t, err, CodeHostedZoneAlreadyExists)
	// Caller references are per tenant.
	if _, _, err := e.s.CreateZone(ctx, b, CreateZoneInput{Name: "three.example", CallerReference: "same"}); err != nil {
		t.Fatal(err)
	}
	for _, in := range []CreateZoneInput{
		{Name: "x.example", CallerReference: ""},
		{Name: "x.example", CallerReference: strings.Repeat("r", 129)},
		{Name: "x.example", CallerReference: "nul\x00"},
		{Name: "x.example", CallerReference: "bad\xff"},
		{Name: "x.example", CallerReference: "ok", Comment: strings.Repeat("c", 257)},
	} {
		_, _, err := e.s.CreateZone(ctx, a, in)
		wantErr(t, err, CodeInvalidInput)
	}
	_, _, err = e.s.CreateZone(ctx, "TNOSUCH", CreateZoneInput{Name: "x.example", CallerReference: "r"})
	wantErr(t, err, CodeNoSuchTenant)
}

func TestIntegrationZoneQuota(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	a := testTenant(t, e.pool, testTenantOpts{zoneQuota: 2})
	e.mustZone(t, a, "q1.example")
	z := e.mustZone(t, a, "q2.example")
	_, _, err := e.s.CreateZone(ctx, a, CreateZoneInput{Name: "q3.example", CallerReference: "q3"})
	wantErr(t, err, CodeTooManyHostedZones)
	if _, err := e.s.DeleteZone(ctx, a, z.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.s.CreateZone(ctx, a, CreateZoneInput{Name: "q3.example", CallerReference: "q3"}); err != nil {
		t.Fatalf("after delete: %v", err)
	}
}

func TestIntegrationGetUpdateZone(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	a, b := testTenant(t, e.pool), testTenant(t, e.pool)
	z := e.mustZone(t, a, "get.example")

	for _, id := range []string{z.ID, "/hostedzone/" + z.ID, "hostedzone/" + z.ID} {
		got, err := e.s.GetZone(ctx, a, id)
		if err != nil || got.ID != z.ID || got.Name != "get.example." || got.RRSetCount != 2 || got.Version != 1 {
			t.Errorf("GetZone(%s) = %+v, %v", id, got, err)
		}
	}
	for _, id := range []string{"ZNOSUCH", "", "bad\xff", strings.Repeat("Z", 100), "lower"} {
		_, err := e.s.GetZone(ctx, a, id)
		wantErr(t, err, CodeNoSuchHostedZone)
	}
	// Another tenant's zone reads exactly like a missing one.
	_, errOther := e.s.GetZone(ctx, b, z.ID)
	_, errMissing := e.s.GetZone(ctx, b, "ZMISSING")
	wantErr(t, errOther, CodeNoSuchHostedZone)
	if strings.Replace(errOther.Error(), z.ID, "X", 1) != strings.Replace(errMissing.Error(), "ZMISSING", "X", 1) {
		t.Errorf("other tenant %q, missing %q", errOther, errMissing)
	}

	got, err := e.s.UpdateZoneComment(ctx, a, z.ID, "new comment")
	if err != nil || got.Comment != "new comment" || got.Version != 1 {
		t.Errorf("UpdateZoneComment = %+v, %v", got, err)
	}
	_, err = e.s.UpdateZoneComment(ctx, b, z.ID, "x")
	wantErr(t, err, CodeNoSuchHostedZone)
	_, err = e.s.UpdateZoneComment(ctx, a, z.ID, strings.Repeat("x", 257))
	wantErr(t, err, CodeInvalidInput)
	if got, _ := e.s.GetZone(ctx, a, z.ID); got.Comment != "new comment" {
		t.Errorf("comment = %q", got.Comment)
	}
}

func TestIntegrationListZones(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	a, b := testTenant(t, e.pool), testTenant(t, e.pool)
	names := []string{"b.example", "a.example", "a-b.example", "www.a.example", "z.test", "example.org", "x.example.org"}
	for _, n := range names {
		e.mustZone(t, a, n)
	}
	e.mustZone(t, b, "other.example")
	// Route 53's by-name order: reversed labels, compared as bytes.
	want := []string{"a-b.example.", "a.example.", "www.a.example.", "b.example.", "example.org.", "x.example.org.", "z.test."}

	var got []string
	in := ListZonesInput{MaxItems: 2}
	for pages := 0; ; pages++ {
		p, err := e.s.ListZones(ctx, a, in)
		if err != nil {
			t.Fatal(err)
		}
		if p.MaxItems != 2 || len(p.Zones) > 2 {
			t.Fatalf("page = %+v", p)
		}
		for _, z := range p.Zones {
			got = append(got, z.Name)
		}
		if !p.IsTruncated {
			if p.NextName != "" || p.NextID != "" {
				t.Errorf("last page has a next position: %+v", p)
			}
			break
		}
		in = ListZonesInput{StartName: p.NextName, StartID: p.NextID, MaxItems: 2}
	}
	if !slices.Equal(got, want) {
		t.Errorf("zones = %v, want %v", got, want)
	}

	// A start name is a position: a name that does not exist starts at the
	// next one.
	p, err := e.s.ListZones(ctx, a, ListZonesInput{StartName: "C.EXAMPLE"})
	if err != nil || p.MaxItems != 100 || len(p.Zones) != 3 || p.Zones[0].Name != "example.org." {
		t.Errorf("from c.example: %+v, %v", p, err)
	}
	p, err = e.s.ListZones(ctx, a, ListZonesInput{MaxItems: 1000})
	if err != nil || p.MaxItems != 100 || len(p.Zones) != len(want) {
		t.Errorf("capped: %+v, %v", p, err)
	}
	_, err = e.s.ListZones(ctx, a, ListZonesInput{StartID: "Z1"})
	wantErr(t, err, CodeInvalidInput)
	_, err = e.s.ListZones(ctx, a, ListZonesInput{StartName: "a..b"})
	wantErr(t, err, CodeInvalidInput)
	_, err = e.s.ListZones(ctx, a, ListZonesInput{MaxItems: -1})
	wantErr(t, err, CodeInvalidInput)
	p, err = e.s.ListZones(ctx, testTenant(t, e.pool), ListZonesInput{})
	if err != nil || len(p.Zones) != 0 || p.IsTruncated {
		t.Errorf("empty tenant: %+v, %v", p, err)
	}
}

func TestIntegrationDeleteZone(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	a, b := testTenant(t, e.pool), testTenant(t, e.pool)
	z := e.mustZone(t, a, "del.example")
	e.mustChange(t, a, z.ID, rrs(ActionCreate, "www.del.example", "A", 60, "192.0.2.1"))

	_, err := e.s.DeleteZone(ctx, a, z.ID)
	wantErr(t, err, CodeHostedZoneNotEmpty)
	_, err = e.s.DeleteZone(ctx, b, z.ID)
	wantErr(t, err, CodeNoSuchHostedZone)
	// Changing the apex records does not make the zone non-empty.
	e.mustChange(t, a, z.ID,
		rrs(ActionDelete, "www.del.example", "A", 60, "192.0.2.1"),
		rrs(ActionUpsert, "del.example", "NS", 3600, "ns1.waymark.test."))

	info, err := e.s.DeleteZone(ctx, a, "/hostedzone/"+z.ID)
	if err != nil {
		t.Fatalf("DeleteZone: %v", err)
	}
	if info.ZoneID != z.ID || info.ZoneVersion != 4 || info.Status != StatusPending {
		t.Errorf("change = %+v", info)
	}
	ev := e.lastEvent(t, z.ID)
	if ev.Kind != event.ZoneDeleted || ev.FromVersion != 3 || ev.ToVersion != 4 || ev.ChangeID != info.ID {
		t.Errorf("event = %+v", ev)
	}
	_, err = e.s.GetZone(ctx, a, z.ID)
	wantErr(t, err, CodeNoSuchHostedZone)
	if n := e.count(t, `SELECT count(*) FROM rrset WHERE zone_id = $1`, z.ID); n != 0 {
		t.Errorf("%d rrsets left", n)
	}
	// The deletion's change stays readable.
	if got, err := e.s.GetChange(ctx, a, info.ID); err != nil || got.ZoneVersion != 4 {
		t.Errorf("GetChange = %+v, %v", got, err)
	}
	_, err = e.s.DeleteZone(ctx, a, z.ID)
	wantErr(t, err, CodeNoSuchHostedZone)
	// The name is free again, even for another tenant.
	e.mustZone(t, b, "del.example")
}
