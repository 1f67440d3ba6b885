package controlplane

import (
	"context"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/zonecfg"
)

// TestIntegrationCommitWakesRelay checks that a change batch and a zone
// creation wake the relay once they commit: with the backstop tick an
// hour away, only the NOTIFY sent after the commit can get the events
// published.
func TestIntegrationCommitWakesRelay(t *testing.T) {
	t.Parallel()
	e := newPropEnv(t)
	_, js := e.connect(t)
	ctx := context.Background()

	// The relay LISTENs before it reports leadership; wait for that, so
	// that the NOTIFYs below have a listener.
	leader := make(chan bool, 1)
	runRelay(t, e, js, RelayConfig{Tick: time.Hour, OnLeader: func(b bool) {
		if b {
			leader <- b
		}
	}})
	select {
	case <-leader:
	case <-time.After(20 * time.Second):
		t.Fatal("the relay did not become the leader")
	}
	z, _, err := e.svc.CreateZone(ctx, e.tenant, CreateZoneInput{Name: "wake.example", CallerReference: "wake"})
	if err != nil {
		t.Fatal(err)
	}
	waitPublished(t, e)
	if _, err := e.svc.ChangeRRSets(ctx, e.tenant, z.ID, ChangeBatch{Changes: []RRSetChange{{
		Action: "UPSERT", RRSet: zonecfg.RRSet{Name: "www.wake.example.", Type: "A", TTL: 60, Records: []string{"192.0.2.1"}}}}}); err != nil {
		t.Fatal(err)
	}
	waitPublished(t, e)
}
