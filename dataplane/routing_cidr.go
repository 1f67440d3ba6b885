package dataplane

import (
	"maps"
	"net/netip"
	"slices"

	"github.com/waymark-dns/waymark/event"
)

// cidrColl is a CIDR collection in lookup form: each block mapped to its
// location, and the block lengths present, longest first, so that a
// longest-prefix match is one map probe per length.
type cidrColl struct {
	src    event.CIDRCollection
	blocks map[netip.Prefix]string
	lens   []int
}

// newCIDRColl indexes a collection. Blocks are masked; a block listed
// under two locations goes to the first in name order (the control plane
// refuses such collections).
func newCIDRColl(c event.CIDRCollection) *cidrColl {
	cc := &cidrColl{src: c, blocks: map[netip.Prefix]string{}}
	for _, loc := range slices.Sorted(maps.Keys(c.Locations)) {
		for _, p := range c.Locations[loc] {
			if !p.IsValid() {
				continue
			}
			p = p.Masked()
			if _, dup := cc.blocks[p]; dup {
				continue
			}
			cc.blocks[p] = loc
			if !slices.Contains(cc.lens, p.Bits()) {
				cc.lens = append(cc.lens, p.Bits())
			}
		}
	}
	slices.Sort(cc.lens)
	slices.Reverse(cc.lens)
	return cc
}

// match returns the location of the longest block containing the client
// prefix p. A block longer than p does not match: the client could be
// anywhere in p (Route 53 does the same).
func (c *cidrColl) match(p netip.Prefix) (string, netip.Prefix, bool) {
	a := p.Addr().Unmap()
	for _, l := range c.lens {
		if l > p.Bits() || l > a.BitLen() {
			continue
		}
		k, err := a.Prefix(l)
		if err != nil {
			continue
		}
		if loc, ok := c.blocks[k]; ok {
			return loc, k, true
		}
	}
	return "", netip.Prefix{}, false
}

// setCIDR replaces the zone's copies of the collections given, keeping the
// others (events carry only the collections they concern).
func (b *zoneBuilder) setCIDR(cs []event.CIDRCollection) {
	if len(cs) == 0 {
		return
	}
	m := make(map[string]*cidrColl, len(b.z.cidr)+len(cs))
	maps.Copy(m, b.z.cidr)
	for _, c := range cs {
		m[c.ID] = newCIDRColl(c)
	}
	b.z.cidr = m
}

// cidrStates returns the zone's collections as the control plane sent
// them, by id.
func (z *zone) cidrStates() []event.CIDRCollection {
	if len(z.cidr) == 0 {
		return nil
	}
	out := make([]event.CIDRCollection, 0, len(z.cidr))
	for _, id := range slices.Sorted(maps.Keys(z.cidr)) {
		out = append(out, z.cidr[id].src)
	}
	return out
}
