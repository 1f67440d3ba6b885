// Package natstest runs a real NATS server with JetStream inside the test
// process, on a free port, with its storage in the test's temp dir.
package natstest

import (
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
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
