package controlplane

import (
	"context"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Tokens from POST /v1/tokens are JWTs signed with HS256 under
// Config.JWTKey. Claims: iss "waymark", sub the tenant id, key_id the API
// key they were issued for, iat and exp (now + Config.TokenTTL). Only HS256
// is accepted when verifying; exp is required. A token is honoured only
// while its API key still exists, so deleting a key revokes its tokens.
const tokenIssuer = "waymark"

// tokenClaims are the claims of a Waymark JWT.
type tokenClaims struct {
	KeyID string `json:"key_id"`
	jwt.RegisteredClaims
}

// IssueToken returns a short-lived JWT for p. Only a caller that
// authenticated with an API key may get one (CodeForbidden otherwise), so a
// token cannot be used to extend its own life.
func (s *Service) IssueToken(ctx context.Context, p Principal) (token string, expires time.Time, err error) {
	if p.ViaToken {
		return "", time.Time{}, Errorf(CodeForbidden, "tokens can only be issued to a caller using an API key")
	}
	row, err := s.keyRow(ctx, p.KeyID)
	if err != nil {
		return "", time.Time{}, unauthorizedUnlessInternal(err)
	}
	if row.tenantID != p.TenantID {
		return "", time.Time{}, errUnauthorized()
	}
	now := s.now().Truncate(time.Second)
	expires = now.Add(s.cfg.TokenTTL)
	claims := tokenClaims{
		KeyID: p.KeyID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    tokenIssuer,
			Subject:   p.TenantID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(expires),
		},
	}
	token, err = jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.cfg.JWTKey)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return token, expires, nil
}

// authenticateToken verifies a JWT and checks that its key still exists
// and still belongs to its tenant.
func (s *Service) authenticateToken(ctx context.Context, raw string) (Principal, error) {
	var claims tokenClaims
	_, err := jwt.ParseWithClaims(raw, &claims,
		func(*jwt.Token) (any, error) { return s.cfg.JWTKey, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(tokenIssuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now),
	)
	if err != nil || claims.Subject == "" || !plausibleKeyID(claims.KeyID) {
		return Principal{}, errUnauthorized()
	}
	row, err := s.keyRow(ctx, claims.KeyID)
	if err != nil {
		return Principal{}, unauthorizedUnlessInternal(err)
	}
	if row.tenantID != claims.Subject {
		return Principal{}, errUnauthorized()
	}
	s.touchKey(ctx, claims.KeyID, row.lastUsed)
	return Principal{TenantID: claims.Subject, KeyID: claims.KeyID, ViaToken: true}, nil
}
