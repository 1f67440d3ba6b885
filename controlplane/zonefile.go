package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/zonecfg"
)

// Limits on zone-file import. The file size bounds the parse; the record
// count bounds what $GENERATE can expand a small file into.
const (
	MaxZoneFileSize    = 8 << 20
	MaxZoneFileRecords = 100000
	// maxZoneFileDetails bounds the problems reported for one file.
	maxZoneFileDetails = 100
	// defaultZoneFileTTL is the TTL of records that a file gives none.
	defaultZoneFileTTL = 3600
)

// ExportZone returns the zone as an RFC 1035 master file: an $ORIGIN line,
// then the apex SOA (its serial is the zone version, as the nameservers
// serve it), the apex NS, and every other record set in listing order, all
// with absolute names and canonical record data, so that any zone-file
// parser reads it back the same. Record sets that a master file cannot
// express — routing policies, alias records, health checks — are written as
// extension lines, comments to every other parser, which ImportZone reads
// back (docs/routing.md):
//
//	; waymark:rrset {"name":"www.example.com.","type":"A","set_identifier":"eu","ttl":60,"records":["192.0.2.1"],"region":"eu-west-1"}
func (s *Service) ExportZone(ctx context.Context, tenantID, zoneID string) (string, error) {
	id, ok := cleanID(zoneID)
	if !ok {
		return "", errNoSuchZone(displayID(zoneID))
	}
	var zone Zone
	var sets []storedRRSet
	// One snapshot, so that the SOA serial matches the records.
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			var err error
			zone, err = s.scanZone(tx.QueryRow(ctx,
				`SELECT `+zoneColumns+` FROM hosted_zone WHERE id = $1 AND tenant_id = $2`, id, tenantID))
			if errors.Is(err, pgx.ErrNoRows) {
				return errNoSuchZone(id)
			}
			if err != nil {
				return err
			}
			rows, _ := tx.Query(ctx, `SELECT `+rrsetColumns+` FROM rrset
			                          WHERE zone_id = $1 AND EXISTS (SELECT 1 FROM hosted_zone WHERE id = $1 AND tenant_id = $2)
			                          ORDER BY sort_name, type, set_identifier`, id, tenantID)
			sets, err = pgx.CollectRows(rows, scanStoredRRSet)
			if err != nil {
				return fmt.Errorf("read record sets: %w", err)
			}
			return nil
		})
	if err != nil {
		return "", err
	}
	return formatZoneFile(zone, sets), nil
}

// formatZoneFile writes the master file of ExportZone; sets are in listing
// order.
func formatZoneFile(zone Zone, sets []storedRRSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "; Hosted zone %s (%s), version %d\n", zone.Name, zone.ID, zone.Version)
	fmt.Fprintf(&b, "$ORIGIN %s\n", zone.Name)
	isApex := func(rs storedRRSet, typ string) bool {
		return rs.Name == zone.Name && rs.Type == typ && rs.SetIdentifier == ""
	}
	write := func(rs storedRRSet, prefix string) {
		for _, v := range rs.RData {
			fmt.Fprintf(&b, "%s%s\t%d\tIN\t%s\t%s\n", prefix, rs.Name, rs.TTL, rs.Type, v)
		}
	}
	for _, rs := range sets {
		if isApex(rs, "SOA") {
			if f := strings.Fields(rs.RData[0]); len(f) == 7 {
				f[2] = strconv.FormatInt(zone.Version, 10)
				rs.RData = []string{strings.Join(f, " ")}
			}
			write(rs, "")
		}
	}
	for _, rs := range sets {
		if isApex(rs, "NS") {
			write(rs, "")
		}
	}
	for _, rs := range sets {
		switch {
		case isApex(rs, "SOA") || isApex(rs, "NS"):
		case isExtension(rs.RRSet):
			ext := rs.RRSet
			ext.Records = rs.RData
			j, _ := json.Marshal(ext)
			fmt.Fprintf(&b, "%s%s\n", extensionPrefix, j)
		default:
			write(rs, "")
		}
	}
	return b.String()
}

// ImportZone reads an RFC 1035 master file (origin: the zone's name;
// $INCLUDE refused) and applies its records to the zone as one change batch
// of UPSERTs: every record set in the file is created or replaced, and
// record sets not in the file are kept. The apex SOA is replaced by the
// file's (keeping the live serial, which the nameservers manage); the apex
// NS is replaced only if the file has one. Problems are reported with the
// line they come from (Detail.Line): syntax and out-of-zone records as
// CodeInvalidInput, rule violations (e.g. CNAME conflicts) as
// CodeInvalidChangeBatch. The per-request limits of ChangeRRSets do not
// apply; the zone's record quota does.
func (s *Service) ImportZone(ctx context.Context, tenantID, zoneID string, zoneFile string) (ChangeInfo, error) {
	zone, err := s.GetZone(ctx, tenantID, zoneID)
	if err != nil {
		return ChangeInfo{}, err
	}
	if len(zoneFile) > MaxZoneFileSize {
		return ChangeInfo{}, Errorf(CodeInvalidInput, "The zone file is larger than %d bytes.", MaxZoneFileSize)
	}
	sets, details := parseZoneFile(zone.Name, zoneFile)
	if len(details) > 0 {
		msgs := make([]string, len(details))
		for i, d := range details {
			msgs[i] = fmt.Sprintf("line %d: %s", d.Line, d.Message)
		}
		return ChangeInfo{}, &Error{Code: CodeInvalidInput,
			Message: "The zone file is not valid: [" + strings.Join(msgs, ", ") + "]", Details: details}
	}
	if len(sets) == 0 {
		return ChangeInfo{}, Errorf(CodeInvalidInput, "The zone file contains no records.")
	}
	changes := make([]preparedChange, len(sets))
	var cdetails []Detail
	for i, fs := range sets {
		// No record set may be larger than a change batch could make it:
		// this also keeps every zone event within one message.
		chars := 0
		for _, v := range fs.Set.Records {
			chars += utf8.RuneCountInString(v)
		}
		if chars > MaxBatchChars {
			cdetails = append(cdetails, indexDetail(i, fmt.Sprintf(
				"The record set [%s] has more than %d characters of values.", fs.Set.Key(), MaxBatchChars)))
			continue
		}
		var msg string
		changes[i], msg = prepareChange(RRSetChange{Action: ActionUpsert, RRSet: fs.Set})
		if msg != "" {
			cdetails = append(cdetails, indexDetail(i, msg))
		}
	}
	info, err := s.applyChanges(ctx, tenantID, zone.ID, "zone file import", changes, cdetails, batchOptions{keepSOASerial: true})
	if e, ok := AsError(err); ok && e.Code == CodeInvalidChangeBatch {
		// Point at lines, not at positions in a batch the caller never saw.
		msgs := make([]string, len(e.Details))
		for i, d := range e.Details {
			if d.Index != nil {
				d.Line = sets[*d.Index].Line
				d.Index = nil
			}
			e.Details[i] = d
			msgs[i] = fmt.Sprintf("line %d: %s", d.Line, d.Message)
		}
		e.Message = "[" + strings.Join(msgs, ", ") + "]"
	}
	return info, err
}

// zoneFileRRSet is a record set read from a zone file, with the line of its
// first record.
type zoneFileRRSet struct {
	Set  zonecfg.RRSet
	Line int
}

// lineSuffix matches the position miekg's ParseError appends.
var lineSuffix = regexp.MustCompile(` at line: (\d+):\d+$`)

// parseZoneFile reads a master file whose origin is the canonical zone
// name origin and groups its records into record sets by name and type, in
// the order they first appear. Values are canonical RDATA; duplicate
// records are merged, and a set's TTL is its first record's (as BIND does);
// a record without a TTL and without a $TTL before it gets an hour.
// It checks what the file alone can tell: syntax, class IN, supported
// types, names inside the zone. It is a pure function, so that it can be
// fuzzed without a database.
func parseZoneFile(origin, text string) ([]zoneFileRRSet, []Detail) {
	var sets []zoneFileRRSet
	var details []Detail
	index := make(map[zonecfg.Key]int)
	fail := func(line int, format string, args ...any) bool {
		details = append(details, Detail{Line: line, Message: fmt.Sprintf(format, args...)})
		return len(details) < maxZoneFileDetails
	}
	lr := &lineReader{s: text, line: 1}
	zp := dns.NewZoneParser(lr, origin, "")
	zp.SetIncludeAllowed(false)
	// A record with no TTL, before any $TTL or explicit TTL, gets an hour
	// (miekg's own default, which $GENERATE always uses) rather than 0.
	zp.SetDefaultTTL(defaultZoneFileTTL)
	for _, ext := range extensionLines(text) {
		if len(details) >= maxZoneFileDetails {
			break
		}
		rs, err := parseExtension(origin, ext.text)
		if err != nil {
			fail(ext.line, "%v", err)
			continue
		}
		k := rs.Key()
		if _, dup := index[k]; dup {
			fail(ext.line, "record set [%s] is defined twice", k)
			continue
		}
		index[k] = len(sets)
		sets = append(sets, zoneFileRRSet{Set: rs, Line: ext.line})
	}
	n, line := 0, 1
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if l := lr.take(); l > 0 {
			line = l
		}
		if n++; n > MaxZoneFileRecords {
			fail(line, "more than %d records", MaxZoneFileRecords)
			return nil, details
		}
		h := rr.Header()
		if h.Class != dns.ClassINET {
			if !fail(line, "class %s is not supported; only IN", dns.ClassToString[h.Class]) {
				break
			}
			continue
		}
		typ := dns.TypeToString[h.Rrtype]
		if zonecfg.TypeCode(typ) == 0 {
			if !fail(line, "record type %s is not supported", dns.Type(h.Rrtype)) {
				break
			}
			continue
		}
		name, err := zonecfg.CanonicalName(h.Name)
		if err != nil {
			if !fail(line, "%v", err) {
				break
			}
			continue
		}
		if !zonecfg.IsSubdomain(name, origin) {
			if !fail(line, "%s is outside the zone %s", name, origin) {
				break
			}
			continue
		}
		v := zonecfg.RData(rr)
		k := zonecfg.Key{Name: name, Type: typ}
		if i, ok := index[k]; ok {
			if isExtension(sets[i].Set) {
				if !fail(line, "record set [%s] is defined twice", k) {
					break
				}
				continue
			}
			if !slices.Contains(sets[i].Set.Records, v) {
				sets[i].Set.Records = append(sets[i].Set.Records, v)
			}
			continue
		}
		index[k] = len(sets)
		sets = append(sets, zoneFileRRSet{
			Set:  zonecfg.RRSet{Name: name, Type: typ, TTL: h.Ttl, Records: []string{v}},
			Line: line,
		})
	}
	if err := zp.Err(); err != nil && len(details) < maxZoneFileDetails {
		msg := err.Error()
		// Some errors (a bad $GENERATE) carry no position: then the entry
		// being read when parsing stopped is the culprit.
		errLine := lr.start
		if errLine == 0 {
			errLine = lr.line
		}
		if m := lineSuffix.FindStringSubmatch(msg); m != nil {
			if l, err := strconv.Atoi(m[1]); err == nil && l > 0 {
				errLine = l
			}
			msg = strings.TrimSuffix(msg, m[0])
		}
		details = append(details, Detail{Line: errLine, Message: strings.TrimPrefix(msg, "dns: ")})
	}
	if len(details) > 0 {
		return nil, details
	}
	return sets, nil
}

// lineReader feeds a zone file to miekg's parser byte by byte (the parser
// does not buffer an io.ByteReader, and stops right after a record's final
// newline) and remembers the line where the next entry starts: the first
// byte that is not blank, not in a comment and not in a directive other
// than $GENERATE. The parser itself does not tell which line a record
// came from.
type lineReader struct {
	s     string
	i     int
	line  int // line of the next byte
	start int // line where the current entry starts; 0 if not seen yet
	state int
	word  []byte
	wline int
}

// lineReader states.
const (
	lrSeek      = iota // between entries
	lrSkip             // in a comment or a directive, until the newline
	lrDirective        // reading a $DIRECTIVE word
	lrFound            // the entry's start is known
)

// take returns the line where the entry just parsed started (0 if no byte
// of it was read, as for the later records of a $GENERATE) and starts
// looking for the next one.
func (r *lineReader) take() int {
	l := r.start
	r.start, r.state = 0, lrSeek
	return l
}

// ReadByte implements io.ByteReader.
func (r *lineReader) ReadByte() (byte, error) {
	if r.i >= len(r.s) {
		return 0, io.EOF
	}
	c := r.s[r.i]
	r.i++
	line := r.line
	if c == '\n' {
		r.line++
	}
	blank := c == ' ' || c == '\t' || c == '\r' || c == '\n'
	switch r.state {
	case lrSeek:
		switch {
		case blank:
		case c == ';':
			r.state = lrSkip
		case c == '$':
			r.state, r.word, r.wline = lrDirective, append(r.word[:0], c), line
		default:
			r.start, r.state = line, lrFound
		}
	case lrSkip:
		if c == '\n' {
			r.state = lrSeek
		}
	case lrDirective:
		if !blank {
			if len(r.word) < 16 {
				r.word = append(r.word, c)
			}
			break
		}
		switch {
		case strings.EqualFold(string(r.word), "$GENERATE"):
			r.start, r.state = r.wline, lrFound
		case c == '\n':
			r.state = lrSeek
		default:
			r.state = lrSkip
		}
	}
	return c, nil
}

// Read implements io.Reader; the parser uses ReadByte.
func (r *lineReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c, err := r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		p[n] = c
		n++
	}
	return n, nil
}

// extensionPrefix starts a line of a zone file that carries one record set
// a master file cannot express, as zonecfg.RRSet JSON.
const extensionPrefix = "; waymark:rrset "

// isExtension reports whether rs needs an extension line: it has a routing
// policy, an alias target or a health check.
func isExtension(rs zonecfg.RRSet) bool {
	return rs.SetIdentifier != "" || rs.Alias != nil || rs.HealthCheckID != "" || rs.Policy() != zonecfg.PolicySimple
}

type extensionLine struct {
	line int
	text string
}

// extensionLines returns the JSON of every extension line of text: lines
// that start with extensionPrefix.
func extensionLines(text string) []extensionLine {
	var out []extensionLine
	for i, l := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSuffix(l, "\r"), extensionPrefix); ok {
			out = append(out, extensionLine{line: i + 1, text: rest})
		}
	}
	return out
}

// parseExtension decodes one extension line strictly. Names are absolute
// or relative to origin, as in the rest of the file.
func parseExtension(origin, text string) (zonecfg.RRSet, error) {
	var rs zonecfg.RRSet
	d := json.NewDecoder(strings.NewReader(text))
	d.DisallowUnknownFields()
	if err := d.Decode(&rs); err != nil {
		return rs, fmt.Errorf("waymark:rrset line: %v", err)
	}
	if d.More() {
		return rs, errors.New("waymark:rrset line: text after the record set")
	}
	if !strings.HasSuffix(rs.Name, ".") && rs.Name != "@" {
		rs.Name += "." + origin
	} else if rs.Name == "@" {
		rs.Name = origin
	}
	name, err := zonecfg.CanonicalName(rs.Name)
	if err != nil {
		return rs, err
	}
	if !zonecfg.IsSubdomain(name, origin) {
		return rs, fmt.Errorf("%s is outside the zone %s", name, origin)
	}
	typ, _, err := zonecfg.ParseType(rs.Type)
	if err != nil {
		return rs, err
	}
	rs.Name, rs.Type = name, typ
	if rs.Records == nil {
		rs.Records = []string{}
	}
	if len(rs.Records) == 0 && rs.Alias == nil {
		return rs, errors.New("waymark:rrset line: a record set needs records or an alias_target")
	}
	return rs, nil
}
