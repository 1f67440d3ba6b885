package dataplane

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/zonecfg"
)

// packNames packs an NS, CNAME or PTR set, whose RDATA is one domain name,
// or an SOA set, without miekg's presentation parser (an SOA and an NS set
// per hosted zone: a large share of loading many small zones). It takes only the plainest
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
	case "SOA":
		return packSOA(rs)
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

// packSOA packs an SOA set of the plainest form: two plain names and five
// decimal numbers that fit 32 bits, separated by spaces.
func packSOA(rs zonecfg.RRSet) (rrset, bool) {
	if len(rs.Records) != 1 {
		return rrset{}, false
	}
	var f [7]string
	n := 0
	for field := range strings.SplitSeq(strings.TrimSpace(rs.Records[0]), " ") {
		if field == "" {
			continue
		}
		if n == len(f) {
			return rrset{}, false
		}
		f[n] = field
		n++
	}
	if n != len(f) || !plainName(f[0]) || !plainName(f[1]) {
		return rrset{}, false
	}
	buf := make([]byte, 2, 2+len(f[0])+1+len(f[1])+1+20)
	for _, name := range f[:2] {
		for label := range strings.SplitSeq(name[:len(name)-1], ".") {
			buf = append(buf, byte(len(label)))
			buf = append(buf, label...)
		}
		buf = append(buf, 0)
	}
	for _, num := range f[2:] {
		for i := 0; i < len(num); i++ {
			if num[i] < '0' || num[i] > '9' {
				return rrset{}, false
			}
		}
		v, err := strconv.ParseUint(num, 10, 32)
		if err != nil {
			return rrset{}, false
		}
		buf = binary.BigEndian.AppendUint32(buf, uint32(v))
	}
	binary.BigEndian.PutUint16(buf, uint16(len(buf)-2))
	return rrset{rdata: string(buf), setID: rs.SetIdentifier, ttl: rs.TTL, typ: dns.TypeSOA, count: 1}, true
}
