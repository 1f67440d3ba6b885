package controlplane

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/zonecfg"
)

// TestIntegrationCommitWakesRelay checks that a change batch and a zone
// creation wake the relay once they commit, over NATS and (for a Service
// without a NATS connection) with a NOTIFY: with the backstop tick an
// hour away, only the wake-up sent after the commit can get the events
// published.
func TestIntegrationCommitWakesRelay(t *testing.T) {
	t.Parallel()
	for _, overNATS := range []bool{true, false} {
		t.Run(map[bool]string{true: "nats", false: "notify"}[overNATS], func(t *testing.T) {
			t.Parallel()
			e := newPropEnv(t)
			nc, js := e.connect(t)
			if overNATS {
				e.svc.cfg.RelayWake = nc
			}
			ctx := context.Background()

			// The relay LISTENs and subscribes before its first read of
			// the outbox; wait for leadership, then for the zone's first
			// event, so that the wake-ups below have a listener.
			leader := make(chan bool, 1)
			natsWakes := make(chan struct{}, 100)
			r := NewRelay(e.svc.pool, js, RelayConfig{Tick: time.Hour, OnLeader: func(b bool) {
				if b {
					leader <- b
				}
			}})
			r.onNATSWake = func() { natsWakes <- struct{}{} }
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); _ = r.Run(rctx) }()
			t.Cleanup(func() { cancel(); <-done })
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
			for i := range 3 {
				for len(natsWakes) > 0 {
					<-natsWakes
				}
				if _, err := e.svc.ChangeRRSets(ctx, e.tenant, z.ID, ChangeBatch{Changes: []RRSetChange{{
					Action: "UPSERT", RRSet: zonecfg.RRSet{Name: "www.wake.example.", Type: "A", TTL: 60,
						Records: []string{fmt.Sprintf("192.0.2.%d", i+1)}}}}}); err != nil {
					t.Fatal(err)
				}
				waitPublished(t, e)
				// Other tests' NOTIFYs reach every relay LISTENing on the
				// database; a wake-up over NATS can only be this one's.
				// (It may arrive after such a NOTIFY did the work.)
				switch {
				case overNATS:
					select {
					case <-natsWakes:
					case <-time.After(5 * time.Second):
						t.Fatalf("change %d: no wake-up over NATS", i)
					}
				case len(natsWakes) > 0:
					t.Fatalf("change %d: woken over NATS by a Service without NATS", i)
				}
			}
		})
	}
}
