package dataplane

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/internal/dnstest"
)

func startServer(t *testing.T) *Server {
	t.Helper()
	srv := NewServer(testStore(t), Config{Addr: "127.0.0.1:0", UDPWorkers: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return srv
}

// TestServerSockets runs golden cases over real UDP and TCP sockets.
func TestServerSockets(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	if srv.UDPAddr().(*net.UDPAddr).Port != srv.TCPAddr().(*net.TCPAddr).Port {
		t.Errorf("UDP %v and TCP %v ports differ", srv.UDPAddr(), srv.TCPAddr())
	}
	_, cases, err := dnstest.ReadCases("testdata/answers.golden")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, c := range cases {
		want[c.Name] = c.Want
	}

	// Not ready yet: SERVFAIL.
	q, _ := dnstest.ParseQuery("www.example.com. A")
	m, err := dnstest.Exchange("udp", srv.UDPAddr().String(), q.Msg)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rcode != dns.RcodeServerFailure {
		t.Errorf("before SetReady: rcode %s, want SERVFAIL", dns.RcodeToString[m.Rcode])
	}
	srv.SetReady(true)

	for _, c := range cases {
		switch c.Name {
		case "www-a", "www-case-0x20", "nxdomain-edns", "referral", "cname-chain", "big-udp-truncated",
			"big-udp-edns-fits", "big-tcp", "www-tcp", "axfr-refused-tcp", "edns-version-1-badvers", "opcode-notify-notimp":
		default:
			continue
		}
		q, err := dnstest.ParseQuery(c.Query)
		if err != nil {
			t.Fatal(err)
		}
		network, addr := "udp", srv.UDPAddr().String()
		if q.TCP {
			network, addr = "tcp", srv.TCPAddr().String()
		}
		m, err := dnstest.Exchange(network, addr, q.Msg)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if got := dnstest.Format(m); got != want[c.Name] {
			t.Errorf("%s over %s:\ngot:\n%swant:\n%s", c.Name, network, got, want[c.Name])
		}
	}
}

// TestServerTCPPipelining sends several queries on one connection before
// reading any answer (RFC 7766 §6.2.1).
func TestServerTCPPipelining(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.SetReady(true)
	c, err := net.DialTimeout("tcp", srv.TCPAddr().String(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	names := []string{"www.example.com.", "nothere.example.com.", "www.sub.example.com."}
	var out []byte
	for i, n := range names {
		q := new(dns.Msg)
		q.SetQuestion(n, dns.TypeA)
		q.Id = uint16(i + 1)
		b, _ := q.Pack()
		out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
	}
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	for i := range names {
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatal(err)
		}
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			t.Fatal(err)
		}
		if m.Id != uint16(i+1) || m.Question[0].Name != names[i] {
			t.Errorf("response %d: id %d for %s, want %d for %s", i, m.Id, m.Question[0].Name, i+1, names[i])
		}
	}
}

// TestServerWildcardAnswersFromQueriedAddress binds the wildcard address
// and queries 127.0.0.2 with a connected socket, which accepts only
// datagrams from 127.0.0.2: the answer must leave from the address asked.
func TestServerWildcardAnswersFromQueriedAddress(t *testing.T) {
	t.Parallel()
	srv := NewServer(testStore(t), Config{Addr: "0.0.0.0:0", UDPWorkers: 1})
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	srv.SetReady(true)
	port := srv.UDPAddr().(*net.UDPAddr).Port
	for _, ip := range []string{"127.0.0.1", "127.0.0.2"} {
		q, _ := dnstest.ParseQuery("www.example.com. A")
		m, err := dnstest.Exchange("udp", net.JoinHostPort(ip, fmt.Sprint(port)), q.Msg)
		if err != nil {
			t.Errorf("query to %s: %v", ip, err)
			continue
		}
		if len(m.Answer) != 2 {
			t.Errorf("query to %s: got %v", ip, m)
		}
	}
}

// TestServerTCPLargeQuery sends a query padded past the initial buffer size
// (RFC 7830 padding) over TCP: the connection's buffer must grow.
func TestServerTCPLargeQuery(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.SetReady(true)
	q := new(dns.Msg)
	q.SetQuestion("www.example.com.", dns.TypeA)
	q.SetEdns0(1232, false)
	opt := q.IsEdns0()
	opt.Option = append(opt.Option, &dns.EDNS0_PADDING{Padding: make([]byte, 3000)})
	m, err := dnstest.Exchange("tcp", srv.TCPAddr().String(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Answer) != 2 {
		t.Errorf("got %v", m)
	}
}
