package dataplane

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/dnssec"
	"github.com/waymark-dns/waymark/zonecfg"
)

// This file is online signing (docs/dnssec.md): a signed zone's keys as
// the nameserver holds them (zoneKeys), and the Signer that adds RRSIGs
// and compact-denial NSEC records (RFC 9824) to the answers of queries
// with DO=1, after lookup and before the encoder. Answers to DO=0 queries
// never pass through it, so they stay byte for byte what they were.

// zoneKeys is a signed zone's signing material, built once per change of
// it and shared by the zone versions that follow. The ZSK's private key is
// unwrapped with the fleet key on first use, not at load: a node without
// the fleet key still loads the zone, and answers SERVFAIL to its DO=1
// queries rather than unsigned data.
type zoneKeys struct {
	cfg *zonecfg.DNSSEC // as received: the cache and ZoneState give it back
	// The apex sets the control plane signed, packed, and their RRSIGs.
	dnskey, cds, cdnskey          *rrset
	dnskeySig, cdsSig, cdnskeySig *rrset

	once sync.Once
	zsk  *dnssec.Key
	err  error
}

// newZoneKeys packs the material of cfg for the zone at origin.
func newZoneKeys(origin string, cfg *zonecfg.DNSSEC) (*zoneKeys, error) {
	k := &zoneKeys{cfg: cfg}
	var err error
	pack := func(typ string, values []string) *rrset {
		if err != nil || len(values) == 0 {
			return nil
		}
		var s *rrset
		s, err = packPresentation(origin, typ, cfg.DNSKEYTTL, values)
		return s
	}
	k.dnskey, k.dnskeySig = pack("DNSKEY", cfg.DNSKEYs), pack("RRSIG", cfg.DNSKEYSigs)
	k.cds, k.cdsSig = pack("CDS", cfg.CDS), pack("RRSIG", cfg.CDSSigs)
	k.cdnskey, k.cdnskeySig = pack("CDNSKEY", cfg.CDNSKEY), pack("RRSIG", cfg.CDNSKEYSigs)
	if err != nil {
		return nil, err
	}
	if k.dnskey == nil || k.dnskeySig == nil || cfg.ActiveZSK() == nil {
		return nil, errors.New("signed zone without DNSKEY set, its signature or an active ZSK")
	}
	return k, nil
}

// apexSet returns the control plane's set of type t at the apex, if any.
func (k *zoneKeys) apexSet(t uint16) (set, sig *rrset) {
	switch t {
	case dns.TypeDNSKEY:
		return k.dnskey, k.dnskeySig
	case dns.TypeCDS:
		return k.cds, k.cdsSig
	case dns.TypeCDNSKEY:
		return k.cdnskey, k.cdnskeySig
	}
	return nil, nil
}

// key returns the active ZSK, unwrapping it with fleetKey the first time.
func (k *zoneKeys) key(zoneID, origin string, fleetKey []byte) (*dnssec.Key, error) {
	k.once.Do(func() {
		z := k.cfg.ActiveZSK()
		raw, err := dnssec.Open(fleetKey, z.Wrapped, dnssec.KeyAD(zoneID, z.Name))
		if err != nil {
			k.err = fmt.Errorf("zone %s: ZSK %s: %w", zoneID, z.Name, err)
			return
		}
		k.zsk, k.err = dnssec.ParseKey(origin, dnssec.FlagZSK, z.Algorithm, k.cfg.DNSKEYTTL, raw)
		clear(raw)
	})
	return k.zsk, k.err
}

// packPresentation packs records given as presentation RDATA into an
// rrset, for the types zonecfg does not accept from tenants.
func packPresentation(origin, typ string, ttl uint32, values []string) (*rrset, error) {
	var b []byte
	buf := make([]byte, 4096)
	for _, v := range values {
		rr, err := dns.NewRR(origin + " " + fmt.Sprint(ttl) + " IN " + typ + " " + v)
		if err != nil || rr == nil {
			return nil, fmt.Errorf("%s %s: %v", typ, v, err)
		}
		rd, err := packRData(rr, buf)
		if err != nil {
			return nil, err
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(rd)))
		b = append(b, rd...)
	}
	return &rrset{rdata: string(b), typ: dns.StringToType[typ], ttl: ttl, count: uint16(len(values))}, nil
}

// packRData returns rr's RDATA in uncompressed wire form (canonical for
// RRSIG signer names and NSEC next names, RFC 4034 §3.1.7, §4.1.1).
func packRData(rr dns.RR, buf []byte) ([]byte, error) {
	h := *rr.Header()
	name := h.Name
	rr.Header().Name = "."
	n, err := dns.PackRR(rr, buf, 0, nil, false)
	rr.Header().Name = name
	if err != nil {
		return nil, err
	}
	return buf[11:n], nil // root owner (1) + type, class, TTL, RDLENGTH (10)
}

// SigningConfig configures online signing on a nameserver.
type SigningConfig struct {
	// FleetKey unwraps the zones' ZSKs (32 bytes). Without it, signed
	// zones answer SERVFAIL to DO=1 queries.
	FleetKey []byte
	// Now is the signing clock. Default time.Now.
	Now func() time.Time
	// Timing is the signatures' validity (dnssec.DefaultTiming).
	Timing dnssec.Timing
	// CacheSize bounds the signature cache, in signatures. Default
	// DefaultSignatureCacheSize.
	CacheSize int
	// Budget is how many fresh signatures a second the node makes for
	// UDP queries, and ZoneBudget how many for any one zone (bursts of a
	// second's worth); over either, a UDP answer that needs a signature
	// not in the cache is sent empty with TC=1, so the resolver retries
	// over TCP, where signing is not budgeted: never unsigned data, and
	// a flood of random names over UDP cannot take every core. Zero:
	// DefaultSigningBudget and DefaultZoneSigningBudget; negative:
	// unlimited.
	Budget, ZoneBudget int
}

// Default signing budgets: about a core's worth of P-256 signatures for
// the node, a third of it for one zone.
const (
	DefaultSigningBudget     = 30000
	DefaultZoneSigningBudget = 10000
)

// MaxSignedTTL is the largest TTL served in a signed zone's DO=1 answers
// (Route 53 caps TTLs of signed zones at a week): a validator must not
// keep data longer than the signatures' refresh margin.
const MaxSignedTTL = 7 * 24 * 3600

// errOverBudget is a fresh signature refused by the signing budget.
var errOverBudget = errors.New("dataplane: signing budget spent")

// budget is a token bucket of signatures per second; nil is unlimited.
type budget struct {
	mu     sync.Mutex
	rate   float64
	tokens float64
	last   time.Time
}

func newBudget(perSecond int) *budget {
	if perSecond < 0 {
		return nil
	}
	return &budget{rate: float64(perSecond), tokens: float64(perSecond)}
}

// take spends one token at now, if there is one.
func (b *budget) take(now time.Time) bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() {
		b.tokens = min(b.rate, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// DefaultSignatureCacheSize is the default bound of the signature cache:
// about 200 bytes a signature, 50 MB.
const DefaultSignatureCacheSize = 250000

// Signer adds DNSSEC records to answers. It is safe for concurrent use.
type Signer struct {
	fleetKey []byte
	now      func() time.Time
	timing   dnssec.Timing
	cache    *sigCache
	// node is the node's signing budget; zones the per-zone ones, by
	// zone id, made on first use (zoneRate each).
	node     *budget
	zoneRate int
	zonesMu  sync.Mutex
	zones    map[string]*budget
}

// NewSigner returns a Signer for cfg.
func NewSigner(cfg SigningConfig) *Signer {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = DefaultSignatureCacheSize
	}
	if cfg.Budget == 0 {
		cfg.Budget = DefaultSigningBudget
	}
	if cfg.ZoneBudget == 0 {
		cfg.ZoneBudget = DefaultZoneSigningBudget
	}
	return &Signer{fleetKey: cfg.FleetKey, now: cfg.Now, timing: cfg.Timing.Norm(), cache: newSigCache(cfg.CacheSize),
		node: newBudget(cfg.Budget), zoneRate: cfg.ZoneBudget, zones: map[string]*budget{}}
}

// spend takes a fresh signature from the node's and the zone's budgets.
func (sg *Signer) spend(zoneID string, now time.Time) bool {
	if sg.zoneRate >= 0 {
		sg.zonesMu.Lock()
		b := sg.zones[zoneID]
		if b == nil {
			if len(sg.zones) > 100000 {
				clear(sg.zones) // bounded: budgets start afresh
			}
			b = newBudget(sg.zoneRate)
			sg.zones[zoneID] = b
		}
		sg.zonesMu.Unlock()
		if !b.take(now) {
			return false
		}
	}
	return sg.node.take(now)
}

// signScratch is per-query scratch space for signing.
type signScratch struct {
	sets  []*rrset // synthesized RRSIG and NSEC sets, owned by the query
	ans   []rrRef  // the answer and authority sections as lookup left them
	auth  []rrRef
	udp   bool // fresh signatures are budgeted
	key   []byte
	wire  []byte
	types []uint16
}

// sign adds RRSIGs (and denial NSECs) to res for a DO=1 query, in place.
// Each section's record sets of a signed zone get the RRSIG of the zone
// they belong to; referrals get the DS's RRSIG or an NSEC proving there is
// none; NXDOMAIN and NODATA get compact denial. On any failure the answer
// becomes SERVFAIL: a signed zone is never served unsigned.
func (sg *Signer) sign(zs *zoneSet, q *request, res *result, sc *signScratch) {
	if res.rcode != dns.RcodeSuccess && res.rcode != dns.RcodeNameError {
		return
	}
	z := zoneFor(zs, q.lname, q.qtype)
	if z == nil || z.keys == nil && !anySigned(zs, res) {
		return
	}
	sc.sets = sc.sets[:0]
	sc.udp = !q.tcp
	err := sg.signResult(zs, z, q, res, sc)
	// Drop the references to zone data, as result.release does.
	clear(sc.ans)
	clear(sc.auth)
	if errors.Is(err, errOverBudget) {
		rcode := res.rcode
		res.release()
		res.reset()
		res.rcode, res.tc = rcode, true
		return
	}
	if err != nil {
		res.release()
		res.reset()
		res.rcode, res.ede = dns.RcodeServerFailure, edeDNSSECIndeterminate
	}
}

// zoneFor returns the zone whose data name and typ are: the most specific
// zone holding the name, but for a DS at a zone's apex, which belongs to
// the parent when it is served here and delegates (as lookup answers it).
func zoneFor(zs *zoneSet, name string, typ uint16) *zone {
	z := zs.find(name)
	if z != nil && typ == dns.TypeDS && name == z.name && name != rootName {
		if p := zs.find(parentName(name)); p != nil {
			if n, ok := p.names.get(name); ok && n.find(dns.TypeNS) != nil {
				return p
			}
		}
	}
	return z
}

// edeDNSSECIndeterminate is RFC 8914's code 5: this server cannot make
// the signatures the zone needs.
const edeDNSSECIndeterminate = 5

// anySigned reports whether a record of res belongs to a signed zone (a
// CNAME chain from an unsigned zone into a signed one).
func anySigned(zs *zoneSet, res *result) bool {
	for _, r := range res.answer {
		if z := zs.find(r.owner); z != nil && z.keys != nil {
			return true
		}
	}
	return false
}

func (sg *Signer) signResult(zs *zoneSet, z *zone, q *request, res *result, sc *signScratch) error {
	var err error
	// Answer: every set, in place, each followed by its RRSIG.
	// The sections are rebuilt in place (the pooled result's capacity),
	// from copies of what lookup put there.
	sc.ans = append(sc.ans[:0], res.answer...)
	ans := sc.ans
	res.answer = res.answer[:0]
	for i := range ans {
		if ans[i].ttl > MaxSignedTTL {
			ans[i].ttl = MaxSignedTTL
		}
		res.answer = append(res.answer, ans[i])
		if i+1 < len(ans) && ans[i+1].owner == ans[i].owner && ans[i+1].set.typ == ans[i].set.typ {
			continue // a routed answer in several parts: one RRset, one RRSIG after the last
		}
		if sig, e := sg.sigFor(zs, ans, i, sc); e != nil {
			err = e
		} else if sig != nil {
			res.answer = append(res.answer, *sig)
		}
	}
	if err != nil {
		return err
	}
	// Authority: a negative answer's SOA, or a referral's NS.
	sc.auth = append(sc.auth[:0], res.authority...)
	auth := sc.auth
	res.authority = res.authority[:0]
	negative := res.rcode == dns.RcodeNameError || res.aa && len(ans) == 0
	for i := range auth {
		a := auth[i]
		a.ttl = min(a.ttl, MaxSignedTTL)
		res.authority = append(res.authority, a)
		az := zoneFor(zs, a.owner, a.set.typ)
		if a.set.typ == dns.TypeSOA {
			az = zs.find(a.owner) // a zone's own apex
		}
		if az == nil || az.keys == nil {
			continue
		}
		switch {
		case a.set.typ == dns.TypeSOA:
			negative = true
			sig, e := sg.rrsig(az, a.owner, a.set, min(a.set.ttl, MaxSignedTTL), a.ttl, sc)
			if e != nil {
				return e
			}
			res.authority = append(res.authority, sig)
		case a.set.typ == dns.TypeNS && a.owner != az.name:
			if e := sg.delegation(az, a.owner, res, sc); e != nil {
				return e
			}
		}
	}
	if negative && z.keys != nil {
		return sg.denial(zs, z, q, res, ans, sc)
	}
	return nil
}

// sigFor returns the RRSIG of the RRset that ends at ans[i] (the parts of
// one routed answer are consecutive), or nil if its zone is unsigned.
func (sg *Signer) sigFor(zs *zoneSet, ans []rrRef, i int, sc *signScratch) (*rrRef, error) {
	a := ans[i]
	z := zoneFor(zs, a.owner, a.set.typ)
	if z == nil || z.keys == nil {
		return nil, nil
	}
	if a.owner == z.name {
		if set, sig := z.keys.apexSet(a.set.typ); set != nil && set == a.set {
			// The control plane's own signatures (made with the KSK).
			return &rrRef{owner: a.owner, set: sig, ttl: a.ttl}, nil
		}
	}
	start := i
	for start > 0 && ans[start-1].owner == a.owner && ans[start-1].set.typ == a.set.typ {
		start--
	}
	set := a.set
	if start < i {
		set = mergeSets(ans[start : i+1])
	}
	sig, err := sg.rrsig(z, a.owner, set, a.ttl, a.ttl, sc)
	if err != nil {
		return nil, err
	}
	return &sig, nil
}

// mergeSets joins the records of several parts of one RRset.
func mergeSets(parts []rrRef) *rrset {
	var b strings.Builder
	n := 0
	for _, p := range parts {
		b.WriteString(p.set.rdata)
		n += int(p.set.count)
	}
	return &rrset{rdata: b.String(), typ: parts[0].set.typ, ttl: parts[0].ttl, count: uint16(n)}
}

// delegation adds to a referral at cut the DS set and its RRSIG, or the
// NSEC that proves the child is unsigned (RFC 4035 §3.1.4).
func (sg *Signer) delegation(z *zone, cut string, res *result, sc *signScratch) error {
	n, _ := z.names.get(cut)
	if ds := n.find(dns.TypeDS); ds != nil {
		ttl := min(ds.ttl, MaxSignedTTL)
		res.authority = append(res.authority, rrRef{owner: cut, set: ds, ttl: ttl})
		sig, err := sg.rrsig(z, cut, ds, ttl, ttl, sc)
		if err != nil {
			return err
		}
		res.authority = append(res.authority, sig)
		return nil
	}
	sc.types = append(sc.types[:0], dns.TypeNS)
	return sg.addNSEC(z, cut, z.negTTL, dnssec.NoData(presentationName(cut), z.negTTL, sc.types), res, sc)
}

// denial adds the compact-denial NSEC (RFC 9824) for the name the answer
// denies: the query name, or the target of the last CNAME followed. For a
// name that does not exist, its bitmap says NXNAME and the rcode becomes
// NOERROR, unless the client set the CO flag (§3.4); for NODATA it lists
// the types the name has.
func (sg *Signer) denial(zs *zoneSet, z *zone, q *request, res *result, ans []rrRef, sc *signScratch) error {
	name := q.lname
	if len(ans) > 0 {
		last := ans[len(ans)-1]
		if last.set.typ != dns.TypeCNAME {
			return nil
		}
		last.set.records(func(rdata string) { name = lowerWire(targetName(rdata, 0)) })
		if dz := zoneFor(zs, name, q.qtype); dz != nil {
			z = dz
		}
		if z.keys == nil {
			return nil
		}
	}
	var nsec *dns.NSEC
	if res.rcode == dns.RcodeNameError {
		nsec = dnssec.NXName(presentationName(name), z.negTTL)
		if !q.co {
			res.rcode = dns.RcodeSuccess
		}
	} else {
		sc.types = sc.types[:0]
		n, ok := z.names.get(name)
		if !ok {
			n, _ = z.wildcard(name)
		}
		for i := range n.sets {
			if len(sc.types) == 0 || sc.types[len(sc.types)-1] != n.sets[i].typ {
				sc.types = append(sc.types, n.sets[i].typ)
			}
		}
		if name == z.name {
			for _, t := range [...]uint16{dns.TypeDNSKEY, dns.TypeCDS, dns.TypeCDNSKEY} {
				if s, _ := z.keys.apexSet(t); s != nil {
					sc.types = append(sc.types, t)
				}
			}
		}
		nsec = dnssec.NoData(presentationName(name), z.negTTL, sc.types)
	}
	return sg.addNSEC(z, name, z.negTTL, nsec, res, sc)
}

// addNSEC packs nsec, and adds it with its RRSIG to the authority section.
func (sg *Signer) addNSEC(z *zone, owner string, ttl uint32, nsec *dns.NSEC, res *result, sc *signScratch) error {
	if cap(sc.wire) < 512 {
		sc.wire = make([]byte, 512)
	}
	rd, err := packRData(nsec, sc.wire[:cap(sc.wire)])
	if err != nil {
		return err
	}
	b := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(rd)), uint16(len(rd)))
	set := &rrset{rdata: string(append(b, rd...)), typ: dns.TypeNSEC, ttl: ttl, count: 1}
	res.authority = append(res.authority, rrRef{owner: owner, set: set, ttl: ttl})
	sig, err := sg.rrsig(z, owner, set, ttl, ttl, sc)
	if err != nil {
		return err
	}
	res.authority = append(res.authority, sig)
	return nil
}

// rrsig returns the RRSIG reference for set at owner (lowercase wire),
// signed over origTTL and served with ttl, from the cache or made now.
func (sg *Signer) rrsig(z *zone, owner string, set *rrset, origTTL, ttl uint32, sc *signScratch) (rrRef, error) {
	key, err := z.keys.key(z.id, z.origin, sg.fleetKey)
	if err != nil {
		return rrRef{}, err
	}
	now := sg.now()
	ck := sc.key[:0]
	ck = append(ck, z.id...)
	ck = append(ck, 0)
	ck = binary.BigEndian.AppendUint16(ck, key.KeyTag())
	ck = append(ck, owner...)
	ck = binary.BigEndian.AppendUint16(ck, set.typ)
	ck = binary.BigEndian.AppendUint32(ck, origTTL)
	ck = append(ck, set.rdata...)
	sc.key = ck
	sig, err := sg.cache.get(ck, now, func() (*rrset, time.Time, error) {
		if sc.udp && !sg.spend(z.id, now) {
			return nil, time.Time{}, errOverBudget
		}
		return sg.make(key, owner, set, origTTL, now)
	})
	if err != nil {
		return rrRef{}, err
	}
	return rrRef{owner: owner, set: sig, ttl: ttl}, nil
}

// make signs set at owner with key.
func (sg *Signer) make(key *dnssec.Key, owner string, set *rrset, origTTL uint32, now time.Time) (*rrset, time.Time, error) {
	var rrs []dns.RR
	var buf []byte
	var err error
	set.records(func(rdata string) {
		if err != nil {
			return
		}
		buf = append(buf[:0], owner...)
		buf = binary.BigEndian.AppendUint16(buf, set.typ)
		buf = binary.BigEndian.AppendUint16(buf, dns.ClassINET)
		buf = binary.BigEndian.AppendUint32(buf, origTTL)
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(rdata)))
		buf = append(buf, rdata...)
		var rr dns.RR
		if rr, _, err = dns.UnpackRR(buf, 0); err == nil {
			rrs = append(rrs, rr)
		}
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	name := presentationName(owner)
	inc, exp, refresh := sg.timing.Window(now, name, set.typ)
	sig, err := key.Sign(rrs, inc, exp)
	if err != nil {
		return nil, time.Time{}, err
	}
	rd, err := packRData(sig, make([]byte, 512))
	if err != nil {
		return nil, time.Time{}, err
	}
	b := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(rd)), uint16(len(rd)))
	return &rrset{rdata: string(append(b, rd...)), typ: dns.TypeRRSIG, ttl: origTTL, count: 1}, refresh, nil
}

// lowerWire lower-cases a wire name.
func lowerWire(name string) string {
	if !slices.ContainsFunc([]byte(name), func(c byte) bool { return 'A' <= c && c <= 'Z' }) {
		return name
	}
	b := []byte(name)
	lowerBytes(b)
	return string(b)
}

// sigCache is the bounded signature cache: keyed by zone, key tag, owner,
// type, original TTL and the exact RDATA, so two record sets that differ
// in any octet never share a signature (coredns#3953). Concurrent misses
// of one key make one signature (the others wait for it). When full, an
// arbitrary entry is evicted: signing is cheap next to unbounded memory.
type sigCache struct {
	mu     sync.Mutex
	max    int
	m      map[string]*sigEntry
	misses int // signatures made (tests)
}

type sigEntry struct {
	// wg is done once set, refresh and err are; ready says so without
	// waiting. (No channel: a cache of 250,000 signatures would spend
	// 24 MB on them.)
	wg      sync.WaitGroup
	ready   atomic.Bool
	set     rrset // the RRSIG; callers keep a pointer into the entry
	refresh int64 // Unix nanoseconds from which to re-make it
	err     error
}

func newSigCache(max int) *sigCache {
	return &sigCache{max: max, m: make(map[string]*sigEntry, min(max, 1024))}
}

// fresh reports whether a finished entry can be served at now.
func (e *sigEntry) fresh(now time.Time) bool {
	return e.ready.Load() && e.err == nil && now.UnixNano() < e.refresh
}

// get returns the cached signature for key, or makes it with mk.
func (c *sigCache) get(kb []byte, now time.Time, mk func() (*rrset, time.Time, error)) (*rrset, error) {
	c.mu.Lock()
	e, ok := c.m[string(kb)] // no allocation for the lookup
	if ok {
		if e.fresh(now) {
			c.mu.Unlock()
			return &e.set, nil
		}
		if !e.ready.Load() {
			c.mu.Unlock()
			e.wg.Wait() // another query is making it
			if e.err != nil {
				return nil, e.err
			}
			return &e.set, nil
		}
	}
	// Missing, stale or failed: make a new one.
	key := string(kb)
	if _, had := c.m[key]; !had && len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	e = &sigEntry{}
	e.wg.Add(1)
	c.m[key] = e
	c.misses++
	c.mu.Unlock()
	set, refresh, err := mk()
	if set != nil {
		e.set = *set
	}
	e.refresh, e.err = refresh.UnixNano(), err
	e.ready.Store(true)
	e.wg.Done()
	if err != nil {
		c.mu.Lock()
		if c.m[key] == e {
			delete(c.m, key)
		}
		c.mu.Unlock()
		return nil, err
	}
	return &e.set, nil
}

// len returns the number of cached signatures.
func (c *sigCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
