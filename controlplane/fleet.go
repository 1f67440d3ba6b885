package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/retry"
)

// Defaults for TrackerConfig fields left zero.
const (
	// DefaultLiveTimeout is how long a nameserver counts as live after its
	// last heartbeat.
	DefaultLiveTimeout = 5 * time.Second
	// DefaultTrackerFlush is the longest a report that cannot turn a
	// change INSYNC waits before one tracker writes it: such reports
	// arriving in between are coalesced. A report that can is written at
	// once.
	DefaultTrackerFlush = 100 * time.Millisecond
	// DefaultForgetAfter is how long a silent nameserver stays listed.
	DefaultForgetAfter = 24 * time.Hour
	// MaxChangeWait caps WaitChange's timeout.
	MaxChangeWait = 60 * time.Second
)

// TrackerConfig configures a Tracker. The zero value is usable.
type TrackerConfig struct {
	// LiveTimeout is how long after its last heartbeat a nameserver still
	// counts as live. Default 5 s.
	LiveTimeout time.Duration
	// FlushInterval is the longest a report that cannot turn a change
	// INSYNC (a periodic heartbeat, a nameserver that others still wait
	// for) waits to be written; those arriving in between share one
	// write. A report that may turn changes INSYNC is written at once,
	// with every report waiting. Default 100 ms.
	FlushInterval time.Duration
	// ForgetAfter is how long a nameserver that stopped reporting stays
	// in the nameserver table (and in ListNameservers). Default 24 h.
	ForgetAfter time.Duration
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Logger receives flush failures, tagged component=tracker. Default:
	// discard.
	Logger *slog.Logger
	// ObserveInSync, if set, is called after each commit that turned
	// changes INSYNC, once per change, with the time from its submission
	// to its INSYNC (metrics).
	ObserveInSync func(time.Duration)
}

// Tracker follows the nameserver fleet through its heartbeats (core NATS)
// and turns changes INSYNC. It records each nameserver's report in the
// nameserver table and, after every flush and on a periodic tick, marks
// INSYNC every PENDING change whose stream sequence is at or below the
// lowest applied sequence of the live nameservers (ready, and heard from
// within LiveTimeout). With no live nameserver at all, changes stay
// PENDING: nothing has been seen to serve them.
//
// A report that may turn changes INSYNC — the node was the last to apply
// some sequence, it stopped or started being ready, it is new — is
// written as soon as it arrives (after the write in progress, if any,
// together with every report that arrived meanwhile: under load the
// writes coalesce by themselves); the others wait up to FlushInterval
// for a write to share (mayTurnInSync).
//
// Every API process runs its own tracker: all of them receive every
// heartbeat, their writes are idempotent (a report never overwrites a newer
// one of the same node), and the INSYNC update only touches PENDING rows,
// so they agree without a leader, and INSYNC keeps working while the relay
// leader changes hands.
type Tracker struct {
	pool *pgxpool.Pool
	nc   *nats.Conn
	cfg  TrackerConfig
	log  *slog.Logger

	mu      sync.Mutex
	pending map[string]heartbeatAt // newest unflushed report per node
	known   map[string]heartbeatAt // newest report per node, flushed or not
	urgent  chan struct{}          // a pending report may turn changes INSYNC
	wake    chan struct{}          // a pending report can wait FlushInterval
}

type heartbeatAt struct {
	event.Heartbeat
	received time.Time
}

// NewTracker returns a tracker that reads heartbeats from nc and writes
// through pool.
func NewTracker(pool *pgxpool.Pool, nc *nats.Conn, cfg TrackerConfig) *Tracker {
	if cfg.LiveTimeout <= 0 {
		cfg.LiveTimeout = DefaultLiveTimeout
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultTrackerFlush
	}
	if cfg.ForgetAfter <= 0 {
		cfg.ForgetAfter = DefaultForgetAfter
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Tracker{
		pool: pool, nc: nc, cfg: cfg, log: cfg.Logger.With("component", "tracker"),
		pending: make(map[string]heartbeatAt),
		known:   make(map[string]heartbeatAt),
		urgent:  make(chan struct{}, 1),
		wake:    make(chan struct{}, 1),
	}
}

// Run subscribes to heartbeats and flushes them until ctx is done. It
// returns an error only if it cannot subscribe.
func (t *Tracker) Run(ctx context.Context) error {
	sub, err := t.nc.Subscribe(event.HeartbeatSubject, t.receive)
	if err != nil {
		return fmt.Errorf("tracker: subscribe %s: %w", event.HeartbeatSubject, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	// The tick re-evaluates liveness: a dead nameserver stops blocking
	// INSYNC once its heartbeat is older than LiveTimeout.
	tick := time.NewTicker(max(t.cfg.LiveTimeout/4, 10*time.Millisecond))
	defer tick.Stop()
	forget := time.NewTicker(max(min(t.cfg.ForgetAfter/4, time.Hour), time.Millisecond))
	defer forget.Stop()
	// due is set while reports that can wait are pending: the end of
	// their FlushInterval.
	var due *time.Timer
	var dueC <-chan time.Time
	failed := retry.NewBackoff(10*time.Millisecond, time.Second)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.urgent:
		case <-t.wake:
			if due == nil {
				due = time.NewTimer(t.cfg.FlushInterval)
				dueC = due.C
			}
			continue
		case <-dueC:
		case <-tick.C:
		case <-forget.C:
			t.mu.Lock()
			for id, h := range t.known {
				if h.received.Before(t.cfg.Now().Add(-t.cfg.ForgetAfter)) {
					delete(t.known, id)
				}
			}
			t.mu.Unlock()
			if _, err := t.pool.Exec(ctx, `DELETE FROM nameserver WHERE last_heartbeat < $1`,
				t.cfg.Now().Add(-t.cfg.ForgetAfter).UTC()); err != nil && ctx.Err() == nil {
				t.log.Warn("tracker cannot forget silent nameservers", "err", err)
			}
		}
		// This flush writes every pending report, those that could wait
		// too; reports arriving during it signal again.
		if due != nil {
			due.Stop()
			due, dueC = nil, nil
		}
		if err := t.flush(ctx); err != nil && ctx.Err() == nil {
			t.log.Warn("tracker flush failed", "err", err)
			// The reports are pending again; a database that fails at
			// once is not asked again at once.
			if !retry.Sleep(ctx, failed.Next()) {
				return nil
			}
			continue
		}
		failed.Reset()
	}
}

// mayTurnInSync reports whether hb, the newest report of its node, may
// turn changes INSYNC, judged on the reports this tracker has seen (t.mu
// held, before hb goes into known): the node is new, or was not live,
// changed whether it is ready or what it serves, or applied more while
// every other live node that serves every name had applied more than it
// had — a change's last report is always one such, whoever sends it.
// A node serving some names only may not gate the same zones, so it is
// left out of the comparison, which only makes more reports urgent. A
// report judged wrongly as one that can wait (another tracker wrote
// reports this one never got) is written FlushInterval later, not lost.
func (t *Tracker) mayTurnInSync(hb event.Heartbeat, now time.Time) bool {
	live := func(h heartbeatAt) bool { return h.Ready && now.Before(h.received.Add(t.cfg.LiveTimeout)) }
	prev, ok := t.known[hb.NodeID]
	if !ok || !now.Before(prev.received.Add(t.cfg.LiveTimeout)) || prev.Ready != hb.Ready ||
		!slices.Equal(prev.Serves, hb.Serves) {
		return true
	}
	if !hb.Ready || hb.AppliedSeq <= prev.AppliedSeq {
		return false
	}
	for id, o := range t.known {
		if id != hb.NodeID && len(o.Serves) == 0 && live(o) && o.AppliedSeq <= prev.AppliedSeq {
			return false // o holds back whatever hb's node held back
		}
	}
	return true
}

func (t *Tracker) receive(m *nats.Msg) {
	hb, err := event.DecodeHeartbeat(m.Data)
	if err != nil {
		t.log.Debug("tracker ignores a bad heartbeat", "err", err)
		return
	}
	now := t.cfg.Now()
	h := heartbeatAt{Heartbeat: hb, received: now}
	t.mu.Lock()
	if old, ok := t.pending[hb.NodeID]; !ok || !hb.Sent.Before(old.Sent) {
		t.pending[hb.NodeID] = h
	}
	urgent := false // a report older than one seen changes nothing
	if old, ok := t.known[hb.NodeID]; !ok || !hb.Sent.Before(old.Sent) {
		urgent = t.mayTurnInSync(hb, now)
		t.known[hb.NodeID] = h
	}
	t.mu.Unlock()
	wake := t.wake
	if urgent {
		wake = t.urgent
	}
	select {
	case wake <- struct{}{}:
	default:
	}
}

// flush writes the pending reports and marks what is now INSYNC.
func (t *Tracker) flush(ctx context.Context) error {
	t.mu.Lock()
	batch := make([]heartbeatAt, 0, len(t.pending))
	for _, h := range t.pending {
		batch = append(batch, h)
	}
	clear(t.pending)
	t.mu.Unlock()
	// A fixed lock order keeps concurrent trackers from deadlocking.
	slices.SortFunc(batch, func(a, b heartbeatAt) int {
		switch {
		case a.NodeID < b.NodeID:
			return -1
		case a.NodeID > b.NodeID:
			return 1
		}
		return 0
	})
	now := t.cfg.Now().UTC()
	var insync []time.Duration
	err := retryConflicts(ctx, t.pool, func(tx pgx.Tx) error {
		insync = insync[:0]
		// Heartbeats are ephemeral and INSYNC marking is re-done on every
		// flush: a crash may lose the last few milliseconds of them
		// harmlessly, so the commit does not wait for the disk. The
		// setting, the lock and the reports go in one round trip.
		var b pgx.Batch
		b.Queue(`SET LOCAL synchronous_commit = off`)
		b.Queue(lockInSyncSQL, insyncLockKey)
		if len(batch) > 0 {
			n := len(batch)
			ids, regions := make([]string, n), make([]string, n)
			applied, zones, unservable := make([]int64, n), make([]int32, n), make([]int32, n)
			ready := make([]bool, n)
			serves := make([]string, n) // comma-joined: no arrays of arrays in unnest
			received, sent, liveUntil := make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
			for i, h := range batch {
				ids[i], regions[i] = h.NodeID, h.Region
				applied[i], zones[i], ready[i] = int64(h.AppliedSeq), int32(h.Zones), h.Ready
				unservable[i] = int32(min(h.Unservable, 1<<31-1))
				received[i], sent[i] = h.received.UTC(), h.Sent.UTC()
				liveUntil[i] = h.received.Add(t.cfg.LiveTimeout).UTC()
				serves[i] = strings.Join(h.Serves, ",")
			}
			b.Queue(
				`INSERT INTO nameserver AS ns (node_id, region, applied_seq, ready, zones,
				                               first_seen_at, last_heartbeat, sent_at, live_until, serves, unservable)
				 SELECT v.id, v.region, v.applied, v.ready, v.zones, v.received, v.received, v.sent, v.live_until,
				        coalesce(string_to_array(nullif(v.serves, ''), ','), '{}'), v.unservable
				   FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bool[], $5::int[],
				               $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], $9::text[], $10::int[])
				        AS v(id, region, applied, ready, zones, received, sent, live_until, serves, unservable)
				 ON CONFLICT (node_id) DO UPDATE
				    SET region = excluded.region, applied_seq = excluded.applied_seq,
				        ready = excluded.ready, zones = excluded.zones, serves = excluded.serves,
				        unservable = excluded.unservable,
				        last_heartbeat = excluded.last_heartbeat, sent_at = excluded.sent_at,
				        live_until = excluded.live_until
				  WHERE ns.sent_at IS NULL OR excluded.sent_at > ns.sent_at
				     OR (excluded.sent_at = ns.sent_at AND excluded.applied_seq > ns.applied_seq)`,
				ids, regions, applied, ready, zones, received, sent, liveUntil, serves, unservable)
		}
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return fmt.Errorf("lock insync, record heartbeats: %w", err)
		}
		var err error
		insync, err = markInSync(ctx, tx, now, insync)
		return err
	})
	if err == nil {
		observeAll(t.cfg.ObserveInSync, insync)
	}
	if err != nil {
		// Put the reports back unless newer ones arrived meanwhile.
		t.mu.Lock()
		for _, h := range batch {
			if old, ok := t.pending[h.NodeID]; !ok || old.Sent.Before(h.Sent) {
				t.pending[h.NodeID] = h
			}
		}
		t.mu.Unlock()
	}
	return err
}

// markInSync flips PENDING changes the live fleet has applied, and wakes
// waiters if it flipped any. It appends to took, and returns, each flipped
// change's time from submission to now.
func markInSync(ctx context.Context, tx pgx.Tx, now time.Time, took []time.Duration) ([]time.Duration, error) {
	// Only the live nodes serving one of the zone's pool names count (all
	// nodes serving every name do); a deleted zone's set is gone, and then
	// every live node counts. min() over no node is NULL: still PENDING.
	rows, err := tx.Query(ctx,
		`UPDATE change c SET status = 'INSYNC', insync_at = $1
		   FROM (SELECT p.id, (SELECT d.name_servers FROM hosted_zone z JOIN delegation_set d ON d.id = z.delegation_set_id
		                        WHERE z.id = p.zone_id) AS names
		           FROM change p WHERE p.status = 'PENDING' AND p.stream_seq IS NOT NULL) pc
		  WHERE c.id = pc.id AND c.stream_seq <= (
		        SELECT min(n.applied_seq) FROM nameserver n
		         WHERE n.ready AND n.live_until > $1 AND `+servesZone+`)
		 RETURNING c.submitted_at`, now)
	if err != nil {
		return took, fmt.Errorf("mark changes insync: %w", err)
	}
	n := len(took)
	took, err = appendSince(rows, now, took)
	if err != nil {
		return took, fmt.Errorf("mark changes insync: %w", err)
	}
	if len(took) > n {
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, insyncChannel); err != nil {
			return took, fmt.Errorf("notify insync: %w", err)
		}
	}
	return took, nil
}

// appendSince appends now minus each row's one timestamp to took (rows
// with NULL are skipped).
func appendSince(rows pgx.Rows, now time.Time, took []time.Duration) ([]time.Duration, error) {
	defer rows.Close()
	for rows.Next() {
		var at *time.Time
		if err := rows.Scan(&at); err != nil {
			return took, err
		}
		if at != nil {
			took = append(took, max(0, now.Sub(*at)))
		}
	}
	return took, rows.Err()
}

// observeAll hands each duration to observe, when there is one.
func observeAll(observe func(time.Duration), ds []time.Duration) {
	if observe == nil {
		return
	}
	for _, d := range ds {
		observe(d)
	}
}

// servesZone is the SQL condition "nameserver n serves a zone on pool names
// pc.names" (NULL names: a deleted zone, which every node had to drop).
const servesZone = `(cardinality(n.serves) = 0 OR pc.names IS NULL OR n.serves && pc.names)`

// isConflict reports whether err is a deadlock or serialization failure,
// after which the transaction can simply be retried.
func isConflict(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

// Progress says how far a change has spread through the fleet.
type Progress struct {
	// Live is the number of live nameservers.
	Live int
	// Applied is how many of them have applied the change.
	Applied int
}

// ChangeProgress returns the change and how many live nameservers have
// applied it, in one read. A change not yet published has Applied = 0.
func (s *Service) ChangeProgress(ctx context.Context, tenantID, changeID string) (ChangeInfo, Progress, error) {
	id, ok := cleanID(changeID)
	if !ok {
		return ChangeInfo{}, Progress{}, errNoSuchChange(displayID(changeID))
	}
	states, err := s.readChanges(ctx, tenantID, []string{id})
	if err != nil {
		return ChangeInfo{}, Progress{}, err
	}
	if len(states) == 0 {
		return ChangeInfo{}, Progress{}, errNoSuchChange(id)
	}
	return states[0].info, states[0].progress, nil
}

// readChanges reads the changes ids, with how many live nameservers serve
// each one's zone and how many of those have applied it, in one query; an
// empty tenantID reads them whoever owns them (the notifier's readings,
// whose waiters checked ownership with their own first read).
func (s *Service) readChanges(ctx context.Context, tenantID string, ids []string) ([]changeState, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT c.id, c.zone_id, c.zone_version, c.status, c.comment, c.submitted_at, c.insync_at, c.stream_seq,
		        (SELECT count(*) FROM nameserver n WHERE n.ready AND n.live_until > $3 AND `+servesZone+`),
		        (SELECT count(*) FROM nameserver n WHERE n.ready AND n.live_until > $3 AND `+servesZone+`
		            AND c.stream_seq IS NOT NULL AND n.applied_seq >= c.stream_seq)
		   FROM change c,
		        LATERAL (SELECT (SELECT d.name_servers FROM hosted_zone z JOIN delegation_set d ON d.id = z.delegation_set_id
		                          WHERE z.id = c.zone_id) AS names) pc
		  WHERE c.id = ANY($1) AND ($2 = '' OR c.tenant_id = $2)`, ids, tenantID, s.now())
	if err != nil {
		return nil, fmt.Errorf("read changes: %w", err)
	}
	states, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (changeState, error) {
		var st changeState
		var status string
		var seq *int64
		c := &st.info
		err := row.Scan(&c.ID, &c.ZoneID, &c.ZoneVersion, &status, &c.Comment, &c.SubmittedAt, &c.InSyncAt, &seq,
			&st.progress.Live, &st.progress.Applied)
		c.fill(status, seq)
		return st, err
	})
	if err != nil {
		return nil, fmt.Errorf("read changes: %w", err)
	}
	return states, nil
}

// WaitChange returns the change once it is INSYNC, or its current state
// when timeout (at most MaxChangeWait) passes first; it is not an error
// for the change to still be PENDING. It reads the change's row when it
// starts; in between and at the end it relies on the Service's one change
// notifier (notifier.go), which reads every waited change with one query
// per INSYNC notification and per backstop tick, so that a thousand
// waiters cost the database about what one does. An error is returned only
// for an unknown change, a database failure or the end of ctx.
func (s *Service) WaitChange(ctx context.Context, tenantID, changeID string, timeout time.Duration) (ChangeInfo, error) {
	c, _, err := s.WaitChangeProgress(ctx, tenantID, changeID, timeout)
	return c, err
}

// WaitChangeProgress is WaitChange that also says how far the change has
// spread (what GET /v1/changes/{id}?wait=insync answers). A long poll
// costs one read, shared with the polls of the same change that arrive
// with it; the answer after the wait is the notifier's
// newest reading, or a read of its own when the notifier has none newer
// than the poll's first read (a failed notifier query, a very short wait).
func (s *Service) WaitChangeProgress(ctx context.Context, tenantID, changeID string, timeout time.Duration) (ChangeInfo, Progress, error) {
	timeout = min(max(timeout, 0), MaxChangeWait)
	if timeout == 0 {
		return s.ChangeProgress(ctx, tenantID, changeID)
	}
	id, ok := cleanID(changeID)
	if !ok {
		return ChangeInfo{}, Progress{}, errNoSuchChange(displayID(changeID))
	}
	// The first read is shared by the polls of this change that arrive
	// together (bulk.go), so a burst of polls costs a few reads.
	c, p, err := s.readChangeOnce(ctx, tenantID, id)
	if err != nil || c.Status == StatusInSync {
		return c, p, err
	}
	read := time.Now()
	// Timers, not the service's clock: this is a wait in real time, which
	// a test's frozen clock must not make endless.
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	insync, latest, cancel := s.notifier().wait(c.ID)
	defer cancel()
	select {
	case <-ctx.Done():
		return ChangeInfo{}, Progress{}, ctx.Err()
	case <-deadline.C:
	case <-insync:
	case <-s.draining():
	}
	if st, ok := latest(read); ok {
		return st.info, st.progress, nil
	}
	return s.readChangeOnce(ctx, tenantID, id)
}

// Drain makes every long poll, waiting or yet to come, answer at once
// with the change's status as it is, as a timeout would: call it when the
// process is about to stop, before the HTTP server's shutdown waits for
// its requests, so that they end with an answer rather than with the
// database connections closed under them.
func (s *Service) Drain() {
	ch := s.draining()
	s.drainOnce.Do(func() { close(ch) })
}

// draining returns the channel Drain closes.
func (s *Service) draining() chan struct{} {
	s.drainInit.Do(func() { s.drain = make(chan struct{}) })
	return s.drain
}

// notifier returns the Service's change notifier.
func (s *Service) notifier() *changeNotifier {
	s.notifierOnce.Do(func() { s.changes = newChangeNotifier(s) })
	return s.changes
}

// Nameserver is one member of the fleet as the trackers last saw it.
type Nameserver struct {
	NodeID     string
	Region     string
	AppliedSeq uint64
	// Lag is how many events the node is behind: those published on the
	// stream after the last one it applied, plus those still waiting in
	// the outbox (a relay that cannot reach NATS leaves every node behind).
	Lag   uint64
	Ready bool
	Zones int
	// Unservable is how many record sets the node could not load (it
	// answers SERVFAIL for their names): non-zero means the planes
	// disagree on what is valid.
	Unservable    int
	FirstSeen     time.Time
	LastHeartbeat time.Time
	// Live is true when the node is ready and was heard from within the
	// tracker's liveness timeout: only live nodes gate INSYNC.
	Live bool
	// Serves are the pool names the node serves; empty: all.
	Serves []string
}

// ListNameservers returns every nameserver heard from within the
// trackers' ForgetAfter (default 24 h), by region and node id.
func (s *Service) ListNameservers(ctx context.Context) ([]Nameserver, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT n.node_id, n.region, n.applied_seq, n.ready, n.zones, n.unservable, n.first_seen_at, n.last_heartbeat,
		        n.ready AND n.live_until > $1,
		        GREATEST(coalesce((SELECT max(stream_seq) FROM outbox_event), 0) - n.applied_seq, 0)
		        + (SELECT count(*) FROM outbox_event WHERE published_at IS NULL), n.serves
		   FROM nameserver n ORDER BY n.region, n.node_id`, s.now())
	if err != nil {
		return nil, fmt.Errorf("list nameservers: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Nameserver, error) {
		var n Nameserver
		var applied, lag int64
		err := row.Scan(&n.NodeID, &n.Region, &applied, &n.Ready, &n.Zones, &n.Unservable, &n.FirstSeen, &n.LastHeartbeat, &n.Live, &lag, &n.Serves)
		n.AppliedSeq, n.Lag = uint64(applied), uint64(lag)
		n.FirstSeen, n.LastHeartbeat = n.FirstSeen.UTC(), n.LastHeartbeat.UTC()
		return n, err
	})
}
