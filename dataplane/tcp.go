package dataplane

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"
)

// TCPConfig bounds TCP service (RFC 7766 §6). The listener never stops
// accepting: when a limit is reached the oldest idle connection (of that
// client address, or of all) is closed to make room, so a flood of idle or
// slow connections cannot lock out new clients, which is what
// RFC 7766 §6.2.2 asks of servers under pressure. Zero fields take the
// defaults.
type TCPConfig struct {
	// MaxConns bounds open TCP connections. Default 10,000, or half the
	// process's file descriptor limit when that is lower (at least 256):
	// an idle connection costs about 10 KiB, and a limit above the size
	// of the attack is what keeps reconnecting attackers from churning
	// every slot (Knot's default is likewise half the descriptor limit).
	MaxConns int
	// MaxConnsPerIP bounds the connections of one client address. A new
	// connection past it closes that address's oldest idle connection.
	// Default 128.
	MaxConnsPerIP int
	// IdleTimeout closes a connection that has not started a new query
	// this long after its last answer (RFC 7766 §6.2.3). Default 10 s.
	IdleTimeout time.Duration
	// PressureIdleTimeout replaces IdleTimeout while more than three
	// quarters of MaxConns are open. Default 2 s.
	PressureIdleTimeout time.Duration
	// IOTimeout bounds reading the rest of a query once its length has
	// arrived, and writing an answer. Default 2 s.
	IOTimeout time.Duration
}

// Defaults of TCPConfig.
const (
	DefaultTCPMaxConns            = 10000
	DefaultTCPMaxConnsPerIP       = 128
	DefaultTCPIdleTimeout         = 10 * time.Second
	DefaultTCPPressureIdleTimeout = 2 * time.Second
	DefaultTCPIOTimeout           = 2 * time.Second
)

func (c TCPConfig) withDefaults() TCPConfig {
	if c.MaxConns <= 0 {
		c.MaxConns = defaultMaxConns()
	}
	if c.MaxConnsPerIP <= 0 {
		c.MaxConnsPerIP = DefaultTCPMaxConnsPerIP
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultTCPIdleTimeout
	}
	if c.PressureIdleTimeout <= 0 {
		c.PressureIdleTimeout = DefaultTCPPressureIdleTimeout
	}
	c.PressureIdleTimeout = min(c.PressureIdleTimeout, c.IdleTimeout)
	if c.IOTimeout <= 0 {
		c.IOTimeout = DefaultTCPIOTimeout
	}
	return c
}

// defaultMaxConns is DefaultTCPMaxConns, or half the descriptor limit
// when that is lower. (Go raises the soft limit to the hard one at start.)
func defaultMaxConns() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil && rl.Cur/2 < DefaultTCPMaxConns {
		return max(int(rl.Cur/2), 256)
	}
	return DefaultTCPMaxConns
}

// tcpConn is one open connection in the table.
type tcpConn struct {
	c    net.Conn
	addr netip.Addr
	port uint16
	ip   *tcpAddrConns // the connections of addr
	// last is when the connection last finished an answer (or was
	// accepted), in Unix nanoseconds; busy is set while a query is being
	// answered. Only idle connections (not busy) are evicted; a
	// connection part-way through sending a query is idle.
	last atomic.Int64
	busy atomic.Bool
	// gone is set, under Server.mu, once the connection has left the
	// table (evicted or closed).
	gone bool
}

// tcpAddrConns is the set of open connections of one client address.
type tcpAddrConns map[*tcpConn]struct{}

// tcpTable is the set of open connections, guarded by Server.mu.
type tcpTable struct {
	all   map[*tcpConn]struct{}
	perIP map[netip.Addr]*tcpAddrConns
	open  atomic.Int64 // len(all), read without the lock
}

func (t *tcpTable) init() {
	t.all = map[*tcpConn]struct{}{}
	t.perIP = map[netip.Addr]*tcpAddrConns{}
}

// count returns the open connections of addr.
func (t *tcpTable) count(addr netip.Addr) int {
	if ip := t.perIP[addr]; ip != nil {
		return len(*ip)
	}
	return 0
}

func (t *tcpTable) add(c *tcpConn) {
	t.all[c] = struct{}{}
	ip := t.perIP[c.addr]
	if ip == nil {
		m := tcpAddrConns{}
		ip = &m
		t.perIP[c.addr] = ip
	}
	(*ip)[c] = struct{}{}
	c.ip = ip
	t.open.Store(int64(len(t.all)))
}

func (t *tcpTable) remove(c *tcpConn) {
	if c.gone {
		return
	}
	c.gone = true
	delete(t.all, c)
	delete(*c.ip, c)
	if len(*c.ip) == 0 {
		delete(t.perIP, c.addr)
	}
	t.open.Store(int64(len(t.all)))
}

// oldestIdleOf returns the idle connection of addr that finished its last
// answer first; nil when every one is busy.
func (t *tcpTable) oldestIdleOf(addr netip.Addr) *tcpConn {
	var best *tcpConn
	if ip := t.perIP[addr]; ip != nil {
		for c := range *ip {
			if !c.busy.Load() && (best == nil || c.last.Load() < best.last.Load()) {
				best = c
			}
		}
	}
	return best
}

// evictSample is how many idle connections victim compares.
const evictSample = 64

// victim picks the idle connection to close when the server is full:
// among a sample of idle connections (Go starts every map iteration at a
// random place), the one whose address holds the most connections, and of
// those the one idle longest. An attacker reopening thousands of
// connections from a few addresses then evicts its own, not the one
// connection of a real client that has not been read yet; with one
// connection per address it is the oldest idle of the sample. The sample
// keeps eviction cheap at ten thousand connections. nil: all busy.
func (t *tcpTable) victim() *tcpConn {
	var best *tcpConn
	bestN, seen := 0, 0
	for c := range t.all {
		if c.busy.Load() {
			continue
		}
		n := len(*c.ip)
		if best == nil || n > bestN || n == bestN && c.last.Load() < best.last.Load() {
			best, bestN = c, n
		}
		if seen++; seen == evictSample {
			break
		}
	}
	return best
}

func (t *tcpTable) closeAll() {
	for c := range t.all {
		_ = c.c.Close()
	}
}

// serveTCP accepts connections and makes room for each within the limits.
func (s *Server) serveTCP() {
	defer s.wg.Done()
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			if s.isClosed() {
				return
			}
			s.log.Warn("tcp accept", "err", err)
			time.Sleep(10 * time.Millisecond) // e.g. out of file descriptors
			continue
		}
		tc := &tcpConn{c: c}
		if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
			tc.addr, tc.port = a.AddrPort().Addr().Unmap(), a.AddrPort().Port()
		}
		tc.last.Store(time.Now().UnixNano())
		if !s.admit(tc) {
			_ = c.Close()
			continue
		}
		s.wg.Add(1)
		go s.serveConn(tc)
	}
}

// admit enters c in the table, closing the oldest idle connection of its
// address when that address is at its limit, then an idle one chosen by
// victim when the server is. It refuses c only when every connection in the
// way is busy answering, or the server is shutting down.
func (s *Server) admit(c *tcpConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	t := &s.conns
	if t.count(c.addr) >= s.cfg.TCP.MaxConnsPerIP {
		old := t.oldestIdleOf(c.addr)
		if old == nil {
			s.stats.TCPRefused.Add(1)
			return false
		}
		s.evictLocked(old)
	}
	if len(t.all) >= s.cfg.TCP.MaxConns {
		old := t.victim()
		if old == nil {
			s.stats.TCPRefused.Add(1)
			return false
		}
		s.evictLocked(old)
	}
	t.add(c)
	s.stats.TCPAccepted.Add(1)
	return true
}

func (s *Server) evictLocked(c *tcpConn) {
	s.conns.remove(c)
	_ = c.c.Close()
	s.stats.TCPEvicted.Add(1)
}

// idleTimeout is the idle timeout now: shorter while the table is more
// than three quarters full.
func (s *Server) idleTimeout() time.Duration {
	if s.conns.open.Load()*4 > int64(s.cfg.TCP.MaxConns)*3 {
		return s.cfg.TCP.PressureIdleTimeout
	}
	return s.cfg.TCP.IdleTimeout
}

// tcpFlushAt is how much answer data is buffered, while more pipelined
// queries are already waiting, before it is written.
const tcpFlushAt = 16 << 10

// serveConn answers length-prefixed queries on one connection until the
// client closes it, goes idle, is evicted or sends a bad frame. Pipelined
// queries (RFC 7766 §6.2.1.1) are answered in the order they arrive, each
// as soon as it is read; answers to queries that arrived together are
// written together.
func (s *Server) serveConn(tc *tcpConn) {
	c := tc.c
	defer func() {
		s.mu.Lock()
		s.conns.remove(tc)
		s.mu.Unlock()
		_ = c.Close()
		s.wg.Done()
	}()
	// Buffers are made at the first query and grow to the largest
	// message seen, so that connections that never ask hold little.
	var br *bufio.Reader
	var req, out []byte
	var hdr [2]byte
	for {
		if br == nil {
			// The first length arrives straight from the socket.
			_ = c.SetReadDeadline(time.Now().Add(s.idleTimeout()))
			if _, err := io.ReadFull(c, hdr[:]); err != nil {
				return
			}
			br = bufio.NewReaderSize(c, 1024)
			req, out = make([]byte, 512), make([]byte, 0, 512)
		} else {
			if br.Buffered() < 2 {
				_ = c.SetReadDeadline(time.Now().Add(s.idleTimeout()))
			}
			if _, err := io.ReadFull(br, hdr[:]); err != nil {
				return
			}
		}
		n := int(binary.BigEndian.Uint16(hdr[:]))
		if n < 12 {
			return // not a DNS message: the stream cannot be resynchronised
		}
		if n > len(req) {
			req = make([]byte, n)
		}
		if br.Buffered() < n {
			_ = c.SetReadDeadline(time.Now().Add(s.cfg.TCP.IOTimeout))
		}
		if _, err := io.ReadFull(br, req[:n]); err != nil {
			return
		}
		tc.busy.Store(true)
		if isTransferQuery(req[:n]) {
			// Zone transfers stream many messages (xfr.go): what is
			// pending goes first, then each message as it is made.
			if !s.writeTCP(c, out) || s.handler.serveTransfer(req[:n], tc.addr, time.Now(), false, func(m []byte) error {
				return s.writeFramed(c, m)
			}) != nil {
				return
			}
			out = out[:0]
			tc.last.Store(time.Now().UnixNano())
			tc.busy.Store(false)
			continue
		}
		at := len(out)
		out = append(out, 0, 0)
		resp := s.serve(out[at+2:at+2], req[:n], netip.AddrPortFrom(tc.addr, tc.port), true)
		if resp != nil {
			// resp aliases out[at+2:] unless it grew past out's capacity.
			out = append(out[:at+2], resp...)
			binary.BigEndian.PutUint16(out[at:], uint16(len(resp)))
		} else {
			out = out[:at]
		}
		if len(out) > 0 && (len(out) >= tcpFlushAt || !fullMessageBuffered(br)) {
			_ = c.SetWriteDeadline(time.Now().Add(s.cfg.TCP.IOTimeout))
			if _, err := c.Write(out); err != nil {
				return
			}
			out = out[:0]
		}
		tc.last.Store(time.Now().UnixNano())
		tc.busy.Store(false)
	}
}

// fullMessageBuffered reports whether br holds a whole length-prefixed
// message, so that answering it needs no read that could block.
func fullMessageBuffered(br *bufio.Reader) bool {
	if br.Buffered() < 2 {
		return false
	}
	h, err := br.Peek(2)
	return err == nil && br.Buffered() >= 2+int(binary.BigEndian.Uint16(h))
}
