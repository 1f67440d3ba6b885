package controlplane

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/internal/testkit"
)

// TestIntegrationRunLeaderHook checks the election through the hook tests
// wait on: one of two campaigners leads, the other takes over when the
// leader's lock connection is killed from outside (as a database restart
// or a network cut would), and the hook reports both ends of every
// leadership.
func TestIntegrationRunLeaderHook(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.Schema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var mu sync.Mutex
	var log []string
	leading := map[string]bool{}
	const key = 7
	for _, name := range []string{"a", "b"} {
		svc, err := New(pool, Config{
			MasterKey: bytes.Repeat([]byte{1}, 32), JWTKey: bytes.Repeat([]byte{2}, 32),
			OnLeader: func(k int64, l bool) {
				mu.Lock()
				defer mu.Unlock()
				if k != key {
					t.Errorf("hook called for key %d, want %d", k, key)
				}
				leading[name] = l
				log = append(log, fmt.Sprintf("%s=%v", name, l))
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = svc.RunLeader(ctx, key, func(ctx context.Context) error { <-ctx.Done(); return nil })
		}()
		t.Cleanup(func() { cancel(); <-done })
	}
	leader := func() (string, error) {
		mu.Lock()
		defer mu.Unlock()
		var who []string
		for n, l := range leading {
			if l {
				who = append(who, n)
			}
		}
		if len(who) != 1 {
			return "", fmt.Errorf("leaders %v, want exactly one (hook calls %v)", who, log)
		}
		return who[0], nil
	}
	var first string
	testkit.Eventually(t, 20*time.Second, func() (err error) { first, err = leader(); return err })

	// Kill the leader's lock session: the server releases the lock.
	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
	     WHERE locktype = 'advisory' AND granted AND objid = (waymark_lock_key($1) & 4294967295)::oid`, key); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 20*time.Second, func() error {
		mu.Lock()
		ended := slices.Contains(log, first+"=false")
		calls := slices.Clone(log)
		mu.Unlock()
		if !ended {
			return fmt.Errorf("the hook did not report the end of %s's leadership: %v", first, calls)
		}
		_, err := leader()
		return err
	})
}
