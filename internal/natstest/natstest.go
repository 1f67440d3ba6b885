// Package natstest runs a real NATS server with JetStream inside the test
// process, on a free port, with its storage in the test's temp dir.
package natstest

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/waymark-dns/waymark/internal/testkit"
)

// Server is an embedded NATS server started for one test.
type Server struct {
	*server.Server
	opts *server.Options
}

// Run starts a JetStream-enabled NATS server and stops it at cleanup.
func Run(t testing.TB) *Server {
	t.Helper()
	opts := &server.Options{
		Host:      "127.0.0.1",
		Port:      -1,
		JetStream: true,
		StoreDir:  t.TempDir(),
		NoLog:     true,
		NoSigs:    true,
	}
	s := start(t, opts)
	t.Cleanup(s.Shutdown)
	return s
}

func start(t testing.TB, opts *server.Options) *Server {
	t.Helper()
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatalf("natstest: server not ready")
	}
	return &Server{Server: ns, opts: opts}
}

// Restart stops the server and starts a new one on the same port with the
// same storage, as an operator's restart would. Clients reconnect by
// themselves.
func (s *Server) Restart(t testing.TB) *Server {
	t.Helper()
	opts := *s.opts
	opts.Port = s.Addr().(*net.TCPAddr).Port
	s.Shutdown()
	s.WaitForShutdown()
	ns := start(t, &opts)
	t.Cleanup(ns.Shutdown)
	return ns
}

// Cluster is a JetStream cluster of embedded servers, routed to each
// other on loopback, for tests of replicated streams and node loss.
type Cluster struct {
	Servers []*Server
}

// RunCluster starts n JetStream servers (n >= 3 for a quorum that
// survives one loss) clustered with each other, waits until JetStream has
// a meta leader, and stops them at cleanup.
func RunCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	// Route ports must be known before the servers start: each server
	// lists every other one. A port taken between the probe and the
	// start fails the start loudly, never silently.
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("natstest: %v", err)
		}
		ports[i] = ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
	}
	routes := make([]*url.URL, n)
	for i, p := range ports {
		routes[i] = &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", p)}
	}
	c := &Cluster{}
	for i := range n {
		opts := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1",
			Port:       -1,
			JetStream:  true,
			StoreDir:   t.TempDir(),
			NoLog:      true,
			NoSigs:     true,
			Cluster:    server.ClusterOpts{Name: "waymark-test", Host: "127.0.0.1", Port: ports[i]},
			Routes:     routes,
		}
		ns, err := server.NewServer(opts)
		if err != nil {
			t.Fatalf("natstest: %v", err)
		}
		go ns.Start()
		s := &Server{Server: ns, opts: opts}
		c.Servers = append(c.Servers, s)
		t.Cleanup(ns.Shutdown)
	}
	for _, s := range c.Servers {
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatalf("natstest: server %s not ready", s.Name())
		}
	}
	testkit.Eventually(t, 20*time.Second, func() error {
		// Only the meta leader lists the peers; every server must be
		// current with it.
		peers := 0
		for _, s := range c.Servers {
			if !s.JetStreamIsCurrent() {
				return fmt.Errorf("server %s: JetStream not current", s.Name())
			}
			if s.JetStreamIsLeader() {
				peers = len(s.JetStreamClusterPeers())
			}
		}
		if peers != n {
			return fmt.Errorf("JetStream meta leader sees %d of %d peers", peers, n)
		}
		return nil
	})
	return c
}

// ClientURLs is every server's client URL, comma-separated, as
// nats.Connect takes them.
func (c *Cluster) ClientURLs() string {
	urls := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		urls[i] = s.ClientURL()
	}
	return strings.Join(urls, ",")
}

// Named returns the server with the given name, or nil.
func (c *Cluster) Named(name string) *Server {
	for _, s := range c.Servers {
		if s.Name() == name {
			return s
		}
	}
	return nil
}
