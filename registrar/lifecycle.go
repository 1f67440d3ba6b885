package registrar

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/internal/clock"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// The domain lifecycle: one leader (controlplane.RunLeader under
// LifecycleLockKey) works through what the registry's clock has made due,
// in batches of one transaction each:
//
//   - at expiry, a domain with auto-renew is renewed for a year and the
//     tenant charged once for that period (the ledger row is keyed by
//     domain and the expiry it renews from); one without leaves the DNS
//     and is renewable through the auto-renew grace period, then enters
//     redemption (restorable), then pending delete, then is released;
//   - grace periods end (a delete inside one is refunded, see
//     refundGrace);
//   - transfers nobody answered are approved when the waiting period
//     ends; offers between tenants lapse (transfer.go);
//   - registrants who have not verified their email in time have their
//     domains put on clientHold (lifecycle_verify.go);
//   - registrants are told 30 and 7 days before expiry (ERRP;
//     lifecycle_mail.go);
//   - domains at external registries with auto-renew on are renewed
//     there a week before they expire (external_lifecycle.go);
//   - mails in the outbox are sent (lifecycle_mail.go).
//
// Every step of a batch commits together with its ledger rows, operations
// and TLD zone changes, or not at all: a worker killed halfway leaves the
// batch to the next leader, which finds the same domains still due.

// LifecycleLockKey is the session lock that elects the lifecycle's leader
// ("wmlifecy" in ASCII; controlplane/locks.go lists the others).
const LifecycleLockKey int64 = 0x776d6c6966656379

// More operation types, Route 53 Domains'.
const (
	OpExpire              = "EXPIRE_DOMAIN"
	OpTransferIn          = "TRANSFER_IN_DOMAIN"
	OpTransferOut         = "TRANSFER_OUT_DOMAIN"
	OpInternalTransferOut = "INTERNAL_TRANSFER_OUT_DOMAIN"
	OpInternalTransferIn  = "INTERNAL_TRANSFER_IN_DOMAIN"
)

// Ledger kinds.
const (
	ledgerAutoRenew = "autorenew"
	ledgerTransfer  = "transfer"
	ledgerRefund    = "refund"
)

// Defaults of LifecycleConfig.
const (
	DefaultLifecycleInterval = 10 * time.Second
	DefaultLifecycleBatch    = 500
	// VerifyWithin is the ICANN RAA's 15 days for a registrant to
	// verify their email address before their domains go on clientHold.
	VerifyWithin = 15 * 24 * time.Hour
	// TenantTransferWait is how long a transfer offered to another
	// tenant waits for acceptance (Route 53: 3 days).
	TenantTransferWait = 3 * 24 * time.Hour
)

// LifecycleConfig configures a Lifecycle.
type LifecycleConfig struct {
	// Clock is the registry's clock (the one registry.Config.Now
	// reads). A *clock.Test wakes the worker whenever it is advanced.
	Clock clock.Clock
	// Interval is how long the leader waits between passes when the
	// clock does not wake it (default DefaultLifecycleInterval).
	Interval time.Duration
	// BatchSize is how many domains one transaction takes (default
	// DefaultLifecycleBatch).
	BatchSize int
	// Mailer sends the outbox's mails; nil leaves them in the outbox.
	Mailer Mailer
	// Logger; default discard.
	Logger *slog.Logger

	// afterStep, set by tests, runs after each domain's step inside a
	// batch: a test cancels the worker there.
	afterStep func()
}

// Lifecycle is the worker that advances domains through their lifecycle.
type Lifecycle struct {
	s   *Service
	cfg LifecycleConfig
}

// NewLifecycle returns the lifecycle worker of the registrar.
func (s *Service) NewLifecycle(cfg LifecycleConfig) *Lifecycle {
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultLifecycleInterval
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultLifecycleBatch
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Lifecycle{s: s, cfg: cfg}
}

// Run campaigns for the lifecycle's leadership and, while it leads, runs
// a pass whenever the interval passes or the test clock advances. It
// returns nil when ctx ends.
func (l *Lifecycle) Run(ctx context.Context) error {
	return l.s.cp.RunLeader(ctx, LifecycleLockKey, l.lead)
}

func (l *Lifecycle) lead(ctx context.Context) error {
	for {
		var wake <-chan struct{}
		if tc, ok := l.cfg.Clock.(*clock.Test); ok {
			wake = tc.Advanced() // before the pass: an advance during it runs another
		}
		p, err := l.RunOnce(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			l.cfg.Logger.Warn("lifecycle pass failed", "err", err)
		} else if p != (Pass{}) {
			l.cfg.Logger.Info("lifecycle pass", "pass", p)
		}
		t := time.NewTimer(l.cfg.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// Pass counts what one RunOnce did.
type Pass struct {
	AutoRenewed, Expired, GraceEnded, Redemption, PendingDelete, Released int
	TransfersApproved, TransfersLapsed                                    int
	VerificationsStarted, Held                                            int
	Notices, MailsSent                                                    int
}

// RunOnce does everything due now and returns what it did. Safe to run
// concurrently with itself: each batch locks the domains it takes and
// skips those another holds.
func (l *Lifecycle) RunOnce(ctx context.Context) (Pass, error) {
	var p Pass
	// Until nothing is due: a clock that jumped far takes a domain
	// through several steps, one per batch.
	for {
		n, err := l.domainBatch(ctx, &p)
		if err != nil {
			return p, err
		}
		if n == 0 {
			break
		}
	}
	if err := l.transfers(ctx, &p); err != nil {
		return p, err
	}
	if err := l.externalRenewals(ctx, &p); err != nil {
		return p, err
	}
	if err := l.verifications(ctx, &p); err != nil {
		return p, err
	}
	if err := l.expiryNotices(ctx, &p); err != nil {
		return p, err
	}
	if err := l.sendMails(ctx, &p); err != nil {
		return p, err
	}
	return p, nil
}

// tenantDomain is the registrar's row of a domain the lifecycle touches.
type tenantDomain struct {
	tenantID  string
	autoRenew bool
	email     string // the registrant's, for notices
}

// domainBatch advances up to BatchSize due domains in one transaction and
// returns how many it took (0: nothing is due that another worker does
// not hold).
func (l *Lifecycle) domainBatch(ctx context.Context, p *Pass) (int, error) {
	var n int
	var local Pass
	err := l.s.cp.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		local = Pass{}
		tx := l.s.reg.Bind(zt)
		tx.Batch()
		names, err := tx.DueDomains(ctx, l.cfg.BatchSize)
		if err != nil {
			return err
		}
		if len(names) == 0 {
			return nil
		}
		// The registrar's rows first, then the registry's: the order
		// of every tenant request (owned, then the registry command).
		q := zt.Tx()
		ours, names, err := l.lockTenantDomains(ctx, q, names)
		if err != nil {
			return err
		}
		due, err := tx.LockDomains(ctx, names)
		if err != nil {
			return err
		}
		n = len(due) // 0: all held by others, who will advance them
		now := l.s.reg.Now()
		for _, d := range due {
			td, isOurs := ours[d.Name]
			isOurs = isOurs && d.RegistrarID == RegistrarID
			// Another registrar's domain renews at expiry, as at any
			// registry: that registrar deletes it in the auto-renew
			// grace period if its customer did not pay.
			renew := !isOurs && d.RegistrarID != RegistrarID || isOurs && td.autoRenew
			step, err := tx.Advance(ctx, d, renew)
			if err != nil {
				return fmt.Errorf("lifecycle of %s: %w", d.Name, err)
			}
			if err := l.record(ctx, q, step, td, isOurs, now, &local); err != nil {
				return fmt.Errorf("lifecycle of %s: %w", d.Name, err)
			}
			if l.cfg.afterStep != nil {
				l.cfg.afterStep()
			}
		}
		return tx.Flush(ctx)
	})
	if err != nil {
		return 0, err
	}
	p.add(local)
	return n, nil
}

func (p *Pass) add(o Pass) {
	p.AutoRenewed += o.AutoRenewed
	p.Expired += o.Expired
	p.GraceEnded += o.GraceEnded
	p.Redemption += o.Redemption
	p.PendingDelete += o.PendingDelete
	p.Released += o.Released
	p.TransfersApproved += o.TransfersApproved
	p.TransfersLapsed += o.TransfersLapsed
	p.VerificationsStarted += o.VerificationsStarted
	p.Held += o.Held
	p.Notices += o.Notices
	p.MailsSent += o.MailsSent
}

// lockTenantDomains locks the registrar's rows of names, skipping those
// another transaction holds, and returns them with the names to go on
// with: the other registrars' domains and those it locked.
func (l *Lifecycle) lockTenantDomains(ctx context.Context, q pgx.Tx, names []string) (map[string]tenantDomain, []string, error) {
	rows, err := q.Query(ctx, `SELECT name FROM registrar_domain WHERE name = ANY($1)`, names)
	if err != nil {
		return nil, nil, err
	}
	exists, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, nil, err
	}
	rows, err = q.Query(ctx, `SELECT name, tenant_id, auto_renew, coalesce(contacts->'registrant'->>'email', '') FROM registrar_domain
	                          WHERE name = ANY($1) ORDER BY name FOR UPDATE SKIP LOCKED`, exists)
	if err != nil {
		return nil, nil, err
	}
	out := map[string]tenantDomain{}
	for rows.Next() {
		var name string
		var td tenantDomain
		if err := rows.Scan(&name, &td.tenantID, &td.autoRenew, &td.email); err != nil {
			rows.Close()
			return nil, nil, err
		}
		out[name] = td
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	skip := map[string]bool{}
	for _, e := range exists {
		if _, ok := out[e]; !ok {
			skip[e] = true
		}
	}
	var keep []string
	for _, n := range names {
		if !skip[n] {
			keep = append(keep, n)
		}
	}
	return out, keep, nil
}

// record writes the registrar's side of a step: the charge of an
// auto-renewal (once per domain and period), the tenant's operations and
// notices, the end of a released domain.
func (l *Lifecycle) record(ctx context.Context, q pgx.Tx, step registry.Step, td tenantDomain, ours bool, now time.Time, p *Pass) error {
	d := step.Domain
	switch step.Kind {
	case registry.StepAutoRenew:
		p.AutoRenewed++
	case registry.StepExpire:
		p.Expired++
	case registry.StepGraceEnd:
		p.GraceEnded++
	case registry.StepRedemption:
		p.Redemption++
	case registry.StepPendingDelete:
		p.PendingDelete++
	case registry.StepRelease:
		p.Released++
	}
	if !ours {
		return nil
	}
	switch step.Kind {
	case registry.StepAutoRenew:
		period := step.Period.UTC().Format(time.RFC3339)
		opID := "op-renew-" + ledgerKey(d.Name, period)
		tag, err := q.Exec(ctx, `INSERT INTO registrar_ledger (tenant_id, domain, operation_id, kind, amount, currency, created_at, period)
		                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (domain, kind, period) WHERE period IS NOT NULL DO NOTHING`,
			td.tenantID, d.Name, opID, ledgerAutoRenew, step.Price, step.Currency, now, period)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			// Cannot happen while the renewal and its charge commit
			// together; if it does, the period is paid for already.
			l.cfg.Logger.Error("auto-renewal already charged", "domain", d.Name, "period", period)
			return nil
		}
		exp := step.Period.AddDate(1, 0, 0)
		if err := l.s.lifecycleOp(ctx, q, td.tenantID, opID, d.Name, OpRenew,
			fmt.Sprintf("renewed automatically until %s", exp.Format(time.DateOnly)), now); err != nil {
			return err
		}
		return l.s.queueMail(ctx, q, td.tenantID, d.Name, "autorenew", period, td.email, fmt.Sprintf("%s was renewed", d.Name),
			fmt.Sprintf("%s was renewed automatically for a year; it now expires on %s.\n", d.Name, exp.Format(time.DateOnly)))
	case registry.StepExpire:
		period := step.Period.UTC().Format(time.RFC3339)
		if err := l.s.lifecycleOp(ctx, q, td.tenantID, "op-expire-"+ledgerKey(d.Name, period), d.Name, OpExpire,
			"expired without renewal: out of the DNS; renew it within the auto-renew grace period", now); err != nil {
			return err
		}
		return l.s.queueMail(ctx, q, td.tenantID, d.Name, "expired", period, td.email, fmt.Sprintf("%s has expired", d.Name),
			fmt.Sprintf("%s expired on %s and no longer resolves. Renew it to bring it back.\n", d.Name, step.Period.Format(time.DateOnly)))
	case registry.StepRelease:
		_, err := q.Exec(ctx, `DELETE FROM registrar_domain WHERE name = $1 AND tenant_id = $2`, d.Name, td.tenantID)
		return err
	}
	return nil
}

// ledgerKey is a stable id for a domain and period.
func ledgerKey(name, period string) string {
	return idEncoding.EncodeToString(lifecycleHash(name + "|" + period)[:10])
}

func lifecycleHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// lifecycleOp records an operation the lifecycle did for a tenant, done
// when it commits.
func (s *Service) lifecycleOp(ctx context.Context, q pgx.Tx, tenantID, id, domain, typ, msg string, now time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO registrar_operation (id, tenant_id, domain, type, status, message, submitted_at, updated_at)
	                       VALUES ($1, $2, $3, $4, 'SUCCESSFUL', $5, $6, $6) ON CONFLICT (id) DO NOTHING`, id, tenantID, domain, typ, msg, now)
	return err
}

// refundGrace refunds the charge a delete took back (registry.Deleted):
// the registration in the add grace period, the renewal, auto-renewal or
// transfer in theirs. The refund is the latest charge of that kind for
// the domain, negated, on the delete's operation.
func (s *Service) refundGrace(ctx context.Context, q pgx.Tx, tenantID, opID string, del registry.Deleted) error {
	kind := map[string]string{registry.RGPAdd: "register", registry.RGPRenew: "renew",
		registry.RGPAutoRenew: ledgerAutoRenew, registry.RGPTransfer: ledgerTransfer}[del.Grace]
	if kind == "" {
		return nil
	}
	var amount int64
	var currency string
	err := q.QueryRow(ctx, `SELECT amount, currency FROM registrar_ledger WHERE tenant_id = $1 AND domain = $2 AND kind = $3
	                        ORDER BY id DESC LIMIT 1`, tenantID, del.Name, kind).Scan(&amount, &currency)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && amount <= 0 {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO registrar_ledger (tenant_id, domain, operation_id, kind, amount, currency, created_at)
	                      VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (operation_id, kind) DO NOTHING`,
		tenantID, del.Name, opID, ledgerRefund, -amount, currency, s.reg.Now())
	return err
}

// LedgerEntry is one charge or refund.
type LedgerEntry struct {
	Domain      string    `json:"domain_name"`
	OperationID string    `json:"operation_id"`
	Kind        string    `json:"kind"`
	Amount      int64     `json:"amount"`
	Currency    string    `json:"currency"`
	Period      string    `json:"period,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Ledger returns the tenant's charges and refunds for a domain ("" for
// all), oldest first.
func (s *Service) Ledger(ctx context.Context, tenantID, domain string) ([]LedgerEntry, error) {
	rows, err := s.db.Query(ctx, `SELECT domain, operation_id, kind, amount, currency, coalesce(period, ''), created_at
	                              FROM registrar_ledger WHERE tenant_id = $1 AND ($2 = '' OR domain = lower(rtrim($2, '.')) || '.') ORDER BY id`,
		tenantID, domain)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (LedgerEntry, error) {
		var e LedgerEntry
		return e, row.Scan(&e.Domain, &e.OperationID, &e.Kind, &e.Amount, &e.Currency, &e.Period, &e.CreatedAt)
	})
}
