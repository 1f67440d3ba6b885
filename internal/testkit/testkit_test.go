package testkit

import (
	"errors"
	"testing"
	"time"
)

func TestEventually(t *testing.T) {
	t.Parallel()
	calls := 0
	Eventually(t, 10*time.Second, func() error {
		if calls++; calls < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if calls != 3 {
		t.Errorf("cond called %d times, want 3", calls)
	}
}

// recorder is a testing.TB that records a Fatalf instead of ending the
// test, so that Eventually's failure can be checked.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = format
	panic(r)
}

func TestEventuallyFails(t *testing.T) {
	t.Parallel()
	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != nil && p != r {
				panic(p)
			}
		}()
		Eventually(r, 30*time.Millisecond, func() error { return errors.New("never") })
	}()
	if r.failed == "" {
		t.Error("Eventually did not fail when its condition never held")
	}
}
