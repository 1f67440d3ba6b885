package dataplane

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/waymark-dns/waymark/event"
)

// zoneSet is every served zone at one moment, by wire name. It is
// immutable; queries load it once and use it throughout.
type zoneSet struct {
	byName *shardMap[*zone]
}

// find returns the deepest served zone containing qname (lowercase wire
// format), walking up qname's labels: one map probe per label, whatever the
// number of zones.
func (zs *zoneSet) find(qname string) *zone {
	for name := qname; name != ""; name = parentName(name) {
		if z, ok := zs.byName.get(name); ok {
			return z
		}
	}
	return nil
}

// zoneViews is every served zone at one moment, one zoneSet per view: the
// zones visible on one pool name's addresses (views.go). Zone objects are
// shared between views; a change copies only the views it touches.
type zoneViews struct {
	views []*zoneSet
}

// view returns view v's zones.
func (zv *zoneViews) view(v int) *zoneSet { return zv.views[v] }

// zoneSetShards is fixed: with 100,000 zones a change copies a shard of
// about 400 entries and the 256 shard pointers.
const zoneSetShards = 256

// Store holds the zones a nameserver serves. It is safe for concurrent use:
// queries read an immutable zone set through an atomic pointer and never
// wait for writers; writers are serialised among themselves and build each
// new zone before swapping it in.
type Store struct {
	set atomic.Pointer[zoneViews]
	// signer signs the answers of signed zones to DO=1 queries (sign.go);
	// the default has no fleet key, so those answers are SERVFAIL.
	signer atomic.Pointer[Signer]
	// notifier, while it runs, sends NOTIFYs for newly published zone
	// versions (notify.go).
	notifier atomic.Pointer[Notifier]

	// names are the pool names of the views, by view index; empty: one
	// view serving every zone. viewOf is the reverse.
	names  []string
	viewOf map[string]int
	// system are the fleet's own zones, served in every view (views.go).
	system map[string]*zone

	// mu serialises writers and guards the fields below.
	mu     sync.Mutex
	byID   map[string]*zone
	byName map[string][]string // wire name → ids of zones with that name, sorted
	// journal holds recent deltas for IXFR (journal.go), pending the
	// parts of split changes not yet published.
	journal *journal
	pending map[string]*pendingDelta
}

// NewStore returns an empty store with one view, in which every zone is
// visible.
func NewStore() *Store { return NewStoreViews(nil) }

// SetSigning configures online signing for every view of the store.
func (s *Store) SetSigning(cfg SigningConfig) { s.signer.Store(NewSigner(cfg)) }

// load returns the current zones of every view.
func (s *Store) load() *zoneViews { return s.set.Load() }

// ReplaceZone installs z as the whole content of its zone, replacing any
// version held. The zone is built before the swap; queries see either the
// old zone or the new one. An error wrapping ErrSkippedRecords means the
// zone was installed without the record sets it lists; any other error
// means nothing changed.
func (s *Store) ReplaceZone(st event.ZoneState) error {
	z, err := buildZone(st)
	if z == nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forget(z.id)
	s.putLocked(z)
	return err
}

// ReplaceZones is ReplaceZone for many zones at once, as after loading a
// snapshot or a cache: the zones are built first and published in one swap,
// so a hundred thousand zones cost one copy of the zone index rather than
// one each. Zones that cannot be built are left out (and those held under
// their ids untouched); the error joins their errors.
func (s *Store) ReplaceZones(states []event.ZoneState) error {
	zones := make([]*zone, 0, len(states))
	var errs []error
	for _, st := range states {
		z, err := buildZone(st)
		if err != nil {
			errs = append(errs, err)
		}
		if z != nil {
			zones = append(zones, z)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.edit()
	for _, z := range zones {
		s.forget(z.id)
		s.indexLocked(z)
	}
	for _, z := range zones {
		s.publishNameLocked(w, z.name)
	}
	s.set.Store(w.done())
	return errors.Join(errs...)
}

// putNewer installs built zones in one swap, each unless the store holds
// its zone at the same or a newer version.
func (s *Store) putNewer(zones []*zone) {
	if len(zones) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.edit()
	for _, z := range zones {
		if old, ok := s.byID[z.id]; ok && old.version >= z.version {
			continue
		}
		s.forget(z.id)
		for _, name := range s.indexLocked(z) {
			s.publishNameLocked(w, name)
		}
	}
	s.set.Store(w.done())
}

// replaceAll makes zones, built already, the whole content of the store,
// in one swap: zones held under other ids are dropped.
func (s *Store) replaceAll(zones []*zone) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := make(map[string]bool, len(zones))
	for _, z := range zones {
		keep[z.id] = true
	}
	w := s.edit()
	for id, z := range s.byID {
		if !keep[id] {
			s.forget(id)
			s.unindexLocked(id)
			s.publishNameLocked(w, z.name)
		}
	}
	for _, z := range zones {
		s.forget(z.id)
		for _, name := range s.indexLocked(z) {
			s.publishNameLocked(w, name)
		}
	}
	s.set.Store(w.done())
}

// zones returns every zone held, in no particular order.
func (s *Store) zones() []*zone {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*zone, 0, len(s.byID))
	for _, z := range s.byID {
		out = append(out, z)
	}
	return out
}

// RemoveZone stops serving the zone with the given id. Unknown ids are
// ignored.
func (s *Store) RemoveZone(zoneID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeLocked(zoneID)
}

// ApplyResult says what Apply did with an event.
type ApplyResult int

// The results of Apply.
const (
	// Applied: the event was applied and the zone is at ev.ToVersion (or,
	// for zone.deleted, gone).
	Applied ApplyResult = iota + 1
	// AlreadyApplied: the zone is already at or past ev.ToVersion, or a
	// deleted zone is not held; nothing changed.
	AlreadyApplied
	// Gap: ev.FromVersion is not the version held; the caller must fetch
	// the zone's snapshot and ReplaceZone.
	Gap
	// UnknownZone: an update for a zone not held; the caller must fetch the
	// zone's snapshot.
	UnknownZone
)

// String returns the result's name.
func (r ApplyResult) String() string {
	switch r {
	case Applied:
		return "applied"
	case AlreadyApplied:
		return "already-applied"
	case Gap:
		return "gap"
	case UnknownZone:
		return "unknown-zone"
	}
	return fmt.Sprintf("ApplyResult(%d)", int(r))
}

// Apply applies one zone event. zone.created installs the zone from
// ev.Upserts (unless the version held is already at or past ev.ToVersion);
// zone.updated removes ev.Deletes then replaces ev.Upserts by key, copying
// only the parts of the zone it touches; zone.deleted removes the zone.
// The error follows ReplaceZone: with ErrSkippedRecords the event was still
// applied as reported by the result.
func (s *Store) Apply(ev event.ZoneEvent) (ApplyResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, held := s.byID[ev.ZoneID]
	switch ev.Kind {
	case event.ZoneDeleted:
		if !held {
			return AlreadyApplied, nil
		}
		s.removeLocked(ev.ZoneID)
		return Applied, nil
	case event.ZoneCreated:
		if held && cur.version >= ev.ToVersion {
			return AlreadyApplied, nil
		}
		s.forget(ev.ZoneID)
		z, err := buildZone(event.ZoneState{ID: ev.ZoneID, Name: ev.ZoneName, TenantID: ev.TenantID, Version: ev.ToVersion,
			RRSets: ev.Upserts, CIDRCollections: ev.CIDRCollections, NameServers: ev.NameServers, DNSSEC: ev.DNSSEC,
			Transfers: ev.Transfers, QueryLogging: ev.QueryLogging, Secondary: ev.Secondary})
		if z == nil {
			return 0, err
		}
		s.putLocked(z)
		return Applied, err
	case event.ZoneUpdated:
		switch {
		case !held:
			return UnknownZone, nil
		case ev.ToVersion <= cur.version:
			return AlreadyApplied, nil
		case ev.FromVersion != cur.version:
			return Gap, nil
		}
		b := cur.edit(ev.ToVersion)
		b.setCIDR(ev.CIDRCollections)
		b.setDNSSEC(ev.DNSSEC)
		b.setTransfers(ev.Transfers)
		b.setQueryLogging(ev.QueryLogging)
		b.setSecondary(ev.Secondary)
		for _, k := range ev.Deletes {
			b.remove(k)
		}
		for _, rs := range ev.Upserts {
			b.upsert(rs)
		}
		z, err := b.finish()
		s.noteChange(cur, z, &ev)
		if ev.Continued {
			// A leading part of a split change: hold it, serve the zone
			// as it was until the last part arrives.
			s.indexLocked(z)
			return Applied, err
		}
		s.putLocked(z)
		return Applied, err
	}
	return 0, fmt.Errorf("dataplane: zone %s: unknown event kind %q", ev.ZoneID, ev.Kind)
}

// putLocked installs z, replacing the zone with the same id.
func (s *Store) putLocked(z *zone) {
	w := s.edit()
	for _, name := range s.indexLocked(z) {
		s.publishNameLocked(w, name)
	}
	s.set.Store(w.done())
	if n := s.notifier.Load(); n != nil {
		n.published(z)
	}
}

// indexLocked records z under its id and name and returns the names whose
// serving zone may have changed.
func (s *Store) indexLocked(z *zone) []string {
	names := []string{z.name}
	old, ok := s.byID[z.id]
	if ok {
		// A rebuilt zone (snapshot, re-sync) keeps counting where the
		// old one was: the counter is the zone's, not the version's.
		z.queries = old.queries
	}
	if ok && old.name != z.name {
		s.unindexLocked(z.id)
		names = append(names, old.name)
	}
	s.byID[z.id] = z
	if ids := s.byName[z.name]; !slices.Contains(ids, z.id) {
		ids = append(slices.Clone(ids), z.id)
		slices.Sort(ids)
		s.byName[z.name] = ids
	}
	return names
}

// removeLocked drops the zone with the given id.
func (s *Store) removeLocked(id string) {
	z, ok := s.byID[id]
	if !ok {
		return
	}
	s.forget(id)
	s.unindexLocked(id)
	w := s.edit()
	s.publishNameLocked(w, z.name)
	s.set.Store(w.done())
}

func (s *Store) unindexLocked(id string) {
	z := s.byID[id]
	delete(s.byID, id)
	ids := slices.DeleteFunc(slices.Clone(s.byName[z.name]), func(x string) bool { return x == id })
	if len(ids) == 0 {
		delete(s.byName, z.name)
	} else {
		s.byName[z.name] = ids
	}
}

// Version returns the version held of a zone.
func (s *Store) Version(zoneID string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z, ok := s.byID[zoneID]
	if !ok {
		return 0, false
	}
	return z.version, true
}

// ZoneState returns the current content of a zone, for on-disk caches and
// re-syncs. Record values are in canonical presentation format and the SOA
// serial is the zone version.
func (s *Store) ZoneState(zoneID string) (event.ZoneState, bool) {
	s.mu.Lock()
	z, ok := s.byID[zoneID]
	s.mu.Unlock()
	if !ok {
		return event.ZoneState{}, false
	}
	return z.state(), true
}

// ZoneIDs returns the ids of the zones held, sorted.
func (s *Store) ZoneIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.byID))
	for id := range s.byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Len returns the number of zones held.
// Unservable is how many record sets of all zones could not be packed
// (their names are answered SERVFAIL), plus one per signed zone this node
// cannot sign.
func (s *Store) Unservable() int {
	sg := s.signer.Load()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, z := range s.byID {
		n += z.unservable()
		// A signed zone this node cannot sign (no fleet key, or material
		// it cannot read) counts as one: its DO=1 answers are SERVFAIL,
		// and the operator must see it (GET /v1/nameservers).
		if z.keys != nil {
			if _, err := z.keys.key(z.id, z.origin, sg.fleetKey); err != nil {
				n++
			}
		}
	}
	return n
}

func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID)
}
