package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/waymark-dns/waymark/internal/clock"
	"github.com/waymark-dns/waymark/registrar"
	"github.com/waymark-dns/waymark/registrar/epp"
	"github.com/waymark-dns/waymark/registrar/rdap"
	"github.com/waymark-dns/waymark/registrar/regepp"
	"github.com/waymark-dns/waymark/registrar/registry"
	"github.com/waymark-dns/waymark/registrar/regrdap"
)

// devTLD is the TLD the development registry runs.
const devTLD = "test."

// devEPPClientID is the registrar account `waymark dev` creates for EPP.
const devEPPClientID = "dev-registrar"

// devRegistryPrices are the development TLD's yearly prices (USD cents).
var devRegistryPrices = registry.Prices{Currency: "USD", Register: 1000, Renew: 1000, Transfer: 1000, Restore: 4000}

// devRegistry is the built-in registry as `waymark dev` serves it: RDAP
// over HTTP and EPP over TLS.
type devRegistry struct {
	RDAPURL     string
	EPPAddr     string
	EPPPassword string
	// EPPCert and EPPKey are the registrar's client certificate and key
	// (PEM files); EPPCA the CA that signed it and the server's.
	EPPCert, EPPKey, EPPCA string

	// Clock is the registry's test clock (POST /v1/registry/clock
	// advances it); Registrar the built-in registrar on the registry.
	Clock     *clock.Test
	Registrar *registrar.Service
	// TLDDS is the DS of the signed devTLD zone, the trust anchor of a
	// private validating resolver (WAYMARK_TLD_DS).
	TLDDS string

	rdap          *http.Server
	epp           *epp.Server
	stopLifecycle context.CancelFunc
	lifecycleDone chan struct{}
}

// Close stops both listeners, the lifecycle and the external worker.
func (d *devRegistry) Close() {
	d.rdap.Close()
	d.epp.Close()
	if d.stopLifecycle != nil {
		d.stopLifecycle()
		<-d.lifecycleDone
	}
}

// startDevRegistry makes sure the control plane's built-in registry runs
// devTLD, serves RDAP on rdapListen without
// authentication (RDAP is public, RFC 7481) and EPP over TLS on
// eppListen. Each start draws a new CA, server and registrar certificate
// and a new registrar password, written to dir: clients take them from
// dev.env again after a restart. The registry runs on clk, a test clock
// (startControlPlane opened it on controlPlaneOptions.RegistryClock): the
// lifecycle (expiry, redemption, transfers, verification) moves only when
// it is advanced. It signs devTLD's zone and runs the lifecycle leader,
// whose mail goes to files in dir/mail.
func startDevRegistry(ctx context.Context, cp *controlPlane, clk *clock.Test, rdapListen, eppListen, dir string, log *slog.Logger) (*devRegistry, error) {
	reg := cp.Registry // opened by startControlPlane (controlPlaneOptions.Registry)
	if _, err := reg.ConfigureTLD(ctx, devTLD, devRegistryPrices, registry.DefaultPolicy()); err != nil {
		return nil, fmt.Errorf("registry TLD %s: %w", devTLD, err)
	}
	tld, err := reg.SignTLD(ctx, devTLD)
	if err != nil {
		return nil, err
	}
	d := &devRegistry{Clock: clk, Registrar: cp.Registrar}
	if len(tld.DS) > 0 {
		d.TLDDS = tld.DS[0]
	}
	// The lifecycle leader, woken by every advance of the clock; mail
	// to registrants goes to files in dir/mail.
	lctx, stop := context.WithCancel(ctx)
	d.stopLifecycle, d.lifecycleDone = stop, make(chan struct{})
	lc := d.Registrar.NewLifecycle(registrar.LifecycleConfig{Clock: clk, Mailer: registrar.FileMailer{Dir: filepath.Join(dir, "mail")},
		Logger: log.With("component", "lifecycle")})
	// The external registries' worker, for TLDs the operator configures
	// under /v1/registry/external.
	xw := d.Registrar.NewExternalWorker(registrar.ExternalConfig{Logger: log.With("component", "external-registries")})
	workerDone := make(chan struct{})
	go func() { defer close(workerDone); _ = xw.Run(lctx) }()
	go func() { defer close(d.lifecycleDone); _ = lc.Run(lctx); <-workerDone }()
	go keepDevClock(lctx, clk, filepath.Join(dir, "registry-clock"), log)

	rln, err := net.Listen("tcp", rdapListen)
	if err != nil {
		return nil, fmt.Errorf("--rdap: %w", err)
	}
	d.RDAPURL = "http://" + rln.Addr().String() + "/rdap"
	mux := http.NewServeMux()
	mux.Handle("/rdap/", http.StripPrefix("/rdap", &rdap.Handler{
		Source: &regrdap.Source{Registry: reg}, BaseURL: d.RDAPURL, Log: log.With("component", "rdap"),
		Terms: "Waymark development registry for " + devTLD + ": test data only.",
	}))
	d.rdap = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	go func() {
		if err := d.rdap.Serve(rln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("rdap server stopped", "err", err)
		}
	}()

	eln, err := net.Listen("tcp", eppListen)
	if err != nil {
		d.rdap.Close()
		return nil, fmt.Errorf("--epp: %w", err)
	}
	host, _, _ := net.SplitHostPort(eln.Addr().String())
	server, client, err := devEPPCerts(dir, net.ParseIP(host))
	if err != nil {
		d.rdap.Close()
		eln.Close()
		return nil, err
	}
	d.EPPAddr = eln.Addr().String()
	// Absolute paths, so that dev.env works from any directory.
	abs, err := filepath.Abs(dir)
	if err != nil {
		d.rdap.Close()
		eln.Close()
		return nil, err
	}
	d.EPPCA, d.EPPCert, d.EPPKey = filepath.Join(abs, "epp-ca.pem"), filepath.Join(abs, "epp-client.pem"), filepath.Join(abs, "epp-client-key.pem")
	// 12 bytes: 16 characters, the longest pwType (RFC 5730 s4).
	pw := make([]byte, 12)
	if _, err := rand.Read(pw); err != nil {
		return nil, err
	}
	d.EPPPassword = base64.RawURLEncoding.EncodeToString(pw)
	if err := reg.EnsureRegistrar(ctx, devEPPClientID, "waymark dev registrar", d.EPPPassword); err != nil {
		d.rdap.Close()
		eln.Close()
		return nil, err
	}
	d.epp = &epp.Server{
		Registry: &regepp.Registry{Registry: reg, Certs: map[string][][sha256.Size]byte{devEPPClientID: {regepp.Fingerprint(client)}}},
		ServerID: "waymark-dev",
		TLS:      &tls.Config{Certificates: []tls.Certificate{server}, ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS12},
		Log:      log.With("component", "epp"),
	}
	go func() {
		if err := d.epp.Serve(eln); err != nil && !errors.Is(err, epp.ErrServerClosed) {
			log.Error("epp server stopped", "err", err)
		}
	}()
	return d, nil
}

// devClockStart is where the registry's test clock starts: now, or where
// an earlier run left it if that is later (path holds it, RFC 3339), so
// that a restart never moves the lifecycle's time backwards.
func devClockStart(path string) time.Time {
	now := time.Now()
	b, err := os.ReadFile(path)
	if err != nil {
		return now
	}
	if t, err := time.Parse(time.RFC3339Nano, string(b)); err == nil && t.After(now) {
		return t
	}
	return now
}

// keepDevClock writes the clock's time to path after every advance, until
// ctx ends.
func keepDevClock(ctx context.Context, clk *clock.Test, path string, log *slog.Logger) {
	for {
		wake := clk.Advanced()
		select {
		case <-ctx.Done():
			return
		case <-wake:
		}
		if err := os.WriteFile(path, []byte(clk.Now().UTC().Format(time.RFC3339Nano)), 0o600); err != nil {
			log.Warn("registry clock not saved", "err", err)
		}
	}
}

// devEPPCerts draws a CA, a server certificate for ip and a registrar
// client certificate, writes the CA and the client's certificate and key
// to dir, and returns the server's and the client's DER certificate.
func devEPPCerts(dir string, ip net.IP) (tls.Certificate, []byte, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "waymark dev EPP CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, *ecdsa.PrivateKey, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), IPAddresses: ips,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		return der, key, err
	}
	srvDER, srvKey, err := issue(2, "waymark dev EPP server", x509.ExtKeyUsageServerAuth, []net.IP{ip})
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	cliDER, cliKey, err := issue(3, devEPPClientID, x509.ExtKeyUsageClientAuth, nil)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cliKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	for name, block := range map[string]*pem.Block{
		"epp-ca.pem":         {Type: "CERTIFICATE", Bytes: caDER},
		"epp-client.pem":     {Type: "CERTIFICATE", Bytes: cliDER},
		"epp-client-key.pem": {Type: "PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			return tls.Certificate{}, nil, err
		}
	}
	return tls.Certificate{Certificate: [][]byte{srvDER, caDER}, PrivateKey: srvKey}, cliDER, nil
}
