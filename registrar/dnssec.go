package registrar

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// This file makes the registrar the control plane's DelegationKeeper: a
// domain delegated to one of its tenant's hosted zones carries in the TLD
// zone the DS of that zone's ACTIVE key-signing keys, kept there by the
// control plane's DNSSEC passes (controlplane/dnssec_parent.go) through
// every rollover, without the tenant calling /v1/domains/{name}/ds. The
// control plane does not import the registrar; New registers it.

// autoDSMessage is the message of the operations the keeper records.
const autoDSMessage = "automatic: the DS of the hosted zone's active key-signing keys"

var _ controlplane.DelegationKeeper = (*Service)(nil)

// DelegationOf reports whether zoneID is the hosted zone a domain of this
// registrar is delegated to, and the TLD zone with the domain's DS. Only a
// zone of the domain's own tenant counts.
func (s *Service) DelegationOf(ctx context.Context, q controlplane.RowQuerier, zoneID, name string) (controlplane.DelegationParent, bool, error) {
	var p controlplane.DelegationParent
	var ttl int64
	err := q.QueryRow(ctx, `SELECT t.zone_id, t.tld, t.delegation_ttl,
	        coalesce((SELECT array_agg(ds.key_tag || ' ' || ds.algorithm || ' ' || ds.digest_type || ' ' || ds.digest
	                  ORDER BY ds.key_tag, ds.algorithm, ds.digest_type, ds.digest) FROM registry_ds ds WHERE ds.domain = d.name), '{}')
	        FROM registrar_domain rd
	        JOIN hosted_zone h ON h.id = rd.hosted_zone_id AND h.tenant_id = rd.tenant_id
	        JOIN registry_domain d ON d.name = rd.name AND d.registrar_id = $3
	        JOIN registry_tld t ON t.tld = d.tld
	        WHERE rd.hosted_zone_id = $1 AND rd.name = $2`, zoneID, name, RegistrarID).Scan(&p.ZoneID, &p.Name, &ttl, &p.DS)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, err
	}
	p.TTL, p.Comment = uint32(ttl), registry.DelegationComment(name)
	return p, true, nil
}

// SetDelegationDS replaces the DS of the domain delegated to zoneID with
// ds, recorded as an ADD_DNSSEC operation (REMOVE_DNSSEC when ds is
// empty) of the domain's tenant. While another operation of the domain is
// in progress it answers PriorRequestNotComplete, and the control plane's
// next pass tries again.
func (s *Service) SetDelegationDS(ctx context.Context, zoneID, name string, ds []string) error {
	list := make([]registry.DS, 0, len(ds))
	for _, v := range ds {
		d, err := parseDS(v)
		if err != nil {
			return err
		}
		list = append(list, d)
	}
	opID, err := s.newOperationID()
	if err != nil {
		return err
	}
	return s.cp.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		q := zt.Tx()
		var tenantID string
		err := q.QueryRow(ctx, `SELECT tenant_id FROM registrar_domain WHERE name = $1 AND hosted_zone_id = $2 FOR UPDATE`, name, zoneID).Scan(&tenantID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // delegated elsewhere since: not ours to keep
		}
		if err != nil {
			return err
		}
		tx := s.reg.Bind(zt)
		if err := tx.SetDS(ctx, RegistrarID, name, list); err != nil {
			return fromRegistry(err)
		}
		typ, status := OpAddDNSSEC, StatusInProgress
		if len(list) == 0 {
			typ = OpRemoveDNSSEC
		}
		changes := tx.Changes()
		if len(changes) == 0 {
			status = StatusSuccessful // on hold: nothing in the DNS
		}
		now := s.reg.Now()
		op := Operation{ID: opID, Domain: name, Type: typ, Status: status, Message: autoDSMessage, SubmittedAt: now, UpdatedAt: now, changes: changes}
		if err := s.insertOperation(ctx, q, tenantID, op, nil); err != nil {
			var e *Error
			if errors.As(err, &e) && e.Code == CodeDuplicateRequest {
				return controlplane.Errorf(controlplane.CodePriorRequestNotComplete,
					"the DS of %s waits for operation %s", name, e.RequestID)
			}
			return err
		}
		_, err = q.Exec(ctx, `UPDATE registrar_operation SET message = $2 WHERE id = $1`, opID, autoDSMessage)
		return err
	})
}

// parseDS reads a DS in canonical RDATA ("key-tag algorithm digest-type
// DIGEST").
func parseDS(v string) (registry.DS, error) {
	f := strings.Fields(v)
	if len(f) != 4 {
		return registry.DS{}, fmt.Errorf("DS %q: want 4 fields", v)
	}
	tag, err1 := strconv.ParseUint(f[0], 10, 16)
	alg, err2 := strconv.ParseUint(f[1], 10, 8)
	dt, err3 := strconv.ParseUint(f[2], 10, 8)
	if err := errors.Join(err1, err2, err3); err != nil {
		return registry.DS{}, fmt.Errorf("DS %q: %w", v, err)
	}
	return registry.DS{KeyTag: uint16(tag), Algorithm: uint8(alg), DigestType: uint8(dt), Digest: strings.ToUpper(f[3])}, nil
}
