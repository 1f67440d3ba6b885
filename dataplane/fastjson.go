package dataplane

import (
	"encoding/json"
	"io"
	"slices"

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
	p := jsonScan{b: raw, pin: -1}
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
//
// It reads either a slice held whole (r nil) or a stream: then b is a
// window onto r that fill moves along and refills, so a snapshot is never
// held whole. Every method that reaches the end of b calls fill and goes
// on; fill keeps the bytes from i on (from pin on, when pin >= 0), so
// positions held across calls are taken as pins.
type jsonScan struct {
	b   []byte
	i   int
	r   io.Reader // nil: b is all there is
	err error     // the first read error other than io.EOF
	pin int       // -1, or the offset in b fill must keep
	eof bool
}

// fill reads more of r into b, keeping b[keep:] where keep is i (or pin),
// and reports whether any bytes were added. A window full of kept bytes
// doubles: a single value larger than the window (a huge record set)
// still fits.
func (p *jsonScan) fill() bool {
	if p.r == nil || p.eof {
		return false
	}
	keep := p.i
	if p.pin >= 0 && p.pin < keep {
		keep = p.pin
	}
	if keep > 0 {
		n := copy(p.b, p.b[keep:])
		p.b = p.b[:n]
		p.i -= keep
		if p.pin >= 0 {
			p.pin -= keep
		}
	}
	if len(p.b) == cap(p.b) {
		p.b = slices.Grow(p.b, max(cap(p.b), 512))
	}
	added := false
	for {
		n, err := p.r.Read(p.b[len(p.b):cap(p.b)])
		p.b = p.b[:len(p.b)+n]
		added = added || n > 0
		if err != nil {
			p.eof = true
			if err != io.EOF {
				p.err = err
			}
			return added
		}
		// Enough to go on with: do not wait for a full window.
		if added && len(p.b) >= cap(p.b)/2 || len(p.b) == cap(p.b) {
			return added
		}
	}
}

func (p *jsonScan) peek() byte {
	if p.i < len(p.b) || p.fill() {
		return p.b[p.i]
	}
	return 0
}

func (p *jsonScan) ws() {
	for {
		for p.i < len(p.b) {
			switch p.b[p.i] {
			case ' ', '\t', '\n', '\r':
				p.i++
			default:
				return
			}
		}
		if !p.fill() {
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
	for j := p.i + 1; ; j++ {
		if j >= len(p.b) {
			off := j - p.i
			if !p.fill() {
				return "", false
			}
			j = p.i + off
		}
		switch c := p.b[j]; {
		case c == '"':
			s := string(p.b[p.i+1 : j])
			p.i = j + 1
			return s, true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return "", false
		}
	}
}

// uint32 reads a number that is a plain decimal uint32.
func (p *jsonScan) uint32() (uint32, bool) {
	var v uint64
	digits := 0
	leadingZero := false
	for ; ; p.i++ {
		c := p.peek() // may refill
		if c < '0' || c > '9' {
			break
		}
		if digits == 0 {
			leadingZero = c == '0'
		}
		digits++
		if digits > 10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if digits == 0 || digits > 1 && leadingZero {
		return 0, false // none, or a leading zero, which is not JSON
	}
	if c := p.peek(); c == '.' || c == 'e' || c == 'E' || c == '-' {
		return 0, false
	}
	if v > 1<<32-1 {
		return 0, false
	}
	return uint32(v), true
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
