package dataplane

import (
	"hash/maphash"
	"math"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// RRLConfig configures response rate limiting over UDP, in the manner of
// BIND's and Knot's RRL: the responses to one client prefix are counted
// per response class — answers per name and type, NXDOMAIN per zone,
// referrals per delegation, NODATA per name and type, errors per rcode —
// in a token bucket refilled at Rate per second, which may run into a
// debt of Window seconds' worth. Over the rate a response is dropped,
// except every Slip-th, which is sent truncated (TC=1, no records) so a
// real client behind a spoofed-upon address retries over TCP. TCP
// responses and queries with a valid server cookie are never limited.
// RRL is on when Rate is positive and not Off: the zero Config of an
// embedded server leaves it off, and `waymark nameserver` turns it on at
// DefaultRRLRate unless told otherwise. Other zero fields take the
// defaults.
type RRLConfig struct {
	// Off disables rate limiting whatever Rate says.
	Off bool
	// Rate is the responses per second allowed per prefix and class; 0
	// disables rate limiting. The nameserver's default is DefaultRRLRate.
	Rate int
	// Window is how many seconds of excess a bucket remembers: after a
	// flood a client waits up to this long for full service. Default 15.
	Window int
	// Slip sends every Slip-th limited response truncated; 1 sends all of
	// them truncated, a negative value none (drop all). Default 2.
	Slip int
	// IPv4Prefix and IPv6Prefix are the client prefix lengths counted as
	// one client. Default /24 and /56.
	IPv4Prefix, IPv6Prefix int
	// TableSize is the number of buckets (rounded up to a power of two);
	// the table's memory is fixed at 24 octets a bucket. Colliding
	// clients share a bucket's slot: the newer takes it over. Default
	// 65536.
	TableSize int
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

// Defaults of RRLConfig.
const (
	DefaultRRLRate      = 20
	DefaultRRLWindow    = 15
	DefaultRRLSlip      = 2
	DefaultRRLTableSize = 1 << 16
)

// rrlAction is what to do with a response.
type rrlAction uint8

const (
	rrlSend rrlAction = iota
	rrlDrop
	rrlSlip
)

// Response classes, part of the bucket key.
const (
	rrlPositive byte = iota + 1
	rrlNXDomain
	rrlReferral
	rrlNoData
	rrlError
)

// rrlBucket is one token bucket, 24 octets, updated without a lock: the
// tokens and the second of the last refill share one word changed by
// compare-and-swap. A colliding key taking the slot over races with an
// update of the old key at worst, which costs one response's accounting.
type rrlBucket struct {
	key   atomic.Uint64
	state atomic.Uint64 // second of the last refill << 32 | uint32(tokens); negative tokens are debt
	slip  atomic.Uint32 // limited responses so far, for the slip ratio
	_     uint32
}

func rrlState(sec uint32, bal int32) uint64 { return uint64(sec)<<32 | uint64(uint32(bal)) }

type rrl struct {
	rate, debt int64
	slip       uint32
	v4, v6     int
	mask       uint64
	seed       maphash.Seed
	clock      *coarseClock
	stats      *Stats
	buckets    []rrlBucket
}

// newRRL returns the limiter cfg describes, or nil when it is off.
func newRRL(cfg RRLConfig, stats *Stats) *rrl {
	if cfg.Off || cfg.Rate <= 0 {
		return nil
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultRRLWindow
	}
	switch {
	case cfg.Slip == 0:
		cfg.Slip = DefaultRRLSlip
	case cfg.Slip < 0:
		cfg.Slip = 0
	}
	if cfg.IPv4Prefix <= 0 || cfg.IPv4Prefix > 32 {
		cfg.IPv4Prefix = 24
	}
	if cfg.IPv6Prefix <= 0 || cfg.IPv6Prefix > 128 {
		cfg.IPv6Prefix = 56
	}
	size := 1
	if cfg.TableSize <= 0 {
		cfg.TableSize = DefaultRRLTableSize
	}
	for size < cfg.TableSize {
		size <<= 1
	}
	// Tokens are 32 bits in the bucket's state word.
	rate := min(int64(cfg.Rate), math.MaxInt32)
	return &rrl{
		rate: rate, debt: min(rate*int64(cfg.Window), math.MaxInt32), slip: uint32(cfg.Slip),
		v4: cfg.IPv4Prefix, v6: cfg.IPv6Prefix,
		mask: uint64(size - 1), seed: maphash.MakeSeed(), clock: newCoarseClock(cfg.Now), stats: stats,
		buckets: make([]rrlBucket, size),
	}
}

// classify returns the response class of res and the name that keys it
// (empty for errors), and whether the type is part of the key.
func rrlClass(q *request, res *result) (class byte, name string, withType bool) {
	switch {
	case res.rcode == dns.RcodeNameError:
		if len(res.authority) > 0 {
			return rrlNXDomain, res.authority[0].owner, false // the zone's SOA
		}
		return rrlNXDomain, "", false
	case res.rcode != dns.RcodeSuccess:
		return rrlError, "", false
	case len(res.answer) > 0:
		return rrlPositive, q.lname, true
	case !res.aa && len(res.authority) > 0:
		return rrlReferral, res.authority[0].owner, false // the delegation's NS
	}
	return rrlNoData, q.lname, true
}

// account counts the response res to q for from and says what to do.
func (r *rrl) account(from netip.Addr, q *request, res *result) rrlAction {
	if !from.IsValid() {
		return rrlSend // no address to count against (ServeDNS without one)
	}
	class, name, withType := rrlClass(q, res)
	// The key: prefix, class, type, rcode and name, hashed with a
	// per-process seed so that nobody can aim collisions at a bucket.
	var kb [1 + 16 + 1 + 2 + 1 + maxNameWire]byte
	n := 0
	from = from.Unmap()
	if from.Is4() {
		p, _ := from.Prefix(r.v4)
		a := p.Addr().As4()
		kb[0] = 4
		n = 1 + copy(kb[1:], a[:])
	} else {
		p, _ := from.Prefix(r.v6)
		a := p.Addr().As16()
		kb[0] = 6
		n = 1 + copy(kb[1:], a[:])
	}
	kb[n] = class
	n++
	if withType {
		kb[n], kb[n+1] = byte(q.qtype>>8), byte(q.qtype)
		n += 2
	}
	kb[n] = byte(res.rcode)
	n++
	n += copy(kb[n:], name)
	key := maphash.Bytes(r.seed, kb[:n])
	sec := uint32(r.clock.unix())

	b := &r.buckets[key&r.mask]
	if b.key.Load() != key {
		b.key.Store(key)
		b.state.Store(rrlState(sec, int32(r.rate)))
		b.slip.Store(0)
	}
	var bal int64
	for {
		old := b.state.Load()
		at := uint32(old >> 32)
		bal = int64(int32(uint32(old)))
		if d := int32(sec - at); d > 0 { // serial arithmetic: the clock only moves on
			at = sec
			bal = min(bal+int64(d)*r.rate, r.rate)
		}
		bal = max(bal-1, -r.debt)
		if b.state.CompareAndSwap(old, rrlState(at, int32(bal))) {
			break
		}
	}
	if bal >= 0 {
		return rrlSend
	}
	slip := r.slip != 0 && b.slip.Add(1)%r.slip == 0
	if slip {
		r.stats.RRLSlipped.Add(1)
		return rrlSlip
	}
	r.stats.RRLDropped.Add(1)
	return rrlDrop
}
