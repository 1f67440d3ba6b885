package dataplane

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	dnstap "github.com/dnstap/golang-dnstap"
	"google.golang.org/protobuf/proto"
)

// dnstap output for operators (docs/observability.md): every query a
// server answers becomes an AUTH_QUERY and an AUTH_RESPONSE message,
// written as Frame Streams to a unix socket where a collector (the dnstap
// tool, dnstap-ldns, a log shipper) listens. As with query logs, the hot
// path only copies the two packets onto a bounded queue and never waits:
// a full queue drops (and counts) the messages. One goroutine encodes and
// writes them; golang-dnstap's writer reconnects to the socket when the
// collector goes away or is not there yet.

// DnstapConfig configures a Dnstap.
type DnstapConfig struct {
	// Socket is the path of the collector's unix socket. Required.
	Socket string
	// Identity and Version go in every message (the node id and the
	// server's version).
	Identity, Version string
	// QueueSize is the number of answers waiting to be written at most;
	// default 4096.
	QueueSize int
	// RetryInterval is how long the writer waits before reconnecting to
	// a collector that is gone; default 2 s.
	RetryInterval time.Duration
	// Logger receives the writer's connection errors. Default: discard.
	Logger *slog.Logger
}

// Dnstap queues answers and writes them as dnstap messages. Create it
// with NewDnstap, give it to each server (Server.SetDnstap) and run it.
type Dnstap struct {
	cfg                     DnstapConfig
	ch                      chan tapItem
	out                     *dnstap.FrameStreamSockOutput
	queued, dropped, frames atomic.Uint64
}

// tapItem is one answered query: both packets in one buffer.
type tapItem struct {
	buf          []byte // query then response
	qlen         int
	from, local  netip.AddrPort
	tcp          bool
	qtime, rtime int64 // Unix nanoseconds
}

// NewDnstap returns a dnstap output for cfg.
func NewDnstap(cfg DnstapConfig) (*Dnstap, error) {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 4096
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	out, err := dnstap.NewFrameStreamSockOutput(&net.UnixAddr{Name: cfg.Socket, Net: "unix"})
	if err != nil {
		return nil, err
	}
	out.SetRetryInterval(cfg.RetryInterval)
	out.SetFlushTimeout(100 * time.Millisecond)
	out.SetTimeout(time.Second)
	out.SetLogger(slogDnstap{cfg.Logger})
	return &Dnstap{cfg: cfg, ch: make(chan tapItem, cfg.QueueSize), out: out}, nil
}

// DnstapStats are a dnstap output's counters.
type DnstapStats struct {
	Queued  uint64 // answers accepted onto the queue
	Dropped uint64 // answers dropped because the queue was full
	Frames  uint64 // messages handed to the writer (two per answer)
}

// Stats returns the counters.
func (d *Dnstap) Stats() DnstapStats {
	return DnstapStats{Queued: d.queued.Load(), Dropped: d.dropped.Load(), Frames: d.frames.Load()}
}

// record queues one answer; it never blocks.
func (d *Dnstap) record(query, resp []byte, from, local netip.AddrPort, tcp bool, qtime time.Time) {
	if len(d.ch) == cap(d.ch) {
		d.dropped.Add(1)
		return
	}
	buf := make([]byte, len(query)+len(resp))
	copy(buf, query)
	copy(buf[len(query):], resp)
	it := tapItem{buf: buf, qlen: len(query), from: from, local: local, tcp: tcp, qtime: qtime.UnixNano(), rtime: time.Now().UnixNano()}
	select {
	case d.ch <- it:
		d.queued.Add(1)
	default:
		d.dropped.Add(1)
	}
}

// Run writes queued answers until ctx ends, then closes the output.
func (d *Dnstap) Run(ctx context.Context) {
	go d.out.RunOutputLoop()
	defer d.out.Close()
	outCh := d.out.GetOutputChannel()
	for {
		select {
		case <-ctx.Done():
			return
		case it := <-d.ch:
			for _, t := range []dnstap.Message_Type{dnstap.Message_AUTH_QUERY, dnstap.Message_AUTH_RESPONSE} {
				b, err := proto.Marshal(d.message(&it, t))
				if err != nil {
					continue
				}
				select {
				case outCh <- b:
					d.frames.Add(1)
				case <-ctx.Done():
					return
				}
			}
		}
	}
}

// message is the dnstap message of type t for it.
func (d *Dnstap) message(it *tapItem, t dnstap.Message_Type) *dnstap.Dnstap {
	family, proto := dnstap.SocketFamily_INET, dnstap.SocketProtocol_UDP
	if it.from.Addr().Is6() {
		family = dnstap.SocketFamily_INET6
	}
	if it.tcp {
		proto = dnstap.SocketProtocol_TCP
	}
	qport, rport := uint32(it.from.Port()), uint32(it.local.Port())
	m := &dnstap.Message{
		Type:            &t,
		SocketFamily:    &family,
		SocketProtocol:  &proto,
		QueryAddress:    it.from.Addr().AsSlice(),
		QueryPort:       &qport,
		ResponseAddress: it.local.Addr().AsSlice(),
		ResponsePort:    &rport,
	}
	qs, qn := uint64(it.qtime/1e9), uint32(it.qtime%1e9)
	m.QueryTimeSec, m.QueryTimeNsec = &qs, &qn
	if t == dnstap.Message_AUTH_QUERY {
		m.QueryMessage = it.buf[:it.qlen]
	} else {
		rs, rn := uint64(it.rtime/1e9), uint32(it.rtime%1e9)
		m.ResponseTimeSec, m.ResponseTimeNsec = &rs, &rn
		m.ResponseMessage = it.buf[it.qlen:]
	}
	typ := dnstap.Dnstap_MESSAGE
	return &dnstap.Dnstap{Type: &typ, Identity: []byte(d.cfg.Identity), Version: []byte(d.cfg.Version), Message: m}
}

// slogDnstap adapts a slog.Logger to golang-dnstap's Logger.
type slogDnstap struct{ l *slog.Logger }

func (s slogDnstap) Printf(format string, v ...any) {
	s.l.Warn("dnstap", "msg", fmt.Sprintf(format, v...))
}
