package controlplane

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/waymark-dns/waymark/internal/pgtest"
)

// TestIntegrationKSKStepsOneConnection: deactivating, deleting and the
// checks of disabling read the parent's DS inside the zone's own
// transaction, so they complete on a pool of one connection (reading on a
// second connection while the transaction held the only one waited until
// the context ended).
func TestIntegrationKSKStepsOneConnection(t *testing.T) {
	t.Parallel()
	_, dsn := pgtest.Schema(t)
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s, err := New(pool, Config{MasterKey: []byte(strings.Repeat("m", 32)), JWTKey: []byte(strings.Repeat("j", 32)), PredictableSets: true})
	if err != nil {
		t.Fatal(err)
	}
	tenant := testTenant(t, pool)
	z, _, err := s.CreateZone(ctx, tenant, CreateZoneInput{Name: "one-conn.example.", CallerReference: "r"})
	if err != nil {
		t.Fatal(err)
	}
	// Bounded, so that a regression fails instead of hanging the run.
	bctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := s.EnableDNSSEC(bctx, tenant, z.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateKeySigningKey(bctx, tenant, z.ID, CreateKeySigningKeyInput{Name: "second_key", Status: KeyStatusActive}); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		name string
		run  func() error
	}{
		{"deactivate", func() error { _, err := s.DeactivateKeySigningKey(bctx, tenant, z.ID, "waymark_ksk_1"); return err }},
		{"delete", func() error { _, err := s.DeleteKeySigningKey(bctx, tenant, z.ID, "waymark_ksk_1"); return err }},
		{"disable", func() error { _, err := s.DisableDNSSEC(bctx, tenant, z.ID); return err }},
	} {
		if err := step.run(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
	}
}
