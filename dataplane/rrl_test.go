package dataplane

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// udpFlood sends the queries from src to srv and returns the full answers
// and the truncated ones that came back. It sends in small bursts and
// waits after each until every query is accounted for — answered, or
// dropped by RRL as the server's counter says — so that no datagram is
// lost to a full socket buffer on a loaded machine, and nothing is timed.
func udpFlood(t *testing.T, srv *Server, src string, queries []*dns.Msg) (full, truncated int) {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	var nFull, nTC atomic.Int64
	go func() {
		buf := make([]byte, 2048)
		for {
			n, err := pc.Read(buf)
			if err != nil {
				return
			}
			m := new(dns.Msg)
			if m.Unpack(buf[:n]) != nil {
				continue
			}
			if m.Truncated {
				nTC.Add(1)
			} else {
				nFull.Add(1)
			}
		}
	}()
	dropped0 := srv.Stats().RRLDropped
	const burst = 20
	for i, q := range queries {
		q.Id = uint16(i)
		b, err := q.Pack()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pc.WriteTo(b, srv.UDPAddr()); err != nil {
			t.Fatal(err)
		}
		if sent := i + 1; sent%burst == 0 || sent == len(queries) {
			waitFor(t, "the burst to be answered or dropped", func() bool {
				return nFull.Load()+nTC.Load()+int64(srv.Stats().RRLDropped-dropped0) == int64(sent)
			})
		}
	}
	return int(nFull.Load()), int(nTC.Load())
}

func repeat(n int, f func(i int) *dns.Msg) []*dns.Msg {
	out := make([]*dns.Msg, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func plainQuery(name string, t uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, t)
	return m
}

// TestRRLFlood floods one name from a spoofed address within one second
// of the limiter's clock: Rate full answers, every Slip-th limited answer
// truncated, the rest dropped; another /24 and TCP are not affected; and
// after the window the client is served again.
func TestRRLFlood(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64
	const rate, flood = 10, 400
	srv := startServerWith(t, Config{RRL: RRLConfig{Rate: rate, Window: 5, Now: func() time.Time { return time.Unix(clock.Load(), 0) }}})

	full, tc := udpFlood(t, srv, "127.0.0.99", repeat(flood, func(int) *dns.Msg { return plainQuery("www.example.com.", dns.TypeA) }))
	if full != rate || tc != (flood-rate)/2 {
		t.Errorf("flood of %d: %d full answers, %d truncated; want %d and %d", flood, full, tc, rate, (flood-rate)/2)
	}
	st := srv.Stats()
	if st.RRLSlipped != uint64(tc) || st.RRLDropped != uint64(flood-rate-tc) {
		t.Errorf("stats %v", st)
	}
	// The same /24, another address: the same bucket.
	if full, _ := udpFlood(t, srv, "127.0.0.98", repeat(1, func(int) *dns.Msg { return plainQuery("www.example.com.", dns.TypeA) })); full != 0 {
		t.Errorf("another address of the limited /24 got a full answer")
	}
	// Another /24: its own buckets.
	if full, _ := udpFlood(t, srv, "127.0.1.99", repeat(5, func(int) *dns.Msg { return plainQuery("www.example.com.", dns.TypeA) })); full != 5 {
		t.Errorf("another /24: %d of 5 answered", full)
	}
	// TCP is never limited.
	c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.99")}}}
	if r, _, err := c.Exchange(plainQuery("www.example.com.", dns.TypeA), srv.TCPAddr().String()); err != nil || len(r.Answer) != 2 {
		t.Errorf("TCP from the limited client: %v %v", r, err)
	}
	// One second later the debt of Window seconds is not paid yet; after
	// the window it is.
	clock.Add(1)
	if full, _ := udpFlood(t, srv, "127.0.0.99", repeat(1, func(int) *dns.Msg { return plainQuery("www.example.com.", dns.TypeA) })); full != 0 {
		t.Errorf("answered one second after the flood, with a debt of the whole window")
	}
	clock.Add(6)
	if full, _ := udpFlood(t, srv, "127.0.0.99", repeat(rate, func(int) *dns.Msg { return plainQuery("www.example.com.", dns.TypeA) })); full != rate {
		t.Errorf("after the window: %d of %d answered", full, rate)
	}
}

// TestRRLClasses: random names that do not exist share the zone's NXDOMAIN
// bucket; distinct existing names have buckets of their own; REFUSED for
// names outside every zone share one error bucket.
func TestRRLClasses(t *testing.T) {
	t.Parallel()
	const rate = 5
	srv := startServerWith(t, Config{RRL: RRLConfig{Rate: rate, Slip: -1, Now: func() time.Time { return time.Unix(0, 0) }}})
	full, _ := udpFlood(t, srv, "127.0.2.1", repeat(50, func(i int) *dns.Msg { return plainQuery(fmt.Sprintf("r%d.example.com.", i), dns.TypeA) }))
	if full != rate {
		t.Errorf("random NXDOMAIN names: %d answered, want %d", full, rate)
	}
	full, _ = udpFlood(t, srv, "127.0.3.1", repeat(50, func(i int) *dns.Msg { return plainQuery(fmt.Sprintf("x%d.nowhere.invalid.", i), dns.TypeA) }))
	if full != rate {
		t.Errorf("random REFUSED names: %d answered, want %d", full, rate)
	}
	names := []string{"www.example.com.", "example.com.", "mail.example.com.", "www.sub.example.com."}
	full, _ = udpFlood(t, srv, "127.0.4.1", repeat(len(names)*rate, func(i int) *dns.Msg { return plainQuery(names[i%len(names)], dns.TypeA) }))
	if full != len(names)*rate {
		t.Errorf("%d distinct names, %d each: %d answered", len(names), rate, full)
	}
}

// TestRRLSlipBadCookie: a limited client that sent a client cookie gets
// BADCOOKIE with a server cookie instead of TC=1 when its answer slips.
func TestRRLSlipBadCookie(t *testing.T) {
	t.Parallel()
	srv := startServerWith(t, Config{RRL: RRLConfig{Rate: 1, Slip: 1, Now: func() time.Time { return time.Unix(0, 0) }}})
	c := &dns.Client{Net: "udp", Timeout: 5 * time.Second}
	client, _ := hex.DecodeString("0102030405060708")
	exchangeUDP(t, c, srv, cookieQuery("www.example.com.", client))
	r := exchangeUDP(t, c, srv, cookieQuery("www.example.com.", client))
	if r.Rcode != dns.RcodeBadCookie || len(cookieOf(r)) != 24 {
		t.Fatalf("slipped answer with a client cookie: %s, cookie %x", dns.RcodeToString[r.Rcode], cookieOf(r))
	}
	if r := exchangeUDP(t, c, srv, cookieQuery("www.example.com.", cookieOf(r))); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 2 {
		t.Errorf("with the cookie from BADCOOKIE: %v", r)
	}
}

// BenchmarkRRLAccount measures the limiter's work per response: key,
// hash, bucket update; for one name (the bucket in cache) and for 100,000
// names (a random bucket of the 2 MiB table each time, as under a real
// mix). It must not allocate.
func BenchmarkRRLAccount(b *testing.B) {
	for _, n := range []int{1, 100000} {
		b.Run(fmt.Sprintf("names=%d", n), func(b *testing.B) {
			r := newRRL(RRLConfig{Rate: 1 << 30}, &Stats{})
			qs := make([]request, n)
			for i := range qs {
				name := fmt.Sprintf("h%d", i)
				qs[i] = request{lname: string(rune(len(name))) + name + "\x05bench\x07example\x00", qtype: dns.TypeA}
			}
			res := &result{answer: []rrRef{{}}}
			from := netip.MustParseAddr("192.0.2.1")
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				r.account(from, &qs[i], res)
				if i++; i == n {
					i = 0
				}
			}
		})
	}
}

// TestRRLPrefixes: addresses in one /24 (IPv4) or /56 (IPv6) share a
// bucket; the next prefix has its own.
func TestRRLPrefixes(t *testing.T) {
	r := newRRL(RRLConfig{Rate: 2, Slip: -1, Now: func() time.Time { return time.Unix(0, 0) }}, &Stats{})
	q := &request{lname: "\x03www\x07example\x03com\x00", qtype: dns.TypeA}
	res := &result{answer: []rrRef{{}}}
	sent := func(addrs ...string) int {
		n := 0
		for _, a := range addrs {
			if r.account(netip.MustParseAddr(a), q, res) == rrlSend {
				n++
			}
		}
		return n
	}
	if n := sent("192.0.2.1", "192.0.2.200", "192.0.2.77"); n != 2 {
		t.Errorf("one /24: %d sent of 3, want 2", n)
	}
	if n := sent("192.0.3.1", "::ffff:192.0.3.2"); n != 2 {
		t.Errorf("the next /24 (one address IPv4-mapped): %d sent, want 2", n)
	}
	if n := sent("2001:db8:0:ff::1", "2001:db8:0:1::2", "2001:db8:0:80::3"); n != 2 {
		t.Errorf("one /56: %d sent of 3, want 2", n)
	}
	if n := sent("2001:db8:0:100::1"); n != 1 {
		t.Errorf("the next /56: %d sent, want 1", n)
	}
}

// TestRRLSlipCountWraps: the slip count shares its word with the key's
// tag; at 2^16 limited responses it wraps to 0 without touching the tag,
// which would read as another key taking the bucket and forgive its debt.
func TestRRLSlipCountWraps(t *testing.T) {
	r := newRRL(RRLConfig{Rate: 1}, &Stats{})
	b := &r.buckets[0]
	const tag = 0xabcdef0123450000
	b.tag.Store(tag | 0xfffe)
	for _, want := range []uint32{0xffff, 0, 1} {
		if got := r.countLimited(b); got != want {
			t.Errorf("count %d, want %d", got, want)
		}
		if b.tag.Load()&rrlTagMask != tag {
			t.Fatalf("tag changed to %x", b.tag.Load())
		}
	}
}

// TestRRLLongIPv6Prefix: a prefix longer than 64 bits (the key's second
// address word) counts the addresses apart beyond the 64th bit.
func TestRRLLongIPv6Prefix(t *testing.T) {
	r := newRRL(RRLConfig{Rate: 1, Slip: -1, IPv6Prefix: 96, Now: func() time.Time { return time.Unix(0, 0) }}, &Stats{})
	q := &request{lname: "\x03www\x07example\x03com\x00", qtype: dns.TypeA}
	res := &result{answer: []rrRef{{}}}
	for _, tc := range []struct {
		addr string
		want rrlAction
	}{
		{"2001:db8::1:0:0:1", rrlSend},
		{"2001:db8::1:0:ffff:2", rrlDrop}, // same /96
		{"2001:db8::2:0:0:1", rrlSend},    // another /96, same /64
	} {
		if got := r.account(netip.MustParseAddr(tc.addr), q, res); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.addr, got, tc.want)
		}
	}
}
