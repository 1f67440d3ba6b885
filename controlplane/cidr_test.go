package controlplane

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

func TestIntegrationCIDRCollections(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	other := testTenant(t, e.pool)

	c, created, err := e.s.CreateCIDRCollection(ctx, tenant, "sites", "r1")
	if err != nil || !created || c.Version != 1 {
		t.Fatalf("create: %+v %v %v", c, created, err)
	}
	again, created, err := e.s.CreateCIDRCollection(ctx, tenant, "sites", "r1")
	if err != nil || created || again != c {
		t.Fatalf("retry: %+v %v %v", again, created, err)
	}
	_, _, err = e.s.CreateCIDRCollection(ctx, tenant, "sites", "r2")
	wantErr(t, err, CodeCidrCollectionAlreadyExists)
	_, _, err = e.s.CreateCIDRCollection(ctx, tenant, "bad name", "r3")
	wantErr(t, err, CodeInvalidInput)
	if _, _, err := e.s.GetCIDRCollection(ctx, other, c.ID); !IsCode(err, CodeNoSuchCidrCollection) {
		t.Fatalf("another tenant reads the collection: %v", err)
	}

	// Changes: validation, all or nothing.
	bad := []struct {
		name    string
		changes []CIDRChange
		code    Code
	}{
		{"no changes", nil, CodeInvalidInput},
		{"host bits", []CIDRChange{{LocationName: "a", Action: CIDRPut, Blocks: []string{"192.0.2.1/24"}}}, CodeInvalidInput},
		{"too long a prefix", []CIDRChange{{LocationName: "a", Action: CIDRPut, Blocks: []string{"192.0.2.0/25"}}}, CodeInvalidInput},
		{"too long a v6 prefix", []CIDRChange{{LocationName: "a", Action: CIDRPut, Blocks: []string{"2001:db8::/56"}}}, CodeInvalidInput},
		{"zero prefix", []CIDRChange{{LocationName: "a", Action: CIDRPut, Blocks: []string{"0.0.0.0/0"}}}, CodeInvalidInput},
		{"not a block", []CIDRChange{{LocationName: "a", Action: CIDRPut, Blocks: []string{"example"}}}, CodeInvalidInput},
		{"bad location", []CIDRChange{{LocationName: "a b", Action: CIDRPut, Blocks: []string{"192.0.2.0/24"}}}, CodeInvalidInput},
		{"default location", []CIDRChange{{LocationName: "*", Action: CIDRPut, Blocks: []string{"192.0.2.0/24"}}}, CodeInvalidInput},
		{"bad action", []CIDRChange{{LocationName: "a", Action: "ADD", Blocks: []string{"192.0.2.0/24"}}}, CodeInvalidInput},
		{"block in two locations", []CIDRChange{
			{LocationName: "a", Action: CIDRPut, Blocks: []string{"192.0.2.0/24"}},
			{LocationName: "b", Action: CIDRPut, Blocks: []string{"192.0.2.0/24"}}}, CodeInvalidInput},
	}
	for _, tc := range bad {
		_, err := e.s.ChangeCIDRCollection(ctx, tenant, c.ID, nil, tc.changes)
		if !IsCode(err, tc.code) {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
		}
	}
	v := int64(1)
	res, err := e.s.ChangeCIDRCollection(ctx, tenant, c.ID, &v, []CIDRChange{
		{LocationName: "paris", Action: CIDRPut, Blocks: []string{"192.0.2.0/24", "2001:db8:1::/48"}},
		{LocationName: "oslo", Action: CIDRPut, Blocks: []string{"198.51.100.0/24"}},
	})
	if err != nil || res.Collection.Version != 2 || len(res.Changes) != 0 {
		t.Fatalf("change: %+v %v", res, err)
	}
	_, err = e.s.ChangeCIDRCollection(ctx, tenant, c.ID, &v, []CIDRChange{{LocationName: "x", Action: CIDRPut, Blocks: []string{"203.0.113.0/24"}}})
	wantErr(t, err, CodeCidrCollectionVersionMismatch)

	got, locs, err := e.s.GetCIDRCollection(ctx, tenant, c.ID)
	if err != nil || got.Version != 2 || fmt.Sprint(locs) != "[{oslo 1} {paris 2}]" {
		t.Fatalf("get: %+v %v %v", got, locs, err)
	}
	blocks, err := e.s.ListCIDRBlocks(ctx, tenant, c.ID, "paris")
	if err != nil || len(blocks) != 2 || blocks[0].Location != "paris" {
		t.Fatalf("blocks: %+v %v", blocks, err)
	}
	if _, err := e.s.ListCIDRBlocks(ctx, tenant, c.ID, "rome"); !IsCode(err, CodeNoSuchCidrLocation) {
		t.Fatalf("blocks of a missing location: %v", err)
	}

	// A zone uses the collection: changes reach it as zone events.
	z := e.mustZone(t, tenant, "cidr.example")
	e.mustChange(t, tenant, z.ID,
		routed(ActionCreate, "w.cidr.example", "A", "p", func(r *zonecfg.RRSet) { r.CIDR = &zonecfg.CIDRRouting{CollectionID: c.ID, LocationName: "paris"} }, "192.0.2.1"),
		routed(ActionCreate, "w.cidr.example", "A", "d", func(r *zonecfg.RRSet) { r.CIDR = &zonecfg.CIDRRouting{CollectionID: c.ID, LocationName: "*"} }, "192.0.2.2"))
	zv, _ := e.s.GetZone(ctx, tenant, z.ID)
	res, err = e.s.ChangeCIDRCollection(ctx, tenant, c.ID, nil, []CIDRChange{
		{LocationName: "paris", Action: CIDRDeleteIfExists, Blocks: []string{"2001:db8:1::/48", "203.0.113.0/24"}},
		{LocationName: "paris", Action: CIDRPut, Blocks: []string{"203.0.113.0/24"}},
	})
	if err != nil || res.Collection.Version != 3 || len(res.Changes) != 1 || res.Changes[0].ZoneVersion != zv.Version+1 {
		t.Fatalf("change of a used collection: %+v %v", res, err)
	}
	ev := e.lastEvent(t, z.ID)
	want := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("203.0.113.0/24")}
	if ev.Kind != event.ZoneUpdated || ev.FromVersion != zv.Version || len(ev.Upserts)+len(ev.Deletes) != 0 ||
		len(ev.CIDRCollections) != 1 || fmt.Sprint(ev.CIDRCollections[0].Locations["paris"]) != fmt.Sprint(want) ||
		ev.CIDRCollections[0].Version != 3 {
		t.Fatalf("event %+v", ev)
	}
	// The last block of a location in use cannot go; others can.
	_, err = e.s.ChangeCIDRCollection(ctx, tenant, c.ID, nil, []CIDRChange{
		{LocationName: "paris", Action: CIDRDeleteIfExists, Blocks: []string{"192.0.2.0/24", "203.0.113.0/24"}}})
	wantErr(t, err, CodeCidrBlockInUse)
	if _, err := e.s.ChangeCIDRCollection(ctx, tenant, c.ID, nil, []CIDRChange{
		{LocationName: "oslo", Action: CIDRDeleteIfExists, Blocks: []string{"198.51.100.0/24"}}}); err != nil {
		t.Fatalf("delete an unused location: %v", err)
	}
	wantErr(t, e.s.DeleteCIDRCollection(ctx, tenant, c.ID), CodeCidrCollectionInUse)

	// Once no record set uses it, it can be deleted.
	_, err = e.s.ChangeRRSets(ctx, tenant, z.ID, ChangeBatch{Changes: []RRSetChange{
		routed(ActionDelete, "w.cidr.example", "A", "p", func(r *zonecfg.RRSet) { r.CIDR = &zonecfg.CIDRRouting{CollectionID: c.ID, LocationName: "paris"} }, "192.0.2.1"),
		routed(ActionDelete, "w.cidr.example", "A", "d", func(r *zonecfg.RRSet) { r.CIDR = &zonecfg.CIDRRouting{CollectionID: c.ID, LocationName: "*"} }, "192.0.2.2"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.DeleteCIDRCollection(ctx, tenant, c.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	wantErr(t, e.s.DeleteCIDRCollection(ctx, tenant, c.ID), CodeNoSuchCidrCollection)

	// At most MaxCIDRCollections per tenant.
	for i := range MaxCIDRCollections {
		if _, _, err := e.s.CreateCIDRCollection(ctx, tenant, fmt.Sprintf("c%d", i), fmt.Sprintf("ref%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err = e.s.CreateCIDRCollection(ctx, tenant, "one-more", "ref-more")
	wantErr(t, err, CodeLimitsExceeded)
	list, err := e.s.ListCIDRCollections(ctx, tenant)
	if err != nil || len(list) != MaxCIDRCollections || list[0].Name != "c0" {
		t.Fatalf("list: %+v %v", list, err)
	}
}
