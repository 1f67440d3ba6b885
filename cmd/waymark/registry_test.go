package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/nspool"
	"github.com/waymark-dns/waymark/registrar/epp"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// issueCert makes a self-signed certificate (for 127.0.0.1 when server)
// and writes it and its key as PEM files into dir.
func issueCert(t *testing.T, dir, cn string, server bool) (tls.Certificate, string, string) {
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
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, cn+".pem"), filepath.Join(dir, cn+"-key.pem")
	for f, b := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(f, pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, certFile, keyFile
}

// freeAddr returns a loopback address no one listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// lockedBuffer is a process's stderr, read while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestIntegrationEPPClientAgainstRegistryProcess: `waymark registry`, a
// process of its own over a database whose TLD wmk. was configured by
// another (this test, as the API would), driven over TLS by our EPP client
// (registrar/epp) for two registrars: login (refused with a wrong
// password), check, contact and domain create with a DS, host create,
// info with secDNS, a DS update, renew, a transfer request, the sponsor's
// poll message and its ack, the approval, info as the new sponsor, and
// logout; the registry's RDAP answers the domain.
// registryProcess is a `waymark registry` started by a test over a
// database of its own, whose TLD wmk. was configured by the test (as the
// API would), with two registrar logins (reg-a, reg-b).
type registryProcess struct {
	eppAddr, rdapAddr string
	// serverCertFile is the EPP server's self-signed certificate, the CA
	// a client checks it against.
	serverCertFile string
	roots          *x509.CertPool
	// certs and certFiles/keyFiles are the registrars' client
	// certificates, by login.
	certs               map[string]tls.Certificate
	certFiles, keyFiles map[string]string
	stderr              *lockedBuffer
}

func startRegistryProcess(t *testing.T) *registryProcess {
	t.Helper()
	ctx := context.Background()
	db, dsn := pgtest.Schema(t)
	const poolSpec = "ns1.pool.wmk.=127.0.91.1,ns2.pool.wmk.=127.0.91.2,ns3.pool.wmk.=127.0.91.3,ns4.pool.wmk.=127.0.91.4"
	pool, err := nspool.Parse(poolSpec, 2)
	if err != nil {
		t.Fatal(err)
	}
	masterKey := []byte(strings.Repeat("m", 32))
	cp, err := controlplane.New(db, controlplane.Config{MasterKey: masterKey, JWTKey: []byte(strings.Repeat("j", 32)), Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Open(ctx, db, cp, registry.Config{Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	pol := registry.DefaultPolicy()
	pol.TransferLock = 0 // a transfer right after the create
	if _, err := reg.ConfigureTLD(ctx, "wmk", registry.Prices{Register: 1000, Renew: 1000, Transfer: 1000, Restore: 1000}, pol); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	server, serverCert, serverKey := issueCert(t, dir, "epp-server", true)
	p := &registryProcess{serverCertFile: serverCert, certs: map[string]tls.Certificate{}, certFiles: map[string]string{},
		keyFiles: map[string]string{}, stderr: &lockedBuffer{}}
	for _, id := range []string{"reg-a", "reg-b"} {
		p.certs[id], p.certFiles[id], p.keyFiles[id] = issueCert(t, dir, id, false)
	}
	accounts, _ := json.Marshal([]registrarAccount{
		{ID: "reg-a", Name: "Registrar A", Password: "secret-a", Certificates: []string{p.certFiles["reg-a"]}},
		{ID: "reg-b", Name: "Registrar B", Password: "secret-b", Certificates: []string{p.certFiles["reg-b"]}},
	})
	accountsFile := filepath.Join(dir, "registrars.json")
	if err := os.WriteFile(accountsFile, accounts, 0o600); err != nil {
		t.Fatal(err)
	}
	p.eppAddr, p.rdapAddr = freeAddr(t), freeAddr(t)
	for p.rdapAddr == p.eppAddr { // the kernel may pick a port it just gave again
		p.rdapAddr = freeAddr(t)
	}
	pctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(pctx, waymarkBin, "registry", "--database-url", dsn,
		"--epp-listen", p.eppAddr, "--epp-cert", serverCert, "--epp-key", serverKey, "--registrars", accountsFile,
		"--rdap-listen", p.rdapAddr, "--nameservers", poolSpec, "--delegation-set-size", "2")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"WAYMARK_MASTER_KEY=" + hex.EncodeToString(masterKey), "WAYMARK_JWT_KEY=" + hex.EncodeToString([]byte(strings.Repeat("j", 32))),
		"WAYMARK_ADMIN_TOKEN=" + strings.Repeat("a", 24)}
	cmd.Stdout, cmd.Stderr = io.Discard, p.stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		// Stopped by the test: a clean exit is reported as the cancel.
		if err := cmd.Wait(); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("waymark registry: %v\n%s", err, p.stderr.String())
		}
	})
	p.roots = x509.NewCertPool()
	p.roots.AddCert(server.Leaf)
	// Wait for the EPP server: its greeting.
	cl := p.dial(t, p.certs["reg-a"])
	cl.Close()
	return p
}

// dial connects to the registry's EPP server with c, waiting for it to
// listen.
func (p *registryProcess) dial(t *testing.T, c tls.Certificate) *epp.Client {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		cl, err := epp.Dial(context.Background(), p.eppAddr, &tls.Config{RootCAs: p.roots, Certificates: []tls.Certificate{c}, MinVersion: tls.VersionTLS12}, "t-")
		if err == nil {
			t.Cleanup(func() { cl.Close() })
			return cl
		}
		if time.Now().After(deadline) {
			t.Fatalf("dial %s: %v\n%s", p.eppAddr, err, p.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestIntegrationEPPClientAgainstRegistryProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := startRegistryProcess(t)
	certA, certB, rdapAddr := p.certs["reg-a"], p.certs["reg-b"], p.rdapAddr
	dial := func(c tls.Certificate) *epp.Client { t.Helper(); return p.dial(t, c) }

	a := dial(certA)
	if err := a.Login(ctx, "reg-a", "secret-b", ""); epp.CodeOf(err) != epp.CodeAuthenticationError {
		t.Errorf("login with a wrong password = %v, want 2200", err)
	}
	a = dial(certA)
	if err := a.Login(ctx, "reg-a", "secret-a", ""); err != nil {
		t.Fatal(err)
	}
	if checks, err := a.CheckDomains(ctx, "moving.wmk", "example.com"); err != nil || len(checks) != 2 || !checks[0].Avail || checks[1].Avail {
		t.Fatalf("check = %+v, %v", checks, err)
	}
	if err := a.CreateContact(ctx, epp.Contact{ID: "owner1", Email: "o@example.test", AuthInfo: "2fooBAR!",
		Postal: []epp.Postal{{Type: "int", Name: "O Wner", City: "Oslo", CC: "NO"}}}); err != nil {
		t.Fatal(err)
	}
	ds1 := epp.DS{KeyTag: 12345, Alg: 13, DigestType: 2, Digest: strings.Repeat("AB", 32)}
	created, pending, err := a.CreateDomain(ctx, epp.DomainCreate{Name: "moving.wmk", Years: 1, Registrant: "owner1",
		NS: []string{"ns.other.example"}, AuthInfo: "code-Right1", DS: []epp.DS{ds1}})
	if err != nil || pending {
		t.Fatalf("create = %+v, %v, %v", created, pending, err)
	}
	if err := a.CreateHost(ctx, "ns1.moving.wmk", netip.MustParseAddr("192.0.2.53")); err != nil {
		t.Fatal(err)
	}
	info, err := a.InfoDomain(ctx, "moving.wmk", "")
	if err != nil || info.ClID != "reg-a" || len(info.DS) != 1 || info.DS[0].KeyTag != 12345 || !strings.EqualFold(info.DS[0].Digest, ds1.Digest) {
		t.Fatalf("info = %+v, %v", info, err)
	}
	ds2 := epp.DS{KeyTag: 54321, Alg: 13, DigestType: 2, Digest: strings.Repeat("CD", 32)}
	if _, err := a.UpdateDomain(ctx, epp.DomainUpdate{Name: "moving.wmk", RemAllDS: true, AddDS: []epp.DS{ds2}}); err != nil {
		t.Fatal(err)
	}
	if info, err := a.InfoDomain(ctx, "moving.wmk", ""); err != nil || len(info.DS) != 1 || info.DS[0].KeyTag != 54321 {
		t.Errorf("DS after the update = %+v, %v", info.DS, err)
	}
	renewed, _, err := a.RenewDomain(ctx, "moving.wmk", created.ExDate, 1)
	if err != nil || !renewed.ExDate.Equal(created.ExDate.AddDate(1, 0, 0)) {
		t.Fatalf("renew = %+v (created expiring %v), %v", renewed, created.ExDate, err)
	}

	b := dial(certB)
	if err := b.Login(ctx, "reg-b", "secret-b", ""); err != nil {
		t.Fatal(err)
	}
	tr, pending, err := b.TransferDomain(ctx, epp.TransferRequest{Op: "request", Name: "moving.wmk", AuthInfo: "code-Right1"})
	if err != nil || !pending || tr.Status != "pending" || tr.ReID != "reg-b" || tr.AcID != "reg-a" {
		t.Fatalf("transfer request = %+v, pending %v, %v", tr, pending, err)
	}
	m, count, err := a.Poll(ctx)
	if err != nil || m == nil || count < 1 {
		t.Fatalf("the sponsor's poll = %+v, %d, %v", m, count, err)
	}
	if _, err := a.Ack(ctx, m.ID); err != nil {
		t.Errorf("ack %s: %v", m.ID, err)
	}
	if tr, _, err := a.TransferDomain(ctx, epp.TransferRequest{Op: "approve", Name: "moving.wmk"}); err != nil || tr.Status != "clientApproved" {
		t.Fatalf("approve = %+v, %v", tr, err)
	}
	if info, err := b.InfoDomain(ctx, "moving.wmk", ""); err != nil || info.ClID != "reg-b" {
		t.Errorf("info as the new sponsor = %+v, %v", info, err)
	}
	for _, c := range []*epp.Client{a, b} {
		if err := c.Logout(ctx); err != nil {
			t.Error(err)
		}
	}

	res, err := http.Get("http://" + rdapAddr + "/rdap/domain/moving.wmk")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/rdap+json" || !strings.Contains(string(body), `"moving.wmk"`) {
		t.Errorf("RDAP = %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
}
