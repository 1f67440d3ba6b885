package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/testkit"
)

func TestIntegrationChangeReachesEveryRegion(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterConfig{})
	for i, region := range []string{"eu-west", "us-east", "ap-south"} {
		c.startNameserver(fmt.Sprintf("ns%d", i+1), region, t.TempDir())
	}
	z, create := c.createZone("example.com.")
	c.waitInSync(create, 20*time.Second)
	ch := c.upsertA(z.ID, "www.example.com.", "192.0.2.10")
	got := c.waitInSync(ch, 20*time.Second)
	if got.InSyncAt == nil || got.StreamSeq == nil || *got.StreamSeq != 2 {
		t.Fatalf("got %+v, want INSYNC at stream seq 2", got)
	}
	// INSYNC means every live nameserver answers with the change: no
	// polling needed here.
	for _, ns := range c.nameservers() {
		ips, err := answersA(ns, "www.example.com.")
		if err != nil || len(ips) != 1 || ips[0] != "192.0.2.10" {
			t.Fatalf("%s (%s): got %v, %v, want 192.0.2.10", ns.id, ns.region, ips, err)
		}
	}

	// The API: long poll and fleet counts, and the fleet list.
	ch2 := c.upsertA(z.ID, "www.example.com.", "192.0.2.11")
	var resp struct {
		Change struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"change"`
		Propagation struct {
			Live    int `json:"live_nameservers"`
			Applied int `json:"applied_nameservers"`
		} `json:"propagation"`
	}
	if code := c.apiGet("/v1/changes/"+ch2.ID+"?wait=insync&timeout=20s", c.token, &resp); code != http.StatusOK {
		t.Fatalf("GET change: status %d", code)
	}
	if resp.Change.ID != ch2.ID || resp.Change.Status != "INSYNC" || resp.Propagation.Live != 3 || resp.Propagation.Applied != 3 {
		t.Fatalf("GET change ?wait=insync: got %+v, want INSYNC on 3 of 3", resp)
	}
	if code := c.apiGet("/v1/changes/"+ch2.ID+"?wait=forever", c.token, nil); code != http.StatusBadRequest {
		t.Fatalf("bad wait: got status %d, want 400", code)
	}
	if code := c.apiGet("/v1/changes/"+ch2.ID+"?wait=insync&timeout=2h", c.token, nil); code != http.StatusBadRequest {
		t.Fatalf("too long a timeout: got status %d, want 400", code)
	}
	var fleet struct {
		Nameservers []struct {
			NodeID     string `json:"node_id"`
			Region     string `json:"region"`
			AppliedSeq uint64 `json:"applied_seq"`
			Live       bool   `json:"live"`
		} `json:"nameservers"`
	}
	if code := c.apiGet("/v1/nameservers", adminToken, &fleet); code != http.StatusOK {
		t.Fatalf("GET /v1/nameservers: status %d", code)
	}
	if len(fleet.Nameservers) != 3 {
		t.Fatalf("got %d nameservers, want 3", len(fleet.Nameservers))
	}
	for _, n := range fleet.Nameservers {
		if !n.Live || n.AppliedSeq < 3 {
			t.Fatalf("nameserver %+v: want live with seq >= 3", n)
		}
	}
	// Fleet endpoints are for the operator only.
	if code := c.apiGet("/v1/nameservers", c.token, nil); code != http.StatusUnauthorized && code != http.StatusForbidden {
		t.Fatalf("tenant token on /v1/nameservers: got status %d, want 401 or 403", code)
	}
	if code := c.apiGet("/v1/nameserver/snapshot", c.token, nil); code != http.StatusUnauthorized && code != http.StatusForbidden {
		t.Fatalf("tenant token on the snapshot: got status %d, want 401 or 403", code)
	}
	if code := c.apiGet("/v1/nameserver/zones/ZNOSUCHZONE", adminToken, nil); code != http.StatusNotFound {
		t.Fatalf("missing zone snapshot: got status %d, want 404", code)
	}
}

func TestIntegrationNameserverRestartConverges(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterConfig{})
	dir := t.TempDir()
	ns1 := c.startNameserver("ns1", "eu", dir)
	c.startNameserver("ns2", "us", t.TempDir())
	z, create := c.createZone("restart.com.")
	c.waitInSync(create, 20*time.Second)
	c.waitInSync(c.upsertA(z.ID, "a.restart.com.", "192.0.2.1"), 20*time.Second)

	// Killed and restarted while the control plane is up.
	ns1.stop()
	ch := c.upsertA(z.ID, "a.restart.com.", "192.0.2.2")
	// A stopped nameserver says so: the change does not wait for it.
	c.waitInSync(ch, 20*time.Second)
	ns1 = c.startNameserver("ns1", "eu", dir)
	c.waitAnswer("a.restart.com.", "192.0.2.2", 20*time.Second, ns1)

	// Killed, and restarted while the control plane is down: it starts
	// from its cache and catches up from the stream.
	ns1.stop()
	c.apiOff.Store(true)
	c.upsertA(z.ID, "a.restart.com.", "192.0.2.3")
	ns1 = c.startNameserver("ns1", "eu", dir)
	c.waitAnswer("a.restart.com.", "192.0.2.3", 20*time.Second, ns1)
	c.apiOff.Store(false)
	ch = c.upsertA(z.ID, "b.restart.com.", "192.0.2.4")
	c.waitInSync(ch, 20*time.Second)
	c.waitAnswer("b.restart.com.", "192.0.2.4", 5*time.Second)
}

func TestIntegrationNATSRestartLosesNothing(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterConfig{})
	for i := range 3 {
		c.startNameserver(fmt.Sprintf("ns%d", i+1), fmt.Sprintf("r%d", i+1), t.TempDir())
	}
	z, create := c.createZone("natsrestart.com.")
	c.waitInSync(create, 20*time.Second)

	var (
		mu      sync.Mutex
		changes []controlplane.ChangeInfo
	)
	writer := make(chan struct{})
	go func() {
		defer close(writer)
		for i := range 60 {
			ch := c.upsertA(z.ID, fmt.Sprintf("h%d.natsrestart.com.", i), fmt.Sprintf("192.0.2.%d", i+1))
			mu.Lock()
			changes = append(changes, ch)
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	// Restart mid-stream, once some changes are through.
	testkit.Eventually(t, 20*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(changes) < 20 {
			return fmt.Errorf("%d changes so far", len(changes))
		}
		return nil
	})
	c.nats = c.nats.Restart(t)
	<-writer
	for _, ch := range changes {
		c.waitInSync(ch, 30*time.Second)
	}
	for i := range 60 {
		c.waitAnswer(fmt.Sprintf("h%d.natsrestart.com.", i), fmt.Sprintf("192.0.2.%d", i+1), 5*time.Second)
	}
	for _, ns := range c.nameservers() {
		if v, _ := ns.node.Store().Version(z.ID); v != 61 {
			t.Fatalf("%s holds version %d, want 61", ns.id, v)
		}
	}
}

func TestIntegrationDeadNameserverStopsBlocking(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterConfig{LiveTimeout: 3 * time.Second})
	c.startNameserver("ns1", "eu", t.TempDir())
	z, create := c.createZone("dead.com.")
	c.waitInSync(create, 20*time.Second)

	// A nameserver that reported once, ready but behind, and then died
	// without a word (no graceful shutdown heartbeat).
	nc := c.connect()
	b, _ := event.Heartbeat{NodeID: "ghost", Region: "gone", AppliedSeq: 0, Ready: true, Sent: time.Now()}.Encode()
	if err := nc.Publish(event.HeartbeatSubject, b); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	testkit.Eventually(t, 5*time.Second, func() error {
		_, p, err := c.svc.ChangeProgress(ctx, c.tenant, create.ID)
		if err == nil && p.Live != 2 {
			err = fmt.Errorf("%d live nameservers, want ns1 and the ghost", p.Live)
		}
		return err
	})
	ch := c.upsertA(z.ID, "www.dead.com.", "192.0.2.1")
	// While the ghost counts as live, the change waits for it: ns1 has it,
	// the ghost does not.
	testkit.Eventually(t, 5*time.Second, func() error {
		info, p, err := c.svc.ChangeProgress(ctx, c.tenant, ch.ID)
		if err == nil && (p != controlplane.Progress{Live: 2, Applied: 1} || info.Status != controlplane.StatusPending) {
			err = fmt.Errorf("got %s with %+v, want PENDING with 1 of 2 applied", info.Status, p)
		}
		return err
	})
	got := c.waitInSync(ch, 20*time.Second)
	if got.Status != controlplane.StatusInSync {
		t.Fatalf("got %s, want INSYNC once the ghost is no longer live", got.Status)
	}
	// The fleet list shows the ghost dead and behind.
	list, err := c.svc.ListNameservers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range list {
		if n.NodeID == "ghost" && (n.Live || n.Lag == 0) {
			t.Fatalf("ghost: got %+v, want dead and lagging", n)
		}
	}
}

func TestIntegrationDuplicateEventsAreHarmless(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterConfig{})
	c.startNameserver("ns1", "eu", t.TempDir())
	c.startNameserver("ns2", "us", t.TempDir())
	z, create := c.createZone("dup.com.")
	c.waitInSync(create, 20*time.Second)
	var last controlplane.ChangeInfo
	for i := range 5 {
		last = c.upsertA(z.ID, "www.dup.com.", fmt.Sprintf("192.0.2.%d", i+1))
	}
	c.waitInSync(last, 20*time.Second)

	// Re-publish every event of the stream under fresh message ids, as a
	// relay would after the duplicate window, and also a second relay.
	js := c.jetstream()
	ctx := context.Background()
	st, err := js.Stream(ctx, event.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(6, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range batch.Messages() {
		msg := nats.NewMsg(m.Subject())
		msg.Data = m.Data()
		msg.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("replay-%d", n))
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 6 {
		t.Fatalf("replayed %d events, want 6", n)
	}
	c.startRelay("relay-2")
	ch := c.upsertA(z.ID, "www.dup.com.", "192.0.2.99")
	c.waitInSync(ch, 20*time.Second)
	c.waitAnswer("www.dup.com.", "192.0.2.99", 5*time.Second)
	want, err := c.svc.ZoneSnapshot(ctx, z.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range c.nameservers() {
		got, ok := ns.node.Store().ZoneState(z.ID)
		if !ok || got.Version != want.Version || len(got.RRSets) != len(want.RRSets) {
			t.Fatalf("%s holds %+v, want %+v", ns.id, got, want)
		}
	}
}

func TestIntegrationConcurrentBatchesOneZone(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterConfig{})
	c.startNameserver("ns1", "eu", t.TempDir())
	c.startNameserver("ns2", "us", t.TempDir())
	c.startNameserver("ns3", "ap", t.TempDir())
	z, create := c.createZone("busy.com.")
	c.waitInSync(create, 20*time.Second)

	const n = 100
	changes := make([]controlplane.ChangeInfo, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			changes[i], errs[i] = c.svc.ChangeRRSets(context.Background(), c.tenant, z.ID, controlplane.ChangeBatch{
				Changes: []controlplane.RRSetChange{{Action: controlplane.ActionCreate,
					RRSet: rrA(fmt.Sprintf("h%d.busy.com.", i), fmt.Sprintf("198.51.100.%d", i+1))}},
			})
		})
	}
	wg.Wait()
	versions := map[int64]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("batch %d: %v", i, errs[i])
		}
		versions[changes[i].ZoneVersion] = true
	}
	// A serial order: each batch got its own version, 2..101.
	for v := int64(2); v <= n+1; v++ {
		if !versions[v] {
			t.Fatalf("no batch produced version %d", v)
		}
	}
	seqs := make([]int, 0, n)
	for _, ch := range changes {
		got := c.waitInSync(ch, 30*time.Second)
		seqs = append(seqs, int(*got.StreamSeq))
	}
	sort.Ints(seqs)
	for i := 1; i < len(seqs); i++ {
		if seqs[i] == seqs[i-1] {
			t.Fatalf("two changes share stream seq %d", seqs[i])
		}
	}
	// No lost update: every record on every nameserver.
	for _, ns := range c.nameservers() {
		st, ok := ns.node.Store().ZoneState(z.ID)
		if !ok || st.Version != n+1 || len(st.RRSets) != n+2 {
			t.Fatalf("%s: version %d with %d record sets, want %d with %d", ns.id, st.Version, len(st.RRSets), n+1, n+2)
		}
	}
	for i := range n {
		c.waitAnswer(fmt.Sprintf("h%d.busy.com.", i), fmt.Sprintf("198.51.100.%d", i+1), 5*time.Second)
	}
}

func TestIntegrationRelayFailoverEndToEnd(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterConfig{})
	c.startRelay("relay-2")
	c.startNameserver("ns1", "eu", t.TempDir())
	z, create := c.createZone("failover.com.")
	c.waitInSync(create, 20*time.Second)
	c.waitInSync(c.upsertA(z.ID, "www.failover.com.", "192.0.2.1"), 20*time.Second)
	// relay-1 started first and leads; stopping it hands over.
	c.stopRelay("relay-1")
	ch := c.upsertA(z.ID, "www.failover.com.", "192.0.2.2")
	c.waitInSync(ch, 20*time.Second)
	c.waitAnswer("www.failover.com.", "192.0.2.2", 5*time.Second)
	// And back: a new relay waits while relay-2 leads, and takes over.
	c.startRelay("relay-3")
	c.stopRelay("relay-2")
	ch = c.upsertA(z.ID, "www.failover.com.", "192.0.2.3")
	c.waitInSync(ch, 20*time.Second)
}
