package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/healthcfg"
)

// HealthyPercent is Route 53's rule: a check is healthy when more than 18%
// of its checkers report it healthy.
const HealthyPercent = 18

// RuleHealthy applies Route 53's 18% rule to healthy checkers out of
// total: true when healthy/total > 18%. With no checkers it is false.
func RuleHealthy(healthy, total int) bool {
	return total > 0 && 100*healthy > HealthyPercent*total
}

// Step applies one probe result to a region's view of a check: the view
// flips only after threshold consecutive results that disagree with it
// (Route 53's failure threshold, which counts passes and failures alike).
func Step(st *event.HealthRegionState, ok bool, threshold int) {
	threshold = max(threshold, 1)
	st.LastOK = ok
	if ok == st.Healthy {
		st.Streak = 0
		return
	}
	st.Streak++
	if st.Streak >= threshold {
		st.Healthy, st.Streak = ok, 0
	}
}

// Calculated applies a calculated check's rule: healthy when at least
// threshold of its children are healthy (0 means always healthy; more
// than the children means never).
func Calculated(healthyChildren, threshold int) bool { return healthyChildren >= threshold }

// Store is where the aggregator keeps its state: the control plane's
// PostgreSQL (*controlplane.Service implements it). The methods speak in
// event types so that neither package imports the other.
type Store interface {
	// HealthConfigChanges returns the checks written since a revision (0:
	// all of them, as a Full delta) and the ones deleted since.
	HealthConfigChanges(ctx context.Context, since int64) (event.HealthConfigDelta, error)
	// HealthRegionStates returns the stored region views of live checks.
	HealthRegionStates(ctx context.Context) ([]event.HealthRegionState, error)
	// SaveHealth stores region views, status transitions (in order) and
	// per-minute rollups of the observations (added to what is stored).
	SaveHealth(ctx context.Context, regions []event.HealthRegionState, transitions []event.HealthStatus, minutes []event.HealthMinute) error
}

// Defaults for AggregatorConfig fields left zero.
const (
	DefaultPollInterval     = time.Second
	DefaultFullSyncInterval = 30 * time.Second
	DefaultFlushInterval    = 250 * time.Millisecond
	DefaultStaleSlack       = 5 * time.Second
)

// AggregatorConfig configures an Aggregator. NATS and Store are required.
type AggregatorConfig struct {
	NATS  *nats.Conn
	Store Store
	// Replicas of the two KV buckets when the aggregator creates them.
	Replicas int
	// PollInterval is how often configuration changes are read from the
	// store (and staleness re-evaluated). Default 1 s.
	PollInterval time.Duration
	// FullSyncInterval is how often the whole configuration is re-read,
	// which heals a change missed by the incremental poll (a transaction
	// that committed a lower revision late). Default 30 s.
	FullSyncInterval time.Duration
	// FlushInterval is how often region views and transitions are written
	// to the store. Default 250 ms.
	FlushInterval time.Duration
	// StaleSlack: a region's last observation counts for three request
	// intervals plus StaleSlack; after that the region is left out of the
	// 18% rule (its checkers are gone). Default 5 s.
	StaleSlack time.Duration
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Logger receives operational logs. Default: discard.
	Logger *slog.Logger
}

// Aggregator turns observations into statuses. It keeps each region's
// view of each check (failure threshold), applies the 18% rule across
// regions, inversion, disabling and calculated checks, publishes status
// changes to the [event.HealthStatusBucket] KV bucket at once, writes the
// region views and transitions to the store, and mirrors the check
// configurations from the store into [event.HealthChecksBucket] for the
// checkers.
//
// Exactly one aggregator may run at a time: run it under a leader lock
// (controlplane.Service.RunLeader with controlplane.DefaultHealthLockKey).
// A new leader resumes from the stored region views and statuses.
type Aggregator struct {
	cfg AggregatorConfig
	log *slog.Logger

	// The fields below belong to Run's goroutine.
	cfgKV, stKV jetstream.KeyValue
	checks      map[string]event.HealthCheck
	status      map[string]event.HealthStatus
	regions     map[string]map[string]*event.HealthRegionState
	parents     map[string][]string // child id -> calculated parents
	rev         int64
	lastFull    time.Time
	dirty       map[[2]string]bool // (check, region) views to store
	transitions []event.HealthStatus
	kvPending   map[string]bool                   // statuses not yet in the KV bucket
	minutes     map[minuteKey]*event.HealthMinute // rollups to store
}

// minuteKey names one rollup: a check, a region, a minute.
type minuteKey struct {
	check, region string
	minute        time.Time
}

// NewAggregator returns an aggregator.
func NewAggregator(cfg AggregatorConfig) (*Aggregator, error) {
	if cfg.NATS == nil || cfg.Store == nil {
		return nil, errors.New("healthcheck: aggregator needs NATS and a store")
	}
	cfg.PollInterval = cmpOr(cfg.PollInterval, DefaultPollInterval)
	cfg.FullSyncInterval = cmpOr(cfg.FullSyncInterval, DefaultFullSyncInterval)
	cfg.FlushInterval = cmpOr(cfg.FlushInterval, DefaultFlushInterval)
	cfg.StaleSlack = cmpOr(cfg.StaleSlack, DefaultStaleSlack)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Aggregator{cfg: cfg, log: cfg.Logger.With("component", "health-aggregator")}, nil
}

// Run aggregates until ctx is done (then it returns nil after a last
// flush) or until it cannot start (it returns the error; RunLeader
// retries). Store and KV failures while running are logged and retried.
func (a *Aggregator) Run(ctx context.Context) error {
	a.checks = map[string]event.HealthCheck{}
	a.status = map[string]event.HealthStatus{}
	a.regions = map[string]map[string]*event.HealthRegionState{}
	a.parents = map[string][]string{}
	a.dirty = map[[2]string]bool{}
	a.kvPending = map[string]bool{}
	a.minutes = map[minuteKey]*event.HealthMinute{}
	a.transitions, a.rev = nil, 0

	js, err := jetstream.New(a.cfg.NATS)
	if err != nil {
		return fmt.Errorf("healthcheck: jetstream: %w", err)
	}
	if a.cfgKV, err = js.CreateOrUpdateKeyValue(ctx, event.HealthChecksKVConfig(a.cfg.Replicas)); err != nil {
		return fmt.Errorf("healthcheck: %s bucket: %w", event.HealthChecksBucket, err)
	}
	if a.stKV, err = js.CreateOrUpdateKeyValue(ctx, event.HealthStatusKVConfig(a.cfg.Replicas)); err != nil {
		return fmt.Errorf("healthcheck: %s bucket: %w", event.HealthStatusBucket, err)
	}
	states, err := a.cfg.Store.HealthRegionStates(ctx)
	if err != nil {
		return fmt.Errorf("healthcheck: load region views: %w", err)
	}
	for i := range states {
		st := states[i]
		if a.regions[st.CheckID] == nil {
			a.regions[st.CheckID] = map[string]*event.HealthRegionState{}
		}
		a.regions[st.CheckID][st.Region] = &st
	}
	// Subscribe before loading the configuration: observations of checks
	// created meanwhile wait in the channel.
	obs := make(chan *nats.Msg, 16384)
	sub, err := a.cfg.NATS.ChanSubscribe(event.HealthObservedAll, obs)
	if err != nil {
		return fmt.Errorf("healthcheck: subscribe %s: %w", event.HealthObservedAll, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := a.sync(ctx, true); err != nil {
		return err
	}
	if err := a.reconcileKV(ctx); err != nil {
		return err
	}
	a.log.Info("health aggregator started", "checks", len(a.checks))

	poll := time.NewTicker(a.cfg.PollInterval)
	defer poll.Stop()
	flush := time.NewTicker(a.cfg.FlushInterval)
	defer flush.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			a.flush(fctx)
			cancel()
			return nil
		case m := <-obs:
			a.observe(ctx, m.Data)
		case <-poll.C:
			full := a.cfg.Now().Sub(a.lastFull) >= a.cfg.FullSyncInterval
			if err := a.sync(ctx, full); err != nil && ctx.Err() == nil {
				a.log.Warn("health check configuration poll failed", "err", err)
			}
			for id := range a.checks {
				a.evaluate(ctx, id)
			}
			a.pushKV(ctx)
		case <-flush.C:
			a.flush(ctx)
		}
	}
}

// sync applies the configuration changes since the last poll (or all of
// it) to the in-memory state and the configuration bucket.
func (a *Aggregator) sync(ctx context.Context, full bool) error {
	since := a.rev
	if full {
		since = 0
	}
	d, err := a.cfg.Store.HealthConfigChanges(ctx, since)
	if err != nil {
		return fmt.Errorf("healthcheck: read configuration: %w", err)
	}
	if d.Full {
		a.lastFull = a.cfg.Now()
		live := map[string]bool{}
		for _, hc := range d.Checks {
			live[hc.ID] = true
		}
		for id := range a.checks {
			if !live[id] {
				d.Deleted = append(d.Deleted, id)
			}
		}
	}
	a.rev = max(a.rev, d.Revision)
	for _, id := range d.Deleted {
		a.remove(ctx, id)
	}
	var touched []string
	for i, hc := range d.Checks {
		old, known := a.checks[hc.ID]
		if known && old.Version == hc.Version {
			continue
		}
		a.checks[hc.ID] = hc
		touched = append(touched, hc.ID)
		if !known {
			st := d.Status[i]
			st.CheckID = hc.ID
			a.status[hc.ID] = st
			a.kvPending[hc.ID] = true
		}
		if a.cfgKV != nil {
			a.putConfig(ctx, hc)
		}
	}
	if len(touched) > 0 || len(d.Deleted) > 0 {
		a.rebuildParents()
	}
	for _, id := range touched {
		a.evaluate(ctx, id)
	}
	a.pushKV(ctx)
	return nil
}

func (a *Aggregator) putConfig(ctx context.Context, hc event.HealthCheck) {
	b, err := hc.Encode()
	if err == nil {
		_, err = a.cfgKV.Put(ctx, hc.ID, b)
	}
	if err != nil {
		a.log.Warn("cannot publish a health check configuration", "check", hc.ID, "err", err)
	}
}

// reconcileKV makes both buckets equal to the in-memory state: a new
// leader cannot know what a previous one left undone.
func (a *Aggregator) reconcileKV(ctx context.Context) error {
	for _, kv := range []jetstream.KeyValue{a.cfgKV, a.stKV} {
		lister, err := kv.ListKeys(ctx)
		if err != nil {
			return fmt.Errorf("healthcheck: list keys: %w", err)
		}
		var stale []string
		for k := range lister.Keys() {
			if _, ok := a.checks[k]; !ok {
				stale = append(stale, k)
			}
		}
		for _, k := range stale {
			if err := kv.Delete(ctx, k); err != nil {
				return fmt.Errorf("healthcheck: delete stale key %s: %w", k, err)
			}
		}
	}
	for id, hc := range a.checks {
		a.putConfig(ctx, hc)
		a.kvPending[id] = true
	}
	a.pushKV(ctx)
	return nil
}

func (a *Aggregator) remove(ctx context.Context, id string) {
	if _, ok := a.checks[id]; !ok {
		return
	}
	delete(a.checks, id)
	delete(a.status, id)
	delete(a.regions, id)
	delete(a.kvPending, id)
	for k := range a.minutes {
		if k.check == id {
			delete(a.minutes, k)
		}
	}
	for k := range a.dirty {
		if k[0] == id {
			delete(a.dirty, k)
		}
	}
	for _, kv := range []jetstream.KeyValue{a.cfgKV, a.stKV} {
		if kv == nil {
			continue
		}
		if err := kv.Delete(ctx, id); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			a.log.Warn("cannot delete a health check key", "check", id, "err", err)
		}
	}
}

func (a *Aggregator) rebuildParents() {
	clear(a.parents)
	for id, hc := range a.checks {
		if hc.Type != healthcfg.Calculated {
			continue
		}
		for _, c := range hc.ChildHealthChecks {
			a.parents[c] = append(a.parents[c], id)
		}
	}
}

// observe applies one observation.
func (a *Aggregator) observe(ctx context.Context, data []byte) {
	o, err := event.DecodeHealthObservation(data)
	if err != nil {
		a.log.Debug("ignoring a bad observation", "err", err)
		return
	}
	hc, ok := a.checks[o.CheckID]
	if !ok || !hc.ProbedIn(o.Region) {
		return // unknown (maybe not yet polled), disabled, or not probed there
	}
	if o.CheckVersion != 0 && o.CheckVersion < hc.Version {
		return // probed with an older configuration (another address, say)
	}
	views := a.regions[o.CheckID]
	if views == nil {
		views = map[string]*event.HealthRegionState{}
		a.regions[o.CheckID] = views
	}
	st := views[o.Region]
	if st == nil {
		// Route 53: a new check is healthy until there is data.
		st = &event.HealthRegionState{CheckID: o.CheckID, Region: o.Region, Healthy: true}
		views[o.Region] = st
	}
	if o.CheckedAt.Before(st.CheckedAt) {
		return // an older probe, delivered late
	}
	Step(st, o.OK, hc.FailureThreshold)
	st.NodeID, st.CheckedAt, st.Reason = o.NodeID, o.CheckedAt.UTC(), o.Reason
	if !o.OK {
		st.LastFailureAt, st.LastFailureReason = o.CheckedAt.UTC(), o.Reason
	}
	a.dirty[[2]string{o.CheckID, o.Region}] = true
	a.rollup(o, st.Healthy)
	a.evaluate(ctx, o.CheckID)
}

// rollup adds an applied observation to its minute's rollup; healthy is
// the region's view after it.
func (a *Aggregator) rollup(o event.HealthObservation, healthy bool) {
	k := minuteKey{o.CheckID, o.Region, o.CheckedAt.UTC().Truncate(time.Minute)}
	m := a.minutes[k]
	if m == nil {
		m = &event.HealthMinute{CheckID: k.check, Region: k.region, Minute: k.minute}
		a.minutes[k] = m
	}
	m.Samples++
	if healthy {
		m.Healthy++
	}
	if o.ConnectMS != nil {
		m.ConnectMSSum += *o.ConnectMS
		m.ConnectCount++
	}
	if o.FirstByteMS != nil {
		m.FirstByteMSSum += *o.FirstByteMS
		m.FirstByteCount++
	}
}

// compute returns the status of hc from what it depends on: its region
// views (probed checks) or its children's statuses (calculated checks).
// known is false when a probed check has no fresh view at all, in which
// case the status must not change.
func (a *Aggregator) compute(hc event.HealthCheck) (healthy, known bool, reason string) {
	now := a.cfg.Now()
	var raw bool
	switch {
	case hc.Disabled:
		if hc.Inverted {
			return false, true, "disabled and inverted: always unhealthy"
		}
		return true, true, "disabled: always healthy"
	case hc.Type == healthcfg.Calculated:
		n := 0
		for _, c := range hc.ChildHealthChecks {
			child, ok := a.checks[c]
			switch {
			case !ok:
			case child.Disabled:
				n++ // Route 53: a disabled child counts as healthy
			case a.status[c].Healthy:
				n++
			}
		}
		raw = Calculated(n, hc.HealthThreshold)
		reason = fmt.Sprintf("%d of %d child health checks are healthy (threshold %d)", n, len(hc.ChildHealthChecks), hc.HealthThreshold)
	default:
		stale := 3*hc.Interval() + a.cfg.StaleSlack
		n, total := 0, 0
		for region, st := range a.regions[hc.ID] {
			if !hc.ProbedIn(region) || now.Sub(st.CheckedAt) > stale {
				continue
			}
			total++
			if st.Healthy {
				n++
			}
		}
		if total == 0 {
			return false, false, ""
		}
		raw = RuleHealthy(n, total)
		reason = fmt.Sprintf("%d of %d checkers report healthy", n, total)
	}
	if hc.Inverted {
		return !raw, true, reason + "; inverted"
	}
	return raw, true, reason
}

// evaluate recomputes id's status and, on a change, records the
// transition, publishes it and re-evaluates the calculated parents.
func (a *Aggregator) evaluate(ctx context.Context, id string) {
	hc, ok := a.checks[id]
	if !ok {
		return
	}
	healthy, known, reason := a.compute(hc)
	cur := a.status[id]
	if !known || healthy == cur.Healthy {
		return
	}
	st := event.HealthStatus{CheckID: id, Healthy: healthy, Changed: a.cfg.Now().UTC(), Reason: reason}
	a.status[id] = st
	a.transitions = append(a.transitions, st)
	a.kvPending[id] = true
	a.pushKV(ctx)
	a.log.Info("health check status changed", "check", id, "healthy", healthy, "reason", reason)
	for _, p := range a.parents[id] {
		a.evaluate(ctx, p)
	}
}

// pushKV publishes the statuses waiting for the bucket.
func (a *Aggregator) pushKV(ctx context.Context) {
	if a.stKV == nil {
		return
	}
	for id := range a.kvPending {
		st := a.status[id]
		b, err := st.Encode()
		if err == nil {
			_, err = a.stKV.Put(ctx, id, b)
		}
		if err != nil {
			a.log.Warn("cannot publish a health status; will retry", "check", id, "err", err)
			return
		}
		delete(a.kvPending, id)
	}
}

// flush writes dirty region views and transitions to the store; on
// failure they stay and the next flush retries.
func (a *Aggregator) flush(ctx context.Context) {
	if len(a.dirty) == 0 && len(a.transitions) == 0 && len(a.minutes) == 0 {
		return
	}
	views := make([]event.HealthRegionState, 0, len(a.dirty))
	for k := range a.dirty {
		if st := a.regions[k[0]][k[1]]; st != nil {
			views = append(views, *st)
		}
	}
	slices.SortFunc(views, func(x, y event.HealthRegionState) int {
		if x.CheckID != y.CheckID {
			return strings.Compare(x.CheckID, y.CheckID)
		}
		return strings.Compare(x.Region, y.Region)
	})
	minutes := make([]event.HealthMinute, 0, len(a.minutes))
	for _, m := range a.minutes {
		minutes = append(minutes, *m)
	}
	// In key order, so that two writers lock the rows in the same order.
	slices.SortFunc(minutes, func(x, y event.HealthMinute) int {
		if c := strings.Compare(x.CheckID, y.CheckID); c != 0 {
			return c
		}
		if c := x.Minute.Compare(y.Minute); c != 0 {
			return c
		}
		return strings.Compare(x.Region, y.Region)
	})
	if err := a.cfg.Store.SaveHealth(ctx, views, a.transitions, minutes); err != nil {
		if ctx.Err() == nil {
			a.log.Warn("cannot store health state; will retry", "err", err)
		}
		return
	}
	clear(a.dirty)
	clear(a.minutes)
	a.transitions = a.transitions[:0]
}
