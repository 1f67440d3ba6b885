package dataplane

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/natstest"
)

// zoneCountingHandler returns a ready server handler over zones Z1
// (bench.example.) and Z2 (other.example.), counting per zone or not.
func zoneCountingHandler(t testing.TB, count bool) (*Handler, *Store) {
	s := NewStore()
	if err := s.ReplaceZones([]event.ZoneState{benchZone("Z1", "bench.example.", 100),
		benchZone("Z2", "other.example.", 10)}); err != nil {
		t.Fatal(err)
	}
	srv := NewServer(s, Config{Addr: "127.0.0.1:0", CountZoneQueries: count})
	srv.SetReady(true)
	return srv.Handler(), s
}

func sortedCounts(c []event.ZoneQueryCount) []event.ZoneQueryCount {
	slices.SortFunc(c, func(a, b event.ZoneQueryCount) int {
		if a.ZoneID != b.ZoneID {
			if a.ZoneID < b.ZoneID {
				return -1
			}
			return 1
		}
		if a.RCode < b.RCode {
			return -1
		}
		if a.RCode > b.RCode {
			return 1
		}
		return 0
	})
	return c
}

// TestZoneQueryCounts: each query is counted once, for the zone that
// answered it and with the rcode sent, on both parsing paths; queries for
// no zone count for none; a take resets; a rebuilt zone keeps counting in
// the same counter; and counting allocates nothing.
func TestZoneQueryCounts(t *testing.T) {
	h, s := zoneCountingHandler(t, true)
	out := make([]byte, 0, 512)
	send := func(name string, qtype uint16, n int, general bool) {
		h.noFast = general
		q := packQuery(t, name, qtype)
		for range n {
			out = h.ServeWire(out, q, testClient, false)
		}
		h.noFast = false
	}
	send("h1.bench.example.", dns.TypeA, 7, false)
	send("h2.bench.example.", dns.TypeA, 3, true)
	send("nope.bench.example.", dns.TypeA, 5, false)
	send("h1.other.example.", dns.TypeAAAA, 2, false) // NODATA: NOERROR
	send("www.not-served.example.", dns.TypeA, 4, false)
	// A rebuild in the middle (a snapshot reload) must not lose counts.
	if err := s.ReplaceZone(benchZone("Z2", "other.example.", 10)); err != nil {
		t.Fatal(err)
	}
	send("x.other.example.", dns.TypeA, 1, false)
	want := []event.ZoneQueryCount{
		{ZoneID: "Z1", RCode: "NOERROR", Queries: 10},
		{ZoneID: "Z1", RCode: "NXDOMAIN", Queries: 5},
		{ZoneID: "Z2", RCode: "NOERROR", Queries: 2},
		{ZoneID: "Z2", RCode: "NXDOMAIN", Queries: 1},
	}
	if got := sortedCounts(s.takeZoneQueries()); !slices.Equal(got, want) {
		t.Fatalf("counts %+v, want %+v", got, want)
	}
	if got := s.takeZoneQueries(); len(got) != 0 {
		t.Fatalf("after a take: %+v", got)
	}
	if !raceEnabled {
		q := packQuery(t, "h12.bench.example.", dns.TypeA)
		if allocs := testing.AllocsPerRun(200, func() { out = h.ServeWire(out, q, testClient, false) }); allocs != 0 {
			t.Errorf("%v allocations per query with zone counting on", allocs)
		}
	}
	off, so := zoneCountingHandler(t, false)
	off.ServeWire(nil, packQuery(t, "h1.bench.example.", dns.TypeA), testClient, false)
	if got := so.takeZoneQueries(); len(got) != 0 {
		t.Fatalf("counting off counted %+v", got)
	}
}

// TestZoneQueryReporter: a flush publishes the interval's counts to the
// stream, with an id that JetStream deduplicates, split in parts when
// there are many zones; a report NATS did not take is published later
// under the same id.
func TestZoneQueryReporter(t *testing.T) {
	ns := natstest.Run(t)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx := context.Background()
	js, _ := jetstream.New(nc)
	h, s := zoneCountingHandler(t, true)
	now := time.Date(2026, 1, 2, 3, 4, 10, 0, time.UTC)
	r, err := NewZoneQueryReporter(ZoneQueryReporterConfig{Store: s, NATS: nc, NodeID: "n1", Region: "eu-west-1",
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	h.ServeWire(nil, packQuery(t, "h1.bench.example.", dns.TypeA), testClient, false)
	// No stream yet: the report stays queued.
	now = now.Add(10 * time.Second)
	if err := r.Flush(ctx); err == nil {
		t.Fatal("published without a stream")
	}
	if _, err := js.CreateStream(ctx, event.ZoneQueriesStreamConfig(1)); err != nil {
		t.Fatal(err)
	}
	h.ServeWire(nil, packQuery(t, "nope.other.example.", dns.TypeA), testClient, false)
	now = now.Add(10 * time.Second)
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cons, err := js.OrderedConsumer(ctx, event.ZoneQueriesStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(2, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var got []event.ZoneQueryReport
	for m := range batch.Messages() {
		rep, err := event.DecodeZoneQueryReport(m.Data())
		if err != nil {
			t.Fatal(err)
		}
		if m.Headers().Get(jetstream.MsgIDHeader) != rep.MsgID() {
			t.Errorf("msg id %q, want %q", m.Headers().Get(jetstream.MsgIDHeader), rep.MsgID())
		}
		got = append(got, rep)
	}
	if len(got) != 2 {
		t.Fatalf("%d reports, want 2", len(got))
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 10, 0, time.UTC)
	if !got[0].Start.Equal(t0) || !got[0].End.Equal(t0.Add(10*time.Second)) || got[0].Region != "eu-west-1" ||
		!slices.Equal(got[0].Counts, []event.ZoneQueryCount{{ZoneID: "Z1", RCode: "NOERROR", Queries: 1}}) {
		t.Errorf("first report %+v", got[0])
	}
	if !got[1].Start.Equal(t0.Add(10*time.Second)) ||
		!slices.Equal(got[1].Counts, []event.ZoneQueryCount{{ZoneID: "Z2", RCode: "NXDOMAIN", Queries: 1}}) {
		t.Errorf("second report %+v", got[1])
	}

	// Many zones: parts of at most MaxZoneQueryCounts counts.
	big := NewStore()
	states := make([]event.ZoneState, event.MaxZoneQueryCounts+3)
	for i := range states {
		states[i] = event.ZoneState{ID: "B" + strconv.Itoa(i), Name: "z" + strconv.Itoa(i) + ".example.", Version: 1}
	}
	if err := big.ReplaceZones(states); err != nil {
		t.Fatal(err)
	}
	for _, z := range big.zones() {
		z.queries.count(dns.RcodeSuccess)
	}
	br, err := NewZoneQueryReporter(ZoneQueryReporterConfig{Store: big, NATS: nc, NodeID: "n2", Region: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if err := br.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := js.Stream(ctx, event.ZoneQueriesStream)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := info.Info(ctx); st.State.Msgs != 4 {
		t.Errorf("%d messages in the stream, want 2 + 2 parts", st.State.Msgs)
	}

	for _, bad := range []time.Duration{7 * time.Second, 2 * time.Minute, time.Millisecond} {
		if _, err := NewZoneQueryReporter(ZoneQueryReporterConfig{Store: s, NATS: nc, NodeID: "n", Region: "r", Interval: bad}); err == nil {
			t.Errorf("interval %s accepted", bad)
		}
	}
}

// BenchmarkZoneQueryCounting compares one fast-path answer from a server
// handler (RRL and cookies on) with per-zone counting off and on.
func BenchmarkZoneQueryCounting(b *testing.B) {
	q := packQuery(b, "h12.bench.example.", dns.TypeA)
	for _, tc := range []struct {
		name  string
		count bool
	}{{"off", false}, {"on", true}} {
		h, _ := zoneCountingHandler(b, tc.count)
		b.Run(tc.name, func(b *testing.B) {
			out := make([]byte, 0, 512)
			b.ReportAllocs()
			for b.Loop() {
				out = h.ServeWire(out, q, testClient, false)
			}
		})
	}
}
