package dataplane

import (
	"hash/maphash"
	"slices"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/nspool"
	"github.com/waymark-dns/waymark/zonecfg"
)

// Views. Every zone is on a delegation set, a few names of the operator's
// nameserver pool, and must be answered only on those names' addresses:
// two tenants may host the same name on disjoint sets, and a parent zone
// and its child are on disjoint sets so that the parent's referral is
// followed. A store built with NewStoreViews keeps one zone index (a
// zoneSet) per pool name it serves; a query is looked up in the index of
// the name its destination address belongs to (one listener per address,
// each with Handler.ForView). Zone objects are shared between the indexes,
// and a lookup is the same label walk as without views. Zones without
// delegation set information (caches and snapshots from before delegation
// sets) are visible in every view.

// NewStoreViews returns an empty store with one view per pool name in
// names (canonical), in that order; with no names, one view serving every
// zone.
func NewStoreViews(names []string) *Store {
	s := &Store{byID: map[string]*zone{}, byName: map[string][]string{}, names: slices.Clone(names),
		viewOf: map[string]int{}, system: map[string]*zone{},
		journal: newJournal(JournalConfig{}), pending: map[string]*pendingDelta{}}
	for i, n := range names {
		s.viewOf[n] = i
	}
	seed := maphash.MakeSeed()
	zv := &zoneViews{views: make([]*zoneSet, max(1, len(names)))}
	for i := range zv.views {
		zv.views[i] = &zoneSet{byName: newShardMapSeeded[*zone](seed, zoneSetShards, 0)}
	}
	s.set.Store(zv)
	s.signer.Store(NewSigner(SigningConfig{}))
	return s
}

// Views returns the pool names of the store's views, by view index (nil
// for a store without views).
func (s *Store) Views() []string { return slices.Clone(s.names) }

// View returns the view index of a pool name, or -1 when the store does
// not serve it.
func (s *Store) View(name string) int {
	if v, ok := s.viewOf[name]; ok {
		return v
	}
	return -1
}

// visible reports whether zone z is answered in view v.
func (s *Store) visible(z *zone, v int) bool {
	if len(s.names) == 0 || len(z.servers) == 0 {
		return true
	}
	return slices.Contains(z.servers, s.names[v])
}

// Serves reports whether a zone on a delegation set of the given pool
// names is visible in at least one of the store's views: what a sharded
// nameserver loads.
func (s *Store) Serves(poolNames []string) bool {
	if len(s.names) == 0 || len(poolNames) == 0 {
		return true
	}
	for _, n := range poolNames {
		if _, ok := s.viewOf[n]; ok {
			return true
		}
	}
	return false
}

// viewOfZone returns the first view in which z is visible, or 0.
func (s *Store) viewOfZone(z *zone) int {
	for v := range s.names {
		if s.visible(z, v) {
			return v
		}
	}
	return 0
}

// viewsWriter edits the zone sets of a zoneViews, copying a view only when
// a change touches it.
type viewsWriter struct {
	old *zoneViews
	ws  []*mapWriter[*zone]
}

func (s *Store) edit() *viewsWriter {
	old := s.load()
	return &viewsWriter{old: old, ws: make([]*mapWriter[*zone], len(old.views))}
}

func (w *viewsWriter) view(v int) *mapWriter[*zone] {
	if w.ws[v] == nil {
		w.ws[v] = w.old.views[v].byName.edit()
	}
	return w.ws[v]
}

func (w *viewsWriter) done() *zoneViews {
	out := &zoneViews{views: slices.Clone(w.old.views)}
	for v, mw := range w.ws {
		if mw != nil {
			out.views[v] = &zoneSet{byName: mw.done()}
		}
	}
	return out
}

// publishNameLocked points name, in every view, at the zone that serves it
// there. Hosted zones may share a name (on disjoint delegation sets, so in
// different views); should two be visible in one view, the one with the
// smallest id serves it, so the fleet agrees whatever order events arrived
// in. A system zone of the name serves it where no hosted zone does (none
// can: the control plane refuses the fleet's own domains).
func (s *Store) publishNameLocked(w *viewsWriter, name string) {
	ids := s.byName[name]
	for v := range w.old.views {
		var pick *zone
		for _, id := range ids {
			if z := s.byID[id]; s.visible(z, v) {
				pick = z
				break
			}
		}
		if pick == nil {
			pick = s.system[name]
		}
		cur, ok := w.old.views[v].byName.get(name)
		switch {
		case pick != nil && (!ok || cur != pick):
			w.view(v).set(name, pick)
		case pick == nil && ok:
			w.view(v).del(name)
		}
	}
}

// SetSystemZones installs the fleet's own zones (nspool.Pool.SystemZones),
// replacing any held: answered authoritatively in every view, owned by no
// tenant, and never part of snapshots, caches or the zone count.
func (s *Store) SetSystemZones(zones []nspool.SystemZone) error {
	built := map[string]*zone{}
	for _, sz := range zones {
		st := event.ZoneState{ID: "system:" + sz.Name, Name: sz.Name, Version: 1}
		for _, rs := range sz.RRSets {
			st.RRSets = append(st.RRSets, systemRRSet(rs))
		}
		z, err := buildZone(st)
		if err != nil {
			return err
		}
		built[z.name] = z
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.system
	s.system = built
	w := s.edit()
	for name := range old {
		s.publishNameLocked(w, name)
	}
	for name := range built {
		s.publishNameLocked(w, name)
	}
	s.set.Store(w.done())
	return nil
}

func systemRRSet(rs nspool.RRSet) zonecfg.RRSet {
	return zonecfg.RRSet{Name: rs.Name, Type: rs.Type, TTL: rs.TTL, Records: rs.Records}
}
