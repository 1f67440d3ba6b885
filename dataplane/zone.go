package dataplane

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// rrset is one record set ready to be copied into a response: the RDATA of
// every record in uncompressed wire format, each preceded by its RDLENGTH.
// Owner, class and TTL are written per response, so the same bytes serve an
// exact match, a wildcard synthesis and a negative answer's SOA. Keeping only
// the packed form (no miekg structs, no presentation strings) keeps a record
// to a few dozen bytes; presentation form is rebuilt on demand (ZoneState).
type rrset struct {
	rdata string // count × (RDLENGTH big-endian uint16, RDATA)
	setID string // Route 53 set identifier; "" for simple record sets
	ttl   uint32
	typ   uint16
	count uint16
	// route is the routing policy, health check or alias target of a
	// routed or alias set (routing.go); nil for a plain simple set, so
	// lookup's fast case is one nil test.
	route *route
}

// records calls f with the RDATA of each record.
func (s *rrset) records(f func(rdata string)) {
	for off := 0; off+2 <= len(s.rdata); {
		n := int(s.rdata[off])<<8 | int(s.rdata[off+1])
		f(s.rdata[off+2 : off+2+n])
		off += 2 + n
	}
}

// node is everything at one owner name. A node without record sets is an
// empty non-terminal: it exists (NODATA, not NXDOMAIN) because names below
// it do. Nodes are values inside an immutable map; a change stores a new
// node with a new sets slice and never writes to a published one.
type node struct {
	sets     []rrset // ordered by type, then set identifier
	children int32   // nodes directly below this one
}

// find returns the first record set of type t, or nil.
func (n *node) find(t uint16) *rrset {
	for i := range n.sets {
		if n.sets[i].typ == t {
			return &n.sets[i]
		}
	}
	return nil
}

// zone is one hosted zone at one version. It is immutable once published;
// Apply derives a new zone that shares all untouched shards of the old one.
type zone struct {
	id      string
	tenant  string
	name    string // wire format, lowercase
	origin  string // presentation format, canonical
	version int64
	// servers are the pool names of the zone's delegation set (views.go);
	// nil: every view.
	servers []string
	names   *shardMap[node]
	soa     *rrset // the apex SOA, or nil (then negative answers carry none)
	negTTL  uint32 // min(SOA TTL, SOA MINIMUM), RFC 2308 §5
	cuts    int    // NS record sets below the apex: zero skips the cut search
	wilds   int    // wildcard nodes: zero skips the closest-encloser search
	records int
	aliases int // alias record sets: a zone with any keeps no IXFR journal (journal.go)
	// cidr holds the CIDR collections the zone's IP-based record sets use,
	// by collection id (routing_cidr.go); replaced, never changed.
	cidr map[string]*cidrColl
	// bad holds the record sets the control plane sent but this server
	// could not pack (by key, with their owner's wire name), and badNames
	// how many of them each owner has. Queries for such a name are
	// answered SERVFAIL, never NXDOMAIN or NODATA: the data exists, this
	// server just cannot serve it. Nil when there are none (the usual
	// case); copied on write by a builder.
	bad      map[zonecfg.Key]string
	badNames map[string]int
	// keys is the signing material of a signed zone (sign.go), nil for
	// an unsigned one.
	keys *zoneKeys
	// xfr is the outgoing transfer configuration (xfr.go); nil: none.
	xfr *zoneXfr
	// sec is a secondary zone's configuration (secondary.go); nil for
	// an ordinary zone. expired is sec.cfg.Expired, where lookup tests it.
	sec     *zoneSecondary
	expired bool
	// queries counts the queries the zone answered (zonequeries.go). It
	// is the one mutable part of a zone, shared by every version of it:
	// edit copies the pointer and the store hands it to a rebuilt zone.
	queries *zoneQueries
	// qlog is the zone's query logging (querylog.go); nil: off.
	qlog *zonecfg.QueryLogging
}

// ErrSkippedRecords is wrapped by the error ReplaceZone and Apply return
// when some record sets were invalid and left out. The rest of the zone was
// installed: callers should log the error and treat the zone as applied.
var ErrSkippedRecords = errors.New("dataplane: invalid record sets skipped")

// zoneBuilder applies changes to a zone under construction.
type zoneBuilder struct {
	z       *zone
	w       *mapWriter[node]
	tmp     []byte // packing scratch space
	skipped []error
	badCopy bool // z.bad and z.badNames are this builder's own
}

// buildZone makes a zone from a full zone state. An error that does not
// wrap ErrSkippedRecords means no zone was built.
func buildZone(st event.ZoneState) (*zone, error) {
	b, err := newZoneBuilder(st.ID, st.Name, len(st.RRSets))
	if err != nil {
		return nil, err
	}
	b.z.tenant, b.z.version, b.z.servers = st.TenantID, st.Version, st.NameServers
	b.setCIDR(st.CIDRCollections)
	b.setDNSSEC(st.DNSSEC)
	b.setTransfers(st.Transfers)
	b.setQueryLogging(st.QueryLogging)
	b.setSecondary(st.Secondary)
	for _, rs := range st.RRSets {
		b.upsert(rs)
	}
	return b.finish()
}

// newZoneBuilder starts an empty zone, to hold about size record sets.
func newZoneBuilder(id, origin string, size int) (*zoneBuilder, error) {
	if id == "" {
		return nil, errors.New("dataplane: zone without id")
	}
	origin, err := zonecfg.CanonicalName(origin)
	if err != nil {
		return nil, fmt.Errorf("dataplane: zone %s: %w", id, err)
	}
	name, err := wireName(origin)
	if err != nil {
		return nil, fmt.Errorf("dataplane: zone %s: %w", id, err)
	}
	z := &zone{id: id, name: name, origin: origin, queries: &zoneQueries{}}
	b := &zoneBuilder{z: z, w: newMapWriter[node](size + size/4), tmp: make([]byte, 1024)}
	b.w.set(name, node{})
	return b, nil
}

// edit starts a builder deriving a new version from z.
func (z *zone) edit(version int64) *zoneBuilder {
	nz := *z
	nz.version = version
	return &zoneBuilder{z: &nz, w: z.names.edit(), tmp: make([]byte, 1024)}
}

// finish rewrites the SOA serial to the zone version and publishes. A
// secondary zone keeps its primary's serial (RFC 1996 and every monitor
// comparing the serials of a zone's servers expect one serial per version).
func (b *zoneBuilder) finish() (*zone, error) {
	z := b.z
	apex, _ := b.w.get(z.name)
	z.soa, z.negTTL = nil, 0
	if i := slices.IndexFunc(apex.sets, func(s rrset) bool { return s.typ == dns.TypeSOA }); i >= 0 {
		sets := slices.Clone(apex.sets)
		if z.sec == nil {
			sets[i].rdata = soaWithSerial(sets[i].rdata, uint32(z.version))
		}
		apex.sets = sets
		b.w.set(z.name, apex)
		z.soa = &sets[i]
		z.negTTL = min(sets[i].ttl, soaMinimum(sets[i].rdata))
	}
	z.names = b.w.done()
	b.w = nil
	if len(b.skipped) > 0 {
		return z, fmt.Errorf("%w: zone %s: %w", ErrSkippedRecords, z.origin, errors.Join(b.skipped...))
	}
	return z, nil
}

// setDNSSEC replaces the zone's signing material; nil leaves it as it is
// and an unsigned value (no ZSK) makes the zone unsigned. Material that
// cannot be read is reported like other bad data, and the zone's DO=1
// answers are SERVFAIL.
func (b *zoneBuilder) setDNSSEC(cfg *zonecfg.DNSSEC) {
	if cfg == nil {
		return
	}
	b.z.keys = nil
	if !cfg.Signed() {
		return
	}
	k, err := newZoneKeys(b.z.origin, cfg)
	if err != nil {
		// Still a signed zone: its DO=1 answers are SERVFAIL, never
		// unsigned data.
		b.skipped = append(b.skipped, fmt.Errorf("dnssec: %w", err))
		k = &zoneKeys{cfg: cfg}
		k.once.Do(func() { k.err = err })
	}
	b.z.keys = k
}

// upsert replaces (or adds) the record set with rs's key. One that does
// not pack replaces the old version too: it is remembered as bad (SERVFAIL
// for its name) rather than left answering stale data or nothing.
func (b *zoneBuilder) upsert(rs zonecfg.RRSet) {
	owner, set, ok := b.pack(rs)
	if ok {
		b.setBad(rs.Key(), "", false)
		b.put(owner, set)
		return
	}
	if w, err := wireName(rs.Name); err == nil && isSubName(w, b.z.name) {
		b.remove(rs.Key())
		b.setBad(rs.Key(), w, true)
	}
}

// setBad records (bad true) or forgets that the record set k at owner
// could not be packed.
func (b *zoneBuilder) setBad(k zonecfg.Key, owner string, bad bool) {
	z := b.z
	old, was := z.bad[k]
	if was == bad {
		return
	}
	if !b.badCopy {
		z.bad, z.badNames = maps.Clone(z.bad), maps.Clone(z.badNames)
		if z.bad == nil {
			z.bad, z.badNames = map[zonecfg.Key]string{}, map[string]int{}
		}
		b.badCopy = true
	}
	if bad {
		z.bad[k] = owner
		z.badNames[owner]++
		return
	}
	delete(z.bad, k)
	if z.badNames[old]--; z.badNames[old] <= 0 {
		delete(z.badNames, old)
	}
}

// Unservable is how many record sets of the zone could not be packed.
func (z *zone) unservable() int { return len(z.bad) }

// pack packs rs for this zone; a record set that is invalid or outside the
// zone is noted as skipped and reported not ok.
func (b *zoneBuilder) pack(rs zonecfg.RRSet) (string, rrset, bool) {
	owner, set, err := packRRSet(rs, b.tmp)
	if err == nil && !isSubName(owner, b.z.name) {
		err = fmt.Errorf("%s is not in zone %s", rs.Name, b.z.origin)
	}
	if err != nil {
		b.skipped = append(b.skipped, fmt.Errorf("%s: %w", rs.Key(), err))
		return "", rrset{}, false
	}
	return owner, set, true
}

// put replaces (or adds) a packed record set at owner, a name in the zone.
func (b *zoneBuilder) put(owner string, set rrset) {
	n, ok := b.w.get(owner)
	if !ok {
		// A new name: one map write, no merging (most of a bulk load).
		b.count(owner, &set, 1)
		b.addNode(owner, node{sets: []rrset{set}})
		return
	}
	sets := make([]rrset, 0, len(n.sets)+1)
	replaced := false
	for _, s := range n.sets {
		if s.typ == set.typ && s.setID == set.setID {
			b.count(owner, &s, -1)
			s, replaced = set, true
		}
		sets = append(sets, s)
	}
	if !replaced {
		sets = append(sets, set)
		sort.SliceStable(sets, func(i, j int) bool {
			if sets[i].typ != sets[j].typ {
				return sets[i].typ < sets[j].typ
			}
			return sets[i].setID < sets[j].setID
		})
	}
	b.count(owner, &set, 1)
	n.sets = sets
	b.w.set(owner, n)
}

// remove deletes the record set with key k, and the nodes it leaves empty.
func (b *zoneBuilder) remove(k zonecfg.Key) {
	b.setBad(k, "", false)
	owner, err := wireName(k.Name)
	if err != nil {
		return
	}
	typ := zonecfg.TypeCode(k.Type)
	n, ok := b.w.get(owner)
	if !ok {
		return
	}
	i := slices.IndexFunc(n.sets, func(s rrset) bool { return s.typ == typ && s.setID == k.SetIdentifier })
	if i < 0 {
		return
	}
	b.count(owner, &n.sets[i], -1)
	n.sets = slices.Delete(slices.Clone(n.sets), i, i+1)
	b.w.set(owner, n)
	b.prune(owner)
}

// count keeps the zone's counters as record sets come and go.
func (b *zoneBuilder) count(owner string, s *rrset, d int) {
	b.z.records += d * int(s.count)
	if s.typ == dns.TypeNS && owner != b.z.name {
		b.z.cuts += d
	}
	if s.route != nil && s.route.alias != nil {
		b.z.aliases += d
	}
}

// addNode creates owner as n and any missing ancestors up to the apex.
func (b *zoneBuilder) addNode(owner string, n node) {
	b.w.set(owner, n)
	if isWildcardName(owner) {
		b.z.wilds++
	}
	for name := owner; name != b.z.name; {
		p := parentName(name)
		pn, ok := b.w.get(p)
		pn.children++
		b.w.set(p, pn)
		if ok {
			return
		}
		if isWildcardName(p) {
			b.z.wilds++
		}
		name = p
	}
}

// prune removes owner if it has become empty and childless, then its
// ancestors likewise. The apex always stays.
func (b *zoneBuilder) prune(owner string) {
	for name := owner; name != b.z.name; {
		n, ok := b.w.get(name)
		if !ok || len(n.sets) > 0 || n.children > 0 {
			return
		}
		b.w.del(name)
		if isWildcardName(name) {
			b.z.wilds--
		}
		p := parentName(name)
		pn, _ := b.w.get(p)
		pn.children--
		b.w.set(p, pn)
		name = p
	}
}

// packRRSet validates rs and packs its records.
func packRRSet(rs zonecfg.RRSet, tmp []byte) (string, rrset, error) {
	owner, err := wireName(rs.Name)
	if err != nil {
		return "", rrset{}, err
	}
	if rs.Alias != nil {
		set, err := packAlias(rs)
		return owner, set, err
	}
	set, ok := packAddresses(rs)
	if !ok {
		set, ok = packNames(rs)
	}
	if !ok {
		if _, set, err = packGeneral(rs, tmp); err != nil {
			return "", rrset{}, err
		}
	}
	set.route, err = newRoute(rs)
	return owner, set, err
}

// packGeneral packs any record set through zonecfg's packer, the same
// code that decides on the control plane what is accepted.
func packGeneral(rs zonecfg.RRSet, tmp []byte) (string, rrset, error) {
	owner, err := wireName(rs.Name)
	if err != nil {
		return "", rrset{}, err
	}
	buf, rrs, _, err := rs.Pack(tmp)
	if err != nil {
		return "", rrset{}, err
	}
	set := rrset{
		rdata: string(buf),
		setID: rs.SetIdentifier,
		ttl:   rs.TTL,
		typ:   rrs[0].Header().Rrtype,
		count: uint16(len(rrs)),
	}
	return owner, set, nil
}

// packAddresses packs an A or AAAA set without miekg's presentation
// parser, which costs microseconds per record and dominates loading a large
// zone. It accepts exactly what that parser accepts for these types (a
// dotted quad; an address with a colon, IPv4-mapped forms included) and
// reports false for anything else, which then takes the general path and
// gets its error there.
func packAddresses(rs zonecfg.RRSet) (rrset, bool) {
	var typ uint16
	switch rs.Type {
	case "A":
		typ = dns.TypeA
	case "AAAA":
		typ = dns.TypeAAAA
	default:
		return rrset{}, false
	}
	n := len(rs.Records)
	if n == 0 || n > zonecfg.MaxValuesPerRRSet {
		return rrset{}, false
	}
	size := 4
	if typ == dns.TypeAAAA {
		size = 16
	}
	buf := make([]byte, 0, n*(2+size))
	for _, v := range rs.Records {
		a, err := netip.ParseAddr(strings.TrimSpace(v))
		if err != nil || a.Zone() != "" || (typ == dns.TypeA) != a.Is4() {
			return rrset{}, false
		}
		rec := len(buf)
		buf = append(buf, 0, byte(size))
		if typ == dns.TypeA {
			b := a.As4()
			buf = append(buf, b[:]...)
		} else {
			b := a.As16()
			buf = append(buf, b[:]...)
		}
		for off := 0; off < rec; off += 2 + size {
			if string(buf[off:off+2+size]) == string(buf[rec:]) {
				return rrset{}, false // a duplicate: the general path says so
			}
		}
	}
	return rrset{rdata: string(buf), setID: rs.SetIdentifier, ttl: rs.TTL, typ: typ, count: uint16(n)}, true
}

// skipName returns the length of the uncompressed wire name at the start of
// b, or -1.
func skipName(b string) int {
	for off := 0; off < len(b); {
		l := int(b[off])
		if l == 0 {
			return off + 1
		}
		if l > 63 {
			return -1
		}
		off += 1 + l
	}
	return -1
}

// soaWithSerial returns packed SOA rdata (with RDLENGTH) with its serial
// replaced: the served serial is always the zone version.
func soaWithSerial(rdata string, serial uint32) string {
	b := []byte(rdata)
	off := 2
	for range 2 {
		n := skipName(rdata[off:])
		if n < 0 {
			return rdata
		}
		off += n
	}
	if off+4 > len(b) {
		return rdata
	}
	binary.BigEndian.PutUint32(b[off:], serial)
	return string(b)
}

// soaSerial returns the SERIAL field of packed SOA rdata (with RDLENGTH).
func soaSerial(rdata string) (uint32, bool) {
	off := 2
	for range 2 {
		n := skipName(rdata[min(off, len(rdata)):])
		if n < 0 {
			return 0, false
		}
		off += n
	}
	if off+4 > len(rdata) {
		return 0, false
	}
	return binary.BigEndian.Uint32([]byte(rdata[off : off+4])), true
}

// serial is the SOA serial the zone is served with: its version, or a
// secondary zone's primary's serial.
func (z *zone) serial() uint32 {
	if z.sec != nil && z.soa != nil {
		if s, ok := soaSerial(z.soa.rdata); ok {
			return s
		}
	}
	return uint32(z.version)
}

// soaMinimum returns the MINIMUM field: the last four octets of the RDATA.
func soaMinimum(rdata string) uint32 {
	if len(rdata) < 6 {
		return 0
	}
	r := rdata[len(rdata)-4:]
	return uint32(r[0])<<24 | uint32(r[1])<<16 | uint32(r[2])<<8 | uint32(r[3])
}

// targetName returns the lowercase domain name at offset off of a record's
// RDATA (the CNAME, NS, MX or SRV target), or "".
func targetName(rdata string, off int) string {
	if off >= len(rdata) {
		return ""
	}
	n := skipName(rdata[off:])
	if n < 0 {
		return ""
	}
	b := []byte(rdata[off : off+n])
	lowerBytes(b)
	return string(b)
}

// targetOffset is where the target name starts in the RDATA of types that
// have one in our additional-section processing.
func targetOffset(t uint16) (int, bool) {
	switch t {
	case dns.TypeNS, dns.TypeCNAME:
		return 0, true
	case dns.TypeMX:
		return 2, true
	case dns.TypeSRV:
		return 6, true
	}
	return 0, false
}

// state rebuilds the zone's content in the form the control plane sent it.
func (z *zone) state() event.ZoneState {
	st := event.ZoneState{ID: z.id, Name: z.origin, TenantID: z.tenant, Version: z.version, CIDRCollections: z.cidrStates(),
		NameServers: z.servers}
	if z.keys != nil {
		st.DNSSEC = z.keys.cfg
	}
	if z.xfr != nil {
		st.Transfers = z.xfr.cfg
	}
	if z.sec != nil {
		st.Secondary = z.sec.cfg
	}
	st.QueryLogging = z.qlog
	buf := make([]byte, 0, 512)
	z.names.all(func(owner string, n node) {
		name := presentationName(owner)
		for i := range n.sets {
			st.RRSets = append(st.RRSets, n.sets[i].state(owner, name, &buf))
		}
	})
	sort.Slice(st.RRSets, func(i, j int) bool { return st.RRSets[i].Key().Less(st.RRSets[j].Key()) })
	return st
}

// state rebuilds the record set in the form the control plane sent it;
// owner is its wire name, name its presentation form, buf scratch space.
func (s *rrset) state(owner, name string, buf *[]byte) zonecfg.RRSet {
	rs := zonecfg.RRSet{Name: name, Type: dns.TypeToString[s.typ], SetIdentifier: s.setID, TTL: s.ttl}
	if s.route != nil {
		s.route.restore(&rs)
	}
	s.records(func(rdata string) {
		b := append((*buf)[:0], owner...)
		b = binary.BigEndian.AppendUint16(b, s.typ)
		b = binary.BigEndian.AppendUint16(b, dns.ClassINET)
		b = binary.BigEndian.AppendUint32(b, s.ttl)
		b = binary.BigEndian.AppendUint16(b, uint16(len(rdata)))
		b = append(b, rdata...)
		*buf = b
		if rr, _, err := dns.UnpackRR(b, 0); err == nil {
			rs.Records = append(rs.Records, zonecfg.RData(rr))
		}
	})
	return rs
}
