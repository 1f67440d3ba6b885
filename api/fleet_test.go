package api

import (
	"testing"
	"time"
)

func TestParseWaitTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", DefaultChangeWait, true},
		{"30s", 30 * time.Second, true},
		{"1m", time.Minute, true},
		{"250ms", 250 * time.Millisecond, true},
		{"0", 0, true},
		{"12", 12 * time.Second, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"61s", 0, false},
		{"2h", 0, false},
		{"-1s", 0, false},
		{"-1", 0, false},
		{"1e300", 0, false},
		{"NaN", 0, false},
		{"soon", 0, false},
	} {
		got, err := parseWaitTimeout(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseWaitTimeout(%q): got %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
