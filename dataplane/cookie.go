package dataplane

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"math/bits"
	"net/netip"
	"sync/atomic"
	"time"
)

// CookieConfig configures DNS Cookies (RFC 7873) with interoperable server
// cookies (RFC 9018: version 1, a timestamp, SipHash-2-4 over the client
// cookie, version, reserved octets, timestamp and client address). A
// client that returns a valid server cookie has proved it receives our
// answers at its address, so it is exempt from response rate limiting.
type CookieConfig struct {
	// Off disables cookies: COOKIE options are then ignored (a malformed
	// one still gets FORMERR).
	Off bool
	// Secret is the 16-octet server secret. Every server of an anycast
	// address must share it (RFC 9018 §4.4). Default: random per process.
	Secret []byte
	// PrevSecret, when set, is the secret before the last rotation:
	// cookies made with it still validate, new ones use Secret.
	PrevSecret []byte
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

// Cookie lengths (RFC 7873 §4).
const (
	clientCookieLen    = 8
	minServerCookieLen = 8
	maxServerCookieLen = 32
	serverCookieLen    = 16 // RFC 9018 §4
	cookieSecretLen    = 16
)

// Validity window of a server cookie's timestamp (RFC 9018 §4.3): made at
// most an hour ago and at most five minutes in the future.
const (
	cookieMaxAge    = 3600
	cookieMaxFuture = 300
)

// cookieState is what a query's COOKIE option amounts to.
type cookieState uint8

const (
	cookieNone       cookieState = iota // no COOKIE option
	cookieClientOnly                    // a client cookie alone
	cookieBad                           // a server cookie that does not validate
	cookieValid                         // a valid server cookie
)

// errCookieMalformed is a COOKIE option of a length RFC 7873 §5.2.2 does
// not allow.
var errCookieMalformed = errors.New("dataplane: malformed COOKIE option")

// parseCookie splits a COOKIE option's data into the client cookie and the
// server cookie (empty when absent). Any length other than 8 or 16 to 40
// is malformed (RFC 7873 §4, §5.2.2).
func parseCookie(b []byte) (client, server []byte, err error) {
	switch n := len(b); {
	case n == clientCookieLen:
		return b, nil, nil
	case n >= clientCookieLen+minServerCookieLen && n <= clientCookieLen+maxServerCookieLen:
		return b[:clientCookieLen], b[clientCookieLen:], nil
	}
	return nil, nil, errCookieMalformed
}

// cookieSecrets is the current and previous secret as SipHash keys.
type cookieSecrets struct {
	cur, prev [2]uint64
	hasPrev   bool
}

// cookieJar makes and checks server cookies.
type cookieJar struct {
	secrets atomic.Pointer[cookieSecrets]
	clock   *coarseClock
	stats   *Stats
}

// newCookieJar returns the jar cfg describes, or nil when cookies are off.
// A secret of the wrong length is replaced by a random one (NewServer
// cannot fail); cmd/waymark checks flags before.
func newCookieJar(cfg CookieConfig, stats *Stats) *cookieJar {
	if cfg.Off {
		return nil
	}
	j := &cookieJar{clock: newCoarseClock(cfg.Now), stats: stats}
	if j.setSecrets(cfg.Secret, cfg.PrevSecret) != nil {
		_ = j.setSecrets(nil, nil)
	}
	return j
}

// setSecrets installs new secrets; a nil cur picks a random one.
func (j *cookieJar) setSecrets(cur, prev []byte) error {
	if j == nil {
		return errors.New("dataplane: cookies are off")
	}
	if cur == nil {
		cur = make([]byte, cookieSecretLen)
		_, _ = rand.Read(cur)
	}
	if len(cur) != cookieSecretLen || prev != nil && len(prev) != cookieSecretLen {
		return errors.New("dataplane: a cookie secret is 16 octets")
	}
	s := &cookieSecrets{cur: sipKey(cur)}
	if prev != nil {
		s.prev, s.hasPrev = sipKey(prev), true
	}
	j.secrets.Store(s)
	return nil
}

func sipKey(k []byte) [2]uint64 {
	return [2]uint64{binary.LittleEndian.Uint64(k), binary.LittleEndian.Uint64(k[8:])}
}

// serverCookie writes into out the RFC 9018 server cookie for client at
// time ts with key.
func serverCookie(out *[serverCookieLen]byte, key [2]uint64, client []byte, ts uint32, from netip.Addr) {
	var in [clientCookieLen + 8 + 16]byte
	n := copy(in[:], client)
	in[n] = 1 // version; three reserved octets stay zero
	binary.BigEndian.PutUint32(in[n+4:], ts)
	n += 8
	if from.Is4() {
		a := from.As4()
		n += copy(in[n:], a[:])
	} else {
		a := from.As16()
		n += copy(in[n:], a[:])
	}
	copy(out[:8], in[clientCookieLen:clientCookieLen+8])
	binary.LittleEndian.PutUint64(out[8:], sipHash24(key, in[:n]))
}

// check classifies the query's cookie and writes the cookie the answer
// carries (client cookie and a fresh server cookie) into q.
func (j *cookieJar) check(q *request, from netip.Addr) cookieState {
	s := j.secrets.Load()
	client, server, _ := parseCookie(q.cookie[:q.cookieLen])
	now := uint32(j.clock.unix())
	copy(q.cookieOut[:], client)
	var fresh [serverCookieLen]byte
	serverCookie(&fresh, s.cur, client, now, from.Unmap())
	copy(q.cookieOut[clientCookieLen:], fresh[:])
	q.cookieOutLen = clientCookieLen + serverCookieLen
	if len(server) == 0 {
		j.stats.CookiesNew.Add(1)
		return cookieClientOnly
	}
	if j.valid(s, client, server, now, from.Unmap()) {
		j.stats.CookiesValid.Add(1)
		return cookieValid
	}
	j.stats.CookiesBad.Add(1)
	return cookieBad
}

// valid checks a server cookie against both secrets.
func (j *cookieJar) valid(s *cookieSecrets, client, server []byte, now uint32, from netip.Addr) bool {
	if len(server) != serverCookieLen || server[0] != 1 {
		return false
	}
	ts := binary.BigEndian.Uint32(server[4:])
	// Serial number arithmetic (RFC 1982) on 32-bit seconds.
	if age := int32(now - ts); age > cookieMaxAge || age < -cookieMaxFuture {
		return false
	}
	var want [serverCookieLen]byte
	serverCookie(&want, s.cur, client, ts, from)
	if string(want[:]) == string(server) {
		return true
	}
	if !s.hasPrev {
		return false
	}
	serverCookie(&want, s.prev, client, ts, from)
	return string(want[:]) == string(server)
}

// sipHash24 is SipHash-2-4 (Aumasson and Bernstein) of m under key k.
func sipHash24(k [2]uint64, m []byte) uint64 {
	v0 := k[0] ^ 0x736f6d6570736575
	v1 := k[1] ^ 0x646f72616e646f6d
	v2 := k[0] ^ 0x6c7967656e657261
	v3 := k[1] ^ 0x7465646279746573
	round := func() {
		v0 += v1
		v1 = bits.RotateLeft64(v1, 13)
		v1 ^= v0
		v0 = bits.RotateLeft64(v0, 32)
		v2 += v3
		v3 = bits.RotateLeft64(v3, 16)
		v3 ^= v2
		v0 += v3
		v3 = bits.RotateLeft64(v3, 21)
		v3 ^= v0
		v2 += v1
		v1 = bits.RotateLeft64(v1, 17)
		v1 ^= v2
		v2 = bits.RotateLeft64(v2, 32)
	}
	n := len(m)
	for len(m) >= 8 {
		w := binary.LittleEndian.Uint64(m)
		v3 ^= w
		round()
		round()
		v0 ^= w
		m = m[8:]
	}
	last := uint64(n) << 56
	for i := len(m) - 1; i >= 0; i-- {
		last |= uint64(m[i]) << (8 * i)
	}
	v3 ^= last
	round()
	round()
	v0 ^= last
	v2 ^= 0xff
	round()
	round()
	round()
	round()
	return v0 ^ v1 ^ v2 ^ v3
}
