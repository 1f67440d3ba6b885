package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/zonecfg"
)

// MaxYears is the longest registration: ten years ahead (RFC 5731 s2.5
// allows 99; every registry limits it to 10).
const MaxYears = 10

// RGP states (RFC 3915 s3.1).
const (
	RGPAdd        = "addPeriod"
	RGPRenew      = "renewPeriod"
	RGPAutoRenew  = "autoRenewPeriod"
	RGPTransfer   = "transferPeriod"
	RGPRedemption = "redemptionPeriod"
	RGPPending    = "pendingDelete"
)

// Statuses that take a domain out of the DNS (RFC 5731 s2.3).
const (
	StatusClientHold = "clientHold"
	StatusServerHold = "serverHold"
	// StatusPendingCreate: the create waits for the registry operator
	// (Policy.CreateApproval); out of the DNS.
	StatusPendingCreate = "pendingCreate"
)

// StatusPendingTransfer marks a domain with a transfer waiting for
// approval (RFC 5731 s2.3).
const StatusPendingTransfer = "pendingTransfer"

// Availability values, Route 53 Domains' (ROUTE53.md §1.2).
const (
	Available         = "AVAILABLE"
	Unavailable       = "UNAVAILABLE"
	Reserved          = "RESERVED"
	InvalidNameForTLD = "INVALID_NAME_FOR_TLD"
)

// Check is the answer to CheckDomain.
type Check struct {
	Name         string `json:"domain_name"`
	Availability string `json:"availability"`
	// Premium: the price is the name's own, not the TLD's.
	Premium bool `json:"premium"`
	// Price is the yearly registration price in minor units.
	Price    int64  `json:"price"`
	Currency string `json:"currency"`
	// Reason says why a name is not available.
	Reason string `json:"reason,omitempty"`
}

// Domain is a domain object of the registry.
type Domain struct {
	Name        string   `json:"name"`
	TLD         string   `json:"tld"`
	ROID        string   `json:"roid"`
	RegistrarID string   `json:"registrar_id"`
	Registrant  string   `json:"registrant,omitempty"`
	Admin       string   `json:"admin,omitempty"`
	Tech        string   `json:"tech,omitempty"`
	Billing     string   `json:"billing,omitempty"`
	Nameservers []string `json:"nameservers"`
	AuthInfo    string   `json:"-"`
	Statuses    []string `json:"statuses"`
	// RGP is the grace period the domain is in ("" for none), until
	// RGPUntil.
	RGP                 string     `json:"rgp,omitempty"`
	RGPUntil            *time.Time `json:"rgp_until,omitempty"`
	CreatedAt           time.Time  `json:"created_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
	ExpiresAt           time.Time  `json:"expires_at"`
	TransferLockedUntil *time.Time `json:"transfer_locked_until,omitempty"`
	DS                  []DS       `json:"ds"`
}

// InDNS reports whether the TLD zone delegates the domain: not on hold,
// not expired, not in redemption or pending delete.
func (d Domain) InDNS() bool {
	if d.RGP == RGPRedemption || d.RGP == RGPPending || d.Expired() {
		return false
	}
	return !slices.Contains(d.Statuses, StatusClientHold) && !slices.Contains(d.Statuses, StatusServerHold) &&
		!slices.Contains(d.Statuses, StatusPendingCreate)
}

// Expired reports whether the domain expired without being renewed: it is
// in the auto-renew grace period (renewable, out of the DNS) but its
// expiry did not move. An auto-renewed domain expires a year after its
// old expiry, later than the grace period's end (a TLD's auto-renew grace
// is shorter than a year, ConfigureTLD checks it); an expired one at or
// before it.
func (d Domain) Expired() bool {
	return d.RGP == RGPAutoRenew && d.RGPUntil != nil && !d.ExpiresAt.After(*d.RGPUntil)
}

// DS is one delegation signer record (RFC 4034 s5).
type DS struct {
	KeyTag     uint16 `json:"key_tag"`
	Algorithm  uint8  `json:"algorithm"`
	DigestType uint8  `json:"digest_type"`
	Digest     string `json:"digest"` // upper-case hex
}

// String is the record's presentation form.
func (d DS) String() string {
	return fmt.Sprintf("%d %d %d %s", d.KeyTag, d.Algorithm, d.DigestType, d.Digest)
}

func validLabel(l string) bool {
	if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for _, c := range l {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// parse splits a domain name into its label and the longest TLD of the
// registry it ends in. It fails with ErrUnimplementedObject for a name in
// no TLD of ours and ErrParameterPolicy for a name that is not one valid
// label below the TLD.
func (r *Registry) parse(ctx context.Context, q pgx.Tx, raw string) (name, label string, tld TLD, err error) {
	name, cerr := zonecfg.CanonicalName(raw)
	if cerr != nil || name == "." {
		return "", "", TLD{}, errorf(ErrParameterPolicy, "%q is not a valid domain name", raw)
	}
	query := func(sql string, args ...any) pgx.Row {
		if q != nil {
			return q.QueryRow(ctx, sql, args...)
		}
		return r.db.QueryRow(ctx, sql, args...)
	}
	// Every suffix of the name is a candidate TLD; the longest wins.
	var suffixes []string
	for i := 0; i < len(name)-1; i++ {
		if i == 0 || name[i-1] == '.' {
			suffixes = append(suffixes, name[i:])
		}
	}
	tld, err = scanTLD(query(`SELECT `+tldColumns+` FROM registry_tld t WHERE t.tld = ANY($1) ORDER BY length(t.tld) DESC LIMIT 1`, suffixes))
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", TLD{}, errorf(ErrUnimplementedObject, "%s is not in a TLD of this registry", name)
	}
	if err != nil {
		return "", "", TLD{}, err
	}
	label = strings.TrimSuffix(name, "."+tld.Name)
	if label == name || !validLabel(label) {
		return "", "", TLD{}, errorf(ErrParameterPolicy, "%s is not a registrable name in %s: one label of letters, digits and hyphens", name, tld.Name)
	}
	return name, label, tld, nil
}

// CheckDomain says whether name can be registered, and at what price.
func (r *Registry) CheckDomain(ctx context.Context, raw string) (Check, error) {
	name, label, tld, err := r.parse(ctx, nil, raw)
	if IsCode(err, ErrParameterPolicy) {
		n, _ := zonecfg.CanonicalName(raw)
		return Check{Name: n, Availability: InvalidNameForTLD, Reason: err.(*Error).Message}, nil
	}
	if err != nil {
		return Check{}, err
	}
	c := Check{Name: name, Availability: Available, Price: tld.Prices.Register, Currency: tld.Prices.Currency}
	var kind string
	var price *int64
	var exists bool
	err = r.db.QueryRow(ctx, `SELECT coalesce((SELECT kind FROM registry_name_rule WHERE tld = $1 AND label = $2), ''),
	                                 (SELECT price FROM registry_name_rule WHERE tld = $1 AND label = $2),
	                                 EXISTS (SELECT 1 FROM registry_domain WHERE name = $3)`, tld.Name, label, name).Scan(&kind, &price, &exists)
	if err != nil {
		return Check{}, err
	}
	switch {
	case kind == "reserved":
		c.Availability, c.Reason = Reserved, "reserved by the registry"
	case exists:
		c.Availability, c.Reason = Unavailable, "registered"
	}
	if kind == "premium" && price != nil {
		c.Premium, c.Price = true, *price
	}
	return c, nil
}

// DomainCreate is a domain create command (RFC 5731 s3.2.1).
type DomainCreate struct {
	Name  string
	Years int
	// Registrant, Admin, Tech and Billing are contact ids of the registry.
	Registrant, Admin, Tech, Billing string
	// Nameservers are host names; each must be a host object
	// (CreateHost) unless it is outside every domain of the registry.
	Nameservers []string
	// AuthInfo is the transfer password; empty draws a random one.
	AuthInfo string
	// MaxPrice, if positive, refuses a registration that costs more.
	MaxPrice int64
	// ClTRID is the EPP create's client transaction id, named in the
	// poll message that settles a create waiting for approval.
	ClTRID string
}

// Created is the result of a create, renew, restore or transfer: the
// domain and what the registrar owes for it.
type Created struct {
	Domain   Domain
	Price    int64
	Currency string
	// RenewYears and RenewPrice: a restore of an expired domain also
	// renews it.
	RenewYears int
	RenewPrice int64
}

// CreateDomain registers a domain for registrar clID. Exactly one of
// concurrent creates of a name succeeds; the others get ErrObjectExists.
func (tx *Tx) CreateDomain(ctx context.Context, clID string, in DomainCreate) (Created, error) {
	q := tx.zt.Tx()
	if in.Years == 0 {
		in.Years = 1
	}
	if in.Years < 1 || in.Years > MaxYears {
		return Created{}, errorf(ErrParameterRange, "the period must be 1 to %d years, not %d", MaxYears, in.Years)
	}
	name, label, tld, err := tx.r.parse(ctx, q, in.Name)
	if err != nil {
		return Created{}, err
	}
	var kind string
	var premium *int64
	if err := q.QueryRow(ctx, `SELECT coalesce((SELECT kind FROM registry_name_rule WHERE tld = $1 AND label = $2), ''),
	                                 (SELECT price FROM registry_name_rule WHERE tld = $1 AND label = $2)`, tld.Name, label).Scan(&kind, &premium); err != nil {
		return Created{}, err
	}
	if kind == "reserved" {
		return Created{}, errorf(ErrPolicy, "%s is reserved by the registry", name)
	}
	price := tld.Prices.Register
	if premium != nil {
		price = *premium
	}
	price *= int64(in.Years)
	if in.MaxPrice > 0 && price > in.MaxPrice {
		return Created{}, errorf(ErrPrice, "%s costs %d %s, more than the maximum price %d", name, price, tld.Prices.Currency, in.MaxPrice)
	}
	auth := in.AuthInfo
	if auth == "" {
		if auth, err = tx.r.newToken(12); err != nil {
			return Created{}, err
		}
	}
	roid, err := tx.r.newToken(10)
	if err != nil {
		return Created{}, err
	}
	now := tx.r.Now()
	nul := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	// ON CONFLICT: the loser of a race waits for the winner's commit and
	// then finds the row, without aborting its transaction.
	statuses := []string{}
	if tld.Policy.CreateApproval {
		statuses = append(statuses, StatusPendingCreate)
	}
	tag, err := q.Exec(ctx, `INSERT INTO registry_domain (name, tld, roid, registrar_id, registrant, admin, tech, billing, auth_info,
	                             rgp, rgp_until, created_at, updated_at, expires_at, transfer_locked_until, statuses, create_cltrid)
	                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $15, $16)
	                         ON CONFLICT (name) DO NOTHING`,
		name, tld.Name, roid+"-"+strings.TrimSuffix(strings.ToUpper(tld.Name), "."), clID,
		nul(in.Registrant), nul(in.Admin), nul(in.Tech), nul(in.Billing), auth,
		RGPAdd, now.Add(tld.Policy.AddGrace), now, now.AddDate(in.Years, 0, 0), now.Add(tld.Policy.TransferLock), statuses, in.ClTRID)
	if err != nil {
		return Created{}, mapPG(err)
	}
	if tag.RowsAffected() == 0 {
		return Created{}, errorf(ErrObjectExists, "%s is already registered", name)
	}
	if len(in.Nameservers) > 0 {
		if err := tx.SetNameservers(ctx, clID, name, in.Nameservers); err != nil {
			return Created{}, err
		}
	}
	d, err := tx.Domain(ctx, name)
	if err != nil {
		return Created{}, err
	}
	return Created{Domain: d, Price: price, Currency: tld.Prices.Currency}, nil
}

const domainColumns = `name, tld, roid, registrar_id, coalesce(registrant, ''), coalesce(admin, ''), coalesce(tech, ''), coalesce(billing, ''),
	nameservers, auth_info, statuses, rgp, rgp_until, created_at, updated_at, expires_at, transfer_locked_until`

func scanDomain(row pgx.Row) (Domain, error) {
	var d Domain
	err := row.Scan(&d.Name, &d.TLD, &d.ROID, &d.RegistrarID, &d.Registrant, &d.Admin, &d.Tech, &d.Billing,
		&d.Nameservers, &d.AuthInfo, &d.Statuses, &d.RGP, &d.RGPUntil, &d.CreatedAt, &d.UpdatedAt, &d.ExpiresAt, &d.TransferLockedUntil)
	return d, err
}

// Domain returns a domain with its DS records (EPP info), whoever
// sponsors it.
func (tx *Tx) Domain(ctx context.Context, raw string) (Domain, error) {
	return tx.r.domain(ctx, tx.zt.Tx(), raw, false)
}

// Domain returns a domain outside any transaction (RDAP, EPP info).
func (r *Registry) Domain(ctx context.Context, raw string) (Domain, error) {
	return r.domain(ctx, nil, raw, false)
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func (r *Registry) q(tx pgx.Tx) querier {
	if tx != nil {
		return tx
	}
	return r.db
}

func (r *Registry) domain(ctx context.Context, tx pgx.Tx, raw string, lock bool) (Domain, error) {
	name, err := zonecfg.CanonicalName(raw)
	if err != nil {
		return Domain{}, errorf(ErrObjectDoesNotExist, "no domain %q", raw)
	}
	sql := `SELECT ` + domainColumns + ` FROM registry_domain WHERE name = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	d, err := scanDomain(r.q(tx).QueryRow(ctx, sql, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return Domain{}, errorf(ErrObjectDoesNotExist, "no domain %s", name)
	}
	if err != nil {
		return Domain{}, err
	}
	rows, err := r.q(tx).Query(ctx, `SELECT key_tag, algorithm, digest_type, digest FROM registry_ds WHERE domain = $1
	                                 ORDER BY key_tag, algorithm, digest_type, digest`, name)
	if err != nil {
		return Domain{}, err
	}
	d.DS, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (DS, error) {
		var ds DS
		var kt int32
		var alg, dt int16
		err := row.Scan(&kt, &alg, &dt, &ds.Digest)
		ds.KeyTag, ds.Algorithm, ds.DigestType = uint16(kt), uint8(alg), uint8(dt)
		return ds, err
	})
	return d, err
}

// sponsored locks a domain of registrar clID.
func (tx *Tx) sponsored(ctx context.Context, clID, raw string) (Domain, error) {
	d, err := tx.r.domain(ctx, tx.zt.Tx(), raw, true)
	if err != nil {
		return Domain{}, err
	}
	if d.RegistrarID != clID {
		return Domain{}, errorf(ErrAuthorization, "%s is sponsored by another registrar", d.Name)
	}
	return d, nil
}

// SetNameservers replaces the domain's nameservers and republishes its
// delegation.
func (tx *Tx) SetNameservers(ctx context.Context, clID, name string, hosts []string) error {
	d, err := tx.sponsored(ctx, clID, name)
	if err != nil {
		return err
	}
	if len(hosts) > 13 {
		return errorf(ErrParameterRange, "at most 13 nameservers")
	}
	canon := make([]string, 0, len(hosts))
	for _, h := range hosts {
		n, err := zonecfg.CanonicalName(h)
		if err != nil || strings.Count(n, ".") < 2 {
			return errorf(ErrParameterPolicy, "%q is not a valid host name", h)
		}
		if slices.Contains(canon, n) {
			return errorf(ErrParameterPolicy, "host %s listed twice", n)
		}
		// A host inside a registered domain must be a host object, so
		// that it has glue; one outside every domain is external.
		var sub *string
		var exists bool
		if err := tx.zt.Tx().QueryRow(ctx, `SELECT (SELECT name FROM registry_domain WHERE name = ANY($2) ORDER BY length(name) DESC LIMIT 1),
		                                   EXISTS (SELECT 1 FROM registry_host WHERE name = $1)`, n, parents(n)).Scan(&sub, &exists); err != nil {
			return err
		}
		if sub != nil && !exists {
			return errorf(ErrObjectDoesNotExist, "host %s is inside %s and must be created, with its addresses, first", n, *sub)
		}
		canon = append(canon, n)
	}
	if _, err := tx.zt.Tx().Exec(ctx, `UPDATE registry_domain SET nameservers = $2, updated_at = $3 WHERE name = $1`,
		d.Name, canon, tx.r.Now()); err != nil {
		return err
	}
	return tx.publish(ctx, d.Name)
}

// parents are the names strictly above a canonical host name, the
// candidates for the domain it is inside: looked up by primary key, not
// by a pattern over every domain.
func parents(host string) []string {
	var out []string
	for i := 0; i < len(host)-1; i++ {
		if host[i] == '.' {
			out = append(out, host[i+1:])
		}
	}
	return out
}

// CreateHost creates a host object. A host inside a domain of the registry
// (subordinate) needs addresses, its glue, and that domain's registrar.
func (tx *Tx) CreateHost(ctx context.Context, clID, raw string, addrs []netip.Addr) error {
	name, err := zonecfg.CanonicalName(raw)
	if err != nil || strings.Count(name, ".") < 2 {
		return errorf(ErrParameterPolicy, "%q is not a valid host name", raw)
	}
	q := tx.zt.Tx()
	var sub, subRegistrar *string
	if err := q.QueryRow(ctx, `SELECT name, registrar_id FROM registry_domain WHERE name = ANY($1) ORDER BY length(name) DESC LIMIT 1`,
		parents(name)).Scan(&sub, &subRegistrar); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	switch {
	case sub != nil && *subRegistrar != clID:
		return errorf(ErrAuthorization, "%s is inside %s, sponsored by another registrar", name, *sub)
	case sub != nil && len(addrs) == 0:
		return errorf(ErrParameterPolicy, "host %s is inside %s and needs its addresses (glue)", name, *sub)
	case sub == nil && len(addrs) > 0:
		return errorf(ErrParameterPolicy, "host %s is outside this registry's domains: no addresses", name)
	}
	strs := make([]string, 0, len(addrs))
	for _, a := range addrs {
		if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() {
			return errorf(ErrParameterPolicy, "%v is not a host address", a)
		}
		strs = append(strs, a.Unmap().String())
	}
	roid, err := tx.r.newToken(10)
	if err != nil {
		return err
	}
	now := tx.r.Now()
	tag, err := q.Exec(ctx, `INSERT INTO registry_host (name, roid, registrar_id, domain, addrs, created_at, updated_at)
	                         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (name) DO NOTHING`, name, roid+"-HOST", clID, sub, strs, now)
	if err != nil {
		return mapPG(err)
	}
	if tag.RowsAffected() == 0 {
		return errorf(ErrObjectExists, "host %s exists", name)
	}
	if sub != nil {
		return tx.publish(ctx, *sub)
	}
	return nil
}

// Host is a host object.
type Host struct {
	Name        string       `json:"name"`
	ROID        string       `json:"roid"`
	RegistrarID string       `json:"registrar_id"`
	Domain      string       `json:"domain,omitempty"`
	Addrs       []netip.Addr `json:"addresses"`
	CreatedAt   time.Time    `json:"created_at"`
}

// Host returns a host object.
func (r *Registry) Host(ctx context.Context, raw string) (Host, error) {
	name, err := zonecfg.CanonicalName(raw)
	if err != nil {
		return Host{}, errorf(ErrObjectDoesNotExist, "no host %q", raw)
	}
	var h Host
	var dom *string
	var addrs []string
	err = r.db.QueryRow(ctx, `SELECT name, roid, registrar_id, domain, addrs, created_at FROM registry_host WHERE name = $1`, name).
		Scan(&h.Name, &h.ROID, &h.RegistrarID, &dom, &addrs, &h.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Host{}, errorf(ErrObjectDoesNotExist, "no host %s", name)
	}
	if dom != nil {
		h.Domain = *dom
	}
	for _, a := range addrs {
		if ad, err := netip.ParseAddr(a); err == nil {
			h.Addrs = append(h.Addrs, ad)
		}
	}
	return h, err
}

// AddDS adds DS records to a domain (secDNS-1.1 add).
func (tx *Tx) AddDS(ctx context.Context, clID, name string, ds []DS) error {
	d, err := tx.sponsored(ctx, clID, name)
	if err != nil {
		return err
	}
	for _, r := range ds {
		dig := strings.ToUpper(r.Digest)
		if len(dig) == 0 || len(dig)%2 != 0 || strings.Trim(dig, "0123456789ABCDEF") != "" {
			return errorf(ErrParameterPolicy, "DS digest %q is not hex", r.Digest)
		}
		if _, err := tx.zt.Tx().Exec(ctx, `INSERT INTO registry_ds (domain, key_tag, algorithm, digest_type, digest) VALUES ($1, $2, $3, $4, $5)
		                                   ON CONFLICT DO NOTHING`, d.Name, int32(r.KeyTag), int16(r.Algorithm), int16(r.DigestType), dig); err != nil {
			return err
		}
	}
	return tx.publish(ctx, d.Name)
}

// RemoveDS removes DS records from a domain (secDNS-1.1 rem).
func (tx *Tx) RemoveDS(ctx context.Context, clID, name string, ds []DS) error {
	d, err := tx.sponsored(ctx, clID, name)
	if err != nil {
		return err
	}
	for _, r := range ds {
		if _, err := tx.zt.Tx().Exec(ctx, `DELETE FROM registry_ds WHERE domain = $1 AND key_tag = $2 AND algorithm = $3 AND digest_type = $4 AND digest = $5`,
			d.Name, int32(r.KeyTag), int16(r.Algorithm), int16(r.DigestType), strings.ToUpper(r.Digest)); err != nil {
			return err
		}
	}
	return tx.publish(ctx, d.Name)
}

// SetDS replaces a domain's DS records with ds (secDNS-1.1 rem all, then
// add), one change of the TLD zone.
func (tx *Tx) SetDS(ctx context.Context, clID, name string, ds []DS) error {
	d, err := tx.sponsored(ctx, clID, name)
	if err != nil {
		return err
	}
	if _, err := tx.zt.Tx().Exec(ctx, `DELETE FROM registry_ds WHERE domain = $1`, d.Name); err != nil {
		return err
	}
	for _, r := range ds {
		dig := strings.ToUpper(r.Digest)
		if len(dig) == 0 || len(dig)%2 != 0 || strings.Trim(dig, "0123456789ABCDEF") != "" {
			return errorf(ErrParameterPolicy, "DS digest %q is not hex", r.Digest)
		}
		if _, err := tx.zt.Tx().Exec(ctx, `INSERT INTO registry_ds (domain, key_tag, algorithm, digest_type, digest) VALUES ($1, $2, $3, $4, $5)
		                                   ON CONFLICT DO NOTHING`, d.Name, int32(r.KeyTag), int16(r.Algorithm), int16(r.DigestType), dig); err != nil {
			return err
		}
	}
	return tx.publish(ctx, d.Name)
}

// DelegationComment is the comment of the TLD zone's changes for the
// delegation of name (canonical).
func DelegationComment(name string) string { return "delegation of " + name }

// RenewDomain extends a domain by years. curExpiryYear must be the year of
// the current expiry (RFC 5731 curExpDate; Route 53's CurrentExpiryYear),
// which makes a repeated renew fail instead of renewing twice.
func (tx *Tx) RenewDomain(ctx context.Context, clID, name string, curExpiryYear, years int) (Created, error) {
	d, err := tx.sponsored(ctx, clID, name)
	if err != nil {
		return Created{}, err
	}
	if d.RGP == RGPRedemption || d.RGP == RGPPending {
		return Created{}, errorf(ErrStatusProhibits, "%s is in %s; restore it first", d.Name, d.RGP)
	}
	if years == 0 {
		years = 1
	}
	if years < 1 || years > MaxYears {
		return Created{}, errorf(ErrParameterRange, "the period must be 1 to %d years, not %d", MaxYears, years)
	}
	if d.ExpiresAt.Year() != curExpiryYear {
		return Created{}, errorf(ErrParameterRange, "the current expiry year of %s is %d, not %d", d.Name, d.ExpiresAt.Year(), curExpiryYear)
	}
	now := tx.r.Now()
	exp := d.ExpiresAt.AddDate(years, 0, 0)
	if exp.After(now.AddDate(MaxYears, 0, 0)) {
		return Created{}, errorf(ErrPolicy, "%s would expire more than %d years from now", d.Name, MaxYears)
	}
	tld, err := tx.r.tld(ctx, tx.zt.Tx(), d.TLD)
	if err != nil {
		return Created{}, err
	}
	if _, err := tx.zt.Tx().Exec(ctx, `UPDATE registry_domain SET expires_at = $2, rgp = $3, rgp_until = $4, rgp_years = $6, updated_at = $5 WHERE name = $1`,
		d.Name, exp, RGPRenew, now.Add(tld.Policy.RenewGrace), now, years); err != nil {
		return Created{}, err
	}
	// A domain renewed after it expired comes back into the DNS.
	if err := tx.publish(ctx, d.Name); err != nil {
		return Created{}, err
	}
	d, err = tx.Domain(ctx, d.Name)
	return Created{Domain: d, Price: tld.Prices.Renew * int64(years), Currency: tld.Prices.Currency}, err
}

// DeleteDomain deletes a domain. In the add grace period it is released at
// once and refunded (Refund true); otherwise it enters redemption, leaves
// the DNS and can be restored until the redemption period ends. Delete
// says more.
func (tx *Tx) DeleteDomain(ctx context.Context, clID, name string) (refund bool, err error) {
	del, err := tx.Delete(ctx, clID, name)
	return del.Released, err
}

// Deleted is the outcome of a delete: the grace period it fell into (its
// charge is refunded: RGPAdd, RGPRenew, RGPAutoRenew or RGPTransfer; ""
// for none) and the years of expiry it took back.
type Deleted struct {
	Name     string
	Grace    string
	Years    int
	Released bool
}

// Delete deletes a domain (RFC 3915 s3.2): in the add grace period it is
// released at once; in the renew, auto-renew or transfer grace period the
// years that period added are taken back (the registrar refunds their
// charge) and it enters redemption; otherwise it just enters redemption,
// leaves the DNS and can be restored until the redemption period ends.
func (tx *Tx) Delete(ctx context.Context, clID, name string) (Deleted, error) {
	d, err := tx.sponsored(ctx, clID, name)
	if err != nil {
		return Deleted{}, err
	}
	out := Deleted{Name: d.Name}
	now := tx.r.Now()
	inGrace := d.RGPUntil != nil && now.Before(*d.RGPUntil)
	if slices.Contains(d.Statuses, StatusPendingTransfer) {
		return Deleted{}, errorf(ErrStatusProhibits, "%s has a transfer pending", d.Name)
	}
	var years int
	if err := tx.zt.Tx().QueryRow(ctx, `SELECT rgp_years FROM registry_domain WHERE name = $1`, d.Name).Scan(&years); err != nil {
		return Deleted{}, err
	}
	switch {
	case d.RGP == RGPRedemption || d.RGP == RGPPending:
		return Deleted{}, errorf(ErrStatusProhibits, "%s is already deleted (%s)", d.Name, d.RGP)
	case d.RGP == RGPAdd && inGrace:
		out.Grace, out.Released = RGPAdd, true
		return out, tx.Release(ctx, d.Name)
	case (d.RGP == RGPRenew || d.RGP == RGPTransfer || d.RGP == RGPAutoRenew && !d.Expired()) && inGrace && years > 0:
		out.Grace, out.Years = d.RGP, years
	}
	tld, err := tx.r.tld(ctx, tx.zt.Tx(), d.TLD)
	if err != nil {
		return Deleted{}, err
	}
	if _, err := tx.zt.Tx().Exec(ctx, `UPDATE registry_domain SET rgp = $2, rgp_until = $3, rgp_years = 0, deleted_at = $4, updated_at = $4,
	                                          expires_at = expires_at - make_interval(years => $5) WHERE name = $1`,
		d.Name, RGPRedemption, now.Add(tld.Policy.Redemption), now, out.Years); err != nil {
		return Deleted{}, err
	}
	return out, tx.publish(ctx, d.Name)
}

// RestoreDomain brings a domain back from redemption (RFC 3915 restore).
// A domain that had expired is renewed for as many years as it takes to
// expire in the future again; Created.Price is the restore fee and
// RenewYears and RenewPrice that renewal.
func (tx *Tx) RestoreDomain(ctx context.Context, clID, name string) (Created, error) {
	d, err := tx.sponsored(ctx, clID, name)
	if err != nil {
		return Created{}, err
	}
	if d.RGP != RGPRedemption {
		return Created{}, errorf(ErrStatusProhibits, "%s is not in redemption", d.Name)
	}
	tld, err := tx.r.tld(ctx, tx.zt.Tx(), d.TLD)
	if err != nil {
		return Created{}, err
	}
	now := tx.r.Now()
	years := 0
	for !d.ExpiresAt.AddDate(years, 0, 0).After(now) {
		years++
	}
	if _, err := tx.zt.Tx().Exec(ctx, `UPDATE registry_domain SET rgp = '', rgp_until = NULL, rgp_years = 0, deleted_at = NULL, updated_at = $2,
	                                          expires_at = expires_at + make_interval(years => $3) WHERE name = $1`,
		d.Name, now, years); err != nil {
		return Created{}, err
	}
	if err := tx.publish(ctx, d.Name); err != nil {
		return Created{}, err
	}
	d, err = tx.Domain(ctx, d.Name)
	return Created{Domain: d, Price: tld.Prices.Restore, Currency: tld.Prices.Currency,
		RenewYears: years, RenewPrice: tld.Prices.Renew * int64(years)}, err
}

// Release removes a domain from the registry and the DNS: the name is
// available again. The lifecycle calls it at the end of pending delete.
func (tx *Tx) Release(ctx context.Context, name string) error {
	if err := tx.withdraw(ctx, name); err != nil {
		return err
	}
	_, err := tx.zt.Tx().Exec(ctx, `DELETE FROM registry_domain WHERE name = $1`, name)
	return err
}

// SetStatus adds (on) or removes a status such as clientHold and
// republishes the delegation.
func (tx *Tx) SetStatus(ctx context.Context, name, status string, on bool) error {
	sql := `UPDATE registry_domain SET statuses = array_remove(statuses, $2), updated_at = $3 WHERE name = $1`
	if on {
		sql = `UPDATE registry_domain SET statuses = array_append(array_remove(statuses, $2), $2), updated_at = $3 WHERE name = $1`
	}
	if _, err := tx.zt.Tx().Exec(ctx, sql, name, status, tx.r.Now()); err != nil {
		return err
	}
	return tx.publish(ctx, name)
}

// published is what the TLD zone holds for one domain.
type published []zonecfg.RRSet

// publish brings the TLD zone in line with the domain: NS, glue for its
// subordinate hosts and DS while it is in the DNS, nothing otherwise.
func (tx *Tx) publish(ctx context.Context, name string) error {
	d, err := tx.r.domain(ctx, tx.zt.Tx(), name, false)
	if err != nil {
		return err
	}
	tld, err := tx.tldOf(ctx, d.TLD)
	if err != nil {
		return err
	}
	var want published
	if d.InDNS() && len(d.Nameservers) > 0 {
		ttl := tld.Policy.DelegationTTL
		want = append(want, zonecfg.RRSet{Name: d.Name, Type: "NS", TTL: ttl, Records: d.Nameservers})
		rows, err := tx.zt.Tx().Query(ctx, `SELECT name, addrs FROM registry_host WHERE domain = $1 AND name = ANY($2) ORDER BY name`, d.Name, d.Nameservers)
		if err != nil {
			return err
		}
		type host struct {
			name  string
			addrs []string
		}
		hosts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (host, error) {
			var h host
			return h, row.Scan(&h.name, &h.addrs)
		})
		if err != nil {
			return err
		}
		for _, h := range hosts {
			var a, aaaa []string
			for _, s := range h.addrs {
				if strings.Contains(s, ":") {
					aaaa = append(aaaa, s)
				} else {
					a = append(a, s)
				}
			}
			if len(a) > 0 {
				want = append(want, zonecfg.RRSet{Name: h.name, Type: "A", TTL: ttl, Records: a})
			}
			if len(aaaa) > 0 {
				want = append(want, zonecfg.RRSet{Name: h.name, Type: "AAAA", TTL: ttl, Records: aaaa})
			}
		}
		if len(d.DS) > 0 {
			recs := make([]string, len(d.DS))
			for i, ds := range d.DS {
				recs[i] = ds.String()
			}
			want = append(want, zonecfg.RRSet{Name: d.Name, Type: "DS", TTL: ttl, Records: recs})
		}
	}
	return tx.replace(ctx, d.Name, tld.ZoneID, want)
}

// withdraw removes everything the TLD zone holds for a domain.
func (tx *Tx) withdraw(ctx context.Context, name string) error {
	var zoneID string
	if err := tx.zt.Tx().QueryRow(ctx, `SELECT t.zone_id FROM registry_domain d JOIN registry_tld t ON t.tld = d.tld WHERE d.name = $1`,
		name).Scan(&zoneID); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return errorf(ErrObjectDoesNotExist, "no domain %s", name)
		}
		return err
	}
	return tx.replace(ctx, name, zoneID, nil)
}

// withdrawFrom removes everything the TLD zone zoneID holds for a domain,
// reading and clearing what it published in one statement (the
// lifecycle's expiries, thousands in a batch).
func (tx *Tx) withdrawFrom(ctx context.Context, name, zoneID string) error {
	var raw []byte
	err := tx.zt.Tx().QueryRow(ctx, `UPDATE registry_domain d SET published = '[]' FROM
	        (SELECT name, published FROM registry_domain WHERE name = $1 FOR UPDATE) old
	        WHERE d.name = old.name RETURNING old.published`, name).Scan(&raw)
	if err != nil {
		return err
	}
	var have published
	if err := json.Unmarshal(raw, &have); err != nil {
		return fmt.Errorf("published of %s: %w", name, err)
	}
	if len(have) == 0 {
		return nil
	}
	changes := make([]controlplane.RRSetChange, len(have))
	for i, rs := range have {
		changes[i] = controlplane.RRSetChange{Action: controlplane.ActionDelete, RRSet: rs}
	}
	return tx.queue(ctx, zoneID, DelegationComment(name), changes)
}

// replace changes the TLD zone from what was last published for the domain
// (registry_domain.published) to want, in one change, if anything differs.
// The registry alone writes below its TLDs, so what it published last is
// what the zone holds, and a DELETE of it matches.
func (tx *Tx) replace(ctx context.Context, name, zoneID string, want published) error {
	q := tx.zt.Tx()
	var raw []byte
	if err := q.QueryRow(ctx, `SELECT published FROM registry_domain WHERE name = $1`, name).Scan(&raw); err != nil {
		return err
	}
	var have published
	if err := json.Unmarshal(raw, &have); err != nil {
		return fmt.Errorf("published of %s: %w", name, err)
	}
	wantBy := map[zonecfg.Key]zonecfg.RRSet{}
	for _, rs := range want {
		wantBy[rs.Key()] = rs
	}
	var changes []controlplane.RRSetChange
	haveBy := map[zonecfg.Key]zonecfg.RRSet{}
	for _, rs := range have {
		haveBy[rs.Key()] = rs
		if _, ok := wantBy[rs.Key()]; !ok {
			changes = append(changes, controlplane.RRSetChange{Action: controlplane.ActionDelete, RRSet: rs})
		}
	}
	for _, rs := range want {
		if old, ok := haveBy[rs.Key()]; ok && old.TTL == rs.TTL && slices.Equal(old.Records, rs.Records) {
			continue
		}
		changes = append(changes, controlplane.RRSetChange{Action: controlplane.ActionUpsert, RRSet: rs})
	}
	if len(changes) == 0 {
		return nil
	}
	if want == nil {
		want = published{}
	}
	enc, err := json.Marshal(want)
	if err != nil {
		return err
	}
	if _, err := q.Exec(ctx, `UPDATE registry_domain SET published = $2 WHERE name = $1`, name, enc); err != nil {
		return err
	}
	return tx.queue(ctx, zoneID, DelegationComment(name), changes)
}
