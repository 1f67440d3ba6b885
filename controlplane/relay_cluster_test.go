package controlplane

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/natstest"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/internal/testkit"
)

// clusterNode is a pretend nameserver on a NATS cluster: it consumes the
// zone stream in order, counts what it applies, checks that each zone's
// versions follow one another (no duplicate, no gap, no reordering) and
// reports its applied sequence in heartbeats, as a real node does.
type clusterNode struct {
	mu      sync.Mutex
	applied uint64
	events  int
	last    map[string]int64
	errs    []string
}

func runClusterNode(t *testing.T, nc *nats.Conn, js jetstream.JetStream) *clusterNode {
	t.Helper()
	n := &clusterNode{last: map[string]int64{}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		// The stream may not exist yet, and its leader moves: re-open the
		// consumer from the next sequence whenever it fails.
		for ctx.Err() == nil {
			st, err := js.Stream(ctx, event.StreamName)
			if err != nil {
				retrySleep(ctx, 50*time.Millisecond)
				continue
			}
			n.mu.Lock()
			from := n.applied + 1
			n.mu.Unlock()
			c, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
				DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: from})
			if err != nil {
				retrySleep(ctx, 50*time.Millisecond)
				continue
			}
			cc, err := c.Consume(func(m jetstream.Msg) { n.apply(m) })
			if err != nil {
				retrySleep(ctx, 50*time.Millisecond)
				continue
			}
			<-ctx.Done()
			cc.Stop()
		}
	}()
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			n.mu.Lock()
			hb := event.Heartbeat{NodeID: "ns-a", Region: "r1", AppliedSeq: n.applied, Ready: true, Sent: time.Now()}
			n.mu.Unlock()
			b, _ := hb.Encode()
			_ = nc.Publish(event.HeartbeatSubject, b)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return n
}

func retrySleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func (n *clusterNode) apply(m jetstream.Msg) {
	md, err := m.Metadata()
	if err != nil {
		return
	}
	ev, err := event.DecodeZoneEvent(m.Data())
	n.mu.Lock()
	defer n.mu.Unlock()
	if md.Sequence.Stream <= n.applied {
		return // redelivered after a consumer reset: already applied
	}
	n.applied = md.Sequence.Stream
	if err != nil {
		n.errs = append(n.errs, fmt.Sprintf("seq %d: %v", md.Sequence.Stream, err))
		return
	}
	if ev.FromVersion != n.last[ev.ZoneID] {
		n.errs = append(n.errs, fmt.Sprintf("zone %s: event %d->%d after version %d",
			ev.ZoneID, ev.FromVersion, ev.ToVersion, n.last[ev.ZoneID]))
	}
	n.last[ev.ZoneID] = ev.ToVersion
	n.events++
}

// TestIntegrationRelayClusterLosesStreamLeaderAndRelay runs the relay on
// a three-node JetStream cluster with the stream at three replicas, and
// in the middle of a stream of changes kills the node leading the zone
// stream and, at the same moment, the relay that leads: the other relay
// takes over on the two surviving nodes. Every change must be published
// exactly once, in order, applied by the nameserver and INSYNC.
func TestIntegrationRelayClusterLosesStreamLeaderAndRelay(t *testing.T) {
	t.Parallel()
	cl := natstest.RunCluster(t, 3)
	pool, _ := pgtest.Schema(t)
	s, err := New(pool, Config{MasterKey: []byte(strings.Repeat("m", 32)), JWTKey: []byte(strings.Repeat("j", 32))})
	if err != nil {
		t.Fatal(err)
	}
	e := &propEnv{svc: s, tenant: "TCLU"}
	if _, err := pool.Exec(context.Background(), `INSERT INTO tenant (id, name) VALUES ($1, $1)`, e.tenant); err != nil {
		t.Fatal(err)
	}
	connect := func(url string) (*nats.Conn, jetstream.JetStream) {
		nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
		if err != nil {
			t.Fatalf("nats connect: %v", err)
		}
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		return nc, js
	}
	var mu sync.Mutex
	leader := map[int]bool{}
	onLeader := func(i int) func(bool) { return func(b bool) { mu.Lock(); leader[i] = b; mu.Unlock() } }
	isLeader := func(i int) bool { mu.Lock(); defer mu.Unlock(); return leader[i] }
	cfg := func(i int) RelayConfig {
		return RelayConfig{Replicas: 3, Tick: 20 * time.Millisecond, AckWait: time.Second, BatchSize: 32, OnLeader: onLeader(i)}
	}

	nc1, js1 := connect(cl.ClientURLs())
	kill1 := runRelay(t, e, js1, cfg(1))
	testkit.Eventually(t, 10*time.Second, func() error {
		if !isLeader(1) {
			return fmt.Errorf("relay 1 does not lead")
		}
		return nil
	})
	_, js2 := connect(cl.ClientURLs())
	runRelay(t, e, js2, cfg(2))
	trNC, _ := connect(cl.ClientURLs())
	ctx, cancel := context.WithCancel(context.Background())
	tr := NewTracker(pool, trNC, TrackerConfig{LiveTimeout: 2 * time.Second})
	trDone := make(chan struct{})
	go func() { defer close(trDone); _ = tr.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-trDone })
	nsNC, nsJS := connect(cl.ClientURLs())
	node := runClusterNode(t, nsNC, nsJS)

	const zones, changes, killAt = 3, 300, 100
	for z := range zones {
		e.createZone(t, fmt.Sprintf("ZCL%d", z), fmt.Sprintf("cl%d.test.", z))
	}
	var ids []string
	var killed string
	for i := range changes {
		if i == killAt {
			waitPublished(t, e) // the stream exists and has a leader
			sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
			st, err := js2.Stream(sctx, event.StreamName)
			if err != nil {
				scancel()
				t.Fatal(err)
			}
			info, err := st.Info(sctx)
			scancel()
			if err != nil {
				t.Fatal(err)
			}
			if info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
				t.Fatalf("zone stream: replicas %d, cluster %+v, want 3 replicas", info.Config.Replicas, info.Cluster)
			}
			killed = info.Cluster.Leader
			cl.Named(killed).Shutdown() // the node leading the stream, not restarted
			kill1()                     // and the leading relay's process
			nc1.Close()
		}
		c := e.upsert(t, fmt.Sprintf("ZCL%d", i%zones), fmt.Sprintf("h%d.cl%d.test.", i, i%zones), "192.0.2.1")
		ids = append(ids, c.ID)
	}
	testkit.Eventually(t, 60*time.Second, func() error {
		n, err := e.unpublished(ctx)
		if err == nil && n > 0 {
			err = fmt.Errorf("%d outbox rows unpublished", n)
		}
		return err
	})
	if !isLeader(2) {
		t.Fatal("relay 2 does not lead after relay 1 died")
	}
	checkStream(t, e, js2, zones+changes) // exactly once, in order, sequences recorded
	testkit.Eventually(t, 30*time.Second, func() error {
		var pending int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM change WHERE status <> 'INSYNC'`).Scan(&pending); err != nil {
			return err
		}
		if pending > 0 {
			return fmt.Errorf("%d changes not INSYNC", pending)
		}
		return nil
	})
	node.mu.Lock()
	defer node.mu.Unlock()
	if len(node.errs) > 0 {
		t.Fatalf("nameserver saw: %s", strings.Join(node.errs, "; "))
	}
	t.Logf("killed stream leader %s and relay 1 at change %d: acknowledged %d, applied %d, lost %d, duplicated 0 (checkStream: each zone:version once, in order)",
		killed, killAt, len(ids)+zones, node.events, len(ids)+zones-node.events)
	if node.events != zones+changes {
		t.Fatalf("nameserver applied %d events, want %d", node.events, zones+changes)
	}
}

// TestIntegrationRelayLostAcksExpire checks the relay's own JetStream
// context: a publish whose ack never comes (here a subscriber that
// swallows it, as a stream leader that died after receiving it would) must
// fail after the ack wait and leave the pending set, or enough of them
// would stall every later publish (ErrTooManyStalledMsgs).
func TestIntegrationRelayLostAcksExpire(t *testing.T) {
	t.Parallel()
	srv := natstest.Run(t)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	sub, err := nc.SubscribeSync("swallowed.>")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRelay(nil, js, RelayConfig{AckWait: 200 * time.Millisecond, BatchSize: 4})
	var futures []jetstream.PubAckFuture
	for i := range 8 {
		f, err := r.js.PublishMsgAsync(&nats.Msg{Subject: fmt.Sprintf("swallowed.%d", i), Data: []byte("x")})
		if err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		futures = append(futures, f)
	}
	for i, f := range futures {
		select {
		case <-f.Ok():
			t.Fatalf("publish %d acknowledged by nobody", i)
		case err := <-f.Err():
			if !errors.Is(err, jetstream.ErrAsyncPublishTimeout) {
				t.Fatalf("publish %d: got %v, want ErrAsyncPublishTimeout", i, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("publish %d: still pending after 5 s: lost acks never expire", i)
		}
	}
	if n := r.js.PublishAsyncPending(); n != 0 {
		t.Fatalf("%d publishes still pending after their acks expired", n)
	}
}
