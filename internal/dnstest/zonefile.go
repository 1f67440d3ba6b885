package dnstest

import (
	"fmt"
	"io"
	"strings"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/zonecfg"
)

// ReadZone parses a master file (RFC 1035 §5) with miekg's zone parser and
// groups its records into record sets the way the control plane sends
// them: canonical owner names and RDATA presentation strings, the TTL of a
// set being that of its first record. Sets keep the file's order.
func ReadZone(r io.Reader, origin string) ([]zonecfg.RRSet, error) {
	zp := dns.NewZoneParser(r, dns.Fqdn(origin), "")
	var (
		sets  []zonecfg.RRSet
		index = map[zonecfg.Key]int{}
	)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		h := rr.Header()
		name, err := zonecfg.CanonicalName(h.Name)
		if err != nil {
			return nil, err
		}
		typ := dns.TypeToString[h.Rrtype]
		k := zonecfg.Key{Name: name, Type: typ}
		i, ok := index[k]
		if !ok {
			i = len(sets)
			index[k] = i
			sets = append(sets, zonecfg.RRSet{Name: name, Type: typ, TTL: h.Ttl})
		}
		sets[i].Records = append(sets[i].Records, zonecfg.RData(rr))
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("zone %s: %w", origin, err)
	}
	return sets, nil
}

// MustReadZone is ReadZone on a string, panicking on error; for tests.
func MustReadZone(text, origin string) []zonecfg.RRSet {
	sets, err := ReadZone(strings.NewReader(text), origin)
	if err != nil {
		panic(err)
	}
	return sets
}
