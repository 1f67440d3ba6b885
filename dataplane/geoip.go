package dataplane

import (
	"fmt"
	"net/netip"
	"sync"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/waymark-dns/waymark/zonecfg"
)

// Location is where a client address is, as far as the GeoIP database
// knows. Empty codes are unknown; Coords says whether Lat and Lon are set
// (City databases have them, Country databases do not).
type Location struct {
	Continent   string // AF AN AS EU NA OC SA
	Country     string // ISO 3166-1 alpha-2
	Subdivision string // ISO 3166-2 subdivision, without the country ("CA")
	Lat, Lon    float64
	Coords      bool
	// Network is the database network holding the address: every address
	// in it has this location, which bounds the ECS scope of an answer.
	Network netip.Prefix
}

// String formats l for explanations: "NA/US/CA (37.75,-122.41)".
func (l Location) String() string {
	s := fmt.Sprintf("%s/%s", orDash(l.Continent), orDash(l.Country))
	if l.Subdivision != "" {
		s += "/" + l.Subdivision
	}
	if l.Coords {
		s += fmt.Sprintf(" (%.2f,%.2f)", l.Lat, l.Lon)
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// GeoDB reads a MaxMind-format database (GeoLite2 or GeoIP2 Country or
// City, or DB-IP's free "lite" databases, which use the same layout).
// Decoding a record costs microseconds, so decoded records are kept by
// their offset in the database: a database has far fewer distinct records
// than networks, and a busy nameserver sees the same few again and again.
type GeoDB struct {
	r     *maxminddb.Reader
	cache sync.Map // record offset (uintptr) → Location without Network
}

// mmRecord is the part of a GeoIP2 record routing uses.
type mmRecord struct {
	Continent struct {
		Code string `maxminddb:"code"`
	} `maxminddb:"continent"`
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
	Subdivisions []struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"subdivisions"`
	Location struct {
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
}

// OpenGeoDB opens the database at path (memory-mapped).
func OpenGeoDB(path string) (*GeoDB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geoip database %s: %w", path, err)
	}
	return &GeoDB{r: r}, nil
}

// GeoDBFromBytes reads a database held in memory (tests).
func GeoDBFromBytes(b []byte) (*GeoDB, error) {
	r, err := maxminddb.OpenBytes(b)
	if err != nil {
		return nil, fmt.Errorf("geoip database: %w", err)
	}
	return &GeoDB{r: r}, nil
}

// Close releases the database. Lookups must have stopped.
func (g *GeoDB) Close() error { return g.r.Close() }

// Lookup returns the location of a, and false when the database has no
// record for it (private addresses, unassigned space) or g is nil.
func (g *GeoDB) Lookup(a netip.Addr) (Location, bool) {
	if g == nil || !a.IsValid() {
		return Location{}, false
	}
	res := g.r.Lookup(a.Unmap())
	if res.Err() != nil || !res.Found() {
		return Location{}, false
	}
	off := res.Offset()
	if v, ok := g.cache.Load(off); ok {
		l := v.(Location)
		l.Network = res.Prefix()
		return l, true
	}
	var rec mmRecord
	if err := res.Decode(&rec); err != nil {
		return Location{}, false
	}
	l := Location{Continent: rec.Continent.Code, Country: rec.Country.ISOCode}
	if l.Country == "" {
		l.Country = rec.RegisteredCountry.ISOCode
	}
	if len(rec.Subdivisions) > 0 {
		l.Subdivision = rec.Subdivisions[0].ISOCode
	}
	if l.Country != "" {
		// Route 53's continent of a country (which differs from some
		// databases for a few countries, such as TR) wins.
		if c, ok := zonecfg.CountryContinent(l.Country); ok {
			l.Continent = c
		}
	}
	if rec.Location.Latitude != nil && rec.Location.Longitude != nil {
		l.Lat, l.Lon, l.Coords = *rec.Location.Latitude, *rec.Location.Longitude, true
	}
	g.cache.Store(off, l)
	l.Network = res.Prefix()
	return l, true
}
