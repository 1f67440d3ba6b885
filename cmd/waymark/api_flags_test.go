package main

import (
	"context"
	"strings"
	"testing"
)

// TestAPIFlagsRefused: settings that cannot work are refused at start,
// before anything is opened.
func TestAPIFlagsRefused(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--alarm-interval", "500ms"}, "--alarm-interval must be at least 1s"},
		{[]string{"--alarm-interval", "0s"}, "--alarm-interval must be at least 1s"},
		{[]string{"--lifecycle-interval", "0s"}, "--lifecycle-interval must be positive"},
		{[]string{"--export-rate", "0"}, "--export-rate must be positive"},
		{[]string{"--metrics-retention", "5m"}, "--metrics-retention must be at least 1h"},
	} {
		err := runAPI(context.Background(), c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want %q", c.args, err, c.want)
		}
	}
}
