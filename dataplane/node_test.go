package dataplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/httpcomp"
	"github.com/waymark-dns/waymark/internal/natstest"
	"github.com/waymark-dns/waymark/internal/testkit"
	"github.com/waymark-dns/waymark/zonecfg"
)

// fakeCP plays the control plane for the node: it keeps zone states,
// publishes their events to the real stream, and serves the snapshot
// endpoints. The node's behaviour against the real control plane is
// covered in internal/e2e.
type fakeCP struct {
	t  *testing.T
	js jetstream.JetStream

	mu        sync.Mutex
	seq       uint64
	zones     map[string]event.ZoneState
	down      bool
	hits      int
	snapshots int // full snapshots served
}

func newFakeCP(t *testing.T, js jetstream.JetStream) (*fakeCP, *httptest.Server) {
	f := &fakeCP{t: t, js: js, zones: map[string]event.ZoneState{}}
	if _, err := js.CreateOrUpdateStream(context.Background(), event.ZoneStreamConfig(1)); err != nil {
		t.Fatalf("create stream: %v", err)
	}
	// Compressed as `waymark api` serves the nameserver endpoints.
	srv := httptest.NewServer(httpcomp.Prefix("/v1/nameserver/", f))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeCP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hits++
	if f.down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if r.Header.Get("Authorization") != "Bearer admin" {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	switch {
	case r.URL.Path == "/v1/nameserver/snapshot":
		f.snapshots++
		snap := event.Snapshot{Seq: f.seq, Zones: []event.ZoneState{}}
		for _, z := range f.zones {
			snap.Zones = append(snap.Zones, z)
		}
		_ = json.NewEncoder(w).Encode(snap)
	case strings.HasPrefix(r.URL.Path, "/v1/nameserver/zones/"):
		z, ok := f.zones[strings.TrimPrefix(r.URL.Path, "/v1/nameserver/zones/")]
		if !ok {
			http.Error(w, "no such zone", http.StatusNotFound)
			return
		}
		_ = json.NewEncoder(w).Encode(z)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeCP) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

func syncApex(name string, serial int64) []zonecfg.RRSet {
	return []zonecfg.RRSet{
		{Name: name, Type: "SOA", TTL: 900, Records: []string{fmt.Sprintf("ns1.waymark.test. hostmaster.waymark.test. %d 7200 900 1209600 86400", serial)}},
		{Name: name, Type: "NS", TTL: 172800, Records: []string{"ns1.waymark.test.", "ns2.waymark.test."}},
	}
}

// publish sends ev to the stream (with its real message id unless msgID is
// given) and returns its sequence.
func (f *fakeCP) publish(ev event.ZoneEvent, msgID string) uint64 {
	f.t.Helper()
	if msgID == "" {
		msgID = event.MsgID(ev.ZoneID, ev.ToVersion)
	}
	b, err := ev.Encode()
	if err != nil {
		f.t.Fatal(err)
	}
	ack, err := f.js.Publish(context.Background(), event.ZoneSubject(ev.ZoneID), b, jetstream.WithMsgID(msgID))
	if err != nil {
		f.t.Fatalf("publish: %v", err)
	}
	return ack.Sequence
}

// commit applies a change to the fake's state, publishes its event and
// records the sequence, as the control plane and relay would.
func (f *fakeCP) commit(zoneID, zoneName string, upserts ...zonecfg.RRSet) (event.ZoneEvent, uint64) {
	f.t.Helper()
	f.mu.Lock()
	z, ok := f.zones[zoneID]
	ev := event.ZoneEvent{ZoneID: zoneID, ZoneName: zoneName, TenantID: "T1", Committed: time.Now()}
	if !ok {
		z = event.ZoneState{ID: zoneID, Name: zoneName, TenantID: "T1", Version: 1, RRSets: syncApex(zoneName, 1)}
		z.RRSets = append(z.RRSets, upserts...)
		ev.Kind, ev.FromVersion, ev.ToVersion, ev.Upserts = event.ZoneCreated, 0, 1, z.RRSets
	} else {
		ev.Kind, ev.FromVersion, ev.ToVersion, ev.Upserts = event.ZoneUpdated, z.Version, z.Version+1, upserts
		z.Version++
		next := []zonecfg.RRSet{}
		for _, rs := range z.RRSets {
			replaced := false
			for _, u := range upserts {
				replaced = replaced || u.Key() == rs.Key()
			}
			if !replaced {
				next = append(next, rs)
			}
		}
		z.RRSets = append(next, upserts...)
	}
	f.zones[zoneID] = z
	f.mu.Unlock()
	seq := f.publish(ev, "")
	f.mu.Lock()
	f.seq = seq
	f.mu.Unlock()
	return ev, seq
}

func syncA(name, ip string) zonecfg.RRSet {
	return zonecfg.RRSet{Name: name, Type: "A", TTL: 60, Records: []string{ip}}
}

type nodeEnv struct {
	nats *natstest.Server
	nc   *nats.Conn
	cp   *fakeCP
	url  string
}

func newNodeEnv(t *testing.T) *nodeEnv {
	t.Helper()
	s := natstest.Run(t)
	nc, err := nats.Connect(s.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	cp, srv := newFakeCP(t, js)
	return &nodeEnv{nats: s, nc: nc, cp: cp, url: srv.URL}
}

// start runs a node and returns it with a function that stops it and
// waits for Run to return.
func (e *nodeEnv) start(t *testing.T, id, cacheDir string) (*Node, func()) {
	t.Helper()
	return e.startWith(t, id, cacheDir, nil)
}

// startWith is start with the config changed by edit first.
func (e *nodeEnv) startWith(t *testing.T, id, cacheDir string, edit func(*NodeConfig)) (*Node, func()) {
	t.Helper()
	cfg := NodeConfig{
		NodeID: id, Region: "test", NATSURL: e.nats.ClientURL(),
		SnapshotURL: e.url, AdminToken: "admin", CacheDir: cacheDir,
		HeartbeatInterval: 50 * time.Millisecond, RetryInterval: 50 * time.Millisecond,
	}
	if edit != nil {
		edit(&cfg)
	}
	n, err := NewNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = n.Run(ctx) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return n, stop
}

// syncConverged waits until n has applied seq and holds zoneID at version.
func syncConverged(t *testing.T, n *Node, seq uint64, zoneID string, version int64) {
	t.Helper()
	testkit.Eventually(t, 10*time.Second, func() error {
		v, ok := n.Store().Version(zoneID)
		if got := n.AppliedSeq(); got < seq || !ok || v != version {
			return fmt.Errorf("applied %d, zone %s at %d (held %v); want %d and %d", got, zoneID, v, ok, seq, version)
		}
		return nil
	})
}

// awaitReady waits for n to mark itself ready: the initial load applies
// its events before Run sets the mark, so a node seen converged may not
// have it yet.
func awaitReady(t *testing.T, n *Node, msg string) {
	t.Helper()
	testkit.Eventually(t, 5*time.Second, func() error {
		if !n.Ready() {
			return errors.New(msg)
		}
		return nil
	})
}

func TestIntegrationNodeSyncs(t *testing.T) {
	t.Parallel()
	e := newNodeEnv(t)
	e.cp.commit("Z1", "one.test.", syncA("www.one.test.", "192.0.2.1"))
	e.cp.commit("Z1", "one.test.", syncA("www.one.test.", "192.0.2.2"))

	hbs := make(chan event.Heartbeat, 1000)
	sub, err := e.nc.Subscribe(event.HeartbeatSubject, func(m *nats.Msg) {
		if hb, err := event.DecodeHeartbeat(m.Data); err == nil {
			hbs <- hb
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	n, _ := e.start(t, "n1", t.TempDir())
	syncConverged(t, n, 2, "Z1", 2)
	awaitReady(t, n, "node not ready after its initial sync")

	e.cp.commit("Z1", "one.test.", syncA("mail.one.test.", "192.0.2.3"))
	e.cp.commit("Z2", "two.test.")
	_, seq := e.cp.commit("Z2", "two.test.", syncA("www.two.test.", "192.0.2.4"))
	syncConverged(t, n, seq, "Z2", 2)
	if v, _ := n.Store().Version("Z1"); v != 3 {
		t.Fatalf("got Z1 at %d, want 3", v)
	}
	st, _ := n.Store().ZoneState("Z1")
	if len(st.RRSets) != 4 {
		t.Fatalf("got %d record sets in Z1, want SOA, NS, www and mail: %+v", len(st.RRSets), st.RRSets)
	}
	testkit.Eventually(t, 5*time.Second, func() error {
		for {
			select {
			case hb := <-hbs:
				if hb.NodeID == "n1" && hb.Ready && hb.AppliedSeq == seq && hb.Zones == 2 && hb.Region == "test" {
					return nil
				}
			default:
				return fmt.Errorf("no heartbeat reports seq %d yet", seq)
			}
		}
	})
}

func TestIntegrationNodeHealsGapsAndIgnoresDuplicates(t *testing.T) {
	t.Parallel()
	e := newNodeEnv(t)
	e.cp.commit("Z1", "one.test.")
	n, _ := e.start(t, "n1", "")
	syncConverged(t, n, 1, "Z1", 1)

	// The same event again under another message id: harmless.
	ev, _ := e.cp.commit("Z1", "one.test.", syncA("www.one.test.", "192.0.2.1"))
	e.cp.publish(ev, "dup-1")
	seq := e.cp.publish(ev, "dup-2")
	syncConverged(t, n, seq, "Z1", 2)

	// A zone update the node never saw the creation of: it fetches it.
	e.cp.mu.Lock()
	e.cp.zones["Z9"] = event.ZoneState{ID: "Z9", Name: "nine.test.", TenantID: "T1", Version: 4, RRSets: syncApex("nine.test.", 4)}
	e.cp.mu.Unlock()
	ev9, seq := e.cp.commit("Z9", "nine.test.", syncA("www.nine.test.", "192.0.2.9"))
	syncConverged(t, n, seq, "Z9", 5)

	// An event whose predecessor is missing from the stream: a gap.
	e.cp.mu.Lock()
	z := e.cp.zones["Z1"]
	z.Version = 7
	e.cp.zones["Z1"] = z
	e.cp.mu.Unlock()
	_, seq = e.cp.commit("Z1", "one.test.", syncA("gap.one.test.", "192.0.2.8"))
	syncConverged(t, n, seq, "Z1", 8)

	// An event replayed from long ago: already applied.
	seq = e.cp.publish(ev9, "old-replay")
	syncConverged(t, n, seq, "Z9", 5)

	// A deleted zone's late update: the fetch says 404, the zone goes.
	e.cp.mu.Lock()
	delete(e.cp.zones, "Z9")
	e.cp.mu.Unlock()
	seq = e.cp.publish(event.ZoneEvent{Kind: event.ZoneUpdated, ZoneID: "Z9", ZoneName: "nine.test.", FromVersion: 11, ToVersion: 12}, "")
	testkit.Eventually(t, 10*time.Second, func() error {
		if _, ok := n.Store().Version("Z9"); ok || n.AppliedSeq() < seq {
			return fmt.Errorf("Z9 still held or seq %d < %d", n.AppliedSeq(), seq)
		}
		return nil
	})
}

func TestIntegrationNodeRestartsFromCache(t *testing.T) {
	t.Parallel()
	e := newNodeEnv(t)
	dir := t.TempDir()
	e.cp.commit("Z1", "one.test.", syncA("www.one.test.", "192.0.2.1"))
	n, stop := e.start(t, "n1", dir)
	_, seq := e.cp.commit("Z1", "one.test.", syncA("www.one.test.", "192.0.2.2"))
	syncConverged(t, n, seq, "Z1", 2)
	stop()

	// The control plane is down; changes keep flowing through the stream.
	e.cp.setDown(true)
	_, seq = e.cp.commit("Z1", "one.test.", syncA("www.one.test.", "192.0.2.3"))
	n2, _ := e.start(t, "n2", dir)
	syncConverged(t, n2, seq, "Z1", 3)
	awaitReady(t, n2, "node restarted from its cache is not ready")
}

func TestIntegrationNodeResnapshotsAfterPurge(t *testing.T) {
	t.Parallel()
	e := newNodeEnv(t)
	e.cp.commit("Z1", "one.test.")
	dir := t.TempDir()
	n, stop := e.start(t, "n1", dir)
	syncConverged(t, n, 1, "Z1", 1)
	stop()

	// While the node is away, the stream loses events it needs.
	e.cp.commit("Z1", "one.test.", syncA("www.one.test.", "192.0.2.1"))
	e.cp.commit("Z2", "two.test.")
	st, err := e.cp.js.Stream(context.Background(), event.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Purge(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, seq := e.cp.commit("Z1", "one.test.", syncA("www.one.test.", "192.0.2.2"))
	// The node starts from its cache (the control plane is down), finds
	// the stream gap, and re-loads the snapshot once the control plane
	// is back.
	e.cp.setDown(true)
	n2, _ := e.start(t, "n2", dir)
	testkit.Eventually(t, 10*time.Second, func() error {
		if !n2.Ready() {
			return fmt.Errorf("not ready")
		}
		return nil
	})
	e.cp.setDown(false)
	syncConverged(t, n2, seq, "Z1", 3)
	syncConverged(t, n2, seq, "Z2", 1)
}

func TestIntegrationNodeIgnoresCorruptCache(t *testing.T) {
	t.Parallel()
	e := newNodeEnv(t)
	dir := t.TempDir()
	e.cp.commit("Z1", "one.test.", syncA("www.one.test.", "192.0.2.1"))
	n, stop := e.start(t, "n1", dir)
	syncConverged(t, n, 1, "Z1", 1)
	stop()

	// A cache cut short (a disk that filled up, say) is refused as a
	// whole: the node waits for the control plane instead of serving half
	// its zones.
	path := filepath.Join(dir, cacheFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	e.cp.setDown(true)
	n2, _ := e.start(t, "n2", dir)
	e.cp.mu.Lock()
	hits := e.cp.hits
	e.cp.mu.Unlock()
	testkit.Eventually(t, 10*time.Second, func() error {
		e.cp.mu.Lock()
		defer e.cp.mu.Unlock()
		if e.cp.hits < hits+2 {
			return fmt.Errorf("the node has not retried the control plane yet")
		}
		return nil
	})
	if n2.Ready() {
		t.Fatal("ready from a corrupt cache")
	}
	e.cp.setDown(false)
	syncConverged(t, n2, 1, "Z1", 1)
}

func (f *fakeCP) snapshotsServed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snapshots
}

// TestIntegrationNodeCatchesUpFromCache: a node restarted with a current
// cache fetches only what changed while it was away, from the stream, and
// says it is ready only once it has.
func TestIntegrationNodeCatchesUpFromCache(t *testing.T) {
	t.Parallel()
	e := newNodeEnv(t)
	dir := t.TempDir()
	e.cp.commit("Z1", "one.test.", syncA("www.one.test.", "192.0.2.1"))
	n, stop := e.start(t, "n1", dir)
	_, seq := e.cp.commit("Z1", "one.test.", syncA("www.one.test.", "192.0.2.2"))
	syncConverged(t, n, seq, "Z1", 2)
	stop()
	if got := e.cp.snapshotsServed(); got != 1 {
		t.Fatalf("%d snapshots served to the first node, want 1", got)
	}

	// While it is away: a change to a zone it has, and a new zone.
	e.cp.commit("Z1", "one.test.", syncA("mail.one.test.", "192.0.2.3"))
	e.cp.commit("Z2", "two.test.")
	_, seq = e.cp.commit("Z2", "two.test.", syncA("www.two.test.", "192.0.2.4"))

	// Every heartbeat says whether the node is ready and how far it has
	// applied, read together: the first ready one must be caught up.
	ready := make(chan uint64, 100)
	sub, err := e.nc.Subscribe(event.HeartbeatSubject, func(m *nats.Msg) {
		if hb, err := event.DecodeHeartbeat(m.Data); err == nil && hb.NodeID == "n2" && hb.Ready {
			ready <- hb.AppliedSeq
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	n2, _ := e.start(t, "n2", dir)
	select {
	case at := <-ready:
		if at < seq {
			t.Fatalf("ready at sequence %d, before catching up to %d", at, seq)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no ready heartbeat")
	}
	syncConverged(t, n2, seq, "Z2", 2)
	if v, _ := n2.Store().Version("Z1"); v != 3 {
		t.Fatalf("got Z1 at %d, want 3", v)
	}
	if got := e.cp.snapshotsServed(); got != 1 {
		t.Fatalf("%d snapshots served in all, want 1: the restart fetched the whole snapshot", got)
	}
}

// TestIntegrationNodeCacheAheadOfStream: a stream recreated empty (its
// sequences start again below the cache's) cannot bring the cache up to
// date: the node loads the snapshot.
func TestIntegrationNodeCacheAheadOfStream(t *testing.T) {
	t.Parallel()
	e := newNodeEnv(t)
	dir := t.TempDir()
	e.cp.commit("Z1", "one.test.")
	e.cp.commit("Z1", "one.test.", syncA("www.one.test.", "192.0.2.1"))
	_, seq := e.cp.commit("Z1", "one.test.", syncA("www.one.test.", "192.0.2.2"))
	n, stop := e.start(t, "n1", dir)
	syncConverged(t, n, seq, "Z1", 3)
	stop()

	ctx := context.Background()
	if err := e.cp.js.DeleteStream(ctx, event.StreamName); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cp.js.CreateStream(ctx, event.ZoneStreamConfig(1)); err != nil {
		t.Fatal(err)
	}
	_, seq = e.cp.commit("Z2", "two.test.") // sequence 1 of the new stream
	n2, _ := e.start(t, "n2", dir)
	syncConverged(t, n2, seq, "Z2", 1)
	if got := e.cp.snapshotsServed(); got != 2 {
		t.Fatalf("%d snapshots served, want 2 (the restart had to load one)", got)
	}
}

// TestIntegrationNodeReleasesMemory: the node returns memory after its
// initial sync and after a large change, by itself.
func TestIntegrationNodeReleasesMemory(t *testing.T) {
	t.Parallel()
	e := newNodeEnv(t)
	e.cp.commit("Z1", "one.test.")
	var mu sync.Mutex
	releases := 0
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return releases
	}
	n, _ := e.startWith(t, "n1", "", func(c *NodeConfig) {
		c.ReleaseAfter = 3
		c.ReleaseDelay = 10 * time.Millisecond
		c.ReleaseMemory = func() {
			mu.Lock()
			releases++
			mu.Unlock()
		}
	})
	syncConverged(t, n, 1, "Z1", 1)
	testkit.Eventually(t, 10*time.Second, func() error {
		if count() < 1 {
			return fmt.Errorf("no release after the initial sync")
		}
		return nil
	})
	before := count()
	_, seq := e.cp.commit("Z1", "one.test.", syncA("a.one.test.", "192.0.2.1"), syncA("b.one.test.", "192.0.2.2"),
		syncA("c.one.test.", "192.0.2.3"))
	syncConverged(t, n, seq, "Z1", 2)
	testkit.Eventually(t, 10*time.Second, func() error {
		if count() <= before {
			return fmt.Errorf("no release after a change of 3 record sets")
		}
		return nil
	})
}

// TestIntegrationNodeCacheWithoutStream: a node whose cache is usable but
// whose NATS is unreachable cannot know what changed: after CatchUpTimeout
// it loads the snapshot, and so serves the control plane's current state.
func TestIntegrationNodeCacheWithoutStream(t *testing.T) {
	t.Parallel()
	e := newNodeEnv(t)
	dir := t.TempDir()
	e.cp.commit("Z1", "one.test.")
	n, stop := e.start(t, "n1", dir)
	syncConverged(t, n, 1, "Z1", 1)
	stop()
	e.cp.commit("Z1", "one.test.", syncA("www.one.test.", "192.0.2.1"))

	n2, _ := e.startWith(t, "n2", dir, func(c *NodeConfig) {
		c.NATSURL = "nats://127.0.0.1:1" // nothing listens there
		c.CatchUpTimeout = 100 * time.Millisecond
	})
	testkit.Eventually(t, 10*time.Second, func() error {
		if v, _ := n2.Store().Version("Z1"); !n2.Ready() || v != 2 {
			return fmt.Errorf("ready %v, Z1 at %d; want ready at 2", n2.Ready(), v)
		}
		return nil
	})
	if got := e.cp.snapshotsServed(); got != 2 {
		t.Fatalf("%d snapshots served, want 2", got)
	}
}

// TestIntegrationNodeFallsBackToOtherAPIs gives the node three APIs:
// the first refuses connections, the second answers 503, the third is
// the control plane. The initial snapshot and a zone's refetch both come
// from the third.
func TestIntegrationNodeFallsBackToOtherAPIs(t *testing.T) {
	t.Parallel()
	e := newNodeEnv(t)
	e.cp.commit("Z1", "one.test.", syncA("www.one.test.", "192.0.2.1"))
	refused := httptest.NewServer(http.NotFoundHandler())
	refused.Close()
	var unavailable sync.Map // paths asked of the 503 API
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		unavailable.Store(r.URL.Path, true)
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
	}))
	t.Cleanup(down.Close)
	n, _ := e.startWith(t, "n1", "", func(c *NodeConfig) {
		c.SnapshotURL, c.FallbackURLs = refused.URL, []string{down.URL, e.url}
	})
	syncConverged(t, n, 1, "Z1", 1)

	// An update of a zone the node never saw created: it refetches it.
	e.cp.mu.Lock()
	e.cp.zones["Z9"] = event.ZoneState{ID: "Z9", Name: "nine.test.", TenantID: "T1", Version: 4, RRSets: syncApex("nine.test.", 4)}
	e.cp.mu.Unlock()
	_, seq := e.cp.commit("Z9", "nine.test.", syncA("www.nine.test.", "192.0.2.9"))
	syncConverged(t, n, seq, "Z9", 5)
	for _, p := range []string{"/v1/nameserver/snapshot", "/v1/nameserver/zones/Z9"} {
		if _, ok := unavailable.Load(p); !ok {
			t.Errorf("%s was not tried on the second API before the third", p)
		}
	}
	e.cp.mu.Lock()
	defer e.cp.mu.Unlock()
	if e.cp.snapshots != 1 {
		t.Fatalf("the control plane served %d snapshots, want 1", e.cp.snapshots)
	}
}

// TestIntegrationNodeReportsAtOnceWhenCaughtUp sets ReportDelay and the
// heartbeat interval to an hour: a report could then only coalesce, yet
// each of two events applied one after the other, the node caught up with
// the stream after each, is reported at once.
func TestIntegrationNodeReportsAtOnceWhenCaughtUp(t *testing.T) {
	t.Parallel()
	e := newNodeEnv(t)
	e.cp.commit("Z1", "one.test.")
	reported := make(chan uint64, 1000)
	sub, err := e.nc.Subscribe(event.HeartbeatSubject, func(m *nats.Msg) {
		if hb, err := event.DecodeHeartbeat(m.Data); err == nil && hb.NodeID == "n1" {
			reported <- hb.AppliedSeq
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	n, _ := e.startWith(t, "n1", "", func(c *NodeConfig) {
		c.ReportDelay, c.HeartbeatInterval = time.Hour, time.Hour
	})
	syncConverged(t, n, 1, "Z1", 1)
	for i := range 2 {
		_, seq := e.cp.commit("Z1", "one.test.", syncA("www.one.test.", fmt.Sprintf("192.0.2.%d", i+1)))
		testkit.Eventually(t, 10*time.Second, func() error {
			for {
				select {
				case s := <-reported:
					if s >= seq {
						return nil
					}
				default:
					return fmt.Errorf("seq %d not reported yet", seq)
				}
			}
		})
	}
}
