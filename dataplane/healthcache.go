package dataplane

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// healthCacheFile is the health snapshot's file in the cache directory,
// beside the zone cache.
const healthCacheFile = "health.cache"

// healthCacheMagic opens the file; the version is its last octet.
var healthCacheMagic = []byte("WAYMARK-HEALTH\x01")

// maxHealthCacheIDs bounds what a file may claim, so that a corrupted
// count cannot make the reader allocate without bound.
const maxHealthCacheIDs = 1 << 22

// encodeHealthCache is the file: magic, the time written (Unix
// nanoseconds), the count of checks, each check id (length-prefixed) with
// its status, and a CRC-32C of everything before it. Ids are sorted, so
// the same statuses give the same file.
func encodeHealthCache(m map[string]bool, written time.Time) []byte {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	b := append([]byte(nil), healthCacheMagic...)
	b = binary.BigEndian.AppendUint64(b, uint64(written.UnixNano()))
	b = binary.BigEndian.AppendUint32(b, uint32(len(ids)))
	for _, id := range ids {
		b = binary.BigEndian.AppendUint16(b, uint16(len(id)))
		b = append(b, id...)
		if m[id] {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
}

// decodeHealthCache parses a file written by encodeHealthCache; any flaw
// (truncation, a flipped bit, a foreign file) is an error saying what.
func decodeHealthCache(b []byte) (map[string]bool, time.Time, error) {
	if !bytes.HasPrefix(b, healthCacheMagic[:len(healthCacheMagic)-1]) {
		return nil, time.Time{}, errors.New("not a health cache")
	}
	if len(b) < len(healthCacheMagic) || b[len(healthCacheMagic)-1] != healthCacheMagic[len(healthCacheMagic)-1] {
		return nil, time.Time{}, errors.New("unknown health cache version")
	}
	if len(b) < len(healthCacheMagic)+8+4+4 {
		return nil, time.Time{}, errors.New("truncated")
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)) != sum {
		return nil, time.Time{}, errors.New("checksum mismatch (truncated or corrupted)")
	}
	r := body[len(healthCacheMagic):]
	written := time.Unix(0, int64(binary.BigEndian.Uint64(r)))
	n := binary.BigEndian.Uint32(r[8:])
	r = r[12:]
	if n > maxHealthCacheIDs {
		return nil, time.Time{}, fmt.Errorf("claims %d checks", n)
	}
	m := make(map[string]bool, min(int(n), len(r)/3))
	for i := range n {
		if len(r) < 2 {
			return nil, time.Time{}, fmt.Errorf("check %d: truncated", i)
		}
		l := int(binary.BigEndian.Uint16(r))
		if len(r) < 2+l+1 || r[2+l] > 1 {
			return nil, time.Time{}, fmt.Errorf("check %d: malformed", i)
		}
		m[string(r[2:2+l])] = r[2+l] == 1
		r = r[2+l+1:]
	}
	if len(r) != 0 {
		return nil, time.Time{}, fmt.Errorf("%d octets after the last check", len(r))
	}
	return m, written, nil
}

// writeFileAtomic writes b to path through a temporary file, synced and
// renamed, so that a crash leaves the old file or the new, never half.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// UseCache makes the view keep its statuses in dir (the nameserver's cache
// directory) and, now, installs the statuses found there: a nameserver
// that starts while NATS is away then answers with the health it last
// knew rather than with every check healthy. It logs what it loaded, or
// why a file was refused (the file is then left for the next write to
// replace). Call it before Start. An empty dir does nothing.
func (h *NATSHealth) UseCache(dir string, log *slog.Logger) {
	if dir == "" {
		return
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h.cachePath = filepath.Join(dir, healthCacheFile)
	h.cacheLog = log
	b, err := os.ReadFile(h.cachePath)
	switch {
	case errors.Is(err, os.ErrNotExist):
		log.Info("no health cache yet; checks count as healthy until the health feed loads", "path", h.cachePath)
		return
	case err != nil:
		log.Warn("health cache refused: cannot read it", "path", h.cachePath, "err", err)
		return
	}
	m, written, err := decodeHealthCache(b)
	if err != nil {
		log.Warn("health cache refused", "path", h.cachePath, "reason", err.Error())
		return
	}
	unhealthy := 0
	for _, v := range m {
		if !v {
			unhealthy++
		}
	}
	h.mu.Lock()
	if !h.live {
		h.m.Store(&m)
		h.fromCache.Store(true)
	}
	h.mu.Unlock()
	log.Info("loaded health statuses from the cache until the health feed answers",
		"path", h.cachePath, "checks", len(m), "unhealthy", unhealthy, "written", written.UTC().Format(time.RFC3339))
}

// FromCache reports whether the statuses in force are the cached ones:
// the live feed has not loaded since start.
func (h *NATSHealth) FromCache() bool { return h.fromCache.Load() }

// cacheLoop writes the statuses to the cache a moment after they change
// (changes within the moment coalesce), and once more when ctx ends.
func (h *NATSHealth) cacheLoop(ctx context.Context) {
	const delay = 250 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			h.writeCache()
			return
		case <-h.dirty:
		}
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
		h.writeCache()
	}
}

// writeCache writes the statuses in force, if they come from the feed.
func (h *NATSHealth) writeCache() {
	h.mu.Lock()
	live, m := h.live, *h.m.Load()
	h.mu.Unlock()
	if !live || h.cachePath == "" {
		return // never overwrite the cache with less than it holds
	}
	err := os.MkdirAll(filepath.Dir(h.cachePath), 0o700)
	if err == nil {
		err = writeFileAtomic(h.cachePath, encodeHealthCache(m, time.Now()))
	}
	if err != nil {
		h.cacheLog.Warn("cannot write the health cache", "path", h.cachePath, "err", err)
	}
}
