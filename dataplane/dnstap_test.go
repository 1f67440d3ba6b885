package dataplane

import (
	"bufio"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dnstap "github.com/dnstap/golang-dnstap"
	"github.com/miekg/dns"
	"google.golang.org/protobuf/proto"
)

// dnstapServer is a ready server on a small zone writing dnstap to sock.
func dnstapServer(t *testing.T, sock string) (*Server, *Dnstap) {
	t.Helper()
	s := NewStore()
	if err := s.ReplaceZone(benchZone("Z1", "tap.example.", 10)); err != nil {
		t.Fatal(err)
	}
	srv := NewServer(s, Config{Addr: "127.0.0.1:0"})
	tap, err := NewDnstap(DnstapConfig{Socket: sock, Identity: "ns-test", Version: "waymark", RetryInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetDnstap(tap)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tap.Run(ctx); close(done) }()
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()); cancel(); <-done })
	return srv, tap
}

// askTap sends one query over UDP or TCP until it is answered.
func askTap(t *testing.T, srv *Server, proto, name string) {
	t.Helper()
	c := &dns.Client{Net: proto, Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	if _, _, err := c.Exchange(m, srv.UDPAddr().String()); err != nil {
		t.Fatalf("%s %s: %v", proto, name, err)
	}
}

// TestDnstapFrames: each answer becomes an AUTH_QUERY and an
// AUTH_RESPONSE message, readable with golang-dnstap's own Frame Streams
// reader on the unix socket, with the packets, addresses and protocol;
// the writer connects to a collector that starts after the server.
func TestDnstapFrames(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "dnstap.sock")
	srv, tap := dnstapServer(t, sock)
	askTap(t, srv, "udp", "h1.tap.example.") // before any collector: dropped by the writer
	in, err := dnstap.NewFrameStreamSockInputFromPath(sock)
	if err != nil {
		t.Fatal(err)
	}
	frames := make(chan []byte, 64)
	go in.ReadInto(frames)
	type seen struct {
		typ   dnstap.Message_Type
		proto dnstap.SocketProtocol
		name  string
	}
	var got []seen
	deadline := time.After(10 * time.Second)
	for len(got) < 4 {
		// Ask until the writer has reconnected and both queries came.
		askTap(t, srv, "udp", "h2.tap.example.")
		askTap(t, srv, "tcp", "h3.tap.example.")
		for drained := false; !drained; {
			select {
			case b := <-frames:
				var d dnstap.Dnstap
				if err := proto.Unmarshal(b, &d); err != nil {
					t.Fatalf("frame: %v", err)
				}
				m := d.GetMessage()
				if string(d.GetIdentity()) != "ns-test" || d.GetType() != dnstap.Dnstap_MESSAGE {
					t.Fatalf("frame %v", &d)
				}
				pkt := m.GetQueryMessage()
				if m.GetType() == dnstap.Message_AUTH_RESPONSE {
					pkt = m.GetResponseMessage()
					if m.GetResponseTimeSec() == 0 || m.GetQueryTimeSec() == 0 {
						t.Errorf("response without times: %v", m)
					}
				}
				var msg dns.Msg
				if err := msg.Unpack(pkt); err != nil {
					t.Fatalf("%v message: %v", m.GetType(), err)
				}
				if m.GetType() == dnstap.Message_AUTH_RESPONSE && (!msg.Response || len(msg.Answer) == 0) {
					t.Errorf("AUTH_RESPONSE is not the answer: %v", &msg)
				}
				if m.GetQueryPort() == 0 || m.GetResponsePort() != uint32(srv.udpLocal.Port()) {
					t.Errorf("ports %d → %d", m.GetQueryPort(), m.GetResponsePort())
				}
				if msg.Question[0].Name != "h1.tap.example." {
					got = append(got, seen{m.GetType(), m.GetSocketProtocol(), msg.Question[0].Name})
				}
			case <-deadline:
				t.Fatalf("frames after 10 s: %v (stats %+v)", got, tap.Stats())
			case <-time.After(200 * time.Millisecond):
				drained = true
			}
		}
	}
	want := map[seen]bool{
		{dnstap.Message_AUTH_QUERY, dnstap.SocketProtocol_UDP, "h2.tap.example."}:    true,
		{dnstap.Message_AUTH_RESPONSE, dnstap.SocketProtocol_UDP, "h2.tap.example."}: true,
		{dnstap.Message_AUTH_QUERY, dnstap.SocketProtocol_TCP, "h3.tap.example."}:    true,
		{dnstap.Message_AUTH_RESPONSE, dnstap.SocketProtocol_TCP, "h3.tap.example."}: true,
	}
	for _, s := range got {
		delete(want, s)
	}
	if len(want) > 0 {
		t.Errorf("missing %v in %v", want, got)
	}
}

// TestDnstapTool: the dnstap command-line tool (Debian
// golang-github-dnstap-golang-dnstap-cli, .ci/apt.d/dnstap.txt) reads
// the socket and prints the queries and answers.
func TestDnstapTool(t *testing.T) {
	tool, err := exec.LookPath("dnstap")
	if err != nil {
		t.Fatalf("this test needs the dnstap tool (Debian: apt-get install -y golang-github-dnstap-golang-dnstap-cli): %v", err)
	}
	sock := filepath.Join(t.TempDir(), "dnstap.sock")
	cmd := exec.Command(tool, "-u", sock, "-q")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	srv, _ := dnstapServer(t, sock)
	var seen []string
	deadline := time.After(10 * time.Second)
	for {
		askTap(t, srv, "udp", "h4.tap.example.")
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("dnstap exited; printed %v", seen)
			}
			seen = append(seen, l)
		case <-deadline:
			t.Fatalf("dnstap printed %v in 10 s", seen)
		case <-time.After(300 * time.Millisecond):
		}
		var q, r bool
		for _, l := range seen {
			q = q || strings.Contains(l, " AQ ") && strings.Contains(l, "h4.tap.example.")
			r = r || strings.Contains(l, " AR ") && strings.Contains(l, "h4.tap.example.")
		}
		if q && r {
			return
		}
	}
}
