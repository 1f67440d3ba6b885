package dataplane

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// xfrUpdate applies a zone.updated event from version from to from+1.
func xfrUpdate(t *testing.T, s *Store, from int64, continued bool, deletes []zonecfg.Key, upserts ...zonecfg.RRSet) {
	t.Helper()
	r, err := s.Apply(event.ZoneEvent{Kind: event.ZoneUpdated, ZoneID: xfrZoneID, ZoneName: "xfr.test.", TenantID: "T1",
		FromVersion: from, ToVersion: from + 1, Deletes: deletes, Upserts: upserts, Continued: continued})
	if err != nil || r != Applied {
		t.Fatalf("apply %d→%d: %v %v", from, from+1, r, err)
	}
}

// startXfrServer serves store on loopback.
func startXfrServer(t *testing.T, store *Store) *Server {
	t.Helper()
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
	return srv
}

// TestIXFRGolden makes three versions after xfr.test.'s 7 — a record
// added, a TTL and a weighted choice changed, a name deleted, a split
// change in two parts — and compares IXFR answers from each serial (and
// the UDP and up-to-date cases) with testdata/ixfr.golden. miekg's client
// verifies every message's TSIG.
func TestIXFRGolden(t *testing.T) {
	store, secret := xfrStore(t, "127.0.0.0/8")
	w1, w5 := uint8(1), uint8(5)
	xfrUpdate(t, store, 7, false, nil,
		zonecfg.RRSet{Name: "new.xfr.test.", Type: "A", TTL: 300, Records: []string{"192.0.2.1"}})
	xfrUpdate(t, store, 8, false, []zonecfg.Key{{Name: "a.b.xfr.test.", Type: "TXT"}},
		zonecfg.RRSet{Name: "www.xfr.test.", Type: "AAAA", TTL: 120, Records: []string{"2001:db8::1", "2001:db8::3"}},
		// weight 0 → 5 against 1: the transfer's fixed choice may move.
		zonecfg.RRSet{Name: "w.xfr.test.", Type: "A", TTL: 30, SetIdentifier: "zero", Records: []string{"198.51.100.2"}, Routing: zonecfg.Routing{Weight: &w5}},
		zonecfg.RRSet{Name: "w.xfr.test.", Type: "A", TTL: 30, SetIdentifier: "one", Records: []string{"198.51.100.1"}, Routing: zonecfg.Routing{Weight: &w1}})
	// A split change: 9→10 held, 10→11 published; one delta 9→11.
	xfrUpdate(t, store, 9, true, nil, zonecfg.RRSet{Name: "part1.xfr.test.", Type: "TXT", TTL: 60, Records: []string{`"one"`}})
	xfrUpdate(t, store, 10, false, []zonecfg.Key{{Name: "new.xfr.test.", Type: "A"}},
		zonecfg.RRSet{Name: "part2.xfr.test.", Type: "TXT", TTL: 60, Records: []string{`"two"`}})
	if d, _ := store.journal.stats(); d != 3 {
		t.Errorf("journal holds %d deltas, want 3 (7→8, 8→9, 9→11)", d)
	}
	srv := startXfrServer(t, store)
	addr := srv.TCPAddr().String()

	var b strings.Builder
	for _, serial := range []uint32{7, 8, 9, 10, 11, 12, 3} {
		rrs, err := transfer(t, addr, dns.TypeIXFR, xfrKeyName, secret, serial)
		if err != nil {
			t.Fatalf("IXFR from %d: %v", serial, err)
		}
		fmt.Fprintf(&b, "; IXFR from serial %d\n", serial)
		lines := make([]string, len(rrs))
		for i, rr := range rrs {
			lines[i] = rr.String()
		}
		if len(rrs) > 2 && rrs[1].Header().Rrtype != dns.TypeSOA {
			// AXFR form: the zone's order is its map's, not fixed.
			slices.Sort(lines[1 : len(lines)-1])
		}
		b.WriteString(strings.Join(lines, "\n") + "\n")
	}
	// Over UDP: the SOA alone, signed.
	m := new(dns.Msg)
	m.SetIxfr("xfr.test.", 7, "ns1.xfr.test.", "admin.xfr.test.")
	m.SetTsig(xfrKeyName, dns.HmacSHA256, 300, time.Now().Unix())
	c := &dns.Client{Net: "udp", TsigSecret: map[string]string{xfrKeyName: secret}, Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, srv.UDPAddr().String())
	if err != nil {
		t.Fatalf("IXFR over UDP: %v", err)
	}
	fmt.Fprintf(&b, "; IXFR over UDP from serial 7: rcode %s, TSIG %v\n", dns.RcodeToString[r.Rcode], r.IsTsig() != nil)
	for _, rr := range r.Answer {
		b.WriteString(rr.String() + "\n")
	}
	const path = "testdata/ixfr.golden"
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("IXFR answers differ from %s (-update rewrites):\n%s", path, b.String())
	}

	// Applying each incremental answer to the AXFR of its start version
	// gives the AXFR of the end: checked for 7→11 against a fresh AXFR.
	full, err := transfer(t, addr, dns.TypeAXFR, xfrKeyName, secret, 0)
	if err != nil {
		t.Fatal(err)
	}
	inc, err := transfer(t, addr, dns.TypeIXFR, xfrKeyName, secret, 7)
	if err != nil {
		t.Fatal(err)
	}
	at7 := map[string]bool{}
	for _, s := range xfrState7(t) {
		at7[s] = true
	}
	if got, want := applyIXFR(t, at7, inc), rrSetOf(full); !sameSet(got, want) {
		t.Errorf("7 + IXFR ≠ AXFR at 11:\n got %v\nwant %v", got, want)
	}
}

// xfrState7 is the AXFR of xfr.test. at version 7, SOA aside, as text.
func xfrState7(t *testing.T) []string {
	store, secret := xfrStore(t, "127.0.0.0/8")
	srv := startXfrServer(t, store)
	rrs, err := transfer(t, srv.TCPAddr().String(), dns.TypeAXFR, xfrKeyName, secret, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for k := range rrSetOf(rrs) {
		out = append(out, k)
	}
	return out
}

// rrSetOf is a transfer's records, SOA aside, as a set of text lines.
func rrSetOf(rrs []dns.RR) map[string]bool {
	out := map[string]bool{}
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeSOA {
			out[rr.String()] = true
		}
	}
	return out
}

// applyIXFR applies an incremental IXFR answer (RFC 1995 §4) to a zone's
// records.
func applyIXFR(t *testing.T, zone map[string]bool, rrs []dns.RR) map[string]bool {
	t.Helper()
	if len(rrs) < 2 {
		t.Fatalf("IXFR of %d records", len(rrs))
	}
	adding := true // the first SOA inside starts a deletion part
	for _, rr := range rrs[1 : len(rrs)-1] {
		if rr.Header().Rrtype == dns.TypeSOA {
			adding = !adding
			continue
		}
		if adding {
			zone[rr.String()] = true
		} else if !zone[rr.String()] {
			t.Errorf("IXFR deletes %s, which the zone does not have", rr)
		} else {
			delete(zone, rr.String())
		}
	}
	return zone
}

func sameSet(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// TestJournalBounds: per-zone delta and byte bounds and the store-wide
// budget drop the oldest deltas first, and a broken chain resets.
func TestJournalBounds(t *testing.T) {
	t.Parallel()
	mk := func(from int64, n int) *xfrDelta {
		d := &xfrDelta{from: from, to: from + 1}
		for range n {
			d.add = append(d.add, xfrRR{owner: "\x01a\x00", rdata: strings.Repeat("x", 52)})
		}
		d.bytes = n * 100
		return d
	}
	j := newJournal(JournalConfig{MaxBytes: 1000, MaxZoneBytes: 600, MaxZoneDeltas: 3})
	for v := int64(1); v <= 5; v++ {
		j.add("A", mk(v, 1))
	}
	if j.chain("A", 2, 6) != nil || j.chain("A", 3, 6) == nil || len(j.chain("A", 3, 6)) != 3 {
		t.Errorf("MaxZoneDeltas 3: chain from 2 %v, from 3 %v", j.chain("A", 2, 6), j.chain("A", 3, 6))
	}
	j.add("A", mk(6, 5)) // 4→5, 5→6, 6→7 are 700 bytes: the zone keeps 600 at most
	if c := j.chain("A", 5, 7); len(c) != 2 || j.chain("A", 4, 7) != nil {
		t.Errorf("MaxZoneBytes 600: chain from 5 has %d deltas, from 4 %v", len(c), j.chain("A", 4, 7))
	}
	j.add("B", mk(1, 5)) // 600 + 500 > 1000: A's oldest goes
	if j.chain("A", 5, 7) != nil || j.chain("A", 6, 7) == nil || j.chain("B", 1, 2) == nil {
		t.Errorf("MaxBytes 1000: A from 5 %v, A from 6 %v, B %v", j.chain("A", 5, 7), j.chain("A", 6, 7), j.chain("B", 1, 2))
	}
	if _, b := j.stats(); b > 1000 {
		t.Errorf("journal holds %d bytes, over its budget", b)
	}
	j.add("B", mk(5, 1)) // not a continuation of 1→2: B starts again
	if j.chain("B", 1, 2) != nil || j.chain("B", 5, 6) == nil {
		t.Error("a broken chain is kept")
	}
	j.add("A", mk(7, 7)) // larger than a zone may hold: A's journal goes
	if j.chain("A", 6, 7) != nil {
		t.Error("an oversized delta left a chain through it")
	}
	if d, b := j.stats(); d != 1 || b != 100 {
		t.Errorf("stats %d deltas, %d bytes; want 1, 100", d, b)
	}
}

// TestJournalNotKept: a zone with an alias, or replaced whole, answers
// IXFR in full.
func TestJournalNotKept(t *testing.T) {
	store, _ := xfrStore(t, "127.0.0.0/8")
	xfrUpdate(t, store, 7, false, nil, zonecfg.RRSet{Name: "x.xfr.test.", Type: "A", TTL: 1, Records: []string{"192.0.2.9"}})
	if store.journal.chain(xfrZoneID, 7, 8) == nil {
		t.Fatal("no delta 7→8")
	}
	st, _ := store.ZoneState(xfrZoneID)
	st.Version = 20
	if err := store.ReplaceZone(st); err != nil {
		t.Fatal(err)
	}
	if d, _ := store.journal.stats(); d != 0 {
		t.Errorf("a zone replaced whole keeps %d deltas", d)
	}
	xfrUpdate(t, store, 20, false, nil, zonecfg.RRSet{Name: "al.xfr.test.", Type: "A", Routing: zonecfg.Routing{Alias: &zonecfg.AliasTarget{HostedZoneID: xfrZoneID, DNSName: "www.xfr.test."}}})
	xfrUpdate(t, store, 21, false, nil, zonecfg.RRSet{Name: "y.xfr.test.", Type: "A", TTL: 1, Records: []string{"192.0.2.9"}})
	if d, _ := store.journal.stats(); d != 0 {
		t.Errorf("a zone with an alias keeps %d deltas", d)
	}
}

// TestAXFRAllocations: an AXFR allocates per transfer, never per name,
// so that a million-name zone streams in the memory of a message.
func TestAXFRAllocations(t *testing.T) {
	store, secret := xfrStore(t, "127.0.0.0/8")
	var sets []zonecfg.RRSet
	for i := range 5000 {
		sets = append(sets, zonecfg.RRSet{Name: fmt.Sprintf("n%d.xfr.test.", i), Type: "A", TTL: 60, Records: []string{"192.0.2.1"}})
	}
	xfrUpdate(t, store, 7, false, nil, sets...)
	h := NewHandler(store)
	h.SetReady(true)
	m := new(dns.Msg)
	m.SetAxfr("xfr.test.")
	m.SetTsig(xfrKeyName, dns.HmacSHA256, 300, time.Now().Unix())
	req, _, err := dns.TsigGenerate(m, secret, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.serveTransfer(req, netip.MustParseAddr("127.0.0.1"), time.Now(), false, func(b []byte) error {
		if b[3]&0xf != 0 {
			t.Fatalf("rcode %d", b[3]&0xf)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	msgs := 0
	allocs := testing.AllocsPerRun(5, func() {
		msgs = 0
		if err := h.serveTransfer(req, netip.MustParseAddr("127.0.0.1"), time.Now(), false, func([]byte) error { msgs++; return nil }); err != nil {
			t.Fatal(err)
		}
	})
	if msgs < 5 {
		t.Fatalf("AXFR of %d messages", msgs)
	}
	if allocs > 300 {
		t.Errorf("AXFR of 5,000 names: %.0f allocations", allocs)
	}
	t.Logf("AXFR of 5,000 names in %d messages: %.0f allocations", msgs, allocs)
}

// BenchmarkAXFR200k: one AXFR of a 200,000-name zone, signed, into a
// writer that discards (the server's side of bench/xfrbench).
func BenchmarkAXFR200k(b *testing.B) {
	store, secret := xfrStore(b, "127.0.0.0/8")
	sets := make([]zonecfg.RRSet, 0, 200000)
	for i := range 200000 {
		sets = append(sets, zonecfg.RRSet{Name: fmt.Sprintf("n%d.xfr.test.", i), Type: "A", TTL: 60, Records: []string{"192.0.2.1"}})
	}
	if r, err := store.Apply(event.ZoneEvent{Kind: event.ZoneUpdated, ZoneID: xfrZoneID, FromVersion: 7, ToVersion: 8, Upserts: sets}); err != nil || r != Applied {
		b.Fatal(r, err)
	}
	h := NewHandler(store)
	h.SetReady(true)
	m := new(dns.Msg)
	m.SetAxfr("xfr.test.")
	m.SetTsig(xfrKeyName, dns.HmacSHA256, 300, time.Now().Unix())
	req, _, err := dns.TsigGenerate(m, secret, "", false)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if err := h.serveTransfer(req, netip.MustParseAddr("127.0.0.1"), time.Now(), false, func([]byte) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
