package registrar

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// Registrant verification (ICANN RAA 2013, Whois Accuracy Program): the
// registrant's email address is verified once per tenant; a mail with a
// token goes out when a domain names an address not yet verified, and if
// the token is not presented within VerifyWithin, every domain of the
// tenant with that registrant goes on clientHold, which withdraws its
// delegation. Presenting the token later lifts the holds at once.

// Verification statuses, Route 53 Domains' ReachabilityStatus.
const (
	ReachabilityPending = "PENDING"
	ReachabilityDone    = "DONE"
	ReachabilityExpired = "EXPIRED"
)

// verifyBatch bounds one transaction of verification work.
const verifyBatch = 200

// registrantEmail is the SQL of a domain row's registrant address.
const registrantEmail = `lower(d.contacts->'registrant'->>'email')`

// verifications starts the verification of new registrant addresses and
// puts the domains of overdue ones on hold.
func (l *Lifecycle) verifications(ctx context.Context, p *Pass) error {
	for {
		n, err := l.startVerifications(ctx, p)
		if err != nil {
			return err
		}
		if n < verifyBatch {
			break
		}
	}
	for {
		n, err := l.holdUnverified(ctx, p)
		if err != nil {
			return err
		}
		if n < verifyBatch {
			return nil
		}
	}
}

func (l *Lifecycle) startVerifications(ctx context.Context, p *Pass) (int, error) {
	var n int
	err := l.s.cp.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		q := zt.Tx()
		rows, err := q.Query(ctx, `SELECT DISTINCT d.tenant_id, `+registrantEmail+` FROM registrar_domain d
		        WHERE coalesce(`+registrantEmail+`, '') <> ''
		          AND NOT EXISTS (SELECT 1 FROM registrar_verification v WHERE v.tenant_id = d.tenant_id AND v.email = `+registrantEmail+`)
		        LIMIT $1`, verifyBatch)
		if err != nil {
			return err
		}
		type addr struct{ tenant, email string }
		addrs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (addr, error) {
			var a addr
			return a, row.Scan(&a.tenant, &a.email)
		})
		if err != nil {
			return err
		}
		n = len(addrs)
		now := l.s.reg.Now()
		for _, a := range addrs {
			token, hash, err := l.s.newVerifyToken()
			if err != nil {
				return err
			}
			tag, err := q.Exec(ctx, `INSERT INTO registrar_verification (tenant_id, email, token_hash, started_at, due_at)
			                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, a.tenant, a.email, hash, now, now.Add(VerifyWithin))
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				continue // a concurrent pass started it
			}
			p.VerificationsStarted++
			if err := l.s.queueMail(ctx, q, a.tenant, "", "verify", a.email+"|"+hashHex(hash), a.email,
				"Verify your email address", verifyBody(a.email, token, now.Add(VerifyWithin))); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

func verifyBody(email, token string, due time.Time) string {
	return fmt.Sprintf(`You are the registrant of domains registered with Waymark under %s.
Confirm that this address reaches you before %s, or those domains are
suspended (clientHold) and stop resolving:

  POST /v1/contact-verification {"token":"%s"}

Token: %s
`, email, due.UTC().Format(time.RFC3339), token, token)
}

func hashHex(h []byte) string { return fmt.Sprintf("%x", h[:8]) }

// newVerifyToken draws a token and returns it with its SHA-256.
func (s *Service) newVerifyToken() (string, []byte, error) {
	b := make([]byte, 20)
	if _, err := io.ReadFull(s.cfg.Rand, b); err != nil {
		return "", nil, err
	}
	token := idEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(token))
	return token, h[:], nil
}

// holdUnverified puts the domains of overdue registrants on clientHold.
func (l *Lifecycle) holdUnverified(ctx context.Context, p *Pass) (int, error) {
	var n int
	var held int
	err := l.s.cp.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		held = 0
		q := zt.Tx()
		now := l.s.reg.Now()
		rows, err := q.Query(ctx, `SELECT d.name, d.tenant_id, v.email FROM registrar_domain d
		        JOIN registrar_verification v ON v.tenant_id = d.tenant_id AND v.email = `+registrantEmail+`
		        WHERE v.verified_at IS NULL AND v.due_at <= $1 AND NOT d.unverified_hold AND d.registry IS NULL
		        ORDER BY d.name LIMIT $2 FOR UPDATE OF d SKIP LOCKED`, now, verifyBatch)
		if err != nil {
			return err
		}
		type row struct{ name, tenant, email string }
		due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.name, &x.tenant, &x.email)
		})
		if err != nil {
			return err
		}
		n = len(due)
		tx := l.s.reg.Bind(zt)
		tx.Batch()
		for _, d := range due {
			if err := tx.SetStatus(ctx, d.name, registry.StatusClientHold, true); err != nil {
				return fmt.Errorf("hold %s: %w", d.name, err)
			}
			if _, err := q.Exec(ctx, `UPDATE registrar_domain SET unverified_hold = true, updated_at = $2 WHERE name = $1`, d.name, now); err != nil {
				return err
			}
			if err := l.s.queueMail(ctx, q, d.tenant, d.name, "hold", d.email, d.email, fmt.Sprintf("%s is suspended", d.name),
				fmt.Sprintf("%s is on hold and no longer resolves: its registrant %s was not verified within %d days.\nVerify the address to lift the hold.\n",
					d.name, d.email, int(VerifyWithin/(24*time.Hour)))); err != nil {
				return err
			}
			held++
		}
		return tx.Flush(ctx)
	})
	if err == nil {
		p.Held += held
	}
	return n, err
}

// Verified is the outcome of a verification: the address and the domains
// whose hold it lifted.
type Verified struct {
	Email    string   `json:"email"`
	Released []string `json:"released_domains"`
}

// VerifyContact verifies the registrant address a token was mailed to and
// lifts the holds its lateness put on domains, in one transaction. A
// token is good until the address is verified; an unknown token is
// InvalidInput.
func (s *Service) VerifyContact(ctx context.Context, token string) (Verified, error) {
	token = strings.TrimSpace(token)
	if token == "" || len(token) > 100 {
		return Verified{}, errorf(CodeInvalidInput, "a verification token is required")
	}
	h := sha256.Sum256([]byte(token))
	var out Verified
	err := s.cp.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		q := zt.Tx()
		var tenant string
		err := q.QueryRow(ctx, `UPDATE registrar_verification SET verified_at = coalesce(verified_at, $2) WHERE token_hash = $1
		                        RETURNING tenant_id, email`, h[:], s.reg.Now()).Scan(&tenant, &out.Email)
		if errors.Is(err, pgx.ErrNoRows) {
			return errorf(CodeInvalidInput, "no verification has this token")
		}
		if err != nil {
			return err
		}
		rows, err := q.Query(ctx, `UPDATE registrar_domain d SET unverified_hold = false, updated_at = $3
		        WHERE d.tenant_id = $1 AND `+registrantEmail+` = $2 AND d.unverified_hold RETURNING d.name`, tenant, out.Email, s.reg.Now())
		if err != nil {
			return err
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		tx := s.reg.Bind(zt)
		for _, n := range names {
			if err := tx.SetStatus(ctx, n, registry.StatusClientHold, false); err != nil {
				return fromRegistry(err)
			}
		}
		out.Released = append([]string{}, names...)
		return nil
	})
	return out, err
}

// Reachability is Route 53's GetContactReachabilityStatus answer.
type Reachability struct {
	Domain string `json:"domain_name"`
	Email  string `json:"email,omitempty"`
	// Status is PENDING (mail sent, not verified yet), DONE or EXPIRED
	// (not verified in time: the domain is on hold).
	Status string     `json:"status"`
	DueAt  *time.Time `json:"due_at,omitempty"`
}

// ContactReachability says whether the registrant of one of the tenant's
// domains has verified their address.
func (s *Service) ContactReachability(ctx context.Context, tenantID, name string) (Reachability, error) {
	out := Reachability{Domain: strings.ToLower(strings.TrimSuffix(name, ".")) + "."}
	var verified *time.Time
	var due *time.Time
	var email *string
	err := s.db.QueryRow(ctx, `SELECT `+registrantEmail+`, v.due_at, v.verified_at FROM registrar_domain d
	        LEFT JOIN registrar_verification v ON v.tenant_id = d.tenant_id AND v.email = `+registrantEmail+`
	        WHERE d.name = $1 AND d.tenant_id = $2`, out.Domain, tenantID).Scan(&email, &due, &verified)
	if errors.Is(err, pgx.ErrNoRows) {
		return Reachability{}, errorf(CodeNoSuchDomain, "no domain %s in this account", name)
	}
	if err != nil {
		return Reachability{}, err
	}
	if email != nil {
		out.Email = *email
	}
	out.DueAt = due
	switch {
	case verified != nil:
		out.Status = ReachabilityDone
	case due != nil && !due.After(s.reg.Now()):
		out.Status = ReachabilityExpired
	default:
		out.Status = ReachabilityPending
	}
	return out, nil
}

// ResendVerification mails a new token to the registrant of one of the
// tenant's domains (Route 53's ResendContactReachabilityEmail); the
// deadline stays. An address already verified gets nothing.
func (s *Service) ResendVerification(ctx context.Context, tenantID, name string) (Reachability, error) {
	r, err := s.ContactReachability(ctx, tenantID, name)
	if err != nil || r.Status == ReachabilityDone || r.Email == "" || r.DueAt == nil {
		return r, err
	}
	token, hash, err := s.newVerifyToken()
	if err != nil {
		return Reachability{}, err
	}
	err = s.cp.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		q := zt.Tx()
		if _, err := q.Exec(ctx, `UPDATE registrar_verification SET token_hash = $3 WHERE tenant_id = $1 AND email = $2`,
			tenantID, r.Email, hash); err != nil {
			return err
		}
		return s.queueMail(ctx, q, tenantID, "", "verify", r.Email+"|"+hashHex(hash), r.Email,
			"Verify your email address", verifyBody(r.Email, token, *r.DueAt))
	})
	return r, err
}
