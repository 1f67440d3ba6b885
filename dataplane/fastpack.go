package dataplane

import (
	"strings"

	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/zonecfg"
)

// packNames packs an NS, CNAME or PTR set, whose RDATA is one domain name,
// without miekg's presentation parser (one of each per hosted zone: a
// large share of loading many small zones). It takes only the plainest
// form, fully qualified lowercase letters, digits and hyphens, which packs
// label by label exactly as miekg packs it (TestPackNamesMatchesMiekg,
// FuzzPackNames), and reports false for anything else, which then takes
// the general path.
func packNames(rs zonecfg.RRSet) (rrset, bool) {
	var typ uint16
	switch rs.Type {
	case "NS":
		typ = dns.TypeNS
	case "CNAME":
		typ = dns.TypeCNAME
	case "PTR":
		typ = dns.TypePTR
	default:
		return rrset{}, false
	}
	n := len(rs.Records)
	if n == 0 || n > zonecfg.MaxValuesPerRRSet || typ == dns.TypeCNAME && n != 1 {
		return rrset{}, false
	}
	var buf []byte
	for i, v := range rs.Records {
		v = strings.TrimSpace(v)
		if !plainName(v) {
			return rrset{}, false
		}
		for _, w := range rs.Records[:i] {
			if strings.TrimSpace(w) == v {
				return rrset{}, false // a duplicate: the general path says so
			}
		}
		buf = append(buf, byte((len(v)+1)>>8), byte(len(v)+1))
		for label := range strings.SplitSeq(v[:len(v)-1], ".") {
			buf = append(buf, byte(len(label)))
			buf = append(buf, label...)
		}
		buf = append(buf, 0)
	}
	return rrset{rdata: string(buf), setID: rs.SetIdentifier, ttl: rs.TTL, typ: typ, count: uint16(n)}, true
}

// plainName reports whether v is a fully qualified name, not the root, of
// lowercase letters, digits and hyphens, with labels of 1 to 63 octets
// and at most 255 octets in wire form.
func plainName(v string) bool {
	if len(v) < 2 || len(v)+1 > 255 || v[len(v)-1] != '.' {
		return false
	}
	label := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
		case 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-':
			label++
			if label > 63 {
				return false
			}
		default:
			return false
		}
	}
	return true
}
