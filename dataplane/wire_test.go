package dataplane

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
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
