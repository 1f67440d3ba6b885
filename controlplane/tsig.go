package controlplane

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/waymark-dns/waymark/dnssec"
	"github.com/waymark-dns/waymark/zonecfg"
)

// TSIG keys (RFC 8945) authenticate zone transfers. A key belongs to a
// tenant and is named like a domain name (the name in the TSIG record);
// its secret is 32 random bytes for hmac-sha256 and 64 for hmac-sha512,
// shown once at creation (base64, as Knot, NSD, BIND and PowerDNS take it)
// and stored sealed under the master key with the tenant id and key name
// as associated data. Nameservers get their own copy, wrapped under the
// fleet key per zone (transfers.go), never the plain secret.

// TSIG algorithms a key may use.
const (
	TSIGHMACSHA256 = "hmac-sha256"
	TSIGHMACSHA512 = "hmac-sha512"
)

// maxTSIGKeys bounds a tenant's keys.
const maxTSIGKeys = 100

// TSIGKey is a tenant's TSIG key as listed: never its secret.
type TSIGKey struct {
	Name      string
	Algorithm string
	CreatedAt time.Time
	// Zones are the ids of the zones whose transfer configuration uses it.
	Zones []string
}

// NewTSIGKey is a key just created, with its secret (base64).
type NewTSIGKey struct {
	TSIGKey
	Secret string
}

// CreateTSIGKey makes a key named name (a domain name) for algorithm.
func (s *Service) CreateTSIGKey(ctx context.Context, tenantID, name, algorithm string) (NewTSIGKey, error) {
	cname, err := zonecfg.CanonicalName(name)
	if err != nil || cname == "." {
		return NewTSIGKey{}, Errorf(CodeInvalidInput, "The TSIG key name must be a domain name, such as transfer.example.com.")
	}
	size := 0
	switch algorithm {
	case TSIGHMACSHA256:
		size = 32
	case TSIGHMACSHA512:
		size = 64
	default:
		return NewTSIGKey{}, Errorf(CodeInvalidInput, "The TSIG algorithm must be %s or %s.", TSIGHMACSHA256, TSIGHMACSHA512)
	}
	secret := make([]byte, size)
	if _, err := io.ReadFull(s.cfg.Rand, secret); err != nil {
		return NewTSIGKey{}, fmt.Errorf("tsig: random secret: %w", err)
	}
	defer clear(secret)
	sealed, err := dnssec.Seal(s.cfg.MasterKey, secret, tsigAD(tenantID, cname), s.cfg.Rand)
	if err != nil {
		return NewTSIGKey{}, err
	}
	now := s.now()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return NewTSIGKey{}, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM tsig_key WHERE tenant_id = $1`, tenantID).Scan(&n); err != nil {
		return NewTSIGKey{}, err
	}
	if n >= maxTSIGKeys {
		return NewTSIGKey{}, Errorf(CodeLimitsExceeded, "A tenant may have at most %d TSIG keys.", maxTSIGKeys)
	}
	_, err = tx.Exec(ctx, `INSERT INTO tsig_key (tenant_id, name, algorithm, sealed_secret, created_at) VALUES ($1, $2, $3, $4, $5)`,
		tenantID, cname, algorithm, sealed, now)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return NewTSIGKey{}, Errorf(CodeTSIGKeyAlreadyExists, "A TSIG key named %s already exists.", cname)
	}
	if err != nil {
		return NewTSIGKey{}, fmt.Errorf("tsig: insert: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return NewTSIGKey{}, err
	}
	return NewTSIGKey{TSIGKey: TSIGKey{Name: cname, Algorithm: algorithm, CreatedAt: now, Zones: []string{}},
		Secret: base64.StdEncoding.EncodeToString(secret)}, nil
}

// secondaryKeyUsers selects (zone_id, key_name) for every key a
// secondary zone of tenant $1 names among its primaries.
const secondaryKeyUsers = `SELECT DISTINCT h.id AS zone_id, p->>'tsig_key' AS key_name
	   FROM hosted_zone h, jsonb_array_elements(h.secondary->'primaries') p
	  WHERE h.tenant_id = $1 AND h.secondary IS NOT NULL`

// ListTSIGKeys returns the tenant's keys by name, without secrets, each
// with the zones that use it: in their transfer configuration or as the
// key of one of their primaries (secondary zones).
func (s *Service) ListTSIGKeys(ctx context.Context, tenantID string) ([]TSIGKey, error) {
	rows, err := s.pool.Query(ctx,
		`WITH users AS (SELECT zone_id, key_name FROM zone_tsig_key WHERE tenant_id = $1
		                UNION `+secondaryKeyUsers+`)
		 SELECT k.name, k.algorithm, k.created_at,
		        coalesce(array_agg(u.zone_id ORDER BY u.zone_id) FILTER (WHERE u.zone_id IS NOT NULL), '{}')
		   FROM tsig_key k LEFT JOIN users u ON u.key_name = k.name
		  WHERE k.tenant_id = $1 GROUP BY k.name, k.algorithm, k.created_at ORDER BY k.name`, tenantID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (TSIGKey, error) {
		var k TSIGKey
		err := row.Scan(&k.Name, &k.Algorithm, &k.CreatedAt, &k.Zones)
		k.CreatedAt = k.CreatedAt.UTC()
		return k, err
	})
}

// DeleteTSIGKey removes a key no zone uses. A transfer configuration's use
// is a foreign key; a secondary zone's is looked for after taking the
// key's row lock, which waits for a CreateZone holding it FOR SHARE, so
// the look (a new snapshot under READ COMMITTED) sees that zone.
func (s *Service) DeleteTSIGKey(ctx context.Context, tenantID, name string) error {
	cname, err := zonecfg.CanonicalName(name)
	if err != nil {
		return Errorf(CodeNoSuchTSIGKey, "No TSIG key named %q.", name)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var one int
	err = tx.QueryRow(ctx, `SELECT 1 FROM tsig_key WHERE tenant_id = $1 AND name = $2 FOR UPDATE`, tenantID, cname).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return Errorf(CodeNoSuchTSIGKey, "No TSIG key named %s.", cname)
	}
	if err != nil {
		return err
	}
	var zone string
	err = tx.QueryRow(ctx, `SELECT zone_id FROM (`+secondaryKeyUsers+`) u WHERE key_name = $2 ORDER BY zone_id LIMIT 1`,
		tenantID, cname).Scan(&zone)
	if err == nil {
		return Errorf(CodeTSIGKeyInUse, "The TSIG key %s signs the transfers of the secondary zone %s from its primaries; delete that zone first.", cname, zone)
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	_, err = tx.Exec(ctx, `DELETE FROM tsig_key WHERE tenant_id = $1 AND name = $2`, tenantID, cname)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" {
		return Errorf(CodeTSIGKeyInUse, "The TSIG key %s is used by a hosted zone's transfer configuration; remove it there first.", cname)
	}
	if err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// tsigSecret opens a tenant's key's secret inside tx.
func (s *Service) tsigSecret(ctx context.Context, tx pgx.Tx, tenantID, name string) (algorithm string, secret []byte, err error) {
	var sealed []byte
	err = tx.QueryRow(ctx, `SELECT algorithm, sealed_secret FROM tsig_key WHERE tenant_id = $1 AND name = $2 FOR SHARE`,
		tenantID, name).Scan(&algorithm, &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, Errorf(CodeNoSuchTSIGKey, "No TSIG key named %s.", name)
	}
	if err != nil {
		return "", nil, err
	}
	secret, err = dnssec.Open(s.cfg.MasterKey, sealed, tsigAD(tenantID, name))
	if err != nil {
		return "", nil, fmt.Errorf("tsig: key %s: %w", name, err)
	}
	return algorithm, secret, nil
}

// tsigAD binds a sealed secret to its tenant and key name.
func tsigAD(tenantID, name string) []byte { return []byte("tsig/" + tenantID + "/" + name) }
