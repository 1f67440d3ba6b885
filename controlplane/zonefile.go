package controlplane

import (
	"bufio"
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
	"github.com/jackc/pgx/v5/pgtype"
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

// exportPageSets is how many record sets one query of ExportZone reads:
// the export's memory is about one page, and a pool connection is held for
// one page's query at a time.
const exportPageSets = 500

// exportAttempts is how often ExportZone starts again when a change lands
// before the first byte has left for the writer.
const exportAttempts = 3

// ExportZone writes the zone to w as an RFC 1035 master file: an $ORIGIN
// line, then the apex SOA (its serial is the zone version, as the
// nameservers serve it), the apex NS, and every other record set in listing
// order, all with absolute names and canonical record data, so that any
// zone-file parser reads it back the same. Record sets that a master file
// cannot express — routing policies, alias records, health checks — are
// written as extension lines, comments to every other parser, which
// ImportZone reads back (docs/routing.md):
//
//	; waymark:rrset {"name":"www.example.com.","type":"A","set_identifier":"eu","ttl":60,"records":["192.0.2.1"],"region":"eu-west-1"}
//
// The zone is streamed: it is read in pages of exportPageSets record sets,
// each one short query of its own, and written out between them, so that
// neither the whole zone nor a pool connection is held while a slow client
// reads (issue 16: one export used to hold one of four connections for the
// whole zone). Each page's query reads the zone's version in the same
// statement; the version rises with every change, so one version from the
// first read to the last means every page saw the same zone. A change that
// lands before any byte reached w restarts the export; one that lands
// later fails it with CodePriorRequestNotComplete after part of the file
// was written (the HTTP handler then cuts the response off, so no client
// takes a mix of two versions for a complete file).
func (s *Service) ExportZone(ctx context.Context, tenantID, zoneID string, w io.Writer) error {
	id, ok := cleanID(zoneID)
	if !ok {
		return errNoSuchZone(displayID(zoneID))
	}
	cw := &countingWriter{w: w}
	for attempt := 1; ; attempt++ {
		err := s.exportZone(ctx, tenantID, id, cw)
		if !errors.Is(err, errZoneChangedDuringExport) {
			return err
		}
		if cw.n > 0 || attempt == exportAttempts {
			return Errorf(CodePriorRequestNotComplete,
				"The hosted zone %s changed while it was being exported; export it again.", id)
		}
	}
}

// errZoneChangedDuringExport is a version change seen between two pages.
var errZoneChangedDuringExport = errors.New("zone changed during export")

// countingWriter counts the bytes that reached w.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// exportZone is one attempt of ExportZone.
func (s *Service) exportZone(ctx context.Context, tenantID, id string, w io.Writer) error {
	var zone Zone
	var apex []storedRRSet
	// The zone and its apex SOA and NS in one snapshot, so that the SOA
	// serial written first is the version the pages are checked against.
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
			                          WHERE zone_id = $1 AND sort_name = $2 AND type IN ('SOA', 'NS') AND set_identifier = ''
			                          ORDER BY type DESC`, id, zonecfg.SortKey(zone.Name))
			apex, err = pgx.CollectRows(rows, scanStoredRRSet)
			if err != nil {
				return fmt.Errorf("read apex record sets: %w", err)
			}
			return nil
		})
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	zf := zoneFileWriter{zone: zone, w: bw}
	zf.header()
	for _, rs := range apex { // SOA, then NS
		zf.set(rs)
	}
	var last exportKey
	// The pages share one buffer: a page is written out before the next
	// is read, and a row is some 500 octets (a zone of 20,000 sets
	// allocated 10 MB of pages per export).
	var buf exportBuf
	for first := true; ; first = false {
		// The tenant's cost budget (Config.ExportRate), taken a page at a
		// time and waited for holding nothing.
		if err := s.exports.wait(ctx, tenantID, exportPageSets); err != nil {
			return err
		}
		page, err := s.exportPage(ctx, tenantID, id, zone.Version, first, last, &buf)
		if err != nil {
			return err
		}
		for _, p := range page {
			zf.set(p.set)
		}
		if zf.err != nil {
			return zf.err
		}
		if len(page) < exportPageSets {
			break
		}
		last = page[len(page)-1].key
	}
	if zf.err != nil {
		return zf.err
	}
	return bw.Flush()
}

// exportKey is a record set's position in listing order.
type exportKey struct{ sortName, typ, setID string }

// exportBuf holds a page's rows and their raw record data, reused from
// page to page.
type exportBuf struct {
	rows []exportRow
	raw  [][]byte
}

// exportRow is one record set of a page, with its position.
type exportRow struct {
	key exportKey
	set storedRRSet
}

// exportPage reads the record sets after last (from the start when first)
// and checks that the zone is still at version; an empty page checks it
// with a query of its own. The query runs under the bulk budget (bulk.go)
// and holds its connection only to copy the rows: the record data is
// decoded after the rows are closed.
func (s *Service) exportPage(ctx context.Context, tenantID, id string, version int64, first bool, last exportKey, buf *exportBuf) ([]exportRow, error) {
	after := `(sort_name, type, set_identifier) > ($4, $5, $6) AND sort_name >= $4`
	args := []any{id, tenantID, exportPageSets, last.sortName, last.typ, last.setID}
	if first {
		after, args = `true`, args[:3]
	}
	release, err := s.acquireBulk(ctx)
	if err != nil {
		return nil, err
	}
	held := true
	defer func() {
		if held {
			release()
		}
	}()
	// The page must walk the primary key from last and stop after 500
	// rows. Left to itself the planner often does not: for a zone it has
	// no statistics of (a new zone, a table not analyzed since the zone
	// was filled) it expects a handful of rows and picks a bitmap scan of
	// every row after the key and a sort — 8–31 ms instead of 0.2–0.5 ms a
	// page for a zone of 20,000, each export reading the zone about 20
	// times over. enable_sort off, for this transaction only, leaves the
	// index order as the one plan; the redundant sort_name >= $4 gives the
	// planner an estimate it can make.
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("read record sets: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SET LOCAL enable_sort = off`); err != nil {
		return nil, fmt.Errorf("read record sets: %w", err)
	}
	// Not the records column: an export writes the canonical record data
	// (rdata), extension lines included.
	rows, _ := tx.Query(ctx, `SELECT (SELECT version FROM hosted_zone WHERE id = $1 AND tenant_id = $2),
	                              sort_name, name, type, set_identifier, ttl, rdata, routing, alias_target, health_check_id FROM rrset
	                              WHERE zone_id = $1 AND `+after+`
	                              ORDER BY sort_name, type, set_identifier LIMIT $3`, args...)
	var seen *int64
	if buf.rows == nil {
		buf.rows, buf.raw = make([]exportRow, 0, exportPageSets), make([][]byte, 0, exportPageSets)
	}
	page, raw := buf.rows[:0], buf.raw[:0]
	defer func() { buf.rows, buf.raw = page, raw }()
	// One set of scan targets for the page: each passed to Scan escapes,
	// and declared in the loop they cost six allocations a row.
	var (
		v     pgtype.Int8
		r     exportRow
		ttl   int64
		rt    *zonecfg.Routing
		hc    pgtype.Text
		rdata []byte
	)
	rs := &r.set
	dest := []any{&v, &r.key.sortName, &rs.Name, &rs.Type, &rs.SetIdentifier, &ttl, &rdata, &rt, &rs.Alias, &hc}
	for rows.Next() {
		r, rt, rdata = exportRow{}, nil, nil
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read record sets: %w", err)
		}
		var hcp *string
		if hc.Valid {
			hcp = &hc.String
		}
		fillStoredRRSet(rs, ttl, rt, hcp)
		r.key.typ, r.key.setID = rs.Type, rs.SetIdentifier
		seen = nil
		if v.Valid {
			seen = &v.Int64
		}
		page = append(page, r)
		raw = append(raw, rdata)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read record sets: %w", err)
	}
	if len(page) == 0 {
		if err := tx.QueryRow(ctx, `SELECT (SELECT version FROM hosted_zone WHERE id = $1 AND tenant_id = $2)`,
			id, tenantID).Scan(&seen); err != nil {
			return nil, fmt.Errorf("read zone version: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("read record sets: %w", err)
	}
	release()
	held = false
	if seen == nil || *seen != version {
		return nil, errZoneChangedDuringExport
	}
	for i := range page {
		if page[i].set.Alias != nil {
			continue // fillStoredRRSet left no record data
		}
		rd, err := decodeStrings(raw[i])
		if err != nil {
			return nil, fmt.Errorf("read record sets: rdata of %s %s: %w", page[i].set.Name, page[i].set.Type, err)
		}
		page[i].set.RData = rd
	}
	return page, nil
}

// zoneFileWriter writes the lines of ExportZone; the first write error
// sticks in err.
type zoneFileWriter struct {
	zone Zone
	w    *bufio.Writer
	err  error
	// wroteApex has bit 1 once the apex SOA is written, bit 2 the apex NS.
	wroteApex int
	// buf is the line being written by record.
	buf []byte
}

// record writes one record line; fmt would box the TTL and parse the
// format for each of a zone's records.
func (z *zoneFileWriter) record(name string, ttl uint32, typ, data string) {
	if z.err != nil {
		return
	}
	b := append(z.buf[:0], name...)
	b = append(b, '\t')
	b = strconv.AppendUint(b, uint64(ttl), 10)
	b = append(b, "\tIN\t"...)
	b = append(b, typ...)
	b = append(b, '\t')
	b = append(b, data...)
	b = append(b, '\n')
	_, z.err = z.w.Write(b)
	z.buf = b
}

func (z *zoneFileWriter) printf(format string, a ...any) {
	if z.err == nil {
		_, z.err = fmt.Fprintf(z.w, format, a...)
	}
}

func (z *zoneFileWriter) header() {
	z.printf("; Hosted zone %s (%s), version %d\n", z.zone.Name, z.zone.ID, z.zone.Version)
	z.printf("$ORIGIN %s\n", z.zone.Name)
}

// set writes one record set: the apex SOA with the zone version as its
// serial, extension record sets as extension lines, the rest as records.
// The apex SOA and NS come first, read apart; set skips them in the pages.
func (z *zoneFileWriter) set(rs storedRRSet) {
	apex := rs.Name == z.zone.Name && rs.SetIdentifier == ""
	switch {
	case apex && rs.Type == "SOA":
		if z.wroteApex&1 != 0 {
			return
		}
		z.wroteApex |= 1
		if len(rs.RData) > 0 {
			if f := strings.Fields(rs.RData[0]); len(f) == 7 {
				f[2] = strconv.FormatInt(z.zone.Version, 10)
				rs.RData = []string{strings.Join(f, " ")}
			}
		}
	case apex && rs.Type == "NS":
		if z.wroteApex&2 != 0 {
			return
		}
		z.wroteApex |= 2
	case isExtension(rs.RRSet):
		ext := rs.RRSet
		ext.Records = rs.RData
		j, _ := json.Marshal(ext)
		z.printf("%s%s\n", extensionPrefix, j)
		return
	}
	for _, v := range rs.RData {
		z.record(rs.Name, rs.TTL, rs.Type, v)
	}
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
	if zone.Secondary != nil {
		return ChangeInfo{}, errSecondary(zone.ID, "a zone file import")
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
