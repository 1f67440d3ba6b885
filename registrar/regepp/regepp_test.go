package regepp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/nspool"
	"github.com/waymark-dns/waymark/registrar/epp"
	"github.com/waymark-dns/waymark/registrar/regepp"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// cert makes a self-signed certificate (for 127.0.0.1 when server).
func cert(t testing.TB, cn string, server bool) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}}
	if server {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// eppWorld is our EPP server over the built-in registry (TLD wmk., on
// real PostgreSQL, its clock now), with registrars reg-a and reg-b.
type eppWorld struct {
	reg          *registry.Registry
	dial         func(c tls.Certificate) *epp.Client
	certA, certB tls.Certificate
	other        tls.Certificate
}

func newEPPWorld(t testing.TB, now func() time.Time) *eppWorld {
	t.Helper()
	ctx := context.Background()
	db, _ := pgtest.Schema(t)
	pool, err := nspool.Parse("ns1.pool.wmk.=127.0.91.1,ns2.pool.wmk.=127.0.91.2", 2)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := controlplane.New(db, controlplane.Config{
		MasterKey: []byte(strings.Repeat("m", 32)), JWTKey: []byte(strings.Repeat("j", 32)), Pool: pool, PredictableSets: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Open(ctx, db, svc, registry.Config{Now: now, Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.ConfigureTLD(ctx, "wmk", registry.Prices{Register: 1000, Renew: 1000, Transfer: 1000, Restore: 1000}, registry.DefaultPolicy()); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"reg-a", "reg-b"} {
		if err := reg.EnsureRegistrar(ctx, r, "Registrar "+r, "secret-"+strings.TrimPrefix(r, "reg-")); err != nil {
			t.Fatal(err)
		}
	}
	sc, ca, cb, other := cert(t, "epp.wmk", true), cert(t, "reg-a", false), cert(t, "reg-b", false), cert(t, "intruder", false)
	srv := &epp.Server{
		Registry: &regepp.Registry{Registry: reg, Certs: map[string][][sha256.Size]byte{
			"reg-a": {regepp.Fingerprint(ca.Certificate[0])}, "reg-b": {regepp.Fingerprint(cb.Certificate[0])}}},
		ServerID: "waymark-test",
		TLS:      &tls.Config{Certificates: []tls.Certificate{sc}, ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS12},
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
	roots := x509.NewCertPool()
	roots.AddCert(sc.Leaf)
	dial := func(c tls.Certificate) *epp.Client {
		cl, err := epp.Dial(ctx, ln.Addr().String(), &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{c}, MinVersion: tls.VersionTLS12}, "t-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cl.Close() })
		return cl
	}
	return &eppWorld{reg: reg, dial: dial, certA: ca, certB: cb, other: other}
}

// TestEPPClientAgainstRegistry: our EPP client, over TLS with a client
// certificate, against our EPP server over the built-in registry on real
// PostgreSQL: login (refused without the registrar's certificate or with
// a wrong password), check, contact create, domain create with NS and
// DS, host create, an NS update, info with secDNS, check again, a refusal mapped to its EPP
// code, and a DS update.
func TestEPPClientAgainstRegistry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Date(2027, 1, 10, 12, 0, 0, 0, time.UTC)
	w := newEPPWorld(t, func() time.Time { return t0 })
	dial, ca, other := w.dial, w.certA, w.other
	for _, tc := range []struct {
		name string
		cert tls.Certificate
		pw   string
	}{{"another certificate", other, "secret-a"}, {"wrong password", ca, "secret-b"}} {
		if err := dial(tc.cert).Login(ctx, "reg-a", tc.pw, ""); epp.CodeOf(err) != epp.CodeAuthenticationError {
			t.Errorf("login with %s = %v, want 2200", tc.name, err)
		}
	}

	c := dial(ca)
	if err := c.Login(ctx, "reg-a", "secret-a", ""); err != nil {
		t.Fatal(err)
	}
	checks, err := c.CheckDomains(ctx, "example.wmk", "example.com")
	if err != nil || len(checks) != 2 || !checks[0].Avail || checks[1].Avail {
		t.Fatalf("check = %+v, %v", checks, err)
	}
	if err := c.CreateContact(ctx, epp.Contact{ID: "jd1", Email: "jd@example.test", AuthInfo: "2fooBAR!",
		Postal: []epp.Postal{{Type: "int", Name: "J Doe", City: "Oslo", CC: "NO"}}}); err != nil {
		t.Fatal(err)
	}
	ds := epp.DS{KeyTag: 12345, Alg: 13, DigestType: 2, Digest: strings.Repeat("AB", 32)}
	created, pending, err := c.CreateDomain(ctx, epp.DomainCreate{Name: "example.wmk", Years: 2, Registrant: "jd1",
		Contacts: []epp.ContactLink{{Type: "tech", ID: "jd1"}}, NS: []string{"ns.other.example"}, AuthInfo: "2fooBAR!", DS: []epp.DS{ds}})
	if err != nil || pending || created.Name != "example.wmk" || created.ExDate.Year() != 2029 {
		t.Fatalf("create = %+v, %v, %v", created, pending, err)
	}
	// A host inside the domain needs the domain first (its superordinate
	// object, RFC 5732 s3.2.1).
	if err := c.CreateHost(ctx, "ns1.example.wmk", netip.MustParseAddr("192.0.2.53")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateDomain(ctx, epp.DomainUpdate{Name: "example.wmk", AddNS: []string{"ns1.example.wmk"}, RemNS: []string{"ns.other.example"}}); err != nil {
		t.Fatal(err)
	}
	info, err := c.InfoDomain(ctx, "example.wmk", "")
	if err != nil {
		t.Fatal(err)
	}
	if info.ClID != "reg-a" || info.Registrant != "jd1" || len(info.NS) != 1 || info.NS[0] != "ns1.example.wmk" ||
		len(info.DS) != 1 || info.DS[0].KeyTag != 12345 || !strings.EqualFold(info.DS[0].Digest, ds.Digest) ||
		len(info.RGPStatus) != 1 || info.RGPStatus[0] != "addPeriod" {
		t.Errorf("info = %+v", info)
	}
	if checks, err := c.CheckDomains(ctx, "example.wmk"); err != nil || checks[0].Avail {
		t.Errorf("check after create = %+v, %v", checks, err)
	}
	// Refusals of the registry arrive with their EPP codes.
	for _, tc := range []struct {
		name string
		in   epp.DomainCreate
		want epp.Code
	}{
		{"taken", epp.DomainCreate{Name: "example.wmk", Years: 1, Registrant: "jd1", AuthInfo: "2fooBAR!"}, epp.CodeObjectExists},
		{"foreign TLD", epp.DomainCreate{Name: "example.com", Years: 1, Registrant: "jd1", AuthInfo: "2fooBAR!"}, epp.CodeUnimplementedService},
	} {
		if _, _, err := c.CreateDomain(ctx, tc.in); epp.CodeOf(err) != tc.want {
			t.Errorf("create %s = %v, want %d", tc.name, err, tc.want)
		}
	}
	if _, err := c.UpdateDomain(ctx, epp.DomainUpdate{Name: "example.wmk", RemAllDS: true}); err != nil {
		t.Fatal(err)
	}
	if info, err := c.InfoDomain(ctx, "example.wmk", ""); err != nil || len(info.DS) != 0 {
		t.Errorf("after DS removal: %+v, %v", info.DS, err)
	}
	// Client statuses: set and cleared by the sponsor; a server status
	// is the registry's.
	for _, tc := range []struct {
		u    epp.DomainUpdate
		want []string
		code epp.Code
	}{
		{epp.DomainUpdate{Name: "example.wmk", AddStatus: []string{"clientTransferProhibited", "clientDeleteProhibited"}}, []string{"clientTransferProhibited", "clientDeleteProhibited"}, 0},
		{epp.DomainUpdate{Name: "example.wmk", RemStatus: []string{"clientDeleteProhibited"}}, []string{"clientTransferProhibited"}, 0},
		{epp.DomainUpdate{Name: "example.wmk", AddStatus: []string{"serverHold"}}, nil, epp.CodeParameterPolicy},
	} {
		_, err := c.UpdateDomain(ctx, tc.u)
		if epp.CodeOf(err) != tc.code && !(tc.code == 0 && err == nil) {
			t.Errorf("update %+v = %v, want %d", tc.u, err, tc.code)
		}
		if tc.want == nil {
			continue
		}
		if info, err := c.InfoDomain(ctx, "example.wmk", ""); err != nil || !slices.Equal(info.Status, tc.want) {
			t.Errorf("statuses after %+v: %v, %v; want %v", tc.u, info.Status, err, tc.want)
		}
	}
	if err := c.Logout(ctx); err != nil {
		t.Error(err)
	}
}
