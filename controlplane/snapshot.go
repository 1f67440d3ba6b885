package controlplane

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/waymark-dns/waymark/event"
)

// Snapshots are what nameservers start from. Their consistency argument:
// the zones, their record sets and Seq are read in one REPEATABLE READ
// transaction, and Seq is the highest stream sequence the relay had
// recorded at that moment. Every event recorded by then was committed by
// then, so the snapshot contains it; every event committed later is
// published later, with a higher sequence. Consuming the stream from Seq+1
// on top of the snapshot therefore loses nothing; events the snapshot
// already contains that come again (published but not yet recorded) are
// skipped by their zone version.

// Snapshot returns every zone with its record sets, at stream position Seq.
// Record values are the canonical RDATA, which zonecfg.ParseRecord accepts
// as it is. It holds the whole fleet state in memory; WriteSnapshot streams
// it instead.
func (s *Service) Snapshot(ctx context.Context) (event.Snapshot, error) {
	var snap event.Snapshot
	snap.Zones = []event.ZoneState{}
	err := s.eachSnapshotZone(ctx, "", func(seq uint64) error {
		snap.Seq = seq
		return nil
	}, func(z event.ZoneState) error {
		snap.Zones = append(snap.Zones, z)
		return nil
	})
	if err != nil {
		return event.Snapshot{}, err
	}
	return snap, nil
}

// ZoneSnapshot returns one zone's content, whoever owns it: it is for the
// nameservers and operators, never for tenants.
func (s *Service) ZoneSnapshot(ctx context.Context, zoneID string) (event.ZoneState, error) {
	var out event.ZoneState
	found := false
	err := s.eachSnapshotZone(ctx, zoneID, nil, func(z event.ZoneState) error {
		out, found = z, true
		return nil
	})
	if err != nil {
		return event.ZoneState{}, err
	}
	if !found {
		return event.ZoneState{}, errNoSuchZone(zoneID)
	}
	return out, nil
}

// WriteSnapshot writes the snapshot as the JSON of event.Snapshot to w,
// without holding it in memory: zones and record sets are read in one
// REPEATABLE READ transaction, as eachSnapshotRaw does, but each record
// set goes out as its row arrives (PostgreSQL sends the rows of the query
// as it produces them; pgx hands them over one by one), so a zone of a
// million record sets is never materialised here and the nameserver
// decodes it while the database is still reading. The "seq" member comes
// first so that readers can stream too. On error the JSON is left
// unterminated, so a reader can never mistake a truncated snapshot for a
// complete one.
func (s *Service) WriteSnapshot(ctx context.Context, w io.Writer) error {
	return s.WriteSnapshotServing(ctx, w, nil)
}

// WriteSnapshotServing is WriteSnapshot restricted to the zones whose
// delegation set holds one of the pool names serves (all zones when empty):
// what a nameserver serving only those names loads.
func (s *Service) WriteSnapshotServing(ctx context.Context, w io.Writer, serves []string) error {
	f := snapshotFilter{serves: serves}.norm()
	bw := bufio.NewWriterSize(w, 256<<10)
	tx, err := s.snapshotPool(f).BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("snapshot: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var seq int64
	if err := tx.QueryRow(ctx,
		`SELECT coalesce(max(stream_seq), 0) FROM outbox_event WHERE published_at IS NOT NULL`).Scan(&seq); err != nil {
		return fmt.Errorf("snapshot: stream position: %w", err)
	}
	zones, err := snapshotZones(ctx, tx, f)
	if err != nil {
		return err
	}
	buf := make([]byte, 0, 64<<10)
	buf = append(buf, `{"seq":`...)
	buf = strconv.AppendInt(buf, seq, 10)
	buf = append(buf, `,"zones":[`...)
	// Zones and record sets come in the same order (zone id), so the
	// record sets' rows are merged into the zone list as they arrive;
	// zones without record sets are written where they fall.
	next, open := 0, -1
	sets := 0 // record sets written in the open zone
	flush := func() error {
		if len(buf) < 32<<10 {
			return nil
		}
		_, err := bw.Write(buf)
		buf = buf[:0]
		return err
	}
	closeZone := func() {
		buf = append(buf, ']')
		if c := zones[open].CIDRCollections; len(c) > 0 {
			buf = append(buf, `,"cidr_collections":`...)
			buf = append(buf, c...)
		}
		buf = append(buf, '}')
	}
	openZone := func(i int) {
		if i > 0 {
			buf = append(buf, ',')
		}
		z := &zones[i]
		buf = append(buf, `{"id":`...)
		buf = appendJSONString(buf, z.ID)
		buf = append(buf, `,"name":`...)
		buf = appendJSONString(buf, z.Name)
		buf = append(buf, `,"tenant_id":`...)
		buf = appendJSONString(buf, z.TenantID)
		buf = append(buf, `,"version":`...)
		buf = strconv.AppendInt(buf, z.Version, 10)
		buf = appendNameServers(buf, z.NameServers)
		buf = appendDNSSEC(buf, z.DNSSEC)
		buf = appendRawMember(buf, "transfers", z.Transfers)
		buf = appendRawMember(buf, "query_logging", z.QueryLogging)
		buf = appendRawMember(buf, "secondary", z.Secondary)
		buf = append(buf, `,"rrsets":[`...)
		open, sets = i, 0
	}
	rows, err := tx.Query(ctx, snapshotRRSetsSQL, f.zoneID, f.serves)
	if err != nil {
		return fmt.Errorf("snapshot: record sets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		v := rows.RawValues()
		if len(v) != 9 {
			return errors.New("snapshot: record sets: unexpected columns")
		}
		if open < 0 || string(v[0]) != zones[open].ID {
			if open >= 0 {
				closeZone()
			}
			for next < len(zones) && zones[next].ID != string(v[0]) {
				openZone(next)
				closeZone()
				next++
			}
			if next == len(zones) {
				// Both queries order by the same column: cannot happen.
				return fmt.Errorf("snapshot: record sets of zone %q out of order", v[0])
			}
			openZone(next)
			next++
		}
		if sets > 0 {
			buf = append(buf, ',')
		}
		sets++
		buf = appendRRSetJSON(buf, v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8])
		if err := flush(); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("snapshot: record sets: %w", err)
	}
	if open >= 0 {
		closeZone()
	}
	for ; next < len(zones); next++ {
		openZone(next)
		closeZone()
	}
	buf = append(buf, "]}\n"...)
	if _, err := bw.Write(buf); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return fmt.Errorf("snapshot: commit: %w", err)
	}
	return bw.Flush()
}

// snapshotRRSetsSQL selects the record sets of the zones a snapshotFilter
// picks ($1 a zone id or empty, $2 pool names or empty), in the order of
// the primary key (an index scan: no sort), every column as text so that
// rows can be copied into JSON as they are.
const snapshotRRSetsSQL = `SELECT zone_id, name, type, set_identifier, ttl::text, rdata::text,
        coalesce(routing::text, ''), coalesce(alias_target::text, ''), coalesce(health_check_id, '')
   FROM rrset
  WHERE ($1 = '' OR zone_id = $1)
    AND (cardinality($2::text[]) = 0 OR zone_id IN (
         SELECT z.id FROM hosted_zone z JOIN delegation_set d ON d.id = z.delegation_set_id
          WHERE d.name_servers && $2))
  ORDER BY zone_id, sort_name, type, set_identifier`

// appendRRSetJSON appends one record set's JSON from its row: the same
// members, in the same order, as rawZone.appendJSON writes.
func appendRRSetJSON[S string | []byte](b []byte, name, typ, setID, ttl, records, routing, alias, hcID S) []byte {
	b = append(b, `{"name":`...)
	b = appendJSONString(b, name)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, typ)
	if len(setID) > 0 {
		b = append(b, `,"set_identifier":`...)
		b = appendJSONString(b, setID)
	}
	b = append(b, `,"ttl":`...)
	b = append(b, ttl...)
	b = append(b, `,"records":`...)
	b = append(b, records...)
	if len(hcID) > 0 {
		b = append(b, `,"health_check_id":`...)
		b = appendJSONString(b, hcID)
	}
	if len(alias) > 0 && string(alias) != "null" {
		b = append(b, `,"alias_target":`...)
		b = append(b, alias...)
	}
	if inner := objectMembers([]byte(routing)); len(inner) > 0 {
		b = append(b, ',')
		b = append(b, inner...)
	}
	return append(b, '}')
}

// snapshotZones returns the zones f picks in id order, with no record
// sets but their delegation set's names and their CIDR collections.
func snapshotZones(ctx context.Context, tx pgx.Tx, f snapshotFilter) ([]rawZone, error) {
	zrows, err := tx.Query(ctx,
		`SELECT z.id, z.name, z.tenant_id, z.version, d.name_servers, z.dnssec, z.transfers, z.query_logging, z.secondary_state
		   FROM hosted_zone z JOIN delegation_set d ON d.id = z.delegation_set_id
		  WHERE ($1 = '' OR z.id = $1) AND (cardinality($2::text[]) = 0 OR d.name_servers && $2)
		  ORDER BY z.id`, f.zoneID, f.serves)
	if err != nil {
		return nil, fmt.Errorf("snapshot: zones: %w", err)
	}
	zones, err := pgx.CollectRows(zrows, func(row pgx.CollectableRow) (rawZone, error) {
		var z rawZone
		var dnssec, transfers, qlog, secondary []byte
		err := row.Scan(&z.ID, &z.Name, &z.TenantID, &z.Version, &z.NameServers, &dnssec, &transfers, &qlog, &secondary)
		z.DNSSEC, z.Transfers, z.QueryLogging, z.Secondary = dnssec, transfers, qlog, secondary
		z.RRSets = []rawRRSet{}
		return z, err
	})
	if err != nil {
		return nil, fmt.Errorf("snapshot: zones: %w", err)
	}
	if len(zones) == 0 {
		return zones, nil
	}
	if err := snapshotCIDRCollections(ctx, tx, f.zoneID, zones); err != nil {
		return nil, err
	}
	return zones, nil
}

// appendNameServers appends the "name_servers" member, if any.
func appendNameServers(b []byte, names []string) []byte {
	if len(names) == 0 {
		return b
	}
	b = append(b, `,"name_servers":[`...)
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, n)
	}
	return append(b, ']')
}

// appendDNSSEC appends the "dnssec" member (zonecfg.DNSSEC, as stored), if
// the zone is signed.
func appendDNSSEC(b []byte, raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return b
	}
	b = append(b, `,"dnssec":`...)
	return append(b, raw...)
}

// appendRawMember appends the member name with the stored JSON raw, if
// there is any.
func appendRawMember(b []byte, name string, raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return b
	}
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":`...)
	return append(b, raw...)
}

// rawZone is event.ZoneState with record values kept as the database's
// JSON text, to avoid decoding and re-encoding every record.
type rawZone struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	TenantID string `json:"tenant_id"`
	Version  int64  `json:"version"`
	// NameServers are the pool names of the zone's delegation set.
	NameServers []string   `json:"name_servers,omitempty"`
	RRSets      []rawRRSet `json:"rrsets"`
	// CIDRCollections is the JSON of the collections the zone's record
	// sets reference (event.ZoneState.CIDRCollections), nil if none.
	CIDRCollections json.RawMessage `json:"cidr_collections,omitempty"`
	// DNSSEC is hosted_zone.dnssec (zonecfg.DNSSEC's JSON), nil if the
	// zone is not signed.
	DNSSEC json.RawMessage `json:"dnssec,omitempty"`
	// Transfers is hosted_zone.transfers (zonecfg.Transfers' JSON), nil
	// if the zone has no transfer configuration.
	Transfers json.RawMessage `json:"transfers,omitempty"`
	// QueryLogging is hosted_zone.query_logging (zonecfg.QueryLogging's
	// JSON), nil if logging is off.
	QueryLogging json.RawMessage `json:"query_logging,omitempty"`
	// Secondary is hosted_zone.secondary_state (zonecfg.Secondary's
	// JSON), nil for an ordinary zone.
	Secondary json.RawMessage `json:"secondary,omitempty"`
}

type rawRRSet struct {
	Name          string
	Type          string
	SetIdentifier string
	TTL           uint32
	Records       json.RawMessage // rrset.rdata: a JSON array of strings
	// Routing is rrset.routing: a JSON object whose members are
	// zonecfg.RRSet's routing fields under their JSON names (weight,
	// region, geolocation, failover, multivalue_answer, cidr_routing), or
	// empty. They are written into the record set's object as they are.
	Routing       json.RawMessage
	Alias         json.RawMessage // rrset.alias_target: zonecfg.AliasTarget's JSON, or empty
	HealthCheckID string
}

// appendJSON appends z's JSON, the same as json.Marshal's but without
// reflection: a snapshot encodes a million record sets. Record values are
// the database's own JSON text, which is already valid.
func (z *rawZone) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, z.ID)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, z.Name)
	b = append(b, `,"tenant_id":`...)
	b = appendJSONString(b, z.TenantID)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, z.Version, 10)
	b = appendNameServers(b, z.NameServers)
	b = appendDNSSEC(b, z.DNSSEC)
	b = appendRawMember(b, "transfers", z.Transfers)
	b = appendRawMember(b, "query_logging", z.QueryLogging)
	b = appendRawMember(b, "secondary", z.Secondary)
	b = append(b, `,"rrsets":[`...)
	var ttl []byte
	for i, r := range z.RRSets {
		if i > 0 {
			b = append(b, ',')
		}
		ttl = strconv.AppendUint(ttl[:0], uint64(r.TTL), 10)
		b = appendRRSetJSON(b, []byte(r.Name), []byte(r.Type), []byte(r.SetIdentifier), ttl,
			[]byte(r.Records), []byte(r.Routing), []byte(r.Alias), []byte(r.HealthCheckID))
	}
	b = append(b, ']')
	if len(z.CIDRCollections) > 0 {
		b = append(b, `,"cidr_collections":`...)
		b = append(b, z.CIDRCollections...)
	}
	return append(b, '}')
}

// objectMembers returns the text between the braces of a JSON object
// (trimmed), or nil for anything else, such as null.
func objectMembers(obj json.RawMessage) []byte {
	t := bytes.TrimSpace(obj)
	if len(t) < 2 || t[0] != '{' || t[len(t)-1] != '}' {
		return nil
	}
	return bytes.TrimSpace(t[1 : len(t)-1])
}

// appendJSONString appends s as a JSON string. Plain ASCII, which DNS
// names and ids are, is copied as it is; anything else goes through
// encoding/json.
func appendJSONString[S string | []byte](b []byte, s S) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(string(s))
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// eachSnapshotZone is eachSnapshotRaw with decoded record values.
func (s *Service) eachSnapshotZone(ctx context.Context, zoneID string, seqFn func(uint64) error, zoneFn func(event.ZoneState) error) error {
	var buf []byte
	return s.eachSnapshotRaw(ctx, snapshotFilter{zoneID: zoneID}, seqFn, func(rz rawZone) error {
		// Through the same JSON as WriteSnapshot: both paths agree.
		buf = rz.appendJSON(buf[:0])
		var z event.ZoneState
		if err := json.Unmarshal(buf, &z); err != nil {
			return fmt.Errorf("zone %s: %w", rz.ID, err)
		}
		return zoneFn(z)
	})
}

// snapshotFilter picks the zones of a snapshot: one zone by id, or the
// zones on delegation sets holding one of the pool names serves; zero
// values mean all.
type snapshotFilter struct {
	zoneID string
	serves []string
}

// norm returns f with serves non-nil, as the queries' text[] wants it.
func (f snapshotFilter) norm() snapshotFilter {
	if f.serves == nil {
		f.serves = []string{}
	}
	return f
}

// snapshotPool is where the snapshot f picks is read: a full one (every
// zone, or a pool name's) on Config.SnapshotPool when there is one, one
// zone always on the primary (Config.SnapshotPool says why).
func (s *Service) snapshotPool(f snapshotFilter) *pgxpool.Pool {
	if f.zoneID == "" && s.cfg.SnapshotPool != nil {
		return s.cfg.SnapshotPool
	}
	return s.pool
}

// eachSnapshotRaw reads the zones f picks in one REPEATABLE READ
// transaction, calling seqFn with the stream position first, then zoneFn
// for each zone.
func (s *Service) eachSnapshotRaw(ctx context.Context, f snapshotFilter, seqFn func(uint64) error, zoneFn func(rawZone) error) error {
	f = f.norm()
	tx, err := s.snapshotPool(f).BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("snapshot: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	var seq int64
	if err := tx.QueryRow(ctx,
		`SELECT coalesce(max(stream_seq), 0) FROM outbox_event WHERE published_at IS NOT NULL`).Scan(&seq); err != nil {
		return fmt.Errorf("snapshot: stream position: %w", err)
	}
	if seqFn != nil {
		if err := seqFn(uint64(seq)); err != nil {
			return err
		}
	}

	// Zones first (small), then every record set in zone order, merged.
	zones, err := snapshotZones(ctx, tx, f)
	if err != nil || len(zones) == 0 {
		return err
	}
	rows, err := tx.Query(ctx, snapshotRRSetsSQL, f.zoneID, f.serves)
	if err != nil {
		return fmt.Errorf("snapshot: record sets: %w", err)
	}
	defer rows.Close()
	// Record sets come in index order; each zone is handed over as soon as
	// its last record set is read, zones without any come last.
	byID := make(map[string]*rawZone, len(zones))
	for i := range zones {
		byID[zones[i].ID] = &zones[i]
	}
	var (
		cur                          *rawZone
		zid, name, typ, setID, rdata string
		routing, alias, hcID, ttl    string
	)
	emit := func(z *rawZone) error {
		delete(byID, z.ID)
		err := zoneFn(*z)
		*z = rawZone{} // let the sent zone be collected
		return err
	}
	for rows.Next() {
		if err := rows.Scan(&zid, &name, &typ, &setID, &ttl, &rdata, &routing, &alias, &hcID); err != nil {
			return fmt.Errorf("snapshot: record sets: %w", err)
		}
		if cur == nil || cur.ID != zid {
			if cur != nil {
				if err := emit(cur); err != nil {
					return err
				}
			}
			cur = byID[zid]
			if cur == nil {
				continue // cannot happen: rrset references hosted_zone
			}
		}
		t, err := strconv.ParseUint(ttl, 10, 32)
		if err != nil {
			return fmt.Errorf("snapshot: record set %s %s: ttl %s", name, typ, ttl)
		}
		r := rawRRSet{Name: name, Type: typ, SetIdentifier: setID, TTL: uint32(t),
			Records: json.RawMessage(rdata), HealthCheckID: hcID}
		if routing != "" && routing != "null" {
			r.Routing = json.RawMessage(routing)
		}
		if alias != "" && alias != "null" {
			r.Alias = json.RawMessage(alias)
		}
		cur.RRSets = append(cur.RRSets, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("snapshot: record sets: %w", err)
	}
	if cur != nil {
		if err := emit(cur); err != nil {
			return err
		}
	}
	for i := range zones {
		if _, ok := byID[zones[i].ID]; ok {
			if err := emit(&zones[i]); err != nil {
				return err
			}
		}
	}
	if err := tx.Commit(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return fmt.Errorf("snapshot: commit: %w", err)
	}
	return nil
}

// WriteZoneSnapshot writes the JSON of one zone's event.ZoneState to w, for
// GET /v1/nameserver/zones/{id}. Like ZoneSnapshot it ignores tenancy.
func (s *Service) WriteZoneSnapshot(ctx context.Context, zoneID string, w io.Writer) error {
	var raw *rawZone
	err := s.eachSnapshotRaw(ctx, snapshotFilter{zoneID: zoneID}, nil, func(z rawZone) error {
		raw = &z
		return nil
	})
	if err != nil {
		return err
	}
	if raw == nil {
		return errNoSuchZone(zoneID)
	}
	_, err = w.Write(append(raw.appendJSON(nil), '\n'))
	return err
}

// snapshotCIDRCollections sets the CIDRCollections of every zone in zones
// whose record sets reference a CIDR collection.
func snapshotCIDRCollections(ctx context.Context, tx pgx.Tx, zoneID string, zones []rawZone) error {
	rows, _ := tx.Query(ctx, `SELECT DISTINCT zone_id, routing->'cidr_routing'->>'collection_id' FROM rrset
	        WHERE ($1 = '' OR zone_id = $1) AND routing ? 'cidr_routing' ORDER BY 1, 2`, zoneID)
	type ref struct{ zone, coll string }
	refs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ref, error) {
		var r ref
		return r, row.Scan(&r.zone, &r.coll)
	})
	if err != nil {
		return fmt.Errorf("snapshot: CIDR references: %w", err)
	}
	if len(refs) == 0 {
		return nil
	}
	var ids []string
	for _, r := range refs {
		if !slices.Contains(ids, r.coll) {
			ids = append(ids, r.coll)
		}
	}
	colls, err := loadCIDRCollections(ctx, tx, "", ids, false)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	per := map[string][]event.CIDRCollection{}
	for _, r := range refs {
		for _, c := range colls {
			if c.ID == r.coll {
				per[r.zone] = append(per[r.zone], c)
			}
		}
	}
	for i := range zones {
		if cs := per[zones[i].ID]; len(cs) > 0 {
			b, err := json.Marshal(cs)
			if err != nil {
				return fmt.Errorf("snapshot: encode CIDR collections: %w", err)
			}
			zones[i].CIDRCollections = b
		}
	}
	return nil
}
