package dataplane

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// Handler answers DNS queries from a Store. It has two entry points with
// the same answers: ServeWire for raw packets (the servers' path, with a
// fast parser for plain queries) and ServeDNS for messages miekg has
// already parsed (tests, or mounting in a miekg server).
//
// Until SetReady(true) every query that would need zone data is answered
// SERVFAIL without AA: the server has not finished its initial sync, and
// per RFC 8906 §3.1.3 SERVFAIL is what a server that cannot currently
// answer says; resolvers retry another name server and do not mark this
// one lame for the zone, as they may for REFUSED. Malformed queries still
// get FORMERR, other opcodes NOTIMP.
//
// A handler made by NewServer also answers DNS Cookies and rate limits
// UDP responses (see RRLConfig, CookieConfig); one from NewHandler does
// neither.
type Handler struct {
	store *Store
	// view is the store view answered from (views.go); handlers of one
	// store made with ForView share the readiness gate and routing inputs.
	view     int
	ready    *atomic.Bool
	noFast   bool // tests: force the general path
	routing  *atomic.Pointer[Routing]
	scratchs sync.Pool
	// rrl and cookies are set by NewServer; nil (a bare handler, as in
	// tests) means no rate limiting and COOKIE options ignored.
	rrl     *rrl
	cookies *cookieJar
	stats   *Stats
	qstats  *queryStats // nil: metrics off (metrics.go)
	// countZones, set by NewServer from Config.CountZoneQueries, counts
	// every query answered from a zone for that zone (zonequeries.go).
	countZones bool
	qlog       *QueryLog // nil: no query logging (querylog.go)
	// relay passes accepted NOTIFYs for secondary zones on
	// (secondary.go); nil: nowhere.
	relay *NotifyRelay
	// tcpIdle, set by NewServer, is the TCP idle timeout in force, which
	// answers advertise to clients asking with edns-tcp-keepalive.
	tcpIdle func() time.Duration
}

// scratch is per-query working memory, pooled so a query allocates
// nothing on the fast path.
type scratch struct {
	req  request
	res  result
	lbuf [maxNameWire + 1]byte
	msg  dns.Msg
	out  []byte
}

// NewHandler returns a handler answering from store. It is not ready.
func NewHandler(store *Store) *Handler {
	return newHandler(store, 0, &atomic.Bool{}, &atomic.Pointer[Routing]{})
}

// ForView returns a handler answering from view v of the same store (the
// zones of the pool name with index v in Store.Views), sharing h's
// readiness gate and routing inputs: one per listening address.
func (h *Handler) ForView(v int) *Handler {
	if v < 0 || v >= len(h.store.load().views) {
		v = 0
	}
	d := newHandler(h.store, v, h.ready, h.routing)
	d.noFast, d.qlog, d.relay = h.noFast, h.qlog, h.relay
	return d
}

func newHandler(store *Store, view int, ready *atomic.Bool, routing *atomic.Pointer[Routing]) *Handler {
	h := &Handler{store: store, view: view, ready: ready, routing: routing, stats: &Stats{}}
	h.scratchs.New = func() any {
		return &scratch{
			res: result{
				answer:     make([]rrRef, 0, 4),
				authority:  make([]rrRef, 0, 2),
				additional: make([]rrRef, 0, 4),
			},
			out: make([]byte, 0, 1500),
		}
	}
	return h
}

// SetQueryLog makes the handler log the answers of zones whose query
// logging is on to l (nil: none). Call it before serving and before
// ForView, whose handlers share it.
func (h *Handler) SetQueryLog(l *QueryLog) { h.qlog = l }

// SetReady opens (or closes) the gate: the Node calls it after its initial
// sync.
func (h *Handler) SetReady(ready bool) { h.ready.Store(ready) }

// Ready reports whether the handler answers from its zones.
func (h *Handler) Ready() bool { return h.ready.Load() }

// ServeWire answers the raw query b, appending the response to out[:0].
// It returns nil when nothing must be sent (responses, runts). from is the
// client's address (routed record sets choose by it); tcp selects the size
// limit. It never panics on any input.
func (h *Handler) ServeWire(out, b []byte, from netip.Addr, tcp bool) []byte {
	sc := h.scratchs.Get().(*scratch)
	defer h.scratchs.Put(sc)
	q := &sc.req
	if !h.noFast && parseFast(b, q, &sc.lbuf) {
		q.tcp = tcp
		return h.answer(out, q, &sc.res, from)
	}
	if !tcp && isIXFRQuery(b) {
		return h.serveUDPIXFR(out, b, from)
	}
	if isNotify(b) {
		return h.serveNotify(out, b, from, time.Now())
	}
	m := &sc.msg
	*m = dns.Msg{}
	if err := m.Unpack(b); err != nil {
		resp := formErrHeader(out, b)
		if resp == nil {
			h.stats.Unanswered.Add(1)
		}
		return resp
	}
	if !fromMsg(m, q, tcp) {
		h.stats.Unanswered.Add(1)
		return nil
	}
	if q.rcode == dns.RcodeSuccess && !sectionsExact(b) {
		q.rcode = dns.RcodeFormatError
		h.stats.FormErrHeader.Add(1)
	}
	if t := m.IsTsig(); t != nil && q.rcode == dns.RcodeSuccess {
		return h.serveSignedQuery(out, b, t, q, &sc.res, from)
	}
	return h.answer(out, q, &sc.res, from)
}

// ServeDNS implements dns.Handler through the general path.
func (h *Handler) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	sc := h.scratchs.Get().(*scratch)
	defer h.scratchs.Put(sc)
	tcp := false
	var from netip.Addr
	if a := w.LocalAddr(); a != nil {
		_, tcp = a.(*net.TCPAddr)
	}
	if a, ok := w.RemoteAddr().(interface{ AddrPort() netip.AddrPort }); ok {
		from = a.AddrPort().Addr()
	}
	q := &sc.req
	if r.Opcode == dns.OpcodeNotify && !r.Response {
		if b, err := r.Pack(); err == nil {
			if resp := h.serveNotify(sc.out, b, from, time.Now()); resp != nil {
				sc.out = resp[:0]
				_, _ = w.Write(resp)
			}
		}
		return
	}
	if !fromMsg(r, q, tcp) {
		return
	}
	if resp := h.answer(sc.out, q, &sc.res, from); resp != nil {
		sc.out = resp[:0]
		_, _ = w.Write(resp)
	}
}

// answer runs the lookup the request needs and encodes the response. It
// returns nil when rate limiting drops the response.
func (h *Handler) answer(out []byte, q *request, res *result, from netip.Addr) []byte {
	res.reset()
	if q.keepalive && h.tcpIdle != nil {
		q.keepaliveVal = uint16(min(h.tcpIdle()/(100*time.Millisecond), 0xffff))
	}
	cookie := cookieNone
	switch {
	case q.badCookie:
		h.stats.CookiesMalformed.Add(1)
	case q.cookieLen > 0 && h.cookies != nil && q.rcode != dns.RcodeFormatError && q.rcode != dns.RcodeBadVers:
		// Every answer to a client cookie carries a server cookie (RFC
		// 7873 §5.2), REFUSED and NOTIMP too; not those to a query we
		// could not read.
		cookie = h.cookies.check(q, from)
	}
	switch {
	case q.rcode != dns.RcodeSuccess:
		res.rcode, res.ede = q.rcode, q.ede
	case cookie == cookieBad && !q.tcp:
		// RFC 7873 §5.2.4 with §5.2.3's policy choice: over UDP an
		// invalid server cookie gets BADCOOKIE and a fresh cookie, so
		// the client retries with it (and is then exempt from RRL).
		res.rcode = dns.RcodeBadCookie
		h.stats.CookiesBadCookie.Add(1)
	case !h.ready.Load():
		res.rcode, res.ede = dns.RcodeServerFailure, edeNotReady
	case q.qtype == dns.TypeNXNAME:
		// RFC 9824 §3.3: NXNAME is a meta type, never asked for.
		res.rcode = dns.RcodeFormatError
	default:
		zs := h.store.load().view(h.view)
		lookup(zs, q.lname, q.qtype, client{addr: from, ecs: q.ecs, rt: h.routing.Load()}, res)
		if q.do {
			h.store.signer.Load().sign(zs, q, res, &res.sign)
		}
		if h.countZones && res.zone != nil {
			res.zone.queries.count(res.rcode)
		}
	}
	if h.rrl != nil && !q.tcp && cookie != cookieValid {
		switch h.rrl.account(from, q, res) {
		case rrlDrop:
			res.release()
			return nil
		case rrlSlip:
			rcode := res.rcode
			res.release()
			res.reset()
			if cookie != cookieNone {
				// A cookie-capable client learns a cookie that exempts
				// it instead of falling back to TCP (as BIND does).
				res.rcode = dns.RcodeBadCookie
				h.stats.CookiesBadCookie.Add(1)
			} else {
				res.rcode, res.tc = rcode, true
			}
		}
	}
	resp := appendResponse(out, q, res)
	if h.qstats != nil {
		h.qstats.count(q, res.rcode, resp)
	}
	if h.qlog != nil && res.zone != nil && res.zone.qlog != nil {
		h.qlog.record(q, res.zone, res.rcode, from)
	}
	res.release()
	return resp
}
