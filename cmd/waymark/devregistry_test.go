package main

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"testing"
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
