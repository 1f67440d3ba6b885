package dataplane

import (
	"bytes"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

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

// FuzzNotify feeds arbitrary messages, as if from a secondary zone's
// signing primary, its unsigned primary or another address, to the
// handler holding that zone. It must never panic; an answer parses, has
// the request's id, and to a NOTIFY it is a NOTIFY answer with one of the
// rcodes NOTIFY handling gives; NOERROR only to one of the primaries, and
// a NOTIFY is passed on exactly when it was answered NOERROR.
func FuzzNotify(f *testing.F) {
	store, secret := secondaryStore(f, false)
	froms := []netip.Addr{netip.MustParseAddr(secSigned), netip.MustParseAddr(secUnsigned), netip.MustParseAddr("192.0.2.99")}
	seed := func(zone, key string, serial uint32, edns bool) []byte {
		m := new(dns.Msg)
		m.SetNotify(zone)
		if serial != 0 {
			soa, _ := dns.NewRR(zone + " 900 IN SOA ns1." + zone + " admin." + zone + " 5 7200 900 1209600 300")
			m.Answer = []dns.RR{soa}
		}
		if edns {
			m.SetEdns0(1232, false)
		}
		if key != "" {
			m.SetTsig(key, dns.HmacSHA256, 300, time.Now().Unix())
			b, _, err := dns.TsigGenerate(m, secret, "", false)
			if err != nil {
				f.Fatal(err)
			}
			return b
		}
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	for i := range froms {
		f.Add(seed(secZone, secKeyName, 5, false), uint8(i), false)
		f.Add(seed(secZone, "", 5, true), uint8(i), true)
		f.Add(seed(secZone, "", 0, false), uint8(i), false)
		f.Add(seed("xfr.test.", "", 5, false), uint8(i), false)
		f.Add(seed(secZone, "other.key.", 5, false), uint8(i), false)
	}
	var published atomic.Int64
	relay := NewNotifyRelay(NotifyRelayConfig{Interval: time.Nanosecond, Publish: func(string, []byte) error {
		published.Add(1)
		return nil
	}})
	h := NewHandler(store)
	h.SetNotifyRelay(relay)
	h.SetReady(true)
	f.Fuzz(func(t *testing.T, b []byte, from uint8, tcp bool) {
		addr := froms[int(from)%len(froms)]
		before := relay.Stats().Published + relay.Stats().Coalesced + heldNotifies(relay)
		got := h.ServeWire(nil, b, addr, tcp)
		passed := relay.Stats().Published + relay.Stats().Coalesced + heldNotifies(relay) - before
		if got == nil {
			if passed != 0 {
				t.Fatalf("an unanswered message was passed on")
			}
			return
		}
		m := new(dns.Msg)
		if err := m.Unpack(got); err != nil {
			t.Fatalf("answer to %x does not parse: %v\n%x", b, err, got)
		}
		if m.Id != uint16(b[0])<<8|uint16(b[1]) || !m.Response {
			t.Fatalf("answer id %d, QR %v to %x", m.Id, m.Response, b)
		}
		if !isNotify(b) {
			if passed != 0 {
				t.Fatalf("a query was passed on as a NOTIFY")
			}
			return
		}
		if m.Opcode != dns.OpcodeNotify {
			t.Fatalf("answer to a NOTIFY has opcode %d", m.Opcode)
		}
		switch m.Rcode {
		case dns.RcodeSuccess:
			if addr == froms[2] || !m.Authoritative || len(m.Question) != 1 {
				t.Fatalf("NOTIFY %x from %v accepted:\n%v", b, addr, m)
			}
		case dns.RcodeRefused, dns.RcodeNotAuth, dns.RcodeFormatError, dns.RcodeNotImplemented:
		default:
			t.Fatalf("NOTIFY answered %s", dns.RcodeToString[m.Rcode])
		}
		if (m.Rcode == dns.RcodeSuccess) != (passed == 1) {
			t.Fatalf("NOTIFY answered %s, passed on %d times", dns.RcodeToString[m.Rcode], passed)
		}
	})
}

// heldNotifies counts the NOTIFYs r holds.
func heldNotifies(r *NotifyRelay) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := uint64(0)
	for _, z := range r.zones {
		if z.held != nil {
			n++
		}
	}
	return n
}
