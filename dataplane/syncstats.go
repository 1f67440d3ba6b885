package dataplane

import "time"

// SyncStats are what a node's metrics show of its sync: how long the last
// snapshot and cache loads took, and how far behind the zone stream it
// was at the last event it applied.
type SyncStats struct {
	// SnapshotLoad and CacheLoad are the durations of the last successful
	// load of each kind (zero: none yet); SnapshotLoads and CacheLoads
	// count them.
	SnapshotLoad, CacheLoad   time.Duration
	SnapshotLoads, CacheLoads uint64
	// LagMessages is how many stream messages were still pending for the
	// node when it applied the last one; LagSeconds how long after its
	// publication it was applied.
	LagMessages uint64
	LagSeconds  float64
}

// SyncStats returns the node's sync statistics.
func (n *Node) SyncStats() SyncStats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sync
}

// loaded records a successful load of the snapshot (or of the cache) that
// began at start.
func (n *Node) loaded(cache bool, start time.Time) {
	d := time.Since(start)
	n.mu.Lock()
	defer n.mu.Unlock()
	if cache {
		n.sync.CacheLoad, n.sync.CacheLoads = d, n.sync.CacheLoads+1
	} else {
		n.sync.SnapshotLoad, n.sync.SnapshotLoads = d, n.sync.SnapshotLoads+1
	}
}
