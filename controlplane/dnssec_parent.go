package controlplane

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/zonecfg"
)

// This file keeps the DS of a signed zone in its parent when the parent is
// hosted here by the same tenant and delegates to it (docs/dnssec.md): no
// registrar step, no human. The DS set in the parent follows the zone's
// ACTIVE key-signing keys, and a KSK leaves only after its DS has:
//
//   - a new ACTIVE KSK's DS is added once the change that published the
//     key is INSYNC (double-DS while both keys are active);
//   - deactivating a KSK of such a zone retires it (RETIRED: still
//     published and signing), its DS is removed, and once that change is
//     INSYNC and the DS TTL has passed it becomes INACTIVE;
//   - disabling such a zone goes through DELETING: the DS set is removed,
//     and once that is INSYNC and the DS TTL has passed, signing stops.
//
// Parents elsewhere are asked over DNS instead, and the operator is told
// what to change there (dnssec_remote.go).

// rowQuerier is what the parent checks read through: a transaction or
// the pool.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// RowQuerier is what a DelegationKeeper reads through: the caller's
// transaction, or the pool.
type RowQuerier = rowQuerier

// DelegationKeeper publishes the delegations of hosted zones whose parent
// is not a zone of their own tenant but something another part of the
// system keeps: the built-in registry's TLD zones, for domains registered
// with a Waymark hosted zone (registrar). The DNSSEC passes treat such a
// parent like a parent zone of the same tenant: a signed zone's DS set
// follows its ACTIVE key-signing keys there, and a KSK or the signing
// leaves only after its DS has. controlplane does not import the keeper.
type DelegationKeeper interface {
	// DelegationOf reports whether the keeper publishes the delegation
	// of the hosted zone zoneID (named name), read through q, and if so
	// the parent as it is now.
	DelegationOf(ctx context.Context, q RowQuerier, zoneID, name string) (DelegationParent, bool, error)
	// SetDelegationDS makes the parent publish exactly ds (canonical DS
	// RDATA, "key-tag algorithm digest-type DIGEST") for the zone, in a
	// transaction of its own; its changes to the parent zone carry the
	// parent's Comment. A parent busy with something else answers
	// PriorRequestNotComplete (the next pass tries again).
	SetDelegationDS(ctx context.Context, zoneID, name string, ds []string) error
}

// DelegationParent is a zone's parent as a DelegationKeeper keeps it.
type DelegationParent struct {
	// ZoneID and Name are the parent zone's (a system zone).
	ZoneID, Name string
	// DS is the DS set it holds for the zone now; TTL the TTL it gives it.
	DS  []string
	TTL uint32
	// Comment is the comment of the parent zone's changes for this
	// delegation: their propagation is what a key's exit waits for.
	Comment string
}

// SetDelegationKeeper makes k the keeper of delegations outside the
// tenants' own zones (nil: none). Call it before the DNSSEC passes run.
func (s *Service) SetDelegationKeeper(k DelegationKeeper) { s.keeper.Store(&k) }

// delegationKeeper returns the keeper, or nil.
func (s *Service) delegationKeeper() DelegationKeeper {
	if k := s.keeper.Load(); k != nil {
		return *k
	}
	return nil
}

// parentZone is a signed zone's parent, hosted here by the same tenant,
// or kept by the DelegationKeeper (kept).
type parentZone struct {
	id, name string
	ds       []string // the DS set at the child's name now, canonical
	ttl      uint32
	kept     bool
	comment  string // the kept parent's changes for the delegation
}

// managedParent returns the parent of z that this service keeps the DS
// of: the closest enclosing zone of the same tenant with an NS set at z's
// name or, without one, the parent the DelegationKeeper publishes z's
// delegation in. ok is false when there is neither.
func (s *Service) managedParent(ctx context.Context, q rowQuerier, z *zoneKeys) (parentZone, bool, error) {
	var p parentZone
	err := q.QueryRow(ctx, `SELECT p.id, p.name FROM hosted_zone p JOIN hosted_zone c ON c.id = $1 AND c.tenant_id = p.tenant_id
	      WHERE p.id <> c.id AND right(c.name, length(p.name) + 1) = '.' || p.name
	        AND EXISTS (SELECT 1 FROM rrset r WHERE r.zone_id = p.id AND r.name = c.name AND r.type = 'NS')
	      ORDER BY length(p.name) DESC LIMIT 1`, z.id).Scan(&p.id, &p.name)
	if errors.Is(err, pgx.ErrNoRows) {
		k := s.delegationKeeper()
		if k == nil {
			return p, false, nil
		}
		d, ok, err := k.DelegationOf(ctx, q, z.id, z.name)
		if err != nil || !ok {
			return p, false, err
		}
		return parentZone{id: d.ZoneID, name: d.Name, ds: d.DS, ttl: d.TTL, kept: true, comment: d.Comment}, true, nil
	}
	if err != nil {
		return p, false, err
	}
	err = q.QueryRow(ctx, `SELECT rdata, ttl FROM rrset WHERE zone_id = $1 AND name = $2 AND type = 'DS' AND set_identifier = ''`,
		p.id, z.name).Scan(&p.ds, &p.ttl)
	if errors.Is(err, pgx.ErrNoRows) {
		err = nil
	}
	return p, true, err
}

// parentDSComment marks the parent's changes made for a child's DS, so
// that their propagation can be found again.
func parentDSComment(child string) string { return "DNSSEC: DS of " + child + " (automatic)" }

// dsSettled reports whether every automatic DS change of child in the
// parent is INSYNC and the DS TTL has passed since the last one. For a
// kept parent, that is every change of the delegation, and its TTL.
func (s *Service) dsSettled(ctx context.Context, q rowQuerier, p parentZone, child string, now time.Time) (bool, error) {
	comment, wait := parentDSComment(child), s.dnssecOpts().ParentDSTTL
	if p.kept {
		comment, wait = p.comment, time.Duration(p.ttl)*time.Second
	}
	var all *bool
	var last *time.Time
	err := q.QueryRow(ctx, `SELECT bool_and(status = 'INSYNC'), max(insync_at) FROM change WHERE zone_id = $1 AND comment = $2`,
		p.id, comment).Scan(&all, &last)
	if err != nil || all == nil {
		return all == nil && err == nil, err // no change: nothing to wait for
	}
	return *all && last != nil && !now.Before(last.Add(wait)), nil
}

// wantDS is the DS set the parent should hold for z: one per key-signing
// key whose DNSKEY is published and INSYNC (ACTIVE ones, while the zone
// is signing), canonical and sorted.
func (s *Service) wantDS(ctx context.Context, q rowQuerier, z *zoneKeys) ([]string, error) {
	if z.status != SigningStatusSigning {
		return nil, nil
	}
	var out []string
	for _, k := range z.keys {
		if k.Kind != "KSK" || k.Status != KeyStatusActive {
			continue
		}
		var status string
		err := q.QueryRow(ctx, `SELECT status FROM change WHERE zone_id = $1 AND zone_version = $2`, z.id, k.SinceVersion).Scan(&status)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, err
		}
		if err == nil && status != string(StatusInSync) {
			continue // not on every nameserver yet: a DS now could break the chain
		}
		out = append(out, zonecfg.RData(k.dnskey(z.name, 0).ToDS(dns.SHA256)))
	}
	slices.Sort(out)
	return out, nil
}

// syncParentDS brings the parent's DS set of z to what it should be, with
// a change in the parent. It reports whether it made one.
func (s *Service) syncParentDS(ctx context.Context, tenantID string, z *zoneKeys, p parentZone, want []string) (bool, error) {
	have := slices.Clone(p.ds)
	for i := range have {
		have[i] = strings.ToUpper(have[i])
	}
	cmp := slices.Clone(want)
	for i := range cmp {
		cmp[i] = strings.ToUpper(cmp[i])
	}
	slices.Sort(have)
	if slices.Equal(have, cmp) {
		return false, nil
	}
	if p.kept {
		if err := s.delegationKeeper().SetDelegationDS(ctx, z.id, z.name, want); err != nil {
			return false, err
		}
		s.log.Info("dnssec: DS written into the kept parent", "zone", z.id, "parent", p.id, "ds", len(want))
		return true, nil
	}
	var ch RRSetChange
	if len(want) == 0 {
		ch = RRSetChange{Action: ActionDelete, RRSet: zonecfg.RRSet{Name: z.name, Type: "DS", TTL: p.ttl, Records: p.ds}}
	} else {
		ttl := uint32(s.dnssecOpts().ParentDSTTL / time.Second)
		ch = RRSetChange{Action: ActionUpsert, RRSet: zonecfg.RRSet{Name: z.name, Type: "DS", TTL: ttl, Records: want}}
	}
	if _, err := s.ChangeRRSets(ctx, tenantID, p.id, ChangeBatch{Comment: parentDSComment(z.name), Changes: []RRSetChange{ch}}); err != nil {
		return false, err
	}
	s.log.Info("dnssec: DS written into the parent", "zone", z.id, "parent", p.id, "ds", len(want))
	return true, nil
}

// advanceParent takes the parent-side steps of z that are due, after the
// zone's own transaction: the DS set, and the ends of KSK retirements and
// of DELETING. It reports whether anything changed.
func (s *Service) advanceParent(ctx context.Context, tenantID, zoneID string) (bool, error) {
	now := s.now()
	var z *zoneKeys
	var p parentZone
	var managed bool
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return false, err
	}
	z, err = loadZoneKeys(ctx, tx, tenantID, zoneID, false)
	if err == nil {
		p, managed, err = s.managedParent(ctx, tx, z)
	}
	var want []string
	if err == nil && managed {
		want, err = s.wantDS(ctx, tx, z)
	}
	_ = tx.Rollback(ctx)
	if err != nil {
		return false, err
	}
	if !managed {
		return s.advanceRemoteParent(ctx, tenantID, z) // dnssec_remote.go
	}
	changed, err := s.syncParentDS(ctx, tenantID, z, p, want)
	if err != nil || changed {
		return changed, err
	}
	settled, err := s.dsSettled(ctx, s.pool, p, z.name, now)
	if err != nil || !settled {
		return false, err
	}
	// The parent no longer names the keys leaving: finish their exits.
	_, err = s.dnssecChange(ctx, tenantID, zoneID, func(z *zoneKeys) error {
		done := false
		for i := range z.keys {
			if k := &z.keys[i]; k.Kind == "KSK" && k.Status == KeyStatusRetired {
				s.setStatus(k, KeyStatusInactive)
				done = true
			}
		}
		if z.status == SigningStatusDeleting {
			z.keys = slices.DeleteFunc(z.keys, func(r signingKey) bool { return r.Kind == "ZSK" })
			z.status = SigningStatusNotSigning
			done = true
		}
		if !done {
			return errNothingDue
		}
		return nil
	})
	if errors.Is(err, errNothingDue) {
		return false, nil
	}
	return err == nil, err
}
