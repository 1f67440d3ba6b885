package fleet

import (
	"context"

	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

func startFleet(t *testing.T, linkDelays []time.Duration) *Fleet {
	t.Helper()
	bin := build(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	begin := time.Now()
	f, err := Start(ctx, Options{Bin: bin, Dir: dir, LinkDelays: linkDelays})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fleet up in %s", time.Since(begin).Round(time.Millisecond))
	t.Cleanup(func() {
		if keep := os.Getenv("FLEET_KEEP"); keep != "" {
			// Every process's whole log and data, for the post-mortem.
			dst := filepath.Join(keep, t.Name())
			t.Logf("copying the fleet's directory to %s: %v", dst, os.CopyFS(dst, os.DirFS(dir)))
		}
		if t.Failed() {
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
// zone of its own, one batch per client every interval. Batch i of a
// client creates h<i>.<zone> A and upserts seq.<zone> TXT "i": every
// acknowledged batch leaves a name to look for on every nameserver, and
// seq tells the order the last ones applied in.
type load struct {
	f        *Fleet
	clients  int
	interval time.Duration
	zones    []client.HostedZone
	apis     []*client.Client

	mu      sync.Mutex
	acked   []ack
	refused int // errors: not acknowledged, so nothing is owed
	errs    []string
	faultAt time.Time
	// answered is when each acknowledged change's long poll (a client
	// waiting for INSYNC, as Route 53 clients poll GetChange) answered
	// INSYNC; polls is those polls.
	answered map[string]time.Time
	polls    sync.WaitGroup
}

type ack struct {
	client, batch int
	change        string
	at            time.Time
}

func newLoad(t *testing.T, f *Fleet, clients int, interval time.Duration) *load {
	t.Helper()
	l := &load{f: f, clients: clients, interval: interval, answered: map[string]time.Time{}}
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

// run submits batches from to to (exclusive) of every client, one per
// interval per client; a client whose API fails moves to the other API
// for its next batch (as a client behind a load balancer would).
func (l *load) run(ctx context.Context, from, to int) {
	var wg sync.WaitGroup
	for c := range l.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			api := c % len(l.apis)
			z := l.zones[c]
			// The pace of the load, not a wait for a condition.
			tick := time.NewTicker(l.interval)
			defer tick.Stop()
			for i := from; i < to && ctx.Err() == nil; i++ {
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
					var apiErr *client.Error
					if !errors.As(err, &apiErr) {
						// No answer: this API is gone, try the other. An
						// API that answered with an error is still there.
						api = (api + 1) % len(l.apis)
					}
				} else {
					l.acked = append(l.acked, ack{client: c, batch: i, change: out.Change.ID, at: time.Now()})
					l.polls.Add(1)
					go l.poll(ctx, l.apis[api], out.Change.ID)
				}
				l.mu.Unlock()
				select {
				case <-ctx.Done():
				case <-tick.C:
				}
			}
		}()
	}
	wg.Wait()
}

// poll waits for change id to go INSYNC with a long poll on api, as a
// client would, and records when the answer came.
func (l *load) poll(ctx context.Context, api *client.Client, id string) {
	defer l.polls.Done()
	pctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	out, err := api.GetChange(pctx, id, &client.GetChangeInput{Wait: true, Timeout: 30 * time.Second})
	if err != nil || out.Change.Status != "INSYNC" {
		return // unanswered or answered PENDING: verify's polls see to it
	}
	l.mu.Lock()
	l.answered[id] = time.Now()
	l.mu.Unlock()
}

// verdict checks every acknowledged batch against every live nameserver
// and the API, once the stream has drained.
type verdict struct {
	acked, lost, duplicated, refused int
	notInSync                        int
	// insync and insyncAfter are submit → INSYNC of the batches
	// submitted before and after the fault.
	insync, insyncAfter []time.Duration
	// insyncAt are the times changes went INSYNC, in order: the longest
	// pause between two is how long the fleet stopped converging.
	insyncAt []time.Time
	faultAt  time.Time
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
	v := verdict{acked: len(acked), refused: l.refused, faultAt: faultAt}
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
					v.insyncAt = append(v.insyncAt, *out.Change.InSyncAt)
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
			if v.notInSync <= 5 { // the first few say enough; the count says the rest
				t.Errorf("change %s (client %d batch %d) not INSYNC: %v", a.change, a.client, a.batch, err)
			}
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

// pause is the longest interval between two consecutive INSYNC times
// at or after from, and when it ended, relative to from.
func pause(at []time.Time, from time.Time) (longest, endedAfter time.Duration) {
	at = slices.Clone(at)
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	prev := from
	for _, t := range at {
		if t.Before(from) {
			continue
		}
		if d := t.Sub(prev); d > longest {
			longest, endedAfter = d, t.Sub(from)
		}
		prev = t
	}
	return longest.Round(time.Millisecond), endedAfter.Round(time.Millisecond)
}

func (v verdict) report(t *testing.T, what string) {
	t.Helper()
	longest, ended := pause(v.insyncAt, v.faultAt)
	t.Logf("%s: acknowledged %d, lost %d, duplicated %d (refused, not acknowledged: %d); submit→INSYNC before the fault %s, after %s; "+
		"longest pause between two INSYNC after the fault %s, ending %s after it",
		what, v.acked, v.lost, v.duplicated, v.refused, percentiles(v.insync), percentiles(v.insyncAfter), longest, ended)
	if v.lost != 0 || v.duplicated != 0 {
		t.Fatalf("%s: lost %d, duplicated %d: both must be 0", what, v.lost, v.duplicated)
	}
}

// probeTimeout is how long a probe waits for its answer: generous, the
// machines running the tests are loaded.
const probeTimeout = 2 * time.Second

// prober asks every nameserver for one zone's SOA every 100 ms (under the
// default RRL rate of 20/s) while the load runs, and records every
// question that was not answered NOERROR with the SOA.
type prober struct {
	mu    sync.Mutex
	asked []int
	fails [][]time.Time
	errs  []string
}

func probe(ctx context.Context, f *Fleet, zone string) *prober {
	p := &prober{asked: make([]int, len(f.DNS)), fails: make([][]time.Time, len(f.DNS))}
	for i, addr := range f.DNS {
		go func() {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				at := time.Now()
				r, err := QueryTimeout(addr, zone, dns.TypeSOA, probeTimeout)
				if err == nil && (r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1) {
					err = fmt.Errorf("%s, %d answers", dns.RcodeToString[r.Rcode], len(r.Answer))
				}
				p.mu.Lock()
				p.asked[i]++
				if err != nil {
					p.fails[i] = append(p.fails[i], at)
					if len(p.errs) < 20 {
						p.errs = append(p.errs, fmt.Sprintf("%s: %v", f.Nameservers[i].Name, err))
					}
				}
				p.mu.Unlock()
			}
		}()
	}
	return p
}

// check reports each nameserver's failed questions and fails the test for
// any outside allowed[i] (a window in which nameserver i was down on
// purpose).
func (p *prober) check(t *testing.T, f *Fleet, faultAt time.Time, allowed map[int][2]time.Time) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, fails := range p.fails {
		var outside int
		w, ok := allowed[i]
		for _, at := range fails {
			if !ok || at.Before(w[0]) || at.After(w[1]) {
				outside++
			}
		}
		window := "none"
		if len(fails) > 0 {
			window = fmt.Sprintf("from %s to %s after the fault", fails[0].Sub(faultAt).Round(time.Millisecond),
				fails[len(fails)-1].Sub(faultAt).Round(time.Millisecond))
		}
		t.Logf("DNS %s: %d questions, %d unanswered (%s), %d outside its down window", f.Nameservers[i].Name,
			p.asked[i], len(fails), window, outside)
		if outside > 0 {
			t.Errorf("%s failed %d questions while it should have answered: %s", f.Nameservers[i].Name, outside,
				strings.Join(p.errs, "; "))
		}
		if p.asked[i] == 0 {
			t.Errorf("%s was never asked", f.Nameservers[i].Name)
		}
	}
}

// outcome is what a fault leaves: the nameservers that must have every
// change, the windows in which a nameserver was down on purpose, and a
// rejoin step run after the first verification (it restarts what the
// fault killed and waits until it is back), after which more batches are
// submitted and everything verified again.
type outcome struct {
	live   []int
	down   map[int][2]time.Time
	rejoin func(t *testing.T)
}

// faultTest runs the load (4 clients, one batch each every 200 ms, 100
// batches each, or FLEET_BATCHES), calls fault once a third of the batches are
// acknowledged, verifies against the nameservers fault leaves live, then
// runs the outcome's rejoin, 10 more batches per client, and verifies
// again.
func faultTest(t *testing.T, what string, fault func(t *testing.T, f *Fleet, l *load) outcome) {
	faultTestOn(t, what, nil, fault)
}

// loadBatches is the number of batches per client: FLEET_BATCHES or 100.
// A latency figure's p99 over 400 changes is its fourth slowest; 500 per
// client make it the twentieth, steady enough to compare two builds.
func loadBatches(t *testing.T) int {
	if v := os.Getenv("FLEET_BATCHES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 3 {
			t.Fatalf("FLEET_BATCHES: %q is not a count of at least 3", v)
		}
		return n
	}
	return 100
}

// faultTestOn is faultTest on a fleet whose regions reach the cluster over
// links with these one-way delays (nil: directly).
func faultTestOn(t *testing.T, what string, linkDelays []time.Duration, fault func(t *testing.T, f *Fleet, l *load) outcome) {
	f := startFleet(t, linkDelays)
	const clients, more = 4, 10
	batches := loadBatches(t)
	l := newLoad(t, f, clients, 200*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	// Probe once every nameserver serves the zone (a far region learns of
	// a new zone a round trip later).
	for i, addr := range f.DNS {
		if err := Await(ctx, time.Minute, func() error {
			r, err := Query(addr, l.zones[0].Name, dns.TypeSOA)
			if err == nil && len(r.Answer) != 1 {
				err = fmt.Errorf("%s: SOA %s", f.Nameservers[i].Name, dns.RcodeToString[r.Rcode])
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	pctx, stopProbe := context.WithCancel(ctx)
	defer stopProbe()
	dnsProbe := probe(pctx, f, l.zones[0].Name)
	reps := listenReports(t, f)
	for _, w := range f.WANs {
		w.Lateness(true) // the load's, not the start's
	}
	done := make(chan struct{})
	go func() { defer close(done); l.run(ctx, 0, batches) }()
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
	faultAt := l.faultAt
	l.mu.Unlock()
	out := fault(t, f, l)
	t.Logf("%s at %d acknowledged batches", what, at)
	<-done
	l.mu.Lock()
	if len(l.errs) > 0 {
		t.Logf("refused batches (not acknowledged, owed nothing): %s", strings.Join(l.errs, "; "))
	}
	l.mu.Unlock()
	l.verify(t, out.live).report(t, what)
	t.Logf("%s: %s", what, l.stages(t, reps))
	stopProbe()
	dnsProbe.check(t, f, faultAt, out.down)
	if out.rejoin == nil {
		return
	}
	out.rejoin(t)
	l.mu.Lock()
	l.faultAt = time.Now() // "before" is now the first load, "after" the batches after the rejoin
	l.mu.Unlock()
	l.run(ctx, batches, batches+more)
	l.verify(t, all(f)).report(t, what+", after the rejoin")
}

func all(f *Fleet) []int {
	var out []int
	for i := range f.Nameservers {
		out = append(out, i)
	}
	return out
}

// zoneStream reads the zone stream's info through any live node.
func zoneStream(ctx context.Context, f *Fleet) (*jetstream.StreamInfo, error) {
	nc, err := nats.Connect(strings.Join(f.NATSURLs, ","), nats.Timeout(2*time.Second))
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	ictx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	st, err := js.Stream(ictx, event.StreamName)
	if err != nil {
		return nil, err
	}
	return st.Info(ictx)
}

// streamLeader is the name of the NATS node leading the zone stream, once
// the stream has its three replicas.
func streamLeader(t *testing.T, f *Fleet) string {
	t.Helper()
	var leader string
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := Await(ctx, time.Minute, func() error {
		info, err := zoneStream(ctx, f)
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

// streamWhole waits until the zone stream has a leader and both other
// replicas current, with no lag: a returned node has caught up.
func streamWhole(ctx context.Context, f *Fleet) error {
	return Await(ctx, 3*time.Minute, func() error {
		info, err := zoneStream(ctx, f)
		if err != nil {
			return err
		}
		if info.Cluster == nil || info.Cluster.Leader == "" || len(info.Cluster.Replicas) != 2 {
			return fmt.Errorf("zone stream cluster %+v", info.Cluster)
		}
		for _, r := range info.Cluster.Replicas {
			if !r.Current || r.Offline || r.Lag != 0 {
				return fmt.Errorf("zone stream replica %s: current %v offline %v lag %d", r.Name, r.Current, r.Offline, r.Lag)
			}
		}
		return nil
	})
}

// TestFleetKillNATSNode kills -9 the NATS node leading the zone stream
// under the load; it is restarted only after every change has been
// verified, and must then rejoin: the stream whole again and later
// changes INSYNC.
func TestFleetKillNATSNode(t *testing.T) {
	faultTest(t, "kill -9 the zone stream's NATS leader", killStreamLeader)
}

// TestFleetRegionsKillNATSNode is TestFleetKillNATSNode with the regions
// at 20/80/150 ms one way, their nameservers on leaf nodes: submit →
// INSYNC during and after the loss of a hub node, across regions.
func TestFleetRegionsKillNATSNode(t *testing.T) {
	faultTestOn(t, "regions at 20/80/150 ms one way, kill -9 the zone stream's NATS leader", regionDelays, killStreamLeader)
}

// killStreamLeader kills -9 the NATS node leading the zone stream; the
// rejoin restarts it and waits for the stream's three replicas.
func killStreamLeader(t *testing.T, f *Fleet, l *load) outcome {
	leader := streamLeader(t, f)
	for _, p := range f.NATS {
		if p.Name == "nats-"+leader {
			p.Kill()
			t.Logf("killed %s", p.Name)
			return outcome{live: all(f), rejoin: func(t *testing.T) {
				begin := time.Now()
				if err := p.Restart(); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
				defer cancel()
				if err := streamWhole(ctx, f); err != nil {
					t.Fatalf("%s restarted: %v", p.Name, err)
				}
				t.Logf("restarted %s: the zone stream has its three replicas current after %s", p.Name,
					time.Since(begin).Round(time.Millisecond))
			}}
		}
	}
	t.Fatalf("no process for stream leader %q", leader)
	return outcome{}
}

// TestFleetKillRelayAPI kills -9 the API process whose relay leads: the
// other API's relay takes over, its clients move to it. Once every
// change is verified the killed API is restarted and must serve again.
func TestFleetKillRelayAPI(t *testing.T) {
	faultTest(t, "kill -9 the relay's API process", func(t *testing.T, f *Fleet, l *load) outcome {
		var relay *Proc
		var url string
		for i, p := range f.APIs {
			if relayLeads(p.Log()) {
				relay, url = p, f.APIURLs[i]
			}
		}
		if relay == nil {
			t.Fatal("no API process logs that its relay leads")
		}
		relay.Kill()
		t.Logf("killed %s", relay.Name)
		return outcome{live: all(f), rejoin: func(t *testing.T) {
			begin := time.Now()
			if err := relay.Restart(); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			if err := f.waitHTTP(ctx, relay, url+"/readyz"); err != nil {
				t.Fatal(err)
			}
			t.Logf("restarted %s: ready after %s", relay.Name, time.Since(begin).Round(time.Millisecond))
		}}
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
// cache: it must catch up on everything. Its DNS questions may fail only
// from the kill until it answers again.
func TestFleetKillNameserver(t *testing.T) {
	faultTest(t, "kill -9 a nameserver, restart from its cache", func(t *testing.T, f *Fleet, l *load) outcome {
		ns := f.Nameservers[1]
		killedAt := time.Now()
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
		t.Logf("restarted %s %s after the kill: answering after %s", ns.Name,
			begin.Sub(killedAt).Round(time.Millisecond), time.Since(begin).Round(time.Millisecond))
		// A question sent just before the kill is lost with the process;
		// one sent just before it answered may time out just after.
		return outcome{live: all(f), down: map[int][2]time.Time{1: {killedAt.Add(-probeTimeout), time.Now().Add(probeTimeout)}}}
	})
}

// TestFleetSteady is the load with no fault: the baseline of the others.
func TestFleetSteady(t *testing.T) {
	faultTest(t, "no fault", func(t *testing.T, f *Fleet, l *load) outcome { return outcome{live: all(f)} })
}

// regionDelays are the one-way delays of the three regions' links to the
// NATS cluster: round trips of 40, 160 and 300 ms.
var regionDelays = []time.Duration{20 * time.Millisecond, 80 * time.Millisecond, 150 * time.Millisecond}

// TestFleetRegionsLatency is the steady load with each region's
// nameserver behind a link of 20, 80 and 150 ms one way. A change is
// INSYNC once every nameserver reported it, so its latency is bounded
// below by the farthest round trip (300 ms); the target is p99 ≤ 320 ms.
func TestFleetRegionsLatency(t *testing.T) {
	faultTestOn(t, "regions at 20/80/150 ms one way, no fault", regionDelays,
		func(t *testing.T, f *Fleet, l *load) outcome { return outcome{live: all(f)} })
}

// partitionFor is how long TestFleetLeafPartitionRegion keeps its region
// cut off: FLEET_PARTITION (a Go duration) or 30 s.
func partitionFor(t *testing.T) time.Duration {
	if v := os.Getenv("FLEET_PARTITION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("FLEET_PARTITION: %v", err)
		}
		return d
	}
	return 30 * time.Second
}

// TestFleetLeafPartitionRegion cuts ap-southeast-1 (150 ms one way) off
// the hub for 30 s under the load, then heals it: its leaf node loses the
// hub (its nameserver's JetStream requests find no responders), yet the
// nameserver must keep answering from memory throughout (no probe
// question may fail), catch up once the link returns with no operator
// action, and every change must go INSYNC, none lost or applied twice.
func TestFleetLeafPartitionRegion(t *testing.T) {
	cut := partitionFor(t)
	faultTestOn(t, fmt.Sprintf("ap-southeast-1 partitioned for %s", cut), regionDelays, func(t *testing.T, f *Fleet, l *load) outcome {
		const cutOff = 2
		ctx, cancel := context.WithTimeout(context.Background(), cut+5*time.Minute)
		defer cancel()
		leafURL := strings.Fields(f.Nameservers[cutOff].args[slices.Index(f.Nameservers[cutOff].args, "--nats-url")+1])[0]
		begin := time.Now()
		f.WANs[cutOff].Cut()
		t.Logf("cut %s off the hub", Regions()[cutOff])
		// The partition is real once the region's leaf node has given up
		// on the hub: a JetStream request through it finds no responders
		// (a request that merely times out may still be held in the link).
		if err := Await(ctx, cut+time.Minute, func() error {
			err := jetStreamAnswers(ctx, leafURL)
			if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, nats.ErrNoResponders) {
				return nil
			}
			return fmt.Errorf("JetStream through the cut-off leaf node: %v, not no responders", err)
		}); err != nil {
			t.Fatal(err)
		}
		t.Logf("the leaf node lost the hub %s after the cut", time.Since(begin).Round(time.Millisecond))
		select {
		case <-time.After(time.Until(begin.Add(cut))): // the partition's length is the test's subject
		case <-ctx.Done():
		}
		// What the API has now is what the region missed, or part of it.
		versions := map[string]int64{}
		for _, z := range l.zones {
			hz, err := l.apis[0].GetHostedZone(ctx, z.ID)
			if err != nil {
				t.Fatal(err)
			}
			versions[z.Name] = hz.HostedZone.Version
		}
		f.WANs[cutOff].Heal()
		healed := time.Now()
		if err := Await(ctx, 3*time.Minute, func() error {
			for name, v := range versions {
				r, err := Query(f.DNS[cutOff], name, dns.TypeSOA)
				if err != nil {
					return err
				}
				if len(r.Answer) != 1 || int64(r.Answer[0].(*dns.SOA).Serial) < v {
					return fmt.Errorf("%s at %v, the API at %d", name, r.Answer, v)
				}
			}
			return nil
		}); err != nil {
			t.Fatalf("after the heal: %v", err)
		}
		t.Logf("healed: %s serves every zone at the version it missed %s after the heal",
			f.Nameservers[cutOff].Name, time.Since(healed).Round(time.Millisecond))
		return outcome{live: all(f)}
	})
}

// lossShare is the share of packets TestFleetRegionsLossyLink drops each
// way: FLEET_LOSS (0 to 1) or 2 %.
func lossShare(t *testing.T) float64 {
	if v := os.Getenv("FLEET_LOSS"); v != "" {
		share, err := strconv.ParseFloat(v, 64)
		if err != nil || share <= 0 || share >= 1 {
			t.Fatalf("FLEET_LOSS: %q is not a share between 0 and 1", v)
		}
		return share
	}
	return 0.02
}

// TestFleetRegionsLossyLink drops 2 % of the packets each way on the
// veth of ap-southeast-1 (150 ms one way) from a third of the load on:
// its leaf node's and nameserver's TCP connections retransmit, and every
// change must still reach every nameserver and go INSYNC, none lost or
// applied twice, while the nameservers keep answering. The figures after
// the fault are submit → INSYNC under that loss.
func TestFleetRegionsLossyLink(t *testing.T) {
	const lossy = 2
	share := lossShare(t)
	var f *Fleet
	faultTestOn(t, fmt.Sprintf("ap-southeast-1 losing %.1f%% of its packets each way", share*100), regionDelays,
		func(t *testing.T, fl *Fleet, l *load) outcome {
			f = fl
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := f.SetLoss(ctx, lossy, share); err != nil {
				t.Fatal(err)
			}
			return outcome{live: all(f)}
		})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, in, err := f.Dropped(ctx, lossy)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s's veth dropped %d of %d packets out and %d of %d in", Regions()[lossy], out.Dropped, out.Packets, in.Dropped, in.Packets)
	// Expected drops are in the tens; none at all means no loss.
	if out.Dropped+in.Dropped == 0 || out.Packets == 0 || in.Packets == 0 {
		t.Errorf("the loss saw %+v out and %+v in: it was not applied", out, in)
	}
}
