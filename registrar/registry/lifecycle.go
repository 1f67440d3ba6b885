package registry

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The registry's side of the domain lifecycle (docs/registrar.md, "The
// lifecycle"). DueDomains finds what the clock has made due, LockDomains
// locks it, Advance takes one domain one step further (or none, if it is
// no longer due). Deadlines follow from the
// previous deadline, not from when the step runs, so a clock that jumps
// far ahead walks a domain through every state it passed, one step per
// batch, with the same dates as if time had flowed.
//
//	registered ──expiry──► auto-renewed (autoRenewPeriod, +1 year)   the sponsor renews
//	           └─expiry──► expired (autoRenewPeriod, out of the DNS)  it does not
//	expired ──grace end──► redemptionPeriod ──► pendingDelete ──► released
//	add/renew/autoRenew/transfer grace ──grace end──► no grace period

// Lifecycle steps, what Advance did.
const (
	StepNone          = ""
	StepAutoRenew     = "autoRenew"     // renewed for a year at expiry
	StepExpire        = "expire"        // expired without renewal: out of the DNS
	StepGraceEnd      = "graceEnd"      // a grace period ended
	StepRedemption    = "redemption"    // the expired domain entered redemption
	StepPendingDelete = "pendingDelete" // redemption ended
	StepRelease       = "release"       // pending delete ended: the name is free
)

// Step is what Advance did to one domain.
type Step struct {
	Kind string
	// Domain is the domain as it was before the step.
	Domain Domain
	// Period is the expiry an auto-renewal renewed from: with the domain,
	// the key of its charge.
	Period time.Time
	// Price and Currency are what an auto-renewal costs the sponsor.
	Price    int64
	Currency string
}

// DueDomains returns the names of up to limit domains with a lifecycle
// step due now, without locking them: the caller locks what it needs
// first (the registrar its own rows), then LockDomains.
func (tx *Tx) DueDomains(ctx context.Context, limit int) ([]string, error) {
	rows, err := tx.zt.Tx().Query(ctx, `SELECT name FROM registry_domain
	        WHERE (rgp <> '' AND rgp_until <= $1)
	           OR (expires_at <= $1 AND rgp NOT IN ('autoRenewPeriod', 'redemptionPeriod', 'pendingDelete'))
	        ORDER BY name LIMIT $2`, tx.r.Now(), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// LockDomains locks the domains of names that no other transaction holds
// and returns them (without DS records); the others are skipped, so
// concurrent workers share the work.
func (tx *Tx) LockDomains(ctx context.Context, names []string) ([]Domain, error) {
	rows, err := tx.zt.Tx().Query(ctx, `SELECT `+domainColumns+` FROM registry_domain WHERE name = ANY($1)
	                                    ORDER BY name FOR UPDATE SKIP LOCKED`, names)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Domain, error) { return scanDomain(row) })
}

// Advance takes one step of d's lifecycle, d being locked by LockDomains.
// renew is the sponsor's choice at expiry: auto-renew for a year, or let
// the domain expire.
func (tx *Tx) Advance(ctx context.Context, d Domain, renew bool) (Step, error) {
	now := tx.r.Now()
	tld, err := tx.tldOf(ctx, d.TLD)
	if err != nil {
		return Step{}, err
	}
	pol := tld.Policy
	due := d.RGPUntil != nil && !d.RGPUntil.After(now)
	q := tx.zt.Tx()
	step := Step{Domain: d}
	var err2 error
	switch {
	case d.RGP == RGPPending && due:
		step.Kind = StepRelease
		if err := tx.Release(ctx, d.Name); err != nil {
			return Step{}, err
		}
		return step, tx.Notify(ctx, d.RegistrarID, d.Name, "autoPurge", fmt.Sprintf("%s was purged at the end of pending delete", d.Name))
	case d.RGP == RGPRedemption && due:
		step.Kind = StepPendingDelete
		_, err2 = q.Exec(ctx, `UPDATE registry_domain SET rgp = $2, rgp_until = $3, updated_at = $4 WHERE name = $1`,
			d.Name, RGPPending, d.RGPUntil.Add(pol.PendingDelete), now)
	case d.Expired() && due:
		step.Kind = StepRedemption
		_, err2 = q.Exec(ctx, `UPDATE registry_domain SET rgp = $2, rgp_until = $3, rgp_years = 0, deleted_at = $4, updated_at = $4 WHERE name = $1`,
			d.Name, RGPRedemption, d.RGPUntil.Add(pol.Redemption), now)
		if err2 == nil {
			err2 = tx.Notify(ctx, d.RegistrarID, d.Name, "autoDelete", fmt.Sprintf("%s was not renewed and entered redemption", d.Name))
		}
	case d.RGP != "" && due:
		step.Kind = StepGraceEnd
		_, err2 = q.Exec(ctx, `UPDATE registry_domain SET rgp = '', rgp_until = NULL, rgp_years = 0, updated_at = $2 WHERE name = $1`, d.Name, now)
	case !d.ExpiresAt.After(now) && d.RGP != RGPAutoRenew && d.RGP != RGPRedemption && d.RGP != RGPPending:
		step.Period = d.ExpiresAt
		if renew {
			step.Kind, step.Price, step.Currency = StepAutoRenew, tld.Prices.Renew, tld.Prices.Currency
			_, err2 = q.Exec(ctx, `UPDATE registry_domain SET expires_at = $2, rgp = $3, rgp_until = $4, rgp_years = 1, updated_at = $5 WHERE name = $1`,
				d.Name, d.ExpiresAt.AddDate(1, 0, 0), RGPAutoRenew, d.ExpiresAt.Add(pol.AutoRenewGrace), now)
			if err2 == nil {
				err2 = tx.Notify(ctx, d.RegistrarID, d.Name, "autoRenew", fmt.Sprintf("%s was renewed automatically until %s",
					d.Name, d.ExpiresAt.AddDate(1, 0, 0).Format(time.DateOnly)))
			}
			break
		}
		step.Kind = StepExpire
		_, err2 = q.Exec(ctx, `UPDATE registry_domain SET rgp = $2, rgp_until = $3, rgp_years = 0, updated_at = $4 WHERE name = $1`,
			d.Name, RGPAutoRenew, d.ExpiresAt.Add(pol.AutoRenewGrace), now)
	default:
		return step, nil // another worker took the step first
	}
	if err2 != nil {
		return Step{}, err2
	}
	// Only an expiry changes what the TLD zone holds: every other step
	// keeps the domain in the DNS (auto-renewal, the end of a grace
	// period) or out of it (redemption to pending delete).
	if step.Kind == StepExpire {
		return step, tx.withdrawFrom(ctx, d.Name, tld.ZoneID)
	}
	return step, nil
}
