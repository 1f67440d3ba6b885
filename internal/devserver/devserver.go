// Package devserver runs the real `waymark dev` binary for tests of the
// clients (the SDK and the command line): the API, the outbox relay,
// embedded NATS with JetStream, a nameserver and health checkers, on a
// fresh PostgreSQL schema, random ports and a temporary directory, set up
// exactly as a developer's `make run` is (its .waymark/dev.env included).
//
// It is not a _test.go file so that the tests of several packages can use
// it; nothing outside tests imports it.
package devserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/migrations"
)

// Build compiles cmd/waymark into dir and returns the binary's path.
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "waymark")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/waymark-dns/waymark/cmd/waymark")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/waymark: %v\n%s", err, out)
	}
	return bin, nil
}

// Options configure Start. Binary is required.
type Options struct {
	// Binary is the waymark binary (from Build).
	Binary string
	// Dir is the working directory, where .waymark/ is written; default a
	// new temporary directory, removed by Close.
	Dir string
	// Args are extra flags of `waymark dev`.
	Args []string
}

// Server is a running `waymark dev`.
type Server struct {
	// API is the API's base URL; APIKey the dev tenant's token and
	// AdminToken the operator's, as in dev.env.
	API, APIKey, AdminToken string
	// DNS is the first nameserver's address (UDP and TCP).
	DNS string
	// Dir is the working directory; Env the variables of dev.env.
	Dir string
	Env map[string]string

	cmd     *exec.Cmd
	log     *lockedBuffer
	exited  chan struct{}
	waitErr error
	schema  string
	ownDir  bool
}

// Start runs `waymark dev` on a new schema of the test database and waits
// until it has written .waymark/dev.env, which it does once the API
// listens and the nameserver has started.
func Start(ctx context.Context, o Options) (*Server, error) {
	s := &Server{Dir: o.Dir, log: &lockedBuffer{}, exited: make(chan struct{})}
	if s.Dir == "" {
		d, err := os.MkdirTemp("", "waymark-dev-")
		if err != nil {
			return nil, err
		}
		s.Dir, s.ownDir = d, true
	}
	dsn, err := s.createSchema(ctx)
	if err != nil {
		s.cleanup()
		return nil, err
	}
	dnsAddr, err := freePort()
	if err != nil {
		s.cleanup()
		return nil, err
	}
	// RDAP and EPP on port 0 too: their defaults (:8081, :8700) are fixed
	// ports, which two tests running at once would both want.
	args := append([]string{"dev", "--database-url", dsn, "--listen", "127.0.0.1:0", "--dns", dnsAddr, "--signup",
		"--rdap", "127.0.0.1:0", "--epp", "127.0.0.1:0"}, o.Args...)
	s.cmd = exec.Command(o.Binary, args...)
	s.cmd.Dir = s.Dir
	s.cmd.Env = cleanEnv()
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		s.cleanup()
		return nil, err
	}
	go func() { s.waitErr = s.cmd.Wait(); close(s.exited) }()

	envFile := filepath.Join(s.Dir, ".waymark", "dev.env")
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(2 * time.Minute)
	for {
		select {
		case <-ctx.Done():
			_ = s.Close()
			return nil, ctx.Err()
		case <-deadline:
			_ = s.Close()
			return nil, fmt.Errorf("waymark dev did not write dev.env in 2 minutes; its output:\n%s", s.Output())
		case <-s.exited:
			err := fmt.Errorf("waymark dev exited (%v); its output:\n%s", s.waitErr, s.Output())
			s.cleanup()
			return nil, err
		case <-tick.C:
		}
		env, err := readEnv(envFile)
		if err != nil || env["WAYMARK_API"] == "" {
			continue
		}
		s.Env = env
		s.API, s.APIKey, s.AdminToken, s.DNS = env["WAYMARK_API"], env["WAYMARK_API_KEY"], env["WAYMARK_ADMIN_TOKEN"], dnsAddr
		return s, nil
	}
}

// Output returns what the server has logged so far.
func (s *Server) Output() string { return s.log.String() }

// Close stops the server (SIGINT, as Ctrl-C would; killed after 20 s) and
// drops its schema.
func (s *Server) Close() error {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.exited:
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	return s.cleanup()
}

func (s *Server) cleanup() error {
	var errs []error
	if s.schema != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, pgtest.URL()); err != nil {
			errs = append(errs, err)
		} else {
			if _, err := c.Exec(ctx, "DROP SCHEMA "+s.schema+" CASCADE"); err != nil {
				errs = append(errs, err)
			}
			_ = c.Close(ctx)
		}
		s.schema = ""
	}
	if s.ownDir {
		errs = append(errs, os.RemoveAll(s.Dir))
		s.ownDir = false
	}
	return errors.Join(errs...)
}

// createSchema makes an empty schema in the test database; waymark dev
// migrates it as it would a new database.
func (s *Server) createSchema(ctx context.Context) (string, error) {
	base := pgtest.URL()
	if err := migrations.EnsureDatabase(ctx, base); err != nil {
		return "", fmt.Errorf("devserver: PostgreSQL is required (TEST_DATABASE_URL=%s): %w", base, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "dev_" + hex.EncodeToString(b[:])
	c, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", fmt.Errorf("devserver: PostgreSQL is required (TEST_DATABASE_URL=%s): %w", base, err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", err
	}
	s.schema = schema
	return pgtest.WithSearchPath(base, schema)
}

// freePort returns a loopback address whose port is free for both UDP and
// TCP right now, for the nameserver (waymark dev gives its port to the
// next nameservers and to dev.env, so it cannot be 0).
func freePort() (string, error) {
	for range 20 {
		tl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		addr := tl.Addr().String()
		ul, err := net.ListenPacket("udp", addr)
		_ = tl.Close()
		if err != nil {
			continue
		}
		_ = ul.Close()
		return addr, nil
	}
	return "", errors.New("devserver: no free port for DNS")
}

// cleanEnv is this process's environment without the settings that would
// point waymark dev elsewhere.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "WAYMARK_") || k == "DATABASE_URL" {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// readEnv reads dev.env's `export KEY=VALUE` lines.
func readEnv(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export "))
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(k, "#") {
			out[k] = v
		}
	}
	return out, sc.Err()
}

// DNSPort is the nameserver's port, for dig-like queries.
func (s *Server) DNSPort() int {
	_, p, _ := net.SplitHostPort(s.DNS)
	n, _ := strconv.Atoi(p)
	return n
}

// lockedBuffer collects the server's output from two pipes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
