package dataplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/event"
)

// The tenants' per-zone query metrics (Route 53's DNSQueries) start here.
// Each zone has one small array of atomic counters, by rcode, shared by
// all its versions (zone.queries): a server made with
// Config.CountZoneQueries adds one to the zone's slot after each lookup —
// no allocation, no lock, no map. A ZoneQueryReporter swaps the counters
// to zero every interval and publishes what they held
// (event.ZoneQueryReport); the control plane keeps per-minute rollups.

// zoneRcodeSlots are NOERROR … REFUSED (rcodes 0 to 5) and one for any
// other; a lookup gives NOERROR, NXDOMAIN or SERVFAIL in practice.
const zoneRcodeSlots = dns.RcodeRefused + 2

// zoneQueries counts one zone's queries by rcode.
type zoneQueries struct {
	n [zoneRcodeSlots]atomic.Uint64
}

// count records one query answered with rcode.
func (c *zoneQueries) count(rcode int) {
	if uint(rcode) >= zoneRcodeSlots-1 {
		rcode = zoneRcodeSlots - 1
	}
	c.n[rcode].Add(1)
}

// zoneRcodeName is the name of an rcode slot, as it travels.
func zoneRcodeName(slot int) string {
	if slot >= zoneRcodeSlots-1 {
		return "OTHER"
	}
	if s, ok := dns.RcodeToString[slot]; ok {
		return s
	}
	return strconv.Itoa(slot)
}

// takeZoneQueries resets every zone's counters to zero and returns what
// they held, the zones with none left out. A query counted while this
// runs lands in this take or the next, never in neither.
func (s *Store) takeZoneQueries() []event.ZoneQueryCount {
	var out []event.ZoneQueryCount
	for _, z := range s.zones() {
		for slot := range z.queries.n {
			if z.queries.n[slot].Load() == 0 {
				continue
			}
			if n := z.queries.n[slot].Swap(0); n > 0 {
				out = append(out, event.ZoneQueryCount{ZoneID: z.id, RCode: zoneRcodeName(slot), Queries: n})
			}
		}
	}
	return out
}

// DefaultZoneQueryInterval is how often a nameserver reports its zones'
// query counts.
const DefaultZoneQueryInterval = 10 * time.Second

// ZoneQueryReporterConfig configures a ZoneQueryReporter.
type ZoneQueryReporterConfig struct {
	Store          *Store
	NATS           *nats.Conn
	NodeID, Region string
	// Interval between reports; it must divide a minute (1 s … 60 s),
	// so that no report straddles two minutes of the rollups. Zero means
	// DefaultZoneQueryInterval.
	Interval time.Duration
	// MaxPending bounds the reports kept while NATS does not take them;
	// the oldest go first. Zero means one hour's worth.
	MaxPending int
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// ZoneQueryReporter publishes a store's per-zone query counts: one report
// per interval, aligned on multiples of the interval.
type ZoneQueryReporter struct {
	cfg ZoneQueryReporterConfig
	js  jetstream.JetStream

	mu      sync.Mutex // guards the fields below (Run and Flush)
	start   time.Time  // the current interval's start
	pending []*nats.Msg
	dropped uint64
}

// NewZoneQueryReporter checks cfg and returns a reporter whose first
// interval starts now.
func NewZoneQueryReporter(cfg ZoneQueryReporterConfig) (*ZoneQueryReporter, error) {
	if cfg.Interval == 0 {
		cfg.Interval = DefaultZoneQueryInterval
	}
	if cfg.Interval < time.Second || cfg.Interval > time.Minute || time.Minute%cfg.Interval != 0 {
		return nil, fmt.Errorf("zone query interval %s: must divide a minute (1s … 60s)", cfg.Interval)
	}
	if cfg.Store == nil || cfg.NATS == nil || cfg.NodeID == "" || cfg.Region == "" {
		return nil, errors.New("zone query reporter: store, NATS, node id and region are required")
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = int(time.Hour / cfg.Interval)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	js, err := jetstream.New(cfg.NATS)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	return &ZoneQueryReporter{cfg: cfg, js: js, start: cfg.Now().UTC().Truncate(time.Microsecond)}, nil
}

// Run reports at every multiple of the interval until ctx ends, then
// reports once more (the counts since the last report) and returns nil.
func (r *ZoneQueryReporter) Run(ctx context.Context) error {
	for {
		now := r.cfg.Now()
		next := now.Truncate(r.cfg.Interval).Add(r.cfg.Interval)
		t := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			fctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			err := r.Flush(fctx)
			cancel()
			if err != nil {
				r.cfg.Logger.Warn("last zone query report not published", "err", err)
			}
			return nil
		case <-t.C:
		}
		if err := r.Flush(ctx); err != nil && ctx.Err() == nil {
			r.cfg.Logger.Warn("zone query report not published; kept for the next interval", "err", err)
		}
	}
}

// Flush ends the current interval now: it takes the counts, queues their
// report and publishes every queued report, oldest first. Reports NATS
// did not take stay queued (up to MaxPending) and keep their identity, so
// that publishing one twice never counts it twice.
func (r *ZoneQueryReporter) Flush(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	end := r.cfg.Now().UTC().Truncate(time.Microsecond)
	if !end.After(r.start) {
		end = r.start.Add(time.Microsecond)
	}
	counts := r.cfg.Store.takeZoneQueries()
	for part := 0; len(counts) > 0; part++ {
		n := min(len(counts), event.MaxZoneQueryCounts)
		rep := event.ZoneQueryReport{NodeID: r.cfg.NodeID, Region: r.cfg.Region, Start: r.start, End: end,
			Part: part, Counts: counts[:n]}
		counts = counts[n:]
		b, err := rep.Encode()
		if err != nil {
			return fmt.Errorf("encode zone query report: %w", err)
		}
		m := nats.NewMsg(event.ZoneQueriesSubject)
		m.Data = b
		m.Header.Set(jetstream.MsgIDHeader, rep.MsgID())
		r.pending = append(r.pending, m)
	}
	r.start = end
	if over := len(r.pending) - r.cfg.MaxPending; over > 0 {
		r.dropped += uint64(over)
		r.pending = append(r.pending[:0], r.pending[over:]...)
		r.cfg.Logger.Warn("zone query reports dropped: NATS has not taken them", "dropped", over)
	}
	for len(r.pending) > 0 {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := r.js.PublishMsg(pctx, r.pending[0])
		cancel()
		if err != nil {
			return fmt.Errorf("publish zone query report: %w", err)
		}
		r.pending[0] = nil
		r.pending = r.pending[1:]
	}
	return nil
}

// Dropped returns how many reports were given up because NATS did not
// take them in time.
func (r *ZoneQueryReporter) Dropped() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}
