package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/internal/testkit"
	"github.com/waymark-dns/waymark/zonecfg"
)

// TestKnotSecondary runs Debian's knotd as a secondary of a Waymark zone
// with TSIG (hmac-sha256): it bootstraps with a full transfer, a change
// made through the control plane reaches it by NOTIFY and a transfer
// within 2 s, and it then answers every static record set exactly as
// Waymark does. kdig (Knot's TSIG implementation) transfers with the key
// and is refused without it or with a wrong secret. knotd missing is a
// failure: the test is the claim that Knot interoperates.
func TestKnotSecondary(t *testing.T) {
	knotd, err := exec.LookPath("knotd")
	if err != nil {
		t.Fatalf("knotd is not installed (.ci/apt.d/i14.txt: knot, knot-dnsutils): %v", err)
	}
	kdig, err := exec.LookPath("kdig")
	if err != nil {
		t.Fatalf("kdig is not installed (.ci/apt.d/i14.txt: knot-dnsutils): %v", err)
	}
	c := newCluster(t, clusterConfig{})
	ns := c.startNameserver("ns-1", "eu-west-1", "")
	ctx := context.Background()
	const zone = "knot-xfr.example."
	z, ch := c.createZone(zone)
	c.waitInSync(ch, 5*time.Second)
	// 200 names, so that a full transfer and an incremental one differ
	// in size by far.
	var bulk []zonecfg.RRSet
	for i := range 200 {
		bulk = append(bulk, zonecfg.RRSet{Name: fmt.Sprintf("www%d.%s", i, zone), Type: "A", TTL: 60,
			Records: []string{fmt.Sprintf("192.0.2.%d", i)}})
	}
	c.waitInSync(c.change(c.tenant, z.ID, bulk...), 5*time.Second)
	key, err := c.svc.CreateTSIGKey(ctx, c.tenant, "knot."+zone, "hmac-sha256")
	if err != nil {
		t.Fatal(err)
	}
	knotPort := freeUDPPort(t)
	_, ch, err = c.svc.PutTransfers(ctx, c.tenant, z.ID, controlplane.TransferConfig{
		Allow:  []controlplane.TransferAllow{{TSIGKey: key.Name, CIDRs: []string{"127.0.0.0/8"}}},
		Notify: []controlplane.TransferNotify{{Address: "127.0.0.1", Port: uint16(knotPort), TSIGKey: key.Name}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c.waitInSync(ch, 5*time.Second)

	nsAddr := ns.srv.TCPAddr().String()
	knotAddr, knotLog := startKnot(t, knotd, zone, key.Name, key.Secret, nsAddr, knotPort)

	// Full transfer at start.
	version := func(addr string) (uint32, error) {
		r, err := query(addr, zone, dns.TypeSOA)
		if err != nil {
			return 0, err
		}
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			return 0, fmt.Errorf("SOA from %s: rcode %s, %d answers", addr, dns.RcodeToString[r.Rcode], len(r.Answer))
		}
		return r.Answer[0].(*dns.SOA).Serial, nil
	}
	testkit.Eventually(t, 5*time.Second, func() error {
		want, err := version(ns.srv.UDPAddr().String())
		if err != nil {
			return err
		}
		got, err := version(knotAddr)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("knot has serial %d, waymark %d", got, want)
		}
		return nil
	})

	before, err := version(ns.srv.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	// A change reaches Knot by NOTIFY and IXFR within 2 s of its
	// submission.
	start := time.Now()
	c.upsertA(z.ID, "new."+zone, "192.0.2.77")
	testkit.Eventually(t, 2*time.Second, func() error {
		r, err := query(knotAddr, "new."+zone, dns.TypeA)
		if err != nil {
			return err
		}
		if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.77" {
			return fmt.Errorf("knot answers new.%s with %v", zone, r.Answer)
		}
		return nil
	})
	t.Logf("change submitted to answered by knot: %s", time.Since(start))
	// Knot's log: the bootstrap was an AXFR, the change an IXFR that
	// carried the difference only (a fraction of the AXFR's bytes).
	axfrBytes, ixfrBytes := knotXfrBytes(knotLog(), "AXFR"), knotXfrBytes(knotLog(), "IXFR")
	if axfrBytes == 0 || ixfrBytes == 0 || ixfrBytes*5 > axfrBytes || strings.Contains(knotLog(), "AXFR-style") {
		t.Errorf("knot transferred AXFR %d bytes, IXFR %d bytes; want an incremental IXFR far smaller", axfrBytes, ixfrBytes)
	}
	t.Logf("knot: AXFR %d bytes, IXFR after one change %d bytes", axfrBytes, ixfrBytes)

	// kdig IXFR=serial (Knot's client and TSIG): the incremental form,
	// SOA new, SOA old, SOA new, the added record, SOA new.
	out, err := exec.Command(kdig, "@"+hostOf(nsAddr), "-p", portOf(nsAddr), "+tcp", "+nocomments", "+nostats",
		"-y", "hmac-sha256:"+key.Name+":"+key.Secret, fmt.Sprintf("IXFR=%d", before), zone).CombinedOutput()
	if err != nil {
		t.Fatalf("kdig IXFR=%d: %v\n%s", before, err, out)
	}
	var kinds []string
	for _, line := range strings.Split(string(out), "\n") {
		if rr, err := dns.NewRR(line); err == nil && rr != nil {
			if soa, ok := rr.(*dns.SOA); ok {
				kinds = append(kinds, fmt.Sprintf("SOA %d", soa.Serial))
			} else {
				kinds = append(kinds, rr.Header().Name+" "+dns.TypeToString[rr.Header().Rrtype])
			}
		}
	}
	now := fmt.Sprintf("SOA %d", before+1)
	if want := []string{now, fmt.Sprintf("SOA %d", before), now, "new." + zone + " A", now}; !slices.Equal(kinds, want) {
		t.Errorf("kdig IXFR=%d: %q, want %q\n%s", before, kinds, want, out)
	}

	// Every record set of the zone (as kdig transfers it with the key:
	// Knot's TSIG against ours) is answered the same by both.
	out, err = exec.Command(kdig, "@"+hostOf(nsAddr), "-p", portOf(nsAddr), "+tcp", "+nocomments", "+nostats",
		"-y", "hmac-sha256:"+key.Name+":"+key.Secret, "AXFR", zone).CombinedOutput()
	if err != nil {
		t.Fatalf("kdig AXFR with the key: %v\n%s", err, out)
	}
	type rrKey struct {
		name string
		typ  uint16
	}
	var sets []rrKey
	for _, line := range strings.Split(string(out), "\n") {
		rr, err := dns.NewRR(line)
		if err != nil || rr == nil {
			continue
		}
		k := rrKey{strings.ToLower(rr.Header().Name), rr.Header().Rrtype}
		if !slices.Contains(sets, k) {
			sets = append(sets, k)
		}
	}
	if !slices.Contains(sets, rrKey{"new." + zone, dns.TypeA}) || !slices.Contains(sets, rrKey{zone, dns.TypeNS}) {
		t.Fatalf("kdig's AXFR lacks records: %v\n%s", sets, out)
	}
	t.Logf("comparing %d record sets", len(sets))
	for _, k := range sets {
		want := answerStrings(t, ns.srv.UDPAddr().String(), k.name, k.typ)
		got := answerStrings(t, knotAddr, k.name, k.typ)
		if !slices.Equal(got, want) {
			t.Errorf("%s %s: knot %q, waymark %q", k.name, dns.TypeToString[k.typ], got, want)
		}
	}

	// Without TSIG, or with a wrong secret: refused.
	for _, args := range [][]string{
		{},
		{"-y", "hmac-sha256:" + key.Name + ":" + "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="},
	} {
		a := append([]string{"@" + hostOf(nsAddr), "-p", portOf(nsAddr), "+tcp"}, args...)
		out, _ := exec.Command(kdig, append(a, "AXFR", zone)...).CombinedOutput()
		if !strings.Contains(string(out), "REFUSED") || strings.Contains(string(out), "\tSOA\t") {
			t.Errorf("kdig AXFR %v: not refused:\n%s", args, out)
		}
	}
}

// answerStrings asks addr for name/qtype and returns the answer records
// as text, sorted.
func answerStrings(t *testing.T, addr, name string, qtype uint16) []string {
	t.Helper()
	r, err := query(addr, name, qtype)
	if err != nil {
		t.Fatalf("%s %s from %s: %v", name, dns.TypeToString[qtype], addr, err)
	}
	var out []string
	for _, rr := range r.Answer {
		out = append(out, rr.String())
	}
	slices.Sort(out)
	return append(out, "rcode "+dns.RcodeToString[r.Rcode])
}

// startKnot runs knotd as a secondary of zone, transferring from primary
// (host:port, TCP) with the TSIG key and accepting its NOTIFYs, listening
// on 127.0.0.1:port; it returns the address and a function returning
// knotd's log so far.
func startKnot(t *testing.T, bin, zone, keyName, secret, primary string, port int) (string, func() string) {
	t.Helper()
	dir := t.TempDir()
	conf := fmt.Sprintf(`server:
    rundir: %[1]s
    listen: 127.0.0.1@%[2]d
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: info
database:
    storage: %[1]s
key:
  - id: %[3]s
    algorithm: hmac-sha256
    secret: %[4]s
remote:
  - id: waymark
    address: %[5]s@%[6]s
    key: %[3]s
acl:
  - id: waymark-notify
    address: %[5]s
    key: %[3]s
    action: notify
template:
  - id: default
    storage: %[1]s
    zonefile-sync: -1
    zonefile-load: none
    journal-content: none
zone:
  - domain: %[7]s
    master: waymark
    acl: waymark-notify
`, dir, port, keyName, secret, hostOf(primary), portOf(primary), zone)
	path := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd := exec.Command(bin, "-c", path)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start knotd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("knotd output:\n%s", out.String())
		}
	})
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), out.String
}

// knotXfrBytes returns the size of the last incoming transfer of kind
// (AXFR or IXFR) knotd logged as finished, or 0.
func knotXfrBytes(log, kind string) int {
	n := 0
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, kind+", incoming") || !strings.Contains(line, "finished") {
			continue
		}
		f := strings.Fields(line[strings.Index(line, "messages,")+len("messages,"):])
		if len(f) > 0 {
			n, _ = strconv.Atoi(f[0])
		}
	}
	return n
}

// syncBuffer is a strings.Builder safe for a process writing while the
// test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func hostOf(addr string) string { h, _, _ := net.SplitHostPort(addr); return h }
func portOf(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }
