package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/dnssec/parentds"
	"github.com/waymark-dns/waymark/internal/testkit"
	"github.com/waymark-dns/waymark/zonecfg"
)

// knotParent is a parent zone outside Waymark: Debian's knotd serving
// and signing it (dnssec-signing: on) on a free loopback port, changed
// the way its operator would, with knotc.
type knotParent struct {
	t     *testing.T
	zone  string
	conf  string
	knotc string
	addr  string
}

// startKnotParent serves zone with a delegation of child to the Waymark
// pool name ns1.waymark.test. and no DS yet; the DS TTL is dsTTL.
func startKnotParent(t *testing.T, zone, child string, dsTTL int) *knotParent {
	t.Helper()
	knotd, err := exec.LookPath("knotd")
	if err != nil {
		t.Fatal("knotd is not installed: .ci/apt.d/i10b.txt lists knot (apt-get install knot knot-dnsutils)")
	}
	knotc, err := exec.LookPath("knotc")
	if err != nil {
		t.Fatal("knotc is not installed: .ci/apt.d/i10b.txt lists knot (apt-get install knot knot-dnsutils)")
	}
	dir := t.TempDir()
	port := freeUDPPort(t)
	conf := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`server:
    rundir: %[1]q
    listen: 127.0.0.1@%[2]d
database:
    storage: %[1]q
log:
  - target: stderr
    any: info
policy:
  - id: ecdsa
    algorithm: ecdsap256sha256
    nsec3: off
template:
  - id: default
    storage: %[1]q
    zonefile-sync: -1
zone:
  - domain: %[3]s
    file: %[4]q
    dnssec-signing: on
    dnssec-policy: ecdsa
`, dir, port, zone, filepath.Join(dir, "parent.zone"))), 0o600); err != nil {
		t.Fatal(err)
	}
	label := strings.TrimSuffix(child, "."+zone)
	if err := os.WriteFile(filepath.Join(dir, "parent.zone"), []byte(fmt.Sprintf(`$ORIGIN %s
$TTL 60
@     SOA ns hostmaster 1 3600 600 86400 %d
@     NS  ns
ns    A   127.0.0.1
%s    NS  ns1.waymark.test.
`, zone, dsTTL, label)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, knotd, "-c", conf)
	var out strings.Builder // one writer for both: exec writes from one goroutine
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start knotd: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("knotd output:\n%s", out.String())
		}
	})
	p := &knotParent{t: t, zone: zone, conf: conf, knotc: knotc, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	testkit.Eventually(t, 20*time.Second, func() error {
		m := new(dns.Msg)
		m.SetQuestion(zone, dns.TypeDNSKEY)
		m.SetEdns0(1232, true)
		r, err := dns.Exchange(m, p.addr)
		if err == nil && len(r.Answer) == 0 {
			err = fmt.Errorf("no DNSKEY yet: %s", dns.RcodeToString[r.Rcode])
		}
		return err
	})
	return p
}

// ksk is the parent's own key-signing key, the resolver's trust anchor.
func (p *knotParent) ksk() string {
	p.t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(p.zone, dns.TypeDNSKEY)
	m.SetEdns0(1232, true)
	r, err := dns.Exchange(m, p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	for _, rr := range r.Answer {
		if k, ok := rr.(*dns.DNSKEY); ok && k.Flags == 257 {
			return strings.Join(strings.Fields(k.String()), " ") // unbound wants spaces
		}
	}
	p.t.Fatalf("knot published no KSK:\n%s", r)
	return ""
}

// setDS changes the child's DS set at the parent in one transaction, as
// the parent's operator (or a registrar) would: knotc zone-begin,
// zone-set / zone-unset, zone-commit. Knot re-signs the zone.
func (p *knotParent) setDS(child string, ttl int, add, remove []string) {
	p.t.Helper()
	run := func(args ...string) {
		p.t.Helper()
		out, err := exec.Command(p.knotc, append([]string{"-c", p.conf}, args...)...).CombinedOutput()
		if err != nil {
			p.t.Fatalf("knotc %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("zone-begin", p.zone)
	for _, ds := range add {
		run(append([]string{"zone-set", p.zone, child, strconv.Itoa(ttl), "DS"}, strings.Fields(ds)...)...)
	}
	for _, ds := range remove {
		run(append([]string{"zone-unset", p.zone, child, "DS"}, strings.Fields(ds)...)...)
	}
	run("zone-commit", p.zone)
}

// TestDNSSECKSKRollExternalParent rolls a zone's KSK when its parent is
// outside Waymark: a real Knot serving and signing the parent, changed only
// through knotc, asked by the control plane through its nameservers
// (dnssec/parentds). The roll waits on the parent at every step, the zone
// ACTION_NEEDED with the DS to add, then to remove, in its status message;
// the old key leaves only after the parent stopped answering its DS and the
// DS TTL has passed; a caching, validating unbound (the parent's own KSK as
// trust anchor) answers a steady stream throughout with no SERVFAIL.
func TestDNSSECKSKRollExternalParent(t *testing.T) {
	unbound, err := exec.LookPath("unbound")
	if err != nil {
		t.Fatal("unbound is not installed: .ci/apt.d/i10.txt lists it (apt-get install unbound)")
	}
	t.Parallel()
	const parentName, childName, dsTTL = "extparent.example.net.", "child.extparent.example.net.", 3
	parent := startKnotParent(t, parentName, childName, dsTTL)
	_, knotPort, _ := net.SplitHostPort(parent.addr)
	// Knot answers the NS and address queries too: it is the resolver
	// that finds the parent's nameservers, which are itself.
	lookup := parentds.Lookup{Resolver: parent.addr, Port: knotPort, Timeout: time.Second}
	c := newCluster(t, clusterConfig{DNSSEC: controlplane.DNSSECOptions{
		DNSKEYTTL: 2 * time.Second, PublishDelay: time.Second, RetireAfter: 3 * time.Second,
		ZSKLifetime: time.Hour, ParentDS: lookup}})
	ns := c.startNameserver("ns-extparent", "r1", t.TempDir())
	ctx := context.Background()
	child, cc := c.createZone(childName)
	if _, err := c.svc.ChangeRRSets(ctx, c.tenant, child.ID, controlplane.ChangeBatch{Changes: []controlplane.RRSetChange{
		{Action: controlplane.ActionUpsert, RRSet: zonecfg.RRSet{Name: "www." + childName, Type: "A", TTL: 1, Records: []string{"192.0.2.8"}}},
	}}); err != nil {
		t.Fatal(err)
	}
	ce, err := c.svc.EnableDNSSEC(ctx, c.tenant, child.ID)
	if err != nil {
		t.Fatal(err)
	}
	c.waitInSync(cc, 10*time.Second)
	c.waitInSync(ce, 10*time.Second)
	dnssecInfo := func() controlplane.DNSSECInfo {
		t.Helper()
		info, err := c.svc.GetDNSSEC(ctx, c.tenant, child.ID)
		if err != nil {
			t.Fatal(err)
		}
		return info
	}
	kskDS := func(name string) (string, string) {
		t.Helper()
		for _, k := range dnssecInfo().KeySigningKeys {
			if k.Name == name {
				return k.DSRecord, k.Status
			}
		}
		t.Fatalf("no KSK %s", name)
		return "", ""
	}
	ds1, _ := kskDS("waymark_ksk_1")
	parent.setDS(childName, dsTTL, []string{ds1}, nil)
	testkit.Eventually(t, 10*time.Second, func() error {
		got, _, err := lookup.ParentDS(ctx, childName)
		if err != nil || len(got) != 1 {
			return fmt.Errorf("parent DS %q %v", got, err)
		}
		return nil
	})

	res := startUnboundStubs(t, unbound, parent.ksk(), map[string]string{
		parentName: parent.addr, childName: ns.srv.UDPAddr().String()})
	if r := resolve(t, res, "www."+childName, dns.TypeA); !r.AuthenticatedData || len(r.Answer) == 0 {
		t.Fatalf("the child does not validate through Knot's DS:\n%s", r)
	}

	stream := startStream(res, childName)
	// until takes the leader's steps until cond holds.
	until := func(what string, cond func(controlplane.DNSSECInfo) bool) {
		t.Helper()
		var last controlplane.DNSSECInfo
		testkit.Eventually(t, 60*time.Second, func() error {
			if _, err := c.svc.AdvanceDNSSEC(ctx); err != nil {
				return err
			}
			if last = dnssecInfo(); !cond(last) {
				return fmt.Errorf("not yet: %s (status %s, message %q)", what, last.ServeSignature, last.StatusMessage)
			}
			return nil
		})
	}

	// 1. A second KSK: once its DNSKEY is on the nameservers, the
	// operator is told which DS to add at the parent.
	if _, _, err := c.svc.CreateKeySigningKey(ctx, c.tenant, child.ID, controlplane.CreateKeySigningKeyInput{Name: "ksk_two", Status: "ACTIVE"}); err != nil {
		t.Fatal(err)
	}
	ds2, _ := kskDS("ksk_two")
	until("asked to add the new DS", func(i controlplane.DNSSECInfo) bool {
		return i.ServeSignature == controlplane.SigningStatusActionNeeded && strings.Contains(i.StatusMessage, "add the DS record(s): "+childName+" IN DS "+ds2)
	})
	parent.setDS(childName, dsTTL, []string{ds2}, nil) // double DS
	until("double DS seen", func(i controlplane.DNSSECInfo) bool {
		return i.ServeSignature == controlplane.SigningStatusSigning && i.StatusMessage == ""
	})

	// 2. The old KSK is deactivated: it keeps signing while the parent
	// answers its DS, and the operator is told to remove it.
	if _, err := c.svc.DeactivateKeySigningKey(ctx, c.tenant, child.ID, "waymark_ksk_1"); err != nil {
		t.Fatal(err)
	}
	until("asked to remove the old DS", func(i controlplane.DNSSECInfo) bool {
		return i.ServeSignature == controlplane.SigningStatusActionNeeded && strings.Contains(i.StatusMessage, "remove the DS record(s): "+childName+" IN DS "+ds1)
	})
	for range 3 { // however long the parent keeps it, the key stays
		if _, err := c.svc.AdvanceDNSSEC(ctx); err != nil {
			t.Fatal(err)
		}
		if _, st := kskDS("waymark_ksk_1"); st != controlplane.SigningStatusDeleting {
			t.Fatalf("old KSK %s while the parent still publishes its DS", st)
		}
		time.Sleep(time.Second) // the parent's DS TTL is in seconds: let several pass
	}

	// 3. The parent drops it; the key leaves the DS TTL after that.
	removed := time.Now()
	parent.setDS(childName, dsTTL, nil, []string{ds1})
	until("old KSK inactive", func(controlplane.DNSSECInfo) bool {
		_, st := kskDS("waymark_ksk_1")
		return st == controlplane.KeyStatusInactive
	})
	if waited := time.Since(removed); waited < dsTTL*time.Second {
		t.Fatalf("the old KSK left %v after the parent dropped its DS, before the DS TTL (%d s)", waited, dsTTL)
	}
	if i := dnssecInfo(); i.ServeSignature != controlplane.SigningStatusSigning || i.StatusMessage != "" {
		t.Fatalf("after the roll: %s %q", i.ServeSignature, i.StatusMessage)
	}
	stream.finish(t, 50, "the KSK roll with Knot as the parent") // past the DNSKEY TTL without the old key
}
