package registrar_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/internal/testkit"
)

// TestIntegrationSignedTLDTrustAnchor: SignTLD signs the TLD zone with
// the control plane's DNSSEC support; the DS it reports is the DS of the
// KSK the nameserver serves, and a validating unbound with that DS as its
// only trust anchor for wmk. proves a name's absence (AD): the anchor `waymark dev` writes to dev.env as
// WAYMARK_TLD_DS.
func TestIntegrationSignedTLDTrustAnchor(t *testing.T) {
	if _, err := exec.LookPath("unbound"); err != nil {
		t.Fatal("unbound is not installed: .ci/apt.d/i12.txt lists it (apt-get install unbound)")
	}
	w := newWorld(t, "0", 1)
	ctx := context.Background()
	tld, err := w.reg.SignTLD(ctx, "wmk.")
	if err != nil {
		t.Fatal(err)
	}
	if len(tld.DS) != 1 || !strings.HasPrefix(tld.DS[0], "wmk. DS ") {
		t.Fatalf("DS = %v", tld.DS)
	}
	again, err := w.reg.SignTLD(ctx, "wmk.")
	if err != nil || fmt.Sprint(again.DS) != fmt.Sprint(tld.DS) {
		t.Fatalf("signing again changed the DS: %v, %v", again.DS, err)
	}
	anchor, err := dns.NewRR(tld.DS[0])
	if err != nil {
		t.Fatal(err)
	}
	server := tldServer(t, w)
	testkit.Eventually(t, 10*time.Second, func() error {
		m := new(dns.Msg)
		m.SetQuestion("wmk.", dns.TypeDNSKEY)
		m.SetEdns0(1232, true)
		r, err := dns.Exchange(m, server)
		if err != nil {
			return err
		}
		for _, rr := range r.Answer {
			if k, ok := rr.(*dns.DNSKEY); ok && k.Flags&dns.SEP != 0 {
				ds := k.ToDS(dns.SHA256)
				if a := anchor.(*dns.DS); ds.KeyTag == a.KeyTag && ds.Algorithm == a.Algorithm && ds.DigestType == a.DigestType && strings.EqualFold(ds.Digest, a.Digest) {
					return nil
				}
				return fmt.Errorf("served KSK's DS %s, reported %s", ds, anchor)
			}
		}
		return fmt.Errorf("no KSK served yet: %v", r.Answer)
	})

	resolver := startValidator(t, server, tld.DS[0])
	testkit.Eventually(t, 10*time.Second, func() error {
		m := new(dns.Msg)
		m.SetQuestion("absent.wmk.", dns.TypeA)
		m.SetEdns0(1232, true)
		r, err := dns.Exchange(m, resolver)
		if err != nil {
			return err
		}
		// Compact denial (RFC 9824, dataplane/sign.go) answers a name
		// that does not exist NOERROR with no answer; either way the
		// denial must have validated.
		if r.Rcode != dns.RcodeNameError && (r.Rcode != dns.RcodeSuccess || len(r.Answer) > 0) || !r.AuthenticatedData {
			return fmt.Errorf("absent.wmk.: %s, %d answers, AD %v", dns.RcodeToString[r.Rcode], len(r.Answer), r.AuthenticatedData)
		}
		return nil
	})
	// The same with a wrong anchor: nothing validates (SERVFAIL), so the
	// AD above came from this DS.
	wrong := anchor.(*dns.DS)
	wrong.Digest = strings.Repeat("0", len(wrong.Digest))
	bogus := startValidator(t, server, wrong.String())
	testkit.Eventually(t, 10*time.Second, func() error {
		m := new(dns.Msg)
		m.SetQuestion("absent.wmk.", dns.TypeA)
		r, err := dns.Exchange(m, bogus)
		if err != nil {
			return err
		}
		if r.Rcode != dns.RcodeServerFailure {
			return fmt.Errorf("with a wrong anchor: %s, AD %v", dns.RcodeToString[r.Rcode], r.AuthenticatedData)
		}
		return nil
	})
}

// startValidator runs a validating unbound whose only way to wmk. is a
// stub at tldAddr and whose trust anchor for it is ds.
func startValidator(t *testing.T, tldAddr, ds string) string {
	t.Helper()
	// The port is free when chosen but may be taken before unbound binds
	// it (another unbound's outgoing query sockets use random ports): an
	// unbound that exits at start is started again on a new port.
	for attempt := 0; ; attempt++ {
		addr, exited := startValidatorOnce(t, tldAddr, ds)
		select {
		case <-exited:
			if attempt == 4 {
				t.Fatalf("unbound exited at start five times (ports taken?)")
			}
			continue
		case <-time.After(time.Second):
			return addr
		}
	}
}

func startValidatorOnce(t *testing.T, tldAddr, ds string) (string, <-chan struct{}) {
	t.Helper()
	host, port, _ := net.SplitHostPort(tldAddr)
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.LocalAddr().String()
	_ = l.Close()
	lh, lp, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	conf := strings.Join([]string{
		"server:",
		"  interface: " + lh + "@" + lp, "  port: " + lp,
		"  do-not-query-localhost: no", `  username: ""`, `  chroot: ""`, `  directory: "` + dir + `"`, `  pidfile: ""`,
		"  use-syslog: no", `  logfile: ""`, "  verbosity: 1",
		`  module-config: "validator iterator"`,
		`  trust-anchor: "` + ds + `"`,
		`  local-zone: "wmk." nodefault`,
		"  access-control: 127.0.0.0/8 allow",
		"stub-zone:", `  name: "wmk."`, "  stub-addr: " + host + "@" + port, "",
	}, "\n")
	path := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "unbound", "-d", "-c", path)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cancel(); <-exited })
	return addr, exited
}
