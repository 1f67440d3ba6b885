package registrar

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// More operation types, Route 53 Domains'.
const (
	OpUpdateContact = "UPDATE_DOMAIN_CONTACT"
	OpPrivacy       = "CHANGE_PRIVACY_PROTECTION"
	OpDomainLock    = "DOMAIN_LOCK"
	OpAddDNSSEC     = "ADD_DNSSEC"
	OpRemoveDNSSEC  = "REMOVE_DNSSEC"
)

// StatusTransferProhibited is the EPP status (RFC 5731 s2.3) a transfer
// lock sets.
const StatusTransferProhibited = "clientTransferProhibited"

// Contact roles (RFC 5731 s2.2 plus the registrant).
const (
	RoleRegistrant = "registrant"
	RoleAdmin      = "admin"
	RoleTech       = "tech"
	RoleBilling    = "billing"
)

// Roles are the contact roles, in order.
var Roles = []string{RoleRegistrant, RoleAdmin, RoleTech, RoleBilling}

// MaxDS is how many DS records a domain may carry (Route 53's
// DnssecLimitExceeded is at 8 too).
const MaxDS = 8

// Domain is one of a tenant's domains: the registrar's settings and the
// registry's record.
type Domain struct {
	Name string
	// HostedZoneID is the tenant's zone the domain is delegated to, if
	// Waymark hosts it.
	HostedZoneID string
	AutoRenew    bool
	TransferLock bool
	Privacy      bool
	Contacts     map[string]registry.ContactInfo
	Nameservers  []Nameserver
	// Statuses are the registry's EPP statuses (RFC 5731 s2.3).
	Statuses []string
	// RGP is the grace period the domain is in (RFC 3915), until RGPUntil.
	RGP                 string
	RGPUntil            *time.Time
	RegistryDomainID    string
	Registrar           string
	CreatedAt           time.Time
	UpdatedAt           time.Time
	ExpiresAt           time.Time
	TransferLockedUntil *time.Time
	DS                  []DSRecord
}

// DSRecord is a DS record of a domain with its stable id.
type DSRecord struct {
	ID string
	registry.DS
}

// DSID is the id of a DS record: derived from its key tag, algorithm,
// digest type and digest, so it is the same wherever and whenever the
// record is read (terraform-provider-aws#49578 asks for exactly that).
func DSID(d registry.DS) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%d %d %d %s", d.KeyTag, d.Algorithm, d.DigestType, strings.ToUpper(d.Digest))))
	return "ds-" + hex.EncodeToString(sum[:8])
}

// DomainSummary is a domain in a list.
type DomainSummary struct {
	Name         string
	AutoRenew    bool
	TransferLock bool
	ExpiresAt    time.Time
	Statuses     []string
	HostedZoneID string
}

// canonical is the canonical form of a domain name, for lookups.
func canonical(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, ".")) + "."
}

type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// GetDomain returns one of the tenant's domains. Another tenant's domain
// is NoSuchDomain, exactly like a missing one.
func (s *Service) GetDomain(ctx context.Context, tenantID, name string) (Domain, error) {
	return s.getDomain(ctx, s.db, tenantID, name)
}

func (s *Service) getDomain(ctx context.Context, q queryRower, tenantID, name string) (Domain, error) {
	var d Domain
	var zone *string
	var contacts []byte
	var x externalRow
	err := q.QueryRow(ctx, `SELECT name, hosted_zone_id, auto_renew, privacy, contacts, registry, ext_state, ext_roid, ext_statuses,
	        ext_nameservers, ext_ds, ext_created_at, ext_expires_at, created_at, updated_at FROM registrar_domain WHERE name = $1 AND tenant_id = $2`,
		canonical(name), tenantID).Scan(&d.Name, &zone, &d.AutoRenew, &d.Privacy, &contacts, &x.registry, &x.state, &x.roid, &x.statuses,
		&x.nameservers, &x.ds, &x.createdAt, &x.expiresAt, &x.createdRow, &x.updatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Domain{}, errorf(CodeNoSuchDomain, "no domain %s in this account", name)
	}
	if err != nil {
		return Domain{}, err
	}
	if zone != nil {
		d.HostedZoneID = *zone
	}
	if err := json.Unmarshal(contacts, &d.Contacts); err != nil {
		return Domain{}, fmt.Errorf("contacts of %s: %w", d.Name, err)
	}
	if d.Contacts == nil {
		d.Contacts = map[string]registry.ContactInfo{}
	}
	if x.registry != nil {
		// An external registry's: what it answered, as the worker
		// recorded it.
		return d, s.fillExternal(ctx, &d, x)
	}
	rd, err := s.reg.Domain(ctx, d.Name)
	if registry.IsCode(err, registry.ErrObjectDoesNotExist) {
		// Released by the registry while the registrar's row remains.
		return Domain{}, errorf(CodeNoSuchDomain, "no domain %s in this account", name)
	}
	if err != nil {
		return Domain{}, err
	}
	d.Statuses, d.RGP, d.RGPUntil = rd.Statuses, rd.RGP, rd.RGPUntil
	if d.Statuses == nil {
		d.Statuses = []string{}
	}
	d.TransferLock = slices.Contains(rd.Statuses, StatusTransferProhibited)
	d.RegistryDomainID, d.Registrar = rd.ROID, rd.RegistrarID
	d.CreatedAt, d.UpdatedAt, d.ExpiresAt, d.TransferLockedUntil = rd.CreatedAt, rd.UpdatedAt, rd.ExpiresAt, rd.TransferLockedUntil
	d.Nameservers = make([]Nameserver, 0, len(rd.Nameservers))
	for _, h := range rd.Nameservers {
		ns := Nameserver{Name: h}
		if host, err := s.reg.Host(ctx, h); err == nil && host.Domain != "" {
			ns.GlueIPs = host.Addrs
		}
		d.Nameservers = append(d.Nameservers, ns)
	}
	d.DS = make([]DSRecord, 0, len(rd.DS))
	for _, ds := range rd.DS {
		d.DS = append(d.DS, DSRecord{ID: DSID(ds), DS: ds})
	}
	return d, nil
}

// Sort orders of ListDomains.
const (
	SortByName   = "name"
	SortByExpiry = "expiry"
)

// ListDomainsInput filters and pages ListDomains.
type ListDomainsInput struct {
	// NamePrefix keeps the names that begin with it (Route 53's
	// BEGINS_WITH).
	NamePrefix string
	// ExpiresBefore and ExpiresAfter keep the domains expiring at or
	// before, at or after the times (Route 53's Expiry LE and GE).
	ExpiresBefore, ExpiresAfter time.Time
	// SortBy is SortByName (default) or SortByExpiry; Descending reverses.
	SortBy     string
	Descending bool
	// Marker is a page's NextMarker; MaxItems 1–100, default 20.
	Marker   string
	MaxItems int
}

// DomainPage is a page of ListDomains.
type DomainPage struct {
	Domains    []DomainSummary
	NextMarker string
}

// ListDomains lists the tenant's domains.
func (s *Service) ListDomains(ctx context.Context, tenantID string, in ListDomainsInput) (DomainPage, error) {
	if in.MaxItems == 0 {
		in.MaxItems = 20
	}
	if in.MaxItems < 1 || in.MaxItems > 100 {
		return DomainPage{}, errorf(CodeInvalidInput, "max_items must be 1 to 100")
	}
	if in.SortBy == "" {
		in.SortBy = SortByName
	}
	if in.SortBy != SortByName && in.SortBy != SortByExpiry {
		return DomainPage{}, errorf(CodeInvalidInput, "sort_by must be name or expiry")
	}
	where := []string{"d.tenant_id = $1", "(r.name IS NOT NULL OR d.registry IS NOT NULL)"}
	// An external registry's domain has no registry_domain row: its
	// expiry and statuses are what that registry answered.
	const expiry = "coalesce(r.expires_at, d.ext_expires_at, d.created_at)"
	const statuses = "coalesce(r.statuses, CASE WHEN d.ext_state = 'creating' AND cardinality(d.ext_statuses) = 0 THEN '{pendingCreate}' ELSE d.ext_statuses END)"
	args := []any{tenantID}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if in.NamePrefix != "" {
		p := strings.ToLower(in.NamePrefix)
		p = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(p)
		where = append(where, "d.name LIKE "+arg(p+"%"))
	}
	if !in.ExpiresBefore.IsZero() {
		where = append(where, expiry+" <= "+arg(in.ExpiresBefore))
	}
	if !in.ExpiresAfter.IsZero() {
		where = append(where, expiry+" >= "+arg(in.ExpiresAfter))
	}
	cmp, dir := ">", "ASC"
	if in.Descending {
		cmp, dir = "<", "DESC"
	}
	order := "d.name " + dir
	if in.SortBy == SortByExpiry {
		order = expiry + " " + dir + ", d.name " + dir
	}
	if in.Marker != "" {
		t, name, err := decodeMarker(in.Marker, in.SortBy == SortByExpiry)
		if err != nil {
			return DomainPage{}, err
		}
		if in.SortBy == SortByExpiry {
			where = append(where, "("+expiry+", d.name) "+cmp+" ("+arg(t)+", "+arg(name)+")")
		} else {
			where = append(where, "d.name "+cmp+" "+arg(name))
		}
	}
	limit := arg(in.MaxItems + 1)
	rows, err := s.db.Query(ctx, `SELECT d.name, d.auto_renew, `+expiry+`, `+statuses+`, coalesce(d.hosted_zone_id, '')
		FROM registrar_domain d LEFT JOIN registry_domain r ON r.name = d.name
		WHERE `+strings.Join(where, " AND ")+` ORDER BY `+order+` LIMIT `+limit, args...)
	if err != nil {
		return DomainPage{}, err
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (DomainSummary, error) {
		var d DomainSummary
		err := row.Scan(&d.Name, &d.AutoRenew, &d.ExpiresAt, &d.Statuses, &d.HostedZoneID)
		d.TransferLock = slices.Contains(d.Statuses, StatusTransferProhibited)
		if d.Statuses == nil {
			d.Statuses = []string{}
		}
		return d, err
	})
	if err != nil {
		return DomainPage{}, err
	}
	page := DomainPage{Domains: list}
	if len(list) > in.MaxItems {
		page.Domains = list[:in.MaxItems]
		last := page.Domains[in.MaxItems-1]
		page.NextMarker = encodeMarker(last.ExpiresAt, last.Name, in.SortBy == SortByExpiry)
	}
	return page, nil
}

// encodeMarker makes an opaque page marker from the last item's sort key.
func encodeMarker(t time.Time, name string, withTime bool) string {
	s := name
	if withTime {
		s = strconv.FormatInt(t.UnixNano(), 10) + "|" + name
	}
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeMarker(m string, withTime bool) (time.Time, string, error) {
	bad := errorf(CodeInvalidInput, "marker %q is not a marker of this list", m)
	b, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil || len(b) == 0 {
		return time.Time{}, "", bad
	}
	s := string(b)
	if !withTime {
		return time.Time{}, s, nil
	}
	ts, name, ok := strings.Cut(s, "|")
	n, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil {
		return time.Time{}, "", bad
	}
	return time.Unix(0, n).UTC(), name, nil
}

// mutation is what a domain operation's step sees: the transaction, the
// registry bound to it and the domain's canonical name.
type mutation struct {
	zt   *controlplane.ZoneTx
	tx   *registry.Tx
	q    pgx.Tx
	name string
	opID string
	now  time.Time
	// changes are zone changes beyond the registry's (the tenant's zone).
	changes []string
	// ext is the external TLD of a domain registered at an external
	// registry ("" for the built-in registry's): its step queues job
	// instead of changing the registry (external_ops.go).
	ext string
	job *queuedJob
}

// queuedJob is the EPP work a step queued for the external worker.
type queuedJob struct {
	command string
	req     any
}

// queue makes the operation wait for the external worker to run command.
func (m *mutation) queue(command string, req any) { m.job = &queuedJob{command: command, req: req} }

// charge writes a ledger row for the operation.
func (m *mutation) charge(ctx context.Context, tenantID, kind string, amount int64, currency string) error {
	_, err := m.q.Exec(ctx, `INSERT INTO registrar_ledger (tenant_id, domain, operation_id, kind, amount, currency, created_at)
	                         VALUES ($1, $2, $3, $4, $5, $6, $7)`, tenantID, m.name, m.opID, kind, amount, currency, m.now)
	return err
}

// mutate runs step on one of the tenant's domains, locked, in one
// transaction, and records an operation of type typ. The operation is
// IN_PROGRESS until the zone changes the step made are INSYNC, and
// SUCCESSFUL at once when it made none. A repeated caller reference
// returns the first operation; an operation in progress on the domain
// makes this a DuplicateRequest naming it.
func (s *Service) mutate(ctx context.Context, tenantID, name, typ, ref string, step func(ctx context.Context, m *mutation) error) (Operation, error) {
	if ref != "" {
		if len(ref) > 128 {
			return Operation{}, errorf(CodeInvalidInput, "caller_reference has at most 128 characters")
		}
		if op, err := s.operationByRef(ctx, tenantID, ref); err == nil {
			return op, nil
		}
	}
	opID, err := s.newOperationID()
	if err != nil {
		return Operation{}, err
	}
	var op Operation
	err = s.cp.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		q := zt.Tx()
		d, err := s.owned(ctx, q, tenantID, name)
		if err != nil {
			return err
		}
		// One operation at a time per domain, even one that will be done
		// when it commits: a second names the first.
		if err := s.nonePending(ctx, q, d); err != nil {
			return err
		}
		ext, err := externalOf(ctx, q, d)
		if err != nil {
			return err
		}
		if ext != "" && !slices.Contains(externalOps, typ) {
			return errorf(CodeTLDRulesViolation, "%s is registered at an external registry, where %s is not offered yet", d, typ)
		}
		m := &mutation{zt: zt, tx: s.reg.Bind(zt), q: q, name: d, opID: opID, now: s.reg.Now(), ext: ext}
		if err := step(ctx, m); err != nil {
			return err
		}
		changes := append(m.changes, m.tx.Changes()...)
		status := StatusInProgress
		if len(changes) == 0 {
			status = StatusSuccessful
		}
		if m.job != nil {
			status = StatusSubmitted
		}
		var refp *string
		if ref != "" {
			refp = &ref
		}
		op = Operation{ID: opID, Domain: d, Type: typ, Status: status, CallerReference: ref,
			SubmittedAt: m.now, UpdatedAt: m.now, changes: changes}
		if err := s.insertOperation(ctx, q, tenantID, op, refp); err != nil || m.job == nil {
			return err
		}
		return s.queueJob(ctx, q, opID, ext, d, m.job.command, m.job.req)
	})
	if err == nil && op.Status == StatusSubmitted {
		s.wakeExternal()
	}
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" && ref != "" {
			return s.operationByRef(ctx, tenantID, ref)
		}
		return Operation{}, err
	}
	return op, nil
}

// nonePending fails with DuplicateRequest while the domain has an
// operation in progress, after settling one whose changes are INSYNC.
func (s *Service) nonePending(ctx context.Context, q pgx.Tx, domain string) error {
	var pending string
	var changes []string
	err := q.QueryRow(ctx, `SELECT id, change_ids FROM registrar_operation WHERE domain = $1 AND status IN ('SUBMITTED', 'IN_PROGRESS')`,
		domain).Scan(&pending, &changes)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	tag, err := q.Exec(ctx, settleSQL, pending, changes)
	if err != nil || tag.RowsAffected() == 1 {
		return err
	}
	return &Error{Code: CodeDuplicateRequest, RequestID: pending,
		Message: fmt.Sprintf("operation %s is already in progress for %s", pending, domain)}
}

// UpdateNameservers replaces a domain's nameservers: hosts inside the
// domain need glue addresses, which are created or updated; the domain
// is no longer delegated to a hosted zone of the tenant unless the
// nameservers are that zone's.
func (s *Service) UpdateNameservers(ctx context.Context, tenantID, name string, nameservers []Nameserver, ref string) (Operation, error) {
	if len(nameservers) == 0 {
		return Operation{}, errorf(CodeInvalidInput, "give at least one nameserver")
	}
	if err := validateNameservers(nameservers); err != nil {
		return Operation{}, err
	}
	return s.mutate(ctx, tenantID, name, OpUpdateNS, ref, func(ctx context.Context, m *mutation) error {
		if m.ext != "" {
			return s.queueNameservers(ctx, m, nameservers)
		}
		hosts, err := s.ensureHosts(ctx, m.tx, nameservers)
		if err != nil {
			return err
		}
		if err := m.tx.SetNameservers(ctx, RegistrarID, m.name, hosts); err != nil {
			return fromRegistry(err)
		}
		// Still delegated to the tenant's zone only if these are its
		// nameservers.
		_, err = m.q.Exec(ctx, `UPDATE registrar_domain d SET hosted_zone_id = NULL, updated_at = $2
		    WHERE d.name = $1 AND d.hosted_zone_id IS NOT NULL AND NOT EXISTS (
		        SELECT 1 FROM hosted_zone z JOIN delegation_set s ON s.id = z.delegation_set_id
		        WHERE z.id = d.hosted_zone_id AND s.name_servers = $3)`, m.name, m.now, hosts)
		return err
	})
}

// ensureHosts creates the host objects of nameservers with glue, or
// updates their addresses, and returns the host names.
func (s *Service) ensureHosts(ctx context.Context, tx *registry.Tx, nameservers []Nameserver) ([]string, error) {
	hosts := make([]string, 0, len(nameservers))
	for _, ns := range nameservers {
		if len(ns.GlueIPs) > 0 {
			err := tx.CreateHost(ctx, RegistrarID, ns.Name, ns.GlueIPs)
			if registry.IsCode(err, registry.ErrObjectExists) {
				err = tx.SetHostAddrs(ctx, RegistrarID, ns.Name, ns.GlueIPs)
			}
			if err != nil {
				return nil, fromRegistry(err)
			}
		}
		hosts = append(hosts, ns.Name)
	}
	return hosts, nil
}

// validateNameservers checks nameserver names and glue before any
// transaction starts.
func validateNameservers(nss []Nameserver) error {
	if len(nss) > 13 {
		return errorf(CodeInvalidInput, "at most 13 nameservers")
	}
	for _, ns := range nss {
		if ns.Name == "" {
			return errorf(CodeInvalidInput, "a nameserver needs a name")
		}
		for _, a := range ns.GlueIPs {
			if !a.IsValid() {
				return errorf(CodeInvalidInput, "glue of %s: not an address", ns.Name)
			}
		}
	}
	return nil
}

// UpdateDomainInput changes a domain's settings; nil fields stay.
type UpdateDomainInput struct {
	AutoRenew    *bool
	TransferLock *bool
	Privacy      *bool
	// Contacts replaces the contacts of the roles it names.
	Contacts        map[string]registry.ContactInfo
	CallerReference string
}

// UpdateDomain changes a domain's settings. Auto-renew alone is
// synchronous (as in Route 53) and makes no operation; a transfer lock,
// privacy or contact change is an operation, of the type of the most
// significant change (contacts, then privacy, then lock).
func (s *Service) UpdateDomain(ctx context.Context, tenantID, name string, in UpdateDomainInput) (Domain, *Operation, error) {
	if in.AutoRenew == nil && in.TransferLock == nil && in.Privacy == nil && len(in.Contacts) == 0 {
		return Domain{}, nil, errorf(CodeInvalidInput, "nothing to change: give auto_renew, transfer_lock, privacy or contacts")
	}
	if err := validateContacts(in.Contacts); err != nil {
		return Domain{}, nil, err
	}
	if in.TransferLock == nil && in.Privacy == nil && len(in.Contacts) == 0 {
		tag, err := s.db.Exec(ctx, `UPDATE registrar_domain SET auto_renew = $3, updated_at = $4 WHERE name = $1 AND tenant_id = $2`,
			canonical(name), tenantID, *in.AutoRenew, s.reg.Now())
		if err != nil {
			return Domain{}, nil, err
		}
		if tag.RowsAffected() == 0 {
			return Domain{}, nil, errorf(CodeNoSuchDomain, "no domain %s in this account", name)
		}
		d, err := s.GetDomain(ctx, tenantID, name)
		return d, nil, err
	}
	typ := OpDomainLock
	if in.Privacy != nil {
		typ = OpPrivacy
	}
	if len(in.Contacts) > 0 {
		typ = OpUpdateContact
	}
	op, err := s.mutate(ctx, tenantID, name, typ, in.CallerReference, func(ctx context.Context, m *mutation) error {
		if m.ext != "" && in.TransferLock != nil {
			// At an external registry (external_ops.go); privacy and
			// auto-renew are the registrar's own settings.
			if err := s.queueLock(ctx, m, *in.TransferLock); err != nil {
				return err
			}
		} else if in.TransferLock != nil {
			if err := m.tx.SetStatus(ctx, m.name, StatusTransferProhibited, *in.TransferLock); err != nil {
				return fromRegistry(err)
			}
		}
		if len(in.Contacts) > 0 {
			var raw []byte
			if err := m.q.QueryRow(ctx, `SELECT contacts FROM registrar_domain WHERE name = $1`, m.name).Scan(&raw); err != nil {
				return err
			}
			cur := map[string]registry.ContactInfo{}
			if err := json.Unmarshal(raw, &cur); err != nil {
				return err
			}
			for role, c := range in.Contacts {
				cur[role] = c
			}
			enc, err := json.Marshal(cur)
			if err != nil {
				return err
			}
			if _, err := m.q.Exec(ctx, `UPDATE registrar_domain SET contacts = $2 WHERE name = $1`, m.name, enc); err != nil {
				return err
			}
		}
		_, err := m.q.Exec(ctx, `UPDATE registrar_domain SET auto_renew = coalesce($2, auto_renew), privacy = coalesce($3, privacy), updated_at = $4
		                         WHERE name = $1`, m.name, in.AutoRenew, in.Privacy, m.now)
		return err
	})
	if err != nil {
		return Domain{}, nil, err
	}
	d, err := s.GetDomain(ctx, tenantID, name)
	return d, &op, err
}

// validateContacts checks roles and the RFC 5733 fields a contact needs.
func validateContacts(cs map[string]registry.ContactInfo) error {
	for role, c := range cs {
		if !slices.Contains(Roles, role) {
			return errorf(CodeInvalidInput, "contact role %q: the roles are registrant, admin, tech and billing", role)
		}
		if err := validateContact(c); err != nil {
			return errorf(CodeInvalidInput, "%s contact: %s", role, err.Message)
		}
	}
	return nil
}

func validateContact(c registry.ContactInfo) *Error {
	switch {
	case strings.TrimSpace(c.Name) == "":
		return errorf(CodeInvalidInput, "name is required")
	case !strings.Contains(c.Email, "@") || strings.ContainsAny(c.Email, " \t<>"):
		return errorf(CodeInvalidInput, "email %q is not an email address", c.Email)
	case strings.TrimSpace(c.City) == "":
		return errorf(CodeInvalidInput, "city is required")
	case len(c.CountryCode) != 2 || strings.ToUpper(c.CountryCode) != c.CountryCode || strings.Trim(c.CountryCode, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "":
		return errorf(CodeInvalidInput, "country_code %q is not a two-letter upper-case ISO 3166 code", c.CountryCode)
	case len(c.Street) > 3:
		return errorf(CodeInvalidInput, "at most three street lines (RFC 5733)")
	}
	for field, v := range map[string]string{"voice": c.Voice, "fax": c.Fax} {
		if v != "" && !validPhone(v) {
			return errorf(CodeInvalidInput, "%s %q is not +CC.NUMBER (RFC 5733 s2.5)", field, v)
		}
	}
	return nil
}

// validPhone checks RFC 5733's e164 form: +, 1–3 digits, a dot, digits,
// at most 17 characters.
func validPhone(p string) bool {
	cc, num, ok := strings.Cut(strings.TrimPrefix(p, "+"), ".")
	if !ok || !strings.HasPrefix(p, "+") || len(p) > 17 || len(cc) < 1 || len(cc) > 3 || num == "" {
		return false
	}
	return strings.Trim(cc+num, "0123456789") == ""
}

// Delete deletes a domain. In the add grace period the registry releases
// it at once and the registration is refunded; in the renew, auto-renew
// or transfer grace period that charge is refunded; otherwise it leaves
// the DNS and enters redemption, from which Restore brings it back.
func (s *Service) Delete(ctx context.Context, tenantID, name, ref string) (Operation, error) {
	return s.mutate(ctx, tenantID, name, OpDelete, ref, func(ctx context.Context, m *mutation) error {
		if m.ext != "" {
			m.queue("delete", struct{}{})
			return nil
		}
		del, err := m.tx.Delete(ctx, RegistrarID, m.name)
		if err != nil {
			return fromRegistry(err)
		}
		// A delete in a grace period takes that period's charge back.
		if err := s.refundGrace(ctx, m.q, tenantID, m.opID, del); err != nil {
			return err
		}
		if !del.Released {
			return nil
		}
		_, err = m.q.Exec(ctx, `DELETE FROM registrar_domain WHERE name = $1`, m.name)
		return err
	})
}

// Restore brings a deleted domain back from redemption (RFC 3915) and
// charges the TLD's restore price.
func (s *Service) Restore(ctx context.Context, tenantID, name, ref string) (Operation, error) {
	return s.mutate(ctx, tenantID, name, OpRestore, ref, func(ctx context.Context, m *mutation) error {
		if m.ext != "" {
			return s.queueRestore(ctx, m, tenantID)
		}
		c, err := m.tx.RestoreDomain(ctx, RegistrarID, m.name)
		if err != nil {
			return fromRegistry(err)
		}
		if err := m.charge(ctx, tenantID, "restore", c.Price, c.Currency); err != nil {
			return err
		}
		// An expired domain comes back renewed, and that year is charged.
		if c.RenewYears > 0 {
			return m.charge(ctx, tenantID, "renew", c.RenewPrice, c.Currency)
		}
		return nil
	})
}

// RenewInput is a renewal request.
type RenewInput struct {
	Years int
	// CurrentExpiryYear must be the year the domain expires now, as in
	// Route 53: a repeated request fails instead of renewing twice.
	CurrentExpiryYear int
	CallerReference   string
}

// RenewDomain renews one of the tenant's domains, with a caller
// reference (Renew is the same without).
func (s *Service) RenewDomain(ctx context.Context, tenantID, name string, in RenewInput) (Operation, error) {
	if in.Years < 0 || in.Years > registry.MaxYears {
		return Operation{}, errorf(CodeInvalidInput, "duration_in_years must be 1 to %d", registry.MaxYears)
	}
	if in.CurrentExpiryYear == 0 {
		return Operation{}, errorf(CodeInvalidInput, "current_expiry_year is required")
	}
	return s.mutate(ctx, tenantID, name, OpRenew, in.CallerReference, func(ctx context.Context, m *mutation) error {
		if m.ext != "" {
			return s.queueRenew(ctx, m, tenantID, in)
		}
		c, err := m.tx.RenewDomain(ctx, RegistrarID, m.name, in.CurrentExpiryYear, in.Years)
		if err != nil {
			return fromRegistry(err)
		}
		return m.charge(ctx, tenantID, "renew", c.Price, c.Currency)
	})
}

// DNSKEY is a DNSSEC public key (RFC 4034 s2), as Route 53's
// AssociateDelegationSigner takes it; its DS is computed with SHA-256.
type DNSKEY struct {
	Flags     uint16
	Algorithm uint8
	// PublicKey is base64, as in the DNSKEY's presentation form.
	PublicKey string
}

// DSInput is one DS record to add: a DS, or a DNSKEY to compute it from.
type DSInput struct {
	DS     *registry.DS
	DNSKEY *DNSKEY
}

// AddDS adds DS records to a domain and returns the operation and the
// records' ids. A record the domain already has is kept, not doubled.
func (s *Service) AddDS(ctx context.Context, tenantID, name string, in []DSInput, ref string) (Operation, []DSRecord, error) {
	if len(in) == 0 {
		return Operation{}, nil, errorf(CodeInvalidInput, "give at least one DS record or DNSKEY")
	}
	var ds []registry.DS
	var out []DSRecord
	for i, x := range in {
		d, err := dsOf(canonical(name), x)
		if err != nil {
			return Operation{}, nil, errorf(CodeInvalidInput, "record %d: %s", i, err.Message)
		}
		ds = append(ds, d)
		out = append(out, DSRecord{ID: DSID(d), DS: d})
	}
	op, err := s.mutate(ctx, tenantID, name, OpAddDNSSEC, ref, func(ctx context.Context, m *mutation) error {
		if m.ext != "" {
			return s.queueDS(ctx, m, ds, nil)
		}
		if err := m.tx.AddDS(ctx, RegistrarID, m.name, ds); err != nil {
			return fromRegistry(err)
		}
		var n int
		if err := m.q.QueryRow(ctx, `SELECT count(*) FROM registry_ds WHERE domain = $1`, m.name).Scan(&n); err != nil {
			return err
		}
		if n > MaxDS {
			return errorf(CodeDnssecLimitExceeded, "a domain carries at most %d DS records", MaxDS)
		}
		return nil
	})
	return op, out, err
}

// RemoveDS removes a domain's DS record by its id.
func (s *Service) RemoveDS(ctx context.Context, tenantID, name, id, ref string) (Operation, error) {
	return s.mutate(ctx, tenantID, name, OpRemoveDNSSEC, ref, func(ctx context.Context, m *mutation) error {
		if m.ext != "" {
			return s.queueRemoveDS(ctx, m, id)
		}
		d, err := m.tx.Domain(ctx, m.name)
		if err != nil {
			return fromRegistry(err)
		}
		for _, ds := range d.DS {
			if DSID(ds) == id {
				return fromRegistry(m.tx.RemoveDS(ctx, RegistrarID, m.name, []registry.DS{ds}))
			}
		}
		return errorf(CodeNoSuchDS, "%s has no DS record %s", m.name, id)
	})
}

// ListDS returns a domain's DS records.
func (s *Service) ListDS(ctx context.Context, tenantID, name string) ([]DSRecord, error) {
	d, err := s.GetDomain(ctx, tenantID, name)
	return d.DS, err
}

// dsOf validates one DS input and computes a DNSKEY's DS.
func dsOf(owner string, x DSInput) (registry.DS, *Error) {
	switch {
	case (x.DS == nil) == (x.DNSKEY == nil):
		return registry.DS{}, errorf(CodeInvalidInput, "give a DS (key_tag, algorithm, digest_type, digest) or a DNSKEY (flags, algorithm, public_key)")
	case x.DNSKEY != nil:
		return dsFromDNSKEY(owner, *x.DNSKEY)
	}
	d := *x.DS
	d.Digest = strings.ToUpper(d.Digest)
	raw, err := hex.DecodeString(d.Digest)
	if err != nil {
		return registry.DS{}, errorf(CodeInvalidInput, "digest is not hex")
	}
	want := map[uint8]int{1: 20, 2: 32, 4: 48}[d.DigestType]
	if want == 0 {
		return registry.DS{}, errorf(CodeInvalidInput, "digest_type %d: use 2 (SHA-256), 4 (SHA-384) or 1 (SHA-1)", d.DigestType)
	}
	if len(raw) != want {
		return registry.DS{}, errorf(CodeInvalidInput, "a digest of type %d has %d bytes, not %d", d.DigestType, want, len(raw))
	}
	if !validAlgorithm(d.Algorithm) {
		return registry.DS{}, errorf(CodeInvalidInput, "algorithm %d is not a DNSSEC signing algorithm", d.Algorithm)
	}
	return d, nil
}

// validAlgorithm: the signing algorithms of the IANA registry in use
// (RFC 8624): RSA/SHA-1 and NSEC3, RSA/SHA-256, RSA/SHA-512, ECDSA, EdDSA.
func validAlgorithm(a uint8) bool {
	return slices.Contains([]uint8{5, 7, 8, 10, 13, 14, 15, 16}, a)
}

// AuthCode returns a domain's transfer auth code (EPP authInfo).
func (s *Service) AuthCode(ctx context.Context, tenantID, name string) (string, error) {
	d, err := s.GetDomain(ctx, tenantID, name)
	if err != nil {
		return "", err
	}
	if ext, err := externalOf(ctx, s.db, d.Name); err != nil {
		return "", err
	} else if ext != "" {
		return s.externalAuthCode(ctx, d.Name, ext)
	}
	rd, err := s.reg.Domain(ctx, d.Name)
	if err != nil {
		return "", fromRegistry(err)
	}
	return rd.AuthInfo, nil
}

// RotateAuthCode draws a new auth code for a domain; the old one stops
// working at once.
func (s *Service) RotateAuthCode(ctx context.Context, tenantID, name string) (string, error) {
	var code string
	err := s.cp.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		d, err := s.owned(ctx, zt.Tx(), tenantID, name)
		if err != nil {
			return err
		}
		if ext, err := externalOf(ctx, zt.Tx(), d); err != nil {
			return err
		} else if ext != "" {
			return errorf(CodeTLDRulesViolation, "%s is registered at an external registry, where rotating its auth code is not offered yet", d)
		}
		code, err = s.reg.Bind(zt).SetAuthInfo(ctx, RegistrarID, d, "")
		return fromRegistry(err)
	})
	return code, err
}

// dsFromDNSKEY computes the SHA-256 DS (RFC 4509) of a DNSKEY of the
// domain owner.
func dsFromDNSKEY(owner string, k DNSKEY) (registry.DS, *Error) {
	if k.Flags != 256 && k.Flags != 257 {
		return registry.DS{}, errorf(CodeInvalidInput, "flags must be 257 (KSK) or 256 (ZSK), not %d", k.Flags)
	}
	if !validAlgorithm(k.Algorithm) {
		return registry.DS{}, errorf(CodeInvalidInput, "algorithm %d is not a DNSSEC signing algorithm", k.Algorithm)
	}
	if b, err := base64.StdEncoding.DecodeString(k.PublicKey); err != nil || len(b) == 0 {
		return registry.DS{}, errorf(CodeInvalidInput, "public_key is not base64")
	}
	key := &dns.DNSKEY{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET},
		Flags: k.Flags, Protocol: 3, Algorithm: k.Algorithm, PublicKey: k.PublicKey}
	ds := key.ToDS(dns.SHA256)
	if ds == nil {
		return registry.DS{}, errorf(CodeInvalidInput, "public_key does not encode a key")
	}
	return registry.DS{KeyTag: ds.KeyTag, Algorithm: ds.Algorithm, DigestType: ds.DigestType, Digest: strings.ToUpper(ds.Digest)}, nil
}
