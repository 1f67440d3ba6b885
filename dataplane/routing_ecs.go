package dataplane

import (
	"net/netip"

	"github.com/miekg/dns"
)

// readECS reads the EDNS Client Subnet option of a query into q.ecs. It
// reports false for a malformed one, which RFC 7871 §7.1.1 answers with
// FORMERR: address bits set beyond the source prefix, or two ECS options.
// miekg's parser already refuses unknown families and over-long prefixes.
func readECS(opt *dns.OPT, q *request) bool {
	for _, o := range opt.Option {
		e, ok := o.(*dns.EDNS0_SUBNET)
		if !ok {
			continue
		}
		if q.ecs.IsValid() {
			return false
		}
		var a netip.Addr
		switch e.Family {
		case 1:
			if v4 := e.Address.To4(); v4 != nil {
				a = netip.AddrFrom4([4]byte(v4))
			} else {
				a = netip.IPv4Unspecified()
			}
		case 2:
			if v6 := e.Address.To16(); v6 != nil {
				a = netip.AddrFrom16([16]byte(v6))
			} else {
				a = netip.IPv6Unspecified()
			}
		default:
			return false
		}
		p, err := a.Prefix(int(e.SourceNetmask))
		if err != nil || p.Addr() != a {
			return false
		}
		q.ecs = p
	}
	return true
}

// ecsOptLen is the size of the ECS option we echo for p: code, length,
// family, two prefix lengths and the source prefix's address octets.
func ecsOptLen(p netip.Prefix) int {
	if !p.IsValid() {
		return 0
	}
	return 4 + 4 + (p.Bits()+7)/8
}

// appendECS echoes the query's client subnet option with the answer's
// scope prefix length (RFC 7871 §7.2.1): the family, source prefix and
// address as received, scope 0 when the answer does not depend on the
// client.
func appendECS(b []byte, p netip.Prefix, scope uint8) []byte {
	if !p.IsValid() {
		return b
	}
	n := (p.Bits() + 7) / 8
	family := byte(1)
	if p.Addr().Is6() {
		family = 2
	}
	b = append(b, 0, dns.EDNS0SUBNET, 0, byte(4+n), 0, family, byte(p.Bits()), scope)
	if p.Addr().Is4() {
		a := p.Addr().As4()
		return append(b, a[:n]...)
	}
	a := p.Addr().As16()
	return append(b, a[:n]...)
}
