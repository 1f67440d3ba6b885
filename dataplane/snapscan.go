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

// decodeSnapshot reads the JSON of an event.Snapshot, sending each zone
// to zones as soon as its id and name are known, and its record sets on
// the zone's chunks as they are decoded. Every zone sent has its chunks
// closed by the time it returns; after an error, a zone cut short has err
// set.
//
// The body is scanned once, by hand: json.Decoder scanned each record set
// twice (once to find its end, once more to hand over its bytes), a
// quarter of the load. Structure (objects, arrays, keys) is checked here;
// every value the scanner does not read itself (escapes, numbers other
// than a TTL, unknown members, unusual record sets) is cut out with
// skipValue and given to encoding/json, which checks it, so the result
// and the errors are encoding/json's. As with json.Decoder, anything after
// the snapshot's closing brace is ignored.
func decodeSnapshot(r io.Reader, zones chan<- *zoneStream) (uint64, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return 0, err
	}
	p := &jsonScan{b: b}
	return p.snapshot(zones)
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
	end, ok := skipValue(p.b, p.i)
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
	end, ok := skipValue(p.b, p.i)
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
	if end := p.i + 4; end <= len(p.b) && string(p.b[p.i:end]) == "null" {
		p.i = end
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
		start := p.i
		if !p.rrset(rs) {
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
