package cli

import (
	"slices"
	"strings"
	"testing"

	"github.com/waymark-dns/waymark/client"
)

func TestNSList(t *testing.T) {
	t.Parallel()
	var l nsList
	for _, v := range []string{"ns1.example.test=192.0.2.1,2001:db8::1", "ns.example.net", "ns2.example.test=192.0.2.2,"} {
		if err := l.Set(v); err != nil {
			t.Fatalf("Set(%q): %v", v, err)
		}
	}
	want := nsList{{Name: "ns1.example.test", GlueIPs: []string{"192.0.2.1", "2001:db8::1"}}, {Name: "ns.example.net"},
		{Name: "ns2.example.test", GlueIPs: []string{"192.0.2.2"}}}
	if !slices.EqualFunc(l, want, func(a, b client.DomainNameserver) bool { return a.Name == b.Name && slices.Equal(a.GlueIPs, b.GlueIPs) }) {
		t.Errorf("got %+v", l)
	}
	for _, bad := range []string{"", "=192.0.2.1", "a b", "a,b=192.0.2.1"} {
		if err := new(nsList).Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
}

// FuzzNSList: Set never panics, and what it accepts prints back to text
// that parses to the same nameserver.
func FuzzNSList(f *testing.F) {
	for _, s := range []string{"ns1.example.test=192.0.2.1,2001:db8::1", "ns.example.net", "=", "a=,", "a==b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		var l nsList
		if err := l.Set(v); err != nil {
			return
		}
		if len(l) != 1 || l[0].Name == "" || strings.ContainsAny(l[0].Name, " ,=") {
			t.Fatalf("Set(%q) = %+v", v, l)
		}
		var again nsList
		if err := again.Set(nsText(l[0])); err != nil {
			t.Fatalf("Set(nsText(%+v)) = %v", l[0], err)
		}
		if again[0].Name != l[0].Name || !slices.Equal(again[0].GlueIPs, l[0].GlueIPs) {
			t.Fatalf("round trip of %q: %+v then %+v", v, l[0], again[0])
		}
	})
}
