package e2e

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/waymark-dns/waymark/controlplane"
)

// TestIntegrationServingThroughOutages takes NATS away for a while and
// the control plane's API with it: nameservers keep answering from memory,
// changes committed meanwhile wait in the outbox (PENDING), and everything
// converges once NATS is back, without anyone's help.
func TestIntegrationServingThroughOutages(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterConfig{})
	c.startNameserver("ns1", "eu", t.TempDir())
	c.startNameserver("ns2", "us", t.TempDir())
	z, create := c.createZone("outage.com.")
	c.waitInSync(create, 20*time.Second)
	c.waitInSync(c.upsertA(z.ID, "www.outage.com.", "192.0.2.1"), 20*time.Second)

	port := c.nats.Addr().(*net.TCPAddr).Port
	storeDir := c.nats.StoreDir()
	c.nats.Shutdown()
	c.nats.WaitForShutdown()
	c.apiOff.Store(true)

	var pending []controlplane.ChangeInfo
	for i := range 5 {
		pending = append(pending, c.upsertA(z.ID, fmt.Sprintf("n%d.outage.com.", i), "192.0.2.2"))
	}
	// Through the outage, for a while: every nameserver still answers
	// what it had, and the new changes are not INSYNC.
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); {
		for _, ns := range c.nameservers() {
			ips, err := answersA(ns, "www.outage.com.")
			if err != nil || len(ips) != 1 || ips[0] != "192.0.2.1" {
				t.Fatalf("%s during the outage: got %v, %v, want 192.0.2.1", ns.id, ips, err)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, ch := range pending {
		got, err := c.svc.WaitChange(t.Context(), c.tenant, ch.ID, 0)
		if err != nil || got.Status != controlplane.StatusPending || got.StreamSeq != nil {
			t.Fatalf("change during the outage: got %+v, %v, want PENDING and unpublished", got, err)
		}
	}

	// NATS comes back on the same port with the same storage; the API a
	// little later.
	ns, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: storeDir, NoLog: true, NoSigs: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS did not come back")
	}
	for _, ch := range pending {
		c.waitInSync(ch, 30*time.Second)
	}
	c.apiOff.Store(false)
	for i := range 5 {
		c.waitAnswer(fmt.Sprintf("n%d.outage.com.", i), "192.0.2.2", 5*time.Second)
	}
}
