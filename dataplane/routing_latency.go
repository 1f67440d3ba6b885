package dataplane

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/waymark-dns/waymark/zonecfg"
)

// LatencyTable is the operator's override of latency routing. Waymark
// measures no latencies itself: by default latency routing answers the
// region nearest the client by great-circle distance. Operators who know
// better (from RUM data, or their network's topology) list, for client
// prefixes and places, the regions in order of preference. The first
// listed region that has a healthy record answers; when none has, the
// distance rule decides among the others.
//
// The file is JSON; every key is optional:
//
//	{
//	  "prefixes":   {"203.0.113.0/24": ["ap-southeast-2", "ap-southeast-1"]},
//	  "countries":  {"DE": ["eu-central-1", "eu-west-1"], "US-CA": ["us-west-1", "us-west-2"]},
//	  "continents": {"OC": ["ap-southeast-2", "ap-southeast-1"]}
//	}
//
// The most specific entry wins: the longest prefix containing the client
// (a prefix longer than the ECS source prefix does not match), then the
// country with subdivision ("US-CA"), the country, the continent (from
// the GeoIP database).
type LatencyTable struct {
	prefixes   map[netip.Prefix][]string
	lens       []int // prefix lengths present, longest first
	countries  map[string][]string
	continents map[string][]string
}

// latencyFile is the JSON form of a LatencyTable.
type latencyFile struct {
	Prefixes   map[string][]string `json:"prefixes"`
	Countries  map[string][]string `json:"countries"`
	Continents map[string][]string `json:"continents"`
}

// LoadLatencyTable reads a latency table file (--latency-table).
func LoadLatencyTable(path string) (*LatencyTable, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("latency table: %w", err)
	}
	t, err := ParseLatencyTable(b)
	if err != nil {
		return nil, fmt.Errorf("latency table %s: %w", path, err)
	}
	return t, nil
}

// ParseLatencyTable parses the JSON form documented on LatencyTable. Region
// names must be known (zonecfg.Regions); prefixes must be masked.
func ParseLatencyTable(b []byte) (*LatencyTable, error) {
	var f latencyFile
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	t := &LatencyTable{prefixes: map[netip.Prefix][]string{}, countries: map[string][]string{}, continents: map[string][]string{}}
	check := func(key string, regs []string) error {
		if len(regs) == 0 {
			return fmt.Errorf("%s: no regions", key)
		}
		for _, r := range regs {
			if _, ok := zonecfg.LookupRegion(r); !ok {
				return fmt.Errorf("%s: unknown region %q", key, r)
			}
		}
		return nil
	}
	for k, regs := range f.Prefixes {
		p, err := netip.ParsePrefix(k)
		if err != nil {
			return nil, fmt.Errorf("prefix %q: %w", k, err)
		}
		if p.Masked() != p {
			return nil, fmt.Errorf("prefix %q has bits set beyond its length", k)
		}
		if err := check(k, regs); err != nil {
			return nil, err
		}
		t.prefixes[p] = regs
		if !slices.Contains(t.lens, p.Bits()) {
			t.lens = append(t.lens, p.Bits())
		}
	}
	slices.Sort(t.lens)
	slices.Reverse(t.lens)
	for k, regs := range f.Countries {
		country, sub, _ := strings.Cut(k, "-")
		if !zonecfg.IsCountry(country) || (sub == "" && strings.Contains(k, "-")) {
			return nil, fmt.Errorf("country %q: not an ISO 3166-1 code (optionally with -subdivision)", k)
		}
		if err := check(k, regs); err != nil {
			return nil, err
		}
		t.countries[k] = regs
	}
	for k, regs := range f.Continents {
		if !zonecfg.IsContinent(k) {
			return nil, fmt.Errorf("continent %q: not a continent code", k)
		}
		if err := check(k, regs); err != nil {
			return nil, err
		}
		t.continents[k] = regs
	}
	return t, nil
}

// order returns the regions the table prefers for a client, the entry
// that matched (for explanations) and, for a prefix entry, its length
// (which bounds the ECS scope); nil when the table does not list the
// client.
func (t *LatencyTable) order(p netip.Prefix, loc Location, known bool) ([]string, string, int) {
	if p.IsValid() {
		for _, l := range t.lens {
			if l > p.Bits() || l > p.Addr().BitLen() {
				continue
			}
			k, err := p.Addr().Prefix(l)
			if err != nil {
				continue
			}
			if regs, ok := t.prefixes[k]; ok {
				return regs, k.String(), l
			}
		}
	}
	if !known {
		return nil, "", 0
	}
	if loc.Subdivision != "" {
		if regs, ok := t.countries[loc.Country+"-"+loc.Subdivision]; ok {
			return regs, loc.Country + "-" + loc.Subdivision, 0
		}
	}
	if regs, ok := t.countries[loc.Country]; ok && loc.Country != "" {
		return regs, loc.Country, 0
	}
	if regs, ok := t.continents[loc.Continent]; ok && loc.Continent != "" {
		return regs, "continent " + loc.Continent, 0
	}
	return nil, "", 0
}

// latency answers the healthy member whose region is nearest the client:
// first by the operator's latency table when it lists the client, else by
// great-circle distance from the client's GeoIP location. Without a
// location: the region nearest this nameserver (Routing.Region), else the
// first member by set identifier.
func (e *eval) latency(group []rrset, health []bool) int {
	loc, known := e.location()
	if e.rt.Latency != nil {
		if order, key, bits := e.rt.Latency.order(e.clientPrefix(), loc, known); order != nil {
			if bits > 0 {
				e.usedClient(bits)
			}
			for _, reg := range order {
				for i := range group {
					if health[i] && group[i].route.region.Name == reg {
						if e.tracing() {
							e.notef("latency: region %s (%q) from the latency table entry %s", reg, group[i].setID, key)
						}
						return i
					}
				}
			}
		}
	}
	var lat, lon float64
	switch {
	case known && loc.Coords:
		lat, lon = loc.Lat, loc.Lon
	case known && continentCenter(loc.Continent) != [2]float64{}:
		c := continentCenter(loc.Continent)
		lat, lon = c[0], c[1]
		if e.tracing() {
			e.notef("latency: no coordinates, using the centre of continent %s", loc.Continent)
		}
	default:
		reg, ok := zonecfg.LookupRegion(e.rt.Region)
		if !ok {
			for i := range group {
				if health[i] {
					if e.tracing() {
						e.notef("latency: client location unknown, first region %s (%q)", group[i].route.region.Name, group[i].setID)
					}
					return i
				}
			}
			return -1
		}
		lat, lon = reg.Lat, reg.Lon
		if e.tracing() {
			e.notef("latency: client location unknown, measuring from this nameserver's region %s", reg.Name)
		}
	}
	best, bestD := -1, math.Inf(1)
	for i := range group {
		if !health[i] {
			continue
		}
		r := group[i].route.region
		if d := greatCircleKm(lat, lon, r.Lat, r.Lon); d < bestD {
			best, bestD = i, d
		}
	}
	if best >= 0 {
		if e.tracing() {
			e.notef("latency: region %s (%q), %.0f km away", group[best].route.region.Name, group[best].setID, bestD)
		}
	}
	return best
}

// continentCenter is a rough centre of a continent's population, used
// when the database (a Country edition) gives no coordinates; zero for an
// unknown code.
func continentCenter(code string) [2]float64 {
	switch code {
	case "AF":
		return [2]float64{5, 20}
	case "AN":
		return [2]float64{-75, 0}
	case "AS":
		return [2]float64{30, 100}
	case "EU":
		return [2]float64{50, 10}
	case "NA":
		return [2]float64{40, -95}
	case "OC":
		return [2]float64{-25, 140}
	case "SA":
		return [2]float64{-15, -60}
	}
	return [2]float64{}
}

// greatCircleKm is the haversine distance between two points.
func greatCircleKm(lat1, lon1, lat2, lon2 float64) float64 {
	const earthKm = 6371.0
	rad := math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * earthKm * math.Asin(math.Min(1, math.Sqrt(a)))
}
