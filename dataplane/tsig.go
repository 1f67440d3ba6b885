package dataplane

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/dnssec"
	"github.com/waymark-dns/waymark/zonecfg"
)

// TSIG (RFC 8945) on the nameserver: requests signed with one of a zone's
// transfer keys — transfers (xfr.go) and the SOA queries and other
// queries secondaries sign (BIND signs its refresh queries and requires a
// signed answer) — are verified here, and answered signed. A failure is
// answered as §5.2 says: NOTAUTH with the TSIG error BADKEY (a key the
// zone does not have, or another algorithm) or BADSIG (a wrong MAC),
// both unsigned; BADTIME (signed, the server's time in Other Data) when
// the MAC is right but the time is outside the fudge. The keys are the
// zone's: a key name is known for the zones that configure it.

// TSIG errors (RFC 8945 §3).
const (
	tsigBadSig  = dns.RcodeBadSig
	tsigBadKey  = dns.RcodeBadKey
	tsigBadTime = dns.RcodeBadTime
)

// tsigKey is a verified request's key, ready to sign the response.
type tsigKey struct {
	name, alg string // canonical, as in TSIG records
	secret    []byte
	newHash   func() hash.Hash
}

// tsigReq is what verifying a request's TSIG found.
type tsigReq struct {
	key    *tsigKey // nil: unknown key (err BADKEY)
	keyRaw string   // the key name as the request had it, lowercase
	algRaw string
	mac    []byte // the request's MAC
	err    int    // 0, or the TSIG error to answer with
}

// verifyTSIG checks the TSIG t of request b (wire) against zone z's keys
// at time now.
func (h *Handler) verifyTSIG(b []byte, t *dns.TSIG, z *zone, now time.Time) tsigReq {
	if z == nil || z.xfr == nil {
		return h.verifyTSIGWith(b, t, "", nil, now)
	}
	return h.verifyTSIGWith(b, t, z.id, z.xfr.cfg.Key, now)
}

// verifyTSIGWith checks the TSIG t of request b against the keys keyOf
// finds (by canonical name; nil: none), wrapped for zone zoneID.
func (h *Handler) verifyTSIGWith(b []byte, t *dns.TSIG, zoneID string, keyOf func(string) *zonecfg.TSIGKey, now time.Time) tsigReq {
	r := tsigReq{keyRaw: strings.ToLower(dns.Fqdn(t.Hdr.Name)), algRaw: strings.ToLower(dns.Fqdn(t.Algorithm)), err: tsigBadKey}
	r.mac, _ = hex.DecodeString(t.MAC)
	if keyOf == nil {
		return r
	}
	k := keyOf(r.keyRaw)
	signer := h.store.signer.Load()
	if k == nil || signer == nil || r.algRaw != tsigAlgName(k.Algorithm) {
		return r
	}
	secret, err := dnssec.Open(signer.fleetKey, k.Wrapped, zonecfg.TSIGKeyAD(zoneID, k.Name))
	if err != nil {
		return r
	}
	r.key = &tsigKey{name: r.keyRaw, alg: r.algRaw, secret: secret, newHash: tsigHash(k.Algorithm)}
	// miekg's verifier checks the MAC first and the time (with the wall
	// clock) after: ErrTime means the MAC is right. The time is then
	// judged here against now. It rewrites the message's header as it
	// strips the TSIG: it gets a copy.
	err = dns.TsigVerify(slices.Clone(b), base64.StdEncoding.EncodeToString(secret), "", false)
	switch {
	case err != nil && !errors.Is(err, dns.ErrTime):
		r.err = tsigBadSig
	case !withinFudge(t, now):
		r.err = tsigBadTime
	default:
		r.err = 0
	}
	return r
}

// withinFudge reports whether the request's signing time is within its
// fudge of now.
func withinFudge(t *dns.TSIG, now time.Time) bool {
	n := uint64(now.Unix())
	d := n - t.TimeSigned
	if n < t.TimeSigned {
		d = t.TimeSigned - n
	}
	return d <= uint64(t.Fudge)
}

// release wipes the key's secret.
func (r *tsigReq) release() {
	if r.key != nil {
		clear(r.key.secret)
	}
}

// tsigLen is the length of the TSIG record appendTSIG adds for r.
func (r *tsigReq) tsigLen() int {
	keyWire, _ := wireName(r.keyRaw)
	algWire, _ := wireName(r.algRaw)
	n := len(keyWire) + 10 + len(algWire) + 16 + 6
	if r.key != nil && r.err != tsigBadSig {
		n += r.key.newHash().Size()
	}
	return n
}

// tsigMAC computes a MAC per RFC 8945 §4.3: the previous MAC (the
// request's, for a response's first message) with its length, the
// message, and either every TSIG variable (full) or the timers only
// (later messages of a transfer, §5.3.1).
func tsigMAC(h hash.Hash, prev, msg []byte, keyWire, algWire string, now uint64, full bool, tsigErr uint16, other []byte, out []byte) []byte {
	h.Reset()
	if prev != nil {
		var u16 [2]byte
		binary.BigEndian.PutUint16(u16[:], uint16(len(prev)))
		h.Write(u16[:])
		h.Write(prev)
	}
	h.Write(msg)
	var v []byte
	if full {
		v = append(v, keyWire...)
		v = append(v, 0, 255, 0, 0, 0, 0) // class ANY, TTL 0
		v = append(v, algWire...)
	}
	v = appendTimers(v, now)
	if full {
		v = binary.BigEndian.AppendUint16(v, tsigErr)
		v = binary.BigEndian.AppendUint16(v, uint16(len(other)))
		v = append(v, other...)
	}
	h.Write(v)
	return h.Sum(out[:0])
}

// appendTimers appends Time Signed (48 bits) and Fudge.
func appendTimers(b []byte, now uint64) []byte {
	b = append(b, byte(now>>40), byte(now>>32), byte(now>>24), byte(now>>16), byte(now>>8), byte(now))
	return binary.BigEndian.AppendUint16(b, tsigFudge)
}

// appendTSIGRR appends a TSIG record to msg and counts it in ARCOUNT.
func appendTSIGRR(msg []byte, keyWire, algWire string, now uint64, mac []byte, origID, tsigErr uint16, other []byte) []byte {
	msg = append(msg, keyWire...)
	msg = binary.BigEndian.AppendUint16(msg, dns.TypeTSIG)
	msg = binary.BigEndian.AppendUint16(msg, dns.ClassANY)
	msg = append(msg, 0, 0, 0, 0)
	rdlen := len(algWire) + 8 + 2 + len(mac) + 2 + 2 + 2 + len(other)
	msg = binary.BigEndian.AppendUint16(msg, uint16(rdlen))
	msg = append(msg, algWire...)
	msg = appendTimers(msg, now)
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(mac)))
	msg = append(msg, mac...)
	msg = binary.BigEndian.AppendUint16(msg, origID)
	msg = binary.BigEndian.AppendUint16(msg, tsigErr)
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(other)))
	msg = append(msg, other...)
	binary.BigEndian.PutUint16(msg[10:], binary.BigEndian.Uint16(msg[10:])+1)
	return msg
}

// signResponse appends the TSIG record answering the request r to resp
// (a whole response, header counts without the TSIG): signed for a
// verified request and BADTIME, with an empty MAC for BADKEY and BADSIG
// (§5.3.2).
func (r *tsigReq) signResponse(resp []byte, now time.Time) []byte {
	keyWire, err1 := wireName(r.keyRaw)
	algWire, err2 := wireName(r.algRaw)
	if err1 != nil || err2 != nil || len(resp) < 12 {
		return resp
	}
	id := binary.BigEndian.Uint16(resp)
	n := uint64(now.Unix())
	var other []byte
	if r.err == tsigBadTime {
		other = appendTimers(nil, n)[:6]
	}
	if r.key == nil || r.err == tsigBadSig || r.err == tsigBadKey {
		return appendTSIGRR(resp, keyWire, algWire, n, nil, id, uint16(r.err), nil)
	}
	mac := tsigMAC(hmac.New(r.key.newHash, r.key.secret), r.mac, resp, keyWire, algWire, n, true, uint16(r.err), other, nil)
	return appendTSIGRR(resp, keyWire, algWire, n, mac, id, uint16(r.err), other)
}

// tsigErrorResponse is the NOTAUTH response to request b whose TSIG
// failed: the header and question echoed, then the TSIG with the error.
func (r *tsigReq) tsigErrorResponse(out, b []byte, now time.Time) []byte {
	end := questionEnd(b)
	if end < 0 {
		return formErrHeader(out, b)
	}
	out = append(out[:0], b[0], b[1], 0x80|b[2]&0x79, dns.RcodeNotAuth, 0, 1, 0, 0, 0, 0, 0, 0)
	out = append(out, b[12:end]...)
	return r.signResponse(out, now)
}

// questionEnd returns the offset just past the one question of b (an
// uncompressed name), or -1.
func questionEnd(b []byte) int {
	if len(b) < 12 || binary.BigEndian.Uint16(b[4:]) != 1 {
		return -1
	}
	off := 12
	for off < len(b) {
		l := int(b[off])
		if l == 0 {
			off++
			if off+4 > len(b) {
				return -1
			}
			return off + 4
		}
		if l&0xc0 != 0 {
			return -1
		}
		off += 1 + l
	}
	return -1
}

// serveSignedQuery answers a query (not a transfer) that carries a TSIG:
// verified against the keys of the zone the question falls in, answered
// as any query and signed; a failure gets NOTAUTH with the TSIG error.
func (h *Handler) serveSignedQuery(out, b []byte, t *dns.TSIG, q *request, res *result, from netip.Addr) []byte {
	now := time.Now()
	var z *zone
	if q.lname != "" {
		z = h.store.load().view(h.view).find(q.lname)
	}
	r := h.verifyTSIG(b, t, z, now)
	defer r.release()
	if r.err != 0 {
		return r.tsigErrorResponse(out, b, now)
	}
	q.reserve = r.tsigLen()
	resp := h.answer(out, q, res, from)
	if resp == nil {
		return nil
	}
	return r.signResponse(resp, now)
}
