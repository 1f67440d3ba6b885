package dataplane

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/internal/testkit"
)

// startServerWith starts a ready server on loopback with cfg.
func startServerWith(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.UDPWorkers == 0 {
		cfg.UDPWorkers = 1
	}
	srv := NewServer(testStore(t), cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return srv
}

// dialFrom opens a TCP connection to srv from the loopback address src.
func dialFrom(t testing.TB, srv *Server, src string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", srv.TCPAddr().String())
	if err != nil {
		t.Fatalf("dial from %s: %v", src, err)
	}
	return c
}

// tcpQuery frames a query for name A with id.
func tcpQuery(t testing.TB, name string, id uint16) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	m.Id = id
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
}

// readTCPAnswer reads one framed message from c.
func readTCPAnswer(c net.Conn) (*dns.Msg, error) {
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(c, b); err != nil {
		return nil, err
	}
	m := new(dns.Msg)
	return m, m.Unpack(b)
}

// freshQueries opens n new connections from 127.0.0.1, one query each,
// and returns how many were answered.
func freshQueries(t *testing.T, srv *Server, n int) int {
	t.Helper()
	ok := 0
	for i := range n {
		c := dialFrom(t, srv, "127.0.0.1")
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(tcpQuery(t, "www.example.com.", uint16(i))); err == nil {
			if m, err := readTCPAnswer(c); err == nil && m.Id == uint16(i) && len(m.Answer) == 2 {
				ok++
			}
		}
		_ = c.Close()
	}
	return ok
}

// waitFor is testkit.Eventually for a condition named what, 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, 10*time.Second, func() error {
		if cond() {
			return nil
		}
		return errors.New(what)
	})
}

// TestTCPIdleFlood opens far more idle connections, from several
// addresses, than the server admits: each new one evicts an idle one, the
// table never exceeds its bound, and new clients are answered. Timeouts
// are an hour, so that every close counted is an eviction.
func TestTCPIdleFlood(t *testing.T) {
	t.Parallel()
	const maxConns, flood = 200, 2000
	srv := startServerWith(t, Config{TCP: TCPConfig{MaxConns: maxConns, MaxConnsPerIP: flood, IdleTimeout: time.Hour, PressureIdleTimeout: time.Hour}})
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	srcs := []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"}
	for i := range flood {
		conns = append(conns, dialFrom(t, srv, srcs[i%len(srcs)]))
	}
	waitFor(t, "the flood to be admitted", func() bool { return srv.Stats().TCPAccepted >= flood })
	if open := srv.conns.open.Load(); open > maxConns {
		t.Errorf("%d connections open, limit %d", open, maxConns)
	}
	if got := freshQueries(t, srv, 50); got != 50 {
		t.Errorf("%d of 50 new TCP queries answered during the idle flood", got)
	}
	st := srv.Stats()
	if st.TCPEvicted < flood-maxConns || st.TCPRefused != 0 {
		t.Errorf("stats %v: want at least %d evicted and none refused", st, flood-maxConns)
	}
}

// TestTCPEvictionSparesLoneClients fills the server with connections from
// a few addresses, then opens one from another address that sends nothing
// yet: as the flood goes on it is not the one evicted, since the flood's
// addresses hold far more connections.
func TestTCPEvictionSparesLoneClients(t *testing.T) {
	t.Parallel()
	const maxConns = 100
	srv := startServerWith(t, Config{TCP: TCPConfig{MaxConns: maxConns, MaxConnsPerIP: 10 * maxConns, IdleTimeout: time.Hour, PressureIdleTimeout: time.Hour}})
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	flood := func(n int) {
		for i := range n {
			conns = append(conns, dialFrom(t, srv, []string{"127.0.0.2", "127.0.0.3"}[i%2]))
		}
	}
	flood(maxConns)
	lone := dialFrom(t, srv, "127.0.0.9")
	defer lone.Close()
	flood(5 * maxConns)
	waitFor(t, "the flood to be admitted", func() bool { return srv.Stats().TCPAccepted >= 6*maxConns+1 })
	_ = lone.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := lone.Write(tcpQuery(t, "www.example.com.", 7)); err != nil {
		t.Fatal(err)
	}
	if m, err := readTCPAnswer(lone); err != nil || m.Id != 7 {
		t.Errorf("the lone client was evicted: %v %v", m, err)
	}
	// The flood's first connections were evicted: the server closed them.
	_ = conns[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conns[0].Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("first flood connection: read %v, want EOF", err)
	}
}

// TestTCPSlowSenders holds connections that each sent part of a query and
// stall: they are idle, so new clients evict them.
func TestTCPSlowSenders(t *testing.T) {
	t.Parallel()
	const maxConns, slow = 50, 300
	srv := startServerWith(t, Config{TCP: TCPConfig{MaxConns: maxConns, MaxConnsPerIP: slow, IdleTimeout: time.Hour, PressureIdleTimeout: time.Hour}})
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	q := tcpQuery(t, "www.example.com.", 1)
	for i := range slow {
		c := dialFrom(t, srv, "127.0.0.6")
		// Half send one octet of the length, half the length and part of
		// the message.
		part := q[:1]
		if i%2 == 1 {
			part = q[:len(q)/2]
		}
		if _, err := c.Write(part); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	waitFor(t, "the slow senders to be admitted", func() bool { return srv.Stats().TCPAccepted >= slow })
	if got := freshQueries(t, srv, 50); got != 50 {
		t.Errorf("%d of 50 new TCP queries answered among slow senders", got)
	}
}

// TestTCPPerIPLimit opens more connections from one address than it may
// have: the oldest of that address are closed, the newest still answer,
// and another address is not affected.
func TestTCPPerIPLimit(t *testing.T) {
	t.Parallel()
	srv := startServerWith(t, Config{TCP: TCPConfig{MaxConnsPerIP: 4, IdleTimeout: time.Hour}})
	other := dialFrom(t, srv, "127.0.0.8")
	defer other.Close()
	var conns []net.Conn
	for range 10 {
		c := dialFrom(t, srv, "127.0.0.7")
		defer c.Close()
		conns = append(conns, c)
		// One at a time, so that the order of admission is the order of
		// dialing.
		n := len(conns)
		waitFor(t, "admission", func() bool { return srv.Stats().TCPAccepted >= uint64(n+1) })
	}
	for i, c := range conns {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, werr := c.Write(tcpQuery(t, "www.example.com.", uint16(i)))
		m, err := readTCPAnswer(c)
		answered := werr == nil && err == nil && m.Id == uint16(i)
		if want := i >= 6; answered != want {
			t.Errorf("connection %d: answered %v, want %v (write %v, read %v)", i, answered, want, werr, err)
		}
	}
	_ = other.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := other.Write(tcpQuery(t, "www.example.com.", 99)); err != nil {
		t.Fatal(err)
	}
	if m, err := readTCPAnswer(other); err != nil || m.Id != 99 {
		t.Errorf("other address: %v %v", m, err)
	}
	if st := srv.Stats(); st.TCPEvicted != 6 {
		t.Errorf("evicted %d, want 6", st.TCPEvicted)
	}
}

// TestTCPPipelinedBurst writes many queries in one segment, then one split
// over two writes: every answer comes back in order with its id.
func TestTCPPipelinedBurst(t *testing.T) {
	t.Parallel()
	srv := startServerWith(t, Config{})
	c := dialFrom(t, srv, "127.0.0.1")
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	const n = 200
	var burst []byte
	for i := range n {
		name := "www.example.com."
		if i%3 == 1 {
			name = "nothere.example.com."
		}
		burst = append(burst, tcpQuery(t, name, uint16(i))...)
	}
	last := tcpQuery(t, "www.example.com.", n)
	burst = append(burst, last[:5]...)
	if _, err := c.Write(burst); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		m, err := readTCPAnswer(c)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		if m.Id != uint16(i) {
			t.Fatalf("answer %d has id %d", i, m.Id)
		}
	}
	// The rest of the split query: its answer was not held back by the
	// server waiting for it, and it is answered once complete.
	if _, err := c.Write(last[5:]); err != nil {
		t.Fatal(err)
	}
	if m, err := readTCPAnswer(c); err != nil || m.Id != n {
		t.Fatalf("split query: %v %v", m, err)
	}
}

// TestTCPIdleTimeout: a connection that sends nothing is closed by the
// server after the idle timeout.
func TestTCPIdleTimeout(t *testing.T) {
	t.Parallel()
	srv := startServerWith(t, Config{TCP: TCPConfig{IdleTimeout: 100 * time.Millisecond}})
	c := dialFrom(t, srv, "127.0.0.1")
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("idle connection: read %v, want EOF from the server", err)
	}
}

// TestServerFormErrOverSockets sends malformed headers over UDP and TCP:
// ANCOUNT 65535 with no records, NSCOUNT 1 with none, octets after the
// question. Each is answered FORMERR with the query's id and counted.
func TestServerFormErrOverSockets(t *testing.T) {
	t.Parallel()
	srv := startServerWith(t, Config{})
	question := []byte{7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1}
	cases := map[string][]byte{
		"ancount-65535": append([]byte{0x12, 0x34, 1, 0, 0, 1, 0xff, 0xff, 0, 0, 0, 0}, question...),
		"nscount-1":     append([]byte{0x12, 0x35, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0}, question...),
		"trailing":      append(append([]byte{0x12, 0x36, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, question...), 0, 0xff),
	}
	check := func(name string, b []byte, id uint16) {
		t.Helper()
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			t.Errorf("%s: answer does not parse: %v", name, err)
			return
		}
		if m.Id != id || m.Rcode != dns.RcodeFormatError || !m.Response {
			t.Errorf("%s: id %d rcode %s, want %d FORMERR", name, m.Id, dns.RcodeToString[m.Rcode], id)
		}
	}
	for name, q := range cases {
		id := binary.BigEndian.Uint16(q)
		u, err := net.Dial("udp", srv.UDPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		_ = u.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := u.Write(q); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1500)
		n, err := u.Read(buf)
		_ = u.Close()
		if err != nil {
			t.Fatalf("%s over UDP: %v", name, err)
		}
		check(name+" over UDP", buf[:n], id)

		c := dialFrom(t, srv, "127.0.0.1")
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(q))), q...)); err != nil {
			t.Fatal(err)
		}
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			t.Fatalf("%s over TCP: %v", name, err)
		}
		b := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatal(err)
		}
		_ = c.Close()
		check(name+" over TCP", b, id)
	}
	if st := srv.Stats(); st.FormErrHeader != 2*uint64(len(cases)) {
		t.Errorf("form_err_header = %d, want %d", st.FormErrHeader, 2*len(cases))
	}
}

// TestTCPPressureIdleTimeout: with more than three quarters of the limit
// open, a new connection gets the short idle timeout; below, the long one.
func TestTCPPressureIdleTimeout(t *testing.T) {
	t.Parallel()
	srv := startServerWith(t, Config{TCP: TCPConfig{MaxConns: 8, MaxConnsPerIP: 8, IdleTimeout: time.Hour, PressureIdleTimeout: 50 * time.Millisecond}})
	var conns []net.Conn
	for i := range 6 {
		c := dialFrom(t, srv, "127.0.0.1")
		defer c.Close()
		conns = append(conns, c)
		waitFor(t, "admission", func() bool { return srv.Stats().TCPAccepted >= uint64(i+1) })
	}
	// The 7th makes 7 of 8 open: pressure.
	c := dialFrom(t, srv, "127.0.0.1")
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("under pressure: read %v, want EOF from the short idle timeout", err)
	}
	// One of the first six, opened without pressure, is still served.
	_ = conns[0].SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conns[0].Write(tcpQuery(t, "www.example.com.", 3)); err != nil {
		t.Fatal(err)
	}
	if m, err := readTCPAnswer(conns[0]); err != nil || m.Id != 3 {
		t.Errorf("connection opened before the pressure: %v %v", m, err)
	}
}

// TestTCPKeepaliveOption: a TCP query with edns-tcp-keepalive (RFC 7828)
// learns the idle timeout in 100 ms units; over UDP the option is ignored;
// a query that carries a TIMEOUT value is malformed.
func TestTCPKeepaliveOption(t *testing.T) {
	t.Parallel()
	srv := startServerWith(t, Config{TCP: TCPConfig{IdleTimeout: 7 * time.Second}})
	query := func(timeout uint16) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion("www.example.com.", dns.TypeA)
		m.SetEdns0(1232, false)
		o := m.IsEdns0()
		o.Option = append(o.Option, &dns.EDNS0_TCP_KEEPALIVE{Code: dns.EDNS0TCPKEEPALIVE, Timeout: timeout})
		return m
	}
	keepalive := func(m *dns.Msg) (uint16, bool) {
		if o := m.IsEdns0(); o != nil {
			for _, e := range o.Option {
				if k, ok := e.(*dns.EDNS0_TCP_KEEPALIVE); ok {
					return k.Timeout, true
				}
			}
		}
		return 0, false
	}
	tc := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	r, _, err := tc.Exchange(query(0), srv.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := keepalive(r); !ok || v != 70 || len(r.Answer) != 2 {
		t.Errorf("over TCP: keepalive %d %v, answer %v; want 70 (7 s)", v, ok, r.Answer)
	}
	uc := &dns.Client{Net: "udp", Timeout: 5 * time.Second}
	r, _, err = uc.Exchange(query(0), srv.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := keepalive(r); ok || len(r.Answer) != 2 {
		t.Errorf("over UDP: the option must be ignored: %v", r)
	}
	r, _, err = tc.Exchange(query(5), srv.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeFormatError {
		t.Errorf("a query with a TIMEOUT value: %s, want FORMERR", dns.RcodeToString[r.Rcode])
	}
}
