package controlplane

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/waymark-dns/waymark/zonecfg"
)

func TestIntegrationListRRSets(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "example.com")

	// 50 names × 5 types, with names whose byte order differs from the
	// reversed-label order: a-b.example.com. sorts before a.example.com.
	names := []string{"a", "a-b", "b.a", "a.a", "_dmarc", "*", "z", "0", "x-", "a.b", "b", "mail", "www", "www.a-b"}
	for i := len(names); i < 50; i++ {
		names = append(names, fmt.Sprintf("h%02d", i))
	}
	values := map[string]string{"A": "192.0.2.1", "AAAA": "2001:db8::1", "MX": "10 mail.example.com.", "TXT": `"t"`, "CAA": `0 issue "ca.example"`}
	var changes []RRSetChange
	for _, n := range names {
		for _, typ := range []string{"TXT", "A", "MX", "AAAA", "CAA"} {
			changes = append(changes, rrs(ActionCreate, n+".example.com", typ, 60, values[typ]))
		}
	}
	for _, id := range []string{"c", "a", "b"} {
		changes = append(changes, RRSetChange{Action: ActionCreate, RRSet: zonecfg.RRSet{Name: "w.example.com", Type: "A", SetIdentifier: id, TTL: 60, Records: []string{"192.0.2.1"}, Routing: zonecfg.Routing{Weight: new(uint8(1))}}})
	}
	e.mustChange(t, tenant, z.ID, changes...)

	var want []zonecfg.Key
	for _, c := range changes {
		want = append(want, zonecfg.Key{Name: zonecfg.MustCanonicalName(c.RRSet.Name), Type: c.RRSet.Type, SetIdentifier: c.RRSet.SetIdentifier})
	}
	want = append(want, zonecfg.Key{Name: "example.com.", Type: "NS"}, zonecfg.Key{Name: "example.com.", Type: "SOA"})
	slices.SortFunc(want, compareKeys)
	if want[0].Name != "example.com." || want[2].Name != "*.example.com." {
		t.Fatalf("sort sanity: %v", want[:3])
	}
	if i, j := slices.Index(want, zonecfg.Key{Name: "a-b.example.com.", Type: "A"}), slices.Index(want, zonecfg.Key{Name: "a.example.com.", Type: "A"}); i > j {
		t.Fatalf("a-b after a: %d %d", i, j)
	}

	t.Run("pages of 7", func(t *testing.T) {
		var got []zonecfg.Key
		in := ListRRSetsInput{MaxItems: 7}
		pages := 0
		for {
			p, err := e.s.ListRRSets(ctx, tenant, z.ID, in)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if p.MaxItems != 7 || len(p.RRSets) == 0 || len(p.RRSets) > 7 {
				t.Fatalf("page %d: %+v", pages, p)
			}
			for _, rs := range p.RRSets {
				got = append(got, rs.Key())
			}
			if !p.IsTruncated {
				if p.NextName != "" || p.NextType != "" || p.NextIdentifier != "" {
					t.Errorf("last page has a next position")
				}
				break
			}
			next := want[len(got)]
			if p.NextName != next.Name || p.NextType != next.Type || p.NextIdentifier != next.SetIdentifier {
				t.Fatalf("next = %s %s %s, want %v", p.NextName, p.NextType, p.NextIdentifier, next)
			}
			in = ListRRSetsInput{Name: p.NextName, Type: p.NextType, Identifier: p.NextIdentifier, MaxItems: 7}
		}
		if !slices.Equal(got, want) {
			t.Errorf("order:\n got %v\nwant %v", got, want)
		}
		if pages != (len(want)+6)/7 {
			t.Errorf("%d pages", pages)
		}
	})

	start := func(k zonecfg.Key) int { return slices.Index(want, k) }
	tests := []struct {
		name     string
		in       ListRRSetsInput
		first    zonecfg.Key
		max      int
		wantCode Code
	}{
		{"from the start", ListRRSetsInput{}, want[0], 100, ""},
		{"name only", ListRRSetsInput{Name: "A.Example.COM"}, zonecfg.Key{Name: "a.example.com.", Type: "A"}, 100, ""},
		{"name and type", ListRRSetsInput{Name: "a.example.com", Type: "mx", MaxItems: 1}, zonecfg.Key{Name: "a.example.com.", Type: "MX"}, 1, ""},
		{"type is a position", ListRRSetsInput{Name: "a.example.com", Type: "CNAME"}, zonecfg.Key{Name: "a.example.com.", Type: "MX"}, 100, ""},
		{"missing name is a position", ListRRSetsInput{Name: "aa.example.com"}, zonecfg.Key{Name: "b.example.com.", Type: "A"}, 100, ""},
		{"identifier", ListRRSetsInput{Name: "w.example.com", Type: "A", Identifier: "b"}, zonecfg.Key{Name: "w.example.com.", Type: "A", SetIdentifier: "b"}, 100, ""},
		{"wildcard", ListRRSetsInput{Name: "*.example.com", Type: "TXT"}, zonecfg.Key{Name: "*.example.com.", Type: "TXT"}, 100, ""},
		{"capped", ListRRSetsInput{MaxItems: 1000}, want[0], 300, ""},
		{"type without name", ListRRSetsInput{Type: "A"}, zonecfg.Key{}, 0, CodeInvalidInput},
		{"identifier without type", ListRRSetsInput{Name: "w.example.com", Identifier: "a"}, zonecfg.Key{}, 0, CodeInvalidInput},
		{"bad type", ListRRSetsInput{Name: "w.example.com", Type: "BOGUS"}, zonecfg.Key{}, 0, CodeInvalidInput},
		{"bad name", ListRRSetsInput{Name: "a..b"}, zonecfg.Key{}, 0, CodeInvalidInput},
		{"negative", ListRRSetsInput{MaxItems: -1}, zonecfg.Key{}, 0, CodeInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := e.s.ListRRSets(ctx, tenant, z.ID, tc.in)
			if tc.wantCode != "" {
				wantErr(t, err, tc.wantCode)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			i := start(tc.first)
			if i < 0 {
				t.Fatalf("bad test: %v not in zone", tc.first)
			}
			n := min(tc.max, len(want)-i)
			if p.MaxItems != tc.max || len(p.RRSets) != n || p.RRSets[0].Key() != tc.first {
				t.Fatalf("got %d sets from %v (max %d), want %d from %v", len(p.RRSets), p.RRSets[0].Key(), p.MaxItems, n, tc.first)
			}
			if truncated := i+n < len(want); p.IsTruncated != truncated {
				t.Errorf("truncated = %v", p.IsTruncated)
			}
		})
	}
}

// TestIntegrationListedNamesGoBack checks that names as listed are accepted
// as start positions and in DELETEs, escapes included (Terraform deletes
// exactly what it listed).
func TestIntegrationListedNamesGoBack(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "esc.example")
	for _, name := range []string{`sp\032ace.esc.example`, `a\(b\;c.esc.example`, `*.esc.example`, `dot\.inside.esc.example`, `\200high.esc.example`} {
		t.Run(name, func(t *testing.T) {
			e.mustChange(t, tenant, z.ID, rrs(ActionCreate, name, "A", 60, "192.0.2.1"))
			canon := zonecfg.MustCanonicalName(name)
			p, err := e.s.ListRRSets(ctx, tenant, z.ID, ListRRSetsInput{Name: canon, Type: "A", MaxItems: 1})
			if err != nil || len(p.RRSets) != 1 || p.RRSets[0].Name != canon {
				t.Fatalf("list from %q: %+v, %v", canon, p, err)
			}
			listed := p.RRSets[0]
			e.mustChange(t, tenant, z.ID, RRSetChange{Action: ActionDelete, RRSet: listed})
		})
	}
}
