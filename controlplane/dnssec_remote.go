package controlplane

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/zonecfg"
)

// This file is a key-signing key roll when the zone's parent is outside
// Waymark (a registry, another provider) and DNSSECOptions.ParentDS can ask
// its nameservers (dnssec/parentds; `waymark api --parent-ds-resolver`).
// Waymark cannot write the DS there, so the roll waits on the operator and
// checks, on every leader tick, what the parent's nameservers answer:
//
//  1. a second ACTIVE KSK is published; once that change is INSYNC, while
//     the parent lacks its DS, the zone is ACTION_NEEDED and its status
//     message names the DS to add;
//  2. the old KSK is deactivated: it becomes RETIRED (still published and
//     signing the DNSKEY set) and, while the parent still answers its DS,
//     the message names the DS to remove;
//  3. from the first answer without that DS, the old key waits the
//     largest TTL the parent gave its DS answers (resolvers may hold the
//     old set that long), then becomes INACTIVE and leaves the DNSKEY set.
//     If the DS comes back meanwhile, the wait starts again.
//
// A parent that cannot be asked holds the roll where it is (the message
// says why): retiring a key on a guess could make the zone bogus.

// parentAnswer is what the parent's nameservers said about the zone's DS.
type parentAnswer struct {
	ds  map[string]bool // "keytag DIGEST"
	ttl uint32
	err error
}

func dsOf(zone string, k *signingKey) *dns.DS { return k.dnskey(zone, 0).ToDS(dns.SHA256) }

func (a parentAnswer) holds(ds *dns.DS) bool {
	return a.ds[strconv.Itoa(int(ds.KeyTag))+" "+strings.ToUpper(ds.Digest)]
}

// advanceRemoteParent asks the parent of z (read before, without a lock)
// for its DS set when a KSK roll is under way, and takes the steps that
// answer allows. It reports whether a key left.
func (s *Service) advanceRemoteParent(ctx context.Context, tenantID string, z *zoneKeys) (bool, error) {
	o := s.dnssecOpts()
	rolling := z.status == SigningStatusSigning && o.ParentDS != nil &&
		(z.count("KSK", KeyStatusActive) > 1 || z.count("KSK", KeyStatusRetired) > 0)
	if !rolling {
		if z.message == "" && !z.actionNeeded {
			return false, nil
		}
		_, err := s.pool.Exec(ctx, `UPDATE hosted_zone SET dnssec_message = '', dnssec_action_needed = false WHERE id = $1`, z.id)
		return false, err
	}
	a := parentAnswer{ds: map[string]bool{}}
	var records []string
	records, a.ttl, a.err = o.ParentDS.ParentDS(ctx, z.name)
	for _, r := range records {
		if f := strings.Fields(r); len(f) == 4 {
			a.ds[f[0]+" "+strings.ToUpper(f[3])] = true
		}
	}
	// Only keys whose DNSKEY is on every nameserver are offered to the
	// parent: a DS ahead of its key breaks the chain.
	published, err := s.wantDS(ctx, s.pool, z)
	if err != nil {
		return false, err
	}
	return s.recordParentAnswer(ctx, tenantID, z.id, a, published)
}

// recordParentAnswer applies a, under the zone's row lock: the retiring
// keys' observations and the status message, and a new zone version only
// when a key leaves the DNSKEY set.
func (s *Service) recordParentAnswer(ctx context.Context, tenantID, zoneID string, a parentAnswer, published []string) (bool, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `SELECT set_config('lock_timeout', $1, true)`,
		fmt.Sprintf("%dms", zoneLockTimeout.Milliseconds())); err != nil {
		return false, err
	}
	z, err := loadZoneKeys(ctx, tx, tenantID, zoneID, true)
	if err != nil {
		return false, lockError(err)
	}
	left := s.observeParent(z, a, published, s.now())
	if left {
		if _, err := s.commitZoneKeys(ctx, tx, tenantID, z); err != nil {
			return false, err
		}
	} else {
		var b pgx.Batch
		for _, k := range z.keys {
			if k.Kind == "KSK" {
				b.Queue(`UPDATE dnssec_key SET parent_ds_gone_at = $3, parent_ds_ttl = $4 WHERE zone_id = $1 AND kind = 'KSK' AND name = $2`,
					z.id, k.Name, k.ParentDSGoneAt, int32(k.ParentDSTTL))
			}
		}
		b.Queue(`UPDATE hosted_zone SET dnssec_message = $2, dnssec_action_needed = $3 WHERE id = $1`, z.id, z.message, z.actionNeeded)
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return false, err
		}
	}
	return left, tx.Commit(ctx)
}

// observeParent updates z from the parent's answer: when each retiring
// key's DS was first seen gone and the TTL to wait, the keys whose wait
// is over (INACTIVE: they leave the DNSKEY set), and the status message.
// It reports whether a key left.
func (s *Service) observeParent(z *zoneKeys, a parentAnswer, published []string, now time.Time) bool {
	if z.status != SigningStatusSigning {
		z.message, z.actionNeeded = "", false
		return false
	}
	if a.err != nil {
		z.message = fmt.Sprintf("The key-signing key roll waits: the parent of %s could not be asked for its DS records (%v).", z.name, a.err)
		z.actionNeeded = true
		return false
	}
	var add, remove, waiting []string
	left := false
	for i := range z.keys {
		k := &z.keys[i]
		if k.Kind != "KSK" {
			continue
		}
		ds := dsOf(z.name, k)
		switch k.Status {
		case KeyStatusActive:
			if !a.holds(ds) && slices.Contains(published, zonecfg.RData(ds)) {
				add = append(add, z.name+" IN DS "+zonecfg.RData(ds))
			}
		case KeyStatusRetired:
			k.ParentDSTTL = max(k.ParentDSTTL, a.ttl)
			if a.holds(ds) {
				k.ParentDSGoneAt = nil // (back): the wait starts again once it is gone
				remove = append(remove, z.name+" IN DS "+zonecfg.RData(ds))
				continue
			}
			if k.ParentDSGoneAt == nil {
				t := now
				k.ParentDSGoneAt = &t
				s.log.Info("dnssec: the parent no longer publishes the DS of a leaving KSK",
					"zone", z.id, "key", k.Name, "key_tag", k.KeyTag, "wait", time.Duration(k.ParentDSTTL)*time.Second)
			}
			until := k.ParentDSGoneAt.Add(time.Duration(k.ParentDSTTL) * time.Second)
			if now.Before(until) {
				waiting = append(waiting, fmt.Sprintf("key-signing key %s leaves at %s (the parent's DS TTL, %d s, after its DS was gone)",
					k.Name, until.UTC().Format(time.RFC3339), k.ParentDSTTL))
				continue
			}
			s.setStatus(k, KeyStatusInactive)
			s.log.Info("dnssec: KSK retired, the parent's DS set has changed and its TTL passed", "zone", z.id, "key", k.Name, "key_tag", k.KeyTag)
			left = true
		}
	}
	var parts []string
	if len(add) > 0 {
		parts = append(parts, "At the parent zone (the registrar), add the DS record(s): "+strings.Join(add, "; ")+".")
	}
	if len(remove) > 0 {
		parts = append(parts, "At the parent zone (the registrar), remove the DS record(s): "+strings.Join(remove, "; ")+
			"; the old key-signing key signs until the parent's nameservers no longer answer it and its TTL has passed.")
	}
	if len(waiting) > 0 {
		parts = append(parts, "The parent's DS set has changed: "+strings.Join(waiting, "; ")+".")
	}
	z.message = strings.Join(parts, " ")
	z.actionNeeded = len(add) > 0 || len(remove) > 0
	return left
}
