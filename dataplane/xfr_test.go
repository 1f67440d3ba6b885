package dataplane

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/dnssec"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

const (
	xfrZoneID  = "ZXFR"
	xfrKeyName = "xfr-key.example."
)

// xfrServer serves xfr.test. at version 7, transferable with the returned
// secret (hmac-sha256) from allowed, plus a weighted pair at w.xfr.test.
func xfrServer(t *testing.T, allowed string) (*Server, string) {
	t.Helper()
	store, secret := xfrStore(t, allowed)
	srv := NewServer(store, Config{Addr: "127.0.0.1:0", UDPWorkers: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Handler().SetReady(true)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv, secret
}

// xfrStore is xfrServer's store.
func xfrStore(t testing.TB, allowed string) (*Store, string) {
	t.Helper()
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	wrapped, err := dnssec.Seal(testFleetKey, secret, zonecfg.TSIGKeyAD(xfrZoneID, xfrKeyName), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	w1, w0 := uint8(1), uint8(0)
	store := NewStore()
	st := event.ZoneState{ID: xfrZoneID, Name: "xfr.test.", TenantID: "T1", Version: 7,
		RRSets: []zonecfg.RRSet{
			{Name: "xfr.test.", Type: "SOA", TTL: 900, Records: []string{"ns1.xfr.test. admin.xfr.test. 1 7200 900 1209600 86400"}},
			{Name: "xfr.test.", Type: "NS", TTL: 3600, Records: []string{"ns1.xfr.test."}},
			{Name: "ns1.xfr.test.", Type: "A", TTL: 300, Records: []string{"192.0.2.53"}},
			{Name: "www.xfr.test.", Type: "AAAA", TTL: 60, Records: []string{"2001:db8::1", "2001:db8::2"}},
			{Name: "a.b.xfr.test.", Type: "TXT", TTL: 60, Records: []string{`"hello world"`}},
			{Name: "w.xfr.test.", Type: "A", TTL: 30, SetIdentifier: "one", Records: []string{"198.51.100.1"}, Routing: zonecfg.Routing{Weight: &w1}},
			{Name: "w.xfr.test.", Type: "A", TTL: 30, SetIdentifier: "zero", Records: []string{"198.51.100.2"}, Routing: zonecfg.Routing{Weight: &w0}},
		},
		Transfers: &zonecfg.Transfers{
			Allow: []zonecfg.TransferACL{{Key: xfrKeyName, CIDRs: []string{allowed}}},
			Keys:  []zonecfg.TSIGKey{{Name: xfrKeyName, Algorithm: "hmac-sha256", Wrapped: wrapped}},
		},
	}
	if err := store.ReplaceZone(st); err != nil {
		t.Fatal(err)
	}
	store.SetSigning(SigningConfig{FleetKey: testFleetKey})
	return store, base64.StdEncoding.EncodeToString(secret)
}

// transfer runs an AXFR or IXFR with miekg's client, which verifies the
// TSIG of every message; it returns the records or the first error.
func transfer(t *testing.T, addr string, qtype uint16, key, secret string, serial uint32) ([]dns.RR, error) {
	t.Helper()
	m := new(dns.Msg)
	if qtype == dns.TypeIXFR {
		m.SetIxfr("xfr.test.", serial, "ns1.xfr.test.", "admin.xfr.test.")
	} else {
		m.SetAxfr("xfr.test.")
	}
	tr := &dns.Transfer{DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second}
	if key != "" {
		m.SetTsig(key, dns.HmacSHA256, 300, time.Now().Unix())
		tr.TsigSecret = map[string]string{key: secret}
	}
	ch, err := tr.In(m, addr)
	if err != nil {
		return nil, err
	}
	var out []dns.RR
	for env := range ch {
		if env.Error != nil {
			return out, env.Error
		}
		out = append(out, env.RR...)
	}
	return out, nil
}

func TestAXFRSignedAndAllowed(t *testing.T) {
	t.Parallel()
	srv, secret := xfrServer(t, "127.0.0.0/8")
	addr := srv.TCPAddr().String()
	rrs, err := transfer(t, addr, dns.TypeAXFR, xfrKeyName, secret, 0)
	if err != nil {
		t.Fatalf("AXFR: %v", err)
	}
	var got []string
	for _, rr := range rrs {
		got = append(got, rr.String())
	}
	first, last := rrs[0].(*dns.SOA), rrs[len(rrs)-1].(*dns.SOA)
	if first.Serial != 7 || last.Serial != 7 {
		t.Errorf("SOA serials %d, %d; want the zone version 7", first.Serial, last.Serial)
	}
	slices.Sort(got[1 : len(got)-1])
	want := []string{
		"xfr.test.\t900\tIN\tSOA\tns1.xfr.test. admin.xfr.test. 7 7200 900 1209600 86400",
		"a.b.xfr.test.\t60\tIN\tTXT\t\"hello world\"",
		"ns1.xfr.test.\t300\tIN\tA\t192.0.2.53",
		// The weighted pair: what a client gets with every check healthy
		// (weight 0 is chosen only when all weights are 0).
		"w.xfr.test.\t30\tIN\tA\t198.51.100.1",
		"www.xfr.test.\t60\tIN\tAAAA\t2001:db8::1",
		"www.xfr.test.\t60\tIN\tAAAA\t2001:db8::2",
		"xfr.test.\t3600\tIN\tNS\tns1.xfr.test.",
		"xfr.test.\t900\tIN\tSOA\tns1.xfr.test. admin.xfr.test. 7 7200 900 1209600 86400",
	}
	if !slices.Equal(got, want) {
		t.Errorf("AXFR got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// IXFR from the current serial: the SOA alone. From an older one:
	// the whole zone, AXFR-style (RFC 1995 §4).
	rrs, err = transfer(t, addr, dns.TypeIXFR, xfrKeyName, secret, 7)
	if err != nil || len(rrs) != 1 {
		t.Errorf("IXFR up to date: %d records, %v; want the SOA alone", len(rrs), err)
	}
	rrs, err = transfer(t, addr, dns.TypeIXFR, xfrKeyName, secret, 3)
	if err != nil || len(rrs) != len(want) {
		t.Errorf("IXFR from 3: %d records, %v; want %d", len(rrs), err, len(want))
	}
}

func TestAXFRRefused(t *testing.T) {
	t.Parallel()
	srv, secret := xfrServer(t, "127.0.0.0/8")
	other, otherSecret := xfrServer(t, "10.0.0.0/8") // the key is not allowed from loopback
	wrong := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for _, c := range []struct {
		name, addr, key, secret string
		skew                    time.Duration
		rcode                   int
		tsigErr                 uint16 // want in the answer's TSIG; 0 with rcode REFUSED: no TSIG
	}{
		{"unsigned", srv.TCPAddr().String(), "", "", 0, dns.RcodeRefused, 0},
		// RFC 8945 §5.2: NOTAUTH with the TSIG error.
		{"wrong secret", srv.TCPAddr().String(), xfrKeyName, wrong, 0, dns.RcodeNotAuth, dns.RcodeBadSig},
		{"unknown key", srv.TCPAddr().String(), "other-key.", secret, 0, dns.RcodeNotAuth, dns.RcodeBadKey},
		{"time outside the fudge", srv.TCPAddr().String(), xfrKeyName, secret, time.Hour, dns.RcodeNotAuth, dns.RcodeBadTime},
		// The key is right, the address is not: REFUSED, signed.
		{"address not allowed", other.TCPAddr().String(), xfrKeyName, otherSecret, 0, dns.RcodeRefused, dns.RcodeSuccess},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := new(dns.Msg)
			m.SetAxfr("xfr.test.")
			if c.key != "" {
				m.SetTsig(c.key, dns.HmacSHA256, 300, time.Now().Add(-c.skew).Unix())
			}
			co := &dns.Conn{}
			var err error
			if co.Conn, err = net.DialTimeout("tcp", c.addr, 2*time.Second); err != nil {
				t.Fatal(err)
			}
			defer co.Close()
			co.TsigSecret = map[string]string{c.key: c.secret}
			if err := co.WriteMsg(m); err != nil {
				t.Fatal(err)
			}
			_ = co.SetReadDeadline(time.Now().Add(2 * time.Second))
			r, err := co.ReadMsg()
			if r == nil {
				t.Fatalf("no answer: %v", err)
			}
			if r.Rcode != c.rcode || len(r.Answer) != 0 {
				t.Errorf("rcode %s with %d answers; want %s and none", dns.RcodeToString[r.Rcode], len(r.Answer), dns.RcodeToString[c.rcode])
			}
			ts := r.IsTsig()
			switch {
			case c.key == "" && ts != nil:
				t.Errorf("an unsigned request answered with a TSIG")
			case c.key != "" && ts == nil:
				t.Errorf("no TSIG in the answer")
			case ts != nil && ts.Error != c.tsigErr:
				t.Errorf("TSIG error %s, want %s", dns.RcodeToString[int(ts.Error)], dns.RcodeToString[int(c.tsigErr)])
			case ts != nil && c.tsigErr != dns.RcodeBadTime && c.tsigErr != 0 && ts.MACSize != 0:
				t.Errorf("a %s answer with a MAC", dns.RcodeToString[int(c.tsigErr)])
			case ts != nil && c.tsigErr == dns.RcodeBadTime && (ts.MACSize != 32 || ts.OtherLen != 6):
				// Signed, with the server's time (§5.2.3); miekg will not
				// verify any NOTAUTH message.
				t.Errorf("BADTIME answer: MAC of %d octets, other data %q", ts.MACSize, ts.OtherData)
			case ts != nil && c.tsigErr == 0 && err != nil:
				// miekg verifies the answer's MAC with the key.
				t.Errorf("answer's TSIG does not verify: %v", err)
			}
		})
	}
	t.Run("over UDP", func(t *testing.T) {
		m := new(dns.Msg)
		m.SetAxfr("xfr.test.")
		m.SetTsig(xfrKeyName, dns.HmacSHA256, 300, time.Now().Unix())
		c := &dns.Client{Net: "udp", TsigSecret: map[string]string{xfrKeyName: secret}, Timeout: 2 * time.Second}
		r, _, err := c.Exchange(m, srv.UDPAddr().String())
		if r == nil {
			t.Fatalf("no answer: %v", err)
		}
		if r.Rcode != dns.RcodeRefused || len(r.Answer) != 0 {
			t.Errorf("rcode %s with %d answers; want REFUSED and none", dns.RcodeToString[r.Rcode], len(r.Answer))
		}
	})
}

func TestIsTransferQuery(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		qtype uint16
		want  bool
	}{{dns.TypeAXFR, true}, {dns.TypeIXFR, true}, {dns.TypeA, false}, {dns.TypeSOA, false}} {
		m := new(dns.Msg)
		m.SetQuestion("xfr.test.", c.qtype)
		b, _ := m.Pack()
		if got := isTransferQuery(b); got != c.want {
			t.Errorf("isTransferQuery(%s) = %v", dns.TypeToString[c.qtype], got)
		}
	}
	if isTransferQuery([]byte{1, 2, 3}) {
		t.Error("a runt is not a transfer query")
	}
}

// TestSignedQuery: a query signed with a zone's transfer key (BIND signs
// its refresh SOA queries) is answered signed, over UDP and TCP, as
// miekg's client verifies; a wrong key gets NOTAUTH/BADKEY.
func TestSignedQuery(t *testing.T) {
	t.Parallel()
	srv, secret := xfrServer(t, "127.0.0.0/8")
	for _, netw := range []string{"udp", "tcp"} {
		addr := srv.UDPAddr().String()
		if netw == "tcp" {
			addr = srv.TCPAddr().String()
		}
		m := new(dns.Msg)
		m.SetQuestion("xfr.test.", dns.TypeSOA)
		m.SetEdns0(1232, false)
		m.SetTsig(xfrKeyName, dns.HmacSHA256, 300, time.Now().Unix())
		c := &dns.Client{Net: netw, TsigSecret: map[string]string{xfrKeyName: secret}, Timeout: 2 * time.Second}
		r, _, err := c.Exchange(m, addr)
		if err != nil {
			t.Fatalf("%s: %v", netw, err)
		}
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.IsTsig() == nil || r.IsEdns0() == nil {
			t.Errorf("%s: rcode %s, %d answers, TSIG %v, OPT %v", netw, dns.RcodeToString[r.Rcode], len(r.Answer), r.IsTsig() != nil, r.IsEdns0() != nil)
		}
		m.SetTsig("nope.", dns.HmacSHA256, 300, time.Now().Unix())
		c.TsigSecret["nope."] = secret
		r, _, _ = c.Exchange(m, addr)
		if r == nil || r.Rcode != dns.RcodeNotAuth || r.IsTsig() == nil || r.IsTsig().Error != dns.RcodeBadKey {
			t.Errorf("%s: unknown key answered %v", netw, r)
		}
	}
}

// FuzzServeTransfer feeds arbitrary messages to the transfer path: it
// never panics, and whatever it writes is a DNS message.
func FuzzServeTransfer(f *testing.F) {
	m := new(dns.Msg)
	m.SetAxfr("xfr.test.")
	m.SetTsig(xfrKeyName, dns.HmacSHA256, 300, 1700000000)
	b, _ := m.Pack()
	f.Add(b)
	m.SetIxfr("xfr.test.", 3, "ns1.xfr.test.", "admin.xfr.test.")
	b, _ = m.Pack()
	f.Add(b)
	store, _ := xfrStore(f, "127.0.0.0/8")
	h := NewHandler(store)
	h.SetReady(true)
	f.Fuzz(func(t *testing.T, req []byte) {
		if !isTransferQuery(req) {
			return
		}
		err := h.serveTransfer(req, netip.MustParseAddr("127.0.0.1"), time.Unix(1700000000, 0), false, func(out []byte) error {
			if len(out) < 12 {
				t.Fatalf("a %d-byte message", len(out))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzSignedQuery feeds arbitrary messages, seeded with TSIG-signed
// queries (SOA over UDP and TCP, IXFR over UDP), to ServeWire: it never
// panics, and what it answers is at least a header and within the
// transport's size.
func FuzzSignedQuery(f *testing.F) {
	for _, qt := range []uint16{dns.TypeSOA, dns.TypeIXFR, dns.TypeA} {
		m := new(dns.Msg)
		if qt == dns.TypeIXFR {
			m.SetIxfr("xfr.test.", 3, "ns1.xfr.test.", "admin.xfr.test.")
		} else {
			m.SetQuestion("www.xfr.test.", qt)
			m.SetEdns0(1232, false)
		}
		m.SetTsig(xfrKeyName, dns.HmacSHA256, 300, time.Now().Unix())
		b, _ := m.Pack()
		f.Add(b, false)
		f.Add(b, true)
	}
	store, _ := xfrStore(f, "127.0.0.0/8")
	h := NewHandler(store)
	h.SetReady(true)
	f.Fuzz(func(t *testing.T, req []byte, tcp bool) {
		out := h.ServeWire(nil, req, netip.MustParseAddr("127.0.0.1"), tcp)
		if out == nil {
			return
		}
		limit := 65535
		if !tcp {
			limit = ednsUDPSize
		}
		if len(out) < 12 || len(out) > limit {
			t.Fatalf("a %d-byte answer", len(out))
		}
	})
}
