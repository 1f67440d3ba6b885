package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/dnssec"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/testkit"
	"github.com/waymark-dns/waymark/zonecfg"
)

// TestDNSSECUnbound signs a zone through the control plane, once per
// signing algorithm (ECDSAP256SHA256, the default, and Ed25519), and has
// real validators check its answers: Debian's unbound (the zone's DS as its
// only trust anchor, a stub to a Waymark nameserver) sets AD on positive,
// wildcard, CNAME, routed, NXDOMAIN, NODATA, DNSKEY, CDS, ANY and both
// kinds of delegation, and delv (BIND's) fully validates a sample; a wrong
// trust anchor gives SERVFAIL.
func TestDNSSECUnbound(t *testing.T) {
	unbound, err := exec.LookPath("unbound")
	if err != nil {
		t.Fatal("unbound is not installed: .ci/apt.d/i10.txt lists it (apt-get install unbound)")
	}
	delv, err := exec.LookPath("delv")
	if err != nil {
		t.Fatal("delv is not installed: .ci/apt.d/i10.txt lists bind9-dnsutils (apt-get install bind9-dnsutils)")
	}
	t.Parallel()
	for _, alg := range []uint8{dnssec.ECDSAP256SHA256, dnssec.ED25519} {
		t.Run(dnssec.AlgorithmMnemonic(alg), func(t *testing.T) {
			t.Parallel()
			testDNSSECUnbound(t, unbound, delv, alg)
		})
	}
}

func testDNSSECUnbound(t *testing.T, unbound, delv string, alg uint8) {
	c := newCluster(t, clusterConfig{DNSSEC: controlplane.DNSSECOptions{Algorithm: alg}})
	ns := c.startNameserver("ns-dnssec", "r1", t.TempDir())
	const zone = "signed.example.com."
	z, create := c.createZone(zone)
	ctx := context.Background()
	set := func(name, typ string, values ...string) controlplane.RRSetChange {
		return controlplane.RRSetChange{Action: controlplane.ActionUpsert,
			RRSet: zonecfg.RRSet{Name: name, Type: typ, TTL: 60, Records: values}}
	}
	w := func(id string, weight uint8, ip string) controlplane.RRSetChange {
		return controlplane.RRSetChange{Action: controlplane.ActionUpsert, RRSet: zonecfg.RRSet{
			Name: "weighted." + zone, Type: "A", TTL: 60, Records: []string{ip},
			SetIdentifier: id, Routing: zonecfg.Routing{Weight: &weight}}}
	}
	if _, err := c.svc.ChangeRRSets(ctx, c.tenant, z.ID, controlplane.ChangeBatch{Changes: []controlplane.RRSetChange{
		set("www."+zone, "A", "192.0.2.1", "192.0.2.2"),
		set("www."+zone, "TXT", `"hello"`),
		set("alias."+zone, "CNAME", "www."+zone),
		set("*.wild."+zone, "A", "192.0.2.9"),
		set("a.b.ent."+zone, "A", "192.0.2.10"),
		set("insecure."+zone, "NS", "ns.insecure.example.net."),
		set("secure."+zone, "NS", "ns.secure.example.net."),
		set("secure."+zone, "DS", "12345 13 2 3F2E1D0C3F2E1D0C3F2E1D0C3F2E1D0C3F2E1D0C3F2E1D0C3F2E1D0C3F2E1D0C"),
		w("one", 10, "192.0.2.21"), w("two", 10, "192.0.2.22"),
	}}); err != nil {
		t.Fatal(err)
	}
	enable, err := c.svc.EnableDNSSEC(ctx, c.tenant, z.ID)
	if err != nil {
		t.Fatal(err)
	}
	c.waitInSync(create, 10*time.Second)
	c.waitInSync(enable, 10*time.Second)
	info, err := c.svc.GetDNSSEC(ctx, c.tenant, z.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.KeySigningKeys[0].SigningAlgorithmType; got != int(alg) {
		t.Fatalf("KSK algorithm %d, want %d", got, alg)
	}
	for _, k := range info.ZoneSigningKeys {
		if !strings.Contains(k.DNSKEYRecord, fmt.Sprintf(" 3 %d ", alg)) {
			t.Fatalf("ZSK %s, want algorithm %d", k.DNSKEYRecord, alg)
		}
	}
	ds := zone + " IN DS " + info.KeySigningKeys[0].DSRecord
	nsAddr := ns.srv.UDPAddr().String()

	// The nameserver's own answer is signed with the zone's algorithm.
	if r := resolve(t, nsAddr, "www."+zone, dns.TypeA); len(r.Answer) < 2 {
		t.Fatalf("unsigned answer from the nameserver:\n%s", r)
	} else {
		for _, rr := range r.Answer {
			if sig, ok := rr.(*dns.RRSIG); ok && sig.Algorithm != alg {
				t.Fatalf("RRSIG of algorithm %d, want %d:\n%s", sig.Algorithm, alg, r)
			}
		}
	}

	good := startUnbound(t, unbound, zone, nsAddr, ds)
	for _, tc := range []struct {
		name   string
		qtype  uint16
		rcodes []int
		answer bool
	}{
		{"www." + zone, dns.TypeA, []int{dns.RcodeSuccess}, true},
		{"WwW.SiGnEd.ExAmPlE.cOm.", dns.TypeA, []int{dns.RcodeSuccess}, true},
		{"www." + zone, dns.TypeTXT, []int{dns.RcodeSuccess}, true},
		{"alias." + zone, dns.TypeA, []int{dns.RcodeSuccess}, true},
		{"host.wild." + zone, dns.TypeA, []int{dns.RcodeSuccess}, true},
		{"weighted." + zone, dns.TypeA, []int{dns.RcodeSuccess}, true},
		{zone, dns.TypeDNSKEY, []int{dns.RcodeSuccess}, true},
		{zone, dns.TypeCDS, []int{dns.RcodeSuccess}, true},
		{zone, dns.TypeSOA, []int{dns.RcodeSuccess}, true},
		{"secure." + zone, dns.TypeDS, []int{dns.RcodeSuccess}, true},
		// Denials: compact denial makes NXDOMAIN a NODATA unless the
		// resolver knows RFC 9824; both validate.
		{"nothere." + zone, dns.TypeA, []int{dns.RcodeSuccess, dns.RcodeNameError}, false},
		{"www." + zone, dns.TypeMX, []int{dns.RcodeSuccess}, false},
		{"b.ent." + zone, dns.TypeA, []int{dns.RcodeSuccess}, false},
		{"insecure." + zone, dns.TypeDS, []int{dns.RcodeSuccess}, false},
	} {
		t.Run(tc.name+"/"+dns.TypeToString[tc.qtype], func(t *testing.T) {
			r := resolve(t, good, tc.name, tc.qtype)
			if !r.AuthenticatedData {
				t.Errorf("AD not set:\n%s", r)
			}
			ok := false
			for _, rc := range tc.rcodes {
				ok = ok || r.Rcode == rc
			}
			if !ok || tc.answer != (len(r.Answer) > 0) {
				t.Errorf("rcode %s with %d answers:\n%s", dns.RcodeToString[r.Rcode], len(r.Answer), r)
			}
		})
	}

	// delv validates on its own, from the same trust anchor, through
	// unbound (with CD set, so unbound's own validation does not count).
	{
		anchors := filepath.Join(t.TempDir(), "anchors.conf")
		f := strings.Fields(info.KeySigningKeys[0].DSRecord)
		if err := os.WriteFile(anchors, []byte(fmt.Sprintf("trust-anchors { %s static-ds %s %s %s \"%s\"; };\n",
			zone, f[0], f[1], f[2], f[3])), 0o600); err != nil {
			t.Fatal(err)
		}
		host, port, _ := net.SplitHostPort(good)
		for _, q := range [][2]string{{"www." + zone, "A"}, {"host.wild." + zone, "A"}, {"nothere." + zone, "A"}, {"www." + zone, "MX"}} {
			out, err := exec.Command(delv, "@"+host, "-p", port, "-a", anchors, "+root="+zone, q[0], q[1]).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "; fully validated") && !strings.Contains(string(out), "; negative response, fully validated") {
				t.Errorf("delv %s %s: %v\n%s", q[0], q[1], err, out)
			}
		}
	}

	// A trust anchor that does not match: the zone is bogus.
	f := strings.Fields(info.KeySigningKeys[0].DSRecord)
	wrong := fmt.Sprintf("%s IN DS %s %s %s %s", zone, f[0], f[1], f[2], strings.Repeat("AB", 32))
	bad := startUnbound(t, unbound, zone, nsAddr, wrong)
	if r := resolve(t, bad, "www."+zone, dns.TypeA); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("wrong trust anchor: rcode %s, want SERVFAIL", dns.RcodeToString[r.Rcode])
	}
}

// startUnbound runs a validating unbound on a free loopback port with ds
// as the trust anchor of zone, stubbed to the nameserver at nsAddr (and
// so are moreStubs), and returns its address once it answers.
func startUnbound(t *testing.T, bin, zone, nsAddr, ds string, moreStubs ...string) string {
	t.Helper()
	stubs := map[string]string{zone: nsAddr}
	for _, z := range moreStubs {
		stubs[z] = nsAddr
	}
	return startUnboundStubs(t, bin, ds, stubs)
}

// startUnboundStubs runs a validating unbound on a free loopback port
// with anchor (a DS or DNSKEY record) as its only trust anchor and a stub
// zone per entry of stubs (zone → host:port), and returns its address
// once it answers.
func startUnboundStubs(t *testing.T, bin, anchor string, stubs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	port := freeUDPPort(t)
	conf := fmt.Sprintf(`server:
	interface: 127.0.0.1
	port: %d
	do-tcp: yes
	username: ""
	chroot: ""
	directory: %q
	pidfile: %q
	use-syslog: no
	logfile: ""
	verbosity: 1
	do-not-query-localhost: no
	module-config: "validator iterator"
	trust-anchor: %q
	val-log-level: 2
	qname-minimisation: no
	access-control: 127.0.0.0/8 allow
`, port, dir, filepath.Join(dir, "unbound.pid"), anchor)
	var probe string
	for z, addr := range stubs {
		host, nsPort, _ := net.SplitHostPort(addr)
		conf += fmt.Sprintf("stub-zone:\n\tname: %q\n\tstub-addr: %s@%s\n", z, host, nsPort)
		if probe == "" || len(z) < len(probe) {
			probe = z
		}
	}
	path := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-d", "-c", path)
	var out strings.Builder // one writer for both: exec writes from one goroutine
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start unbound: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("unbound output:\n%s", out.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	testkit.Eventually(t, 10*time.Second, func() error {
		m := new(dns.Msg)
		m.SetQuestion(probe, dns.TypeSOA)
		_, _, err := (&dns.Client{Timeout: 500 * time.Millisecond}).Exchange(m, addr)
		return err
	})
	return addr
}

// resolve asks the resolver at addr with DO set.
func resolve(t *testing.T, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(1232, true)
	r, _, err := (&dns.Client{Timeout: 5 * time.Second}).Exchange(m, addr)
	if err != nil {
		t.Fatalf("resolve %s %s: %v", name, dns.TypeToString[qtype], err)
	}
	return r
}

// freeUDPPort returns a loopback port free for UDP and TCP at the moment.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		_ = pc.Close()
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			_ = l.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// TestDNSSECZSKRollUnderLoad rolls a zone's ZSK (timings of seconds)
// while a caching, validating unbound answers a steady stream of
// queries: not one SERVFAIL, every answer validated.
func TestDNSSECZSKRollUnderLoad(t *testing.T) {
	unbound, err := exec.LookPath("unbound")
	if err != nil {
		t.Fatal("unbound is not installed: .ci/apt.d/i10.txt lists it (apt-get install unbound)")
	}
	t.Parallel()
	c := newCluster(t, clusterConfig{DNSSEC: controlplane.DNSSECOptions{
		// A second of margin past the TTL: resolvers count TTLs in whole
		// seconds, so a 2 s TTL can live almost 3 s in a cache.
		DNSKEYTTL: 2 * time.Second, PublishDelay: time.Second, RetireAfter: 3 * time.Second, ZSKLifetime: time.Hour}})
	ns := c.startNameserver("ns-roll", "r1", t.TempDir())
	const zone = "roll.example.com."
	z, create := c.createZone(zone)
	ctx := context.Background()
	if _, err := c.svc.ChangeRRSets(ctx, c.tenant, z.ID, controlplane.ChangeBatch{Changes: []controlplane.RRSetChange{
		{Action: controlplane.ActionUpsert, RRSet: zonecfg.RRSet{Name: "www." + zone, Type: "A", TTL: 1, Records: []string{"192.0.2.1"}}},
	}}); err != nil {
		t.Fatal(err)
	}
	enable, err := c.svc.EnableDNSSEC(ctx, c.tenant, z.ID)
	if err != nil {
		t.Fatal(err)
	}
	c.waitInSync(create, 10*time.Second)
	c.waitInSync(enable, 10*time.Second)
	info, err := c.svc.GetDNSSEC(ctx, c.tenant, z.ID)
	if err != nil {
		t.Fatal(err)
	}
	first := info.ZoneSigningKeys[0].KeyTag
	res := startUnbound(t, unbound, zone, ns.srv.UDPAddr().String(), zone+" IN DS "+info.KeySigningKeys[0].DSRecord)

	stream := startStream(res, zone)

	if _, err := c.svc.RollZSK(ctx, c.tenant, z.ID); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 60*time.Second, func() error {
		if _, err := c.svc.AdvanceDNSSEC(ctx); err != nil {
			return err
		}
		info, err := c.svc.GetDNSSEC(ctx, c.tenant, z.ID)
		if err != nil {
			return err
		}
		if len(info.ZoneSigningKeys) != 1 || info.ZoneSigningKeys[0].KeyTag == first {
			return fmt.Errorf("ZSKs %+v", info.ZoneSigningKeys)
		}
		return nil
	})
	// The stream goes on until the last step has reached the nameserver
	// and a few more queries have been answered after it.
	stream.finish(t, 25, "the ZSK roll")
}

// validatedStream asks a validating resolver a steady stream of DO=1
// queries about a zone, every third one a fresh name that does not exist
// (a denial signed afresh), and counts the answers that were SERVFAIL or
// lacked AD.
type validatedStream struct {
	asked, servfail, unvalidated atomic.Int64
	stop, done                   chan struct{}
	mu                           sync.Mutex
	lastBad                      string
}

// startStream starts the stream of queries for www.zone and denials in
// zone against the resolver at res, every 20 ms.
func startStream(res, zone string) *validatedStream {
	s := &validatedStream{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		cl := &dns.Client{Timeout: 3 * time.Second}
		for i := 0; ; i++ {
			select {
			case <-s.stop:
				return
			default:
			}
			name := "www." + zone
			if i%3 == 2 {
				name = fmt.Sprintf("n%d.%s", i, zone)
			}
			m := new(dns.Msg)
			m.SetQuestion(name, dns.TypeA)
			m.SetEdns0(1232, true)
			r, _, err := cl.Exchange(m, res)
			s.asked.Add(1)
			switch {
			case err != nil || r.Rcode == dns.RcodeServerFailure:
				s.servfail.Add(1)
			case !r.AuthenticatedData:
				s.unvalidated.Add(1)
			default:
				time.Sleep(20 * time.Millisecond)
				continue
			}
			s.mu.Lock()
			s.lastBad = fmt.Sprint(name, " ", err, " ", r)
			s.mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return s
}

// finish lets n more queries be answered, stops the stream and fails the
// test if any answer was SERVFAIL or not validated.
func (s *validatedStream) finish(t *testing.T, n int64, what string) {
	t.Helper()
	after := s.asked.Load() + n
	testkit.Eventually(t, 20*time.Second, func() error {
		if got := s.asked.Load(); got < after {
			return fmt.Errorf("only %d queries so far", got)
		}
		return nil
	})
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.servfail.Load() > 0 || s.unvalidated.Load() > 0 {
		t.Fatalf("%d queries during %s: %d SERVFAIL, %d without AD; last: %s", s.asked.Load(), what, s.servfail.Load(), s.unvalidated.Load(), s.lastBad)
	}
	t.Logf("%d queries during %s, all validated", s.asked.Load(), what)
}

// TestDNSSECNoPlainKeysOnTheWire looks for every private key of a signed
// zone (after a ZSK roll, so several), in raw, hex and base64 form, in
// every message of the zone stream, in the snapshot the nameservers load
// and in a nameserver's on-disk cache.
func TestDNSSECNoPlainKeysOnTheWire(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterConfig{})
	cacheDir := t.TempDir()
	ns := c.startNameserver("ns-keys", "r1", cacheDir)
	z, create := c.createZone("keys.example.com.")
	ctx := context.Background()
	enable, err := c.svc.EnableDNSSEC(ctx, c.tenant, z.ID)
	if err != nil {
		t.Fatal(err)
	}
	roll, err := c.svc.RollZSK(ctx, c.tenant, z.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []controlplane.ChangeInfo{create, enable, roll} {
		c.waitInSync(ch, 10*time.Second)
	}
	rows, err := c.pool.Query(ctx, `SELECT name, sealed_private FROM dnssec_key WHERE zone_id = $1`, z.ID)
	if err != nil {
		t.Fatal(err)
	}
	var forms [][]byte
	for rows.Next() {
		var name string
		var sealed []byte
		if err := rows.Scan(&name, &sealed); err != nil {
			t.Fatal(err)
		}
		raw, err := dnssec.Open([]byte(strings.Repeat("m", 32)), sealed, dnssec.KeyAD(z.ID, name))
		if err != nil {
			t.Fatal(err)
		}
		forms = append(forms, raw, []byte(hex.EncodeToString(raw)), []byte(base64.StdEncoding.EncodeToString(raw)))
	}
	if len(forms) != 3*3 {
		t.Fatalf("%d key forms, want 9 (a KSK and two ZSKs)", len(forms))
	}
	check := func(where string, b []byte) {
		t.Helper()
		if len(b) == 0 {
			t.Fatalf("%s: nothing to look at", where)
		}
		for _, f := range forms {
			if bytes.Contains(b, f) {
				t.Fatalf("a private key is in plain text in %s", where)
			}
		}
	}

	// Every message of the zone stream.
	js := c.jetstream()
	cons, err := js.OrderedConsumer(ctx, event.StreamName, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.FetchNoWait(1000)
	if err != nil {
		t.Fatal(err)
	}
	var stream bytes.Buffer
	signed := 0
	for m := range batch.Messages() {
		stream.Write(m.Data())
		if bytes.Contains(m.Data(), []byte(`"dnssec"`)) {
			signed++
		}
	}
	if signed < 2 {
		t.Fatalf("%d zone events carry signing material, want 2", signed)
	}
	check("the zone stream", stream.Bytes())

	// The snapshot, as a nameserver fetches it.
	req, _ := http.NewRequest("GET", c.api.URL+"/v1/nameserver/snapshot", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Contains(snap, []byte(`"dnssec"`)) {
		t.Fatalf("snapshot without signing material (%v): %.200s", err, snap)
	}
	check("the snapshot", snap)

	// The nameserver's cache, written as it stops.
	ns.stop()
	files, _ := filepath.Glob(filepath.Join(cacheDir, "*"))
	var cache []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cache = append(cache, b...)
	}
	if !bytes.Contains(cache, []byte(`"wrapped"`)) {
		t.Fatal("the cache holds no signing material")
	}
	check("the nameserver cache", cache)
}

// TestDNSSECKSKRollWithParent rolls the KSK of a zone whose parent is
// hosted here by the same tenant, while a caching, validating unbound
// (trusting only the parent's DS) answers a steady stream of queries for
// the child: the DS in the parent follows the keys by itself (double DS,
// then the old one withdrawn), and not one answer fails validation.
func TestDNSSECKSKRollWithParent(t *testing.T) {
	unbound, err := exec.LookPath("unbound")
	if err != nil {
		t.Fatal("unbound is not installed: .ci/apt.d/i10.txt lists it (apt-get install unbound)")
	}
	t.Parallel()
	c := newCluster(t, clusterConfig{DNSSEC: controlplane.DNSSECOptions{
		DNSKEYTTL: 2 * time.Second, PublishDelay: time.Second, ParentDSTTL: 2 * time.Second,
		RetireAfter: 3 * time.Second, ZSKLifetime: time.Hour}})
	ns := c.startNameserver("ns-ksk", "r1", t.TempDir())
	const parentName, childName = "kskroll.example.com.", "child.kskroll.example.com."
	ctx := context.Background()
	parent, pc := c.createZone(parentName)
	child, cc := c.createZone(childName)
	up := func(zoneID, name, typ string, ttl uint32, values ...string) controlplane.ChangeInfo {
		ch, err := c.svc.ChangeRRSets(ctx, c.tenant, zoneID, controlplane.ChangeBatch{Changes: []controlplane.RRSetChange{
			{Action: controlplane.ActionUpsert, RRSet: zonecfg.RRSet{Name: name, Type: typ, TTL: ttl, Records: values}}}})
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	up(parent.ID, childName, "NS", 60, "ns1.waymark.test.")
	up(child.ID, "www."+childName, "A", 1, "192.0.2.7")
	pe, err := c.svc.EnableDNSSEC(ctx, c.tenant, parent.ID)
	if err != nil {
		t.Fatal(err)
	}
	ce, err := c.svc.EnableDNSSEC(ctx, c.tenant, child.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []controlplane.ChangeInfo{pc, cc, pe, ce} {
		c.waitInSync(ch, 10*time.Second)
	}
	parentDS := func() int {
		st, err := c.svc.ZoneSnapshot(ctx, parent.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, rs := range st.RRSets {
			if rs.Name == childName && rs.Type == "DS" {
				return len(rs.Records)
			}
		}
		return 0
	}
	kskStatus := func(name string) string {
		info, err := c.svc.GetDNSSEC(ctx, c.tenant, child.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range info.KeySigningKeys {
			if k.Name == name {
				return k.Status
			}
		}
		return ""
	}
	// until waits for cond, taking DNSSEC steps as the leader would.
	until := func(what string, cond func() bool) {
		t.Helper()
		testkit.Eventually(t, 60*time.Second, func() error {
			if _, err := c.svc.AdvanceDNSSEC(ctx); err != nil {
				return err
			}
			if !cond() {
				return fmt.Errorf("not yet: %s", what)
			}
			return nil
		})
	}
	until("the child's DS in the parent", func() bool { return parentDS() == 1 })
	// Let the DS change reach the nameserver before the resolver starts.
	until("the parent's changes INSYNC", func() bool {
		z, err := c.svc.ZoneSnapshot(ctx, parent.ID)
		if err != nil {
			return false
		}
		v, ok := ns.node.Store().Version(parent.ID)
		return ok && v == z.Version
	})
	info, err := c.svc.GetDNSSEC(ctx, c.tenant, parent.ID)
	if err != nil {
		t.Fatal(err)
	}
	res := startUnbound(t, unbound, parentName, ns.srv.UDPAddr().String(),
		parentName+" IN DS "+info.KeySigningKeys[0].DSRecord, childName)
	if r := resolve(t, res, "www."+childName, dns.TypeA); !r.AuthenticatedData || len(r.Answer) == 0 {
		t.Fatalf("the child does not validate through the parent's DS:\n%s", r)
	}

	stream := startStream(res, childName)

	if _, _, err := c.svc.CreateKeySigningKey(ctx, c.tenant, child.ID, controlplane.CreateKeySigningKeyInput{Name: "ksk_two", Status: "ACTIVE"}); err != nil {
		t.Fatal(err)
	}
	until("double DS in the parent", func() bool { return parentDS() == 2 })
	// The old KSK leaves: it signs on until its DS has left the parent
	// and the DS TTL has passed, so resolvers holding either DS set
	// validate throughout.
	if _, err := c.svc.DeactivateKeySigningKey(ctx, c.tenant, child.ID, "waymark_ksk_1"); err != nil {
		t.Fatal(err)
	}
	until("the old DS withdrawn", func() bool { return parentDS() == 1 })
	until("the old KSK inactive", func() bool { return kskStatus("waymark_ksk_1") == controlplane.KeyStatusInactive })
	stream.finish(t, 25, "the KSK roll")
}
