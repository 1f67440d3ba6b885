package dataplane

import (
	"context"
	"log/slog"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// Query logging (docs/observability.md). For a zone whose query logging
// is on, each answer becomes a fixed-size entry pushed onto a bounded
// in-memory queue without blocking: when the queue is full the entry is
// dropped and counted, never the answer. One goroutine (QueryLog.Run)
// drains the queue, turns entries into JSON lines and publishes them per
// zone in batches (event.QueryLogSubject). So logging one zone costs the
// other zones' answers one pointer test, and a slow stream or reader
// loses log entries, never queries.

// QueryLogConfig configures a QueryLog.
type QueryLogConfig struct {
	// NodeID and Region name this nameserver in every entry.
	NodeID, Region string
	// Publish sends one batch: NDJSON lines of one zone's entries (as
	// many as entries), on that zone's subject. It may block (the queue
	// then fills and drops); it must not keep data after it returns. A
	// batch it accepted but that is lost later is reported with
	// QueryLog.PublishFailed. Required.
	Publish func(subject string, data []byte, entries int) error
	// QueueSize is the number of entries waiting to be published at most;
	// default 8192 (about 3 MiB).
	QueueSize int
	// BatchSize is the number of entries that makes the goroutine publish
	// before FlushInterval; default 512.
	BatchSize int
	// FlushInterval is the longest an entry waits in a batch; default
	// 250 ms.
	FlushInterval time.Duration
	// Logger receives publishing errors (at most one a minute). Default:
	// discard.
	Logger *slog.Logger
	// NowFunc stamps entries; default time.Now.
	NowFunc func() time.Time
}

// QueryLog queues and publishes query log entries. Create it with
// NewQueryLog, give it to the handler (Handler.SetQueryLog) and run it.
type QueryLog struct {
	cfg QueryLogConfig
	ch  chan qlEntry
	// The counters of waymark_querylog_entries_total.
	queued, dropped, published, failed atomic.Uint64
	lastWarn                           atomic.Int64 // Unix nanoseconds of the last warning of lost entries
}

// qlEntry is one answer to log, with nothing that aliases the query's
// buffers: the name is copied.
type qlEntry struct {
	at      int64 // Unix nanoseconds
	zoneID  string
	from    netip.Addr
	ecs     netip.Prefix
	qtype   uint16
	rcode   uint16
	tcp     bool
	nameLen uint8
	name    [maxNameWire]byte // lowercase wire format
}

// NewQueryLog returns a query log with cfg's defaults filled in.
func NewQueryLog(cfg QueryLogConfig) *QueryLog {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 8192
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 512
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 250 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	return &QueryLog{cfg: cfg, ch: make(chan qlEntry, cfg.QueueSize)}
}

// QueryLogStats are a query log's counters since it was made.
type QueryLogStats struct {
	Queued    uint64 // entries accepted onto the queue
	Dropped   uint64 // entries dropped because the queue was full
	Published uint64 // entries in batches Publish accepted, less those reported failed later
	Failed    uint64 // entries in batches Publish refused or reported failed
}

// Stats returns the counters.
func (l *QueryLog) Stats() QueryLogStats {
	return QueryLogStats{Queued: l.queued.Load(), Dropped: l.dropped.Load(),
		Published: l.published.Load(), Failed: l.failed.Load()}
}

// PublishFailed reports that a batch of n entries Publish had accepted
// was lost (the stream refused it, or NATS went away).
func (l *QueryLog) PublishFailed(n int, err error) {
	if n <= 0 {
		return
	}
	l.published.Add(^uint64(n - 1))
	l.failed.Add(uint64(n))
	if last := l.lastWarn.Load(); time.Since(time.Unix(0, last)) > time.Minute && l.lastWarn.CompareAndSwap(last, time.Now().UnixNano()) {
		l.cfg.Logger.Warn("query log entries lost: NATS did not store their batch", "entries", n, "err", err)
	}
}

// record queues one answer of zone z; it never blocks.
func (l *QueryLog) record(q *request, z *zone, rcode int, from netip.Addr) {
	e := qlEntry{at: l.cfg.NowFunc().UnixNano(), zoneID: z.id, from: from, ecs: q.ecs,
		qtype: q.qtype, rcode: uint16(rcode), tcp: q.tcp}
	e.nameLen = uint8(copy(e.name[:], q.lname))
	select {
	case l.ch <- e:
		l.queued.Add(1)
	default:
		l.dropped.Add(1)
	}
}

// Run publishes queued entries until ctx ends, then publishes what is
// queued and returns.
func (l *QueryLog) Run(ctx context.Context) {
	tick := time.NewTicker(l.cfg.FlushInterval)
	defer tick.Stop()
	b := &qlBatch{zones: map[string]*qlZone{}}
	flush := func() {
		for id, z := range b.zones {
			if len(z.data) == 0 {
				delete(b.zones, id)
				continue
			}
			// Counted before the call: a failure may be reported
			// (PublishFailed) before Publish returns.
			l.published.Add(uint64(z.n))
			if err := l.cfg.Publish(event.QueryLogSubject(id), z.data, z.n); err != nil {
				l.PublishFailed(z.n, err)
			}
			z.data, z.n = z.data[:0], 0
		}
		b.n = 0
	}
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case e := <-l.ch:
					l.add(b, &e)
				default:
					flush()
					return
				}
			}
		case e := <-l.ch:
			if l.add(b, &e) >= l.cfg.BatchSize {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

// qlBatch is the entries waiting to be published, by zone.
type qlBatch struct {
	zones map[string]*qlZone
	n     int
}

type qlZone struct {
	data []byte // NDJSON
	n    int
}

// add appends e to its zone's batch and returns the batch's size.
func (l *QueryLog) add(b *qlBatch, e *qlEntry) int {
	z := b.zones[e.zoneID]
	if z == nil {
		z = &qlZone{}
		b.zones[e.zoneID] = z
	}
	entry := event.QueryLogEntry{
		Time:         time.Unix(0, e.at),
		HostedZoneID: e.zoneID,
		QueryName:    presentationName(string(e.name[:e.nameLen])),
		QueryType:    typeName(e.qtype),
		ResponseCode: rcodeText(int(e.rcode)),
		Protocol:     "UDP",
		Nameserver:   l.cfg.NodeID,
		Region:       l.cfg.Region,
		Resolver:     logPrefix(netip.PrefixFrom(e.from, e.from.BitLen())),
	}
	if e.tcp {
		entry.Protocol = "TCP"
	}
	if e.ecs.IsValid() {
		entry.EDNSClientSubnet = logPrefix(e.ecs)
	}
	z.data = append(entry.AppendJSON(z.data), '\n')
	z.n++
	b.n++
	return b.n
}

// logPrefix is the part of a client's address a log may keep: at most
// /24 of IPv4 and /48 of IPv6, as Route 53's logs of client subnets; ""
// for no address.
func logPrefix(p netip.Prefix) string {
	if !p.IsValid() {
		return ""
	}
	a := p.Addr().Unmap()
	limit := 48
	if a.Is4() {
		limit = 24
	}
	bits := min(p.Bits(), limit)
	if p.Addr().Is4In6() {
		bits = min(max(p.Bits()-96, 0), limit)
	}
	q, err := a.Prefix(bits)
	if err != nil {
		return ""
	}
	return q.String()
}

func typeName(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

func rcodeText(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(rc)
}

// setQueryLogging replaces the zone's query logging; nil leaves it as it
// is.
func (b *zoneBuilder) setQueryLogging(cfg *zonecfg.QueryLogging) {
	if cfg == nil {
		return
	}
	b.z.qlog = nil
	if cfg.Enabled() {
		b.z.qlog = cfg
	}
}

// queryLogID is the zone's query logging configuration id, "" when off.
func (z *zone) queryLogID() string {
	if z.qlog == nil {
		return ""
	}
	return z.qlog.ConfigID
}
