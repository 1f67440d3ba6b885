package parentds_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/dnssec/parentds"
	"github.com/waymark-dns/waymark/internal/testkit"
)

const childDS = "12345 13 2 3490A6806D47F17A34C29E2CE80E8A999FFBE4BE0A2B4BAE59A2E2F8C3A4A7B1"

// parentZone is example., the parent outside Waymark: a delegation with a
// DS (child), one without (nods), and an empty non-terminal above a
// delegation (deep.ent).
const parentZone = `$ORIGIN example.
$TTL 300
@        SOA ns.example. hostmaster.example. 1 3600 600 86400 120
@        NS  ns.example.
ns       A   127.0.0.1
child    NS  ns.child
ns.child A   127.0.0.1
child    DS  ` + childDS + `
nods     NS  ns.nods
ns.nods  A   127.0.0.1
deep.ent NS  ns.nods
deep.ent DS  ` + childDS + `
`

// startKnot runs a real knotd serving parentZone on a free loopback port.
func startKnot(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("knotd")
	if err != nil {
		t.Fatal("knotd is not installed: .ci/apt.d/i10b.txt lists knot (apt-get install knot)")
	}
	dir := t.TempDir()
	port := freePort(t)
	conf := fmt.Sprintf(`server:
    rundir: %[1]q
    listen: 127.0.0.1@%[2]d
database:
    storage: %[1]q
template:
  - id: default
    storage: %[1]q
zone:
  - domain: example.
    file: example.zone
`, dir, port)
	if err := os.WriteFile(filepath.Join(dir, "knot.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "example.zone"), []byte(parentZone), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", filepath.Join(dir, "knot.conf"))
	log, _ := os.Create(filepath.Join(dir, "knot.log"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	testkit.Eventually(t, 20*time.Second, func() error {
		m := new(dns.Msg)
		m.SetQuestion("example.", dns.TypeSOA)
		r, err := dns.Exchange(m, addr)
		if err == nil && r.Rcode != dns.RcodeSuccess {
			err = fmt.Errorf("rcode %d", r.Rcode)
		}
		return err
	})
	return addr
}

func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", l.Addr().String())
		_ = l.Close()
		if err == nil {
			_ = u.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// TestParentDSFromKnot asks a real Knot, as the parent and as the
// resolver that finds it, for the DS sets of its delegations.
func TestParentDSFromKnot(t *testing.T) {
	addr := startKnot(t)
	_, port, _ := net.SplitHostPort(addr)
	l := parentds.Lookup{Resolver: addr, Port: port, Timeout: time.Second}
	for _, tc := range []struct {
		zone string
		want []string
		ttl  uint32
	}{
		{"child.example.", []string{childDS}, 300},
		{"CHILD.example", []string{childDS}, 300},
		{"nods.example.", nil, 120},                   // the negative TTL: the SOA minimum
		{"deep.ent.example.", []string{childDS}, 300}, // ent.example. has no NS: the walk goes on to example.
	} {
		got, ttl, err := l.ParentDS(context.Background(), tc.zone)
		if err != nil || !slices.Equal(got, tc.want) || ttl != tc.ttl {
			t.Errorf("%s: %q TTL %d %v, want %q TTL %d", tc.zone, got, ttl, err, tc.want, tc.ttl)
		}
	}
}

// TestParentDSUnreachable: a resolver that never answers, or a parent
// whose nameservers do not, is an error within the timeout, not a hang
// and not an empty DS set.
func TestParentDSUnreachable(t *testing.T) {
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	addr := startKnot(t)
	_, silentPort, _ := net.SplitHostPort(silent.LocalAddr().String())
	for _, l := range []parentds.Lookup{
		{Resolver: silent.LocalAddr().String(), Timeout: 200 * time.Millisecond},
		{Resolver: addr, Port: silentPort, Timeout: 200 * time.Millisecond},
	} {
		start := time.Now()
		got, _, err := l.ParentDS(context.Background(), "child.example.")
		if err == nil || got != nil || time.Since(start) > 5*time.Second {
			t.Errorf("%+v: %q %v after %v", l, got, err, time.Since(start))
		}
	}
	if _, _, err := (parentds.Lookup{Resolver: addr}).ParentDS(context.Background(), "."); err == nil {
		t.Error("the root's parent: no error")
	}
}
