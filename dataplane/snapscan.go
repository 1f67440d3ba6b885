package dataplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// snapshotWindow is the size of the window the snapshot is read through:
// the body is never held whole, only about this much of it (more while a
// single value larger than this is read).
const snapshotWindow = 1 << 20

// decodeSnapshot reads the JSON of an event.Snapshot, sending each zone
// to zones as soon as its id and name are known, and its record sets on
// the zone's chunks as they are decoded. Every zone sent has its chunks
// closed by the time it returns; after an error, a zone cut short has err
// set.
//
// The body is scanned once, by hand, through a window that moves along
// it as it arrives (jsonScan.fill): json.Decoder scanned each record set
// twice (once to find its end, once more to hand over its bytes), a
// quarter of the load, and reading the body whole first held it all in
// memory. Structure (objects, arrays, keys) is checked here;
// every value the scanner does not read itself (escapes, numbers other
// than a TTL, unknown members, unusual record sets) is cut out with
// skipValue and given to encoding/json, which checks it, so the result
// and the errors are encoding/json's. As with json.Decoder, anything after
// the snapshot's closing brace is ignored (and not read).
func decodeSnapshot(r io.Reader, zones chan<- *zoneStream) (uint64, error) {
	return decodeSnapshotWindow(r, zones, snapshotWindow)
}

// decodeSnapshotWindow is decodeSnapshot with a window of the given
// initial size (tests use tiny ones, to move it often).
func decodeSnapshotWindow(r io.Reader, zones chan<- *zoneStream, window int) (uint64, error) {
	p := &jsonScan{r: r, b: make([]byte, 0, max(window, 1)), pin: -1}
	seq, err := p.snapshot(zones)
	if err != nil && p.err != nil {
		// The JSON broke off because the body did.
		return 0, fmt.Errorf("%w (%v)", p.err, err)
	}
	return seq, err
}

// avail reports whether n bytes from i on are in the window, filling it
// as needed.
func (p *jsonScan) avail(n int) bool {
	for len(p.b)-p.i < n {
		if !p.fill() {
			return false
		}
	}
	return true
}

// valueEnd returns where the JSON value at i ends, as skipValue does,
// refilling the window until the whole value is in it.
func (p *jsonScan) valueEnd() (int, bool) {
	for {
		end, ok := skipValue(p.b, p.i)
		// A value reaching the window's end (a number, say) may go on
		// past it.
		if ok && end < len(p.b) || p.r == nil || p.eof {
			return end, ok
		}
		if !p.fill() {
			return skipValue(p.b, p.i)
		}
	}
}

func (p *jsonScan) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *jsonScan) snapshot(zones chan<- *zoneStream) (uint64, error) {
	if !p.byte('{') {
		return 0, p.errorf("snapshot is not a JSON object")
	}
	var seq uint64
	sawSeq, sawZones := false, false
	err := p.members(func(key string) error {
		switch strings.ToLower(key) {
		case "seq":
			sawSeq = true
			return p.value(&seq)
		case "zones":
			if !p.byte('[') {
				return p.errorf("zones: want [")
			}
			sawZones = true
			return p.elements(func() error {
				if err := p.zone(zones); err != nil {
					return fmt.Errorf("zone: %w", err)
				}
				return nil
			})
		default:
			return p.skip()
		}
	})
	if err != nil {
		return 0, err
	}
	if !sawSeq || !sawZones {
		return 0, errors.New("snapshot without seq or zones")
	}
	return seq, nil
}

// members reads an object's members, its '{' consumed, calling fn with
// p.i at each value (after white space); fn must consume the value.
func (p *jsonScan) members(fn func(key string) error) error {
	p.ws()
	if p.peek() == '}' {
		p.i++
		return nil
	}
	for {
		p.ws()
		key, err := p.key()
		if err != nil {
			return err
		}
		if !p.byte(':') {
			return p.errorf("want :")
		}
		p.ws()
		if err := fn(key); err != nil {
			return err
		}
		p.ws()
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.errorf("want , or }")
		}
	}
}

// elements reads an array's elements, its '[' consumed, calling fn with
// p.i at each element; fn must consume it.
func (p *jsonScan) elements(fn func() error) error {
	p.ws()
	if p.peek() == ']' {
		p.i++
		return nil
	}
	for {
		p.ws()
		if err := fn(); err != nil {
			return err
		}
		p.ws()
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			return nil
		default:
			return p.errorf("want , or ]")
		}
	}
}

// key reads an object key.
func (p *jsonScan) key() (string, error) {
	if s, ok := p.str(); ok {
		return s, nil
	}
	if p.peek() != '"' {
		return "", p.errorf("want a key")
	}
	var s string
	return s, p.value(&s)
}

// value decodes the value at p.i into v with encoding/json.
func (p *jsonScan) value(v any) error {
	p.ws()
	end, ok := p.valueEnd()
	if !ok {
		return p.errorf("want a value")
	}
	if err := json.Unmarshal(p.b[p.i:end], v); err != nil {
		return err
	}
	p.i = end
	return nil
}

// skip checks and skips the value at p.i.
func (p *jsonScan) skip() error {
	p.ws()
	end, ok := p.valueEnd()
	if !ok || !json.Valid(p.b[p.i:end]) {
		return p.errorf("invalid JSON value")
	}
	p.i = end
	return nil
}

// strInto decodes a string value at p.i into s.
func (p *jsonScan) strInto(s *string) error {
	if v, ok := p.str(); ok {
		*s = v
		return nil
	}
	return p.value(s)
}

// skipValue returns where the JSON value starting at b[i] ends, for a
// valid value; for an invalid one it may return any end or false (the
// caller has encoding/json check the slice).
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, ok := skipString(b, j)
				if !ok {
					return 0, false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	default:
		j := i
		for j < len(b) {
			switch b[j] {
			case ' ', '\t', '\r', '\n', ',', ']', '}', ':':
				return j, j > i
			}
			j++
		}
		return j, j > i
	}
}

func skipString(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// zone decodes one zone (an event.ZoneState), member by member as
// encoding/json would (keys case-insensitive, the last of a repeated key
// wins, unknown keys ignored), streaming its record sets.
func (p *jsonScan) zone(zones chan<- *zoneStream) (err error) {
	if !p.byte('{') {
		return p.errorf("zone is not a JSON object")
	}
	var st event.ZoneState
	var zs *zoneStream
	// start sends the zone to a builder; id and name are fixed from then on.
	start := func() error {
		if st.ID == "" {
			return errors.New("zone without id")
		}
		zs = &zoneStream{id: st.ID, name: st.Name, chunks: make(chan []zonecfg.RRSet, 4)}
		zones <- zs
		return nil
	}
	defer func() {
		if zs == nil {
			return
		}
		if err != nil {
			zs.err = err
		} else {
			st.RRSets = nil
			zs.final = st
		}
		close(zs.chunks)
	}()
	err = p.members(func(key string) error {
		switch strings.ToLower(key) {
		case "id":
			return p.strInto(&st.ID)
		case "name":
			return p.strInto(&st.Name)
		case "tenant_id":
			return p.strInto(&st.TenantID)
		case "version":
			return p.value(&st.Version)
		case "cidr_collections":
			return p.value(&st.CIDRCollections)
		case "dnssec":
			return p.value(&st.DNSSEC)
		case "transfers":
			return p.value(&st.Transfers)
		case "query_logging":
			return p.value(&st.QueryLogging)
		case "secondary":
			return p.value(&st.Secondary)
		case "name_servers":
			st.NameServers = nil
			if !p.byte('[') {
				// null, or something odd: encoding/json decides.
				return p.value(&st.NameServers)
			}
			return p.elements(func() error {
				var n string
				if err := p.strInto(&n); err != nil {
					return err
				}
				st.NameServers = append(st.NameServers, n)
				return nil
			})
		case "rrsets":
			if zs != nil {
				// Its first record sets are built already.
				return errors.New("rrsets repeated")
			}
			if st.ID == "" || st.Name == "" {
				// Before the id and name: decode it whole; the builder
				// gets it at the end.
				st.RRSets = nil
				return p.value(&st.RRSets)
			}
			if err := start(); err != nil {
				return err
			}
			return p.rrsets(zs.chunks)
		default:
			return p.skip()
		}
	})
	if err != nil {
		return err
	}
	if zs == nil {
		if err := start(); err != nil {
			return err
		}
	}
	if st.ID != zs.id || st.Name != zs.name {
		return errors.New("zone id or name repeated with another value")
	}
	if len(st.RRSets) > 0 {
		zs.chunks <- st.RRSets
	}
	return nil
}

// rrsets decodes a JSON array of record sets (or null) onto chunks.
func (p *jsonScan) rrsets(chunks chan<- []zonecfg.RRSet) error {
	if p.avail(4) && string(p.b[p.i:p.i+4]) == "null" {
		p.i += 4
		return nil
	}
	if !p.byte('[') {
		return p.errorf("rrsets: want [")
	}
	// Chunks start small: most zones are small, and a record set is a
	// large struct to allocate and clear by the thousand.
	chunk := make([]zonecfg.RRSet, 0, 8)
	err := p.elements(func() error {
		chunk = append(chunk, zonecfg.RRSet{})
		rs := &chunk[len(chunk)-1]
		// The pin keeps the set's first byte in the window, for the
		// fallback.
		p.pin = p.i
		ok := p.rrset(rs)
		start := p.pin
		p.pin = -1
		if !ok {
			p.i = start
			*rs = zonecfg.RRSet{}
			if err := p.value(rs); err != nil {
				return err
			}
		}
		if len(chunk) == zoneChunk {
			chunks <- chunk
			chunk = make([]zonecfg.RRSet, 0, zoneChunk)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(chunk) > 0 {
		chunks <- chunk
	}
	return nil
}
