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
