package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/internal/testkit"
)

// TestDevEPPCerts: the server certificate verifies for its address under
// the CA written to the directory, and the client certificate and key
// written there load as a pair, are the registrar's, and verify for client
// authentication.
func TestDevEPPCerts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv, client, err := devEPPCerts(dir, net.ParseIP("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "epp-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("epp-ca.pem holds no certificate")
	}
	leaf, err := x509.ParseCertificate(srv.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "127.0.0.1"}); err != nil {
		t.Errorf("server certificate: %v", err)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "epp-client.pem"), filepath.Join(dir, "epp-client-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if string(pair.Certificate[0]) != string(client) {
		t.Error("epp-client.pem is not the certificate the registrar is registered with")
	}
	cl, _ := x509.ParseCertificate(client)
	if _, err := cl.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil || cl.Subject.CommonName != devEPPClientID {
		t.Errorf("client certificate %q: %v", cl.Subject.CommonName, err)
	}
}

// TestDevClockStart: the registry's clock starts where the last run left
// it when that is later than now, and at now otherwise (no file, a
// garbled one, a time in the past).
func TestDevClockStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "registry-clock")
	near := func(got time.Time) bool { d := time.Since(got); return d >= 0 && d < time.Minute }
	if got := devClockStart(path); !near(got) {
		t.Errorf("no file: %v", got)
	}
	later := time.Now().Add(720 * time.Hour).UTC()
	for _, tc := range []struct {
		content string
		want    func(time.Time) bool
	}{
		{later.Format(time.RFC3339Nano), func(got time.Time) bool { return got.Equal(later) }},
		{"yesterday", near},
		{time.Now().Add(-time.Hour).Format(time.RFC3339Nano), near},
	} {
		if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := devClockStart(path); !tc.want(got) {
			t.Errorf("%q: %v", tc.content, got)
		}
	}
}

// TestDevTLDTrustAnchorAndClock: `waymark dev` signs test. and writes its
// DS to dev.env as WAYMARK_TLD_DS, the DS of the KSK its nameserver
// serves; POST /v1/registry/clock advances the registry's clock with the
// operator token (403 with a tenant's), and the clock is kept for the
// next run.
func TestDevTLDTrustAnchorAndClock(t *testing.T) {
	raw := strings.Trim(dev.Env["WAYMARK_TLD_DS"], `"`)
	rr, err := dns.NewRR(raw)
	if err != nil || rr == nil || rr.Header().Name != "test." {
		t.Fatalf("WAYMARK_TLD_DS %q: %v", raw, err)
	}
	testkit.Eventually(t, 20*time.Second, func() error {
		m := new(dns.Msg)
		m.SetQuestion("test.", dns.TypeDNSKEY)
		m.SetEdns0(1232, true)
		// Over TCP: polling over UDP every 10 ms trips the
		// nameserver's response rate limit.
		r, _, err := (&dns.Client{Net: "tcp", Timeout: 2 * time.Second}).Exchange(m, dev.DNS)
		if err != nil {
			return err
		}
		for _, a := range r.Answer {
			if k, ok := a.(*dns.DNSKEY); ok && k.Flags&dns.SEP != 0 && sameDS(k.ToDS(dns.SHA256), rr.(*dns.DS)) {
				return nil
			}
		}
		return fmt.Errorf("no DNSKEY of test. matches %s: %v", rr, r.Answer)
	})

	clockURL := dev.API + "/v1/registry/clock"
	call := func(token, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", clockURL, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Now time.Time `json:"now"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.Now.UTC().Format(time.RFC3339Nano)
	}
	if code, _ := call(dev.APIKey, `{"advance":"1h"}`); code != http.StatusForbidden {
		t.Errorf("a tenant advanced the clock: %d", code)
	}
	code, now := call(dev.AdminToken, `{"advance":"1h"}`)
	if code != http.StatusOK {
		t.Fatalf("advance: %d", code)
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		b, err := os.ReadFile(filepath.Join(dev.Dir, ".waymark", "registry-clock"))
		if err != nil || string(b) != now {
			return fmt.Errorf("kept %q (%v), want %s", b, err, now)
		}
		return nil
	})
}

// sameDS compares two DS records' data, not their TTLs.
func sameDS(a, b *dns.DS) bool {
	return a.KeyTag == b.KeyTag && a.Algorithm == b.Algorithm && a.DigestType == b.DigestType && strings.EqualFold(a.Digest, b.Digest)
}
