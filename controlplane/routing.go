package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// rrsetColumns are the rrset columns scanStoredRRSet reads, in order.
const rrsetColumns = `name, type, set_identifier, ttl, records, rdata, routing, alias_target, health_check_id`

// MaxRoutedRRSets bounds the record sets of one name and type under a
// routing policy (Route 53: 100 for weighted, multivalue and the others).
const MaxRoutedRRSets = 100

// maxAliasDepth bounds how many aliases a chain may follow before the
// control plane calls it a loop; real chains are one or two deep.
const maxAliasDepth = 16

// routingColumns returns the routing, alias_target and health_check_id
// column values of rs; nil is NULL. The routing column holds the policy
// field of rs: its Routing without the fields that have columns of their
// own (NULL for simple record sets).
func routingColumns(rs zonecfg.RRSet) (routing, alias, hc *string) {
	r := rs.Routing
	r.HealthCheckID, r.Alias = "", nil
	if r != (zonecfg.Routing{}) {
		b, _ := json.Marshal(r)
		s := string(b)
		routing = &s
	}
	if rs.Alias != nil {
		b, _ := json.Marshal(rs.Alias)
		s := string(b)
		alias = &s
	}
	if rs.HealthCheckID != "" {
		s := rs.HealthCheckID
		hc = &s
	}
	return routing, alias, hc
}

// scanStoredRRSet reads the rrsetColumns of one row.
func scanStoredRRSet(row pgx.CollectableRow) (storedRRSet, error) {
	var rs storedRRSet
	var ttl int64
	var r *zonecfg.Routing
	var hc *string
	if err := row.Scan(&rs.Name, &rs.Type, &rs.SetIdentifier, &ttl, &rs.Records, &rs.RData, &r, &rs.Alias, &hc); err != nil {
		return rs, err
	}
	fillStoredRRSet(&rs, ttl, r, hc)
	return rs, nil
}

// fillStoredRRSet completes a record set scanned from rrsetColumns with
// its TTL, routing column and health check column.
func fillStoredRRSet(rs *storedRRSet, ttl int64, r *zonecfg.Routing, hc *string) {
	rs.TTL = uint32(ttl)
	if r != nil {
		alias := rs.Alias
		rs.Routing = *r
		rs.Alias = alias
	}
	if hc != nil {
		rs.HealthCheckID = *hc
	}
	if rs.Alias != nil {
		rs.Records, rs.RData = []string{}, []string{}
	}
}

// sameRouting reports whether two record sets have the same routing
// fields, health check and alias target: DELETE must match them too.
func sameRouting(a, b zonecfg.RRSet) bool { return a.Routing.Equal(b.Routing) }

// prepareRouting canonicalises the routing fields of rs (alias target name
// and zone id; codes as given) and checks them on their own. It returns a
// Route 53-style message, or "".
func prepareRouting(rs *zonecfg.RRSet, action Action) string {
	if a := rs.Alias; a != nil {
		if len(rs.Records) > 0 || rs.TTL != 0 {
			return fmt.Sprintf("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords]], but found more than one in Change with [Action=%s, Name=%s, Type=%s, SetIdentifier=%s]",
				action, rs.Name, rs.Type, orNull(rs.SetIdentifier))
		}
		n, err := zonecfg.CanonicalName(a.DNSName)
		if err != nil {
			return fmt.Sprintf("Invalid alias target name: %v", err)
		}
		id, ok := cleanID(a.HostedZoneID)
		if !ok {
			return fmt.Sprintf("Invalid alias target hosted zone id %q", truncate(a.HostedZoneID))
		}
		cp := *a
		cp.DNSName, cp.HostedZoneID = n, id
		rs.Alias = &cp
	}
	if err := rs.ValidateRouting(); err != nil {
		return "Invalid request: " + strings.TrimPrefix(err.Error(), zonecfg.ErrInvalidRecord.Error()+": ")
	}
	return ""
}

func orNull(s string) string {
	if s == "" {
		return "null"
	}
	return s
}

// policyConflict applies the rules between the record sets of one name and
// type (ROUTE53.md §4.9, §6.1) to rs, about to be created or replaced in
// the working copy: one policy for all of them, no repeated failover
// role, region, geolocation or CIDR location, one CIDR collection, at most
// MaxRoutedRRSets. The rule "simple beside routed" is conflict's.
func (wc *workingCopy) policyConflict(rs *storedRRSet) string {
	k := rs.Key()
	if k.SetIdentifier == "" {
		return ""
	}
	p := rs.Policy()
	n := 1
	prefix := fmt.Sprintf("RRSet with DNS name %s, type %s and SetIdentifier %s cannot be created", k.Name, k.Type, k.SetIdentifier)
	for ok, o := range wc.byName[k.Name] {
		if ok.Type != k.Type || ok == k || ok.SetIdentifier == "" {
			continue
		}
		n++
		op := o.Policy()
		if op != p {
			return fmt.Sprintf("%s because it uses the %s routing policy and the record set with SetIdentifier %s uses %s; all record sets of one name and type use the same policy",
				prefix, p, ok.SetIdentifier, op)
		}
		switch p {
		case zonecfg.PolicyFailover:
			if o.Failover == rs.Failover {
				return fmt.Sprintf("%s because the record set with SetIdentifier %s is already the %s failover record", prefix, ok.SetIdentifier, rs.Failover)
			}
		case zonecfg.PolicyLatency:
			if o.Region == rs.Region {
				return fmt.Sprintf("%s because the record set with SetIdentifier %s already uses region %s", prefix, ok.SetIdentifier, rs.Region)
			}
		case zonecfg.PolicyGeolocation:
			if *o.Geo == *rs.Geo {
				return fmt.Sprintf("%s because the record set with SetIdentifier %s already uses geolocation %s", prefix, ok.SetIdentifier, rs.Geo)
			}
		case zonecfg.PolicyCIDR:
			if o.CIDR.CollectionID != rs.CIDR.CollectionID {
				return fmt.Sprintf("%s because the record set with SetIdentifier %s uses CIDR collection %s; all record sets of one name and type use the same collection",
					prefix, ok.SetIdentifier, o.CIDR.CollectionID)
			}
			if o.CIDR.LocationName == rs.CIDR.LocationName {
				return fmt.Sprintf("%s because the record set with SetIdentifier %s already uses location %s", prefix, ok.SetIdentifier, rs.CIDR.LocationName)
			}
		}
	}
	if n > MaxRoutedRRSets {
		return fmt.Sprintf("%s because a name and type may have at most %d record sets with a routing policy", prefix, MaxRoutedRRSets)
	}
	return ""
}

// querier runs queries inside applyChanges' transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// aliasNode is one (zone, name, type): the unit an alias points at.
type aliasNode struct {
	zoneID, name, typ string
}

// routingRefs checks what the batch's record sets refer to outside the
// zone's record sets — health checks and CIDR collections, which must
// exist for the tenant — and returns the CIDR collections the final
// upserts reference (for the zone event). The rows read are locked FOR
// SHARE, so that a concurrent delete of a check or collection waits.
func routingRefs(ctx context.Context, q querier, tenantID string, changes []preparedChange, upserts []storedRRSet) ([]event.CIDRCollection, error) {
	var hcs, colls []string
	for _, c := range changes {
		if !c.ok || c.action == ActionDelete {
			continue
		}
		if id := c.set.HealthCheckID; id != "" && !slices.Contains(hcs, id) {
			hcs = append(hcs, id)
		}
		if r := c.set.CIDR; r != nil && !slices.Contains(colls, r.CollectionID) {
			colls = append(colls, r.CollectionID)
		}
	}
	for _, rs := range upserts {
		if r := rs.CIDR; r != nil && !slices.Contains(colls, r.CollectionID) {
			colls = append(colls, r.CollectionID)
		}
	}
	if len(hcs) > 0 {
		rows, _ := q.Query(ctx, `SELECT id FROM health_check WHERE tenant_id = $1 AND id = ANY($2::text[])
		                         AND deleted_at IS NULL FOR SHARE`, tenantID, hcs)
		found, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, fmt.Errorf("read health checks: %w", err)
		}
		for _, id := range hcs {
			if !slices.Contains(found, id) {
				return nil, Errorf(CodeNoSuchHealthCheck, "No health check found with ID %s (health_check_id of a record set in the change batch).", id)
			}
		}
	}
	if len(colls) == 0 {
		return nil, nil
	}
	got, err := loadCIDRCollections(ctx, q, tenantID, colls, true)
	if err != nil {
		return nil, err
	}
	for _, id := range colls {
		i := slices.IndexFunc(got, func(c event.CIDRCollection) bool { return c.ID == id })
		if i < 0 {
			return nil, Errorf(CodeNoSuchCidrCollection, "No CIDR collection found with ID %s (cidr_routing of a record set in the change batch).", id)
		}
	}
	for _, c := range changes {
		if !c.ok || c.action == ActionDelete || c.set.CIDR == nil || c.set.CIDR.LocationName == zonecfg.CIDRDefaultLocation {
			continue
		}
		i := slices.IndexFunc(got, func(x event.CIDRCollection) bool { return x.ID == c.set.CIDR.CollectionID })
		if _, ok := got[i].Locations[c.set.CIDR.LocationName]; !ok {
			return nil, Errorf(CodeNoSuchCidrLocation, "The CIDR collection %s has no location named %s.", c.set.CIDR.CollectionID, c.set.CIDR.LocationName)
		}
	}
	// Only the collections the final state references go into the event.
	out := got[:0]
	for _, c := range got {
		if slices.ContainsFunc(upserts, func(rs storedRRSet) bool { return rs.CIDR != nil && rs.CIDR.CollectionID == c.ID }) {
			out = append(out, c)
		}
	}
	return out, nil
}

// loadCIDRCollections reads the tenant's collections ids with their
// blocks (tenantID "" reads them whatever the tenant), locked FOR SHARE
// if lock.
func loadCIDRCollections(ctx context.Context, q querier, tenantID string, ids []string, lock bool) ([]event.CIDRCollection, error) {
	if lock {
		// Lock first, read after, in two statements: under READ COMMITTED
		// a statement that waited for the lock would still read the
		// blocks as they were before the change it waited for.
		rows, _ := q.Query(ctx, `SELECT id FROM cidr_collection WHERE ($1 = '' OR tenant_id = $1) AND id = ANY($2::text[])
		        ORDER BY id FOR SHARE`, tenantID, ids)
		if _, err := pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return nil, fmt.Errorf("lock CIDR collections: %w", err)
		}
	}
	rows, err := q.Query(ctx, `SELECT c.id, c.name, c.version, b.location_name, b.cidr::text
	        FROM cidr_collection c LEFT JOIN cidr_block b ON b.collection_id = c.id
	        WHERE ($1 = '' OR c.tenant_id = $1) AND c.id = ANY($2::text[])
	        ORDER BY c.id, b.location_name, b.cidr`, tenantID, ids)
	if err != nil {
		return nil, fmt.Errorf("read CIDR collections: %w", err)
	}
	defer rows.Close()
	var out []event.CIDRCollection
	for rows.Next() {
		var id, name string
		var version int64
		var loc, cidr *string
		if err := rows.Scan(&id, &name, &version, &loc, &cidr); err != nil {
			return nil, fmt.Errorf("read CIDR collections: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].ID != id {
			out = append(out, event.CIDRCollection{ID: id, Name: name, Version: version, Locations: map[string][]netip.Prefix{}})
		}
		if loc != nil && cidr != nil {
			p, err := netip.ParsePrefix(*cidr)
			if err != nil {
				return nil, fmt.Errorf("read CIDR collections: block %q: %w", *cidr, err)
			}
			c := &out[len(out)-1]
			c.Locations[*loc] = append(c.Locations[*loc], p)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read CIDR collections: %w", err)
	}
	return out, nil
}

// aliasGraph looks up record sets for alias checks: the working copy for
// the zone being changed where it holds the name, the database otherwise.
type aliasGraph struct {
	ctx      context.Context
	q        querier
	tenantID string
	zoneID   string
	wc       *workingCopy
	cache    map[aliasNode][]storedRRSet
	locked   map[string]bool // other zones share-locked
}

// sets returns the record sets at node, nil if there are none (or the zone
// is not the tenant's).
func (g *aliasGraph) sets(n aliasNode) ([]storedRRSet, error) {
	if n.zoneID == g.zoneID {
		if m, ok := g.wc.byName[n.name]; ok || g.wc.loadedName(n.name) {
			var out []storedRRSet
			for k, rs := range m {
				if k.Type == n.typ {
					out = append(out, *rs)
				}
			}
			return out, nil
		}
	}
	if v, ok := g.cache[n]; ok {
		return v, nil
	}
	if n.zoneID != g.zoneID && !g.locked[n.zoneID] {
		// A share lock on the other zone makes its batches wait for this
		// one (and this one for them): then an alias and the delete of
		// its target cannot both commit.
		rows, _ := g.q.Query(g.ctx, `SELECT id FROM hosted_zone WHERE id = $1 AND tenant_id = $2 FOR SHARE`, n.zoneID, g.tenantID)
		if _, err := pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return nil, fmt.Errorf("lock alias target zone: %w", err)
		}
		g.locked[n.zoneID] = true
	}
	rows, _ := g.q.Query(g.ctx, `SELECT `+rrsetColumns+` FROM rrset
	        WHERE zone_id = $1 AND sort_name = $2 AND type = $3
	          AND EXISTS (SELECT 1 FROM hosted_zone WHERE id = $1 AND tenant_id = $4)`,
		n.zoneID, zonecfg.SortKey(n.name), n.typ, g.tenantID)
	out, err := pgx.CollectRows(rows, scanStoredRRSet)
	if err != nil {
		return nil, fmt.Errorf("read alias target: %w", err)
	}
	g.cache[n] = out
	return out, nil
}

// checkAlias checks one alias record set of the zone being changed: its
// target exists (same type, a zone of the tenant), is not a CNAME at the
// apex, and following aliases from it never comes back (no loop).
func (g *aliasGraph) checkAlias(rs *storedRRSet) (string, error) {
	a := rs.Alias
	start := aliasNode{g.zoneID, rs.Name, rs.Type}
	target := aliasNode{a.HostedZoneID, a.DNSName, rs.Type}
	sets, err := g.sets(target)
	if err != nil {
		return "", err
	}
	if len(sets) == 0 {
		return fmt.Sprintf("Tried to create an alias that targets %s, type %s in zone %s, but that target was not found", a.DNSName, rs.Type, a.HostedZoneID), nil
	}
	// Depth-first over the alias graph: a node on the current path seen
	// again is a loop.
	path := []aliasNode{start}
	var walk func(n aliasNode, sets []storedRRSet) (string, error)
	walk = func(n aliasNode, sets []storedRRSet) (string, error) {
		if slices.Contains(path, n) {
			return fmt.Sprintf("The alias %s, type %s would form a loop: %s", rs.Name, rs.Type, formatPath(append(path, n))), nil
		}
		if len(path) > maxAliasDepth {
			return fmt.Sprintf("The alias %s, type %s follows more than %d aliases", rs.Name, rs.Type, maxAliasDepth), nil
		}
		path = append(path, n)
		defer func() { path = path[:len(path)-1] }()
		seen := map[aliasNode]bool{}
		for _, t := range sets {
			if t.Alias == nil {
				continue
			}
			next := aliasNode{t.Alias.HostedZoneID, t.Alias.DNSName, t.Type}
			if seen[next] {
				continue
			}
			seen[next] = true
			ns, err := g.sets(next)
			if err != nil || len(ns) == 0 {
				return "", err // a dangling alias further on is that alias's problem
			}
			if msg, err := walk(next, ns); msg != "" || err != nil {
				return msg, err
			}
		}
		return "", nil
	}
	return walk(target, sets)
}

func formatPath(p []aliasNode) string {
	parts := make([]string, len(p))
	for i, n := range p {
		parts[i] = fmt.Sprintf("%s %s (zone %s)", n.name, n.typ, n.zoneID)
	}
	return strings.Join(parts, " -> ")
}

// checkAliases applies the alias rules to a batch's outcome: every alias
// record set it creates or replaces has a live target and no loop, and no
// (name, type) it empties is still the target of an alias, in this zone or
// another of the tenant's. It returns details by change index.
func (s *Service) checkAliases(ctx context.Context, q querier, tenantID, zoneID string, wc *workingCopy) ([]Detail, error) {
	g := &aliasGraph{ctx: ctx, q: q, tenantID: tenantID, zoneID: zoneID, wc: wc, cache: map[aliasNode][]storedRRSet{}, locked: map[string]bool{}}
	var details []Detail
	emptied := map[aliasNode]bool{}
	for _, k := range wc.touched {
		cur := wc.get(k)
		if cur != nil && cur.Alias != nil {
			msg, err := g.checkAlias(cur)
			if err != nil {
				return nil, err
			}
			if msg != "" {
				details = append(details, indexDetail(wc.changeIndex[k], msg))
			}
		}
		if cur == nil {
			n := aliasNode{zoneID, k.Name, k.Type}
			if sets, _ := g.sets(n); len(sets) == 0 {
				emptied[n] = true
			}
		}
	}
	if len(emptied) == 0 {
		return details, nil
	}
	names, types := make([]string, 0, len(emptied)), make([]string, 0, len(emptied))
	for n := range emptied {
		names, types = append(names, n.name), append(types, n.typ)
	}
	rows, _ := q.Query(ctx, `SELECT r.zone_id, r.name, r.type, r.set_identifier, r.alias_target->>'dns_name'
	        FROM rrset r JOIN hosted_zone z ON z.id = r.zone_id
	        JOIN unnest($3::text[], $4::text[]) AS u(name, type)
	          ON r.alias_target->>'hosted_zone_id' = $2 AND r.alias_target->>'dns_name' = u.name AND r.type = u.type
	        WHERE r.alias_target IS NOT NULL AND z.tenant_id = $1`, tenantID, zoneID, names, types)
	type ref struct{ zoneID, name, typ, setID, target string }
	refs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ref, error) {
		var r ref
		err := row.Scan(&r.zoneID, &r.name, &r.typ, &r.setID, &r.target)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("read aliases: %w", err)
	}
	for _, r := range refs {
		// An alias of this zone that the batch deletes or re-points does
		// not count: the working copy is what will be.
		if r.zoneID == zoneID {
			cur := wc.get(zonecfg.Key{Name: r.name, Type: r.typ, SetIdentifier: r.setID})
			if wc.isTouch[zonecfg.Key{Name: r.name, Type: r.typ, SetIdentifier: r.setID}] &&
				(cur == nil || cur.Alias == nil || cur.Alias.HostedZoneID != zoneID || cur.Alias.DNSName != r.target) {
				continue
			}
		}
		// Attribute the problem to the last change that emptied the target.
		idx := -1
		for _, k := range wc.touched {
			if k.Name == r.target && k.Type == r.typ && wc.get(k) == nil {
				idx = wc.changeIndex[k]
			}
		}
		details = append(details, indexDetail(idx, fmt.Sprintf(
			"Tried to delete resource record set [name='%s', type='%s'] but the alias %s, type %s in zone %s still targets it; delete or change the alias first",
			r.target, r.typ, r.name, r.typ, r.zoneID)))
	}
	// A batch's own new aliases whose target it empties were reported by
	// checkAlias as not found.
	return details, nil
}
