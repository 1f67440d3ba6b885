package registrar

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/registrar/epp"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// The operations on a domain registered at an external registry after
// its create: renew, nameserver and DS updates, delete and restore. Each
// is checked and charged in the request's transaction against what the
// registry last answered (the domain row), and queued for the external
// worker, which asks the registry with domain:info first, so that an
// attempt whose answer was lost is recognised rather than repeated: a
// renewal whose expiry already moved by its years is done; an update
// sends only the difference between what the domain has and what it
// should have; a delete of a domain already gone or in redemption is
// done.

// externalOps are the operations offered on an external domain; the
// others are refused with TLDRulesViolation.
var externalOps = []string{OpRenew, OpUpdateNS, OpAddDNSSEC, OpRemoveDNSSEC, OpDelete, OpRestore, OpDomainLock, OpPrivacy}

// extRenewRequest is a renew's job request.
type extRenewRequest struct {
	Years     int       `json:"years"`
	CurExpiry time.Time `json:"cur_expiry"`
}

// extUpdateRequest is an update's job request: the nameservers the
// domain should have (nil: unchanged), DS to add and to remove.
type extUpdateRequest struct {
	Nameservers []Nameserver  `json:"nameservers,omitempty"`
	AddDS       []registry.DS `json:"add_ds,omitempty"`
	RemDS       []registry.DS `json:"rem_ds,omitempty"`
	// AddStatus and RemStatus are client statuses (the transfer lock's
	// clientTransferProhibited) to set and clear.
	AddStatus []string `json:"add_status,omitempty"`
	RemStatus []string `json:"rem_status,omitempty"`
}

// extState is the domain row of an external domain, locked by the
// mutation.
type extState struct {
	state    string
	statuses []string
	expires  time.Time
	ds       []registry.DS
}

func (s *Service) extState(ctx context.Context, m *mutation) (extState, error) {
	var x extState
	var exp *time.Time
	var state *string
	var ds []byte
	if err := m.q.QueryRow(ctx, `SELECT ext_state, ext_statuses, ext_expires_at, ext_ds FROM registrar_domain WHERE name = $1`, m.name).
		Scan(&state, &x.statuses, &exp, &ds); err != nil {
		return x, err
	}
	if state != nil {
		x.state = *state
	}
	if exp != nil {
		x.expires = *exp
	}
	if err := json.Unmarshal(ds, &x.ds); err != nil {
		return x, err
	}
	if x.state != extRegistered {
		return x, errorf(CodeTLDRulesViolation, "%s is still being created at the registry of %s", m.name, m.ext)
	}
	return x, nil
}

func (s *Service) queueRenew(ctx context.Context, m *mutation, tenantID string, in RenewInput) error {
	x, err := s.extState(ctx, m)
	if err != nil {
		return err
	}
	if in.Years == 0 {
		in.Years = 1
	}
	if slices.Contains(x.statuses, registry.RGPRedemption) || slices.Contains(x.statuses, registry.RGPPending) {
		return errorf(CodeTLDRulesViolation, "%s is deleted; restore it first", m.name)
	}
	if x.expires.Year() != in.CurrentExpiryYear {
		return errorf(CodeInvalidInput, "the current expiry year of %s is %d, not %d", m.name, x.expires.Year(), in.CurrentExpiryYear)
	}
	if x.expires.AddDate(in.Years, 0, 0).After(m.now.AddDate(registry.MaxYears, 0, 0)) {
		return errorf(CodeTLDRulesViolation, "%s would expire more than %d years from now", m.name, registry.MaxYears)
	}
	t, err := s.ExternalTLDByName(ctx, m.ext)
	if err != nil {
		return err
	}
	if err := m.charge(ctx, tenantID, "renew", t.Prices.Renew*int64(in.Years), t.Prices.Currency); err != nil {
		return err
	}
	m.queue("renew", extRenewRequest{Years: in.Years, CurExpiry: x.expires})
	return nil
}

func (s *Service) queueNameservers(ctx context.Context, m *mutation, nss []Nameserver) error {
	if _, err := s.extState(ctx, m); err != nil {
		return err
	}
	hosts := make([]string, 0, len(nss))
	for i := range nss {
		nss[i].Name = canonical(nss[i].Name)
		hosts = append(hosts, nss[i].Name)
	}
	// Still delegated to the tenant's zone only if these are its
	// nameservers.
	if _, err := m.q.Exec(ctx, `UPDATE registrar_domain d SET hosted_zone_id = NULL, updated_at = $2
	    WHERE d.name = $1 AND d.hosted_zone_id IS NOT NULL AND NOT EXISTS (
	        SELECT 1 FROM hosted_zone z JOIN delegation_set s ON s.id = z.delegation_set_id
	        WHERE z.id = d.hosted_zone_id AND s.name_servers = $3)`, m.name, m.now, hosts); err != nil {
		return err
	}
	m.queue("update", extUpdateRequest{Nameservers: nss})
	return nil
}

func (s *Service) queueDS(ctx context.Context, m *mutation, add []registry.DS, _ []registry.DS) error {
	x, err := s.extState(ctx, m)
	if err != nil {
		return err
	}
	all := slices.Clone(x.ds)
	for _, d := range add {
		if !slices.ContainsFunc(all, func(e registry.DS) bool { return DSID(e) == DSID(d) }) {
			all = append(all, d)
		}
	}
	if len(all) > MaxDS {
		return errorf(CodeDnssecLimitExceeded, "a domain carries at most %d DS records", MaxDS)
	}
	m.queue("update", extUpdateRequest{AddDS: add})
	return nil
}

// queueLock sets or clears the transfer lock (clientTransferProhibited)
// at the registry.
func (s *Service) queueLock(ctx context.Context, m *mutation, on bool) error {
	if _, err := s.extState(ctx, m); err != nil {
		return err
	}
	req := extUpdateRequest{RemStatus: []string{StatusTransferProhibited}}
	if on {
		req = extUpdateRequest{AddStatus: []string{StatusTransferProhibited}}
	}
	m.queue("update", req)
	return nil
}

func (s *Service) queueRemoveDS(ctx context.Context, m *mutation, id string) error {
	x, err := s.extState(ctx, m)
	if err != nil {
		return err
	}
	for _, d := range x.ds {
		if DSID(d) == id {
			m.queue("update", extUpdateRequest{RemDS: []registry.DS{d}})
			return nil
		}
	}
	return errorf(CodeNoSuchDS, "%s has no DS record %s", m.name, id)
}

func (s *Service) queueRestore(ctx context.Context, m *mutation, tenantID string) error {
	x, err := s.extState(ctx, m)
	if err != nil {
		return err
	}
	if !slices.Contains(x.statuses, registry.RGPRedemption) {
		return errorf(CodeTLDRulesViolation, "%s is not in its redemption period", m.name)
	}
	t, err := s.ExternalTLDByName(ctx, m.ext)
	if err != nil {
		return err
	}
	if err := m.charge(ctx, tenantID, "restore", t.Prices.Restore, t.Prices.Currency); err != nil {
		return err
	}
	m.queue("restore", struct{}{})
	return nil
}

// externalAuthCode reads the domain's auth code (EPP authInfo) from its
// registry, which shows it to the sponsor: one EPP session, as for
// availability.
func (s *Service) externalAuthCode(ctx context.Context, name, tld string) (string, error) {
	t, err := s.ExternalTLDByName(ctx, tld)
	if err != nil {
		return "", err
	}
	c, err := s.dialExternal(ctx, t)
	if err != nil {
		return "", &Error{Code: CodeRegistryUnavailable, Message: err.Error()}
	}
	defer c.Close()
	defer func() { _ = c.Logout(context.WithoutCancel(ctx)) }()
	d, err := c.InfoDomain(ctx, bareName(name), "")
	if err != nil {
		return "", &Error{Code: CodeRegistryUnavailable, Message: fmt.Sprintf("info at the registry of %s: %v", t.TLD, err)}
	}
	if d.AuthInfo == "" {
		return "", &Error{Code: CodeRegistryUnavailable, Message: "the registry of " + t.TLD + " did not show the auth code"}
	}
	return d.AuthInfo, nil
}

// The worker's side.

// info reads the job's domain at the registry; ok is false when it
// could not, and a refusal has failed the job.
func (w *ExternalWorker) info(ctx context.Context, c *epp.Client, j job) (d epp.Domain, ok bool, err error) {
	d, err = c.InfoDomain(ctx, bareName(j.domain), "")
	if e, refusal := refused(err); refusal {
		return d, false, w.fail(ctx, j, "domain info: "+eppMessage(e))
	}
	return d, err == nil, err
}

func sameDay(a, b time.Time) bool {
	a, b = a.UTC(), b.UTC()
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}

func (w *ExternalWorker) renew(ctx context.Context, c *epp.Client, t ExternalTLD, j job) error {
	var req extRenewRequest
	if err := json.Unmarshal(j.request, &req); err != nil {
		return err
	}
	name := bareName(j.domain)
	d, ok, err := w.info(ctx, c, j)
	if !ok {
		return err
	}
	switch {
	case sameDay(d.ExDate, req.CurExpiry.AddDate(req.Years, 0, 0)):
		// An earlier attempt's renewal, whose answer was lost.
		return w.recordDomain(ctx, j, nil, d)
	case !sameDay(d.ExDate, req.CurExpiry):
		return w.fail(ctx, j, fmt.Sprintf("%s expires at the registry of %s on %s, not on %s as when the renewal was asked",
			j.domain, t.TLD, d.ExDate.UTC().Format(time.DateOnly), req.CurExpiry.UTC().Format(time.DateOnly)))
	}
	if err := w.markSent(ctx, j); err != nil {
		return err
	}
	_, pending, err := c.RenewDomain(ctx, name, d.ExDate, req.Years)
	return w.answered(ctx, c, t, j, "renew", err, pending, nil)
}

func (w *ExternalWorker) update(ctx context.Context, c *epp.Client, t ExternalTLD, j job) error {
	var req extUpdateRequest
	if err := json.Unmarshal(j.request, &req); err != nil {
		return err
	}
	name := bareName(j.domain)
	d, ok, err := w.info(ctx, c, j)
	if !ok {
		return err
	}
	u := epp.DomainUpdate{Name: name}
	if req.Nameservers != nil {
		have := map[string]bool{}
		for _, h := range d.NS {
			have[canonical(h)] = true
		}
		want := map[string]bool{}
		for _, n := range req.Nameservers {
			want[n.Name] = true
			if have[n.Name] {
				continue
			}
			u.AddNS = append(u.AddNS, bareName(n.Name))
			err := c.CreateHost(ctx, bareName(n.Name), n.GlueIPs...)
			if e, ok := refused(err); ok && len(n.GlueIPs) > 0 && e.Code != epp.CodeObjectExists {
				return w.fail(ctx, j, "host create: "+eppMessage(e))
			} else if err != nil && !ok {
				return err
			}
		}
		for _, h := range d.NS {
			if !want[canonical(h)] {
				u.RemNS = append(u.RemNS, h)
			}
		}
	}
	has := func(x registry.DS) bool {
		return slices.ContainsFunc(d.DS, func(e epp.DS) bool {
			return DSID(registry.DS{KeyTag: e.KeyTag, Algorithm: e.Alg, DigestType: e.DigestType, Digest: e.Digest}) == DSID(x)
		})
	}
	for _, x := range req.AddDS {
		if !has(x) {
			u.AddDS = append(u.AddDS, epp.DS{KeyTag: x.KeyTag, Alg: x.Algorithm, DigestType: x.DigestType, Digest: x.Digest})
		}
	}
	for _, x := range req.RemDS {
		if has(x) {
			u.RemDS = append(u.RemDS, epp.DS{KeyTag: x.KeyTag, Alg: x.Algorithm, DigestType: x.DigestType, Digest: x.Digest})
		}
	}
	for _, st := range req.AddStatus {
		if !slices.Contains(d.Status, st) {
			u.AddStatus = append(u.AddStatus, st)
		}
	}
	for _, st := range req.RemStatus {
		if slices.Contains(d.Status, st) {
			u.RemStatus = append(u.RemStatus, st)
		}
	}
	if len(u.AddNS)+len(u.RemNS)+len(u.AddDS)+len(u.RemDS)+len(u.AddStatus)+len(u.RemStatus) == 0 {
		// Nothing left to change: done (by an earlier attempt, or
		// nothing to do).
		return w.recordDomain(ctx, j, req.Nameservers, d)
	}
	if err := w.markSent(ctx, j); err != nil {
		return err
	}
	pending, err := c.UpdateDomain(ctx, u)
	return w.answered(ctx, c, t, j, "update", err, pending, req.Nameservers)
}

// extDeleteRequest is a delete's job request: Grace is set, before the
// delete is sent, when the domain was in its add grace period, so that an
// attempt that finds it gone (its answer lost) refunds as the first would
// have.
type extDeleteRequest struct {
	Grace string `json:"grace,omitempty"`
}

func (w *ExternalWorker) delete(ctx context.Context, c *epp.Client, t ExternalTLD, j job) error {
	var req extDeleteRequest
	if err := json.Unmarshal(j.request, &req); err != nil {
		return err
	}
	name := bareName(j.domain)
	d, err := c.InfoDomain(ctx, name, "")
	if e, ok := refused(err); ok && e.Code == epp.CodeObjectDoesNotExist {
		return w.recordGone(ctx, j, req.Grace)
	}
	if err != nil {
		return err
	}
	if slices.Contains(d.RGPStatus, registry.RGPRedemption) || slices.Contains(d.RGPStatus, registry.RGPPending) {
		return w.recordDomain(ctx, j, nil, d)
	}
	// A registry releases at once (1000) only in the add grace period,
	// and then refunds the create: so does the registrar. A delete that
	// enters redemption refunds nothing (an info does not say whether a
	// renew grace period is still open: RFC 3915 gives no end date).
	grace := ""
	if slices.Contains(d.RGPStatus, registry.RGPAdd) {
		grace = registry.RGPAdd
	}
	if err := w.markSent(ctx, j, extDeleteRequest{Grace: grace}); err != nil {
		return err
	}
	pending, err := c.DeleteDomain(ctx, name)
	if w.cfg.afterSend != nil {
		w.cfg.afterSend("delete", j.domain)
	}
	if e, ok := refused(err); ok {
		return w.fail(ctx, j, "the registry of "+t.TLD+" refused the delete: "+eppMessage(e))
	}
	if err != nil {
		return err
	}
	if !pending {
		// Released at once (in the add grace period).
		return w.recordGone(ctx, j, grace)
	}
	// In redemption (RFC 3915): restorable until the registry purges it.
	d, err = c.InfoDomain(ctx, name, "")
	if e, ok := refused(err); ok && e.Code == epp.CodeObjectDoesNotExist {
		return w.recordGone(ctx, j, "")
	}
	if err != nil {
		return err
	}
	return w.recordDomain(ctx, j, nil, d)
}

func (w *ExternalWorker) restore(ctx context.Context, c *epp.Client, t ExternalTLD, j job) error {
	name := bareName(j.domain)
	d, ok, err := w.info(ctx, c, j)
	if !ok {
		return err
	}
	if !slices.Contains(d.RGPStatus, registry.RGPRedemption) {
		if j.state == "sent" {
			return w.recordDomain(ctx, j, nil, d) // restored by the attempt whose answer was lost
		}
		return w.fail(ctx, j, fmt.Sprintf("%s is not in its redemption period at the registry of %s", j.domain, t.TLD))
	}
	if err := w.markSent(ctx, j); err != nil {
		return err
	}
	_, err = c.RestoreDomain(ctx, name)
	return w.answered(ctx, c, t, j, "restore", err, false, nil)
}

// answered records the registry's answer to a renew, update or restore:
// refused, pending (1001, settled by poll message), or done.
func (w *ExternalWorker) answered(ctx context.Context, c *epp.Client, t ExternalTLD, j job, command string, err error, pending bool, nss []Nameserver) error {
	if w.cfg.afterSend != nil {
		w.cfg.afterSend(command, j.domain)
	}
	if e, ok := refused(err); ok {
		return w.fail(ctx, j, fmt.Sprintf("the registry of %s refused the %s: %s", t.TLD, command, eppMessage(e)))
	}
	if err != nil {
		return err
	}
	if pending {
		cl, sv := "", ""
		for _, x := range c.Pending() {
			if x.Command == command && x.Name == bareName(j.domain) {
				cl, sv = x.ClTRID, x.SvTRID
			}
		}
		return w.recordPending(ctx, j, cl, sv)
	}
	d, err := c.InfoDomain(ctx, bareName(j.domain), "")
	if err != nil {
		return err
	}
	return w.recordDomain(ctx, j, nss, d)
}

// recordDomain records what the registry answered for the domain (glue:
// the addresses of its subordinate nameservers, nil to keep those
// recorded), ends the job and releases the operation.
func (w *ExternalWorker) recordDomain(ctx context.Context, j job, glue []Nameserver, d epp.Domain) error {
	return w.inJobTx(ctx, j, activeStates, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		q := zt.Tx()
		if glue == nil {
			var raw []byte
			if err := q.QueryRow(ctx, `SELECT ext_nameservers FROM registrar_domain WHERE name = $1`, j.domain).Scan(&raw); err != nil {
				return err
			}
			if err := json.Unmarshal(raw, &glue); err != nil {
				return err
			}
		}
		ns := make([]Nameserver, 0, len(d.NS))
		for _, h := range d.NS {
			n := Nameserver{Name: canonical(h)}
			for _, r := range glue {
				if canonical(r.Name) == n.Name && strings.HasSuffix(n.Name, "."+j.domain) {
					n.GlueIPs = r.GlueIPs
				}
			}
			ns = append(ns, n)
		}
		ds := make([]registry.DS, 0, len(d.DS))
		for _, x := range d.DS {
			ds = append(ds, registry.DS{KeyTag: x.KeyTag, Algorithm: x.Alg, DigestType: x.DigestType, Digest: strings.ToUpper(x.Digest)})
		}
		nsJSON, err := json.Marshal(ns)
		if err != nil {
			return err
		}
		dsJSON, err := json.Marshal(ds)
		if err != nil {
			return err
		}
		statuses := append(slices.Clone(d.Status), d.RGPStatus...)
		statuses = slices.DeleteFunc(statuses, func(s string) bool { return s == "ok" })
		if statuses == nil {
			statuses = []string{}
		}
		var created, expires *time.Time
		if !d.CrDate.IsZero() {
			created = &d.CrDate
		}
		if !d.ExDate.IsZero() {
			expires = &d.ExDate
		}
		if _, err := q.Exec(ctx, `UPDATE registrar_domain SET ext_state = $2, ext_roid = $3, ext_statuses = $4, ext_nameservers = $5, ext_ds = $6,
		        ext_created_at = coalesce($7, ext_created_at), ext_expires_at = coalesce($8, ext_expires_at), updated_at = $9 WHERE name = $1`,
			j.domain, extRegistered, d.ROID, statuses, nsJSON, dsJSON, created, expires, w.s.reg.Now()); err != nil {
			return err
		}
		return w.release(ctx, q, j, "")
	})
}

// recordGone records a domain the registry no longer has (deleted in its
// add grace period, or already gone): the tenant's row is removed, and a
// delete inside a grace period refunds that period's charge.
func (w *ExternalWorker) recordGone(ctx context.Context, j job, grace string) error {
	return w.inJobTx(ctx, j, activeStates, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		q := zt.Tx()
		if grace != "" {
			if err := w.s.refundGrace(ctx, q, j.tenantID, j.opID, registry.Deleted{Name: j.domain, Grace: grace}); err != nil {
				return err
			}
		}
		if _, err := q.Exec(ctx, `DELETE FROM registrar_domain WHERE name = $1 AND tenant_id = $2`, j.domain, j.tenantID); err != nil {
			return err
		}
		return w.release(ctx, q, j, "")
	})
}

// settleOther settles a renew, update or restore the registry answered
// 1001, from its poll message.
func (w *ExternalWorker) settleOther(ctx context.Context, c *epp.Client, t ExternalTLD, j job, ok bool) error {
	if !ok {
		return w.fail(ctx, j, fmt.Sprintf("the registry of %s did not complete the pending %s", t.TLD, j.command))
	}
	d, err := c.InfoDomain(ctx, bareName(j.domain), "")
	if err != nil {
		return err
	}
	var glue []Nameserver
	if j.command == "update" {
		var req extUpdateRequest
		if err := json.Unmarshal(j.request, &req); err != nil {
			return err
		}
		glue = req.Nameservers
	}
	return w.recordDomain(ctx, j, glue, d)
}
