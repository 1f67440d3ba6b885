package main

import (
	"strings"
	"testing"
)

func TestParseMemoryLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"512MiB", 512 << 20, true},
		{"2GiB", 2 << 30, true},
		{"1TiB", 1 << 40, true},
		{"64KiB", 64 << 10, true},
		{"1000B", 1000, true},
		{"123456789", 123456789, true},
		{" 300MiB ", 300 << 20, true},
		{"", 0, false},
		{"0", 0, false},
		{"-1MiB", 0, false},
		{"1.5GiB", 0, false},
		{"512MB", 0, false},
		{"MiB", 0, false},
		{"9999999999TiB", 0, false},
		{"512mib", 0, false},
	} {
		got, err := parseMemoryLimit(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseMemoryLimit(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzParseMemoryLimit: never a panic, never a non-positive limit, and
// every accepted input is a number with one of the units.
func FuzzParseMemoryLimit(f *testing.F) {
	for _, s := range []string{"512MiB", "1", "0B", "9223372036854775807", "8TiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseMemoryLimit(s)
		if err != nil {
			return
		}
		if n <= 0 {
			t.Fatalf("%q: limit %d", s, n)
		}
		if strings.ContainsAny(strings.TrimSpace(s), ".eE_x") {
			t.Fatalf("%q accepted", s)
		}
	})
}
