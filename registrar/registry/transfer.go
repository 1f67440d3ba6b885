package registry

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waymark-dns/waymark/zonecfg"
)

// Transfers between registrars (RFC 5731 s3.2.4): the gaining registrar
// requests with the domain's auth code; the losing registrar approves or
// rejects, the gaining one may cancel, and a transfer nobody answers is
// approved by the registry when the TLD's waiting period ends
// (DueTransfers, ApproveDue). An approved transfer adds the years asked
// for (one by default) to the expiry, gives the domain a new auth code,
// opens the transfer grace period and locks the domain against another
// transfer for the TLD's transfer lock. A transfer approved in the
// auto-renew grace period cancels that auto-renewal first.

// Transfer statuses (RFC 5731 trStatus).
const (
	TransferPending         = "pending"
	TransferClientApproved  = "clientApproved"
	TransferClientRejected  = "clientRejected"
	TransferClientCancelled = "clientCancelled"
	TransferServerApproved  = "serverApproved"
)

// Transfer is a transfer's state.
type Transfer struct {
	Name        string     `json:"domain_name"`
	Status      string     `json:"status"`
	Gaining     string     `json:"gaining_registrar"`
	Losing      string     `json:"losing_registrar"`
	Years       int        `json:"years"`
	RequestedAt time.Time  `json:"requested_at"`
	ActBy       time.Time  `json:"act_by"`
	SettledAt   *time.Time `json:"settled_at,omitempty"`
	// ExpiresAt is the domain's expiry once the transfer is approved.
	ExpiresAt time.Time `json:"expires_at"`
	// Price and Currency are what the gaining registrar owes for an
	// approved transfer.
	Price    int64  `json:"price,omitempty"`
	Currency string `json:"currency,omitempty"`
	// CancelledAutoRenew: the approval took back the losing registrar's
	// auto-renewal of this period (the registrar refunds it).
	CancelledAutoRenew bool `json:"-"`
}

// Approved reports whether the transfer was approved.
func (t Transfer) Approved() bool {
	return t.Status == TransferClientApproved || t.Status == TransferServerApproved
}

// RequestTransfer asks for the transfer of a domain to registrar clID,
// with its auth code, for years more (0 is 1). A wrong code is
// ErrInvalidAuthInfo; a domain that is transfer-locked, prohibits
// transfers, is deleted or already has a transfer pending is refused.
func (tx *Tx) RequestTransfer(ctx context.Context, clID, name, authInfo string, years int) (Transfer, error) {
	d, err := tx.r.domain(ctx, tx.zt.Tx(), name, true)
	if err != nil {
		return Transfer{}, err
	}
	if years == 0 {
		years = 1
	}
	now := tx.r.Now()
	switch {
	case years < 1 || years > MaxYears:
		return Transfer{}, errorf(ErrParameterRange, "the period must be 1 to %d years, not %d", MaxYears, years)
	case d.AuthInfo == "" || subtle.ConstantTimeCompare([]byte(d.AuthInfo), []byte(authInfo)) != 1:
		return Transfer{}, errorf(ErrInvalidAuthInfo, "wrong auth code for %s", d.Name)
	case d.RegistrarID == clID:
		return Transfer{}, errorf(ErrStatusProhibits, "%s is already sponsored by %s", d.Name, clID)
	case slices.Contains(d.Statuses, StatusPendingTransfer):
		return Transfer{}, errorf(ErrPendingTransfer, "a transfer of %s is already pending", d.Name)
	case slices.Contains(d.Statuses, "clientTransferProhibited") || slices.Contains(d.Statuses, "serverTransferProhibited"):
		return Transfer{}, errorf(ErrStatusProhibits, "%s is locked against transfers (%v)", d.Name, d.Statuses)
	case d.TransferLockedUntil != nil && now.Before(*d.TransferLockedUntil):
		return Transfer{}, errorf(ErrStatusProhibits, "%s cannot be transferred before %s (transfer lock after registration or transfer)",
			d.Name, d.TransferLockedUntil.UTC().Format(time.RFC3339))
	case d.RGP == RGPRedemption || d.RGP == RGPPending:
		return Transfer{}, errorf(ErrStatusProhibits, "%s is deleted (%s)", d.Name, d.RGP)
	}
	exp := transferExpiry(d, years)
	if exp.After(now.AddDate(MaxYears, 0, 0)) {
		return Transfer{}, errorf(ErrPolicy, "%s would expire more than %d years from now", d.Name, MaxYears)
	}
	tld, err := tx.r.tld(ctx, tx.zt.Tx(), d.TLD)
	if err != nil {
		return Transfer{}, err
	}
	q := tx.zt.Tx()
	t := Transfer{Name: d.Name, Status: TransferPending, Gaining: clID, Losing: d.RegistrarID, Years: years,
		RequestedAt: now, ActBy: now.Add(tld.Policy.TransferWait), ExpiresAt: exp}
	if _, err := q.Exec(ctx, `INSERT INTO registry_transfer (domain, gaining, losing, status, requested_at, act_by, years)
	                          VALUES ($1, $2, $3, 'pending', $4, $5, $6)`, d.Name, clID, d.RegistrarID, now, t.ActBy, years); err != nil {
		return Transfer{}, mapPG(err)
	}
	if _, err := q.Exec(ctx, `UPDATE registry_domain SET statuses = array_append(statuses, $2), updated_at = $3 WHERE name = $1`,
		d.Name, StatusPendingTransfer, now); err != nil {
		return Transfer{}, err
	}
	return t, tx.Notify(ctx, d.RegistrarID, d.Name, "transferRequested",
		fmt.Sprintf("%s requested the transfer of %s; approved automatically at %s unless rejected", clID, d.Name, t.ActBy.Format(time.RFC3339)))
}

// transferExpiry is the expiry after a transfer of d for years: an
// auto-renewal in its grace period is taken back first.
func transferExpiry(d Domain, years int) time.Time {
	exp := d.ExpiresAt
	if d.RGP == RGPAutoRenew && !d.Expired() {
		exp = exp.AddDate(-1, 0, 0)
	}
	return exp.AddDate(years, 0, 0)
}

// TransferOf returns the pending transfer of a domain, or else its latest.
func (tx *Tx) TransferOf(ctx context.Context, name string) (Transfer, error) {
	return tx.r.transferOf(ctx, tx.zt.Tx(), name)
}

// TransferOf returns the pending transfer of a domain, or else its
// latest, outside a transaction.
func (r *Registry) TransferOf(ctx context.Context, name string) (Transfer, error) {
	return r.transferOf(ctx, nil, name)
}

func (r *Registry) transferOf(ctx context.Context, q pgx.Tx, name string) (Transfer, error) {
	var t Transfer
	var exp time.Time
	err := r.q(q).QueryRow(ctx, `SELECT t.domain, t.status, t.gaining, t.losing, t.years, t.requested_at, t.act_by, t.settled_at, d.expires_at
	                             FROM registry_transfer t JOIN registry_domain d ON d.name = t.domain
	                             WHERE t.domain = $1 ORDER BY t.status = 'pending' DESC, t.requested_at DESC, t.settled_at DESC LIMIT 1`, canonical(name)).
		Scan(&t.Name, &t.Status, &t.Gaining, &t.Losing, &t.Years, &t.RequestedAt, &t.ActBy, &t.SettledAt, &exp)
	if errors.Is(err, pgx.ErrNoRows) {
		return Transfer{}, errorf(ErrObjectDoesNotExist, "no transfer of %s", name)
	}
	t.ExpiresAt = exp
	return t, err
}

func canonical(name string) string {
	if n, err := zonecfg.CanonicalName(name); err == nil {
		return n
	}
	return name
}

// pendingTransfer locks the domain and returns its pending transfer.
func (tx *Tx) pendingTransfer(ctx context.Context, name string) (Domain, Transfer, error) {
	d, err := tx.r.domain(ctx, tx.zt.Tx(), name, true)
	if err != nil {
		return Domain{}, Transfer{}, err
	}
	t, err := tx.TransferOf(ctx, d.Name)
	if err != nil || t.Status != TransferPending {
		return Domain{}, Transfer{}, errorf(ErrNotPendingTransfer, "no transfer of %s is pending", d.Name)
	}
	return d, t, nil
}

// ApproveTransfer approves the pending transfer of a domain; clID must be
// the losing registrar.
func (tx *Tx) ApproveTransfer(ctx context.Context, clID, name string) (Transfer, error) {
	d, t, err := tx.pendingTransfer(ctx, name)
	if err != nil {
		return Transfer{}, err
	}
	if t.Losing != clID {
		return Transfer{}, errorf(ErrAuthorization, "only the sponsoring registrar approves the transfer of %s", d.Name)
	}
	return tx.complete(ctx, d, t, TransferClientApproved)
}

// RejectTransfer rejects the pending transfer of a domain; clID must be
// the losing registrar.
func (tx *Tx) RejectTransfer(ctx context.Context, clID, name string) (Transfer, error) {
	d, t, err := tx.pendingTransfer(ctx, name)
	if err != nil {
		return Transfer{}, err
	}
	if t.Losing != clID {
		return Transfer{}, errorf(ErrAuthorization, "only the sponsoring registrar rejects the transfer of %s", d.Name)
	}
	return tx.end(ctx, d, t, TransferClientRejected)
}

// CancelTransfer cancels the pending transfer of a domain; clID must be
// the gaining registrar.
func (tx *Tx) CancelTransfer(ctx context.Context, clID, name string) (Transfer, error) {
	d, t, err := tx.pendingTransfer(ctx, name)
	if err != nil {
		return Transfer{}, err
	}
	if t.Gaining != clID {
		return Transfer{}, errorf(ErrAuthorization, "only the requesting registrar cancels the transfer of %s", d.Name)
	}
	return tx.end(ctx, d, t, TransferClientCancelled)
}

// DueTransfers returns the names of up to limit domains whose pending
// transfer has waited the TLD's whole waiting period, without locking
// them (ApproveDue does).
func (tx *Tx) DueTransfers(ctx context.Context, limit int) ([]string, error) {
	rows, err := tx.zt.Tx().Query(ctx, `SELECT domain FROM registry_transfer WHERE status = 'pending' AND act_by <= $1
	                                    ORDER BY act_by, domain LIMIT $2`, tx.r.Now(), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// ApproveDue approves a transfer nobody answered in the waiting period
// (serverApproved). ok is false when it is no longer pending or not yet due.
func (tx *Tx) ApproveDue(ctx context.Context, name string) (t Transfer, ok bool, err error) {
	d, t, err := tx.pendingTransfer(ctx, name)
	if IsCode(err, ErrNotPendingTransfer) {
		return Transfer{}, false, nil
	}
	if err != nil || t.ActBy.After(tx.r.Now()) {
		return Transfer{}, false, err
	}
	t, err = tx.complete(ctx, d, t, TransferServerApproved)
	return t, err == nil, err
}

// end settles a transfer that was not approved.
func (tx *Tx) end(ctx context.Context, d Domain, t Transfer, status string) (Transfer, error) {
	now := tx.r.Now()
	q := tx.zt.Tx()
	if _, err := q.Exec(ctx, `UPDATE registry_transfer SET status = $2, settled_at = $3 WHERE domain = $1 AND status = 'pending'`,
		d.Name, status, now); err != nil {
		return Transfer{}, err
	}
	if _, err := q.Exec(ctx, `UPDATE registry_domain SET statuses = array_remove(statuses, $2), updated_at = $3 WHERE name = $1`,
		d.Name, StatusPendingTransfer, now); err != nil {
		return Transfer{}, err
	}
	t.Status, t.SettledAt, t.ExpiresAt = status, &now, d.ExpiresAt
	msg := fmt.Sprintf("the transfer of %s to %s is %s", d.Name, t.Gaining, status)
	if err := tx.Notify(ctx, t.Gaining, d.Name, "transfer", msg); err != nil {
		return Transfer{}, err
	}
	return t, tx.Notify(ctx, t.Losing, d.Name, "transfer", msg)
}

// complete moves the domain to the gaining registrar.
func (tx *Tx) complete(ctx context.Context, d Domain, t Transfer, status string) (Transfer, error) {
	tld, err := tx.r.tld(ctx, tx.zt.Tx(), d.TLD)
	if err != nil {
		return Transfer{}, err
	}
	auth, err := tx.r.newToken(12)
	if err != nil {
		return Transfer{}, err
	}
	now := tx.r.Now()
	q := tx.zt.Tx()
	t.CancelledAutoRenew = d.RGP == RGPAutoRenew && !d.Expired()
	t.ExpiresAt = transferExpiry(d, t.Years)
	if _, err := q.Exec(ctx, `UPDATE registry_transfer SET status = $2, settled_at = $3 WHERE domain = $1 AND status = 'pending'`,
		d.Name, status, now); err != nil {
		return Transfer{}, err
	}
	if _, err := q.Exec(ctx, `UPDATE registry_domain SET registrar_id = $2, auth_info = $3, expires_at = $4, rgp = $5, rgp_until = $6, rgp_years = $7,
	                                 transfer_locked_until = $8, statuses = array_remove(statuses, $9), updated_at = $10 WHERE name = $1`,
		d.Name, t.Gaining, auth, t.ExpiresAt, RGPTransfer, now.Add(tld.Policy.TransferGrace), t.Years,
		now.Add(tld.Policy.TransferLock), StatusPendingTransfer, now); err != nil {
		return Transfer{}, err
	}
	// The domain's hosts go with it.
	if _, err := q.Exec(ctx, `UPDATE registry_host SET registrar_id = $2, updated_at = $3 WHERE domain = $1`, d.Name, t.Gaining, now); err != nil {
		return Transfer{}, err
	}
	t.Status, t.SettledAt = status, &now
	t.Price, t.Currency = tld.Prices.Transfer*int64(t.Years), tld.Prices.Currency
	msg := fmt.Sprintf("the transfer of %s to %s is %s; it expires at %s", d.Name, t.Gaining, status, t.ExpiresAt.Format(time.RFC3339))
	if err := tx.Notify(ctx, t.Gaining, d.Name, "transfer", msg); err != nil {
		return Transfer{}, err
	}
	if err := tx.Notify(ctx, t.Losing, d.Name, "transfer", msg); err != nil {
		return Transfer{}, err
	}
	// An expired domain comes back into the DNS with its new expiry.
	return t, tx.publish(ctx, d.Name)
}
