package dataplane

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/dnssec"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/dnstest"
	"github.com/waymark-dns/waymark/zonecfg"
)

// signClock is the signing clock of the DNSSEC goldens.
var signClock = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// testFleetKey wraps the test zones' ZSKs.
var testFleetKey = bytes.Repeat([]byte{0x5f}, 32)

// testKey is a deterministic key: its scalar is a hash of what it is.
func testKey(t testing.TB, origin string, flags uint16) *dnssec.Key {
	t.Helper()
	raw := sha256.Sum256([]byte(fmt.Sprintf("%s %d", origin, flags)))
	k, err := dnssec.ParseKey(origin, flags, dnssec.ECDSAP256SHA256, 3600, raw[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testMaterial builds the signing material the control plane would send
// for zone id at origin: one KSK, and the ZSKs named (the first active).
func testMaterial(t testing.TB, id, origin string, zsks ...string) (*zonecfg.DNSSEC, []*dns.DNSKEY) {
	t.Helper()
	if len(zsks) == 0 {
		zsks = []string{"zsk1"}
	}
	ksk := testKey(t, origin, dnssec.FlagKSK)
	out := &zonecfg.DNSSEC{DNSKEYTTL: 3600}
	keys := []*dns.DNSKEY{ksk.DNSKEY}
	set := []dns.RR{ksk.DNSKEY}
	for i, name := range zsks {
		raw := sha256.Sum256([]byte(origin + " " + name))
		k, err := dnssec.ParseKey(origin, dnssec.FlagZSK, dnssec.ECDSAP256SHA256, 3600, raw[:])
		if err != nil {
			t.Fatal(err)
		}
		wrapped, err := dnssec.Seal(testFleetKey, raw[:], dnssec.KeyAD(id, name), bytes.NewReader(make([]byte, 64)))
		if err != nil {
			t.Fatal(err)
		}
		out.ZSKs = append(out.ZSKs, zonecfg.ZSK{Name: name, KeyTag: k.KeyTag(), Algorithm: 13, Active: i == 0, Wrapped: wrapped})
		keys = append(keys, k.DNSKEY)
		set = append(set, k.DNSKEY)
	}
	for _, k := range keys {
		out.DNSKEYs = append(out.DNSKEYs, zonecfg.RData(k))
	}
	inc, exp, _ := dnssec.DefaultTiming.Window(signClock, origin, dns.TypeDNSKEY)
	sig, err := ksk.Sign(set, inc, exp)
	if err != nil {
		t.Fatal(err)
	}
	out.DNSKEYSigs = []string{zonecfg.RData(sig)}
	cds := ksk.DS().ToCDS()
	cds.Hdr.Ttl = 3600
	out.CDS = []string{zonecfg.RData(cds)}
	csig, err := ksk.Sign([]dns.RR{cds}, inc, exp)
	if err != nil {
		t.Fatal(err)
	}
	out.CDSSigs = []string{zonecfg.RData(csig)}
	return out, keys
}

// signedStore returns the test zones with example.com. signed, a signer
// on the fixed clock, and the zone's DNSKEYs.
func signedStore(t testing.TB) (*Store, []*dns.DNSKEY) {
	t.Helper()
	s := NewStore()
	var keys []*dns.DNSKEY
	for _, z := range testZones(t) {
		if z.Name == "example.com." {
			z.DNSSEC, keys = testMaterial(t, z.ID, z.Name)
		}
		if err := s.ReplaceZone(z); err != nil {
			t.Fatalf("ReplaceZone(%s): %v", z.Name, err)
		}
	}
	s.SetSigning(SigningConfig{FleetKey: testFleetKey, Now: func() time.Time { return signClock }})
	return s, keys
}

// TestGoldenSigned runs testdata/signed.golden (DO=1 queries to a signed
// zone) three ways, as TestGolden does, and checks that every RRSIG in
// every answer verifies and that every authoritative RRset is signed.
func TestGoldenSigned(t *testing.T) {
	const path = "testdata/signed.golden"
	header, cases, err := dnstest.ReadCases(path)
	if err != nil {
		t.Fatal(err)
	}
	store, keys := signedStore(t)
	g := newGoldenHandlers(store)
	for i, c := range cases {
		q, err := dnstest.ParseQuery(c.Query)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if slices.Contains(q.Flags, "co") {
			q.Msg.IsEdns0().SetCo()
		}
		wire, err := q.Wire()
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		got := g.fast.ServeWire(nil, wire, testClient, q.TCP)
		if slow := g.slow.ServeWire(nil, wire, testClient, q.TCP); !bytes.Equal(got, slow) {
			t.Errorf("%s: fast and general paths differ:\nfast %x\nslow %x", c.Name, got, slow)
		}
		if parsed := new(dns.Msg); parsed.Unpack(wire) == nil {
			rec := dnstest.NewRecorder(q.TCP)
			g.fast.ServeDNS(rec, parsed)
			if !bytes.Equal(rec.Wire, got) {
				t.Errorf("%s: ServeDNS and ServeWire differ", c.Name)
			}
		}
		m := new(dns.Msg)
		if err := m.Unpack(got); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if q.Msg.IsEdns0() != nil && q.Msg.IsEdns0().Do() {
			checkSigned(t, c.Name, m, keys, "example.com.")
		}
		text := dnstest.Format(m)
		if *update {
			cases[i].Want = text
			continue
		}
		if text != c.Want {
			t.Errorf("%s: %s\ngot:\n%swant:\n%s", c.Name, c.Query, text, c.Want)
		}
	}
	if *update {
		if err := dnstest.WriteCases(path, header, cases); err != nil {
			t.Fatal(err)
		}
	}
}

// checkSigned verifies every RRSIG of m against keys, at signClock, and
// requires an RRSIG for every RRset of the answer and authority sections
// owned by zone, but for a referral's NS set.
func checkSigned(t *testing.T, name string, m *dns.Msg, keys []*dns.DNSKEY, zone string) {
	t.Helper()
	for si, sec := range [][]dns.RR{m.Answer, m.Ns} {
		sets := map[string][]dns.RR{}
		sigs := map[string][]*dns.RRSIG{}
		for _, rr := range sec {
			h := rr.Header()
			if s, ok := rr.(*dns.RRSIG); ok {
				k := strings.ToLower(h.Name) + "/" + dns.TypeToString[s.TypeCovered]
				sigs[k] = append(sigs[k], s)
				continue
			}
			k := strings.ToLower(h.Name) + "/" + dns.TypeToString[h.Rrtype]
			sets[k] = append(sets[k], rr)
		}
		for k, set := range sets {
			owner := set[0].Header().Name
			childDS := set[0].Header().Rrtype == dns.TypeDS && strings.EqualFold(owner, "sub."+zone)
			if !dns.IsSubDomain(zone, owner) || dns.IsSubDomain("sub."+zone, owner) && !childDS {
				continue // sub.example.com. is a hosted zone of its own, unsigned; its DS is the parent's
			}
			if si == 1 && set[0].Header().Rrtype == dns.TypeNS && !strings.EqualFold(owner, zone) {
				continue // a referral's NS set is not authoritative
			}
			if len(sigs[k]) == 0 {
				t.Errorf("%s: %s is not signed", name, k)
				continue
			}
			for _, sig := range sigs[k] {
				var key *dns.DNSKEY
				for _, dk := range keys {
					if dk.KeyTag() == sig.KeyTag {
						key = dk
					}
				}
				if key == nil {
					t.Errorf("%s: %s signed by unknown key %d", name, k, sig.KeyTag)
					continue
				}
				if err := sig.Verify(key, set); err != nil {
					t.Errorf("%s: %s: RRSIG does not verify: %v", name, k, err)
				}
				if !sig.ValidityPeriod(signClock) {
					t.Errorf("%s: %s: RRSIG not valid at the signing time", name, k)
				}
				// Owners echo the query's case (as every answer does);
				// the signature is over the lower-cased name, which
				// Verify checks, and the signer name is canonical.
				if sig.SignerName != strings.ToLower(sig.SignerName) {
					t.Errorf("%s: RRSIG signer %s not lower-case", name, sig.SignerName)
				}
			}
		}
	}
}

// TestSignedNoKeys: a node without the fleet key answers SERVFAIL to
// DO=1 queries for a signed zone, never unsigned data; DO=0 queries are
// answered as if the zone were not signed.
func TestSignedNoKeys(t *testing.T) {
	store, _ := signedStore(t)
	store.SetSigning(SigningConfig{FleetKey: bytes.Repeat([]byte{1}, 32)})
	h := NewHandler(store)
	h.SetReady(true)
	for _, tc := range []struct {
		do    bool
		rcode int
	}{{true, dns.RcodeServerFailure}, {false, dns.RcodeSuccess}} {
		m := new(dns.Msg)
		m.SetQuestion("www.example.com.", dns.TypeA)
		m.SetEdns0(1232, tc.do)
		wire, _ := m.Pack()
		r := new(dns.Msg)
		if err := r.Unpack(h.ServeWire(nil, wire, testClient, false)); err != nil {
			t.Fatal(err)
		}
		if r.Rcode != tc.rcode {
			t.Errorf("DO=%v: rcode %s, want %s", tc.do, dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
		}
	}
}

// TestSignatureCache: signatures are reused; the cache stays within its
// bound under many distinct names; concurrent misses of one RRset make
// one signature.
func TestSignatureCache(t *testing.T) {
	store, _ := signedStore(t)
	store.SetSigning(SigningConfig{FleetKey: testFleetKey, Now: func() time.Time { return signClock }, CacheSize: 100})
	h := NewHandler(store)
	h.SetReady(true)
	ask := func(name string, typ uint16) {
		m := new(dns.Msg)
		m.SetQuestion(name, typ)
		m.SetEdns0(1232, true)
		wire, _ := m.Pack()
		if h.ServeWire(nil, wire, testClient, false) == nil {
			t.Error("no answer")
		}
	}
	sc := store.signer.Load().cache
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { ask("www.example.com.", dns.TypeA) })
	}
	wg.Wait()
	if sc.misses != 1 {
		t.Errorf("8 concurrent identical queries made %d signatures, want 1", sc.misses)
	}
	for i := range 1000 {
		ask(fmt.Sprintf("n%d.example.com.", i), dns.TypeA) // NXDOMAIN: an NSEC and the SOA each
	}
	if n := sc.len(); n > 100 {
		t.Errorf("cache holds %d signatures, bound 100", n)
	}
}

// FuzzSignedAnswers: for any query name (mixed case, wildcards, missing
// names) and type, every RRSIG of a DO=1 answer verifies.
func FuzzSignedAnswers(f *testing.F) {
	for _, s := range []string{"www.example.com.", "WwW.ExAmPlE.cOm.", "x.wild.example.com.", "nothere.example.com.",
		"alias.example.com.", "deleg.example.com.", "nsonly.example.com.", "a.b.c.ent.example.com.", "EXAMPLE.COM."} {
		f.Add(s, uint16(dns.TypeA))
		f.Add(s, uint16(dns.TypeTXT))
	}
	f.Add("example.com.", uint16(dns.TypeDNSKEY))
	store, keys := signedStore(f)
	h := NewHandler(store)
	h.SetReady(true)
	f.Fuzz(func(t *testing.T, name string, typ uint16) {
		if _, ok := dns.IsDomainName(name); !ok || !dns.IsFqdn(name) || typ == dns.TypeNXNAME {
			return
		}
		m := new(dns.Msg)
		m.SetQuestion(name, typ)
		m.SetEdns0(1232, true)
		wire, err := m.Pack()
		if err != nil {
			return
		}
		out := h.ServeWire(nil, wire, testClient, false)
		r := new(dns.Msg)
		if err := r.Unpack(out); err != nil {
			t.Fatalf("%s %d: response does not parse: %v", name, typ, err)
		}
		if r.Rcode == dns.RcodeRefused || r.Truncated {
			return
		}
		checkSigned(t, name, r, keys, "example.com.")
	})
}

// TestCacheKeepsSigning: a node restarted from its cache still signs (a
// signed zone must never come back unsigned), and the cache holds the ZSK
// only wrapped.
func TestCacheKeepsSigning(t *testing.T) {
	dir := t.TempDir()
	var zones []event.ZoneState
	var keys []*dns.DNSKEY
	for _, z := range testZones(t) {
		if z.Name == "example.com." {
			z.DNSSEC, keys = testMaterial(t, z.ID, z.Name)
		}
		zones = append(zones, z)
	}
	src := cacheNode(t, dir, zones)
	if err := src.writeCache(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, cacheFile))
	if err != nil {
		t.Fatal(err)
	}
	priv := sha256.Sum256([]byte("example.com. zsk1"))
	for _, form := range [][]byte{priv[:], []byte(base64.StdEncoding.EncodeToString(priv[:])), []byte(hex.EncodeToString(priv[:]))} {
		if bytes.Contains(raw, form) {
			t.Fatal("the ZSK is in plain text in the cache")
		}
	}
	dst := cacheNode(t, t.TempDir(), nil)
	dst.cfg.CacheDir = dir
	if _, err := dst.loadCache(); err != nil {
		t.Fatal(err)
	}
	dst.Store().SetSigning(SigningConfig{FleetKey: testFleetKey, Now: func() time.Time { return signClock }})
	h := NewHandler(dst.Store())
	h.SetReady(true)
	m := new(dns.Msg)
	m.SetQuestion("www.example.com.", dns.TypeA)
	m.SetEdns0(1232, true)
	wire, _ := m.Pack()
	r := new(dns.Msg)
	if err := r.Unpack(h.ServeWire(nil, wire, testClient, false)); err != nil {
		t.Fatal(err)
	}
	if len(r.Answer) != 3 {
		t.Fatalf("from the cache: %s", r)
	}
	checkSigned(t, "from the cache", r, keys, "example.com.")
}

// TestSigningBudget: over the zone's budget a UDP answer that needs a
// fresh signature is empty with TC=1 (never unsigned); over TCP it is
// signed; cached signatures cost nothing.
func TestSigningBudget(t *testing.T) {
	store, keys := signedStore(t)
	store.SetSigning(SigningConfig{FleetKey: testFleetKey, Now: func() time.Time { return signClock }, ZoneBudget: 4})
	h := NewHandler(store)
	h.SetReady(true)
	ask := func(name string, tcp bool) *dns.Msg {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		m.SetEdns0(1232, true)
		wire, _ := m.Pack()
		r := new(dns.Msg)
		if err := r.Unpack(h.ServeWire(nil, wire, testClient, tcp)); err != nil {
			t.Fatal(err)
		}
		return r
	}
	truncated := 0
	for i := range 10 {
		r := ask(fmt.Sprintf("n%d.example.com.", i), false)
		if r.Truncated {
			truncated++
			if len(r.Answer)+len(r.Ns) != 0 {
				t.Fatalf("a truncated answer carries data: %s", r)
			}
			continue
		}
		checkSigned(t, "within budget", r, keys, "example.com.")
	}
	// Four signatures: the SOA's and three NSECs, then TC.
	if truncated != 7 {
		t.Errorf("%d of 10 fresh UDP denials truncated, want 7", truncated)
	}
	if r := ask("n9.example.com.", true); r.Truncated || len(r.Ns) != 4 {
		t.Errorf("over TCP: %s", r)
	}
	if r := ask("n0.example.com.", false); r.Truncated {
		t.Errorf("a cached denial was truncated: %s", r)
	}
}

// TestUnservableWithoutKeys: a signed zone the node cannot sign counts
// as unservable in its heartbeats.
func TestUnservableWithoutKeys(t *testing.T) {
	store, _ := signedStore(t)
	if n := store.Unservable(); n != 0 {
		t.Fatalf("with the fleet key: %d unservable", n)
	}
	store.SetSigning(SigningConfig{FleetKey: bytes.Repeat([]byte{1}, 32)})
	if n := store.Unservable(); n != 0 {
		// The key was unwrapped already: it stays usable.
		t.Fatalf("after a key change, the unwrapped key is lost: %d", n)
	}
	fresh, _ := signedStore(t)
	fresh.SetSigning(SigningConfig{})
	if n := fresh.Unservable(); n != 1 {
		t.Fatalf("without the fleet key: %d unservable, want 1", n)
	}
}
