package dataplane

import (
	"context"
	"encoding/json"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// TestQueryLog: answers of a zone with logging on are queued and
// published per zone as NDJSON with Route 53's fields; other zones' are
// not; a full queue drops entries (counted) and never the answer;
// turning logging off by an event stops it.
func TestQueryLog(t *testing.T) {
	s := NewStore()
	logged := benchZone("ZLOG", "logged.example.", 10)
	logged.QueryLogging = &zonecfg.QueryLogging{ConfigID: "cfg-1"}
	for _, st := range []event.ZoneState{logged, benchZone("ZQUIET", "quiet.example.", 10)} {
		if err := s.ReplaceZone(st); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	published := map[string][]string{}
	now := time.Date(2026, 12, 2, 18, 0, 0, 0, time.UTC)
	ql := NewQueryLog(QueryLogConfig{NodeID: "n1", Region: "r1", QueueSize: 4, NowFunc: func() time.Time { return now },
		Publish: func(subject string, data []byte, entries int) error {
			mu.Lock()
			defer mu.Unlock()
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			if len(lines) != entries {
				t.Errorf("batch of %d lines says %d entries", len(lines), entries)
			}
			published[subject] = append(published[subject], lines...)
			return nil
		}})
	h := NewHandler(s)
	h.SetQueryLog(ql)
	h.SetReady(true)
	v6 := netip.MustParseAddr("2001:db8:1234:5678::9")
	ecs := func(m *dns.Msg) {
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 2,
			SourceNetmask: 64, Address: netip.MustParseAddr("2001:db8:aaaa:bbbb::").AsSlice()})
	}
	for _, q := range []struct {
		name  string
		qtype uint16
		from  netip.Addr
		tcp   bool
		opt   func(*dns.Msg)
	}{
		{"H1.logged.example.", dns.TypeA, testClient, false, nil},
		{"nope.logged.example.", dns.TypeAAAA, v6, true, ecs},
		{"h1.quiet.example.", dns.TypeA, testClient, false, nil},
		{"other.test.", dns.TypeA, testClient, false, nil},
	} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		if q.opt != nil {
			q.opt(m)
		}
		b, _ := m.Pack()
		if h.ServeWire(nil, b, q.from, q.tcp) == nil {
			t.Fatalf("%s: no answer", q.name)
		}
	}
	if st := ql.Stats(); st.Queued != 2 || st.Dropped != 0 {
		t.Fatalf("stats %+v, want 2 queued", st)
	}
	// The queue holds 4: the next 4 fill it, then answers go on and
	// entries are dropped.
	for range 6 {
		if h.ServeWire(nil, packQuery(t, "logged.example.", dns.TypeSOA), testClient, false) == nil {
			t.Fatal("no answer with the queue full")
		}
	}
	if st := ql.Stats(); st.Queued != 4 || st.Dropped != 4 {
		t.Fatalf("stats %+v, want 4 queued, 4 dropped", st)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ql.Run(ctx); close(done) }()
	cancel()
	<-done
	if st := ql.Stats(); st.Published != 4 {
		t.Fatalf("stats %+v, want 4 published", st)
	}
	lines := published[event.QueryLogSubject("ZLOG")]
	if len(published) != 1 || len(lines) != 4 {
		t.Fatalf("published %v", published)
	}
	want := []event.QueryLogEntry{
		{Time: now, HostedZoneID: "ZLOG", QueryName: "h1.logged.example.", QueryType: "A", ResponseCode: "NOERROR",
			Protocol: "UDP", Nameserver: "n1", Region: "r1", Resolver: netip.PrefixFrom(testClient, 24).Masked().String()},
		{Time: now, HostedZoneID: "ZLOG", QueryName: "nope.logged.example.", QueryType: "AAAA", ResponseCode: "NXDOMAIN",
			Protocol: "TCP", Nameserver: "n1", Region: "r1", Resolver: "2001:db8:1234::/48", EDNSClientSubnet: "2001:db8:aaaa::/48"},
	}
	for i, w := range want {
		var got event.QueryLogEntry
		if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
			t.Fatal(err)
		}
		if got != w {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, got, w)
		}
	}

	// Logging off by an event: nothing more is queued.
	if _, err := s.Apply(event.ZoneEvent{Kind: event.ZoneUpdated, ZoneID: "ZLOG", ZoneName: "logged.example.",
		FromVersion: logged.Version, ToVersion: logged.Version + 1, QueryLogging: &zonecfg.QueryLogging{}}); err != nil {
		t.Fatal(err)
	}
	h.ServeWire(nil, packQuery(t, "logged.example.", dns.TypeSOA), testClient, false)
	if st := ql.Stats(); st.Queued != 4 || st.Dropped != 4 {
		t.Fatalf("after logging off: %+v", st)
	}
}

func TestLogPrefix(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.77/32":       "192.0.2.0/24",
		"192.0.2.77/20":       "192.0.0.0/20",
		"::ffff:10.1.2.3/128": "10.1.2.0/24",
		"2001:db8::1/128":     "2001:db8::/48",
		"2001:db8::/32":       "2001:db8::/32",
		"0.0.0.0/0":           "0.0.0.0/0",
	} {
		if got := logPrefix(netip.MustParsePrefix(in)); got != want {
			t.Errorf("logPrefix(%s) = %s, want %s", in, got, want)
		}
	}
	if got := logPrefix(netip.Prefix{}); got != "" {
		t.Errorf("logPrefix(invalid) = %q", got)
	}
}

// TestQueryLogOffNoAllocation: a zone without logging costs its answers
// nothing with a query log configured.
func TestQueryLogOffNoAllocation(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector (sync.Pool drops items)")
	}
	s := NewStore()
	if err := s.ReplaceZone(benchZone("Z1", "bench.example.", 10)); err != nil {
		t.Fatal(err)
	}
	h := NewHandler(s)
	h.SetQueryLog(NewQueryLog(QueryLogConfig{Publish: func(string, []byte, int) error { return nil }}))
	h.SetReady(true)
	q := packQuery(t, "h1.bench.example.", dns.TypeA)
	out := make([]byte, 0, 512)
	if a := testing.AllocsPerRun(200, func() { out = h.ServeWire(out, q, testClient, false) }); a != 0 {
		t.Errorf("%v allocations per query", a)
	}
}
