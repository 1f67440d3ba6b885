package controlplane

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/zonecfg"
)

// This file lets a package that the control plane does not know (the
// registrar, which controlplane must not import) create hosted zones and
// change record sets in the same PostgreSQL transaction as rows of its
// own: a domain registration, its ledger charge, the tenant's new hosted
// zone and the delegation in the TLD zone commit together or not at all.

// ZoneTx is one open transaction of Service.InTx. Its methods run the same
// statements, checks and outbox writes as the Service methods of the same
// names; Tx gives the caller the transaction for its own statements. It
// is not safe for concurrent use, and is dead once InTx returns.
type ZoneTx struct {
	s  *Service
	tx pgx.Tx
}

// InTx runs fn in one transaction and commits it if fn returns nil. An
// error from fn, or any failed statement, rolls everything back. The
// relay is woken after the commit, so that the changes fn made are
// published as soon as they are durable.
func (s *Service) InTx(ctx context.Context, fn func(ctx context.Context, zt *ZoneTx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(ctx, &ZoneTx{s: s, tx: tx}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		if e, ok := AsError(err); ok {
			return e
		}
		return fmt.Errorf("commit: %w", err)
	}
	s.wakeRelay()
	return nil
}

// Tx is the transaction, for the caller's own statements.
func (zt *ZoneTx) Tx() pgx.Tx { return zt.tx }

// GetZone is Service.GetZone inside the transaction, on its connection
// (a second connection from the pool while this one is held could wait
// for ever on a small pool). The zone's row is locked FOR SHARE: it
// cannot be deleted before the transaction ends.
func (zt *ZoneTx) GetZone(ctx context.Context, tenantID, zoneID string) (Zone, error) {
	return zt.s.getZone(ctx, zt.tx, tenantID, zoneID, " FOR SHARE")
}

// DelegationDS is the DS set (canonical RDATA, sorted) a parent should
// publish for the tenant's zone now: one per ACTIVE key-signing key whose
// DNSKEY is on every nameserver, none while the zone is not signing.
func (zt *ZoneTx) DelegationDS(ctx context.Context, tenantID, zoneID string) ([]string, error) {
	z, err := loadZoneKeys(ctx, zt.tx, tenantID, zoneID, false)
	if err != nil {
		return nil, err
	}
	return zt.s.wantDS(ctx, zt.tx, z)
}

// EnableDNSSEC is Service.EnableDNSSEC inside the transaction, for a zone
// created in it: it also returns the DS of the zone's ACTIVE key-signing
// keys (canonical RDATA, sorted) at once. DelegationDS waits for the
// DNSKEY to be on every nameserver, which protects resolvers that may
// already have the zone's old answers cached; a zone created in this
// transaction has none, and its delegation appears with its DS.
func (zt *ZoneTx) EnableDNSSEC(ctx context.Context, tenantID, zoneID string) (ChangeInfo, []string, error) {
	id, ok := cleanID(zoneID)
	if !ok {
		return ChangeInfo{}, nil, errNoSuchZone(displayID(zoneID))
	}
	info, z, err := zt.s.dnssecChangeIn(ctx, zt.tx, tenantID, id, func(_ pgx.Tx, z *zoneKeys) error { return zt.s.enableSigning(z) })
	if err != nil {
		return ChangeInfo{}, nil, err
	}
	var ds []string
	for _, k := range z.keys {
		if k.Kind == "KSK" && k.Status == KeyStatusActive {
			ds = append(ds, zonecfg.RData(k.dnskey(z.name, 0).ToDS(dns.SHA256)))
		}
	}
	slices.Sort(ds)
	return info, ds, nil
}

// CreateZone is Service.CreateZone inside the transaction.
func (zt *ZoneTx) CreateZone(ctx context.Context, tenantID string, in CreateZoneInput) (Zone, ChangeInfo, error) {
	return zt.createZone(ctx, tenantID, in, false)
}

// CreateTLDZone creates the zone of a registry's top-level domain: as
// CreateZone, but a single label is allowed and the hosting rules (public
// suffixes, reserved names) do not apply. Its delegation set shares no name
// with any zone below it, and zones created below it later get sets
// disjoint from it, so a tenant's zone can never answer for the TLD.
func (zt *ZoneTx) CreateTLDZone(ctx context.Context, tenantID string, in CreateZoneInput) (Zone, ChangeInfo, error) {
	return zt.createZone(ctx, tenantID, in, true)
}

func (zt *ZoneTx) createZone(ctx context.Context, tenantID string, in CreateZoneInput, tld bool) (Zone, ChangeInfo, error) {
	p, err := zt.s.prepareCreateZone(tenantID, in, tld)
	if err != nil {
		return Zone{}, ChangeInfo{}, err
	}
	write := func(_ querier, b *pgx.Batch) error { return p.write(b) }
	if err := zt.trips(ctx, p.read, write); err != nil {
		return Zone{}, ChangeInfo{}, createZoneError(err)
	}
	return *p.zone, *p.info, nil
}

// ChangeRRSets is Service.ChangeRRSets inside the transaction.
func (zt *ZoneTx) ChangeRRSets(ctx context.Context, tenantID, zoneID string, b ChangeBatch) (ChangeInfo, error) {
	id, changes, details, err := prepareBatch(zoneID, b)
	if err != nil {
		return ChangeInfo{}, err
	}
	read, write, info := zt.s.prepareApply(ctx, tenantID, id, b.Comment, changes, details, batchOptions{})
	if err := zt.trips(ctx, read, write); err != nil {
		return ChangeInfo{}, applyError(err)
	}
	return *info, nil
}

// trips sends read's batch, then write's, inside the transaction.
func (zt *ZoneTx) trips(ctx context.Context, read func(*pgx.Batch), write func(querier, *pgx.Batch) error) error {
	rb := &pgx.Batch{}
	read(rb)
	if err := zt.tx.SendBatch(ctx, rb).Close(); err != nil {
		if e, ok := AsError(err); ok {
			return e
		}
		return fmt.Errorf("read: %w", err)
	}
	wb := &pgx.Batch{}
	if err := write(zt.tx, wb); err != nil {
		return err
	}
	if err := zt.tx.SendBatch(ctx, wb).Close(); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return e
		}
		return fmt.Errorf("write: %w", err)
	}
	return nil
}
