// Package nspool is the operator's nameserver pool: the names zones are
// delegated to, with the addresses each one answers on, and the size of a
// delegation set. The control plane draws delegation sets from it; each
// nameserver listens on the addresses of the names it serves and answers
// there only for the zones whose delegation set holds that name (a view).
// It is a leaf package: both planes import it, it imports neither.
package nspool

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// DefaultSetSize is the size of a delegation set when the operator does not
// choose one: Route 53's four, or the whole pool when it is smaller.
const DefaultSetSize = 4

// Server is one pool name and the addresses it answers on.
type Server struct {
	Name  string // canonical: lowercase, trailing dot
	Addrs []netip.Addr
}

// Pool is the operator's nameserver pool, in the operator's order.
type Pool struct {
	Servers []Server
	// SetSize is the number of names in a delegation set.
	SetSize int
}

// Parse reads a pool from its configuration form: comma-separated entries
// name[=addr[/addr...]], for example
// "ns1.waymark.test.=192.0.2.1/2001:db8::1,ns2.waymark.test.=192.0.2.2".
// Names are canonicalised (lowercase, trailing dot) and must be distinct;
// an address may belong to one name only, since the address a query
// arrives on is what picks the view. setSize 0 means DefaultSetSize (or the
// pool's size when smaller).
func Parse(spec string, setSize int) (Pool, error) {
	var p Pool
	seenAddr := map[netip.Addr]string{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, addrs, _ := strings.Cut(item, "=")
		n, err := canonical(strings.TrimSpace(name))
		if err != nil {
			return Pool{}, err
		}
		if p.Index(n) >= 0 {
			return Pool{}, fmt.Errorf("nspool: %s is listed twice", n)
		}
		srv := Server{Name: n}
		for _, a := range strings.Split(addrs, "/") {
			if a = strings.TrimSpace(a); a == "" {
				continue
			}
			ip, err := netip.ParseAddr(a)
			if err != nil || ip.Zone() != "" {
				return Pool{}, fmt.Errorf("nspool: %s: bad address %q", n, a)
			}
			ip = ip.Unmap()
			if other, ok := seenAddr[ip]; ok {
				return Pool{}, fmt.Errorf("nspool: address %s belongs to both %s and %s", ip, other, n)
			}
			seenAddr[ip] = n
			srv.Addrs = append(srv.Addrs, ip)
		}
		p.Servers = append(p.Servers, srv)
	}
	if len(p.Servers) == 0 {
		return Pool{}, fmt.Errorf("nspool: the pool has no names")
	}
	return p.WithSetSize(setSize)
}

// WithSetSize returns p with its delegation set size checked (0 means the
// default).
func (p Pool) WithSetSize(n int) (Pool, error) {
	switch {
	case n == 0:
		n = min(DefaultSetSize, len(p.Servers))
	case n < 1 || n > len(p.Servers):
		return Pool{}, fmt.Errorf("nspool: delegation set size %d must be between 1 and the pool's %d names", n, len(p.Servers))
	}
	p.SetSize = n
	return p, nil
}

// String returns the pool in the form Parse reads.
func (p Pool) String() string {
	var sb strings.Builder
	for i, s := range p.Servers {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(s.Name)
		for j, a := range s.Addrs {
			if j == 0 {
				sb.WriteByte('=')
			} else {
				sb.WriteByte('/')
			}
			sb.WriteString(a.String())
		}
	}
	return sb.String()
}

// Names returns the pool's names in order.
func (p Pool) Names() []string {
	out := make([]string, len(p.Servers))
	for i, s := range p.Servers {
		out[i] = s.Name
	}
	return out
}

// Index returns the position of name (canonical) in the pool, or -1.
func (p Pool) Index(name string) int {
	return slices.IndexFunc(p.Servers, func(s Server) bool { return s.Name == name })
}

// Select returns the pool restricted to names (canonical or not, with or
// without the trailing dot; a bare first label such as "ns-1" matches too),
// keeping the pool's order, for a nameserver that serves only some names.
func (p Pool) Select(names []string) (Pool, error) {
	keep := make([]bool, len(p.Servers))
	for _, raw := range names {
		i := p.lookup(raw)
		if i < 0 {
			return Pool{}, fmt.Errorf("nspool: %q is not a name of the pool (%s)", raw, strings.Join(p.Names(), ", "))
		}
		keep[i] = true
	}
	out := Pool{SetSize: p.SetSize}
	for i, s := range p.Servers {
		if keep[i] {
			out.Servers = append(out.Servers, s)
		}
	}
	return out, nil
}

func (p Pool) lookup(raw string) int {
	raw = strings.ToLower(strings.TrimSpace(raw))
	if n, err := canonical(raw); err == nil {
		if i := p.Index(n); i >= 0 {
			return i
		}
	}
	raw = strings.TrimSuffix(raw, ".")
	for i, s := range p.Servers {
		if first, _, _ := strings.Cut(s.Name, "."); first == raw {
			return i
		}
	}
	return -1
}

// Domains returns the fleet's own domains: the parent of every pool name
// (ns1.waymark.test. → waymark.test.), distinct, in pool order. No tenant
// may host them; every nameserver answers for them itself.
func (p Pool) Domains() []string {
	var out []string
	for _, s := range p.Servers {
		if d := Parent(s.Name); !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// Parent returns the name without its first label ("." for a TLD).
func Parent(name string) string {
	if off, end := dns.NextLabel(name, 0); !end && off < len(name) {
		return name[off:]
	}
	return "."
}

// SystemZone is the zone of one of the fleet's own domains, as record
// sets in presentation format: SOA, NS (the pool names inside the domain)
// and the A/AAAA of each of them.
type SystemZone struct {
	Name   string
	RRSets []RRSet
}

// RRSet is one record set of a SystemZone.
type RRSet struct {
	Name    string
	Type    string
	TTL     uint32
	Records []string
}

// systemTTL is the TTL of the fleet's own records: two days, the same as a
// zone's apex NS, since they change as rarely.
const systemTTL = 172800

// SystemZones returns the zone of each of the fleet's domains, with
// hostmaster as the SOA RNAME.
func (p Pool) SystemZones(hostmaster string) []SystemZone {
	var out []SystemZone
	for _, d := range p.Domains() {
		z := SystemZone{Name: d}
		var ns []string
		for _, s := range p.Servers {
			if Parent(s.Name) == d {
				ns = append(ns, s.Name)
			}
		}
		z.RRSets = append(z.RRSets,
			RRSet{Name: d, Type: "SOA", TTL: 900, Records: []string{ns[0] + " " + hostmaster + " 1 7200 900 1209600 86400"}},
			RRSet{Name: d, Type: "NS", TTL: systemTTL, Records: ns})
		for _, s := range p.Servers {
			if Parent(s.Name) != d {
				continue
			}
			var a, aaaa []string
			for _, ip := range s.Addrs {
				if ip.Is4() {
					a = append(a, ip.String())
				} else {
					aaaa = append(aaaa, ip.String())
				}
			}
			if len(a) > 0 {
				z.RRSets = append(z.RRSets, RRSet{Name: s.Name, Type: "A", TTL: systemTTL, Records: a})
			}
			if len(aaaa) > 0 {
				z.RRSets = append(z.RRSets, RRSet{Name: s.Name, Type: "AAAA", TTL: systemTTL, Records: aaaa})
			}
		}
		out = append(out, z)
	}
	return out
}

func canonical(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("nspool: empty name")
	}
	n := dns.CanonicalName(name)
	if _, ok := dns.IsDomainName(n); !ok || n == "." || dns.CountLabel(n) < 2 {
		return "", fmt.Errorf("nspool: %q is not a nameserver name (it needs at least two labels)", name)
	}
	return n, nil
}
