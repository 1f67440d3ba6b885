package zonecfg

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Limits on record data, from Route 53's published limits.
const (
	MaxTTL            = 2147483647
	MaxValueLength    = 4000
	MaxValuesPerRRSet = 400
)

// RRSet is a record set as both planes see it: the records sharing a name,
// a type and (for routed records) a set identifier. Records hold RDATA in
// presentation format, one record per string.
//
// Its Routing is embedded so that its fields are the record set's own, in
// Go and in JSON (after records, where the wire has always had them); the
// zero Routing is a simple record set. An alias record set (Alias set)
// has no TTL and no Records: it answers with its target's.
type RRSet struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	SetIdentifier string   `json:"set_identifier,omitempty"`
	TTL           uint32   `json:"ttl"`
	Records       []string `json:"records"`
	Routing
}

// Key identifies a record set within a zone.
type Key struct {
	Name          string `json:"name"`
	Type          string `json:"type"`
	SetIdentifier string `json:"set_identifier,omitempty"`
}

// Key returns the set's identity.
func (rs RRSet) Key() Key {
	return Key{Name: rs.Name, Type: rs.Type, SetIdentifier: rs.SetIdentifier}
}

// String formats k for messages: name='www.example.com.', type='A'.
func (k Key) String() string {
	s := fmt.Sprintf("name='%s', type='%s'", k.Name, k.Type)
	if k.SetIdentifier != "" {
		s += fmt.Sprintf(", set_identifier='%s'", k.SetIdentifier)
	}
	return s
}

// Less orders keys the way Route 53 lists record sets: by reversed-label
// name, then type mnemonic, then set identifier, all compared as bytes.
func (k Key) Less(o Key) bool {
	a, b := SortKey(k.Name), SortKey(o.Name)
	if a != b {
		return a < b
	}
	if k.Type != o.Type {
		return k.Type < o.Type
	}
	return k.SetIdentifier < o.SetIdentifier
}

// ErrInvalidRecord is wrapped by every record-data validation error.
var ErrInvalidRecord = errors.New("invalid record")

// ParseRecord parses one record's RDATA in presentation format for a record
// of the given canonical name, type and TTL, and returns the parsed RR and
// its canonical RDATA text. It rejects input that a zone-file parser would
// read as more (or less) than one record: newlines, comments, directives;
// and data that the nameservers could not pack and serve (AppendRData).
func ParseRecord(name, typ string, ttl uint32, value string) (dns.RR, string, error) {
	rr, err := parseRecord(name, typ, ttl, value)
	if err != nil {
		return nil, "", err
	}
	if _, _, err := AppendRData(nil, rr, nil); err != nil {
		return nil, "", fmt.Errorf("%w: %q is not valid %s data: %v", ErrInvalidRecord, value, typ, err)
	}
	return rr, RData(rr), nil
}

// parseRecord is ParseRecord without the packing check, for callers that
// pack the record themselves (RRSet.Pack).
func parseRecord(name, typ string, ttl uint32, value string) (dns.RR, error) {
	if len(value) > MaxValueLength {
		return nil, fmt.Errorf("%w: value is longer than %d characters", ErrInvalidRecord, MaxValueLength)
	}
	v := strings.TrimSpace(value)
	if v == "" {
		return nil, fmt.Errorf("%w: empty value", ErrInvalidRecord)
	}
	if err := checkSingleLine(v); err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrInvalidRecord, value, err)
	}
	code := TypeCode(typ)
	if code == 0 {
		return nil, fmt.Errorf("%w: unsupported record type %q", ErrInvalidRecord, typ)
	}
	rr, err := dns.NewRR(name + " " + strconv.FormatUint(uint64(ttl), 10) + " IN " + typ + " " + v)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not valid %s data: %v", ErrInvalidRecord, value, typ, parseErrText(err))
	}
	if rr == nil || rr.Header().Rrtype != code {
		return nil, fmt.Errorf("%w: %q is not valid %s data", ErrInvalidRecord, value, typ)
	}
	if err := checkRData(rr); err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrInvalidRecord, value, err)
	}
	return rr, nil
}

// RData returns the presentation form of rr's data, without the header.
func RData(rr dns.RR) string {
	return strings.TrimPrefix(rr.String(), rr.Header().String())
}

// checkSingleLine rejects characters that would make the zone-file parser
// read something other than exactly this value: line breaks, and, outside
// quoted strings, comments and parentheses.
func checkSingleLine(v string) error {
	inQuote, escaped := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\n' || c == '\r' || c == 0:
			return errors.New("line breaks and NUL are not allowed; use \\DDD escapes")
		case escaped:
			escaped = false
		case c == '\\':
			escaped = true
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == ';' || c == '(' || c == ')'):
			return fmt.Errorf("unquoted %q is not allowed", c)
		}
	}
	if inQuote {
		return errors.New("unterminated quoted string")
	}
	return nil
}

// checkRData applies rules the miekg parser does not.
func checkRData(rr dns.RR) error {
	switch r := rr.(type) {
	case *dns.TXT:
		return checkStrings(r.Txt)
	case *dns.SPF:
		return checkStrings(r.Txt)
	case *dns.CAA:
		if r.Tag == "" {
			return errors.New("CAA tag is empty")
		}
		for _, c := range r.Tag {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
				return errors.New("CAA tag must be alphanumeric")
			}
		}
	case *dns.DS:
		if r.Digest == "" {
			return errors.New("DS digest is empty")
		}
	case *dns.SVCB:
		return checkSVCB(r.Value)
	case *dns.HTTPS:
		return checkSVCB(r.Value)
	}
	return nil
}

func checkStrings(ss []string) error {
	if len(ss) == 0 {
		return errors.New("no character strings")
	}
	for _, s := range ss {
		// miekg keeps escapes in the string; 255 is the wire limit of one
		// character-string, checked on the unescaped length by packing.
		if n := unescapedLen(s); n > 255 {
			return fmt.Errorf("character-string of %d bytes exceeds 255", n)
		}
	}
	return nil
}

func unescapedLen(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
				i += 3
			} else {
				i++
			}
		}
		n++
	}
	return n
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func parseErrText(err error) string {
	var pe *dns.ParseError
	if errors.As(err, &pe) {
		// The miekg message names our synthetic line; keep only the reason.
		s := pe.Error()
		if i := strings.Index(s, ": "); i >= 0 && strings.HasPrefix(s, "dns: ") {
			return strings.TrimPrefix(s[:i], "dns: ")
		}
		return s
	}
	return err.Error()
}

// Validate checks a record set on its own: a canonical name, a supported
// type, a TTL in range, between 1 and MaxValuesPerRRSet valid values with no
// duplicates, a single value for CNAME and SOA; at most one routing field,
// valid, with a set identifier if and only if there is one; for an alias,
// a target and no TTL or values. Rules that depend on the zone (apex, CNAME
// exclusivity, one policy per name and type, alias targets existing)
// belong to the control plane.
func (rs RRSet) Validate() error {
	if _, err := CanonicalName(rs.Name); err != nil {
		return err
	}
	if TypeCode(rs.Type) == 0 {
		return fmt.Errorf("%w: unsupported record type %q", ErrInvalidRecord, rs.Type)
	}
	if rs.TTL > MaxTTL {
		return fmt.Errorf("%w: TTL %d is out of range 0..%d", ErrInvalidRecord, rs.TTL, MaxTTL)
	}
	if err := rs.ValidateRouting(); err != nil {
		return err
	}
	_, err := rs.Parse()
	return err
}

// Parse validates every value and returns the parsed records in order. An
// alias record set has none: Parse returns nil, and an error if it has
// values.
func (rs RRSet) Parse() ([]dns.RR, error) {
	_, rrs, _, err := rs.Pack(nil)
	return rrs, err
}

// Pack validates rs as Parse does and returns the parsed records and their
// wire form: each record's RDLENGTH and RDATA, concatenated in order (what
// a nameserver stores). tmp is scratch space; the grown buffer is returned
// for reuse. Every value goes through AppendRData exactly once.
func (rs RRSet) Pack(tmp []byte) (rdata []byte, rrs []dns.RR, scratch []byte, err error) {
	if rs.Alias != nil {
		if len(rs.Records) != 0 {
			return nil, nil, tmp, fmt.Errorf("%w: an alias record set has no values", ErrInvalidRecord)
		}
		return nil, nil, tmp, nil
	}
	if len(rs.Records) == 0 {
		return nil, nil, tmp, fmt.Errorf("%w: a record set needs at least one value", ErrInvalidRecord)
	}
	if len(rs.Records) > MaxValuesPerRRSet {
		return nil, nil, tmp, fmt.Errorf("%w: at most %d values per record set", ErrInvalidRecord, MaxValuesPerRRSet)
	}
	if (rs.Type == "CNAME" || rs.Type == "SOA") && len(rs.Records) != 1 {
		return nil, nil, tmp, fmt.Errorf("%w: a %s record set has exactly one value", ErrInvalidRecord, rs.Type)
	}
	rrs = make([]dns.RR, 0, len(rs.Records))
	seen := make(map[string]bool, len(rs.Records))
	for _, v := range rs.Records {
		rr, err := parseRecord(rs.Name, rs.Type, rs.TTL, v)
		if err != nil {
			return nil, nil, tmp, err
		}
		canon := RData(rr)
		if seen[canon] {
			return nil, nil, tmp, fmt.Errorf("%w: duplicate value %q", ErrInvalidRecord, v)
		}
		seen[canon] = true
		if rdata, tmp, err = AppendRData(rdata, rr, tmp); err != nil {
			return nil, nil, tmp, fmt.Errorf("%w: %q is not valid %s data: %v", ErrInvalidRecord, v, rs.Type, err)
		}
		rrs = append(rrs, rr)
	}
	return rdata, rrs, tmp, nil
}

// Canonical returns the canonical RDATA of every value, in order. It is the
// form used to compare record sets (DELETE must match) and to detect
// duplicates; callers must have validated rs.
func (rs RRSet) Canonical() ([]string, error) {
	rrs, err := rs.Parse()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rrs))
	for i, rr := range rrs {
		out[i] = RData(rr)
	}
	return out, nil
}
