package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/natstest"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/internal/testkit"
	"github.com/waymark-dns/waymark/zonecfg"
)

// propEnv is a service on a fresh schema plus a NATS server, for the
// propagation tests. Zones and events are written with SQL and
// recordChange, independent of the zone and change-batch code.
type propEnv struct {
	svc    *Service
	nats   *natstest.Server
	tenant string
}

func newPropEnv(t *testing.T) *propEnv {
	t.Helper()
	pool, _ := pgtest.Schema(t)
	s, err := New(pool, Config{
		MasterKey: []byte(strings.Repeat("m", 32)),
		JWTKey:    []byte(strings.Repeat("j", 32)),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e := &propEnv{svc: s, nats: natstest.Run(t), tenant: "TPROP"}
	if _, err := pool.Exec(context.Background(),
		`INSERT INTO tenant (id, name) VALUES ($1, $1)`, e.tenant); err != nil {
		t.Fatalf("insert tenant: %v", err)
	}
	return e
}

func (e *propEnv) connect(t *testing.T) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(e.nats.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatalf("nats connect: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return nc, js
}

// createZone inserts a zone with an SOA record set and its zone.created event.
func (e *propEnv) createZone(t *testing.T, id, name string) ChangeInfo {
	t.Helper()
	ctx := context.Background()
	var info ChangeInfo
	soa := zonecfg.RRSet{Name: name, Type: "SOA", TTL: 900,
		Records: []string{"ns1.waymark.test. hostmaster.waymark.test. 1 7200 900 1209600 86400"}}
	err := pgx.BeginFunc(ctx, e.svc.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx,
			`INSERT INTO delegation_set (id, tenant_id, name_servers) VALUES ('N' || $1, $2, '{ns1.waymark.test.}')`,
			id, e.tenant); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx,
			`INSERT INTO hosted_zone (id, tenant_id, name, caller_reference, version, delegation_set_id)
			 VALUES ($1, $2, $3, $1, 1, 'N' || $1)`,
			id, e.tenant, name); err != nil {
			return err
		}
		if err := putRRSet(ctx, tx, id, 1, soa); err != nil {
			return err
		}
		var err error
		info, err = e.svc.recordChange(ctx, tx, e.tenant, "create", event.ZoneEvent{
			Kind: event.ZoneCreated, ZoneID: id, ZoneName: name, FromVersion: 0, ToVersion: 1,
			Upserts: []zonecfg.RRSet{soa},
		})
		return err
	})
	if err != nil {
		t.Fatalf("create zone %s: %v", id, err)
	}
	return info
}

// upsert bumps the zone's version and upserts one A record set.
func (e *propEnv) upsert(t testing.TB, zoneID, name, value string) ChangeInfo {
	t.Helper()
	ctx := context.Background()
	var info ChangeInfo
	err := pgx.BeginFunc(ctx, e.svc.pool, func(tx pgx.Tx) error {
		var zname string
		var v int64
		if err := tx.QueryRow(ctx,
			`UPDATE hosted_zone SET version = version + 1 WHERE id = $1 RETURNING name, version`,
			zoneID).Scan(&zname, &v); err != nil {
			return err
		}
		rs := zonecfg.RRSet{Name: name, Type: "A", TTL: 60, Records: []string{value}}
		if err := putRRSet(ctx, tx, zoneID, v, rs); err != nil {
			return err
		}
		var err error
		info, err = e.svc.recordChange(ctx, tx, e.tenant, "", event.ZoneEvent{
			Kind: event.ZoneUpdated, ZoneID: zoneID, ZoneName: zname, FromVersion: v - 1, ToVersion: v,
			Upserts: []zonecfg.RRSet{rs},
		})
		return err
	})
	if err != nil {
		t.Fatalf("upsert %s: %v", name, err)
	}
	return info
}

func putRRSet(ctx context.Context, tx pgx.Tx, zoneID string, version int64, rs zonecfg.RRSet) error {
	recs, _ := json.Marshal(rs.Records)
	_, err := tx.Exec(ctx,
		`INSERT INTO rrset (zone_id, sort_name, name, type, set_identifier, ttl, records, rdata, updated_version)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)
		 ON CONFLICT (zone_id, sort_name, type, set_identifier)
		 DO UPDATE SET ttl = excluded.ttl, records = excluded.records, rdata = excluded.rdata,
		               updated_version = excluded.updated_version`,
		zoneID, zonecfg.SortKey(rs.Name), rs.Name, rs.Type, rs.SetIdentifier, int64(rs.TTL), string(recs), version)
	return err
}

// runRelay starts a relay and stops it at cleanup; it returns its cancel.
func runRelay(t *testing.T, e *propEnv, js jetstream.JetStream, cfg RelayConfig) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := NewRelay(e.svc.pool, js, cfg)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = r.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return cancel
}

func (e *propEnv) unpublished(ctx context.Context) (int, error) {
	var n int
	err := e.svc.pool.QueryRow(ctx, `SELECT count(*) FROM outbox_event WHERE published_at IS NULL`).Scan(&n)
	return n, err
}

func waitPublished(t *testing.T, e *propEnv) {
	t.Helper()
	testkit.Eventually(t, 20*time.Second, func() error {
		n, err := e.unpublished(context.Background())
		if err == nil && n > 0 {
			err = fmt.Errorf("%d outbox rows unpublished", n)
		}
		return err
	})
}

// streamEvents reads the whole zone stream.
func streamEvents(t *testing.T, js jetstream.JetStream) []jetstream.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, event.StreamName)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	var out []jetstream.Msg
	if info.State.Msgs == 0 {
		return out
	}
	c, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	for uint64(len(out)) < info.State.Msgs {
		b, err := c.Fetch(int(info.State.Msgs)-len(out), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		for m := range b.Messages() {
			out = append(out, m)
		}
		if b.Error() != nil {
			t.Fatalf("fetch: %v", b.Error())
		}
	}
	return out
}

// checkStream verifies that the stream holds each zone:version exactly
// once, in version order per zone, and that the database recorded the
// right sequences.
func checkStream(t *testing.T, e *propEnv, js jetstream.JetStream, wantEvents int) {
	t.Helper()
	msgs := streamEvents(t, js)
	if len(msgs) != wantEvents {
		t.Fatalf("got %d events in the stream, want %d", len(msgs), wantEvents)
	}
	last := map[string]int64{}
	seqOf := map[string]uint64{}
	for _, m := range msgs {
		ev, err := event.DecodeZoneEvent(m.Data())
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if got, want := m.Headers().Get(jetstream.MsgIDHeader), event.MsgID(ev.ZoneID, ev.ToVersion); got != want {
			t.Fatalf("got Nats-Msg-Id %q, want %q", got, want)
		}
		if ev.FromVersion != last[ev.ZoneID] {
			t.Fatalf("zone %s: got event %d->%d after version %d", ev.ZoneID, ev.FromVersion, ev.ToVersion, last[ev.ZoneID])
		}
		last[ev.ZoneID] = ev.ToVersion
		md, _ := m.Metadata()
		seqOf[ev.ChangeID] = md.Sequence.Stream
	}
	rows, err := e.svc.pool.Query(context.Background(),
		`SELECT c.id, c.stream_seq, o.stream_seq FROM change c JOIN outbox_event o ON o.change_id = c.id`)
	if err != nil {
		t.Fatal(err)
	}
	type pair struct {
		id   string
		c, o *int64
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pair, error) {
		var p pair
		return p, r.Scan(&p.id, &p.c, &p.o)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range got {
		want := seqOf[p.id]
		if p.c == nil || p.o == nil || uint64(*p.c) != want || uint64(*p.o) != want {
			t.Fatalf("change %s: got change.stream_seq %v, outbox %v, want %d", p.id, p.c, p.o, want)
		}
	}
}

func TestIntegrationRelayPublishesInOrder(t *testing.T) {
	t.Parallel()
	e := newPropEnv(t)
	_, js := e.connect(t)
	// Rows written before the relay starts, and while it runs.
	for z := range 3 {
		e.createZone(t, fmt.Sprintf("ZREL%d", z), fmt.Sprintf("rel%d.test.", z))
	}
	for i := range 300 {
		e.upsert(t, fmt.Sprintf("ZREL%d", i%3), fmt.Sprintf("h%d.rel%d.test.", i, i%3), "192.0.2.1")
	}
	runRelay(t, e, js, RelayConfig{BatchSize: 64, Tick: 50 * time.Millisecond})
	for i := range 30 {
		e.upsert(t, "ZREL1", fmt.Sprintf("late%d.rel1.test.", i), "192.0.2.2")
	}
	waitPublished(t, e)
	checkStream(t, e, js, 333)
}

func TestIntegrationRelaySurvivesNATSRestart(t *testing.T) {
	t.Parallel()
	e := newPropEnv(t)
	_, js := e.connect(t)
	e.createZone(t, "ZNR", "nr.test.")
	runRelay(t, e, js, RelayConfig{Tick: 20 * time.Millisecond, AckWait: 500 * time.Millisecond})
	for i := range 20 {
		e.upsert(t, "ZNR", fmt.Sprintf("a%d.nr.test.", i), "192.0.2.1")
	}
	waitPublished(t, e)

	// Restart NATS while changes are being committed: whatever cannot be
	// published waits in the outbox.
	writer := make(chan struct{})
	go func() {
		defer close(writer)
		for i := range 20 {
			e.upsert(t, "ZNR", fmt.Sprintf("b%d.nr.test.", i), "192.0.2.1")
			time.Sleep(time.Millisecond)
		}
	}()
	e.nats = e.nats.Restart(t)
	<-writer
	for i := range 20 {
		e.upsert(t, "ZNR", fmt.Sprintf("c%d.nr.test.", i), "192.0.2.1")
	}
	waitPublished(t, e)
	checkStream(t, e, js, 61)
}

func TestIntegrationRelayFailover(t *testing.T) {
	t.Parallel()
	e := newPropEnv(t)
	_, js1 := e.connect(t)
	_, js2 := e.connect(t)
	var mu sync.Mutex
	leader := map[int]bool{}
	onLeader := func(i int) func(bool) {
		return func(b bool) { mu.Lock(); leader[i] = b; mu.Unlock() }
	}
	isLeader := func(i int) bool { mu.Lock(); defer mu.Unlock(); return leader[i] }
	cancel1 := runRelay(t, e, js1, RelayConfig{Tick: 20 * time.Millisecond, OnLeader: onLeader(1)})
	testkit.Eventually(t, 10*time.Second, func() error {
		if !isLeader(1) {
			return fmt.Errorf("relay 1 is not the leader")
		}
		return nil
	})
	runRelay(t, e, js2, RelayConfig{Tick: 20 * time.Millisecond, OnLeader: onLeader(2)})
	e.createZone(t, "ZFO", "fo.test.")
	for i := range 10 {
		e.upsert(t, "ZFO", fmt.Sprintf("a%d.fo.test.", i), "192.0.2.1")
	}
	waitPublished(t, e)
	if isLeader(2) {
		t.Fatal("relay 2 leads while relay 1 holds the lock")
	}
	cancel1()
	testkit.Eventually(t, 10*time.Second, func() error {
		if !isLeader(2) {
			return fmt.Errorf("relay 2 did not take over")
		}
		return nil
	})
	for i := range 10 {
		e.upsert(t, "ZFO", fmt.Sprintf("b%d.fo.test.", i), "192.0.2.1")
	}
	waitPublished(t, e)
	checkStream(t, e, js2, 21)
}

// fakeFleet publishes heartbeats for pretend nameservers every 20 ms
// until stopped; set changes a node's report, drop silences it.
type fakeFleet struct {
	mu    sync.Mutex
	nodes map[string]event.Heartbeat
}

func runFakeFleet(t *testing.T, nc *nats.Conn) *fakeFleet {
	f := &fakeFleet{nodes: map[string]event.Heartbeat{}}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			f.mu.Lock()
			for _, hb := range f.nodes {
				hb.Sent = time.Now()
				b, _ := hb.Encode()
				_ = nc.Publish(event.HeartbeatSubject, b)
			}
			f.mu.Unlock()
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return f
}

func (f *fakeFleet) set(node string, applied uint64, ready bool) {
	f.mu.Lock()
	f.nodes[node] = event.Heartbeat{NodeID: node, Region: "r-" + node, AppliedSeq: applied, Ready: ready}
	f.mu.Unlock()
}

func (f *fakeFleet) drop(node string) {
	f.mu.Lock()
	delete(f.nodes, node)
	f.mu.Unlock()
}

func TestIntegrationTrackerInSync(t *testing.T) {
	t.Parallel()
	e := newPropEnv(t)
	nc, js := e.connect(t)
	runRelay(t, e, js, RelayConfig{Tick: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	tr := NewTracker(e.svc.pool, nc, TrackerConfig{LiveTimeout: time.Second})
	done := make(chan struct{})
	go func() { defer close(done); _ = tr.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	create := e.createZone(t, "ZTR", "tr.test.")
	change := e.upsert(t, "ZTR", "www.tr.test.", "192.0.2.1")
	waitPublished(t, e)
	c, p, err := e.svc.ChangeProgress(ctx, e.tenant, change.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != StatusPending || c.StreamSeq == nil || *c.StreamSeq != 2 || p != (Progress{}) {
		t.Fatalf("with no nameservers: got %+v %+v, want PENDING at seq 2 and no progress", c, p)
	}

	status := func(id string) ChangeStatus {
		c, err := e.svc.changeRow(ctx, e.svc.pool, e.tenant, id)
		if err != nil {
			t.Fatal(err)
		}
		return c.Status
	}
	// b lags at 1 and c is not ready (it does not count); b reports
	// first so that no flush ever sees a alone.
	fleet := runFakeFleet(t, nc)
	fleet.set("b", 1, true)
	fleet.set("c", 0, false)
	testkit.Eventually(t, 5*time.Second, func() error {
		list, err := e.svc.ListNameservers(ctx)
		if err == nil && len(list) != 2 {
			err = fmt.Errorf("%d nameservers", len(list))
		}
		return err
	})
	fleet.set("a", 2, true)
	testkit.Eventually(t, 5*time.Second, func() error {
		_, p, err := e.svc.ChangeProgress(ctx, e.tenant, change.ID)
		if err == nil && p != (Progress{Live: 2, Applied: 1}) {
			err = fmt.Errorf("progress %+v, want 1 of 2 applied", p)
		}
		return err
	})
	if s := status(create.ID); s != StatusInSync {
		t.Fatalf("create change is %s, want INSYNC", s)
	}
	if s := status(change.ID); s != StatusPending {
		t.Fatalf("change is %s, want PENDING while b lags", s)
	}
	// b dies: after the live timeout it no longer blocks the change.
	fleet.drop("b")
	got, err := e.svc.WaitChange(ctx, e.tenant, change.ID, 10*time.Second)
	if err != nil || got.Status != StatusInSync || got.InSyncAt == nil {
		t.Fatalf("WaitChange: got %+v, %v, want INSYNC", got, err)
	}
	list, err := e.svc.ListNameservers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || !list[0].Live || list[1].Live || list[2].Live || list[1].Lag != 1 {
		t.Fatalf("ListNameservers: got %+v, want a live, b dead with lag 1, c not ready", list)
	}
	if _, err := e.svc.WaitChange(ctx, "TOTHER", change.ID, time.Millisecond); !IsCode(err, CodeNoSuchChange) {
		t.Fatalf("another tenant's change: got %v, want NoSuchChange", err)
	}
}

func TestIntegrationWaitChangeTimeout(t *testing.T) {
	t.Parallel()
	e := newPropEnv(t)
	e.createZone(t, "ZWT", "wt.test.")
	c := e.upsert(t, "ZWT", "www.wt.test.", "192.0.2.1")
	start := time.Now()
	got, err := e.svc.WaitChange(context.Background(), e.tenant, c.ID, 100*time.Millisecond)
	if err != nil || got.Status != StatusPending || got.ID != c.ID {
		t.Fatalf("got %+v, %v, want the PENDING change", got, err)
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Fatalf("returned before the timeout")
	}
}

// TestIntegrationWaitChangeDrain: a process about to stop drains, and
// every long poll, waiting or new, answers at once with the change as it
// is, as after a timeout, rather than failing when the pool closes.
func TestIntegrationWaitChangeDrain(t *testing.T) {
	t.Parallel()
	e := newPropEnv(t)
	e.createZone(t, "ZWD", "wd.test.")
	c := e.upsert(t, "ZWD", "www.wd.test.", "192.0.2.1")
	type result struct {
		c   ChangeInfo
		err error
	}
	done := make(chan result, 1)
	go func() {
		got, err := e.svc.WaitChange(context.Background(), e.tenant, c.ID, MaxChangeWait)
		done <- result{got, err}
	}()
	// The poll is waiting once the notifier has a waiter for the change.
	testkit.Eventually(t, 5*time.Second, func() error {
		n := e.svc.notifier()
		n.mu.Lock()
		defer n.mu.Unlock()
		if w := n.watches[c.ID]; w == nil || len(w.waiters) == 0 {
			return errors.New("the poll is not waiting yet")
		}
		return nil
	})
	e.svc.Drain()
	e.svc.Drain() // twice is harmless
	select {
	case r := <-done:
		if r.err != nil || r.c.ID != c.ID || r.c.Status != StatusPending {
			t.Fatalf("drained poll: %+v, %v; want the PENDING change", r.c, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a drained poll still waits")
	}
	if got, err := e.svc.WaitChange(context.Background(), e.tenant, c.ID, MaxChangeWait); err != nil || got.Status != StatusPending {
		t.Fatalf("a poll after the drain: %+v, %v", got, err)
	}
}

func TestIntegrationSnapshot(t *testing.T) {
	t.Parallel()
	e := newPropEnv(t)
	_, js := e.connect(t)
	e.createZone(t, "ZSA", "sa.test.")
	e.createZone(t, "ZSB", "sb.test.")
	e.upsert(t, "ZSA", "www.sa.test.", "192.0.2.1")
	ctx := context.Background()
	snap, err := e.svc.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Seq != 0 || len(snap.Zones) != 2 {
		t.Fatalf("before publishing: got seq %d, %d zones, want 0 and 2", snap.Seq, len(snap.Zones))
	}
	runRelay(t, e, js, RelayConfig{Tick: 20 * time.Millisecond})
	waitPublished(t, e)
	snap, err = e.svc.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Seq != 3 {
		t.Fatalf("got seq %d, want 3", snap.Seq)
	}
	var streamed event.Snapshot
	var sb strings.Builder
	if err := e.svc.WriteSnapshot(ctx, &sb); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(sb.String()), &streamed); err != nil {
		t.Fatalf("WriteSnapshot wrote bad JSON: %v", err)
	}
	a, _ := json.Marshal(snap)
	b, _ := json.Marshal(streamed)
	if string(a) != string(b) {
		t.Fatalf("WriteSnapshot and Snapshot differ:\n%s\n%s", a, b)
	}
	// Routing fields, alias targets and health checks travel as stored.
	if _, err := e.svc.pool.Exec(ctx,
		`UPDATE rrset SET routing = '{"weight": 5}', health_check_id = 'H1',
		        alias_target = '{"hosted_zone_id": "ZSA", "dns_name": "sa.test.", "evaluate_target_health": true}'
		  WHERE zone_id = 'ZSA' AND type = 'A'`); err != nil {
		t.Fatal(err)
	}
	z, err := e.svc.ZoneSnapshot(ctx, "ZSA")
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range z.RRSets {
		if rs.Type == "A" && (rs.Weight == nil || *rs.Weight != 5 || rs.HealthCheckID != "H1" ||
			rs.Alias == nil || rs.Alias.DNSName != "sa.test." || !rs.Alias.EvaluateTargetHealth) {
			t.Fatalf("got %+v, want weight 5, health check H1 and the alias target", rs)
		}
	}
	if z.Version != 2 || len(z.RRSets) != 2 || z.Name != "sa.test." {
		t.Fatalf("got %+v, want sa.test. at version 2 with SOA and A", z)
	}
	for _, rs := range z.RRSets {
		for _, v := range rs.Records {
			if _, _, err := zonecfg.ParseRecord(rs.Name, rs.Type, rs.TTL, v); err != nil {
				t.Fatalf("snapshot record does not parse: %v", err)
			}
		}
	}
	if _, err := e.svc.ZoneSnapshot(ctx, "ZNONE"); !IsCode(err, CodeNoSuchHostedZone) {
		t.Fatalf("missing zone: got %v, want NoSuchHostedZone", err)
	}
}

func TestIntegrationRelayRealignsResetStream(t *testing.T) {
	t.Parallel()
	e := newPropEnv(t)
	_, js := e.connect(t)
	ctx := context.Background()
	e.createZone(t, "ZRS", "rs.test.")
	cancel := runRelay(t, e, js, RelayConfig{Tick: 20 * time.Millisecond, AckWait: 500 * time.Millisecond})
	for i := range 9 {
		e.upsert(t, "ZRS", fmt.Sprintf("a%d.rs.test.", i), "192.0.2.1")
	}
	waitPublished(t, e)

	recordedMax := func() uint64 {
		var n int64
		if err := e.svc.pool.QueryRow(ctx, `SELECT max(stream_seq) FROM outbox_event`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return uint64(n)
	}
	firstSeq := func() uint64 {
		st, err := js.Stream(ctx, event.StreamName)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.FirstSeq
	}
	for _, tc := range []struct {
		name  string
		reset func()
	}{
		{"stream deleted", func() {
			if err := js.DeleteStream(ctx, event.StreamName); err != nil {
				t.Fatal(err)
			}
		}},
		{"stream recreated empty by someone else", func() {
			if err := js.DeleteStream(ctx, event.StreamName); err != nil {
				t.Fatal(err)
			}
			if _, err := js.CreateStream(ctx, event.ZoneStreamConfig(1)); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		before := recordedMax()
		tc.reset()
		e.upsert(t, "ZRS", "after.rs.test.", "192.0.2.2")
		waitPublished(t, e)
		if got := recordedMax(); got != before+1 {
			t.Fatalf("%s: got stream seq %d for the next event, want %d", tc.name, got, before+1)
		}
		if got := firstSeq(); got != before+1 {
			t.Fatalf("%s: stream starts at %d, want %d", tc.name, got, before+1)
		}
	}
	// A new leader updates the realigned stream's configuration happily.
	cancel()
	runRelay(t, e, js, RelayConfig{Tick: 20 * time.Millisecond})
	before := recordedMax()
	e.upsert(t, "ZRS", "new-leader.rs.test.", "192.0.2.3")
	waitPublished(t, e)
	if got := recordedMax(); got != before+1 {
		t.Fatalf("after a new leader: got seq %d, want %d", got, before+1)
	}
}

func TestIntegrationTrackerForgetsSilentNameservers(t *testing.T) {
	t.Parallel()
	e := newPropEnv(t)
	nc, _ := e.connect(t)
	ctx, cancel := context.WithCancel(context.Background())
	tr := NewTracker(e.svc.pool, nc, TrackerConfig{LiveTimeout: 100 * time.Millisecond, ForgetAfter: 300 * time.Millisecond})
	done := make(chan struct{})
	go func() { defer close(done); _ = tr.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	fleet := runFakeFleet(t, nc)
	fleet.set("stays", 1, true)
	fleet.set("goes", 1, true)
	names := func() (string, error) {
		list, err := e.svc.ListNameservers(ctx)
		var ids []string
		for _, n := range list {
			ids = append(ids, n.NodeID)
		}
		return strings.Join(ids, ","), err
	}
	testkit.Eventually(t, 5*time.Second, func() error {
		got, err := names()
		if err == nil && got != "goes,stays" {
			err = fmt.Errorf("got %q", got)
		}
		return err
	})
	fleet.drop("goes")
	testkit.Eventually(t, 5*time.Second, func() error {
		got, err := names()
		if err == nil && got != "stays" {
			err = fmt.Errorf("got %q, want only stays", got)
		}
		return err
	})
}

// TestIntegrationLagCountsOutbox: events not yet published (no relay
// runs here) count in every nameserver's lag.
func TestIntegrationLagCountsOutbox(t *testing.T) {
	t.Parallel()
	e := newPropEnv(t)
	ctx := context.Background()
	if _, err := e.svc.pool.Exec(ctx,
		`INSERT INTO nameserver (node_id, region, applied_seq, ready) VALUES ('n1', 'r1', 0, true)`); err != nil {
		t.Fatal(err)
	}
	e.createZone(t, "ZLAG", "lag.test.")
	e.upsert(t, "ZLAG", "www.lag.test.", "192.0.2.1")
	e.upsert(t, "ZLAG", "www.lag.test.", "192.0.2.2")
	n, err := e.unpublished(ctx)
	if err != nil || n != 3 {
		t.Fatalf("unpublished: %d, %v; want 3", n, err)
	}
	list, err := e.svc.ListNameservers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Lag != 3 {
		t.Fatalf("ListNameservers: %+v, want one node with lag 3", list)
	}
}

// TestIntegrationUnservableReported: a node's count of record sets it
// could not load reaches ListNameservers through its heartbeats.
func TestIntegrationUnservableReported(t *testing.T) {
	t.Parallel()
	e := newPropEnv(t)
	nc, _ := e.connect(t)
	ctx, cancel := context.WithCancel(context.Background())
	tr := NewTracker(e.svc.pool, nc, TrackerConfig{})
	done := make(chan struct{})
	go func() { defer close(done); _ = tr.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	fleet := runFakeFleet(t, nc)
	fleet.mu.Lock()
	fleet.nodes["bad"] = event.Heartbeat{NodeID: "bad", Region: "r", Ready: true, Unservable: 2}
	fleet.mu.Unlock()
	testkit.Eventually(t, 5*time.Second, func() error {
		list, err := e.svc.ListNameservers(ctx)
		if err == nil && (len(list) != 1 || list[0].Unservable != 2) {
			err = fmt.Errorf("nameservers %+v, want one with 2 unservable record sets", list)
		}
		return err
	})
}

// observed collects durations handed to a metrics hook.
type observed struct {
	mu sync.Mutex
	ds []time.Duration
}

func (o *observed) observe(d time.Duration) { o.mu.Lock(); o.ds = append(o.ds, d); o.mu.Unlock() }

func (o *observed) count() int { o.mu.Lock(); defer o.mu.Unlock(); return len(o.ds) }

// TestIntegrationInSyncObserved checks the metrics hooks: every change
// turned INSYNC is observed once, by whichever of the tracker (the fleet
// applied it after the relay published it) and the relay (the fleet was
// ahead already) turned it, and every published outbox event once.
func TestIntegrationInSyncObserved(t *testing.T) {
	t.Parallel()
	e := newPropEnv(t)
	nc, js := e.connect(t)
	var published, relayInSync, trackerInSync observed
	runRelay(t, e, js, RelayConfig{Tick: 20 * time.Millisecond, ObservePublish: published.observe, ObserveInSync: relayInSync.observe})
	ctx, cancel := context.WithCancel(context.Background())
	tr := NewTracker(e.svc.pool, nc, TrackerConfig{LiveTimeout: time.Second, ObserveInSync: trackerInSync.observe})
	done := make(chan struct{})
	go func() { defer close(done); _ = tr.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	counts := func() [3]int { return [3]int{published.count(), relayInSync.count(), trackerInSync.count()} }
	wait := func(id string) {
		t.Helper()
		if got, err := e.svc.WaitChange(ctx, e.tenant, id, 10*time.Second); err != nil || got.Status != StatusInSync {
			t.Fatalf("WaitChange %s: %+v %v", id, got, err)
		}
	}

	// No nameserver yet: both changes are published and stay PENDING;
	// then the fleet catches up and the tracker turns them INSYNC.
	create := e.createZone(t, "ZOB", "ob.test.")
	change := e.upsert(t, "ZOB", "www.ob.test.", "192.0.2.1")
	waitPublished(t, e)
	fleet := runFakeFleet(t, nc)
	fleet.set("a", 2, true)
	wait(create.ID)
	wait(change.ID)
	testkit.Eventually(t, 5*time.Second, func() error {
		if c := counts(); c != [3]int{2, 0, 2} {
			return fmt.Errorf("published, relay INSYNC, tracker INSYNC observed %v, want [2 0 2]", c)
		}
		return nil
	})

	// The fleet is ahead of the stream: the relay turns the next change
	// INSYNC as it records its sequence.
	fleet.set("a", 100, true)
	testkit.Eventually(t, 5*time.Second, func() error {
		list, err := e.svc.ListNameservers(ctx)
		if err == nil && (len(list) != 1 || list[0].AppliedSeq != 100 || !list[0].Live) {
			err = fmt.Errorf("nameservers %+v", list)
		}
		return err
	})
	wait(e.upsert(t, "ZOB", "www.ob.test.", "192.0.2.2").ID)
	testkit.Eventually(t, 5*time.Second, func() error {
		if c := counts(); c != [3]int{3, 1, 2} {
			return fmt.Errorf("published, relay INSYNC, tracker INSYNC observed %v, want [3 1 2]", c)
		}
		return nil
	})
	for _, o := range []*observed{&published, &relayInSync, &trackerInSync} {
		for _, d := range o.ds {
			if d < 0 || d > time.Minute {
				t.Errorf("observed %v", d)
			}
		}
	}
}
