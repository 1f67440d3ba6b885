package clock_test

import (
	"testing"
	"time"

	"github.com/waymark-dns/waymark/internal/clock"
)

// TestAdvance: the clock moves only forward, by bounded steps, and an
// advance wakes whoever waits on Advanced.
func TestAdvance(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := clock.NewTest(start)
	wake := c.Advanced()
	select {
	case <-wake:
		t.Fatal("woken before any advance")
	default:
	}
	now, err := c.Advance(720 * time.Hour)
	if err != nil || !now.Equal(start.Add(720*time.Hour)) || !c.Now().Equal(now) {
		t.Fatalf("Advance = %v, %v; Now = %v", now, err, c.Now())
	}
	select {
	case <-wake:
	default:
		t.Fatal("an advance did not wake the waiter")
	}
	for _, d := range []time.Duration{0, -time.Second, clock.MaxAdvance + 1} {
		if _, err := c.Advance(d); err == nil {
			t.Errorf("Advance(%v) accepted", d)
		}
	}
	if !c.Now().Equal(now) {
		t.Errorf("a refused advance moved the clock to %v", c.Now())
	}
	var _ clock.Clock = clock.System{}
	if d := time.Since(clock.System{}.Now()); d < 0 || d > time.Minute {
		t.Errorf("System is %v off", d)
	}
}
