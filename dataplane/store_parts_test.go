package dataplane

import (
	"testing"

	"github.com/miekg/dns"
)

// TestStoreServesSplitChangesWhole checks that the parts of a change split
// over several events become visible together, when the last one is
// applied, and not one by one.
func TestStoreServesSplitChangesWhole(t *testing.T) {
	t.Parallel()
	s := NewStore()
	h := readyHandler(s)
	if _, err := s.Apply(createEvent("Z1", "example.net.", 1, aSet("old.example.net.", 60, "192.0.2.1"))); err != nil {
		t.Fatal(err)
	}
	part1 := updateEvent("Z1", 1, 2, nil, aSet("a.example.net.", 60, "192.0.2.2"))
	part1.Continued = true
	part2 := updateEvent("Z1", 2, 3, nil, aSet("b.example.net.", 60, "192.0.2.3"))

	if got, err := s.Apply(part1); err != nil || got != Applied {
		t.Fatalf("part 1: got %v, %v; want Applied", got, err)
	}
	if v, _ := s.Version("Z1"); v != 2 {
		t.Errorf("after part 1: version %d, want 2 (the next part must follow on)", v)
	}
	if m := ask(t, h, "a.example.net.", dns.TypeA); m.Rcode != dns.RcodeNameError {
		t.Errorf("after part 1: a.example.net. answered %s with %v; want NXDOMAIN until the change is whole",
			dns.RcodeToString[m.Rcode], m.Answer)
	}
	if m := ask(t, h, "example.net.", dns.TypeSOA); len(m.Answer) != 1 || m.Answer[0].(*dns.SOA).Serial != 1 {
		t.Errorf("after part 1: SOA %v, want serial 1", m.Answer)
	}

	if got, err := s.Apply(part2); err != nil || got != Applied {
		t.Fatalf("part 2: got %v, %v; want Applied", got, err)
	}
	for _, name := range []string{"old.example.net.", "a.example.net.", "b.example.net."} {
		if m := ask(t, h, name, dns.TypeA); len(m.Answer) != 1 {
			t.Errorf("after the last part: %s answered %s %v", name, dns.RcodeToString[m.Rcode], m.Answer)
		}
	}
	if m := ask(t, h, "example.net.", dns.TypeSOA); len(m.Answer) != 1 || m.Answer[0].(*dns.SOA).Serial != 3 {
		t.Errorf("after the last part: SOA %v, want serial 3", m.Answer)
	}
}
