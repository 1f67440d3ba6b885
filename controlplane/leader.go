package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/waymark-dns/waymark/internal/retry"
)

// This file is the control plane's one leader election: a PostgreSQL
// session advisory lock (the keys are in locks.go) held on a connection of
// its own. Whoever holds the lock leads; when the leader's process dies or
// its connection drops, the server releases the lock and a waiting
// campaigner takes over. The relay and the health check aggregator both
// lead through it.

const (
	// leaderMinBackoff and leaderMaxBackoff bound the wait before
	// campaigning again after a leadership ended or a campaign failed.
	leaderMinBackoff = 100 * time.Millisecond
	leaderMaxBackoff = 5 * time.Second
	// leaderResetAfter: a leadership that lasted this long ended in a new
	// failure, not in the same one again, so the backoff starts over.
	leaderResetAfter = time.Minute
	// leaderCheckInterval is how often RunLeader checks that the lock's
	// connection is alive while its function runs.
	leaderCheckInterval = time.Second
	leaderPingTimeout   = 5 * time.Second
)

// elector campaigns for one session advisory lock.
type elector struct {
	pool *pgxpool.Pool // its connection settings are copied for the lock's session
	key  int64
	now  func() time.Time
	log  *slog.Logger
	// prepare, if set, runs on the lock's connection once the lock is
	// held, before onLeader: the relay LISTENs there, so that whoever
	// waits on onLeader never notifies before anyone listens.
	prepare func(ctx context.Context, conn *pgx.Conn) error
	// onLeader, if set, is called with true once this process leads and
	// with false when it stops (the lock is released right after). Tests
	// wait on it; metrics may count it.
	onLeader func(leading bool)
}

// run campaigns and leads with lead, again and again, until ctx is done;
// then it returns nil. lead runs while the lock is held, on the lock's
// connection; it returns when that connection fails or ctx ends (or with
// any error of its own), and the lock is released. Failures are retried
// with a capped backoff, never returned.
func (e *elector) run(ctx context.Context, lead func(ctx context.Context, conn *pgx.Conn) error) error {
	backoff := retry.NewBackoff(leaderMinBackoff, leaderMaxBackoff)
	for ctx.Err() == nil {
		started := e.now()
		err := e.campaign(ctx, lead)
		if ctx.Err() != nil {
			break
		}
		if e.now().Sub(started) > leaderResetAfter {
			backoff.Reset()
		}
		e.log.Warn("leadership ended or the campaign failed; campaigning again", "err", err)
		if !retry.Sleep(ctx, backoff.Next()) {
			break
		}
	}
	return nil
}

// campaign connects, waits for the lock and leads until lead returns.
func (e *elector) campaign(ctx context.Context, lead func(ctx context.Context, conn *pgx.Conn) error) error {
	cc := e.pool.Config().ConnConfig.Copy()
	// The lock session waits for the lock as long as the current leader
	// holds it: the pool's statement and lock timeouts must not end that
	// wait (their defaults come from DatabaseOptions).
	if cc.RuntimeParams == nil {
		cc.RuntimeParams = map[string]string{}
	}
	cc.RuntimeParams["statement_timeout"] = "0"
	cc.RuntimeParams["lock_timeout"] = "0"
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return fmt.Errorf("connect for leadership: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx) // closing the session releases the lock
	}()
	// Blocks until the current leader's session ends.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(waymark_lock_key($1))`, e.key); err != nil {
		return fmt.Errorf("acquire lock: %w", err)
	}
	if e.prepare != nil {
		if err := e.prepare(ctx, conn); err != nil {
			return err
		}
	}
	e.log.Info("leading")
	if e.onLeader != nil {
		e.onLeader(true)
		defer e.onLeader(false)
	}
	return lead(ctx, conn)
}

// RunLeader runs fn while this process holds the session advisory lock
// key, on a connection of its own: among all processes that call it with
// the same key, at most one runs fn at a time. fn's context is cancelled
// when the lock's connection fails (another process may then take over)
// or ctx ends; when fn returns early or the connection drops, RunLeader
// campaigns again after a backoff. It returns nil when ctx is done.
// Config.OnLeader, if set, hears every start and end of a leadership.
func (s *Service) RunLeader(ctx context.Context, key int64, fn func(ctx context.Context) error) error {
	e := &elector{
		pool: s.pool, key: key, now: s.cfg.NowFunc,
		log: s.cfg.Logger.With("component", "leader", "lock", key),
	}
	if hook := s.cfg.OnLeader; hook != nil {
		e.onLeader = func(leading bool) { hook(key, leading) }
	}
	return e.run(ctx, func(ctx context.Context, conn *pgx.Conn) error {
		return whileConnAlive(ctx, conn, fn)
	})
}

// whileConnAlive runs fn with a context that is cancelled when conn stops
// answering pings (or ctx ends), and returns why fn's leadership ended.
// fn must not use conn: pings use it concurrently.
func whileConnAlive(ctx context.Context, conn *pgx.Conn, fn func(ctx context.Context) error) error {
	lctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(leaderCheckInterval)
		defer t.Stop()
		for {
			select {
			case <-lctx.Done():
				return
			case <-t.C:
				pctx, pcancel := context.WithTimeout(lctx, leaderPingTimeout)
				err := conn.Ping(pctx)
				pcancel()
				if err != nil && lctx.Err() == nil {
					cancel(fmt.Errorf("lock connection: %w", err))
					return
				}
			}
		}
	}()
	ferr := fn(lctx)
	cancel(nil)
	<-done
	if cause := context.Cause(lctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	if ferr == nil {
		ferr = errors.New("leader function returned")
	}
	return ferr
}
