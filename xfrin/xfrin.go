// Package xfrin transfers a zone in from a primary: the client half of
// secondary zones (docs/transfers.md, "Secondary zones"). Fetch asks the
// primary's SOA (TSIG-signed), and when the serial moved transfers the
// zone: IXFR (RFC 1995) from the serial held, applied to a copy of the
// content, or AXFR (RFC 5936) when nothing is held or the primary answers
// IXFR in full. Every message's TSIG is verified (miekg/dns). Diff turns
// two versions into the deletes and upserts of a change batch, and Timers
// is the SOA refresh/retry/expire schedule (RFC 1035 §3.3.13, RFC 1996).
//
// The package holds no state and starts nothing: the caller (the control
// plane's leader) keeps the content and the schedule.
package xfrin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/zonecfg"
)

// Primary is where a zone is transferred from.
type Primary struct {
	// Addr is host:port.
	Addr string
	// KeyName, Algorithm (hmac-sha256 or hmac-sha512) and Secret (base64)
	// sign every request; an empty KeyName sends them unsigned.
	KeyName, Algorithm, Secret string
}

// Zone is a version of a zone's content: the apex SOA and every other
// record, by owner and type. Immutable once returned.
type Zone struct {
	Name   string // canonical, final dot
	SOA    *dns.SOA
	RRSets map[Key][]dns.RR // the SOA not among them
}

// Key is an owner name (canonical) and a type.
type Key struct {
	Name string
	Type uint16
}

// Serial is the zone's SOA serial.
func (z *Zone) Serial() uint32 { return z.SOA.Serial }

// Result says what Fetch did.
type Result struct {
	Zone *Zone
	// Changed: the primary has a serial other than the one held, and Zone
	// is the new content. False: Zone is the one given.
	Changed bool
	// Incremental: the change came as IXFR deltas.
	Incremental bool
	Bytes       int64 // transferred, for logs and measurements
}

// Errors Fetch wraps.
var (
	ErrRcode     = errors.New("xfrin: the primary answered with an error")
	ErrMalformed = errors.New("xfrin: malformed transfer")
)

// Fetch brings have (nil: nothing held) up to the primary's current
// version of zone. timeout bounds each exchange.
func Fetch(ctx context.Context, p Primary, zone string, have *Zone, timeout time.Duration) (Result, error) {
	zone = dns.CanonicalName(zone)
	soa, err := primarySOA(ctx, p, zone, timeout)
	if err != nil {
		return Result{}, err
	}
	if have != nil && have.SOA.Serial == soa.Serial {
		return Result{Zone: have}, nil
	}
	m := new(dns.Msg)
	if have != nil {
		m.SetIxfr(zone, have.SOA.Serial, have.SOA.Ns, have.SOA.Mbox)
	} else {
		m.SetAxfr(zone)
	}
	rrs, n, err := transfer(ctx, p, m, timeout)
	if err != nil {
		return Result{}, err
	}
	if have != nil {
		z, incremental, err := ApplyIXFR(have, rrs)
		if err != nil {
			return Result{}, err
		}
		return Result{Zone: z, Changed: z.SOA.Serial != have.SOA.Serial, Incremental: incremental, Bytes: n}, nil
	}
	z, err := fromAXFR(zone, rrs)
	if err != nil {
		return Result{}, err
	}
	return Result{Zone: z, Changed: true, Bytes: n}, nil
}

// sign adds p's TSIG to m and returns the secrets for the client.
func (p Primary) sign(m *dns.Msg) map[string]string {
	if p.KeyName == "" {
		return nil
	}
	alg := dns.HmacSHA256
	if p.Algorithm == "hmac-sha512" {
		alg = dns.HmacSHA512
	}
	name := dns.CanonicalName(p.KeyName)
	m.SetTsig(name, alg, 300, time.Now().Unix())
	return map[string]string{name: p.Secret}
}

// primarySOA asks the primary for the zone's SOA over TCP (a signed
// answer verified), authoritative.
func primarySOA(ctx context.Context, p Primary, zone string, timeout time.Duration) (*dns.SOA, error) {
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeSOA)
	c := &dns.Client{Net: "tcp", Timeout: timeout, TsigSecret: p.sign(m)}
	r, _, err := c.ExchangeContext(ctx, m, p.Addr)
	if err != nil {
		return nil, fmt.Errorf("xfrin: SOA of %s from %s: %w", zone, p.Addr, err)
	}
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
		return nil, fmt.Errorf("%w: SOA of %s from %s: %s, authoritative %v", ErrRcode, zone, p.Addr, dns.RcodeToString[r.Rcode], r.Authoritative)
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(soa.Hdr.Name, zone) {
			return soa, nil
		}
	}
	return nil, fmt.Errorf("%w: no SOA for %s from %s", ErrMalformed, zone, p.Addr)
}

// transfer runs one AXFR or IXFR and returns its records in order and
// the bytes read.
func transfer(ctx context.Context, p Primary, m *dns.Msg, timeout time.Duration) ([]dns.RR, int64, error) {
	secrets := p.sign(m)
	d := net.Dialer{Timeout: timeout}
	raw, err := d.DialContext(ctx, "tcp", p.Addr)
	if err != nil {
		return nil, 0, fmt.Errorf("xfrin: %w", err)
	}
	defer raw.Close()
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	cc := &countConn{Conn: raw}
	tr := &dns.Transfer{Conn: &dns.Conn{Conn: cc}, ReadTimeout: timeout, WriteTimeout: timeout, TsigSecret: secrets}
	ch, err := tr.In(m, p.Addr)
	if err != nil {
		return nil, 0, fmt.Errorf("xfrin: %w", err)
	}
	var rrs []dns.RR
	for env := range ch {
		if env.Error != nil {
			for range ch {
			}
			return nil, cc.n, fmt.Errorf("xfrin: %s of %s from %s: %w", dns.TypeToString[m.Question[0].Qtype], m.Question[0].Name, p.Addr, env.Error)
		}
		rrs = append(rrs, env.RR...)
	}
	return rrs, cc.n, nil
}

// countConn counts the bytes read. Reads are from one goroutine.
type countConn struct {
	net.Conn
	n int64
}

func (c *countConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n += int64(n)
	return n, err
}

// fromAXFR builds a zone from an AXFR's records: SOA, the rest, SOA.
func fromAXFR(zone string, rrs []dns.RR) (*Zone, error) {
	if len(rrs) < 2 {
		return nil, fmt.Errorf("%w: AXFR of %d records", ErrMalformed, len(rrs))
	}
	first, ok1 := rrs[0].(*dns.SOA)
	last, ok2 := rrs[len(rrs)-1].(*dns.SOA)
	if !ok1 || !ok2 || first.Serial != last.Serial {
		return nil, fmt.Errorf("%w: AXFR not framed by the SOA", ErrMalformed)
	}
	z := &Zone{Name: zone, SOA: first, RRSets: map[Key][]dns.RR{}}
	for _, rr := range rrs[1 : len(rrs)-1] {
		if err := z.add(rr); err != nil {
			return nil, err
		}
	}
	return z, nil
}

// add puts rr in z (a zone being built), refusing records outside it.
func (z *Zone) add(rr dns.RR) error {
	h := rr.Header()
	name := dns.CanonicalName(h.Name)
	if !dns.IsSubDomain(z.Name, name) || h.Class != dns.ClassINET {
		return fmt.Errorf("%w: %s is not in zone %s", ErrMalformed, h.Name, z.Name)
	}
	if h.Rrtype == dns.TypeSOA {
		return nil // the apex SOA is z.SOA; other SOAs have no place
	}
	k := Key{name, h.Rrtype}
	for _, x := range z.RRSets[k] {
		if dns.IsDuplicate(x, rr) {
			return nil
		}
	}
	z.RRSets[k] = append(z.RRSets[k], rr)
	return nil
}

// ApplyIXFR applies an IXFR answer to have: the incremental form (RFC
// 1995 §4: new SOA, then per version the old SOA, deletions, the new SOA,
// additions; new SOA) to a copy of have, the AXFR form as a new zone, the
// SOA alone as no change. It reports whether the answer was incremental.
func ApplyIXFR(have *Zone, rrs []dns.RR) (*Zone, bool, error) {
	if len(rrs) == 0 {
		return nil, false, fmt.Errorf("%w: an empty IXFR", ErrMalformed)
	}
	newSOA, ok := rrs[0].(*dns.SOA)
	if !ok {
		return nil, false, fmt.Errorf("%w: IXFR not started by the SOA", ErrMalformed)
	}
	if len(rrs) == 1 {
		return have, false, nil // up to date (or "ask over TCP", not our case)
	}
	if _, ok := rrs[1].(*dns.SOA); !ok {
		z, err := fromAXFR(have.Name, rrs)
		return z, false, err
	}
	last, ok := rrs[len(rrs)-1].(*dns.SOA)
	if !ok || last.Serial != newSOA.Serial || len(rrs) < 4 {
		return nil, false, fmt.Errorf("%w: IXFR not ended by the new SOA", ErrMalformed)
	}
	z := &Zone{Name: have.Name, SOA: have.SOA, RRSets: make(map[Key][]dns.RR, len(have.RRSets))}
	for k, v := range have.RRSets {
		z.RRSets[k] = v // copied on write below
	}
	adding := true // the first SOA inside starts a deletion part
	serial := have.SOA.Serial
	for _, rr := range rrs[1 : len(rrs)-1] {
		if soa, ok := rr.(*dns.SOA); ok && dns.CanonicalName(soa.Hdr.Name) == z.Name {
			adding = !adding
			switch {
			case !adding && soa.Serial != serial:
				return nil, false, fmt.Errorf("%w: IXFR delta from %d, the zone is at %d", ErrMalformed, soa.Serial, serial)
			case adding:
				serial, z.SOA = soa.Serial, soa
			}
			continue
		}
		h := rr.Header()
		k := Key{dns.CanonicalName(h.Name), h.Rrtype}
		if adding {
			z.RRSets[k] = slices.Clone(z.RRSets[k]) // copy on write: have's slice is shared
			if err := z.add(rr); err != nil {
				return nil, false, err
			}
			if len(z.RRSets[k]) == 0 {
				delete(z.RRSets, k)
			}
			continue
		}
		set := z.RRSets[k]
		i := slices.IndexFunc(set, func(x dns.RR) bool { return dns.IsDuplicate(x, rr) })
		if i < 0 {
			continue // deleting what is not there: RFC 1995 is silent, no harm
		}
		set = slices.Delete(slices.Clone(set), i, i+1)
		if len(set) == 0 {
			delete(z.RRSets, k)
		} else {
			z.RRSets[k] = set
		}
	}
	if !adding || serial != newSOA.Serial {
		return nil, false, fmt.Errorf("%w: IXFR ends at %d, announced %d", ErrMalformed, serial, newSOA.Serial)
	}
	z.SOA = newSOA
	return z, true, nil
}

// RRSet converts one of the zone's record sets to the control plane's
// form: the lowest TTL of its records (RFC 2181 §5.2), values in
// presentation form.
func (z *Zone) RRSet(k Key) zonecfg.RRSet {
	rrs := z.RRSets[k]
	rs := zonecfg.RRSet{Name: k.Name, Type: dns.TypeToString[k.Type]}
	for i, rr := range rrs {
		if i == 0 || rr.Header().Ttl < rs.TTL {
			rs.TTL = rr.Header().Ttl
		}
		rs.Records = append(rs.Records, zonecfg.RData(rr))
	}
	sort.Strings(rs.Records)
	return rs
}

// SOASet is the zone's SOA as a record set.
func (z *Zone) SOASet() zonecfg.RRSet {
	return zonecfg.RRSet{Name: z.Name, Type: "SOA", TTL: z.SOA.Hdr.Ttl, Records: []string{zonecfg.RData(z.SOA)}}
}

// Diff returns what turns zone a (nil: empty) into b: the keys of record
// sets to delete and the record sets to upsert (the SOA among them when
// it changed), sorted.
func Diff(a, b *Zone) (deletes []zonecfg.Key, upserts []zonecfg.RRSet) {
	if a == nil {
		a = &Zone{Name: b.Name, RRSets: map[Key][]dns.RR{}}
	}
	if a.SOA == nil || a.SOA.String() != b.SOA.String() {
		upserts = append(upserts, b.SOASet())
	}
	for k := range a.RRSets {
		if _, ok := b.RRSets[k]; !ok {
			deletes = append(deletes, zonecfg.Key{Name: k.Name, Type: dns.TypeToString[k.Type]})
		}
	}
	for k := range b.RRSets {
		nb := b.RRSet(k)
		if _, ok := a.RRSets[k]; ok {
			na := a.RRSet(k)
			if na.TTL == nb.TTL && slices.Equal(na.Records, nb.Records) {
				continue
			}
		}
		upserts = append(upserts, nb)
	}
	sort.Slice(deletes, func(i, j int) bool { return deletes[i].Less(deletes[j]) })
	sort.Slice(upserts, func(i, j int) bool { return upserts[i].Key().Less(upserts[j].Key()) })
	return deletes, upserts
}

// Timers is a secondary zone's schedule, from its SOA (RFC 1035 §3.3.13).
type Timers struct {
	Refresh, Retry, Expire time.Duration
}

// TimersOf returns soa's timers, each at least a second, retry and
// refresh at most the expire.
func TimersOf(soa *dns.SOA) Timers {
	sec := func(v uint32) time.Duration { return max(time.Duration(v)*time.Second, time.Second) }
	t := Timers{Refresh: sec(soa.Refresh), Retry: sec(soa.Retry), Expire: sec(soa.Expire)}
	t.Refresh, t.Retry = min(t.Refresh, t.Expire), min(t.Retry, t.Expire)
	return t
}

// Next returns when to check the primary next: refresh after a success,
// retry after a failure. lastOK is the last successful check (zero:
// never). Expired reports whether lastOK is older than the expire: a zone
// past it must stop being served (SERVFAIL).
func (t Timers) Next(now, lastOK time.Time, failed bool) (next time.Time, expired bool) {
	if lastOK.IsZero() {
		return now.Add(t.Retry), false
	}
	expired = now.Sub(lastOK) >= t.Expire
	if failed {
		return now.Add(t.Retry), expired
	}
	return lastOK.Add(t.Refresh), expired
}
