package controlplane

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/waymark-dns/waymark/internal/pgtest"
)

// TestIntegrationPoolTimeouts checks that every connection of a pool made
// by PoolConfig carries the timeouts, that a DSN's own value wins, and
// that a statement cut by statement_timeout counts as unavailable.
func TestIntegrationPoolTimeouts(t *testing.T) {
	t.Parallel()
	_, dsn := pgtest.Schema(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, dsn          string
		statement, lock    string
		idleInTransaction  string
		wantConnectTimeout time.Duration
	}{
		{"defaults", dsn, "200ms", "2s", "10s", DefaultConnectTimeout},
		{"dsn wins", dsn + "&statement_timeout=300&connect_timeout=1", "300ms", "2s", "10s", time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := PoolConfig(tc.dsn, DatabaseOptions{StatementTimeout: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ConnConfig.ConnectTimeout != tc.wantConnectTimeout {
				t.Errorf("connect timeout %s, want %s", cfg.ConnConfig.ConnectTimeout, tc.wantConnectTimeout)
			}
			pool, err := pgxpool.NewWithConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			for param, want := range map[string]string{
				"statement_timeout": tc.statement, "lock_timeout": tc.lock,
				"idle_in_transaction_session_timeout": tc.idleInTransaction,
			} {
				var got string
				if err := pool.QueryRow(ctx, "SHOW "+param).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("%s = %s, want %s", param, got, want)
				}
			}
			_, err = pool.Exec(ctx, "SELECT pg_sleep(5)")
			if err == nil || !IsUnavailable(err) {
				t.Errorf("pg_sleep past statement_timeout: err %v, want an unavailable error", err)
			}
		})
	}
}

// TestIsUnavailable: business errors and plain failures are not outages.
func TestIsUnavailable(t *testing.T) {
	t.Parallel()
	for _, err := range []error{nil, Errorf(CodeInvalidInput, "x"), context.Canceled} {
		if IsUnavailable(err) {
			t.Errorf("IsUnavailable(%v) = true", err)
		}
	}
	if !IsUnavailable(context.DeadlineExceeded) {
		t.Error("IsUnavailable(DeadlineExceeded) = false")
	}
}
