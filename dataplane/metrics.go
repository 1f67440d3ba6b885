package dataplane

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// queryStats counts the answers one handler sent, by protocol and rcode
// and by query type, in fixed arrays of atomics: counting allocates
// nothing and takes no lock. It exists only once metrics are enabled
// (Server.EnableMetrics); a nil *queryStats counts nothing.
//
// The counters are kept in statShards shards, each on cache lines of its
// own, picked by the low bits of the answer's message ID: queries answered
// at once on different cores then rarely add to the same line, which would
// otherwise bounce between the cores on every query. A scrape sums them.
type queryStats struct {
	shards [statShards]queryShard
	// latency observes the time to answer one query, per protocol, for
	// the sampled queries (latencySampled).
	latency [2]prometheus.Observer
}

// statShards is the number of counter shards (a power of two).
const statShards = 8

type queryShard struct {
	byRcode   [2][maxCountedRcode + 2]atomic.Uint64 // [tcp][rcode], the last slot for any other rcode
	byType    [len(countedTypes) + 1]atomic.Uint64  // the last slot for any other type
	truncated [2]atomic.Uint64                      // answers sent with TC set
	_         [64]byte                              // keeps the next shard off this one's last line
}

// rcodes returns the answers counted over protocol p (1: TCP) with rcode
// slot rc, summed over the shards.
func (qs *queryStats) rcodes(p, rc int) uint64 {
	var n uint64
	for i := range qs.shards {
		n += qs.shards[i].byRcode[p][rc].Load()
	}
	return n
}

// types returns the answers counted for type slot i, summed over the
// shards.
func (qs *queryStats) types(i int) uint64 {
	var n uint64
	for j := range qs.shards {
		n += qs.shards[j].byType[i].Load()
	}
	return n
}

// truncs returns the truncated answers over protocol p.
func (qs *queryStats) truncs(p int) uint64 {
	var n uint64
	for i := range qs.shards {
		n += qs.shards[i].truncated[p].Load()
	}
	return n
}

// latencySampleMask picks the queries whose answer time is observed: those
// whose message ID has these bits clear, one in 16. IDs are random (RFC
// 5452) or sequential (load generators), a uniform sample either way. The
// two clock reads and the histogram observation were most of the cost of
// metrics per query (BenchmarkQueryMetrics); the counters above count
// every answer.
const latencySampleMask = 0x0f

// latencySampled reports whether the answer to query b is timed.
func latencySampled(b []byte) bool { return len(b) >= 2 && b[1]&latencySampleMask == 0 }

// maxCountedRcode is the highest rcode with a slot of its own: BADCOOKIE
// (23) is the highest one the handler sends.
const maxCountedRcode = dns.RcodeBadCookie

// countedTypes are the query types with a counter of their own; every
// other type counts as OTHER, so that the label set stays small.
var countedTypes = [...]uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypeMX, dns.TypeNS, dns.TypeSOA,
	dns.TypeTXT, dns.TypeSRV, dns.TypePTR, dns.TypeCAA, dns.TypeHTTPS, dns.TypeSVCB, dns.TypeDS, dns.TypeDNSKEY,
	dns.TypeANY}

func typeSlot(t uint16) int {
	for i, c := range countedTypes {
		if c == t {
			return i
		}
	}
	return len(countedTypes)
}

// count records one answer; resp is the packed response (its header says
// whether it was truncated).
func (qs *queryStats) count(q *request, rcode int, resp []byte) {
	p := 0
	if q.tcp {
		p = 1
	}
	if rcode < 0 || rcode > maxCountedRcode {
		rcode = maxCountedRcode + 1
	}
	sh := &qs.shards[0]
	if len(resp) > 2 {
		sh = &qs.shards[int(resp[1])&(statShards-1)]
	}
	sh.byRcode[p][rcode].Add(1)
	sh.byType[typeSlot(q.qtype)].Add(1)
	if len(resp) > 2 && resp[2]&0x02 != 0 {
		sh.truncated[p].Add(1)
	}
}

// observe records the time one answer took.
func (qs *queryStats) observe(tcp bool, d time.Duration) {
	p := 0
	if tcp {
		p = 1
	}
	qs.latency[p].Observe(d.Seconds())
}

var protoNames = [2]string{"udp", "tcp"}

// Metrics exposes a nameserver to Prometheus: the answers of its servers
// (by rcode, protocol and view; by query type), answer latency, truncated
// and rate-limited responses, TCP admission, cookies, and the sync node's
// state. Create it with NewMetrics, then EnableMetrics on each server.
type Metrics struct {
	mu      sync.Mutex // guards servers, node, qlog and tap
	servers []*Server
	node    *Node
	qlog    *QueryLog
	tap     *Dnstap
	latency *prometheus.HistogramVec

	queries, types, truncated, abuse, zones, applied, unservable        *prometheus.Desc
	loadSeconds, loads, lagMessages, lagSeconds, qlogEntries, qlogQueue *prometheus.Desc
	tapAnswers, tapFrames                                               *prometheus.Desc
}

// NewMetrics registers the nameserver's collectors on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "waymark_dns_answer_duration_seconds",
			Help:    "Time from a query's arrival in the handler to its packed answer, by protocol; observed for one query in 16 (by message ID).",
			Buckets: []float64{5e-6, 10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 5e-3, 25e-3},
		}, []string{"protocol"}),
		queries:    prometheus.NewDesc("waymark_dns_queries_total", "DNS answers sent, by rcode, protocol and view (pool name; \"\" without views).", []string{"rcode", "protocol", "view"}, nil),
		types:      prometheus.NewDesc("waymark_dns_queries_by_type_total", "DNS answers sent, by query type (OTHER for types without a counter of their own).", []string{"qtype"}, nil),
		truncated:  prometheus.NewDesc("waymark_dns_truncated_total", "Answers sent with TC set (too large for UDP, or slipped by rate limiting), by protocol.", []string{"protocol"}, nil),
		abuse:      prometheus.NewDesc("waymark_dns_protection_total", "Counters of dataplane.Stats (docs/operations.md): TCP admission, response rate limiting, cookies, FORMERR headers.", []string{"counter"}, nil),
		zones:      prometheus.NewDesc("waymark_dns_zones_loaded", "Zones in the nameserver's store.", nil, nil),
		applied:    prometheus.NewDesc("waymark_sync_applied_sequence", "The last zone-stream sequence the nameserver applied.", nil, nil),
		unservable: prometheus.NewDesc("waymark_dns_unservable_rrsets", "Record sets held but not servable (answered SERVFAIL).", nil, nil),
		loadSeconds: prometheus.NewDesc("waymark_sync_load_duration_seconds",
			"Duration of the last successful zone load, by source (snapshot: from the control plane; cache: from disk).", []string{"source"}, nil),
		loads: prometheus.NewDesc("waymark_sync_loads_total", "Successful zone loads, by source (snapshot, cache).", []string{"source"}, nil),
		lagMessages: prometheus.NewDesc("waymark_sync_stream_lag_messages",
			"Zone-stream messages still pending for the nameserver when it applied the last one.", nil, nil),
		lagSeconds: prometheus.NewDesc("waymark_sync_stream_lag_seconds",
			"Time from the publication of the last applied zone-stream message to its application.", nil, nil),
		qlogEntries: prometheus.NewDesc("waymark_querylog_entries_total",
			"Query log entries, by result: queued, dropped (queue full), published, failed (NATS refused or lost the batch).", []string{"result"}, nil),
		qlogQueue: prometheus.NewDesc("waymark_querylog_queue_length", "Query log entries waiting to be published.", nil, nil),
		tapAnswers: prometheus.NewDesc("waymark_dnstap_answers_total",
			"Answers offered to dnstap, by result: queued, dropped (queue full).", []string{"result"}, nil),
		tapFrames: prometheus.NewDesc("waymark_dnstap_frames_total", "dnstap messages handed to the Frame Streams writer (two per answer).", nil, nil),
	}
	reg.MustRegister(m, m.latency)
	return m
}

// EnableMetrics makes s count its answers and time them for m. Call it
// before Start.
func (m *Metrics) EnableMetrics(s *Server) {
	qs := &queryStats{}
	for p, name := range protoNames {
		qs.latency[p] = m.latency.WithLabelValues(name)
	}
	s.handler.qstats = qs
	m.mu.Lock()
	m.servers = append(m.servers, s)
	m.mu.Unlock()
}

// SetNode adds the sync node's state (applied sequence) to the metrics.
func (m *Metrics) SetNode(n *Node) {
	m.mu.Lock()
	m.node = n
	m.mu.Unlock()
}

// SetQueryLog adds the query log's counters to the metrics.
func (m *Metrics) SetQueryLog(l *QueryLog) {
	m.mu.Lock()
	m.qlog = l
	m.mu.Unlock()
}

// SetDnstap adds the dnstap output's counters to the metrics.
func (m *Metrics) SetDnstap(d *Dnstap) {
	m.mu.Lock()
	m.tap = d
	m.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.queries, m.types, m.truncated, m.abuse, m.zones, m.applied, m.unservable,
		m.loadSeconds, m.loads, m.lagMessages, m.lagSeconds, m.qlogEntries, m.qlogQueue, m.tapAnswers, m.tapFrames} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: it reads the counters at scrape
// time, so the hot path never touches Prometheus' own structures.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	servers, node, qlog, tap := m.servers, m.node, m.qlog, m.tap
	m.mu.Unlock()
	type key struct {
		rcode int
		proto int
		view  string
	}
	byRcode := map[key]uint64{}
	var byType [len(countedTypes) + 1]uint64
	var trunc [2]uint64
	var stats StatsSnapshot
	var store *Store
	for _, s := range servers {
		qs := s.handler.qstats
		store = s.handler.store
		view := ""
		if names := store.Views(); len(names) > 1 || (len(names) == 1 && names[0] != "") {
			view = names[s.handler.view]
		}
		for p := range 2 {
			for rc := range maxCountedRcode + 2 {
				if n := qs.rcodes(p, rc); n > 0 {
					byRcode[key{rc, p, view}] += n
				}
			}
			trunc[p] += qs.truncs(p)
		}
		for i := range byType {
			byType[i] += qs.types(i)
		}
		stats = stats.Add(s.Stats())
	}
	for k, n := range byRcode {
		ch <- prometheus.MustNewConstMetric(m.queries, prometheus.CounterValue, float64(n), rcodeName(k.rcode), protoNames[k.proto], k.view)
	}
	for i, n := range byType {
		name := "OTHER"
		if i < len(countedTypes) {
			name = dns.TypeToString[countedTypes[i]]
		}
		ch <- prometheus.MustNewConstMetric(m.types, prometheus.CounterValue, float64(n), name)
	}
	for p, n := range trunc {
		ch <- prometheus.MustNewConstMetric(m.truncated, prometheus.CounterValue, float64(n), protoNames[p])
	}
	args := stats.LogArgs()
	for i := 0; i < len(args); i += 2 {
		ch <- prometheus.MustNewConstMetric(m.abuse, prometheus.CounterValue, float64(args[i+1].(uint64)), args[i].(string))
	}
	if store != nil {
		ch <- prometheus.MustNewConstMetric(m.zones, prometheus.GaugeValue, float64(store.Len()))
		ch <- prometheus.MustNewConstMetric(m.unservable, prometheus.GaugeValue, float64(store.Unservable()))
	}
	if node != nil {
		ch <- prometheus.MustNewConstMetric(m.applied, prometheus.GaugeValue, float64(node.AppliedSeq()))
		st := node.SyncStats()
		ch <- prometheus.MustNewConstMetric(m.loadSeconds, prometheus.GaugeValue, st.SnapshotLoad.Seconds(), "snapshot")
		ch <- prometheus.MustNewConstMetric(m.loadSeconds, prometheus.GaugeValue, st.CacheLoad.Seconds(), "cache")
		ch <- prometheus.MustNewConstMetric(m.loads, prometheus.CounterValue, float64(st.SnapshotLoads), "snapshot")
		ch <- prometheus.MustNewConstMetric(m.loads, prometheus.CounterValue, float64(st.CacheLoads), "cache")
		ch <- prometheus.MustNewConstMetric(m.lagMessages, prometheus.GaugeValue, float64(st.LagMessages))
		ch <- prometheus.MustNewConstMetric(m.lagSeconds, prometheus.GaugeValue, st.LagSeconds)
	}
	if qlog != nil {
		st := qlog.Stats()
		for _, c := range []struct {
			result string
			n      uint64
		}{{"queued", st.Queued}, {"dropped", st.Dropped}, {"published", st.Published}, {"failed", st.Failed}} {
			ch <- prometheus.MustNewConstMetric(m.qlogEntries, prometheus.CounterValue, float64(c.n), c.result)
		}
		ch <- prometheus.MustNewConstMetric(m.qlogQueue, prometheus.GaugeValue, float64(len(qlog.ch)))
	}
	if tap != nil {
		st := tap.Stats()
		ch <- prometheus.MustNewConstMetric(m.tapAnswers, prometheus.CounterValue, float64(st.Queued), "queued")
		ch <- prometheus.MustNewConstMetric(m.tapAnswers, prometheus.CounterValue, float64(st.Dropped), "dropped")
		ch <- prometheus.MustNewConstMetric(m.tapFrames, prometheus.CounterValue, float64(st.Frames))
	}
}

func rcodeName(rc int) string {
	if rc > maxCountedRcode {
		return "OTHER"
	}
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return strconv.Itoa(rc)
}
