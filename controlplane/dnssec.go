package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/dnssec"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// This file is DNSSEC's control-plane half (docs/dnssec.md): the keys of
// each zone, Route 53's operations on them and their refusals, and the
// signing material every change of them sends to the nameservers. A KSK's
// private key is sealed under the master key and never leaves this
// package: the DNSKEY, CDS and CDNSKEY sets are signed here. A ZSK's
// private key is sealed under the master key in the database and wrapped
// under the fleet key for the nameservers (zonecfg.DNSSEC).

// ServeSignature values (Route 53's).
const (
	SigningStatusSigning    = "SIGNING"
	SigningStatusNotSigning = "NOT_SIGNING"
	SigningStatusDeleting   = "DELETING"
	// SigningStatusActionNeeded is shown, never stored: a signing zone
	// whose key-signing key roll waits for the operator to change the DS
	// at a parent outside Waymark (StatusMessage says which).
	SigningStatusActionNeeded = "ACTION_NEEDED"
)

// ksKStatusShown is a KSK's status as the API shows it: a retiring key
// (RETIRED inside, dnssec_parent.go) is Route 53's DELETING.
func kskStatusShown(status string) string {
	if status == KeyStatusRetired {
		return SigningStatusDeleting
	}
	return status
}

// Key statuses. KSKs are ACTIVE or INACTIVE, as in Route 53; a ZSK is
// PUBLISHED (in the DNSKEY set, not signing yet), ACTIVE or RETIRED
// (published until signatures made with it have left caches).
const (
	KeyStatusActive    = "ACTIVE"
	KeyStatusInactive  = "INACTIVE"
	KeyStatusPublished = "PUBLISHED"
	KeyStatusRetired   = "RETIRED"
)

// MaxKeySigningKeys is Route 53's limit of KSKs per zone.
const MaxKeySigningKeys = 2

// DNSSECOptions are the operator's DNSSEC settings; zero fields take the
// defaults, which follow RFC 6781 and Knot's.
type DNSSECOptions struct {
	// Algorithm of new keys: dnssec.ECDSAP256SHA256 (default) or
	// dnssec.ED25519.
	Algorithm uint8
	// DNSKEYTTL is the TTL of the DNSKEY, CDS and CDNSKEY sets. Default 1h.
	DNSKEYTTL time.Duration
	// ZSKLifetime is how long a ZSK signs before a scheduled rollover
	// replaces it. Default 30 days.
	ZSKLifetime time.Duration
	// PublishDelay is how long a new ZSK is published, after its change is
	// INSYNC, before it signs: the DNSKEY TTL plus this margin (RFC 7583
	// §3.3.1). Default 0 (the TTL alone).
	PublishDelay time.Duration
	// RetireAfter is how long a replaced ZSK stays published: the largest
	// TTL signed with it. Default one week, the TTL cap of signed zones.
	RetireAfter time.Duration
	// ParentDSTTL is the TTL of the DS sets written into parents hosted
	// here (dnssec_parent.go), and how long a leaving KSK waits after its
	// DS is gone. Default 1 hour.
	ParentDSTTL time.Duration
	// Signatures are the validity windows of the signatures made here.
	Signatures dnssec.Timing
	// ParentDS, when set, asks a parent that is not hosted here by the
	// same tenant, through its nameservers, for the DS it publishes
	// (dnssec/parentds): a KSK whose DS it holds is not deleted, nor
	// signing disabled (KeySigningKeyInParentDSRecord), and a KSK
	// deactivated while another signs is retired only once the parent
	// has dropped its DS and that answer's TTL has passed
	// (dnssec_remote.go). Nil: only parents hosted here are checked.
	ParentDS ParentDSLookup
}

// ParentDSLookup returns the DS records ("keytag algorithm digesttype
// digest") a zone's parent publishes, and the TTL of that answer
// (parentds.Lookup).
type ParentDSLookup interface {
	ParentDS(ctx context.Context, zone string) ([]string, uint32, error)
}

func (o DNSSECOptions) norm() DNSSECOptions {
	if o.Algorithm == 0 {
		o.Algorithm = dnssec.ECDSAP256SHA256
	}
	if o.DNSKEYTTL <= 0 {
		o.DNSKEYTTL = time.Hour
	}
	if o.ZSKLifetime <= 0 {
		o.ZSKLifetime = 30 * 24 * time.Hour
	}
	if o.ParentDSTTL < time.Second {
		o.ParentDSTTL = time.Hour
	}
	if o.RetireAfter <= 0 {
		o.RetireAfter = 7 * 24 * time.Hour
	}
	o.Signatures = o.Signatures.Norm()
	return o
}

// KeySigningKey is a KSK as Route 53 describes it. It holds no private
// key.
type KeySigningKey struct {
	Name                     string
	KeyTag                   uint16
	Flag                     int
	SigningAlgorithmMnemonic string
	SigningAlgorithmType     int
	DigestAlgorithmMnemonic  string
	DigestAlgorithmType      int
	DigestValue              string
	PublicKey                string
	DSRecord                 string
	DNSKEYRecord             string
	Status                   string
	StatusMessage            string
	CreatedAt                time.Time
	LastModifiedAt           time.Time
}

// ZoneSigningKey is a ZSK as GET …/dnssec shows it (read-only).
type ZoneSigningKey struct {
	Name                     string
	KeyTag                   uint16
	SigningAlgorithmMnemonic string
	DNSKEYRecord             string
	Status                   string
	CreatedAt                time.Time
	StatusSince              time.Time
}

// DNSSECInfo is GET /v1/hostedzones/{id}/dnssec.
type DNSSECInfo struct {
	ServeSignature  string
	StatusMessage   string
	KeySigningKeys  []KeySigningKey
	ZoneSigningKeys []ZoneSigningKey
}

// CreateKeySigningKeyInput is the body of POST …/keysigningkeys.
type CreateKeySigningKeyInput struct {
	Name            string
	Status          string
	CallerReference string
}

// signingKey is one row of dnssec_key.
type signingKey struct {
	Name, Kind, Status string
	Algorithm          uint8
	KeyTag             uint16
	PublicKey          string // base64, the DNSKEY's public key field
	Sealed             []byte
	CallerReference    string
	CreatedAt          time.Time
	UpdatedAt          time.Time
	StatusSince        time.Time
	// SinceVersion is the zone version of the change that gave the key
	// its status; 0 until that change is committed (commitZoneKeys).
	SinceVersion int64
	// ParentDSGoneAt is when a RETIRED KSK's DS was first seen gone from
	// a parent outside Waymark, nil until then; ParentDSTTL the largest
	// TTL that parent gave the answers (dnssec_remote.go).
	ParentDSGoneAt *time.Time
	ParentDSTTL    uint32
}

func (k *signingKey) flags() uint16 {
	if k.Kind == "KSK" {
		return dnssec.FlagKSK
	}
	return dnssec.FlagZSK
}

// dnskey is the key's public DNSKEY record at zone.
func (k *signingKey) dnskey(zone string, ttl uint32) *dns.DNSKEY {
	return &dns.DNSKEY{
		Hdr:   dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: ttl},
		Flags: k.flags(), Protocol: 3, Algorithm: k.Algorithm, PublicKey: k.PublicKey,
	}
}

// zoneKeys is a zone's DNSSEC state inside a transaction.
type zoneKeys struct {
	id, name, status string
	version          int64
	keys             []signingKey
	// message is the status message GET …/dnssec shows (the operator's
	// step at a parent outside Waymark, dnssec_remote.go); actionNeeded
	// makes a signing zone's status ACTION_NEEDED while it waits on it.
	message      string
	actionNeeded bool
}

func (z *zoneKeys) find(kind, name string) *signingKey {
	for i := range z.keys {
		if z.keys[i].Kind == kind && z.keys[i].Name == name {
			return &z.keys[i]
		}
	}
	return nil
}

func (z *zoneKeys) count(kind, status string) int {
	n := 0
	for _, k := range z.keys {
		if k.Kind == kind && (status == "" || k.Status == status) {
			n++
		}
	}
	return n
}

var kskName = regexp.MustCompile(`^[a-zA-Z0-9_]{3,128}$`)

func errNoSuchKSK(name string) *Error {
	return Errorf(CodeNoSuchKeySigningKey, "no key-signing key named %q in this hosted zone", displayID(name))
}

// CreateKeySigningKey adds a KSK to a zone (at most two). An ACTIVE KSK of
// a signing zone is published at once.
func (s *Service) CreateKeySigningKey(ctx context.Context, tenantID, zoneID string, in CreateKeySigningKeyInput) (KeySigningKey, ChangeInfo, error) {
	if !kskName.MatchString(in.Name) {
		return KeySigningKey{}, ChangeInfo{}, Errorf(CodeInvalidKeySigningKeyName,
			"a key-signing key name is 3 to 128 letters, digits or underscores")
	}
	if in.Status != KeyStatusActive && in.Status != KeyStatusInactive {
		return KeySigningKey{}, ChangeInfo{}, Errorf(CodeInvalidKeySigningKeyStatus, "status must be ACTIVE or INACTIVE")
	}
	if err := checkText("CallerReference", in.CallerReference, 0, 128); err != nil {
		return KeySigningKey{}, ChangeInfo{}, err
	}
	var out KeySigningKey
	info, err := s.dnssecChange(ctx, tenantID, zoneID, func(z *zoneKeys) error {
		if z.find("KSK", in.Name) != nil {
			return Errorf(CodeKeySigningKeyAlreadyExists, "a key-signing key named %q exists in this hosted zone", in.Name)
		}
		for _, k := range z.keys {
			if in.CallerReference != "" && k.Kind == "KSK" && k.CallerReference == in.CallerReference {
				return Errorf(CodeKeySigningKeyAlreadyExists, "the caller reference was used for key-signing key %q", k.Name)
			}
		}
		if z.count("KSK", "") >= MaxKeySigningKeys {
			return Errorf(CodeTooManyKeySigningKeys, "a hosted zone has at most %d key-signing keys", MaxKeySigningKeys)
		}
		k, err := s.newKey(z, "KSK", in.Name, in.Status)
		if err != nil {
			return err
		}
		k.CallerReference = in.CallerReference
		z.keys = append(z.keys, k)
		out = s.kskInfo(z.name, k)
		return nil
	})
	return out, info, err
}

// ActivateKeySigningKey makes an INACTIVE KSK ACTIVE.
func (s *Service) ActivateKeySigningKey(ctx context.Context, tenantID, zoneID, name string) (ChangeInfo, error) {
	return s.dnssecChange(ctx, tenantID, zoneID, func(z *zoneKeys) error {
		k := z.find("KSK", name)
		switch {
		case k == nil:
			return errNoSuchKSK(name)
		case k.Status != KeyStatusInactive:
			return Errorf(CodeInvalidKeySigningKeyStatus, "key-signing key %q is %s, not INACTIVE", name, k.Status)
		}
		s.setStatus(k, KeyStatusActive)
		return nil
	})
}

// DeactivateKeySigningKey makes an ACTIVE KSK INACTIVE; refused for the
// last active KSK of a signing zone and for a KSK whose DS the parent
// (hosted here) still holds.
func (s *Service) DeactivateKeySigningKey(ctx context.Context, tenantID, zoneID, name string) (ChangeInfo, error) {
	return s.dnssecChangeTx(ctx, tenantID, zoneID, func(tx pgx.Tx, z *zoneKeys) error {
		k := z.find("KSK", name)
		switch {
		case k == nil:
			return errNoSuchKSK(name)
		case k.Status != KeyStatusActive:
			return Errorf(CodeInvalidKeySigningKeyStatus, "key-signing key %q is %s, not ACTIVE", name, k.Status)
		case z.status != SigningStatusNotSigning && z.count("KSK", KeyStatusActive) == 1:
			return Errorf(CodeKeySigningKeyInUse,
				"key-signing key %q is the zone's only active one; disable DNSSEC signing first", name)
		}
		if _, managed, err := s.managedParent(ctx, tx, z); err != nil {
			return err
		} else if managed && z.status != SigningStatusNotSigning {
			// The parent is ours: the key keeps signing until its DS
			// has left the parent (dnssec_parent.go).
			s.setStatus(k, KeyStatusRetired)
			return nil
		} else if z.status == SigningStatusSigning && s.dnssecOpts().ParentDS != nil {
			// The parent is elsewhere but can be asked: the key keeps
			// signing until the parent's nameservers no longer answer
			// its DS and that answer's TTL has passed (dnssec_remote.go).
			s.setStatus(k, KeyStatusRetired)
			return nil
		}
		if err := s.refuseIfInParentDS(ctx, tx, z, k); err != nil {
			return err
		}
		s.setStatus(k, KeyStatusInactive)
		return nil
	})
}

// DeleteKeySigningKey deletes an INACTIVE KSK.
func (s *Service) DeleteKeySigningKey(ctx context.Context, tenantID, zoneID, name string) (ChangeInfo, error) {
	return s.dnssecChangeTx(ctx, tenantID, zoneID, func(tx pgx.Tx, z *zoneKeys) error {
		k := z.find("KSK", name)
		switch {
		case k == nil:
			return errNoSuchKSK(name)
		case k.Status != KeyStatusInactive:
			return Errorf(CodeInvalidKeySigningKeyStatus, "key-signing key %q must be INACTIVE to be deleted", name)
		}
		if err := s.refuseIfInParentDS(ctx, tx, z, k); err != nil {
			return err
		}
		z.keys = slices.DeleteFunc(z.keys, func(r signingKey) bool { return r.Kind == "KSK" && r.Name == name })
		return nil
	})
}

// EnableDNSSEC starts signing the zone. Beyond Route 53: a zone without
// any KSK gets one, created ACTIVE, so that one call signs a zone. A zone
// whose KSKs are all INACTIVE is refused, as in Route 53.
func (s *Service) EnableDNSSEC(ctx context.Context, tenantID, zoneID string) (ChangeInfo, error) {
	if err := s.refuseSecondary(ctx, tenantID, zoneID, "signing it with DNSSEC"); err != nil {
		return ChangeInfo{}, err
	}
	return s.dnssecChange(ctx, tenantID, zoneID, s.enableSigning)
}

// enableSigning is EnableDNSSEC's step on the zone's keys.
func (s *Service) enableSigning(z *zoneKeys) error {
	if z.count("KSK", "") == 0 {
		k, err := s.newKey(z, "KSK", "waymark_ksk_1", KeyStatusActive)
		if err != nil {
			return err
		}
		z.keys = append(z.keys, k)
	}
	if z.count("KSK", KeyStatusActive) == 0 {
		return Errorf(CodeKeySigningKeyWithActiveStatusNotFound,
			"the hosted zone has no ACTIVE key-signing key; activate one first")
	}
	if z.count("ZSK", KeyStatusActive) == 0 {
		k, err := s.newKey(z, "ZSK", "", KeyStatusActive)
		if err != nil {
			return err
		}
		z.keys = append(z.keys, k)
	}
	z.status = SigningStatusSigning
	return nil
}

// DisableDNSSEC stops signing the zone; refused while the parent (hosted
// here) holds a DS of one of its KSKs, since that would make the zone
// bogus for every validating resolver. The ZSKs are dropped; the KSKs
// stay for a later enable.
func (s *Service) DisableDNSSEC(ctx context.Context, tenantID, zoneID string) (ChangeInfo, error) {
	return s.dnssecChangeTx(ctx, tenantID, zoneID, func(tx pgx.Tx, z *zoneKeys) error {
		if _, managed, err := s.managedParent(ctx, tx, z); err != nil {
			return err
		} else if managed && z.status == SigningStatusSigning {
			// DELETING: the DS leaves the parent first, then signing
			// stops (dnssec_parent.go).
			z.status = SigningStatusDeleting
			return nil
		}
		if z.status == SigningStatusDeleting {
			return Errorf(CodePriorRequestNotComplete, "DNSSEC signing of this hosted zone is already being removed")
		}
		for i := range z.keys {
			if z.keys[i].Kind == "KSK" {
				if err := s.refuseIfInParentDS(ctx, tx, z, &z.keys[i]); err != nil {
					return err
				}
			}
		}
		z.keys = slices.DeleteFunc(z.keys, func(r signingKey) bool { return r.Kind == "ZSK" })
		z.status = SigningStatusNotSigning
		return nil
	})
}

// RollZSK starts a pre-publish ZSK rollover now (RFC 6781 §4.1.1.1): a new
// ZSK is published; AdvanceDNSSEC makes it sign once the DNSKEY set has
// reached every nameserver and its TTL has passed, then retires the old
// one. Refused while a rollover is under way.
func (s *Service) RollZSK(ctx context.Context, tenantID, zoneID string) (ChangeInfo, error) {
	return s.dnssecChange(ctx, tenantID, zoneID, func(z *zoneKeys) error {
		return s.startZSKRoll(z)
	})
}

func (s *Service) startZSKRoll(z *zoneKeys) error {
	if z.status != SigningStatusSigning {
		return Errorf(CodeDNSSECNotEnabled, "the hosted zone is not signing")
	}
	if z.count("ZSK", KeyStatusPublished) > 0 || z.count("ZSK", KeyStatusRetired) > 0 {
		return Errorf(CodePriorRequestNotComplete, "a ZSK rollover of this hosted zone is under way")
	}
	k, err := s.newKey(z, "ZSK", "", KeyStatusPublished)
	if err != nil {
		return err
	}
	z.keys = append(z.keys, k)
	return nil
}

// GetDNSSEC returns the zone's signing status and keys. A zone that never
// signed is NOT_SIGNING with no keys.
func (s *Service) GetDNSSEC(ctx context.Context, tenantID, zoneID string) (DNSSECInfo, error) {
	id, ok := cleanID(zoneID)
	if !ok {
		return DNSSECInfo{}, errNoSuchZone(displayID(zoneID))
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return DNSSECInfo{}, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	z, err := loadZoneKeys(ctx, tx, tenantID, id, false)
	if err != nil {
		return DNSSECInfo{}, err
	}
	out := DNSSECInfo{ServeSignature: z.status, StatusMessage: z.message, KeySigningKeys: []KeySigningKey{}, ZoneSigningKeys: []ZoneSigningKey{}}
	if z.status == SigningStatusSigning && z.actionNeeded {
		out.ServeSignature = SigningStatusActionNeeded
	}
	ttl := uint32(s.dnssecOpts().DNSKEYTTL / time.Second)
	for _, k := range z.keys {
		if k.Kind == "KSK" {
			out.KeySigningKeys = append(out.KeySigningKeys, s.kskInfo(z.name, k))
			continue
		}
		out.ZoneSigningKeys = append(out.ZoneSigningKeys, ZoneSigningKey{
			Name: k.Name, KeyTag: k.KeyTag, SigningAlgorithmMnemonic: dnssec.AlgorithmMnemonic(k.Algorithm),
			DNSKEYRecord: zonecfg.RData(k.dnskey(z.name, ttl)), Status: k.Status,
			CreatedAt: k.CreatedAt, StatusSince: k.StatusSince,
		})
	}
	return out, nil
}

func (s *Service) kskInfo(zone string, k signingKey) KeySigningKey {
	key := k.dnskey(zone, uint32(s.dnssecOpts().DNSKEYTTL/time.Second))
	ds := key.ToDS(dns.SHA256)
	return KeySigningKey{
		Name: k.Name, KeyTag: k.KeyTag, Flag: int(k.flags()),
		SigningAlgorithmMnemonic: dnssec.AlgorithmMnemonic(k.Algorithm), SigningAlgorithmType: int(k.Algorithm),
		DigestAlgorithmMnemonic: "SHA-256", DigestAlgorithmType: int(dns.SHA256),
		DigestValue: ds.Digest, PublicKey: k.PublicKey,
		DSRecord: zonecfg.RData(ds), DNSKEYRecord: zonecfg.RData(key),
		Status: kskStatusShown(k.Status), CreatedAt: k.CreatedAt, LastModifiedAt: k.UpdatedAt,
	}
}

func (s *Service) dnssecOpts() DNSSECOptions { return s.cfg.DNSSEC.norm() }

func (s *Service) setStatus(k *signingKey, status string) {
	k.Status, k.UpdatedAt, k.StatusSince, k.SinceVersion = status, s.now(), s.now(), 0
	k.ParentDSGoneAt, k.ParentDSTTL = nil, 0
}

// newKey generates a key and seals its private half under the master
// key. ZSKs are named zsk_<tag>_<unix time>.
func (s *Service) newKey(z *zoneKeys, kind, name, status string) (signingKey, error) {
	o := s.dnssecOpts()
	raw, err := dnssec.Generate(o.Algorithm)
	if err != nil {
		return signingKey{}, err
	}
	defer clear(raw)
	flags := uint16(dnssec.FlagZSK)
	if kind == "KSK" {
		flags = dnssec.FlagKSK
	}
	key, err := dnssec.ParseKey(z.name, flags, o.Algorithm, 0, raw)
	if err != nil {
		return signingKey{}, err
	}
	now := s.now()
	if name == "" {
		name = "zsk_" + strconv.Itoa(int(key.KeyTag())) + "_" + strconv.FormatInt(now.UnixNano(), 36)
	}
	sealed, err := dnssec.Seal(s.cfg.MasterKey, raw, dnssec.KeyAD(z.id, name), s.cfg.Rand)
	if err != nil {
		return signingKey{}, err
	}
	return signingKey{
		Name: name, Kind: kind, Status: status, Algorithm: o.Algorithm, KeyTag: key.KeyTag(),
		PublicKey: key.DNSKEY.PublicKey, Sealed: sealed, CreatedAt: now, UpdatedAt: now, StatusSince: now,
	}, nil
}

// refuseIfInParentDS returns KeySigningKeyInParentDSRecord when a parent
// zone of the same tenant, hosted here, holds a DS for k. It reads through
// tx, the zone's transaction: a second connection from the pool while tx
// holds one could wait for ever on a small pool.
func (s *Service) refuseIfInParentDS(ctx context.Context, tx pgx.Tx, z *zoneKeys, k *signingKey) error {
	in, err := s.inParentDS(ctx, tx, z, k)
	if err != nil {
		return err
	}
	if in {
		return Errorf(CodeKeySigningKeyInParentDSRecord,
			"the parent zone holds a DS record for key-signing key %q; remove it there first", k.Name)
	}
	return nil
}

func (s *Service) inParentDS(ctx context.Context, tx pgx.Tx, z *zoneKeys, k *signingKey) (bool, error) {
	ds := k.dnskey(z.name, 0).ToDS(dns.SHA256)
	var sets [][]string
	rows, err := tx.Query(ctx, `SELECT r.rdata FROM rrset r JOIN hosted_zone p ON p.id = r.zone_id
	     JOIN hosted_zone c ON c.id = $1 AND c.tenant_id = p.tenant_id
	     WHERE r.name = c.name AND r.type = 'DS' AND p.id <> c.id`, z.id)
	if err != nil {
		return false, err
	}
	sets, err = pgx.CollectRows(rows, pgx.RowTo[[]string])
	if err != nil {
		return false, err
	}
	if k := s.delegationKeeper(); k != nil {
		// The parent the keeper publishes the delegation in.
		if d, ok, err := k.DelegationOf(ctx, tx, z.id, z.name); err != nil {
			return false, err
		} else if ok {
			sets = append(sets, d.DS)
		}
	}
	if lookup := s.dnssecOpts().ParentDS; lookup != nil {
		// The parent elsewhere, asked over DNS. If it cannot be asked
		// (no answer within the lookup's timeout), the call goes ahead
		// as it did before this check: the parent's DS is then the
		// operator's to have removed (docs/dnssec.md).
		if remote, _, err := lookup.ParentDS(ctx, z.name); err == nil {
			sets = append(sets, remote)
		}
	}
	for _, set := range sets {
		for _, v := range set {
			f := strings.Fields(v)
			if len(f) == 4 && f[0] == strconv.Itoa(int(ds.KeyTag)) && strings.EqualFold(f[3], ds.Digest) {
				return true, nil
			}
		}
	}
	return false, nil
}

// loadZoneKeys reads a zone's DNSSEC status and keys, locking the zone
// row when lock is set.
func loadZoneKeys(ctx context.Context, tx pgx.Tx, tenantID, id string, lock bool) (*zoneKeys, error) {
	q := `SELECT name, version, dnssec_status, dnssec_message, dnssec_action_needed FROM hosted_zone WHERE id = $1 AND tenant_id = $2`
	if lock {
		q += ` FOR NO KEY UPDATE`
	}
	z := &zoneKeys{id: id}
	if err := tx.QueryRow(ctx, q, id, tenantID).Scan(&z.name, &z.version, &z.status, &z.message, &z.actionNeeded); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, errNoSuchZone(id)
		}
		return nil, err
	}
	rows, err := tx.Query(ctx, `SELECT name, kind, status, algorithm, key_tag, public_key, sealed_private,
	       caller_reference, created_at, updated_at, status_since, since_version, parent_ds_gone_at, parent_ds_ttl
	  FROM dnssec_key WHERE zone_id = $1 ORDER BY kind, created_at, name`, id)
	if err != nil {
		return nil, err
	}
	z.keys, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (signingKey, error) {
		var k signingKey
		var alg int16
		var tag, pttl int32
		err := row.Scan(&k.Name, &k.Kind, &k.Status, &alg, &tag, &k.PublicKey, &k.Sealed,
			&k.CallerReference, &k.CreatedAt, &k.UpdatedAt, &k.StatusSince, &k.SinceVersion, &k.ParentDSGoneAt, &pttl)
		k.Algorithm, k.KeyTag, k.ParentDSTTL = uint8(alg), uint16(tag), uint32(pttl)
		return k, err
	})
	return z, err
}

// dnssecChange runs fn on the zone's keys under the zone's row lock and,
// if it succeeds, stores the keys, rebuilds the signing material and
// publishes it as a change (PENDING until every nameserver has it, like
// a change batch).
func (s *Service) dnssecChange(ctx context.Context, tenantID, zoneID string, fn func(*zoneKeys) error) (ChangeInfo, error) {
	return s.dnssecChangeTx(ctx, tenantID, zoneID, func(_ pgx.Tx, z *zoneKeys) error { return fn(z) })
}

// dnssecChangeTx is dnssecChange for steps that also read inside the
// transaction (dnssec_roll.go).
func (s *Service) dnssecChangeTx(ctx context.Context, tenantID, zoneID string, fn func(pgx.Tx, *zoneKeys) error) (ChangeInfo, error) {
	id, ok := cleanID(zoneID)
	if !ok {
		return ChangeInfo{}, errNoSuchZone(displayID(zoneID))
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return ChangeInfo{}, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `SELECT set_config('lock_timeout', $1, true)`,
		fmt.Sprintf("%dms", zoneLockTimeout.Milliseconds())); err != nil {
		return ChangeInfo{}, err
	}
	info, _, err := s.dnssecChangeIn(ctx, tx, tenantID, id, fn)
	if err != nil {
		return ChangeInfo{}, err
	}
	audited, err := s.auditInTx(ctx, tx) // audit.go
	if err != nil {
		return ChangeInfo{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return ChangeInfo{}, err
	}
	audited()
	return info, nil
}

// dnssecChangeIn runs fn on the zone's keys inside tx and records the
// change, without committing; it returns the keys as fn left them.
func (s *Service) dnssecChangeIn(ctx context.Context, tx pgx.Tx, tenantID, id string, fn func(pgx.Tx, *zoneKeys) error) (ChangeInfo, *zoneKeys, error) {
	z, err := loadZoneKeys(ctx, tx, tenantID, id, true)
	if err != nil {
		return ChangeInfo{}, nil, lockError(err)
	}
	if err := fn(tx, z); err != nil {
		return ChangeInfo{}, nil, err
	}
	info, err := s.commitZoneKeys(ctx, tx, tenantID, z)
	return info, z, err
}

// commitZoneKeys writes z's keys and status, bumps the zone version and
// records the change with the new signing material.
func (s *Service) commitZoneKeys(ctx context.Context, tx pgx.Tx, tenantID string, z *zoneKeys) (ChangeInfo, error) {
	material, err := s.signingMaterial(z)
	if err != nil {
		return ChangeInfo{}, err
	}
	var stored []byte
	if material.Signed() {
		if stored, err = json.Marshal(material); err != nil {
			return ChangeInfo{}, err
		}
	}
	var b pgx.Batch
	b.Queue(`DELETE FROM dnssec_key WHERE zone_id = $1`, z.id)
	for i := range z.keys {
		k := &z.keys[i]
		if k.SinceVersion == 0 {
			k.SinceVersion = z.version + 1 // this change
		}
		b.Queue(`INSERT INTO dnssec_key (zone_id, name, kind, status, algorithm, key_tag, public_key, sealed_private,
		             caller_reference, created_at, updated_at, status_since, since_version, parent_ds_gone_at, parent_ds_ttl)
		         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			z.id, k.Name, k.Kind, k.Status, int16(k.Algorithm), int32(k.KeyTag), k.PublicKey, k.Sealed,
			k.CallerReference, k.CreatedAt, k.UpdatedAt, k.StatusSince, k.SinceVersion, k.ParentDSGoneAt, int32(k.ParentDSTTL))
	}
	if z.status != SigningStatusSigning {
		z.message, z.actionNeeded = "", false
	}
	b.Queue(`UPDATE hosted_zone SET version = $2, dnssec_status = $3, dnssec = $4, dnssec_message = $5, dnssec_action_needed = $6 WHERE id = $1`,
		z.id, z.version+1, z.status, stored, z.message, z.actionNeeded)
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return ChangeInfo{}, fmt.Errorf("dnssec: store keys: %w", err)
	}
	ev := event.ZoneEvent{
		Kind: event.ZoneUpdated, ZoneID: z.id, ZoneName: z.name,
		FromVersion: z.version, ToVersion: z.version + 1, DNSSEC: material,
	}
	info, err := s.recordChange(ctx, tx, tenantID, "", ev)
	if err != nil {
		return ChangeInfo{}, err
	}
	z.version++
	return info, nil
}

// signingMaterial builds what nameservers need to sign z: the published
// DNSKEYs, the KSKs' signatures over the DNSKEY, CDS and CDNSKEY sets,
// and the ZSKs wrapped under the fleet key. A zone that is not signing
// gets an empty value (the nameservers stop signing it).
func (s *Service) signingMaterial(z *zoneKeys) (*zonecfg.DNSSEC, error) {
	out := &zonecfg.DNSSEC{}
	if z.status == SigningStatusNotSigning {
		return out, nil
	}
	o := s.dnssecOpts()
	ttl := uint32(o.DNSKEYTTL / time.Second)
	out.DNSKEYTTL = ttl
	var dnskeys, cds, cdnskey []dns.RR
	var ksks []*dnssec.Key
	for _, k := range z.keys {
		if k.Kind == "KSK" && k.Status != KeyStatusActive && k.Status != KeyStatusRetired {
			continue
		}
		raw, err := dnssec.Open(s.cfg.MasterKey, k.Sealed, dnssec.KeyAD(z.id, k.Name))
		if err != nil {
			return nil, fmt.Errorf("dnssec: zone %s key %s: %w", z.id, k.Name, err)
		}
		key, err := dnssec.ParseKey(z.name, k.flags(), k.Algorithm, ttl, raw)
		if err != nil {
			clear(raw)
			return nil, err
		}
		dnskeys = append(dnskeys, key.DNSKEY)
		out.DNSKEYs = append(out.DNSKEYs, zonecfg.RData(key.DNSKEY))
		if k.Kind == "KSK" {
			clear(raw)
			ksks = append(ksks, key)
			if k.Status == KeyStatusActive && z.status == SigningStatusSigning {
				// A retiring key is no longer offered to parents.
				c := key.DS().ToCDS()
				c.Hdr.Ttl = ttl
				cds = append(cds, c)
				cdnskey = append(cdnskey, key.DNSKEY.ToCDNSKEY())
			}
			continue
		}
		wrapped, err := dnssec.Seal(s.fleetKey(), raw, dnssec.KeyAD(z.id, k.Name), s.cfg.Rand)
		clear(raw)
		if err != nil {
			return nil, err
		}
		out.ZSKs = append(out.ZSKs, zonecfg.ZSK{
			Name: k.Name, KeyTag: k.KeyTag, Algorithm: k.Algorithm, Active: k.Status == KeyStatusActive, Wrapped: wrapped,
		})
	}
	if len(ksks) == 0 || out.ActiveZSK() == nil {
		// Nothing can be signed: the nameservers stop signing rather
		// than serve a broken chain.
		return &zonecfg.DNSSEC{}, nil
	}
	if z.status == SigningStatusDeleting {
		// RFC 8078 §4: the parent is asked to remove the DS set.
		cds = []dns.RR{&dns.CDS{DS: dns.DS{Hdr: dns.RR_Header{Name: z.name, Rrtype: dns.TypeCDS, Class: dns.ClassINET, Ttl: ttl},
			Digest: "00"}}}
		cdnskey = []dns.RR{&dns.CDNSKEY{DNSKEY: dns.DNSKEY{Hdr: dns.RR_Header{Name: z.name, Rrtype: dns.TypeCDNSKEY, Class: dns.ClassINET, Ttl: ttl},
			Protocol: 3, PublicKey: "AA=="}}}
	}
	for _, c := range cds {
		out.CDS = append(out.CDS, zonecfg.RData(c))
	}
	for _, c := range cdnskey {
		out.CDNSKEY = append(out.CDNSKEY, zonecfg.RData(c))
	}
	now := s.now()
	for _, set := range []struct {
		rrs  []dns.RR
		typ  uint16
		sigs *[]string
	}{{dnskeys, dns.TypeDNSKEY, &out.DNSKEYSigs}, {cds, dns.TypeCDS, &out.CDSSigs}, {cdnskey, dns.TypeCDNSKEY, &out.CDNSKEYSigs}} {
		inc, exp, _ := o.Signatures.Window(now, z.name, set.typ)
		for _, k := range ksks {
			sig, err := k.Sign(set.rrs, inc, exp)
			if err != nil {
				return nil, fmt.Errorf("dnssec: sign %s of %s: %w", dns.TypeToString[set.typ], z.name, err)
			}
			*set.sigs = append(*set.sigs, zonecfg.RData(sig))
		}
	}
	return out, nil
}

// fleetKey is the key ZSKs are wrapped under for the nameservers.
func (s *Service) fleetKey() []byte {
	if len(s.cfg.FleetKey) == 32 {
		return s.cfg.FleetKey
	}
	return dnssec.FleetKeyFrom(s.cfg.MasterKey)
}

// lockError turns a lock timeout into Route 53's retryable refusal.
func lockError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "55P03" || pe.Code == "40P01") {
		return Errorf(CodePriorRequestNotComplete,
			"The request was rejected because a prior request for this hosted zone was still being processed.")
	}
	return err
}
