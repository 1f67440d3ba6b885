package dnstest

import (
	"time"

	"github.com/miekg/dns"
)

// Exchange sends m to addr over "udp" or "tcp" and returns the response.
func Exchange(network, addr string, m *dns.Msg) (*dns.Msg, error) {
	c := &dns.Client{Net: network, Timeout: 2 * time.Second, UDPSize: 65535}
	r, _, err := c.Exchange(m, addr)
	return r, err
}
