package main

import (
	"strings"
	"testing"
)

// TestLogsNameOneComponent reads what `waymark dev` has logged so far
// (its leaders have started by now) and wants one component attribute per
// line: a second one, from a logger tagged twice, is ambiguous to every
// log pipeline that keys on it.
func TestLogsNameOneComponent(t *testing.T) {
	lines := strings.Split(dev.Output(), "\n")
	tagged := 0
	for _, line := range lines {
		switch n := strings.Count(line, " component="); {
		case n > 1:
			t.Errorf("component named %d times: %s", n, line)
		case n == 1:
			tagged++
		}
	}
	if tagged == 0 {
		t.Fatalf("no line of the %d logged names its component", len(lines))
	}
}
