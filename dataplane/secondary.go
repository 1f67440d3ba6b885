package dataplane

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// Secondary zones on the nameserver (docs/transfers.md, "Secondary
// zones"): their records come from the customer's primaries through the
// control plane, like any zone's, and two things are theirs alone.
//
// NOTIFY (RFC 1996) from a primary is accepted only from one of the
// zone's primaries' addresses and, when that primary has a key, signed
// with it (TSIG as for transfers, tsig.go): the answer is NOERROR with AA
// and the question echoed, signed when the request was. An accepted
// NOTIFY is passed to the control plane as an event.SecondaryNotify
// through a NotifyRelay, at most one per zone per interval. Anything else
// is refused: REFUSED from other addresses, for zones that are not
// secondary, and for a missing signature; NOTAUTH with the TSIG error for
// a wrong key or MAC.
//
// A zone past its SOA expire (Secondary.Expired) is no longer
// authoritative (RFC 1035 §3.3.13): every query for a name in it is
// answered SERVFAIL (lookup) and transfers of it are refused (xfr.go),
// until an event clears the flag.

// zoneSecondary is a secondary zone's configuration as the nameserver uses
// it.
type zoneSecondary struct {
	cfg *zonecfg.Secondary // as received, for the cache and ZoneState
	// addrs are the primaries' addresses parsed, in cfg.Primaries' order
	// (invalid: an address that does not parse, which matches nothing).
	addrs []netip.Addr
}

// setSecondary replaces the zone's secondary configuration; nil leaves it
// as it is (in an event, "unchanged").
func (b *zoneBuilder) setSecondary(cfg *zonecfg.Secondary) {
	if cfg == nil {
		return
	}
	s := &zoneSecondary{cfg: cfg}
	for _, p := range cfg.Primaries {
		a, err := netip.ParseAddr(p.Address)
		if err != nil {
			// The contract says an address without a port; one with a
			// port is still understood, never widened.
			if ap, err2 := netip.ParseAddrPort(p.Address); err2 == nil {
				a = ap.Addr()
			}
		}
		s.addrs = append(s.addrs, a.Unmap())
	}
	b.z.sec = s
	b.z.expired = cfg.Expired
}

// key returns the key named name (canonical), matching the configured
// names case-insensitively, or nil.
func (s *zoneSecondary) key(name string) *zonecfg.TSIGKey {
	for i := range s.cfg.Keys {
		if dns.CanonicalName(s.cfg.Keys[i].Name) == name {
			return &s.cfg.Keys[i]
		}
	}
	return nil
}

// edeNoReachableAuthority (RFC 8914 §4.23) explains the SERVFAIL of an
// expired secondary zone: its primaries could not be reached for longer
// than the SOA expire.
const edeNoReachableAuthority = 22

// edeProhibited (RFC 8914 §4.19) explains the REFUSED of a NOTIFY from an
// address that is not one of the zone's primaries.
const edeProhibited = 18

// isNotify reports whether b is a NOTIFY request (QR=0, opcode NOTIFY).
func isNotify(b []byte) bool {
	return len(b) >= 12 && b[2]&0x80 == 0 && (b[2]>>3)&0xf == dns.OpcodeNotify
}

// notifyAnswer is the answer to NOTIFY request b: the id, QR, the opcode
// and RD echoed, AA when aa, rcode, the question (raw bytes qd), and an
// OPT when the request had one (RFC 6891 §7). A TSIG may follow.
func notifyAnswer(out, b, qd []byte, edns, aa bool, rcode int) []byte {
	return notifyAnswerEDE(out, b, qd, edns, aa, rcode, 0)
}

// notifyAnswerEDE is notifyAnswer with an extended DNS error (RFC 8914;
// 0: none) in the OPT, when there is one.
func notifyAnswerEDE(out, b, qd []byte, edns, aa bool, rcode int, ede uint16) []byte {
	flags := 0x80 | b[2]&0x79
	if aa {
		flags |= 0x04
	}
	arcount := byte(0)
	if edns {
		arcount = 1
	}
	out = append(out[:0], b[0], b[1], flags, byte(rcode&0xf), 0, 1, 0, 0, 0, 0, 0, arcount)
	out = append(out, qd...)
	if edns {
		// Root owner, type OPT, our UDP size, version 0.
		out = append(out, 0, 0, 41, byte(ednsUDPSize>>8), byte(ednsUDPSize&0xff), 0, 0, 0, 0)
		if ede == 0 {
			out = append(out, 0, 0)
		} else {
			// RDLENGTH 6: option EDE (15), length 2, the info code.
			out = append(out, 0, 6, 0, 15, 0, 2, byte(ede>>8), byte(ede))
		}
	}
	return out
}

// serveNotify answers the NOTIFY request b from from, at time now,
// appending the response to out[:0]; nil means no answer (a response, a
// runt). Accepted NOTIFYs go to the handler's relay.
func (h *Handler) serveNotify(out, b []byte, from netip.Addr, now time.Time) []byte {
	if !isNotify(b) {
		return nil
	}
	m := new(dns.Msg)
	if m.Unpack(b) != nil || len(m.Question) != 1 {
		return formErrHeader(out, b)
	}
	end := questionEnd(b)
	if end < 0 {
		return formErrHeader(out, b)
	}
	qd := b[12:end]
	q := m.Question[0]
	edns := m.IsEdns0() != nil
	switch {
	case q.Qclass != dns.ClassINET:
		return notifyAnswer(out, b, qd, edns, false, dns.RcodeRefused)
	case q.Qtype != dns.TypeSOA:
		// RFC 1996 defines NOTIFY for the SOA only.
		return notifyAnswer(out, b, qd, edns, false, dns.RcodeNotImplemented)
	case !h.ready.Load():
		return notifyAnswer(out, b, qd, edns, false, dns.RcodeServerFailure)
	}
	lname, err := wireName(strings.ToLower(q.Name))
	if err != nil {
		return formErrHeader(out, b)
	}
	z := h.store.load().view(h.view).find(lname)
	if z == nil || z.name != lname || z.sec == nil {
		return notifyAnswerEDE(out, b, qd, edns, false, dns.RcodeRefused, edeNotAuthoritative)
	}
	from = from.Unmap()
	var matched []zonecfg.NotifySource
	for i, a := range z.sec.addrs {
		if a.IsValid() && a == from {
			matched = append(matched, z.sec.cfg.Primaries[i])
		}
	}
	if len(matched) == 0 {
		return notifyAnswerEDE(out, b, qd, edns, false, dns.RcodeRefused, edeProhibited)
	}
	t := m.IsTsig()
	if t == nil {
		for _, p := range matched {
			if p.Key == "" {
				h.relayNotify(z, m, from)
				return notifyAnswer(out, b, qd, edns, true, dns.RcodeSuccess)
			}
		}
		// The primary signs; an unsigned NOTIFY from its address is not
		// its (RFC 8945 §5.2 leaves unsigned requests to policy).
		return notifyAnswer(out, b, qd, edns, false, dns.RcodeRefused)
	}
	r := h.verifyTSIGWith(b, t, z.id, z.sec.key, now)
	defer r.release()
	if r.err != 0 {
		return r.tsigErrorResponse(out, b, now)
	}
	for _, p := range matched {
		if p.Key == "" || dns.CanonicalName(p.Key) == r.key.name {
			h.relayNotify(z, m, from)
			return r.signResponse(notifyAnswer(out, b, qd, edns, true, dns.RcodeSuccess), now)
		}
	}
	// A key of the zone, but not the one of the primary at this address:
	// refused, signed, as a transfer from outside a key's CIDRs is.
	return r.signResponse(notifyAnswer(out, b, qd, edns, false, dns.RcodeRefused), now)
}

// relayNotify hands an accepted NOTIFY to the relay, with the serial of
// the SOA in its answer section when it has one.
func (h *Handler) relayNotify(z *zone, m *dns.Msg, from netip.Addr) {
	r := h.relay
	if r == nil {
		return
	}
	n := event.SecondaryNotify{ZoneID: z.id, From: from.String()}
	for _, rr := range m.Answer {
		if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(dns.Fqdn(soa.Hdr.Name), m.Question[0].Name) {
			n.Serial = soa.Serial
			break
		}
	}
	r.accept(n)
}

// SetNotifyRelay makes the handler pass the NOTIFYs it accepts for
// secondary zones to r (nil: counted, acknowledged, passed nowhere). Call
// it before serving and before ForView, whose handlers share it.
func (h *Handler) SetNotifyRelay(r *NotifyRelay) { h.relay = r }

// DefaultNotifyRelayInterval is NotifyRelayConfig.Interval's default.
const DefaultNotifyRelayInterval = 250 * time.Millisecond

// NotifyRelayConfig configures a NotifyRelay.
type NotifyRelayConfig struct {
	// Publish sends one message on subject (core NATS). Required.
	Publish func(subject string, data []byte) error
	// NodeID names this nameserver in the messages.
	NodeID string
	// Interval is the least time between two messages for one zone: a
	// NOTIFY within it of the last one published is held, and the
	// latest held is published when it ends. Default 250 ms.
	Interval time.Duration
	// Logger receives publish failures. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// NotifyRelay publishes accepted NOTIFYs as event.SecondaryNotify on
// event.SecondaryNotifySubject, coalesced per zone: a flood of NOTIFYs
// (every primary sends one per change, and a spoofer can send more from a
// primary's address) costs NATS at most one message per zone per
// Interval. Held NOTIFYs are published by Run.
type NotifyRelay struct {
	cfg   NotifyRelayConfig
	mu    sync.Mutex
	zones map[string]*relayZone
	wake  chan struct{} // a NOTIFY was held
	// published counts the messages Publish accepted, coalesced the
	// NOTIFYs replaced by a later one before being published.
	published, coalesced, failed atomic.Uint64
}

// relayZone is one zone's coalescing state.
type relayZone struct {
	last time.Time              // when its last message was published
	held *event.SecondaryNotify // the latest NOTIFY not yet published
}

// NotifyRelayStats are a relay's counters.
type NotifyRelayStats struct {
	Published, Coalesced, Failed uint64
}

// NewNotifyRelay returns a relay; run it with Run.
func NewNotifyRelay(cfg NotifyRelayConfig) *NotifyRelay {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultNotifyRelayInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &NotifyRelay{cfg: cfg, zones: map[string]*relayZone{}, wake: make(chan struct{}, 1)}
}

// Stats returns the relay's counters.
func (r *NotifyRelay) Stats() NotifyRelayStats {
	return NotifyRelayStats{Published: r.published.Load(), Coalesced: r.coalesced.Load(), Failed: r.failed.Load()}
}

// accept publishes n at once when its zone had no message within the
// interval, and holds it otherwise (replacing one held before).
func (r *NotifyRelay) accept(n event.SecondaryNotify) {
	n.Node = r.cfg.NodeID
	now := r.cfg.Now()
	r.mu.Lock()
	z := r.zones[n.ZoneID]
	if z == nil {
		z = &relayZone{}
		r.zones[n.ZoneID] = z
	}
	if z.held != nil || (!z.last.IsZero() && now.Sub(z.last) < r.cfg.Interval) {
		if z.held != nil {
			r.coalesced.Add(1)
		}
		z.held = &n
		r.mu.Unlock()
		select {
		case r.wake <- struct{}{}:
		default:
		}
		return
	}
	z.last = now
	r.mu.Unlock()
	r.publish(n)
}

// flush publishes the held NOTIFYs whose interval has passed at now and
// forgets the zones with nothing held whose interval has passed. It
// returns when the next held one is due (zero: none held) and whether any
// zone is still remembered.
func (r *NotifyRelay) flush(now time.Time) (next time.Time, remembered bool) {
	var due []event.SecondaryNotify
	r.mu.Lock()
	for id, z := range r.zones {
		at := z.last.Add(r.cfg.Interval)
		switch {
		case now.Before(at):
			if z.held != nil && (next.IsZero() || at.Before(next)) {
				next = at
			}
		case z.held != nil:
			due = append(due, *z.held)
			z.held, z.last = nil, now
		default:
			delete(r.zones, id)
		}
	}
	remembered = len(r.zones) > 0
	r.mu.Unlock()
	for _, n := range due {
		r.publish(n)
	}
	return next, remembered
}

// publish sends one message.
func (r *NotifyRelay) publish(n event.SecondaryNotify) {
	b, err := n.Encode()
	if err == nil {
		err = r.cfg.Publish(event.SecondaryNotifySubject, b)
	}
	if err != nil {
		r.failed.Add(1)
		r.cfg.Logger.Warn("cannot pass a NOTIFY on", "zone", n.ZoneID, "from", n.From, "err", err)
		return
	}
	r.published.Add(1)
}

// Run publishes held NOTIFYs when their interval ends, until ctx ends.
func (r *NotifyRelay) Run(ctx context.Context) error {
	t := time.NewTimer(r.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		case <-t.C:
		}
		now := r.cfg.Now()
		next, remembered := r.flush(now)
		switch {
		case !next.IsZero():
			t.Reset(max(next.Sub(now), time.Millisecond))
		case remembered:
			t.Reset(r.cfg.Interval) // to forget them
		}
	}
}
