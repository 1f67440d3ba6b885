package controlplane

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/waymark-dns/waymark/zonecfg"
)

// Page sizes of ListRRSets, as Route 53's ListResourceRecordSets.
const (
	DefaultRRSetPageSize = 100
	MaxRRSetPageSize     = 300
)

// ListRRSetsInput is a position in a zone's record sets, which are listed in
// Route 53's order: name with its labels reversed, then type mnemonic, then
// set identifier, all compared as bytes. Name, Type and Identifier are a
// start position, not a filter (ROUTE53.md §5): Type needs Name and
// Identifier needs Type. Values are raw; they are canonicalised here.
type ListRRSetsInput struct {
	Name       string
	Type       string
	Identifier string
	MaxItems   int
}

// RRSetPage is one page of ListRRSets. The record values are returned as
// they were submitted. NextName, NextType and NextIdentifier are the key of
// the first record set of the next page, set only when IsTruncated (and
// NextIdentifier only when that set has one). MaxItems is the page size
// actually used.
type RRSetPage struct {
	RRSets         []zonecfg.RRSet
	IsTruncated    bool
	NextName       string
	NextType       string
	NextIdentifier string
	MaxItems       int
}

// ListRRSets returns a page of a zone's record sets.
func (s *Service) ListRRSets(ctx context.Context, tenantID, zoneID string, in ListRRSetsInput) (RRSetPage, error) {
	id, ok := cleanID(zoneID)
	if !ok {
		return RRSetPage{}, errNoSuchZone(displayID(zoneID))
	}
	max := in.MaxItems
	switch {
	case max < 0:
		return RRSetPage{}, Errorf(CodeInvalidInput, "MaxItems must not be negative")
	case max == 0:
		max = DefaultRRSetPageSize
	case max > MaxRRSetPageSize:
		max = MaxRRSetPageSize
	}
	var startName, startType string
	if in.Name != "" {
		n, err := zonecfg.CanonicalName(in.Name)
		if err != nil {
			return RRSetPage{}, Errorf(CodeInvalidInput, "Invalid StartRecordName: %v", err)
		}
		startName = zonecfg.SortKey(n)
	}
	if in.Type != "" {
		if in.Name == "" {
			return RRSetPage{}, Errorf(CodeInvalidInput, "StartRecordType requires StartRecordName")
		}
		t, _, err := zonecfg.ParseType(in.Type)
		if err != nil {
			return RRSetPage{}, Errorf(CodeInvalidInput, "Invalid StartRecordType: %v", err)
		}
		startType = t
	}
	if in.Identifier != "" {
		if in.Type == "" {
			return RRSetPage{}, Errorf(CodeInvalidInput, "StartRecordIdentifier requires StartRecordName and StartRecordType")
		}
		if err := checkText("StartRecordIdentifier", in.Identifier, 1, MaxSetIdentifierLength); err != nil {
			return RRSetPage{}, err
		}
	}

	var found bool
	var sets []zonecfg.RRSet
	b := &pgx.Batch{}
	b.Queue(`SELECT EXISTS (SELECT 1 FROM hosted_zone WHERE id = $1 AND tenant_id = $2)`, id, tenantID).
		QueryRow(func(row pgx.Row) error { return row.Scan(&found) })
	// A position is a row comparison on the primary key, so every page is
	// an index range scan however deep it starts.
	b.Queue(`SELECT `+rrsetColumns+` FROM rrset
	         WHERE zone_id = $1 AND (sort_name, type, set_identifier) >= ($2, $3, $4)
	           AND EXISTS (SELECT 1 FROM hosted_zone WHERE id = $1 AND tenant_id = $6)
	         ORDER BY sort_name, type, set_identifier LIMIT $5`,
		id, startName, startType, in.Identifier, max+1, tenantID).
		Query(func(rows pgx.Rows) error {
			var err error
			sets, err = pgx.CollectRows(rows, scanRRSet)
			return err
		})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return RRSetPage{}, fmt.Errorf("list record sets: %w", err)
	}
	if !found {
		return RRSetPage{}, errNoSuchZone(id)
	}
	page := RRSetPage{MaxItems: max, RRSets: sets}
	if len(sets) > max {
		next := sets[max]
		page.RRSets = sets[:max]
		page.IsTruncated = true
		page.NextName, page.NextType, page.NextIdentifier = next.Name, next.Type, next.SetIdentifier
	}
	return page, nil
}

// storedRRSet is a record set as the rrset table holds it: the records as
// submitted (what listings return, so that clients can diff against what
// they sent) and their canonical RDATA in the same order (what DELETE
// compares and what the nameservers receive).
type storedRRSet struct {
	zonecfg.RRSet
	RData []string
}

func scanRRSet(row pgx.CollectableRow) (zonecfg.RRSet, error) {
	rs, err := scanStoredRRSet(row)
	return rs.RRSet, err
}

// queueLoadRRSets queues the read of every record set of the tenant's
// zone zoneID at the given canonical names; into receives them.
func queueLoadRRSets(b *pgx.Batch, tenantID, zoneID string, names []string, into *[]storedRRSet) {
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = zonecfg.SortKey(n)
	}
	b.Queue(`SELECT `+rrsetColumns+` FROM rrset
	         WHERE zone_id = $1 AND sort_name = ANY($2::text[])
	           AND EXISTS (SELECT 1 FROM hosted_zone WHERE id = $1 AND tenant_id = $3)`, zoneID, keys, tenantID).
		Query(func(rows pgx.Rows) error {
			var err error
			*into, err = pgx.CollectRows(rows, scanStoredRRSet)
			return err
		})
}

// queueUpserts queues one statement that creates or replaces sets, marking
// them as written by version.
func queueUpserts(b *pgx.Batch, zoneID string, version int64, sets []storedRRSet) {
	if len(sets) == 0 {
		return
	}
	n := len(sets)
	sortNames, names, types, ids := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	ttls := make([]int64, n)
	records, rdata := make([]string, n), make([]string, n)
	routing, alias, hc := make([]*string, n), make([]*string, n), make([]*string, n)
	for i, rs := range sets {
		sortNames[i], names[i], types[i], ids[i] = zonecfg.SortKey(rs.Name), rs.Name, rs.Type, rs.SetIdentifier
		ttls[i] = int64(rs.TTL)
		records[i] = mustJSON(rs.Records)
		rdata[i] = mustJSON(rs.RData)
		routing[i], alias[i], hc[i] = routingColumns(rs.RRSet)
	}
	b.Queue(`INSERT INTO rrset (zone_id, sort_name, name, type, set_identifier, ttl, records, rdata,
	                            routing, alias_target, health_check_id, updated_version)
	         SELECT $1, u.sort_name, u.name, u.type, u.set_identifier, u.ttl, u.records::jsonb, u.rdata::jsonb,
	                u.routing::jsonb, u.alias_target::jsonb, u.health_check_id, $2
	         FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[],
	                     $10::text[], $11::text[], $12::text[])
	              AS u(sort_name, name, type, set_identifier, ttl, records, rdata, routing, alias_target, health_check_id)
	         ON CONFLICT (zone_id, sort_name, type, set_identifier) DO UPDATE
	         SET name = EXCLUDED.name, ttl = EXCLUDED.ttl, records = EXCLUDED.records,
	             rdata = EXCLUDED.rdata, routing = EXCLUDED.routing, alias_target = EXCLUDED.alias_target,
	             health_check_id = EXCLUDED.health_check_id, updated_version = EXCLUDED.updated_version`,
		zoneID, version, sortNames, names, types, ids, ttls, records, rdata, routing, alias, hc)
}

// queueDeletes queues one statement that deletes the record sets keys.
func queueDeletes(b *pgx.Batch, zoneID string, keys []zonecfg.Key) {
	if len(keys) == 0 {
		return
	}
	sortNames, types, ids := make([]string, len(keys)), make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		sortNames[i], types[i], ids[i] = zonecfg.SortKey(k.Name), k.Type, k.SetIdentifier
	}
	b.Queue(`DELETE FROM rrset r
	         USING unnest($2::text[], $3::text[], $4::text[]) AS u(sort_name, type, set_identifier)
	         WHERE r.zone_id = $1 AND r.sort_name = u.sort_name AND r.type = u.type
	           AND r.set_identifier = u.set_identifier`,
		zoneID, sortNames, types, ids)
}

// eventRRSets returns sets as the nameservers receive them: with canonical
// RDATA, which parses the same whatever the origin.
func eventRRSets(sets []storedRRSet) []zonecfg.RRSet {
	out := make([]zonecfg.RRSet, len(sets))
	for i, rs := range sets {
		out[i] = rs.RRSet
		out[i].Records = rs.RData
	}
	return out
}

// mustJSON encodes strings as a JSON array; []string always encodes
// (invalid UTF-8 was refused before).
func mustJSON(v []string) string {
	b, _ := json.Marshal(v)
	return string(b)
}
