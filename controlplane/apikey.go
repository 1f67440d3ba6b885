package controlplane

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// API key tokens.
//
// A key has a public id (AKW + 16 base32 characters) and a secret (30
// random bytes, 40 characters of unpadded base64url). The id/secret pair is
// what AWS SigV4 will sign with later; for bearer authentication the two are
// joined into one token:
//
//	wmk_<key id>_<secret>     e.g. wmk_AKWM3T6K2Q7ZB4C5XYA_3q2-7w…
//
// The key id never contains '_', so the token splits at the second '_'.
// The secret may contain '_' and '-'.
//
// Secrets are stored encrypted with AES-256-GCM under the operator's master
// key (a fresh 12-byte nonce per key, the key id as additional data so a
// ciphertext cannot be moved to another row), never hashed only: SigV4
// needs the secret itself. They are never logged and compared in constant
// time.
const (
	// TokenPrefix starts every API key token.
	TokenPrefix = "wmk_"
	// MaxKeyDescriptionLength bounds an API key's description.
	MaxKeyDescriptionLength = 256

	secretBytes = 30
	// lastUsedResolution is how stale last_used_at may get: it is written
	// at most once per key per interval, so authentication costs a write
	// only once a minute per key rather than on every request.
	lastUsedResolution = time.Minute
	// maxBearerLength rejects absurd headers before any parsing.
	maxBearerLength = 4096
)

// APIKey describes an API key without its secret.
type APIKey struct {
	ID          string
	TenantID    string
	Description string
	CreatedAt   time.Time
	// LastUsedAt is when the key last authenticated a request, to within
	// a minute; nil if it never has.
	LastUsedAt *time.Time
}

// NewAPIKey is a key just created: the only time its secret is shown.
type NewAPIKey struct {
	APIKey
	// Secret is the key's secret, for AWS SigV4 signing.
	Secret string
	// Token is the whole bearer token, the string after
	// "Authorization: Bearer ": TokenPrefix + ID + "_" + Secret.
	Token string
}

// Principal is an authenticated caller.
type Principal struct {
	TenantID string
	// KeyID is the API key that authenticated the request, directly or
	// through a token issued for it.
	KeyID string
	// ViaToken is true when the caller presented a JWT from IssueToken
	// rather than the API key itself.
	ViaToken bool
}

// CreateAPIKey adds an API key to a tenant; a tenant has at most
// DefaultKeyQuota keys (CodeTooManyKeys).
func (s *Service) CreateAPIKey(ctx context.Context, tenantID, description string) (NewAPIKey, error) {
	if err := validateKeyDescription(description); err != nil {
		return NewAPIKey{}, err
	}
	var key NewAPIKey
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		n, err := lockTenantKeys(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		if n >= DefaultKeyQuota {
			return Errorf(CodeTooManyKeys, "a tenant may have at most %d API keys; delete one first", DefaultKeyQuota)
		}
		key, err = s.insertAPIKey(ctx, tx, tenantID, description)
		return err
	})
	if err != nil {
		return NewAPIKey{}, err
	}
	return key, nil
}

// ListAPIKeys returns a tenant's keys, oldest first, without secrets.
func (s *Service) ListAPIKeys(ctx context.Context, tenantID string) ([]APIKey, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT id, tenant_id, description, created_at, last_used_at
		   FROM api_key WHERE tenant_id = $1 ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("select api keys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (APIKey, error) {
		var k APIKey
		err := row.Scan(&k.ID, &k.TenantID, &k.Description, &k.CreatedAt, &k.LastUsedAt)
		k.CreatedAt = k.CreatedAt.UTC()
		if k.LastUsedAt != nil {
			t := k.LastUsedAt.UTC()
			k.LastUsedAt = &t
		}
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("select api keys: %w", err)
	}
	if keys == nil {
		keys = []APIKey{}
	}
	return keys, nil
}

// DeleteAPIKey deletes one of a tenant's keys. It stops working at once,
// and so do the tokens issued for it. Another tenant's key answers like a
// missing one (CodeNoSuchKey). The tenant's last key cannot be deleted
// (CodeInvalidInput): without a key the tenant could never authenticate
// again, and only the operator could help; create a new key first.
func (s *Service) DeleteAPIKey(ctx context.Context, tenantID, keyID string) error {
	// Forgotten before and after the commit: a request authenticated in
	// between may cache the key again, and must not keep it.
	s.auth.forgetKey(keyID)
	defer s.auth.forgetKey(keyID)
	return s.inTx(ctx, func(tx pgx.Tx) error {
		n, err := lockTenantKeys(ctx, tx, tenantID)
		if err != nil {
			if IsCode(err, CodeNoSuchTenant) {
				return errNoSuchKey(keyID)
			}
			return err
		}
		var one int
		err = tx.QueryRow(ctx, `SELECT 1 FROM api_key WHERE id = $1 AND tenant_id = $2`, keyID, tenantID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoSuchKey(keyID)
		}
		if err != nil {
			return fmt.Errorf("select api key: %w", err)
		}
		if n <= 1 {
			return Errorf(CodeInvalidInput, "cannot delete the last API key of a tenant; create another key first")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM api_key WHERE id = $1 AND tenant_id = $2`, keyID, tenantID); err != nil {
			return fmt.Errorf("delete api key: %w", err)
		}
		return nil
	})
}

// KeySecret returns the tenant and the decrypted secret of an API key, for
// verifying AWS SigV4 signatures (CodeNoSuchKey if there is no such key).
func (s *Service) KeySecret(ctx context.Context, keyID string) (tenantID, secret string, err error) {
	row, err := s.keyRow(ctx, keyID)
	if err != nil {
		return "", "", err
	}
	sec, err := s.openSecret(keyID, row.nonce, row.enc)
	if err != nil {
		return "", "", err
	}
	return row.tenantID, string(sec), nil
}

// Authenticate checks a bearer token, either an API key token (see
// TokenPrefix) or a JWT from IssueToken, and returns who it belongs to.
// Any failure is CodeUnauthorized with the same message, so that callers
// learn nothing about which part was wrong. It costs one primary-key read,
// plus a write at most once a minute per key (last_used_at).
func (s *Service) Authenticate(ctx context.Context, bearer string) (Principal, error) {
	if len(bearer) == 0 || len(bearer) > maxBearerLength {
		return Principal{}, errUnauthorized()
	}
	if rest, ok := strings.CutPrefix(bearer, TokenPrefix); ok {
		now := s.cfg.NowFunc()
		if p, ok := s.auth.get(bearer, now); ok {
			return p, nil
		}
		keyID, secret, ok := strings.Cut(rest, "_")
		if !ok || !plausibleKeyID(keyID) || secret == "" {
			return Principal{}, errUnauthorized()
		}
		row, err := s.keyRow(ctx, keyID)
		if err != nil {
			return Principal{}, unauthorizedUnlessInternal(err)
		}
		want, err := s.openSecret(keyID, row.nonce, row.enc)
		if err != nil {
			return Principal{}, err
		}
		if subtle.ConstantTimeCompare(want, []byte(secret)) != 1 {
			return Principal{}, errUnauthorized()
		}
		s.touchKey(ctx, keyID, row.lastUsed)
		p := Principal{TenantID: row.tenantID, KeyID: keyID}
		s.auth.put(bearer, p, now)
		return p, nil
	}
	if strings.Count(bearer, ".") == 2 {
		return s.authenticateToken(ctx, bearer)
	}
	return Principal{}, errUnauthorized()
}

// keyRow is what authentication needs of an api_key row.
type keyRow struct {
	tenantID   string
	nonce, enc []byte
	lastUsed   *time.Time
}

func (s *Service) keyRow(ctx context.Context, keyID string) (keyRow, error) {
	var r keyRow
	err := s.pool.QueryRow(ctx,
		`SELECT tenant_id, secret_nonce, secret_enc, last_used_at FROM api_key WHERE id = $1`, keyID).
		Scan(&r.tenantID, &r.nonce, &r.enc, &r.lastUsed)
	if errors.Is(err, pgx.ErrNoRows) {
		return keyRow{}, errNoSuchKey(keyID)
	}
	if err != nil {
		return keyRow{}, fmt.Errorf("select api key: %w", err)
	}
	return r, nil
}

// touchKey records that the key was used, if the stored time is more than
// lastUsedResolution old. A failure is logged, not returned: it must not
// fail the request it is bookkeeping for.
func (s *Service) touchKey(ctx context.Context, keyID string, last *time.Time) {
	now := s.now()
	if last != nil && now.Sub(*last) < lastUsedResolution {
		return
	}
	if _, err := s.pool.Exec(ctx,
		`UPDATE api_key SET last_used_at = $2
		  WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)`,
		keyID, now, now.Add(-lastUsedResolution)); err != nil {
		s.log.WarnContext(ctx, "update api key last_used_at", "key_id", keyID, "err", err)
	}
}

// insertAPIKey creates a key for tenantID inside tx.
func (s *Service) insertAPIKey(ctx context.Context, tx pgx.Tx, tenantID, description string) (NewAPIKey, error) {
	id, err := s.newID(prefixKey)
	if err != nil {
		return NewAPIKey{}, err
	}
	raw := make([]byte, secretBytes)
	if _, err := io.ReadFull(s.cfg.Rand, raw); err != nil {
		return NewAPIKey{}, fmt.Errorf("read random secret: %w", err)
	}
	secret := base64.RawURLEncoding.EncodeToString(raw)
	nonce, enc, err := s.sealSecret(id, []byte(secret))
	if err != nil {
		return NewAPIKey{}, err
	}
	now := s.now()
	if _, err := tx.Exec(ctx,
		`INSERT INTO api_key (id, tenant_id, secret_nonce, secret_enc, description, created_at)
		 VALUES ($1, $2, $3, $4, $5, $6)`,
		id, tenantID, nonce, enc, description, now); err != nil {
		return NewAPIKey{}, fmt.Errorf("insert api key: %w", err)
	}
	return NewAPIKey{
		APIKey: APIKey{ID: id, TenantID: tenantID, Description: description, CreatedAt: now},
		Secret: secret,
		Token:  TokenPrefix + id + "_" + secret,
	}, nil
}

// lockTenantKeys locks the tenant's row, which serialises key creation and
// deletion per tenant (quota and last-key checks stay exact under
// concurrency), and returns how many keys the tenant has.
func lockTenantKeys(ctx context.Context, tx pgx.Tx, tenantID string) (int, error) {
	var id string
	err := tx.QueryRow(ctx, `SELECT id FROM tenant WHERE id = $1 FOR UPDATE`, tenantID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, Errorf(CodeNoSuchTenant, "no tenant found with id %s", tenantID)
	}
	if err != nil {
		return 0, fmt.Errorf("lock tenant: %w", err)
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM api_key WHERE tenant_id = $1`, tenantID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count api keys: %w", err)
	}
	return n, nil
}

func (s *Service) aead() (cipher.AEAD, error) {
	block, err := aes.NewCipher(s.cfg.MasterKey)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return cipher.NewGCM(block)
}

func (s *Service) sealSecret(keyID string, secret []byte) (nonce, enc []byte, err error) {
	gcm, err := s.aead()
	if err != nil {
		return nil, nil, err
	}
	nonce = make([]byte, gcm.NonceSize())
	if _, err := io.ReadFull(s.cfg.Rand, nonce); err != nil {
		return nil, nil, fmt.Errorf("read random nonce: %w", err)
	}
	return nonce, gcm.Seal(nil, nonce, secret, []byte(keyID)), nil
}

// openSecret decrypts a stored secret. A failure means the master key is
// wrong or the row was tampered with: an internal error, not a bad request.
func (s *Service) openSecret(keyID string, nonce, enc []byte) ([]byte, error) {
	gcm, err := s.aead()
	if err != nil {
		return nil, err
	}
	if len(nonce) != gcm.NonceSize() {
		return nil, fmt.Errorf("decrypt secret of key %s: bad nonce length", keyID)
	}
	sec, err := gcm.Open(nil, nonce, enc, []byte(keyID))
	if err != nil {
		return nil, fmt.Errorf("decrypt secret of key %s (wrong master key?): %w", keyID, err)
	}
	return sec, nil
}

// plausibleKeyID checks the shape of a key id before touching the database.
func plausibleKeyID(id string) bool {
	if len(id) != len(prefixKey)+16 || !strings.HasPrefix(id, prefixKey) {
		return false
	}
	for _, c := range id[len(prefixKey):] {
		if !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

func validateKeyDescription(d string) error {
	if len(d) > MaxKeyDescriptionLength || !utf8.ValidString(d) {
		return &Error{Code: CodeInvalidInput, Message: "invalid API key description",
			Details: []Detail{{Field: "description", Message: fmt.Sprintf("at most %d bytes of UTF-8", MaxKeyDescriptionLength)}}}
	}
	return nil
}

func errNoSuchKey(id string) *Error {
	return Errorf(CodeNoSuchKey, "no API key found with id %s", id)
}

func errUnauthorized() *Error {
	return Errorf(CodeUnauthorized, "missing or invalid credentials")
}

// unauthorizedUnlessInternal turns a lookup's "not found" into the single
// Unauthorized answer and passes internal failures through.
func unauthorizedUnlessInternal(err error) error {
	if _, ok := AsError(err); ok {
		return errUnauthorized()
	}
	return err
}

// TokenKeyID returns the key id an API key token names, without any
// database or cryptographic work, or "" if bearer is not shaped like one
// (a JWT, garbage). The HTTP layer throttles failed authentication by it.
func TokenKeyID(bearer string) string {
	rest, ok := strings.CutPrefix(bearer, TokenPrefix)
	if !ok {
		return ""
	}
	keyID, _, _ := strings.Cut(rest, "_")
	if !plausibleKeyID(keyID) {
		return ""
	}
	return keyID
}
