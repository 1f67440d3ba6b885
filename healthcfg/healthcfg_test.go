package healthcfg

import (
	"net/netip"
	"testing"
)

func TestPublicTarget(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "192.0.2.1": true, "2600::1": true,
		"10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "127.0.0.1": false, "169.254.1.1": false,
		"100.64.0.1": false, "0.1.2.3": false, "224.0.0.1": false, "255.255.255.255": false, "198.18.0.1": false,
		"::1": false, "fe80::1": false, "fc00::1": false, "ff02::1": false, "::": false, "::ffff:10.0.0.1": false,
	} {
		if got := PublicTarget(netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: got %v, want %v", addr, got, want)
		}
	}
}
