package healthcfg

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestPublicTarget(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "192.0.2.1": true, "2600::1": true,
		"10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "127.0.0.1": false, "169.254.1.1": false,
		"100.64.0.1": false, "0.1.2.3": false, "224.0.0.1": false, "255.255.255.255": false, "198.18.0.1": false,
		"::1": false, "fe80::1": false, "fc00::1": false, "ff02::1": false, "::": false, "::ffff:10.0.0.1": false,
		// IPv6 forms of refused IPv4 addresses, and ranges refused whole.
		"64:ff9b::7f00:1": false, "64:ff9b::a9fe:a9fe": false, "64:ff9b::a00:1": false, "64:ff9b::808:808": true,
		"64:ff9b:1::808:808": false, "2002:7f00:1::1": false, "2002:a9fe:a9fe::1": false, "2002:808:808::1": true,
		"::127.0.0.1": false, "::8.8.8.8": false, "::ffff:0:7f00:1": false, "::ffff:127.0.0.1": false,
		"fec0::1": false, "feff::1": false, "2001:0:4136:e378::1": false, "100::1": false,
	} {
		if got := PublicTarget(netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: got %v, want %v", addr, got, want)
		}
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	strict, lax := Options{}, Options{AllowPrivateTargets: true, MinRequestInterval: 1}
	cases := []struct {
		name  string
		opts  Options
		in    Config
		want  Config // when field is ""
		field string // the Error's Field; "-" for an error without one
	}{
		{"HTTP defaults", strict, Config{Type: "http", IPAddress: "192.0.2.1"},
			Config{Type: HTTP, IPAddress: "192.0.2.1", Port: 80, RequestInterval: 30, FailureThreshold: 3}, ""},
		{"HTTPS port and path", strict, Config{Type: HTTPS, FQDN: "WWW.Example.COM.", ResourcePath: "health"},
			Config{Type: HTTPS, FQDN: "www.example.com", Port: 443, ResourcePath: "/health", RequestInterval: 30, FailureThreshold: 3}, ""},
		{"mapped IPv4", strict, Config{Type: TCP, IPAddress: "::ffff:192.0.2.1", Port: 22},
			Config{Type: TCP, IPAddress: "192.0.2.1", Port: 22, RequestInterval: 30, FailureThreshold: 3}, ""},
		{"calculated", strict, Config{Type: Calculated, HealthThreshold: 1},
			Config{Type: Calculated, HealthThreshold: 1, ChildHealthChecks: []string{}}, ""},
		{"unknown type", strict, Config{Type: "UDP", IPAddress: "192.0.2.1"}, Config{}, "type"},
		{"private target", strict, Config{Type: HTTP, IPAddress: "10.0.0.1"}, Config{}, "ip_address"},
		{"private target allowed", lax, Config{Type: HTTP, IPAddress: "10.0.0.1", RequestInterval: 1},
			Config{Type: HTTP, IPAddress: "10.0.0.1", Port: 80, RequestInterval: 1, FailureThreshold: 3}, ""},
		{"short interval", strict, Config{Type: HTTP, IPAddress: "192.0.2.1", RequestInterval: 5}, Config{}, "request_interval"},
		{"localhost", strict, Config{Type: HTTP, FQDN: "localhost"}, Config{}, "fqdn"},
		{"TCP without port", strict, Config{Type: TCP, IPAddress: "192.0.2.1"}, Config{}, "port"},
		{"search string missing", strict, Config{Type: HTTPStrMatch, IPAddress: "192.0.2.1"}, Config{}, "search_string"},
		{"resource path too long", strict, Config{Type: HTTP, IPAddress: "192.0.2.1", ResourcePath: "/" + string(make([]byte, 300))}, Config{}, "-"},
		{"SNI on HTTP", strict, Config{Type: HTTP, IPAddress: "192.0.2.1", EnableSNI: true}, Config{}, "enable_sni"},
		{"two regions", strict, Config{Type: HTTP, IPAddress: "192.0.2.1", Regions: []string{"a", "b"}}, Config{}, "regions"},
		{"calculated with port", strict, Config{Type: Calculated, Port: 80}, Config{}, "type"},
		{"child listed twice", strict, Config{Type: Calculated, ChildHealthChecks: []string{"a", "a"}}, Config{}, "child_health_checks"},
	}
	for _, tc := range cases {
		got, err := tc.in.Normalize(tc.opts)
		if tc.field == "" {
			if err != nil || !got.Equal(tc.want) {
				t.Errorf("%s: got %+v, %v; want %+v", tc.name, got, err, tc.want)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: got %v, want an *Error", tc.name, err)
			continue
		}
		if want := strings.TrimPrefix(tc.field, "-"); e.Field != want || e.Message == "" {
			t.Errorf("%s: error field %q (%s), want %q", tc.name, e.Field, e.Message, want)
		}
	}
}

func TestConfigEqual(t *testing.T) {
	t.Parallel()
	a := Config{Type: HTTP, IPAddress: "192.0.2.1", Port: 80, Regions: []string{"a", "b", "c"}}
	if b := a; !a.Equal(b) {
		t.Error("a copy differs")
	}
	if b := (Config{Type: Calculated, ChildHealthChecks: []string{}}); !b.Equal(Config{Type: Calculated}) {
		t.Error("an empty and a nil child list differ")
	}
	for name, mod := range map[string]func(*Config){
		"type":      func(c *Config) { c.Type = HTTPS },
		"port":      func(c *Config) { c.Port = 81 },
		"regions":   func(c *Config) { c.Regions = []string{"a", "c", "b"} },
		"inverted":  func(c *Config) { c.Inverted = true },
		"children":  func(c *Config) { c.ChildHealthChecks = []string{"x"} },
		"threshold": func(c *Config) { c.HealthThreshold = 1 },
	} {
		b := a
		b.Regions = slices.Clone(a.Regions)
		mod(&b)
		if a.Equal(b) || b.Equal(a) {
			t.Errorf("%s: configs equal", name)
		}
	}
}

// TestCheckTargetIPRefusesEmbeddedForms: creation refuses the IPv6 forms
// of loopback and metadata addresses outside development.
func TestCheckTargetIPRefusesEmbeddedForms(t *testing.T) {
	t.Parallel()
	for _, a := range []string{"64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "::127.0.0.1", "fec0::1", "::ffff:169.254.169.254"} {
		if _, err := checkTargetIP(a, false); err == nil {
			t.Errorf("%s accepted", a)
		}
		if _, err := checkTargetIP(a, true); err != nil {
			t.Errorf("%s refused in development: %v", a, err)
		}
	}
}
