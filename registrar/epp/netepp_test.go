package epp

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func writePEM(t *testing.T, dir, id string, c tls.Certificate) (cert, key string) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, id+".crt"), filepath.Join(dir, id+".key")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// TestNetEPPClient: Debian's libnet-epp-perl (Net::EPP::Simple, an
// independent client) drives our server over TLS with client
// certificates: login, check, contact/host/domain create, a DS update by
// raw secDNS frame, info with secDNS, renew, a transfer answered 1001,
// poll and ack, approve, logout. The registry behind it is the memory one.
func TestNetEPPClient(t *testing.T) {
	t.Parallel()
	if err := exec.Command("perl", "-MNet::EPP::Simple", "-e", "1").Run(); err != nil {
		// Never skip on a missing dependency (project rule): CI installs
		// it from .ci/apt.d/i12e.txt, and a skip would pass silently.
		t.Fatalf("libnet-epp-perl is not installed (perl -MNet::EPP::Simple: %v); install it: apt-get install libnet-epp-perl (.ci/apt.d/i12e.txt lists it)", err)
	}
	r := newRig(t, nil)
	dir := t.TempDir()
	ca, ka := writePEM(t, dir, "reg-a", r.clients["reg-a"])
	cb, kb := writePEM(t, dir, "reg-b", r.clients["reg-b"])
	sca, _ := writePEM(t, dir, "server", r.server)
	host, port, _ := net.SplitHostPort(r.addr)
	out, err := exec.Command("perl", "testdata/netepp.pl", host, port, ca, ka, cb, kb, sca).CombinedOutput()
	if err != nil {
		t.Fatalf("netepp.pl: %v\n%s", err, out)
	}
	for _, step := range []string{"login reg-a", "check", "contact create", "host create", "domain create", "ds update", "info secdns", "renew", "transfer pending", "poll", "transfer approve", "logout"} {
		if !strings.Contains(string(out), "ok "+step+"\n") {
			t.Errorf("step %q missing:\n%s", step, out)
		}
	}
	if d := r.reg.domains["perl.test"]; d == nil || d.ClID != "reg-b" {
		t.Errorf("perl.test after the transfer: %+v", d)
	}
}
