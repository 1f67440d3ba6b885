// Command xfrbench measures outgoing zone transfers (bench/run.sh part 11,
// docs/benchmarks.md): the Waymark data plane against Knot DNS in the same
// run, each in its own process holding the same two zones, transferred
// with TSIG (hmac-sha256) by miekg/dns's client over loopback.
//
//	ixfr.bench.  -ixfr-records A records (100,000): after one change (one
//	             record added), an IXFR from the previous serial; bytes
//	             and time.
//	axfr.bench.  -axfr-records A records (1,000,000): an AXFR; bytes, time,
//	             and the server's memory: VmRSS before the transfer and the
//	             peak (VmHWM, reset just before through /proc/PID/clear_refs)
//	             during it.
//
//	xfrbench run [-ixfr-records N] [-axfr-records N] [-knot-port P]
//	xfrbench serve -dir DIR -port P   (the Waymark process run starts)
//
// Output: "RESULT key value" lines (bench/run.sh reads them) and a table.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/dataplane"
	"github.com/waymark-dns/waymark/dnssec"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

const (
	keyName  = "bench-xfr."
	ixfrZone = "ixfr.bench."
	axfrZone = "axfr.bench."
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: xfrbench run|serve [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = run(os.Args[2:])
	case "serve":
		err = serve(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "xfrbench:", err)
		os.Exit(1)
	}
}

// config is what run hands serve, in DIR/config.
type config struct {
	ixfrRecords, axfrRecords int
	secret                   string // base64
}

func (c config) write(dir string) error {
	return os.WriteFile(filepath.Join(dir, "config"), fmt.Appendf(nil, "%d %d %s\n", c.ixfrRecords, c.axfrRecords, c.secret), 0o600)
}

func readConfig(dir string) (config, error) {
	var c config
	b, err := os.ReadFile(filepath.Join(dir, "config"))
	if err != nil {
		return c, err
	}
	_, err = fmt.Sscanf(string(b), "%d %d %s", &c.ixfrRecords, &c.axfrRecords, &c.secret)
	return c, err
}

// addr is the i-th record's address.
func addr(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }

// ---------------------------------------------------------------- serve

// serve runs the Waymark nameserver with both zones; after loading them
// and applying the change to ixfr.bench. it prints "ready" and serves
// until stdin closes.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	dir := fs.String("dir", "", "work directory (config)")
	port := fs.Int("port", 0, "port on 127.0.0.1")
	_ = fs.Parse(args)
	c, err := readConfig(*dir)
	if err != nil {
		return err
	}
	secret, err := base64.StdEncoding.DecodeString(c.secret)
	if err != nil {
		return err
	}
	fleet := make([]byte, 32)
	_, _ = rand.Read(fleet)
	store := dataplane.NewStore()
	store.SetSigning(dataplane.SigningConfig{FleetKey: fleet})
	for _, z := range []struct {
		id, name string
		n        int
	}{{"ZIXFR", ixfrZone, c.ixfrRecords}, {"ZAXFR", axfrZone, c.axfrRecords}} {
		wrapped, err := dnssec.Seal(fleet, secret, zonecfg.TSIGKeyAD(z.id, keyName), rand.Reader)
		if err != nil {
			return err
		}
		sets := make([]zonecfg.RRSet, 0, z.n+2)
		sets = append(sets,
			zonecfg.RRSet{Name: z.name, Type: "SOA", TTL: 3600, Records: []string{"ns1." + z.name + " admin." + z.name + " 1 7200 900 1209600 300"}},
			zonecfg.RRSet{Name: z.name, Type: "NS", TTL: 3600, Records: []string{"ns1." + z.name}})
		for i := range z.n {
			sets = append(sets, zonecfg.RRSet{Name: fmt.Sprintf("r%d.%s", i, z.name), Type: "A", TTL: 300, Records: []string{addr(i)}})
		}
		err = store.ReplaceZone(event.ZoneState{ID: z.id, Name: z.name, TenantID: "T", Version: 1, RRSets: sets,
			Transfers: &zonecfg.Transfers{
				Allow: []zonecfg.TransferACL{{Key: keyName, CIDRs: []string{"127.0.0.0/8"}}},
				Keys:  []zonecfg.TSIGKey{{Name: keyName, Algorithm: "hmac-sha256", Wrapped: wrapped}},
			}})
		if err != nil {
			return err
		}
	}
	if r, err := store.Apply(event.ZoneEvent{Kind: event.ZoneUpdated, ZoneID: "ZIXFR", ZoneName: ixfrZone, TenantID: "T",
		FromVersion: 1, ToVersion: 2, Upserts: []zonecfg.RRSet{{Name: "changed." + ixfrZone, Type: "A", TTL: 300, Records: []string{"192.0.2.1"}}}}); err != nil || r != dataplane.Applied {
		return fmt.Errorf("apply the change: %v %v", r, err)
	}
	srv := dataplane.NewServer(store, dataplane.Config{Addr: fmt.Sprintf("127.0.0.1:%d", *port), UDPWorkers: 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		return err
	}
	srv.SetReady(true)
	debug.FreeOSMemory() // what loading left behind is not the transfer's
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	return srv.Shutdown(sctx)
}

// ---------------------------------------------------------------- run

// figures are one server's measurements.
type figures struct {
	ixfrBytes, axfrBytes int64
	ixfrRecords          int
	ixfrTime, axfrTime   time.Duration
	axfrRecords          int
	rssBefore, peak      int64 // KiB
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	nIXFR := fs.Int("ixfr-records", 100000, "A records in ixfr.bench.")
	nAXFR := fs.Int("axfr-records", 1000000, "A records in axfr.bench.")
	wmPort := fs.Int("waymark-port", 5431, "the Waymark server's port")
	knotPort := fs.Int("knot-port", 5432+1000, "Knot's port")
	knotd := fs.String("knotd", "knotd", "knotd binary")
	_ = fs.Parse(args)
	dir, err := os.MkdirTemp("", "xfrbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	c := config{ixfrRecords: *nIXFR, axfrRecords: *nAXFR, secret: base64.StdEncoding.EncodeToString(secret)}
	if err := c.write(dir); err != nil {
		return err
	}

	// Waymark.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	wm := exec.Command(self, "serve", "-dir", dir, "-port", strconv.Itoa(*wmPort))
	wm.Stderr = os.Stderr
	stdin, _ := wm.StdinPipe()
	out, _ := wm.StdoutPipe()
	start := time.Now()
	if err := wm.Start(); err != nil {
		return err
	}
	defer func() { _ = stdin.Close(); _ = wm.Wait() }()
	if line, _ := bufio.NewReader(out).ReadString('\n'); strings.TrimSpace(line) != "ready" {
		return fmt.Errorf("waymark serve: %q", line)
	}
	fmt.Printf("waymark loaded in %s\n", time.Since(start).Round(time.Millisecond))
	wmAddr := fmt.Sprintf("127.0.0.1:%d", *wmPort)
	w, err := measure(wm.Process.Pid, wmAddr, c, 1)
	if err != nil {
		return fmt.Errorf("waymark: %w", err)
	}
	_ = stdin.Close()
	_ = wm.Wait()

	// Knot, with the same zones as master files; the change is a new
	// file at serial 2 loaded as a difference, which Knot journals.
	k, err := runKnot(*knotd, dir, *knotPort, c)
	if err != nil {
		return fmt.Errorf("knot: %w", err)
	}

	fmt.Printf("\n%-34s %14s %14s %8s\n", "", "waymark", "knot", "ratio")
	row := func(key, label string, a, b float64, unit string) {
		fmt.Printf("%-34s %12.1f%-2s %12.1f%-2s %8.2f\n", label, a, unit, b, unit, a/b)
		fmt.Printf("RESULT waymark_%s %.1f\nRESULT knot_%s %.1f\nRESULT ratio_%s %.2f\n", key, a, key, b, key, a/b)
	}
	row("ixfr_bytes", fmt.Sprintf("IXFR after 1 change, %d-record zone", c.ixfrRecords), float64(w.ixfrBytes), float64(k.ixfrBytes), "B")
	row("ixfr_ms", "IXFR time", ms(w.ixfrTime), ms(k.ixfrTime), "ms")
	row("axfr_bytes", fmt.Sprintf("AXFR, %d-record zone", c.axfrRecords), float64(w.axfrBytes)/1e6, float64(k.axfrBytes)/1e6, "MB")
	row("axfr_ms", "AXFR time", ms(w.axfrTime), ms(k.axfrTime), "ms")
	row("rss_before_mib", "server RSS before the AXFR", float64(w.rssBefore)/1024, float64(k.rssBefore)/1024, "Mi")
	row("axfr_peak_growth_mib", "peak RSS growth during the AXFR", float64(w.peak-w.rssBefore)/1024, float64(k.peak-k.rssBefore)/1024, "Mi")
	fmt.Printf("RESULT waymark_ixfr_records %d\nRESULT waymark_ixfr_zone_fraction %.5f\n", w.ixfrRecords, float64(w.ixfrBytes)/float64(w.axfrBytes)*float64(c.axfrRecords)/float64(c.ixfrRecords))
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// measure runs the IXFR (from serial from) and the AXFR against the
// server with process id pid at addr.
func measure(pid int, addr string, c config, from uint32) (figures, error) {
	var f figures
	t0 := time.Now()
	n, b, err := transfer(addr, ixfrZone, dns.TypeIXFR, from, c.secret)
	if err != nil {
		return f, fmt.Errorf("IXFR: %w", err)
	}
	f.ixfrTime, f.ixfrBytes, f.ixfrRecords = time.Since(t0), b, n
	// Reset the peak to the current RSS (Linux clear_refs 5), so that
	// VmHWM after the AXFR is the transfer's peak, not the load's.
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		return f, fmt.Errorf("reset the peak RSS: %w", err)
	}
	f.rssBefore = procKiB(pid, "VmRSS")
	t0 = time.Now()
	n, b, err = transfer(addr, axfrZone, dns.TypeAXFR, 0, c.secret)
	if err != nil {
		return f, fmt.Errorf("AXFR: %w", err)
	}
	f.axfrTime, f.axfrBytes, f.axfrRecords = time.Since(t0), b, n
	f.peak = procKiB(pid, "VmHWM")
	if n < c.axfrRecords {
		return f, fmt.Errorf("AXFR of %d records, want %d", n, c.axfrRecords+3)
	}
	return f, nil
}

// transfer runs one AXFR or IXFR with miekg's client, which verifies
// every message's TSIG; it returns the records and the bytes read.
func transfer(addr, zone string, qtype uint16, serial uint32, secret string) (int, int64, error) {
	m := new(dns.Msg)
	if qtype == dns.TypeIXFR {
		m.SetIxfr(zone, serial, "ns1."+zone, "admin."+zone)
	} else {
		m.SetAxfr(zone)
	}
	m.SetTsig(keyName, dns.HmacSHA256, 300, time.Now().Unix())
	raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, 0, err
	}
	cc := &countConn{Conn: raw}
	tr := &dns.Transfer{Conn: &dns.Conn{Conn: cc}, ReadTimeout: 60 * time.Second, TsigSecret: map[string]string{keyName: secret}}
	ch, err := tr.In(m, addr)
	if err != nil {
		return 0, 0, err
	}
	n := 0
	for env := range ch {
		if env.Error != nil {
			return n, cc.n.Load(), env.Error
		}
		n += len(env.RR)
	}
	_ = raw.Close()
	return n, cc.n.Load(), nil
}

// countConn counts the bytes read.
type countConn struct {
	net.Conn
	n atomic.Int64
}

func (c *countConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// procKiB reads a field of /proc/PID/status, in KiB.
func procKiB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				v, _ := strconv.ParseInt(f[1], 10, 64)
				return v
			}
		}
	}
	return 0
}

// writeZone writes a master file of zone at serial with n records (and
// the changed record when changed).
func writeZone(path, zone string, serial, n int, changed bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(w, "$ORIGIN %s\n$TTL 300\n@ 3600 SOA ns1 admin %d 7200 900 1209600 300\n@ 3600 NS ns1\n", zone, serial)
	for i := range n {
		fmt.Fprintf(w, "r%d A %s\n", i, addr(i))
	}
	if changed {
		fmt.Fprintln(w, "changed A 192.0.2.1")
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// runKnot runs knotd with both zones and measures it as the Waymark
// process was.
func runKnot(bin, dir string, port int, c config) (figures, error) {
	kd := filepath.Join(dir, "knot")
	if err := os.MkdirAll(kd, 0o700); err != nil {
		return figures{}, err
	}
	// Knot's file names: "%s.zone", %s the zone without its final dot.
	if err := writeZone(filepath.Join(kd, ixfrZone+"zone"), ixfrZone, 1, c.ixfrRecords, false); err != nil {
		return figures{}, err
	}
	if err := writeZone(filepath.Join(kd, axfrZone+"zone"), axfrZone, 1, c.axfrRecords, false); err != nil {
		return figures{}, err
	}
	conf := fmt.Sprintf(`server:
    rundir: %[1]s
    listen: 127.0.0.1@%[2]d
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
control:
    listen: %[1]s/knot.sock
log:
  - target: stderr
    any: warning
database:
    storage: %[1]s
key:
  - id: %[3]s
    algorithm: hmac-sha256
    secret: %[4]s
acl:
  - id: xfr
    key: %[3]s
    action: transfer
template:
  - id: default
    storage: %[1]s
    file: "%%s.zone"
    zonefile-sync: -1
    zonefile-load: difference
    journal-content: changes
    semantic-checks: off
    acl: xfr
zone:
  - domain: %[5]s
  - domain: %[6]s
`, kd, port, keyName, c.secret, ixfrZone, axfrZone)
	path := filepath.Join(kd, "knot.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return figures{}, err
	}
	cmd := exec.Command(bin, "-c", path)
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return figures{}, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for _, z := range []string{ixfrZone, axfrZone} {
		if err := waitSerial(addr, z, 1, 10*time.Minute); err != nil {
			return figures{}, err
		}
	}
	fmt.Printf("knot loaded in %s\n", time.Since(start).Round(time.Millisecond))
	// The change: the file at serial 2 with one record more, reloaded.
	if err := writeZone(filepath.Join(kd, ixfrZone+"zone"), ixfrZone, 2, c.ixfrRecords, true); err != nil {
		return figures{}, err
	}
	if out, err := exec.Command("knotc", "-s", filepath.Join(kd, "knot.sock"), "zone-reload", ixfrZone).CombinedOutput(); err != nil {
		return figures{}, fmt.Errorf("knotc zone-reload: %v: %s", err, out)
	}
	if err := waitSerial(addr, ixfrZone, 2, 5*time.Minute); err != nil {
		return figures{}, err
	}
	return measure(cmd.Process.Pid, addr, c, 1)
}

// waitSerial polls zone's SOA at addr until it has serial.
func waitSerial(addr, zone string, serial uint32, d time.Duration) error {
	deadline := time.Now().Add(d)
	c := &dns.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		m := new(dns.Msg)
		m.SetQuestion(zone, dns.TypeSOA)
		if r, _, err := c.Exchange(m, addr); err == nil && len(r.Answer) == 1 {
			if soa, ok := r.Answer[0].(*dns.SOA); ok && soa.Serial == serial {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return errors.New(zone + ": serial not reached at " + addr)
}
