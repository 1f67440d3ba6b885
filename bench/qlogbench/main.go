// Command qlogbench measures what query logging costs a nameserver: one
// dataplane server holds two zones of the same records, on.bench. with
// query logging on (entries published to a real JetStream stream, as in
// production) and off.bench. without, and dnsperf alternates between
// them in rounds (off, on, off, on, …) against the same process, so that
// both see the same machine. It prints the median qps of each and their
// ratio (make bench part 12; docs/benchmarks.md).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/dataplane"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "qlogbench:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:5427", "UDP listen address")
	records := flag.Int("records", 10000, "A record sets per zone")
	duration := flag.Int("duration", 10, "seconds per dnsperf run")
	rounds := flag.Int("rounds", 3, "rounds of (off, on)")
	clients := flag.Int("clients", 4, "dnsperf clients")
	flag.Parse()

	dir, err := os.MkdirTemp("", "qlogbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: filepath.Join(dir, "nats"), NoSigs: true, NoLog: true})
	if err != nil {
		return err
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		return fmt.Errorf("nats did not start")
	}
	defer ns.Shutdown()
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(256))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := js.CreateOrUpdateStream(ctx, event.QueryLogStreamConfig(1, 256<<20, time.Hour)); err != nil {
		return err
	}
	// As the nameserver publishes (cmd/waymark/querylog.go).
	ql := dataplane.NewQueryLog(dataplane.QueryLogConfig{NodeID: "bench", Region: "bench-1",
		Publish: func(subject string, data []byte, entries int) error {
			_, err := js.PublishAsync(subject, append([]byte(nil), data...))
			return err
		}})
	go ql.Run(ctx)

	store := dataplane.NewStore()
	for _, z := range []struct {
		id, name string
		logged   bool
	}{{"ZOFF", "off.bench.", false}, {"ZON", "on.bench.", true}} {
		st := event.ZoneState{ID: z.id, Name: z.name, Version: 1, RRSets: []zonecfg.RRSet{
			{Name: z.name, Type: "SOA", TTL: 3600, Records: []string{"ns1." + z.name + " hostmaster." + z.name + " 1 7200 900 1209600 300"}},
			{Name: z.name, Type: "NS", TTL: 3600, Records: []string{"ns1." + z.name}},
		}}
		for i := range *records {
			st.RRSets = append(st.RRSets, zonecfg.RRSet{Name: fmt.Sprintf("h%d.%s", i, z.name), Type: "A", TTL: 300,
				Records: []string{fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}})
		}
		if z.logged {
			st.QueryLogging = &zonecfg.QueryLogging{ConfigID: "bench"}
		}
		if err := store.ReplaceZone(st); err != nil {
			return err
		}
		if err := writeQueries(filepath.Join(dir, z.id+".txt"), z.name, *records); err != nil {
			return err
		}
	}
	srv := dataplane.NewServer(store, dataplane.Config{Addr: *addr, Logger: slog.New(slog.DiscardHandler),
		Cookies: dataplane.CookieConfig{Off: true}})
	srv.Handler().SetQueryLog(ql)
	if err := srv.Start(ctx); err != nil {
		return err
	}
	defer func() { _ = srv.Shutdown(context.Background()) }()
	srv.SetReady(true)
	host, port, _ := net.SplitHostPort(srv.UDPAddr().String())

	qps := map[string][]float64{}
	for r := range *rounds {
		for _, z := range []string{"ZOFF", "ZON"} {
			q, err := dnsperf(host, port, filepath.Join(dir, z+".txt"), *duration, *clients)
			if err != nil {
				return err
			}
			fmt.Printf("round %d: %s %.0f qps\n", r+1, z, q)
			qps[z] = append(qps[z], q)
		}
	}
	off, on := median(qps["ZOFF"]), median(qps["ZON"])
	// Let the last batches go out before the counters are read.
	time.Sleep(time.Second)
	st := ql.Stats()
	fmt.Printf("qps_logging_off %.0f\nqps_logging_on %.0f\nratio_on_off %.3f\n", off, on, on/off)
	fmt.Printf("entries_queued %d\nentries_dropped %d\nentries_published %d\nentries_failed %d\n", st.Queued, st.Dropped, st.Published, st.Failed)
	return nil
}

// writeQueries writes a dnsperf query file of the zone's A names.
func writeQueries(path, zone string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i := range n {
		fmt.Fprintf(w, "h%d.%s A\n", (i*7919)%n, zone)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

var qpsLine = regexp.MustCompile(`Queries per second:\s+([0-9.]+)`)

// dnsperf runs dnsperf for d seconds and returns its queries per second.
func dnsperf(host, port, file string, d, clients int) (float64, error) {
	out, err := exec.Command("dnsperf", "-s", host, "-p", port, "-d", file, "-l", strconv.Itoa(d),
		"-c", strconv.Itoa(clients), "-q", "200").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("dnsperf: %v\n%s", err, out)
	}
	m := qpsLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("dnsperf printed no qps:\n%s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
