// Package parentds asks a parent zone hosted outside Waymark, through its
// own nameservers, which DS records it publishes for a child: the check
// Route 53 makes before letting a key-signing key go
// (KeySigningKeyInParentDSRecord, docs/dnssec.md).
package parentds

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// DefaultTimeout bounds each query: the check runs inside an API call.
const DefaultTimeout = 2 * time.Second

// Lookup finds a child zone's parent and its nameservers through a
// recursive resolver, then asks those nameservers (not the resolver,
// whose cached DS may be stale either way) for the child's DS set.
type Lookup struct {
	// Resolver is the host:port of a recursive resolver used to find
	// the parent's NS set and their addresses.
	Resolver string
	// Port is the port the parent's nameservers are asked on. Default
	// "53"; tests point it at a local server.
	Port string
	// Timeout bounds each query. Default DefaultTimeout.
	Timeout time.Duration
}

// ErrNoAnswer is returned when no nameserver of the parent answered
// authoritatively.
var ErrNoAnswer = errors.New("parentds: no authoritative answer from the parent's nameservers")

// ParentDS returns the DS records ("keytag algorithm digesttype digest",
// digest in upper-case hex) that zone's parent publishes, empty when it
// publishes none, and how long resolvers may cache that answer: the DS
// set's TTL, or for no DS the negative TTL (RFC 2308 §5: the SOA's TTL
// capped by its minimum field), 0 when the answer carries neither.
func (l Lookup) ParentDS(ctx context.Context, zone string) ([]string, uint32, error) {
	zone = dns.CanonicalName(zone)
	if zone == "." {
		return nil, 0, errors.New("parentds: the root has no parent")
	}
	parent, nsNames, err := l.findParent(ctx, zone)
	if err != nil {
		return nil, 0, err
	}
	var addrs []string
	for _, n := range nsNames {
		for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
			r, err := l.exchange(ctx, l.Resolver, n, t, true)
			if err != nil {
				continue
			}
			for _, rr := range r.Answer {
				switch a := rr.(type) {
				case *dns.A:
					addrs = append(addrs, a.A.String())
				case *dns.AAAA:
					addrs = append(addrs, a.AAAA.String())
				}
			}
		}
	}
	port := l.Port
	if port == "" {
		port = "53"
	}
	lastErr := fmt.Errorf("%w (%s has no nameserver address)", ErrNoAnswer, parent)
	for _, a := range addrs {
		r, err := l.exchange(ctx, net.JoinHostPort(a, port), zone, dns.TypeDS, false)
		if err != nil {
			lastErr = fmt.Errorf("%w: %s: %v", ErrNoAnswer, a, err)
			continue
		}
		if !r.Authoritative || (r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError) {
			lastErr = fmt.Errorf("%w: %s answered %s, AA=%v", ErrNoAnswer, a, dns.RcodeToString[r.Rcode], r.Authoritative)
			continue
		}
		var out []string
		var ttl uint32
		for _, rr := range r.Answer {
			if ds, ok := rr.(*dns.DS); ok && dns.CanonicalName(ds.Hdr.Name) == zone {
				out = append(out, strconv.Itoa(int(ds.KeyTag))+" "+strconv.Itoa(int(ds.Algorithm))+" "+
					strconv.Itoa(int(ds.DigestType))+" "+strings.ToUpper(ds.Digest))
				ttl = max(ttl, ds.Hdr.Ttl)
			}
		}
		if len(out) == 0 {
			for _, rr := range r.Ns {
				if soa, ok := rr.(*dns.SOA); ok {
					ttl = min(soa.Hdr.Ttl, soa.Minttl)
				}
			}
		}
		return out, ttl, nil
	}
	return nil, 0, lastErr
}

// findParent walks up from zone's parent name to the first name with an
// NS set: the closest enclosing zone.
func (l Lookup) findParent(ctx context.Context, zone string) (string, []string, error) {
	for off, end := dns.NextLabel(zone, 0); !end; off, end = dns.NextLabel(zone, off) {
		name := zone[off:]
		r, err := l.exchange(ctx, l.Resolver, name, dns.TypeNS, true)
		if err != nil {
			return "", nil, fmt.Errorf("parentds: NS %s: %w", name, err)
		}
		var ns []string
		for _, rr := range r.Answer {
			if n, ok := rr.(*dns.NS); ok && dns.CanonicalName(n.Hdr.Name) == name {
				ns = append(ns, n.Ns)
			}
		}
		if len(ns) > 0 {
			return name, ns, nil
		}
	}
	return "", nil, fmt.Errorf("%w: no enclosing zone of %s found", ErrNoAnswer, zone)
}

func (l Lookup) exchange(ctx context.Context, server, name string, qtype uint16, rd bool) (*dns.Msg, error) {
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = rd
	m.SetEdns0(1232, false)
	c := &dns.Client{Timeout: timeout}
	r, _, err := c.ExchangeContext(ctx, m, server)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.ExchangeContext(ctx, m, server)
	}
	return r, err
}
