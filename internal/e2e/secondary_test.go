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

// knotPrimaryForWaymark is Debian's knotd as the primary of one zone, read
// from a master file the test rewrites, allowing transfers signed with
// key and sending NOTIFY (signed) to the Waymark nameserver at notifyTo.
type knotPrimaryForWaymark struct {
	t                     *testing.T
	knotd, knotc          string
	dir, zone, addr, conf string
	cmd                   *exec.Cmd
	out                   *syncBuffer
}

func startKnotPrimary(t *testing.T, zone, keyName, secret, notifyTo string) *knotPrimaryForWaymark {
	t.Helper()
	k := &knotPrimaryForWaymark{t: t, dir: t.TempDir(), zone: zone, out: &syncBuffer{}}
	var err error
	if k.knotd, err = exec.LookPath("knotd"); err != nil {
		t.Fatalf("knotd is not installed (.ci/apt.d/i14.txt: knot): %v", err)
	}
	if k.knotc, err = exec.LookPath("knotc"); err != nil {
		t.Fatalf("knotc is not installed (.ci/apt.d/i14.txt: knot): %v", err)
	}
	port := freeUDPPort(t)
	k.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	k.conf = filepath.Join(k.dir, "knot.conf")
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
  - id: xfr
    key: %[3]s
    action: transfer
template:
  - id: default
    storage: %[1]s
    file: "%%s.zone"
    zonefile-sync: -1
    zonefile-load: difference
    journal-content: changes
    acl: xfr
    notify: waymark
zone:
  - domain: %[7]s
`, k.dir, port, keyName, secret, hostOf(notifyTo), portOf(notifyTo), zone)
	if err := os.WriteFile(k.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		k.stop()
		if t.Failed() {
			t.Logf("knotd:\n%s", k.out.String())
		}
	})
	return k
}

// write replaces the zone's master file: serial, the SOA timers refresh,
// retry and expire, and extra records.
func (k *knotPrimaryForWaymark) write(serial, refresh, retry, expire int, extra string) {
	k.t.Helper()
	body := fmt.Sprintf("$ORIGIN %s\n$TTL 300\n@ 3600 SOA ns1 hostmaster %d %d %d %d 60\n@ 3600 NS ns1\n@ 3600 NS ns2.example.net.\n"+
		"ns1 A 192.0.2.53\nwww A 192.0.2.1\nwww A 192.0.2.2\nwww AAAA 2001:db8::1\nmail MX 10 mx.example.net.\n"+
		"txt TXT \"hello world\"\nsub NS ns.sub\nns.sub A 192.0.2.54\n_sip._tcp SRV 10 60 5060 sip\n%s",
		k.zone, serial, refresh, retry, expire, extra)
	if err := os.WriteFile(filepath.Join(k.dir, k.zone+"zone"), []byte(body), 0o600); err != nil {
		k.t.Fatal(err)
	}
}

// start runs knotd (again) and waits until it serves serial.
func (k *knotPrimaryForWaymark) start(serial uint32) {
	k.t.Helper()
	k.cmd = exec.Command(k.knotd, "-c", k.conf)
	k.cmd.Stdout, k.cmd.Stderr = k.out, k.out
	if err := k.cmd.Start(); err != nil {
		k.t.Fatal(err)
	}
	k.waitSerial(serial)
}

func (k *knotPrimaryForWaymark) stop() {
	if k.cmd != nil && k.cmd.Process != nil {
		_ = k.cmd.Process.Kill()
		_ = k.cmd.Wait()
		k.cmd = nil
	}
}

// publish reloads the master file (written with write) and waits until
// knotd serves serial; knotd then sends its NOTIFY.
func (k *knotPrimaryForWaymark) publish(serial uint32) {
	k.t.Helper()
	if b, err := exec.Command(k.knotc, "-s", filepath.Join(k.dir, "knot.sock"), "zone-reload", k.zone).CombinedOutput(); err != nil {
		k.t.Fatalf("knotc zone-reload: %v: %s", err, b)
	}
	k.waitSerial(serial)
}

func (k *knotPrimaryForWaymark) waitSerial(serial uint32) {
	k.t.Helper()
	testkit.Eventually(k.t, 10*time.Second, func() error {
		got, err := soaSerial(k.addr, k.zone)
		if err != nil {
			return err
		}
		if got != serial {
			return fmt.Errorf("knot serves serial %d, want %d", got, serial)
		}
		return nil
	})
}

func soaSerial(addr, zone string) (uint32, error) {
	r, err := query(addr, zone, dns.TypeSOA)
	if err != nil {
		return 0, err
	}
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		return 0, fmt.Errorf("SOA from %s: rcode %s, %d answers", addr, dns.RcodeToString[r.Rcode], len(r.Answer))
	}
	return r.Answer[0].(*dns.SOA).Serial, nil
}

// startSecondaries runs a secondary zones' refresh leader, as every
// `waymark api` process campaigns to, until the returned stop.
func (c *cluster) startSecondaries() (stop func()) {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	nc := c.connect()
	go func() {
		defer close(done)
		_ = c.svc.RunLeader(ctx, controlplane.DefaultSecondaryLockKey, func(ctx context.Context) error {
			return c.svc.RunSecondaries(ctx, controlplane.SecondaryOptions{NATS: nc, Poll: 100 * time.Millisecond, Timeout: 2 * time.Second})
		})
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	c.t.Cleanup(stop)
	return stop
}

// TestSecondaryFromKnot makes Waymark the secondary of a zone whose
// primary is Knot, with TSIG: the initial transfer is served with the
// primary's serial and every record set answered as Knot answers it; a
// change on the primary is served within 2 s of Knot's NOTIFY (the SOA
// refresh is an hour, so only the NOTIFY can bring it); with the primary
// stopped past the SOA expire the zone is answered SERVFAIL and the status
// says why; the primary restarted, the zone is served again.
func TestSecondaryFromKnot(t *testing.T) {
	c := newCluster(t, clusterConfig{})
	ns := c.startNameserver("ns-1", "eu-west-1", "")
	nsUDP := ns.srv.UDPAddr().String()
	stopLeader := c.startSecondaries()
	ctx := context.Background()
	const zone = "knot-primary.example."
	key, err := c.svc.CreateTSIGKey(ctx, c.tenant, "xfr."+zone, "hmac-sha256")
	if err != nil {
		t.Fatal(err)
	}
	k := startKnotPrimary(t, zone, key.Name, key.Secret, nsUDP)
	k.write(2026120301, 3600, 1, 3600, "info HINFO \"PC\" \"Linux\"\n")
	k.start(2026120301)

	z, _, err := c.svc.CreateZone(ctx, c.tenant, controlplane.CreateZoneInput{
		Name: zone, CallerReference: fmt.Sprint(time.Now().UnixNano()),
		Secondary: &controlplane.SecondaryConfig{Primaries: []controlplane.SecondaryPrimary{{Address: k.addr, TSIGKey: key.Name}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// A zone whose primary never answers is not served (SERVFAIL, not
	// Waymark's empty apex), and its status says why.
	dead, _, err := c.svc.CreateZone(ctx, c.tenant, controlplane.CreateZoneInput{
		Name: "dead-primary.example.", CallerReference: fmt.Sprint(time.Now().UnixNano()),
		Secondary: &controlplane.SecondaryConfig{Primaries: []controlplane.SecondaryPrimary{{Address: "127.0.0.1:1", TSIGKey: key.Name}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !dead.SecondaryStatus.NotServed {
		t.Errorf("a new secondary zone is shown as served: %+v", dead.SecondaryStatus)
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		r, err := query(nsUDP, "www.dead-primary.example.", dns.TypeA)
		if err != nil {
			return err
		}
		if r.Rcode != dns.RcodeServerFailure {
			return fmt.Errorf("never transferred: %s, want SERVFAIL", dns.RcodeToString[r.Rcode])
		}
		got, err := c.svc.GetZone(ctx, c.tenant, dead.ID)
		if err != nil {
			return err
		}
		if s := got.SecondaryStatus; !s.NotServed || !strings.Contains(s.Error, "not transferred yet") {
			return fmt.Errorf("status of a zone never transferred: %+v", s)
		}
		return nil
	})

	waitServed := func(d time.Duration, serial uint32) {
		t.Helper()
		testkit.Eventually(t, d, func() error {
			got, err := soaSerial(nsUDP, zone)
			if err != nil {
				return err
			}
			if got != serial {
				return fmt.Errorf("waymark serves serial %d, want %d", got, serial)
			}
			return nil
		})
	}
	waitServed(10*time.Second, 2026120301)
	compareWithKnot(t, k.addr, nsUDP, zone, key.Name, key.Secret)
	got, err := c.svc.GetZone(ctx, c.tenant, z.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s := got.SecondaryStatus; s.NotServed || s.Serial != 2026120301 || !strings.Contains(s.Error, "1 record sets from the primary are not served: info."+zone+" HINFO") {
		t.Errorf("status after the first transfer: %+v, want served, serial 2026120301, HINFO named as not served", s)
	}

	// The leader fails over; the new one checks the zone at once and
	// continues from what is stored.
	stopLeader()
	failedOver := time.Now()
	c.startSecondaries()
	testkit.Eventually(t, 10*time.Second, func() error {
		got, err := c.svc.GetZone(ctx, c.tenant, z.ID)
		if err != nil {
			return err
		}
		if at := got.SecondaryStatus.SuccessAt; at == nil || at.Before(failedOver) {
			return fmt.Errorf("no check by the new leader yet: %+v", got.SecondaryStatus)
		}
		return nil
	})

	// A change on the primary: only Knot's NOTIFY can bring it in time.
	k.write(2026120302, 3600, 1, 3600, "info HINFO \"PC\" \"Linux\"\nnew A 192.0.2.99\n")
	start := time.Now()
	k.publish(2026120302)
	testkit.Eventually(t, 2*time.Second, func() error {
		r, err := query(nsUDP, "new."+zone, dns.TypeA)
		if err != nil {
			return err
		}
		if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.99" {
			return fmt.Errorf("waymark answers new.%s with %s %v", zone, dns.RcodeToString[r.Rcode], r.Answer)
		}
		return nil
	})
	t.Logf("change on the primary to served by waymark: %s", time.Since(start))
	// The status names the change that published it, and it goes INSYNC.
	got, err = c.svc.GetZone(ctx, c.tenant, z.ID)
	if err != nil || got.SecondaryStatus.ChangeID == nil || got.SecondaryStatus.Serial != 2026120302 {
		t.Fatalf("status after the NOTIFY: %+v, %v", got.SecondaryStatus, err)
	}
	if ch := c.waitInSync(controlplane.ChangeInfo{ID: *got.SecondaryStatus.ChangeID}, 5*time.Second); !strings.Contains(ch.Comment, "serial 2026120302") {
		t.Errorf("the last change is %+v, want the transfer of serial 2026120302", ch)
	}
	compareWithKnot(t, k.addr, nsUDP, zone, key.Name, key.Secret)

	// Short timers, then the primary stops: past the expire, SERVFAIL.
	k.write(2026120303, 1, 1, 3, "new A 192.0.2.99\n")
	k.publish(2026120303)
	waitServed(5*time.Second, 2026120303)
	k.stop()
	stopped := time.Now()
	testkit.Eventually(t, 15*time.Second, func() error {
		r, err := query(nsUDP, "www."+zone, dns.TypeA)
		if err != nil {
			return err
		}
		if r.Rcode != dns.RcodeServerFailure {
			return fmt.Errorf("www.%s: %s, want SERVFAIL once expired", zone, dns.RcodeToString[r.Rcode])
		}
		return nil
	})
	t.Logf("primary stopped to SERVFAIL: %s (SOA expire 3 s)", time.Since(stopped))
	got, err = c.svc.GetZone(ctx, c.tenant, z.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.SecondaryStatus.NotServed || !strings.Contains(got.SecondaryStatus.Error, "expire") {
		t.Errorf("status of the expired zone: %+v, want not served and why", got.SecondaryStatus)
	}

	// The primary back: served again, and the status says so.
	k.start(2026120303)
	waitServed(10*time.Second, 2026120303)
	testkit.Eventually(t, 5*time.Second, func() error {
		got, err := c.svc.GetZone(ctx, c.tenant, z.ID)
		if err != nil {
			return err
		}
		if s := got.SecondaryStatus; s.NotServed || s.Error != "" || s.Serial != 2026120303 {
			return fmt.Errorf("status after recovery: %+v", s)
		}
		return nil
	})
	compareWithKnot(t, k.addr, nsUDP, zone, key.Name, key.Secret)

	// Changes through the API stay refused.
	_, err = c.svc.ChangeRRSets(ctx, c.tenant, z.ID, controlplane.ChangeBatch{Changes: []controlplane.RRSetChange{{
		Action: controlplane.ActionUpsert, RRSet: zonecfg.RRSet{Name: "x." + zone, Type: "A", TTL: 60, Records: []string{"192.0.2.1"}}}}})
	if e, ok := controlplane.AsError(err); !ok || e.Code != controlplane.CodeHostedZoneIsSecondary {
		t.Errorf("change batch on a secondary zone: %v, want HostedZoneIsSecondary", err)
	}
}

// compareWithKnot checks that every record set of the zone (Knot's AXFR,
// signed with the key) is answered alike by Knot and by the Waymark
// nameserver, serial included.
func compareWithKnot(t *testing.T, knotAddr, nsAddr, zone, keyName, secret string) {
	t.Helper()
	tr := &dns.Transfer{TsigSecret: map[string]string{keyName: secret}}
	m := new(dns.Msg)
	m.SetAxfr(zone)
	m.SetTsig(keyName, dns.HmacSHA256, 300, time.Now().Unix())
	env, err := tr.In(m, knotAddr)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for e := range env {
		if e.Error != nil {
			t.Fatalf("AXFR from knot: %v", e.Error)
		}
		for _, rr := range e.RR {
			k := strings.ToLower(rr.Header().Name) + " " + dns.TypeToString[rr.Header().Rrtype]
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	if len(keys) < 8 {
		t.Fatalf("knot's AXFR has only %v", keys)
	}
	for _, k := range keys {
		name, typ, _ := strings.Cut(k, " ")
		if !slices.Contains(zonecfg.SupportedTypes(), typ) {
			continue // not served, and named in the zone's status
		}
		qt := dns.StringToType[typ]
		want := answerStrings(t, knotAddr, name, qt)
		got := answerStrings(t, nsAddr, name, qt)
		if !slices.Equal(got, want) {
			t.Errorf("%s %s: waymark %q, knot %q", name, typ, got, want)
		}
	}
}
