package dnstest

import (
	"errors"
	"net"
	"time"

	"github.com/miekg/dns"
)

// Exchange sends m to addr over "udp" or "tcp" and returns the response.
// Over UDP it retries twice after a timeout, as resolvers do: a loaded test
// machine may lose a datagram.
func Exchange(network, addr string, m *dns.Msg) (*dns.Msg, error) {
	c := &dns.Client{Net: network, Timeout: 2 * time.Second, UDPSize: 65535}
	var err error
	for range 3 {
		var r *dns.Msg
		r, _, err = c.Exchange(m, addr)
		var ne net.Error
		if err == nil || network != "udp" || !errors.As(err, &ne) || !ne.Timeout() {
			return r, err
		}
	}
	return nil, err
}
