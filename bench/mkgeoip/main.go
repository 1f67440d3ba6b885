// Command mkgeoip writes a small MaxMind-format (GeoIP2-City layout)
// database for benchmarks and manual tests of routed answers: loopback and
// the documentation networks get fixed locations, so that queries sent
// from 127.0.0.1 (dnsperf on the same machine) are located like real
// clients. Real deployments use GeoLite2 or DB-IP lite (docs/routing.md).
package main

import (
	"flag"
	"fmt"
	"net"
	"os"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

func main() {
	out := flag.String("o", "geo.mmdb", "output file")
	flag.Parse()
	if err := write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "mkgeoip:", err)
		os.Exit(1)
	}
}

func write(path string) error {
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoIP2-City", IncludeReservedNetworks: true, RecordSize: 28})
	if err != nil {
		return err
	}
	for _, n := range []struct {
		cidr, continent, country, sub string
		lat, lon                      float64
	}{
		{"127.0.0.0/8", "NA", "US", "CA", 37.34, -121.89},
		{"::1/128", "NA", "US", "CA", 37.34, -121.89},
		{"192.0.2.0/24", "NA", "US", "NY", 40.71, -74.0},
		{"198.51.100.0/24", "EU", "DE", "", 50.11, 8.68},
		{"203.0.113.0/24", "OC", "AU", "", -33.87, 151.21},
		{"2001:db8::/32", "AS", "JP", "", 35.68, 139.69},
	} {
		_, ipn, err := net.ParseCIDR(n.cidr)
		if err != nil {
			return err
		}
		rec := mmdbtype.Map{
			"continent": mmdbtype.Map{"code": mmdbtype.String(n.continent)},
			"country":   mmdbtype.Map{"iso_code": mmdbtype.String(n.country)},
			"location":  mmdbtype.Map{"latitude": mmdbtype.Float64(n.lat), "longitude": mmdbtype.Float64(n.lon)},
		}
		if n.sub != "" {
			rec["subdivisions"] = mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String(n.sub)}}
		}
		if err := tree.Insert(ipn, rec); err != nil {
			return fmt.Errorf("%s: %w", n.cidr, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := tree.WriteTo(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
