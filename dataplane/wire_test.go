package dataplane

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/internal/dnstest"
)

// TestCompression checks that names in RDATA are compressed against the
// question when they match it exactly, and keep their own case when the
// question was asked in another (0x20) case.
func TestCompression(t *testing.T) {
	t.Parallel()
	h := readyHandler(testStore(t))
	for _, tc := range []struct {
		qname    string
		maxBytes int
	}{
		// Uncompressed, the response is 260 octets; miekg's full
		// compression makes it 160 (and 176 for the mixed-case question).
		{"example.com.", 180},
		{"EXAMPLE.com.", 200},
	} {
		q := new(dns.Msg)
		q.SetQuestion(tc.qname, dns.TypeNS)
		b, _ := q.Pack()
		resp := h.ServeWire(nil, b, testClient, false)
		if len(resp) > tc.maxBytes {
			t.Errorf("%s NS: %d bytes, want at most %d", tc.qname, len(resp), tc.maxBytes)
		}
		m := new(dns.Msg)
		if err := m.Unpack(resp); err != nil {
			t.Fatal(err)
		}
		for _, rr := range m.Answer {
			ns := rr.(*dns.NS).Ns
			if ns != strings.ToLower(ns) {
				t.Errorf("%s NS: target %q took the question's case", tc.qname, ns)
			}
			if rr.Header().Name != tc.qname {
				t.Errorf("%s NS: owner %q, want the question as asked", tc.qname, rr.Header().Name)
			}
		}
	}
}

// TestParseFast checks which queries the fast parser takes; the rest go
// through miekg's parser (with the same answers, see TestGolden).
func TestParseFast(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query string
		fast  bool
	}{
		{"www.example.com. A", true},
		{"WwW.example.com. AAAA +rd +cd", true},
		{"www.example.com. A +edns", true},
		{"www.example.com. A +edns=4096 +do", true},
		{"www.example.com. ANY", true},
		{"www.example.com. TYPE65280", true},
		{"www.example.com. A +nsid", false},
		{"www.example.com. A +ednsver=1", false},
		{"www.example.com. A +opt2", false},
		{"www.example.com. A CH", false},
		{"www.example.com. AXFR", false},
		{"www.example.com. A +opcode=NOTIFY", false},
		{"www.example.com. A +qr", false},
		{"www.example.com. A +qdcount=2", false},
		{"www.example.com. A +ancount", false},
	}
	for _, tc := range tests {
		q, err := dnstest.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		wire, err := q.Wire()
		if err != nil {
			t.Fatal(err)
		}
		var req request
		var lbuf [maxNameWire + 1]byte
		if got := parseFast(wire, &req, &lbuf); got != tc.fast {
			t.Errorf("%s: fast path %v, want %v", tc.query, got, tc.fast)
		}
	}
}
