package dataplane

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/waymark-dns/waymark/event"
)

// HealthView says whether health checks pass. Routed answers consult it
// per query, so implementations must be fast and safe for concurrent use.
// known is false for checks the view has never heard of; they count as
// healthy (Route 53 answers as if a record had no check).
type HealthView interface {
	Healthy(checkID string) (healthy, known bool)
}

// HealthMap is a fixed HealthView: check id → healthy. Tests use it, and
// test answers use it to evaluate "what if" health inputs.
type HealthMap map[string]bool

// Healthy implements HealthView.
func (m HealthMap) Healthy(id string) (bool, bool) {
	h, ok := m[id]
	return h || !ok, ok
}

// NATSHealth is the HealthView of a nameserver: the health checks' status
// bucket (event.HealthStatusBucket) followed through event.HealthWatcher.
// Queries read an immutable copy of the map through an atomic pointer, so
// they never wait for the watcher; the copy is replaced on each change,
// which is rare next to queries.
type NATSHealth struct {
	w  *event.HealthWatcher
	mu sync.Mutex // orders the copies published; guards live
	m  atomic.Pointer[map[string]bool]
	// live is set once the feed has loaded: from then on the copy is the
	// feed's, and it is what the cache is written from.
	live bool
	// The on-disk cache (see UseCache): path, logger, whether the
	// statuses in force came from it, and the writer's wake-up.
	cachePath string
	cacheLog  *slog.Logger
	fromCache atomic.Bool
	dirty     chan struct{}
	cacheOnce sync.Once
}

// NewNATSHealth returns a view that knows no check yet (all healthy)
// until Start.
func NewNATSHealth() *NATSHealth {
	h := &NATSHealth{w: event.NewHealthWatcher(), dirty: make(chan struct{}, 1)}
	h.w.OnChange = func(string, bool) { h.publish() }
	empty := map[string]bool{}
	h.m.Store(&empty)
	return h
}

// Start loads every check's status and follows changes until ctx is done.
// It returns once the current statuses are in (or ctx ends, or the bucket
// cannot be opened). While NATS is away the last statuses stay in force:
// those of the feed, or until it first loads those of the cache.
func (h *NATSHealth) Start(ctx context.Context, js jetstream.JetStream) error {
	err := h.w.Start(ctx, js)
	if err != nil {
		if !h.fromCache.Load() {
			h.publish()
		}
		return err
	}
	h.mu.Lock()
	h.live = true
	h.mu.Unlock()
	h.fromCache.Store(false)
	h.publish()
	if h.cachePath != "" {
		h.cacheOnce.Do(func() { go h.cacheLoop(ctx) })
	}
	return nil
}

// publish replaces the queries' copy with the watcher's current map and
// has the cache rewritten.
func (h *NATSHealth) publish() {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.w.Snapshot()
	h.m.Store(&m)
	select {
	case h.dirty <- struct{}{}:
	default:
	}
}

// Healthy implements HealthView.
func (h *NATSHealth) Healthy(id string) (bool, bool) {
	v, ok := (*h.m.Load())[id]
	return v || !ok, ok
}
