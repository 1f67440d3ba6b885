package dataplane

import (
	"strings"
	"testing"

	"github.com/waymark-dns/waymark/zonecfg"
)

// checkPackNames requires packNames, when it takes rs, to pack it exactly
// as the general path does.
func checkPackNames(t *testing.T, rs zonecfg.RRSet) bool {
	t.Helper()
	fast, ok := packNames(rs)
	if !ok {
		return false
	}
	_, slow, err := packGeneral(rs, make([]byte, 1024))
	if err != nil {
		t.Fatalf("%v: fast path packed what miekg refuses: %v", rs, err)
	}
	if fast.rdata != slow.rdata || fast.typ != slow.typ || fast.count != slow.count || fast.ttl != slow.ttl || fast.setID != slow.setID {
		t.Fatalf("%v: fast path %x (type %d, %d records), miekg %x (type %d, %d records)",
			rs, fast.rdata, fast.typ, fast.count, slow.rdata, slow.typ, slow.count)
	}
	return true
}

func TestPackNamesMatchesMiekg(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 63)
	for _, tc := range []struct {
		typ  string
		recs []string
		fast bool
	}{
		{"NS", []string{"ns1.example.com."}, true},
		{"NS", []string{"ns1.example.com.", "ns2.example.com.", " ns3.example.net. "}, true},
		{"CNAME", []string{"target-1.example."}, true},
		{"PTR", []string{"host.0.example."}, true},
		{"NS", []string{long + ".example."}, true},
		{"NS", []string{strings.Repeat("abcdefg.", 31)}, true},
		{"NS", []string{strings.Repeat("abcdefgh.", 29)}, false},
		{"NS", []string{long + "a.example."}, false},
		{"NS", []string{"ns1.example.com"}, false},
		{"NS", []string{"NS1.example.com."}, false},
		{"NS", []string{"."}, false},
		{"NS", []string{"a..b."}, false},
		{"NS", []string{".a."}, false},
		{"NS", []string{`a\.b.c.`}, false},
		{"NS", []string{"a_b.c."}, false},
		{"NS", []string{"ns1.example.", "ns1.example."}, false},
		{"NS", []string{"ns1.example.", " ns1.example."}, false},
		{"NS", nil, false},
		{"CNAME", []string{"a.example.", "b.example."}, false},
		{"MX", []string{"10 a.example."}, false},
		{"SOA", []string{"ns1.example. hostmaster.example. 1 7200 900 1209600 300"}, true},
		{"SOA", []string{"  ns1.example.   host.example.  0 0 0 0 4294967295 "}, true},
		{"SOA", []string{"ns1.example. h.example. 007 1 2 3 4"}, true},
		{"SOA", []string{"ns1.example. h.example. 4294967296 1 2 3 4"}, false},
		{"SOA", []string{"ns1.example. h.example. 1 1h 2 3 4"}, false},
		{"SOA", []string{"ns1.example. h.example. 1 +1 2 3 4"}, false},
		{"SOA", []string{"ns1.example. h.example. 1 2 3 4"}, false},
		{"SOA", []string{"ns1.example. h.example. 1 2 3 4 5 6"}, false},
		{"SOA", []string{"ns1.example h.example. 1 2 3 4 5"}, false},
		{"SOA", []string{"ns1.example.\th.example. 1 2 3 4 5"}, false},
		{"SOA", []string{"ns1.example. h.example. ( 1 2 3 4 5 )"}, false},
		{"SOA", []string{"a. b. 1 2 3 4 5", "c. d. 1 2 3 4 5"}, false},
	} {
		rs := zonecfg.RRSet{Name: "www.example.com.", Type: tc.typ, TTL: 300, SetIdentifier: "s", Records: tc.recs}
		if got := checkPackNames(t, rs); got != tc.fast {
			t.Errorf("%v: fast path taken %v, want %v", tc.recs, got, tc.fast)
		}
	}
}

// FuzzPackNames: whatever the fast path packs, miekg packs identically.
func FuzzPackNames(f *testing.F) {
	f.Add("NS", "ns1.example.com.", "ns2.example.com.")
	f.Add("CNAME", "a-b.c.", "")
	f.Add("PTR", "x.y.z.", "")
	f.Add("SOA", "ns1.a. h.a. 1 7200 900 1209600 300", "")
	f.Fuzz(func(t *testing.T, typ, a, b string) {
		recs := []string{a}
		if b != "" {
			recs = append(recs, b)
		}
		checkPackNames(t, zonecfg.RRSet{Name: "a.example.", Type: typ, TTL: 60, Records: recs})
	})
}

// checkWireName requires the fast path, when it takes name, to give what
// miekg's packer gives.
func checkWireName(t *testing.T, name string) bool {
	t.Helper()
	fast, ok := plainWireName(name)
	if !ok {
		return false
	}
	slow, err := packWireName(name)
	if err != nil || fast != slow {
		t.Fatalf("%q: fast path %x, miekg %x (%v)", name, fast, slow, err)
	}
	return true
}

func TestWireNameFastPath(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 63)
	for _, tc := range []struct {
		name string
		fast bool
	}{
		{"www.example.com.", true},
		{"WWW.Example.COM.", true},
		{"*.wild.example.", true},
		{"_dmarc.x-y.example.", true},
		{long + ".example.", true},
		{strings.Repeat("abcdefg.", 31), true},
		{strings.Repeat("abcdefgh.", 29), false},
		{long + "a.example.", false},
		{"www.example.com", false},
		{".", false},
		{"", false},
		{"a..b.", false},
		{".a.", false},
		{`a\.b.`, false},
		{`a\065.b.`, false},
		{"a b.c.", false},
		{"é.c.", false},
	} {
		if got := checkWireName(t, tc.name); got != tc.fast {
			t.Errorf("%q: fast path taken %v, want %v", tc.name, got, tc.fast)
		}
	}
}

// FuzzWireName: whatever the fast path converts, miekg converts the same.
func FuzzWireName(f *testing.F) {
	f.Add("www.example.com.")
	f.Add("*._tcp.A-B.")
	f.Fuzz(func(t *testing.T, name string) { checkWireName(t, name) })
}
