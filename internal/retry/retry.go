// Package retry holds the waiting primitives of the long-running loops
// (relay, leader election, nameserver sync, health checkers): a capped
// exponential backoff and a sleep that ends with its context. It is a
// leaf: both planes use it, so it imports nothing of the module.
package retry

import (
	"context"
	"time"
)

// Backoff is a capped exponential backoff: Next returns Min, then twice
// the previous wait, never more than Max. The zero value waits 0 forever;
// use NewBackoff.
type Backoff struct {
	min, max, cur time.Duration
}

// NewBackoff returns a backoff from min doubling up to max.
func NewBackoff(min, max time.Duration) *Backoff { return &Backoff{min: min, max: max} }

// Next returns the next wait.
func (b *Backoff) Next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(b.cur*2, b.max)
	}
	return b.cur
}

// Reset starts the backoff over at Min: the failures it counted are over.
func (b *Backoff) Reset() { b.cur = 0 }

// Sleep waits for d or until ctx is done, whichever comes first, and
// reports whether ctx is still live. A d of zero or less does not wait.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
