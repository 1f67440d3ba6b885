package controlplane

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// DefaultExportRate is Config.ExportRate's default: record sets per second
// per tenant, about two exports a second of a 20,000-set zone. At full
// speed two exports of one tenant (its concurrency budget) read 470,000 a
// second and took 1.2 of 2 cores (API and PostgreSQL) from everyone else
// (bench/cpabuse); at this rate they take about a tenth of one. A zone of
// up to this many sets exports at full speed (the bucket's burst).
const DefaultExportRate = 40000

// tenantRates is one token bucket per tenant (nil: no limit). Buckets that
// are full again (within a page) are dropped when the map grows past tenantRatesPrune, so
// its size follows the tenants exporting now.
type tenantRates struct {
	limit float64
	mu    sync.Mutex
	m     map[string]*rate.Limiter
}

const tenantRatesPrune = 1024

func newTenantRates(perSecond int) *tenantRates {
	if perSecond < 0 {
		return nil
	}
	return &tenantRates{limit: float64(perSecond), m: map[string]*rate.Limiter{}}
}

// wait takes n tokens of the tenant's bucket, waiting for them while ctx
// lasts.
func (t *tenantRates) wait(ctx context.Context, tenantID string, n int) error {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	l := t.m[tenantID]
	if l == nil {
		if len(t.m) >= tenantRatesPrune {
			now := time.Now()
			for id, x := range t.m {
				// Full but for at most a page: dropping it
				// forgives that page.
				if x.TokensAt(now) >= float64(x.Burst()-exportPageSets) {
					delete(t.m, id)
				}
			}
		}
		l = rate.NewLimiter(rate.Limit(t.limit), max(int(t.limit), exportPageSets))
		t.m[tenantID] = l
	}
	t.mu.Unlock()
	return l.WaitN(ctx, n)
}

// bulkConns is how many of a pool of max connections bulk work may hold at
// once: half, at least one. With pgxpool's default of 4 on 2 cores, two
// connections stay free for every other request however many exports and
// long polls arrive (issue 16: 4,000 long polls re-issued together queued
// 4,000 reads on the pool, and the other tenants' GETs waited 50 ms on
// average for a connection behind them).
func bulkConns(poolMax int32) int {
	return max(1, int(poolMax)/2)
}

// acquireBulk takes one of the bulk slots (Service.bulk) for one query, or
// fails with ctx's error.
func (s *Service) acquireBulk(ctx context.Context) (release func(), err error) {
	select {
	case s.bulk <- struct{}{}:
		return func() { <-s.bulk }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// firstReadTimeout bounds one coalesced first read, which serves waiters
// other than the one whose request started it.
const firstReadTimeout = 10 * time.Second

// changeReads coalesces the reads of one change by one tenant that long
// polls make when they start: a poll joins the next read to start, never
// one already running, so every poll sees the change as it was after the
// poll arrived, and a thousand polls arriving together on one change cost
// two reads, not a thousand.
type changeReads struct {
	mu      sync.Mutex
	pending map[changeReadKey]*changeRead // not started yet: joinable
	running map[changeReadKey]*changeRead
	// reads counts the reads made (tests).
	reads atomic.Int64
}

type changeReadKey struct{ tenantID, id string }

// changeRead is one read and its result, ready once done is closed.
type changeRead struct {
	done chan struct{}
	// polls is how many polls wait on it (under changeReads.mu; tests).
	polls    int
	info     ChangeInfo
	progress Progress
	err      error
}

// readChangeOnce is ChangeProgress for the start of a long poll: the read
// is shared with every poll of the same change that arrives before it
// starts, and runs under the bulk budget.
func (s *Service) readChangeOnce(ctx context.Context, tenantID, id string) (ChangeInfo, Progress, error) {
	k := changeReadKey{tenantID, id}
	c := &s.firstReads
	c.mu.Lock()
	if c.pending == nil {
		c.pending, c.running = map[changeReadKey]*changeRead{}, map[changeReadKey]*changeRead{}
	}
	r := c.pending[k]
	if r == nil {
		// This poll leads the next read: it starts once the running one
		// (if any) is done, and joiners attach until then.
		r = &changeRead{done: make(chan struct{}), polls: 1}
		c.pending[k] = r
		prev := c.running[k]
		c.mu.Unlock()
		// The read serves the joiners too: it does not end with this
		// request, only with its own timeout.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), firstReadTimeout)
		go func() {
			defer cancel()
			if prev != nil {
				<-prev.done
			}
			c.mu.Lock()
			delete(c.pending, k)
			c.running[k] = r
			c.mu.Unlock()
			if release, err := s.acquireBulk(rctx); err != nil {
				r.err = err
			} else {
				c.reads.Add(1)
				r.info, r.progress, r.err = s.ChangeProgress(rctx, tenantID, id)
				release()
			}
			c.mu.Lock()
			if c.running[k] == r {
				delete(c.running, k)
			}
			c.mu.Unlock()
			close(r.done)
		}()
	} else {
		r.polls++
		c.mu.Unlock()
	}
	select {
	case <-r.done:
		return r.info, r.progress, r.err
	case <-ctx.Done():
		return ChangeInfo{}, Progress{}, ctx.Err()
	}
}
