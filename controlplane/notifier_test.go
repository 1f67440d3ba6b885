package controlplane

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/internal/testkit"
)

// TestIntegrationLongPollsShareOneNotifier starts many long polls on
// pending changes and checks that, while they wait, the database sees the
// notifier's one query per backstop tick and nothing per waiter; then that
// one INSYNC notification wakes them all. It logs PostgreSQL commits per
// second per 1,000 waiters (pg_stat_database.xact_commit, the whole test
// database: other tests running at the same time inflate it); set
// WAYMARK_NOTIFIER_WINDOW (e.g. 10s) to measure over a longer window.
func TestIntegrationLongPollsShareOneNotifier(t *testing.T) {
	t.Parallel()
	const waiters = 1000
	e := newPropEnv(t)
	ctx := context.Background()
	e.createZone(t, "ZNF", "nf.test.")
	changes := []ChangeInfo{
		e.upsert(t, "ZNF", "a.nf.test.", "192.0.2.1"),
		e.upsert(t, "ZNF", "b.nf.test.", "192.0.2.2"),
	}
	var wg sync.WaitGroup
	results := make(chan ChangeInfo, waiters)
	for i := range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := e.svc.WaitChange(ctx, e.tenant, changes[i%2].ID, 50*time.Second)
			if err != nil {
				t.Errorf("WaitChange: %v", err)
			}
			results <- c
		}()
	}
	n := e.svc.notifier()
	testkit.Eventually(t, 20*time.Second, func() error {
		if got := n.waiting(); got != waiters {
			return fmt.Errorf("%d waiters registered", got)
		}
		return nil
	})

	window := 3 * time.Second
	if v := os.Getenv("WAYMARK_NOTIFIER_WINDOW"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			window = d
		}
	}
	commits := func() int64 {
		var c int64
		if err := e.svc.pool.QueryRow(ctx,
			`SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	// The waiters' first reads reach pg_stat_database only when their
	// connections flush statistics (up to 10 s when idle): start the
	// window once a backstop tick passes with only a handful of commits.
	// The figure is the whole test database's, so other packages' tests
	// running at the same time (make test) may keep it high: then the
	// window starts anyway and the logged figure says so. Only the
	// notifier's own query count is asserted.
	settled := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		c, q := commits(), n.queries.Load()
		testkit.Eventually(t, 5*time.Second, func() error {
			if n.queries.Load() == q {
				return fmt.Errorf("no tick yet")
			}
			return nil
		})
		if commits()-c <= 10 {
			settled = true
			break
		}
	}
	if !settled {
		t.Logf("the test database never went quiet: the commit figure below includes other tests' commits")
	}
	q0, n0, c0, t0 := n.queries.Load(), n.notified.Load(), commits(), time.Now()
	ticks := int64(window / notifierBackstop)
	last, lastQ := c0, q0
	var perTick []int64
	testkit.Eventually(t, window+20*time.Second, func() error {
		if q := n.queries.Load(); q != lastQ {
			c := commits()
			perTick = append(perTick, c-last)
			last, lastQ = c, q
		}
		if d := n.queries.Load() - q0; d < ticks || time.Since(t0) < window {
			return fmt.Errorf("%d notifier queries", d)
		}
		return nil
	})
	c1, elapsed := commits(), time.Since(t0)
	queries := n.queries.Load() - q0
	byTick := queries - (n.notified.Load() - n0)
	slices.Sort(perTick)
	t.Logf("%d waiters over %s: %d notifier queries; pg_stat_database xact_commit %.1f/s per 1,000 waiters "+
		"(whole test database, late statistics flushes of the waiters' first reads included); per tick: median %d, max %d",
		waiters, elapsed.Round(time.Millisecond), queries, float64(c1-c0)/elapsed.Seconds()*1000/waiters,
		perTick[len(perTick)/2], perTick[len(perTick)-1])
	// One query per backstop tick, whatever the number of waiters (a slow
	// machine may let a tick or two more pass). Queries on notifications
	// are shared by the waiters too; NOTIFY channels are the database's,
	// so other tests' trackers (their own schemas, the same channel) wake
	// this notifier as well, and those are not counted against it.
	if byTick > ticks+3 {
		t.Errorf("%d notifier queries on backstop ticks in %d ticks for %d waiters: not one per tick", byTick, ticks, waiters)
	}

	// One notification wakes every waiter.
	if _, err := e.svc.pool.Exec(ctx,
		`WITH u AS (UPDATE change SET status = 'INSYNC', insync_at = now() WHERE id = ANY($1) RETURNING 1)
		 SELECT pg_notify($2, '') FROM u LIMIT 1`, []string{changes[0].ID, changes[1].ID}, insyncChannel); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(results)
	for c := range results {
		if c.Status != StatusInSync {
			t.Fatalf("a waiter returned %+v, want INSYNC", c)
		}
	}
}

// TestIntegrationLongPollAnswersFromNotifier checks that a long poll that
// times out answers from the notifier's newest reading instead of reading
// the change again: once the notifier has read the change, the test moves
// it to another tenant (so that a read of the poll's own would find no
// such change) and publishes it; the poll must still answer, with the
// stream sequence the notifier read.
func TestIntegrationLongPollAnswersFromNotifier(t *testing.T) {
	t.Parallel()
	e := newPropEnv(t)
	ctx := context.Background()
	e.createZone(t, "ZNR", "nr.test.")
	c := e.upsert(t, "ZNR", "a.nr.test.", "192.0.2.1")
	if c.Status != StatusPending || c.StreamSeq != nil {
		t.Fatalf("change %+v: want PENDING and unpublished", c)
	}
	type result struct {
		c   ChangeInfo
		p   Progress
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, p, err := e.svc.WaitChangeProgress(ctx, e.tenant, c.ID, 4*time.Second)
		done <- result{c, p, err}
	}()
	n := e.svc.notifier()
	testkit.Eventually(t, 10*time.Second, func() error {
		if n.waiting() != 1 {
			return fmt.Errorf("poll not registered")
		}
		return nil
	})
	if _, err := e.svc.pool.Exec(ctx, `INSERT INTO tenant (id, name) VALUES ('TOTHER', 'TOTHER')`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.pool.Exec(ctx,
		`UPDATE change SET tenant_id = 'TOTHER', stream_seq = 4242 WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	q := n.queries.Load()
	testkit.Eventually(t, 10*time.Second, func() error {
		if n.queries.Load() < q+2 { // one reading surely started after the update
			return fmt.Errorf("no notifier reading since the update")
		}
		return nil
	})
	r := <-done
	if r.err != nil {
		t.Fatalf("WaitChangeProgress: %v (the poll read the change itself)", r.err)
	}
	if r.c.Status != StatusPending || r.c.StreamSeq == nil || *r.c.StreamSeq != 4242 {
		t.Fatalf("answer %+v: want PENDING at stream sequence 4242", r.c)
	}
	if r.p.Applied != 0 {
		t.Fatalf("progress %+v: no nameserver applied it", r.p)
	}
	// A new poll reads for itself and sees what the tenant may see.
	if _, _, err := e.svc.WaitChangeProgress(ctx, e.tenant, c.ID, time.Second); err == nil {
		t.Fatal("a new poll found another tenant's change")
	}
}

// TestIntegrationLongPollBurstCoalesced: polls of one change that arrive
// together share their first read, and each poll's read starts after the
// poll arrived: with the bulk budget held (every first read waits), the
// polls that arrive before the first read is taken share it, the others
// share the next, and the burst costs one or two reads, not 50. A poll of another tenant is not joined
// to them and is told the change does not exist.
func TestIntegrationLongPollBurstCoalesced(t *testing.T) {
	t.Parallel()
	const polls = 50
	e := newPropEnv(t)
	ctx := context.Background()
	e.createZone(t, "ZBC", "bc.test.")
	ch := e.upsert(t, "ZBC", "a.bc.test.", "192.0.2.1")
	for range cap(e.svc.bulk) {
		e.svc.bulk <- struct{}{}
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range polls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c, err := e.svc.WaitChange(pctx, e.tenant, ch.ID, time.Minute); pctx.Err() == nil && (err != nil || c.ID != ch.ID) {
				t.Errorf("WaitChange: %+v, %v", c, err)
			}
		}()
	}
	c := &e.svc.firstReads
	k := changeReadKey{e.tenant, ch.ID}
	// The polls that arrive before the first read is taken join it, the
	// rest the next: one or two reads.
	reads := 0
	testkit.Eventually(t, 20*time.Second, func() error {
		c.mu.Lock()
		defer c.mu.Unlock()
		n := 0
		reads = 0
		for _, r := range []*changeRead{c.running[k], c.pending[k]} {
			if r != nil {
				n += r.polls
				reads++
			}
		}
		if n != polls {
			return fmt.Errorf("%d polls arrived", n)
		}
		return nil
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := e.svc.WaitChange(ctx, "T-someone-else", ch.ID, time.Second); err == nil {
			t.Error("another tenant's poll of the change: no error")
		}
	}()
	testkit.Eventually(t, 20*time.Second, func() error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.running[changeReadKey{"T-someone-else", ch.ID}] == nil {
			return fmt.Errorf("the other tenant's poll has not arrived")
		}
		return nil
	})
	for range cap(e.svc.bulk) {
		<-e.svc.bulk
	}
	// Once every poll waits on the notifier, their first reads are done.
	testkit.Eventually(t, 20*time.Second, func() error {
		if n := e.svc.notifier().waiting(); n != polls {
			return fmt.Errorf("%d polls waiting", n)
		}
		return nil
	})
	n := c.reads.Load()
	cancel()
	wg.Wait()
	// And one for the other tenant's.
	if want := int64(reads + 1); n != want {
		t.Errorf("%d first reads for %d polls of one change and one of another tenant, want %d", n, polls, want)
	}
}
