package api

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"
)

// testCertPEM is a self-signed certificate and its key, PEM-encoded.
func testCertPEM(t *testing.T, cn string) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// exerciseExternalRegistries: an external TLD is configured, changed
// without resending its secrets, listed, read without them, refused where
// the built-in registry runs the TLD (both ways), answers availability
// 503 while its registry cannot be reached, and is deleted. Bad input is
// 400, never 500.
func exerciseExternalRegistries(t *testing.T, a *testAPI) {
	t.Helper()
	cert, key := testCertPEM(t, "registrar")
	otherCert, _ := testCertPEM(t, "other")
	const password = "s3cret-pw-xyz"
	good := map[string]any{"epp_address": closedAddr(t), "client_id": "waymark-1", "password": password,
		"client_cert_pem": cert, "client_key_pem": key, "ca_pem": cert, "prices": map[string]any{"registration": 1500, "currency": "EUR"}}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range good {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name string
		path string
		body map[string]any
		code string
	}{
		{"no password", "/v1/registry/external/ext", with("password", nil), "InvalidInput"},
		{"no key", "/v1/registry/external/ext", with("client_key_pem", nil), "InvalidInput"},
		{"short password", "/v1/registry/external/ext", with("password", "abc"), "InvalidInput"},
		{"address without port", "/v1/registry/external/ext", with("epp_address", "registry.example"), "InvalidInput"},
		{"port out of range", "/v1/registry/external/ext", with("epp_address", "registry.example:70000"), "InvalidInput"},
		{"short client id", "/v1/registry/external/ext", with("client_id", "ab"), "InvalidInput"},
		{"key of another certificate", "/v1/registry/external/ext", with("client_cert_pem", otherCert), "InvalidInput"},
		{"not a certificate", "/v1/registry/external/ext", with("client_cert_pem", "junk"), "InvalidInput"},
		{"bad ca", "/v1/registry/external/ext", with("ca_pem", "junk"), "InvalidInput"},
		{"control character outside a PEM", "/v1/registry/external/ext", with("client_id", "a\nbcd"), "InvalidInput"},
		{"other control character in a PEM", "/v1/registry/external/ext", with("ca_pem", cert+"\x00"), "InvalidInput"},
		{"bad currency", "/v1/registry/external/ext", with("prices", map[string]any{"currency": "EURO"}), "InvalidInput"},
		{"negative price", "/v1/registry/external/ext", with("prices", map[string]any{"renewal": -1}), "InvalidInput"},
		{"bad tld", "/v1/registry/external/a..b", good, "InvalidInput"},
		{"the built-in registry's", "/v1/registry/external/test", good, "TLDRulesViolation"},
	} {
		if r := a.do(req{method: "PUT", path: tc.path, bearer: testAdminToken, body: tc.body}); r.status != http.StatusBadRequest || r.errorCode(t) != tc.code {
			t.Errorf("%s: %d %s, want 400 %s", tc.name, r.status, r.body, tc.code)
		}
	}
	a.must(http.StatusNotFound, req{method: "GET", path: "/v1/registry/external/ext", bearer: testAdminToken})

	r := a.must(http.StatusCreated, req{method: "PUT", path: "/v1/registry/external/ext", bearer: testAdminToken, body: good})
	if bytes.Contains(r.body, []byte(password)) || bytes.Contains(r.body, []byte("PRIVATE KEY")) {
		t.Errorf("the answer carries a secret: %s", r.body)
	}
	var got externalTLDResponse
	r.decode(t, &got)
	if got.External.TLD != "ext." || got.External.ClientID != "waymark-1" || got.External.Prices.Registration != 1500 || got.External.Prices.Currency != "EUR" {
		t.Errorf("PUT = %+v", got.External)
	}
	var sealed []byte
	if err := a.db.QueryRow(t.Context(), `SELECT sealed FROM registry_external WHERE tld = 'ext.'`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(password)) || bytes.Contains(sealed, []byte("PRIVATE KEY")) {
		t.Error("the password or key is stored in the clear")
	}
	// A change of address alone keeps the sealed login.
	addr := closedAddr(t)
	r = a.must(http.StatusOK, req{method: "PUT", path: "/v1/registry/external/ext.", bearer: testAdminToken, body: map[string]any{"epp_address": addr}})
	r.decode(t, &got)
	if got.External.EPPAddress != addr || got.External.Prices.Registration != 1500 {
		t.Errorf("PUT address = %+v", got.External)
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/registry/external/EXT", bearer: testAdminToken})
	if bytes.Contains(r.body, []byte(password)) || bytes.Contains(r.body, []byte("PRIVATE KEY")) {
		t.Errorf("GET carries a secret: %s", r.body)
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/registry/external", bearer: testAdminToken})
	var list listExternalTLDsResponse
	r.decode(t, &list)
	if len(list.External) != 1 || list.External[0].TLD != "ext." {
		t.Errorf("list = %+v", list)
	}
	// The built-in registry does not take the TLD over.
	if r := a.do(req{method: "PUT", path: "/v1/registry/tlds/ext", bearer: testAdminToken, body: map[string]any{}}); r.status != http.StatusBadRequest || r.errorCode(t) != "TLDRulesViolation" {
		t.Errorf("built-in PUT of an external TLD: %d %s", r.status, r.body)
	}
	// Its registry does not listen: availability says so, 503.
	_, token := a.tenant("external-availability")
	if r := a.do(req{method: "GET", path: "/v1/domains/availability?name=free.ext", bearer: token}); r.status != http.StatusServiceUnavailable || r.errorCode(t) != "RegistryUnavailable" {
		t.Errorf("availability with the registry down: %d %s", r.status, r.body)
	}
	a.must(http.StatusNoContent, req{method: "DELETE", path: "/v1/registry/external/ext", bearer: testAdminToken})
	a.must(http.StatusNotFound, req{method: "DELETE", path: "/v1/registry/external/ext", bearer: testAdminToken})
	a.must(http.StatusNotFound, req{method: "GET", path: "/v1/registry/external/ext", bearer: testAdminToken})
}

func TestIntegrationExternalRegistries(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, nil)
	a.testTLD()
	exerciseExternalRegistries(t, a)
}
