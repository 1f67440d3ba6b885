// Package fleet starts Waymark's production roles as separate processes on
// this machine — a three-node NATS JetStream cluster, two `waymark api`
// processes, three `waymark nameserver` processes and a health checker in
// each of three regions, on distinct loopback addresses, every process with
// its own data directory and --nats-replicas 3, on a fresh PostgreSQL
// schema — so that tests can kill -9 any of them and restart it. With
// Options.LinkDelays the regions are far away: each has a NATS leaf node
// its nameserver connects to, joined to the hub cluster over delayed
// links that a test can cut.
//
// `make fleet` runs it (internal/fleet/fleetup) and prints the addresses;
// its fault tests (fleet_test.go) run in `make test`, alone in
// `make fleet-test`.
// It is not a _test.go file so that the command and the tests share it;
// nothing in production imports it.
package fleet

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/migrations"
)

// Regions returns the fleet's regions, one nameserver and one health
// checker each, in nameserver order; nameserver i listens on
// 127.0.0.(11+i).
func Regions() []string { return []string{"eu-west-1", "us-east-1", "ap-southeast-1"} }

// Binaries are the programs the fleet runs.
type Binaries struct {
	Waymark, NATS string
	// NATSServer is nats-server's own command (its flags and
	// configuration files), from the module of go.mod: what
	// docker-compose.yml's nats image runs.
	NATSServer string
}

// Build compiles cmd/waymark, internal/fleet/natsnode and nats-server
// into dir, once.
func Build(ctx context.Context, dir string) (Binaries, error) {
	b := Binaries{Waymark: filepath.Join(dir, "waymark"), NATS: filepath.Join(dir, "natsnode"),
		NATSServer: filepath.Join(dir, "nats-server")}
	for pkg, out := range map[string]string{
		"github.com/waymark-dns/waymark/cmd/waymark":             b.Waymark,
		"github.com/waymark-dns/waymark/internal/fleet/natsnode": b.NATS,
		"github.com/nats-io/nats-server/v2":                      b.NATSServer,
	} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		if o, err := cmd.CombinedOutput(); err != nil {
			return b, fmt.Errorf("go build %s: %v\n%s", pkg, err, o)
		}
	}
	return b, nil
}

// HubDomain is the JetStream domain of the hub cluster, which the
// regions' leaf nodes map their clients' JetStream API to.
const HubDomain = "hub"

// Options configure Start.
type Options struct {
	Bin Binaries
	// Dir holds every process's data directory and log.
	Dir string
	// PortBase, when set, numbers the ports from it (make fleet uses the
	// operator's range); zero picks free ports.
	PortBase int
	// StartTimeout bounds the wait for each role (default 3 minutes: the
	// machines running this are loaded).
	StartTimeout time.Duration
	// LinkDelays, when set, puts each region (in Regions order) across a
	// WAN of that one-way delay from the hub, the three-node cluster: the
	// region's nameserver connects to a NATS leaf node in its region
	// (docs/decisions.md, "Regions: leaf nodes"), which dials every hub
	// node's leaf port through a Link, and reaches the APIs (its own
	// first) through links too.
	// Nil connects every nameserver to the three nodes and its API
	// directly.
	LinkDelays []time.Duration
	// PingInterval is every NATS server's ping interval (two unanswered
	// close a connection): how soon a leaf node notices its region is
	// cut off. Default 5 s with LinkDelays, else nats-server's 2 min.
	PingInterval time.Duration
}

// Fleet is a running set of processes.
type Fleet struct {
	// NATS, APIs, Nameservers and Checkers are the processes, by role;
	// Leaves the regions' leaf nodes (Options.LinkDelays), in Regions
	// order.
	NATS, APIs, Nameservers, Checkers, Leaves []*Proc
	// WANs are the regions' links to the hub (Options.LinkDelays), in
	// Regions order; empty without them.
	WANs []*WAN
	// NATSURLs are the cluster's client URLs; APIURLs the API base URLs;
	// DNS the nameservers' addresses (UDP and TCP).
	NATSURLs, APIURLs, DNS []string
	// DatabaseURL is the fresh schema's URL; AdminToken the operator's
	// token; Token the API key of the tenant "fleet".
	DatabaseURL, AdminToken, Token string

	o       Options
	schema  string
	secrets []string
	next    int
	// nets are the far regions' network namespaces, by region index.
	nets []*regionNet
	// given are the addresses port has handed out.
	given map[string]bool
}

// Proc is one process of the fleet, restartable with the same command.
type Proc struct {
	Name string
	args []string
	env  []string
	log  string
	bin  string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

func (p *Proc) start() error {
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return fmt.Errorf("%s: %w", p.Name, err)
	}
	exited := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		_ = f.Close()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(exited)
	}()
	return nil
}

// Kill sends SIGKILL (kill -9) and waits for the process to be gone.
func (p *Proc) Kill() {
	p.signal(syscall.SIGKILL, 0)
}

// Stop sends SIGTERM and waits up to 20 s, then kills.
func (p *Proc) Stop() {
	p.signal(syscall.SIGTERM, 20*time.Second)
}

func (p *Proc) signal(sig syscall.Signal, grace time.Duration) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	if grace > 0 {
		select {
		case <-exited:
			return
		case <-time.After(grace):
			_ = cmd.Process.Kill()
		}
	}
	<-exited
}

// Restart starts the process again with the same command line and data
// directory (after Kill or Stop).
func (p *Proc) Restart() error { return p.start() }

// Running reports whether the process has not exited.
func (p *Proc) Running() bool {
	p.mu.Lock()
	exited := p.exited
	p.mu.Unlock()
	if exited == nil {
		return false
	}
	select {
	case <-exited:
		return false
	default:
		return true
	}
}

// Log returns what the process has written (all its runs).
func (p *Proc) Log() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// Start brings the fleet up, role by role, waiting for each: NATS (a
// JetStream meta leader), the first API (it migrates), the second, the
// tenant, the nameservers (answering) and the checkers. On error the
// processes started so far are stopped.
func Start(ctx context.Context, o Options) (*Fleet, error) {
	if o.StartTimeout == 0 {
		o.StartTimeout = 3 * time.Minute
	}
	if o.PingInterval == 0 && o.LinkDelays != nil {
		o.PingInterval = 5 * time.Second
	}
	f := &Fleet{o: o, next: o.PortBase}
	if err := f.start(ctx); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func (f *Fleet) start(ctx context.Context) error {
	if err := f.createSchema(ctx); err != nil {
		return err
	}
	master, jwt, admin := randHex(32), randHex(32), randHex(16)
	f.AdminToken = admin
	f.secrets = []string{"WAYMARK_MASTER_KEY=" + master, "WAYMARK_JWT_KEY=" + jwt, "WAYMARK_ADMIN_TOKEN=" + admin,
		"WAYMARK_FLEET_KEY=" + randHex(32)}

	// NATS: three nodes routed to each other, the hub of the regions'
	// leaf nodes.
	var client, route, leaf []string
	for range 3 {
		c, err := f.port("127.0.0.1")
		if err != nil {
			return err
		}
		r, err := f.port("127.0.0.1")
		if err != nil {
			return err
		}
		l, err := f.port("127.0.0.1")
		if err != nil {
			return err
		}
		client, route, leaf = append(client, c), append(route, r), append(leaf, l)
	}
	var ping []string
	if f.o.PingInterval > 0 {
		ping = []string{"-ping-interval", f.o.PingInterval.String()}
	}
	for i := range 3 {
		var others []string
		for j, r := range route {
			if j != i {
				others = append(others, r)
			}
		}
		name := fmt.Sprintf("n%d", i+1)
		store := filepath.Join(f.o.Dir, "nats-"+name)
		if err := os.MkdirAll(store, 0o755); err != nil {
			return err
		}
		args := []string{"-name", name, "-listen", client[i], "-cluster", route[i],
			"-routes", strings.Join(others, ","), "-store", store}
		if f.o.LinkDelays != nil {
			args = append(args, "-leaf-listen", leaf[i], "-js-domain", HubDomain)
		}
		p := f.proc("nats-"+name, f.o.Bin.NATS, nil, append(args, ping...)...)
		if err := p.start(); err != nil {
			return err
		}
		f.NATS = append(f.NATS, p)
		f.NATSURLs = append(f.NATSURLs, "nats://"+client[i])
	}
	if err := f.waitNATS(ctx); err != nil {
		return err
	}
	urls := strings.Join(f.NATSURLs, ",")

	// Two API processes, one after the other: the first migrates.
	for i := range 2 {
		addr, err := f.port("127.0.0.1")
		if err != nil {
			return err
		}
		p := f.proc(fmt.Sprintf("api-%d", i+1), f.o.Bin.Waymark, f.secrets, "api",
			"--database-url", f.DatabaseURL, "--nats-url", urls, "--listen", addr, "--nats-replicas", "3")
		if err := p.start(); err != nil {
			return err
		}
		f.APIs = append(f.APIs, p)
		f.APIURLs = append(f.APIURLs, "http://"+addr)
		if err := f.waitHTTP(ctx, p, "http://"+addr+"/readyz"); err != nil {
			return err
		}
	}
	if err := f.createTenant(ctx); err != nil {
		return err
	}

	// A nameserver and a checker in each region, on the region's NATS
	// (and, for a far region, in its network namespace).
	regionURLs := make([]string, len(Regions()))
	for i, region := range Regions() {
		cache := filepath.Join(f.o.Dir, "ns-"+region)
		if err := os.MkdirAll(cache, 0o755); err != nil {
			return err
		}
		nsURLs, apiURL := urls, f.APIURLs[i%len(f.APIURLs)]
		var addr string
		var err error
		if f.o.LinkDelays != nil {
			if nsURLs, apiURL, err = f.region(ctx, i, region, leaf, ping); err != nil {
				return err
			}
			// The namespace's ports are all free: it is new.
			addr = net.JoinHostPort(f.nets[i].RegionIP, strconv.Itoa(regionDNSPort))
		} else if addr, err = f.port(fmt.Sprintf("127.0.0.%d", 11+i)); err != nil {
			return err
		}
		p := f.procIn(i, "ns-"+region, f.o.Bin.Waymark, f.secrets, "nameserver",
			"--region", region, "--node-id", "ns-"+region, "--listen", addr, "--nats-url", nsURLs,
			"--api", apiURL, "--cache-dir", cache)
		if err := p.start(); err != nil {
			return err
		}
		f.Nameservers = append(f.Nameservers, p)
		f.DNS = append(f.DNS, addr)
		regionURLs[i] = nsURLs
	}
	for i, region := range Regions() {
		hc := f.procIn(i, "hc-"+region, f.o.Bin.Waymark, f.secrets, "healthchecker",
			"--region", region, "--node-id", "hc-"+region, "--nats-url", regionURLs[i], "--nats-replicas", "3",
			"--allow-private-targets")
		if err := hc.start(); err != nil {
			return err
		}
		f.Checkers = append(f.Checkers, hc)
		if err := f.WaitNameserver(ctx, i); err != nil {
			return err
		}
	}
	return nil
}

// region starts region i's WAN and leaf node: the leaf dials each hub
// node's leaf port (hubLeaf) through a link of the region's delay, and the
// APIs are reached through links too. It returns the NATS URL (the
// leaf's) and the API URLs (comma-separated, the region's own first) the
// region's nameserver is to use, once the leaf is connected to the hub.
func (f *Fleet) region(ctx context.Context, i int, region string, hubLeaf, ping []string) (natsURL, apiURL string, err error) {
	n, err := newRegionNet(ctx, i)
	if err != nil {
		return "", "", err
	}
	f.nets = append(f.nets, n)
	w := &WAN{Delay: f.o.LinkDelays[i], Host: n.HostIP}
	f.WANs = append(f.WANs, w)
	var remotes []string
	for _, hl := range hubLeaf {
		l, err := w.Link(hl)
		if err != nil {
			return "", "", err
		}
		remotes = append(remotes, l.Addr())
	}
	// Every API, the region's own first: the nameserver falls back to
	// the others (and then to its cache) when one cannot answer.
	var apis []string
	for j := range f.APIURLs {
		a, err := w.Link(strings.TrimPrefix(f.APIURLs[(i+j)%len(f.APIURLs)], "http://"))
		if err != nil {
			return "", "", err
		}
		apis = append(apis, "http://"+a.Addr())
	}
	addr := net.JoinHostPort(n.RegionIP, "4222")
	p := f.procIn(i, "leaf-"+region, f.o.Bin.NATS, nil, append([]string{"-name", "leaf-" + region, "-listen", addr,
		"-leaf-remote", strings.Join(remotes, ","), "-js-domain", HubDomain}, ping...)...)
	if err := p.start(); err != nil {
		return "", "", err
	}
	f.Leaves = append(f.Leaves, p)
	natsURL = "nats://" + addr
	// Connected once the hub's JetStream answers through it.
	err = Await(ctx, f.o.StartTimeout, func() error {
		if !p.Running() {
			return fmt.Errorf("%s exited:\n%s", p.Name, tail(p.Log()))
		}
		return jetStreamAnswers(ctx, natsURL)
	})
	return natsURL, strings.Join(apis, ","), err
}

// jetStreamAnswers reports whether JetStream answers an account request
// through the server at u.
func jetStreamAnswers(ctx context.Context, u string) error {
	nc, err := nats.Connect(u, nats.Timeout(2*time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	actx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err = js.AccountInfo(actx); err != nil {
		return fmt.Errorf("%s: JetStream: %w", u, err)
	}
	return nil
}

// proc describes a process whose log is Dir/name.log; secrets, when set,
// are its only WAYMARK_* settings (flags carry the rest).
func (f *Fleet) proc(name, bin string, extraEnv []string, args ...string) *Proc {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "WAYMARK_") || k == "DATABASE_URL" {
			continue
		}
		env = append(env, kv)
	}
	return &Proc{Name: name, bin: bin, args: args, env: append(env, extraEnv...),
		log: filepath.Join(f.o.Dir, name+".log")}
}

// procIn is proc for region i's processes: inside its network namespace
// when it has one.
func (f *Fleet) procIn(i int, name, bin string, extraEnv []string, args ...string) *Proc {
	p := f.proc(name, bin, extraEnv, args...)
	if i < len(f.nets) {
		p.bin, p.args = f.nets[i].wrap(bin, args)
	}
	return p
}

// port returns host:port free for TCP and UDP now: the next of PortBase's
// range, or one the kernel picks.
func (f *Fleet) port(host string) (string, error) {
	for range 50 {
		addr := net.JoinHostPort(host, "0")
		if f.o.PortBase != 0 {
			addr = net.JoinHostPort(host, fmt.Sprint(f.next))
			f.next++
		}
		tl, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		a := tl.Addr().String()
		ul, err := net.ListenPacket("udp", a)
		_ = tl.Close()
		if err != nil {
			continue
		}
		_ = ul.Close()
		// The kernel may hand out a port again once it is closed, and a
		// port given earlier may not be bound yet by its process.
		if f.given[a] {
			continue
		}
		if f.given == nil {
			f.given = map[string]bool{}
		}
		f.given[a] = true
		return a, nil
	}
	return "", fmt.Errorf("fleet: no free port on %s", host)
}

// Await polls cond every 100 ms until it returns nil, ctx ends or d
// passes; it returns cond's last error then.
func Await(ctx context.Context, d time.Duration, cond func() error) error {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// waitNATS waits until every node answers and JetStream has a meta leader
// that accepts account requests.
func (f *Fleet) waitNATS(ctx context.Context) error {
	return Await(ctx, f.o.StartTimeout, func() error {
		for _, p := range f.NATS {
			if !p.Running() {
				return fmt.Errorf("%s exited:\n%s", p.Name, tail(p.Log()))
			}
		}
		for _, u := range f.NATSURLs {
			if err := jetStreamAnswers(ctx, u); err != nil {
				return err
			}
		}
		return nil
	})
}

func (f *Fleet) waitHTTP(ctx context.Context, p *Proc, url string) error {
	hc := &http.Client{Timeout: 3 * time.Second}
	return Await(ctx, f.o.StartTimeout, func() error {
		if !p.Running() {
			return fmt.Errorf("%s exited:\n%s", p.Name, tail(p.Log()))
		}
		resp, err := hc.Get(url)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", url, resp.Status)
		}
		return nil
	})
}

// WaitNameserver waits until nameserver i has synced: it answers a name
// it does not serve with REFUSED, not the SERVFAIL of a nameserver still
// loading.
func (f *Fleet) WaitNameserver(ctx context.Context, i int) error {
	p := f.Nameservers[i]
	return Await(ctx, f.o.StartTimeout, func() error {
		if !p.Running() {
			return fmt.Errorf("%s exited:\n%s", p.Name, tail(p.Log()))
		}
		rcode, err := probeRcode(f.DNS[i])
		if err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		if rcode == 2 { // SERVFAIL: still loading
			return fmt.Errorf("%s answers SERVFAIL: not synced yet", p.Name)
		}
		return nil
	})
}

// RestartNameserver starts nameserver i again and waits until it answers.
func (f *Fleet) RestartNameserver(ctx context.Context, i int) error {
	if err := f.Nameservers[i].Restart(); err != nil {
		return err
	}
	return f.WaitNameserver(ctx, i)
}

func (f *Fleet) createSchema(ctx context.Context) error {
	base := pgtest.URL()
	if err := migrations.EnsureDatabase(ctx, base); err != nil {
		return fmt.Errorf("fleet: PostgreSQL is required (TEST_DATABASE_URL=%s): %w", base, err)
	}
	c, err := pgx.Connect(ctx, base)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	schema := "fleet_" + randHex(6)
	if _, err := c.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return err
	}
	f.schema = schema
	f.DatabaseURL, err = pgtest.WithSearchPath(base, schema)
	return err
}

func (f *Fleet) createTenant(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, f.o.Bin.Waymark, "tenant", "--database-url", f.DatabaseURL, "create", "fleet")
	cmd.Env = f.proc("tenant", "", f.secrets).env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("waymark tenant create: %v\n%s", err, stderr.String())
	}
	var v struct {
		APIKey struct {
			Token string `json:"token"`
		} `json:"api_key"`
	}
	if err := json.Unmarshal(out, &v); err != nil || v.APIKey.Token == "" {
		return fmt.Errorf("waymark tenant create printed %q: %v", out, err)
	}
	f.Token = v.APIKey.Token
	return nil
}

// Close stops every process still running (SIGTERM, then SIGKILL) and
// drops the schema. The directory is the caller's.
func (f *Fleet) Close() error {
	var wg sync.WaitGroup
	for _, group := range [][]*Proc{f.Checkers, f.Nameservers, f.Leaves, f.APIs, f.NATS} {
		for _, p := range group {
			wg.Add(1)
			go func() { defer wg.Done(); p.Stop() }()
		}
		wg.Wait()
	}
	for _, w := range f.WANs {
		w.Close()
	}
	for _, n := range f.nets {
		n.Close()
	}
	f.nets = nil
	if f.schema == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, pgtest.URL())
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, "DROP SCHEMA "+f.schema+" CASCADE")
	f.schema = ""
	return err
}

// Describe lists the processes and their addresses, for `make fleet`.
func (f *Fleet) Describe() string {
	var b strings.Builder
	for i, u := range f.NATSURLs {
		fmt.Fprintf(&b, "nats       %-16s %s\n", f.NATS[i].Name, u)
	}
	for i, u := range f.APIURLs {
		fmt.Fprintf(&b, "api        %-16s %s\n", f.APIs[i].Name, u)
	}
	for _, p := range f.Leaves {
		fmt.Fprintf(&b, "nats leaf  %s\n", p.Name)
	}
	for i, a := range f.DNS {
		fmt.Fprintf(&b, "nameserver %-16s %s (region %s)\n", f.Nameservers[i].Name, a, Regions()[i])
	}
	for _, p := range f.Checkers {
		fmt.Fprintf(&b, "checker    %s\n", p.Name)
	}
	fmt.Fprintf(&b, "\nexport WAYMARK_API=%s\nexport WAYMARK_API_KEY=%s\nexport WAYMARK_ADMIN_TOKEN=%s\nexport DATABASE_URL='%s'\n",
		f.APIURLs[0], f.Token, f.AdminToken, f.DatabaseURL)
	fmt.Fprintf(&b, "logs: %s/*.log\n", f.o.Dir)
	return b.String()
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// tail is the end of a log, for errors.
func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}
