package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// apiProcess is `waymark api` started by startAPI.
type apiProcess struct {
	base string
	cmd  *exec.Cmd
	log  *os.File
	// exited is closed when the process has been waited for.
	exited chan struct{}
}

// startAPI starts `o.waymark api` on the bench database as an operator
// would (environment only: the same master and JWT keys as the in-process
// setup, so the tokens made here are valid there; NATS at its default URL;
// every limit at its default), under taskset when o.apiCPUs is set, and
// waits for GET /readyz. Its log goes to a file named on stderr.
func startAPI(ctx context.Context, o options) (*apiProcess, error) {
	// A free port: listen on :0 and let it go. Another process could take
	// it in between; the readiness wait then fails rather than measure
	// the wrong server.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	log, err := os.CreateTemp("", "cpabuse-api-*.log")
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(os.Stderr, "cpabuse: waymark api log:", log.Name())
	args := []string{o.waymark, "api"}
	if o.apiCPUs != "" {
		args = append([]string{"taskset", "-c", o.apiCPUs}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+o.dsn,
		"WAYMARK_LISTEN="+addr,
		"WAYMARK_MASTER_KEY="+strings.Repeat("07", 32),
		"WAYMARK_JWT_KEY="+strings.Repeat("09", 32),
		"WAYMARK_ADMIN_TOKEN=cpabuse-admin-token-0123456789",
	)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, err
	}
	exited := make(chan struct{})
	p := &apiProcess{base: "http://" + addr, cmd: cmd, log: log, exited: exited}
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-exited:
			_ = log.Close()
			return nil, fmt.Errorf("waymark api exited; see %s", log.Name())
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if res, err := http.Get(p.base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("waymark api not ready after 60 s; see %s", log.Name())
		}
	}
}

// cpu returns the API process's user and system CPU time so far (taskset
// execs the binary, so the pid is the API's).
func (p *apiProcess) cpu() time.Duration { return procCPU(p.cmd.Process.Pid) }

// stop ends the API and waits for it.
func (p *apiProcess) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	_ = p.log.Close()
}
