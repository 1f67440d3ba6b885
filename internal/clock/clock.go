// Package clock is the registry's and registrar's notion of time: the
// domain lifecycle (registrar/lifecycle.go) asks a Clock what is due, so
// that tests and `waymark dev` can move time forward (Test) while
// production uses the system clock (System). It is a leaf: it imports
// nothing of the module.
package clock

import (
	"errors"
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// System is the system clock.
type System struct{}

// Now returns time.Now.
func (System) Now() time.Time { return time.Now() }

// Test is a clock that stands still until it is advanced. Waiters learn
// of every advance through Advanced, so a loop that sleeps until the next
// deadline wakes as soon as the clock jumps past it. It is safe for
// concurrent use.
type Test struct {
	mu      sync.Mutex
	now     time.Time
	advance chan struct{} // closed and replaced on every Advance
}

// NewTest returns a test clock at start.
func NewTest(start time.Time) *Test {
	return &Test{now: start, advance: make(chan struct{})}
}

// Now returns the clock's time.
func (c *Test) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// MaxAdvance bounds one Advance: ten years and a day, the longest
// registration plus a margin, so that a typo cannot overflow time.
const MaxAdvance = (10*366 + 1) * 24 * time.Hour

// ErrBackwards is returned for a negative or too large advance: the
// lifecycle assumes time never runs backwards.
var ErrBackwards = errors.New("clock: an advance must be positive and at most ten years")

// Advance moves the clock forward by d and wakes every waiter.
func (c *Test) Advance(d time.Duration) (time.Time, error) {
	if d <= 0 || d > MaxAdvance {
		return time.Time{}, ErrBackwards
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	close(c.advance)
	c.advance = make(chan struct{})
	return c.now, nil
}

// Advanced returns a channel that is closed at the next Advance.
func (c *Test) Advanced() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.advance
}
