package controlplane

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// Limits on CIDR collections, Route 53's.
const (
	MaxCIDRCollections       = 5    // per tenant
	MaxCIDRBlocks            = 1000 // per collection
	MaxCIDRCollectionName    = 64
	MaxCIDRCallerReference   = 64
	MaxCIDRChanges           = 1000 // location changes per request
	MaxCIDRIPv4PrefixLength  = 24
	MaxCIDRIPv6PrefixLength  = 48
	cidrChangeRetries        = 5
	cidrCollectionInUseLimit = 10 // zones named in an in-use message
)

// CIDRCollection is a collection's summary: Route 53's CollectionSummary.
type CIDRCollection struct {
	ID      string
	Name    string
	Version int64
}

// CIDRLocation is one named location of a collection with its block count.
type CIDRLocation struct {
	Name   string
	Blocks int
}

// CIDRBlock is one block of a collection and the location holding it.
type CIDRBlock struct {
	CIDR     netip.Prefix
	Location string
}

// CIDRChangeAction is what a location change does.
type CIDRChangeAction string

// The location change actions.
const (
	CIDRPut            CIDRChangeAction = "PUT"              // add blocks (creating the location)
	CIDRDeleteIfExists CIDRChangeAction = "DELETE_IF_EXISTS" // remove the listed blocks that exist
)

// CIDRChange is one location change of ChangeCIDRCollection. Blocks are
// raw input ("192.0.2.0/24").
type CIDRChange struct {
	LocationName string
	Action       CIDRChangeAction
	Blocks       []string
}

// CIDRChangeResult is what ChangeCIDRCollection did: the collection's new
// version and one change per hosted zone whose record sets use it (those
// zones get a new version carrying the collection to the nameservers;
// GetChange tells when they serve it).
type CIDRChangeResult struct {
	Collection CIDRCollection
	Changes    []ChangeInfo
}

func errNoSuchCIDRCollection(id string) *Error {
	return Errorf(CodeNoSuchCidrCollection, "No CIDR collection found with ID %s.", id)
}

// CreateCIDRCollection creates an empty collection. A retry with the same
// caller reference and name returns the existing collection (created
// false); a name or caller reference already used otherwise is
// CidrCollectionAlreadyExists.
func (s *Service) CreateCIDRCollection(ctx context.Context, tenantID, name, callerRef string) (CIDRCollection, bool, error) {
	if err := checkText("name", name, 1, MaxCIDRCollectionName); err != nil {
		return CIDRCollection{}, false, err
	}
	for _, c := range name {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return CIDRCollection{}, false, Errorf(CodeInvalidInput, "name may hold only letters, digits, '_' and '-'")
		}
	}
	if err := checkText("caller_reference", callerRef, 1, MaxCIDRCallerReference); err != nil {
		return CIDRCollection{}, false, err
	}
	var out CIDRCollection
	created := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// Serialise a tenant's creations so that the limit holds.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM tenant WHERE id = $1 FOR UPDATE`, tenantID); err != nil {
			return fmt.Errorf("lock tenant: %w", err)
		}
		var ref string
		err := tx.QueryRow(ctx, `SELECT id, name, version, caller_reference FROM cidr_collection
		        WHERE tenant_id = $1 AND (name = $2 OR caller_reference = $3)
		        ORDER BY (caller_reference = $3) DESC LIMIT 1`, tenantID, name, callerRef).
			Scan(&out.ID, &out.Name, &out.Version, &ref)
		switch {
		case err == nil && ref == callerRef && out.Name == name:
			return nil
		case err == nil && out.Name == name:
			return Errorf(CodeCidrCollectionAlreadyExists, "A CIDR collection named %s already exists (with another caller reference).", name)
		case err == nil:
			return Errorf(CodeCidrCollectionAlreadyExists, "The caller reference %s was already used to create the CIDR collection %s.", callerRef, out.ID)
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("read CIDR collections: %w", err)
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM cidr_collection WHERE tenant_id = $1`, tenantID).Scan(&n); err != nil {
			return fmt.Errorf("count CIDR collections: %w", err)
		}
		if n >= MaxCIDRCollections {
			return Errorf(CodeLimitsExceeded, "A tenant may have at most %d CIDR collections.", MaxCIDRCollections)
		}
		id, err := newUUID(s.cfg.Rand)
		if err != nil {
			return err
		}
		out = CIDRCollection{ID: id, Name: name, Version: 1}
		if _, err := tx.Exec(ctx, `INSERT INTO cidr_collection (id, tenant_id, name, caller_reference, version, created_at)
		        VALUES ($1, $2, $3, $4, 1, $5)`, id, tenantID, name, callerRef, s.now()); err != nil {
			return fmt.Errorf("create CIDR collection: %w", err)
		}
		created = true
		return nil
	})
	if err != nil {
		return CIDRCollection{}, false, err
	}
	return out, created, nil
}

// ListCIDRCollections returns the tenant's collections by name.
func (s *Service) ListCIDRCollections(ctx context.Context, tenantID string) ([]CIDRCollection, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, name, version FROM cidr_collection WHERE tenant_id = $1 ORDER BY name`, tenantID)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CIDRCollection, error) {
		var c CIDRCollection
		return c, row.Scan(&c.ID, &c.Name, &c.Version)
	})
	if err != nil {
		return nil, fmt.Errorf("list CIDR collections: %w", err)
	}
	return out, nil
}

// cidrID checks the form of a collection id (a lowercase UUID).
func cidrID(id string) (string, bool) {
	id = strings.ToLower(strings.TrimSpace(id))
	if len(id) != 36 {
		return "", false
	}
	for i, c := range id {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return "", false
			}
		}
	}
	return id, true
}

// GetCIDRCollection returns one collection with its locations.
func (s *Service) GetCIDRCollection(ctx context.Context, tenantID, id string) (CIDRCollection, []CIDRLocation, error) {
	cid, ok := cidrID(id)
	if !ok {
		return CIDRCollection{}, nil, errNoSuchCIDRCollection(id)
	}
	var c CIDRCollection
	err := s.pool.QueryRow(ctx, `SELECT id, name, version FROM cidr_collection WHERE id = $1 AND tenant_id = $2`, cid, tenantID).
		Scan(&c.ID, &c.Name, &c.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, nil, errNoSuchCIDRCollection(cid)
	}
	if err != nil {
		return c, nil, fmt.Errorf("read CIDR collection: %w", err)
	}
	rows, _ := s.pool.Query(ctx, `SELECT location_name, count(*) FROM cidr_block WHERE collection_id = $1
	        GROUP BY location_name ORDER BY location_name`, cid)
	locs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CIDRLocation, error) {
		var l CIDRLocation
		return l, row.Scan(&l.Name, &l.Blocks)
	})
	if err != nil {
		return c, nil, fmt.Errorf("read CIDR locations: %w", err)
	}
	return c, locs, nil
}

// ListCIDRBlocks returns a collection's blocks, of one location if
// location is not "", ordered by location then block.
func (s *Service) ListCIDRBlocks(ctx context.Context, tenantID, id, location string) ([]CIDRBlock, error) {
	if _, _, err := s.GetCIDRCollection(ctx, tenantID, id); err != nil {
		return nil, err
	}
	cid, _ := cidrID(id)
	if location != "" {
		if err := zonecfg.CheckLocationName(location, false); err != nil {
			return nil, Errorf(CodeInvalidInput, "%s", strings.TrimPrefix(err.Error(), zonecfg.ErrInvalidRecord.Error()+": "))
		}
	}
	rows, _ := s.pool.Query(ctx, `SELECT cidr::text, location_name FROM cidr_block
	        WHERE collection_id = $1 AND ($2 = '' OR location_name = $2) ORDER BY location_name, cidr`, cid, location)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CIDRBlock, error) {
		var b CIDRBlock
		var c string
		if err := row.Scan(&c, &b.Location); err != nil {
			return b, err
		}
		p, err := netip.ParsePrefix(c)
		b.CIDR = p
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("list CIDR blocks: %w", err)
	}
	if location != "" && len(out) == 0 {
		return nil, Errorf(CodeNoSuchCidrLocation, "The CIDR collection %s has no location named %s.", cid, location)
	}
	return out, nil
}

// DeleteCIDRCollection deletes a collection that no record set uses
// (CidrCollectionInUse otherwise), whatever its locations.
func (s *Service) DeleteCIDRCollection(ctx context.Context, tenantID, id string) error {
	cid, ok := cidrID(id)
	if !ok {
		return errNoSuchCIDRCollection(id)
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var found bool
		err := tx.QueryRow(ctx, `SELECT true FROM cidr_collection WHERE id = $1 AND tenant_id = $2 FOR UPDATE`, cid, tenantID).Scan(&found)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoSuchCIDRCollection(cid)
		}
		if err != nil {
			return fmt.Errorf("delete CIDR collection: %w", err)
		}
		// Change batches read the collection FOR SHARE after adding a
		// reference, so a reference is either visible here or waits.
		users, err := cidrUsers(ctx, tx, cid)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return Errorf(CodeCidrCollectionInUse, "The CIDR collection %s is used by record sets in hosted zone(s) %s.", cid, strings.Join(limitList(users), ", "))
		}
		if _, err := tx.Exec(ctx, `DELETE FROM cidr_collection WHERE id = $1`, cid); err != nil {
			return fmt.Errorf("delete CIDR collection: %w", err)
		}
		return nil
	})
}

func limitList(ss []string) []string {
	if len(ss) > cidrCollectionInUseLimit {
		return append(ss[:cidrCollectionInUseLimit:cidrCollectionInUseLimit], "…")
	}
	return ss
}

// cidrUsers returns the ids of the zones whose record sets use collection
// id, in id order.
func cidrUsers(ctx context.Context, q querier, id string) ([]string, error) {
	rows, _ := q.Query(ctx, `SELECT DISTINCT zone_id FROM rrset
	        WHERE routing ? 'cidr_routing' AND routing->'cidr_routing'->>'collection_id' = $1 ORDER BY zone_id`, id)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read CIDR collection users: %w", err)
	}
	return out, nil
}

// errRetryCIDRChange asks ChangeCIDRCollection to start again: a zone
// began using the collection between its look-up and its locks.
var errRetryCIDRChange = errors.New("CIDR collection users changed")

// ChangeCIDRCollection applies location changes to a collection in one
// transaction. If version is not nil it must be the collection's current
// version (CidrCollectionVersionMismatch otherwise). Blocks are IPv4 /1 to
// /24 or IPv6 /1 to /48 in canonical form; a block belongs to one location
// of a collection; a collection holds at most MaxCIDRBlocks. A location
// that record sets use may not lose its last block (CidrBlockInUse).
//
// Every zone whose record sets use the collection gets a zone.updated
// event carrying the new content (event.CIDRCollection), and a change.
func (s *Service) ChangeCIDRCollection(ctx context.Context, tenantID, id string, version *int64, changes []CIDRChange) (CIDRChangeResult, error) {
	cid, ok := cidrID(id)
	if !ok {
		return CIDRChangeResult{}, errNoSuchCIDRCollection(id)
	}
	puts, dels, err := prepareCIDRChanges(changes)
	if err != nil {
		return CIDRChangeResult{}, err
	}
	for attempt := 0; ; attempt++ {
		res, err := s.changeCIDRCollection(ctx, tenantID, cid, version, puts, dels)
		if errors.Is(err, errRetryCIDRChange) && attempt < cidrChangeRetries {
			continue
		}
		if errors.Is(err, errRetryCIDRChange) {
			return res, Errorf(CodePriorRequestNotComplete, "The CIDR collection's users kept changing; retry the request.")
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "55P03" {
			return res, Errorf(CodePriorRequestNotComplete,
				"The request was rejected because a prior request for a hosted zone using this CIDR collection was still being processed.")
		}
		return res, err
	}
}

// cidrKey is one block of one location.
type cidrKey struct {
	loc  string
	cidr netip.Prefix
}

func prepareCIDRChanges(changes []CIDRChange) (puts, dels []cidrKey, err error) {
	if len(changes) == 0 {
		return nil, nil, Errorf(CodeInvalidInput, "changes must hold at least one location change.")
	}
	if len(changes) > MaxCIDRChanges {
		return nil, nil, Errorf(CodeInvalidInput, "changes may hold at most %d location changes.", MaxCIDRChanges)
	}
	var details []Detail
	total := 0
	for i, c := range changes {
		bad := func(format string, args ...any) {
			details = append(details, Detail{Index: new(i), Message: fmt.Sprintf(format, args...)})
		}
		if err := zonecfg.CheckLocationName(c.LocationName, false); err != nil {
			bad("%s", strings.TrimPrefix(err.Error(), zonecfg.ErrInvalidRecord.Error()+": "))
			continue
		}
		if c.Action != CIDRPut && c.Action != CIDRDeleteIfExists {
			bad("action must be PUT or DELETE_IF_EXISTS")
			continue
		}
		if len(c.Blocks) == 0 {
			bad("cidr_list must hold at least one block")
			continue
		}
		if total += len(c.Blocks); total > MaxCIDRBlocks {
			return nil, nil, Errorf(CodeLimitsExceeded, "A request may carry at most %d CIDR blocks.", MaxCIDRBlocks)
		}
		for _, raw := range c.Blocks {
			p, err := netip.ParsePrefix(strings.TrimSpace(raw))
			switch {
			case err != nil || p.Addr().Zone() != "":
				bad("%q is not a CIDR block", raw)
				continue
			case p.Addr().Is4In6():
				bad("%q: write IPv4 blocks in dotted form", raw)
				continue
			case p != p.Masked():
				bad("%q has host bits set; the block is %s", raw, p.Masked())
				continue
			case p.Addr().Is4() && (p.Bits() < 1 || p.Bits() > MaxCIDRIPv4PrefixLength):
				bad("%q: IPv4 blocks are /1 to /%d (use location \"*\" in a record set for everything else)", raw, MaxCIDRIPv4PrefixLength)
				continue
			case p.Addr().Is6() && (p.Bits() < 1 || p.Bits() > MaxCIDRIPv6PrefixLength):
				bad("%q: IPv6 blocks are /1 to /%d", raw, MaxCIDRIPv6PrefixLength)
				continue
			}
			k := cidrKey{c.LocationName, p}
			if c.Action == CIDRPut {
				puts = append(puts, k)
			} else {
				dels = append(dels, k)
			}
		}
	}
	if len(details) > 0 {
		msgs := make([]string, len(details))
		for i, d := range details {
			msgs[i] = d.Message
		}
		return nil, nil, &Error{Code: CodeInvalidInput, Message: "[" + strings.Join(msgs, ", ") + "]", Details: details}
	}
	return puts, dels, nil
}

func (s *Service) changeCIDRCollection(ctx context.Context, tenantID, cid string, version *int64, puts, dels []cidrKey) (CIDRChangeResult, error) {
	var res CIDRChangeResult
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('lock_timeout', $1, true)`, fmt.Sprintf("%dms", zoneLockTimeout.Milliseconds())); err != nil {
			return err
		}
		// Lock order: zones, then the collection, as change batches do,
		// so that the two never deadlock.
		users, err := cidrUsers(ctx, tx, cid)
		if err != nil {
			return err
		}
		type zoneRow struct {
			id, name string
			version  int64
		}
		var zones []zoneRow
		for _, z := range users {
			var r zoneRow
			err := tx.QueryRow(ctx, `SELECT id, name, version FROM hosted_zone WHERE id = $1 FOR NO KEY UPDATE`, z).Scan(&r.id, &r.name, &r.version)
			if errors.Is(err, pgx.ErrNoRows) {
				continue // deleted meanwhile
			}
			if err != nil {
				return fmt.Errorf("lock hosted zone: %w", err)
			}
			zones = append(zones, r)
		}
		var c CIDRCollection
		err = tx.QueryRow(ctx, `SELECT id, name, version FROM cidr_collection WHERE id = $1 AND tenant_id = $2 FOR UPDATE`, cid, tenantID).
			Scan(&c.ID, &c.Name, &c.Version)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoSuchCIDRCollection(cid)
		}
		if err != nil {
			return fmt.Errorf("lock CIDR collection: %w", err)
		}
		if version != nil && *version != c.Version {
			return Errorf(CodeCidrCollectionVersionMismatch,
				"The CIDR collection %s is at version %d, not %d: it was changed meanwhile; read it again.", cid, c.Version, *version)
		}
		again, err := cidrUsers(ctx, tx, cid)
		if err != nil {
			return err
		}
		if !slices.Equal(again, users) {
			return errRetryCIDRChange
		}
		if err := applyCIDRBlocks(ctx, tx, cid, puts, dels); err != nil {
			return err
		}
		c.Version++
		if _, err := tx.Exec(ctx, `UPDATE cidr_collection SET version = $2 WHERE id = $1`, cid, c.Version); err != nil {
			return fmt.Errorf("update CIDR collection: %w", err)
		}
		res.Collection = c
		if len(zones) == 0 {
			return nil
		}
		colls, err := loadCIDRCollections(ctx, tx, tenantID, []string{cid}, false)
		if err != nil {
			return err
		}
		for _, z := range zones {
			if _, err := tx.Exec(ctx, `UPDATE hosted_zone SET version = version + 1 WHERE id = $1`, z.id); err != nil {
				return fmt.Errorf("update hosted zone: %w", err)
			}
			ev := event.ZoneEvent{Kind: event.ZoneUpdated, ZoneID: z.id, ZoneName: z.name,
				FromVersion: z.version, ToVersion: z.version + 1, CIDRCollections: colls}
			info, err := s.recordChange(ctx, tx, tenantID, fmt.Sprintf("CIDR collection %s version %d", c.Name, c.Version), ev)
			if err != nil {
				return err
			}
			res.Changes = append(res.Changes, info)
		}
		return nil
	})
	return res, err
}

// applyCIDRBlocks writes the blocks of one change request and checks the
// collection's rules on the result.
func applyCIDRBlocks(ctx context.Context, tx pgx.Tx, cid string, puts, dels []cidrKey) error {
	rows, _ := tx.Query(ctx, `SELECT location_name, cidr::text FROM cidr_block WHERE collection_id = $1`, cid)
	cur, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (cidrKey, error) {
		var k cidrKey
		var c string
		if err := row.Scan(&k.loc, &c); err != nil {
			return k, err
		}
		p, err := netip.ParsePrefix(c)
		k.cidr = p
		return k, err
	})
	if err != nil {
		return fmt.Errorf("read CIDR blocks: %w", err)
	}
	blocks := map[netip.Prefix]string{}
	for _, k := range cur {
		blocks[k.cidr] = k.loc
	}
	before := locationsOf(blocks)
	for _, k := range dels {
		if blocks[k.cidr] == k.loc {
			delete(blocks, k.cidr)
		}
	}
	for _, k := range puts {
		if l, ok := blocks[k.cidr]; ok && l != k.loc {
			return Errorf(CodeInvalidInput, "The CIDR block %s is already in location %s of this collection; a block belongs to one location.", k.cidr, l)
		}
		blocks[k.cidr] = k.loc
	}
	if len(blocks) > MaxCIDRBlocks {
		return Errorf(CodeLimitsExceeded, "A CIDR collection may hold at most %d blocks.", MaxCIDRBlocks)
	}
	after := locationsOf(blocks)
	var gone []string
	for l := range before {
		if !after[l] {
			gone = append(gone, l)
		}
	}
	if len(gone) > 0 {
		var used []string
		rows, _ := tx.Query(ctx, `SELECT DISTINCT routing->'cidr_routing'->>'location_name' FROM rrset
		        WHERE routing ? 'cidr_routing' AND routing->'cidr_routing'->>'collection_id' = $1
		          AND routing->'cidr_routing'->>'location_name' = ANY($2::text[])`, cid, gone)
		used, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("read CIDR location users: %w", err)
		}
		if len(used) > 0 {
			slices.Sort(used)
			return Errorf(CodeCidrBlockInUse, "The change would remove the last block of location(s) %s, which record sets use.", strings.Join(used, ", "))
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM cidr_block WHERE collection_id = $1`, cid); err != nil {
		return fmt.Errorf("write CIDR blocks: %w", err)
	}
	locs, cidrs := make([]string, 0, len(blocks)), make([]string, 0, len(blocks))
	for p, l := range blocks {
		locs, cidrs = append(locs, l), append(cidrs, p.String())
	}
	if _, err := tx.Exec(ctx, `INSERT INTO cidr_block (collection_id, location_name, cidr)
	        SELECT $1, u.l, u.c::cidr FROM unnest($2::text[], $3::text[]) AS u(l, c)`, cid, locs, cidrs); err != nil {
		return fmt.Errorf("write CIDR blocks: %w", err)
	}
	return nil
}

func locationsOf(blocks map[netip.Prefix]string) map[string]bool {
	m := map[string]bool{}
	for _, l := range blocks {
		m[l] = true
	}
	return m
}
