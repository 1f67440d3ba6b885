package registrar

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/registrar/registry"
	"github.com/waymark-dns/waymark/zonecfg"
)

// Transfers, two kinds (docs/registrar.md, "Transfers"):
//
//   - In, from another registrar of the registry, with the domain's auth
//     code (RFC 5731 transfer request): TRANSFER_IN_DOMAIN stays
//     IN_PROGRESS until the losing registrar approves or rejects, or the
//     TLD's waiting period ends and the registry approves it; then the
//     domain is the tenant's and the transfer is charged. A transfer out
//     of a tenant's domain, requested by another registrar, is approved
//     or rejected by the tenant (AcceptTransfer, RejectTransfer) or
//     approved when the waiting period ends.
//   - Between tenants (Route 53's TransferDomainToAnotherAwsAccount): the
//     owner offers the domain to another tenant and gets a password; the
//     receiving tenant accepts with it, or rejects; the owner may cancel;
//     an offer not accepted within TenantTransferWait lapses. The
//     registry is not involved; the hosted zone stays with the old owner,
//     as in Route 53.

// Status flag of an offer waiting for the receiving tenant (Route 53's).
const FlagPendingAcceptance = "PENDING_ACCEPTANCE"

// TransferInInput is a request to transfer a domain in from another
// registrar.
type TransferInInput struct {
	Name     string
	AuthCode string
	// Years is added to the expiry when the transfer completes (1-10; 0
	// is 1).
	Years     int
	AutoRenew bool
	Privacy   bool
	// Contacts are stored with the domain once it is the tenant's.
	Contacts        map[string]registry.ContactInfo
	CallerReference string
}

// transferRequest is what registrar_transfer.request keeps of a transfer
// in, for the domain row written when it completes.
type transferRequest struct {
	AutoRenew bool                            `json:"auto_renew"`
	Privacy   bool                            `json:"privacy"`
	Contacts  map[string]registry.ContactInfo `json:"contacts,omitempty"`
	// Years is what a transfer in from an external registry asked for
	// (charged when it completes).
	Years int `json:"years,omitempty"`
}

// transferErr maps a registry refusal of a transfer command.
func transferErr(err error) error {
	e, ok := registry.AsError(err)
	if !ok {
		return err
	}
	switch e.Code {
	case registry.ErrInvalidAuthInfo:
		return &Error{Code: CodeInvalidInput, Message: e.Message}
	case registry.ErrStatusProhibits, registry.ErrPendingTransfer, registry.ErrPolicy:
		return &Error{Code: CodeTLDRulesViolation, Message: e.Message}
	case registry.ErrNotPendingTransfer:
		return &Error{Code: CodeInvalidInput, Message: e.Message}
	}
	return fromRegistry(err)
}

// TransferIn asks the registry to transfer a domain from another
// registrar to this registrar, for the tenant. A wrong auth code is
// InvalidInput; a domain that cannot be transferred now (locked, deleted,
// already pending) is TLDRulesViolation. The operation is IN_PROGRESS
// until the transfer is approved (SUCCESSFUL) or refused (FAILED).
func (s *Service) TransferIn(ctx context.Context, tenantID string, in TransferInInput) (Operation, error) {
	if in.CallerReference != "" {
		if op, err := s.operationByRef(ctx, tenantID, in.CallerReference); err == nil {
			return op, nil
		}
	}
	if in.AuthCode == "" {
		return Operation{}, errorf(CodeInvalidInput, "auth_code is required")
	}
	opID, err := s.newOperationID()
	if err != nil {
		return Operation{}, err
	}
	if n, err := zonecfg.CanonicalName(in.Name); err == nil && n != "." {
		t, label, ok, err := s.externalFor(ctx, n)
		if err != nil {
			return Operation{}, err
		}
		if ok {
			return s.externalTransferIn(ctx, tenantID, n, label, t, in, opID)
		}
	}
	req, err := json.Marshal(transferRequest{AutoRenew: in.AutoRenew, Privacy: in.Privacy, Contacts: in.Contacts})
	if err != nil {
		return Operation{}, err
	}
	var op Operation
	err = s.cp.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		q := zt.Tx()
		t, err := s.reg.Bind(zt).RequestTransfer(ctx, RegistrarID, in.Name, in.AuthCode, in.Years)
		if registry.IsCode(err, registry.ErrStatusProhibits) {
			// A domain this registrar sponsors moves between tenants,
			// not registrars.
			var owner string
			if q.QueryRow(ctx, `SELECT tenant_id FROM registrar_domain WHERE name = $1`, canonicalName(in.Name)).Scan(&owner) == nil {
				if owner == tenantID {
					return errorf(CodeInvalidInput, "%s is already in this account", canonicalName(in.Name))
				}
				return errorf(CodeInvalidInput, "%s is registered with Waymark: its owner transfers it to this account (POST /v1/domains/{name}/transfer)",
					canonicalName(in.Name))
			}
		}
		if err != nil {
			return transferErr(err)
		}
		now := s.reg.Now()
		if _, err := q.Exec(ctx, `INSERT INTO registrar_transfer (operation_id, domain, kind, to_tenant, request, status, requested_at, expires_at)
		                          VALUES ($1, $2, 'in', $3, $4, 'pending', $5, $6)`, opID, t.Name, tenantID, req, t.RequestedAt, t.ActBy); err != nil {
			return err
		}
		var ref *string
		if in.CallerReference != "" {
			ref = &in.CallerReference
		}
		op = Operation{ID: opID, Domain: t.Name, Type: OpTransferIn, Status: StatusInProgress,
			CallerReference: in.CallerReference, SubmittedAt: now, UpdatedAt: now,
			Message: fmt.Sprintf("waiting for %s to approve; approved automatically at %s", t.Losing, t.ActBy.UTC().Format(time.RFC3339))}
		if err := s.insertOperation(ctx, q, tenantID, op, ref); err != nil {
			return err
		}
		return s.holdOp(ctx, q, opID, "", op.Message)
	})
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" && in.CallerReference != "" {
			return s.operationByRef(ctx, tenantID, in.CallerReference)
		}
		return Operation{}, err
	}
	return op, nil
}

// canonicalName is the canonical form of a domain name for lookups.
func canonicalName(name string) string {
	n := []byte(name)
	for len(n) > 0 && n[len(n)-1] == '.' {
		n = n[:len(n)-1]
	}
	for i, c := range n {
		if 'A' <= c && c <= 'Z' {
			n[i] = c + 'a' - 'A'
		}
	}
	return string(n) + "."
}

// holdOp marks an operation as waiting for something other than its zone
// changes, with a flag and a message.
func (s *Service) holdOp(ctx context.Context, q pgx.Tx, id, flag, msg string) error {
	_, err := q.Exec(ctx, `UPDATE registrar_operation SET held = true, flag = $2, message = $3 WHERE id = $1`, id, flag, msg)
	return err
}

// finishOp ends a held operation.
func (s *Service) finishOp(ctx context.Context, q pgx.Tx, id, status, msg string) error {
	_, err := q.Exec(ctx, `UPDATE registrar_operation SET held = false, flag = '', status = $2, message = $3, updated_at = $4
	                       WHERE id = $1 AND status IN ('SUBMITTED', 'IN_PROGRESS')`, id, status, msg, s.reg.Now())
	return err
}

// pendingIn is a registrar_transfer row of kind "in".
type pendingIn struct {
	opID, domain, tenant string
	req                  transferRequest
}

// lockPendingIn locks the pending transfer in of a domain, if there is one.
func (s *Service) lockPendingIn(ctx context.Context, q pgx.Tx, domain string) (pendingIn, bool, error) {
	var p pendingIn
	var raw []byte
	err := q.QueryRow(ctx, `SELECT operation_id, domain, to_tenant, request FROM registrar_transfer
	                        WHERE domain = $1 AND kind = 'in' AND status = 'pending' FOR UPDATE`, domain).Scan(&p.opID, &p.domain, &p.tenant, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return pendingIn{}, false, nil
	}
	if err != nil {
		return pendingIn{}, false, err
	}
	return p, true, json.Unmarshal(raw, &p.req)
}

// settleIn records the outcome of a transfer in: an approved one makes
// the domain the tenant's and charges it; a refused one fails the
// operation.
func (s *Service) settleIn(ctx context.Context, q pgx.Tx, tx *registry.Tx, p pendingIn, t registry.Transfer) error {
	now := s.reg.Now()
	if !t.Approved() {
		status := map[string]string{registry.TransferClientRejected: "rejected"}[t.Status]
		if status == "" {
			status = "cancelled"
		}
		if _, err := q.Exec(ctx, `UPDATE registrar_transfer SET status = $2, settled_at = $3 WHERE operation_id = $1`, p.opID, status, now); err != nil {
			return err
		}
		return s.finishOp(ctx, q, p.opID, StatusFailed, fmt.Sprintf("the transfer was %s (%s)", status, t.Status))
	}
	contacts, err := json.Marshal(p.req.Contacts)
	if err != nil {
		return err
	}
	if p.req.Contacts == nil {
		contacts = []byte("{}")
	}
	if _, err := q.Exec(ctx, `INSERT INTO registrar_domain (name, tenant_id, auto_renew, privacy, contacts, created_at, updated_at)
	                          VALUES ($1, $2, $3, $4, $5, $6, $6)`, p.domain, p.tenant, p.req.AutoRenew, p.req.Privacy, contacts, now); err != nil {
		return err
	}
	if _, err := q.Exec(ctx, `INSERT INTO registrar_ledger (tenant_id, domain, operation_id, kind, amount, currency, created_at)
	                          VALUES ($1, $2, $3, $4, $5, $6, $7)`, p.tenant, p.domain, p.opID, ledgerTransfer, t.Price, t.Currency, now); err != nil {
		return err
	}
	if _, err := q.Exec(ctx, `UPDATE registrar_transfer SET status = 'approved', settled_at = $2 WHERE operation_id = $1`, p.opID, now); err != nil {
		return err
	}
	return s.finishOp(ctx, q, p.opID, StatusSuccessful, fmt.Sprintf("transferred (%s); expires at %s", t.Status, t.ExpiresAt.UTC().Format(time.RFC3339)))
}

// settleOut records that a tenant's domain went to another registrar: the
// domain leaves the account, and an auto-renewal the transfer took back
// is refunded. It returns the TRANSFER_OUT_DOMAIN operation's id.
func (s *Service) settleOut(ctx context.Context, q pgx.Tx, tenantID string, t registry.Transfer) (string, error) {
	now := s.reg.Now()
	opID, err := s.newOperationID()
	if err != nil {
		return "", err
	}
	if t.CancelledAutoRenew {
		if err := s.refundGrace(ctx, q, tenantID, opID, registry.Deleted{Name: t.Name, Grace: registry.RGPAutoRenew, Years: 1}); err != nil {
			return "", err
		}
	}
	if _, err := q.Exec(ctx, `DELETE FROM registrar_domain WHERE name = $1 AND tenant_id = $2`, t.Name, tenantID); err != nil {
		return "", err
	}
	return opID, s.lifecycleOp(ctx, q, tenantID, opID, t.Name, OpTransferOut, fmt.Sprintf("transferred to %s (%s)", t.Gaining, t.Status), now)
}

// transfers is the lifecycle's part: approve what waited out the
// waiting period, record transfers another registrar settled over EPP,
// and let offers between tenants lapse.
func (l *Lifecycle) transfers(ctx context.Context, p *Pass) error {
	s := l.s
	var names []string
	err := s.cp.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		var err error
		names, err = s.reg.Bind(zt).DueTransfers(ctx, l.cfg.BatchSize)
		return err
	})
	if err != nil {
		return err
	}
	for _, name := range names {
		// One transaction each: transfers are few, and each locks the
		// registrar's row before the registry's.
		var approved bool
		err := s.cp.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
			q := zt.Tx()
			owner, err := s.lockOwner(ctx, q, name)
			if err != nil {
				return err
			}
			in, hasIn, err := s.lockPendingIn(ctx, q, name)
			if err != nil {
				return err
			}
			tx := s.reg.Bind(zt)
			t, ok, err := tx.ApproveDue(ctx, name)
			if err != nil || !ok {
				return err
			}
			approved = true
			if hasIn && t.Gaining == RegistrarID {
				if err := s.settleIn(ctx, q, tx, in, t); err != nil {
					return err
				}
			}
			if owner != "" && t.Losing == RegistrarID {
				_, err := s.settleOut(ctx, q, owner, t)
				return err
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("transfer of %s: %w", name, err)
		}
		if approved {
			p.TransfersApproved++
		}
	}
	// Transfers in that the losing registrar settled over EPP.
	// (Those from external registries are the external worker's.)
	rows, err := s.db.Query(ctx, `SELECT domain FROM registrar_transfer t WHERE kind = 'in' AND status = 'pending' AND NOT `+externalTransfersFilter+`
	        ORDER BY requested_at LIMIT $1`, l.cfg.BatchSize)
	if err != nil {
		return err
	}
	pending, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, name := range pending {
		err := s.cp.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
			q := zt.Tx()
			in, ok, err := s.lockPendingIn(ctx, q, name)
			if err != nil || !ok {
				return err
			}
			tx := s.reg.Bind(zt)
			t, err := tx.TransferOf(ctx, name)
			if registry.IsCode(err, registry.ErrObjectDoesNotExist) {
				// The domain was released meanwhile.
				t = registry.Transfer{Name: name, Status: registry.TransferClientCancelled}
			} else if err != nil {
				return err
			}
			switch {
			case t.Gaining == RegistrarID && t.Status == registry.TransferPending:
				return nil // still waiting
			case t.Gaining != RegistrarID:
				// A later transfer by another registrar: ours ended
				// without making the domain ours.
				t = registry.Transfer{Name: name, Status: registry.TransferClientCancelled}
			}
			return s.settleIn(ctx, q, tx, in, t)
		})
		if err != nil {
			return fmt.Errorf("transfer of %s: %w", name, err)
		}
	}
	// Offers between tenants that were not accepted in time.
	now := s.reg.Now()
	rows, err = s.db.Query(ctx, `UPDATE registrar_transfer SET status = 'expired', settled_at = $1
	        WHERE kind = 'tenant' AND status = 'pending' AND expires_at <= $1 RETURNING operation_id`, now)
	if err != nil {
		return err
	}
	lapsed, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, id := range lapsed {
		if _, err := s.db.Exec(ctx, `UPDATE registrar_operation SET held = false, flag = '', status = 'FAILED', updated_at = $2,
		        message = 'the receiving account did not accept the transfer in time' WHERE id = $1 AND status = 'IN_PROGRESS'`, id, now); err != nil {
			return err
		}
		p.TransfersLapsed++
	}
	return nil
}

// lockOwner locks the registrar's row of a domain and returns its tenant
// ("" when the registrar does not hold it).
func (s *Service) lockOwner(ctx context.Context, q pgx.Tx, name string) (string, error) {
	var owner string
	err := q.QueryRow(ctx, `SELECT tenant_id FROM registrar_domain WHERE name = $1 FOR UPDATE`, name).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return owner, err
}

// TransferOffer is the answer to TransferToTenant: the operation and the
// password the receiving tenant accepts with (shown once).
type TransferOffer struct {
	Operation Operation
	Password  string
}

// TransferToTenant offers one of the tenant's domains to another tenant
// (Route 53's TransferDomainToAnotherAwsAccount). The operation is
// IN_PROGRESS with PENDING_ACCEPTANCE until the other tenant accepts
// (SUCCESSFUL), rejects or lets TenantTransferWait pass, or the owner
// cancels (FAILED).
func (s *Service) TransferToTenant(ctx context.Context, tenantID, name, toTenant, ref string) (TransferOffer, error) {
	if ref != "" {
		if op, err := s.operationByRef(ctx, tenantID, ref); err == nil {
			// The password was shown once, with the first answer.
			return TransferOffer{Operation: op}, nil
		}
	}
	if toTenant == "" || toTenant == tenantID {
		return TransferOffer{}, errorf(CodeInvalidInput, "name another account (tenant id) to transfer to")
	}
	opID, err := s.newOperationID()
	if err != nil {
		return TransferOffer{}, err
	}
	pw := make([]byte, 15)
	if _, err := io.ReadFull(s.cfg.Rand, pw); err != nil {
		return TransferOffer{}, err
	}
	password := idEncoding.EncodeToString(pw)
	hash := sha256.Sum256([]byte(password))
	var out TransferOffer
	err = s.cp.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		q := zt.Tx()
		d, err := s.owned(ctx, q, tenantID, name)
		if err != nil {
			return err
		}
		var exists bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tenant WHERE id = $1)`, toTenant).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return errorf(CodeInvalidInput, "no account %s", toTenant)
		}
		rd, err := s.reg.Bind(zt).Domain(ctx, d)
		if err != nil {
			return fromRegistry(err)
		}
		if rd.RGP == registry.RGPRedemption || rd.RGP == registry.RGPPending {
			return errorf(CodeTLDRulesViolation, "%s is deleted (%s); restore it first", d, rd.RGP)
		}
		now := s.reg.Now()
		op := Operation{ID: opID, Domain: d, Type: OpInternalTransferOut, Status: StatusInProgress, SubmittedAt: now, UpdatedAt: now,
			Flag: FlagPendingAcceptance, Message: fmt.Sprintf("waiting for account %s to accept before %s", toTenant, now.Add(TenantTransferWait).UTC().Format(time.RFC3339))}
		var refp *string
		if ref != "" {
			refp, op.CallerReference = &ref, ref
		}
		if err := s.insertOperation(ctx, q, tenantID, op, refp); err != nil {
			return err
		}
		if err := s.holdOp(ctx, q, opID, op.Flag, op.Message); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `INSERT INTO registrar_transfer (operation_id, domain, kind, from_tenant, to_tenant, password_hash, status, requested_at, expires_at)
		                          VALUES ($1, $2, 'tenant', $3, $4, $5, 'pending', $6, $7)`, opID, d, tenantID, toTenant, hash[:], now, now.Add(TenantTransferWait)); err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "23505" {
				return errorf(CodeDuplicateRequest, "a transfer of %s is already pending", d)
			}
			return err
		}
		out = TransferOffer{Operation: op, Password: password}
		return nil
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && ref != "" {
		op, err := s.operationByRef(ctx, tenantID, ref)
		return TransferOffer{Operation: op}, err
	}
	return out, err
}

// pendingTenant is a pending offer between tenants.
type pendingTenant struct {
	opID, domain, from, to string
	hash                   []byte
}

func (s *Service) lockPendingTenant(ctx context.Context, q pgx.Tx, name string) (pendingTenant, bool, error) {
	var p pendingTenant
	err := q.QueryRow(ctx, `SELECT operation_id, domain, from_tenant, to_tenant, password_hash FROM registrar_transfer
	                        WHERE domain = $1 AND kind = 'tenant' AND status = 'pending' FOR UPDATE`, canonicalName(name)).
		Scan(&p.opID, &p.domain, &p.from, &p.to, &p.hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return pendingTenant{}, false, nil
	}
	return p, err == nil, err
}

// lockParties locks a domain's registrar row and its pending offer
// between tenants, and returns the owner and the offer (ok false: none).
func (s *Service) lockParties(ctx context.Context, q pgx.Tx, name string) (string, pendingTenant, bool, error) {
	owner, err := s.lockOwner(ctx, q, canonicalName(name))
	if err != nil {
		return "", pendingTenant{}, false, err
	}
	p, ok, err := s.lockPendingTenant(ctx, q, name)
	return owner, p, ok, err
}

// AcceptTransfer accepts a transfer of a domain: for the receiving tenant
// of an offer between tenants, with its password (Route 53's
// AcceptDomainTransferFromAnotherAwsAccount); for the owner of a domain
// another registrar asked for, an approval of that transfer out.
func (s *Service) AcceptTransfer(ctx context.Context, tenantID, name, password, ref string) (Operation, error) {
	return s.refOp(ctx, tenantID, ref, func(ctx context.Context, zt *controlplane.ZoneTx) (op Operation, err error) {
		err = func() error {
			q := zt.Tx()
			owner, p, ok, err := s.lockParties(ctx, q, name)
			if err != nil {
				return err
			}
			now := s.reg.Now()
			switch {
			case ok && p.to == tenantID:
				h := sha256.Sum256([]byte(password))
				if subtle.ConstantTimeCompare(h[:], p.hash) != 1 {
					return errorf(CodeInvalidInput, "wrong password for the transfer of %s", p.domain)
				}
				if _, err := q.Exec(ctx, `UPDATE registrar_domain SET tenant_id = $2, hosted_zone_id = NULL, updated_at = $3 WHERE name = $1`,
					p.domain, tenantID, now); err != nil {
					return err
				}
				if _, err := q.Exec(ctx, `UPDATE registrar_transfer SET status = 'approved', settled_at = $2 WHERE operation_id = $1`, p.opID, now); err != nil {
					return err
				}
				if err := s.finishOp(ctx, q, p.opID, StatusSuccessful, "accepted by account "+tenantID); err != nil {
					return err
				}
				id, err := s.newOperationID()
				if err != nil {
					return err
				}
				op = Operation{ID: id, Domain: p.domain, Type: OpInternalTransferIn, Status: StatusSuccessful, SubmittedAt: now, UpdatedAt: now,
					Message: "transferred from account " + p.from}
				return s.lifecycleOp(ctx, q, tenantID, id, p.domain, OpInternalTransferIn, op.Message, now)
			case owner == tenantID:
				tx := s.reg.Bind(zt)
				t, err := tx.ApproveTransfer(ctx, RegistrarID, canonicalName(name))
				if err != nil {
					return transferErr(err)
				}
				id, err := s.settleOut(ctx, q, tenantID, t)
				if err != nil {
					return err
				}
				op, err = s.opByID(ctx, q, tenantID, id)
				return err
			}
			return errorf(CodeInvalidInput, "no transfer of %s is waiting for this account", canonicalName(name))
		}()
		return op, err
	})
}

// RejectTransfer refuses a transfer: the receiving tenant of an offer
// between tenants (Route 53's RejectDomainTransferFromAnotherAwsAccount),
// or the owner of a domain another registrar asked for.
func (s *Service) RejectTransfer(ctx context.Context, tenantID, name, ref string) (Operation, error) {
	return s.refOp(ctx, tenantID, ref, func(ctx context.Context, zt *controlplane.ZoneTx) (op Operation, err error) {
		err = func() error {
			q := zt.Tx()
			owner, p, ok, err := s.lockParties(ctx, q, name)
			if err != nil {
				return err
			}
			now := s.reg.Now()
			switch {
			case ok && p.to == tenantID:
				if _, err := q.Exec(ctx, `UPDATE registrar_transfer SET status = 'rejected', settled_at = $2 WHERE operation_id = $1`, p.opID, now); err != nil {
					return err
				}
				if err := s.finishOp(ctx, q, p.opID, StatusFailed, "rejected by account "+tenantID); err != nil {
					return err
				}
				// The rejecting tenant gets an operation of its own: the
				// giving tenant's is not theirs to read.
				id, err := s.newOperationID()
				if err != nil {
					return err
				}
				op = Operation{ID: id, Domain: p.domain, Type: OpInternalTransferIn, Status: StatusFailed, SubmittedAt: now, UpdatedAt: now,
					Message: "transfer from account " + p.from + " rejected"}
				return s.lifecycleOpStatus(ctx, q, tenantID, op)
			case owner == tenantID:
				t, err := s.reg.Bind(zt).RejectTransfer(ctx, RegistrarID, canonicalName(name))
				if err != nil {
					return transferErr(err)
				}
				id, err := s.newOperationID()
				if err != nil {
					return err
				}
				op = Operation{ID: id, Domain: t.Name, Type: OpTransferOut, Status: StatusFailed, SubmittedAt: now, UpdatedAt: now,
					Message: "transfer to " + t.Gaining + " rejected"}
				return s.lifecycleOpStatus(ctx, q, tenantID, op)
			}
			return errorf(CodeInvalidInput, "no transfer of %s is waiting for this account", canonicalName(name))
		}()
		return op, err
	})
}

// CancelTransfer withdraws a transfer the tenant started: an offer to
// another tenant (Route 53's CancelDomainTransferToAnotherAwsAccount) or a
// transfer in from another registrar still pending.
func (s *Service) CancelTransfer(ctx context.Context, tenantID, name, ref string) (Operation, error) {
	return s.refOp(ctx, tenantID, ref, func(ctx context.Context, zt *controlplane.ZoneTx) (op Operation, err error) {
		err = func() error {
			q := zt.Tx()
			if _, err := s.lockOwner(ctx, q, canonicalName(name)); err != nil {
				return err
			}
			p, ok, err := s.lockPendingTenant(ctx, q, name)
			if err != nil {
				return err
			}
			now := s.reg.Now()
			if ok && p.from == tenantID {
				if _, err := q.Exec(ctx, `UPDATE registrar_transfer SET status = 'cancelled', settled_at = $2 WHERE operation_id = $1`, p.opID, now); err != nil {
					return err
				}
				if err := s.finishOp(ctx, q, p.opID, StatusFailed, "cancelled"); err != nil {
					return err
				}
				op, err = s.opByID(ctx, q, tenantID, p.opID)
				return err
			}
			in, ok, err := s.lockPendingIn(ctx, q, canonicalName(name))
			if err != nil {
				return err
			}
			if ok && in.tenant == tenantID {
				if t, _, ext, err := s.externalFor(ctx, in.domain); err != nil {
					return err
				} else if ext {
					if err := s.cancelExternalIn(ctx, q, t, in); err != nil {
						return err
					}
					op, err = s.opByID(ctx, q, tenantID, in.opID)
					return err
				}
				tx := s.reg.Bind(zt)
				t, err := tx.CancelTransfer(ctx, RegistrarID, in.domain)
				if err != nil {
					return transferErr(err)
				}
				if err := s.settleIn(ctx, q, tx, in, t); err != nil {
					return err
				}
				op, err = s.opByID(ctx, q, tenantID, in.opID)
				return err
			}
			return errorf(CodeInvalidInput, "this account has no pending transfer of %s", canonicalName(name))
		}()
		return op, err
	})
}

// lifecycleOpStatus records a finished operation with its status.
func (s *Service) lifecycleOpStatus(ctx context.Context, q pgx.Tx, tenantID string, op Operation) error {
	_, err := q.Exec(ctx, `INSERT INTO registrar_operation (id, tenant_id, domain, type, status, message, submitted_at, updated_at)
	                       VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, op.ID, tenantID, op.Domain, op.Type, op.Status, op.Message, op.SubmittedAt)
	return err
}

func (s *Service) opByID(ctx context.Context, q pgx.Tx, tenantID, id string) (Operation, error) {
	return scanOp(q.QueryRow(ctx, `SELECT `+opColumns+` FROM registrar_operation WHERE tenant_id = $1 AND id = $2`, tenantID, id))
}

// refOp runs a transfer command that answers an operation, with the
// caller reference: a reference already used returns its operation; a
// new one is recorded on the operation the command answers (unless that
// operation has one already: a cancelled transfer keeps its own).
func (s *Service) refOp(ctx context.Context, tenantID, ref string, fn func(ctx context.Context, zt *controlplane.ZoneTx) (Operation, error)) (Operation, error) {
	if ref != "" {
		if op, err := s.operationByRef(ctx, tenantID, ref); err == nil {
			return op, nil
		}
	}
	var op Operation
	err := s.cp.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		var err error
		if op, err = fn(ctx, zt); err != nil || ref == "" {
			return err
		}
		tag, err := zt.Tx().Exec(ctx, `UPDATE registrar_operation SET caller_reference = $3
		                               WHERE tenant_id = $1 AND id = $2 AND caller_reference IS NULL`, tenantID, op.ID, ref)
		if err == nil && tag.RowsAffected() == 1 {
			op.CallerReference = ref
		}
		return err
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && ref != "" {
		return s.operationByRef(ctx, tenantID, ref)
	}
	return op, err
}
