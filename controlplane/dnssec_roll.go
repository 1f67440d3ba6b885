package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/zonecfg"
)

// This file drives DNSSEC's timed steps (docs/dnssec.md, Rollovers): the
// pre-publish ZSK rollover of RFC 6781 §4.1.1.1 and RFC 7583 §3.3, started
// on demand (RollZSK) or when the active ZSK has signed for ZSKLifetime,
// and the re-signing of the DNSKEY set before its signatures expire. One
// leader (DefaultDNSSECLockKey) runs AdvanceDNSSEC on a tick; every step is
// a change, PENDING until the nameservers have it.
//
// A ZSK roll, step by step:
//  1. a new ZSK is PUBLISHED: in the DNSKEY set, not signing;
//  2. once the change that published it is INSYNC and the DNSKEY TTL plus
//     PublishDelay has passed (every cache that holds the DNSKEY set holds
//     the new key), it becomes ACTIVE and the old one RETIRED: still
//     published, so that answers signed with it still validate;
//  3. once that change is INSYNC and RetireAfter (the largest TTL signed)
//     has passed, the old key is removed.

// DefaultDNSSECLockKey is the session lock that elects the DNSSEC leader
// ("wmdnssec").
const DefaultDNSSECLockKey int64 = 0x776d646e73736563

// DefaultDNSSECInterval is how often the leader looks for due steps.
const DefaultDNSSECInterval = 10 * time.Second

// RunDNSSEC runs AdvanceDNSSEC every interval (DefaultDNSSECInterval when
// zero) until ctx ends; run it under RunLeader.
func (s *Service) RunDNSSEC(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = DefaultDNSSECInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.AdvanceDNSSEC(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("dnssec: advance", "err", err)
		} else if n > 0 {
			s.log.Info("dnssec: steps taken", "zones", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// AdvanceDNSSEC takes every DNSSEC step that is due, in every signing
// zone, and returns the number of zones changed.
func (s *Service) AdvanceDNSSEC(ctx context.Context) (int, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, tenant_id FROM hosted_zone WHERE dnssec_status IN ('SIGNING', 'DELETING') ORDER BY id`)
	if err != nil {
		return 0, err
	}
	type ref struct{ id, tenant string }
	zones, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ref, error) {
		var z ref
		return z, r.Scan(&z.id, &z.tenant)
	})
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, z := range zones {
		changed, err := s.advanceZone(ctx, z.tenant, z.id)
		if err == nil {
			var parent bool
			parent, err = s.advanceParent(ctx, z.tenant, z.id)
			changed = changed || parent
		}
		if err != nil {
			if IsCode(err, CodePriorRequestNotComplete) {
				continue // busy; next tick
			}
			errs = append(errs, fmt.Errorf("zone %s: %w", z.id, err))
			continue
		}
		if changed {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// errNothingDue rolls back a zone's transaction when no step is due.
var errNothingDue = errors.New("nothing due")

func (s *Service) advanceZone(ctx context.Context, tenantID, zoneID string) (bool, error) {
	o := s.dnssecOpts()
	now := s.now()
	_, err := s.dnssecChangeTx(ctx, tenantID, zoneID, func(tx pgx.Tx, z *zoneKeys) error {
		if z.status != SigningStatusSigning {
			return errNothingDue
		}
		settled := func(k *signingKey, wait time.Duration) (bool, error) {
			var status string
			var at *time.Time
			err := tx.QueryRow(ctx, `SELECT status, insync_at FROM change WHERE zone_id = $1 AND zone_version = $2`,
				z.id, k.SinceVersion).Scan(&status, &at)
			if errors.Is(err, pgx.ErrNoRows) {
				// The change is gone (old rows are pruned): long settled.
				return !now.Before(k.StatusSince.Add(wait)), nil
			}
			if err != nil || status != string(StatusInSync) || at == nil {
				return false, err
			}
			return !now.Before(at.Add(wait)), nil
		}
		changed := false
		var active, published, retired *signingKey
		for i := range z.keys {
			k := &z.keys[i]
			if k.Kind != "ZSK" {
				continue
			}
			switch k.Status {
			case KeyStatusActive:
				active = k
			case KeyStatusPublished:
				published = k
			case KeyStatusRetired:
				retired = k
			}
		}
		switch {
		case retired != nil:
			ok, err := settled(retired, o.RetireAfter)
			if err != nil {
				return err
			}
			if ok {
				name := retired.Name
				z.keys = slices.DeleteFunc(z.keys, func(k signingKey) bool { return k.Kind == "ZSK" && k.Name == name })
				s.log.Info("dnssec: retired ZSK removed", "zone", z.id, "key", name)
				changed = true
			}
		case published != nil:
			ok, err := settled(published, o.DNSKEYTTL+o.PublishDelay)
			if err != nil {
				return err
			}
			if ok {
				if active != nil {
					s.setStatus(active, KeyStatusRetired)
				}
				s.setStatus(published, KeyStatusActive)
				s.log.Info("dnssec: new ZSK signing", "zone", z.id, "key", published.Name, "key_tag", published.KeyTag)
				changed = true
			}
		case active != nil && !now.Before(active.StatusSince.Add(o.ZSKLifetime)):
			if err := s.startZSKRoll(z); err != nil {
				return err
			}
			s.log.Info("dnssec: scheduled ZSK rollover started", "zone", z.id)
			changed = true
		}
		if !changed {
			due, err := s.signaturesDue(ctx, tx, z.id, now)
			if err != nil || !due {
				return errors.Join(err, errNothingDue)
			}
			s.log.Info("dnssec: DNSKEY set re-signed", "zone", z.id)
		}
		return nil
	})
	if errors.Is(err, errNothingDue) {
		return false, nil
	}
	return err == nil, err
}

// signaturesDue reports whether the control plane's signatures over the
// zone's DNSKEY set are due for refreshing.
func (s *Service) signaturesDue(ctx context.Context, tx pgx.Tx, zoneID string, now time.Time) (bool, error) {
	var raw []byte
	if err := tx.QueryRow(ctx, `SELECT dnssec FROM hosted_zone WHERE id = $1`, zoneID).Scan(&raw); err != nil {
		return false, err
	}
	var d zonecfg.DNSSEC
	if len(raw) == 0 || json.Unmarshal(raw, &d) != nil || len(d.DNSKEYSigs) == 0 {
		return true, nil
	}
	refresh := s.dnssecOpts().Signatures.Refresh
	for _, v := range d.DNSKEYSigs {
		rr, err := dns.NewRR(". 0 IN RRSIG " + v)
		if err != nil {
			return true, nil
		}
		exp := time.Unix(int64(rr.(*dns.RRSIG).Expiration), 0)
		if !now.Before(exp.Add(-refresh)) {
			return true, nil
		}
	}
	return false, nil
}
