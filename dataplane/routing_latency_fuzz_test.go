package dataplane

import (
	"net/netip"
	"testing"

	"github.com/waymark-dns/waymark/zonecfg"
)

// FuzzParseLatencyTable checks the operator's latency table parser
// (--latency-table): no input panics, an accepted table names only known
// regions, and looking any client up in it (by address, with any prefix
// length, and by location) neither panics nor returns an unknown region
// or a prefix entry longer than the client's prefix.
func FuzzParseLatencyTable(f *testing.F) {
	f.Add([]byte(`{"prefixes": {"192.0.2.128/25": ["ap-southeast-2"], "2001:db8::/32": ["eu-west-1"]},
		"countries": {"US-CA": ["ap-northeast-1", "us-west-1"], "DE": ["ap-southeast-2"]},
		"continents": {"EU": ["us-west-1"]}}`), []byte{192, 0, 2, 200}, uint8(32), "DE", "EU")
	f.Add([]byte(`{"prefixes": {"0.0.0.0/0": ["us-east-1"], "::/0": ["us-east-1"]}}`), []byte{0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, uint8(48), "", "")
	f.Add([]byte(`{"countries": {"US-": ["us-east-1"]}}`), []byte{}, uint8(0), "US", "NA")
	f.Fuzz(func(t *testing.T, b, addr []byte, bits uint8, country, continent string) {
		tab, err := ParseLatencyTable(b)
		if err != nil {
			return
		}
		var p netip.Prefix
		if a, ok := netip.AddrFromSlice(addr); ok {
			p, _ = a.Prefix(int(bits) % (a.BitLen() + 1))
		}
		for _, known := range []bool{false, true} {
			regs, _, plen := tab.order(p, Location{Country: country, Continent: continent}, known)
			for _, r := range regs {
				if _, ok := zonecfg.LookupRegion(r); !ok {
					t.Fatalf("unknown region %q from %s", r, b)
				}
			}
			if p.IsValid() && plen > p.Bits() {
				t.Fatalf("prefix entry /%d for a /%d client", plen, p.Bits())
			}
		}
	})
}
