package zonecfg

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// Types are the record types Waymark accepts, the same set as Route 53's
// RRType enum.
var types = map[string]uint16{
	"A":     dns.TypeA,
	"AAAA":  dns.TypeAAAA,
	"CAA":   dns.TypeCAA,
	"CNAME": dns.TypeCNAME,
	"DS":    dns.TypeDS,
	"HTTPS": dns.TypeHTTPS,
	"MX":    dns.TypeMX,
	"NAPTR": dns.TypeNAPTR,
	"NS":    dns.TypeNS,
	"PTR":   dns.TypePTR,
	"SOA":   dns.TypeSOA,
	"SPF":   dns.TypeSPF,
	"SRV":   dns.TypeSRV,
	"SSHFP": dns.TypeSSHFP,
	"SVCB":  dns.TypeSVCB,
	"TLSA":  dns.TypeTLSA,
	"TXT":   dns.TypeTXT,
}

// SupportedTypes returns the accepted type mnemonics in ASCII order.
func SupportedTypes() []string {
	return []string{"A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV", "SSHFP", "SVCB", "TLSA", "TXT"}
}

// ParseType returns the canonical (uppercase) mnemonic and wire code of a
// supported record type.
func ParseType(s string) (string, uint16, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	t, ok := types[u]
	if !ok {
		return "", 0, fmt.Errorf("unsupported record type %q", s)
	}
	return u, t, nil
}

// TypeCode returns the wire code of a canonical type mnemonic, or 0.
func TypeCode(mnemonic string) uint16 { return types[mnemonic] }
