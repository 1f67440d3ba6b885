package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/dnssec"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// Limits on hosted-zone fields, from Route 53's model.
const (
	MaxCallerReferenceLength = 128
	MaxCommentLength         = 256
	// DefaultZonePageSize and MaxZonePageSize bound ListZones pages, as
	// ListHostedZonesByName does.
	DefaultZonePageSize = 100
	MaxZonePageSize     = 100
)

// Apex defaults of a new zone, Route 53's: NS TTL two days, SOA TTL 15
// minutes with refresh 7200, retry 900, expire 1209600 and minimum 86400.
const (
	apexNSTTL  = 172800
	apexSOATTL = 900
)

// Zone is a hosted zone.
type Zone struct {
	ID              string
	Name            string // canonical: lowercase, trailing dot, punycode
	CallerReference string
	Comment         string
	// Version is bumped by every committed change batch; the nameservers
	// serve it as the SOA serial.
	Version    int64
	RRSetCount int
	CreatedAt  time.Time
	// DelegationSetID is the zone's delegation set (delegation.go).
	DelegationSetID string
	// NameServers are the set's published names: the names to configure
	// at the registrar.
	NameServers []string
	// PoolNames are the pool names the zone is served on, in the same
	// order as NameServers.
	PoolNames []string
	// Secondary is set on a secondary zone (secondary.go), with the
	// status of its last transfer.
	Secondary       *SecondaryConfig
	SecondaryStatus SecondaryStatus
}

// CreateZoneInput is what a caller gives to create a hosted zone. Fields
// are raw: CreateZone canonicalises and validates them.
type CreateZoneInput struct {
	Name            string
	CallerReference string
	Comment         string
	// DelegationSetID, optional, puts the zone on one of the tenant's
	// reusable delegation sets instead of a new set from the pool.
	DelegationSetID string
	// Secondary, optional, makes the zone a secondary of primaries
	// outside Waymark (secondary.go).
	Secondary *SecondaryConfig
}

// ListZonesInput is a position in the tenant's zones, ordered the way
// Route 53's ListHostedZonesByName orders them: by name with its labels
// reversed (com.example.www.), then by id. StartName is a position, not a
// filter: the page begins at the first zone at or after it. StartID breaks
// ties between zones of the same name and needs StartName.
type ListZonesInput struct {
	StartName string
	StartID   string
	MaxItems  int
}

// ZonePage is one page of ListZones. NextName and NextID are the position
// of the first zone of the next page, set only when IsTruncated. MaxItems
// is the page size actually used.
type ZonePage struct {
	Zones       []Zone
	IsTruncated bool
	NextName    string
	NextID      string
	MaxItems    int
}

// CreateZone creates a hosted zone with its apex SOA and NS record sets and
// returns it with the change that publishes it to the nameservers.
//
// Rules: the name must have at least two labels, may not be a wildcard, a
// public suffix, a reserved name or in the fleet's own domain
// (InvalidDomainName). The zone gets a delegation set sharing no name
// server with any zone at, above or below its name, whoever hosts it; when
// the pool has none left, or the reusable set asked for shares one,
// creation fails with ConflictingDomainExists. The caller reference is
// unique per tenant and never reused (HostedZoneAlreadyExists).
// docs/controlplane.md and docs/delegation.md explain these choices.
func (s *Service) CreateZone(ctx context.Context, tenantID string, in CreateZoneInput) (Zone, ChangeInfo, error) {
	p, err := s.prepareCreateZone(tenantID, in, false)
	if err != nil {
		return Zone{}, ChangeInfo{}, err
	}
	if err := s.txInTwoTrips(ctx, p.read, p.write); err != nil {
		return Zone{}, ChangeInfo{}, createZoneError(err)
	}
	s.wakeRelay()
	return *p.zone, *p.info, nil
}

// zoneTrips is a zone creation ready to run: the statements of its two
// round trips and, once write has succeeded, the zone and its change.
type zoneTrips struct {
	read  func(*pgx.Batch)
	write func(*pgx.Batch) error
	zone  *Zone
	info  *ChangeInfo
}

// createZoneError maps a failed creation's error.
func createZoneError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		// The tenant row lock makes this unreachable, but a unique
		// violation must never read as an internal error.
		return errCallerReferenceUsed()
	}
	return err
}

// prepareCreateZone validates in and builds the transaction of CreateZone.
// tld allows a top-level domain and skips the hosting rules of
// checkZoneName: only the registry's TLD zones (ZoneTx.CreateTLDZone).
func (s *Service) prepareCreateZone(tenantID string, in CreateZoneInput, tld bool) (*zoneTrips, error) {
	var name string
	var err error
	if tld {
		name, err = validateTLDName(in.Name)
	} else {
		name, err = validateZoneName(in.Name)
	}
	if err != nil {
		return nil, err
	}
	if !tld {
		if err := s.checkZoneName(name); err != nil {
			return nil, err
		}
	}
	var reuseID string
	if in.DelegationSetID != "" {
		id, ok := cleanID(in.DelegationSetID)
		if !ok {
			return nil, errNoSuchDelegationSet(displayID(in.DelegationSetID))
		}
		reuseID = id
	}
	if err := checkText("CallerReference", in.CallerReference, 1, MaxCallerReferenceLength); err != nil {
		return nil, err
	}
	if err := checkText("Comment", in.Comment, 0, MaxCommentLength); err != nil {
		return nil, err
	}
	secondary, err := normSecondary(in.Secondary)
	if err != nil {
		return nil, err
	}
	var secondaryJSON []byte
	var keysWanted []string
	if secondary != nil {
		if tld {
			return nil, Errorf(CodeInvalidInput, "A top-level domain zone cannot be a secondary zone.")
		}
		keysWanted = secondaryKeys(secondary)
		if secondaryJSON, err = json.Marshal(secondary); err != nil {
			return nil, err
		}
	}
	id, err := s.newID(prefixZone)
	if err != nil {
		return nil, err
	}
	setID, err := s.newID(prefixDelegationSet)
	if err != nil {
		return nil, err
	}

	// Two round trips. The reads lock the tenant row (serialising its
	// quota and caller references), take the name lock, then look for
	// overlapping zones with a snapshot taken after the lock.
	var quota *int32
	var count int
	var refUsed, found bool
	var overlaps []overlapping
	var reuse *DelegationSet
	keysFound := map[string]sealedTSIGKey{}
	read := func(b *pgx.Batch) {
		b.Queue(`SELECT zone_quota,
		           (SELECT count(*) FROM hosted_zone WHERE tenant_id = $1),
		           EXISTS (SELECT 1 FROM hosted_zone WHERE tenant_id = $1 AND caller_reference = $2)
		         FROM tenant WHERE id = $1 FOR UPDATE`, tenantID, in.CallerReference).
			QueryRow(func(row pgx.Row) error {
				err := row.Scan(&quota, &count, &refUsed)
				if errors.Is(err, pgx.ErrNoRows) {
					return nil
				}
				found = err == nil
				return err
			})
		// The reusable set's row lock comes before the advisory lock
		// (controlplane/locks.go): a concurrent DeleteDelegationSet
		// then either finds the zone or is seen to have won.
		if reuseID != "" {
			b.Queue(`SELECT `+delegationSetColumns+` FROM delegation_set WHERE id = $1 AND tenant_id = $2 FOR SHARE`,
				reuseID, tenantID).QueryRow(func(row pgx.Row) error {
				d, err := scanDelegationSet(row)
				if errors.Is(err, pgx.ErrNoRows) {
					return nil
				}
				reuse = &d
				return err
			})
		}
		if len(keysWanted) > 0 {
			// FOR SHARE: a concurrent DeleteTSIGKey waits for the zone.
			b.Queue(`SELECT name, algorithm, sealed_secret FROM tsig_key WHERE tenant_id = $1 AND name = ANY($2) FOR SHARE`,
				tenantID, keysWanted).Query(func(rows pgx.Rows) error {
				for rows.Next() {
					var n string
					var k sealedTSIGKey
					if err := rows.Scan(&n, &k.algorithm, &k.sealed); err != nil {
						return err
					}
					keysFound[n] = k
				}
				return rows.Err()
			})
		}
		queueZoneLocks(b, name)
		queueOverlapping(b, name, &overlaps)
	}
	var zone Zone
	var info ChangeInfo
	write := func(wb *pgx.Batch) error {
		if !found {
			return Errorf(CodeNoSuchTenant, "no tenant found with id %s", tenantID)
		}
		if refUsed {
			return errCallerReferenceUsed()
		}
		limit := s.cfg.DefaultZoneQuota
		if quota != nil {
			limit = int(*quota)
		}
		if count >= limit {
			return Errorf(CodeTooManyHostedZones,
				"This account has reached the limit of %d hosted zones.", limit)
		}
		for _, k := range keysWanted {
			if _, ok := keysFound[k]; !ok {
				return Errorf(CodeNoSuchTSIGKey, "No TSIG key named %s.", k)
			}
		}
		// A secondary zone is not served until its first transfer: the
		// nameservers learn its primaries, and that it is not yet
		// authoritative, with its creation (secondary_refresh.go).
		var secState *zonecfg.Secondary
		var secStateJSON []byte
		if secondary != nil {
			var err error
			secState, err = s.secondaryState(id, secondary, func(name string) (string, []byte, error) {
				k := keysFound[name]
				secret, err := dnssec.Open(s.cfg.MasterKey, k.sealed, tsigAD(tenantID, name))
				return k.algorithm, secret, err
			})
			if err != nil {
				return err
			}
			secState.Expired = true
			if secStateJSON, err = json.Marshal(secState); err != nil {
				return err
			}
		}
		taken := takenNames(overlaps)
		now := s.now()
		var poolNames, nameServers []string
		if reuseID != "" {
			switch {
			case reuse == nil:
				return errNoSuchDelegationSet(reuseID)
			case !reuse.Reusable:
				return Errorf(CodeDelegationSetNotReusable, "The delegation set %s is not reusable.", reuseID)
			}
			for _, n := range reuse.PoolNames {
				if taken[n] {
					return Errorf(CodeConflictingDomainExists,
						"Cannot create hosted zone %s on delegation set %s: it shares a name server with a hosted zone at, above or below this name.", name, reuseID)
				}
			}
			setID, poolNames, nameServers = reuseID, reuse.PoolNames, reuse.NameServers
		} else {
			var err error
			if poolNames, err = s.chooseSet(taken); err != nil {
				return err
			}
			if poolNames == nil {
				return errNoDisjointSet(name)
			}
			nameServers = poolNames
			wb.Queue(`INSERT INTO delegation_set (id, tenant_id, name_servers, created_at) VALUES ($1, $2, $3, $4)`,
				setID, tenantID, poolNames, now)
		}
		apex, err := s.apexRRSets(name, nameServers)
		if err != nil {
			return err
		}
		wb.Queue(`INSERT INTO hosted_zone (id, tenant_id, name, caller_reference, comment, version, rrset_count, created_at, delegation_set_id, secondary, secondary_state)
		          VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, $10)`,
			id, tenantID, name, in.CallerReference, in.Comment, len(apex), now, setID, secondaryJSON, secStateJSON)
		queueUpserts(wb, id, 1, apex)
		ev := event.ZoneEvent{
			Kind: event.ZoneCreated, ZoneID: id, ZoneName: name,
			FromVersion: 0, ToVersion: 1, Upserts: eventRRSets(apex),
			NameServers: slices.Clone(poolNames),
			Secondary:   secState,
		}
		if info, err = s.queueChange(wb, tenantID, in.Comment, ev); err != nil {
			return err
		}
		zone = Zone{
			ID: id, Name: name, CallerReference: in.CallerReference, Comment: in.Comment,
			Version: 1, RRSetCount: len(apex), CreatedAt: now,
			DelegationSetID: setID, NameServers: slices.Clone(nameServers), PoolNames: slices.Clone(poolNames),
			Secondary: secondary, SecondaryStatus: SecondaryStatus{NotServed: secondary != nil},
		}
		return nil
	}
	return &zoneTrips{read: read, write: write, zone: &zone, info: &info}, nil
}

// GetZone returns one of the tenant's zones.
func (s *Service) GetZone(ctx context.Context, tenantID, zoneID string) (Zone, error) {
	return s.getZone(ctx, s.pool, tenantID, zoneID, "")
}

// getZone reads a zone through q (the pool or a transaction); lock, if
// not empty, is appended to the SELECT (" FOR SHARE").
func (s *Service) getZone(ctx context.Context, q rowQuerier, tenantID, zoneID, lock string) (Zone, error) {
	id, ok := cleanID(zoneID)
	if !ok {
		return Zone{}, errNoSuchZone(displayID(zoneID))
	}
	row := q.QueryRow(ctx, `SELECT `+zoneColumns+` FROM hosted_zone WHERE id = $1 AND tenant_id = $2`+lock, id, tenantID)
	z, err := s.scanZone(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return Zone{}, errNoSuchZone(id)
	}
	return z, err
}

// ListZones returns a page of the tenant's zones in Route 53's by-name
// order. Zones per tenant are bounded by the zone quota, so the order is
// computed here with zonecfg.SortKey (which handles escaped dots that SQL
// string functions would not) rather than by a column.
func (s *Service) ListZones(ctx context.Context, tenantID string, in ListZonesInput) (ZonePage, error) {
	max := in.MaxItems
	switch {
	case max < 0:
		return ZonePage{}, Errorf(CodeInvalidInput, "MaxItems must not be negative")
	case max == 0:
		max = DefaultZonePageSize
	case max > MaxZonePageSize:
		max = MaxZonePageSize
	}
	var startKey, startID string
	if in.StartName != "" {
		n, err := zonecfg.CanonicalName(in.StartName)
		if err != nil {
			return ZonePage{}, Errorf(CodeInvalidInput, "Invalid DNSName: %v", err)
		}
		startKey = zonecfg.SortKey(n)
	}
	if in.StartID != "" {
		if in.StartName == "" {
			return ZonePage{}, Errorf(CodeInvalidInput, "HostedZoneId requires DNSName")
		}
		id, ok := cleanID(in.StartID)
		if !ok {
			return ZonePage{}, Errorf(CodeInvalidInput, "Invalid HostedZoneId %s", displayID(in.StartID))
		}
		startID = id
	}
	rows, _ := s.pool.Query(ctx, `SELECT `+zoneColumns+` FROM hosted_zone WHERE tenant_id = $1`, tenantID)
	zones, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Zone, error) { return s.scanZone(r) })
	if err != nil {
		return ZonePage{}, fmt.Errorf("list zones: %w", err)
	}
	type keyed struct {
		key string
		z   Zone
	}
	all := make([]keyed, len(zones))
	for i, z := range zones {
		all[i] = keyed{zonecfg.SortKey(z.Name), z}
	}
	slices.SortFunc(all, func(a, b keyed) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.z.ID, b.z.ID)
	})
	i, _ := slices.BinarySearchFunc(all, keyed{startKey, Zone{ID: startID}}, func(a, b keyed) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.z.ID, b.z.ID)
	})
	page := ZonePage{MaxItems: max, Zones: []Zone{}}
	for ; i < len(all) && len(page.Zones) < max; i++ {
		page.Zones = append(page.Zones, all[i].z)
	}
	if i < len(all) {
		page.IsTruncated = true
		page.NextName, page.NextID = all[i].z.Name, all[i].z.ID
	}
	return page, nil
}

// UpdateZoneComment replaces a zone's comment. The comment is not DNS data:
// the zone's version does not change and nothing is published.
func (s *Service) UpdateZoneComment(ctx context.Context, tenantID, zoneID, comment string) (Zone, error) {
	id, ok := cleanID(zoneID)
	if !ok {
		return Zone{}, errNoSuchZone(displayID(zoneID))
	}
	if err := checkText("Comment", comment, 0, MaxCommentLength); err != nil {
		return Zone{}, err
	}
	var z Zone
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		z, err = s.scanZone(tx.QueryRow(ctx, `UPDATE hosted_zone SET comment = $3 WHERE id = $1 AND tenant_id = $2
	                             RETURNING `+zoneColumns, id, tenantID, comment))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Zone{}, errNoSuchZone(id)
	}
	return z, err
}

// DeleteZone deletes a zone that holds nothing but its apex SOA and NS
// record sets (HostedZoneNotEmpty otherwise), and publishes a zone.deleted
// event so that the nameservers stop answering for it.
func (s *Service) DeleteZone(ctx context.Context, tenantID, zoneID string) (ChangeInfo, error) {
	id, ok := cleanID(zoneID)
	if !ok {
		return ChangeInfo{}, errNoSuchZone(displayID(zoneID))
	}
	var name, setID, signing string
	var version int64
	var found, extra bool
	read := func(b *pgx.Batch) {
		b.Queue(`SELECT name, version, delegation_set_id, dnssec_status FROM hosted_zone WHERE id = $1 AND tenant_id = $2 FOR UPDATE`, id, tenantID).
			QueryRow(func(row pgx.Row) error {
				err := row.Scan(&name, &version, &setID, &signing)
				if errors.Is(err, pgx.ErrNoRows) {
					return nil
				}
				found = err == nil
				return err
			})
		// Runs after the lock, with a fresh snapshot: no batch can slip a
		// record in between the check and the delete.
		b.Queue(`SELECT EXISTS (SELECT 1 FROM rrset r JOIN hosted_zone z ON z.id = r.zone_id
		                        WHERE r.zone_id = $1 AND z.tenant_id = $2
		                          AND NOT (r.name = z.name AND r.type IN ('SOA', 'NS') AND r.set_identifier = ''))`,
			id, tenantID).QueryRow(func(row pgx.Row) error { return row.Scan(&extra) })
	}
	var info ChangeInfo
	write := func(wb *pgx.Batch) error {
		if !found {
			return errNoSuchZone(id)
		}
		if signing != SigningStatusNotSigning {
			// A signed zone deleted with its DS still in the parent
			// would be bogus everywhere (dnssec.go).
			return Errorf(CodeHostedZoneNotEmpty,
				"The hosted zone is signed with DNSSEC; disable signing before deleting it.")
		}
		if extra {
			return Errorf(CodeHostedZoneNotEmpty,
				"The specified hosted zone contains non-required resource record sets and so cannot be deleted.")
		}
		wb.Queue(`DELETE FROM hosted_zone WHERE id = $1`, id)
		// A set made for this zone goes with it; a reusable set stays.
		wb.Queue(`DELETE FROM delegation_set WHERE id = $1 AND NOT reusable`, setID)
		ev := event.ZoneEvent{
			Kind: event.ZoneDeleted, ZoneID: id, ZoneName: name,
			FromVersion: version, ToVersion: version + 1,
		}
		var err error
		info, err = s.queueChange(wb, tenantID, "", ev)
		return err
	}
	if err := s.txInTwoTrips(ctx, read, write); err != nil {
		return ChangeInfo{}, err
	}
	s.wakeRelay()
	return info, nil
}

// zoneColumns are the columns scanZone reads, in order, from hosted_zone
// with its delegation set.
const zoneColumns = `id, name, caller_reference, comment, version, rrset_count, created_at, delegation_set_id,
	(SELECT d.name_servers FROM delegation_set d WHERE d.id = hosted_zone.delegation_set_id),
	(SELECT coalesce(d.vanity_names, '{}') FROM delegation_set d WHERE d.id = hosted_zone.delegation_set_id),
	secondary, secondary_serial, secondary_success_at, secondary_error,
	COALESCE((secondary_state->>'expired')::boolean, secondary_serial IS NULL),
	CASE WHEN secondary IS NOT NULL THEN
	     (SELECT c.id FROM change c WHERE c.zone_id = hosted_zone.id ORDER BY c.zone_version DESC LIMIT 1) END`

func (s *Service) scanZone(row pgx.Row) (Zone, error) {
	var z Zone
	var vanity []string
	var secondary []byte
	var serial *int64
	if err := row.Scan(&z.ID, &z.Name, &z.CallerReference, &z.Comment, &z.Version, &z.RRSetCount, &z.CreatedAt,
		&z.DelegationSetID, &z.PoolNames, &vanity,
		&secondary, &serial, &z.SecondaryStatus.SuccessAt, &z.SecondaryStatus.Error, &z.SecondaryStatus.NotServed, &z.SecondaryStatus.ChangeID); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return Zone{}, err
		}
		return Zone{}, fmt.Errorf("read zone: %w", err)
	}
	var err error
	if z.Secondary, err = scanSecondary(secondary); err != nil {
		return Zone{}, err
	}
	if serial != nil {
		z.SecondaryStatus.Serial = uint32(*serial)
	}
	if t := z.SecondaryStatus.SuccessAt; t != nil {
		u := t.UTC()
		z.SecondaryStatus.SuccessAt = &u
	}
	z.CreatedAt = z.CreatedAt.UTC()
	z.NameServers = published(z.PoolNames, vanity)
	return z, nil
}

// apexRRSets returns the SOA and NS record sets of a new zone delegated to
// nameServers.
func (s *Service) apexRRSets(zone string, nameServers []string) ([]storedRRSet, error) {
	hostmaster, err := zonecfg.CanonicalName(s.cfg.Hostmaster)
	if err != nil {
		return nil, fmt.Errorf("hostmaster %q: %w", s.cfg.Hostmaster, err)
	}
	soa := zonecfg.RRSet{Name: zone, Type: "SOA", TTL: apexSOATTL, Records: []string{
		fmt.Sprintf("%s %s 1 7200 900 1209600 86400", nameServers[0], hostmaster),
	}}
	ns := zonecfg.RRSet{Name: zone, Type: "NS", TTL: apexNSTTL, Records: slices.Clone(nameServers)}
	out := make([]storedRRSet, 0, 2)
	for _, rs := range []zonecfg.RRSet{soa, ns} {
		rdata, err := rs.Canonical()
		if err != nil {
			return nil, fmt.Errorf("apex %s of %s: %w", rs.Type, zone, err)
		}
		out = append(out, storedRRSet{RRSet: rs, RData: rdata})
	}
	return out, nil
}

// validateZoneName canonicalises a zone name and applies the zone rules:
// not the root, not a single label, not a wildcard.
func validateZoneName(raw string) (string, error) {
	name, err := zonecfg.CanonicalName(raw)
	if err != nil {
		return "", Errorf(CodeInvalidDomainName, "%v", err)
	}
	switch {
	case name == ".":
		return "", Errorf(CodeInvalidDomainName, "The root zone cannot be hosted.")
	case zonecfg.IsWildcard(name):
		return "", Errorf(CodeInvalidDomainName, "%s is not a valid hosted zone name: a zone name cannot start with *.", name)
	case len(splitLabels(name)) < 2:
		return "", Errorf(CodeInvalidDomainName, "%s is a top-level domain and cannot be hosted.", name)
	}
	return name, nil
}

// validateTLDName canonicalises the name of a registry's TLD zone: one or
// more labels (a TLD may be "co.example."), not the root, not a wildcard.
func validateTLDName(raw string) (string, error) {
	name, err := zonecfg.CanonicalName(raw)
	if err != nil {
		return "", Errorf(CodeInvalidDomainName, "%v", err)
	}
	if name == "." || zonecfg.IsWildcard(name) {
		return "", Errorf(CodeInvalidDomainName, "%s is not a valid top-level domain.", name)
	}
	return name, nil
}

// splitLabels splits a canonical name into its labels, honouring escaped
// dots.
func splitLabels(name string) []string { return dns.SplitDomainName(name) }

// ancestors returns name and every name above it, up to but excluding the
// root.
func ancestors(name string) []string {
	labels := splitLabels(name)
	out := make([]string, 0, len(labels))
	for i := range labels {
		out = append(out, strings.Join(labels[i:], ".")+".")
	}
	return out
}

// zoneLockKey returns the advisory lock key of a name for zone creation.
func zoneLockKey(name string) int32 {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(name)))
	return int32(h.Sum32())
}

// queueZoneLocks queues the transaction locks that make the overlap check
// of creating zone name race-free: the name's own key exclusively, after
// its ancestors' keys shared, from the top down. Two names overlap only
// when one is the other or an ancestor of it, and then one's exclusive
// key is the other's shared or exclusive one; siblings (every zone under
// one TLD) are created in parallel. A transaction takes its exclusive
// lock last and no other lock deeper than it, so no two can wait on each
// other; an ancestor whose key is the name's own (a hash collision) is
// left to the exclusive lock, which a shared one of the same transaction
// would otherwise have to be upgraded to.
func queueZoneLocks(b *pgx.Batch, name string) {
	own := zoneLockKey(name)
	up := ancestors(name) // the name, then its parents up to the TLD
	for i := len(up) - 1; i >= 1; i-- {
		if k := zoneLockKey(up[i]); k != own {
			b.Queue(`SELECT pg_advisory_xact_lock_shared(waymark_lock_key($1, $2))`, zoneLockClass, k)
		}
	}
	b.Queue(`SELECT pg_advisory_xact_lock(waymark_lock_key($1, $2))`, zoneLockClass, own)
}

func errCallerReferenceUsed() *Error {
	return Errorf(CodeHostedZoneAlreadyExists,
		"A hosted zone has already been created with the specified caller reference.")
}
