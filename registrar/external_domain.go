package registrar

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// Registration at an external registry. The request's transaction writes
// what the built-in registry's writes for its own TLDs, minus the
// registry: the tenant's domain row (ext_state 'creating'), the hosted
// zone when asked for, the ledger charge and the operation (SUBMITTED,
// held: settling by INSYNC skips it), plus the EPP job that the external
// worker (external_worker.go) carries out at the registry afterwards.

// Values of registrar_domain.ext_state.
const (
	extCreating   = "creating"
	extRegistered = "registered"
)

// StatusPendingCreate is the EPP status (RFC 5731 s2.3) of a domain whose
// create the registry has not completed.
const StatusPendingCreate = "pendingCreate"

// extContact is a contact as the worker creates it at the registry: its
// EPP id is derived from the operation and the contact's content (not
// drawn per attempt), so a retried create finds the contact it made.
type extContact struct {
	ID   string               `json:"id"`
	Info registry.ContactInfo `json:"info"`
}

// extCreateRequest is registrar_epp_job.request of a create.
type extCreateRequest struct {
	Years       int                   `json:"years"`
	AuthInfo    string                `json:"auth_info"`
	Contacts    map[string]extContact `json:"contacts"` // by role
	Nameservers []Nameserver          `json:"nameservers"`
	DS          []registry.DS         `json:"ds"`
	Price       int64                 `json:"price"`
	Currency    string                `json:"currency"`
}

// contactID derives the EPP contact id (RFC 5733 clIDType: 3–16
// characters) of a contact of operation opID.
func contactID(opID string, c registry.ContactInfo) string {
	raw, _ := json.Marshal(c)
	sum := sha256.Sum256(append([]byte(opID+"\n"), raw...))
	return "wm" + hex.EncodeToString(sum[:7])
}

// registerExternal is Register for a name under the external TLD t.
func (s *Service) registerExternal(ctx context.Context, tenantID, name, label string, t ExternalTLD, in RegisterInput, opID string) (Operation, error) {
	if !validLabel(label) {
		return Operation{}, errorf(CodeInvalidInput, "%s is not a registrable name in %s: one label of letters, digits and hyphens", name, t.TLD)
	}
	if _, ok := in.Contacts[RoleRegistrant]; !ok {
		return Operation{}, errorf(CodeInvalidInput, "a registration at an external registry needs a registrant contact")
	}
	price := t.Prices.Register * int64(in.Years)
	if in.MaxPrice > 0 && price > in.MaxPrice {
		return Operation{}, errorf(CodePriceTooHigh, "%s costs %d %s, more than the maximum price %d", name, price, t.Prices.Currency, in.MaxPrice)
	}
	auth := make([]byte, 10)
	if _, err := io.ReadFull(s.cfg.Rand, auth); err != nil {
		return Operation{}, err
	}
	req := extCreateRequest{Years: in.Years, AuthInfo: "wm-" + idEncoding.EncodeToString(auth), Contacts: map[string]extContact{},
		Price: price, Currency: t.Prices.Currency}
	for role, c := range in.Contacts {
		req.Contacts[role] = extContact{ID: contactID(opID, c), Info: c}
	}
	contacts, err := json.Marshal(in.Contacts)
	if err != nil {
		return Operation{}, err
	}
	var op Operation
	err = s.cp.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		q := zt.Tx()
		now := s.reg.Now()
		nss := in.Nameservers
		var changes []string
		var zoneID *string
		var ds []registry.DS
		if in.HostedZone != "" {
			id, hosts, zds, zch, err := hostedDelegation(ctx, zt, tenantID, opID, name, in)
			if err != nil {
				return err
			}
			zoneID, ds, changes, nss = id, zds, zch, nameserversOf(hosts)
		}
		req.Nameservers, req.DS = nss, ds
		if req.Nameservers == nil {
			req.Nameservers = []Nameserver{}
		}
		if req.DS == nil {
			req.DS = []registry.DS{}
		}
		nsJSON, err := json.Marshal(req.Nameservers)
		if err != nil {
			return err
		}
		dsJSON, err := json.Marshal(req.DS)
		if err != nil {
			return err
		}
		tag, err := q.Exec(ctx, `INSERT INTO registrar_domain (name, tenant_id, hosted_zone_id, auto_renew, privacy, contacts, created_at, updated_at,
		                             registry, ext_state, ext_nameservers, ext_ds, ext_expires_at)
		                         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10, $11, $12) ON CONFLICT (name) DO NOTHING`,
			name, tenantID, zoneID, in.AutoRenew, in.Privacy, contacts, now, t.TLD, extCreating, nsJSON, dsJSON, now.AddDate(in.Years, 0, 0))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errorf(CodeDomainUnavailable, "%s is already registered", name)
		}
		if _, err := q.Exec(ctx, `INSERT INTO registrar_ledger (tenant_id, domain, operation_id, kind, amount, currency, created_at)
		                          VALUES ($1, $2, $3, 'register', $4, $5, $6)`, tenantID, name, opID, price, t.Prices.Currency, now); err != nil {
			return err
		}
		var ref *string
		if in.CallerReference != "" {
			ref = &in.CallerReference
		}
		op = Operation{ID: opID, Domain: name, Type: OpRegister, Status: StatusSubmitted,
			CallerReference: in.CallerReference, SubmittedAt: now, UpdatedAt: now, changes: changes}
		if err := s.insertOperation(ctx, q, tenantID, op, ref); err != nil {
			return err
		}
		return s.queueJob(ctx, q, opID, t.TLD, name, "create", req)
	})
	if err != nil {
		if e, ok := err.(*Error); ok && e.Code == CodeDuplicateRequest {
			return Operation{}, e
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" && in.CallerReference != "" {
			return s.operationByRef(ctx, tenantID, in.CallerReference)
		}
		return Operation{}, err
	}
	s.wakeExternal()
	return op, nil
}

// queueJob records the EPP work of operation opID, in the operation's
// transaction, and holds the operation until the worker has done it.
func (s *Service) queueJob(ctx context.Context, q pgx.Tx, opID, tld, name, command string, req any) error {
	raw, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := q.Exec(ctx, `UPDATE registrar_operation SET held = true WHERE id = $1`, opID); err != nil {
		return err
	}
	now := s.cfg.Now()
	_, err = q.Exec(ctx, `INSERT INTO registrar_epp_job (operation_id, tld, domain, command, request, state, next_at, created_at, updated_at)
	                      VALUES ($1, $2, $3, $4, $5, 'queued', $6, $6, $6)`, opID, tld, name, command, raw, now)
	return err
}

// wakeExternal tells this process's external worker, if it runs, that a
// job is queued (other processes' workers find it on their next pass).
func (s *Service) wakeExternal() {
	select {
	case s.extWake <- struct{}{}:
	default:
	}
}

func nameserversOf(hosts []string) []Nameserver {
	out := make([]Nameserver, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, Nameserver{Name: h})
	}
	return out
}

// externalDomain fills d, read from registrar_domain, with what the
// external registry answered (recorded by the worker).
type externalRow struct {
	registry    *string
	state       *string
	roid        string
	statuses    []string
	nameservers []byte
	ds          []byte
	createdAt   *time.Time
	expiresAt   *time.Time
	updatedAt   time.Time
	createdRow  time.Time
}

func (s *Service) fillExternal(ctx context.Context, d *Domain, x externalRow) error {
	d.Statuses = append([]string{}, x.statuses...)
	if x.state != nil && *x.state == extCreating && len(d.Statuses) == 0 {
		d.Statuses = []string{StatusPendingCreate}
	}
	d.RegistryDomainID = x.roid
	if t, err := s.ExternalTLDByName(ctx, *x.registry); err == nil {
		d.Registrar = t.ClientID
	}
	d.CreatedAt, d.UpdatedAt = x.createdRow, x.updatedAt
	if x.createdAt != nil {
		d.CreatedAt = *x.createdAt
	}
	if x.expiresAt != nil {
		d.ExpiresAt = *x.expiresAt
	}
	d.TransferLock = false
	for _, st := range d.Statuses {
		if st == StatusTransferProhibited {
			d.TransferLock = true
		}
	}
	if err := json.Unmarshal(x.nameservers, &d.Nameservers); err != nil {
		return fmt.Errorf("nameservers of %s: %w", d.Name, err)
	}
	var ds []registry.DS
	if err := json.Unmarshal(x.ds, &ds); err != nil {
		return fmt.Errorf("DS of %s: %w", d.Name, err)
	}
	d.DS = make([]DSRecord, 0, len(ds))
	for _, r := range ds {
		d.DS = append(d.DS, DSRecord{ID: DSID(r), DS: r})
	}
	if d.Nameservers == nil {
		d.Nameservers = []Nameserver{}
	}
	return nil
}

// externalOf returns the external TLD one of the registrar's domains is
// registered under ("" for the built-in registry's).
func externalOf(ctx context.Context, q queryRower, name string) (string, error) {
	var reg *string
	err := q.QueryRow(ctx, `SELECT registry FROM registrar_domain WHERE name = $1`, name).Scan(&reg)
	if errors.Is(err, pgx.ErrNoRows) || reg == nil {
		return "", nil
	}
	return *reg, err
}

// bareName is a canonical name without its final dot, as EPP carries it.
func bareName(n string) string { return strings.TrimSuffix(n, ".") }
