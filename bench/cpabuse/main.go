// Command cpabuse measures the control plane under one abusive tenant, for
// issue 16: other tenants' GET latency while one tenant runs zone exports
// and thousands of long polls, and the PostgreSQL transactions the long
// polls cost.
//
// It builds the production stack in process, as bench/cpbench does:
// controlplane.New on a pgx pool of pgxpool's default size (what `waymark
// api` uses: 4 connections on 2 cores), api.NewRouter behind a real
// net/http server on 127.0.0.1:0. No relay runs, so the changes the long
// polls wait on stay PENDING and each waiter waits its whole timeout.
//
// Phases, each -duration long:
//
//  1. idle: -bystanders tenants GET their hosted zone, -get-rate per
//     second in all (fixed spacing, one client each); latency p50/p99.
//  0. quiet, 5 s: the server's own transactions (database gate,
//     notifier backstop), the baseline of phase 2.
//  2. waiters only: -waiters long polls (GET /v1/changes/{id}?wait=insync
//     &timeout=-wait), each re-issued as soon as it returns, and nothing
//     else, for -waiters-duration (default two timeouts + 10 s, so the
//     re-issued polls count); PostgreSQL transactions per second from
//     pg_stat_database.xact_commit + xact_rollback of the bench database,
//     minus phase 0's rate.
//  3. attack: the waiters, plus the abusive tenant exporting its zone of
//     -zone-sets record sets in a loop with -exporters clients (429s from
//     its per-tenant budget are counted and retried after 50 ms), while
//     the bystanders GET as in phase 1.
//
// It prints one line per figure and the ratios: GET p99 attack ÷ idle
// (issue target ≤ 2) and transactions per second per 1,000 waiters
// (target ≤ 50). The database (-database-url, default
// waymark_cpabuse_bench) is dropped and recreated; its name must contain
// "bench".
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/waymark-dns/waymark/api"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/migrations"
	"github.com/waymark-dns/waymark/zonecfg"
)

type options struct {
	dsn      string
	duration time.Duration
	waiters  int
	wait     time.Duration
	// waitersDuration is phase 2's length.
	waitersDuration time.Duration
	exporters       int
	zoneSets        int
	getRate         int
	bystander       int
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cpabuse:", err)
		os.Exit(1)
	}
}

func run() error {
	var o options
	flag.StringVar(&o.dsn, "database-url", "postgres://postgres@127.0.0.1:5432/waymark_cpabuse_bench?sslmode=disable", "bench database (dropped and recreated)")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "length of each phase")
	flag.IntVar(&o.waiters, "waiters", 4000, "long polls of the abusive tenant")
	flag.DurationVar(&o.wait, "wait", api.DefaultChangeWait, "timeout of each long poll (the API's default; at most controlplane.MaxChangeWait)")
	flag.DurationVar(&o.waitersDuration, "waiters-duration", 0, "length of phase 2 (0: two long-poll timeouts and 10 s, so that re-issued polls are counted)")
	flag.IntVar(&o.exporters, "exporters", 4, "clients exporting the abusive tenant's zone in a loop")
	flag.IntVar(&o.zoneSets, "zone-sets", 20000, "record sets of the exported zone")
	flag.IntVar(&o.getRate, "get-rate", 200, "bystander GETs per second")
	flag.IntVar(&o.bystander, "bystanders", 8, "bystander tenants (one client each)")
	flag.Parse()
	if o.waitersDuration <= 0 {
		o.waitersDuration = 2*o.wait + 10*time.Second
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := recreateDatabase(ctx, o.dsn); err != nil {
		return err
	}
	if err := migrations.Up(ctx, o.dsn, nil); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	pool, err := pgxpool.New(ctx, o.dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc, err := controlplane.New(pool, controlplane.Config{
		DefaultRecordQuota: o.zoneSets + 1000,
		MasterKey:          bytes.Repeat([]byte{7}, 32),
		JWTKey:             bytes.Repeat([]byte{9}, 32),
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api.NewRouter(api.Config{Service: svc, RateLimit: 1e9, RateBurst: 1e9}),
		ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: o.waiters + 64, MaxIdleConnsPerHost: o.waiters + 64}}

	// The abusive tenant: one big zone (seeded in SQL: a change batch of
	// 20,000 is not what is measured) and 40 pending changes to wait on.
	_, abuser, err := svc.CreateTenant(ctx, "abuser")
	if err != nil {
		return err
	}
	big, _, err := svc.CreateZone(ctx, abuser.TenantID, controlplane.CreateZoneInput{Name: "big.example.", CallerReference: "big"})
	if err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, `
		INSERT INTO rrset (zone_id, sort_name, name, type, ttl, records, rdata, updated_version)
		SELECT $1, $2::text || 'h' || i || '.', 'h' || i || '.big.example.', 'A', 60, '["192.0.2.1"]', '["192.0.2.1"]', 1
		FROM generate_series(1, $3::int) i`, big.ID, zonecfg.SortKey("big.example."), o.zoneSets); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	var changes []string
	for i := range 40 {
		info, err := svc.ChangeRRSets(ctx, abuser.TenantID, big.ID, controlplane.ChangeBatch{Changes: []controlplane.RRSetChange{{
			Action: controlplane.ActionUpsert,
			RRSet:  zonecfg.RRSet{Name: fmt.Sprintf("w%d.big.example.", i), Type: "A", TTL: 60, Records: []string{"192.0.2.2"}},
		}}})
		if err != nil {
			return err
		}
		changes = append(changes, info.ID)
	}
	type bystander struct{ token, zone string }
	var bys []bystander
	for i := range o.bystander {
		_, k, err := svc.CreateTenant(ctx, fmt.Sprintf("bystander-%d", i))
		if err != nil {
			return err
		}
		z, _, err := svc.CreateZone(ctx, k.TenantID, controlplane.CreateZoneInput{Name: fmt.Sprintf("b%d.example.", i), CallerReference: "b"})
		if err != nil {
			return err
		}
		bys = append(bys, bystander{k.Token, z.ID})
	}

	get := func(ctx context.Context, token, path string) (int, error) {
		r, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
		r.Header.Set("Authorization", "Bearer "+token)
		res, err := hc.Do(r)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, err
	}
	// bystanders GETs at getRate for d; returns the latencies.
	bystanders := func(d time.Duration) ([]time.Duration, int) {
		var mu sync.Mutex
		var lat []time.Duration
		var errs int
		var wg sync.WaitGroup
		per := time.Duration(float64(time.Second) * float64(len(bys)) / float64(o.getRate))
		stop := time.Now().Add(d)
		for _, b := range bys {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next := time.Now(); next.Before(stop); next = next.Add(per) {
					time.Sleep(time.Until(next))
					t0 := time.Now()
					st, err := get(ctx, b.token, "/v1/hostedzones/"+b.zone)
					el := time.Since(t0)
					mu.Lock()
					if err != nil || st != http.StatusOK {
						errs++
					} else {
						lat = append(lat, el)
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		slices.Sort(lat)
		return lat, errs
	}
	xacts := func() int64 {
		var n int64
		_ = pool.QueryRow(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()`).Scan(&n)
		return n
	}
	// xactRate is the transactions per second of the database over d,
	// read after a pg_stat_clear_snapshot so each read is fresh.
	xactRate := func(d time.Duration) float64 {
		_, _ = pool.Exec(ctx, `SELECT pg_stat_clear_snapshot()`)
		a := xacts()
		t0 := time.Now()
		time.Sleep(d)
		_, _ = pool.Exec(ctx, `SELECT pg_stat_clear_snapshot()`)
		b := xacts()
		return float64(b-a-4) / time.Since(t0).Seconds() // 4: these statements' own
	}

	// Phase 0: nothing but the server's own work (the database gate's
	// ping, the notifier's backstop): the baseline the waiters are
	// measured above.
	quietRate := xactRate(5 * time.Second)
	fmt.Printf("quiet: %.1f transactions/s\n", quietRate)

	// Phase 1: idle.
	var idleRate float64
	var idleLat []time.Duration
	var idleErrs int
	{
		done := make(chan struct{})
		go func() { idleLat, idleErrs = bystanders(o.duration); close(done) }()
		idleRate = xactRate(o.duration)
		<-done
	}
	fmt.Printf("idle: GET p50 %s p99 %s (%d GETs, %d failed); %.1f transactions/s\n",
		pct(idleLat, 50), pct(idleLat, 99), len(idleLat), idleErrs, idleRate)

	// Phase 2: waiters only (after they have all started).
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	var polls, pollErrs atomic.Int64
	var started sync.WaitGroup
	started.Add(o.waiters)
	for i := range o.waiters {
		go func() {
			first := true
			path := fmt.Sprintf("/v1/changes/%s?wait=insync&timeout=%s", changes[i%len(changes)], o.wait)
			for wctx.Err() == nil {
				if first {
					started.Done()
					first = false
				}
				st, err := get(wctx, abuser.Token, path)
				if wctx.Err() != nil {
					return
				}
				polls.Add(1)
				if err != nil || st != http.StatusOK {
					pollErrs.Add(1)
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	started.Wait()
	time.Sleep(3 * time.Second) // the waiters' first reads
	waitRate := xactRate(o.waitersDuration)
	perK := (waitRate - quietRate) / (float64(o.waiters) / 1000)
	fmt.Printf("waiters: %d long polls (timeout %s): %.1f transactions/s, %.1f per 1,000 waiters above quiet (%d polls returned, %d failed)\n",
		o.waiters, o.wait, waitRate, perK, polls.Load(), pollErrs.Load())

	// Phase 3: waiters + exports + bystanders.
	ectx, ecancel := context.WithCancel(ctx)
	var exports, throttled, exportErrs atomic.Int64
	var exportBytes atomic.Int64
	var ewg sync.WaitGroup
	for range o.exporters {
		ewg.Add(1)
		go func() {
			defer ewg.Done()
			for ectx.Err() == nil {
				r, _ := http.NewRequestWithContext(ectx, "GET", base+"/v1/hostedzones/"+big.ID+"/export", nil)
				r.Header.Set("Authorization", "Bearer "+abuser.Token)
				res, err := hc.Do(r)
				if err != nil {
					if ectx.Err() == nil {
						exportErrs.Add(1)
					}
					continue
				}
				n, err := io.Copy(io.Discard, res.Body)
				res.Body.Close()
				switch {
				case res.StatusCode == http.StatusTooManyRequests:
					throttled.Add(1)
					time.Sleep(50 * time.Millisecond)
				case res.StatusCode != http.StatusOK || err != nil:
					if ectx.Err() == nil {
						exportErrs.Add(1)
					}
				default:
					exports.Add(1)
					exportBytes.Add(n)
				}
			}
		}()
	}
	t0 := time.Now()
	attackLat, attackErrs := bystanders(o.duration)
	el := time.Since(t0)
	ecancel()
	ewg.Wait()
	wcancel()
	fmt.Printf("attack: GET p50 %s p99 %s (%d GETs, %d failed); %.1f exports/s of %d sets (%.1f MB/s), %d answered 429, %d failed\n",
		pct(attackLat, 50), pct(attackLat, 99), len(attackLat), attackErrs,
		float64(exports.Load())/el.Seconds(), o.zoneSets, float64(exportBytes.Load())/el.Seconds()/1e6, throttled.Load(), exportErrs.Load())
	if p := pct(idleLat, 99); p > 0 {
		fmt.Printf("ratio GET p99 attack/idle: %.2f\n", float64(pct(attackLat, 99))/float64(p))
	}
	fmt.Printf("transactions/s per 1000 waiters: %.1f\n", perK)
	return nil
}

// pct is the p-th percentile of sorted latencies.
func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)].Round(10 * time.Microsecond)
}

// recreateDatabase drops the bench database and creates it empty.
func recreateDatabase(ctx context.Context, dsn string) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return err
	}
	name := cfg.Database
	if name == "" || name == "postgres" || !strings.Contains(name, "bench") {
		return fmt.Errorf("refusing to drop database %q: its name must contain \"bench\"", name)
	}
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("PostgreSQL is required: %w", err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop %s: %w", name, err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	return nil
}
