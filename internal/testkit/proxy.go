package testkit

import (
	"net"
	"sync"
	"testing"
)

// Proxy is a TCP proxy a test controls, put between a client and a server
// (such as PostgreSQL) to make the server look unreachable or stopped
// without touching the server itself.
type Proxy struct {
	t        testing.TB
	upstream string
	addr     string

	mu    sync.Mutex
	mode  proxyMode
	ln    net.Listener          // nil while refusing
	conns map[net.Conn]struct{} // every open connection, both sides
}

type proxyMode int

const (
	forwarding  proxyMode = iota
	blackholing           // accept and read, forward nothing, answer nothing
	refusing              // no listener: connects are refused
)

// NewProxy starts a proxy on a loopback port that forwards to upstream
// (host:port). It is closed at the end of the test.
func NewProxy(t testing.TB, upstream string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: listen: %v", err)
	}
	p := &Proxy{t: t, upstream: upstream, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.ln = ln
	go p.accept(ln)
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

// Forward makes the proxy forward again (listening again if it refused).
func (p *Proxy) Forward() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = forwarding
	if p.ln == nil {
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			p.t.Errorf("proxy: listen again on %s: %v", p.addr, err)
			return
		}
		p.ln = ln
		go p.accept(ln)
	}
}

// Blackhole makes the network look cut without a reset: open connections
// stay open but carry nothing either way, and new connections are
// accepted and then never answered.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = blackholing
}

// Refuse makes the server look stopped: every connection is closed and
// new ones are refused.
func (p *Proxy) Refuse() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = refusing
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

func (p *Proxy) close() {
	p.Refuse()
}

func (p *Proxy) forwarding() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode == forwarding
}

// track registers c; it returns false (and closes c) if the proxy is
// refusing.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == refusing {
		_ = c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
	_ = c.Close()
}

func (p *Proxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			continue
		}
		go p.serve(c)
	}
}

// serve connects c to the upstream, unless the proxy is blackholing, in
// which case c is read and ignored until it closes.
func (p *Proxy) serve(c net.Conn) {
	defer p.untrack(c)
	if !p.forwarding() {
		p.pipe(c, nil)
		return
	}
	u, err := net.Dial("tcp", p.upstream)
	if err != nil || !p.track(u) {
		return
	}
	defer p.untrack(u)
	go func() {
		p.pipe(u, c)
		_ = c.Close()
	}()
	p.pipe(c, u)
}

// pipe copies from src to dst while the proxy forwards, and drops what it
// reads otherwise; dst nil drops everything.
func (p *Proxy) pipe(src, dst net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && dst != nil && p.forwarding() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
