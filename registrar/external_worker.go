package registrar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/internal/retry"
	"github.com/waymark-dns/waymark/registrar/epp"
)

// The external worker carries out, at external registries over EPP, the
// jobs the request transactions queued (registrar_epp_job). One process
// leads (controlplane.RunLeader under ExternalLockKey).
//
// Exactly once. A job is marked sent before its command goes on the
// wire, and every attempt of a create begins with domain:info: a domain
// that exists and is sponsored by our client id is the create of an
// earlier attempt whose answer was lost (the worker killed between
// sending and recording), and is recorded as created, not created again.
// The charge is written once, with the operation, in the request's
// transaction; a refusal (2xxx) writes the refund, keyed by operation
// (registrar_ledger (operation_id, kind) is unique). A create answered
// 1001 is stored as pending with its clTRID and svTRID, so that a
// restarted worker, with a fresh EPP session, settles it from the
// registry's poll message (RFC 5730 s2.9.2.3; panData, RFC 5731 s3.3),
// which it acknowledges only after recording the outcome.

// ExternalLockKey is the session lock that elects the external worker's
// leader ("wmextreg" in ASCII; controlplane/locks.go lists the others).
const ExternalLockKey int64 = 0x776d657874726567

// DefaultExternalInterval is how often the worker looks for due jobs.
const DefaultExternalInterval = 2 * time.Second

// DefaultExternalPollInterval is how often, while commands of a TLD are
// pending (1001) and it has no due job, the worker logs in to poll its
// registry's queue: a sunrise application may wait for days, and a
// registry limits logins.
const DefaultExternalPollInterval = 30 * time.Second

// ExternalConfig configures an ExternalWorker.
type ExternalConfig struct {
	// Interval between passes (default DefaultExternalInterval); a job
	// queued by this process wakes the worker at once.
	Interval time.Duration
	// PollInterval is how often a TLD with pending commands and no due
	// job is polled (default DefaultExternalPollInterval; a pass with
	// due jobs polls too).
	PollInterval time.Duration
	// Logger; default discard.
	Logger *slog.Logger

	// afterSend, set by tests, runs after a command's answer arrived and
	// before it is recorded: a test kills the worker there.
	afterSend func(command, domain string)
}

// ExternalWorker runs the EPP jobs of external registries' domains.
type ExternalWorker struct {
	s   *Service
	cfg ExternalConfig
	// polled is when each TLD's queue was last polled (the leader's own
	// loop only).
	polled map[string]time.Time
}

// NewExternalWorker returns the registrar's external worker.
func (s *Service) NewExternalWorker(cfg ExternalConfig) *ExternalWorker {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultExternalInterval
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultExternalPollInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &ExternalWorker{s: s, cfg: cfg, polled: map[string]time.Time{}}
}

// Run campaigns for the worker's leadership and, while it leads, runs a
// pass every interval or when this process queues a job. It returns nil
// when ctx ends.
func (w *ExternalWorker) Run(ctx context.Context) error {
	return w.s.cp.RunLeader(ctx, ExternalLockKey, w.lead)
}

func (w *ExternalWorker) lead(ctx context.Context) error {
	b := retry.NewBackoff(w.cfg.Interval, 30*w.cfg.Interval)
	for {
		wait := w.cfg.Interval
		if err := w.RunOnce(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			w.cfg.Logger.Warn("external registry pass failed", "err", err)
			wait = b.Next()
		} else {
			b.Reset()
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-w.s.extWake:
		case <-t.C:
		}
		t.Stop()
	}
}

// job is a row of registrar_epp_job.
type job struct {
	opID, tld, domain, command, state string
	clTRID, svTRID                    string
	attempts                          int
	request                           []byte
	tenantID                          string
}

// RunOnce does the due jobs of every external TLD, each TLD over one EPP
// session, and settles pending commands from the poll queues. A TLD whose
// registry cannot be reached has its jobs put off (exponential backoff per
// job); the others go on. A TLD with only pending commands is polled
// every PollInterval. Not for concurrent use with itself (the leader's
// loop calls it).
func (w *ExternalWorker) RunOnce(ctx context.Context) error {
	now := w.s.cfg.Now()
	rows, err := w.s.db.Query(ctx, `SELECT tld, bool_or(due) FROM (
	            SELECT tld, state IN ('queued', 'sent') AND next_at <= $1 AS due FROM registrar_epp_job
	            WHERE (state IN ('queued', 'sent') AND next_at <= $1) OR state = 'pending'
	            UNION ALL
	            SELECT e.tld, false FROM registrar_transfer t JOIN registry_external e ON right(t.domain, length(e.tld) + 1) = '.' || e.tld
	            WHERE t.kind = 'in' AND t.status = 'pending') x GROUP BY tld ORDER BY tld`, now)
	if err != nil {
		return err
	}
	type due struct {
		tld  string
		jobs bool
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (due, error) {
		var d due
		return d, r.Scan(&d.tld, &d.jobs)
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range list {
		tld := d.tld
		if !d.jobs && now.Sub(w.polled[tld]) < w.cfg.PollInterval {
			continue // only pending commands, polled recently
		}
		w.polled[tld] = now
		if err := w.runTLD(ctx, tld); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", tld, err))
		}
	}
	return errors.Join(errs...)
}

func (w *ExternalWorker) jobs(ctx context.Context, tld, where string) ([]job, error) {
	rows, err := w.s.db.Query(ctx, `SELECT j.operation_id, j.tld, j.domain, j.command, j.state, j.cl_trid, j.sv_trid, j.attempts, j.request, o.tenant_id
	        FROM registrar_epp_job j JOIN registrar_operation o ON o.id = j.operation_id
	        WHERE j.tld = $1 AND `+where+` ORDER BY j.created_at, j.operation_id LIMIT 100`, tld, w.s.cfg.Now())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (job, error) {
		var j job
		return j, r.Scan(&j.opID, &j.tld, &j.domain, &j.command, &j.state, &j.clTRID, &j.svTRID, &j.attempts, &j.request, &j.tenantID)
	})
}

func (w *ExternalWorker) runTLD(ctx context.Context, tld string) error {
	due, err := w.jobs(ctx, tld, `j.state IN ('queued', 'sent') AND j.next_at <= $2`)
	if err != nil {
		return err
	}
	t, err := w.s.ExternalTLDByName(ctx, tld)
	if err != nil {
		return err
	}
	c, err := w.s.dialExternal(ctx, t)
	if err != nil {
		for _, j := range due {
			if rerr := w.putOff(ctx, j, err); rerr != nil {
				return rerr
			}
		}
		return err
	}
	defer c.Close()
	defer func() { _ = c.Logout(context.WithoutCancel(ctx)) }()
	for _, j := range due {
		if err := w.runJob(ctx, c, t, j); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if rerr := w.putOff(ctx, j, err); rerr != nil {
				return rerr
			}
		}
	}
	return w.settlePending(ctx, c, t)
}

// putOff records a failed attempt and when to try again: 1 s doubling
// to 10 minutes.
func (w *ExternalWorker) putOff(ctx context.Context, j job, cause error) error {
	delay := min(time.Second<<min(j.attempts, 10), 10*time.Minute)
	now := w.s.cfg.Now()
	_, err := w.s.db.Exec(ctx, `UPDATE registrar_epp_job SET attempts = attempts + 1, next_at = $2, last_error = $3, updated_at = $4
	        WHERE operation_id = $1 AND state IN ('queued', 'sent')`, j.opID, now.Add(delay), cause.Error(), now)
	w.cfg.Logger.Warn("external registry job put off", "operation", j.opID, "domain", j.domain, "err", cause, "retry_in", delay)
	return err
}

// refused reports whether err is the registry's refusal of the command
// (2xxx other than a failure of the server or of the session), which
// fails the operation rather than being retried.
func refused(err error) (*epp.Error, bool) {
	var e *epp.Error
	if !errors.As(err, &e) {
		return nil, false
	}
	if e.Code >= 2000 && e.Code < 2400 {
		return e, true
	}
	return nil, false
}

func eppMessage(e *epp.Error) string {
	m := fmt.Sprintf("%d %s", int(e.Code), e.Msg)
	if e.Reason != "" {
		m += ": " + e.Reason
	}
	return m
}

func (w *ExternalWorker) runJob(ctx context.Context, c *epp.Client, t ExternalTLD, j job) error {
	switch j.command {
	case "create":
		return w.create(ctx, c, t, j)
	case "renew":
		return w.renew(ctx, c, t, j)
	case "update":
		return w.update(ctx, c, t, j)
	case "delete":
		return w.delete(ctx, c, t, j)
	case "restore":
		return w.restore(ctx, c, t, j)
	}
	return fmt.Errorf("external job %s: command %q is not carried out by this version", j.opID, j.command)
}

// create registers the domain: contacts, hosts, domain create with its
// DS, glue hosts and their delegation last.
func (w *ExternalWorker) create(ctx context.Context, c *epp.Client, t ExternalTLD, j job) error {
	var req extCreateRequest
	if err := json.Unmarshal(j.request, &req); err != nil {
		return err
	}
	name := bareName(j.domain)
	// An earlier attempt may have created it: ask first.
	if d, err := c.InfoDomain(ctx, name, ""); err == nil {
		if d.ClID != t.ClientID {
			return w.fail(ctx, j, fmt.Sprintf("%s is registered at the registry of %s by another registrar", j.domain, t.TLD))
		}
		if slices.Contains(d.Status, StatusPendingCreate) {
			return w.recordPending(ctx, j, j.clTRID, j.svTRID)
		}
		return w.finishCreate(ctx, c, t, j, req, d)
	} else if e, ok := refused(err); !ok || e.Code != epp.CodeObjectDoesNotExist {
		return err
	}
	// Contacts, one per distinct content (the registrant usually stands
	// for every role).
	made := map[string]bool{}
	for _, role := range Roles {
		ct, ok := req.Contacts[role]
		if !ok || made[ct.ID] {
			continue
		}
		made[ct.ID] = true
		err := c.CreateContact(ctx, eppContact(ct, req.AuthInfo))
		if e, ok := refused(err); ok && e.Code == epp.CodeObjectExists {
			info, ierr := c.InfoContact(ctx, ct.ID, "")
			if ierr != nil {
				return ierr
			}
			if info.ClID != t.ClientID {
				return w.fail(ctx, j, fmt.Sprintf("contact id %s is another registrar's at the registry of %s", ct.ID, t.TLD))
			}
			err = nil
		}
		if e, ok := refused(err); ok {
			return w.fail(ctx, j, "contact create: "+eppMessage(e))
		}
		if err != nil {
			return err
		}
	}
	// Hosts outside the domain: host objects without addresses, which a
	// registry that has them already (or keeps external hosts as
	// attributes) refuses harmlessly; the domain create says what counts.
	glue := subordinates(j.domain, req.Nameservers)
	var ns []string
	for _, n := range req.Nameservers {
		ns = append(ns, bareName(n.Name))
		if !strings.HasSuffix(canonical(n.Name), "."+j.domain) {
			if err := c.CreateHost(ctx, bareName(n.Name)); err != nil {
				if _, ok := refused(err); !ok {
					return err
				}
			}
		}
	}
	in := epp.DomainCreate{Name: name, Years: req.Years, Registrant: req.Contacts[RoleRegistrant].ID, AuthInfo: req.AuthInfo}
	for _, role := range []string{RoleAdmin, RoleTech, RoleBilling} {
		if ct, ok := req.Contacts[role]; ok {
			in.Contacts = append(in.Contacts, epp.ContactLink{Type: role, ID: ct.ID})
		}
	}
	// A domain with glue gets its nameservers once its hosts exist,
	// which needs the domain (RFC 5732 s3.2.1).
	if len(glue) == 0 {
		in.NS = ns
	}
	for _, d := range req.DS {
		in.DS = append(in.DS, epp.DS{KeyTag: d.KeyTag, Alg: d.Algorithm, DigestType: d.DigestType, Digest: d.Digest})
	}
	if err := w.markSent(ctx, j); err != nil {
		return err
	}
	d, pending, err := c.CreateDomain(ctx, in)
	if w.cfg.afterSend != nil {
		w.cfg.afterSend("create", j.domain)
	}
	if e, ok := refused(err); ok {
		if e.Code == epp.CodeObjectExists {
			// Someone's: the next attempt's info tells whose.
			return err
		}
		return w.fail(ctx, j, "the registry of "+t.TLD+" refused the create: "+eppMessage(e))
	}
	if err != nil {
		return err
	}
	if pending {
		p := c.Pending()
		cl, sv := "", ""
		for _, x := range p {
			if x.Command == "create" && x.Name == name {
				cl, sv = x.ClTRID, x.SvTRID
			}
		}
		return w.recordPending(ctx, j, cl, sv)
	}
	_ = d
	info, err := c.InfoDomain(ctx, name, "")
	if err != nil {
		return err
	}
	return w.finishCreate(ctx, c, t, j, req, info)
}

// finishCreate gives a created domain its glue hosts and their
// delegation when it has any, and records it.
func (w *ExternalWorker) finishCreate(ctx context.Context, c *epp.Client, t ExternalTLD, j job, req extCreateRequest, d epp.Domain) error {
	name := bareName(j.domain)
	glue := subordinates(j.domain, req.Nameservers)
	if len(glue) > 0 {
		var add []string
		for _, n := range req.Nameservers {
			h := bareName(n.Name)
			if !slices.ContainsFunc(d.NS, func(x string) bool { return strings.EqualFold(x, h) }) {
				add = append(add, h)
			}
			if n.GlueIPs == nil {
				continue
			}
			if err := c.CreateHost(ctx, h, n.GlueIPs...); err != nil {
				if e, ok := refused(err); !ok || e.Code != epp.CodeObjectExists {
					if ok {
						return w.fail(ctx, j, "host create: "+eppMessage(e))
					}
					return err
				}
			}
		}
		if len(add) > 0 {
			if _, err := c.UpdateDomain(ctx, epp.DomainUpdate{Name: name, AddNS: add}); err != nil {
				if e, ok := refused(err); ok {
					return w.fail(ctx, j, "nameserver update: "+eppMessage(e))
				}
				return err
			}
			var err error
			if d, err = c.InfoDomain(ctx, name, ""); err != nil {
				return err
			}
		}
	}
	// Locked against transfer from the start, as for built-in TLDs and
	// in Route 53; a registry that does not take the status leaves the
	// domain unlocked, which its recorded statuses then say.
	if !slices.Contains(d.Status, StatusTransferProhibited) {
		_, err := c.UpdateDomain(ctx, epp.DomainUpdate{Name: name, AddStatus: []string{StatusTransferProhibited}})
		if _, ok := refused(err); err != nil && !ok {
			return err
		} else if err == nil {
			if d, err = c.InfoDomain(ctx, name, ""); err != nil {
				return err
			}
		} else {
			w.cfg.Logger.Warn("external registry refused the transfer lock", "domain", j.domain, "err", err)
		}
	}
	return w.recordDomain(ctx, j, req.Nameservers, d)
}

// subordinates are the nameservers inside domain (which need glue).
func subordinates(domain string, nss []Nameserver) []Nameserver {
	var out []Nameserver
	for _, n := range nss {
		if strings.HasSuffix(canonical(n.Name), "."+domain) {
			out = append(out, n)
		}
	}
	return out
}

func eppContact(ct extContact, auth string) epp.Contact {
	i := ct.Info
	return epp.Contact{ID: ct.ID, Email: i.Email, Voice: i.Voice, Fax: i.Fax, AuthInfo: auth,
		Postal: []epp.Postal{{Type: "int", Name: i.Name, Org: i.Organization, Street: i.Street, City: i.City, SP: i.State, PC: i.PostalCode, CC: i.CountryCode}}}
}

// markSent records that the job's command may reach the registry from
// now on: a later attempt asks before sending again. A request given
// replaces the job's (what a later attempt must know of this one).
func (w *ExternalWorker) markSent(ctx context.Context, j job, req ...any) error {
	raw := j.request
	if len(req) > 0 {
		var err error
		if raw, err = json.Marshal(req[0]); err != nil {
			return err
		}
	}
	_, err := w.s.db.Exec(ctx, `UPDATE registrar_epp_job SET state = 'sent', request = $3, updated_at = $2 WHERE operation_id = $1 AND state IN ('queued', 'sent')`,
		j.opID, w.s.cfg.Now(), raw)
	return err
}

// inJobTx runs fn in a transaction holding the job's row, if the job is
// still in one of states (another leader's late write loses).
func (w *ExternalWorker) inJobTx(ctx context.Context, j job, states []string, fn func(ctx context.Context, zt *controlplane.ZoneTx) error) error {
	return w.s.cp.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		var state string
		err := zt.Tx().QueryRow(ctx, `SELECT state FROM registrar_epp_job WHERE operation_id = $1 FOR UPDATE`, j.opID).Scan(&state)
		if err != nil {
			return err
		}
		if !slices.Contains(states, state) {
			return nil
		}
		return fn(ctx, zt)
	})
}

var activeStates = []string{"queued", "sent", "pending"}

// release ends the job and lets the operation settle by its zone changes.
func (w *ExternalWorker) release(ctx context.Context, q pgx.Tx, j job, msg string) error {
	var changes []string
	if err := q.QueryRow(ctx, `UPDATE registrar_operation SET status = 'IN_PROGRESS', held = false, message = $2, updated_at = $3
	        WHERE id = $1 AND status IN ('SUBMITTED', 'IN_PROGRESS') RETURNING change_ids`, j.opID, msg, w.s.reg.Now()).Scan(&changes); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if _, err := q.Exec(ctx, settleSQL, j.opID, changes); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `UPDATE registrar_epp_job SET state = 'done', last_error = '', updated_at = $2 WHERE operation_id = $1`, j.opID, w.s.cfg.Now())
	return err
}

// recordPending records a create answered 1001: IN_PROGRESS (still held)
// until the registry's poll message settles it.
func (w *ExternalWorker) recordPending(ctx context.Context, j job, clTRID, svTRID string) error {
	return w.inJobTx(ctx, j, activeStates, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		q := zt.Tx()
		if _, err := q.Exec(ctx, `UPDATE registrar_epp_job SET state = 'pending', cl_trid = CASE WHEN $2 = '' THEN cl_trid ELSE $2 END,
		        sv_trid = CASE WHEN $3 = '' THEN sv_trid ELSE $3 END, updated_at = $4 WHERE operation_id = $1`, j.opID, clTRID, svTRID, w.s.cfg.Now()); err != nil {
			return err
		}
		msg := fmt.Sprintf("pending at the registry of %s (EPP 1001", j.tld)
		if svTRID != "" {
			msg += ", svTRID " + svTRID
		}
		_, err := q.Exec(ctx, `UPDATE registrar_operation SET status = 'IN_PROGRESS', message = $2, updated_at = $3
		        WHERE id = $1 AND status IN ('SUBMITTED', 'IN_PROGRESS')`, j.opID, msg+")", w.s.reg.Now())
		return err
	})
}

// fail records the registry's refusal: the operation FAILED with its
// message, the charge refunded, and a create's domain row removed (the
// name is not the tenant's; a hosted zone created with it stays).
func (w *ExternalWorker) fail(ctx context.Context, j job, msg string) error {
	return w.inJobTx(ctx, j, activeStates, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		q := zt.Tx()
		now := w.s.reg.Now()
		if _, err := q.Exec(ctx, `UPDATE registrar_operation SET status = 'FAILED', held = false, message = $2, updated_at = $3 WHERE id = $1`,
			j.opID, msg, now); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `INSERT INTO registrar_ledger (tenant_id, domain, operation_id, kind, amount, currency, created_at)
		        SELECT tenant_id, domain, operation_id, 'refund', -sum(amount), min(currency), $2 FROM registrar_ledger
		        WHERE operation_id = $1 AND kind <> 'refund' GROUP BY tenant_id, domain, operation_id
		        ON CONFLICT DO NOTHING`, j.opID, now); err != nil {
			return err
		}
		if j.command == "create" {
			if _, err := q.Exec(ctx, `DELETE FROM registrar_domain WHERE name = $1 AND tenant_id = $2 AND ext_state = $3`,
				j.domain, j.tenantID, extCreating); err != nil {
				return err
			}
		}
		_, err := q.Exec(ctx, `UPDATE registrar_epp_job SET state = 'done', last_error = $2, updated_at = $3 WHERE operation_id = $1`, j.opID, msg, w.s.cfg.Now())
		return err
	})
}

// settlePending drains the registry's poll queue while commands or
// transfers in of the TLD are pending: a panData message settles the
// command of its domain (and clTRID or svTRID, when the message names
// them), a trnData message our transfer in of its domain, after which it
// is acknowledged; a message that settles nothing of ours is acknowledged
// and logged. Transfers in still pending are then queried.
func (w *ExternalWorker) settlePending(ctx context.Context, c *epp.Client, t ExternalTLD) error {
	pending, err := w.jobs(ctx, t.TLD, `j.state = 'pending' AND $2::timestamptz IS NOT NULL`)
	if err != nil {
		return err
	}
	transfers, err := w.pendingTransfersIn(ctx, t.TLD, false)
	if err != nil || len(pending)+len(transfers) == 0 {
		return err
	}
	for range 1000 {
		m, _, err := c.Poll(ctx)
		if err != nil {
			return err
		}
		if m == nil {
			break
		}
		if p := m.Pending; p != nil {
			if err := w.settle(ctx, c, t, pending, p); err != nil {
				return err
			}
		} else if tr := m.Transfer; tr != nil && tr.ReID == t.ClientID && (tr.Status == "clientApproved" || tr.Status == "serverApproved") {
			// An approval is checked against the sponsor; a refusal may
			// be an earlier transfer's news, so the query below decides.
			for _, p := range transfers {
				if p.domain == canonical(tr.Name) {
					if err := w.settleApproved(ctx, c, t, p, tr.Status); err != nil {
						return err
					}
				}
			}
		} else {
			w.cfg.Logger.Info("external registry message", "tld", t.TLD, "id", m.ID, "text", m.Text)
		}
		if _, err := c.Ack(ctx, m.ID); err != nil {
			return err
		}
	}
	// Transfers no message settled: asked of the registry, once their
	// request has left.
	if transfers, err = w.pendingTransfersIn(ctx, t.TLD, true); err != nil {
		return err
	}
	for _, p := range transfers {
		if err := w.queryTransfer(ctx, c, t, p); err != nil {
			return err
		}
	}
	return nil
}

func (w *ExternalWorker) settle(ctx context.Context, c *epp.Client, t ExternalTLD, pending []job, p *epp.PendingAction) error {
	name := canonical(p.Name)
	for _, j := range pending {
		if j.domain != name || p.ClTRID != "" && j.clTRID != "" && p.ClTRID != j.clTRID || p.SvTRID != "" && j.svTRID != "" && p.SvTRID != j.svTRID {
			continue
		}
		if j.command != "create" {
			return w.settleOther(ctx, c, t, j, p.OK)
		}
		if !p.OK {
			return w.fail(ctx, j, fmt.Sprintf("the registry of %s did not complete the pending %s", t.TLD, j.command))
		}
		var req extCreateRequest
		if err := json.Unmarshal(j.request, &req); err != nil {
			return err
		}
		d, err := c.InfoDomain(ctx, bareName(j.domain), "")
		if err != nil {
			return err
		}
		return w.finishCreate(ctx, c, t, j, req, d)
	}
	w.cfg.Logger.Info("external registry pending action of no job", "tld", t.TLD, "domain", p.Name)
	return nil
}
