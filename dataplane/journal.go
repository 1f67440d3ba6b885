package dataplane

import (
	"encoding/binary"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// The IXFR journal (RFC 1995; docs/transfers.md, "IXFR"): for each zone
// with transfer allow entries, the nameserver keeps the differences
// between the recent versions it published, computed from the zone events
// it applies, so that an IXFR from a recent serial gets the changes
// rather than the zone. A delta is in transfer terms: the records an AXFR
// of the older version carried that the newer one does not (deleted) and
// the reverse (added), the SOA aside.
//
// Memory is bounded twice: per zone by JournalConfig.MaxZoneDeltas and
// MaxZoneBytes (the oldest deltas go first), and for the whole store by
// MaxBytes, the globally oldest deltas going first. A zone whose chain
// from the client's serial is gone is transferred in full (RFC 1995 §4).
//
// Zones with alias record sets keep no journal: an alias's records are its
// target's, which change without a change to the alias, so no event says
// what a secondary holds. Zones replaced whole (a snapshot after a gap,
// the cache at start) begin a new, empty journal.

// Defaults for JournalConfig fields left zero.
const (
	DefaultJournalBytes     = 64 << 20
	DefaultJournalZoneBytes = 4 << 20
	DefaultJournalDeltas    = 1000
)

// JournalConfig bounds the IXFR journal.
type JournalConfig struct {
	// MaxBytes bounds the journal of every zone together (estimated
	// bytes: record data plus a fixed overhead per record). Default 64 MiB;
	// negative: no journal at all (IXFR is always answered in full).
	MaxBytes int
	// MaxZoneBytes bounds one zone's journal. Default 4 MiB.
	MaxZoneBytes int
	// MaxZoneDeltas bounds how many versions back one zone's journal
	// reaches. Default 1000.
	MaxZoneDeltas int
}

// xfrRR is one record in transfer form: owner a lowercase wire name,
// rdata without its length.
type xfrRR struct {
	owner string
	typ   uint16
	ttl   uint32
	rdata string
}

// size is the record's estimated memory, for the journal's bounds.
func (r xfrRR) size() int { return len(r.owner) + len(r.rdata) + 48 }

// xfrDelta is the difference between two consecutive published versions.
// Immutable once in the journal.
type xfrDelta struct {
	from, to       int64
	fromSOA, toSOA xfrRR
	del, add       []xfrRR
	bytes          int
	dead           bool // dropped from its zone's journal (guarded by journal.mu)
}

// journalRef is one delta in the store-wide order of insertion.
type journalRef struct {
	zoneID string
	d      *xfrDelta
}

// journal holds the deltas of every zone. Its lock is its own: writers
// add under the store's lock, transfers read without it.
type journal struct {
	mu    sync.Mutex
	cfg   JournalConfig
	zones map[string][]*xfrDelta // oldest first, contiguous
	order []journalRef           // every delta added, oldest first (some dead)
	bytes int
	live  int
}

// newJournal returns an empty journal with cfg's bounds.
func newJournal(cfg JournalConfig) *journal {
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultJournalBytes
	}
	if cfg.MaxZoneBytes <= 0 {
		cfg.MaxZoneBytes = DefaultJournalZoneBytes
	}
	if cfg.MaxZoneDeltas <= 0 {
		cfg.MaxZoneDeltas = DefaultJournalDeltas
	}
	return &journal{cfg: cfg, zones: map[string][]*xfrDelta{}}
}

// SetJournal replaces the store's IXFR journal by an empty one with cfg's
// bounds. Call it before loading zones.
func (s *Store) SetJournal(cfg JournalConfig) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.journal = newJournal(cfg)
}

// add appends d to the zone's journal, dropping what it no longer
// continues and what the bounds exclude.
func (j *journal) add(zoneID string, d *xfrDelta) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.cfg.MaxBytes < 0 {
		return
	}
	ds := j.zones[zoneID]
	if len(ds) > 0 && ds[len(ds)-1].to != d.from {
		j.dropLocked(zoneID)
		ds = nil
	}
	if d.bytes > j.cfg.MaxZoneBytes || d.bytes > j.cfg.MaxBytes {
		j.dropLocked(zoneID) // no chain can pass through d
		return
	}
	ds = append(slices.Clone(ds), d)
	zb := 0
	for _, x := range ds {
		zb += x.bytes
	}
	for len(ds) > j.cfg.MaxZoneDeltas || zb > j.cfg.MaxZoneBytes {
		zb -= ds[0].bytes
		j.kill(ds[0])
		ds = ds[1:]
	}
	j.zones[zoneID] = ds
	j.order = append(j.order, journalRef{zoneID, d})
	j.bytes += d.bytes
	j.live++
	for j.bytes > j.cfg.MaxBytes && len(j.order) > 0 {
		r := j.order[0]
		j.order = j.order[1:]
		if r.d.dead {
			continue
		}
		// The globally oldest live delta is its zone's oldest.
		zs := j.zones[r.zoneID]
		j.kill(zs[0])
		if len(zs) == 1 {
			delete(j.zones, r.zoneID)
		} else {
			j.zones[r.zoneID] = zs[1:]
		}
	}
	if len(j.order) > 64 && len(j.order) > 2*j.live {
		j.order = slices.DeleteFunc(slices.Clone(j.order), func(r journalRef) bool { return r.d.dead })
	}
}

// kill accounts for d leaving the journal.
func (j *journal) kill(d *xfrDelta) {
	d.dead = true
	j.bytes -= d.bytes
	j.live--
}

// drop forgets a zone's journal.
func (j *journal) drop(zoneID string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.dropLocked(zoneID)
}

func (j *journal) dropLocked(zoneID string) {
	for _, d := range j.zones[zoneID] {
		j.kill(d)
	}
	delete(j.zones, zoneID)
}

// chain returns the deltas leading from serial to version, oldest first,
// or nil when the journal does not reach back to serial.
func (j *journal) chain(zoneID string, serial uint32, version int64) []*xfrDelta {
	j.mu.Lock()
	defer j.mu.Unlock()
	ds := j.zones[zoneID]
	i := slices.IndexFunc(ds, func(d *xfrDelta) bool { return uint32(d.from) == serial })
	if i < 0 {
		return nil
	}
	for k := i; k < len(ds); k++ {
		if ds[k].to == version {
			return slices.Clone(ds[i : k+1])
		}
	}
	return nil
}

// stats returns the journal's live deltas and estimated bytes.
func (j *journal) stats() (deltas, bytes int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.live, j.bytes
}

// pendingDelta accumulates the keys a split change touches while its
// leading parts are held unpublished (Apply, ev.Continued).
type pendingDelta struct {
	held *zone // the unpublished zone the next part must continue
	base *zone // the published zone the change started from
	keys []zonecfg.Key
}

// journaled reports whether z keeps an IXFR journal: it has transfer allow
// entries and no aliases.
func (z *zone) journaled() bool {
	return z.xfr != nil && len(z.xfr.acls) > 0 && z.aliases == 0
}

// noteChange is called by Apply, under the store's lock, when the event ev
// turned cur into z: it extends the journal (or, for a leading part of a
// split change, remembers what the part touched).
func (s *Store) noteChange(cur, z *zone, ev *event.ZoneEvent) {
	p := s.pending[z.id]
	if p != nil && p.held != cur {
		p = nil // the held zone was replaced since: start again
	}
	if ev.Continued {
		if !z.journaled() {
			delete(s.pending, z.id)
			return
		}
		if p == nil {
			p = &pendingDelta{base: cur}
			s.pending[z.id] = p
		}
		p.held = z
		p.keys = appendEventKeys(p.keys, ev)
		return
	}
	delete(s.pending, z.id)
	base := cur
	if p != nil {
		base = p.base
	}
	if !z.journaled() || base.aliases > 0 || base.soa == nil || z.soa == nil {
		if base.journaled() {
			s.journal.drop(z.id) // transfers turned off, or an alias came
		}
		return
	}
	var keys []zonecfg.Key
	if p != nil {
		keys = p.keys
	}
	s.journal.add(z.id, zoneDelta(base, z, appendEventKeys(keys, ev)))
}

// forget drops what the journal holds of a zone replaced whole or removed.
func (s *Store) forget(zoneID string) {
	delete(s.pending, zoneID)
	s.journal.drop(zoneID)
}

// appendEventKeys appends the keys of the record sets ev deletes or
// upserts.
func appendEventKeys(keys []zonecfg.Key, ev *event.ZoneEvent) []zonecfg.Key {
	keys = append(keys, ev.Deletes...)
	for i := range ev.Upserts {
		keys = append(keys, ev.Upserts[i].Key())
	}
	return keys
}

// zoneDelta computes the delta from zone a to zone b, which differ only
// in the record sets with the given keys (and the SOA serial).
func zoneDelta(a, b *zone, keys []zonecfg.Key) *xfrDelta {
	d := &xfrDelta{from: a.version, to: b.version, fromSOA: soaRecord(a), toSOA: soaRecord(b)}
	type ot struct {
		owner string
		typ   uint16
	}
	seen := make(map[ot]bool, len(keys))
	var olds, news []xfrRR
	for _, k := range keys {
		owner, err := wireName(k.Name)
		typ := zonecfg.TypeCode(k.Type)
		if err != nil || seen[ot{owner, typ}] || (owner == a.name && typ == dns.TypeSOA) {
			continue
		}
		seen[ot{owner, typ}] = true
		olds, news = olds[:0], news[:0]
		var res result
		collect := func(z *zone, out *[]xfrRR) {
			if n, ok := z.names.get(owner); ok {
				xfrSets(nil, z, owner, n, typ, &res, func(owner string, s *rrset, ttl uint32) {
					s.records(func(rd string) { *out = append(*out, xfrRR{owner, s.typ, ttl, rd}) })
				})
			}
		}
		collect(a, &olds)
		collect(b, &news)
		for _, r := range olds {
			if !slices.Contains(news, r) {
				d.del = append(d.del, r)
			}
		}
		for _, r := range news {
			if !slices.Contains(olds, r) {
				d.add = append(d.add, r)
			}
		}
	}
	d.bytes = 2*d.fromSOA.size() + 96
	for _, r := range d.del {
		d.bytes += r.size()
	}
	for _, r := range d.add {
		d.bytes += r.size()
	}
	return d
}

// soaRecord is z's apex SOA in transfer form (serial = version).
func soaRecord(z *zone) xfrRR {
	r := xfrRR{owner: z.name, typ: dns.TypeSOA}
	if z.soa != nil {
		r.ttl = z.soa.ttl
		z.soa.records(func(rd string) { r.rdata = rd })
	}
	return r
}

// xfrSets calls emit with what a transfer carries of node n at owner: its
// static record sets, and for each routed group the answer a client with
// no location gets when every health check is healthy. Only type typ when
// typ is not 0. Choices that are random in answers (weighted, multivalue)
// are drawn from a generator seeded with the owner and type, so every
// transfer, and the journal's deltas, carry the same records. zs resolves
// alias targets (nil: the zone has no aliases); res is scratch space for
// routed groups.
func xfrSets(zs *zoneSet, z *zone, owner string, n node, typ uint16, res *result, emit func(owner string, s *rrset, ttl uint32)) {
	var done uint16 // the last routed type emitted at this owner
	for i := range n.sets {
		s := &n.sets[i]
		switch {
		case typ != 0 && s.typ != typ:
		case owner == z.name && s.typ == dns.TypeSOA:
		case s.route == nil:
			emit(owner, s, s.ttl)
		case s.typ != done:
			done = s.typ
			res.reset()
			routedAnswer(zs, z, owner, n, s.typ, client{rt: xfrRouting(owner, s.typ)}, res)
			for _, r := range res.answer {
				if r.owner == owner {
					emit(owner, r.set, r.ttl)
				}
			}
			res.release()
		}
	}
}

// xfrRouting is the routing input of a transfer's routed answers: no
// health feed, no location, randomness fixed by owner and type.
func xfrRouting(owner string, typ uint16) *Routing {
	h := fnv.New64a()
	h.Write([]byte(owner))
	var t [2]byte
	binary.BigEndian.PutUint16(t[:], typ)
	h.Write(t[:])
	return &Routing{Rand: rand.New(rand.NewPCG(h.Sum64(), 0x1995))}
}
