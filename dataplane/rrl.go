package dataplane

import (
	"encoding/binary"
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
	// the table's memory is fixed at 16 octets a bucket. Colliding
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

// rrlBucket is one token bucket, 16 octets so that four share a cache
// line and none straddles two (at 24 octets a quarter did, and a random
// bucket is a cache miss on every response: that miss is most of RRL's
// cost). It is updated without a lock: the tokens and the second of the
// last refill share one word changed by compare-and-swap; the other word
// holds the key's tag (the hash's upper 48 bits) and the slip count (the
// lower 16). A colliding key taking the slot over races with an update of
// the old key at worst, which costs one response's accounting.
type rrlBucket struct {
	tag   atomic.Uint64 // key hash &^ 0xffff | limited responses so far (for the slip ratio), mod 2^16
	state atomic.Uint64 // second of the last refill << 32 | uint32(tokens); negative tokens are debt
}

// rrlTagMask selects the key's tag in rrlBucket.tag.
const rrlTagMask = ^uint64(0xffff)

func rrlState(sec uint32, bal int32) uint64 { return uint64(sec)<<32 | uint64(uint32(bal)) }

type rrl struct {
	rate, debt int64
	slip       uint32
	// v4mask and v6mask keep the prefix bits of an address (IPv4 in the
	// low 32 bits, IPv6 as two big-endian halves).
	v4mask uint64
	v6mask [2]uint64
	mask   uint64
	seed   maphash.Seed
	// salt is folded into the address and class words before mixing, so
	// that their contribution to the key is not predictable either.
	salt    [3]uint64
	clock   *coarseClock
	stats   *Stats
	buckets []rrlBucket
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
	seed := maphash.MakeSeed()
	r := &rrl{
		rate: rate, debt: min(rate*int64(cfg.Window), math.MaxInt32), slip: uint32(cfg.Slip),
		v4mask: prefixMask(cfg.IPv4Prefix) >> 32,
		mask:   uint64(size - 1), seed: seed, clock: newCoarseClock(cfg.Now), stats: stats,
		buckets: make([]rrlBucket, size),
	}
	r.v6mask[0] = prefixMask(min(cfg.IPv6Prefix, 64))
	r.v6mask[1] = prefixMask(max(cfg.IPv6Prefix-64, 0))
	for i := range r.salt {
		r.salt[i] = maphash.Comparable(seed, i)
	}
	return r
}

// countLimited adds one to b's slip count and returns the new count. The
// count is the tag word's low 16 bits and wraps without carrying into the
// tag (a carry would look like another key taking the bucket over and
// reset its debt); the slip ratio holds across the wrap when Slip divides
// 2^16 and is off by one response at most otherwise.
func (r *rrl) countLimited(b *rrlBucket) uint32 {
	for {
		old := b.tag.Load()
		n := uint16(old) + 1
		if b.tag.CompareAndSwap(old, old&rrlTagMask|uint64(n)) {
			return uint32(n)
		}
	}
}

// prefixMask is a 64-bit word with its n (0–64) leading bits set.
func prefixMask(n int) uint64 {
	if n <= 0 {
		return 0
	}
	return ^uint64(0) << (64 - n)
}

// rrlMix is a 64-bit finalizer (SplitMix64's): every input bit affects
// every output bit, so the folded words spread over the table.
func rrlMix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
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
	// per-process seed so that nobody can aim collisions at a bucket. The
	// name is hashed where it lies and the rest folded in as one word.
	from = from.Unmap()
	meta := uint64(class)<<24 | uint64(byte(res.rcode))<<16
	if withType {
		meta |= uint64(q.qtype)
	}
	var hi, lo uint64
	if from.Is4() {
		a := from.As4()
		hi = uint64(binary.BigEndian.Uint32(a[:])) & r.v4mask
		meta |= 4 << 32
	} else {
		a := from.As16()
		hi = binary.BigEndian.Uint64(a[:8]) & r.v6mask[0]
		lo = binary.BigEndian.Uint64(a[8:]) & r.v6mask[1]
		meta |= 6 << 32
	}
	key := maphash.String(r.seed, name)
	key = rrlMix(key ^ rrlMix(hi^r.salt[0]) ^ rrlMix(lo^r.salt[1]) ^ rrlMix(meta^r.salt[2]))
	sec := uint32(r.clock.unix())

	b := &r.buckets[key&r.mask]
	tag := key & rrlTagMask
	if t := b.tag.Load(); t&rrlTagMask != tag {
		b.tag.Store(tag)
		b.state.Store(rrlState(sec, int32(r.rate)))
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
	slip := r.slip != 0 && r.countLimited(b)%r.slip == 0
	if slip {
		r.stats.RRLSlipped.Add(1)
		return rrlSlip
	}
	r.stats.RRLDropped.Add(1)
	return rrlDrop
}
