package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/retry"
)

// Defaults for Config fields left zero.
const (
	DefaultHeartbeatInterval = time.Second
	DefaultMaxConcurrent     = 256
)

// Config configures a Checker. Region, NodeID and NATS are required.
type Config struct {
	// Region is the checker's region: it probes the checks whose region
	// list is empty or names it.
	Region string
	// NodeID identifies this checker among the checkers of its region,
	// which share the region's checks among the live ones.
	NodeID string
	// NATS is the connection to the NATS system (JetStream enabled).
	NATS *nats.Conn
	// Replicas of the configuration bucket if this checker creates it.
	Replicas int
	// AllowPrivateTargets lets probes reach non-public addresses (waymark
	// dev, tests). It must agree with the control plane's option.
	AllowPrivateTargets bool
	// ConnectTimeout, ResponseTimeout and TCPTimeout default to Route
	// 53's 4 s, 2 s and 10 s.
	ConnectTimeout  time.Duration
	ResponseTimeout time.Duration
	TCPTimeout      time.Duration
	// Resolver resolves FQDN targets. Default net.DefaultResolver.
	Resolver *net.Resolver
	// HeartbeatInterval is how often the checker announces itself to the
	// other checkers of its region. Default 1 s; a peer not heard from
	// for three intervals is gone and its checks are taken over.
	HeartbeatInterval time.Duration
	// MaxConcurrent bounds the probes in flight. Default 256.
	MaxConcurrent int
	// Jitter returns the delay before a check's first probe, in [0,
	// interval): it spreads the probes of many checks over the interval
	// so that they do not all start at once. Default: uniformly random.
	Jitter func(interval time.Duration) time.Duration
	// Now returns the current time (observation timestamps). Default
	// time.Now.
	Now func() time.Time
	// Logger receives operational logs. Default: discard.
	Logger *slog.Logger
	// Metrics, when set, receives the probe metrics (metrics.go).
	Metrics prometheus.Registerer
}

// Checker is one health checker process's work loop: it follows the
// check configurations in the [event.HealthChecksBucket] KV bucket, keeps
// the ones its region probes and that hash to it among its region's live
// checkers (rendezvous hashing over the heartbeats, so a checker joining
// or leaving moves only its share), probes each on the check's interval
// with a random initial offset, and publishes every result as an
// [event.HealthObservation]. It never opens PostgreSQL.
type Checker struct {
	cfg    Config
	log    *slog.Logger
	prober *Prober
	sem    chan struct{}
	probes *probeMetrics // nil without Config.Metrics

	// Run's goroutine owns these.
	checks map[string]event.HealthCheck
	peers  map[string]time.Time // other live checkers of the region

	mu      sync.Mutex
	running map[string]*probeTask // guarded by mu
	wg      sync.WaitGroup
}

type probeTask struct {
	version int64
	cancel  context.CancelFunc
}

// NewChecker returns a checker for cfg.
func NewChecker(cfg Config) (*Checker, error) {
	if cfg.Region == "" || cfg.NodeID == "" || cfg.NATS == nil {
		return nil, errors.New("healthcheck: a checker needs a region, a node id and a NATS connection")
	}
	cfg.HeartbeatInterval = cmpOr(cfg.HeartbeatInterval, DefaultHeartbeatInterval)
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.Jitter == nil {
		cfg.Jitter = func(d time.Duration) time.Duration {
			if d <= 0 {
				return 0
			}
			return rand.N(d)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Checker{
		cfg: cfg,
		log: cfg.Logger.With("component", "healthchecker", "region", cfg.Region, "node", cfg.NodeID),
		prober: &Prober{
			ConnectTimeout: cfg.ConnectTimeout, ResponseTimeout: cfg.ResponseTimeout, TCPTimeout: cfg.TCPTimeout,
			AllowPrivate: cfg.AllowPrivateTargets, Resolver: cfg.Resolver,
			UserAgent: DefaultUserAgent + " (" + cfg.Region + ")", Now: cfg.Now,
		},
		sem:     make(chan struct{}, cfg.MaxConcurrent),
		probes:  newProbeMetrics(cfg.Metrics, cfg.Region),
		running: map[string]*probeTask{},
	}, nil
}

// Assigned returns the ids of the checks this checker probes now, sorted.
func (c *Checker) Assigned() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, 0, len(c.running))
	for id := range c.running {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Run probes until ctx is done, then stops every probe and returns nil.
// NATS being unreachable at start is retried; the KV watcher and the
// subscriptions resume by themselves after a reconnect.
func (c *Checker) Run(ctx context.Context) error {
	c.checks = map[string]event.HealthCheck{}
	c.peers = map[string]time.Time{}
	defer c.stopAll()

	js, err := jetstream.New(c.cfg.NATS)
	if err != nil {
		return fmt.Errorf("healthcheck: jetstream: %w", err)
	}
	var watcher jetstream.KeyWatcher
	backoff := retry.NewBackoff(100*time.Millisecond, 5*time.Second)
	for {
		kv, err := event.OpenKeyValue(ctx, js, event.HealthChecksKVConfig(c.cfg.Replicas))
		if err == nil {
			watcher, err = kv.WatchAll(ctx)
		}
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		c.log.Warn("cannot watch health check configurations; retrying", "err", err)
		if !retry.Sleep(ctx, backoff.Next()) {
			return nil
		}
	}
	defer func() { _ = watcher.Stop() }()

	hbs := make(chan *nats.Msg, 1024)
	sub, err := c.cfg.NATS.ChanSubscribe(event.HealthCheckerHeartbeatSubject, hbs)
	if err != nil {
		return fmt.Errorf("healthcheck: subscribe %s: %w", event.HealthCheckerHeartbeatSubject, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	c.heartbeat()
	tick := time.NewTicker(c.cfg.HeartbeatInterval)
	defer tick.Stop()

	loaded := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-watcher.Updates():
			if e == nil {
				if !loaded {
					loaded = true
					c.log.Info("health checker loaded the check configurations", "checks", len(c.checks))
					c.reconcileAll(ctx)
				}
				continue
			}
			id := e.Key()
			if e.Operation() == jetstream.KeyValuePut {
				hc, err := event.DecodeHealthCheck(e.Value())
				if err != nil {
					c.log.Warn("ignoring a bad health check configuration", "check", id, "err", err)
					continue
				}
				c.checks[id] = hc
			} else {
				delete(c.checks, id)
			}
			if loaded {
				c.reconcile(ctx, id)
			}
		case m := <-hbs:
			hb, err := event.DecodeHealthCheckerHeartbeat(m.Data)
			if err != nil || hb.Region != c.cfg.Region || hb.NodeID == c.cfg.NodeID {
				continue
			}
			_, known := c.peers[hb.NodeID]
			c.peers[hb.NodeID] = time.Now()
			if !known && loaded {
				c.log.Info("health checker peer joined", "peer", hb.NodeID)
				c.reconcileAll(ctx)
			}
		case <-tick.C:
			c.heartbeat()
			changed := false
			for p, seen := range c.peers {
				if time.Since(seen) > 3*c.cfg.HeartbeatInterval {
					delete(c.peers, p)
					changed = true
					c.log.Info("health checker peer left", "peer", p)
				}
			}
			if changed && loaded {
				c.reconcileAll(ctx)
			}
		}
	}
}

func (c *Checker) heartbeat() {
	b, err := event.HealthCheckerHeartbeat{NodeID: c.cfg.NodeID, Region: c.cfg.Region, Sent: c.cfg.Now().UTC()}.Encode()
	if err == nil {
		err = c.cfg.NATS.Publish(event.HealthCheckerHeartbeatSubject, b)
	}
	if err != nil {
		c.log.Debug("cannot send a heartbeat", "err", err)
	}
}

// owner returns the live checker of the region that probes id: the one
// with the highest hash of (node, check) — rendezvous hashing.
func (c *Checker) owner(id string) string {
	best, bestScore := c.cfg.NodeID, score(c.cfg.NodeID, id)
	for p := range c.peers {
		if s := score(p, id); s > bestScore || s == bestScore && p < best {
			best, bestScore = p, s
		}
	}
	return best
}

func score(node, id string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(node))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(id))
	// fnv's low bits mix poorly; finish with a 64-bit mixer.
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

func (c *Checker) reconcileAll(ctx context.Context) {
	c.mu.Lock()
	ids := make([]string, 0, len(c.running))
	for id := range c.running {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	for _, id := range ids {
		if _, ok := c.checks[id]; !ok {
			c.reconcile(ctx, id)
		}
	}
	for id := range c.checks {
		c.reconcile(ctx, id)
	}
}

// reconcile starts, restarts or stops the probing of one check.
func (c *Checker) reconcile(ctx context.Context, id string) {
	hc, ok := c.checks[id]
	want := ok && hc.ProbedIn(c.cfg.Region) && c.owner(id) == c.cfg.NodeID
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.running[id]
	if t != nil && (!want || t.version != hc.Version) {
		t.cancel()
		delete(c.running, id)
		t = nil
	}
	if !want || t != nil {
		return
	}
	pctx, cancel := context.WithCancel(ctx)
	c.running[id] = &probeTask{version: hc.Version, cancel: cancel}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.probeLoop(pctx, hc)
	}()
}

func (c *Checker) stopAll() {
	c.mu.Lock()
	for id, t := range c.running {
		t.cancel()
		delete(c.running, id)
	}
	c.mu.Unlock()
	c.wg.Wait()
}

// probeLoop probes hc every interval, the first time after a jitter.
func (c *Checker) probeLoop(ctx context.Context, hc event.HealthCheck) {
	interval := max(hc.Interval(), 100*time.Millisecond)
	next := time.Now().Add(c.cfg.Jitter(interval))
	for {
		if !retry.Sleep(ctx, time.Until(next)) {
			return
		}
		select {
		case c.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		start := time.Now()
		res := c.prober.Probe(ctx, hc)
		<-c.sem
		c.probes.observe(string(hc.Type), res, time.Since(start))
		if ctx.Err() != nil {
			return // stopped or reconfigured mid-probe: the result is moot
		}
		c.publish(hc, res)
		next = next.Add(interval)
		if now := time.Now(); next.Before(now) {
			next = now.Add(interval) // overran: skip, don't burst
		}
	}
}

func (c *Checker) publish(hc event.HealthCheck, res Result) {
	o := event.HealthObservation{
		CheckID: hc.ID, CheckVersion: hc.Version, Region: c.cfg.Region, NodeID: c.cfg.NodeID,
		OK: res.OK, Reason: res.Reason, CheckedAt: c.cfg.Now().UTC(),
	}
	ms := func(d time.Duration) *float64 {
		v := min(float64(d)/float64(time.Millisecond), event.MaxProbeMS)
		return &v
	}
	if res.Connected {
		o.ConnectMS = ms(max(res.ConnectTime, 0))
	}
	if res.GotFirstByte {
		o.FirstByteMS = ms(max(res.TimeToFirstByte, 0))
	}
	b, err := o.Encode()
	if err == nil {
		err = c.cfg.NATS.Publish(event.HealthObservedSubject(hc.ID), b)
	}
	if err != nil {
		c.log.Debug("cannot publish an observation", "check", hc.ID, "err", err)
	}
}
