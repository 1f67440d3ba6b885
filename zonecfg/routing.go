package zonecfg

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Policy is the routing policy of a record set, decided by which routing
// field it carries.
type Policy string

// The routing policies. Geoproximity and traffic policies are not
// supported.
const (
	PolicySimple      Policy = "simple"
	PolicyWeighted    Policy = "weighted"
	PolicyLatency     Policy = "latency"
	PolicyGeolocation Policy = "geolocation"
	PolicyFailover    Policy = "failover"
	PolicyMultiValue  Policy = "multivalue"
	PolicyCIDR        Policy = "cidr"
)

// Failover roles.
const (
	FailoverPrimary   = "PRIMARY"
	FailoverSecondary = "SECONDARY"
)

// Limits on routing fields, from Route 53's model.
const (
	MaxSetIdentifierLength = 128
	MaxLocationNameLength  = 16
	MaxReferenceIDLength   = 64 // health check and CIDR collection ids
	// CIDRDefaultLocation is the location_name of the record answered when
	// no location of the collection matches the client.
	CIDRDefaultLocation = "*"
)

// Routing is what a record set carries besides its key (name, type, set
// identifier) and records: at most one routing policy field (see Policy),
// a health check and an alias target. The zero value of every field means
// "not set"; the zero Routing is a simple record set. It is the one list
// of these fields: the API, the store, the events and the nameservers all
// carry it whole. The set identifier stays in the Key, which identifies a
// record set everywhere.
type Routing struct {
	// Weight (0–255) makes the set weighted.
	Weight *uint8 `json:"weight,omitempty"`
	// Region (see Regions) makes the set latency-routed.
	Region string `json:"region,omitempty"`
	// Geo makes the set geolocation-routed.
	Geo *GeoLocation `json:"geolocation,omitempty"`
	// Failover (FailoverPrimary or FailoverSecondary) makes the set a
	// failover member.
	Failover string `json:"failover,omitempty"`
	// MultiValue makes the set a multivalue answer member.
	MultiValue bool `json:"multivalue_answer,omitempty"`
	// CIDR makes the set IP-based (CIDR collection) routed.
	CIDR *CIDRRouting `json:"cidr_routing,omitempty"`
	// HealthCheckID names the health check whose status decides whether
	// the set is healthy; no health check means always healthy.
	HealthCheckID string `json:"health_check_id,omitempty"`
	// Alias makes the set an alias of another record set.
	Alias *AliasTarget `json:"alias_target,omitempty"`
}

// Equal reports whether r and o set the same fields to the same values.
// The optional fields are pointers (a weight of 0 and an empty
// geolocation are values a client can send), so == on Routing would
// compare their addresses.
func (r Routing) Equal(o Routing) bool {
	return samePtr(r.Weight, o.Weight) && r.Region == o.Region &&
		samePtr(r.Geo, o.Geo) && r.Failover == o.Failover && r.MultiValue == o.MultiValue &&
		samePtr(r.CIDR, o.CIDR) && r.HealthCheckID == o.HealthCheckID && samePtr(r.Alias, o.Alias)
}

func samePtr[T comparable](a, b *T) bool { return a == b || a != nil && b != nil && *a == *b }

// GeoLocation selects clients by place: a continent, or a country
// (optionally narrowed to a US state), or the default (country_code "*").
type GeoLocation struct {
	ContinentCode   string `json:"continent_code,omitempty"`
	CountryCode     string `json:"country_code,omitempty"`
	SubdivisionCode string `json:"subdivision_code,omitempty"`
}

// String formats g as Route 53's console does: "EU", "US-WA", "*".
func (g GeoLocation) String() string {
	switch {
	case g.ContinentCode != "":
		return g.ContinentCode
	case g.SubdivisionCode != "":
		return g.CountryCode + "-" + g.SubdivisionCode
	default:
		return g.CountryCode
	}
}

// IsDefault reports whether g is the default location.
func (g GeoLocation) IsDefault() bool { return g.CountryCode == GeoDefault }

// CIDRRouting selects clients by the named location of a CIDR collection
// their address (or ECS subnet) falls in; LocationName "*" is the default.
type CIDRRouting struct {
	CollectionID string `json:"collection_id"`
	LocationName string `json:"location_name"`
}

// AliasTarget points a record set at another record set of the same type,
// by zone id and name, in the same tenant. Answers carry the alias's name
// with the target's records and TTL.
type AliasTarget struct {
	HostedZoneID         string `json:"hosted_zone_id"`
	DNSName              string `json:"dns_name"`
	EvaluateTargetHealth bool   `json:"evaluate_target_health"`
}

// Policy returns the routing policy rs uses: the one its routing field
// names, or PolicySimple. With several routing fields (which Validate
// refuses) the first in the order below wins.
func (rs Routing) Policy() Policy {
	ps := rs.policies()
	if len(ps) == 0 {
		return PolicySimple
	}
	return ps[0]
}

// IsAlias reports whether rs is an alias record set.
func (rs Routing) IsAlias() bool { return rs.Alias != nil }

// policies lists the routing fields rs carries.
func (rs Routing) policies() []Policy {
	var ps []Policy
	if rs.Weight != nil {
		ps = append(ps, PolicyWeighted)
	}
	if rs.Region != "" {
		ps = append(ps, PolicyLatency)
	}
	if rs.Geo != nil {
		ps = append(ps, PolicyGeolocation)
	}
	if rs.Failover != "" {
		ps = append(ps, PolicyFailover)
	}
	if rs.MultiValue {
		ps = append(ps, PolicyMultiValue)
	}
	if rs.CIDR != nil {
		ps = append(ps, PolicyCIDR)
	}
	return ps
}

// PolicyLabel describes rs's routing branch for messages and explanations:
// "weight 10", "region eu-west-1", "geolocation US-WA", "failover PRIMARY",
// "multivalue", "cidr c1/office", or "simple".
func (rs Routing) PolicyLabel() string {
	switch rs.Policy() {
	case PolicyWeighted:
		return fmt.Sprintf("weight %d", *rs.Weight)
	case PolicyLatency:
		return "region " + rs.Region
	case PolicyGeolocation:
		return "geolocation " + rs.Geo.String()
	case PolicyFailover:
		return "failover " + rs.Failover
	case PolicyMultiValue:
		return "multivalue"
	case PolicyCIDR:
		return "cidr " + rs.CIDR.CollectionID + "/" + rs.CIDR.LocationName
	}
	return "simple"
}

// simpleOnlyTypes may not carry a routing policy.
func simpleOnlyType(t string) bool { return t == "NS" || t == "SOA" || t == "DS" }

// ValidateRouting checks only the routing and alias fields of rs (the part
// of Validate that does not parse values), for callers that parse values
// themselves.
func (rs RRSet) ValidateRouting() error {
	ps := rs.policies()
	if len(ps) > 1 {
		return fmt.Errorf("%w: at most one routing policy per record set, got %s and %s", ErrInvalidRecord, ps[0], ps[1])
	}
	if !utf8.ValidString(rs.SetIdentifier) || strings.IndexByte(rs.SetIdentifier, 0) >= 0 {
		return fmt.Errorf("%w: set_identifier must be valid UTF-8 without NUL characters", ErrInvalidRecord)
	}
	if utf8.RuneCountInString(rs.SetIdentifier) > MaxSetIdentifierLength {
		return fmt.Errorf("%w: set_identifier is longer than %d characters", ErrInvalidRecord, MaxSetIdentifierLength)
	}
	if len(ps) == 1 && rs.SetIdentifier == "" {
		return fmt.Errorf("%w: a record set with a %s routing policy needs a set_identifier", ErrInvalidRecord, ps[0])
	}
	if len(ps) == 0 && rs.SetIdentifier != "" {
		return fmt.Errorf("%w: a record set with a set_identifier needs a routing policy (weight, region, geolocation, failover, multivalue_answer or cidr_routing)", ErrInvalidRecord)
	}
	if len(ps) == 1 && simpleOnlyType(rs.Type) {
		return fmt.Errorf("%w: %s record sets use simple routing only", ErrInvalidRecord, rs.Type)
	}
	if rs.Region != "" {
		if _, ok := LookupRegion(rs.Region); !ok {
			return fmt.Errorf("%w: unknown region %q; regions are %s", ErrInvalidRecord, rs.Region, RegionNames())
		}
	}
	if rs.Geo != nil {
		if err := rs.Geo.validate(); err != nil {
			return err
		}
	}
	if rs.Failover != "" && rs.Failover != FailoverPrimary && rs.Failover != FailoverSecondary {
		return fmt.Errorf("%w: failover must be PRIMARY or SECONDARY, not %q", ErrInvalidRecord, rs.Failover)
	}
	if rs.MultiValue && rs.Type == "CNAME" {
		return fmt.Errorf("%w: multivalue answer record sets cannot be of type CNAME", ErrInvalidRecord)
	}
	if rs.MultiValue && rs.Alias != nil {
		return fmt.Errorf("%w: multivalue answer record sets cannot be aliases", ErrInvalidRecord)
	}
	if rs.CIDR != nil {
		if err := checkRefID("cidr_routing.collection_id", rs.CIDR.CollectionID); err != nil {
			return err
		}
		if err := CheckLocationName(rs.CIDR.LocationName, true); err != nil {
			return err
		}
	}
	if rs.HealthCheckID != "" {
		if err := checkRefID("health_check_id", rs.HealthCheckID); err != nil {
			return err
		}
	}
	if a := rs.Alias; a != nil {
		if len(rs.Records) != 0 || rs.TTL != 0 {
			return fmt.Errorf("%w: an alias record set has no ttl and no records", ErrInvalidRecord)
		}
		if rs.Type == "NS" || rs.Type == "SOA" {
			return fmt.Errorf("%w: %s record sets cannot be aliases", ErrInvalidRecord, rs.Type)
		}
		if err := checkRefID("alias_target.hosted_zone_id", a.HostedZoneID); err != nil {
			return err
		}
		if _, err := CanonicalName(a.DNSName); err != nil {
			return fmt.Errorf("%w: alias_target.dns_name: %v", ErrInvalidRecord, err)
		}
	}
	return nil
}

func (g GeoLocation) validate() error {
	switch {
	case g.ContinentCode != "" && (g.CountryCode != "" || g.SubdivisionCode != ""):
		return fmt.Errorf("%w: geolocation continent_code excludes country_code and subdivision_code", ErrInvalidRecord)
	case g.ContinentCode != "":
		if !IsContinent(g.ContinentCode) {
			return fmt.Errorf("%w: unknown continent_code %q; continents are %s", ErrInvalidRecord, g.ContinentCode, strings.Join(Continents(), ", "))
		}
	case g.CountryCode == "":
		return fmt.Errorf("%w: geolocation needs a continent_code or a country_code (\"*\" for the default)", ErrInvalidRecord)
	case g.CountryCode == GeoDefault:
		if g.SubdivisionCode != "" {
			return fmt.Errorf("%w: the default geolocation (country_code \"*\") has no subdivision_code", ErrInvalidRecord)
		}
	case !IsCountry(g.CountryCode):
		return fmt.Errorf("%w: unknown country_code %q (ISO 3166-1 alpha-2, uppercase)", ErrInvalidRecord, g.CountryCode)
	case g.SubdivisionCode != "" && g.CountryCode != "US":
		return fmt.Errorf("%w: subdivision_code is supported for country_code US only", ErrInvalidRecord)
	case g.SubdivisionCode != "" && !IsSubdivision(g.CountryCode, g.SubdivisionCode):
		return fmt.Errorf("%w: unknown US subdivision_code %q", ErrInvalidRecord, g.SubdivisionCode)
	}
	return nil
}

// CheckLocationName checks a CIDR location name: 1 to 16 characters of
// letters, digits, '_' and '-', as in Route 53; "*" (the default) only if
// allowDefault.
func CheckLocationName(name string, allowDefault bool) error {
	if name == CIDRDefaultLocation {
		if allowDefault {
			return nil
		}
		return fmt.Errorf("%w: location name \"*\" is reserved for the default", ErrInvalidRecord)
	}
	if name == "" || len(name) > MaxLocationNameLength {
		return fmt.Errorf("%w: location name must be 1 to %d characters", ErrInvalidRecord, MaxLocationNameLength)
	}
	for _, c := range name {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("%w: location name %q may hold only letters, digits, '_' and '-'", ErrInvalidRecord, name)
		}
	}
	return nil
}

func checkRefID(field, id string) error {
	if id == "" || len(id) > MaxReferenceIDLength {
		return fmt.Errorf("%w: %s must be 1 to %d characters", ErrInvalidRecord, field, MaxReferenceIDLength)
	}
	for _, c := range id {
		if c <= ' ' || c > '~' {
			return fmt.Errorf("%w: %s %q holds a character that is not printable ASCII", ErrInvalidRecord, field, id)
		}
	}
	return nil
}
