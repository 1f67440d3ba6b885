package dataplane

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// ask sends one query through a ready handler over store and returns the
// parsed response.
func ask(t testing.TB, h *Handler, name string, qtype uint16) *dns.Msg {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	b, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	resp := h.ServeWire(nil, b, testClient, false)
	m := new(dns.Msg)
	if err := m.Unpack(resp); err != nil {
		t.Fatalf("%s %s: bad response: %v", name, dns.TypeToString[qtype], err)
	}
	return m
}

func readyHandler(s *Store) *Handler {
	h := NewHandler(s)
	h.SetReady(true)
	return h
}

func soaSet(zone string) zonecfg.RRSet {
	return zonecfg.RRSet{Name: zone, Type: "SOA", TTL: 900,
		Records: []string{"ns1." + zone + " hostmaster." + zone + " 1 7200 900 1209600 60"}}
}

func aSet(name string, ttl uint32, ips ...string) zonecfg.RRSet {
	return zonecfg.RRSet{Name: name, Type: "A", TTL: ttl, Records: ips}
}

func createEvent(id, name string, version int64, sets ...zonecfg.RRSet) event.ZoneEvent {
	return event.ZoneEvent{Kind: event.ZoneCreated, ZoneID: id, ZoneName: name, TenantID: "T1",
		ToVersion: version, Upserts: append([]zonecfg.RRSet{soaSet(name)}, sets...)}
}

func updateEvent(id string, from, to int64, deletes []zonecfg.Key, upserts ...zonecfg.RRSet) event.ZoneEvent {
	return event.ZoneEvent{Kind: event.ZoneUpdated, ZoneID: id, FromVersion: from, ToVersion: to,
		Deletes: deletes, Upserts: upserts}
}

func TestStoreApply(t *testing.T) {
	t.Parallel()
	s := NewStore()
	h := readyHandler(s)
	steps := []struct {
		name string
		ev   event.ZoneEvent
		want ApplyResult
	}{
		{"update-unknown-zone", updateEvent("Z1", 1, 2, nil, aSet("www.example.net.", 60, "192.0.2.1")), UnknownZone},
		{"create", createEvent("Z1", "example.net.", 1, aSet("www.example.net.", 60, "192.0.2.1")), Applied},
		{"create-again", createEvent("Z1", "example.net.", 1), AlreadyApplied},
		{"update", updateEvent("Z1", 1, 2, nil, aSet("www.example.net.", 60, "192.0.2.2")), Applied},
		{"update-replayed", updateEvent("Z1", 1, 2, nil, aSet("www.example.net.", 60, "192.0.2.9")), AlreadyApplied},
		{"update-older", updateEvent("Z1", 0, 1, nil), AlreadyApplied},
		{"update-gap", updateEvent("Z1", 3, 4, nil, aSet("www.example.net.", 60, "192.0.2.4")), Gap},
		{"update-next", updateEvent("Z1", 2, 3, []zonecfg.Key{{Name: "www.example.net.", Type: "A"}},
			aSet("new.example.net.", 60, "192.0.2.3")), Applied},
		{"delete", event.ZoneEvent{Kind: event.ZoneDeleted, ZoneID: "Z1", FromVersion: 3, ToVersion: 4}, Applied},
		{"delete-again", event.ZoneEvent{Kind: event.ZoneDeleted, ZoneID: "Z1", FromVersion: 3, ToVersion: 4}, AlreadyApplied},
	}
	for _, st := range steps {
		got, err := s.Apply(st.ev)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got != st.want {
			t.Fatalf("%s: got %v, want %v", st.name, got, st.want)
		}
		switch st.name {
		case "update":
			if v, _ := s.Version("Z1"); v != 2 {
				t.Errorf("%s: version %d, want 2", st.name, v)
			}
			m := ask(t, h, "www.example.net.", dns.TypeA)
			if len(m.Answer) != 1 || m.Answer[0].(*dns.A).A.String() != "192.0.2.2" {
				t.Errorf("%s: got %v, want 192.0.2.2", st.name, m.Answer)
			}
			m = ask(t, h, "example.net.", dns.TypeSOA)
			if soa := m.Answer[0].(*dns.SOA); soa.Serial != 2 {
				t.Errorf("%s: SOA serial %d, want the version 2", st.name, soa.Serial)
			}
		case "update-next":
			if m := ask(t, h, "www.example.net.", dns.TypeA); m.Rcode != dns.RcodeNameError {
				t.Errorf("%s: deleted name: rcode %s, want NXDOMAIN", st.name, dns.RcodeToString[m.Rcode])
			}
			if m := ask(t, h, "new.example.net.", dns.TypeA); len(m.Answer) != 1 {
				t.Errorf("%s: new name: got %v", st.name, m.Answer)
			}
		case "delete":
			if m := ask(t, h, "new.example.net.", dns.TypeA); m.Rcode != dns.RcodeRefused {
				t.Errorf("%s: rcode %s, want REFUSED", st.name, dns.RcodeToString[m.Rcode])
			}
			if _, ok := s.Version("Z1"); ok || s.Len() != 0 {
				t.Errorf("%s: zone still held", st.name)
			}
		}
	}
}

func TestStoreEmptyNonTerminalsComeAndGo(t *testing.T) {
	t.Parallel()
	s := NewStore()
	h := readyHandler(s)
	mustApply(t, s, createEvent("Z1", "example.net.", 1, aSet("a.b.c.example.net.", 60, "192.0.2.1"), aSet("x.c.example.net.", 60, "192.0.2.2")))
	wantRcode := func(name string, rcode int) {
		t.Helper()
		if m := ask(t, h, name, dns.TypeA); m.Rcode != rcode {
			t.Errorf("%s: rcode %s, want %s", name, dns.RcodeToString[m.Rcode], dns.RcodeToString[rcode])
		}
	}
	wantRcode("b.c.example.net.", dns.RcodeSuccess)
	wantRcode("c.example.net.", dns.RcodeSuccess)
	mustApply(t, s, updateEvent("Z1", 1, 2, []zonecfg.Key{{Name: "a.b.c.example.net.", Type: "A"}}))
	wantRcode("a.b.c.example.net.", dns.RcodeNameError)
	wantRcode("b.c.example.net.", dns.RcodeNameError) // pruned
	wantRcode("c.example.net.", dns.RcodeSuccess)     // still above x
	mustApply(t, s, updateEvent("Z1", 2, 3, []zonecfg.Key{{Name: "x.c.example.net.", Type: "A"}}))
	wantRcode("c.example.net.", dns.RcodeNameError)
	z := s.load().view(0).find(mustWire(t, "example.net."))
	if n := z.names.len(); n != 1 {
		t.Errorf("names left: %d, want only the apex", n)
	}
}

func mustApply(t testing.TB, s *Store, ev event.ZoneEvent) {
	t.Helper()
	if r, err := s.Apply(ev); err != nil || r != Applied {
		t.Fatalf("Apply(%s %s): %v, %v", ev.Kind, ev.ZoneID, r, err)
	}
}

func mustWire(t testing.TB, name string) string {
	t.Helper()
	w, err := wireName(name)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestStoreZoneStateRoundTrip(t *testing.T) {
	t.Parallel()
	s := testStore(t)
	for _, want := range testZones(t) {
		got, ok := s.ZoneState(want.ID)
		if !ok {
			t.Fatalf("ZoneState(%s) not found", want.ID)
		}
		if got.Name != want.Name || got.Version != want.Version || got.TenantID != want.TenantID {
			t.Errorf("%s: got %s v%d %s", want.ID, got.Name, got.Version, got.TenantID)
		}
		// Rebuilding from the state gives the same answers and state.
		s2 := NewStore()
		if err := s2.ReplaceZone(got); err != nil {
			t.Fatal(err)
		}
		again, _ := s2.ZoneState(want.ID)
		if fmt.Sprint(again) != fmt.Sprint(got) {
			t.Errorf("%s: state changes on a round trip:\n%v\n%v", want.ID, got, again)
		}
		if len(got.RRSets) != len(want.RRSets) {
			t.Errorf("%s: %d record sets, want %d", want.ID, len(got.RRSets), len(want.RRSets))
		}
	}
	if ids := s.ZoneIDs(); len(ids) != len(testZones(t)) || !slices.IsSorted(ids) || s.Len() != len(ids) {
		t.Errorf("ZoneIDs() = %v, Len() = %d", ids, s.Len())
	}
}

func TestStoreSkipsInvalidRecordSets(t *testing.T) {
	t.Parallel()
	s := NewStore()
	err := s.ReplaceZone(event.ZoneState{ID: "Z1", Name: "example.net.", Version: 3, RRSets: []zonecfg.RRSet{
		soaSet("example.net."),
		aSet("ok.example.net.", 60, "192.0.2.1"),
		aSet("bad.example.net.", 60, "not-an-address"),
		aSet("www.elsewhere.org.", 60, "192.0.2.1"),
	}})
	if !errors.Is(err, ErrSkippedRecords) {
		t.Fatalf("got %v, want ErrSkippedRecords", err)
	}
	h := readyHandler(s)
	if m := ask(t, h, "ok.example.net.", dns.TypeA); len(m.Answer) != 1 {
		t.Errorf("valid record set not served: %v", m)
	}
	if err := s.ReplaceZone(event.ZoneState{ID: "Z2", Name: "bad..name"}); err == nil || errors.Is(err, ErrSkippedRecords) {
		t.Errorf("bad zone name: got %v", err)
	}
	if s.Len() != 1 {
		t.Errorf("Len() = %d, want 1", s.Len())
	}
}

func TestStoreSameNameSmallestIDServes(t *testing.T) {
	t.Parallel()
	s := NewStore()
	h := readyHandler(s)
	mustApply(t, s, createEvent("Zb", "example.net.", 1, aSet("www.example.net.", 60, "192.0.2.2")))
	mustApply(t, s, createEvent("Za", "example.net.", 1, aSet("www.example.net.", 60, "192.0.2.1")))
	got := func() string {
		m := ask(t, h, "www.example.net.", dns.TypeA)
		if len(m.Answer) != 1 {
			return fmt.Sprint(m.Rcode)
		}
		return m.Answer[0].(*dns.A).A.String()
	}
	if g := got(); g != "192.0.2.1" {
		t.Errorf("got %s, want Za's 192.0.2.1", g)
	}
	s.RemoveZone("Za")
	if g := got(); g != "192.0.2.2" {
		t.Errorf("after removing Za: got %s, want Zb's 192.0.2.2", g)
	}
}

// TestStoreLargeZoneUpdatesShareShards checks that an update to a large
// zone copies only the shards it touches, and that growth by events
// re-shards.
func TestStoreLargeZoneUpdatesShareShards(t *testing.T) {
	t.Parallel()
	s := NewStore()
	const n = 20000
	sets := make([]zonecfg.RRSet, 0, n)
	for i := range n {
		sets = append(sets, aSet(fmt.Sprintf("h%d.example.net.", i), 60, "192.0.2.1"))
	}
	mustApply(t, s, createEvent("Z1", "example.net.", 1, sets...))
	before := s.load().view(0).find(mustWire(t, "example.net."))
	mustApply(t, s, updateEvent("Z1", 1, 2, nil, aSet("h5.example.net.", 60, "192.0.2.5")))
	after := s.load().view(0).find(mustWire(t, "example.net."))
	if len(before.names.shards) < 8 {
		t.Fatalf("only %d shards for %d names", len(before.names.shards), n)
	}
	shared := 0
	for i := range before.names.shards {
		if fmt.Sprintf("%p", before.names.shards[i]) == fmt.Sprintf("%p", after.names.shards[i]) {
			shared++
		}
	}
	// The apex (SOA serial) and h5 changed: at most two shards copied.
	if shared < len(before.names.shards)-2 {
		t.Errorf("%d of %d shards shared after a one-record update", shared, len(before.names.shards))
	}
	// Grow a one-shard zone by events: it must re-shard on the way.
	mustApply(t, s, createEvent("Z2", "grow.example.", 1))
	v := int64(1)
	for i := 0; i < 5000; i += 100 {
		var up []zonecfg.RRSet
		for j := i; j < i+100; j++ {
			up = append(up, aSet(fmt.Sprintf("h%d.grow.example.", j), 60, "192.0.2.1"))
		}
		mustApply(t, s, updateEvent("Z2", v, v+1, nil, up...))
		v++
	}
	z := s.load().view(0).find(mustWire(t, "grow.example."))
	if len(z.names.shards) < 2 || z.names.len() != 5001 {
		t.Errorf("grown zone: %d shards, %d names", len(z.names.shards), z.names.len())
	}
	h := readyHandler(s)
	if m := ask(t, h, "h4999.grow.example.", dns.TypeA); len(m.Answer) != 1 {
		t.Errorf("grown zone does not answer: %v", m)
	}
}

// TestStoreConcurrentQueriesAndSwaps runs queries while zones are replaced,
// updated and removed; run with -race.
func TestStoreConcurrentQueriesAndSwaps(t *testing.T) {
	t.Parallel()
	s := testStore(t)
	h := readyHandler(s)
	q := new(dns.Msg)
	q.SetQuestion("www.example.com.", dns.TypeA)
	wire, _ := q.Pack()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out []byte
			for {
				select {
				case <-stop:
					return
				default:
				}
				out = h.ServeWire(out, wire, testClient, false)
				m := new(dns.Msg)
				if err := m.Unpack(out); err != nil {
					t.Errorf("bad response: %v", err)
					return
				}
				if m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeRefused {
					t.Errorf("rcode %s", dns.RcodeToString[m.Rcode])
					return
				}
			}
		}()
	}
	zones := testZones(t)
	v := int64(testZoneVersion)
	for i := range 200 {
		switch i % 4 {
		case 0:
			mustApply(t, s, updateEvent(zones[0].ID, v, v+1, nil, aSet("www.example.com.", 60, fmt.Sprintf("192.0.2.%d", i%250))))
			v++
		case 1:
			s.RemoveZone(zones[1].ID)
		case 2:
			if err := s.ReplaceZone(zones[1]); err != nil {
				t.Fatal(err)
			}
		case 3:
			_, _ = s.ZoneState(zones[0].ID)
		}
	}
	close(stop)
	wg.Wait()
}

func TestStoreReplaceZones(t *testing.T) {
	t.Parallel()
	s := NewStore()
	states := testZones(t)
	states = append(states, event.ZoneState{ID: "Zbad", Name: "bad..name"})
	if err := s.ReplaceZones(states); err == nil {
		t.Error("no error for a zone with a bad name")
	}
	if want := len(states) - 1; s.Len() != want {
		t.Fatalf("Len() = %d, want %d", s.Len(), want)
	}
	h := readyHandler(s)
	for _, name := range []string{"www.example.com.", "www.sub.example.com.", "svc.other.test."} {
		if m := ask(t, h, name, dns.TypeA); len(m.Answer) != 1 && len(m.Answer) != 2 {
			t.Errorf("%s: got %v", name, m)
		}
	}
}

// TestStoreCutsAndWildcardsByEvents checks that delegations and wildcards
// added and removed by events take effect: the zone keeps counts of both
// to skip the searches when there are none.
func TestStoreCutsAndWildcardsByEvents(t *testing.T) {
	t.Parallel()
	s := NewStore()
	h := readyHandler(s)
	mustApply(t, s, createEvent("Z1", "example.net.", 1))
	check := func(step, name string, rcode int, aa bool, answers, ns int) {
		t.Helper()
		m := ask(t, h, name, dns.TypeA)
		if m.Rcode != rcode || m.Authoritative != aa || len(m.Answer) != answers || len(m.Ns) != ns {
			t.Errorf("%s: %s: got rcode %s aa %v answer %d authority %d, want %s %v %d %d", step, name,
				dns.RcodeToString[m.Rcode], m.Authoritative, len(m.Answer), len(m.Ns), dns.RcodeToString[rcode], aa, answers, ns)
		}
	}
	check("empty", "x.deleg.example.net.", dns.RcodeNameError, true, 0, 1)
	mustApply(t, s, updateEvent("Z1", 1, 2, nil,
		zonecfg.RRSet{Name: "deleg.example.net.", Type: "NS", TTL: 60, Records: []string{"ns.elsewhere.org."}},
		aSet("*.w.example.net.", 60, "192.0.2.9")))
	check("added", "x.deleg.example.net.", dns.RcodeSuccess, false, 0, 1)
	check("added", "x.w.example.net.", dns.RcodeSuccess, true, 1, 0)
	mustApply(t, s, updateEvent("Z1", 2, 3, []zonecfg.Key{
		{Name: "deleg.example.net.", Type: "NS"}, {Name: "*.w.example.net.", Type: "A"}}))
	check("removed", "x.deleg.example.net.", dns.RcodeNameError, true, 0, 1)
	check("removed", "x.w.example.net.", dns.RcodeNameError, true, 0, 1)
	z := s.load().view(0).find(mustWire(t, "example.net."))
	if z.cuts != 0 || z.wilds != 0 || z.records != 1 {
		t.Errorf("counts after removal: cuts %d, wildcards %d, records %d; want 0, 0, 1", z.cuts, z.wilds, z.records)
	}
}
