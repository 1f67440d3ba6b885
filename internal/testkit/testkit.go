// Package testkit holds the helpers every package's tests share. Tests
// never sleep for a fixed time and assert: they poll a condition until it
// holds or a deadline passes, with Eventually.
package testkit

import (
	"testing"
	"time"
)

// PollInterval is how often Eventually re-checks its condition.
const PollInterval = 10 * time.Millisecond

// Eventually calls cond every PollInterval until it returns nil. If d
// passes first, the test fails with cond's last error.
func Eventually(t testing.TB, d time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not reached within %s: %v", d, err)
		}
		time.Sleep(PollInterval)
	}
}
