package dataplane

import (
	"fmt"
	"math/rand/v2"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/zonecfg"
)

// Routing configures how a Handler answers routed record sets (weighted,
// latency, geolocation, failover, multivalue answer, IP-based) and alias
// record sets. Every field is optional; the zero value answers as if every
// health check passed and no client location were known.
type Routing struct {
	// Health says whether health checks pass. Nil: every check passes.
	// Unknown checks pass too (Route 53: a deleted check leaves the
	// outcome undefined; answering is the useful choice).
	Health HealthView
	// GeoIP locates clients for geolocation and latency routing. Nil: no
	// location is known, so geolocation answers the default ("*") record
	// or NODATA, and latency routing falls back as Latency documents.
	GeoIP *GeoDB
	// Latency overrides the great-circle choice of latency routing for
	// the prefixes and places it lists. Nil: distance only.
	Latency *LatencyTable
	// Region is this nameserver's latency region (zonecfg.Regions). When a
	// client's location is unknown, latency routing picks the region
	// nearest to the nameserver instead: a resolver asking this node is
	// likely near it. Empty: the first record set by set identifier.
	Region string
	// Rand draws the random numbers of weighted and multivalue answers.
	// Nil: the runtime's goroutine-safe generator. A *rand.Rand is not
	// safe for concurrent use, so set it only where queries are serial
	// (tests, with a seeded source).
	Rand *rand.Rand
}

// SetRouting sets how h answers routed and alias record sets; it may be
// called at any time, queries use either the old or the new value.
func (h *Handler) SetRouting(r Routing) { h.routing.Store(&r) }

// maxAliasDepth bounds alias chains (alias → alias → …), which also stops
// loops; the control plane refuses most but a chain can still close
// through later edits.
const maxAliasDepth = 8

// maxMultiValue is the most multivalue records in one answer (Route 53).
const maxMultiValue = 8

// route is what a routed or alias record set carries besides its records.
// Simple record sets without a health check have none (nil), so the
// common case costs one pointer and one nil test per query.
type route struct {
	policy zonecfg.Policy
	weight uint32
	region zonecfg.Region // latency
	geo    zonecfg.GeoLocation
	// primary is the failover role.
	primary  bool
	cidr     zonecfg.CIDRRouting
	check    string // health check id; "" = always healthy
	alias    *aliasTarget
	original zonecfg.Routing // as received, for ZoneState
}

// aliasTarget is an alias's target in lookup form.
type aliasTarget struct {
	zoneID string
	name   string // lowercase wire format
	eth    bool   // evaluate target health
}

// newRoute returns the route of rs, or nil for a simple, non-alias set
// without a health check.
func newRoute(rs zonecfg.RRSet) (*route, error) {
	pol := rs.Policy()
	if pol == zonecfg.PolicySimple && rs.Alias == nil && rs.HealthCheckID == "" {
		return nil, nil
	}
	r := &route{policy: pol, check: rs.HealthCheckID}
	r.original = rs.Routing
	switch pol {
	case zonecfg.PolicyWeighted:
		r.weight = uint32(*rs.Weight)
	case zonecfg.PolicyLatency:
		reg, ok := zonecfg.LookupRegion(rs.Region)
		if !ok {
			return nil, fmt.Errorf("unknown region %q", rs.Region)
		}
		r.region = reg
	case zonecfg.PolicyGeolocation:
		r.geo = *rs.Geo
	case zonecfg.PolicyFailover:
		r.primary = rs.Failover == zonecfg.FailoverPrimary
	case zonecfg.PolicyCIDR:
		r.cidr = *rs.CIDR
	}
	if a := rs.Alias; a != nil {
		name, err := wireName(a.DNSName)
		if err != nil {
			return nil, fmt.Errorf("alias target: %w", err)
		}
		r.alias = &aliasTarget{zoneID: a.HostedZoneID, name: name, eth: a.EvaluateTargetHealth}
	}
	return r, nil
}

// restore copies the routing back into rs (ZoneState, caches).
func (r *route) restore(rs *zonecfg.RRSet) { rs.Routing = r.original }

// packAlias makes the record set of an alias: no records, the type, and
// the route that names the target.
func packAlias(rs zonecfg.RRSet) (rrset, error) {
	t, ok := dns.StringToType[rs.Type]
	if !ok {
		return rrset{}, fmt.Errorf("unknown type %q", rs.Type)
	}
	r, err := newRoute(rs)
	if err != nil {
		return rrset{}, err
	}
	return rrset{setID: rs.SetIdentifier, typ: t, route: r}, nil
}

// group returns the record sets of type t at n: one for simple routing,
// the members of a routing group otherwise (sets are ordered by type).
func (n *node) group(t uint16) []rrset {
	i := 0
	for i < len(n.sets) && n.sets[i].typ != t {
		i++
	}
	j := i
	for j < len(n.sets) && n.sets[j].typ == t {
		j++
	}
	return n.sets[i:j]
}

// routedNode reports whether any record set at n is routed or an alias:
// an answer there may depend on the client, the health feed or chance,
// so it must never be cached or pre-packed without them.
func routedNode(n *node) bool {
	for i := range n.sets {
		if n.sets[i].route != nil {
			return true
		}
	}
	return false
}

// eval is the state of one routed answer: the query's client and
// routing environment, and what it learned along the way.
type eval struct {
	zs    *zoneSet
	rt    Routing
	cl    client // by value: a pointer would move every query's client to the heap
	res   *result
	owner string // the name answers are written under
	loc   Location
	locK  int8 // 0 not looked up, 1 known, -1 unknown
}

// clientPrefix is the client's address and the number of its bits that
// are known: the ECS source prefix, or the packet's whole source address.
func (e *eval) clientPrefix() netip.Prefix {
	if p := e.cl.ecs; p.IsValid() && p.Bits() > 0 {
		return p
	}
	a := e.cl.addr.Unmap()
	if !a.IsValid() {
		return netip.Prefix{}
	}
	return netip.PrefixFrom(a, a.BitLen())
}

// usedClient records that the answer depends on the client's address up
// to bits bits: the ECS scope to answer with (RFC 7871 §7.2.1) is the
// largest such number, never more than the source prefix.
func (e *eval) usedClient(bits int) {
	p := e.cl.ecs
	if !p.IsValid() || p.Bits() == 0 {
		return
	}
	bits = min(bits, p.Bits())
	if uint8(bits) > e.res.scope {
		e.res.scope = uint8(bits)
	}
}

// location returns the client's location, looked up once per query.
func (e *eval) location() (Location, bool) {
	if e.locK == 0 {
		e.locK = -1
		p := e.clientPrefix()
		if l, ok := e.rt.GeoIP.Lookup(p.Addr()); ok {
			e.loc, e.locK = l, 1
		}
		bits := p.Bits()
		if e.locK == 1 && e.loc.Network.IsValid() && e.loc.Network.Addr().Is4() == p.Addr().Is4() {
			bits = min(bits, e.loc.Network.Bits())
		}
		if e.rt.GeoIP != nil {
			// Without a database every client is unknown alike: the
			// answer does not depend on the subnet.
			e.usedClient(bits)
		}
		if e.locK == 1 {
			if e.tracing() {
				e.notef("client %s located at %s (GeoIP network %s)", p, e.loc, e.loc.Network)
			}
		} else {
			if e.tracing() {
				e.notef("client %s has no GeoIP location", p)
			}
		}
	}
	return e.loc, e.locK == 1
}

// tracing reports whether an explanation is being written. Callers test
// it before notef: building notef's arguments boxes them on the heap, an
// allocation per call that queries must not pay.
func (e *eval) tracing() bool { return e.cl.trace != nil }

// notef adds a line to the explanation; see tracing.
func (e *eval) notef(format string, args ...any) {
	*e.cl.trace = append(*e.cl.trace, fmt.Sprintf(format, args...))
}

// checkHealthy reports a health check's status; unknown checks pass.
func (e *eval) checkHealthy(id string) bool {
	if e.rt.Health == nil {
		if e.tracing() {
			e.notef("health check %s: no health feed, counted healthy", id)
		}
		return true
	}
	h, known := e.rt.Health.Healthy(id)
	switch {
	case !known:
		if e.tracing() {
			e.notef("health check %s: unknown, counted healthy", id)
		}
		return true
	case h:
		if e.tracing() {
			e.notef("health check %s: healthy", id)
		}
	default:
		if e.tracing() {
			e.notef("health check %s: unhealthy", id)
		}
	}
	return h
}

// healthy reports whether a member of a routing group counts as healthy
// (ROUTE53.md §6.1): its own check passes, and for an alias evaluating
// target health, at least one record set of the target group is healthy.
func (e *eval) healthy(z *zone, s *rrset, depth int) bool {
	r := s.route
	if r == nil {
		return true
	}
	if r.check != "" && !e.checkHealthy(r.check) {
		return false
	}
	if r.alias != nil && r.alias.eth {
		if depth >= maxAliasDepth {
			return false
		}
		tz, tn, ok := e.target(z, r.alias)
		if !ok {
			if e.tracing() {
				e.notef("alias target %s: not found, unhealthy", presentationName(r.alias.name))
			}
			return false
		}
		g := tn.group(s.typ)
		for i := range g {
			if e.healthy(tz, &g[i], depth+1) {
				return true
			}
		}
		if e.tracing() {
			e.notef("alias target %s: no healthy record set", presentationName(r.alias.name))
		}
		return false
	}
	return true
}

// target finds an alias's target zone and node: the zone with the
// target's hosted zone id among those containing the name (or the deepest
// one when no id is given), of the same tenant.
func (e *eval) target(z *zone, a *aliasTarget) (*zone, node, bool) {
	var tz *zone
	for name := a.name; name != ""; name = parentName(name) {
		if c, ok := e.zs.byName.get(name); ok && (a.zoneID == "" || c.id == a.zoneID) {
			tz = c
			break
		}
	}
	if tz == nil || tz.tenant != z.tenant {
		return nil, node{}, false
	}
	n, ok := tz.names.get(a.name)
	if !ok {
		n, ok = tz.wildcard(a.name)
	}
	return tz, n, ok
}

// routedAnswer is lookup's entry for a routed or alias group at an owner
// name: it appends the answer and reports whether there was one.
func routedAnswer(zs *zoneSet, z *zone, owner string, n node, t uint16, cl client, res *result) bool {
	e := eval{zs: zs, cl: cl, res: res}
	if cl.rt != nil {
		e.rt = *cl.rt
	}
	return e.answerRouted(z, owner, n, t)
}

// routedCNAME chooses the CNAME record set of a routed CNAME group (a
// weighted CNAME, say), for lookup to follow; nil when none applies.
func routedCNAME(zs *zoneSet, z *zone, n node, cl client, res *result) *rrset {
	e := eval{zs: zs, cl: cl, res: res}
	if cl.rt != nil {
		e.rt = *cl.rt
	}
	start := len(res.answer)
	e.choose(z, n, dns.TypeCNAME, 0)
	if len(res.answer) == start {
		return nil
	}
	c := res.answer[start].set
	clear(res.answer[start:])
	res.answer = res.answer[:start] // lookup adds the CNAME under its owner
	return c
}

// answerRouted answers type t at owner from node n of zone z, whose record
// sets are routed or aliases, and reports whether it found records.
func (e *eval) answerRouted(z *zone, owner string, n node, t uint16) bool {
	e.owner = owner
	start := len(e.res.answer)
	e.choose(z, n, t, 0)
	for i := start; i < len(e.res.answer); i++ {
		e.res.additionalFor(z, e.res.answer[i].set)
	}
	return len(e.res.answer) > start
}

// choose evaluates the group of type t at n and appends the record sets
// it answers with, aliases resolved, to the answer section under e.owner
// (straight into the pooled result: a buffer of our own would move to the
// heap, choose being recursive).
func (e *eval) choose(z *zone, n node, t uint16, depth int) {
	group := n.group(t)
	if len(group) == 0 {
		return
	}
	r := group[0].route
	if r == nil || r.policy == zonecfg.PolicySimple {
		e.resolve(z, &group[0], depth)
		return
	}
	var hbuf [128]bool
	health := hbuf[:0]
	if len(group) > len(hbuf) {
		health = make([]bool, 0, len(group))
	}
	anyHealthy := false
	for i := range group {
		h := e.healthy(z, &group[i], depth)
		health = append(health, h)
		anyHealthy = anyHealthy || h
	}
	if !anyHealthy {
		// Route 53: when no record of a group is healthy, every record
		// counts as healthy.
		if e.tracing() {
			e.notef("%s: no healthy record set, all treated as healthy", r.policy)
		}
		for i := range health {
			health[i] = true
		}
	}
	switch r.policy {
	case zonecfg.PolicyWeighted:
		e.pick(z, group, e.weighted(group, health), depth)
	case zonecfg.PolicyLatency:
		e.pick(z, group, e.latency(group, health), depth)
	case zonecfg.PolicyGeolocation:
		e.pick(z, group, e.geolocation(group, health), depth)
	case zonecfg.PolicyFailover:
		e.pick(z, group, e.failover(group, health), depth)
	case zonecfg.PolicyMultiValue:
		e.multivalue(z, group, health, depth)
	case zonecfg.PolicyCIDR:
		e.pick(z, group, e.cidrRoute(z, group, health), depth)
	}
}

// pick resolves member i of group, or nothing when i < 0.
func (e *eval) pick(z *zone, group []rrset, i int, depth int) {
	if i < 0 {
		return
	}
	e.resolve(z, &group[i], depth)
}

// resolve appends s, or for an alias the target group's answer.
func (e *eval) resolve(z *zone, s *rrset, depth int) {
	if s.route == nil || s.route.alias == nil {
		e.res.answer = append(e.res.answer, rrRef{owner: e.owner, set: s, ttl: s.ttl})
		return
	}
	a := s.route.alias
	if depth >= maxAliasDepth {
		if e.tracing() {
			e.notef("alias chain longer than %d: stopped", maxAliasDepth)
		}
		return
	}
	tz, tn, ok := e.target(z, a)
	if !ok {
		if e.tracing() {
			e.notef("alias target %s (zone %s): not found", presentationName(a.name), a.zoneID)
		}
		return
	}
	if e.tracing() {
		e.notef("alias to %s %s in zone %s", presentationName(a.name), dns.TypeToString[s.typ], tz.origin)
	}
	e.choose(tz, tn, s.typ, depth+1)
}

// uint64n draws uniformly from [0, n).
func (e *eval) uint64n(n uint64) uint64 {
	if e.rt.Rand != nil {
		return e.rt.Rand.Uint64N(n)
	}
	return rand.Uint64N(n)
}

// weighted picks a healthy member with probability weight/total. Weight 0
// is chosen only when no healthy member has a weight, then uniformly.
func (e *eval) weighted(group []rrset, health []bool) int {
	var total uint64
	zeros := 0
	for i := range group {
		if !health[i] {
			continue
		}
		if w := group[i].route.weight; w > 0 {
			total += uint64(w)
		} else {
			zeros++
		}
	}
	if total > 0 {
		x := e.uint64n(total)
		for i := range group {
			if !health[i] || group[i].route.weight == 0 {
				continue
			}
			if w := uint64(group[i].route.weight); x < w {
				if e.tracing() {
					e.notef("weighted: %q (weight %d of %d healthy)", group[i].setID, w, total)
				}
				return i
			} else {
				x -= w
			}
		}
	}
	if zeros == 0 {
		return -1
	}
	x := int(e.uint64n(uint64(zeros)))
	for i := range group {
		if health[i] && group[i].route.weight == 0 {
			if x == 0 {
				if e.tracing() {
					e.notef("weighted: %q (weight 0, chosen evenly among %d)", group[i].setID, zeros)
				}
				return i
			}
			x--
		}
	}
	return -1
}

// failover answers the primary while it is healthy, else a healthy
// secondary, else (both unhealthy, so both marked healthy) the primary.
func (e *eval) failover(group []rrset, health []bool) int {
	pri, sec := -1, -1
	for i := range group {
		if group[i].route.primary {
			pri = i
		} else {
			sec = i
		}
	}
	switch {
	case pri >= 0 && health[pri]:
		if e.tracing() {
			e.notef("failover: PRIMARY %q healthy", group[pri].setID)
		}
		return pri
	case sec >= 0 && health[sec]:
		if e.tracing() {
			e.notef("failover: PRIMARY unhealthy or absent, SECONDARY %q", group[sec].setID)
		}
		return sec
	}
	return pri
}

// multivalue appends up to 8 healthy members in random order; when none
// is healthy, health is all true and up to 8 of any.
func (e *eval) multivalue(z *zone, group []rrset, health []bool, depth int) {
	var ibuf [128]int
	idx := ibuf[:0]
	if len(group) > len(ibuf) {
		idx = make([]int, 0, len(group))
	}
	for i := range group {
		if health[i] {
			idx = append(idx, i)
		}
	}
	n := min(len(idx), maxMultiValue)
	for i := 0; i < n; i++ { // partial Fisher–Yates: a random n-subset in random order
		j := i + int(e.uint64n(uint64(len(idx)-i)))
		idx[i], idx[j] = idx[j], idx[i]
	}
	if e.tracing() {
		e.notef("multivalue: %d of %d eligible record sets", n, len(idx))
	}
	for _, i := range idx[:n] {
		e.resolve(z, &group[i], depth)
	}
}

// geolocation answers the most specific location matching the client:
// subdivision, country, continent, then the default "*". An unhealthy
// match widens to the next; when every match is unhealthy (and then the
// whole group was marked healthy, or no healthy match remains) the most
// specific match answers. No match at all and no default: NODATA.
func (e *eval) geolocation(group []rrset, health []bool) int {
	loc, known := e.location()
	var match [4]int // subdivision, country, continent, default
	for i := range match {
		match[i] = -1
	}
	for i := range group {
		g := group[i].route.geo
		switch {
		case g.IsDefault():
			match[3] = i
		case !known:
		case g.ContinentCode != "":
			if g.ContinentCode == loc.Continent {
				match[2] = i
			}
		case g.CountryCode == loc.Country && g.SubdivisionCode == "":
			match[1] = i
		case g.CountryCode == loc.Country && g.SubdivisionCode == loc.Subdivision:
			match[0] = i
		}
	}
	first := -1
	for _, i := range match {
		if i < 0 {
			continue
		}
		if first < 0 {
			first = i
		}
		if health[i] {
			if e.tracing() {
				e.notef("geolocation: %s (%q)", group[i].route.geo, group[i].setID)
			}
			return i
		}
		if e.tracing() {
			e.notef("geolocation: %s (%q) unhealthy, widening", group[i].route.geo, group[i].setID)
		}
	}
	if first < 0 {
		if e.tracing() {
			e.notef("geolocation: no location matches and no default: NODATA")
		}
		return -1
	}
	if e.tracing() {
		e.notef("geolocation: every match unhealthy, answering the most specific %s", group[first].route.geo)
	}
	return first
}

// cidrRoute answers the location of the record's CIDR collection whose
// longest block contains the client, else "*"; NODATA without either.
func (e *eval) cidrRoute(z *zone, group []rrset, health []bool) int {
	p := e.clientPrefix()
	coll := group[0].route.cidr.CollectionID
	var loc string
	matched := false
	if c := z.cidr[coll]; c != nil && p.IsValid() {
		var block netip.Prefix
		loc, block, matched = c.match(p)
		if matched {
			e.usedClient(block.Bits())
			if e.tracing() {
				e.notef("cidr: client %s in block %s of location %q (collection %s)", p, block, loc, coll)
			}
		}
	}
	if !matched {
		// No block covers the client: every address up to the source
		// prefix gets the same answer only if no longer block exists,
		// which we do not know cheaply, so the scope is the whole source.
		e.usedClient(p.Bits())
		if e.tracing() {
			e.notef("cidr: client %s matches no block of collection %s", p, coll)
		}
	}
	hit, def := -1, -1
	for i := range group {
		switch l := group[i].route.cidr.LocationName; {
		case l == zonecfg.CIDRDefaultLocation:
			def = i
		case matched && l == loc:
			hit = i
		}
	}
	switch {
	case hit >= 0 && health[hit]:
		return hit
	case def >= 0 && health[def]:
		if e.tracing() {
			e.notef("cidr: default location \"*\" (%q)", group[def].setID)
		}
		return def
	case hit >= 0:
		return hit
	}
	if e.tracing() {
		e.notef("cidr: no matching location and no default: NODATA")
	}
	return -1
}
