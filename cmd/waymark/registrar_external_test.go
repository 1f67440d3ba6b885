package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/controlplane"
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
// before any EPP, a registered name is not transferable (transfers in
// from external registries are not built), a registration goes to the
// registry through the external worker, and a wrong password is
// RegistryUnavailable.
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
	// Transfers in from the external registry are not taken yet: said so,
	// not a missing domain.
	tr, err := rs.Transferability(ctx, "tenant-x", "taken.wmk")
	if err != nil || tr.Transferable != registrar.Untransferable || !strings.Contains(tr.Message, "external registry") {
		t.Errorf("Transferability(taken.wmk) = %+v, %v", tr, err)
	}
	if tr, err := rs.Transferability(ctx, "tenant-x", "free.wmk"); err != nil || tr.Transferable != registrar.Untransferable || !strings.Contains(tr.Message, "not registered") {
		t.Errorf("Transferability(free.wmk) = %+v, %v", tr, err)
	}
	// Registration through the external worker, at the registry
	// process: SUCCESSFUL, sponsored there by our login, one charge.
	tn, _, err := cp.CreateTenant(ctx, "ext-buyer")
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- rs.NewExternalWorker(registrar.ExternalConfig{Interval: 50 * time.Millisecond}).Run(wctx)
	}()
	op, err := rs.Register(ctx, tn.ID, registrar.RegisterInput{Name: "mine.wmk", Nameservers: []registrar.Nameserver{{Name: "ns.example.net"}},
		Contacts: map[string]registry.ContactInfo{registrar.RoleRegistrant: {Name: "Ada", City: "London", CountryCode: "GB", Email: "ada@example.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	if op, err = rs.WaitOperation(ctx, tn.ID, op.ID, time.Minute); err != nil || op.Status != registrar.StatusSuccessful {
		t.Fatalf("registration at the registry process: %+v, %v", op, err)
	}
	stop()
	<-done
	if d, err := b.InfoDomain(ctx, "mine.wmk", ""); err != nil || d.ClID != "reg-a" || len(d.NS) != 1 {
		t.Errorf("mine.wmk at the registry = %+v, %v", d, err)
	}
	if l, err := rs.Ledger(ctx, tn.ID, "mine.wmk"); err != nil || len(l) != 1 || l[0].Amount != 2500 {
		t.Errorf("ledger %+v, %v", l, err)
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
