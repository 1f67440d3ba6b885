package dataplane

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Config configures a Server.
type Config struct {
	// Addr is the host:port to listen on, UDP and TCP alike. Port 0 picks a
	// free port (the same for both). Default "127.0.0.1:5300". With a
	// wildcard host (0.0.0.0 or ::) UDP answers leave from the address each
	// query was sent to (IP_PKTINFO / IPV6_PKTINFO).
	Addr string
	// Logger receives errors the server cannot return; the caller tags it
	// (component=dns). Default: discard.
	Logger *slog.Logger
	// UDPWorkers is the number of goroutines reading the UDP socket.
	// Default GOMAXPROCS.
	UDPWorkers int
	// TCP bounds the TCP connections (RFC 7766 §6); see TCPConfig.
	TCP TCPConfig
	// RRL limits UDP responses per client prefix; see RRLConfig. The
	// zero value is off.
	RRL RRLConfig
	// Cookies configures DNS Cookies (RFC 7873, RFC 9018); see
	// CookieConfig.
	Cookies CookieConfig
	// Handler, when set, answers instead of a new handler of the store:
	// one per view (Handler.ForView) when a nameserver listens on the
	// addresses of several pool names. The server gives it its rate
	// limiter, cookie jar and counters.
	Handler *Handler
	// CountZoneQueries counts the queries answered from each zone, by
	// rcode, for the tenants' per-zone metrics (ZoneQueryReporter).
	CountZoneQueries bool
}

// Server answers DNS over UDP and TCP from a Store. UDP is read and
// written in batches (recvmmsg/sendmmsg on Linux); each packet is answered
// by Handler.ServeWire in the reading goroutine. TCP connections are served
// one goroutine each, queries in order (RFC 7766 §6.2.1.1 allows it).
type Server struct {
	cfg     Config
	handler *Handler
	log     *slog.Logger

	udp *net.UDPConn
	tcp *net.TCPListener

	wg     sync.WaitGroup
	mu     sync.Mutex // guards closed and tcp connection table
	closed bool
	conns  tcpTable
	stats  *Stats
	// stopClocks stops the coarse clocks of RRL and cookies.
	stopClocks chan struct{}
	// tap, when set, receives every answer (dnstap.go); udpLocal and
	// tcpLocal are the bound addresses it reports.
	tap                *Dnstap
	udpLocal, tcpLocal netip.AddrPort
}

// SetDnstap makes s write every query and answer to d (nil: none). Call
// it before Start.
func (s *Server) SetDnstap(d *Dnstap) { s.tap = d }

// NewServer returns a server answering from store. It is not ready: until
// SetReady(true) it answers SERVFAIL (see Handler).
func NewServer(store *Store, cfg Config) *Server {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:5300"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.UDPWorkers <= 0 {
		cfg.UDPWorkers = runtime.GOMAXPROCS(0)
	}
	cfg.TCP = cfg.TCP.withDefaults()
	h := cfg.Handler
	if h == nil {
		h = NewHandler(store)
	}
	s := &Server{
		cfg:     cfg,
		handler: h,
		log:     cfg.Logger,
	}
	s.stats = s.handler.stats
	s.conns.init()
	s.handler.rrl = newRRL(cfg.RRL, s.stats)
	s.handler.cookies = newCookieJar(cfg.Cookies, s.stats)
	s.handler.tcpIdle = s.idleTimeout
	s.handler.countZones = cfg.CountZoneQueries
	return s
}

// Stats returns the abuse counters so far: TCP connections refused and
// evicted, responses rate limited and slipped, cookies seen.
func (s *Server) Stats() StatsSnapshot { return s.stats.Snapshot() }

// SetCookieSecrets replaces the server cookie secrets (RFC 9018 §4.4:
// rotate by making the old secret the previous one; cookies made with
// it stay valid until they age out). prev may be nil.
func (s *Server) SetCookieSecrets(cur, prev []byte) error {
	return s.handler.cookies.setSecrets(cur, prev)
}

// Handler returns the server's handler.
func (s *Server) Handler() *Handler { return s.handler }

// SetReady opens (or closes) the ready gate; see Handler.
func (s *Server) SetReady(ready bool) { s.handler.SetReady(ready) }

// UDPAddr returns the bound UDP address, once Start has returned.
func (s *Server) UDPAddr() net.Addr { return s.udp.LocalAddr() }

// TCPAddr returns the bound TCP address, once Start has returned.
func (s *Server) TCPAddr() net.Addr { return s.tcp.Addr() }

// Start binds the UDP and TCP sockets and starts serving. It returns once
// both are listening; serving goes on until Shutdown. ctx bounds binding.
func (s *Server) Start(ctx context.Context) error {
	var lc net.ListenConfig
	host, port, err := net.SplitHostPort(s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("dataplane: listen address %q: %w", s.cfg.Addr, err)
	}
	// With port 0 the UDP port is chosen first and TCP binds the same; a
	// clash with another TCP listener retries with a new port.
	for attempt := 0; ; attempt++ {
		pc, err := lc.ListenPacket(ctx, "udp", net.JoinHostPort(host, port))
		if err != nil {
			return fmt.Errorf("dataplane: listen udp: %w", err)
		}
		udp := pc.(*net.UDPConn)
		p := strconv.Itoa(udp.LocalAddr().(*net.UDPAddr).Port)
		ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, p))
		if err != nil {
			_ = udp.Close()
			if port == "0" && attempt < 10 {
				continue
			}
			return fmt.Errorf("dataplane: listen tcp: %w", err)
		}
		s.udp, s.tcp = udp, ln.(*net.TCPListener)
		s.udpLocal = udp.LocalAddr().(*net.UDPAddr).AddrPort()
		s.tcpLocal = s.tcp.Addr().(*net.TCPAddr).AddrPort()
		// Room for bursts; the kernel caps it at net.core.rmem_max.
		_ = udp.SetReadBuffer(4 << 20)
		_ = udp.SetWriteBuffer(4 << 20)
		break
	}
	s.stopClocks = make(chan struct{})
	if s.handler.rrl != nil {
		go s.handler.rrl.clock.run(s.stopClocks)
	}
	if s.handler.cookies != nil {
		go s.handler.cookies.clock.run(s.stopClocks)
	}
	for range s.cfg.UDPWorkers {
		s.wg.Add(1)
		go s.serveUDP()
	}
	s.wg.Add(1)
	go s.serveTCP()
	s.log.Info("dns listening", "udp", s.udp.LocalAddr().String(), "tcp", s.tcp.Addr().String())
	return nil
}

// Shutdown stops accepting queries, closes TCP connections and waits for
// the serving goroutines, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closed || s.udp == nil {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.conns.closeAll()
	close(s.stopClocks)
	s.mu.Unlock()
	err := errors.Join(s.udp.Close(), s.tcp.Close())
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// batchConn is what ipv4.PacketConn and ipv6.PacketConn have in common.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// udpBatch is the number of datagrams read or written per system call.
const udpBatch = 32

// maxUDPQuery is the largest UDP query read; a real query is a few dozen
// octets, and a datagram longer than this is dropped (read buffers are one
// octet longer, to tell). It keeps a reader's buffers at 128 KiB.
const maxUDPQuery = 4096

// serveUDP reads batches of queries, answers each and writes the answers
// back in one batch.
func (s *Server) serveUDP() {
	defer s.wg.Done()
	var bc batchConn
	if a := s.udp.LocalAddr().(*net.UDPAddr); a.IP.To4() != nil {
		bc = ipv4.NewPacketConn(s.udp)
	} else {
		bc = ipv6.NewPacketConn(s.udp)
	}
	// Bound to a wildcard address, the socket must learn each query's
	// destination and answer from it: otherwise the kernel picks the
	// source, which on a host with several addresses (anycast on lo, say)
	// is not the one the client asked, and the client drops the answer.
	// Go makes wildcard sockets dual-stack where it can, so ask for both
	// kinds of destination information; one of them may be refused.
	pktinfo := s.udp.LocalAddr().(*net.UDPAddr).IP.IsUnspecified()
	if pktinfo {
		e4 := ipv4.NewPacketConn(s.udp).SetControlMessage(ipv4.FlagDst, true)
		e6 := ipv6.NewPacketConn(s.udp).SetControlMessage(ipv6.FlagDst, true)
		if e4 != nil && e6 != nil {
			s.log.Warn("udp: cannot learn query destinations; answers leave from the kernel's choice of address", "err", errors.Join(e4, e6))
			pktinfo = false
		}
	}
	in := make([]ipv4.Message, udpBatch)
	out := make([]ipv4.Message, udpBatch)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, maxUDPQuery+1)}
		out[i].Buffers = [][]byte{make([]byte, 0, ednsUDPSize)}
		if pktinfo {
			in[i].OOB = make([]byte, max(len(ipv4.NewControlMessage(ipv4.FlagDst)), len(ipv6.NewControlMessage(ipv6.FlagDst))))
		}
	}
	for {
		n, err := bc.ReadBatch(in, 0)
		if err != nil {
			if s.isClosed() {
				return
			}
			s.log.Warn("udp read", "err", err)
			continue
		}
		k := 0
		for i := range n {
			m := &in[i]
			if m.N > maxUDPQuery {
				s.stats.Unanswered.Add(1)
				continue
			}
			var from netip.AddrPort
			if ua, ok := m.Addr.(*net.UDPAddr); ok {
				a, _ := netip.AddrFromSlice(ua.IP)
				from = netip.AddrPortFrom(a.Unmap(), uint16(ua.Port))
			}
			resp := s.serve(out[k].Buffers[0][:0], m.Buffers[0][:m.N], from, false)
			if resp == nil {
				continue
			}
			out[k].Buffers[0] = resp
			out[k].Addr = m.Addr
			out[k].OOB = nil
			if pktinfo {
				out[k].OOB = replySource(m.OOB[:m.NN])
			}
			k++
		}
		for sent := 0; sent < k; {
			w, err := bc.WriteBatch(out[sent:k], 0)
			if err != nil {
				if s.isClosed() {
					return
				}
				// One bad destination must not cost the rest of the batch.
				s.log.Warn("udp write", "to", out[sent+max(w, 0)].Addr, "err", err)
				w = max(w, 0) + 1
			} else if w <= 0 {
				break
			}
			sent += w
		}
	}
}

// serve answers one packet. A panic (a bug: the handler is fuzzed not to)
// costs that query only, not the nameserver: it is logged with the packet
// and the query goes unanswered, so the client retries elsewhere.
func (s *Server) serve(out, b []byte, fromPort netip.AddrPort, tcp bool) (resp []byte) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic answering a query", "panic", r, "query", hex.EncodeToString(b), "stack", string(debug.Stack()))
			resp = nil
		}
	}()
	from := fromPort.Addr()
	if s.tap != nil {
		start := time.Now()
		defer func() {
			if resp != nil {
				local := s.udpLocal
				if tcp {
					local = s.tcpLocal
				}
				s.tap.record(b, resp, fromPort, local, tcp, start)
			}
		}()
	}
	if qs := s.handler.qstats; qs != nil && latencySampled(b) {
		start := time.Now()
		resp = s.handler.ServeWire(out, b, from, tcp)
		qs.observe(tcp, time.Since(start))
		return resp
	}
	return s.handler.ServeWire(out, b, from, tcp)
}

// replySource returns the control message that makes an answer leave from
// the address the query was sent to, or nil. On a dual-stack socket IPv4
// queries arrive with IPV6_PKTINFO and a mapped address; the answer then
// takes IP_PKTINFO, which Linux applies to mapped destinations (and x/net
// will not marshal a mapped address as IPV6_PKTINFO).
func replySource(oob []byte) []byte {
	var c6 ipv6.ControlMessage
	if c6.Parse(oob) == nil && c6.Dst != nil {
		if v4 := c6.Dst.To4(); v4 != nil {
			return (&ipv4.ControlMessage{Src: v4}).Marshal()
		}
		return (&ipv6.ControlMessage{Src: c6.Dst}).Marshal()
	}
	var c4 ipv4.ControlMessage
	if c4.Parse(oob) == nil && c4.Dst != nil {
		return (&ipv4.ControlMessage{Src: c4.Dst}).Marshal()
	}
	return nil
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}
