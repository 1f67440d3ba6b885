package registrar

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Directions of a pending transfer, as the tenant that reads it sees it.
const (
	// TransferFromRegistrar: this tenant asked for a domain of another
	// registrar (TransferIn).
	TransferFromRegistrar = "IN_FROM_REGISTRAR"
	// TransferToRegistrar: another registrar asked for one of this
	// tenant's domains; AcceptTransfer or RejectTransfer answer it.
	TransferToRegistrar = "OUT_TO_REGISTRAR"
	// TransferToAccount: this tenant offered a domain to another tenant
	// (TransferToTenant); CancelTransfer withdraws it.
	TransferToAccount = "OUT_TO_ACCOUNT"
	// TransferFromAccount: another tenant offered a domain to this one;
	// AcceptTransfer (with the password) or RejectTransfer answer it.
	TransferFromAccount = "IN_FROM_ACCOUNT"
)

// PendingTransfer is a transfer waiting for an answer that involves a
// tenant.
type PendingTransfer struct {
	Domain    string
	Direction string
	// OperationID is the tenant's own operation for the transfer; empty
	// for an offer from another tenant (its operation is the giver's)
	// and for a transfer another registrar asked for.
	OperationID string
	// FromAccount and ToAccount are the tenants of a transfer between
	// accounts; GainingRegistrar and LosingRegistrar the registrars of
	// one between registrars.
	FromAccount, ToAccount            string
	GainingRegistrar, LosingRegistrar string
	RequestedAt                       time.Time
	// ActBy is when a transfer between registrars is approved by the
	// registry unless answered before, and when an offer between
	// accounts lapses.
	ActBy time.Time
}

// PendingTransfers lists the pending transfers that involve the tenant,
// oldest first; with a name, only that domain's (at most one).
func (s *Service) PendingTransfers(ctx context.Context, tenantID, name string) ([]PendingTransfer, error) {
	var domain *string
	if name != "" {
		d := canonicalName(name)
		domain = &d
	}
	rows, err := s.db.Query(ctx, `
	        SELECT t.domain, CASE WHEN t.kind = 'in' THEN $3 WHEN t.from_tenant = $1 THEN $4 ELSE $5 END,
	               CASE WHEN t.kind = 'in' OR t.from_tenant = $1 THEN t.operation_id ELSE '' END,
	               CASE WHEN t.kind = 'tenant' THEN coalesce(t.from_tenant, '') ELSE '' END,
	               CASE WHEN t.kind = 'tenant' THEN t.to_tenant ELSE '' END,
	               coalesce(r.gaining, ''), coalesce(r.losing, ''), t.requested_at, t.expires_at
	        FROM registrar_transfer t
	        LEFT JOIN registry_transfer r ON t.kind = 'in' AND r.domain = t.domain AND r.status = 'pending'
	        WHERE t.status = 'pending' AND (t.to_tenant = $1 OR t.from_tenant = $1) AND ($2::text IS NULL OR t.domain = $2)
	        UNION ALL
	        SELECT r.domain, $6, '', '', '', r.gaining, r.losing, r.requested_at, r.act_by
	        FROM registry_transfer r JOIN registrar_domain d ON d.name = r.domain
	        WHERE r.status = 'pending' AND r.losing = $7 AND d.tenant_id = $1 AND ($2::text IS NULL OR r.domain = $2)
	        ORDER BY 8, 1`, tenantID, domain, TransferFromRegistrar, TransferToAccount, TransferFromAccount, TransferToRegistrar, RegistrarID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (PendingTransfer, error) {
		var p PendingTransfer
		return p, row.Scan(&p.Domain, &p.Direction, &p.OperationID, &p.FromAccount, &p.ToAccount,
			&p.GainingRegistrar, &p.LosingRegistrar, &p.RequestedAt, &p.ActBy)
	})
}
