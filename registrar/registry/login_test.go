package registry_test

import (
	"context"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// TestCheckLogin: EPP passwords are salted Argon2id hashes; a SHA-256
// digest kept by an earlier version still logs in, once, and is then
// replaced by an Argon2id hash.
func TestCheckLogin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := pgtest.Schema(t)
	svc, err := controlplane.New(db, controlplane.Config{MasterKey: []byte(strings.Repeat("m", 32)), JWTKey: []byte(strings.Repeat("j", 32))})
	if err != nil {
		t.Fatal(err)
	}
	r, err := registry.Open(ctx, db, svc, registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.EnsureRegistrar(ctx, "reg-a", "A", "pw-of-a"); err != nil {
		t.Fatal(err)
	}
	if err := r.EnsureRegistrar(ctx, "reg-b", "B", ""); err != nil {
		t.Fatal(err)
	}
	stored := func(id string) string {
		var h []byte
		if err := db.QueryRow(ctx, `SELECT password_hash FROM registry_registrar WHERE id = $1`, id).Scan(&h); err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	if h := stored("reg-a"); !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "pw-of-a") {
		t.Fatalf("stored hash %q", h)
	}
	legacy := sha256.Sum256([]byte("pw-of-c"))
	if _, err := db.Exec(ctx, `INSERT INTO registry_registrar (id, name, password_hash, created_at) VALUES ('reg-c', 'C', $1, now())`, legacy[:]); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id, password string
		want         bool
	}{
		{"reg-a", "pw-of-a", true},
		{"reg-a", "pw-of-b", false},
		{"reg-a", "", false},
		{"reg-b", "", false},
		{"reg-b", "anything", false},
		{"nobody", "pw-of-a", false},
		{"reg-c", "pw-of-a", false},
		{"reg-c", "pw-of-c", true},
		{"reg-c", "pw-of-c", true}, // again, now from the Argon2id hash
	} {
		ok, err := r.CheckLogin(ctx, tc.id, tc.password)
		if err != nil || ok != tc.want {
			t.Fatalf("CheckLogin(%s, %q) = %v, %v; want %v", tc.id, tc.password, ok, err, tc.want)
		}
	}
	if h := stored("reg-c"); !strings.HasPrefix(h, "$argon2id$") {
		t.Fatalf("legacy hash not replaced after a login: %q", h)
	}
}
