package zonecfg

import "strings"

// Region is a latency-routing region: a name in Route 53's style and the
// location nameservers measure distance from. Waymark has no latency
// measurements of its own, so latency routing chooses the region nearest to
// the client (great-circle distance from the GeoIP location of the ECS
// subnet or resolver) — see docs/routing.md.
type Region struct {
	Name string  `json:"name"`
	City string  `json:"city"`
	Lat  float64 `json:"lat"`
	Lon  float64 `json:"lon"`
}

// Regions returns the accepted latency regions, sorted by name. A new call
// returns a new slice, so callers may keep or change it.
func Regions() []Region {
	return []Region{
		{"af-south-1", "Cape Town", -33.92, 18.42},
		{"ap-east-1", "Hong Kong", 22.32, 114.17},
		{"ap-northeast-1", "Tokyo", 35.68, 139.69},
		{"ap-northeast-2", "Seoul", 37.57, 126.98},
		{"ap-northeast-3", "Osaka", 34.69, 135.50},
		{"ap-south-1", "Mumbai", 19.08, 72.88},
		{"ap-south-2", "Hyderabad", 17.39, 78.49},
		{"ap-southeast-1", "Singapore", 1.35, 103.82},
		{"ap-southeast-2", "Sydney", -33.87, 151.21},
		{"ap-southeast-3", "Jakarta", -6.21, 106.85},
		{"ap-southeast-4", "Melbourne", -37.81, 144.96},
		{"ca-central-1", "Montreal", 45.50, -73.57},
		{"ca-west-1", "Calgary", 51.05, -114.07},
		{"eu-central-1", "Frankfurt", 50.11, 8.68},
		{"eu-central-2", "Zurich", 47.37, 8.54},
		{"eu-north-1", "Stockholm", 59.33, 18.07},
		{"eu-south-1", "Milan", 45.46, 9.19},
		{"eu-south-2", "Zaragoza", 41.65, -0.88},
		{"eu-west-1", "Dublin", 53.35, -6.26},
		{"eu-west-2", "London", 51.51, -0.13},
		{"eu-west-3", "Paris", 48.86, 2.35},
		{"il-central-1", "Tel Aviv", 32.09, 34.78},
		{"me-central-1", "Dubai", 25.20, 55.27},
		{"me-south-1", "Manama", 26.07, 50.56},
		{"sa-east-1", "Sao Paulo", -23.55, -46.63},
		{"us-east-1", "Ashburn, Virginia", 39.04, -77.49},
		{"us-east-2", "Columbus, Ohio", 39.96, -83.00},
		{"us-west-1", "San Jose, California", 37.34, -121.89},
		{"us-west-2", "Boardman, Oregon", 45.84, -119.70},
	}
}

// LookupRegion returns the accepted region called name (lowercase).
func LookupRegion(name string) (Region, bool) {
	for _, r := range Regions() {
		if r.Name == name {
			return r, true
		}
	}
	return Region{}, false
}

// RegionNames returns the accepted region names, sorted, joined for
// messages.
func RegionNames() string {
	rs := Regions()
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.Name
	}
	return strings.Join(names, ", ")
}
