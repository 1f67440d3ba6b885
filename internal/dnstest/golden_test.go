package dnstest

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestCasesRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.golden")
	cases := []Case{
		{Name: "a", Query: "www.example.com. A +rd", Want: ";; no response\n"},
		{Name: "b", Query: "example.com. SOA +edns", Want: "line one\nline two\n"},
	}
	if err := WriteCases(path, "# header", cases); err != nil {
		t.Fatal(err)
	}
	header, got, err := ReadCases(path)
	if err != nil {
		t.Fatal(err)
	}
	if header != "# header" || len(got) != 2 {
		t.Fatalf("got header %q, %d cases", header, len(got))
	}
	for i := range cases {
		if got[i] != cases[i] {
			t.Errorf("case %d: got %+v, want %+v", i, got[i], cases[i])
		}
	}
}

func TestParseQuery(t *testing.T) {
	t.Parallel()
	q, err := ParseQuery("WwW.example.com. TYPE65280 CH +rd +cd +tcp +edns=4096 +do +ednsver=1 +id=7 +opcode=NOTIFY +custom")
	if err != nil {
		t.Fatal(err)
	}
	m := q.Msg
	opt := m.IsEdns0()
	switch {
	case !q.TCP, !m.RecursionDesired, !m.CheckingDisabled, m.Id != 7, m.Opcode != dns.OpcodeNotify:
		t.Errorf("header flags not applied: %+v", m.MsgHdr)
	case m.Question[0] != dns.Question{Name: "WwW.example.com.", Qtype: 65280, Qclass: dns.ClassCHAOS}:
		t.Errorf("question %+v", m.Question[0])
	case opt == nil || opt.UDPSize() != 4096 || !opt.Do() || opt.Version() != 1:
		t.Errorf("EDNS %v", opt)
	case len(q.Flags) != 1 || q.Flags[0] != "custom":
		t.Errorf("unknown flags %v", q.Flags)
	}
	if _, err := ParseQuery("example.com. NOSUCHTYPE"); err == nil {
		t.Error("no error for an unknown type")
	}
	raw, err := ParseQuery(". A +raw=1234")
	if err != nil || raw.Msg != nil || len(raw.Raw) != 2 {
		t.Errorf("raw query: %+v, %v", raw, err)
	}
}

func TestReadZone(t *testing.T) {
	t.Parallel()
	sets := MustReadZone("$TTL 60\n@ IN SOA ns hm 1 2 3 4 5\nwww IN A 192.0.2.1\nWWW 30 IN A 192.0.2.2\n", "Example.COM")
	if len(sets) != 2 {
		t.Fatalf("got %d sets: %v", len(sets), sets)
	}
	www := sets[1]
	if www.Name != "www.example.com." || www.TTL != 60 || strings.Join(www.Records, ",") != "192.0.2.1,192.0.2.2" {
		t.Errorf("got %+v", www)
	}
}
