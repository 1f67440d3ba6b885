package registrar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/registrar/epp"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// Transfers in from an external registry. The request's transaction
// records the TRANSFER_IN_DOMAIN operation (IN_PROGRESS, held) and the
// registrar_transfer row; then the EPP transfer request is sent with the
// auth code, which is not stored. The registry answers 1001 (pending
// until the losing registrar answers or the registry's waiting period
// ends) or refuses (FAILED, with its code). The external worker settles
// it: from the registry's poll message (trnData) or, when none has come,
// from a transfer query every PollInterval — which also settles a request
// whose answer was lost, or that never left (a crash between the
// transaction and the request: the query finds no transfer of ours and
// the domain not ours, FAILED). Approved, the domain becomes the tenant's
// with what domain:info answers, charged the operator's transfer price
// once (in the settling transaction).

// transferRequestGrace is how long after its transaction a transfer in's
// EPP request may still be on its way (dial, login, the request and its
// answer, each bounded by the EPP client's timeouts). The worker does not
// query the registry about the transfer until then, unless the request's
// outcome has been recorded first.
const transferRequestGrace = 2 * time.Minute

// externalTransferIn is TransferIn for a name under the external TLD t.
func (s *Service) externalTransferIn(ctx context.Context, tenantID, name, label string, t ExternalTLD, in TransferInInput, opID string) (Operation, error) {
	if !validLabel(label) {
		return Operation{}, errorf(CodeInvalidInput, "%s is not a registrable name in %s", name, t.TLD)
	}
	if in.Years == 0 {
		in.Years = 1
	}
	if in.Years < 1 || in.Years > registry.MaxYears {
		return Operation{}, errorf(CodeInvalidInput, "duration_in_years must be 1 to %d", registry.MaxYears)
	}
	if err := validateContacts(in.Contacts); err != nil {
		return Operation{}, err
	}
	req, err := json.Marshal(transferRequest{AutoRenew: in.AutoRenew, Privacy: in.Privacy, Contacts: in.Contacts, Years: in.Years})
	if err != nil {
		return Operation{}, err
	}
	var op Operation
	err = s.cp.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		q := zt.Tx()
		var owner string
		if q.QueryRow(ctx, `SELECT tenant_id FROM registrar_domain WHERE name = $1`, name).Scan(&owner) == nil {
			if owner == tenantID {
				return errorf(CodeInvalidInput, "%s is already in this account", name)
			}
			return errorf(CodeInvalidInput, "%s is registered with Waymark: its owner transfers it to this account (POST /v1/domains/{name}/transfer)", name)
		}
		now := s.reg.Now()
		if _, err := q.Exec(ctx, `INSERT INTO registrar_transfer (operation_id, domain, kind, to_tenant, request, status, requested_at, expires_at, requesting_until)
		                          VALUES ($1, $2, 'in', $3, $4, 'pending', $5, $5, $6)`,
			opID, name, tenantID, req, now, s.cfg.Now().Add(transferRequestGrace)); err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "registrar_transfer_pending_idx" {
				return errorf(CodeTLDRulesViolation, "a transfer of %s is already pending", name)
			}
			return err
		}
		var ref *string
		if in.CallerReference != "" {
			ref = &in.CallerReference
		}
		op = Operation{ID: opID, Domain: name, Type: OpTransferIn, Status: StatusInProgress, CallerReference: in.CallerReference,
			SubmittedAt: now, UpdatedAt: now, Message: "requesting the transfer at the registry of " + t.TLD}
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
	s.wakeExternal()
	if s.beforeTransferRequest != nil && s.beforeTransferRequest() != nil {
		return op, nil // as if this process died here
	}
	c, err := s.dialExternal(ctx, t)
	if err != nil {
		// The worker's query settles it (FAILED: nothing is pending).
		return op, s.transferRequested(ctx, opID)
	}
	defer c.Close()
	defer func() { _ = c.Logout(context.WithoutCancel(ctx)) }()
	tr, _, err := c.TransferDomain(ctx, epp.TransferRequest{Op: "request", Name: bareName(name), AuthInfo: in.AuthCode, Years: in.Years})
	if e, ok := refused(err); ok {
		code := CodeTLDRulesViolation
		if e.Code == epp.CodeInvalidAuthInfo {
			code = CodeInvalidInput
		}
		msg := fmt.Sprintf("the registry of %s refused the transfer: %s", t.TLD, eppMessage(e))
		if err := s.endExternalIn(ctx, opID, "cancelled", StatusFailed, msg); err != nil {
			return Operation{}, err
		}
		return Operation{}, &Error{Code: code, Message: msg}
	}
	if err != nil {
		return op, s.transferRequested(ctx, opID) // the answer is lost: the worker's query tells
	}
	msg := fmt.Sprintf("waiting for %s to approve at the registry of %s", tr.AcID, t.TLD)
	if !tr.AcDate.IsZero() {
		msg += "; approved by the registry at " + tr.AcDate.UTC().Format(time.RFC3339)
	}
	_, err = s.db.Exec(ctx, `UPDATE registrar_operation SET message = $2 WHERE id = $1 AND status = 'IN_PROGRESS'`, opID, msg)
	if err == nil && !tr.AcDate.IsZero() {
		_, err = s.db.Exec(ctx, `UPDATE registrar_transfer SET expires_at = $2 WHERE operation_id = $1`, opID, tr.AcDate)
	}
	if err == nil {
		err = s.transferRequested(ctx, opID)
	}
	if err != nil {
		return Operation{}, err
	}
	op.Message = msg
	return op, nil
}

// transferRequested ends the window in which a transfer in's request may
// be on its way: from now on the worker's query decides.
func (s *Service) transferRequested(ctx context.Context, opID string) error {
	_, err := s.db.Exec(ctx, `UPDATE registrar_transfer SET requesting_until = NULL WHERE operation_id = $1`, opID)
	return err
}

// cancelExternalIn withdraws a pending transfer in at its registry (EPP
// transfer cancel), in the caller's transaction, which holds the row.
func (s *Service) cancelExternalIn(ctx context.Context, q pgx.Tx, t ExternalTLD, in pendingIn) error {
	c, err := s.dialExternal(ctx, t)
	if err != nil {
		return &Error{Code: CodeRegistryUnavailable, Message: err.Error()}
	}
	defer c.Close()
	defer func() { _ = c.Logout(context.WithoutCancel(ctx)) }()
	_, _, err = c.TransferDomain(ctx, epp.TransferRequest{Op: "cancel", Name: bareName(in.domain)})
	if e, ok := refused(err); ok && e.Code != epp.CodeNotPendingTransfer {
		return errorf(CodeTLDRulesViolation, "the registry of %s refused the cancel: %s", t.TLD, eppMessage(e))
	} else if err != nil && !ok {
		return &Error{Code: CodeRegistryUnavailable, Message: err.Error()}
	}
	if _, err := q.Exec(ctx, `UPDATE registrar_transfer SET status = 'cancelled', settled_at = $2 WHERE operation_id = $1`, in.opID, s.reg.Now()); err != nil {
		return err
	}
	return s.finishOp(ctx, q, in.opID, StatusFailed, "cancelled")
}

// endExternalIn ends a pending transfer in without the domain.
func (s *Service) endExternalIn(ctx context.Context, opID, status, opStatus, msg string) error {
	return s.cp.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		q := zt.Tx()
		tag, err := q.Exec(ctx, `UPDATE registrar_transfer SET status = $2, settled_at = $3 WHERE operation_id = $1 AND status = 'pending'`, opID, status, s.reg.Now())
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return s.finishOp(ctx, q, opID, opStatus, msg)
	})
}

// externalTransfersFilter keeps registrar_transfer rows t of domains
// under an external TLD.
const externalTransfersFilter = `EXISTS (SELECT 1 FROM registry_external e WHERE right(t.domain, length(e.tld) + 1) = '.' || e.tld)`

// pendingTransfersIn lists the pending transfers in at the external TLD;
// with settled, only those whose request has been answered, or can no
// longer be on its way (transferRequestGrace): those the registry can be
// asked about.
func (w *ExternalWorker) pendingTransfersIn(ctx context.Context, tld string, settled bool) ([]pendingIn, error) {
	rows, err := w.s.db.Query(ctx, `SELECT operation_id, domain, to_tenant, request FROM registrar_transfer t
	        WHERE kind = 'in' AND status = 'pending' AND right(domain, length($1) + 1) = '.' || $1
	          AND (NOT $2 OR requesting_until IS NULL OR requesting_until <= $3)
	        ORDER BY requested_at LIMIT 100`, tld, settled, w.s.cfg.Now())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (pendingIn, error) {
		var p pendingIn
		var raw []byte
		if err := r.Scan(&p.opID, &p.domain, &p.tenant, &raw); err != nil {
			return p, err
		}
		return p, json.Unmarshal(raw, &p.req)
	})
}

// settleApproved settles a pending transfer in that the registry's poll
// message says was approved (status), once the domain's sponsor is us.
func (w *ExternalWorker) settleApproved(ctx context.Context, c *epp.Client, t ExternalTLD, p pendingIn, status string) error {
	d, err := c.InfoDomain(ctx, bareName(p.domain), "")
	if err != nil {
		return err
	}
	if d.ClID != t.ClientID {
		return nil // an earlier transfer's news: the query decides
	}
	return w.recordTransferredIn(ctx, t, p, d, status)
}

// queryTransfer settles a pending transfer in that no poll message
// settled, by asking the registry.
func (w *ExternalWorker) queryTransfer(ctx context.Context, c *epp.Client, t ExternalTLD, p pendingIn) error {
	tr, _, err := c.TransferDomain(ctx, epp.TransferRequest{Op: "query", Name: bareName(p.domain)})
	if err == nil && tr.ReID == t.ClientID && tr.Status == "pending" {
		return nil // still waiting
	}
	if _, ok := refused(err); err != nil && !ok {
		return err
	}
	// Not pending: the last transfer there may be an earlier one of
	// ours, or another registrar's, so the domain's sponsor says whether
	// this one went through.
	last := ""
	if err == nil {
		last = fmt.Sprintf(" (its last transfer there: %s, asked by %s)", tr.Status, tr.ReID)
	}
	d, err := c.InfoDomain(ctx, bareName(p.domain), "")
	if e, ok := refused(err); ok && e.Code == epp.CodeObjectDoesNotExist {
		return w.s.endExternalIn(ctx, p.opID, "cancelled", StatusFailed, p.domain+" is not registered at the registry of "+t.TLD)
	}
	if err != nil {
		return err
	}
	if d.ClID == t.ClientID {
		return w.recordTransferredIn(ctx, t, p, d, "approved")
	}
	return w.s.endExternalIn(ctx, p.opID, "cancelled", StatusFailed, fmt.Sprintf("no transfer of %s is pending at the registry of %s%s", p.domain, t.TLD, last))
}

// recordTransferredIn makes the domain the tenant's, charged once.
func (w *ExternalWorker) recordTransferredIn(ctx context.Context, t ExternalTLD, p pendingIn, d epp.Domain, status string) error {
	s := w.s
	return s.cp.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		q := zt.Tx()
		in, ok, err := s.lockPendingIn(ctx, q, p.domain)
		if err != nil || !ok || in.opID != p.opID {
			return err
		}
		now := s.reg.Now()
		contacts, err := json.Marshal(in.req.Contacts)
		if err != nil {
			return err
		}
		if in.req.Contacts == nil {
			contacts = []byte("{}")
		}
		ns := make([]Nameserver, 0, len(d.NS))
		for _, h := range d.NS {
			ns = append(ns, Nameserver{Name: canonical(h)})
		}
		ds := make([]registry.DS, 0, len(d.DS))
		for _, x := range d.DS {
			ds = append(ds, registry.DS{KeyTag: x.KeyTag, Algorithm: x.Alg, DigestType: x.DigestType, Digest: strings.ToUpper(x.Digest)})
		}
		nsJSON, _ := json.Marshal(ns)
		dsJSON, _ := json.Marshal(ds)
		statuses := slices.DeleteFunc(append(slices.Clone(d.Status), d.RGPStatus...), func(s string) bool { return s == "ok" })
		if statuses == nil {
			statuses = []string{}
		}
		if _, err := q.Exec(ctx, `INSERT INTO registrar_domain (name, tenant_id, auto_renew, privacy, contacts, created_at, updated_at,
		        registry, ext_state, ext_roid, ext_statuses, ext_nameservers, ext_ds, ext_created_at, ext_expires_at)
		        VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			p.domain, in.tenant, in.req.AutoRenew, in.req.Privacy, contacts, now, t.TLD, extRegistered, d.ROID, statuses, nsJSON, dsJSON, d.CrDate, d.ExDate); err != nil {
			return err
		}
		years := max(in.req.Years, 1)
		if _, err := q.Exec(ctx, `INSERT INTO registrar_ledger (tenant_id, domain, operation_id, kind, amount, currency, created_at)
		        VALUES ($1, $2, $3, $4, $5, $6, $7)`, in.tenant, p.domain, p.opID, ledgerTransfer, t.Prices.Transfer*int64(years), t.Prices.Currency, now); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `UPDATE registrar_transfer SET status = 'approved', settled_at = $2 WHERE operation_id = $1`, p.opID, now); err != nil {
			return err
		}
		return s.finishOp(ctx, q, p.opID, StatusSuccessful, fmt.Sprintf("transferred at the registry of %s (%s); expires at %s",
			t.TLD, status, d.ExDate.UTC().Format(time.RFC3339)))
	})
}
