// Command cpabuse measures the control plane under one abusive tenant, for
// issue 16: other tenants' GET latency while one tenant runs zone exports
// and thousands of long polls, and the PostgreSQL transactions the long
// polls cost.
//
// By default it builds the production stack in process, as bench/cpbench
// does: controlplane.New on a pgx pool of pgxpool's default size (what
// `waymark api` uses: 4 connections on 2 cores), api.NewRouter behind a
// real net/http server on 127.0.0.1:0, with the request rate limit out of
// the way; the clients share the process. With -waymark PATH it measures
// the real binary instead: `PATH api` in its own process, configured as
// an operator would (environment only, every limit at its default: 200
// requests/s per tenant, so the waiters honour Retry-After), optionally
// pinned with -api-cpus; tenants and zones are still made in process on
// the same database. No relay runs, so the changes the long polls wait on
// stay PENDING and each waiter waits its whole timeout.
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
// During the attack it also prints the CPU used (the API's and this
// process's with -waymark, their sum without; the PostgreSQL backends of
// the bench database either way) and, in process, the pool's acquires and
// their mean wait. -cpuprofile writes a CPU profile of the attack phase
// (in process; profile the binary with perf record -p).
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
	"runtime/pprof"
	"slices"
	"strconv"
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
	// waymark, when set, is the path of the waymark binary: the API under
	// test is then `waymark api` as an operator starts it (its own
	// process, its default limits), pinned to apiCPUs when set.
	waymark, apiCPUs string
	// cpuProfile is written during the attack phase (in-process API only:
	// it covers the clients too; profile the binary with perf).
	cpuProfile string
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
	flag.StringVar(&o.waymark, "waymark", "", "path of the waymark binary: measure `waymark api` in its own process (default: the API in this process)")
	flag.StringVar(&o.apiCPUs, "api-cpus", "", "with -waymark: run the API under taskset -c with this CPU list")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the attack phase to this file (in-process API only)")
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
	var base string
	// serverCPU is the API's CPU time so far (zero in process, where the
	// process's own rusage holds both sides).
	serverCPU := func() time.Duration { return 0 }
	if o.waymark != "" {
		api, err := startAPI(ctx, o)
		if err != nil {
			return err
		}
		defer api.stop()
		base, serverCPU = api.base, api.cpu
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: api.NewRouter(api.Config{Service: svc, RateLimit: 1e9, RateBurst: 1e9}),
			ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		base = "http://" + ln.Addr().String()
	}
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
		st, _, err := getRetry(ctx, hc, token, base+path)
		return st, err
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
	var polls, pollErrs, polls429 atomic.Int64
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
				st, retry, err := getRetry(wctx, hc, abuser.Token, base+path)
				if wctx.Err() != nil {
					return
				}
				switch {
				case st == http.StatusTooManyRequests:
					// Over the tenant's request rate (waymark api's
					// default 200/s): the attacker stays inside the
					// limit, as the did, by honouring
					// Retry-After.
					polls429.Add(1)
					time.Sleep(retry)
				case err != nil || st != http.StatusOK:
					polls.Add(1)
					pollErrs.Add(1)
					time.Sleep(100 * time.Millisecond)
				default:
					polls.Add(1)
				}
			}
		}()
	}
	started.Wait()
	time.Sleep(3 * time.Second) // the waiters' first reads
	waitRate := xactRate(o.waitersDuration)
	perK := (waitRate - quietRate) / (float64(o.waiters) / 1000)
	fmt.Printf("waiters: %d long polls (timeout %s): %.1f transactions/s, %.1f per 1,000 waiters above quiet (%d polls returned, %d failed, %d answered 429)\n",
		o.waiters, o.wait, waitRate, perK, polls.Load(), pollErrs.Load(), polls429.Load())

	// Phase 3: waiters + exports + bystanders.
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer f.Close()
	}
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
	self0, api0 := selfCPU(), serverCPU()
	db0 := databaseCPU(ctx, pool)
	ps0 := pool.Stat()
	attackLat, attackErrs := bystanders(o.duration)
	el := time.Since(t0)
	self1, api1 := selfCPU(), serverCPU()
	db1 := databaseCPU(ctx, pool)
	ps1 := pool.Stat()
	if o.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	ecancel()
	ewg.Wait()
	wcancel()
	fmt.Printf("attack: GET p50 %s p99 %s (%d GETs, %d failed); %.1f exports/s of %d sets (%.1f MB/s), %d answered 429, %d failed\n",
		pct(attackLat, 50), pct(attackLat, 99), len(attackLat), attackErrs,
		float64(exports.Load())/el.Seconds(), o.zoneSets, float64(exportBytes.Load())/el.Seconds()/1e6, throttled.Load(), exportErrs.Load())
	if o.waymark != "" {
		fmt.Printf("attack CPU: API %.2f cores, cpabuse (load generator) %.2f cores\n",
			(api1-api0).Seconds()/el.Seconds(), (self1-self0).Seconds()/el.Seconds())
	} else {
		fmt.Printf("attack CPU: API and load generator in one process %.2f cores\n", (self1-self0).Seconds()/el.Seconds())
	}
	var dbCPU time.Duration
	for pid, t := range db1 {
		if t0, ok := db0[pid]; ok {
			dbCPU += t - t0
		}
	}
	fmt.Printf("attack CPU: PostgreSQL backends of the bench database %.2f cores\n", dbCPU.Seconds()/el.Seconds())
	if o.waymark == "" {
		n := ps1.AcquireCount() - ps0.AcquireCount()
		if n > 0 {
			fmt.Printf("attack pool: %d acquires, mean wait %s, %d waited for a connection\n", n,
				((ps1.AcquireDuration() - ps0.AcquireDuration()) / time.Duration(n)).Round(time.Microsecond), ps1.EmptyAcquireCount()-ps0.EmptyAcquireCount())
		}
	}
	if p := pct(idleLat, 99); p > 0 {
		fmt.Printf("ratio GET p99 attack/idle: %.2f\n", float64(pct(attackLat, 99))/float64(p))
	}
	fmt.Printf("transactions/s per 1000 waiters: %.1f\n", perK)
	return nil
}

// getRetry GETs url with token and reads the body; on a 429 it also
// returns the answer's Retry-After (1 s without one).
func getRetry(ctx context.Context, hc *http.Client, token, url string) (int, time.Duration, error) {
	r, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	r.Header.Set("Authorization", "Bearer "+token)
	res, err := hc.Do(r)
	if err != nil {
		return 0, 0, err
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	retry := time.Second
	if s, e := strconv.Atoi(res.Header.Get("Retry-After")); e == nil && s > 0 {
		retry = time.Duration(s) * time.Second
	}
	return res.StatusCode, retry, err
}

// databaseCPU is the CPU time so far of each PostgreSQL backend connected
// to the bench database, by pid (PostgreSQL runs on this machine).
func databaseCPU(ctx context.Context, pool *pgxpool.Pool) map[int]time.Duration {
	out := map[int]time.Duration{}
	rows, err := pool.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return out
	}
	pids, _ := pgx.CollectRows(rows, pgx.RowTo[int32])
	for _, pid := range pids {
		out[int(pid)] = procCPU(int(pid))
	}
	return out
}

// procCPU is a process's user and system CPU time from /proc (0 when it
// cannot be read).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which may hold spaces.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)        // field 14, utime
	st, _ := strconv.ParseInt(f[12], 10, 64)        // field 15, stime
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 in /proc on Linux
}

// selfCPU is this process's user and system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
