package fleet

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/event"
)

// reports records every nameserver report as the hub delivers it, on a
// connection to a hub node of its own (as each API process's tracker has
// one): what each node had applied, when it sent that (its clock is this
// machine's) and when the hub handed it on.
type reports struct {
	nc *nats.Conn

	mu   sync.Mutex
	seen map[string][]report // by node id, in arrival order
}

type report struct {
	applied        uint64
	sent, received time.Time
}

func listenReports(t *testing.T, f *Fleet) *reports {
	t.Helper()
	nc, err := nats.Connect(f.NATSURLs[0], nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	r := &reports{nc: nc, seen: map[string][]report{}}
	if _, err := nc.Subscribe(event.HeartbeatSubject, func(m *nats.Msg) {
		at := time.Now()
		hb, err := event.DecodeHeartbeat(m.Data)
		if err != nil {
			return
		}
		r.mu.Lock()
		r.seen[hb.NodeID] = append(r.seen[hb.NodeID], report{applied: hb.AppliedSeq, sent: hb.Sent, received: at})
		r.mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return r
}

// first returns node's first report of a sequence at or past seq.
func (r *reports) first(node string, seq uint64) (report, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rep := range r.seen[node] {
		if rep.applied >= seq {
			return rep, true
		}
	}
	return report{}, false
}

// stageTimes are one stage's durations, one per change.
type stageTimes struct {
	name string
	ds   []time.Duration
}

func (s stageTimes) String() string {
	if len(s.ds) == 0 {
		return s.name + ": none"
	}
	ds := slices.Clone(s.ds)
	slices.Sort(ds)
	pct := func(p float64) time.Duration {
		return ds[min(len(ds)-1, int(p*float64(len(ds))))].Round(100 * time.Microsecond)
	}
	return fmt.Sprintf("%-52s p50 %7s  p99 %7s  max %7s  (n=%d)", s.name, pct(0.5), pct(0.99), pct(1), len(ds))
}

// stages splits the acknowledged changes' submit → INSYNC into its
// stages, from the database (submitted, published and INSYNC times), the
// zone stream (when its leader received each event) and the reports
// (when each nameserver sent the first report covering the event, and
// when the hub delivered it):
//
//   - submit → in the stream: the change's transaction, the relay's
//     wake-up, the publish;
//   - in the stream → published: the relay waiting for JetStream's ack
//     (R3) and recording it (not on the way to INSYNC: nameservers get
//     the event as soon as it is stored);
//   - per region, in the stream → reported: replication, the delivery
//     over the link (its one-way delay is shown too), the apply and the
//     report's scheduling;
//   - per region, report sent → at the hub: the way back;
//   - the last report at the hub → INSYNC: the tracker (INSYNC's time is
//     when its write began);
//   - INSYNC → the client's long poll answered: the tracker's commit, its
//     NOTIFY, the API's notifier and the answer (after the INSYNC time,
//     so not in submit → INSYNC).
//
// submit → acknowledged is the client's view of its transaction, and
// acknowledged → in the stream what the relay adds after it (negative
// when the event was published before the client had its answer).
//
// Each link's lateness (what the proxy adds beyond its delay) is added.
// Every stage minus the links' delays is what the product spends.
func (l *load) stages(t *testing.T, reps *reports) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l.polls.Wait() // every change is INSYNC by now (verify), so each poll has answered
	l.mu.Lock()
	var ids []string
	ackedAt := map[string]time.Time{}
	for _, a := range l.acked {
		ids = append(ids, a.change)
		ackedAt[a.change] = a.at
	}
	answered := maps.Clone(l.answered)
	l.mu.Unlock()
	c, err := pgx.Connect(ctx, l.f.DatabaseURL)
	if err != nil {
		return err.Error()
	}
	defer c.Close(ctx)
	type row struct {
		id                           string
		seq                          uint64
		submitted, published, insync time.Time
	}
	rows, err := c.Query(ctx, `
		SELECT c.id, c.stream_seq, c.submitted_at, o.published_at, c.insync_at
		  FROM change c JOIN outbox_event o ON o.change_id = c.id
		 WHERE c.id = ANY($1) AND c.insync_at IS NOT NULL AND o.published_at IS NOT NULL`, ids)
	if err != nil {
		return err.Error()
	}
	changes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		var seq int64
		err := r.Scan(&x.id, &seq, &x.submitted, &x.published, &x.insync)
		x.seq = uint64(seq)
		return x, err
	})
	if err != nil {
		return err.Error()
	}
	nc, err := nats.Connect(strings.Join(l.f.NATSURLs, ","), nats.Timeout(5*time.Second))
	if err != nil {
		return err.Error()
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err.Error()
	}
	st, err := js.Stream(ctx, event.StreamName)
	if err != nil {
		return err.Error()
	}
	regions := Regions()
	acked := stageTimes{name: "submit → acknowledged (transaction, the answer)"}
	toStream := stageTimes{name: "submit → in the stream (transaction, relay, publish)"}
	relayed := stageTimes{name: "acknowledged → in the stream (relay: NOTIFY, read, publish)"}
	toPublished := stageTimes{name: "in the stream → published (ack R3, record; aside)"}
	reported := make([]stageTimes, len(regions))
	back := make([]stageTimes, len(regions))
	for i, r := range regions {
		delay := ""
		if i < len(l.f.WANs) {
			delay = fmt.Sprintf(", %s one way", l.f.WANs[i].Delay)
		}
		reported[i] = stageTimes{name: fmt.Sprintf("in the stream → %s reported%s", r, delay)}
		back[i] = stageTimes{name: fmt.Sprintf("%s report sent → at the hub", r)}
	}
	tracker := stageTimes{name: "last report at the hub → INSYNC (tracker)"}
	total := stageTimes{name: "submit → INSYNC"}
	woken := stageTimes{name: "INSYNC → the client's long poll answered (aside)"}
	var missing int
	// The slowest changes' own stages: whether the tail is one stage's or
	// the sum of several.
	type slow struct {
		total, tx, relay, out, back, tracker time.Duration
	}
	var slowest []slow
	for _, ch := range changes {
		total.ds = append(total.ds, ch.insync.Sub(ch.submitted))
		if at, ok := ackedAt[ch.id]; ok {
			acked.ds = append(acked.ds, at.Sub(ch.submitted))
		}
		if at, ok := answered[ch.id]; ok {
			woken.ds = append(woken.ds, at.Sub(ch.insync))
		}
		mctx, mcancel := context.WithTimeout(ctx, 5*time.Second)
		m, err := st.GetMsg(mctx, ch.seq)
		mcancel()
		if err != nil {
			missing++
			continue
		}
		toStream.ds = append(toStream.ds, m.Time.Sub(ch.submitted))
		if at, ok := ackedAt[ch.id]; ok {
			relayed.ds = append(relayed.ds, m.Time.Sub(at))
		}
		toPublished.ds = append(toPublished.ds, ch.published.Sub(m.Time))
		var last time.Time
		complete := true
		for i, r := range regions {
			rep, ok := reps.first("ns-"+r, ch.seq)
			if !ok {
				complete = false
				continue
			}
			reported[i].ds = append(reported[i].ds, rep.sent.Sub(m.Time))
			back[i].ds = append(back[i].ds, rep.received.Sub(rep.sent))
			if rep.received.After(last) {
				last = rep.received
			}
		}
		if complete {
			tracker.ds = append(tracker.ds, ch.insync.Sub(last))
			far := len(regions) - 1
			rep, _ := reps.first("ns-"+regions[far], ch.seq)
			sl := slow{total: ch.insync.Sub(ch.submitted), tx: m.Time.Sub(ch.submitted),
				out: rep.sent.Sub(m.Time), back: rep.received.Sub(rep.sent), tracker: ch.insync.Sub(last)}
			if at, ok := ackedAt[ch.id]; ok {
				sl.tx, sl.relay = at.Sub(ch.submitted), m.Time.Sub(at)
			}
			slowest = append(slowest, sl)
		}
	}
	slices.SortFunc(slowest, func(a, b slow) int { return cmp.Compare(b.total, a.total) })
	var b strings.Builder
	fmt.Fprintf(&b, "stages of submit → INSYNC (%d changes, %d not found in the stream):", len(changes), missing)
	for _, s := range append(append(append([]stageTimes{total, acked, toStream, relayed, toPublished}, reported...), back...), tracker, woken) {
		b.WriteString("\n    " + s.String())
	}
	for _, sl := range slowest[:min(len(slowest), 5)] {
		fmt.Fprintf(&b, "\n    slow: %s = acknowledged %s + relay %s + to the farthest report %s + back %s; tracker %s",
			sl.total.Round(100*time.Microsecond), sl.tx.Round(100*time.Microsecond), sl.relay.Round(100*time.Microsecond),
			sl.out.Round(100*time.Microsecond), sl.back.Round(100*time.Microsecond), sl.tracker.Round(100*time.Microsecond))
	}
	for i, w := range l.f.WANs {
		fmt.Fprintf(&b, "\n    link lateness %-14s %s", regions[i], w.Lateness(false))
	}
	return b.String()
}
