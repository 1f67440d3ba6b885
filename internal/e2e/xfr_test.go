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

// secondaryPeer is a DNS server from Debian's packages run as a TSIG
// secondary of a Waymark zone.
type secondaryPeer struct {
	name string
	bin  string // looked up in PATH; missing is a failure
	// start runs the secondary of zone, transferring from primary
	// (host:port, TCP) with the key and accepting its NOTIFYs, on
	// 127.0.0.1:port; it returns a function returning the log so far.
	start func(t *testing.T, bin, dir, zone, keyName, secret, primary string, port int) func() string
}

// TestSecondaries runs Knot, NSD, BIND and PowerDNS, each as a TSIG (hmac-sha256)
// secondary of its own Waymark zone: each bootstraps with a full
// transfer, a change made through the control plane reaches it by NOTIFY
// and a transfer within 2 s, and it then answers every static record set
// exactly as Waymark does. With Knot the change must come as an
// incremental IXFR (its log gives the bytes), kdig IXFR=serial gets the
// incremental form, and kdig (Knot's TSIG implementation) transfers with
// the key, is refused without it and gets BADSIG with a wrong secret.
// BIND signs its refresh SOA queries and needs them answered signed. A
// server
// missing is a failure: the test is the claim that they interoperate.
func TestSecondaries(t *testing.T) {
	kdig, err := exec.LookPath("kdig")
	if err != nil {
		t.Fatalf("kdig is not installed (.ci/apt.d/i14.txt: knot-dnsutils): %v", err)
	}
	peers := []secondaryPeer{
		{"knot", "knotd", startKnot},
		{"nsd", "nsd", startNSD},
		{"bind", "named", startBIND},
		{"powerdns", "pdns_server", startPowerDNS},
	}
	bins := map[string]string{}
	for _, p := range peers {
		if bins[p.name], err = exec.LookPath(p.bin); err != nil {
			t.Fatalf("%s is not installed (.ci/apt.d/i14.txt): %v", p.bin, err)
		}
	}
	c := newCluster(t, clusterConfig{})
	ns := c.startNameserver("ns-1", "eu-west-1", "")
	nsAddr := ns.srv.TCPAddr().String()
	for _, p := range peers {
		t.Run(p.name, func(t *testing.T) {
			ctx := context.Background()
			zone := p.name + "-xfr.example."
			z, ch := c.createZone(zone)
			c.waitInSync(ch, 5*time.Second)
			// 200 names, so that a full transfer and an incremental one
			// differ in size by far.
			var bulk []zonecfg.RRSet
			for i := range 200 {
				bulk = append(bulk, zonecfg.RRSet{Name: fmt.Sprintf("www%d.%s", i, zone), Type: "A", TTL: 60,
					Records: []string{fmt.Sprintf("192.0.2.%d", i)}})
			}
			c.waitInSync(c.change(c.tenant, z.ID, bulk...), 5*time.Second)
			key, err := c.svc.CreateTSIGKey(ctx, c.tenant, p.name+"."+zone, "hmac-sha256")
			if err != nil {
				t.Fatal(err)
			}
			port := freeUDPPort(t)
			_, ch, err = c.svc.PutTransfers(ctx, c.tenant, z.ID, controlplane.TransferConfig{
				Allow:  []controlplane.TransferAllow{{TSIGKey: key.Name, CIDRs: []string{"127.0.0.0/8"}}},
				Notify: []controlplane.TransferNotify{{Address: "127.0.0.1", Port: uint16(port), TSIGKey: key.Name}},
			})
			if err != nil {
				t.Fatal(err)
			}
			c.waitInSync(ch, 5*time.Second)
			peerAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			peerLog := p.start(t, bins[p.name], t.TempDir(), zone, key.Name, key.Secret, nsAddr, port)
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("%s output:\n%s", p.bin, peerLog())
				}
			})

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
			testkit.Eventually(t, 10*time.Second, func() error {
				want, err := version(ns.srv.UDPAddr().String())
				if err != nil {
					return err
				}
				got, err := version(peerAddr)
				if err != nil {
					return err
				}
				if got != want {
					return fmt.Errorf("%s has serial %d, waymark %d", p.name, got, want)
				}
				return nil
			})
			before, err := version(ns.srv.UDPAddr().String())
			if err != nil {
				t.Fatal(err)
			}

			// A change reaches the secondary by NOTIFY within 2 s of its
			// submission.
			start := time.Now()
			c.upsertA(z.ID, "new."+zone, "192.0.2.77")
			testkit.Eventually(t, 2*time.Second, func() error {
				r, err := query(peerAddr, "new."+zone, dns.TypeA)
				if err != nil {
					return err
				}
				if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.77" {
					return fmt.Errorf("%s answers new.%s with %v", p.name, zone, r.Answer)
				}
				return nil
			})
			t.Logf("change submitted to answered by %s: %s", p.name, time.Since(start))

			if p.name == "knot" {
				// Knot's log: the bootstrap was an AXFR, the change an
				// IXFR that carried the difference only.
				log := peerLog()
				axfrBytes, ixfrBytes := knotXfrBytes(log, "AXFR"), knotXfrBytes(log, "IXFR")
				if axfrBytes == 0 || ixfrBytes == 0 || ixfrBytes*5 > axfrBytes || strings.Contains(log, "AXFR-style") {
					t.Errorf("knot transferred AXFR %d bytes, IXFR %d bytes; want an incremental IXFR far smaller", axfrBytes, ixfrBytes)
				}
				t.Logf("knot: AXFR %d bytes, IXFR after one change %d bytes", axfrBytes, ixfrBytes)
				kdigChecks(t, kdig, nsAddr, zone, key.Name, key.Secret, before)
			}

			// Every record set of the zone (as kdig transfers it with the
			// key: Knot's TSIG against ours) is answered the same by both.
			out, err := exec.Command(kdig, "@"+hostOf(nsAddr), "-p", portOf(nsAddr), "+tcp", "+nocomments", "+nostats",
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
			for _, k := range sets {
				want := answerStrings(t, ns.srv.UDPAddr().String(), k.name, k.typ)
				got := answerStrings(t, peerAddr, k.name, k.typ)
				if !slices.Equal(got, want) {
					t.Errorf("%s %s: %s %q, waymark %q", k.name, dns.TypeToString[k.typ], p.name, got, want)
				}
			}
			t.Logf("%d record sets answered alike", len(sets))
		})
	}
}

// kdigChecks runs Knot's client against the nameserver at nsAddr: IXFR
// from serial before (one change ago) gets SOA new, SOA old, SOA new, the
// added record, SOA new; AXFR without TSIG is REFUSED, with a wrong
// secret NOTAUTH/BADSIG.
func kdigChecks(t *testing.T, kdig, nsAddr, zone, keyName, secret string, before uint32) {
	t.Helper()
	out, err := exec.Command(kdig, "@"+hostOf(nsAddr), "-p", portOf(nsAddr), "+tcp", "+nocomments", "+nostats",
		"-y", "hmac-sha256:"+keyName+":"+secret, fmt.Sprintf("IXFR=%d", before), zone).CombinedOutput()
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
	// Unsigned: REFUSED. A wrong secret: NOTAUTH with BADSIG, as Knot's
	// client reads RFC 8945.
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "REFUSED"},
		{[]string{"-y", "hmac-sha256:" + keyName + ":" + "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="}, "BADSIG"},
	} {
		a := append([]string{"@" + hostOf(nsAddr), "-p", portOf(nsAddr), "+tcp"}, c.args...)
		out, _ := exec.Command(kdig, append(a, "AXFR", zone)...).CombinedOutput()
		if !strings.Contains(string(out), c.want) || strings.Contains(string(out), "\tSOA\t") {
			t.Errorf("kdig AXFR %v: not %s:\n%s", c.args, c.want, out)
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

// startKnot runs knotd as a secondary (secondaryPeer.start).
func startKnot(t *testing.T, bin, dir, zone, keyName, secret, primary string, port int) func() string {
	t.Helper()
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
	return runPeer(t, dir, "knot.conf", conf, bin, "-c")
}

// startNSD runs nsd as a secondary (secondaryPeer.start): no privilege
// drop, no chroot, no control socket, its files in dir.
func startNSD(t *testing.T, bin, dir, zone, keyName, secret, primary string, port int) func() string {
	t.Helper()
	conf := fmt.Sprintf(`server:
    ip-address: 127.0.0.1@%[2]d
    do-ip6: no
    port: %[2]d
    username: ""
    chroot: ""
    zonesdir: "%[1]s"
    database: ""
    zonelistfile: "%[1]s/zone.list"
    xfrdfile: "%[1]s/xfrd.state"
    xfrdir: "%[1]s"
    pidfile: "%[1]s/nsd.pid"
    logfile: ""
    server-count: 1
    verbosity: 2
remote-control:
    control-enable: no
key:
    name: "%[3]s"
    algorithm: hmac-sha256
    secret: "%[4]s"
zone:
    name: "%[7]s"
    zonefile: "%[1]s/secondary.zone"
    request-xfr: %[5]s@%[6]s %[3]s
    allow-notify: %[5]s %[3]s
`, dir, port, keyName, secret, hostOf(primary), portOf(primary), zone)
	return runPeer(t, dir, "nsd.conf", conf, bin, "-d", "-c")
}

// startBIND runs named as a secondary (secondaryPeer.start), in the
// foreground, its files in dir.
func startBIND(t *testing.T, bin, dir, zone, keyName, secret, primary string, port int) func() string {
	t.Helper()
	conf := fmt.Sprintf(`options {
    directory "%[1]s";
    pid-file "%[1]s/named.pid";
    listen-on port %[2]d { 127.0.0.1; };
    listen-on-v6 { none; };
    recursion no;
    notify no;
    dnssec-validation no;
};
controls { };
key "%[3]s" {
    algorithm hmac-sha256;
    secret "%[4]s";
};
zone "%[7]s" {
    type secondary;
    primaries port %[6]s { %[5]s key "%[3]s"; };
    allow-notify { %[5]s; };
    file "%[1]s/secondary.db";
};
`, dir, port, keyName, secret, hostOf(primary), portOf(primary), zone)
	return runPeer(t, dir, "named.conf", conf, bin, "-g", "-n", "1", "-c")
}

// startPowerDNS runs pdns_server as a secondary (secondaryPeer.start),
// with the gsqlite3 backend: the database made from Debian's schema, the
// key, the zone and its AXFR-MASTER-TSIG set with pdnsutil, as
// docs/transfers.md shows.
func startPowerDNS(t *testing.T, bin, dir, zone, keyName, secret, primary string, port int) func() string {
	t.Helper()
	conf := fmt.Sprintf(`launch=gsqlite3
gsqlite3-database=%[1]s/pdns.db
local-address=127.0.0.1
local-port=%[2]d
socket-dir=%[1]s
secondary=yes
xfr-cycle-interval=1
allow-notify-from=127.0.0.0/8
daemon=no
guardian=no
disable-syslog=yes
log-dns-details=yes
loglevel=6
`, dir, port)
	if err := os.WriteFile(filepath.Join(dir, "pdns.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	schema, err := os.ReadFile("/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql")
	if err != nil {
		t.Fatalf("PowerDNS's sqlite3 schema (.ci/apt.d/i14.txt: pdns-backend-sqlite3): %v", err)
	}
	sqlite := exec.Command("sqlite3", filepath.Join(dir, "pdns.db"))
	sqlite.Stdin = strings.NewReader(string(schema))
	if out, err := sqlite.CombinedOutput(); err != nil {
		t.Fatalf("sqlite3 (.ci/apt.d/i14.txt: sqlite3): %v\n%s", err, out)
	}
	for _, args := range [][]string{
		{"import-tsig-key", keyName, "hmac-sha256", secret},
		{"create-secondary-zone", zone, primary},
		{"set-meta", zone, "AXFR-MASTER-TSIG", keyName},
	} {
		if out, err := exec.Command("pdnsutil", append([]string{"--config-dir=" + dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("pdnsutil %v: %v\n%s", args, err, out)
		}
	}
	return runPeer(t, dir, "", "", bin, "--config-dir="+dir)
}

// runPeer writes conf to dir/file and runs bin with args and that path
// (file "": args alone), killed when the test ends; it returns a function
// returning its output so far.
func runPeer(t *testing.T, dir, file, conf, bin string, args ...string) func() string {
	t.Helper()
	if file != "" {
		path := filepath.Join(dir, file)
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, path)
	}
	out := &syncBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return out.String
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
