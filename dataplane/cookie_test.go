package dataplane

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestSipHash24 checks the reference vector of the SipHash paper
// (Appendix A: key 00..0f, message 00..0e).
func TestSipHash24(t *testing.T) {
	var k [16]byte
	m := make([]byte, 15)
	for i := range k {
		k[i] = byte(i)
	}
	for i := range m {
		m[i] = byte(i)
	}
	if got := sipHash24(sipKey(k[:]), m); got != 0xa129ca6149be45e5 {
		t.Errorf("SipHash-2-4 = %x, want a129ca6149be45e5", got)
	}
}

// TestServerCookieRFC9018 checks the test vectors of RFC 9018 Appendix A.
func TestServerCookieRFC9018(t *testing.T) {
	for _, c := range []struct {
		name, secret, client, ip string
		at                       uint32
		want                     string
	}{
		{"A.1", "e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957", "198.51.100.100", 1559731985, "010000005cf79f111f8130c3eee29480"},
		{"A.2", "e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957", "198.51.100.100", 1559734385, "010000005cf7a871d4a564a1442aca77"},
		{"A.3", "e5e973e5a6b2a43f48e7dc849e37bfcf", "fc93fc62807ddb86", "203.0.113.203", 1559734700, "010000005cf7a9acf73a7810aca2381e"},
		{"A.4", "445536bcd2513298075a5d379663c962", "22681ab97d52c298", "2001:db8:220:1:59de:d0f4:8769:82b8", 1559741961, "010000005cf7c609a6bb79d16625507a"},
	} {
		secret, _ := hex.DecodeString(c.secret)
		client, _ := hex.DecodeString(c.client)
		var got [serverCookieLen]byte
		serverCookie(&got, sipKey(secret), client, c.at, netip.MustParseAddr(c.ip))
		if hex.EncodeToString(got[:]) != c.want {
			t.Errorf("%s: server cookie %x, want %s", c.name, got, c.want)
		}
	}
}

// TestParseCookie covers the lengths RFC 7873 §4 allows.
func TestParseCookie(t *testing.T) {
	for n := range 50 {
		_, server, err := parseCookie(make([]byte, n))
		ok := n == 8 || n >= 16 && n <= 40
		if (err == nil) != ok {
			t.Errorf("length %d: err %v, want ok=%v", n, err, ok)
		}
		if ok && len(server) != max(n-8, 0) {
			t.Errorf("length %d: server cookie of %d", n, len(server))
		}
	}
}

// FuzzCookieOption feeds arbitrary COOKIE option data to the parser and
// through a cookie-enabled handler: never a panic, FORMERR exactly for
// the lengths RFC 7873 forbids, and a well-formed answer otherwise.
func FuzzCookieOption(f *testing.F) {
	for _, s := range []string{"0102030405060708", "0102030405060708010000005cf79f111f8130c3eee29480", "01", ""} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	h := NewHandler(testStore(f))
	h.SetReady(true)
	h.cookies = newCookieJar(CookieConfig{}, h.stats)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, perr := parseCookie(data)
		m := new(dns.Msg)
		m.SetQuestion("www.example.com.", dns.TypeA)
		m.SetEdns0(1232, false)
		opt := m.IsEdns0()
		opt.Option = append(opt.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: hex.EncodeToString(data)})
		wire, err := m.Pack()
		if err != nil {
			return
		}
		resp := h.ServeWire(nil, wire, netip.MustParseAddr("192.0.2.1"), false)
		r := new(dns.Msg)
		if err := r.Unpack(resp); err != nil {
			t.Fatalf("answer does not parse: %v", err)
		}
		if (r.Rcode == dns.RcodeFormatError) != (perr != nil) {
			t.Fatalf("cookie of %d octets: rcode %s, parse error %v", len(data), dns.RcodeToString[r.Rcode], perr)
		}
	})
}

// cookieOf returns the COOKIE option data of m, or nil.
func cookieOf(m *dns.Msg) []byte {
	if o := m.IsEdns0(); o != nil {
		for _, e := range o.Option {
			if c, ok := e.(*dns.EDNS0_COOKIE); ok {
				b, _ := hex.DecodeString(c.Cookie)
				return b
			}
		}
	}
	return nil
}

// cookieQuery is a query for name A carrying cookie.
func cookieQuery(name string, cookie []byte) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	m.SetEdns0(1232, false)
	if cookie != nil {
		opt := m.IsEdns0()
		opt.Option = append(opt.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: hex.EncodeToString(cookie)})
	}
	return m
}

// exchangeUDP sends m over UDP and returns the answer.
func exchangeUDP(t *testing.T, c *dns.Client, srv *Server, m *dns.Msg) *dns.Msg {
	t.Helper()
	r, _, err := c.Exchange(m, srv.UDPAddr().String())
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return r
}

// TestCookieExchange: a client cookie earns a server cookie; returning it
// validates (and exempts the client from RRL: at a rate of 1 per second,
// many answers in a row); a bad server cookie gets BADCOOKIE with a fresh
// cookie over UDP and a normal answer over TCP; rotating the secret keeps
// cookies of the previous one valid.
func TestCookieExchange(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef")
	var clock atomic.Int64 // RRL's seconds; cookies use the real time
	srv := startServerWith(t, Config{
		Cookies: CookieConfig{Secret: secret},
		RRL:     RRLConfig{Rate: 1, Slip: -1, Now: func() time.Time { return time.Unix(clock.Load(), 0) }},
	})
	c := &dns.Client{Net: "udp", Timeout: 5 * time.Second}
	client := []byte{1, 2, 3, 4, 5, 6, 7, 8}

	r := exchangeUDP(t, c, srv, cookieQuery("www.example.com.", client))
	got := cookieOf(r)
	if r.Rcode != dns.RcodeSuccess || len(got) != 24 || string(got[:8]) != string(client) || got[8] != 1 {
		t.Fatalf("client cookie only: rcode %s, cookie %x", dns.RcodeToString[r.Rcode], got)
	}
	if v := srv.Stats().CookiesNew; v != 1 {
		t.Errorf("CookiesNew = %d", v)
	}
	for i := range 20 {
		r := exchangeUDP(t, c, srv, cookieQuery("www.example.com.", got))
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 2 || r.Truncated {
			t.Fatalf("valid cookie, query %d: %v", i, r)
		}
	}
	st := srv.Stats()
	if st.CookiesValid != 20 || st.RRLDropped != 0 || st.RRLSlipped != 0 {
		t.Errorf("after 20 queries with a valid cookie: %v", st)
	}

	bad := append([]byte(nil), got...)
	bad[len(bad)-1] ^= 1
	r = exchangeUDP(t, c, srv, cookieQuery("www.example.com.", bad))
	fresh := cookieOf(r)
	if r.Rcode != dns.RcodeBadCookie || len(r.Answer) != 0 || len(fresh) != 24 || string(fresh[:8]) != string(client) {
		t.Fatalf("bad server cookie over UDP: rcode %s, cookie %x", dns.RcodeToString[r.Rcode], fresh)
	}
	r = exchangeUDP(t, c, srv, cookieQuery("www.example.com.", fresh))
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 2 {
		t.Fatalf("the fresh cookie from BADCOOKIE does not validate: %v", r)
	}
	tc := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	r, _, err := tc.Exchange(cookieQuery("www.example.com.", bad), srv.TCPAddr().String())
	if err != nil || r.Rcode != dns.RcodeSuccess || len(cookieOf(r)) != 24 {
		t.Fatalf("bad server cookie over TCP: %v %v", r, err)
	}

	// Answers that are not NOERROR carry the cookie too.
	r = exchangeUDP(t, c, srv, cookieQuery("www.nowhere.invalid.", client))
	if r.Rcode != dns.RcodeRefused || len(cookieOf(r)) != 24 {
		t.Errorf("REFUSED with a client cookie: %s, cookie %x", dns.RcodeToString[r.Rcode], cookieOf(r))
	}

	// Rotation: the old secret becomes the previous one.
	if err := srv.SetCookieSecrets([]byte("fedcba9876543210"), secret); err != nil {
		t.Fatal(err)
	}
	r = exchangeUDP(t, c, srv, cookieQuery("www.example.com.", got))
	if r.Rcode != dns.RcodeSuccess {
		t.Errorf("cookie of the previous secret after rotation: %s", dns.RcodeToString[r.Rcode])
	}
	if err := srv.SetCookieSecrets([]byte("fedcba9876543210"), nil); err != nil {
		t.Fatal(err)
	}
	clock.Add(2) // BADCOOKIE answers are rate limited too: one per second here
	r = exchangeUDP(t, c, srv, cookieQuery("www.example.com.", got))
	if r.Rcode != dns.RcodeBadCookie {
		t.Errorf("cookie of a retired secret: %s, want BADCOOKIE", dns.RcodeToString[r.Rcode])
	}
}

// TestCookieAge: a server cookie older than an hour, or from more than
// five minutes in the future, is not valid (RFC 9018 §4.3).
func TestCookieAge(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	j := newCookieJar(CookieConfig{Secret: []byte("0123456789abcdef"), Now: func() time.Time { return now }}, &Stats{})
	from := netip.MustParseAddr("192.0.2.1")
	client := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	for _, c := range []struct {
		offset int64
		valid  bool
	}{{0, true}, {-3600, true}, {-3601, false}, {300, true}, {301, false}} {
		var sc [serverCookieLen]byte
		serverCookie(&sc, j.secrets.Load().cur, client, uint32(now.Unix()+c.offset), from)
		if got := j.valid(j.secrets.Load(), client, sc[:], uint32(now.Unix()), from); got != c.valid {
			t.Errorf("cookie made %+d s from now: valid %v, want %v", c.offset, got, c.valid)
		}
	}
	var sc [serverCookieLen]byte
	serverCookie(&sc, j.secrets.Load().cur, client, uint32(now.Unix()), from)
	if j.valid(j.secrets.Load(), client, sc[:], uint32(now.Unix()), netip.MustParseAddr("192.0.2.2")) {
		t.Error("a cookie validates from another address")
	}
}

// TestCookieFastPathAgrees sends COOKIE options of every kind through the
// fast parser and through miekg's, with the same secret and clock: the
// answers must be the same octets, and the fast parser must take the
// well-formed ones (they are the common query of a cookie-capable
// resolver, and the general path costs allocations).
func TestCookieFastPathAgrees(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return time.Unix(1_800_000_000, 0) }
	secret := bytes.Repeat([]byte{5}, cookieSecretLen)
	store := testStore(t)
	fast, slow := NewHandler(store), NewHandler(store)
	for _, h := range []*Handler{fast, slow} {
		h.SetReady(true)
		h.cookies = newCookieJar(CookieConfig{Secret: secret, Now: now}, h.stats)
	}
	slow.noFast = true
	client := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	var valid [serverCookieLen]byte
	serverCookie(&valid, sipKey(secret), client, uint32(now().Unix()), testClient)
	bad := valid
	bad[15] ^= 1
	for _, tc := range []struct {
		name     string
		opts     [][]byte // COOKIE options' data
		wantFast bool
	}{
		{"client cookie", [][]byte{client}, true},
		{"valid server cookie", [][]byte{append(slices.Clone(client), valid[:]...)}, true},
		{"bad server cookie", [][]byte{append(slices.Clone(client), bad[:]...)}, true},
		{"malformed", [][]byte{{1, 2, 3}}, false},
		{"too long", [][]byte{bytes.Repeat([]byte{1}, 41)}, false},
		{"two cookies", [][]byte{client, client}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := new(dns.Msg)
			m.SetQuestion("www.example.com.", dns.TypeA)
			m.SetEdns0(1232, false)
			for _, o := range tc.opts {
				m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: hex.EncodeToString(o)})
			}
			wire, err := m.Pack()
			if err != nil {
				t.Fatal(err)
			}
			var req request
			var lbuf [maxNameWire + 1]byte
			if got := parseFast(wire, &req, &lbuf); got != tc.wantFast {
				t.Errorf("fast parser took it: %v, want %v", got, tc.wantFast)
			}
			a, b := fast.ServeWire(nil, wire, testClient, false), slow.ServeWire(nil, wire, testClient, false)
			if !bytes.Equal(a, b) {
				t.Errorf("fast and general paths differ:\nfast %x\nslow %x", a, b)
			}
			if len(a) == 0 {
				t.Error("no answer")
			}
		})
	}
}
