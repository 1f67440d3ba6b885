package controlplane

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// MaxTenantNameLength bounds a tenant's name.
const MaxTenantNameLength = 64

// Tenant is one customer account: it owns hosted zones and API keys.
type Tenant struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// pgUniqueViolation is PostgreSQL's SQLSTATE for a unique-index conflict.
const pgUniqueViolation = "23505"

// CreateTenant creates a tenant and its first API key in one transaction,
// so that a tenant never exists without a way to use it. Names are unique
// case-insensitively (CodeTenantAlreadyExists) and limited to letters,
// digits, '-', '_' and '.', at most MaxTenantNameLength characters.
func (s *Service) CreateTenant(ctx context.Context, name string) (Tenant, NewAPIKey, error) {
	name = strings.TrimSpace(name)
	if err := validateTenantName(name); err != nil {
		return Tenant{}, NewAPIKey{}, err
	}
	id, err := s.newID(prefixTenant)
	if err != nil {
		return Tenant{}, NewAPIKey{}, err
	}
	t := Tenant{ID: id, Name: name, CreatedAt: s.now()}
	var key NewAPIKey
	// An operator's or a sign-up's call has no tenant until this one: the
	// new tenant's log starts with its own creation.
	if e := AuditFrom(ctx); e != nil && e.TenantID == "" {
		e.TenantID = t.ID
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx,
			`INSERT INTO tenant (id, name, created_at) VALUES ($1, $2, $3)`,
			t.ID, t.Name, t.CreatedAt); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == pgUniqueViolation {
				return Errorf(CodeTenantAlreadyExists, "a tenant named %q already exists", name)
			}
			return fmt.Errorf("insert tenant: %w", err)
		}
		var err error
		key, err = s.insertAPIKey(ctx, tx, t.ID, "initial key")
		return err
	})
	if err != nil {
		return Tenant{}, NewAPIKey{}, err
	}
	return t, key, nil
}

// TenantByName returns the tenant with the given name, compared
// case-insensitively (CodeNoSuchTenant if there is none).
func (s *Service) TenantByName(ctx context.Context, name string) (Tenant, error) {
	var t Tenant
	err := s.pool.QueryRow(ctx,
		`SELECT id, name, created_at FROM tenant WHERE lower(name) = lower($1)`,
		strings.TrimSpace(name)).Scan(&t.ID, &t.Name, &t.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Tenant{}, Errorf(CodeNoSuchTenant, "no tenant named %q", name)
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("select tenant: %w", err)
	}
	t.CreatedAt = t.CreatedAt.UTC()
	return t, nil
}

func validateTenantName(name string) error {
	if name == "" {
		return &Error{Code: CodeInvalidInput, Message: "tenant name is required",
			Details: []Detail{{Field: "name", Message: "must not be empty"}}}
	}
	if len(name) > MaxTenantNameLength {
		return &Error{Code: CodeInvalidInput, Message: "tenant name is too long",
			Details: []Detail{{Field: "name", Message: fmt.Sprintf("at most %d characters", MaxTenantNameLength)}}}
	}
	for _, c := range name {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return &Error{Code: CodeInvalidInput, Message: fmt.Sprintf("tenant name %q has an invalid character", name),
				Details: []Detail{{Field: "name", Message: "only letters, digits, '-', '_' and '.' are allowed"}}}
		}
	}
	return nil
}
