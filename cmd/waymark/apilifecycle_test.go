package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/internal/natstest"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/nspool"
	"github.com/waymark-dns/waymark/registrar"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// TestIntegrationAPIRunsLifecycle: the control plane `waymark api` starts
// (apiLifecycle with --lifecycle on and --mail-dir) runs the registrar
// lifecycle's leader on the system clock: a registration's registrant
// gets the verification mail, written to the mail directory, without
// anything else driving it. With --lifecycle=false there is none.
func TestIntegrationAPIRunsLifecycle(t *testing.T) {
	if apiLifecycle(false, time.Second, "", slog.Default()) != nil {
		t.Fatal("--lifecycle=false still runs a lifecycle")
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	_, dsn := pgtest.Schema(t)
	nsrv := natstest.Run(t)
	log := slog.New(slog.DiscardHandler)
	pool, err := nspool.Parse("ns1.waymark.test.,ns2.waymark.test.", 0)
	if err != nil {
		t.Fatal(err)
	}
	mailDir := t.TempDir()
	cp, err := startControlPlane(ctx, controlPlaneOptions{
		DatabaseURL: dsn, NATSURL: nsrv.ClientURL(), Listen: "127.0.0.1:0", Pool: pool, PredictableSets: true,
		Secrets:  secrets{MasterKey: []byte(strings.Repeat("m", 32)), JWTKey: []byte(strings.Repeat("j", 32)), AdminToken: "lc-admin"},
		Logger:   log,
		Registry: true, Lifecycle: apiLifecycle(true, 100*time.Millisecond, mailDir, log),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cp.Close)
	if _, err := cp.Registrar.ConfigureTLD(ctx, "test.", registry.Prices{Currency: "USD", Register: 1000, Renew: 1000, Transfer: 1000, Restore: 4000},
		registry.DefaultPolicy()); err != nil {
		t.Fatal(err)
	}
	tenant, _, err := cp.Service.CreateTenant(ctx, "lifecycle")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cp.Registrar.Register(ctx, tenant.ID, registrar.RegisterInput{Name: "lc.test", Years: 1,
		Nameservers: []registrar.Nameserver{{Name: "ns.example.net"}}, CallerReference: "lc-1",
		Contacts: map[string]registry.ContactInfo{"registrant": {Name: "Ada Lovelace", City: "London", CountryCode: "GB", Email: "ada@example.com"}},
	}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		files, _ := filepath.Glob(filepath.Join(mailDir, "*-verify.eml"))
		if len(files) > 0 {
			b, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), "To: ada@example.com") || !strings.Contains(string(b), "Token: ") {
				t.Errorf("verification mail: %s", b)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no verification mail from the lifecycle within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
