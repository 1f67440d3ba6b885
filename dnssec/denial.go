package dnssec

import (
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// TypeNXNAME is the pseudo-type of RFC 9824 that marks, in a compact
// denial NSEC, a name that does not exist.
const TypeNXNAME = dns.TypeNXNAME

// NextName is the NSEC next owner name of compact denial at owner: the
// immediate successor "\000.owner" in canonical order (RFC 9824 §2), so
// the NSEC covers no other name and the zone cannot be walked.
func NextName(owner string) string { return `\000.` + strings.ToLower(dns.Fqdn(owner)) }

// NXName returns the compact-denial NSEC that says owner does not exist
// (RFC 9824 §3.1): its bitmap holds RRSIG, NSEC and NXNAME only.
func NXName(owner string, ttl uint32) *dns.NSEC {
	return nsec(owner, ttl, []uint16{dns.TypeRRSIG, dns.TypeNSEC, TypeNXNAME})
}

// NoData returns the compact-denial NSEC that says owner exists with just
// the given types (RFC 9824 §3.2): a name that exists but lacks the query
// type. An empty non-terminal has no types of its own.
func NoData(owner string, ttl uint32, types []uint16) *dns.NSEC {
	ts := append(slices.Clone(types), dns.TypeRRSIG, dns.TypeNSEC)
	slices.Sort(ts)
	return nsec(owner, ttl, slices.Compact(ts))
}

func nsec(owner string, ttl uint32, types []uint16) *dns.NSEC {
	owner = strings.ToLower(dns.Fqdn(owner))
	return &dns.NSEC{
		Hdr:        dns.RR_Header{Name: owner, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: ttl},
		NextDomain: NextName(owner),
		TypeBitMap: types,
	}
}
