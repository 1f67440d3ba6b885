package dataplane

import (
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// metricsHandler returns a ready handler on a small zone with query
// metrics enabled, as Metrics.EnableMetrics sets them.
func metricsHandler(t testing.TB) (*Handler, *Metrics) {
	s := NewStore()
	if err := s.ReplaceZone(benchZone("Z1", "bench.example.", 100)); err != nil {
		t.Fatal(err)
	}
	srv := NewServer(s, Config{Addr: "127.0.0.1:0"})
	srv.SetReady(true)
	m := NewMetrics(prometheus.NewRegistry())
	m.EnableMetrics(srv)
	return srv.Handler(), m
}

func packQuery(t testing.TB, name string, qtype uint16) []byte {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestQueryMetricsNoAllocation: counting an answer and timing it allocate
// nothing, on the fast and the general path.
func TestQueryMetricsNoAllocation(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector (sync.Pool drops items)")
	}
	h, _ := metricsHandler(t)
	out := make([]byte, 0, 512)
	for _, tc := range []struct {
		name string
		q    []byte
	}{
		{"a", packQuery(t, "h12.bench.example.", dns.TypeA)},
		{"nxdomain", packQuery(t, "nope.bench.example.", dns.TypeTXT)},
		{"other-type", packQuery(t, "h12.bench.example.", dns.TypeNAPTR)},
	} {
		allocs := testing.AllocsPerRun(200, func() {
			out = h.ServeWire(out, tc.q, testClient, false)
			h.qstats.observe(false, time.Microsecond)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per query with metrics on", tc.name, allocs)
		}
	}
	qs := h.qstats
	if got := qs.rcodes(0, dns.RcodeSuccess); got < 200 {
		t.Errorf("NOERROR over UDP counted %d", got)
	}
	if got := qs.rcodes(0, dns.RcodeNameError); got < 200 {
		t.Errorf("NXDOMAIN over UDP counted %d", got)
	}
	if got := qs.types(len(countedTypes)); got < 200 {
		t.Errorf("OTHER type counted %d", got)
	}
}

// BenchmarkQueryMetrics compares one fast-path answer (RRL and cookies
// on, as in a server) with query metrics off and on: the cost of counting
// and timing.
func BenchmarkQueryMetrics(b *testing.B) {
	// Both from NewServer, so that both do RRL and cookies; only "on"
	// has metrics enabled.
	on, _ := metricsHandler(b)
	srv := NewServer(on.store, Config{Addr: "127.0.0.1:0"})
	srv.SetReady(true)
	off := srv.Handler()
	q := packQuery(b, "h12.bench.example.", dns.TypeA)
	for _, tc := range []struct {
		name string
		h    *Handler
	}{{"off", off}, {"on", on}} {
		b.Run(tc.name, func(b *testing.B) {
			out := make([]byte, 0, 512)
			b.ReportAllocs()
			var id uint16
			for b.Loop() {
				// Message IDs as a load generator sends them, which
				// pick the counter shard and the timed sample.
				id++
				q[0], q[1] = byte(id>>8), byte(id)
				if tc.h.qstats != nil && latencySampled(q) {
					start := time.Now()
					out = tc.h.ServeWire(out, q, testClient, false)
					tc.h.qstats.observe(false, time.Since(start))
				} else {
					out = tc.h.ServeWire(out, q, testClient, false)
				}
			}
		})
	}
}
