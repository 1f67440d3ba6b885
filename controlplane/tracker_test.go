package controlplane

import (
	"testing"
	"time"

	"github.com/waymark-dns/waymark/event"
)

// TestTrackerMayTurnInSync: which reports the tracker writes at once. A
// report that may be a change's last must never be judged one that can
// wait; the others wait (FlushInterval) for a write to share.
func TestTrackerMayTurnInSync(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	fresh, stale := now.Add(-time.Second), now.Add(-10*time.Second)
	hb := func(node string, applied uint64, ready bool, serves ...string) event.Heartbeat {
		return event.Heartbeat{NodeID: node, AppliedSeq: applied, Ready: ready, Serves: serves}
	}
	type known struct {
		hb event.Heartbeat
		at time.Time
	}
	for _, tc := range []struct {
		name  string
		known []known
		hb    event.Heartbeat
		want  bool
	}{
		{"a node never heard of", nil, hb("a", 5, true), true},
		{"the only node applies more", []known{{hb("a", 4, true), fresh}}, hb("a", 5, true), true},
		{"the laggard catches up", []known{{hb("a", 4, true), fresh}, {hb("b", 9, true), fresh}}, hb("a", 5, true), true},
		{"a node others still lag", []known{{hb("a", 4, true), fresh}, {hb("b", 2, true), fresh}}, hb("a", 5, true), false},
		{"tied with another at the old sequence", []known{{hb("a", 4, true), fresh}, {hb("b", 4, true), fresh}}, hb("a", 5, true), false},
		{"the lagging one is not ready", []known{{hb("a", 4, true), fresh}, {hb("b", 2, false), fresh}}, hb("a", 5, true), true},
		{"the lagging one is silent", []known{{hb("a", 4, true), fresh}, {hb("b", 2, true), stale}}, hb("a", 5, true), true},
		{"the lagging one serves some names only", []known{{hb("a", 4, true), fresh}, {hb("b", 2, true, "ns1."), fresh}}, hb("a", 5, true), true},
		{"a periodic heartbeat, nothing new", []known{{hb("a", 5, true), fresh}}, hb("a", 5, true), false},
		{"no longer ready", []known{{hb("a", 5, true), fresh}, {hb("b", 9, true), fresh}}, hb("a", 5, false), true},
		{"ready again", []known{{hb("a", 5, false), fresh}, {hb("b", 2, true), fresh}}, hb("a", 5, true), true},
		{"back after its liveness ran out", []known{{hb("a", 5, true), stale}, {hb("b", 2, true), fresh}}, hb("a", 5, true), true},
		{"serves other names now", []known{{hb("a", 5, true), fresh}, {hb("b", 2, true), fresh}}, hb("a", 5, true, "ns2."), true},
		{"not ready, applying", []known{{hb("a", 4, false), fresh}}, hb("a", 5, false), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker(nil, nil, TrackerConfig{LiveTimeout: 5 * time.Second, Now: func() time.Time { return now }})
			for _, k := range tc.known {
				tr.known[k.hb.NodeID] = heartbeatAt{Heartbeat: k.hb, received: k.at}
			}
			if got := tr.mayTurnInSync(tc.hb, now); got != tc.want {
				t.Errorf("mayTurnInSync = %v, want %v", got, tc.want)
			}
		})
	}
}
