// Command cpbench measures the Waymark control plane through its real HTTP
// API: the router of api.NewRouter on a controlplane.Service, behind a real
// net/http server on a loopback port, driven by real HTTP clients. The
// outbox relay publishes to an embedded NATS JetStream server as in
// production, so committed batches also cost what the relay costs.
//
// It drops and recreates its database (default waymark_bench) on every run:
// never point it at a database you care about.
//
// Results are printed one per line as "RESULT <key> <value>" for
// bench/run.sh, after human-readable lines.
//
// With -route53 (the default) the 16-client runs are repeated through the
// Route 53-compatible API (XML + SigV4) right after each JSON run.
//
// Usage: go run ./bench/cpbench [-duration 10s] [-clients 16]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/api"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/migrations"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cpbench:", err)
		os.Exit(1)
	}
}

// options are the command-line settings.
type options struct {
	dsn        string
	duration   time.Duration
	clients    int
	listZone   int
	relay      bool
	maxConns   int
	skipList   bool
	keys       bool
	batchNames int
	route53    bool
}

func run() error {
	var o options
	flag.StringVar(&o.dsn, "database-url", "postgres://postgres@127.0.0.1:5432/waymark_bench?sslmode=disable",
		"PostgreSQL database to DROP and recreate for the run")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each throughput run")
	flag.IntVar(&o.clients, "clients", 16, "concurrent HTTP clients (one zone each)")
	flag.IntVar(&o.listZone, "list-records", 10000, "record sets in the zone used for ListRRSets latency")
	flag.BoolVar(&o.relay, "relay", true, "run the outbox relay and fleet tracker on an embedded NATS server, as production does")
	flag.IntVar(&o.maxConns, "pool-max-conns", 0, "database pool size (0: pgxpool's default, as `waymark api` uses)")
	flag.BoolVar(&o.skipList, "skip-list", false, "skip the ListRRSets latency part")
	flag.BoolVar(&o.keys, "idempotency-keys", false, "send every /v1 batch with an Idempotency-Key of its own, as the Go SDK does")
	flag.IntVar(&o.batchNames, "names", 1000, "distinct owner names each zone's upserts cycle over")
	flag.BoolVar(&o.route53, "route53", true, "also send the 16-client batches through the Route 53 API (XML + SigV4)")
	flag.Parse()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	if err := recreateDatabase(ctx, o.dsn); err != nil {
		return err
	}
	if err := migrations.Up(ctx, o.dsn, nil); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	pcfg, err := pgxpool.ParseConfig(o.dsn)
	if err != nil {
		return err
	}
	if o.maxConns > 0 {
		pcfg.MaxConns = int32(o.maxConns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return err
	}
	defer pool.Close()

	svc, err := controlplane.New(pool, controlplane.Config{
		DefaultZoneQuota:   1000,
		DefaultRecordQuota: o.listZone + 1000,
		MasterKey:          bytes.Repeat([]byte{7}, 32),
		JWTKey:             bytes.Repeat([]byte{9}, 32),
	})
	if err != nil {
		return err
	}

	var relayStop func()
	if o.relay {
		relayStop, err = startRelay(ctx, pool, svc)
		if err != nil {
			return err
		}
		defer relayStop()
	}

	_, key, err := svc.CreateTenant(ctx, "bench")
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: api.NewRouter(api.Config{
			Service: svc,
			// The default per-tenant limit (200/s) is what the bench wants
			// to exceed: one tenant drives every client.
			RateLimit: 1e9,
			RateBurst: 1e9,
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	// The same API without the audit log, to measure what the log costs
	// (issue 13: batches/s with it >= 0.95x without).
	lnNoAudit, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srvNoAudit := &http.Server{
		Handler: api.NewRouter(api.Config{
			Service: svc, RateLimit: 1e9, RateBurst: 1e9, NoAuditLog: true,
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srvNoAudit.Serve(lnNoAudit) }()
	defer srvNoAudit.Close()

	c := &client{
		base:  "http://" + ln.Addr().String(),
		token: key.Token,
		hc: &http.Client{Transport: &http.Transport{
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 256,
		}, Timeout: 60 * time.Second},
	}
	fmt.Printf("cpbench: API on %s, relay=%v, pool max conns=%d, GOMAXPROCS=%d\n",
		ln.Addr(), o.relay, pcfg.MaxConns, runtime.GOMAXPROCS(0))

	zones := make([]string, o.clients)
	for i := range zones {
		zones[i], err = c.createZone(ctx, fmt.Sprintf("bench-%d.example.", i))
		if err != nil {
			return err
		}
	}

	var results []result
	r, err := throughput(ctx, c, zones[:1], 1, o, "single-record batches, 1 client", nil)
	if err != nil {
		return err
	}
	results = append(results, r.named("cp_single_1"))
	// Each JSON run is followed at once by the same batches through the
	// Route 53 API (XML + SigV4), so that the two are measured side by
	// side on the same zones.
	rc := &r53Client{base: c.base, keyID: key.ID, secret: key.Secret, hc: c.hc, signer: v4.NewSigner()}
	for _, size := range []int{1, 100} {
		label, name := fmt.Sprintf("single-record batches, %d clients", o.clients), "single_16"
		if size > 1 {
			label, name = fmt.Sprintf("%d-record batches, %d clients", size, o.clients), fmt.Sprintf("batch%d_16", size)
		}
		r, err = throughput(ctx, c, zones, size, o, label, nil)
		if err != nil {
			return err
		}
		results = append(results, r.named("cp_"+name))
		if size == 1 {
			// Right after, the same batches with the audit log off.
			na := *c
			na.base = "http://" + lnNoAudit.Addr().String()
			r, err = throughput(ctx, &na, zones, size, o, label+", audit log off", nil)
			if err != nil {
				return err
			}
			results = append(results, r.named("cp_"+name+"_noaudit"))
		}
		if o.route53 {
			r, err = throughput(ctx, c, zones, size, o, label+", Route 53 XML+SigV4", rc)
			if err != nil {
				return err
			}
			results = append(results, r.named("r53_"+name))
		}
	}

	var lists []result
	if !o.skipList {
		lists, err = listLatency(ctx, c, o)
		if err != nil {
			return err
		}
	}

	for _, r := range results {
		fmt.Printf("RESULT %s_batches_per_s %.1f\n", r.name, r.perSec)
		fmt.Printf("RESULT %s_p50_ms %.2f\n", r.name, ms(r.p50))
		fmt.Printf("RESULT %s_p99_ms %.2f\n", r.name, ms(r.p99))
		fmt.Printf("RESULT %s_errors %d\n", r.name, r.errors)
	}
	for _, r := range lists {
		fmt.Printf("RESULT %s_p50_ms %.2f\n", r.name, ms(r.p50))
		fmt.Printf("RESULT %s_p99_ms %.2f\n", r.name, ms(r.p99))
		fmt.Printf("RESULT %s_requests %d\n", r.name, r.count)
	}
	return nil
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

// startRelay runs an embedded JetStream server with the outbox relay and
// the fleet tracker on it, as `waymark api` does with an external NATS:
// the relay leads in this process, so svc's commits wake it directly.
func startRelay(ctx context.Context, pool *pgxpool.Pool, svc *controlplane.Service) (func(), error) {
	dir, err := os.MkdirTemp("", "cpbench-nats")
	if err != nil {
		return nil, err
	}
	ns, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true,
	})
	if err != nil {
		return nil, err
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		return nil, fmt.Errorf("embedded NATS did not start")
	}
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	relay := controlplane.NewRelay(pool, js, controlplane.RelayConfig{Logger: discard})
	svc.AttachRelay(relay)
	tracker := controlplane.NewTracker(pool, nc, controlplane.TrackerConfig{Logger: discard})
	wg.Go(func() { _ = relay.Run(rctx) })
	wg.Go(func() { _ = tracker.Run(rctx) })
	return func() {
		cancel()
		wg.Wait()
		nc.Close()
		ns.Shutdown()
		ns.WaitForShutdown()
		_ = os.RemoveAll(dir)
	}, nil
}

// client calls the JSON API as a tenant.
type client struct {
	base  string
	token string
	hc    *http.Client
}

// do sends one request and decodes a 2xx JSON answer into out.
func (c *client) do(ctx context.Context, method, path string, body, out any) error {
	return c.doWith(ctx, method, path, "", body, out)
}

// doWith is do with an Idempotency-Key header, unless key is empty.
func (c *client) doWith(ctx context.Context, method, path, key string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (c *client) createZone(ctx context.Context, name string) (string, error) {
	var out struct {
		HostedZone struct {
			ID string `json:"id"`
		} `json:"hosted_zone"`
	}
	err := c.do(ctx, http.MethodPost, "/v1/hostedzones",
		map[string]string{"name": name, "caller_reference": name}, &out)
	return out.HostedZone.ID, err
}

type rrsetIn struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	TTL     int      `json:"ttl"`
	Records []string `json:"records"`
}

type changeIn struct {
	Action string  `json:"action"`
	RRSet  rrsetIn `json:"rrset"`
}

type batchIn struct {
	Comment string     `json:"comment"`
	Changes []changeIn `json:"changes"`
}

// batch builds a change batch of n UPSERTs of A records in zone, names
// cycling over names distinct owners from position start.
func batch(zone string, start, n, names int) batchIn {
	b := batchIn{Comment: "bench", Changes: make([]changeIn, n)}
	for j := range n {
		k := start + j
		b.Changes[j] = changeIn{Action: "UPSERT", RRSet: rrsetIn{
			Name:    fmt.Sprintf("h%d.%s", k%names, zone),
			Type:    "A",
			TTL:     300,
			Records: []string{fmt.Sprintf("10.%d.%d.%d", k>>16&255, k>>8&255, k&255)},
		}}
	}
	return b
}

// result is one measured figure.
type result struct {
	name     string
	count    int
	errors   int
	perSec   float64
	p50, p99 time.Duration
}

func (r result) named(n string) result { r.name = n; return r }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func percentiles(lat []time.Duration) (p50, p99 time.Duration) {
	if len(lat) == 0 {
		return 0, 0
	}
	slices.Sort(lat)
	return lat[len(lat)*50/100], lat[min(len(lat)-1, len(lat)*99/100)]
}

// throughput runs one client per zone for o.duration, each sending change
// batches of size UPSERTs back to back, and reports batches per second.
func throughput(ctx context.Context, c *client, zoneIDs []string, size int, o options, label string, rc *r53Client) (result, error) {
	names := make([]string, len(zoneIDs))
	for i, id := range zoneIDs {
		var z struct {
			HostedZone struct {
				Name string `json:"name"`
			} `json:"hosted_zone"`
		}
		if err := c.do(ctx, http.MethodGet, "/v1/hostedzones/"+id, nil, &z); err != nil {
			return result{}, err
		}
		names[i] = z.HostedZone.Name
	}
	deadline := time.Now().Add(o.duration)
	var (
		mu      sync.Mutex
		lat     []time.Duration
		errs    atomic.Int64
		firstEr atomic.Value
		wg      sync.WaitGroup
	)
	start := time.Now()
	for i := range zoneIDs {
		wg.Go(func() {
			var mine []time.Duration
			path := "/v1/hostedzones/" + zoneIDs[i] + "/rrsets/changes"
			for k := 0; time.Now().Before(deadline); k++ {
				b := batch(names[i], k*size, size, o.batchNames)
				t0 := time.Now()
				var err error
				if rc != nil {
					err = rc.changeBatch(ctx, zoneIDs[i], b)
				} else {
					var key string
					if o.keys {
						key = fmt.Sprintf("cpbench-%d-%d-%d", start.UnixNano(), i, k)
					}
					err = c.doWith(ctx, http.MethodPost, path, key, b, nil)
				}
				if err != nil {
					errs.Add(1)
					firstEr.CompareAndSwap(nil, err.Error())
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := result{count: len(lat), errors: int(errs.Load()), perSec: float64(len(lat)) / elapsed.Seconds()}
	r.p50, r.p99 = percentiles(lat)
	fmt.Printf("%-40s %8.1f batches/s (%8.0f records/s)  p50 %6.2f ms  p99 %6.2f ms  errors %d\n",
		label, r.perSec, r.perSec*float64(size), ms(r.p50), ms(r.p99), r.errors)
	if e := firstEr.Load(); e != nil {
		fmt.Printf("  first error: %s\n", e)
	}
	return r, nil
}

// listLatency fills a zone with o.listZone A record sets and measures
// GET .../rrsets: whole-zone walks with max_items=100, then the first page
// with max_items=300, sequentially, for o.duration/2 each.
func listLatency(ctx context.Context, c *client, o options) ([]result, error) {
	const zoneName = "list.example."
	id, err := c.createZone(ctx, zoneName)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	// UPSERTs count twice against the 1,000-record batch limit (as in
	// Route 53), so 500 per batch.
	for k := 0; k < o.listZone; k += 500 {
		n := min(500, o.listZone-k)
		if err := c.do(ctx, http.MethodPost, "/v1/hostedzones/"+id+"/rrsets/changes",
			batch(zoneName, k, n, o.listZone), nil); err != nil {
			return nil, err
		}
	}
	fmt.Printf("filled %s with %d record sets in %s (500-change batches)\n", zoneName, o.listZone, time.Since(t0).Round(time.Millisecond))

	type page struct {
		RRSets         []json.RawMessage `json:"rrsets"`
		IsTruncated    bool              `json:"is_truncated"`
		NextName       string            `json:"next_name"`
		NextType       string            `json:"next_type"`
		NextIdentifier string            `json:"next_identifier"`
	}
	get := func(q url.Values) (page, time.Duration, error) {
		var p page
		t := time.Now()
		err := c.do(ctx, http.MethodGet, "/v1/hostedzones/"+id+"/rrsets?"+q.Encode(), nil, &p)
		return p, time.Since(t), err
	}

	var walkLat []time.Duration
	walks, seen := 0, 0
	deadline := time.Now().Add(o.duration / 2)
	for walks == 0 || time.Now().Before(deadline) {
		q := url.Values{"max_items": {"100"}}
		seen = 0
		for {
			p, d, err := get(q)
			if err != nil {
				return nil, err
			}
			walkLat = append(walkLat, d)
			seen += len(p.RRSets)
			if !p.IsTruncated {
				break
			}
			q = url.Values{"max_items": {"100"}, "name": {p.NextName}, "type": {p.NextType}}
			if p.NextIdentifier != "" {
				q.Set("identifier", p.NextIdentifier)
			}
		}
		walks++
	}
	w := result{name: "list100", count: len(walkLat)}
	w.p50, w.p99 = percentiles(walkLat)
	fmt.Printf("ListRRSets max_items=100, %d whole-zone walks (%d sets, %d pages): p50 %.2f ms  p99 %.2f ms\n",
		walks, seen, len(walkLat), ms(w.p50), ms(w.p99))

	var firstLat []time.Duration
	deadline = time.Now().Add(o.duration / 2)
	for len(firstLat) == 0 || time.Now().Before(deadline) {
		p, d, err := get(url.Values{"max_items": {"300"}})
		if err != nil {
			return nil, err
		}
		if len(p.RRSets) == 0 {
			return nil, fmt.Errorf("empty first page")
		}
		firstLat = append(firstLat, d)
	}
	f := result{name: "list300_first", count: len(firstLat)}
	f.p50, f.p99 = percentiles(firstLat)
	fmt.Printf("ListRRSets max_items=300 first page, %d requests: p50 %.2f ms  p99 %.2f ms\n",
		len(firstLat), ms(f.p50), ms(f.p99))
	return []result{w, f}, nil
}
