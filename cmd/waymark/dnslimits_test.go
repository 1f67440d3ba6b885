package main

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/dataplane"
)

// TestDNSLimitFlags: defaults, flags over environment, and refusals.
func TestDNSLimitFlags(t *testing.T) {
	parse := func(env map[string]string, args ...string) (dnsLimits, error) {
		for k, v := range env {
			t.Setenv(k, v)
		}
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		get := dnsLimitFlags(fs)
		if err := fs.Parse(args); err != nil {
			return dnsLimits{}, err
		}
		return get()
	}
	l, err := parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.Signing.Budget != dataplane.DefaultSigningBudget || l.Signing.ZoneBudget != dataplane.DefaultZoneSigningBudget || l.Signing.CacheSize != dataplane.DefaultSignatureCacheSize {
		t.Errorf("signing defaults: %+v", l.Signing)
	}
	if l.RRL.Rate != dataplane.DefaultRRLRate || l.RRL.Off || l.Cookies.Off || l.TCP.MaxConns != 0 || l.TCP.MaxConnsPerIP != dataplane.DefaultTCPMaxConnsPerIP || l.TCP.IdleTimeout != 10*time.Second {
		t.Errorf("defaults: %+v", l)
	}
	l, err = parse(map[string]string{"WAYMARK_RRL_RATE": "7", "WAYMARK_TCP_IDLE_TIMEOUT": "3s", "WAYMARK_COOKIE_SECRET": "000102030405060708090a0b0c0d0e0f"},
		"--rrl-rate", "9", "--rrl-slip", "0", "--tcp-max-conns", "50")
	if err != nil {
		t.Fatal(err)
	}
	if l.RRL.Rate != 9 || l.RRL.Slip != -1 || l.TCP.IdleTimeout != 3*time.Second || l.TCP.MaxConns != 50 || len(l.Cookies.Secret) != 16 {
		t.Errorf("flags and environment: %+v", l)
	}
	l, err = parse(map[string]string{"WAYMARK_SIGNING_BUDGET": "500", "WAYMARK_ZONE_SIGNING_BUDGET": "-1"}, "--signing-budget", "700", "--signature-cache-size", "1000")
	if err != nil {
		t.Fatal(err)
	}
	if l.Signing.Budget != 700 || l.Signing.ZoneBudget != -1 || l.Signing.CacheSize != 1000 {
		t.Errorf("signing flags and environment: %+v", l.Signing)
	}
	t.Setenv("WAYMARK_SIGNING_BUDGET", "")
	t.Setenv("WAYMARK_ZONE_SIGNING_BUDGET", "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--cookie-secret", "abcd"}, "32 hex"},
		{[]string{"--cookie-secret-prev", "000102030405060708090a0b0c0d0e0f"}, "needs --cookie-secret"},
		{[]string{"--rrl-rate", "-1"}, "positive"},
		{[]string{"--tcp-max-conns-per-ip", "0"}, "positive"},
		{[]string{"--tcp-max-conns", "-5"}, "positive"},
		{[]string{"--rrl-ipv4-prefix", "33"}, "1..32"},
		{[]string{"--signing-budget", "0"}, "-1 for unlimited"},
		{[]string{"--zone-signing-budget", "-2"}, "-1 for unlimited"},
		{[]string{"--signature-cache-size", "0"}, "--signature-cache-size must be positive"},
	} {
		t.Setenv("WAYMARK_COOKIE_SECRET", "")
		if _, err := parse(nil, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want %q", c.args, err, c.want)
		}
	}
	t.Setenv("WAYMARK_RRL_WINDOW", "soon")
	if _, err := parse(nil); err == nil || !strings.Contains(err.Error(), "WAYMARK_RRL_WINDOW") {
		t.Errorf("bad environment value: %v", err)
	}
}
