package dataplane

import (
	"encoding/json"
	"strconv"

	"github.com/waymark-dns/waymark/zonecfg"
)

// decodeRRSet decodes one record set of a snapshot. The common shape, a
// simple record set (name, type, optional set identifier, ttl, records;
// plain ASCII strings without escapes; each key once, spelled as
// encoded), is read by hand, several times faster than encoding/json's
// reflection; anything else goes to json.Unmarshal, so the result is
// always what json.Unmarshal gives (FuzzDecodeRRSet).
func decodeRRSet(raw []byte, rs *zonecfg.RRSet) error {
	if decodeSimpleRRSet(raw, rs) {
		return nil
	}
	*rs = zonecfg.RRSet{}
	return json.Unmarshal(raw, rs)
}

// decodeSimpleRRSet is decodeRRSet's fast path; it reports false (leaving
// rs in any state) for whatever it does not handle. raw is one valid JSON
// value (the decoder has checked it).
func decodeSimpleRRSet(raw []byte, rs *zonecfg.RRSet) bool {
	p := jsonScan{b: raw}
	if !p.rrset(rs) {
		return false
	}
	p.ws()
	return p.i == len(p.b)
}

// rrset reads a simple record set (see decodeRRSet) at p.i, after any
// white space, leaving p.i just past its closing brace. It reports false
// (leaving rs and p.i in any state) for whatever it does not handle, so
// everything it accepts is valid JSON.
func (p *jsonScan) rrset(rs *zonecfg.RRSet) bool {
	*rs = zonecfg.RRSet{}
	if !p.byte('{') {
		return false
	}
	var seen [5]bool
	first := true
	for {
		p.ws()
		if p.peek() == '}' {
			p.i++
			return seen[0] && seen[1] && seen[3] && seen[4]
		}
		if !first && !p.byte(',') {
			return false
		}
		first = false
		p.ws()
		key, ok := p.str()
		if !ok || !p.byte(':') {
			return false
		}
		p.ws()
		var k int
		switch key {
		case "name":
			k = 0
			rs.Name, ok = p.str()
		case "type":
			k = 1
			rs.Type, ok = p.str()
		case "set_identifier":
			k = 2
			rs.SetIdentifier, ok = p.str()
		case "ttl":
			k = 3
			rs.TTL, ok = p.uint32()
		case "records":
			k = 4
			rs.Records, ok = p.strs()
		default:
			return false
		}
		if !ok || seen[k] {
			return false
		}
		seen[k] = true
	}
}

// jsonScan reads JSON; what its methods accept is valid JSON.
type jsonScan struct {
	b []byte
	i int
}

func (p *jsonScan) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *jsonScan) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// byte consumes c, after any white space.
func (p *jsonScan) byte(c byte) bool {
	p.ws()
	if p.peek() != c {
		return false
	}
	p.i++
	return true
}

// str reads a string of printable ASCII without escapes.
func (p *jsonScan) str() (string, bool) {
	if p.peek() != '"' {
		return "", false
	}
	start := p.i + 1
	for j := start; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			p.i = j + 1
			return string(p.b[start:j]), true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return "", false
		}
	}
	return "", false
}

// uint32 reads a number that is a plain decimal uint32.
func (p *jsonScan) uint32() (uint32, bool) {
	start := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	if p.i-start > 1 && p.b[start] == '0' {
		return 0, false // a leading zero is not JSON
	}
	if c := p.peek(); c == '.' || c == 'e' || c == 'E' || c == '-' {
		return 0, false
	}
	v, err := strconv.ParseUint(string(p.b[start:p.i]), 10, 32)
	return uint32(v), err == nil
}

// strs reads an array of strings (not null).
func (p *jsonScan) strs() ([]string, bool) {
	if !p.byte('[') {
		return nil, false
	}
	out := []string{}
	p.ws()
	if p.peek() == ']' {
		p.i++
		return out, true
	}
	for {
		p.ws()
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		out = append(out, s)
		p.ws()
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			return out, true
		default:
			return nil, false
		}
	}
}
