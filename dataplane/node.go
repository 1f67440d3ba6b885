package dataplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/waymark-dns/waymark/event"
)

// Defaults for NodeConfig fields left zero.
const (
	DefaultHeartbeatInterval = time.Second
	DefaultReportDelay       = 20 * time.Millisecond
	DefaultCacheInterval     = 10 * time.Second
	DefaultRetryInterval     = time.Second
	DefaultCatchUpTimeout    = 5 * time.Second
	DefaultStallCheck        = 3 * time.Second
	DefaultReleaseAfter      = 50000
	DefaultReleaseDelay      = time.Second
)

// NodeConfig configures a Node: the sync side of one nameserver.
type NodeConfig struct {
	// NodeID names this nameserver in the fleet; Region is where it runs.
	NodeID string
	Region string
	// NATS is the connection to use; when nil, NATSURL is dialed with
	// unlimited reconnects and closed when Run returns.
	NATS    *nats.Conn
	NATSURL string
	// SnapshotURL is the base URL of a control-plane API process
	// (http://host:8080); the node reads GET /v1/nameserver/snapshot and
	// GET /v1/nameserver/zones/{id} there with AdminToken as its bearer.
	// FallbackURLs are other API processes, tried in order when the one
	// before cannot answer (no connection, an error status, a snapshot cut
	// short): the nearest first, and a node whose every API is away
	// keeps serving its cache. A 404 is an answer, not tried elsewhere.
	SnapshotURL  string
	FallbackURLs []string
	AdminToken   string
	// HTTPClient fetches snapshots. Default: a client with a 60 s timeout.
	HTTPClient *http.Client
	// CacheDir keeps the on-disk copy of the zones the node starts from,
	// catching up from the stream (or from the snapshot when the stream
	// cannot). Empty disables the cache.
	CacheDir string
	// CacheInterval is how often the cache is rewritten when something
	// changed. Default 10 s. It is also written on shutdown.
	CacheInterval time.Duration
	// HeartbeatInterval is the period of heartbeats. Default 1 s.
	HeartbeatInterval time.Duration
	// ReportDelay is the longest an applied sequence waits before it is
	// reported; reports in between are coalesced. Default 20 ms.
	ReportDelay time.Duration
	// RetryInterval is the base delay before retrying the control plane or
	// NATS. Default 1 s.
	RetryInterval time.Duration
	// CatchUpTimeout bounds how long a node that starts from its cache
	// waits for the zone stream before it loads the snapshot instead (the
	// stream unreachable, or too slow to deliver). Default 5 s.
	CatchUpTimeout time.Duration
	// StallCheck is how long the zone stream consumer may deliver nothing
	// before the node asks the stream whether it holds events the node
	// has not applied; if it does, the consumer is recreated. Default 3 s.
	StallCheck time.Duration
	// ReleaseMemory returns the memory the heap no longer uses to the
	// operating system; the node calls it once the initial sync is done
	// and after large changes, when the garbage they leave would
	// otherwise keep the process at its peak. Default debug.FreeOSMemory.
	ReleaseMemory func()
	// ReleaseAfter is how many record sets installed or changed since the
	// last release make the next one due: it then runs once the node has
	// been quiet for ReleaseDelay. Default 50,000; negative never
	// releases, not even after the initial sync.
	ReleaseAfter int
	// ReleaseDelay is the quiet time before a due release. Default 1 s.
	ReleaseDelay time.Duration
	// Store receives the zones. Default: a new empty store.
	Store *Store
	// Serves are the pool names this node serves (empty: all). The
	// snapshot asked for holds only the zones on their delegation sets,
	// stream events of other zones are not applied, and heartbeats say
	// which names the node serves.
	Serves []string
	// SetReady is called with true once the initial sync is done (the DNS
	// server should answer only then) and with false on shutdown.
	SetReady func(bool)
	// Logger receives sync events; the caller adds the node's identity (node, region). Default: discard.
	Logger *slog.Logger
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

// Node keeps a Store in step with the control plane. It loads the zones
// from its on-disk cache and the stream's events since (or, without a
// usable cache or when the stream lacks those events, from a
// control-plane snapshot), then consumes the zone stream from that
// position, applying each event in order; a zone that misses an
// event is re-fetched alone. It reports the highest stream sequence it has
// fully applied on the heartbeat subject, promptly after applying and every
// HeartbeatInterval. Through control-plane, PostgreSQL or NATS outages it
// keeps the zones it has, and catches up by itself afterwards.
type Node struct {
	cfg   NodeConfig
	store *Store
	log   *slog.Logger
	http  *http.Client

	// applyMu serialises this node's writes to the store: stream events
	// and zone re-fetches, so that a re-fetched zone never overwrites a
	// newer one.
	applyMu sync.Mutex
	// cacheMu serialises cache writes.
	cacheMu sync.Mutex

	// mu guards the fields below.
	mu      sync.Mutex
	nc      *nats.Conn
	ready   bool
	lastSeq uint64               // last stream sequence consumed
	stale   map[string]staleZone // zones waiting for a re-fetch
	// unserved are zones on none of the Serves names' sets (skipUnserved).
	unserved map[string]struct{}
	dirty    bool // state changed since the last cache write
	churn    int  // record sets changed since the last memory release
	sync     SyncStats

	report      chan struct{} // wakes the reporter
	reportNow   chan struct{} // wakes the reporter for a report without delay
	resyncWake  chan struct{} // wakes the zone re-fetcher
	releaseWake chan struct{} // a memory release is due
}

// staleZone records the stream sequences at which a zone was found to be
// missing events: the first holds back the reported sequence; a re-fetch
// that started after the last heals it.
type staleZone struct {
	first, last uint64
}

// NewNode checks cfg and returns a node; Run starts it.
func NewNode(cfg NodeConfig) (*Node, error) {
	if cfg.NodeID == "" {
		return nil, errors.New("dataplane: node id is required")
	}
	if cfg.NATS == nil && cfg.NATSURL == "" {
		return nil, errors.New("dataplane: a NATS connection or URL is required")
	}
	if cfg.SnapshotURL == "" && cfg.CacheDir == "" {
		return nil, errors.New("dataplane: a snapshot URL or a cache directory is required")
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if cfg.ReportDelay <= 0 {
		cfg.ReportDelay = DefaultReportDelay
	}
	if cfg.CacheInterval <= 0 {
		cfg.CacheInterval = DefaultCacheInterval
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = DefaultRetryInterval
	}
	if cfg.CatchUpTimeout <= 0 {
		cfg.CatchUpTimeout = DefaultCatchUpTimeout
	}
	if cfg.StallCheck <= 0 {
		cfg.StallCheck = DefaultStallCheck
	}
	if cfg.ReleaseMemory == nil {
		cfg.ReleaseMemory = debug.FreeOSMemory
	}
	if cfg.ReleaseAfter == 0 {
		cfg.ReleaseAfter = DefaultReleaseAfter
	}
	if cfg.ReleaseDelay <= 0 {
		cfg.ReleaseDelay = DefaultReleaseDelay
	}
	if cfg.Store == nil {
		cfg.Store = NewStore()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	return &Node{
		cfg: cfg, store: cfg.Store, http: hc,
		log:         cfg.Logger.With("component", "sync"),
		stale:       map[string]staleZone{},
		unserved:    map[string]struct{}{},
		report:      make(chan struct{}, 1),
		reportNow:   make(chan struct{}, 1),
		resyncWake:  make(chan struct{}, 1),
		releaseWake: make(chan struct{}, 1),
	}, nil
}

// Store returns the store the node fills.
func (n *Node) Store() *Store { return n.store }

// Ready reports whether the initial sync is done.
func (n *Node) Ready() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ready
}

// AppliedSeq returns the highest stream sequence up to which every event
// is applied: the value the node reports.
func (n *Node) AppliedSeq() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.appliedLocked()
}

func (n *Node) appliedLocked() uint64 {
	a := n.lastSeq
	for _, s := range n.stale {
		if s.first-1 < a {
			a = s.first - 1
		}
	}
	return a
}

// Run syncs until ctx is done, then writes the cache, reports itself not
// ready and returns nil. It returns an error only when it cannot start
// (NATS URL malformed).
func (n *Node) Run(ctx context.Context) error {
	nc := n.cfg.NATS
	if nc == nil {
		var err error
		nc, err = nats.Connect(n.cfg.NATSURL,
			nats.Name("waymark-nameserver-"+n.cfg.NodeID),
			nats.MaxReconnects(-1),
			nats.RetryOnFailedConnect(true),
			nats.ReconnectWait(250*time.Millisecond))
		if err != nil {
			return fmt.Errorf("dataplane: connect to NATS: %w", err)
		}
		defer nc.Close()
	}
	n.mu.Lock()
	n.nc = nc
	n.mu.Unlock()

	var wg sync.WaitGroup
	defer wg.Wait()
	bgCtx, stopBg := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBg()
	wg.Go(func() { n.reporter(bgCtx) })

	if !n.initialLoad(ctx, nc) {
		n.shutdown()
		return nil
	}
	n.mu.Lock()
	n.ready = true
	n.mu.Unlock()
	if n.cfg.SetReady != nil {
		n.cfg.SetReady(true)
	}
	n.log.Info("nameserver ready", "zones", n.store.Len(), "seq", n.AppliedSeq())
	n.signalReport()
	// The load's garbage (decoded record sets, buffers) goes back to the
	// operating system once the answers have started.
	wg.Go(func() { n.memoryLoop(bgCtx) })
	n.releaseDue(-1)

	wg.Go(func() { n.resyncLoop(ctx) })
	// The cache is written by the cache loop, CacheInterval after a
	// snapshot load (dirty), and never right after a load from the cache
	// itself (clean): writing it at once would hold back the first
	// answers, on one core for seconds.
	wg.Go(func() { n.cacheLoop(ctx) })
	n.consumeLoop(ctx, nc)
	n.shutdown()
	return nil
}

// shutdown writes the cache (when it is behind the store) and tells the fleet this node is going away,
// so that changes stop waiting for it at once.
func (n *Node) shutdown() {
	n.mu.Lock()
	wasReady := n.ready
	n.ready = false
	n.mu.Unlock()
	if n.cfg.SetReady != nil {
		n.cfg.SetReady(false)
	}
	n.mu.Lock()
	dirty := n.dirty
	n.mu.Unlock()
	if wasReady && dirty {
		if err := n.writeCache(); err != nil {
			n.log.Warn("cannot write the zone cache", "err", err)
		}
	}
	n.publishHeartbeat()
	n.mu.Lock()
	nc := n.nc
	n.mu.Unlock()
	if nc != nil {
		_ = nc.FlushTimeout(time.Second)
	}
}

// signalReport asks the reporter to send the applied sequence soon.
func (n *Node) signalReport() {
	select {
	case n.report <- struct{}{}:
	default:
	}
}

// signalReportNow asks the reporter to send the applied sequence at once:
// the node has caught up with the stream, so no report that a burst would
// coalesce into is coming, and every millisecond here is a millisecond of
// the change's submit → INSYNC.
func (n *Node) signalReportNow() {
	select {
	case n.reportNow <- struct{}{}:
	default:
	}
}

// reporter sends heartbeats: every HeartbeatInterval, and on a signal
// (an applied batch) at once, unless another signalled report went out
// less than ReportDelay ago; then it goes at the end of that delay, so
// bursts coalesce into one report per ReportDelay. A signal that the node
// has caught up (signalReportNow) is never delayed: the burst is over.
// Periodic heartbeats never delay a signalled report.
func (n *Node) reporter(ctx context.Context) {
	tick := time.NewTicker(n.cfg.HeartbeatInterval)
	defer tick.Stop()
	var lastSignalled time.Time
	var delay <-chan time.Time // set while a signalled report waits
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			n.publishHeartbeat()
		case <-n.report:
			if delay != nil {
				continue // already scheduled
			}
			if wait := n.cfg.ReportDelay - n.cfg.Now().Sub(lastSignalled); wait > 0 {
				delay = time.After(wait)
				continue
			}
			lastSignalled = n.cfg.Now()
			n.publishHeartbeat()
		case <-n.reportNow:
			delay = nil // this report carries what a waiting one would
			lastSignalled = n.cfg.Now()
			n.publishHeartbeat()
		case <-delay:
			delay = nil
			lastSignalled = n.cfg.Now()
			n.publishHeartbeat()
		}
	}
}

func (n *Node) publishHeartbeat() {
	n.mu.Lock()
	nc := n.nc
	hb := event.Heartbeat{
		NodeID: n.cfg.NodeID, Region: n.cfg.Region, AppliedSeq: n.appliedLocked(),
		Ready: n.ready, Zones: n.store.Len(), Unservable: n.store.Unservable(), Sent: n.cfg.Now().UTC(), Serves: n.cfg.Serves,
	}
	n.mu.Unlock()
	if nc == nil {
		return
	}
	b, err := hb.Encode()
	if err != nil {
		return
	}
	// While NATS is away the client buffers; a lost heartbeat is replaced
	// by the next one.
	_ = nc.Publish(event.HeartbeatSubject, b)
}
