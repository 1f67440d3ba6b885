package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/retry"
)

// Defaults for RelayConfig fields left zero.
const (
	DefaultRelayBatch      = 256
	DefaultRelayTick       = time.Second
	DefaultRelayAckWait    = 5 * time.Second
	DefaultRelayRetention  = 24 * time.Hour
	defaultRelayMaxBackoff = 5 * time.Second
	// relayStreamTimeout bounds one attempt to reach the zone stream and
	// relayStreamRetry the wait between attempts.
	relayStreamTimeout = 2 * time.Second
	relayStreamRetry   = 500 * time.Millisecond
)

// insyncChannel is the LISTEN/NOTIFY channel on which whoever flips changes
// to INSYNC announces it, so that waiters in any API process wake up.
const insyncChannel = "waymark_insync"

// RelayConfig configures a Relay. The zero value is usable.
type RelayConfig struct {
	// LockKey is the advisory lock that elects one leader among all relays
	// sharing a database. Default DefaultRelayLockKey.
	LockKey int64
	// Replicas is the zone stream's replica count: the relay creates the
	// stream with it, or updates an existing stream to it, every time it
	// starts leading (WAYMARK_NATS_REPLICAS). Default 1.
	Replicas int
	// BatchSize is the number of outbox rows published in one pipelined
	// batch before their acks are recorded. Default 256.
	BatchSize int
	// Tick is the backstop poll interval for missed notifications and
	// the interval at which a leader checks that its lock connection is
	// alive. Default 1 s.
	Tick time.Duration
	// AckWait bounds the wait for JetStream acks of one batch. Default 5 s.
	AckWait time.Duration
	// Retention is how long published outbox rows are kept; 0 means the
	// default of 24 h, a negative value keeps them forever.
	Retention time.Duration
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Logger receives leadership changes and publish failures, tagged
	// component=relay. Default: discard.
	Logger *slog.Logger
	// OnLeader, if set, is called with true when this relay becomes the
	// leader and false when it stops being it (tests and metrics).
	OnLeader func(bool)
	// ObservePublish, if set, is called once per outbox event recorded as
	// published, with the time from the event's transaction (its
	// created_at) to the recording of JetStream's ack (metrics).
	ObservePublish func(time.Duration)
	// ObserveInSync, as TrackerConfig.ObserveInSync, for the changes the
	// relay itself turns INSYNC (a fleet that applied them before the
	// relay recorded their sequence).
	ObserveInSync func(time.Duration)
}

// Relay moves committed zone events from the outbox table to the
// JetStream zone stream, in outbox order, and records each event's stream
// sequence on its change. Any number of relays may run (one per API
// process); a PostgreSQL session advisory lock held on a dedicated
// connection makes exactly one of them the leader. When the leader's
// process dies or its connection drops, the lock is released and a waiting
// relay takes over. Publishing is idempotent (Nats-Msg-Id = zone:version),
// so a takeover that re-publishes an event already in the stream is
// harmless.
type Relay struct {
	pool *pgxpool.Pool
	js   jetstream.JetStream
	cfg  RelayConfig
	log  *slog.Logger

	// Used only by the goroutine running Run.
	highWater uint64 // highest stream sequence known to be recorded
	idSuffix  string // appended to message ids after a stream realignment
	// The batches published and not yet recorded, oldest first.
	flights []*flight

	// onNATSWake, if set, is called for every wake-up from NATS (tests).
	onNATSWake func()
	// leading holds the wake-ups while this relay leads, for Wake.
	leading atomic.Pointer[wakeups]
}

// Wake wakes the relay if it leads in this process, and reports whether
// it did: a commit in the leader's own process needs no NATS message
// (whose hop through the NATS servers took 1–3 ms in the fleet test).
func (r *Relay) Wake() bool {
	w := r.leading.Load()
	if w == nil {
		return false
	}
	w.poke()
	return true
}

// errStreamBehind means the stream acknowledged an event with a sequence
// the outbox already used: the stream was reset or lost its tail.
var errStreamBehind = errors.New("zone stream acknowledged an already used sequence")

// NewRelay returns a relay that reads the outbox through pool and
// publishes on js's connection.
func NewRelay(pool *pgxpool.Pool, js jetstream.JetStream, cfg RelayConfig) *Relay {
	if cfg.LockKey == 0 {
		cfg.LockKey = DefaultRelayLockKey
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultRelayBatch
	}
	if cfg.Tick <= 0 {
		cfg.Tick = DefaultRelayTick
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = DefaultRelayAckWait
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRelayRetention
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// The relay needs its own JetStream context whose async publishes
	// time out: without a timeout, a publish whose ack never comes (sent
	// while the stream's leader was moving to another node) stays pending
	// in the context forever, and once 4000 such publishes have piled up
	// every new publish fails with ErrTooManyStalledMsgs — the relay then
	// publishes nothing until the connection happens to reconnect. With the
	// timeout a lost ack expires with its batch and the batch is retried.
	if own, err := jetstream.New(js.Conn(),
		jetstream.WithPublishAsyncTimeout(cfg.AckWait),
		jetstream.WithPublishAsyncMaxPending((maxFlights+1)*cfg.BatchSize)); err == nil {
		js = own
	}
	return &Relay{pool: pool, js: js, cfg: cfg, log: cfg.Logger.With("component", "relay")}
}

// Run campaigns for leadership and, while leader, relays the outbox. It
// returns only when ctx is done (with nil) — database and NATS failures
// are retried with backoff, never returned.
func (r *Relay) Run(ctx context.Context) error {
	e := &elector{
		pool: r.pool, key: r.cfg.LockKey, now: r.cfg.Now, log: r.log, onLeader: r.cfg.OnLeader,
		prepare: func(ctx context.Context, conn *pgx.Conn) error {
			if _, err := conn.Exec(ctx, `LISTEN `+notifyChannel); err != nil {
				return fmt.Errorf("listen %s: %w", notifyChannel, err)
			}
			return nil
		},
	}
	return e.run(ctx, func(ctx context.Context, conn *pgx.Conn) error {
		w, stop := r.listen(ctx, conn)
		defer stop()
		return r.lead(ctx, w)
	})
}

// wakeups are a leader's wake-ups, from NOTIFY on its lock connection and
// from NATS, and the lock connection's failure.
type wakeups struct {
	c    chan struct{} // buffered: one pending wake-up covers all before it
	errc chan error    // the lock connection failed (once)
}

func (w *wakeups) poke() {
	select {
	case w.c <- struct{}{}:
	default:
	}
}

// listen starts the leader's wake-ups: a goroutine that owns the lock
// connection, waits on it for notifications and checks it after every
// Tick of silence, and a subscription to event.OutboxWakeSubject. stop
// ends both, and returns once the connection is the caller's again.
func (r *Relay) listen(ctx context.Context, conn *pgx.Conn) (*wakeups, func()) {
	w := &wakeups{c: make(chan struct{}, 1), errc: make(chan error, 1)}
	var sub *nats.Subscription
	if nc := r.js.Conn(); nc != nil {
		var err error
		if sub, err = nc.Subscribe(event.OutboxWakeSubject, func(*nats.Msg) {
			if r.onNATSWake != nil {
				r.onNATSWake()
			}
			w.poke()
		}); err != nil {
			// NATS unreachable: the relay cannot publish either; NOTIFY
			// and the tick wake it for when it can.
			r.log.Warn("relay cannot subscribe to its wake-ups", "subject", event.OutboxWakeSubject, "err", err)
			sub = nil
		} else if err := nc.FlushTimeout(2 * time.Second); err != nil {
			// Subscribed once our server has it: a commit after the first
			// read of the outbox (which follows) then wakes us, from a
			// client of another node once the interest has reached it
			// (a moment later; the tick covers that moment).
			r.log.Warn("relay wake-up subscription not confirmed", "subject", event.OutboxWakeSubject, "err", err)
		}
	}
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			err := r.waitNotification(lctx, conn, w)
			if lctx.Err() != nil {
				return
			}
			if err != nil {
				w.errc <- err
				return
			}
		}
	}()
	r.leading.Store(w)
	stop := func() {
		r.leading.Store(nil)
		if sub != nil {
			_ = sub.Unsubscribe()
		}
		cancel()
		<-done
	}
	return w, stop
}

// lead relays the outbox while conn (which holds the lock) stays healthy.
func (r *Relay) lead(ctx context.Context, w *wakeups) error {
	// A record still in flight from an earlier term (its context is
	// gone, so it ends soon) must not be mistaken for this term's.
	_ = r.settle()
	defer func() { _ = r.settle() }()
	backoff := retry.NewBackoff(50*time.Millisecond, defaultRelayMaxBackoff)
	// The stream unreachable is usually a leader election (4–9 s in
	// nats-server): ask again often, so that publishing resumes within a
	// second of its end rather than up to a whole backoff later.
	streamBackoff := retry.NewBackoff(50*time.Millisecond, relayStreamRetry)
	streamReady := false
	lastPrune := time.Time{}
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !streamReady {
			if err := r.ensureStream(ctx); err != nil {
				r.log.Warn("relay cannot reach the zone stream", "err", err)
				if err := r.waitQuiet(ctx, w, streamBackoff.Next()); err != nil {
					return err
				}
				continue
			}
			streamBackoff.Reset()
			streamReady = true
		}
		n, err := r.publishBatch(ctx)
		if err == nil && n < r.cfg.BatchSize {
			if now := r.cfg.Now(); r.cfg.Retention > 0 && now.Sub(lastPrune) > time.Hour {
				lastPrune = now
				r.prune(ctx)
			}
			err = r.waitWake(ctx, w, r.cfg.Tick)
			if err != nil && !errors.Is(err, errFlight) {
				return err
			}
		}
		if err != nil {
			// Whatever was in flight is recorded, or failed and will be
			// published again, before the stream is looked at.
			_ = r.settle()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, errStreamBehind) {
				// Re-publish under new ids: the stream's duplicate window
				// remembers the old ids at the reused sequences.
				r.idSuffix = fmt.Sprintf("@%d", r.highWater+1)
			}
			r.log.Warn("relay publish failed; outbox rows wait", "err", err)
			// After any failure (NATS restarted, stream gone) check the
			// stream again before publishing more.
			streamReady = false
			if err := r.waitQuiet(ctx, w, backoff.Next()); err != nil {
				return err
			}
			continue
		}
		backoff.Reset()
	}
}

// waitWake waits for a wake-up or d, whichever comes first, taking
// flights off the queue as they land. Its error is one wrapping
// errFlight when a flight failed, else it means the lock connection is
// gone (or ctx is done).
func (r *Relay) waitWake(ctx context.Context, w *wakeups, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-w.c:
			return nil
		case <-t.C:
			return nil
		case <-r.landed():
			if err := r.reap(false); err != nil {
				return fmt.Errorf("%w: %w", errFlight, err)
			}
		case err := <-w.errc:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// errFlight marks waitWake's error for a batch that failed in flight.
var errFlight = errors.New("a published batch failed")

// waitQuiet waits for d whatever wake-ups arrive (they are consumed: the
// next batch reads every waiting row anyway), unless the lock connection
// fails. It is the backoff after a failure, which a busy outbox must not
// cut short.
func (r *Relay) waitQuiet(ctx context.Context, w *wakeups, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-w.c:
		case <-t.C:
			return nil
		case err := <-w.errc:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// waitNotification waits on the lock connection for a notification, or
// for Tick, after which it checks that the connection is alive. Its error
// means the connection is gone.
func (r *Relay) waitNotification(ctx context.Context, conn *pgx.Conn, w *wakeups) error {
	wctx, cancel := context.WithTimeout(ctx, r.cfg.Tick)
	defer cancel()
	_, err := conn.WaitForNotification(wctx)
	switch {
	case err == nil:
		w.poke()
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, context.DeadlineExceeded) || wctx.Err() != nil:
		// A timeout may leave the connection closed by pgx; check it.
		if conn.IsClosed() {
			return errors.New("relay lock connection closed")
		}
		if err := conn.Ping(ctx); err != nil {
			return fmt.Errorf("relay lock connection: %w", err)
		}
		return nil
	default:
		return fmt.Errorf("wait for outbox notification: %w", err)
	}
}

// ensureStream creates or updates the zone stream, and keeps its
// sequences ahead of every sequence the outbox has recorded. A stream that
// is behind was reset (NATS storage lost, stream deleted) or lost its tail
// in a crash; nameservers and INSYNC compare sequences, so new events must
// never reuse old numbers. The stream is then realigned to start after the
// highest recorded sequence: nameservers that miss events find the gap
// and re-load a snapshot.
func (r *Relay) ensureStream(ctx context.Context) error {
	// A request sent while the stream has no leader is never answered:
	// a short timeout and a prompt retry find the new leader soonest.
	cctx, cancel := context.WithTimeout(ctx, min(r.cfg.AckWait, relayStreamTimeout))
	defer cancel()
	var recorded int64
	if err := r.pool.QueryRow(cctx,
		`SELECT coalesce(max(stream_seq), 0) FROM outbox_event`).Scan(&recorded); err != nil {
		return fmt.Errorf("read recorded stream position: %w", err)
	}
	cfg := event.ZoneStreamConfig(r.cfg.Replicas)
	st, err := r.js.Stream(cctx, cfg.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		cfg.FirstSeq = uint64(recorded) + 1
		st, err = r.js.CreateStream(cctx, cfg)
	} else if err == nil {
		st, err = r.js.UpdateStream(cctx, cfg)
	}
	if err != nil {
		return fmt.Errorf("ensure stream %s: %w", cfg.Name, err)
	}
	info, err := st.Info(cctx)
	if err != nil {
		return fmt.Errorf("stream %s info: %w", cfg.Name, err)
	}
	r.highWater = max(r.highWater, uint64(recorded))
	if info.State.LastSeq < uint64(recorded) {
		r.log.Error("zone stream is behind the outbox (reset or lost messages); realigning its sequence",
			"stream_last_seq", info.State.LastSeq, "recorded_seq", recorded)
		if err := st.Purge(cctx, jetstream.WithPurgeSequence(uint64(recorded)+1)); err != nil {
			return fmt.Errorf("realign stream %s: %w", cfg.Name, err)
		}
	}
	return nil
}

type outboxRow struct {
	id       int64
	zoneID   string
	version  int64
	changeID *string
	payload  []byte
	created  time.Time
}

// A flight is one published batch on its way to being recorded: its
// acks awaited and its rows recorded in the background, while the relay
// reads and publishes the next batches. Nameservers get events as soon
// as the stream stores them, so every millisecond the relay spent waiting
// for R3 acks and recording was one that events committed meanwhile
// waited: a burst of four commits had the last three wait for the first
// one's acks (2.3 ms at the median in the fleet test).
type flight struct {
	ids  []int64       // its outbox rows, not to be read again meanwhile
	done chan struct{} // closed once top and err are set
	top  uint64        // its highest recorded sequence (0 if none)
	err  error
}

// maxFlights bounds the batches in flight.
const maxFlights = 4

// land waits for f's acks and, once the flight before it (prev, nil for
// none) is recorded, records f's acknowledged prefix. Records stay in
// order: if prev failed, f is not recorded either and both are published
// again (the stream de-duplicates them, with their first sequences).
// used is the highest sequence recorded before prev.
func (r *Relay) land(ctx context.Context, f, prev *flight, used uint64, batch []outboxRow, futures []jetstream.PubAckFuture, sendErr error) {
	defer close(f.done)
	seqs := make([]uint64, 0, len(futures))
	timer := time.NewTimer(r.cfg.AckWait)
	defer timer.Stop()
	err := sendErr
wait:
	for i, fu := range futures {
		select {
		case ack := <-fu.Ok():
			seqs = append(seqs, ack.Sequence)
		case e := <-fu.Err():
			err = fmt.Errorf("publish outbox event %d: %w", batch[i].id, e)
			break wait
		case <-timer.C:
			err = fmt.Errorf("publish outbox event %d: no ack within %s", batch[i].id, r.cfg.AckWait)
			break wait
		case <-ctx.Done():
			f.err = ctx.Err()
			return
		}
	}
	if prev != nil {
		<-prev.done
		if prev.err != nil {
			f.err = fmt.Errorf("not recorded after an earlier batch failed: %w", prev.err)
			return
		}
		used = max(used, prev.top)
	}
	// Sequences at or below those recorded were used already.
	for i, seq := range seqs {
		if seq <= used {
			r.log.Error("zone stream reused a sequence; realigning it", "seq", seq, "recorded", used,
				"outbox_id", batch[i].id)
			f.err = fmt.Errorf("%w: %d <= %d", errStreamBehind, seq, used)
			return
		}
	}
	if len(seqs) > 0 {
		// Record only the acknowledged prefix: later rows, even if they
		// were stored, are re-published (and de-duplicated) next time.
		if e := r.record(ctx, batch[:len(seqs)], seqs); e != nil {
			f.err = e
			return
		}
		f.top = seqs[len(seqs)-1]
	}
	f.err = err
}

// reap takes the landed flights off the front of the queue, oldest
// first, and returns the first one's error; with wait it waits for all.
func (r *Relay) reap(wait bool) error {
	var first error
	for len(r.flights) > 0 {
		f := r.flights[0]
		if wait {
			<-f.done
		} else {
			select {
			case <-f.done:
			default:
				return first
			}
		}
		r.flights = r.flights[1:]
		r.highWater = max(r.highWater, f.top)
		if f.err != nil && first == nil {
			first = f.err
		}
	}
	return first
}

// settle waits for every flight and returns the first error; once it
// returns nil, every sequence published so far is recorded.
func (r *Relay) settle() error { return r.reap(true) }

// landed is closed when the oldest flight lands (nil with none in flight:
// never ready), so that an idle relay notices a failure.
func (r *Relay) landed() <-chan struct{} {
	if len(r.flights) == 0 {
		return nil
	}
	return r.flights[0].done
}

// inFlight returns the outbox ids of every flight (never nil: <> ALL(NULL)
// is no row).
func (r *Relay) inFlight() []int64 {
	ids := []int64{}
	for _, f := range r.flights {
		ids = append(ids, f.ids...)
	}
	return ids
}

// publishBatch publishes up to BatchSize unpublished rows, pipelined on
// the one connection (JetStream stores them in the order sent), and puts
// them in flight (land records them); it returns how many it sent, or
// the error of a flight that failed (the caller settles the rest).
func (r *Relay) publishBatch(ctx context.Context) (int, error) {
	if err := r.reap(false); err != nil {
		return 0, err
	}
	if len(r.flights) >= maxFlights {
		<-r.flights[0].done
		if err := r.reap(false); err != nil {
			return 0, err
		}
	}
	rows, err := r.pool.Query(ctx,
		`SELECT id, zone_id, zone_version, change_id, payload, created_at
		   FROM outbox_event WHERE published_at IS NULL AND id <> ALL($2::bigint[]) ORDER BY id LIMIT $1`,
		r.cfg.BatchSize, r.inFlight())
	if err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	batch, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (outboxRow, error) {
		var o outboxRow
		err := row.Scan(&o.id, &o.zoneID, &o.version, &o.changeID, &o.payload, &o.created)
		return o, err
	})
	if err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	if len(batch) == 0 {
		return 0, nil
	}
	futures := make([]jetstream.PubAckFuture, 0, len(batch))
	var sendErr error
	for _, o := range batch {
		msg := nats.NewMsg(event.ZoneSubject(o.zoneID))
		msg.Data = o.payload
		msg.Header.Set(jetstream.MsgIDHeader, event.MsgID(o.zoneID, o.version)+r.idSuffix)
		f, err := r.js.PublishMsgAsync(msg)
		if err != nil {
			sendErr = fmt.Errorf("publish outbox event %d: %w", o.id, err)
			break
		}
		futures = append(futures, f)
	}
	if len(futures) == 0 {
		return 0, sendErr
	}
	f := &flight{done: make(chan struct{})}
	for _, o := range batch[:len(futures)] {
		f.ids = append(f.ids, o.id)
	}
	var prev *flight
	if n := len(r.flights); n > 0 {
		prev = r.flights[n-1]
	}
	r.flights = append(r.flights, f)
	go r.land(ctx, f, prev, r.highWater, batch, futures, sendErr)
	if sendErr != nil {
		// The sent prefix lands; the rest waits for the next attempt.
		return len(futures), sendErr
	}
	return len(futures), nil
}

// record marks rows as published with their stream sequences, sets the
// sequence on their changes, and flips to INSYNC any change the live fleet
// has already applied (a fast fleet may report before we get here).
func (r *Relay) record(ctx context.Context, batch []outboxRow, seqs []uint64) error {
	ids := make([]int64, len(batch))
	iseqs := make([]int64, len(batch))
	var changeIDs []string
	var changeSeqs []int64
	for i, o := range batch {
		ids[i] = o.id
		iseqs[i] = int64(seqs[i])
		if o.changeID != nil {
			changeIDs = append(changeIDs, *o.changeID)
			changeSeqs = append(changeSeqs, int64(seqs[i]))
		}
	}
	now := r.cfg.Now().UTC()
	var insync []time.Duration
	err := retryConflicts(ctx, r.pool, func(tx pgx.Tx) error {
		insync = insync[:0]
		// One round trip for the whole record: the relay publishes the
		// next events only after it, so every one saved is a
		// millisecond less for events committed meanwhile.
		var b pgx.Batch
		// Losing this record in a database crash only means publishing
		// the rows again, which the stream de-duplicates (and nameservers
		// skip by version): no need to wait for the disk.
		b.Queue(`SET LOCAL synchronous_commit = off`)
		b.Queue(
			`UPDATE outbox_event o SET published_at = $3, stream_seq = v.seq
			   FROM unnest($1::bigint[], $2::bigint[]) AS v(id, seq)
			  WHERE o.id = v.id`, ids, iseqs, now)
		if len(changeIDs) == 0 {
			if err := tx.SendBatch(ctx, &b).Close(); err != nil {
				return fmt.Errorf("record published outbox rows: %w", err)
			}
			return nil
		}
		b.Queue(lockInSyncSQL, insyncLockKey)
		// As in markInSync, only the live nodes serving one of the zone's
		// pool names count. The join on old reads each row as it was
		// before the update: RETURNING names the changes this update
		// turned INSYNC, for the latency histogram.
		b.Queue(
			`UPDATE change c
			    SET stream_seq = v.seq,
			        status    = CASE WHEN v.seq <= live.seq THEN 'INSYNC' ELSE c.status END,
			        insync_at = CASE WHEN v.seq <= live.seq THEN $3 ELSE c.insync_at END
			   FROM unnest($1::text[], $2::bigint[]) AS v(id, seq)
			        CROSS JOIN LATERAL (
			          SELECT min(n.applied_seq) AS seq
			            FROM nameserver n,
			                 (SELECT (SELECT d.name_servers FROM change c2
			                            JOIN hosted_zone z ON z.id = c2.zone_id
			                            JOIN delegation_set d ON d.id = z.delegation_set_id
			                           WHERE c2.id = v.id) AS names) pc
			           WHERE n.ready AND n.live_until > $3 AND `+servesZone+`) live,
			        change old
			  WHERE c.id = v.id AND old.id = v.id
			 RETURNING CASE WHEN c.status = 'INSYNC' AND old.status <> 'INSYNC' THEN c.submitted_at END`,
			changeIDs, changeSeqs, now)
		// Cheap enough to always send: waiters re-check their change.
		b.Queue(`SELECT pg_notify($1, '')`, insyncChannel)
		br := tx.SendBatch(ctx, &b)
		var err error
		for _, what := range []string{"record published outbox rows", "record published outbox rows", "lock insync"} {
			if _, err = br.Exec(); err != nil {
				_ = br.Close()
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		rows, err := br.Query()
		if err == nil {
			insync, err = appendSince(rows, now, insync)
		}
		if err != nil {
			_ = br.Close()
			return fmt.Errorf("record change stream sequences: %w", err)
		}
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return fmt.Errorf("notify insync: %w", err)
		}
		return br.Close()
	})
	if err != nil {
		return err
	}
	if r.cfg.ObservePublish != nil {
		for _, o := range batch {
			r.cfg.ObservePublish(max(0, now.Sub(o.created)))
		}
	}
	observeAll(r.cfg.ObserveInSync, insync)
	return nil
}

// prune deletes published outbox rows older than the retention, always
// keeping the newest published row: it carries the stream position that
// snapshots report.
func (r *Relay) prune(ctx context.Context) {
	cutoff := r.cfg.Now().Add(-r.cfg.Retention)
	tag, err := r.pool.Exec(ctx,
		`DELETE FROM outbox_event
		  WHERE published_at IS NOT NULL AND published_at < $1
		    AND id < (SELECT max(id) FROM outbox_event WHERE published_at IS NOT NULL)`, cutoff)
	if err != nil {
		r.log.Warn("relay prune failed", "err", err)
		return
	}
	if n := tag.RowsAffected(); n > 0 {
		r.log.Info("relay pruned published outbox rows", "rows", n)
	}
}

// retryConflicts runs fn in a read-committed transaction, retrying on deadlocks
// and serialization failures, which concurrent trackers can cause.
func retryConflicts(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = pgx.BeginFunc(ctx, pool, fn)
		if err == nil || !isConflict(err) {
			return err
		}
	}
	return err
}
