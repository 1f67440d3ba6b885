// Package regepp is the built-in registry (registrar/registry) as an
// epp.Registry, so that registrar/epp's server speaks EPP for it. The
// session's registrar (EPP clID) is the registry's registrar account of
// that id. It lives apart from both so that registrar/epp knows nothing of
// PostgreSQL and the registry nothing of EPP.
package regepp

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waymark-dns/waymark/registrar/epp"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// Registry serves EPP from the built-in registry.
type Registry struct {
	// Registry is the built-in registry.
	Registry *registry.Registry
	// Certs are, per registrar id, the SHA-256 fingerprints of the DER
	// client certificates it may log in with. A registrar without one
	// cannot log in: the password alone is not enough (RFC 5734 s9).
	Certs map[string][][sha256.Size]byte
}

var _ epp.Registry = (*Registry)(nil)

// Fingerprint is the SHA-256 of a DER certificate, as Certs holds it.
func Fingerprint(der []byte) [sha256.Size]byte { return sha256.Sum256(der) }

// eppErr turns a registry refusal into the EPP result it names
// (registry.Code.EPP); anything else passes through, and epp.CodeOf
// answers it 2400.
func eppErr(err error) error {
	if e, ok := registry.AsError(err); ok {
		return &epp.Error{Code: epp.Code(e.Code.EPP()), Reason: e.Message}
	}
	return err
}

func unimplemented(what string) error {
	return epp.Errorf(epp.CodeUnimplementedCommand, "%s is not offered by the built-in registry", what)
}

func bare(name string) string { return strings.TrimSuffix(name, ".") }

// Login checks the password and that the certificate is one of the
// registrar's.
func (r *Registry) Login(ctx context.Context, l epp.LoginRequest) (string, error) {
	if l.NewPassword != "" {
		return "", epp.Errorf(epp.CodeUnimplementedOption, "password changes are made by the operator")
	}
	ok, err := r.Registry.CheckLogin(ctx, l.ClientID, l.Password)
	if err != nil {
		return "", err
	}
	certOK := false
	if l.Cert != nil {
		fp := Fingerprint(l.Cert.Raw)
		for _, want := range r.Certs[l.ClientID] {
			if subtle.ConstantTimeCompare(fp[:], want[:]) == 1 {
				certOK = true
			}
		}
	}
	if !ok || !certOK {
		return "", epp.Errorf(epp.CodeAuthenticationError, "client id, password or certificate not accepted")
	}
	return l.ClientID, nil
}

// CheckDomains checks each name; a name in a TLD the registry does not
// run is unavailable with the reason, not a failure of the whole check.
func (r *Registry) CheckDomains(ctx context.Context, _ string, names []string) ([]epp.Check, error) {
	out := make([]epp.Check, 0, len(names))
	for _, n := range names {
		c, err := r.Registry.CheckDomain(ctx, n)
		if e, ok := registry.AsError(err); ok {
			out = append(out, epp.Check{Name: n, Reason: e.Message})
			continue
		}
		if err != nil {
			return nil, err
		}
		ch := epp.Check{Name: n, Avail: c.Availability == registry.Available}
		if !ch.Avail {
			ch.Reason = c.Reason
			if ch.Reason == "" {
				ch.Reason = strings.ToLower(c.Availability)
			}
		}
		out = append(out, ch)
	}
	return out, nil
}

// domain converts a registry domain; authInfo only for who may see it.
func domain(d registry.Domain, showAuth bool) epp.Domain {
	out := epp.Domain{
		Name: bare(d.Name), ROID: d.ROID, Status: slices.Clone(d.Statuses),
		Registrant: d.Registrant, ClID: d.RegistrarID,
		CrDate: d.CreatedAt, UpDate: d.UpdatedAt, ExDate: d.ExpiresAt,
	}
	if len(out.Status) == 0 {
		out.Status = []string{"ok"} // RFC 5731 s2.3
	}
	if d.RGP != "" {
		out.RGPStatus = []string{d.RGP}
	}
	for _, c := range []struct{ typ, id string }{{"admin", d.Admin}, {"billing", d.Billing}, {"tech", d.Tech}} {
		if c.id != "" {
			out.Contacts = append(out.Contacts, epp.ContactLink{Type: c.typ, ID: c.id})
		}
	}
	for _, ns := range d.Nameservers {
		out.NS = append(out.NS, bare(ns))
	}
	for _, ds := range d.DS {
		out.DS = append(out.DS, epp.DS{KeyTag: ds.KeyTag, Alg: ds.Algorithm, DigestType: ds.DigestType, Digest: ds.Digest})
	}
	if showAuth {
		out.AuthInfo = d.AuthInfo
	}
	return out
}

// InfoDomain shows a domain; authInfo only to its sponsor or to a client
// that sent it.
func (r *Registry) InfoDomain(ctx context.Context, registrar, name, authInfo string) (epp.Domain, error) {
	d, err := r.Registry.Domain(ctx, name)
	if err != nil {
		return epp.Domain{}, eppErr(err)
	}
	show := d.RegistrarID == registrar ||
		(authInfo != "" && subtle.ConstantTimeCompare([]byte(authInfo), []byte(d.AuthInfo)) == 1)
	return domain(d, show), nil
}

func dsList(in []epp.DS) []registry.DS {
	out := make([]registry.DS, 0, len(in))
	for _, d := range in {
		out = append(out, registry.DS{KeyTag: d.KeyTag, Algorithm: d.Alg, DigestType: d.DigestType, Digest: strings.ToUpper(d.Digest)})
	}
	return out
}

// CreateDomain registers the domain with its nameservers and DS in one
// transaction.
func (r *Registry) CreateDomain(ctx context.Context, registrar string, c epp.DomainCreate) (epp.Domain, error) {
	in := registry.DomainCreate{Name: c.Name, Years: c.Years, Registrant: c.Registrant, AuthInfo: c.AuthInfo, ClTRID: c.ClTRID}
	if in.Years == 0 {
		in.Years = 1 // RFC 5731 s3.2.1: the server's default period
	}
	for _, l := range c.Contacts {
		switch l.Type {
		case "admin":
			in.Admin = l.ID
		case "billing":
			in.Billing = l.ID
		case "tech":
			in.Tech = l.ID
		}
	}
	var name string
	_, err := r.Registry.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
		cr, err := tx.CreateDomain(ctx, registrar, in)
		if err != nil {
			return err
		}
		name = cr.Domain.Name
		if len(c.NS) > 0 {
			if err := tx.SetNameservers(ctx, registrar, name, c.NS); err != nil {
				return err
			}
		}
		if len(c.DS) > 0 {
			return tx.AddDS(ctx, registrar, name, dsList(c.DS))
		}
		return nil
	})
	if err != nil {
		return epp.Domain{}, eppErr(err)
	}
	return r.InfoDomain(ctx, registrar, name, "")
}

// clientStatuses are the statuses a sponsor sets and clears (RFC 5731
// s2.3); the server* ones are the registry's.
var clientStatuses = []string{"clientDeleteProhibited", "clientHold", "clientRenewProhibited", "clientTransferProhibited", "clientUpdateProhibited"}

// UpdateDomain changes nameservers, client statuses and DS. Contact,
// registrant and authInfo changes are not offered by the registry's Go
// API yet (2102), rather than dropped silently.
func (r *Registry) UpdateDomain(ctx context.Context, registrar string, u epp.DomainUpdate) (epp.Domain, error) {
	if len(u.AddContacts)+len(u.RemContacts) > 0 || u.Registrant != nil || u.AuthInfo != nil {
		return epp.Domain{}, epp.Errorf(epp.CodeUnimplementedOption, "only nameserver, client status and DS updates are offered by the built-in registry")
	}
	for _, st := range append(slices.Clone(u.AddStatus), u.RemStatus...) {
		if !slices.Contains(clientStatuses, st) {
			return epp.Domain{}, epp.Errorf(epp.CodeParameterPolicy, "status %q is not one a client sets (RFC 5731 s2.3)", st)
		}
	}
	_, err := r.Registry.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
		d, err := tx.Domain(ctx, u.Name)
		if err != nil {
			return err
		}
		if len(u.AddStatus)+len(u.RemStatus) > 0 {
			if d.RegistrarID != registrar {
				return epp.Errorf(epp.CodeAuthorizationError, "%s is sponsored by another registrar", d.Name)
			}
			for _, st := range u.RemStatus {
				if err := tx.SetStatus(ctx, d.Name, st, false); err != nil {
					return err
				}
			}
			for _, st := range u.AddStatus {
				if err := tx.SetStatus(ctx, d.Name, st, true); err != nil {
					return err
				}
			}
		}
		if len(u.AddNS)+len(u.RemNS) > 0 {
			ns := []string{}
			for _, n := range d.Nameservers {
				if !slices.ContainsFunc(u.RemNS, func(rem string) bool { return strings.EqualFold(bare(rem), bare(n)) }) {
					ns = append(ns, n)
				}
			}
			if err := tx.SetNameservers(ctx, registrar, d.Name, append(ns, u.AddNS...)); err != nil {
				return err
			}
		}
		rem := dsList(u.RemDS)
		if u.RemAllDS {
			rem = d.DS
		}
		if len(rem) > 0 {
			if err := tx.RemoveDS(ctx, registrar, d.Name, rem); err != nil {
				return err
			}
		}
		if len(u.AddDS) > 0 {
			return tx.AddDS(ctx, registrar, d.Name, dsList(u.AddDS))
		}
		return nil
	})
	if err != nil {
		return epp.Domain{}, eppErr(err)
	}
	return r.InfoDomain(ctx, registrar, u.Name, "")
}

// RenewDomain renews; the registry guards by the current expiry's year.
func (r *Registry) RenewDomain(ctx context.Context, registrar, name string, curExp time.Time, years int) (epp.Domain, error) {
	if years == 0 {
		years = 1
	}
	var cr registry.Created
	_, err := r.Registry.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
		var err error
		cr, err = tx.RenewDomain(ctx, registrar, name, curExp.Year(), years)
		return err
	})
	if err != nil {
		return epp.Domain{}, eppErr(err)
	}
	return domain(cr.Domain, true), nil
}

// DeleteDomain deletes; past the add grace period the domain enters
// redemption, which is pending (1001).
func (r *Registry) DeleteDomain(ctx context.Context, registrar, name string) (bool, error) {
	var refund bool
	_, err := r.Registry.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
		var err error
		refund, err = tx.DeleteDomain(ctx, registrar, name)
		return err
	})
	return !refund, eppErr(err)
}

// RestoreDomain restores from redemption.
func (r *Registry) RestoreDomain(ctx context.Context, registrar, name string) (epp.Domain, error) {
	var cr registry.Created
	_, err := r.Registry.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
		var err error
		cr, err = tx.RestoreDomain(ctx, registrar, name)
		return err
	})
	if err != nil {
		return epp.Domain{}, eppErr(err)
	}
	return domain(cr.Domain, true), nil
}

// TransferDomain runs a transfer command on the registry's transfers
// (registrar/registry/transfer.go): request (with the auth code; pending,
// 1001, until the sponsor answers or the TLD's waiting period ends),
// query, approve and reject (by the sponsor), cancel (by the requester).
func (r *Registry) TransferDomain(ctx context.Context, registrar string, t epp.TransferRequest) (epp.Transfer, error) {
	var out registry.Transfer
	var err error
	if t.Op == "query" {
		out, err = r.Registry.TransferOf(ctx, t.Name)
		if err == nil && out.Gaining != registrar && out.Losing != registrar {
			// RFC 5731 s3.1.3: only the parties (or the auth code's
			// holder) may see a transfer.
			err = epp.Errorf(epp.CodeAuthorizationError, "not a party to the transfer of %s", t.Name)
		}
		if err != nil {
			return epp.Transfer{}, eppErr(err)
		}
		return transfer(out), nil
	}
	_, err = r.Registry.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
		var err error
		switch t.Op {
		case "request":
			out, err = tx.RequestTransfer(ctx, registrar, t.Name, t.AuthInfo, t.Years)
		case "approve":
			out, err = tx.ApproveTransfer(ctx, registrar, t.Name)
		case "reject":
			out, err = tx.RejectTransfer(ctx, registrar, t.Name)
		case "cancel":
			out, err = tx.CancelTransfer(ctx, registrar, t.Name)
		default:
			err = epp.Errorf(epp.CodeValueSyntax, "transfer op %q", t.Op)
		}
		return err
	})
	if err != nil {
		return epp.Transfer{}, eppErr(err)
	}
	return transfer(out), nil
}

// transfer is a registry transfer as EPP's trnData: reID the requester,
// acID the sponsor who must act, acDate when the registry acts for it.
func transfer(t registry.Transfer) epp.Transfer {
	out := epp.Transfer{Name: bare(t.Name), Status: t.Status, ReID: t.Gaining, ReDate: t.RequestedAt, AcID: t.Losing, AcDate: t.ActBy}
	if t.SettledAt != nil {
		out.AcDate = *t.SettledAt
	}
	if t.Status == registry.TransferPending || t.Approved() {
		out.ExDate = t.ExpiresAt
	}
	return out
}

// CheckHosts: a host is available when no host object has the name.
func (r *Registry) CheckHosts(ctx context.Context, _ string, names []string) ([]epp.Check, error) {
	out := make([]epp.Check, 0, len(names))
	for _, n := range names {
		_, err := r.Registry.Host(ctx, n)
		switch {
		case err == nil:
			out = append(out, epp.Check{Name: n, Reason: "in use"})
		case registry.IsCode(err, registry.ErrObjectDoesNotExist):
			out = append(out, epp.Check{Name: n, Avail: true})
		default:
			return nil, err
		}
	}
	return out, nil
}

// InfoHost shows a host object.
func (r *Registry) InfoHost(ctx context.Context, _ string, name string) (epp.Host, error) {
	h, err := r.Registry.Host(ctx, name)
	if err != nil {
		return epp.Host{}, eppErr(err)
	}
	return epp.Host{Name: bare(h.Name), ROID: h.ROID, Status: []string{"ok"}, Addrs: h.Addrs, ClID: h.RegistrarID, CrDate: h.CreatedAt}, nil
}

// CreateHost creates a host object with its addresses.
func (r *Registry) CreateHost(ctx context.Context, registrar string, h epp.Host) (epp.Host, error) {
	_, err := r.Registry.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
		return tx.CreateHost(ctx, registrar, h.Name, h.Addrs)
	})
	if err != nil {
		return epp.Host{}, eppErr(err)
	}
	return r.InfoHost(ctx, registrar, h.Name)
}

// UpdateHost is not offered: the registry has no host update yet.
func (r *Registry) UpdateHost(context.Context, string, epp.HostUpdate) (epp.Host, error) {
	return epp.Host{}, unimplemented("host update")
}

// DeleteHost is not offered: the registry has no host delete yet.
func (r *Registry) DeleteHost(context.Context, string, string) error {
	return unimplemented("host delete")
}

// CheckContacts: an id is available when no contact has it.
func (r *Registry) CheckContacts(ctx context.Context, _ string, ids []string) ([]epp.Check, error) {
	out := make([]epp.Check, 0, len(ids))
	for _, id := range ids {
		_, err := r.Registry.Contact(ctx, id)
		switch {
		case err == nil:
			out = append(out, epp.Check{Name: id, Reason: "in use"})
		case registry.IsCode(err, registry.ErrObjectDoesNotExist):
			out = append(out, epp.Check{Name: id, Avail: true})
		default:
			return nil, err
		}
	}
	return out, nil
}

// InfoContact shows a contact: its data only to its sponsor, since the
// registry keeps no disclosure preference (RFC 5733 s2.9).
func (r *Registry) InfoContact(ctx context.Context, registrar, id, _ string) (epp.Contact, error) {
	c, err := r.Registry.Contact(ctx, id)
	if err != nil {
		return epp.Contact{}, eppErr(err)
	}
	out := epp.Contact{ID: c.ID, ROID: c.ROID, Status: []string{"ok"}, ClID: c.RegistrarID, CrDate: c.CreatedAt}
	if c.RegistrarID == registrar {
		i := c.Info
		out.Postal = []epp.Postal{{Type: "int", Name: i.Name, Org: i.Organization, Street: i.Street, City: i.City, SP: i.State, PC: i.PostalCode, CC: i.CountryCode}}
		out.Voice, out.Fax, out.Email = i.Voice, i.Fax, i.Email
	}
	return out, nil
}

// CreateContact creates a contact. A request to withhold its data is
// refused (2102): the registry cannot store that preference yet, and
// dropping it silently would publish what the client asked to hide.
func (r *Registry) CreateContact(ctx context.Context, registrar string, c epp.Contact) (epp.Contact, error) {
	if c.Private {
		return epp.Contact{}, epp.Errorf(epp.CodeUnimplementedOption, "disclose flag=\"0\" is not stored by the built-in registry")
	}
	var info registry.ContactInfo
	if len(c.Postal) > 0 {
		p := c.Postal[0]
		info = registry.ContactInfo{Name: p.Name, Organization: p.Org, Street: p.Street, City: p.City, State: p.SP, PostalCode: p.PC, CountryCode: p.CC}
	}
	info.Voice, info.Fax, info.Email = c.Voice, c.Fax, c.Email
	_, err := r.Registry.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
		_, err := tx.CreateContact(ctx, registrar, c.ID, info)
		return err
	})
	if err != nil {
		return epp.Contact{}, eppErr(err)
	}
	return r.InfoContact(ctx, registrar, c.ID, "")
}

// UpdateContact is not offered: the registry has no contact update yet.
func (r *Registry) UpdateContact(context.Context, string, epp.ContactUpdate) (epp.Contact, error) {
	return epp.Contact{}, unimplemented("contact update")
}

// DeleteContact is not offered: the registry has no contact delete yet.
func (r *Registry) DeleteContact(context.Context, string, string) error {
	return unimplemented("contact delete")
}

// Poll returns the oldest queued message, as text.
func (r *Registry) Poll(ctx context.Context, registrar string) (*epp.PollMessage, int, error) {
	m, n, ok, err := r.Registry.Poll(ctx, registrar)
	if err != nil || !ok {
		return nil, 0, err
	}
	text := m.Kind + ": " + m.Message
	if m.Domain != "" {
		text = bare(m.Domain) + " " + text
	}
	out := &epp.PollMessage{ID: strconv.FormatInt(m.ID, 10), QDate: m.CreatedAt, Text: text}
	// The outcome of a create that waited for the operator is panData
	// naming the create's clTRID (RFC 5731 s3.3).
	if m.Kind == registry.PollCreateApproved || m.Kind == registry.PollCreateRejected {
		out.Pending = &epp.PendingAction{Name: bare(m.Domain), OK: m.Kind == registry.PollCreateApproved, ClTRID: m.ClTRID, Date: m.CreatedAt}
	}
	// A transfer's news carries its state as trnData (RFC 5731 s3.2.4):
	// the domain's latest transfer.
	if (m.Kind == "transfer" || m.Kind == "transferRequested") && m.Domain != "" {
		if t, err := r.Registry.TransferOf(ctx, m.Domain); err == nil {
			tr := transfer(t)
			out.Transfer = &tr
		}
	}
	return out, n, nil
}

// Ack dequeues a message.
func (r *Registry) Ack(ctx context.Context, registrar, id string) (int, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return 0, epp.Errorf(epp.CodeObjectDoesNotExist, "no message %q in the queue", id)
	}
	if err := r.Registry.Ack(ctx, registrar, n); err != nil {
		return 0, eppErr(err)
	}
	_, left, _, err := r.Registry.Poll(ctx, registrar)
	return left, err
}
