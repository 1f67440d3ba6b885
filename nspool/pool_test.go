package nspool

import (
	"fmt"
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		size    int
		want    string // String() of the pool, or the error
		setSize int
	}{
		{"ns1.waymark.test.,NS2.Waymark.Test", 0, "ns1.waymark.test.,ns2.waymark.test.", 2},
		{" ns1.a.test.=192.0.2.1/2001:DB8::1 , ns2.a.test=::ffff:192.0.2.2,", 1, "ns1.a.test.=192.0.2.1/2001:db8::1,ns2.a.test.=192.0.2.2", 1},
		{"a.x.,b.x.,c.x.,d.x.,e.x.", 0, "a.x.,b.x.,c.x.,d.x.,e.x.", 4},
		{"", 0, "nspool: the pool has no names", 0},
		{"ns1.a.test.,ns1.a.test.", 0, "nspool: ns1.a.test. is listed twice", 0},
		{"ns1.a.test.=192.0.2.1,ns2.a.test.=192.0.2.1", 0, "nspool: address 192.0.2.1 belongs to both ns1.a.test. and ns2.a.test.", 0},
		{"ns1.a.test.=nope", 0, `nspool: ns1.a.test.: bad address "nope"`, 0},
		{"com", 0, `nspool: "com" is not a nameserver name (it needs at least two labels)`, 0},
		{"ns1.a.test.", 2, "nspool: delegation set size 2 must be between 1 and the pool's 1 names", 0},
	} {
		p, err := Parse(tc.spec, tc.size)
		got := p.String()
		if err != nil {
			got = err.Error()
		}
		if got != tc.want || p.SetSize != tc.setSize {
			t.Errorf("Parse(%q, %d) = %q size %d, want %q size %d", tc.spec, tc.size, got, p.SetSize, tc.want, tc.setSize)
		}
	}
}

func TestSelectAndDomains(t *testing.T) {
	p, err := Parse("ns-1.waymark.test.=127.0.0.1,ns-2.waymark.test.=127.0.0.2,ns-3.other.test.=127.0.0.3", 0)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.Select([]string{"ns-3", "NS-1.waymark.test"})
	if err != nil || !slices.Equal(s.Names(), []string{"ns-1.waymark.test.", "ns-3.other.test."}) {
		t.Errorf("Select = %v, %v", s.Names(), err)
	}
	if _, err := p.Select([]string{"ns-9"}); err == nil {
		t.Error("Select of an unknown name succeeded")
	}
	if d := p.Domains(); !slices.Equal(d, []string{"waymark.test.", "other.test."}) {
		t.Errorf("Domains = %v", d)
	}
	zones := p.SystemZones("hostmaster.waymark.test.")
	if len(zones) != 2 {
		t.Fatalf("SystemZones = %+v", zones)
	}
	got := fmt.Sprint(zones[0])
	want := "{waymark.test. [{waymark.test. SOA 900 [ns-1.waymark.test. hostmaster.waymark.test. 1 7200 900 1209600 86400]} " +
		"{waymark.test. NS 172800 [ns-1.waymark.test. ns-2.waymark.test.]} " +
		"{ns-1.waymark.test. A 172800 [127.0.0.1]} {ns-2.waymark.test. A 172800 [127.0.0.2]}]}"
	if got != want {
		t.Errorf("SystemZones[0] =\n%s\nwant\n%s", got, want)
	}
}

// FuzzParse: Parse never panics, and what it accepts it prints back in a
// form it parses to the same pool.
func FuzzParse(f *testing.F) {
	f.Add("ns1.a.test.=192.0.2.1/2001:db8::1,ns2.a.test.", 0)
	f.Add("x", 3)
	f.Fuzz(func(t *testing.T, spec string, size int) {
		p, err := Parse(spec, size)
		if err != nil {
			return
		}
		q, err := Parse(p.String(), p.SetSize)
		if err != nil || q.String() != p.String() || q.SetSize != p.SetSize {
			t.Fatalf("round trip of %q: %q, %v", spec, q.String(), err)
		}
	})
}
