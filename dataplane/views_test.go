package dataplane

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/nspool"
	"github.com/waymark-dns/waymark/zonecfg"
)

func viewZone(id, name, ip string, servers ...string) event.ZoneState {
	return event.ZoneState{ID: id, Name: name, Version: 1, NameServers: servers, RRSets: []zonecfg.RRSet{
		{Name: name, Type: "SOA", TTL: 900, Records: []string{"ns1.pool.test. hostmaster.pool.test. 1 7200 900 1209600 300"}},
		{Name: "www." + name, Type: "A", TTL: 60, Records: []string{ip}},
	}}
}

func askView(t *testing.T, h *Handler, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	wire, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	out := h.ServeWire(nil, wire, testClient, false)
	r := new(dns.Msg)
	if err := r.Unpack(out); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestViews: each view answers from the zones on its pool name's sets;
// two zones of one name on disjoint sets answer in their own views; a zone
// on none of a view's sets is REFUSED there; zones without set information
// and the fleet's own zones answer everywhere.
func TestViews(t *testing.T) {
	names := []string{"ns1.pool.test.", "ns2.pool.test.", "ns3.pool.test."}
	s := NewStoreViews(names)
	if err := s.ReplaceZones([]event.ZoneState{
		viewZone("Z1", "same.example.", "192.0.2.1", "ns1.pool.test."),
		viewZone("Z2", "same.example.", "192.0.2.2", "ns2.pool.test.", "ns3.pool.test."),
		viewZone("Z3", "legacy.example.", "192.0.2.3"),
		viewZone("Z4", "elsewhere.example.", "192.0.2.4", "ns9.pool.test."),
	}); err != nil {
		t.Fatal(err)
	}
	pool, err := nspool.Parse("ns1.pool.test.=127.0.0.1,ns2.pool.test.=127.0.0.2/::2,ns3.pool.test.=127.0.0.3", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetSystemZones(pool.SystemZones("hostmaster.pool.test.")); err != nil {
		t.Fatal(err)
	}
	base := NewHandler(s)
	base.SetReady(true)
	for _, fast := range []bool{true, false} {
		hs := []*Handler{base.ForView(0), base.ForView(1), base.ForView(2)}
		for _, h := range hs {
			h.noFast = !fast
		}
		for i, tc := range []struct {
			view        int
			name        string
			qtype       uint16
			rcode       int
			answer      string
			noAnswerSec bool
		}{
			{0, "www.same.example.", dns.TypeA, dns.RcodeSuccess, "192.0.2.1", false},
			{1, "www.same.example.", dns.TypeA, dns.RcodeSuccess, "192.0.2.2", false},
			{2, "www.same.example.", dns.TypeA, dns.RcodeSuccess, "192.0.2.2", false},
			{0, "www.legacy.example.", dns.TypeA, dns.RcodeSuccess, "192.0.2.3", false},
			{2, "www.legacy.example.", dns.TypeA, dns.RcodeSuccess, "192.0.2.3", false},
			{0, "www.elsewhere.example.", dns.TypeA, dns.RcodeRefused, "", true},
			{1, "ns2.pool.test.", dns.TypeA, dns.RcodeSuccess, "127.0.0.2", false},
			{0, "ns3.pool.test.", dns.TypeA, dns.RcodeSuccess, "127.0.0.3", false},
			{2, "ns2.pool.test.", dns.TypeAAAA, dns.RcodeSuccess, "::2", false},
			{2, "nope.pool.test.", dns.TypeA, dns.RcodeNameError, "", true},
		} {
			r := askView(t, hs[tc.view], tc.name, tc.qtype)
			got := ""
			for _, rr := range r.Answer {
				switch v := rr.(type) {
				case *dns.A:
					got = v.A.String()
				case *dns.AAAA:
					got = v.AAAA.String()
				}
			}
			if r.Rcode != tc.rcode || got != tc.answer || r.Authoritative == (tc.rcode == dns.RcodeRefused) {
				t.Errorf("fast=%v case %d: %s @view %d: rcode %s aa %v answer %q, want %s %q",
					fast, i, tc.name, tc.view, dns.RcodeToString[r.Rcode], r.Authoritative, got, dns.RcodeToString[tc.rcode], tc.answer)
			}
		}
	}
	// The system zones are not hosted zones.
	if s.Len() != 4 {
		t.Errorf("Len = %d, want 4", s.Len())
	}
	if !s.Serves([]string{"ns9.pool.test.", "ns2.pool.test."}) || s.Serves([]string{"ns9.pool.test."}) || !s.Serves(nil) {
		t.Error("Serves is wrong")
	}
	// Removing one of the two same-name zones leaves the other in its
	// views only.
	s.RemoveZone("Z2")
	if r := askView(t, base.ForView(1), "www.same.example.", dns.TypeA); r.Rcode != dns.RcodeRefused {
		t.Errorf("after removal @view 1: %s", dns.RcodeToString[r.Rcode])
	}
	if r := askView(t, base.ForView(0), "www.same.example.", dns.TypeA); len(r.Answer) != 1 {
		t.Errorf("after removal @view 0: %v", r)
	}
}

// BenchmarkViews compares one nameserver holding 100,000 zones in one view
// with the same zones spread over 8 pool names (sets of 4) in 8 views:
// the per-query cost should not change, nor allocations (zero).
func BenchmarkViews(b *testing.B) {
	const zones = 100000
	names := make([]string, 8)
	for i := range names {
		names[i] = fmt.Sprintf("ns%d.pool.test.", i+1)
	}
	states := make([]event.ZoneState, zones)
	for i := range states {
		st := viewZone(fmt.Sprintf("Z%d", i), fmt.Sprintf("z%d.example.", i), "192.0.2.1")
		for k := range 4 {
			st.NameServers = append(st.NameServers, names[(i+k)%8])
		}
		states[i] = st
	}
	wire := func(i int) []byte {
		m := new(dns.Msg)
		m.SetQuestion(fmt.Sprintf("www.z%d.example.", i), dns.TypeA)
		w, _ := m.Pack()
		return w
	}
	queries := make([][]byte, 1024)
	for i := range queries {
		queries[i] = wire(i * 97 % zones)
	}
	for _, c := range []struct {
		name  string
		views []string
	}{{"one-view", nil}, {"8-views", names}} {
		s := NewStoreViews(c.views)
		if err := s.ReplaceZones(states); err != nil {
			b.Fatal(err)
		}
		base := NewHandler(s)
		base.SetReady(true)
		// Zone i*97 is on names (i*97)%8 … +3: view (i*97)%8 sees it.
		hs := make([]*Handler, 8)
		for v := range hs {
			hs[v] = base.ForView(v)
		}
		b.Run(c.name, func(b *testing.B) {
			out := make([]byte, 0, 512)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				q := i & 1023
				v := 0
				if c.views != nil {
					v = (q * 97 % zones) % 8
				}
				out = hs[v].ServeWire(out, queries[q], testClient, false)
				i++
			}
			if len(out) == 0 || out[3]&0x0f != 0 {
				b.Fatalf("bad answer %x", out)
			}
		})
	}
}

// BenchmarkShardMemory reports the heap and load time of 100,000 zones of
// ten records on delegation sets of 4 of 8 pool names (drawn at random, as
// production assigns them), for a node serving all 8 names and for one
// serving 2 (which loads only the zones on their sets, as a sharded node's
// filtered snapshot holds). Run with -benchtime 1x.
func BenchmarkShardMemory(b *testing.B) {
	names := make([]string, 8)
	for i := range names {
		names[i] = fmt.Sprintf("ns%d.pool.test.", i+1)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	sets := make([][]string, 100000)
	for i := range sets {
		perm := rnd.Perm(8)[:4]
		for _, p := range perm {
			sets[i] = append(sets[i], names[p])
		}
	}
	for _, c := range []struct {
		name  string
		serve []string
	}{{"serve-8-of-8", names}, {"serve-2-of-8", names[:2]}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				s := NewStoreViews(c.serve)
				var states []event.ZoneState
				for i := range sets {
					if !s.Serves(sets[i]) {
						continue
					}
					st := benchZone(fmt.Sprintf("Z%d", i), fmt.Sprintf("z%d.example.", i), 8)
					st.NameServers = sets[i]
					states = append(states, st)
				}
				start := time.Now()
				if err := s.ReplaceZones(states); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(time.Since(start).Seconds(), "load-s")
				b.ReportMetric(float64(len(states)), "zones")
				states = nil
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB")
				runtime.KeepAlive(s)
			}
		})
	}
}
