package dataplane

import (
	"net/netip"

	"github.com/miekg/dns"
)

// maxCNAMEChain bounds the CNAME records followed for one query, which
// also stops loops (a → b → a) without keeping a visited set.
const maxCNAMEChain = 12

// rrRef is one record set placed in a response section. Owner names are
// lowercase wire format; the encoder writes names that share a suffix with
// the question as pointers into it, so they echo the client's case.
type rrRef struct {
	owner    string
	set      *rrset
	ttl      uint32
	required bool // additional glue that must fit, or TC is set (RFC 9471)
}

// result is the outcome of a lookup: plain data, no sockets, no packing.
type result struct {
	rcode      int
	ede        uint16 // extended DNS error info code, 0 for none
	scope      uint8  // ECS scope prefix length (RFC 7871): 0 unless routing used the client's subnet
	aa         bool
	tc         bool // set TC whatever fits: a slipped response (RRL)
	answer     []rrRef
	authority  []rrRef
	additional []rrRef
	sign       signScratch // DO=1 answers' scratch space (sign.go); kept by reset
	// zone is the zone that answered, nil when none did (REFUSED): the
	// handler counts the query for it (zonequeries.go).
	zone *zone
}

func (r *result) reset() {
	r.rcode, r.ede, r.aa, r.tc, r.scope, r.zone = dns.RcodeSuccess, 0, false, false, 0, nil
	r.answer, r.authority, r.additional = r.answer[:0], r.authority[:0], r.additional[:0]
}

// release drops the references to zone data so that a pooled result does
// not keep old zone versions alive.
func (r *result) release() {
	clear(r.answer)
	clear(r.authority)
	clear(r.additional)
	r.zone = nil
}

// client is what a lookup may know about the asker. Routing policies
// (geolocation, latency, CIDR) choose by it; simple record sets ignore it.
type client struct {
	addr  netip.Addr
	ecs   netip.Prefix // the EDNS Client Subnet source prefix, if sent
	rt    *Routing     // health, GeoIP and randomness for routed sets; nil: defaults
	trace *[]string    // when set, routed answers explain themselves here (test answers)
}

// lookup answers qname (lowercase wire) and qtype from the zone set, per
// RFC 1034 §4.3.2 with the clarifications of RFC 2181, RFC 2308 negative
// answers, RFC 4592 wildcards, RFC 6604 rcodes for CNAME chains and RFC 8482
// minimal ANY. It fills res, which the caller has reset.
func lookup(zs *zoneSet, qname string, qtype uint16, cl client, res *result) {
	z := zs.find(qname)
	if z == nil {
		res.rcode, res.ede = dns.RcodeRefused, edeNotAuthoritative
		return
	}
	if qtype == dns.TypeDS && qname == z.name && qname != rootName {
		// DS lives on the parent side of a cut (RFC 4035 §3.1.4.1): when we
		// also serve the parent and it delegates here, it answers.
		if p := zs.find(parentName(qname)); p != nil {
			if n, ok := p.names.get(qname); ok && n.find(dns.TypeNS) != nil {
				z = p
			}
		}
	}
	res.zone = z
	if z.expired {
		// A secondary zone past its SOA expire is no longer
		// authoritative (RFC 1035 §3.3.13, secondary.go).
		res.rcode, res.ede = dns.RcodeServerFailure, edeNoReachableAuthority
		return
	}
	if z.badNames[qname] > 0 {
		// Record data the control plane accepted but this server cannot
		// pack: the name exists, so neither NXDOMAIN nor NODATA is true.
		res.rcode, res.ede = dns.RcodeServerFailure, edeInvalidData
		return
	}
	res.aa = true
	if z.keys != nil && qname == z.name {
		// DNSKEY, CDS and CDNSKEY come with the zone's signing material,
		// signed by the control plane (sign.go).
		if s, _ := z.keys.apexSet(qtype); s != nil {
			res.answer = append(res.answer, rrRef{owner: qname, set: s, ttl: s.ttl})
			return
		}
	}
	name := qname
	for hops := 0; ; hops++ {
		if cut, cn, ok := z.findCut(name, qtype == dns.TypeDS); ok {
			if len(res.answer) == 0 {
				res.aa = false
			}
			res.referral(z, cut, cn)
			return
		}
		owner := name
		n, ok := z.names.get(name)
		if !ok {
			if n, ok = z.wildcard(name); !ok {
				res.rcode = dns.RcodeNameError
				res.negative(z)
				return
			}
		}
		if qtype == dns.TypeANY {
			// RFC 8482 §4.1: one record set (the lowest type) stands for
			// the name, over UDP and TCP alike.
			if len(n.sets) == 0 {
				res.negative(z)
				return
			}
			if n.sets[0].route != nil {
				if !routedAnswer(zs, z, owner, n, n.sets[0].typ, cl, res) {
					res.negative(z)
				}
				return
			}
			res.answer = append(res.answer, rrRef{owner: owner, set: &n.sets[0], ttl: n.sets[0].ttl})
			return
		}
		if s := n.find(qtype); s != nil {
			if s.route != nil { // routed or alias: evaluated per query (routing.go)
				if !routedAnswer(zs, z, owner, n, qtype, cl, res) {
					res.negative(z)
				}
				return
			}
			res.answer = append(res.answer, rrRef{owner: owner, set: s, ttl: s.ttl})
			res.additionalFor(z, s)
			return
		}
		c := n.find(dns.TypeCNAME)
		if c == nil || qtype == dns.TypeCNAME {
			res.negative(z)
			return
		}
		if c.route != nil {
			if c = routedCNAME(zs, z, n, cl, res); c == nil {
				res.negative(z)
				return
			}
		}
		res.answer = append(res.answer, rrRef{owner: owner, set: c, ttl: c.ttl})
		if hops+1 >= maxCNAMEChain {
			return
		}
		var target string
		c.records(func(rdata string) { target = targetName(rdata, 0) })
		next := zs.find(target)
		if next == nil || target == "" {
			return // the chain leaves our zones: the resolver follows it
		}
		if res.inAnswer(target) {
			return // a loop: the resolver will see it too
		}
		z, name = next, target
	}
}

// findCut returns the topmost zone cut (a non-apex node with NS) at or
// above name, below the apex. With skipSelf a cut at name itself does not
// count: the parent side answers DS there.
func (z *zone) findCut(name string, skipSelf bool) (string, node, bool) {
	if z.cuts == 0 || len(name) <= len(z.name) {
		return "", node{}, false
	}
	var (
		cut   string
		cn    node
		found bool
	)
	if skipSelf {
		name = parentName(name)
	}
	for ; len(name) > len(z.name); name = parentName(name) {
		if n, ok := z.names.get(name); ok && n.find(dns.TypeNS) != nil {
			cut, cn, found = name, n, true
		}
	}
	return cut, cn, found
}

// wildcard finds the wildcard that covers a name that does not exist: the
// source of synthesis "*.<closest encloser>" (RFC 4592 §3.3.1). The closest
// encloser is the deepest existing ancestor, so a wildcard never matches at
// or below an existing name, and never across a cut (findCut ran first).
func (z *zone) wildcard(name string) (node, bool) {
	if z.wilds == 0 {
		return node{}, false
	}
	ce := parentName(name)
	for len(ce) > len(z.name) {
		if _, ok := z.names.get(ce); ok {
			break
		}
		ce = parentName(ce)
	}
	return z.names.get("\x01*" + ce)
}

// negative adds the zone's SOA for a NODATA or NXDOMAIN answer, with the
// negative TTL of RFC 2308 §3.
func (r *result) negative(z *zone) {
	if z.soa != nil {
		r.authority = append(r.authority, rrRef{owner: z.name, set: z.soa, ttl: z.negTTL})
	}
}

// referral adds the delegation at cut: its NS set in authority and the
// addresses of name servers inside this zone in additional. Glue below the
// cut is required (RFC 9471); sibling glue elsewhere in the zone is not.
func (r *result) referral(z *zone, cut string, cn node) {
	ns := cn.find(dns.TypeNS)
	r.authority = append(r.authority, rrRef{owner: cut, set: ns, ttl: ns.ttl})
	ns.records(func(rdata string) {
		t := targetName(rdata, 0)
		if t == "" || !isSubName(t, z.name) || r.hasAdditional(t) {
			return
		}
		if n, ok := z.names.get(t); ok {
			r.addAddresses(t, n, isSubName(t, cut))
		}
	})
}

// additionalFor adds the in-zone addresses of the targets of NS, MX and SRV
// answers (RFC 1035 §3.3, RFC 2782). Targets below a cut are not ours to
// vouch for and are left out.
func (r *result) additionalFor(z *zone, s *rrset) {
	off, ok := targetOffset(s.typ)
	if !ok || s.typ == dns.TypeCNAME {
		return
	}
	s.records(func(rdata string) {
		t := targetName(rdata, off)
		if t == "" || !isSubName(t, z.name) || r.hasAdditional(t) {
			return
		}
		if _, _, cut := z.findCut(t, false); cut {
			return
		}
		if n, ok := z.names.get(t); ok {
			r.addAddresses(t, n, false)
		}
	})
}

func (r *result) addAddresses(owner string, n node, required bool) {
	for _, t := range [...]uint16{dns.TypeA, dns.TypeAAAA} {
		// A routed or alias address set is chosen per query: its first
		// member (or an alias's empty set) would be a guess, so optional
		// additional data leaves it out and the resolver asks for it.
		if s := n.find(t); s != nil && s.count > 0 && (s.route == nil || required) {
			r.additional = append(r.additional, rrRef{owner: owner, set: s, ttl: s.ttl, required: required})
		}
	}
}

func (r *result) inAnswer(owner string) bool {
	for _, a := range r.answer {
		if a.owner == owner {
			return true
		}
	}
	return false
}

func (r *result) hasAdditional(owner string) bool {
	for _, a := range r.additional {
		if a.owner == owner {
			return true
		}
	}
	return false
}
