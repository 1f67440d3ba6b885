package registry

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/nspool"
	"github.com/waymark-dns/waymark/zonecfg"
)

// TenantName is the name of the tenant that owns the TLD zones.
const TenantName = "waymark-registry"

// TLDRecordQuota is the number of record sets a TLD zone may hold (the
// registry tenant's record quota): two billion, no limit in practice.
const TLDRecordQuota = 2_000_000_000

// Config configures a Registry.
type Config struct {
	// Now is the registry's clock (the lifecycle's, too); default
	// time.Now. Tests and `waymark dev` inject a test clock.
	Now func() time.Time
	// Rand is the source of auth codes and ids; default crypto/rand.
	Rand io.Reader
	// Pool is the fleet's nameserver pool: pool names inside a TLD are
	// delegated from its zone with glue.
	Pool nspool.Pool
}

// Registry is the built-in registry. It is safe for concurrent use.
type Registry struct {
	db       *pgxpool.Pool
	svc      *controlplane.Service
	cfg      Config
	tenantID string
}

// Open returns the registry on db, creating its tenant on first use.
func Open(ctx context.Context, db *pgxpool.Pool, svc *controlplane.Service, cfg Config) (*Registry, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	r := &Registry{db: db, svc: svc, cfg: cfg}
	t, err := svc.TenantByName(ctx, TenantName)
	if controlplane.IsCode(err, controlplane.CodeNoSuchTenant) {
		// Two processes starting at once: one creates, the other finds
		// the name taken and looks it up again.
		if t, _, err = svc.CreateTenant(ctx, TenantName); err != nil {
			t, err = svc.TenantByName(ctx, TenantName)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("registry tenant: %w", err)
	}
	r.tenantID = t.ID
	// A TLD zone holds the delegation of every domain: the tenant
	// default of record sets per zone would cap a TLD at a few thousand.
	if _, err := db.Exec(ctx, `UPDATE tenant SET record_quota = $2 WHERE id = $1 AND coalesce(record_quota, 0) < $2`,
		t.ID, int32(TLDRecordQuota)); err != nil {
		return nil, fmt.Errorf("registry tenant quota: %w", err)
	}
	return r, nil
}

// TenantID is the tenant owning the TLD zones.
func (r *Registry) TenantID() string { return r.tenantID }

// Now is the registry's clock.
func (r *Registry) Now() time.Time { return r.cfg.Now().UTC() }

// Tx is a registry transaction: every command on it commits or rolls back
// together with the TLD zone changes it made (Changes).
type Tx struct {
	r       *Registry
	zt      *controlplane.ZoneTx
	changes []string
	// batch, when set (Batch), collects TLD zone changes in pending
	// instead of applying each at once; Flush applies them, few changes
	// for many domains (the lifecycle's batches).
	batch   bool
	pending map[string][]controlplane.RRSetChange
	zones   []string       // the keys of pending, in first-use order
	tlds    map[string]TLD // batch mode: TLDs read so far
}

// tldOf reads a TLD, once per transaction in batch mode (a batch reads
// the same few TLDs for thousands of domains; nothing in it changes them).
func (tx *Tx) tldOf(ctx context.Context, name string) (TLD, error) {
	if t, ok := tx.tlds[name]; ok {
		return t, nil
	}
	t, err := tx.r.tld(ctx, tx.zt.Tx(), name)
	if err == nil && tx.batch {
		if tx.tlds == nil {
			tx.tlds = map[string]TLD{}
		}
		tx.tlds[name] = t
	}
	return t, err
}

// Do runs fn in a new transaction and returns the ids of the TLD zone
// changes it made, which are INSYNC once the fleet serves them.
func (r *Registry) Do(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) ([]string, error) {
	var changes []string
	err := r.svc.InTx(ctx, func(ctx context.Context, zt *controlplane.ZoneTx) error {
		tx := r.Bind(zt)
		if err := fn(ctx, tx); err != nil {
			return err
		}
		changes = tx.Changes()
		return nil
	})
	return changes, err
}

// Bind attaches registry commands to a transaction the caller holds.
func (r *Registry) Bind(zt *controlplane.ZoneTx) *Tx { return &Tx{r: r, zt: zt} }

// Changes are the ids of the TLD zone changes made so far.
func (tx *Tx) Changes() []string { return tx.changes }

// Policy is a TLD's lifecycle configuration.
type Policy struct {
	AddGrace       time.Duration `json:"add_grace"`
	RenewGrace     time.Duration `json:"renew_grace"`
	AutoRenewGrace time.Duration `json:"auto_renew_grace"`
	TransferGrace  time.Duration `json:"transfer_grace"`
	Redemption     time.Duration `json:"redemption"`
	PendingDelete  time.Duration `json:"pending_delete"`
	TransferLock   time.Duration `json:"transfer_lock"`
	TransferWait   time.Duration `json:"transfer_wait"`
	// NegativeTTL is the TLD zone's SOA minimum and TTL: how long a
	// resolver caches "no such name" for a name not yet registered.
	NegativeTTL uint32 `json:"negative_ttl"`
	// DelegationTTL is the TTL of the NS, glue and DS records.
	DelegationTTL uint32 `json:"delegation_ttl"`
	// CreateApproval makes every domain create wait for the operator
	// (a sunrise or land-rush period): answered 1001, the domain is
	// pendingCreate and out of the DNS until DecideCreate approves it
	// or rejects it, and the sponsor hears the outcome by poll message.
	CreateApproval bool `json:"create_approval"`
}

// DefaultPolicy is the usual gTLD policy (REGISTRAR.md §2), with a
// negative TTL of a minute.
func DefaultPolicy() Policy {
	const day = 24 * time.Hour
	return Policy{
		AddGrace: 5 * day, RenewGrace: 5 * day, AutoRenewGrace: 45 * day, TransferGrace: 5 * day,
		Redemption: 30 * day, PendingDelete: 5 * day, TransferLock: 60 * day, TransferWait: 5 * day,
		NegativeTTL: 60, DelegationTTL: 3600,
	}
}

// Prices are a TLD's prices per year, in minor units of Currency.
type Prices struct {
	Currency string `json:"currency"`
	Register int64  `json:"registration"`
	Renew    int64  `json:"renewal"`
	Transfer int64  `json:"transfer"`
	Restore  int64  `json:"restoration"`
}

// TLD is a top-level domain the registry runs.
type TLD struct {
	Name   string `json:"tld"`
	ZoneID string `json:"hosted_zone_id"`
	Prices Prices `json:"prices"`
	Policy Policy `json:"policy"`
	// NameServers are the TLD zone's nameservers (its delegation set).
	NameServers []string  `json:"name_servers"`
	CreatedAt   time.Time `json:"created_at"`
	// DS are the DS records of the TLD zone once it is signed (SignTLD):
	// the trust anchor of a resolver that validates below the TLD.
	// Filled by TLD and TLDs only.
	DS []string `json:"ds,omitempty"`
}

const tldColumns = `t.tld, t.zone_id, t.currency, t.price_register, t.price_renew, t.price_transfer, t.price_restore,
	t.add_grace, t.renew_grace, t.autorenew_grace, t.transfer_grace, t.redemption, t.pending_delete,
	t.transfer_lock, t.transfer_wait, t.negative_ttl, t.delegation_ttl, t.create_approval, t.created_at,
	coalesce((SELECT d.name_servers FROM hosted_zone z JOIN delegation_set d ON d.id = z.delegation_set_id WHERE z.id = t.zone_id), '{}')`

func scanTLD(row pgx.Row) (TLD, error) {
	var t TLD
	var secs [8]int64
	var neg, del int64
	var approval bool
	err := row.Scan(&t.Name, &t.ZoneID, &t.Prices.Currency, &t.Prices.Register, &t.Prices.Renew, &t.Prices.Transfer, &t.Prices.Restore,
		&secs[0], &secs[1], &secs[2], &secs[3], &secs[4], &secs[5], &secs[6], &secs[7], &neg, &del, &approval, &t.CreatedAt, &t.NameServers)
	d := func(i int) time.Duration { return time.Duration(secs[i]) * time.Second }
	t.Policy = Policy{AddGrace: d(0), RenewGrace: d(1), AutoRenewGrace: d(2), TransferGrace: d(3),
		Redemption: d(4), PendingDelete: d(5), TransferLock: d(6), TransferWait: d(7),
		NegativeTTL: uint32(neg), DelegationTTL: uint32(del), CreateApproval: approval}
	return t, err
}

// ConfigureTLD creates the TLD, with its zone on a delegation set of its
// own, or updates its prices and policy. The zone's SOA carries the
// negative TTL; pool names inside the TLD are delegated with glue, so that
// resolvers find the fleet through it.
func (r *Registry) ConfigureTLD(ctx context.Context, name string, prices Prices, pol Policy) (TLD, error) {
	tld, err := zonecfg.CanonicalName(name)
	if err != nil || tld == "." {
		return TLD{}, errorf(ErrParameterPolicy, "%q is not a valid TLD", name)
	}
	if prices.Currency == "" {
		prices.Currency = "USD"
	}
	if len(prices.Currency) != 3 || prices.Register < 0 || prices.Renew < 0 || prices.Transfer < 0 || prices.Restore < 0 {
		return TLD{}, errorf(ErrParameterRange, "prices must be non-negative with a three-letter currency")
	}
	if pol.NegativeTTL == 0 || pol.DelegationTTL == 0 {
		return TLD{}, errorf(ErrParameterRange, "negative_ttl and delegation_ttl must be positive")
	}
	// Domain.Expired tells an auto-renewed domain from an expired one by
	// the grace period ending before a year has passed.
	if pol.AutoRenewGrace <= 0 || pol.AutoRenewGrace >= 365*24*time.Hour {
		return TLD{}, errorf(ErrParameterRange, "auto_renew_grace must be positive and shorter than a year")
	}
	_, err = r.Do(ctx, func(ctx context.Context, tx *Tx) error {
		q := tx.zt.Tx()
		var zoneID string
		err := q.QueryRow(ctx, `SELECT zone_id FROM registry_tld WHERE tld = $1 FOR UPDATE`, tld).Scan(&zoneID)
		now := r.Now()
		var nameServers []string
		if errors.Is(err, pgx.ErrNoRows) {
			z, _, err := tx.zt.CreateTLDZone(ctx, r.tenantID, controlplane.CreateZoneInput{
				Name: tld, CallerReference: "tld:" + tld, Comment: "registry zone of " + tld,
			})
			if err != nil {
				return err
			}
			zoneID, nameServers = z.ID, z.NameServers
			if _, err := q.Exec(ctx, `INSERT INTO registry_tld (tld, zone_id, currency, price_register, price_renew, price_transfer, price_restore, created_at)
			                          VALUES ($1, $2, $3, 0, 0, 0, 0, $4)`, tld, zoneID, prices.Currency, now); err != nil {
				return err
			}
			if err := tx.publishFleet(ctx, tld, zoneID, pol.DelegationTTL); err != nil {
				return err
			}
		} else if err != nil {
			return err
		} else if err := q.QueryRow(ctx, `SELECT d.name_servers FROM hosted_zone z JOIN delegation_set d ON d.id = z.delegation_set_id WHERE z.id = $1`,
			zoneID).Scan(&nameServers); err != nil {
			return err
		}
		sec := func(d time.Duration) int64 { return int64(d / time.Second) }
		if _, err := q.Exec(ctx, `UPDATE registry_tld SET currency = $2, price_register = $3, price_renew = $4, price_transfer = $5, price_restore = $6,
		        add_grace = $7, renew_grace = $8, autorenew_grace = $9, transfer_grace = $10, redemption = $11, pending_delete = $12,
		        transfer_lock = $13, transfer_wait = $14, negative_ttl = $15, delegation_ttl = $16, create_approval = $17 WHERE tld = $1`,
			tld, prices.Currency, prices.Register, prices.Renew, prices.Transfer, prices.Restore,
			sec(pol.AddGrace), sec(pol.RenewGrace), sec(pol.AutoRenewGrace), sec(pol.TransferGrace), sec(pol.Redemption),
			sec(pol.PendingDelete), sec(pol.TransferLock), sec(pol.TransferWait), int64(pol.NegativeTTL), int64(pol.DelegationTTL), pol.CreateApproval); err != nil {
			return err
		}
		// The SOA minimum is the negative TTL (RFC 2308); the serial is
		// the zone's version whatever this says.
		soa := fmt.Sprintf("%s hostmaster.%s 1 7200 900 1209600 %d", nameServers[0], tld, pol.NegativeTTL)
		return tx.change(ctx, zoneID, "negative TTL of "+tld, []controlplane.RRSetChange{{
			Action: controlplane.ActionUpsert,
			RRSet:  zonecfg.RRSet{Name: tld, Type: "SOA", TTL: pol.NegativeTTL, Records: []string{soa}},
		}})
	})
	if err != nil {
		return TLD{}, err
	}
	return r.TLD(ctx, tld)
}

// publishFleet delegates each pool domain inside tld to the pool names in
// it, with their addresses as glue.
func (tx *Tx) publishFleet(ctx context.Context, tld, zoneID string, ttl uint32) error {
	var changes []controlplane.RRSetChange
	for _, dom := range tx.r.cfg.Pool.Domains() {
		if dom == tld || !strings.HasSuffix(dom, "."+tld) {
			continue
		}
		var ns []string
		for _, s := range tx.r.cfg.Pool.Servers {
			if nspool.Parent(s.Name) != dom {
				continue
			}
			ns = append(ns, s.Name)
			var a, aaaa []string
			for _, ad := range s.Addrs {
				if ad.Is4() {
					a = append(a, ad.String())
				} else {
					aaaa = append(aaaa, ad.String())
				}
			}
			for typ, recs := range map[string][]string{"A": a, "AAAA": aaaa} {
				if len(recs) > 0 {
					changes = append(changes, controlplane.RRSetChange{Action: controlplane.ActionUpsert,
						RRSet: zonecfg.RRSet{Name: s.Name, Type: typ, TTL: ttl, Records: recs}})
				}
			}
		}
		changes = append(changes, controlplane.RRSetChange{Action: controlplane.ActionUpsert,
			RRSet: zonecfg.RRSet{Name: dom, Type: "NS", TTL: ttl, Records: ns}})
	}
	if len(changes) == 0 {
		return nil
	}
	return tx.change(ctx, zoneID, "the fleet's own domain", changes)
}

// Batch makes the transaction collect its TLD zone changes until Flush,
// which the caller must call before committing.
func (tx *Tx) Batch() { tx.batch = true }

// Flush applies the TLD zone changes collected since Batch, as few change
// batches per zone as Route 53's limits allow.
func (tx *Tx) Flush(ctx context.Context) error {
	for _, zoneID := range tx.zones {
		changes := tx.pending[zoneID]
		for len(changes) > 0 {
			n := batchPrefix(changes)
			if err := tx.change(ctx, zoneID, fmt.Sprintf("lifecycle of %d delegations", n), changes[:n]); err != nil {
				return err
			}
			changes = changes[n:]
		}
	}
	tx.pending, tx.zones = nil, nil
	return nil
}

// batchPrefix returns how many of changes fit into one change batch:
// below controlplane's record and character limits, an UPSERT counting
// twice, and at least one.
func batchPrefix(changes []controlplane.RRSetChange) int {
	const maxRecords, maxChars = controlplane.MaxBatchRecords - 100, controlplane.MaxBatchChars - 2000
	records, chars := 0, 0
	for i, c := range changes {
		w := 1
		if c.Action == controlplane.ActionUpsert {
			w = 2
		}
		records += w * len(c.RRSet.Records)
		for _, v := range c.RRSet.Records {
			chars += w * len(v)
		}
		if i > 0 && (records > maxRecords || chars > maxChars) {
			return i
		}
	}
	return len(changes)
}

// queue applies changes to a TLD zone now, or collects them in batch mode.
func (tx *Tx) queue(ctx context.Context, zoneID, comment string, changes []controlplane.RRSetChange) error {
	if !tx.batch {
		return tx.change(ctx, zoneID, comment, changes)
	}
	if tx.pending == nil {
		tx.pending = map[string][]controlplane.RRSetChange{}
	}
	if _, ok := tx.pending[zoneID]; !ok {
		tx.zones = append(tx.zones, zoneID)
	}
	tx.pending[zoneID] = append(tx.pending[zoneID], changes...)
	return nil
}

// change applies changes to a TLD zone and records the change id.
func (tx *Tx) change(ctx context.Context, zoneID, comment string, changes []controlplane.RRSetChange) error {
	info, err := tx.zt.ChangeRRSets(ctx, tx.r.tenantID, zoneID, controlplane.ChangeBatch{Comment: comment, Changes: changes})
	if err != nil {
		return fmt.Errorf("change TLD zone: %w", err)
	}
	tx.changes = append(tx.changes, info.ID)
	return nil
}

// TLD returns one TLD.
func (r *Registry) TLD(ctx context.Context, name string) (TLD, error) {
	tld, err := zonecfg.CanonicalName(name)
	if err != nil {
		return TLD{}, errorf(ErrUnimplementedObject, "%q is not a TLD of this registry", name)
	}
	t, err := r.tld(ctx, r.db, tld)
	if err != nil {
		return TLD{}, err
	}
	t.DS, err = r.trustAnchors(ctx, t)
	return t, err
}

// tld reads a canonical TLD through q: inside a transaction, its own
// connection (a second one from the pool could deadlock under load).
func (r *Registry) tld(ctx context.Context, q querier, tld string) (TLD, error) {
	t, err := scanTLD(q.QueryRow(ctx, `SELECT `+tldColumns+` FROM registry_tld t WHERE t.tld = $1`, tld))
	if errors.Is(err, pgx.ErrNoRows) {
		return TLD{}, errorf(ErrUnimplementedObject, "%s is not a TLD of this registry", tld)
	}
	return t, err
}

// TLDs lists the registry's TLDs by name.
func (r *Registry) TLDs(ctx context.Context) ([]TLD, error) {
	rows, err := r.db.Query(ctx, `SELECT `+tldColumns+` FROM registry_tld t ORDER BY t.tld`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TLD
	for rows.Next() {
		t, err := scanTLD(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	for i := range out {
		if out[i].DS, err = r.trustAnchors(ctx, out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// NameRule is a reserved or premium label of a TLD.
type NameRule struct {
	TLD   string `json:"tld"`
	Label string `json:"label"`
	// Kind is "reserved" or "premium".
	Kind string `json:"kind"`
	// Price is a premium name's yearly price.
	Price int64 `json:"price,omitempty"`
}

// SetNameRule reserves a label or makes it premium; kind "" removes the rule.
func (r *Registry) SetNameRule(ctx context.Context, rule NameRule) error {
	tld, err := r.TLD(ctx, rule.TLD)
	if err != nil {
		return err
	}
	label := strings.ToLower(rule.Label)
	if !validLabel(label) {
		return errorf(ErrParameterPolicy, "%q is not a valid label", rule.Label)
	}
	switch rule.Kind {
	case "":
		_, err = r.db.Exec(ctx, `DELETE FROM registry_name_rule WHERE tld = $1 AND label = $2`, tld.Name, label)
	case "reserved", "premium":
		if rule.Kind == "premium" && rule.Price <= 0 {
			return errorf(ErrParameterRange, "a premium name needs a positive price")
		}
		var price *int64
		if rule.Kind == "premium" {
			price = &rule.Price
		}
		_, err = r.db.Exec(ctx, `INSERT INTO registry_name_rule (tld, label, kind, price) VALUES ($1, $2, $3, $4)
		         ON CONFLICT (tld, label) DO UPDATE SET kind = EXCLUDED.kind, price = EXCLUDED.price`, tld.Name, label, rule.Kind, price)
	default:
		return errorf(ErrParameterPolicy, "kind must be reserved or premium")
	}
	return err
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newToken returns n random bytes in base32.
func (r *Registry) newToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r.cfg.Rand, b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return idEncoding.EncodeToString(b), nil
}
