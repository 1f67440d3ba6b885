package registrar

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Mail to registrants and tenants goes through an outbox (registrar_mail):
// the transaction that decides a mail writes it, once (its dedupe key is
// unique), and the lifecycle's leader sends what is unsent afterwards, at
// least once (a crash between sending and recording sends it again).

// Mail is one message.
type Mail struct {
	ID      int64
	To      string
	Subject string
	Body    string
	// Kind says what the mail is about (verify, hold, expired,
	// autorenew); Domain the domain, if one.
	Kind   string
	Domain string
}

// Mailer sends mail.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// FileMailer writes each mail to a file of its own in Dir, named by the
// mail's id and kind (000042-verify.eml), in RFC 5322 form: the sink of
// tests and `waymark dev`.
type FileMailer struct {
	Dir string
	// From is the sender's address (default registrar@waymark.invalid).
	From string
}

// Send writes m to a new file, atomically (a reader never sees half a mail).
func (f FileMailer) Send(_ context.Context, m Mail) error {
	from := f.From
	if from == "" {
		from = "registrar@waymark.invalid"
	}
	if err := os.MkdirAll(f.Dir, 0o755); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nX-Waymark-Kind: %s\r\nX-Waymark-Domain: %s\r\n\r\n",
		from, oneLine(m.To), oneLine(m.Subject), m.Kind, m.Domain)
	b.WriteString(strings.ReplaceAll(m.Body, "\n", "\r\n"))
	name := filepath.Join(f.Dir, fmt.Sprintf("%06d-%s.eml", m.ID, m.Kind))
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// oneLine keeps a header value on its line: no header injection through
// a contact's fields.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// queueMail writes a mail to the outbox unless one with the same kind,
// domain and key was written before. A mail to nobody (a domain without
// a registrant address) is not written.
func (s *Service) queueMail(ctx context.Context, q pgx.Tx, tenantID, domain, kind, key, to, subject, body string) error {
	if to == "" {
		return nil
	}
	_, err := q.Exec(ctx, `INSERT INTO registrar_mail (tenant_id, domain, kind, dedupe, recipient, subject, body, created_at)
	                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (dedupe) DO NOTHING`,
		tenantID, domain, kind, kind+"|"+domain+"|"+key, to, subject, body, s.reg.Now())
	return err
}

// mailBatch is how many mails one round sends.
const mailBatch = 100

// sendMails sends the outbox's unsent mails, oldest first. A mail that
// fails is tried again at the next pass; the others go on.
func (l *Lifecycle) sendMails(ctx context.Context, p *Pass) error {
	if l.cfg.Mailer == nil {
		return nil
	}
	var last int64
	for {
		rows, err := l.s.db.Query(ctx, `SELECT id, recipient, subject, body, kind, domain FROM registrar_mail
		                                WHERE sent_at IS NULL AND id > $1 ORDER BY id LIMIT $2`, last, mailBatch)
		if err != nil {
			return err
		}
		mails, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Mail, error) {
			var m Mail
			return m, row.Scan(&m.ID, &m.To, &m.Subject, &m.Body, &m.Kind, &m.Domain)
		})
		if err != nil {
			return err
		}
		for _, m := range mails {
			last = m.ID
			serr := l.cfg.Mailer.Send(ctx, m)
			if serr != nil {
				l.cfg.Logger.Warn("mail not sent", "id", m.ID, "to", m.To, "err", serr)
				if _, err := l.s.db.Exec(ctx, `UPDATE registrar_mail SET attempts = attempts + 1 WHERE id = $1`, m.ID); err != nil {
					return err
				}
				continue
			}
			if _, err := l.s.db.Exec(ctx, `UPDATE registrar_mail SET sent_at = $2, attempts = attempts + 1 WHERE id = $1`,
				m.ID, l.s.reg.Now()); err != nil {
				return err
			}
			p.MailsSent++
		}
		if len(mails) < mailBatch {
			return nil
		}
	}
}

// ExpiryNotices are the days before expiry at which the registrant is
// told (ICANN's Expired Registration Recovery Policy: about a month and a
// week before; the notice after expiry is the "expired" mail).
var ExpiryNotices = []int{30, 7}

// expiryNotices queues, once per domain, period and notice, a mail to the
// registrant of every domain expiring within a notice's days. The dedupe
// key carries the expiry (Unix seconds), so a renewed domain is told
// again before its next expiry.
func (l *Lifecycle) expiryNotices(ctx context.Context, p *Pass) error {
	now := l.s.reg.Now()
	for _, days := range ExpiryNotices {
		kind := fmt.Sprintf("notice%d", days)
		for {
			rows, err := l.s.db.Query(ctx, `SELECT d.name, r.tenant_id, lower(r.contacts->'registrant'->>'email'), d.expires_at, r.auto_renew
			        FROM registry_domain d JOIN registrar_domain r ON r.name = d.name
			        WHERE d.registrar_id = $1 AND d.expires_at > $2 AND d.expires_at <= $3 AND d.rgp NOT IN ('redemptionPeriod', 'pendingDelete')
			          AND coalesce(r.contacts->'registrant'->>'email', '') <> ''
			          AND NOT EXISTS (SELECT 1 FROM registrar_mail m WHERE m.dedupe = $4 || '|' || d.name || '|' || extract(epoch FROM d.expires_at)::bigint)
			        ORDER BY d.expires_at LIMIT $5`, RegistrarID, now, now.Add(time.Duration(days)*24*time.Hour), kind, mailBatch)
			if err != nil {
				return err
			}
			type due struct {
				name, tenant, email string
				exp                 time.Time
				auto                bool
			}
			list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (due, error) {
				var d due
				return d, row.Scan(&d.name, &d.tenant, &d.email, &d.exp, &d.auto)
			})
			if err != nil {
				return err
			}
			if len(list) == 0 {
				break
			}
			tx, err := l.s.db.Begin(ctx)
			if err != nil {
				return err
			}
			for _, d := range list {
				what := "It will expire and stop resolving unless you renew it."
				if d.auto {
					what = "It will be renewed automatically for a year and charged to your account."
				}
				body := fmt.Sprintf("%s expires on %s, in %d days or less.\n%s\n", d.name, d.exp.UTC().Format(time.DateOnly), days, what)
				if err := l.s.queueMail(ctx, tx, d.tenant, d.name, kind, strconv.FormatInt(d.exp.Unix(), 10), d.email,
					fmt.Sprintf("%s expires on %s", d.name, d.exp.UTC().Format(time.DateOnly)), body); err != nil {
					_ = tx.Rollback(ctx)
					return err
				}
				p.Notices++
			}
			if err := tx.Commit(ctx); err != nil {
				return err
			}
			if len(list) < mailBatch {
				break
			}
		}
	}
	return nil
}
