package dataplane

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// BenchmarkRouted measures one answer through ServeWire per policy, next to
// a plain record, with a GeoIP database and a health view configured.
func BenchmarkRouted(b *testing.B) {
	h := routingHandler(b, Routing{GeoIP: testGeoDB(b), Health: HealthMap{"hc-de": true}})
	for _, bc := range []struct{ name, q, ecs string }{
		{"plain", "t1.example.com.", ""},
		{"weighted", "w.example.com.", ""},
		{"geolocation", "g.example.com.", ""},
		{"geolocation-ecs", "g.example.com.", "192.0.2.0/24"},
		{"latency", "l.example.com.", ""},
		{"failover", "f.example.com.", ""},
		{"multivalue", "m.example.com.", ""},
		{"cidr", "c.example.com.", ""},
		{"alias-cross-zone-geo", "ag.example.com.", ""},
	} {
		b.Run(bc.name, func(b *testing.B) {
			pkt, err := query(bc.q, dns.TypeA, bc.ecs).Pack()
			if err != nil {
				b.Fatal(err)
			}
			from := netip.MustParseAddr("192.0.2.1")
			out := make([]byte, 0, 1500)
			b.ReportAllocs()
			for b.Loop() {
				out = h.ServeWire(out, pkt, from, false)
			}
		})
	}
}
