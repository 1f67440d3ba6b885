package dataplane

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// benchZone is a zone of n A records h0..h(n-1) under bench.example.
func benchZone(id, name string, n int) event.ZoneState {
	sets := []zonecfg.RRSet{
		{Name: name, Type: "SOA", TTL: 3600, Records: []string{"ns1." + name + " hostmaster." + name + " 1 7200 900 1209600 300"}},
		{Name: name, Type: "NS", TTL: 3600, Records: []string{"ns1." + name}},
	}
	for i := range n {
		sets = append(sets, zonecfg.RRSet{Name: fmt.Sprintf("h%d.%s", i, name), Type: "A", TTL: 300,
			Records: []string{fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}})
	}
	return event.ZoneState{ID: id, Name: name, Version: 1, RRSets: sets}
}

// BenchmarkServeDNS measures one query through ServeWire on a zone of
// 100,000 records: existing names, NXDOMAIN and NODATA, with and without
// EDNS, on the fast path and forced through the general path.
func BenchmarkServeDNS(b *testing.B) {
	s := NewStore()
	if err := s.ReplaceZone(benchZone("Z1", "bench.example.", 100000)); err != nil {
		b.Fatal(err)
	}
	fast, slow, limited := NewHandler(s), NewHandler(s), NewHandler(s)
	fast.SetReady(true)
	slow.SetReady(true)
	limited.SetReady(true)
	slow.noFast = true
	// RRL accounting on every answer (at a rate that never limits, so the
	// cost measured is the accounting) and cookies on, as NewServer sets.
	limited.rrl = newRRL(RRLConfig{Rate: 1 << 30}, limited.stats)
	limited.cookies = newCookieJar(CookieConfig{}, limited.stats)
	queries := map[string]*dns.Msg{}
	add := func(name string, qname string, qtype uint16, edns bool) {
		m := new(dns.Msg)
		m.SetQuestion(qname, qtype)
		if edns {
			m.SetEdns0(1232, false)
		}
		queries[name] = m
	}
	add("a", "h12345.bench.example.", dns.TypeA, false)
	add("a-edns", "h12345.bench.example.", dns.TypeA, true)
	add("nxdomain", "nothere.bench.example.", dns.TypeA, false)
	add("nodata", "h12345.bench.example.", dns.TypeAAAA, false)
	// A client cookie, as resolvers send on every query (RFC 7873).
	add("a-cookie", "h12345.bench.example.", dns.TypeA, true)
	queries["a-cookie"].IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}}
	for _, name := range []string{"a", "a-edns", "nxdomain", "nodata", "a-cookie"} {
		wire, err := queries[name].Pack()
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range []struct {
			path string
			h    *Handler
		}{{"fast", fast}, {"general", slow}, {"fast-rrl", limited}} {
			b.Run(name+"/"+p.path, func(b *testing.B) {
				out := make([]byte, 0, 512)
				b.ReportAllocs()
				for b.Loop() {
					out = p.h.ServeWire(out, wire, testClient, false)
				}
			})
		}
	}
}

// BenchmarkZoneMemory reports the heap held per record, and the time to
// build the zones from zone states, for one zone of a million records and
// for 100,000 zones of ten records. Run with -benchtime 1x.
func BenchmarkZoneMemory(b *testing.B) {
	for _, c := range []struct {
		name         string
		zones, names int
	}{{"1zone-1M", 1, 1000000 - 2}, {"100kzones-10", 100000, 8}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				s := NewStore()
				states := make([]event.ZoneState, c.zones)
				for i := range states {
					states[i] = benchZone(fmt.Sprintf("Z%d", i), fmt.Sprintf("z%d.example.", i), c.names)
				}
				start := time.Now()
				if err := s.ReplaceZones(states); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(time.Since(start).Seconds(), "load-s")
				states = nil
				runtime.GC()
				runtime.ReadMemStats(&after)
				records := c.zones * (c.names + 2)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB")
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(records), "B/record")
				runtime.KeepAlive(s)
			}
		})
	}
}
