package dataplane

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"unsafe"

	"github.com/miekg/dns"
)

// request is what an answer depends on, read from the packet by the fast
// parser or from a miekg message by the general path. Both fill the same
// fields, and the same lookup and encoder run after either, which is why
// the two paths give byte-identical responses.
type request struct {
	id      uint16
	opcode  int
	rd, cd  bool
	qname   []byte // as asked, wire format: echoed as is (0x20 case kept)
	lname   string // qname lowercased, the lookup key
	qtype   uint16
	qclass  uint16
	edns    bool
	do      bool
	co      bool   // Compact Answers OK (RFC 9824): NXDOMAIN stays NXDOMAIN
	udpSize uint16 // the client's advertised payload size
	tcp     bool
	// rcode, when not success, is the answer decided while parsing
	// (FORMERR, NOTIMP, BADVERS, REFUSED); the lookup is skipped. ede is
	// the extended error that goes with it (0: none).
	rcode int
	ede   uint16
	// ecs is the query's EDNS Client Subnet (RFC 7871): the source prefix,
	// echoed with the scope the answer has. Invalid when none was sent.
	ecs netip.Prefix
	// cookie holds the query's COOKIE option data (RFC 7873), cookieLen
	// octets of it (0: none); cookieOut is the option the answer
	// carries, cookieOutLen octets (0: none).
	cookie       [clientCookieLen + maxServerCookieLen]byte
	cookieLen    int
	cookieOut    [clientCookieLen + serverCookieLen]byte
	cookieOutLen int
	badCookie    bool // the COOKIE option was malformed
	// keepalive is set when a TCP query asked for edns-tcp-keepalive
	// (RFC 7828); keepaliveVal is the idle timeout the answer then
	// advertises, in units of 100 ms.
	keepalive    bool
	keepaliveVal uint16
	// reserve is room the response must leave for a TSIG record added
	// after it is built (tsig.go).
	reserve int
}

// Extended DNS Errors (RFC 8914) we send, to EDNS clients only. The
// registry's code 0 ("Other") is never used, so 0 means none here.
const (
	edeNotReady         = 14 // SERVFAIL before the initial sync
	edeNotAuthoritative = 20 // REFUSED: not a zone (or class) we serve
	edeNotSupported     = 21 // NOTIMP, and REFUSED for zone transfers
	edeInvalidData      = 24 // SERVFAIL: a record set at the name could not be loaded
)

// ednsUDPSize is the payload size we advertise and the most we send over
// UDP whatever the client offers: 1232 avoids IP fragmentation on any path
// with an MTU of 1280 (DNS flag day 2020).
const ednsUDPSize = 1232

// plainOptLen is the size of an OPT record without options: root owner,
// TYPE, CLASS, TTL, RDLENGTH. optLen is the most ours takes, with an
// extended error of 6 octets.
const (
	plainOptLen = 11
	optLen      = plainOptLen + 6
)

// limit is the largest response the client can take.
func (q *request) limit() int {
	switch {
	case q.tcp:
		return dns.MaxMsgSize - q.reserve
	case !q.edns:
		return dns.MinMsgSize - q.reserve
	}
	return int(min(max(q.udpSize, dns.MinMsgSize), ednsUDPSize)) - q.reserve
}

// isPlainType reports whether a query type can go through lookup without a
// special answer; transfers, meta types and obsolete mail types cannot.
func isPlainType(t uint16) bool {
	switch t {
	case 0, dns.TypeAXFR, dns.TypeIXFR, dns.TypeOPT, dns.TypeTSIG, dns.TypeTKEY, dns.TypeMAILA, dns.TypeMAILB:
		return false
	}
	return true
}

// parseFast reads the common query directly from the packet: one question
// in class IN with an uncompressed name, no answer or authority records and
// at most an OPT of version 0 with no option or one COOKIE option. Anything else returns false
// and goes through miekg's parser. lbuf receives the lowercased name;
// q.lname aliases it, so lbuf must not change until the response is built.
func parseFast(b []byte, q *request, lbuf *[maxNameWire + 1]byte) bool {
	if len(b) < 12+5 || b[2]&0xf8 != 0 { // QR=0, OPCODE=QUERY
		return false
	}
	qd, an, ns, ar := be16(b[4:]), be16(b[6:]), be16(b[8:]), be16(b[10:])
	if qd != 1 || an != 0 || ns != 0 || ar > 1 {
		return false
	}
	off := 12
	for {
		if off >= len(b) {
			return false
		}
		l := int(b[off])
		if l > 63 {
			return false // a compression pointer or a reserved label type
		}
		off += 1 + l
		if off-12 > maxNameWire {
			return false
		}
		if l == 0 {
			break
		}
	}
	if off+4 > len(b) {
		return false
	}
	qtype, qclass := be16(b[off:]), be16(b[off+2:])
	if qclass != dns.ClassINET || !isPlainType(qtype) {
		return false
	}
	end := off + 4
	*q = request{
		id:     be16(b),
		rd:     b[2]&0x01 != 0,
		cd:     b[3]&0x10 != 0,
		qname:  b[12:off],
		qtype:  qtype,
		qclass: qclass,
	}
	if ar == 1 {
		o := b[end:]
		if len(o) < plainOptLen || o[0] != 0 || be16(o[1:]) != dns.TypeOPT || o[6] != 0 ||
			plainOptLen+int(be16(o[9:])) != len(o) {
			return false // not root, not OPT, version ≠ 0 or a bad length
		}
		if opts := o[plainOptLen:]; len(opts) > 0 {
			// One well-formed COOKIE option, what resolvers send on
			// every query (RFC 7873), is read here rather than by
			// miekg's parser, which costs ten allocations (it holds the
			// cookie as hex). Any other option goes the general way.
			if len(opts) < 4 || be16(opts) != dns.EDNS0COOKIE || 4+int(be16(opts[2:])) != len(opts) ||
				len(opts)-4 > len(q.cookie) {
				return false
			}
			c := opts[4:]
			if _, _, err := parseCookie(c); err != nil {
				return false // malformed: FORMERR from the general path
			}
			q.cookieLen = copy(q.cookie[:], c)
		}
		q.edns, q.udpSize, q.do, q.co = true, be16(o[3:]), o[7]&0x80 != 0, o[7]&0x40 != 0
	} else if end != len(b) {
		return false
	}
	n := copy(lbuf[:], q.qname)
	lowerBytes(lbuf[:n])
	q.lname = unsafe.String(&lbuf[0], n)
	return true
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

// fromMsg fills q from a message miekg has parsed and decides the answers
// that need no lookup. It reports false when the message must be dropped:
// a response must never be answered (that way lie loops).
func fromMsg(m *dns.Msg, q *request, tcp bool) bool {
	if m.Response {
		return false
	}
	*q = request{id: m.Id, opcode: m.Opcode, rd: m.RecursionDesired, cd: m.CheckingDisabled, tcp: tcp}
	if len(m.Question) == 1 {
		var buf [maxNameWire + 1]byte
		n, err := dns.PackDomainName(m.Question[0].Name, buf[:], 0, nil, false)
		if err != nil {
			q.rcode = dns.RcodeFormatError
			return true
		}
		q.qname = buf[:n:n]
		l := []byte(string(buf[:n]))
		lowerBytes(l)
		q.lname = string(l)
		q.qtype, q.qclass = m.Question[0].Qtype, m.Question[0].Qclass
	}
	opts := 0
	for _, rr := range m.Extra {
		opt, ok := rr.(*dns.OPT)
		if !ok {
			continue
		}
		opts++
		if opt.Hdr.Name != "." {
			q.rcode = dns.RcodeFormatError
			return true
		}
		q.edns, q.udpSize, q.do, q.co = true, opt.UDPSize(), opt.Do(), opt.Co()
		if opt.Version() != 0 {
			q.rcode = dns.RcodeBadVers // RFC 6891 §6.1.3
		}
		if !readECS(opt, q) {
			q.rcode = dns.RcodeFormatError // RFC 7871 §7.1.1
		}
		if !readCookie(opt, q) {
			q.rcode, q.badCookie = dns.RcodeFormatError, true // RFC 7873 §5.2.2
		}
		for _, o := range opt.Option {
			if k, ok := o.(*dns.EDNS0_TCP_KEEPALIVE); ok {
				if k.Timeout != 0 {
					q.rcode = dns.RcodeFormatError // clients send no TIMEOUT (RFC 7828 §3.2.1)
				}
				q.keepalive = tcp // over UDP the option is ignored (§3.3.1)
			}
		}
	}
	switch {
	case opts > 1:
		q.rcode = dns.RcodeFormatError // RFC 6891 §6.1.1
		q.edns = false                 // no OPT in the answer: we did not understand the query's
	case q.rcode != dns.RcodeSuccess:
	case m.Opcode != dns.OpcodeQuery:
		q.rcode, q.ede = dns.RcodeNotImplemented, edeNotSupported
	case len(m.Question) != 1:
		q.rcode = dns.RcodeFormatError
		q.qname, q.lname = nil, ""
	case len(m.Answer) != 0 || len(m.Ns) != 0:
		q.rcode = dns.RcodeFormatError
	case q.qtype == 0 || q.qtype == dns.TypeOPT || q.qtype == dns.TypeTSIG || q.qtype == dns.TypeTKEY:
		q.rcode = dns.RcodeFormatError // meta types cannot be asked for (RFC 6895 §3.1)
	case q.qclass != dns.ClassINET:
		q.rcode, q.ede = dns.RcodeRefused, edeNotAuthoritative // we hold no data in other classes
	case q.qtype == dns.TypeAXFR || q.qtype == dns.TypeIXFR:
		q.rcode, q.ede = dns.RcodeRefused, edeNotSupported // no zone transfers (yet)
	case q.qtype == dns.TypeMAILA || q.qtype == dns.TypeMAILB:
		q.rcode, q.ede = dns.RcodeNotImplemented, edeNotSupported
	}
	return true
}

// readCookie copies the first COOKIE option of opt into q (RFC 7873 §5.2:
// later ones are ignored). It reports false when that option is malformed.
func readCookie(opt *dns.OPT, q *request) bool {
	for _, o := range opt.Option {
		c, ok := o.(*dns.EDNS0_COOKIE)
		if !ok {
			continue
		}
		if len(c.Cookie) > 2*len(q.cookie) {
			return false
		}
		n, err := hex.Decode(q.cookie[:], []byte(c.Cookie))
		if err != nil {
			return false
		}
		if _, _, err := parseCookie(q.cookie[:n]); err != nil {
			return false
		}
		q.cookieLen = n
		return true
	}
	return true
}

// sectionsExact reports whether b holds exactly the questions and records
// its header counts. miekg's parser accepts a message whose sections stop
// short of their counts (ANCOUNT 65535 and no records) and ignores
// trailing octets; such a query is malformed (RFC 1035 §4.1, and what
// Knot and NSD answer: FORMERR).
func sectionsExact(b []byte) bool {
	if len(b) < 12 {
		return false
	}
	off := 12
	for range be16(b[4:]) {
		if off = skipWireName(b, off); off < 0 || off+4 > len(b) {
			return false
		}
		off += 4
	}
	rrs := int(be16(b[6:])) + int(be16(b[8:])) + int(be16(b[10:]))
	for range rrs {
		if off = skipWireName(b, off); off < 0 || off+10 > len(b) {
			return false
		}
		off += 10 + int(be16(b[off+8:]))
		if off > len(b) {
			return false
		}
	}
	return off == len(b)
}

// skipWireName returns the offset after the (possibly compressed) name at
// off in message b, or -1 when it runs past the end or uses a reserved
// label type. Pointers are not followed: only the name's own octets count.
func skipWireName(b []byte, off int) int {
	for {
		if off >= len(b) {
			return -1
		}
		l := int(b[off])
		switch {
		case l&0xc0 == 0xc0:
			if off+2 > len(b) {
				return -1
			}
			return off + 2
		case l > 63:
			return -1
		case l == 0:
			return off + 1
		}
		off += 1 + l
	}
}

// formErrHeader answers a packet miekg could not parse: FORMERR with the
// header's id, opcode and RD, no sections. Responses and runts are dropped.
func formErrHeader(out, b []byte) []byte {
	if len(b) < 12 || b[2]&0x80 != 0 {
		return nil
	}
	out = append(out[:0], b[0], b[1], 0x80|b[2]&0x79, dns.RcodeFormatError, 0, 0, 0, 0, 0, 0, 0, 0)
	return out
}

// appendResponse encodes the response to q with the sections of res into
// out[:0]. It never exceeds q.limit(): over UDP, whole record sets that do
// not fit are left out; when one of the answer or authority section, or
// required glue, is left out TC is set (RFC 2181 §9, RFC 9471). Optional
// additional data is just dropped.
func appendResponse(out []byte, q *request, res *result) []byte {
	b := append(out[:0], make([]byte, 12)...)
	binary.BigEndian.PutUint16(b[0:], q.id)
	b[2] = 0x80 | byte(q.opcode&0xf)<<3
	if res.aa {
		b[2] |= 0x04
	}
	if q.rd {
		b[2] |= 0x01
	}
	if q.cd {
		b[3] |= 0x10
	}
	b[3] |= byte(res.rcode & 0xf)
	if q.qname != nil {
		binary.BigEndian.PutUint16(b[4:], 1)
		b = append(b, q.qname...)
		b = binary.BigEndian.AppendUint16(b, q.qtype)
		b = binary.BigEndian.AppendUint16(b, q.qclass)
	}
	limit := q.limit()
	if q.edns {
		limit -= optLen + ecsOptLen(q.ecs) + cookieOptLen(q) + keepaliveOptLen(q)
	}
	tc := res.tc
	var counts [3]int
	for i, sec := range [...][]rrRef{res.answer, res.authority, res.additional} {
		for j := range sec {
			start := len(b)
			b = appendRRSet(b, &sec[j], q)
			if len(b) <= limit {
				counts[i] += int(sec[j].set.count)
				continue
			}
			b = b[:start]
			if i < 2 || sec[j].required {
				tc = true
				break
			}
		}
		if tc {
			break
		}
	}
	if tc {
		b[2] |= 0x02
	}
	binary.BigEndian.PutUint16(b[6:], uint16(counts[0]))
	binary.BigEndian.PutUint16(b[8:], uint16(counts[1]))
	binary.BigEndian.PutUint16(b[10:], uint16(counts[2]))
	if q.edns {
		var flags byte
		if q.do {
			flags = 0x80 // RFC 3225 §3: DO is copied
			if q.co {
				flags |= 0x40 // RFC 9824 §4: so is CO, by a server that knows it
			}
		}
		b = append(b, 0, 0, byte(dns.TypeOPT), byte(ednsUDPSize>>8), byte(ednsUDPSize&0xff),
			byte(res.rcode>>4), 0, flags, 0)
		rdlen := len(b)
		b = append(b, 0, 0)
		if res.ede != 0 {
			// Option EDE, length 2, the info code, no text.
			b = append(b, 0, dns.EDNS0EDE, 0, 2, byte(res.ede>>8), byte(res.ede))
		}
		b = appendECS(b, q.ecs, res.scope)
		if q.cookieOutLen > 0 {
			b = append(b, 0, dns.EDNS0COOKIE, 0, byte(q.cookieOutLen))
			b = append(b, q.cookieOut[:q.cookieOutLen]...)
		}
		if keepaliveOptLen(q) > 0 {
			b = append(b, 0, dns.EDNS0TCPKEEPALIVE, 0, 2, byte(q.keepaliveVal>>8), byte(q.keepaliveVal))
		}
		binary.BigEndian.PutUint16(b[rdlen:], uint16(len(b)-rdlen-2))
		binary.BigEndian.PutUint16(b[10:], uint16(counts[2]+1))
	}
	return b
}

// cookieOptLen is the size of the COOKIE option the answer to q carries.
func cookieOptLen(q *request) int {
	if q.cookieOutLen == 0 {
		return 0
	}
	return 4 + q.cookieOutLen
}

// keepaliveOptLen is the size of the edns-tcp-keepalive option the answer
// to q carries.
func keepaliveOptLen(q *request) int {
	if q.keepalive && q.keepaliveVal > 0 {
		return 6
	}
	return 0
}

// appendRRSet writes every record of ref. The owner is written once and its
// bytes repeated: they hold at most a pointer into the question, which is
// valid anywhere in the message.
func appendRRSet(b []byte, ref *rrRef, q *request) []byte {
	first := true
	var owner []byte
	pre, names := compressibleRData(ref.set.typ)
	ref.set.records(func(rdata string) {
		if first {
			start := len(b)
			b = appendName(b, ref.owner, q.lname, true)
			owner = b[start:len(b):len(b)]
			first = false
		} else {
			b = append(b, owner...)
		}
		b = binary.BigEndian.AppendUint16(b, ref.set.typ)
		b = binary.BigEndian.AppendUint16(b, dns.ClassINET)
		b = binary.BigEndian.AppendUint32(b, ref.ttl)
		lenAt := len(b)
		b = append(b, 0, 0)
		if names == 0 || len(rdata) < pre {
			b = append(b, rdata...)
		} else {
			b = append(b, rdata[:pre]...)
			r := rdata[pre:]
			for range names {
				n := skipName(r)
				if n < 0 {
					break
				}
				b = appendName(b, r[:n], unsafe.String(unsafe.SliceData(q.qname), len(q.qname)), false)
				r = r[n:]
			}
			b = append(b, r...)
		}
		binary.BigEndian.PutUint16(b[lenAt:], uint16(len(b)-lenAt-2))
	})
	return b
}

// compressibleRData says where the domain names are in the RDATA of the
// types whose names may be compressed (RFC 3597 §4: those of RFC 1035):
// after pre octets, names consecutive names. Other types are copied as is.
func compressibleRData(t uint16) (pre, names int) {
	switch t {
	case dns.TypeNS, dns.TypeCNAME, dns.TypePTR:
		return 0, 1
	case dns.TypeMX:
		return 2, 1
	case dns.TypeSOA:
		return 0, 2
	}
	return 0, 0
}

// appendName writes the uncompressed wire name, compressing its longest
// suffix shared with the question name to a pointer into the question at
// offset 12. Owner names (fold) are lowercase and compared with the
// lowercased question: they take the client's case, as the question does.
// Names inside RDATA keep their own case, so they are compressed only
// against the question bytes as asked, and only where they match exactly.
func appendName(b []byte, name, qname string, fold bool) []byte {
	if qname != "" {
		for o := name; len(o) > 1; o = parentName(o) {
			j := len(qname) - len(o)
			if j < 0 || !isLabelStart(qname, j) {
				continue
			}
			if fold && equalFoldASCII(qname[j:], o) || !fold && qname[j:] == o {
				b = append(b, name[:len(name)-len(o)]...)
				ptr := 12 + j
				return append(b, byte(0xc0|ptr>>8), byte(ptr))
			}
		}
	}
	return append(b, name...)
}

// equalFoldASCII compares wire names ignoring ASCII case; length octets
// (at most 63) are never letters.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x != y {
			if 'A' <= x && x <= 'Z' {
				x += 'a' - 'A'
			}
			if 'A' <= y && y <= 'Z' {
				y += 'a' - 'A'
			}
			if x != y {
				return false
			}
		}
	}
	return true
}

func isLabelStart(name string, j int) bool {
	off := 0
	for off < j {
		off += 1 + int(name[off])
	}
	return off == j
}
