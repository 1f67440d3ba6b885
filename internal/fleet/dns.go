package fleet

import (
	"time"

	"github.com/miekg/dns"
)

// Query asks the nameserver at addr for name/qtype over UDP (once, 2 s).
func Query(addr, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, addr)
	return r, err
}

// probeRcode returns the rcode of a question no zone of the fleet covers.
func probeRcode(addr string) (int, error) {
	r, err := Query(addr, "probe.fleet.invalid.", dns.TypeSOA)
	if err != nil {
		return 0, err
	}
	return r.Rcode, nil
}

// QueryTimeout is Query with a timeout of d.
func QueryTimeout(addr, name string, qtype uint16, d time.Duration) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Net: "udp", Timeout: d}
	r, _, err := c.Exchange(m, addr)
	return r, err
}
