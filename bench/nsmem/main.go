// Command nsmem measures a nameserver's resident memory and cold-start time
// for a large data set: the Waymark data plane (dataplane.Node + Server, as
// `waymark nameserver` wires them) or any other server, such as Knot DNS,
// given the same data as master files.
//
//	nsmem gen -layout one|many -out DIR
//	    writes DIR/snapshot.json (an event.Snapshot, the format of both the
//	    control plane's snapshot and the node's on-disk cache), DIR/zones/
//	    (one master file per zone, named <zone>zone), DIR/knot-zones.conf
//	    (the zone: section of a knot.conf) and DIR/probe.txt (names whose
//	    answers prove the whole data set is loaded).
//	nsmem serve -addr A (-snapshot-url URL | -cache-dir DIR)
//	    runs one Waymark nameserver; after the initial sync it prints
//	    "ready"; on SIGUSR1 it runs the GC, returns freed memory to the OS
//	    and prints "settled".
//	nsmem mkcache -snapshot FILE -cache-dir DIR
//	    loads the snapshot into a nameserver node, as from the control
//	    plane, and stops it, which writes the node's on-disk cache
//	    (whatever format the node uses) into DIR.
//	nsmem measure -label L -addr A -probe FILE [-snapshot FILE] -- CMD ARGS...
//	    starts CMD (an argument "{URL}" is replaced by the URL of an HTTP
//	    server it runs on 127.0.0.1 serving -snapshot at
//	    /v1/nameserver/snapshot), queries every probe name over UDP until
//	    all are answered, and prints the time that took and the child's
//	    VmRSS then and once settled (with -usr1: SIGUSR1, then "settled"
//	    on its stdout; else when VmRSS is stable for a second), as
//	    "RESULT L_<key> <value>". With -samples 8s,30s,60s it reads VmRSS
//	    at those times after exec instead, then VmHWM (the peak), sending
//	    nothing to the process: what it does with its memory, it does by
//	    itself. With -then SCRIPT it then runs SCRIPT
//	    (sh -c, SERVER_PID in its environment) while the server still runs,
//	    for example a throughput run against the loaded server.
//	nsmem genviews -out DIR
//	    writes the data set of the views benchmark (see views.go).
//
// Each server runs in its own process, so its RSS holds nothing else.
package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/dataplane"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: nsmem gen|serve|measure|mkcache [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "serve":
		err = serve(os.Args[2:])
	case "measure":
		err = measure(os.Args[2:])
	case "mkcache":
		err = mkcache(os.Args[2:])
	case "genviews":
		err = genViews(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "nsmem:", err)
		os.Exit(1)
	}
}

// gen writes the data set in both formats.
func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	layout := fs.String("layout", "one", "one: 1 zone of -records records; many: -records/10 zones of 10 records")
	records := fs.Int("records", 1000000, "total records (one record per record set)")
	out := fs.String("out", "", "output directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("-out is required")
	}
	var zones, perZone int
	switch *layout {
	case "one":
		zones, perZone = 1, *records
	case "many":
		zones, perZone = *records/10, 10
	default:
		return fmt.Errorf("unknown layout %q", *layout)
	}
	if perZone < 3 || zones < 1 {
		return errors.New("too few records")
	}
	zdir := filepath.Join(*out, "zones")
	if err := os.MkdirAll(zdir, 0o755); err != nil {
		return err
	}
	snap, err := os.Create(filepath.Join(*out, "snapshot.json"))
	if err != nil {
		return err
	}
	defer snap.Close()
	sw := bufio.NewWriterSize(snap, 1<<20)
	conf, err := os.Create(filepath.Join(*out, "knot-zones.conf"))
	if err != nil {
		return err
	}
	defer conf.Close()
	cw := bufio.NewWriter(conf)
	fmt.Fprintln(cw, "zone:")
	probe, err := os.Create(filepath.Join(*out, "probe.txt"))
	if err != nil {
		return err
	}
	defer probe.Close()
	pw := bufio.NewWriter(probe)

	fmt.Fprint(sw, `{"seq":1,"zones":[`)
	const probes = 100
	for z := range zones {
		origin := "big.example."
		if *layout == "many" {
			origin = fmt.Sprintf("z%d.example.", z)
		}
		id := fmt.Sprintf("ZBENCH%07d", z)
		fmt.Fprintf(cw, "  - domain: %s\n", origin)
		zf, err := os.Create(filepath.Join(zdir, origin+"zone"))
		if err != nil {
			return err
		}
		zw := bufio.NewWriterSize(zf, min(1<<20, 64*perZone))
		fmt.Fprintf(zw, "$ORIGIN %s\n$TTL 300\n@ IN SOA ns1.%s hostmaster.%s 1 7200 900 1209600 300\n@ IN NS ns1.%s\n", origin, origin, origin, origin)
		if z > 0 {
			sw.WriteByte(',')
		}
		fmt.Fprintf(sw, `{"id":%q,"name":%q,"tenant_id":"TBENCH","version":1,"rrsets":[`, id, origin)
		fmt.Fprintf(sw, `{"name":%q,"type":"SOA","ttl":300,"records":["ns1.%s hostmaster.%s 1 7200 900 1209600 300"]},`, origin, origin, origin)
		fmt.Fprintf(sw, `{"name":%q,"type":"NS","ttl":300,"records":["ns1.%s"]}`, origin, origin)
		n := perZone - 2
		for i := range n {
			ip := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
			fmt.Fprintf(zw, "h%d IN A %s\n", i, ip)
			fmt.Fprintf(sw, `,{"name":"h%d.%s","type":"A","ttl":300,"records":[%q]}`, i, origin, ip)
			if zones == 1 && (i%(n/probes) == 0 || i == n-1) {
				fmt.Fprintf(pw, "h%d.%s\n", i, origin)
			}
		}
		if zones > 1 && (z%max(1, zones/probes) == 0 || z == zones-1) {
			fmt.Fprintf(pw, "h%d.%s\n", n-1, origin)
		}
		sw.WriteString("]}")
		if err := zw.Flush(); err != nil {
			return err
		}
		if err := zf.Close(); err != nil {
			return err
		}
	}
	sw.WriteString("]}\n")
	for _, w := range []*bufio.Writer{sw, cw, pw} {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	fmt.Printf("nsmem gen: %d zone(s) of %d records in %s\n", zones, perZone, *out)
	return nil
}

// serve runs one Waymark nameserver as `waymark nameserver` does, minus
// NATS (pointed at a closed port: the node syncs from the snapshot or the
// cache and keeps retrying the stream in the background).
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:5300", "DNS listen address")
	snapURL := fs.String("snapshot-url", "", "control-plane base URL to load the snapshot from")
	cacheDir := fs.String("cache-dir", "", "on-disk cache directory to load from (when no -snapshot-url)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the initial load to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer f.Close()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	store := dataplane.NewStore()
	srv := dataplane.NewServer(store, dataplane.Config{Addr: *addr, Logger: log})
	if err := srv.Start(ctx); err != nil {
		return err
	}
	ready := make(chan struct{})
	node, err := dataplane.NewNode(dataplane.NodeConfig{
		NodeID: "nsmem", Region: "bench",
		NATSURL:     "nats://127.0.0.1:1",
		SnapshotURL: *snapURL,
		AdminToken:  cmp.Or(os.Getenv("WAYMARK_ADMIN_TOKEN"), "bench"),
		CacheDir:    *cacheDir,
		Store:       store,
		SetReady: func(r bool) {
			srv.SetReady(r)
			if r {
				close(ready)
			}
		},
		Logger: log,
	})
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- node.Run(ctx) }()
	select {
	case <-ready:
	case err := <-done:
		return fmt.Errorf("node stopped before ready: %v", err)
	}
	fmt.Printf("ready %d zones in %s\n", store.Len(), time.Since(start).Round(time.Millisecond))
	pprof.StopCPUProfile()
	// The GC runs only when measure asks (SIGUSR1), after it has timed the
	// first answers: on one core it would otherwise delay them.
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	for {
		select {
		case <-usr1:
			runtime.GC()
			debug.FreeOSMemory()
			fmt.Println("settled")
			continue
		case <-ctx.Done():
		}
		break
	}
	err = <-done
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return err
}

// mkcache writes a node's on-disk cache for a snapshot file: a node loads
// it over HTTP and writes its cache when it stops.
func mkcache(args []string) error {
	fs := flag.NewFlagSet("mkcache", flag.ContinueOnError)
	snapshot := fs.String("snapshot", "", "event.Snapshot JSON file")
	cacheDir := fs.String("cache-dir", "", "cache directory to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *snapshot == "" || *cacheDir == "" {
		return errors.New("-snapshot and -cache-dir are required")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, *snapshot)
	})}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan struct{})
	node, err := dataplane.NewNode(dataplane.NodeConfig{
		NodeID: "nsmem", Region: "bench",
		NATSURL:     "nats://127.0.0.1:1",
		SnapshotURL: "http://" + ln.Addr().String(),
		AdminToken:  "bench",
		CacheDir:    *cacheDir,
		SetReady: func(r bool) {
			if r {
				close(ready)
			}
		},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- node.Run(ctx) }()
	select {
	case <-ready:
	case err := <-done:
		return fmt.Errorf("node stopped before ready: %v", err)
	}
	cancel() // Run writes the cache on its way out
	return <-done
}

// measure starts a server process and reports its load time and RSS.
func measure(args []string) error {
	fs := flag.NewFlagSet("measure", flag.ContinueOnError)
	label := fs.String("label", "server", "prefix of the RESULT keys")
	addr := fs.String("addr", "", "the server's DNS address")
	probeFile := fs.String("probe", "", "file of names that must all answer")
	snapshot := fs.String("snapshot", "", "snapshot JSON to serve at {URL}/v1/nameserver/snapshot")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	usr1 := fs.Bool("usr1", false, "settle by sending SIGUSR1 and waiting for \"settled\" (nsmem serve)")
	settleDelay := fs.Duration("settle-delay", 0, "wait this long after the first answers before settling")
	samples := fs.String("samples", "", "comma-separated times after exec (8s,30s,60s) at which to read VmRSS, then VmHWM; replaces settling unless -usr1")
	then := fs.String("then", "", "shell command to run against the server once measured (SERVER_PID set)")
	do := fs.Bool("do", false, "probe with DO=1: a name counts as answered only once its answer carries an RRSIG (signed zones)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cmdArgs := fs.Args()
	if len(cmdArgs) == 0 || *addr == "" || *probeFile == "" {
		return errors.New("usage: measure -label L -addr A -probe FILE [-snapshot FILE] -- CMD ARGS")
	}
	b, err := os.ReadFile(*probeFile)
	if err != nil {
		return err
	}
	probes := strings.Fields(string(b))

	if *snapshot != "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v1/nameserver/snapshot" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			f, err := os.Open(*snapshot)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			defer f.Close()
			_, _ = io.Copy(w, f)
		})}
		go func() { _ = hs.Serve(ln) }()
		defer hs.Close()
		for i, a := range cmdArgs {
			cmdArgs[i] = strings.ReplaceAll(a, "{URL}", "http://"+ln.Addr().String())
		}
	}

	cmd := exec.Command(cmdArgs[0], cmdArgs[1:]...)
	cmd.Stderr = os.Stderr
	// If measure dies (timeout, ^C), the server must not outlive it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	pid := cmd.Process.Pid
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	settled := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		closed := false
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "ready") {
				fmt.Printf("%s: child says %q (%s after start)\n", *label, sc.Text(), time.Since(t0).Round(time.Millisecond))
			}
			if sc.Text() == "settled" && !closed {
				close(settled)
				closed = true
			}
		}
	}()

	deadline := t0.Add(*timeout)
	c := &dns.Client{Net: "udp", Timeout: 200 * time.Millisecond}
	pending := probes
	for len(pending) > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %d of %d probe names still unanswered after %s", *label, len(pending), len(probes), *timeout)
		}
		// Stop each round at the first name not answered yet: polling all
		// of them every 10 ms would load the server while it loads.
		for len(pending) > 0 {
			m := new(dns.Msg)
			m.SetQuestion(pending[0], dns.TypeA)
			if *do {
				m.SetEdns0(1232, true)
			}
			r, _, err := c.Exchange(m, *addr)
			if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 || (*do && !hasRRSIG(r.Answer)) {
				break
			}
			pending = pending[1:]
		}
		if len(pending) > 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	load := time.Since(t0)
	rssReady, err := vmRSS(pid)
	if err != nil {
		return err
	}

	fmt.Printf("%s: %d probe names answered %s after start; VmRSS %.1f MiB then\n",
		*label, len(probes), load.Round(time.Millisecond), float64(rssReady)/1024)
	fmt.Printf("RESULT %s_load_ms %d\n", *label, load.Milliseconds())
	fmt.Printf("RESULT %s_rss_ready_mib %.1f\n", *label, float64(rssReady)/1024)
	if *samples != "" {
		// The process as it is, with no help: VmRSS at fixed times after
		// exec, then the peak.
		for _, f := range strings.Split(*samples, ",") {
			at, err := time.ParseDuration(strings.TrimSpace(f))
			if err != nil {
				return fmt.Errorf("-samples: %v", err)
			}
			time.Sleep(time.Until(t0.Add(at)))
			v, err := procStatus(pid, "VmRSS:")
			if err != nil {
				return err
			}
			fmt.Printf("%s: VmRSS %.1f MiB at %s\n", *label, float64(v)/1024, at)
			fmt.Printf("RESULT %s_rss_%ds_mib %.1f\n", *label, int(at.Seconds()), float64(v)/1024)
		}
		hwm, err := procStatus(pid, "VmHWM:")
		if err != nil {
			return err
		}
		fmt.Printf("RESULT %s_hwm_mib %.1f\n", *label, float64(hwm)/1024)
		if !*usr1 {
			return nil
		}
	}
	// Settle: the child says so (ours, after a GC), or its RSS stops moving.
	time.Sleep(*settleDelay)
	var rssSettled int
	if *usr1 {
		if err := cmd.Process.Signal(syscall.SIGUSR1); err != nil {
			return err
		}
		select {
		case <-settled:
		case <-time.After(60 * time.Second):
			return fmt.Errorf("%s: no \"settled\" within 60 s of SIGUSR1", *label)
		}
		time.Sleep(200 * time.Millisecond)
		rssSettled, err = vmRSS(pid)
	} else {
		rssSettled, err = stableRSS(pid, 30*time.Second)
	}
	if err != nil {
		return err
	}
	fmt.Printf("%s: %.1f MiB settled\n", *label, float64(rssSettled)/1024)
	fmt.Printf("RESULT %s_rss_mib %.1f\n", *label, float64(rssSettled)/1024)
	if *then == "" {
		return nil
	}
	sh := exec.Command("/bin/sh", "-c", *then)
	sh.Stdout, sh.Stderr = os.Stdout, os.Stderr
	sh.Env = append(os.Environ(), fmt.Sprintf("SERVER_PID=%d", pid))
	sh.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := sh.Run(); err != nil {
		return fmt.Errorf("%s: -then: %w", *label, err)
	}
	if _, err := vmRSS(pid); err != nil {
		return fmt.Errorf("%s: the server is gone after -then: %w", *label, err)
	}
	return nil
}

// hasRRSIG reports whether an answer section carries a signature.
func hasRRSIG(rrs []dns.RR) bool {
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeRRSIG {
			return true
		}
	}
	return false
}

// stableRSS samples VmRSS every 250 ms until four samples in a row are
// within 1% of each other, or until limit.
func stableRSS(pid int, limit time.Duration) (int, error) {
	end := time.Now().Add(limit)
	var hist []int
	for {
		v, err := vmRSS(pid)
		if err != nil {
			return 0, err
		}
		hist = append(hist, v)
		if n := len(hist); n >= 4 {
			lo, hi := hist[n-4], hist[n-4]
			for _, x := range hist[n-4:] {
				lo, hi = min(lo, x), max(hi, x)
			}
			if float64(hi-lo) <= 0.01*float64(hi) || time.Now().After(end) {
				return v, nil
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// vmRSS returns the VmRSS of pid in KiB.
func vmRSS(pid int) (int, error) { return procStatus(pid, "VmRSS:") }

// procStatus returns a KiB field of /proc/PID/status (VmRSS:, VmHWM:).
func procStatus(pid int, field string) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				return strconv.Atoi(f[0])
			}
		}
	}
	return 0, fmt.Errorf("no %s for pid %d", field, pid)
}
