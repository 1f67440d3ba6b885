package dataplane

import (
	"bytes"
	"testing"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/internal/dnstest"
)

// FuzzServeDNS feeds raw packets to the handler over the test zones. It
// must never panic, every response must parse and fit the UDP limit, and
// when the fast parser takes a packet the general path must answer it
// byte for byte the same.
func FuzzServeDNS(f *testing.F) {
	_, cases, err := dnstest.ReadCases("testdata/answers.golden")
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range cases {
		q, err := dnstest.ParseQuery(c.Query)
		if err != nil {
			f.Fatal(err)
		}
		if b, err := q.Wire(); err == nil {
			f.Add(b, q.TCP)
		}
	}
	f.Add([]byte{}, false)
	f.Add(make([]byte, 12), true)
	g := newGoldenHandlers(testStore(f))
	f.Fuzz(func(t *testing.T, b []byte, tcp bool) {
		got := g.fast.ServeWire(nil, b, testClient, tcp)
		var req request
		var lbuf [maxNameWire + 1]byte
		if parseFast(b, &req, &lbuf) {
			if slow := g.slow.ServeWire(nil, b, testClient, tcp); !bytes.Equal(got, slow) {
				t.Fatalf("fast and general paths differ for %x:\nfast %x\nslow %x", b, got, slow)
			}
		}
		if got == nil {
			return
		}
		if !tcp && len(got) > ednsUDPSize {
			t.Fatalf("UDP response of %d bytes", len(got))
		}
		m := new(dns.Msg)
		if err := m.Unpack(got); err != nil {
			t.Fatalf("response to %x does not parse: %v\n%x", b, err, got)
		}
		if len(b) >= 2 && (m.Id != uint16(b[0])<<8|uint16(b[1])) {
			t.Fatalf("response id %d does not match the query", m.Id)
		}
	})
}
