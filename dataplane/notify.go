package dataplane

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/dnssec"
	"github.com/waymark-dns/waymark/internal/retry"
	"github.com/waymark-dns/waymark/zonecfg"
)

// NOTIFY (RFC 1996) to a zone's configured secondaries: after a nameserver
// publishes a new version of a zone whose transfer configuration lists
// notify targets, it sends each target a NOTIFY over UDP carrying the new
// SOA (serial = zone version), signed with the target's TSIG key when one
// is named, and retries with a capped backoff until the target answers
// NOERROR (signed with the same key when one is named), for a bounded
// number of attempts. A newer version of the zone supersedes the retries
// of an older one. Every nameserver sends (docs/decisions.md, "NOTIFY from
// every nameserver"); secondaries ignore NOTIFYs for serials they have.
//
// Zones loaded from a snapshot or the cache at start are not notified:
// nothing changed from a secondary's point of view that its SOA refresh
// does not cover.

// Defaults for NotifyConfig fields left zero.
const (
	DefaultNotifyTimeout  = time.Second
	DefaultNotifyMinRetry = 500 * time.Millisecond
	DefaultNotifyMaxRetry = 30 * time.Second
	DefaultNotifyAttempts = 10
)

// NotifyConfig configures a Notifier.
type NotifyConfig struct {
	// Timeout bounds the wait for one answer. Default 1 s.
	Timeout time.Duration
	// MinRetry and MaxRetry bound the backoff between attempts. Defaults
	// 500 ms and 30 s.
	MinRetry, MaxRetry time.Duration
	// Attempts is how many NOTIFYs are sent to one target for one version
	// before giving up. Default 10.
	Attempts int
	// LocalAddr is the source address of NOTIFYs (secondaries usually
	// accept NOTIFY only from their primaries' addresses). Default: the
	// system's choice.
	LocalAddr netip.Addr
	// Logger receives send failures. Default: discard.
	Logger *slog.Logger
	// Now gives the TSIG signing time. Default time.Now.
	Now func() time.Time
}

// Notifier sends NOTIFYs for the zones its store publishes. Create it with
// NewNotifier and run it with Run; it sends only while Run runs.
type Notifier struct {
	cfg   NotifyConfig
	store *Store

	mu      sync.Mutex
	ctx     context.Context // Run's; nil when not running
	pending map[string]context.CancelFunc
	// sent is the last version notified, by zone: a zone published again
	// at the same version (the last part of a split change, a re-fetch)
	// is not notified twice.
	sent map[string]int64
	wg   sync.WaitGroup
}

// NewNotifier returns a notifier for store's zones.
func NewNotifier(store *Store, cfg NotifyConfig) *Notifier {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultNotifyTimeout
	}
	if cfg.MinRetry <= 0 {
		cfg.MinRetry = DefaultNotifyMinRetry
	}
	if cfg.MaxRetry <= 0 {
		cfg.MaxRetry = DefaultNotifyMaxRetry
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = DefaultNotifyAttempts
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Notifier{cfg: cfg, store: store, pending: map[string]context.CancelFunc{}, sent: map[string]int64{}}
}

// Run sends NOTIFYs for every zone version the store publishes from now
// until ctx ends, then waits for the sends in flight to stop.
func (n *Notifier) Run(ctx context.Context) error {
	n.mu.Lock()
	n.ctx = ctx
	n.mu.Unlock()
	n.store.notifier.Store(n)
	<-ctx.Done()
	n.store.notifier.CompareAndSwap(n, nil)
	n.mu.Lock()
	n.ctx = nil
	n.mu.Unlock()
	n.wg.Wait()
	return nil
}

// published is called by the store, under its write lock, after it
// published z: it must not block.
func (n *Notifier) published(z *zone) {
	if z.xfr == nil || len(z.xfr.cfg.Notify) == 0 || z.soa == nil || z.expired {
		// An expired secondary zone refuses transfers: its own
		// secondaries are not told to come for it.
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ctx == nil || n.ctx.Err() != nil || n.sent[z.id] >= z.version {
		return
	}
	n.sent[z.id] = z.version
	if cancel := n.pending[z.id]; cancel != nil {
		cancel() // the new version supersedes the old one's retries
	}
	ctx, cancel := context.WithCancel(n.ctx)
	n.pending[z.id] = cancel
	msgs := n.messages(z)
	var wg sync.WaitGroup
	for _, m := range msgs {
		wg.Add(1)
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			defer wg.Done()
			n.send(ctx, z, m)
		}()
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		wg.Wait()
		n.mu.Lock()
		if n.pending[z.id] != nil && ctx.Err() == nil {
			delete(n.pending, z.id)
		}
		n.mu.Unlock()
		cancel()
	}()
}

// notifyMsg is one target's NOTIFY: where to, and the key to sign with
// (keyName "" for unsigned).
type notifyMsg struct {
	addr      string
	keyName   string
	alg       string
	secretB64 string
}

// messages resolves z's notify targets: a target whose key is missing or
// cannot be unwrapped is skipped (and logged): sending it unsigned would
// be refused by the secondary anyway.
func (n *Notifier) messages(z *zone) []notifyMsg {
	var out []notifyMsg
	signer := n.store.signer.Load()
	for _, t := range z.xfr.cfg.Notify {
		ip, err := netip.ParseAddr(t.Address)
		if err != nil {
			n.cfg.Logger.Warn("notify target address unusable", "zone", z.id, "address", t.Address)
			continue
		}
		port := t.Port
		if port == 0 {
			port = 53
		}
		m := notifyMsg{addr: net.JoinHostPort(ip.String(), strconv.Itoa(int(port)))}
		if t.Key != "" {
			k := z.xfr.cfg.Key(dns.CanonicalName(t.Key))
			if k == nil {
				k = z.xfr.cfg.Key(t.Key)
			}
			if k == nil || signer == nil {
				n.cfg.Logger.Warn("notify target's TSIG key unavailable", "zone", z.id, "target", m.addr)
				continue
			}
			secret, err := dnssec.Open(signer.fleetKey, k.Wrapped, zonecfg.TSIGKeyAD(z.id, k.Name))
			if err != nil {
				n.cfg.Logger.Warn("notify target's TSIG key cannot be opened", "zone", z.id, "target", m.addr)
				continue
			}
			m.keyName, m.alg = dns.CanonicalName(k.Name), tsigAlgName(k.Algorithm)
			m.secretB64 = base64.StdEncoding.EncodeToString(secret)
			clear(secret)
		}
		out = append(out, m)
	}
	return out
}

// send delivers one NOTIFY for z's version, retrying until acknowledged,
// ctx ends or the attempts run out.
func (n *Notifier) send(ctx context.Context, z *zone, t notifyMsg) {
	name := dns.CanonicalName(z.origin)
	soa := n.soaRR(z, name)
	b := retry.NewBackoff(n.cfg.MinRetry, n.cfg.MaxRetry)
	var lastErr error
	for attempt := 0; attempt < n.cfg.Attempts; attempt++ {
		if attempt > 0 && !retry.Sleep(ctx, b.Next()) {
			return
		}
		m := new(dns.Msg)
		m.SetNotify(name)
		if soa != nil {
			m.Answer = []dns.RR{soa}
		}
		// UDP first (RFC 1996 §3.5); once two attempts have had no answer
		// at all, every other one goes over TCP, for targets behind
		// filters that drop UDP or that listen on TCP only.
		var timeout net.Error
		tcp := attempt >= 2 && attempt%2 == 0 && errors.As(lastErr, &timeout) && timeout.Timeout()
		c := &dns.Client{Net: "udp", Timeout: n.cfg.Timeout}
		if tcp {
			c.Net = "tcp"
		}
		if n.cfg.LocalAddr.IsValid() {
			var local net.Addr = &net.UDPAddr{IP: n.cfg.LocalAddr.AsSlice()}
			if tcp {
				local = &net.TCPAddr{IP: n.cfg.LocalAddr.AsSlice()}
			}
			c.Dialer = &net.Dialer{Timeout: n.cfg.Timeout, LocalAddr: local}
		}
		if t.keyName != "" {
			m.SetTsig(t.keyName, t.alg, tsigFudge, n.cfg.Now().Unix())
			c.TsigSecret = map[string]string{t.keyName: t.secretB64}
		}
		r, _, err := c.ExchangeContext(ctx, m, t.addr)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			lastErr = err
		case r.Rcode != dns.RcodeSuccess || r.Opcode != dns.OpcodeNotify:
			lastErr = &notifyRcodeError{rcode: r.Rcode}
		case t.keyName != "" && r.IsTsig() == nil:
			// miekg verifies a TSIG that is there; an ack without one
			// is not from the holder of the key.
			lastErr = errUnsignedAck
		default:
			return
		}
	}
	n.cfg.Logger.Warn("notify not acknowledged", "zone", z.id, "version", z.version, "target", t.addr, "err", lastErr)
}

// soaRR is z's SOA record as the NOTIFY's answer section carries it, or
// nil if it cannot be rebuilt.
func (n *Notifier) soaRR(z *zone, name string) dns.RR {
	var rd string
	z.soa.records(func(r string) { rd = r })
	hdr := dns.RR_Header{Name: name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: z.soa.ttl, Rdlength: uint16(len(rd))}
	rr, _, err := dns.UnpackRRWithHeader(hdr, []byte(rd), 0)
	if err != nil {
		return nil
	}
	return rr
}

// notifyRcodeError is a NOTIFY answered with an error rcode.
type notifyRcodeError struct{ rcode int }

func (e *notifyRcodeError) Error() string {
	return "dataplane: notify answered " + dns.RcodeToString[e.rcode]
}

// errUnsignedAck is a NOTIFY acknowledgement without the TSIG the NOTIFY had.
var errUnsignedAck = &notifyRcodeError{rcode: -1}
