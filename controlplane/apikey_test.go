package controlplane

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/waymark-dns/waymark/internal/pgtest"
)

// authClock is a settable clock for the authentication tests.
type authClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *authClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *authClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newAuthTestService returns a Service on a fresh schema with a settable clock.
func newAuthTestService(t *testing.T) (*Service, *authClock) {
	t.Helper()
	pool, _ := pgtest.Schema(t)
	clock := &authClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	s, err := New(pool, Config{
		MasterKey: []byte(strings.Repeat("m", 32)),
		JWTKey:    []byte(strings.Repeat("j", 32)),
		TokenTTL:  10 * time.Minute,
		NowFunc:   clock.Now,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, clock
}

func wantCode(t *testing.T, err error, code Code) {
	t.Helper()
	if !IsCode(err, code) {
		t.Fatalf("got error %v, want code %s", err, code)
	}
}

func TestIntegrationCreateTenant(t *testing.T) {
	t.Parallel()
	s, _ := newAuthTestService(t)
	ctx := context.Background()

	tn, key, err := s.CreateTenant(ctx, "Acme")
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	if !strings.HasPrefix(tn.ID, prefixTenant) || tn.Name != "Acme" {
		t.Errorf("got tenant %+v", tn)
	}
	if key.TenantID != tn.ID || !strings.HasPrefix(key.ID, prefixKey) || len(key.Secret) != 40 {
		t.Errorf("got key %+v", key.APIKey)
	}
	if want := "wmk_" + key.ID + "_" + key.Secret; key.Token != want {
		t.Errorf("got token %q, want %q", key.Token, want)
	}

	got, err := s.TenantByName(ctx, "aCME")
	if err != nil || got.ID != tn.ID {
		t.Errorf("TenantByName: got %+v, %v", got, err)
	}
	_, err = s.TenantByName(ctx, "nobody")
	wantCode(t, err, CodeNoSuchTenant)

	for _, tc := range []struct {
		name string
		code Code
	}{
		{"ACME", CodeTenantAlreadyExists},
		{"", CodeInvalidInput},
		{"has space", CodeInvalidInput},
		{strings.Repeat("a", MaxTenantNameLength+1), CodeInvalidInput},
	} {
		_, _, err := s.CreateTenant(ctx, tc.name)
		wantCode(t, err, tc.code)
	}
}

func TestIntegrationAPIKeys(t *testing.T) {
	t.Parallel()
	s, clock := newAuthTestService(t)
	ctx := context.Background()
	a, first, err := s.CreateTenant(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	b, bKey, err := s.CreateTenant(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}

	// The last key cannot be deleted.
	wantCode(t, s.DeleteAPIKey(ctx, a.ID, first.ID), CodeInvalidInput)
	// Another tenant's key answers like a missing one.
	wantCode(t, s.DeleteAPIKey(ctx, a.ID, bKey.ID), CodeNoSuchKey)
	wantCode(t, s.DeleteAPIKey(ctx, a.ID, "AKWNOPE"), CodeNoSuchKey)
	wantCode(t, s.DeleteAPIKey(ctx, "TNOPE", first.ID), CodeNoSuchKey)

	clock.Advance(time.Second) // list order is by creation time
	second, err := s.CreateAPIKey(ctx, a.ID, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if second.Secret == first.Secret || second.ID == first.ID {
		t.Fatal("keys must differ")
	}
	keys, err := s.ListAPIKeys(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != first.ID || keys[1].ID != second.ID || keys[1].Description != "ci" {
		t.Fatalf("got keys %+v", keys)
	}
	if bs, _ := s.ListAPIKeys(ctx, b.ID); len(bs) != 1 || bs[0].ID != bKey.ID {
		t.Fatalf("tenant b sees %+v", bs)
	}

	tid, sec, err := s.KeySecret(ctx, second.ID)
	if err != nil || tid != a.ID || sec != second.Secret {
		t.Fatalf("KeySecret: got %s %q %v", tid, sec, err)
	}
	_, _, err = s.KeySecret(ctx, "AKWAAAAAAAAAAAAAAAA")
	wantCode(t, err, CodeNoSuchKey)

	if err := s.DeleteAPIKey(ctx, a.ID, first.ID); err != nil {
		t.Fatalf("DeleteAPIKey: %v", err)
	}
	_, err = s.Authenticate(ctx, first.Token)
	wantCode(t, err, CodeUnauthorized)

	// Quota.
	for i := 1; i < DefaultKeyQuota; i++ {
		if _, err := s.CreateAPIKey(ctx, a.ID, ""); err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
	}
	_, err = s.CreateAPIKey(ctx, a.ID, "")
	wantCode(t, err, CodeTooManyKeys)
	_, err = s.CreateAPIKey(ctx, "TNOPE", "")
	wantCode(t, err, CodeNoSuchTenant)
	_, err = s.CreateAPIKey(ctx, b.ID, strings.Repeat("d", MaxKeyDescriptionLength+1))
	wantCode(t, err, CodeInvalidInput)
}

func TestIntegrationAuthenticate(t *testing.T) {
	t.Parallel()
	s, clock := newAuthTestService(t)
	ctx := context.Background()
	tn, key, err := s.CreateTenant(ctx, "auth")
	if err != nil {
		t.Fatal(err)
	}

	p, err := s.Authenticate(ctx, key.Token)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if p != (Principal{TenantID: tn.ID, KeyID: key.ID}) {
		t.Fatalf("got %+v", p)
	}

	badSecret := key.Token[:len(key.Token)-1] + "A"
	if strings.HasSuffix(key.Token, "A") {
		badSecret = key.Token[:len(key.Token)-1] + "B"
	}
	for _, bearer := range []string{
		"", "x", "wmk_", "wmk__", "wmk_" + key.ID, "wmk_" + key.ID + "_",
		badSecret, "wmk_AKWAAAAAAAAAAAAAAAA_" + key.Secret,
		"a.b.c", strings.Repeat("x", 5000), "Bearer " + key.Token,
	} {
		_, err := s.Authenticate(ctx, bearer)
		wantCode(t, err, CodeUnauthorized)
	}

	// last_used_at is written once, then not again within a minute.
	keys, _ := s.ListAPIKeys(ctx, tn.ID)
	if keys[0].LastUsedAt == nil || !keys[0].LastUsedAt.Equal(clock.Now()) {
		t.Fatalf("got last_used_at %v, want %v", keys[0].LastUsedAt, clock.Now())
	}
	clock.Advance(30 * time.Second)
	if _, err := s.Authenticate(ctx, key.Token); err != nil {
		t.Fatal(err)
	}
	keys, _ = s.ListAPIKeys(ctx, tn.ID)
	if got, want := *keys[0].LastUsedAt, clock.Now().Add(-30*time.Second); !got.Equal(want) {
		t.Fatalf("got last_used_at %v, want unchanged %v", got, want)
	}
	clock.Advance(31 * time.Second)
	if _, err := s.Authenticate(ctx, key.Token); err != nil {
		t.Fatal(err)
	}
	keys, _ = s.ListAPIKeys(ctx, tn.ID)
	if got := *keys[0].LastUsedAt; !got.Equal(clock.Now()) {
		t.Fatalf("got last_used_at %v, want %v", got, clock.Now())
	}
}

func TestIntegrationTokens(t *testing.T) {
	t.Parallel()
	s, clock := newAuthTestService(t)
	ctx := context.Background()
	tn, key, err := s.CreateTenant(ctx, "tok")
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Authenticate(ctx, key.Token)
	if err != nil {
		t.Fatal(err)
	}
	tok, exp, err := s.IssueToken(ctx, p)
	if err != nil {
		t.Fatalf("IssueToken: %v", err)
	}
	if want := clock.Now().Add(10 * time.Minute); !exp.Equal(want) {
		t.Errorf("got expiry %v, want %v", exp, want)
	}
	tp, err := s.Authenticate(ctx, tok)
	if err != nil {
		t.Fatalf("Authenticate(token): %v", err)
	}
	if tp != (Principal{TenantID: tn.ID, KeyID: key.ID, ViaToken: true}) {
		t.Fatalf("got %+v", tp)
	}
	// A token cannot issue tokens.
	_, _, err = s.IssueToken(ctx, tp)
	wantCode(t, err, CodeForbidden)
	// A principal naming someone else's key is refused.
	_, _, err = s.IssueToken(ctx, Principal{TenantID: "TOTHER", KeyID: key.ID})
	wantCode(t, err, CodeUnauthorized)

	// Tampered and foreign tokens.
	forge := func(method jwt.SigningMethod, k any, claims jwt.Claims) string {
		t.Helper()
		s, err := jwt.NewWithClaims(method, claims).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := tokenClaims{KeyID: key.ID, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: tokenIssuer, Subject: tn.ID, ExpiresAt: jwt.NewNumericDate(clock.Now().Add(time.Minute)),
	}}
	if _, err := s.Authenticate(ctx, forge(jwt.SigningMethodHS256, s.cfg.JWTKey, good)); err != nil {
		t.Fatalf("forged-but-valid token refused: %v", err)
	}
	noExp := good
	noExp.ExpiresAt = nil
	otherTenant := good
	otherTenant.Subject = "TOTHER"
	otherIssuer := good
	otherIssuer.Issuer = "evil"
	for name, bearer := range map[string]string{
		"wrong key":    forge(jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), good),
		"HS512":        forge(jwt.SigningMethodHS512, s.cfg.JWTKey, good),
		"none":         forge(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good),
		"no exp":       forge(jwt.SigningMethodHS256, s.cfg.JWTKey, noExp),
		"other tenant": forge(jwt.SigningMethodHS256, s.cfg.JWTKey, otherTenant),
		"other issuer": forge(jwt.SigningMethodHS256, s.cfg.JWTKey, otherIssuer),
		"truncated":    tok[:len(tok)-2],
	} {
		if _, err := s.Authenticate(ctx, bearer); !IsCode(err, CodeUnauthorized) {
			t.Errorf("%s: got %v, want Unauthorized", name, err)
		}
	}

	// Expiry, through the injected clock.
	clock.Advance(10*time.Minute + time.Second)
	_, err = s.Authenticate(ctx, tok)
	wantCode(t, err, CodeUnauthorized)

	// Deleting the key revokes its tokens at once.
	clock.Advance(-time.Minute)
	if _, err := s.Authenticate(ctx, tok); err != nil {
		t.Fatalf("token should be valid again: %v", err)
	}
	if _, err := s.CreateAPIKey(ctx, tn.ID, "spare"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAPIKey(ctx, tn.ID, key.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.Authenticate(ctx, tok)
	wantCode(t, err, CodeUnauthorized)
}

// BenchmarkAuthenticate measures the per-request cost of API key
// authentication (one primary-key read and one AES-GCM open).
func BenchmarkAuthenticate(b *testing.B) {
	pool, _ := pgtest.Schema(b)
	s, err := New(pool, Config{MasterKey: make([]byte, 32), JWTKey: make([]byte, 32)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	_, key, err := s.CreateTenant(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Authenticate(ctx, key.Token); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestIntegrationKeyQuotaConcurrent checks that the quota holds when keys
// are created concurrently, and that concurrent sign-ups of one name
// leave exactly one tenant.
func TestIntegrationKeyQuotaConcurrent(t *testing.T) {
	t.Parallel()
	s, _ := newAuthTestService(t)
	ctx := context.Background()
	tn, _, err := s.CreateTenant(ctx, "busy")
	if err != nil {
		t.Fatal(err)
	}
	const n = DefaultKeyQuota + 5
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := s.CreateAPIKey(ctx, tn.ID, "")
			errs <- err
		}()
	}
	created := 1 // the initial key
	for range n {
		switch err := <-errs; {
		case err == nil:
			created++
		case !IsCode(err, CodeTooManyKeys):
			t.Errorf("unexpected error %v", err)
		}
	}
	if created != DefaultKeyQuota {
		t.Errorf("got %d keys, want exactly %d", created, DefaultKeyQuota)
	}

	tenants := make(chan error, 5)
	for range 5 {
		go func() {
			_, _, err := s.CreateTenant(ctx, "Same")
			tenants <- err
		}()
	}
	ok := 0
	for range 5 {
		switch err := <-tenants; {
		case err == nil:
			ok++
		case !IsCode(err, CodeTenantAlreadyExists):
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent creations of one name succeeded, want 1", ok)
	}
}

// TestIntegrationAuthCache: a successful authentication is remembered for
// AuthCacheTTL (a key removed behind the Service's back, as by another API
// process, works until then and not after), and DeleteAPIKey forgets it
// at once.
func TestIntegrationAuthCache(t *testing.T) {
	t.Parallel()
	s, clock := newAuthTestService(t)
	ctx := context.Background()
	tn, _, err := s.CreateTenant(ctx, "cache")
	if err != nil {
		t.Fatal(err)
	}
	elsewhere, err := s.CreateAPIKey(ctx, tn.ID, "deleted elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	here, err := s.CreateAPIKey(ctx, tn.ID, "deleted here")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []NewAPIKey{elsewhere, here} {
		if _, err := s.Authenticate(ctx, k.Token); err != nil {
			t.Fatalf("Authenticate: %v", err)
		}
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM api_key WHERE id = $1`, elsewhere.ID); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Authenticate(ctx, elsewhere.Token); err != nil || p.KeyID != elsewhere.ID {
		t.Fatalf("within the TTL: %+v, %v; want the cached principal", p, err)
	}
	if err := s.DeleteAPIKey(ctx, tn.ID, here.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, func() error { _, err := s.Authenticate(ctx, here.Token); return err }(), CodeUnauthorized)
	clock.Advance(DefaultAuthCacheTTL)
	wantCode(t, func() error { _, err := s.Authenticate(ctx, elsewhere.Token); return err }(), CodeUnauthorized)
}
