package controlplane

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/waymark-dns/waymark/zonecfg"
	"golang.org/x/net/publicsuffix"
)

// Delegation sets. Every hosted zone is served by a few names of the
// operator's pool (Config.Pool), its delegation set, and each nameserver
// answers a query only from the zones whose set holds the pool name the
// query was sent to (a view). Two zones whose names overlap (equal, above
// or below one another) get sets with no name in common, whoever owns them:
// both can exist, and only the one the parent zone delegates to is reached.
// Nobody can block a name by hosting it first, and a parent's delegation NS
// records lead to the child's servers for real. docs/delegation.md has the
// whole model.

// prefixDelegationSet starts delegation set ids, as in Route 53 (N…).
const prefixDelegationSet = "N"

// MaxReusableDelegationSets is the number of reusable delegation sets a
// tenant may have, Route 53's default limit.
const MaxReusableDelegationSets = 100

// DelegationSet is a delegation set as tenants see it.
type DelegationSet struct {
	ID string
	// NameServers are the names to configure at the registrar: the vanity
	// names of a white-label set, else the pool names.
	NameServers []string
	// PoolNames are the pool names the set is served on, in the same order.
	PoolNames       []string
	Reusable        bool
	CallerReference string
	CreatedAt       time.Time
}

// published returns the names a zone on the set publishes.
func published(pool, vanity []string) []string {
	if len(vanity) == len(pool) && len(vanity) > 0 {
		return slices.Clone(vanity)
	}
	return slices.Clone(pool)
}

// chooseSet draws a delegation set of the pool's size from the pool names
// not in taken. With PredictableSets it takes the first free names in pool
// order; otherwise a uniformly random choice among them (from Config.Rand),
// which spreads zones over the pool. It returns nil when fewer than a set's
// worth are free.
func (s *Service) chooseSet(taken map[string]bool) ([]string, error) {
	var free []string
	for _, n := range s.cfg.Pool.Names() {
		if !taken[n] {
			free = append(free, n)
		}
	}
	k := s.cfg.Pool.SetSize
	if len(free) < k {
		return nil, nil
	}
	if !s.cfg.PredictableSets {
		// A partial Fisher–Yates shuffle: the first k are the set.
		for i := 0; i < k; i++ {
			j, err := s.randIntn(len(free) - i)
			if err != nil {
				return nil, err
			}
			free[i], free[i+j] = free[i+j], free[i]
		}
		// Publish them in pool order, which reads better.
		set := free[:k]
		slices.SortFunc(set, func(a, b string) int { return s.cfg.Pool.Index(a) - s.cfg.Pool.Index(b) })
		return slices.Clone(set), nil
	}
	return free[:k], nil
}

// randIntn returns a uniform integer in [0, n) read from Config.Rand.
func (s *Service) randIntn(n int) (int, error) {
	if n <= 1 {
		return 0, nil
	}
	var b [8]byte
	limit := ^uint64(0) - ^uint64(0)%uint64(n)
	for {
		if _, err := io.ReadFull(s.cfg.Rand, b[:]); err != nil {
			return 0, fmt.Errorf("read random: %w", err)
		}
		if v := binary.BigEndian.Uint64(b[:]); v < limit {
			return int(v % uint64(n)), nil
		}
	}
}

// overlapping is a zone at, above or below a new zone's name, with the pool
// names of its delegation set.
type overlapping struct {
	TenantID  string
	Name      string
	PoolNames []string
}

// queueOverlapping queues the read of every zone at, above or below name,
// whoever owns it, with its set's pool names. It must run after the name
// lock (lockZoneNames) so that its snapshot sees every committed creation
// that could conflict.
func queueOverlapping(b *pgx.Batch, name string, out *[]overlapping) {
	b.Queue(`SELECT z.tenant_id, z.name, d.name_servers FROM hosted_zone z
	           JOIN delegation_set d ON d.id = z.delegation_set_id
	          WHERE z.name = ANY($1) OR right(z.name, $2) = $3`,
		ancestors(name), len(name)+1, "."+name).
		Query(func(rows pgx.Rows) error {
			var err error
			*out, err = pgx.CollectRows(rows, pgx.RowToStructByPos[overlapping])
			return err
		})
}

// takenNames returns the pool names the overlapping zones use.
func takenNames(zones []overlapping) map[string]bool {
	taken := map[string]bool{}
	for _, z := range zones {
		for _, n := range z.PoolNames {
			taken[n] = true
		}
	}
	return taken
}

// errNoDisjointSet is CreateZone's answer when the pool has no set left
// that shares no name with the zones at, above or below the new one.
func errNoDisjointSet(name string) *Error {
	return Errorf(CodeConflictingDomainExists,
		"Cannot create hosted zone %s: every delegation set the name server pool can give shares a name server with a hosted zone at, above or below this name.", name)
}

// checkZoneName applies the name rules that depend on the operator's
// configuration: the fleet's own domains, public suffixes and reserved
// names are refused (InvalidDomainName, saying why), the allowlist
// excepting the last two.
func (s *Service) checkZoneName(zone string) error {
	for _, d := range s.cfg.Pool.Domains() {
		if zonecfg.IsSubdomain(zone, d) {
			return Errorf(CodeInvalidDomainName,
				"%s cannot be hosted: %s is the name servers' own domain.", zone, d)
		}
	}
	for _, ns := range s.cfg.Pool.Names() {
		if zonecfg.IsSubdomain(ns, zone) {
			return Errorf(CodeInvalidDomainName,
				"%s cannot be hosted: it contains the name server %s.", zone, ns)
		}
	}
	if slices.Contains(s.cfg.AllowedNames, zone) {
		return nil
	}
	for _, r := range s.cfg.ReservedNames {
		if zonecfg.IsSubdomain(zone, r) {
			return Errorf(CodeInvalidDomainName, "%s cannot be hosted: %s is reserved by the operator.", zone, r)
		}
	}
	if section, ok := publicSuffix(zone); ok {
		return Errorf(CodeInvalidDomainName,
			"%s cannot be hosted: it is a public suffix (%s section of the Public Suffix List), under which unrelated parties register their own names.", zone, section)
	}
	return nil
}

// publicSuffix reports whether zone (canonical, at least two labels) is
// itself a public suffix, and in which section of the list. A name the
// list does not know gets its last label as suffix (the implicit "*"
// rule); single labels are refused earlier, so equality means a listed
// rule matched.
func publicSuffix(zone string) (string, bool) {
	d := strings.TrimSuffix(zone, ".")
	ps, icann := publicsuffix.PublicSuffix(d)
	if ps != d || !strings.Contains(d, ".") {
		return "", false
	}
	if icann {
		return "ICANN", true
	}
	return "private", true
}

// CreateDelegationSetInput creates a reusable delegation set: a new one
// from the pool, or, with HostedZoneID, the set of that zone made reusable.
// VanityNames, optional, are white-label names for the set, one per pool
// name: the tenant publishes them (with glue for the pool names'
// addresses) instead of the pool names.
type CreateDelegationSetInput struct {
	CallerReference string
	HostedZoneID    string
	VanityNames     []string
}

// CreateDelegationSet creates a reusable delegation set for the tenant.
// Errors: DelegationSetAlreadyCreated (caller reference used),
// DelegationSetAlreadyReusable (the zone's set already is),
// NoSuchHostedZone, LimitsExceeded, InvalidInput (vanity names).
func (s *Service) CreateDelegationSet(ctx context.Context, tenantID string, in CreateDelegationSetInput) (DelegationSet, error) {
	if err := checkText("CallerReference", in.CallerReference, 1, MaxCallerReferenceLength); err != nil {
		return DelegationSet{}, err
	}
	var zoneID string
	if in.HostedZoneID != "" {
		id, ok := cleanID(in.HostedZoneID)
		if !ok {
			return DelegationSet{}, errNoSuchZone(displayID(in.HostedZoneID))
		}
		zoneID = id
	}
	id, err := s.newID(prefixDelegationSet)
	if err != nil {
		return DelegationSet{}, err
	}
	var (
		found, refUsed       bool
		count                int
		zoneSetID            string
		zoneReusable, zoneOK bool
		zonePool             []string
	)
	read := func(b *pgx.Batch) {
		b.Queue(`SELECT EXISTS (SELECT 1 FROM delegation_set WHERE tenant_id = $1 AND caller_reference = $2),
		                (SELECT count(*) FROM delegation_set WHERE tenant_id = $1 AND reusable)
		           FROM tenant WHERE id = $1 FOR UPDATE`, tenantID, in.CallerReference).
			QueryRow(func(row pgx.Row) error {
				err := row.Scan(&refUsed, &count)
				if errors.Is(err, pgx.ErrNoRows) {
					return nil
				}
				found = err == nil
				return err
			})
		if zoneID != "" {
			b.Queue(`SELECT d.id, d.reusable, d.name_servers FROM hosted_zone z JOIN delegation_set d ON d.id = z.delegation_set_id
			          WHERE z.id = $1 AND z.tenant_id = $2 FOR UPDATE OF d`, zoneID, tenantID).
				QueryRow(func(row pgx.Row) error {
					err := row.Scan(&zoneSetID, &zoneReusable, &zonePool)
					if errors.Is(err, pgx.ErrNoRows) {
						return nil
					}
					zoneOK = err == nil
					return err
				})
		}
	}
	var out DelegationSet
	write := func(wb *pgx.Batch) error {
		switch {
		case !found:
			return Errorf(CodeNoSuchTenant, "no tenant found with id %s", tenantID)
		case refUsed:
			return Errorf(CodeDelegationSetAlreadyCreated,
				"A delegation set has already been created with the specified caller reference.")
		case zoneID != "" && !zoneOK:
			return errNoSuchZone(zoneID)
		case zoneReusable:
			return Errorf(CodeDelegationSetAlreadyReusable,
				"The delegation set of hosted zone %s is already reusable.", zoneID)
		case count >= MaxReusableDelegationSets:
			return Errorf(CodeLimitsExceeded,
				"This account has reached the limit of %d reusable delegation sets.", MaxReusableDelegationSets)
		}
		poolNames := zonePool
		if zoneID == "" {
			// A reusable set shares no name with anything yet: any set
			// the pool can give will do; zones created on it later are
			// checked against their overlaps then.
			var err error
			if poolNames, err = s.chooseSet(nil); err != nil {
				return err
			}
			if poolNames == nil {
				return Errorf(CodeDelegationSetNotAvailable, "The name server pool cannot give a delegation set.")
			}
		}
		vanity, err := s.checkVanity(in.VanityNames, poolNames)
		if err != nil {
			return err
		}
		now := s.now()
		if zoneID != "" {
			// The zone's own set becomes reusable, keeping its id, so
			// that the zone and the new set's later zones share it.
			id = zoneSetID
			wb.Queue(`UPDATE delegation_set SET reusable = true, caller_reference = $2, vanity_names = $3
			           WHERE id = $1`, id, in.CallerReference, vanity)
		} else {
			wb.Queue(`INSERT INTO delegation_set (id, tenant_id, reusable, caller_reference, name_servers, vanity_names, created_at)
			          VALUES ($1, $2, true, $3, $4, $5, $6)`, id, tenantID, in.CallerReference, poolNames, vanity, now)
		}
		out = DelegationSet{ID: id, NameServers: published(poolNames, vanity), PoolNames: slices.Clone(poolNames),
			Reusable: true, CallerReference: in.CallerReference, CreatedAt: now}
		return nil
	}
	if err := s.txInTwoTrips(ctx, read, write); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return DelegationSet{}, Errorf(CodeDelegationSetAlreadyCreated,
				"A delegation set has already been created with the specified caller reference.")
		}
		return DelegationSet{}, err
	}
	if zoneID != "" {
		// Made reusable in place: report the set's real creation time.
		return s.GetDelegationSet(ctx, tenantID, id)
	}
	return out, nil
}

// checkVanity canonicalises white-label names: one per pool name, distinct,
// none of them a pool name. It returns nil for none.
func (s *Service) checkVanity(raw []string, poolNames []string) ([]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	if len(raw) != len(poolNames) {
		return nil, Errorf(CodeInvalidInput,
			"VanityNames must have one name per name server of the set (%d), in the same order.", len(poolNames))
	}
	out := make([]string, len(raw))
	for i, r := range raw {
		n, err := zonecfg.CanonicalName(r)
		if err != nil || len(splitLabels(n)) < 2 {
			return nil, Errorf(CodeInvalidInput, "VanityNames: %q is not a host name", r)
		}
		if slices.Contains(out[:i], n) || s.cfg.Pool.Index(n) >= 0 {
			return nil, Errorf(CodeInvalidInput, "VanityNames: %s is repeated or a pool name", n)
		}
		out[i] = n
	}
	return out, nil
}

const delegationSetColumns = `id, name_servers, coalesce(vanity_names, '{}'), reusable, coalesce(caller_reference, ''), created_at`

func scanDelegationSet(row pgx.Row) (DelegationSet, error) {
	var d DelegationSet
	var vanity []string
	if err := row.Scan(&d.ID, &d.PoolNames, &vanity, &d.Reusable, &d.CallerReference, &d.CreatedAt); err != nil {
		return DelegationSet{}, err
	}
	d.NameServers = published(d.PoolNames, vanity)
	d.CreatedAt = d.CreatedAt.UTC()
	return d, nil
}

func errNoSuchDelegationSet(id string) *Error {
	return Errorf(CodeNoSuchDelegationSet, "no delegation set found with id %s", id)
}

// GetDelegationSet returns one of the tenant's reusable delegation sets
// (DelegationSetNotReusable for a zone's own set, as Route 53 says).
func (s *Service) GetDelegationSet(ctx context.Context, tenantID, setID string) (DelegationSet, error) {
	id, ok := cleanID(setID)
	if !ok {
		return DelegationSet{}, errNoSuchDelegationSet(displayID(setID))
	}
	d, err := scanDelegationSet(s.pool.QueryRow(ctx,
		`SELECT `+delegationSetColumns+` FROM delegation_set WHERE id = $1 AND tenant_id = $2`, id, tenantID))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return DelegationSet{}, errNoSuchDelegationSet(id)
	case err != nil:
		return DelegationSet{}, fmt.Errorf("read delegation set: %w", err)
	case !d.Reusable:
		return DelegationSet{}, Errorf(CodeDelegationSetNotReusable, "The delegation set %s is not reusable.", id)
	}
	return d, nil
}

// ListDelegationSets returns the tenant's reusable delegation sets, oldest
// first (a tenant has at most MaxReusableDelegationSets).
func (s *Service) ListDelegationSets(ctx context.Context, tenantID string) ([]DelegationSet, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+delegationSetColumns+` FROM delegation_set
	                              WHERE tenant_id = $1 AND reusable ORDER BY created_at, id`, tenantID)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DelegationSet, error) { return scanDelegationSet(r) })
	if err != nil {
		return nil, fmt.Errorf("list delegation sets: %w", err)
	}
	return out, nil
}

// DeleteDelegationSet deletes a reusable delegation set no zone uses
// (DelegationSetInUse otherwise).
func (s *Service) DeleteDelegationSet(ctx context.Context, tenantID, setID string) error {
	id, ok := cleanID(setID)
	if !ok {
		return errNoSuchDelegationSet(displayID(setID))
	}
	var reusable, found, used bool
	read := func(b *pgx.Batch) {
		b.Queue(`SELECT reusable FROM delegation_set WHERE id = $1 AND tenant_id = $2 FOR UPDATE`, id, tenantID).
			QueryRow(func(row pgx.Row) error {
				err := row.Scan(&reusable)
				if errors.Is(err, pgx.ErrNoRows) {
					return nil
				}
				found = err == nil
				return err
			})
		b.Queue(`SELECT EXISTS (SELECT 1 FROM hosted_zone WHERE delegation_set_id = $1)`, id).
			QueryRow(func(row pgx.Row) error { return row.Scan(&used) })
	}
	write := func(wb *pgx.Batch) error {
		switch {
		case !found:
			return errNoSuchDelegationSet(id)
		case !reusable:
			return Errorf(CodeDelegationSetNotReusable, "The delegation set %s is not reusable.", id)
		case used:
			return Errorf(CodeDelegationSetInUse,
				"The delegation set %s is used by at least one hosted zone and cannot be deleted.", id)
		}
		wb.Queue(`DELETE FROM delegation_set WHERE id = $1`, id)
		return nil
	}
	return s.txInTwoTrips(ctx, read, write)
}
