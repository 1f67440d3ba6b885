package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/miekg/dns"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/client"
	"github.com/waymark-dns/waymark/event"
)

// envOnly are the settings the waymark binary reads from the environment
// alone (no flag, so not in -h).
var envOnly = []string{"WAYMARK_MASTER_KEY", "WAYMARK_JWT_KEY", "WAYMARK_ADMIN_TOKEN", "WAYMARK_FLEET_KEY",
	"WAYMARK_LOG_LEVEL", "WAYMARK_LOG_FORMAT"}

// composeRun is docker-compose.yml run as processes on loopback: every
// service's listening port gets a free 127.0.0.1 port, every named volume
// a directory; strings naming a service's host:port, the address it binds
// (0.0.0.0:port, :port, or the bare port) or a volume's path are rewritten
// to those, and nothing else: flags and other values are the file's. A
// file of the repository bind-mounted into a service (a NATS
// configuration) is copied with each of its double-quoted strings
// rewritten the same way, and its container path names the copy.
// PostgreSQL is this machine's, on a fresh schema.
type composeRun struct {
	c     *Compose
	dir   string
	ports map[string]map[string]string // service → container port → 127.0.0.1:port
	binds map[string]map[string]string // service → container path → the rewritten copy
	dbURL string
}

var quotedRe = regexp.MustCompile(`"[^"\n]*"`)

// bind copies the repository's file src (as the compose file names it)
// for service self, its quoted strings rewritten, and returns the copy's
// path and its text.
func (r *composeRun) bind(self, src string) (string, string, error) {
	b, err := os.ReadFile(filepath.Join("../..", src))
	if err != nil {
		return "", "", fmt.Errorf("%s: bind mount %s: %w", self, src, err)
	}
	var errs []error
	out := quotedRe.ReplaceAllStringFunc(string(b), func(q string) string {
		v, err := r.rewrite(self, q[1:len(q)-1])
		if err != nil {
			errs = append(errs, err)
		}
		return `"` + v + `"`
	})
	if len(errs) > 0 {
		return "", "", errs[0]
	}
	dst := filepath.Join(r.dir, "binds", self, filepath.Base(src))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", "", err
	}
	return dst, out, os.WriteFile(dst, []byte(out), 0o644)
}

var hostPortRe = regexp.MustCompile(`^(?:([a-z][a-z0-9+.-]*)://)?(?:([^@/]*)@)?([A-Za-z0-9.-]*):([0-9]+)(/.*|\?.*)?$`)

// rewrite maps one value of service self.
func (r *composeRun) rewrite(self, v string) (string, error) {
	if strings.HasPrefix(v, "-") {
		return v, nil // a flag
	}
	if v == "0.0.0.0" {
		return "127.0.0.1", nil // every interface: loopback here
	}
	if copied, ok := r.binds[self][v]; ok {
		return copied, nil
	}
	for path, vol := range r.c.Services[self].Volumes {
		if v == path || strings.HasPrefix(v, path+"/") {
			return filepath.Join(r.dir, "volumes", vol) + strings.TrimPrefix(v, path), nil
		}
	}
	if _, ok := r.ports[self][v]; ok {
		_, p, _ := net.SplitHostPort(r.ports[self][v])
		return p, nil // a bare port the service binds
	}
	parts := strings.Split(v, ",")
	for i, part := range parts {
		m := hostPortRe.FindStringSubmatch(part)
		if m == nil {
			continue
		}
		scheme, host, port := m[1], m[3], m[4]
		target := host
		if host == "" || host == "0.0.0.0" {
			target = self
		}
		svc := r.c.Services[target]
		if svc == nil {
			continue // not one of ours (an outside address)
		}
		if strings.HasPrefix(svc.Image, "postgres:") {
			if scheme != "postgres" && scheme != "postgresql" {
				return "", fmt.Errorf("%s: %q: PostgreSQL is reached by a postgres:// URL here", self, part)
			}
			parts[i] = r.dbURL // this machine's server, a fresh schema
			continue
		}
		addr, ok := r.ports[target][port]
		if !ok {
			return "", fmt.Errorf("%s: %q: %s does not listen on %s (expose or ports)", self, part, target, port)
		}
		prefix := ""
		if scheme != "" {
			prefix = scheme + "://"
		}
		if m[2] != "" {
			prefix += m[2] + "@"
		}
		parts[i] = prefix + addr + m[5]
	}
	return strings.Join(parts, ","), nil
}

// TestComposeFile runs docker-compose.yml: the three NATS nodes with the
// file's nats-server flags and configuration (nats-server of go.mod), the
// far region's leaf node, the migrations, the two APIs, the nameservers
// and checkers with their command lines and environments, in depends_on
// order. Then the JetStream cluster must have formed with the zone stream
// and both KV buckets on 3 replicas, the leaf node must be connected to
// the hub with JetStream answering through it, and a change submitted to
// one API must go INSYNC (read through the other) and be answered by every
// nameserver — the far region's, whose only NATS server is the leaf node,
// having reported it through the leaf.
func TestComposeFile(t *testing.T) {
	data, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"WAYMARK_MASTER_KEY": randHex(32), "WAYMARK_JWT_KEY": randHex(32),
		"WAYMARK_ADMIN_TOKEN": randHex(16), "WAYMARK_FLEET_KEY": randHex(32)}
	c, err := ParseCompose(data, func(k string) (string, bool) { v, ok := secrets[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	order, err := c.Order()
	if err != nil {
		t.Fatal(err)
	}
	bin := build(t)
	checkComposeSettings(t, c, bin)

	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	f := &Fleet{o: Options{Bin: bin, Dir: dir, StartTimeout: 3 * time.Minute}}
	if err := f.createSchema(ctx); err != nil {
		t.Fatal(err)
	}
	r := &composeRun{c: c, dir: dir, ports: map[string]map[string]string{}, binds: map[string]map[string]string{},
		dbURL: f.DatabaseURL}
	for name, s := range c.Services {
		r.ports[name] = map[string]string{}
		for _, p := range s.Ports {
			a, err := f.port("127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			r.ports[name][p] = a
		}
	}
	var nsNames []string
	nsNATS := map[string]string{}      // nameserver → its NATS URLs, rewritten
	leafURLs := map[string]string{}    // leaf node → its client URL
	leafMonitor := map[string]string{} // leaf node → its monitoring address
	t.Cleanup(func() {
		if t.Failed() {
			for _, g := range [][]*Proc{f.NATS, f.Leaves, f.APIs, f.Nameservers, f.Checkers} {
				for _, p := range g {
					t.Logf("--- %s:\n%s", p.Name, tail(p.Log()))
				}
			}
		}
		if err := f.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	for _, s := range order {
		var binPath string
		switch {
		case strings.HasPrefix(s.Image, "postgres:"):
			continue // this machine's server
		case strings.HasPrefix(s.Image, "nats:"):
			binPath = bin.NATSServer
		case s.Build:
			binPath = bin.Waymark
		default:
			t.Fatalf("%s: image %q: nothing to run it with", s.Name, s.Image)
		}
		// A leaf node is a nats service whose configuration has remotes.
		leaf := false
		r.binds[s.Name] = map[string]string{}
		for path, src := range s.Binds {
			copied, text, err := r.bind(s.Name, src)
			if err != nil {
				t.Fatal(err)
			}
			r.binds[s.Name][path] = copied
			leaf = leaf || strings.Contains(text, "remotes")
		}
		var args, env []string
		natsURL := ""
		for _, a := range s.Command {
			v, err := r.rewrite(s.Name, a)
			if err != nil {
				t.Fatal(err)
			}
			args = append(args, v)
		}
		for k, v := range s.Environment {
			v, err := r.rewrite(s.Name, v)
			if err != nil {
				t.Fatal(err)
			}
			env = append(env, k+"="+v)
			if k == "WAYMARK_NATS_URL" {
				natsURL = v
			}
		}
		if i := slices.Index(args, "--nats-url"); i >= 0 && i+1 < len(args) {
			natsURL = args[i+1]
		}
		for _, vol := range s.Volumes {
			if err := os.MkdirAll(filepath.Join(dir, "volumes", vol), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		slices.Sort(env)
		p := f.proc(s.Name, binPath, env, args...)
		t.Logf("%s: %s %s", s.Name, filepath.Base(binPath), strings.Join(args, " "))
		role := ""
		if s.Build && len(args) > 0 {
			role = args[0]
		}
		if err := p.start(); err != nil {
			t.Fatal(err)
		}
		switch {
		case binPath == bin.NATSServer && leaf:
			f.Leaves = append(f.Leaves, p)
			leafURLs[s.Name] = "nats://" + r.ports[s.Name]["4222"]
			leafMonitor[s.Name] = r.ports[s.Name]["8222"]
		case binPath == bin.NATSServer:
			f.NATS = append(f.NATS, p)
			f.NATSURLs = append(f.NATSURLs, "nats://"+r.ports[s.Name]["4222"])
		case role == "api":
			f.APIs = append(f.APIs, p)
			f.APIURLs = append(f.APIURLs, "http://"+r.ports[s.Name]["8080"])
		case role == "nameserver":
			f.Nameservers = append(f.Nameservers, p)
			f.DNS = append(f.DNS, r.ports[s.Name]["53"])
			nsNames = append(nsNames, s.Name)
			nsNATS[s.Name] = natsURL
		case role == "healthchecker":
			f.Checkers = append(f.Checkers, p)
		default:
			f.Checkers = append(f.Checkers, p) // stopped at Close like the others
		}
		// A service others wait on to complete: wait for its exit.
		if dependedOnToComplete(c, s.Name) {
			p.mu.Lock()
			exited := p.exited
			p.mu.Unlock()
			select {
			case <-exited:
			case <-ctx.Done():
				t.Fatalf("%s did not complete", s.Name)
			}
			p.mu.Lock()
			err := p.waitErr
			p.mu.Unlock()
			if err != nil {
				t.Fatalf("%s: %v\n%s", s.Name, err, p.Log())
			}
		}
	}
	if len(f.NATS) != 3 || len(f.APIs) != 2 || len(f.Nameservers) < 2 || len(f.Checkers) < 2 {
		t.Fatalf("the file runs %d NATS nodes, %d APIs, %d nameservers: want 3, 2, at least 2", len(f.NATS), len(f.APIs), len(f.Nameservers))
	}
	// The far region: a nameserver whose NATS servers are leaf nodes only.
	var far []string
	for _, name := range nsNames {
		onLeaves := true
		for _, u := range strings.Split(nsNATS[name], ",") {
			onLeaves = onLeaves && slices.Contains(slices.Collect(maps.Values(leafURLs)), u)
		}
		if onLeaves {
			far = append(far, name)
		}
	}
	if len(f.Leaves) == 0 || len(far) == 0 {
		t.Fatalf("the file runs %d leaf nodes and %d nameservers connected to leaf nodes only: want at least one of each", len(f.Leaves), len(far))
	}
	if err := f.waitNATS(ctx); err != nil {
		t.Fatal(err)
	}
	// Each leaf node connected to the hub: JetStream answers through it
	// (its default_js_domain to the hub's domain), and its monitoring
	// lists the leaf connection.
	for name, u := range leafURLs {
		if err := Await(ctx, 2*time.Minute, func() error {
			if err := jetStreamAnswers(ctx, u); err != nil {
				return err
			}
			var leafz struct {
				Leafs []struct {
					Name string `json:"name"`
				} `json:"leafs"`
			}
			if err := getJSON(ctx, "http://"+leafMonitor[name]+"/leafz", &leafz); err != nil {
				return err
			}
			if len(leafz.Leafs) != 1 || !strings.HasPrefix(leafz.Leafs[0].Name, "nats-") {
				return fmt.Errorf("%s: leaf connections %+v, want one to a hub node", name, leafz.Leafs)
			}
			t.Logf("%s: a leaf node of %s, JetStream answers through it", name, leafz.Leafs[0].Name)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range f.APIs {
		if err := f.waitHTTP(ctx, p, f.APIURLs[i]+"/readyz"); err != nil {
			t.Fatal(err)
		}
	}
	for i := range f.Nameservers {
		if err := f.WaitNameserver(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	f.secrets = nil
	for k, v := range secrets {
		f.secrets = append(f.secrets, k+"="+v)
	}
	if err := f.createTenant(ctx); err != nil {
		t.Fatal(err)
	}

	// A change through api-1, INSYNC read through api-2, answered by
	// every nameserver.
	a1, err := client.New(f.APIURLs[0], client.WithToken(f.Token))
	if err != nil {
		t.Fatal(err)
	}
	a2, err := client.New(f.APIURLs[1], client.WithToken(f.Token))
	if err != nil {
		t.Fatal(err)
	}
	zone, err := a1.CreateHostedZone(ctx, client.CreateHostedZoneInput{Name: "compose.test."})
	if err != nil {
		t.Fatal(err)
	}
	ttl := int64(60)
	ch, err := a1.ChangeRRSets(ctx, zone.HostedZone.ID, client.ChangeBatch{Changes: []client.RRSetChange{{Action: "CREATE",
		RRSet: client.RRSet{Name: "www.compose.test.", Type: "A", TTL: &ttl, Records: []string{"192.0.2.7"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	if err := Await(ctx, 2*time.Minute, func() error {
		out, err := a2.GetChange(ctx, ch.Change.ID, &client.GetChangeInput{Wait: true, Timeout: 10 * time.Second})
		if err != nil {
			return err
		}
		if out.Change.Status != "INSYNC" {
			return fmt.Errorf("change %s", out.Change.Status)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("change INSYNC through api-2 %s after api-1 acknowledged it", time.Since(begin).Round(time.Millisecond))
	for i, addr := range f.DNS {
		if err := Await(ctx, time.Minute, func() error {
			m, err := Query(addr, "www.compose.test.", dns.TypeA)
			if err != nil {
				return err
			}
			if len(m.Answer) != 1 || m.Answer[0].(*dns.A).A.String() != "192.0.2.7" {
				return fmt.Errorf("%s answers %v", nsNames[i], m.Answer)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}

	// The far nameservers got it through their leaf node: each is a
	// client of the leaf (its monitoring lists the connection), and its
	// report (which INSYNC waited for) says it applied the change's
	// stream event.
	var seq int64
	if err := pgxQueryRow(ctx, f.DatabaseURL, `SELECT stream_seq FROM change WHERE id = $1`, []any{ch.Change.ID}, &seq); err != nil {
		t.Fatal(err)
	}
	for _, name := range far {
		nodeID := c.Services[name].Command[slices.Index(c.Services[name].Command, "--node-id")+1]
		var onLeaf bool
		for leaf, mon := range leafMonitor {
			var connz struct {
				Connections []struct {
					Name string `json:"name"`
				} `json:"connections"`
			}
			if err := getJSON(ctx, "http://"+mon+"/connz", &connz); err != nil {
				t.Fatal(err)
			}
			for _, cn := range connz.Connections {
				if cn.Name == "waymark-nameserver-"+nodeID {
					onLeaf = true
					t.Logf("%s (%s) is a client of %s", name, nodeID, leaf)
				}
			}
		}
		if !onLeaf {
			t.Errorf("%s (%s) is connected to no leaf node", name, nodeID)
		}
		var applied int64
		if err := pgxQueryRow(ctx, f.DatabaseURL, `SELECT applied_seq FROM nameserver WHERE node_id = $1`, []any{nodeID}, &applied); err != nil {
			t.Fatal(err)
		}
		if applied < seq {
			t.Errorf("%s reported stream sequence %d, the change is at %d", name, applied, seq)
		}
		t.Logf("%s applied the change (stream sequence %d) and reported %d through the leaf node", name, seq, applied)
	}

	// Replicas: the zone stream and both buckets on all three nodes.
	if err := streamWhole(ctx, f); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(strings.Join(f.NATSURLs, ","))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	// Every health checker is up and on NATS, the far one through its
	// leaf node: its heartbeats reach a hub node.
	checkers := map[string]bool{}
	for _, s := range c.Services {
		if len(s.Command) > 0 && s.Command[0] == "healthchecker" {
			checkers[s.Command[slices.Index(s.Command, "--node-id")+1]] = false
		}
	}
	hbs := make(chan *nats.Msg, 64)
	hsub, err := nc.ChanSubscribe(event.HealthCheckerHeartbeatSubject, hbs)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hsub.Unsubscribe() }()
	hbWait := time.After(time.Minute)
	for missing := len(checkers); missing > 0; {
		select {
		case m := <-hbs:
			var hb event.HealthCheckerHeartbeat
			if json.Unmarshal(m.Data, &hb) == nil {
				if seen, ok := checkers[hb.NodeID]; ok && !seen {
					checkers[hb.NodeID] = true
					missing--
					t.Logf("health checker %s (%s): heartbeats reach the hub", hb.NodeID, hb.Region)
				}
			}
		case <-hbWait:
			t.Fatalf("health checkers heard from within a minute: %v", checkers)
		}
	}
	info, err := zoneStream(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Replicas != 3 {
		t.Errorf("zone stream: %d replicas, want 3", info.Config.Replicas)
	}
	t.Logf("zone stream: %d replicas, leader %s, cluster %s", info.Config.Replicas, info.Cluster.Leader, info.Cluster.Name)
	for _, b := range []string{event.HealthChecksBucket, event.HealthStatusBucket} {
		if err := Await(ctx, time.Minute, func() error {
			// Each request bounded: one sent while the bucket's stream is
			// being remapped to 3 replicas may never be answered, and
			// must not hold the test until its deadline (it did, under
			// make test's load).
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			kv, err := js.KeyValue(rctx, b)
			if err != nil {
				return err
			}
			st, err := kv.Status(rctx)
			if err != nil {
				return err
			}
			if st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.Replicas != 3 {
				return fmt.Errorf("bucket %s: %d replicas, want 3", b, st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.Replicas)
			}
			return nil
		}); err != nil {
			t.Error(err)
		}
	}
}

// getJSON decodes the JSON answer of a GET of u.
func getJSON(ctx context.Context, u string, v any) error {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// pgxQueryRow runs one query on a connection of its own and scans its row.
func pgxQueryRow(ctx context.Context, url, sql string, args []any, dst ...any) error {
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	return c.QueryRow(ctx, sql, args...).Scan(dst...)
}

// dependedOnToComplete reports whether a service waits for name with
// condition service_completed_successfully.
func dependedOnToComplete(c *Compose, name string) bool {
	for _, s := range c.Services {
		if s.DependsOn[name] == "service_completed_successfully" {
			return true
		}
	}
	return false
}

// checkComposeSettings checks what the file asks of the binaries: every
// environment variable of a waymark service is one its subcommand reads
// (its -h names it, or it is one of envOnly), and the nats image is the
// nats-server version of go.mod.
func checkComposeSettings(t *testing.T, c *Compose, bin Binaries) {
	t.Helper()
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`github.com/nats-io/nats-server/v2 v(\d+\.\d+)\.`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod has no nats-server")
	}
	usage := map[string]string{}
	for _, s := range c.Services {
		if strings.HasPrefix(s.Image, "nats:") && s.Image != "nats:"+string(m[1]) {
			t.Errorf("%s: image %s, but go.mod's nats-server (what the tests run) is %s", s.Name, s.Image, m[1])
		}
		if !s.Build || len(s.Command) == 0 {
			continue
		}
		role := s.Command[0]
		if _, ok := usage[role]; !ok {
			out, _ := exec.Command(bin.Waymark, role, "-h").CombinedOutput()
			usage[role] = string(out)
		}
		for k := range s.Environment {
			if !strings.Contains(usage[role], "("+k) && !slices.Contains(envOnly, k) {
				t.Errorf("%s: waymark %s does not read %s", s.Name, role, k)
			}
		}
	}
}

func TestInterpolate(t *testing.T) {
	env := map[string]string{"A": "x", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for in, want := range map[string]string{
		"plain": "plain", "$A-${A}": "x-x", "${B:-def}": "def", "${EMPTY:-def}": "def", "${EMPTY-def}": "",
		"$$A": "$A", "${A:?no}": "x", "a${B}b": "ab",
	} {
		got, err := Interpolate(in, lookup)
		if err != nil || got != want {
			t.Errorf("Interpolate(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"${B:?set B}", "${EMPTY:?set it}", "${A", "$", "${}", "${A:+x}", "$-"} {
		if got, err := Interpolate(in, lookup); err == nil {
			t.Errorf("Interpolate(%q) = %q, want an error", in, got)
		}
	}
}

func FuzzInterpolate(f *testing.F) {
	for _, s := range []string{"plain", "${A:-d}", "$A$$", "${A:?m}", "${", "$"} {
		f.Add(s)
	}
	lookup := func(k string) (string, bool) { return "v", k == "A" }
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Interpolate(s, lookup)
		if err == nil && !strings.Contains(s, "$") && out != s {
			t.Fatalf("%q without $ became %q", s, out)
		}
	})
}

func FuzzParseCompose(f *testing.F) {
	if b, err := os.ReadFile("../../docker-compose.yml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("services: {a: {command: [x], depends_on: [b]}, b: {depends_on: {a: {condition: x}}}}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCompose(b, func(string) (string, bool) { return "v", true })
		if err != nil {
			return
		}
		order, err := c.Order()
		if err == nil && len(order) != len(c.Services) {
			t.Fatalf("order has %d of %d services", len(order), len(c.Services))
		}
	})
}

// TestPortsAreNeverGivenTwice: a port handed out is closed until its
// process binds it, and the kernel may pick it again meanwhile; the
// compose run once gave one to a leaf node's monitor and a nameserver.
func TestPortsAreNeverGivenTwice(t *testing.T) {
	t.Parallel()
	f := &Fleet{}
	seen := map[string]bool{}
	for range 500 {
		a, err := f.port("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if seen[a] {
			t.Fatalf("%s given twice", a)
		}
		seen[a] = true
	}
}
