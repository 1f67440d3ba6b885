//go:build fleet

package fleet

import (
	"context"

	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/client"
	"github.com/waymark-dns/waymark/event"
)

// The fault tests run one at a time: a fleet is a dozen processes and the
// machines are shared. Each starts a fleet of its own from binaries built
// once for the package.
func build(t *testing.T) Binaries {
	t.Helper()
	dir := os.Getenv("FLEET_BIN_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b, err := Build(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func startFleet(t *testing.T) *Fleet {
	t.Helper()
	bin := build(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	begin := time.Now()
	f, err := Start(ctx, Options{Bin: bin, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fleet up in %s", time.Since(begin).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			if keep := os.Getenv("FLEET_KEEP"); keep != "" {
				// Every process's whole log and data, for the post-mortem.
				dst := filepath.Join(keep, t.Name())
				t.Logf("copying the fleet's directory to %s: %v", dst, os.CopyFS(dst, os.DirFS(dir)))
			}
			for _, g := range [][]*Proc{f.NATS, f.APIs, f.Nameservers} {
				for _, p := range g {
					t.Logf("--- %s:\n%s", p.Name, tail(p.Log()))
				}
			}
		}
		if err := f.Close(); err != nil {
			t.Errorf("fleet close: %v", err)
		}
	})
	return f
}

// load is a steady stream of change batches from four clients, each on a
// zone of its own. Batch i of a client creates h<i>.<zone> A and upserts
// seq.<zone> TXT "i": every acknowledged batch leaves a name to look for
// on every nameserver, and seq tells the order the last ones applied in.
type load struct {
	f       *Fleet
	clients int
	batches int // per client
	zones   []client.HostedZone
	apis    []*client.Client

	mu      sync.Mutex
	acked   []ack
	refused int // errors: not acknowledged, so nothing is owed
	errs    []string
	faultAt time.Time
}

type ack struct {
	client, batch int
	change        string
	at            time.Time
}

func newLoad(t *testing.T, f *Fleet, clients, batches int) *load {
	t.Helper()
	l := &load{f: f, clients: clients, batches: batches}
	for _, u := range f.APIURLs {
		c, err := client.New(u, client.WithToken(f.Token))
		if err != nil {
			t.Fatal(err)
		}
		l.apis = append(l.apis, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := range clients {
		out, err := l.apis[0].CreateHostedZone(ctx, client.CreateHostedZoneInput{
			Name: fmt.Sprintf("c%d.fleet.test.", i), CallerReference: fmt.Sprintf("fleet-c%d", i)})
		if err != nil {
			t.Fatalf("create zone: %v", err)
		}
		l.zones = append(l.zones, out.HostedZone)
	}
	return l
}

func (l *load) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// run submits every batch; a client whose API fails moves to the other
// API for its next batch (as a client behind a load balancer would).
func (l *load) run(ctx context.Context) {
	var wg sync.WaitGroup
	for c := range l.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			api := c % len(l.apis)
			z := l.zones[c]
			for i := 0; i < l.batches && ctx.Err() == nil; i++ {
				ttl := int64(60)
				b := client.ChangeBatch{Changes: []client.RRSetChange{
					{Action: "CREATE", RRSet: client.RRSet{Name: fmt.Sprintf("h%d.%s", i, z.Name), Type: "A", TTL: &ttl,
						Records: []string{fmt.Sprintf("192.0.2.%d", i%250+1)}}},
					{Action: "UPSERT", RRSet: client.RRSet{Name: "seq." + z.Name, Type: "TXT", TTL: &ttl,
						Records: []string{fmt.Sprintf("%q", fmt.Sprint(i))}}},
				}}
				rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				out, err := l.apis[api].ChangeRRSets(rctx, z.ID, b)
				cancel()
				l.mu.Lock()
				if err != nil {
					l.refused++
					l.errs = append(l.errs, fmt.Sprintf("client %d batch %d on %s: %v", c, i, l.f.APIURLs[api], err))
					api = (api + 1) % len(l.apis)
				} else {
					l.acked = append(l.acked, ack{client: c, batch: i, change: out.Change.ID, at: time.Now()})
				}
				l.mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// verdict checks every acknowledged batch against every live nameserver
// and the API, once the stream has drained.
type verdict struct {
	acked, lost, duplicated, refused int
	notInSync                        int
	// insync and insyncAfter are submit → INSYNC of the batches
	// submitted before and after the fault.
	insync, insyncAfter []time.Duration
}

// verify waits (up to 3 minutes) for every acknowledged change to be
// INSYNC and every live nameserver to serve each zone at the API's
// version, then counts:
//   - lost: acknowledged batches whose h<i> a live nameserver does not
//     answer, or whose change is not INSYNC;
//   - duplicated: change ids acknowledged twice, h<i> answered with more
//     than its one record, or a nameserver's seq/serial differing from
//     the API's (an event applied twice or out of order would leave the
//     zone at another version or another seq).
func (l *load) verify(t *testing.T, live []int) verdict {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	l.mu.Lock()
	acked := slices.Clone(l.acked)
	faultAt := l.faultAt
	v := verdict{acked: len(acked), refused: l.refused}
	l.mu.Unlock()

	seen := map[string]bool{}
	for _, a := range acked {
		if seen[a.change] {
			v.duplicated++
		}
		seen[a.change] = true
	}
	// INSYNC, through whichever API answers.
	deadline := time.Now().Add(3 * time.Minute)
	for _, a := range acked {
		err := errors.New("not asked: the 3-minute deadline had passed")
		for time.Now().Before(deadline) {
			var out *client.GetChangeOutput
			for _, api := range l.apis {
				wctx, wcancel := context.WithTimeout(ctx, 40*time.Second)
				out, err = api.GetChange(wctx, a.change, &client.GetChangeInput{Wait: true, Timeout: 30 * time.Second})
				wcancel()
				if err == nil {
					break
				}
			}
			if err == nil && out.Change.Status == "INSYNC" {
				if out.Change.InSyncAt != nil {
					d := out.Change.InSyncAt.Sub(out.Change.SubmittedAt)
					if !faultAt.IsZero() && out.Change.SubmittedAt.After(faultAt) {
						v.insyncAfter = append(v.insyncAfter, d)
					} else {
						v.insync = append(v.insync, d)
					}
				}
				break
			}
			if err == nil {
				err = fmt.Errorf("status %s", out.Change.Status)
			}
		}
		if err != nil {
			v.notInSync++
			t.Errorf("change %s (client %d batch %d) not INSYNC: %v", a.change, a.client, a.batch, err)
		}
	}
	// Every live nameserver at the API's version, then every name; a
	// context of its own, so that a stalled INSYNC phase still leaves
	// time to count.
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for c, z := range l.zones {
		var hz *client.HostedZoneOutput
		var seq *client.ListRRSetsOutput
		err := Await(ctx, time.Minute, func() (err error) {
			for _, api := range l.apis {
				if hz, err = api.GetHostedZone(ctx, z.ID); err == nil {
					seq, err = api.ListRRSets(ctx, z.ID, &client.ListRRSetsInput{Name: "seq." + z.Name, Type: "TXT"})
					if err == nil {
						return nil
					}
				}
			}
			return err
		})
		if err != nil {
			t.Errorf("zone %s from the API: %v", z.Name, err)
			for _, a := range acked {
				if a.client == c {
					v.lost++ // unverifiable counts as lost
				}
			}
			continue
		}
		wantSeq := ""
		for _, rs := range seq.RRSets {
			if rs.Name == "seq."+z.Name && rs.Type == "TXT" && len(rs.Records) == 1 {
				wantSeq = strings.Trim(rs.Records[0], `"`)
			}
		}
		for _, n := range live {
			addr := l.f.DNS[n]
			err := Await(ctx, 2*time.Minute, func() error {
				r, err := Query(addr, z.Name, dns.TypeSOA)
				if err != nil {
					return err
				}
				if len(r.Answer) != 1 {
					return fmt.Errorf("SOA: %s", dns.RcodeToString[r.Rcode])
				}
				if s := int64(r.Answer[0].(*dns.SOA).Serial); s != hz.HostedZone.Version {
					return fmt.Errorf("serial %d, API version %d", s, hz.HostedZone.Version)
				}
				return nil
			})
			if err != nil {
				v.duplicated++
				t.Errorf("%s zone %s: %v", l.f.Nameservers[n].Name, z.Name, err)
				continue
			}
			r, err := Query(addr, "seq."+z.Name, dns.TypeTXT)
			if err != nil || len(r.Answer) != 1 || strings.Join(r.Answer[0].(*dns.TXT).Txt, "") != wantSeq {
				v.duplicated++
				t.Errorf("%s seq.%s: %v %v, API has %q", l.f.Nameservers[n].Name, z.Name, r, err, wantSeq)
			}
			for _, a := range acked {
				if a.client != c {
					continue
				}
				name := fmt.Sprintf("h%d.%s", a.batch, z.Name)
				var r *dns.Msg
				err := Await(ctx, 10*time.Second, func() (err error) {
					r, err = Query(addr, name, dns.TypeA)
					return err
				})
				switch {
				case err != nil || len(r.Answer) == 0:
					v.lost++
					t.Errorf("%s: %s missing (%v)", l.f.Nameservers[n].Name, name, err)
				case len(r.Answer) > 1:
					v.duplicated++
					t.Errorf("%s: %s has %d records", l.f.Nameservers[n].Name, name, len(r.Answer))
				}
			}
		}
	}
	v.lost += v.notInSync
	return v
}

// percentiles formats p50, p99 and the maximum of ds.
func percentiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	slices.Sort(ds)
	pct := func(p float64) time.Duration {
		return ds[min(len(ds)-1, int(p*float64(len(ds))))].Round(time.Millisecond)
	}
	return fmt.Sprintf("p50 %s p99 %s max %s (n=%d)", pct(0.5), pct(0.99), pct(1), len(ds))
}

func (v verdict) report(t *testing.T, what string) {
	t.Helper()
	t.Logf("%s: acknowledged %d, lost %d, duplicated %d (refused, not acknowledged: %d); submit→INSYNC before the fault %s, after %s",
		what, v.acked, v.lost, v.duplicated, v.refused, percentiles(v.insync), percentiles(v.insyncAfter))
	if v.lost != 0 || v.duplicated != 0 {
		t.Fatalf("%s: lost %d, duplicated %d: both must be 0", what, v.lost, v.duplicated)
	}
}

// faultTest runs the load, calls fault once a third of the batches are
// acknowledged, and verifies against the nameservers fault leaves live.
func faultTest(t *testing.T, what string, fault func(t *testing.T, f *Fleet, l *load) (live []int)) {
	f := startFleet(t)
	const clients, batches = 4, 75 // 300 batches, the fault at the 100th
	l := newLoad(t, f, clients, batches)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); l.run(ctx) }()
	if err := Await(ctx, 10*time.Minute, func() error {
		if n := l.ackedCount(); n < clients*batches/3 {
			return fmt.Errorf("%d batches acknowledged", n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	at := l.ackedCount()
	l.mu.Lock()
	l.faultAt = time.Now()
	l.mu.Unlock()
	live := fault(t, f, l)
	t.Logf("%s at %d acknowledged batches", what, at)
	<-done
	l.mu.Lock()
	if len(l.errs) > 0 {
		t.Logf("refused batches (not acknowledged, owed nothing): %s", strings.Join(l.errs, "; "))
	}
	l.mu.Unlock()
	l.verify(t, live).report(t, what)
}

func all(f *Fleet) []int {
	var out []int
	for i := range f.Nameservers {
		out = append(out, i)
	}
	return out
}

// streamLeader is the name of the NATS node leading the zone stream.
func streamLeader(t *testing.T, f *Fleet) string {
	t.Helper()
	nc, err := nats.Connect(strings.Join(f.NATSURLs, ","))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	var leader string
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := Await(ctx, time.Minute, func() error {
		st, err := js.Stream(ctx, event.StreamName)
		if err != nil {
			return err
		}
		info, err := st.Info(ctx)
		if err != nil {
			return err
		}
		if info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
			return fmt.Errorf("zone stream: replicas %d, cluster %+v", info.Config.Replicas, info.Cluster)
		}
		leader = info.Cluster.Leader
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return leader
}

// TestFleetKillNATSNode kills -9 the NATS node leading the zone stream
// (not restarted) under the load.
func TestFleetKillNATSNode(t *testing.T) {
	faultTest(t, "kill -9 the zone stream's NATS leader", func(t *testing.T, f *Fleet, l *load) []int {
		leader := streamLeader(t, f)
		for _, p := range f.NATS {
			if p.Name == "nats-"+leader {
				p.Kill()
				t.Logf("killed %s", p.Name)
				return all(f)
			}
		}
		t.Fatalf("no process for stream leader %q", leader)
		return nil
	})
}

// TestFleetKillRelayAPI kills -9 the API process whose relay leads (not
// restarted): the other API's relay takes over, its clients move to it.
func TestFleetKillRelayAPI(t *testing.T) {
	faultTest(t, "kill -9 the relay's API process", func(t *testing.T, f *Fleet, l *load) []int {
		var relay *Proc
		for _, p := range f.APIs {
			if relayLeads(p.Log()) {
				relay = p
			}
		}
		if relay == nil {
			t.Fatal("no API process logs that its relay leads")
		}
		relay.Kill()
		t.Logf("killed %s", relay.Name)
		return all(f)
	})
}

// relayLeads reports whether an API process's log says its relay took
// the leadership (controlplane's elector logs "leading").
func relayLeads(log string) bool {
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "msg=leading") && strings.Contains(line, "component=relay") {
			return true
		}
	}
	return false
}

// TestFleetKillNameserver kills -9 one nameserver while batches flow,
// waits for a dozen more to be acknowledged, and restarts it from its
// cache: it must catch up on everything.
func TestFleetKillNameserver(t *testing.T) {
	faultTest(t, "kill -9 a nameserver, restart from its cache", func(t *testing.T, f *Fleet, l *load) []int {
		ns := f.Nameservers[1]
		ns.Kill()
		from := l.ackedCount()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if err := Await(ctx, 5*time.Minute, func() error {
			if n := l.ackedCount(); n < from+12 {
				return fmt.Errorf("%d batches acknowledged since the kill", n-from)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		begin := time.Now()
		if err := f.RestartNameserver(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(ns.Log(), "cache") {
			t.Logf("note: %s's log does not mention its cache", ns.Name)
		}
		t.Logf("restarted %s: answering after %s", ns.Name, time.Since(begin).Round(time.Millisecond))
		return all(f)
	})
}

// TestFleetSteady is the load with no fault: the baseline of the others.
func TestFleetSteady(t *testing.T) {
	faultTest(t, "no fault", func(t *testing.T, f *Fleet, l *load) []int { return all(f) })
}
