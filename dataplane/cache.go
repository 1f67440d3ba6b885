package dataplane

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// cacheFile is the name of the zone cache inside NodeConfig.CacheDir, in
// the binary format below.
const cacheFile = "zones.bin"

// The binary cache stores every record set as the store holds it: packed
// wire RDATA, so that loading it parses no presentation format and no JSON
// (except the rare routing policies). All integers are big-endian.
//
//	header  "WMZC" | format u16 | 0 u16 | seq u64 | zones u32
//	zone    id s16 | tenant s16 | origin s16 |
//	        delegation set pool names, comma-separated s16 | version u64 |
//	        CIDR collections (JSON, may be empty) s32 |
//	        DNSSEC signing material (JSON zonecfg.DNSSEC: ZSKs wrapped
//	        under the fleet key, never in plain text; empty if unsigned) s32 |
//	        transfer configuration (JSON zonecfg.Transfers: TSIG secrets
//	        wrapped under the fleet key; empty if none) s32 |
//	        query logging configuration id (empty: logging off) s16 |
//	        secondary zone configuration (JSON zonecfg.Secondary: TSIG
//	        secrets wrapped under the fleet key; empty for an ordinary
//	        zone) s32 |
//	        sets u32
//	set     owner (wire name) s8 | type u16 | ttl u32 | records u16 |
//	        set identifier s16 | RDATA (as rrset.rdata) s32 |
//	        routing fields (JSON zonecfg.RRSet, empty for simple sets) s32
//	trailer CRC-32C of everything before u32 | "WMZE"
//
// sN is a string preceded by its length as an N-bit integer. A file whose
// magic, format, length or checksum is off is refused as a whole; the
// node then waits for the control plane. A new layout bumps cacheFormat.
const (
	cacheMagic  = "WMZC"
	cacheEnd    = "WMZE"
	cacheFormat = 6
)

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

// cacheWriter writes the binary cache, checksumming as it goes and
// remembering the first error.
type cacheWriter struct {
	w   *bufio.Writer
	crc hash.Hash32
	err error
	buf []byte
}

func (c *cacheWriter) flush() {
	if c.err == nil && len(c.buf) > 0 {
		c.crc.Write(c.buf)
		_, c.err = c.w.Write(c.buf)
	}
	c.buf = c.buf[:0]
}

func (c *cacheWriter) u16(v uint16) { c.buf = binary.BigEndian.AppendUint16(c.buf, v) }
func (c *cacheWriter) u32(v uint32) { c.buf = binary.BigEndian.AppendUint32(c.buf, v) }
func (c *cacheWriter) u64(v uint64) { c.buf = binary.BigEndian.AppendUint64(c.buf, v) }
func (c *cacheWriter) s8(s string)  { c.buf = append(append(c.buf, byte(len(s))), s...) }
func (c *cacheWriter) s16(s string) { c.u16(uint16(len(s))); c.buf = append(c.buf, s...) }
func (c *cacheWriter) s32(s string) { c.u32(uint32(len(s))); c.buf = append(c.buf, s...) }

// zone appends one zone to the cache.
func (c *cacheWriter) zone(z *zone) error {
	var cidr []byte
	if cs := z.cidrStates(); len(cs) > 0 {
		var err error
		if cidr, err = json.Marshal(cs); err != nil {
			return err
		}
	}
	c.s16(z.id)
	c.s16(z.tenant)
	c.s16(z.origin)
	c.s16(strings.Join(z.servers, ","))
	c.u64(uint64(z.version))
	c.s32(string(cidr))
	var signing []byte
	if z.keys != nil {
		var err error
		if signing, err = json.Marshal(z.keys.cfg); err != nil {
			return err
		}
	}
	c.s32(string(signing))
	var xfr []byte
	if z.xfr != nil {
		var err error
		if xfr, err = json.Marshal(z.xfr.cfg); err != nil {
			return err
		}
	}
	c.s32(string(xfr))
	c.s16(z.queryLogID())
	var sec []byte
	if z.sec != nil {
		var err error
		if sec, err = json.Marshal(z.sec.cfg); err != nil {
			return err
		}
	}
	c.s32(string(sec))
	sets := 0
	z.names.all(func(_ string, n node) { sets += len(n.sets) })
	c.u32(uint32(sets))
	var err error
	z.names.all(func(owner string, n node) {
		for i := range n.sets {
			s := &n.sets[i]
			var route []byte
			if s.route != nil && err == nil {
				var rs zonecfg.RRSet
				s.route.restore(&rs)
				route, err = json.Marshal(rs)
			}
			c.s8(owner)
			c.u16(s.typ)
			c.u32(s.ttl)
			c.u16(s.count)
			c.s16(s.setID)
			c.s32(s.rdata)
			c.s32(string(route))
			if len(c.buf) > 64<<10 {
				c.flush()
			}
		}
	})
	c.flush()
	if err != nil {
		return err
	}
	return c.err
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
	zones := n.store.zones()
	slices.SortFunc(zones, func(a, b *zone) int { return strings.Compare(a.id, b.id) })
	c := &cacheWriter{w: bufio.NewWriterSize(f, 256<<10), crc: crc32.New(crc32.MakeTable(crc32.Castagnoli)), buf: make([]byte, 0, 80<<10)}
	c.buf = append(c.buf, cacheMagic...)
	c.u16(cacheFormat)
	c.u16(0)
	c.u64(seq)
	c.u32(uint32(len(zones)))
	for _, z := range zones {
		if err := c.zone(z); err != nil {
			return fail(err)
		}
	}
	c.flush()
	if c.err != nil {
		return fail(c.err)
	}
	c.buf = binary.BigEndian.AppendUint32(c.buf[:0], c.crc.Sum32())
	c.buf = append(c.buf, cacheEnd...)
	if _, err := c.w.Write(c.buf); err != nil {
		return fail(err)
	}
	if err := c.w.Flush(); err != nil {
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

// loadCache installs the cached zones and returns the cached sequence. The
// state it leaves is the cache's, so the cache is not rewritten until
// something changes.
func (n *Node) loadCache() (uint64, error) {
	start := time.Now()
	path := filepath.Join(n.cfg.CacheDir, cacheFile)
	b, err := os.ReadFile(path)
	var seq uint64
	switch {
	case errors.Is(err, os.ErrNotExist):
		err = errors.New("no zone cache yet")
	case err != nil:
	default:
		seq, err = n.installCache(b)
		if err != nil {
			err = fmt.Errorf("read cache %s: %w", path, err)
		}
	}
	if err != nil {
		return 0, err
	}
	n.mu.Lock()
	n.lastSeq = seq
	clear(n.stale)
	n.mu.Unlock()
	n.loaded(true, start)
	return seq, nil
}

// errCorruptCache is returned for a binary cache that does not parse.
var errCorruptCache = errors.New("corrupt zone cache")

// cacheReader decodes the binary cache; after the first error every read
// returns zero values and err says what went wrong.
type cacheReader struct {
	b   []byte
	off int
	err error
}

func (r *cacheReader) take(n int) []byte {
	if r.err != nil || n > len(r.b)-r.off {
		r.err = errCorruptCache
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *cacheReader) u16() uint16 {
	if p := r.take(2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (r *cacheReader) u32() uint32 {
	if p := r.take(4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (r *cacheReader) u64() uint64 {
	if p := r.take(8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

func (r *cacheReader) str(n int) string { return string(r.take(n)) }
func (r *cacheReader) s8() string       { return r.str(int(r.take1())) }
func (r *cacheReader) s16() string      { return r.str(int(r.u16())) }
func (r *cacheReader) s32() string      { return r.str(int(r.u32())) }

func (r *cacheReader) take1() byte {
	if p := r.take(1); p != nil {
		return p[0]
	}
	return 0
}

// cachedZone is one zone as read from the cache, before it is built.
type cachedZone struct {
	id, tenant, origin string
	servers            string // comma-separated pool names
	version            int64
	cidr               string
	dnssec             string // JSON zonecfg.DNSSEC, or empty
	transfers          string // JSON zonecfg.Transfers, or empty
	queryLog           string // query logging configuration id, or empty
	secondary          string // JSON zonecfg.Secondary, or empty
	owners             []string
	sets               []rrset
	routes             []string
}

// zone reads one zone.
func (r *cacheReader) zone() cachedZone {
	cz := cachedZone{id: r.s16(), tenant: r.s16(), origin: r.s16(), servers: r.s16(), version: int64(r.u64()), cidr: r.s32(), dnssec: r.s32(), transfers: r.s32(), queryLog: r.s16(), secondary: r.s32()}
	n := int(r.u32())
	if r.err != nil || n > (len(r.b)-r.off)/19 { // 19: the smallest set
		r.err = errCorruptCache
		return cz
	}
	cz.owners = make([]string, n)
	cz.sets = make([]rrset, n)
	for i := range n {
		cz.owners[i] = r.s8()
		s := &cz.sets[i]
		s.typ, s.ttl, s.count = r.u16(), r.u32(), r.u16()
		s.setID, s.rdata = r.s16(), r.s32()
		if route := r.s32(); route != "" {
			if cz.routes == nil {
				cz.routes = make([]string, n)
			}
			cz.routes[i] = route
		}
	}
	return cz
}

// build makes the zone, checking what the checksum cannot: that every
// name is a wire name inside the zone.
func (cz *cachedZone) build() (*zone, error) {
	origin, err := zonecfg.CanonicalName(cz.origin)
	if err != nil {
		return nil, fmt.Errorf("zone %s: %w", cz.id, err)
	}
	name, err := wireName(origin)
	if err != nil || cz.id == "" {
		return nil, fmt.Errorf("zone %q: bad name or id", cz.id)
	}
	z := &zone{id: cz.id, tenant: cz.tenant, name: name, origin: origin, version: cz.version, queries: &zoneQueries{}}
	if cz.servers != "" {
		z.servers = strings.Split(cz.servers, ",")
	}
	b := &zoneBuilder{z: z, w: newMapWriter[node](len(cz.sets) + len(cz.sets)/4)}
	b.w.set(name, node{})
	if cz.cidr != "" {
		var cs []event.CIDRCollection
		if err := json.Unmarshal([]byte(cz.cidr), &cs); err != nil {
			return nil, fmt.Errorf("zone %s: CIDR collections: %w", cz.id, err)
		}
		b.setCIDR(cs)
	}
	if cz.dnssec != "" {
		var d zonecfg.DNSSEC
		if err := json.Unmarshal([]byte(cz.dnssec), &d); err != nil {
			return nil, fmt.Errorf("zone %s: DNSSEC: %w", cz.id, err)
		}
		b.setDNSSEC(&d)
	}
	if cz.transfers != "" {
		var t zonecfg.Transfers
		if err := json.Unmarshal([]byte(cz.transfers), &t); err != nil {
			return nil, fmt.Errorf("zone %s: transfers: %w", cz.id, err)
		}
		b.setTransfers(&t)
	}
	b.setQueryLogging(&zonecfg.QueryLogging{ConfigID: cz.queryLog})
	if cz.secondary != "" {
		var s zonecfg.Secondary
		if err := json.Unmarshal([]byte(cz.secondary), &s); err != nil {
			return nil, fmt.Errorf("zone %s: secondary: %w", cz.id, err)
		}
		b.setSecondary(&s)
	}
	for i, owner := range cz.owners {
		if skipName(owner) != len(owner) || !isSubName(owner, name) {
			return nil, fmt.Errorf("zone %s: bad owner name", cz.id)
		}
		set := cz.sets[i]
		if cz.routes != nil && cz.routes[i] != "" {
			var rs zonecfg.RRSet
			if err := json.Unmarshal([]byte(cz.routes[i]), &rs); err != nil {
				return nil, fmt.Errorf("zone %s: routing: %w", cz.id, err)
			}
			if set.route, err = newRoute(rs); err != nil {
				return nil, fmt.Errorf("zone %s: routing: %w", cz.id, err)
			}
		}
		b.put(owner, set)
	}
	return b.finish()
}

// installCache checks and decodes a binary cache and replaces the store's
// zones with its zones. Nothing changes unless the whole file is sound.
func (n *Node) installCache(b []byte) (uint64, error) {
	const head, tail = 4 + 2 + 2 + 8 + 4, 4 + 4
	if len(b) < head+tail || string(b[:4]) != cacheMagic || string(b[len(b)-4:]) != cacheEnd {
		return 0, fmt.Errorf("%w: truncated or not a zone cache", errCorruptCache)
	}
	if f := binary.BigEndian.Uint16(b[4:]); f != cacheFormat {
		return 0, fmt.Errorf("zone cache format %d, want %d", f, cacheFormat)
	}
	body := b[:len(b)-tail]
	if crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)) != binary.BigEndian.Uint32(b[len(b)-tail:]) {
		return 0, fmt.Errorf("%w: checksum mismatch", errCorruptCache)
	}
	r := &cacheReader{b: body, off: 8}
	seq := r.u64()
	count := int(r.u32())
	n.applyMu.Lock()
	defer n.applyMu.Unlock()
	// Decoding is sequential (it is a walk through the file); building,
	// most of the work, runs on every core.
	work := make(chan cachedZone, 64)
	built := make([]*zone, 0, min(count, len(body)/32))
	var mu sync.Mutex // guards built and firstErr
	var firstErr error
	var workers sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		workers.Go(func() {
			for cz := range work {
				z, err := cz.build()
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if z != nil && err == nil {
					built = append(built, z)
				}
				mu.Unlock()
			}
		})
	}
	for range count {
		cz := r.zone()
		if r.err != nil {
			break
		}
		work <- cz
	}
	close(work)
	workers.Wait()
	if r.err == nil && r.off != len(body) {
		r.err = fmt.Errorf("%w: trailing bytes", errCorruptCache)
	}
	if err := firstError(r.err, firstErr); err != nil {
		return 0, err
	}
	n.store.replaceAll(built)
	return seq, nil
}

// firstError returns the first non-nil error.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
