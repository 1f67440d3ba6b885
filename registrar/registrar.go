// Package registrar is Waymark's registrar: tenants register domains,
// through the built-in registry (registrar/registry), and every mutation is
// an operation with Route 53 Domains' types and statuses. A registration
// with hosted_zone "create" writes the registry's domain, the ledger
// charge, the tenant's hosted zone and the delegation in the TLD zone in
// one transaction (controlplane.ZoneTx); the operation is SUCCESSFUL only
// when both the child zone's change and the TLD zone's change are INSYNC.
package registrar

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/registrar/registry"
	"github.com/waymark-dns/waymark/zonecfg"
)

// RegistrarID is the built-in registrar's account in the built-in registry.
const RegistrarID = "waymark"

// Operation types and statuses, Route 53 Domains'.
const (
	OpRegister = "REGISTER_DOMAIN"
	OpRenew    = "RENEW_DOMAIN"
	OpDelete   = "DELETE_DOMAIN"
	OpRestore  = "RESTORE_DOMAIN"
	OpUpdateNS = "UPDATE_NAMESERVER"

	StatusSubmitted  = "SUBMITTED"
	StatusInProgress = "IN_PROGRESS"
	StatusSuccessful = "SUCCESSFUL"
	StatusError      = "ERROR"
	StatusFailed     = "FAILED"
)

// Config configures a Service.
type Config struct {
	// Rand is the source of operation ids; default crypto/rand.
	Rand io.Reader
	// Now is the clock of the external registries' job schedule (a job
	// queued, due, put off; a TLD polled): the time of retries against
	// another system, which the registry's clock (registry.Config.Now,
	// the clock of domains, frozen or advanced in tests and `waymark
	// dev`) must not stop or rush. Default time.Now.
	Now func() time.Time
}

// Service is the registrar. It is safe for concurrent use.
type Service struct {
	db  *pgxpool.Pool
	cp  *controlplane.Service
	reg *registry.Registry
	cfg Config
	// extWake wakes this process's external worker (external_worker.go).
	extWake chan struct{}
	// beforeTransferRequest, set by tests, runs between a transfer in's
	// transaction and its EPP request; an error stops it there, as a
	// crash would.
	beforeTransferRequest func() error
}

// New returns the registrar over the built-in registry reg.
func New(ctx context.Context, db *pgxpool.Pool, cp *controlplane.Service, reg *registry.Registry, cfg Config) (*Service, error) {
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := reg.EnsureRegistrar(ctx, RegistrarID, "Waymark", ""); err != nil {
		return nil, fmt.Errorf("registrar account: %w", err)
	}
	s := &Service{db: db, cp: cp, reg: reg, cfg: cfg, extWake: make(chan struct{}, 1)}
	// The DS of a signed hosted zone a domain is delegated to follows
	// its keys in the TLD zone (dnssec.go).
	cp.SetDelegationKeeper(s)
	return s, nil
}

// Code is a registrar error code, Route 53 Domains' where it has one.
type Code string

// The codes.
const (
	CodeInvalidInput      Code = "InvalidInput"
	CodeUnsupportedTLD    Code = "UnsupportedTLD"
	CodeDuplicateRequest  Code = "DuplicateRequest"
	CodeTLDRulesViolation Code = "TLDRulesViolation"
	CodeDomainUnavailable Code = "DomainUnavailable"
	CodeNoSuchDomain      Code = "NoSuchDomain"
	CodeNoSuchOperation   Code = "NoSuchOperation"
	CodePriceTooHigh      Code = "PriceTooHigh"
	// CodeDnssecLimitExceeded: too many DS records (Route 53's).
	CodeDnssecLimitExceeded Code = "DnssecLimitExceeded"
	// CodeNoSuchDS: a DS id the domain does not have.
	CodeNoSuchDS Code = "NoSuchDS"
	// CodeNoSuchTLD: an operator's path names a TLD that is not configured.
	CodeNoSuchTLD Code = "NoSuchTLD"
	// CodeRegistryUnavailable: an external registry could not be reached,
	// refused the registrar's login or did not answer (external.go).
	CodeRegistryUnavailable Code = "RegistryUnavailable"
)

// Error is a refused registrar request.
type Error struct {
	Code    Code
	Message string
	// RequestID names the pending operation of a DuplicateRequest.
	RequestID string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

func errorf(c Code, format string, a ...any) *Error {
	return &Error{Code: c, Message: fmt.Sprintf(format, a...)}
}

// fromRegistry maps a registry refusal to the registrar's code.
func fromRegistry(err error) error {
	e, ok := registry.AsError(err)
	if !ok {
		return err
	}
	switch e.Code {
	case registry.ErrUnimplementedObject:
		return &Error{Code: CodeUnsupportedTLD, Message: e.Message}
	case registry.ErrObjectExists:
		return &Error{Code: CodeDomainUnavailable, Message: e.Message}
	case registry.ErrObjectDoesNotExist, registry.ErrAuthorization:
		return &Error{Code: CodeNoSuchDomain, Message: e.Message}
	case registry.ErrPrice:
		return &Error{Code: CodePriceTooHigh, Message: e.Message}
	case registry.ErrParameterRange, registry.ErrParameterPolicy:
		return &Error{Code: CodeInvalidInput, Message: e.Message}
	}
	return &Error{Code: CodeTLDRulesViolation, Message: e.Message}
}

// Nameserver is a nameserver of a domain, with glue addresses when it is
// inside the domain.
type Nameserver struct {
	Name    string       `json:"name"`
	GlueIPs []netip.Addr `json:"glue_ips,omitempty"`
}

// RegisterInput is a registration request.
type RegisterInput struct {
	Name  string
	Years int
	// HostedZone is "create" (a new zone, delegated atomically), the id
	// of one of the tenant's zones of the same name, or "" to use
	// Nameservers.
	HostedZone string
	// DNSSEC, with HostedZone "create", signs the new zone in the same
	// transaction and publishes its DS with the delegation. (An existing
	// zone that signs gets its DS anyway.)
	DNSSEC      bool
	Nameservers []Nameserver
	AutoRenew   bool
	Privacy     bool
	// Contacts are stored with the domain (RFC 5733 fields by role).
	Contacts map[string]registry.ContactInfo
	// MaxPrice, if positive, refuses a registration that costs more.
	MaxPrice        int64
	CallerReference string
}

// Operation is an asynchronous registrar operation.
type Operation struct {
	ID              string    `json:"operation_id"`
	Domain          string    `json:"domain_name"`
	Type            string    `json:"type"`
	Status          string    `json:"status"`
	Flag            string    `json:"status_flag,omitempty"`
	Message         string    `json:"message,omitempty"`
	CallerReference string    `json:"caller_reference,omitempty"`
	SubmittedAt     time.Time `json:"submitted_date"`
	UpdatedAt       time.Time `json:"last_updated_date"`
	changes         []string
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func (s *Service) newOperationID() (string, error) {
	b := make([]byte, 10)
	if _, err := io.ReadFull(s.cfg.Rand, b); err != nil {
		return "", err
	}
	return "op-" + idEncoding.EncodeToString(b), nil
}

// Availability checks a name in the registry.
func (s *Service) Availability(ctx context.Context, name string) (registry.Check, error) {
	c, err := s.reg.CheckDomain(ctx, name)
	if registry.IsCode(err, registry.ErrUnimplementedObject) {
		// Not the built-in registry's: an external registry's TLD is
		// asked over EPP.
		if n, cerr := zonecfg.CanonicalName(name); cerr == nil && n != "." {
			t, label, ok, xerr := s.externalFor(ctx, n)
			if xerr != nil {
				return registry.Check{}, xerr
			}
			if ok {
				return s.externalAvailability(ctx, n, label, t)
			}
		}
	}
	if err != nil {
		return registry.Check{}, fromRegistry(err)
	}
	return c, nil
}

// Register registers a domain for the tenant. A repeated caller reference
// returns the first operation; a second request for a domain with an
// operation in progress is a DuplicateRequest naming that operation.
func (s *Service) Register(ctx context.Context, tenantID string, in RegisterInput) (Operation, error) {
	if in.CallerReference != "" {
		if op, err := s.operationByRef(ctx, tenantID, in.CallerReference); err == nil {
			return op, nil
		}
	}
	if in.Years == 0 {
		in.Years = 1
	}
	if in.Years < 1 || in.Years > registry.MaxYears {
		return Operation{}, errorf(CodeInvalidInput, "duration_in_years must be 1 to %d", registry.MaxYears)
	}
	if in.HostedZone != "" && len(in.Nameservers) > 0 {
		return Operation{}, errorf(CodeInvalidInput, "give hosted_zone or nameservers, not both")
	}
	if in.DNSSEC && in.HostedZone != "create" {
		return Operation{}, errorf(CodeInvalidInput, `dnssec signs a zone created with the registration (hosted_zone "create"); an existing zone is signed on its own, and its DS follows`)
	}
	if len(in.CallerReference) > 128 {
		return Operation{}, errorf(CodeInvalidInput, "caller_reference has at most 128 characters")
	}
	if err := validateNameservers(in.Nameservers); err != nil {
		return Operation{}, err
	}
	if err := validateContacts(in.Contacts); err != nil {
		return Operation{}, err
	}
	// The registrant stands in for a role left out (Route 53 asks for
	// all three; one contact is the common case).
	in.Contacts = maps.Clone(in.Contacts)
	if reg, ok := in.Contacts[RoleRegistrant]; ok {
		for _, role := range Roles[1:] {
			if _, ok := in.Contacts[role]; !ok {
				in.Contacts[role] = reg
			}
		}
	}
	opID, err := s.newOperationID()
	if err != nil {
		return Operation{}, err
	}
	// A name under an external registry's TLD is registered there, by
	// the external worker (external_domain.go).
	if n, err := zonecfg.CanonicalName(in.Name); err == nil && n != "." {
		t, label, ok, err := s.externalFor(ctx, n)
		if err != nil {
			return Operation{}, err
		}
		if ok {
			return s.registerExternal(ctx, tenantID, n, label, t, in, opID)
		}
	}
	contacts, err := json.Marshal(in.Contacts)
	if err != nil {
		return Operation{}, err
	}
	var op Operation
	err = s.cp.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		tx := s.reg.Bind(zt)
		q := zt.Tx()
		now := s.reg.Now()
		created, err := tx.CreateDomain(ctx, RegistrarID, registry.DomainCreate{Name: in.Name, Years: in.Years, MaxPrice: in.MaxPrice})
		if err != nil {
			return fromRegistry(err)
		}
		name := created.Domain.Name
		var changes []string
		var zoneID *string
		var hosts []string
		var ds []registry.DS
		if in.HostedZone == "" {
			if hosts, err = s.ensureHosts(ctx, tx, in.Nameservers); err != nil {
				return err
			}
		} else if zoneID, hosts, ds, changes, err = hostedDelegation(ctx, zt, tenantID, opID, name, in); err != nil {
			return err
		}
		// Locked against transfer from the start, as Route 53 does. The
		// status and the DS change nothing in the DNS yet (no
		// nameservers): the delegation is published once, last, since
		// the TLD zone's change serialises the TLD's registrations
		// until commit.
		if err := tx.SetStatus(ctx, name, StatusTransferProhibited, true); err != nil {
			return fromRegistry(err)
		}
		if len(ds) > 0 {
			if err := tx.SetDS(ctx, RegistrarID, name, ds); err != nil {
				return fromRegistry(err)
			}
		}
		var ref *string
		if in.CallerReference != "" {
			ref = &in.CallerReference
		}
		if _, err := q.Exec(ctx, `INSERT INTO registrar_domain (name, tenant_id, hosted_zone_id, auto_renew, privacy, contacts, created_at, updated_at)
		                          VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, name, tenantID, zoneID, in.AutoRenew, in.Privacy, contacts, now); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `INSERT INTO registrar_ledger (tenant_id, domain, operation_id, kind, amount, currency, created_at)
		                          VALUES ($1, $2, $3, 'register', $4, $5, $6)`, tenantID, name, opID, created.Price, created.Currency, now); err != nil {
			return err
		}
		if len(hosts) > 0 {
			if err := tx.SetNameservers(ctx, RegistrarID, name, hosts); err != nil {
				return fromRegistry(err)
			}
		}
		changes = append(changes, tx.Changes()...)
		op = Operation{ID: opID, Domain: name, Type: OpRegister, Status: StatusInProgress,
			CallerReference: in.CallerReference, SubmittedAt: now, UpdatedAt: now, changes: changes}
		return s.insertOperation(ctx, q, tenantID, op, ref)
	})
	if err != nil {
		if e, ok := err.(*Error); ok && e.Code == CodeDuplicateRequest {
			return Operation{}, e
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" && in.CallerReference != "" {
			// A concurrent request with the same caller reference won.
			return s.operationByRef(ctx, tenantID, in.CallerReference)
		}
		return Operation{}, err
	}
	return op, nil
}

// hostedDelegation is the delegation of a registration to a hosted zone
// of the tenant: the zone created with it (hosted_zone "create", signed
// in the same transaction with DNSSEC) or the existing one named. It
// returns the zone's id, its nameservers, the DS of its active
// key-signing keys and the zone changes the operation waits for.
func hostedDelegation(ctx context.Context, zt *controlplane.ZoneTx, tenantID, opID, name string, in RegisterInput) (zoneID *string, hosts []string, ds []registry.DS, changes []string, err error) {
	var rdata []string
	if in.HostedZone == "create" {
		z, info, err := zt.CreateZone(ctx, tenantID, controlplane.CreateZoneInput{
			Name: name, CallerReference: "register:" + opID, Comment: "registered with " + opID,
		})
		if err != nil {
			return nil, nil, nil, nil, err
		}
		zoneID, hosts, changes = &z.ID, z.NameServers, []string{info.ID}
		if in.DNSSEC {
			signed, r, err := zt.EnableDNSSEC(ctx, tenantID, z.ID)
			if err != nil {
				return nil, nil, nil, nil, err
			}
			changes, rdata = append(changes, signed.ID), r
		}
	} else {
		z, err := zt.GetZone(ctx, tenantID, in.HostedZone)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		if z.Name != name {
			return nil, nil, nil, nil, errorf(CodeInvalidInput, "hosted zone %s is %s, not %s", z.ID, z.Name, name)
		}
		zoneID, hosts = &z.ID, z.NameServers
		// A signed zone's DS goes into the TLD zone with the delegation
		// (dnssec.go keeps it there afterwards).
		if rdata, err = zt.DelegationDS(ctx, tenantID, z.ID); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	for _, v := range rdata {
		d, err := parseDS(v)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		ds = append(ds, d)
	}
	return zoneID, hosts, ds, changes, nil
}

// insertOperation records op, or fails with DuplicateRequest naming the
// operation already in progress for the domain.
func (s *Service) insertOperation(ctx context.Context, q pgx.Tx, tenantID string, op Operation, ref *string) error {
	return s.insertOp(ctx, q, tenantID, op, ref, true)
}

func (s *Service) insertOp(ctx context.Context, q pgx.Tx, tenantID string, op Operation, ref *string, retry bool) error {
	if op.changes == nil {
		op.changes = []string{}
	}
	tag, err := q.Exec(ctx, `INSERT INTO registrar_operation (id, tenant_id, domain, type, status, caller_reference, change_ids, submitted_at, updated_at)
	                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
	                         ON CONFLICT (domain) WHERE status IN ('SUBMITTED', 'IN_PROGRESS') DO NOTHING`,
		op.ID, tenantID, op.Domain, op.Type, op.Status, ref, op.changes, op.SubmittedAt)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	// The operation in the way may be done without anyone having asked:
	// settle it, and try once more.
	var pending string
	var changes []string
	_ = q.QueryRow(ctx, `SELECT id, change_ids FROM registrar_operation WHERE domain = $1 AND status IN ('SUBMITTED', 'IN_PROGRESS')`, op.Domain).Scan(&pending, &changes)
	if pending != "" && retry {
		if _, err := q.Exec(ctx, settleSQL, pending, changes); err != nil {
			return err
		}
		return s.insertOp(ctx, q, tenantID, op, ref, false)
	}
	return &Error{Code: CodeDuplicateRequest, RequestID: pending,
		Message: fmt.Sprintf("operation %s is already in progress for %s", pending, op.Domain)}
}

const opColumns = `id, domain, type, status, flag, message, coalesce(caller_reference, ''), change_ids, submitted_at, updated_at`

func scanOp(row pgx.Row) (Operation, error) {
	var o Operation
	err := row.Scan(&o.ID, &o.Domain, &o.Type, &o.Status, &o.Flag, &o.Message, &o.CallerReference, &o.changes, &o.SubmittedAt, &o.UpdatedAt)
	return o, err
}

func (s *Service) operationByRef(ctx context.Context, tenantID, ref string) (Operation, error) {
	op, err := scanOp(s.db.QueryRow(ctx, `SELECT `+opColumns+` FROM registrar_operation WHERE tenant_id = $1 AND caller_reference = $2`, tenantID, ref))
	if err != nil {
		return Operation{}, err
	}
	return s.settle(ctx, op)
}

// Operation returns one of the tenant's operations. An operation in
// progress turns SUCCESSFUL here once every zone change it waits for is
// INSYNC.
func (s *Service) Operation(ctx context.Context, tenantID, id string) (Operation, error) {
	op, err := scanOp(s.db.QueryRow(ctx, `SELECT `+opColumns+` FROM registrar_operation WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Operation{}, errorf(CodeNoSuchOperation, "no operation %s", id)
	}
	if err != nil {
		return Operation{}, err
	}
	return s.settle(ctx, op)
}

// settle marks an operation in progress SUCCESSFUL when its changes are
// all INSYNC. The change table is the control plane's record of what the
// fleet serves.
func (s *Service) settle(ctx context.Context, op Operation) (Operation, error) {
	if op.Status != StatusInProgress {
		return op, nil
	}
	var done bool
	err := s.db.QueryRow(ctx, settleSQL+` RETURNING true`, op.ID, op.changes).Scan(&done)
	if errors.Is(err, pgx.ErrNoRows) {
		return op, nil
	}
	if err != nil {
		return Operation{}, err
	}
	op.Status = StatusSuccessful
	op.UpdatedAt = s.reg.Now()
	return op, nil
}

// settleSQL marks operation $1 SUCCESSFUL if every change of $2 is INSYNC,
// unless it waits for something else too (held: a transfer's approval).
const settleSQL = `WITH c AS (SELECT status FROM change WHERE id = ANY($2))
	UPDATE registrar_operation SET status = 'SUCCESSFUL', updated_at = now()
	WHERE id = $1 AND status = 'IN_PROGRESS' AND NOT held
	  AND (SELECT count(*) FROM c WHERE status = 'INSYNC') = cardinality($2::text[])`

// WaitOperation returns the operation once it is done (SUCCESSFUL, ERROR
// or FAILED), or as it is when timeout passes.
func (s *Service) WaitOperation(ctx context.Context, tenantID, id string, timeout time.Duration) (Operation, error) {
	deadline := time.Now().Add(timeout)
	delay := 5 * time.Millisecond
	for {
		op, err := s.Operation(ctx, tenantID, id)
		if err != nil || op.Status != StatusInProgress && op.Status != StatusSubmitted || time.Now().After(deadline) {
			return op, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return op, ctx.Err()
		case <-t.C:
		}
		delay = min(delay*2, 100*time.Millisecond)
	}
}

// ListOperations returns the tenant's operations, newest first.
func (s *Service) ListOperations(ctx context.Context, tenantID string, max int) ([]Operation, error) {
	if max <= 0 || max > 100 {
		max = 100
	}
	rows, err := s.db.Query(ctx, `SELECT `+opColumns+` FROM registrar_operation WHERE tenant_id = $1 ORDER BY submitted_at DESC, id LIMIT $2`, tenantID, max)
	if err != nil {
		return nil, err
	}
	ops, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Operation, error) { return scanOp(row) })
	if err != nil {
		return nil, err
	}
	for i := range ops {
		if ops[i], err = s.settle(ctx, ops[i]); err != nil {
			return nil, err
		}
	}
	return ops, nil
}

// Renew renews one of the tenant's domains; currentExpiryYear must match.
func (s *Service) Renew(ctx context.Context, tenantID, name string, years, currentExpiryYear int) (Operation, error) {
	return s.RenewDomain(ctx, tenantID, name, RenewInput{Years: years, CurrentExpiryYear: currentExpiryYear})
}

// owned returns the canonical name of one of the tenant's domains.
func (s *Service) owned(ctx context.Context, q pgx.Tx, tenantID, name string) (string, error) {
	var d string
	err := q.QueryRow(ctx, `SELECT name FROM registrar_domain WHERE name = lower(rtrim($1, '.')) || '.' AND tenant_id = $2 FOR UPDATE`, name, tenantID).Scan(&d)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errorf(CodeNoSuchDomain, "no domain %s in this account", name)
	}
	return d, err
}
