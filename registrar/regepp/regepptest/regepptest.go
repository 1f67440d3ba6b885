// Package regepptest runs "another registry" for tests of the registrar's
// external registries: a built-in registry (registrar/registry) over a
// PostgreSQL schema of its own with TLD ext., served by our EPP server
// (registrar/epp over registrar/regepp) on a TLS listener, as a registry
// elsewhere would be. The registrar under test logs in as wm-ext; reg-b
// is another registrar of the same registry.
package regepptest

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/internal/testkit"
	"github.com/waymark-dns/waymark/nspool"
	"github.com/waymark-dns/waymark/registrar"
	"github.com/waymark-dns/waymark/registrar/epp"
	"github.com/waymark-dns/waymark/registrar/regepp"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// Registry is a running external registry.
type Registry struct {
	Registry *registry.Registry
	Control  *controlplane.Service
	// Addr is the EPP server's host:port.
	Addr string
	// Input configures it as an external TLD of a registrar
	// (Service.ConfigureExternal "ext"): the address, login wm-ext, its
	// client certificate and key, the server's certificate as CA, and
	// prices of 1200 (registration) and 1100 (renewal) USD.
	Input registrar.ExternalInput

	roots *x509.CertPool
	other tls.Certificate
}

// Start runs a registry of TLD ext. with policy pol until the test ends.
func Start(t testing.TB, pol registry.Policy) *Registry {
	t.Helper()
	ctx := context.Background()
	db, _ := pgtest.Schema(t)
	pool, err := nspool.Parse("ns1.nic.ext.=127.0.93.1,ns2.nic.ext.=127.0.93.2", 2)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := controlplane.New(db, controlplane.Config{MasterKey: []byte(strings.Repeat("x", 32)), JWTKey: []byte(strings.Repeat("y", 32)), Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Open(ctx, db, cp, registry.Config{Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.ConfigureTLD(ctx, "ext", registry.Prices{Register: 700, Renew: 700, Transfer: 700, Restore: 700}, pol); err != nil {
		t.Fatal(err)
	}
	server, serverPEM, _ := testkit.Cert(t, "epp.nic.ext", true)
	ours, oursPEM, oursKey := testkit.Cert(t, "wm-ext", false)
	other, _, _ := testkit.Cert(t, "reg-b", false)
	for id, pw := range map[string]string{"wm-ext": "secret-wm", "reg-b": "secret-b"} {
		if err := reg.EnsureRegistrar(ctx, id, id, pw); err != nil {
			t.Fatal(err)
		}
	}
	srv := &epp.Server{
		Registry: &regepp.Registry{Registry: reg, Certs: map[string][][sha256.Size]byte{
			"wm-ext": {regepp.Fingerprint(ours.Certificate[0])}, "reg-b": {regepp.Fingerprint(other.Certificate[0])}}},
		ServerID: "nic-ext",
		TLS:      &tls.Config{Certificates: []tls.Certificate{server}, ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS12},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, epp.ErrServerClosed) {
			t.Errorf("Serve = %v", err)
		}
	})
	x := &Registry{Registry: reg, Control: cp, Addr: ln.Addr().String(), roots: x509.NewCertPool(), other: other,
		Input: registrar.ExternalInput{EPPAddress: ln.Addr().String(), ClientID: "wm-ext", Password: "secret-wm",
			ClientCertPEM: oursPEM, ClientKeyPEM: oursKey, CAPEM: serverPEM, Prices: registry.Prices{Currency: "USD", Register: 1200, Renew: 1100}}}
	x.roots.AddCert(server.Leaf)
	return x
}

// Dial opens a logged-in session of reg-b, the registry's other
// registrar, closed when the test ends.
func (x *Registry) Dial(t testing.TB) *epp.Client {
	t.Helper()
	ctx := context.Background()
	cl, err := epp.Dial(ctx, x.Addr, &tls.Config{RootCAs: x.roots, Certificates: []tls.Certificate{x.other}, MinVersion: tls.VersionTLS12}, "b-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	if err := cl.Login(ctx, "reg-b", "secret-b", ""); err != nil {
		t.Fatal(err)
	}
	return cl
}

// Delegation is the NS set of name in the registry's TLD zone (nil when
// it is not delegated).
func (x *Registry) Delegation(t testing.TB, name string) []string {
	t.Helper()
	ctx := context.Background()
	tld, err := x.Registry.TLD(ctx, "ext")
	if err != nil {
		t.Fatal(err)
	}
	page, err := x.Control.ListRRSets(ctx, x.Registry.TenantID(), tld.ZoneID, controlplane.ListRRSetsInput{Name: name, Type: "NS", MaxItems: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.RRSets) == 0 || page.RRSets[0].Name != name || page.RRSets[0].Type != "NS" {
		return nil
	}
	return page.RRSets[0].Records
}
