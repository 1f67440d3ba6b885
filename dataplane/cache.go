package dataplane

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// cacheFile is the name of the zone cache inside NodeConfig.CacheDir. It
// holds the JSON of an event.Snapshot whose Seq is the stream sequence the
// zones are valid at (every zone is at or past it).
const cacheFile = "zones.json"

// cacheLoop rewrites the cache every CacheInterval when the state changed.
func (n *Node) cacheLoop(ctx context.Context) {
	if n.cfg.CacheDir == "" {
		return
	}
	tick := time.NewTicker(n.cfg.CacheInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n.mu.Lock()
		dirty := n.dirty
		n.mu.Unlock()
		if !dirty {
			continue
		}
		if err := n.writeCache(); err != nil {
			n.log.Warn("cannot write the zone cache", "err", err)
		}
	}
}

// writeCache writes the store to the cache atomically: a temporary file in
// the same directory, synced, then renamed over the old cache, so that a
// crash leaves either the old cache or the new one.
func (n *Node) writeCache() error {
	if n.cfg.CacheDir == "" {
		return nil
	}
	n.cacheMu.Lock()
	defer n.cacheMu.Unlock()
	// The sequence is read before the zones: zones can only be newer than
	// it, which replaying the stream from it tolerates.
	n.mu.Lock()
	seq := n.appliedLocked()
	n.dirty = false
	n.mu.Unlock()
	if err := os.MkdirAll(n.cfg.CacheDir, 0o755); err != nil {
		return fmt.Errorf("cache dir: %w", err)
	}
	f, err := os.CreateTemp(n.cfg.CacheDir, cacheFile+".tmp*")
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		n.mu.Lock()
		n.dirty = true
		n.mu.Unlock()
		return fmt.Errorf("write cache: %w", err)
	}
	w := bufio.NewWriterSize(f, 256<<10)
	if _, err := w.WriteString(`{"seq":` + strconv.FormatUint(seq, 10) + `,"zones":[`); err != nil {
		return fail(err)
	}
	first := true
	for _, id := range n.store.ZoneIDs() {
		z, ok := n.store.ZoneState(id)
		if !ok {
			continue
		}
		b, err := json.Marshal(z)
		if err != nil {
			return fail(err)
		}
		if !first {
			if err := w.WriteByte(','); err != nil {
				return fail(err)
			}
		}
		first = false
		if _, err := w.Write(b); err != nil {
			return fail(err)
		}
	}
	if _, err := w.WriteString("]}\n"); err != nil {
		return fail(err)
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, filepath.Join(n.cfg.CacheDir, cacheFile)); err != nil {
		return fail(err)
	}
	return nil
}

// loadCache installs the cached zones and returns the cached sequence.
func (n *Node) loadCache() (uint64, error) {
	f, err := os.Open(filepath.Join(n.cfg.CacheDir, cacheFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, errors.New("no zone cache yet")
		}
		return 0, err
	}
	defer f.Close()
	seq, err := n.install(bufio.NewReaderSize(f, 256<<10))
	if err != nil {
		return 0, fmt.Errorf("read cache %s: %w", f.Name(), err)
	}
	n.mu.Lock()
	n.lastSeq = seq
	clear(n.stale)
	n.mu.Unlock()
	return seq, nil
}
