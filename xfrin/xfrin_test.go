package xfrin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const testZone = "primary.example."

// knotPrimary runs Debian's knotd as the primary of testZone, from a
// master file it can rewrite (write, then reload) and with hmac-sha256
// key "xfr." allowed to transfer; it returns the address, the key's
// secret and the function that publishes a new version of the zone.
func knotPrimary(t *testing.T) (string, string, func(serial int, extra string)) {
	t.Helper()
	knotd, err := exec.LookPath("knotd")
	if err != nil {
		t.Fatalf("knotd is not installed (.ci/apt.d/i14.txt: knot): %v", err)
	}
	knotc, err := exec.LookPath("knotc")
	if err != nil {
		t.Fatalf("knotc is not installed (.ci/apt.d/i14.txt: knot): %v", err)
	}
	dir := t.TempDir()
	secretB := make([]byte, 32)
	_, _ = rand.Read(secretB)
	secret := base64.StdEncoding.EncodeToString(secretB)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	file := filepath.Join(dir, "primary.example.zone")
	write := func(serial int, extra string) {
		body := fmt.Sprintf("$ORIGIN %s\n$TTL 300\n@ 3600 SOA ns1 admin %d 60 10 3600 300\n@ 3600 NS ns1\nns1 A 192.0.2.53\n"+
			"www A 192.0.2.1\nwww A 192.0.2.2\nmail MX 10 mx.example.net.\ntxt TXT \"hello world\"\n%s", testZone, serial, extra)
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(1, "")
	conf := fmt.Sprintf(`server:
    rundir: %[1]s
    listen: 127.0.0.1@%[2]d
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
control:
    listen: %[1]s/knot.sock
log:
  - target: stderr
    any: warning
database:
    storage: %[1]s
key:
  - id: xfr.
    algorithm: hmac-sha256
    secret: %[3]s
acl:
  - id: xfr
    key: xfr.
    action: transfer
template:
  - id: default
    storage: %[1]s
    file: "%%s.zone"
    zonefile-sync: -1
    zonefile-load: difference
    journal-content: changes
    acl: xfr
zone:
  - domain: %[4]s
`, dir, port, secret, testZone)
	path := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(knotd, "-c", path)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("knotd:\n%s", out.String())
		}
	})
	addr := net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
	waitSerial(t, addr, 1)
	publish := func(serial int, extra string) {
		write(serial, extra)
		if b, err := exec.Command(knotc, "-s", filepath.Join(dir, "knot.sock"), "zone-reload", testZone).CombinedOutput(); err != nil {
			t.Fatalf("knotc zone-reload: %v: %s", err, b)
		}
		waitSerial(t, addr, uint32(serial))
	}
	return addr, secret, publish
}

// waitSerial polls the primary until it serves serial.
func waitSerial(t *testing.T, addr string, serial uint32) {
	t.Helper()
	c := &dns.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		m := new(dns.Msg)
		m.SetQuestion(testZone, dns.TypeSOA)
		if r, _, err := c.Exchange(m, addr); err == nil && len(r.Answer) == 1 && r.Answer[0].(*dns.SOA).Serial == serial {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("knot does not serve serial %d", serial)
}

// TestFetchFromKnot: AXFR from a Knot primary, then after a change on the
// primary an IXFR applied incrementally that equals a fresh AXFR, then
// nothing to do; a wrong secret fails (Knot's TSIG against miekg's).
func TestFetchFromKnot(t *testing.T) {
	addr, secret, publish := knotPrimary(t)
	p := Primary{Addr: addr, KeyName: "xfr.", Algorithm: "hmac-sha256", Secret: secret}
	ctx := context.Background()
	r, err := Fetch(ctx, p, testZone, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Changed || r.Incremental || r.Zone.Serial() != 1 || len(r.Zone.RRSets) != 5 {
		t.Fatalf("AXFR: changed %v, incremental %v, serial %d, %d sets", r.Changed, r.Incremental, r.Zone.Serial(), len(r.Zone.RRSets))
	}
	if got := r.Zone.RRSet(Key{"www." + testZone, dns.TypeA}); len(got.Records) != 2 || got.TTL != 300 {
		t.Errorf("www A: %+v", got)
	}
	v1 := r.Zone

	// A change on the primary: one name added, one value changed.
	publish(2, "new A 192.0.2.9\nwww A 192.0.2.3\n")
	r, err = Fetch(ctx, p, testZone, v1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Changed || !r.Incremental || r.Zone.Serial() != 2 {
		t.Fatalf("IXFR: changed %v, incremental %v, serial %d", r.Changed, r.Incremental, r.Zone.Serial())
	}
	full, err := Fetch(ctx, p, testZone, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if d, u := Diff(r.Zone, full.Zone); len(d) != 0 || len(u) != 0 {
		t.Errorf("IXFR-applied zone differs from a fresh AXFR: deletes %v, upserts %v", d, u)
	}
	if r.Bytes >= full.Bytes {
		t.Errorf("IXFR %d bytes, AXFR %d: not incremental", r.Bytes, full.Bytes)
	}
	d, u := Diff(v1, r.Zone)
	if len(d) != 0 || len(u) != 3 { // SOA, new A, www A
		t.Errorf("diff 1→2: deletes %v, upserts %v", d, u)
	}
	if len(v1.RRSets[Key{"www." + testZone, dns.TypeA}]) != 2 {
		t.Error("applying the IXFR changed the zone it started from")
	}

	// Up to date: nothing transferred.
	again, err := Fetch(ctx, p, testZone, r.Zone, 5*time.Second)
	if err != nil || again.Changed || again.Zone != r.Zone {
		t.Errorf("up to date: changed %v, err %v", again.Changed, err)
	}

	// A wrong secret: an error, no zone.
	bad := p
	bad.Secret = base64.StdEncoding.EncodeToString(make([]byte, 32))
	if _, err := Fetch(ctx, bad, testZone, nil, 5*time.Second); err == nil {
		t.Error("a wrong secret transferred")
	}
}

func TestApplyIXFRRejects(t *testing.T) {
	t.Parallel()
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	soa := func(n int) dns.RR { return rr(fmt.Sprintf("z. 60 SOA ns. admin. %d 60 10 3600 60", n)) }
	have := &Zone{Name: "z.", SOA: soa(1).(*dns.SOA), RRSets: map[Key][]dns.RR{{"a.z.", dns.TypeA}: {rr("a.z. 60 A 192.0.2.1")}}}
	for _, c := range []struct {
		name string
		rrs  []dns.RR
	}{
		{"empty", nil},
		{"no SOA first", []dns.RR{rr("a.z. 60 A 192.0.2.1")}},
		{"delta from another serial", []dns.RR{soa(3), soa(2), soa(3), soa(3)}},
		{"not ended by the new SOA", []dns.RR{soa(2), soa(1), soa(2), rr("b.z. 60 A 192.0.2.2")}},
		{"out of zone", []dns.RR{soa(2), soa(1), soa(2), rr("b.other. 60 A 192.0.2.2"), soa(2)}},
	} {
		if _, _, err := ApplyIXFR(have, c.rrs); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", c.name, err)
		}
	}
	z, inc, err := ApplyIXFR(have, []dns.RR{soa(2), soa(1), rr("a.z. 60 A 192.0.2.1"), soa(2), rr("b.z. 60 A 192.0.2.2"), soa(2)})
	if err != nil || !inc || len(z.RRSets) != 1 || z.RRSets[Key{"b.z.", dns.TypeA}] == nil || len(have.RRSets) != 1 || have.RRSets[Key{"a.z.", dns.TypeA}] == nil {
		t.Errorf("a good delta: %v %v %v", z, inc, err)
	}
}

func TestTimers(t *testing.T) {
	t.Parallel()
	soa := &dns.SOA{Refresh: 60, Retry: 10, Expire: 3600}
	tm := TimersOf(soa)
	t0 := time.Unix(1_700_000_000, 0)
	if next, exp := tm.Next(t0, t0, false); !next.Equal(t0.Add(time.Minute)) || exp {
		t.Errorf("after a success: %v %v", next, exp)
	}
	if next, exp := tm.Next(t0.Add(2*time.Minute), t0, true); !next.Equal(t0.Add(2*time.Minute+10*time.Second)) || exp {
		t.Errorf("after a failure: %v %v", next, exp)
	}
	if _, exp := tm.Next(t0.Add(time.Hour), t0, true); !exp {
		t.Error("an hour without success is past the expire")
	}
	if got := TimersOf(&dns.SOA{Refresh: 7200, Retry: 0, Expire: 600}); got.Refresh != 600*time.Second || got.Retry != time.Second {
		t.Errorf("bounds: %+v", got)
	}
}

func TestDiffFromNothing(t *testing.T) {
	t.Parallel()
	rr, _ := dns.NewRR("a.z. 60 A 192.0.2.1")
	z := &Zone{Name: "z.", SOA: &dns.SOA{Hdr: dns.RR_Header{Name: "z.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60}, Ns: "ns.", Mbox: "a.", Serial: 1},
		RRSets: map[Key][]dns.RR{{"a.z.", dns.TypeA}: {rr}}}
	d, u := Diff(nil, z)
	if len(d) != 0 || len(u) != 2 || u[0].Type != "SOA" || u[1].Type != "A" {
		t.Errorf("deletes %v, upserts %v", d, u)
	}
	if _, _, _, err := u[0].Pack(nil); err != nil {
		t.Errorf("the SOA set does not pack: %v", err)
	}
}

// FuzzApplyIXFR: any records a primary sends, applied to a zone, give an
// error or a zone; never a panic, and the zone started from is unchanged.
func FuzzApplyIXFR(f *testing.F) {
	m := new(dns.Msg)
	m.SetQuestion("z.", dns.TypeIXFR)
	for _, s := range []string{"z. 60 SOA ns. a. 2 60 10 3600 60", "z. 60 SOA ns. a. 1 60 10 3600 60", "a.z. 60 A 192.0.2.1",
		"z. 60 SOA ns. a. 2 60 10 3600 60", "b.z. 60 A 192.0.2.2", "z. 60 SOA ns. a. 2 60 10 3600 60"} {
		rr, _ := dns.NewRR(s)
		m.Answer = append(m.Answer, rr)
	}
	b, _ := m.Pack()
	f.Add(b)
	a, _ := dns.NewRR("a.z. 60 A 192.0.2.1")
	f.Fuzz(func(t *testing.T, b []byte) {
		msg := new(dns.Msg)
		if msg.Unpack(b) != nil {
			return
		}
		have := &Zone{Name: "z.", SOA: &dns.SOA{Hdr: dns.RR_Header{Name: "z.", Rrtype: dns.TypeSOA, Class: dns.ClassINET}, Serial: 1},
			RRSets: map[Key][]dns.RR{{"a.z.", dns.TypeA}: {a}}}
		z, _, err := ApplyIXFR(have, msg.Answer)
		if err == nil && z == nil {
			t.Fatal("no zone and no error")
		}
		if len(have.RRSets) != 1 || len(have.RRSets[Key{"a.z.", dns.TypeA}]) != 1 {
			t.Fatal("the zone started from changed")
		}
	})
}
