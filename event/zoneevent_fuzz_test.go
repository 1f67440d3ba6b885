package event

import (
	"reflect"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/zonecfg"
)

// FuzzDecodeZoneEvent checks that decoding never panics and that an event
// accepted once is accepted again, unchanged, after a round trip: what the
// relay publishes is exactly what nameservers apply.
func FuzzDecodeZoneEvent(f *testing.F) {
	w := uint8(10)
	seed := ZoneEvent{Kind: ZoneUpdated, ZoneID: "Z1", ZoneName: "example.com.", TenantID: "T1",
		FromVersion: 1, ToVersion: 2, ChangeID: "C1", Continued: true,
		Deletes:   []zonecfg.Key{{Name: "old.example.com.", Type: "A"}},
		Upserts:   []zonecfg.RRSet{{Name: "www.example.com.", Type: "A", TTL: 60, Records: []string{"192.0.2.1"}, SetIdentifier: "a", Routing: zonecfg.Routing{Weight: &w}}},
		Committed: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)}
	b, err := seed.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"v":1,"kind":"zone.deleted","zone_id":"Z1","from_version":3,"to_version":3}`))
	f.Add([]byte(`{"v":2,"kind":"zone.created"}`))
	f.Add([]byte(`{"v":1,"kind":"zone.created","zone_id":"Z","zone_name":"a..b","to_version":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := DecodeZoneEvent(data)
		if err != nil {
			return
		}
		again, err := ev.Encode()
		if err != nil {
			t.Fatalf("encode a decoded event: %v", err)
		}
		ev2, err := DecodeZoneEvent(again)
		if err != nil {
			t.Fatalf("re-decode %s: %v", again, err)
		}
		ev.V, ev2.V = Version, Version
		if !reflect.DeepEqual(normalise(ev), normalise(ev2)) {
			t.Fatalf("round trip changed the event:\n%+v\n%+v", ev, ev2)
		}
	})
}

// normalise maps empty and nil slices alike and drops the monotonic clock,
// which JSON does not carry.
func normalise(e ZoneEvent) ZoneEvent {
	if len(e.Deletes) == 0 {
		e.Deletes = nil
	}
	if len(e.Upserts) == 0 {
		e.Upserts = nil
	}
	if len(e.CIDRCollections) == 0 {
		e.CIDRCollections = nil
	}
	e.Committed = e.Committed.Round(0)
	return e
}
