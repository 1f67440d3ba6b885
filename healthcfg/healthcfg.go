// Package healthcfg holds a health check's configuration: the one type
// that the API decodes, the control plane validates and stores, and the
// checkers and the aggregator receive over NATS, with the one function
// that fills its defaults and validates it (Config.Normalize).
//
// It is a leaf package: it imports only the standard library, so that the
// API, the control plane, the event contract and the checkers can share
// it without depending on each other.
package healthcfg

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Type is a health check's type, Route 53's names.
type Type string

// The health check types.
const (
	HTTP          Type = "HTTP"
	HTTPS         Type = "HTTPS"
	HTTPStrMatch  Type = "HTTP_STR_MATCH"
	HTTPSStrMatch Type = "HTTPS_STR_MATCH"
	TCP           Type = "TCP"
	Calculated    Type = "CALCULATED"
)

// typesText lists the accepted types for error messages.
const typesText = "HTTP, HTTPS, HTTP_STR_MATCH, HTTPS_STR_MATCH, TCP or CALCULATED"

// Valid reports whether t is a known type.
func (t Type) Valid() bool {
	switch t {
	case HTTP, HTTPS, HTTPStrMatch, HTTPSStrMatch, TCP, Calculated:
		return true
	}
	return false
}

// TLS reports whether the type probes over HTTPS.
func (t Type) TLS() bool { return t == HTTPS || t == HTTPSStrMatch }

// StrMatch reports whether the type looks for a search string in the body.
func (t Type) StrMatch() bool { return t == HTTPStrMatch || t == HTTPSStrMatch }

// Limits and defaults of a configuration, Route 53's unless noted.
const (
	DefaultRequestInterval  = 30
	DefaultFailureThreshold = 3
	MaxFieldLength          = 255 // fqdn, resource_path, search_string
	MaxChildHealthChecks    = 256
	MaxHealthThreshold      = 256
	MinCustomRegions        = 3
	MaxRegions              = 64
	// StandardMinRequestInterval and StandardRequestInterval are the two
	// intervals Route 53 accepts.
	StandardMinRequestInterval = 10
	StandardRequestInterval    = 30
)

// Config is a check's configuration, in Route 53's terms. Fields that do
// not apply to the type are empty. The JSON is the NATS wire form (the
// health check KV bucket) and the stored form; the /v1 API reads requests
// in it too.
type Config struct {
	Type Type `json:"type"`
	// IPAddress, when set, is where probes go; FQDN then only fills the
	// Host header and SNI. Without it FQDN is resolved (IPv4) each time.
	IPAddress    string `json:"ip_address,omitempty"`
	FQDN         string `json:"fqdn,omitempty"`
	Port         int    `json:"port,omitempty"`
	ResourcePath string `json:"resource_path,omitempty"`
	SearchString string `json:"search_string,omitempty"`
	// RequestInterval is the interval between one checker's probes, in
	// seconds: 10 or 30, or shorter where the operator allows it.
	RequestInterval  int  `json:"request_interval"`
	FailureThreshold int  `json:"failure_threshold"`
	Inverted         bool `json:"inverted,omitempty"`
	Disabled         bool `json:"disabled,omitempty"`
	EnableSNI        bool `json:"enable_sni,omitempty"`
	// Regions that probe the check; empty means every region.
	Regions           []string `json:"regions,omitempty"`
	ChildHealthChecks []string `json:"child_health_checks,omitempty"`
	HealthThreshold   int      `json:"health_threshold,omitempty"`
}

// Equal reports whether c and o configure the same check. A nil and an
// empty list are the same (neither is stored).
func (c Config) Equal(o Config) bool {
	return c.Type == o.Type && c.IPAddress == o.IPAddress && c.FQDN == o.FQDN && c.Port == o.Port &&
		c.ResourcePath == o.ResourcePath && c.SearchString == o.SearchString &&
		c.RequestInterval == o.RequestInterval && c.FailureThreshold == o.FailureThreshold &&
		c.Inverted == o.Inverted && c.Disabled == o.Disabled && c.EnableSNI == o.EnableSNI &&
		c.HealthThreshold == o.HealthThreshold &&
		slices.Equal(c.Regions, o.Regions) && slices.Equal(c.ChildHealthChecks, o.ChildHealthChecks)
}

// Interval returns RequestInterval as a duration.
func (c Config) Interval() time.Duration { return time.Duration(c.RequestInterval) * time.Second }

// ProbedIn reports whether checkers of region probe c: it is probed (not
// calculated, not disabled) and region is in its list, or the list is
// empty.
func (c Config) ProbedIn(region string) bool {
	if c.Type == Calculated || c.Disabled {
		return false
	}
	return len(c.Regions) == 0 || slices.Contains(c.Regions, region)
}

// Options are the operator's settings that validation depends on.
type Options struct {
	// AllowPrivateTargets lets checks probe private, loopback, link-local
	// and other non-public addresses (waymark dev, tests). Route 53 refuses
	// them, and so does Waymark by default: otherwise a tenant could make
	// the checkers probe the operator's own network.
	AllowPrivateTargets bool
	// MinRequestInterval, in seconds, allows request intervals shorter
	// than Route 53's 10 s (down to this value) for development and
	// tests. Zero (or more than 10) means 10: only 10 and 30 are accepted.
	MinRequestInterval int
}

func (o Options) minInterval() int {
	if o.MinRequestInterval <= 0 || o.MinRequestInterval > StandardMinRequestInterval {
		return StandardMinRequestInterval
	}
	return o.MinRequestInterval
}

// Error is a configuration that Normalize refuses. Field, when set, is the
// JSON name of the field at fault; Message says what is wrong.
type Error struct {
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Message }

func invalid(field, format string, args ...any) *Error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Normalize fills defaults and validates c on its own (that children
// exist is the store's to check). It returns the config to store, or an
// *Error.
func (c Config) Normalize(opts Options) (Config, error) {
	c.Type = Type(strings.ToUpper(strings.TrimSpace(string(c.Type))))
	t := c.Type
	if !t.Valid() {
		return c, invalid("type", "type must be one of %s", typesText)
	}
	if err := checkRegions(c.Regions); err != nil {
		return c, err
	}
	if c.Regions != nil && len(c.Regions) == 0 {
		c.Regions = nil
	}
	if t == Calculated {
		switch {
		case c.IPAddress != "" || c.FQDN != "" || c.Port != 0:
			return c, invalid("type", "a CALCULATED check has no ip_address, fqdn or port")
		case c.ResourcePath != "" || c.SearchString != "" || c.EnableSNI:
			return c, invalid("type", "a CALCULATED check has no resource_path, search_string or enable_sni")
		case c.RequestInterval != 0 || c.FailureThreshold != 0:
			return c, invalid("type", "a CALCULATED check has no request_interval or failure_threshold")
		case c.Regions != nil:
			return c, invalid("regions", "a CALCULATED check has no regions")
		case len(c.ChildHealthChecks) > MaxChildHealthChecks:
			return c, invalid("child_health_checks", "at most %d child health checks", MaxChildHealthChecks)
		case c.HealthThreshold < 0 || c.HealthThreshold > MaxHealthThreshold:
			return c, invalid("health_threshold", "health_threshold must be 0 to %d", MaxHealthThreshold)
		}
		seen := map[string]bool{}
		for _, id := range c.ChildHealthChecks {
			if seen[id] {
				return c, invalid("child_health_checks", "child health check %s is listed twice", id)
			}
			seen[id] = true
		}
		if c.ChildHealthChecks == nil {
			c.ChildHealthChecks = []string{}
		}
		return c, nil
	}

	if len(c.ChildHealthChecks) > 0 || c.HealthThreshold != 0 {
		return c, invalid("child_health_checks", "only a CALCULATED check has child_health_checks and health_threshold")
	}
	if c.RequestInterval == 0 {
		c.RequestInterval = DefaultRequestInterval
	}
	if min := opts.minInterval(); !intervalAllowed(c.RequestInterval, min) {
		if min < StandardMinRequestInterval {
			return c, invalid("request_interval", "request_interval must be 10 or 30, or %d to 10 on this service", min)
		}
		return c, invalid("request_interval", "request_interval must be 10 or 30")
	}
	if c.FailureThreshold == 0 {
		c.FailureThreshold = DefaultFailureThreshold
	}
	if c.FailureThreshold < 1 || c.FailureThreshold > 10 {
		return c, invalid("failure_threshold", "failure_threshold must be 1 to 10")
	}
	if c.IPAddress == "" && c.FQDN == "" {
		return c, invalid("ip_address", "ip_address or fqdn is required")
	}
	if c.IPAddress != "" {
		ip, err := checkTargetIP(c.IPAddress, opts.AllowPrivateTargets)
		if err != nil {
			return c, err
		}
		c.IPAddress = ip
	}
	if c.FQDN != "" {
		f, err := checkFQDN(c.FQDN, opts.AllowPrivateTargets)
		if err != nil {
			return c, err
		}
		c.FQDN = f
	}
	if c.Port == 0 {
		switch {
		case t == TCP:
			return c, invalid("port", "port is required for a TCP check")
		case t.TLS():
			c.Port = 443
		default:
			c.Port = 80
		}
	}
	if c.Port < 1 || c.Port > 65535 {
		return c, invalid("port", "port must be 1 to 65535")
	}
	if t == TCP {
		if c.ResourcePath != "" || c.SearchString != "" || c.EnableSNI {
			return c, invalid("type", "a TCP check has no resource_path, search_string or enable_sni")
		}
		return c, nil
	}
	if c.ResourcePath != "" && !strings.HasPrefix(c.ResourcePath, "/") {
		c.ResourcePath = "/" + c.ResourcePath
	}
	if err := checkText("resource_path", c.ResourcePath, 0, MaxFieldLength); err != nil {
		return c, err
	}
	for _, r := range c.ResourcePath {
		if r <= ' ' || r == 0x7f {
			return c, invalid("resource_path", "resource_path may not contain spaces or control characters")
		}
	}
	if t.StrMatch() {
		if c.SearchString == "" {
			return c, invalid("search_string", "search_string is required for %s", c.Type)
		}
		if err := checkText("search_string", c.SearchString, 1, MaxFieldLength); err != nil {
			return c, err
		}
	} else if c.SearchString != "" {
		return c, invalid("search_string", "search_string applies only to HTTP_STR_MATCH and HTTPS_STR_MATCH")
	}
	if c.EnableSNI && !t.TLS() {
		return c, invalid("enable_sni", "enable_sni applies only to HTTPS checks")
	}
	return c, nil
}

// intervalAllowed: Route 53's 10 and 30, or anything from the operator's
// minimum up to 10.
func intervalAllowed(v, min int) bool {
	return v == StandardMinRequestInterval || v == StandardRequestInterval ||
		(v >= min && v < StandardMinRequestInterval)
}

// checkText checks a free-text field: valid UTF-8 without NUL, min to max
// characters. Its errors name the field in the message only, as the
// control plane's other text checks do.
func checkText(field, v string, min, max int) error {
	if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
		return invalid("", "%s must be valid UTF-8 without NUL characters", field)
	}
	n := utf8.RuneCountInString(v)
	if n < min || n > max {
		if min > 0 {
			return invalid("", "%s must be %d to %d characters long", field, min, max)
		}
		return invalid("", "%s must be at most %d characters long", field, max)
	}
	return nil
}

func checkRegions(regions []string) error {
	if len(regions) == 0 {
		return nil
	}
	if len(regions) < MinCustomRegions || len(regions) > MaxRegions {
		return invalid("regions", "a custom region list has %d to %d regions", MinCustomRegions, MaxRegions)
	}
	seen := map[string]bool{}
	for _, r := range regions {
		if !validRegion(r) {
			return invalid("regions", "region %q is not a region name", r)
		}
		if seen[r] {
			return invalid("regions", "region %s is listed twice", r)
		}
		seen[r] = true
	}
	return nil
}

func validRegion(r string) bool {
	if r == "" || len(r) > 64 {
		return false
	}
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// checkTargetIP parses an IP address and refuses non-public ones unless
// the operator allows them.
func checkTargetIP(s string, allowPrivate bool) (string, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || a.Zone() != "" {
		return "", invalid("ip_address", "ip_address %q is not an IPv4 or IPv6 address", s)
	}
	a = a.Unmap()
	if !allowPrivate && !PublicTarget(a) {
		return "", invalid("ip_address", "ip_address %s is in a private, local, reserved or multicast range", a)
	}
	return a.String(), nil
}

func checkFQDN(s string, allowPrivate bool) (string, error) {
	f := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	if f == "" || len(f) > MaxFieldLength {
		return "", invalid("fqdn", "fqdn must be 1 to %d characters long", MaxFieldLength)
	}
	for _, label := range strings.Split(f, ".") {
		if label == "" || len(label) > 63 {
			return "", invalid("fqdn", "fqdn %q is not a host name", s)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", invalid("fqdn", "fqdn %q is not a host name", s)
			}
		}
	}
	if !allowPrivate && (f == "localhost" || strings.HasSuffix(f, ".localhost")) {
		return "", invalid("fqdn", "fqdn %s is a local name", f)
	}
	return f, nil
}

// PublicTarget reports whether a is a publicly routable unicast
// address: not private (RFC 1918, RFC 4193), loopback, link-local,
// site-local (fec0::/10), multicast, unspecified, shared (RFC 6598),
// benchmarking (RFC 2544), "this network" or reserved (RFC 5735 and
// friends); and not an IPv6 form of a refused IPv4 address: IPv4-mapped,
// NAT64 (64:ff9b::/96, RFC 6052) and 6to4 (2002::/16, RFC 3056) addresses
// are judged by the IPv4 address they carry, while the IPv4-compatible
// (::/96), IPv4-translated (::ffff:0:0:0/96), local-use NAT64
// (64:ff9b:1::/48), Teredo and discard ranges are refused whole. Route 53
// refuses other targets, and Waymark does too unless the operator allows
// them: the control plane applies it to IP addresses at creation, the
// checkers to the addresses they probe.
func PublicTarget(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range refusedPrefixes {
		if p.Contains(a) {
			return false
		}
	}
	if a.Is6() {
		b := a.As16()
		switch {
		case nat64.Contains(a):
			return PublicTarget(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		case sixToFour.Contains(a):
			return PublicTarget(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	return true
}

// Prefixes PublicTarget refuses whole, beyond netip's predicates.
var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"), netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated, RFC 4291 §2.5.5.1)
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated (RFC 2765)
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64 (RFC 8215)
	netip.MustParsePrefix("100::/64"),        // discard-only (RFC 6666)
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments, Teredo among them
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated, RFC 3879)
}

// IPv6 ranges whose addresses carry an IPv4 address.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)
