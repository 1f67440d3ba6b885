package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/internal/natstest"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/nspool"
	"github.com/waymark-dns/waymark/registrar"
	"github.com/waymark-dns/waymark/registrar/epp"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// TestIntegrationRegistrarAvailabilityAtExternalRegistry: a registrar
// over a database of its own sells wmk., a TLD of a separate `waymark
// registry` process, configured as an external registry with its EPP
// login (sealed). Availability goes to that registry over EPP: a free
// name is AVAILABLE at the registrar's price, a name another registrar
// created there is UNAVAILABLE, a name the TLD cannot hold is refused
// before any EPP, a registered name is transferable (its registry
// decides, with the auth code) at the operator's transfer price, and a
// wrong password is RegistryUnavailable.
func TestIntegrationRegistrarAvailabilityAtExternalRegistry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := startRegistryProcess(t)

	// Another registrar takes a name at the registry.
	b := p.dial(t, p.certs["reg-b"])
	if err := b.Login(ctx, "reg-b", "secret-b", ""); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateContact(ctx, epp.Contact{ID: "owner2", Email: "o@example.test", AuthInfo: "2fooBAR!",
		Postal: []epp.Postal{{Type: "int", Name: "O Wner", City: "Oslo", CC: "NO"}}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.CreateDomain(ctx, epp.DomainCreate{Name: "taken.wmk", Years: 1, Registrant: "owner2", AuthInfo: "code-Right1"}); err != nil {
		t.Fatal(err)
	}

	// Our registrar, over a database of its own.
	db, _ := pgtest.Schema(t)
	pool, err := nspool.Parse("ns1.waymark.example.=127.0.92.1,ns2.waymark.example.=127.0.92.2", 2)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := controlplane.New(db, controlplane.Config{MasterKey: []byte(strings.Repeat("k", 32)), JWTKey: []byte(strings.Repeat("j", 32)), Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Open(ctx, db, cp, registry.Config{Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := registrar.New(ctx, db, cp, reg, registrar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	read := func(f string) string {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	in := registrar.ExternalInput{EPPAddress: p.eppAddr, ClientID: "reg-a", Password: "secret-a", ClientCertPEM: read(p.certFiles["reg-a"]),
		ClientKeyPEM: read(p.keyFiles["reg-a"]), CAPEM: read(p.serverCertFile), Prices: registry.Prices{Currency: "EUR", Register: 2500}}
	if _, created, err := rs.ConfigureExternal(ctx, "wmk", in); err != nil || !created {
		t.Fatalf("ConfigureExternal = %v, %v", created, err)
	}
	for _, tc := range []struct {
		name, availability string
		price              int64
	}{
		{"free.wmk", registry.Available, 2500},
		{"Taken.WMK.", registry.Unavailable, 2500},
		{"-bad.wmk", registry.InvalidNameForTLD, 0},
		{"a.b.wmk", registry.InvalidNameForTLD, 0},
	} {
		c, err := rs.Availability(ctx, tc.name)
		if err != nil || c.Availability != tc.availability || c.Price != tc.price {
			t.Errorf("Availability(%s) = %+v, %v; want %s at %d", tc.name, c, err, tc.availability, tc.price)
		}
	}
	// A name registered there: its registry decides, with the auth code.
	tr, err := rs.Transferability(ctx, "tenant-x", "taken.wmk")
	if err != nil || tr.Transferable != registrar.Transferable || !strings.Contains(tr.Message, "external registry") {
		t.Errorf("Transferability(taken.wmk) = %+v, %v", tr, err)
	}
	if tr, err := rs.Transferability(ctx, "tenant-x", "free.wmk"); err != nil || tr.Transferable != registrar.Untransferable || !strings.Contains(tr.Message, "not registered") {
		t.Errorf("Transferability(free.wmk) = %+v, %v", tr, err)
	}
	// A wrong password: the registry refuses the login.
	if _, _, err := rs.ConfigureExternal(ctx, "wmk", registrar.ExternalInput{EPPAddress: in.EPPAddress, ClientID: in.ClientID,
		Password: "wrong-pw", ClientCertPEM: in.ClientCertPEM, CAPEM: in.CAPEM, Prices: in.Prices}); err != nil {
		t.Fatal(err)
	}
	var re *registrar.Error
	if _, err := rs.Availability(ctx, "free.wmk"); !errors.As(err, &re) || re.Code != registrar.CodeRegistryUnavailable {
		t.Errorf("Availability with a wrong password = %v, want RegistryUnavailable", err)
	}
}

// TestIntegrationAPIRegistersAtExternalRegistry: the control plane
// `waymark api` starts runs the external registries' worker with its
// lifecycle: a registration in wmk., a TLD of a separate `waymark
// registry` process configured as an external registry, is SUCCESSFUL
// with nothing else driving it, the domain at that registry sponsored by
// our login, charged once.
func TestIntegrationAPIRegistersAtExternalRegistry(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p := startRegistryProcess(t)
	_, dsn := pgtest.Schema(t)
	nsrv := natstest.Run(t)
	log := slog.New(slog.DiscardHandler)
	pool, err := nspool.Parse("ns1.waymark.test.,ns2.waymark.test.", 0)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := startControlPlane(ctx, controlPlaneOptions{
		DatabaseURL: dsn, NATSURL: nsrv.ClientURL(), Listen: "127.0.0.1:0", Pool: pool, PredictableSets: true,
		Secrets:  secrets{MasterKey: []byte(strings.Repeat("m", 32)), JWTKey: []byte(strings.Repeat("j", 32)), AdminToken: "ext-admin"},
		Logger:   log,
		Registry: true, Lifecycle: apiLifecycle(true, time.Second, "", log),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cp.Close)
	read := func(f string) string {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if _, _, err := cp.Registrar.ConfigureExternal(ctx, "wmk", registrar.ExternalInput{EPPAddress: p.eppAddr, ClientID: "reg-a", Password: "secret-a",
		ClientCertPEM: read(p.certFiles["reg-a"]), ClientKeyPEM: read(p.keyFiles["reg-a"]), CAPEM: read(p.serverCertFile),
		Prices: registry.Prices{Currency: "EUR", Register: 2500}}); err != nil {
		t.Fatal(err)
	}
	tenant, _, err := cp.Service.CreateTenant(ctx, "ext-buyer")
	if err != nil {
		t.Fatal(err)
	}
	op, err := cp.Registrar.Register(ctx, tenant.ID, registrar.RegisterInput{Name: "mine.wmk", Nameservers: []registrar.Nameserver{{Name: "ns.example.net"}},
		Contacts: map[string]registry.ContactInfo{registrar.RoleRegistrant: {Name: "Ada", City: "London", CountryCode: "GB", Email: "ada@example.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	if op, err = cp.Registrar.WaitOperation(ctx, tenant.ID, op.ID, time.Minute); err != nil || op.Status != registrar.StatusSuccessful {
		t.Fatalf("registration at the registry process: %+v, %v", op, err)
	}
	b := p.dial(t, p.certs["reg-b"])
	if err := b.Login(ctx, "reg-b", "secret-b", ""); err != nil {
		t.Fatal(err)
	}
	if d, err := b.InfoDomain(ctx, "mine.wmk", ""); err != nil || d.ClID != "reg-a" || len(d.NS) != 1 {
		t.Errorf("mine.wmk at the registry = %+v, %v", d, err)
	}
	if l, err := cp.Registrar.Ledger(ctx, tenant.ID, "mine.wmk"); err != nil || len(l) != 1 || l[0].Amount != 2500 {
		t.Errorf("ledger %+v, %v", l, err)
	}
}
