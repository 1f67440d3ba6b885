package dataplane

import (
	"sync/atomic"
	"time"
)

// coarseClock gives the time in whole seconds without a clock read per
// query: on some virtual machines time.Now costs 200 ns, as much as a
// whole answer. A goroutine started by the server (run) updates it ten
// times a second; with an injected clock (tests) each read asks it.
type coarseClock struct {
	now func() time.Time // injected; nil: the ticking value
	sec atomic.Int64
}

func newCoarseClock(now func() time.Time) *coarseClock {
	c := &coarseClock{now: now}
	c.sec.Store(time.Now().Unix())
	return c
}

// unix returns the current Unix time in seconds.
func (c *coarseClock) unix() int64 {
	if c.now != nil {
		return c.now().Unix()
	}
	return c.sec.Load()
}

// run updates the clock until stop is closed.
func (c *coarseClock) run(stop <-chan struct{}) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			c.sec.Store(now.Unix())
		}
	}
}
