package dataplane

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/zonecfg"
)

// Outgoing zone transfers (docs/transfers.md): AXFR (RFC 5936) and IXFR
// (RFC 1995) over TCP, to requests signed with TSIG (RFC 8945) by a key
// the zone's configuration allows, from an address in that key's CIDRs.
// Everything else is REFUSED, unsigned. Over UDP an AXFR is REFUSED and an
// allowed IXFR gets the SOA alone (RFC 1995 §2: the client then asks over
// TCP). IXFR is answered from the journal (journal.go) when it holds the
// chain of deltas from the client's serial, with the SOA alone when the
// client is current, and with the whole zone in AXFR form (§4) otherwise.
// The SOA serial is the zone version.
//
// Routed record sets and aliases are transferred as the answer a client
// with no location gets when every health check is healthy, random
// choices fixed per name (xfrSets): a secondary has no way to choose per
// client.
//
// Signed zones are refused (a signed, authenticated REFUSED): the
// nameservers sign online and a secondary would get no signatures.

// zoneXfr is a zone's transfer configuration as the nameserver uses it.
type zoneXfr struct {
	cfg  *zonecfg.Transfers // as received, for the cache and ZoneState
	acls []xfrACL
}

// xfrACL is one allow entry with its prefixes parsed.
type xfrACL struct {
	key      string // canonical key name, as in TSIG records (lowercase, final dot)
	prefixes []netip.Prefix
}

// setTransfers replaces the zone's transfer configuration; nil leaves it
// as it is. Unparsable CIDRs are dropped (they allow nothing), never
// widened.
func (b *zoneBuilder) setTransfers(cfg *zonecfg.Transfers) {
	if cfg == nil {
		return
	}
	b.z.xfr = nil
	if len(cfg.Allow) == 0 && len(cfg.Notify) == 0 {
		return
	}
	x := &zoneXfr{cfg: cfg}
	for _, a := range cfg.Allow {
		acl := xfrACL{key: strings.ToLower(dns.Fqdn(a.Key))}
		for _, c := range a.CIDRs {
			if p, err := netip.ParsePrefix(c); err == nil {
				acl.prefixes = append(acl.prefixes, p.Masked())
			}
		}
		x.acls = append(x.acls, acl)
	}
	b.z.xfr = x
}

// allows reports whether key may transfer from addr.
func (x *zoneXfr) allows(key string, addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, a := range x.acls {
		if a.key != key {
			continue
		}
		for _, p := range a.prefixes {
			if p.Contains(addr) {
				return true
			}
		}
	}
	return false
}

// isTransferQuery reports whether the message b asks for AXFR or IXFR: a
// look at the question only, so that the TCP loop can hand it to
// serveTransfer. Anything malformed is left to the usual path.
func isTransferQuery(b []byte) bool {
	t := questionType(b)
	return t == dns.TypeAXFR || t == dns.TypeIXFR
}

// isIXFRQuery reports whether the message b asks for IXFR.
func isIXFRQuery(b []byte) bool { return questionType(b) == dns.TypeIXFR }

// questionType returns the type asked by the query b (one question, an
// uncompressed name), or 0.
func questionType(b []byte) uint16 {
	if len(b) < 12 || b[2]&0x80 != 0 || binary.BigEndian.Uint16(b[4:]) != 1 {
		return 0
	}
	off := 12
	for off < len(b) {
		l := int(b[off])
		if l == 0 {
			off++
			break
		}
		if l&0xc0 != 0 {
			return 0
		}
		off += 1 + l
	}
	if off+4 > len(b) {
		return 0
	}
	return binary.BigEndian.Uint16(b[off:])
}

// xfrMsgTarget is the size at which a transfer message is closed and a
// new one begun: well under 64 KiB, so that one record set never
// overflows a message, and small enough to stream.
const xfrMsgTarget = 16 << 10

// tsigFudge is the time difference allowed in signatures we make.
const tsigFudge = 300

// xfrWriter builds and signs the messages of one transfer response and
// hands each to write.
type xfrWriter struct {
	write    func([]byte) error
	id       uint16
	question []byte // the question section, repeated in every message
	buf      []byte // the message being built, without TSIG
	count    int    // answer records in buf
	err      error
	// TSIG state: nil mac means unsigned.
	keyName, alg string
	h            hash.Hash
	mac          []byte // the previous message's MAC (the request's at first)
	first        bool
	now          uint64
	zoneName     string // wire; owners are compressed against the question's name
}

// start begins a message with rcode.
func (w *xfrWriter) start(rcode int) {
	w.buf = w.buf[:0]
	w.buf = binary.BigEndian.AppendUint16(w.buf, w.id)
	flags := byte(0x80) // QR; opcode QUERY
	if rcode == dns.RcodeSuccess {
		flags |= 0x04 // AA: only on the zone's data, as on other refusals
	}
	w.buf = append(w.buf, flags, byte(rcode&0xf))
	w.buf = append(w.buf, 0, 1, 0, 0, 0, 0, 0, 0)
	w.buf = append(w.buf, w.question...)
	w.count = 0
}

// add appends one record: owner is a wire name inside the zone.
func (w *xfrWriter) add(owner string, typ uint16, ttl uint32, rdata string) {
	if w.err != nil {
		return
	}
	if len(w.buf)+len(owner)+10+len(rdata) > xfrMsgTarget && w.count > 0 {
		w.flush()
		w.start(dns.RcodeSuccess)
	}
	if strings.HasSuffix(owner, w.zoneName) {
		w.buf = append(w.buf, owner[:len(owner)-len(w.zoneName)]...)
		w.buf = append(w.buf, 0xc0, 12) // the question's name
	} else {
		w.buf = append(w.buf, owner...)
	}
	w.buf = binary.BigEndian.AppendUint16(w.buf, typ)
	w.buf = binary.BigEndian.AppendUint16(w.buf, dns.ClassINET)
	w.buf = binary.BigEndian.AppendUint32(w.buf, ttl)
	w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(len(rdata)))
	w.buf = append(w.buf, rdata...)
	w.count++
}

// addSet appends every record of s.
func (w *xfrWriter) addSet(owner string, s *rrset, ttl uint32) {
	s.records(func(rd string) { w.add(owner, s.typ, ttl, rd) })
}

// flush signs and writes the message being built.
func (w *xfrWriter) flush() {
	if w.err != nil {
		return
	}
	binary.BigEndian.PutUint16(w.buf[6:], uint16(w.count))
	if w.h != nil {
		w.sign()
	}
	w.err = w.write(w.buf)
}

// sign appends a TSIG record per RFC 8945 §5.3: the first message's MAC
// covers the request's MAC, the message and all TSIG variables; each
// later one covers the previous MAC, the message and the timers (§5.3.1).
func (w *xfrWriter) sign() {
	keyWire, _ := wireName(w.keyName)
	algWire, _ := wireName(w.alg)
	w.mac = tsigMAC(w.h, w.mac, w.buf, keyWire, algWire, w.now, w.first, 0, nil, w.mac)
	w.first = false
	w.buf = appendTSIGRR(w.buf, keyWire, algWire, w.now, w.mac, w.id, 0, nil)
}

// serveTransfer answers the AXFR or IXFR request req from addr, handing
// each response message to write. It returns write's first error (the
// connection is then unusable). udp: the request came over UDP, which
// gets one message at most (an AXFR is REFUSED, an allowed IXFR the SOA).
func (h *Handler) serveTransfer(req []byte, from netip.Addr, now time.Time, udp bool, write func([]byte) error) (err error) {
	defer func() {
		// A bug must cost this connection only, never the nameserver.
		if r := recover(); r != nil {
			err = fmt.Errorf("dataplane: panic serving a transfer: %v", r)
		}
	}()
	m := new(dns.Msg)
	if m.Unpack(req) != nil || len(m.Question) != 1 {
		return write(formErrHeader(nil, req))
	}
	q := m.Question[0]
	w := &xfrWriter{write: write, id: m.Id, first: true}
	w.question = appendQuestion(nil, q)
	refuse := func() error {
		w.h = nil
		w.start(dns.RcodeRefused)
		w.flush()
		return w.err
	}
	if w.question == nil || q.Qclass != dns.ClassINET || m.Opcode != dns.OpcodeQuery || (udp && q.Qtype != dns.TypeIXFR) {
		return refuse()
	}
	if !h.ready.Load() {
		w.start(dns.RcodeServerFailure)
		w.flush()
		return w.err
	}
	lname, err := wireName(strings.ToLower(q.Name))
	if err != nil {
		return refuse()
	}
	z := h.store.load().view(h.view).find(lname)
	t := m.IsTsig()
	if z == nil || z.name != lname || z.xfr == nil || t == nil {
		return refuse()
	}
	r := h.verifyTSIG(req, t, z, now)
	defer r.release()
	if r.err != 0 {
		// RFC 8945 §5.2: NOTAUTH with the TSIG error.
		return write(r.tsigErrorResponse(nil, req, now))
	}
	w.keyName, w.alg, w.mac, w.now = r.key.name, r.key.alg, r.mac, uint64(now.Unix())
	w.h = hmac.New(r.key.newHash, r.key.secret)
	if !z.xfr.allows(r.key.name, from) {
		// The key is right, the address is not: REFUSED, signed.
		w.start(dns.RcodeRefused)
		w.flush()
		return w.err
	}
	w.zoneName = z.name
	if z.keys != nil || len(z.bad) > 0 || z.soa == nil || z.expired {
		// A signed zone (its signatures are made online), one this
		// server holds incompletely, or an expired secondary zone (no
		// longer authoritative, secondary.go): refused, signed, so the
		// secondary knows the refusal is ours.
		w.start(dns.RcodeRefused)
		w.flush()
		return w.err
	}
	soa := soaRecord(z)
	w.start(dns.RcodeSuccess)
	w.add(soa.owner, soa.typ, soa.ttl, soa.rdata)
	if q.Qtype == dns.TypeIXFR {
		serial, ok := ixfrSerial(m)
		if udp || (ok && int32(serial-z.serial()) >= 0) {
			// Up to date; or over UDP, where the answer is the SOA
			// alone and the client comes back over TCP (RFC 1995 §2).
			w.flush()
			return w.err
		}
		// The journal is by version; a secondary zone's serials are its
		// primary's, so its IXFR is answered in full.
		if chain := h.store.journal.chain(z.id, serial, z.version); ok && z.sec == nil && chain != nil {
			for _, d := range chain {
				w.add(d.fromSOA.owner, d.fromSOA.typ, d.fromSOA.ttl, d.fromSOA.rdata)
				for _, r := range d.del {
					w.add(r.owner, r.typ, r.ttl, r.rdata)
				}
				w.add(d.toSOA.owner, d.toSOA.typ, d.toSOA.ttl, d.toSOA.rdata)
				for _, r := range d.add {
					w.add(r.owner, r.typ, r.ttl, r.rdata)
				}
			}
			w.add(soa.owner, soa.typ, soa.ttl, soa.rdata)
			w.flush()
			return w.err
		}
	}
	zs := h.store.load().view(h.view)
	var res result // for routed groups (xfrSets); one for the whole zone
	emit := func(owner string, s *rrset, ttl uint32) { w.addSet(owner, s, ttl) }
	z.names.all(func(owner string, n node) {
		if w.err != nil {
			return
		}
		// Nothing is allocated per name: a million-name zone streams in
		// the memory of one message (docs/transfers.md, measured).
		xfrSets(zs, z, owner, n, 0, &res, emit)
	})
	w.add(soa.owner, soa.typ, soa.ttl, soa.rdata)
	w.flush()
	return w.err
}

// serveUDPIXFR answers an IXFR that came over UDP, appending the one
// message to out[:0]: the SOA alone when allowed (RFC 1995 §2), authorised
// as over TCP. Its own function, so that the closure's capture does not
// move ServeWire's buffer to the heap.
func (h *Handler) serveUDPIXFR(out, b []byte, from netip.Addr) []byte {
	out = out[:0]
	_ = h.serveTransfer(b, from, time.Now(), true, func(m []byte) error {
		out = append(out, m...)
		return nil
	})
	return out
}

// ixfrSerial returns the serial of an IXFR request's SOA (authority
// section), and false when it has none.
func ixfrSerial(m *dns.Msg) (uint32, bool) {
	for _, rr := range m.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa.Serial, true
		}
	}
	return 0, false
}

// appendQuestion appends q in wire form, or returns nil if its name is bad.
func appendQuestion(b []byte, q dns.Question) []byte {
	name, err := wireName(strings.ToLower(q.Name))
	if err != nil {
		return nil
	}
	b = append(b, name...)
	b = binary.BigEndian.AppendUint16(b, q.Qtype)
	return binary.BigEndian.AppendUint16(b, q.Qclass)
}

// tsigAlgName is the TSIG algorithm name of a key's algorithm.
func tsigAlgName(alg string) string {
	if alg == "hmac-sha512" {
		return dns.HmacSHA512
	}
	return dns.HmacSHA256
}

// tsigHash is the hash of a key's algorithm.
func tsigHash(alg string) func() hash.Hash {
	if alg == "hmac-sha512" {
		return sha512.New
	}
	return sha256.New
}

// writeTCP writes b (already framed) to c, if there is anything.
func (s *Server) writeTCP(c net.Conn, b []byte) bool {
	if len(b) == 0 {
		return true
	}
	_ = c.SetWriteDeadline(time.Now().Add(s.cfg.TCP.IOTimeout))
	_, err := c.Write(b)
	return err == nil
}

// writeFramed writes one message with its length prefix.
func (s *Server) writeFramed(c net.Conn, m []byte) error {
	_ = c.SetWriteDeadline(time.Now().Add(s.cfg.TCP.IOTimeout))
	var hdr [2]byte
	binary.BigEndian.PutUint16(hdr[:], uint16(len(m)))
	_, err := (&net.Buffers{hdr[:], m}).WriteTo(c)
	return err
}
