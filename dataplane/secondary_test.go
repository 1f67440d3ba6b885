package dataplane

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/nats-io/nats.go"

	"github.com/waymark-dns/waymark/dnssec"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/dnstest"
	"github.com/waymark-dns/waymark/internal/natstest"
	"github.com/waymark-dns/waymark/internal/testkit"
	"github.com/waymark-dns/waymark/zonecfg"
)

const (
	secZoneID  = "ZSEC"
	secZone    = "sec.test."
	secKeyName = "primary-key.example."
	// secSigned is the primary that signs its NOTIFYs, secUnsigned one
	// configured without a key; any other loopback address is neither.
	secSigned   = "127.0.0.2"
	secUnsigned = "127.0.0.3"
)

// secondaryState is sec.test., a secondary zone at version 42 whose
// primaries are secSigned (key secKeyName, the returned secret) and
// secUnsigned; expired as given.
func secondaryState(t testing.TB, expired bool) (event.ZoneState, string) {
	t.Helper()
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	wrapped, err := dnssec.Seal(testFleetKey, secret, zonecfg.TSIGKeyAD(secZoneID, secKeyName), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return event.ZoneState{ID: secZoneID, Name: secZone, TenantID: "T1", Version: 42,
		RRSets: []zonecfg.RRSet{
			{Name: secZone, Type: "SOA", TTL: 900, Records: []string{"ns1.sec.test. admin.sec.test. 1 7200 900 1209600 300"}},
			{Name: secZone, Type: "NS", TTL: 3600, Records: []string{"ns1.sec.test."}},
			{Name: "ns1.sec.test.", Type: "A", TTL: 300, Records: []string{"192.0.2.53"}},
			{Name: "www.sec.test.", Type: "A", TTL: 60, Records: []string{"192.0.2.80"}},
			{Name: "*.wild.sec.test.", Type: "TXT", TTL: 60, Records: []string{`"wild"`}},
			{Name: "child.sec.test.", Type: "NS", TTL: 300, Records: []string{"ns.elsewhere.example."}},
		},
		Secondary: &zonecfg.Secondary{
			Primaries: []zonecfg.NotifySource{{Address: secSigned, Key: secKeyName}, {Address: secUnsigned}},
			Keys:      []zonecfg.TSIGKey{{Name: secKeyName, Algorithm: "hmac-sha256", Wrapped: wrapped}},
			Expired:   expired,
		},
	}, base64.StdEncoding.EncodeToString(secret)
}

// secondaryStore holds sec.test. and xfr.test. (an ordinary zone with a
// transfer key of its own).
func secondaryStore(t testing.TB, expired bool) (*Store, string) {
	t.Helper()
	store, _ := xfrStore(t, "127.0.0.0/8")
	st, secret := secondaryState(t, expired)
	if err := store.ReplaceZone(st); err != nil {
		t.Fatal(err)
	}
	return store, secret
}

// relaySubscriber collects the SecondaryNotify messages on NATS.
type relaySubscriber struct {
	mu   sync.Mutex
	got  []event.SecondaryNotify
	bad  int
	subs *nats.Subscription
}

func (s *relaySubscriber) all() ([]event.SecondaryNotify, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event.SecondaryNotify(nil), s.got...), s.bad
}

// notifyServer runs a nameserver over store whose accepted NOTIFYs are
// relayed to an embedded NATS, with a subscriber on the subject.
func notifyServer(t *testing.T, store *Store) (*Server, *NotifyRelay, *relaySubscriber) {
	t.Helper()
	ns := natstest.Run(t)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	sub := &relaySubscriber{}
	sub.subs, err = nc.Subscribe(event.SecondaryNotifySubject, func(m *nats.Msg) {
		n, err := event.DecodeSecondaryNotify(m.Data)
		sub.mu.Lock()
		defer sub.mu.Unlock()
		if err != nil {
			sub.bad++
			return
		}
		sub.got = append(sub.got, n)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	relay := NewNotifyRelay(NotifyRelayConfig{Publish: nc.Publish, NodeID: "ns-test", Interval: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = relay.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	h := NewHandler(store)
	h.SetNotifyRelay(relay)
	srv := NewServer(store, Config{Addr: "127.0.0.1:0", UDPWorkers: 1, Handler: h})
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if err := srv.Start(sctx); err != nil {
		t.Fatal(err)
	}
	h.SetReady(true)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv, relay, sub
}

// sendNotify sends a NOTIFY for zone from local over netw ("udp" or
// "tcp"), signed with key and secret when key is set, carrying serial
// in its answer section when it is not 0. miekg's client verifies the
// answer's TSIG: err reports a failure, with the answer when there is one.
func sendNotify(t *testing.T, netw, addr, local, zone string, serial uint32, key, secret string) (*dns.Msg, error) {
	t.Helper()
	m := new(dns.Msg)
	m.SetNotify(zone)
	if serial != 0 {
		soa, err := dns.NewRR(fmt.Sprintf("%s 900 IN SOA ns1.%s admin.%s %d 7200 900 1209600 300", zone, zone, zone, serial))
		if err != nil {
			t.Fatal(err)
		}
		m.Answer = []dns.RR{soa}
	}
	c := &dns.Client{Net: netw, Timeout: 2 * time.Second}
	ip := net.ParseIP(local)
	if netw == "tcp" {
		c.Dialer = &net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: ip}}
	} else {
		c.Dialer = &net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.UDPAddr{IP: ip}}
	}
	if key != "" {
		m.SetTsig(key, dns.HmacSHA256, 300, time.Now().Unix())
		c.TsigSecret = map[string]string{key: secret}
	}
	r, _, err := c.Exchange(m, addr)
	return r, err
}

// TestNotifyFromPrimaries: NOTIFY for a secondary zone over real sockets,
// from its primaries (signed with the primary's key, checked by miekg's
// client on the answer; unsigned from the primary without a key, over UDP
// and TCP) is answered NOERROR with AA and the question, and reaches a
// NATS subscriber as SecondaryNotify with the serial; every other NOTIFY
// is refused as RFC 1996 and RFC 8945 say, and reaches nobody.
func TestNotifyFromPrimaries(t *testing.T) {
	t.Parallel()
	store, secret := secondaryStore(t, false)
	srv, relay, sub := notifyServer(t, store)
	addr := srv.UDPAddr().String()
	_, xfrSecret := xfrStore(t, "127.0.0.0/8") // another zone's key: the same name, another secret

	accepted := []struct {
		name, netw, from, key string
		serial                uint32
	}{
		{"signed udp", "udp", secSigned, secKeyName, 43},
		{"signed tcp", "tcp", secSigned, secKeyName, 44},
		{"unsigned primary udp", "udp", secUnsigned, "", 45},
		{"unsigned primary tcp, no serial", "tcp", secUnsigned, "", 0},
	}
	for i, c := range accepted {
		r, err := sendNotify(t, c.netw, addr, c.from, secZone, c.serial, c.key, secret)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if r.Rcode != dns.RcodeSuccess || !r.Authoritative || r.Opcode != dns.OpcodeNotify || !r.Response ||
			len(r.Question) != 1 || r.Question[0].Name != secZone || r.Question[0].Qtype != dns.TypeSOA {
			t.Fatalf("%s: answer\n%v", c.name, r)
		}
		if (r.IsTsig() != nil) != (c.key != "") {
			t.Fatalf("%s: answer signed %v, want %v", c.name, r.IsTsig() != nil, c.key != "")
		}
		// The relay's interval is short: wait for each to be passed on,
		// so that none is folded into the next.
		testkit.Eventually(t, 5*time.Second, until(func() bool { got, _ := sub.all(); return len(got) == i+1 }))
		got, bad := sub.all()
		want := event.SecondaryNotify{V: event.Version, ZoneID: secZoneID, Serial: c.serial, From: c.from, Node: "ns-test"}
		if got[i] != want || bad != 0 {
			t.Fatalf("%s: subscriber got %+v (%d undecodable), want %+v", c.name, got[i], bad, want)
		}
	}

	refused := []struct {
		name, netw, from, zone, key, secret string
		rcode, tsigErr                      int
		signed                              bool
	}{
		{"not a primary", "udp", "127.0.0.1", secZone, "", "", dns.RcodeRefused, 0, false},
		{"not a primary, signed", "udp", "127.0.0.1", secZone, secKeyName, secret, dns.RcodeRefused, 0, false},
		{"signing primary, unsigned", "udp", secSigned, secZone, "", "", dns.RcodeRefused, 0, false},
		{"signing primary, unsigned, tcp", "tcp", secSigned, secZone, "", "", dns.RcodeRefused, 0, false},
		{"wrong secret", "udp", secSigned, secZone, secKeyName, xfrSecret, dns.RcodeNotAuth, dns.RcodeBadSig, true},
		{"unknown key", "udp", secSigned, secZone, "other-key.example.", secret, dns.RcodeNotAuth, dns.RcodeBadKey, true},
		{"another zone's key", "udp", secSigned, secZone, xfrKeyName, xfrSecret, dns.RcodeNotAuth, dns.RcodeBadKey, true},
		{"not a secondary zone", "udp", secSigned, "xfr.test.", "", "", dns.RcodeRefused, 0, false},
		{"not a secondary zone, tcp", "tcp", secUnsigned, "xfr.test.", "", "", dns.RcodeRefused, 0, false},
		{"a name inside the zone", "udp", secUnsigned, "www.sec.test.", "", "", dns.RcodeRefused, 0, false},
		{"no zone here", "udp", secUnsigned, "elsewhere.example.", "", "", dns.RcodeRefused, 0, false},
	}
	for _, c := range refused {
		r, err := sendNotify(t, c.netw, addr, c.from, c.zone, 99, c.key, c.secret)
		if r == nil {
			t.Fatalf("%s: no answer: %v", c.name, err)
		}
		if r.Rcode != c.rcode || r.Authoritative || r.Opcode != dns.OpcodeNotify || len(r.Question) != 1 {
			t.Fatalf("%s: answer\n%v", c.name, r)
		}
		tsig := r.IsTsig()
		if c.signed != (tsig != nil) || (tsig != nil && int(tsig.Error) != c.tsigErr) {
			t.Fatalf("%s: TSIG %v, want error %s", c.name, tsig, dns.RcodeToString[c.tsigErr])
		}
		if tsig != nil && tsig.MAC != "" {
			t.Fatalf("%s: a %s answer carries a MAC", c.name, dns.RcodeToString[c.tsigErr])
		}
	}
	// A final accepted NOTIFY shows that nothing refused reached NATS in
	// between.
	if _, err := sendNotify(t, "udp", addr, secUnsigned, secZone, 50, "", ""); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, until(func() bool { got, _ := sub.all(); return len(got) >= len(accepted)+1 }))
	got, _ := sub.all()
	if len(got) != len(accepted)+1 || got[len(got)-1].Serial != 50 {
		t.Fatalf("subscriber got %+v: want the %d accepted NOTIFYs and the last one, serial 50", got, len(accepted))
	}
	if st := relay.Stats(); st.Published != uint64(len(accepted)+1) || st.Failed != 0 {
		t.Fatalf("relay stats %+v", st)
	}
}

// TestNotifyRelayCoalesces: with an injected clock, a flood of NOTIFYs for
// one zone publishes one message at once and one more, the latest, when
// the interval ends; another zone is not held back by the first; a zone
// quiet for an interval is forgotten.
func TestNotifyRelayCoalesces(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Unix(1_800_000_000, 0)
	var sent []event.SecondaryNotify
	r := NewNotifyRelay(NotifyRelayConfig{NodeID: "n1", Interval: time.Second,
		Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
		Publish: func(subject string, b []byte) error {
			n, err := event.DecodeSecondaryNotify(b)
			if err != nil || subject != event.SecondaryNotifySubject {
				t.Errorf("published %q on %s: %v", b, subject, err)
			}
			mu.Lock()
			sent = append(sent, n)
			mu.Unlock()
			return nil
		}})
	advance := func(d time.Duration) time.Time { mu.Lock(); defer mu.Unlock(); now = now.Add(d); return now }
	count := func() []event.SecondaryNotify {
		mu.Lock()
		defer mu.Unlock()
		return append([]event.SecondaryNotify(nil), sent...)
	}

	for i := range 1000 {
		r.accept(event.SecondaryNotify{ZoneID: "Z1", Serial: uint32(i + 1), From: "192.0.2.1"})
	}
	r.accept(event.SecondaryNotify{ZoneID: "Z2", Serial: 7, From: "192.0.2.2"})
	if got := count(); len(got) != 2 || got[0].Serial != 1 || got[1].ZoneID != "Z2" || got[0].Node != "n1" {
		t.Fatalf("after the flood: %+v, want Z1 serial 1 and Z2 at once", got)
	}
	if next, _ := r.flush(advance(500 * time.Millisecond)); len(count()) != 2 || !next.Equal(now.Add(500*time.Millisecond)) {
		t.Fatalf("within the interval: %d published, next due %v", len(count()), next)
	}
	r.flush(advance(500 * time.Millisecond))
	got := count()
	if len(got) != 3 || got[2].ZoneID != "Z1" || got[2].Serial != 1000 {
		t.Fatalf("at the interval's end: %+v, want the latest of Z1 (serial 1000)", got)
	}
	if st := r.Stats(); st.Published != 3 || st.Coalesced != 998 {
		t.Fatalf("stats %+v, want 3 published, 998 coalesced", st)
	}
	// Z2 was quiet for the interval: forgotten. Z1 published just now is
	// remembered until its interval passes.
	if _, remembered := r.flush(now); !remembered || len(r.zones) != 1 {
		t.Fatalf("%d zones remembered, want Z1 only", len(r.zones))
	}
	if _, remembered := r.flush(advance(time.Second)); remembered {
		t.Fatal("zones remembered after a quiet interval")
	}
	r.accept(event.SecondaryNotify{ZoneID: "Z1", Serial: 1001})
	if got := count(); len(got) != 4 || got[3].Serial != 1001 {
		t.Fatalf("after a quiet interval: %+v, want serial 1001 at once", got)
	}
}

// TestSecondaryExpiredGolden: every query for a name in an expired
// secondary zone — the apex, a name, a missing name, a wildcard, below a
// cut, DS at the cut, DO=1, TCP, ANY — is answered SERVFAIL without AA
// (EDE 22 with EDNS), the same on the fast and the general path; another
// zone is answered as usual; an event that leaves Secondary unset keeps
// the zone expired; one with Expired=false restores the normal answers
// (testdata/secondary.golden).
func TestSecondaryExpiredGolden(t *testing.T) {
	t.Parallel()
	const path = "testdata/secondary.golden"
	header, cases, err := dnstest.ReadCases(path)
	if err != nil {
		t.Fatal(err)
	}
	store, _ := secondaryStore(t, true)
	g := newGoldenHandlers(store)
	run := func(i int) {
		c := cases[i]
		q, err := dnstest.ParseQuery(c.Query)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		wire, err := q.Wire()
		if err != nil {
			t.Fatal(err)
		}
		got := g.fast.ServeWire(nil, wire, testClient, q.TCP)
		if slow := g.slow.ServeWire(nil, wire, testClient, q.TCP); !bytes.Equal(got, slow) {
			t.Errorf("%s: fast and general paths differ:\nfast %x\nslow %x", c.Name, got, slow)
		}
		m := new(dns.Msg)
		if err := m.Unpack(got); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if strings.HasPrefix(c.Name, "expired-") && !strings.Contains(c.Name, "other-zone") &&
			(m.Rcode != dns.RcodeServerFailure || m.Authoritative || len(m.Answer)+len(m.Ns) != 0) {
			t.Errorf("%s: an expired zone answered\n%v", c.Name, m)
		}
		if strings.HasPrefix(c.Name, "cleared-") && m.Rcode == dns.RcodeServerFailure {
			t.Errorf("%s: SERVFAIL after the zone was cleared", c.Name)
		}
		text := dnstest.Format(m)
		if *update {
			cases[i].Want = text
		} else if text != c.Want {
			t.Errorf("%s: %s\ngot:\n%swant:\n%s", c.Name, c.Query, text, c.Want)
		}
	}
	phase := func(prefix string) {
		n := 0
		for i := range cases {
			if strings.HasPrefix(cases[i].Name, prefix) {
				run(i)
				n++
			}
		}
		if n < 8 {
			t.Fatalf("%d %s cases, want at least 8", n, prefix)
		}
	}
	phase("expired-")
	// A record change with Secondary unset ("unchanged"): still expired.
	if _, err := store.Apply(event.ZoneEvent{Kind: event.ZoneUpdated, ZoneID: secZoneID, FromVersion: 42, ToVersion: 43,
		Upserts: []zonecfg.RRSet{{Name: "new.sec.test.", Type: "A", TTL: 60, Records: []string{"192.0.2.9"}}}}); err != nil {
		t.Fatal(err)
	}
	if st, _ := store.ZoneState(secZoneID); st.Secondary == nil || !st.Secondary.Expired {
		t.Fatalf("an event without Secondary changed it: %+v", st.Secondary)
	}
	phase("expired-")
	st, _ := store.ZoneState(secZoneID)
	cleared := *st.Secondary
	cleared.Expired = false
	if _, err := store.Apply(event.ZoneEvent{Kind: event.ZoneUpdated, ZoneID: secZoneID, FromVersion: 43, ToVersion: 44,
		Deletes: []zonecfg.Key{{Name: "new.sec.test.", Type: "A"}}, Secondary: &cleared}); err != nil {
		t.Fatal(err)
	}
	phase("cleared-")
	if *update {
		if err := dnstest.WriteCases(path, header, cases); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSecondaryExpiredRefusesTransfer: an expired secondary zone that also
// allows outgoing transfers refuses them (REFUSED, signed), and transfers
// again once the flag is cleared.
func TestSecondaryExpiredRefusesTransfer(t *testing.T) {
	t.Parallel()
	store, secret := xfrStore(t, "127.0.0.0/8")
	st, _ := store.ZoneState(xfrZoneID)
	if _, err := store.Apply(event.ZoneEvent{Kind: event.ZoneUpdated, ZoneID: xfrZoneID, FromVersion: st.Version, ToVersion: st.Version + 1,
		Secondary: &zonecfg.Secondary{Primaries: []zonecfg.NotifySource{{Address: secUnsigned}}, Expired: true}}); err != nil {
		t.Fatal(err)
	}
	srv := NewServer(store, Config{Addr: "127.0.0.1:0", UDPWorkers: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Handler().SetReady(true)
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	addr := srv.TCPAddr().String()
	for _, qtype := range []uint16{dns.TypeAXFR, dns.TypeIXFR} {
		_, err := transfer(t, addr, qtype, xfrKeyName, secret, 1)
		if err == nil || !strings.Contains(err.Error(), "rcode: 5") { // miekg: "bad xfr rcode: 5"
			t.Fatalf("%s of an expired zone: %v, want REFUSED", dns.TypeToString[qtype], err)
		}
	}
	if _, err := store.Apply(event.ZoneEvent{Kind: event.ZoneUpdated, ZoneID: xfrZoneID, FromVersion: st.Version + 1, ToVersion: st.Version + 2,
		Secondary: &zonecfg.Secondary{Primaries: []zonecfg.NotifySource{{Address: secUnsigned}}}}); err != nil {
		t.Fatal(err)
	}
	rrs, err := transfer(t, addr, dns.TypeAXFR, xfrKeyName, secret, 0)
	if err != nil || len(rrs) < 3 {
		t.Fatalf("AXFR after the flag was cleared: %d records, %v", len(rrs), err)
	}
}
