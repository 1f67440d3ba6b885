package registrar

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waymark-dns/waymark/controlplane"
)

// Auto-renewal of domains registered at external registries. The
// registrar renews them itself, ahead of their expiry, rather than
// leaving it to the registry's own auto-renewal (which some registries do
// not do, and which the registrar would only hear of by poll message):
// a lifecycle pass turns each such domain with auto-renew on whose
// recorded expiry is within ExternalRenewAhead into a RENEW_DOMAIN
// operation of a year, charged as the auto-renewal of that period, and a
// renew job for the external worker. The operation's id and the ledger
// row are both keyed by domain and period (the expiry it renews from), so
// the pass may run any number of times, on any number of processes, and
// charges once; the worker renews once (external_ops.go: an expiry
// already moved by a year is the renewal done). A registry that refuses
// it fails the operation and refunds it; the period stays paid for, so no
// second attempt is made.

// ExternalRenewAhead is how long before its expiry an external domain
// with auto-renew on is renewed.
const ExternalRenewAhead = 7 * 24 * time.Hour

// autoRenewMessage is the message of the auto-renewals of external domains.
const autoRenewMessage = "automatic: renewed at the registry before expiry"

// externalRenewals queues the auto-renewals due, counted in p.AutoRenewed.
func (l *Lifecycle) externalRenewals(ctx context.Context, p *Pass) error {
	now := l.s.reg.Now()
	rows, err := l.s.db.Query(ctx, `SELECT d.name FROM registrar_domain d
	        WHERE d.registry IS NOT NULL AND d.ext_state = 'registered' AND d.auto_renew AND d.ext_expires_at <= $1
	          AND NOT d.ext_statuses && '{redemptionPeriod,pendingDelete}'
	          AND NOT EXISTS (SELECT 1 FROM registrar_operation o WHERE o.domain = d.name AND o.status IN ('SUBMITTED', 'IN_PROGRESS'))
	        ORDER BY d.ext_expires_at LIMIT $2`, now.Add(ExternalRenewAhead), l.cfg.BatchSize)
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	queued := false
	for _, name := range names {
		ok, err := l.externalRenewal(ctx, name, now)
		if err != nil {
			return err
		}
		if ok {
			p.AutoRenewed++
			queued = true
		}
	}
	if queued {
		l.s.wakeExternal()
	}
	return nil
}

var errAlreadyPaid = errors.New("period already paid for")

func (l *Lifecycle) externalRenewal(ctx context.Context, name string, now time.Time) (bool, error) {
	err := l.s.cp.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		q := zt.Tx()
		var tenantID, tld string
		var exp time.Time
		var autoRenew bool
		err := q.QueryRow(ctx, `SELECT tenant_id, registry, ext_expires_at, auto_renew FROM registrar_domain
		        WHERE name = $1 AND registry IS NOT NULL AND ext_state = 'registered' FOR UPDATE`, name).Scan(&tenantID, &tld, &exp, &autoRenew)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && (!autoRenew || exp.After(now.Add(ExternalRenewAhead))) {
			return errAlreadyPaid // changed meanwhile: nothing to do
		}
		if err != nil {
			return err
		}
		t, err := l.s.ExternalTLDByName(ctx, tld)
		if err != nil {
			return err
		}
		period := exp.UTC().Format(time.RFC3339)
		opID := "op-renew-" + ledgerKey(name, period)
		var done bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM registrar_operation WHERE id = $1)`, opID).Scan(&done); err != nil {
			return err
		}
		if done {
			return errAlreadyPaid // renewed, or refused and refunded: once per period
		}
		op := Operation{ID: opID, Domain: name, Type: OpRenew, Status: StatusSubmitted, SubmittedAt: now, UpdatedAt: now}
		if err := l.s.insertOperation(ctx, q, tenantID, op, nil); err != nil {
			var e *Error
			if errors.As(err, &e) && e.Code == CodeDuplicateRequest {
				return errAlreadyPaid // another operation first; the next pass
			}
			return err
		}
		tag, err := q.Exec(ctx, `INSERT INTO registrar_ledger (tenant_id, domain, operation_id, kind, amount, currency, created_at, period)
		        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
			tenantID, name, opID, ledgerAutoRenew, t.Prices.Renew, t.Prices.Currency, now, period)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errAlreadyPaid
		}
		if _, err := q.Exec(ctx, `UPDATE registrar_operation SET message = $2 WHERE id = $1`, opID, autoRenewMessage); err != nil {
			return err
		}
		return l.s.queueJob(ctx, q, opID, tld, name, "renew", extRenewRequest{Years: 1, CurExpiry: exp})
	})
	if errors.Is(err, errAlreadyPaid) {
		return false, nil
	}
	return err == nil, err
}
