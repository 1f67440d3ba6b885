package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/client"
)

func TestParseInterleaved(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		wantPos []string
		wantTTL int
		wantW   bool
	}{
		{[]string{"example.com", "www", "A", "192.0.2.1"}, []string{"example.com", "www", "A", "192.0.2.1"}, 300, false},
		{[]string{"example.com", "--ttl", "60", "www", "A", "192.0.2.1", "--wait"}, []string{"example.com", "www", "A", "192.0.2.1"}, 60, true},
		{[]string{"--wait", "example.com", "www", "TXT", "--ttl=5", "a"}, []string{"example.com", "www", "TXT", "a"}, 5, true},
		{[]string{"example.com", "www", "TXT", "--", "-all", "--ttl"}, []string{"example.com", "www", "TXT", "-all", "--ttl"}, 300, false},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		ttl := fs.Int("ttl", 300, "")
		wait := fs.Bool("wait", false, "")
		pos, err := parseInterleaved(fs, tt.args)
		if err != nil || !slices.Equal(pos, tt.wantPos) || *ttl != tt.wantTTL || *wait != tt.wantW {
			t.Errorf("%q: got %q ttl=%d wait=%v err=%v", tt.args, pos, *ttl, *wait, err)
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if _, err := parseInterleaved(fs, []string{"a", "--nope"}); err == nil {
		t.Error("an unknown flag after a positional argument was accepted")
	}
}

func TestAbsolute(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, zone, want string }{
		{"@", "example.com.", "example.com."},
		{"www", "example.com.", "www.example.com."},
		{"WWW", "example.com.", "www.example.com."},
		{"www.example.com", "example.com.", "www.example.com."},
		{"www.example.com.", "example.com.", "www.example.com."},
		{"example.com", "example.com.", "example.com."},
		{"a.b", "example.com.", "a.b.example.com."},
		{"other.org.", "example.com.", "other.org."},
		{"*.dev", "example.com.", "*.dev.example.com."},
	} {
		if got := absolute(tt.name, tt.zone); got != tt.want {
			t.Errorf("absolute(%q, %q) = %q, want %q", tt.name, tt.zone, got, tt.want)
		}
	}
}

func TestReportExitStatuses(t *testing.T) {
	t.Parallel()
	apiErr := &client.Error{StatusCode: 400, Code: "InvalidChangeBatch", Message: "1 problem", RequestID: "r1",
		Details: []client.ErrorDetail{{Index: client.Ptr(0), Message: "exists"}}}
	for _, tt := range []struct {
		err  error
		code int
		out  string
	}{
		{nil, ExitOK, ""},
		{usagef("bad"), ExitUsage, "waymark: bad\n\nUSAGE"},
		{timeoutError{"slow"}, ExitTimeout, "waymark: slow\n"},
		{fmt.Errorf("wrapped: %w", apiErr), ExitError, "waymark: InvalidChangeBatch: 1 problem (HTTP 400, request id r1)\n  change 0: exists\n"},
		{errors.New("boom"), ExitError, "waymark: boom\n"},
	} {
		var b bytes.Buffer
		if got := report(&b, tt.err, func() { b.WriteString("USAGE") }); got != tt.code || b.String() != tt.out {
			t.Errorf("report(%v) = %d %q, want %d %q", tt.err, got, b.String(), tt.code, tt.out)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the progress goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestProgressOnlyOnATerminal: the status line is drawn (and erased) on a
// terminal, and not at all elsewhere, so that piped output stays clean.
func TestProgressOnlyOnATerminal(t *testing.T) {
	t.Parallel()
	for _, tty := range []bool{true, false} {
		var errOut syncBuffer
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		e := &env{io: IO{Stderr: &errOut, StderrIsTerminal: tty, Now: func() time.Time { return now }}}
		l := e.statusLine("importing big.zone")
		l.set("PENDING, 0 of 2 nameservers")
		l.stop()
		l.stop() // twice is harmless
		got := errOut.String()
		if tty && (!strings.Contains(got, "importing big.zone") || !strings.HasSuffix(got, "\r\033[K")) {
			t.Errorf("on a terminal: %q", got)
		}
		if !tty && got != "" {
			t.Errorf("not a terminal: %q", got)
		}
	}
}

// fakeAPI answers GET /v1/changes/{id}: PENDING with progress until the
// third request, then INSYNC.
func fakeAPI(t *testing.T) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		k := n
		mu.Unlock()
		if r.URL.Query().Get("wait") != "insync" {
			t.Errorf("not a long poll: %s", r.URL)
		}
		status, applied := "PENDING", k-1
		if k >= 3 {
			status, applied = "INSYNC", 2
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"change":{"id":"C1","status":"%s","submitted_at":"2026-01-01T00:00:00Z","comment":"c"},"propagation":{"live_nameservers":2,"applied_nameservers":%d}}`, status, applied)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestChangesWaitShowsNameserverProgress runs `changes wait` in process
// against a fake API whose change spreads over three polls: the terminal
// sees the per-nameserver counts, stdout the final status.
func TestChangesWaitShowsNameserverProgress(t *testing.T) {
	t.Parallel()
	srv := fakeAPI(t)
	var out, errOut syncBuffer
	sys := IO{Stdout: &out, Stderr: &errOut, StderrIsTerminal: true, Stdin: strings.NewReader(""),
		Getenv: func(k string) string {
			return map[string]string{"WAYMARK_API": srv.URL, "WAYMARK_API_KEY": "wmk_x_y"}[k]
		}}
	code := Main(context.Background(), []string{"changes", "wait", "C1"}, sys, nil)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "INSYNC") || !strings.Contains(out.String(), "2 of 2 live nameservers") {
		t.Errorf("stdout:\n%s", out.String())
	}
	if !strings.Contains(errOut.String(), "waiting for C1") {
		t.Errorf("stderr: %q", errOut.String())
	}
}

// TestChangesWaitTimesOut: a wait that runs out of time exits 3 and says
// how far the change got.
func TestChangesWaitTimesOut(t *testing.T) {
	t.Parallel()
	srv := fakeAPI(t)
	var out, errOut syncBuffer
	sys := IO{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string {
		return map[string]string{"WAYMARK_API": srv.URL, "WAYMARK_API_KEY": "wmk_x_y"}[k]
	}}
	code := Main(context.Background(), []string{"changes", "wait", "C1", "--timeout", "1ns"}, sys, nil)
	if code != ExitTimeout || !strings.Contains(errOut.String(), "change C1 is not INSYNC after") || out.String() != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}

// TestEveryCommandHasHelp walks the tree: every group and leaf answers
// --help with its usage on stdout and exit 0.
func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	var walk func(c *command, path []string)
	walk = func(c *command, path []string) {
		var out, errOut bytes.Buffer
		code := Main(context.Background(), append(slices.Clone(path), "--help"), IO{Stdout: &out, Stderr: &errOut}, nil)
		if code != ExitOK || !strings.HasPrefix(out.String(), "usage: waymark "+strings.Join(path, " ")) {
			t.Errorf("%v --help: exit %d\n%s%s", path, code, out.String(), errOut.String())
		}
		if c.summary == "" {
			t.Errorf("%v has no summary", path)
		}
		for _, s := range c.subs {
			walk(s, append(slices.Clone(path), s.name))
		}
	}
	for _, c := range tree().subs {
		walk(c, []string{c.name})
	}
}

func TestRDataQuotesTXT(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 300)
	for _, tt := range []struct {
		typ  string
		in   []string
		want []string
	}{
		{"A", []string{"192.0.2.1"}, []string{"192.0.2.1"}},
		{"TXT", []string{"v=spf1 -all"}, []string{`"v=spf1 -all"`}},
		{"TXT", []string{`"already" "quoted"`}, []string{`"already" "quoted"`}},
		{"SPF", []string{`say "hi" \o/`}, []string{`"say \"hi\" \\o/"`}},
		{"TXT", []string{long}, []string{`"` + long[:255] + `" "` + long[255:] + `"`}},
	} {
		if got := rdata(tt.typ, tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("rdata(%s, %q) = %q, want %q", tt.typ, tt.in, got, tt.want)
		}
	}
}

func TestProgressBar(t *testing.T) {
	t.Parallel()
	out := func(status string, live, applied int) *client.GetChangeOutput {
		return &client.GetChangeOutput{Change: client.Change{Status: status},
			Propagation: &client.Propagation{LiveNameservers: live, AppliedNameservers: applied}}
	}
	for _, tt := range []struct {
		in   *client.GetChangeOutput
		want string
	}{
		{out("PENDING", 4, 1), "PENDING [█████░░░░░░░░░░░░░░░] 1/4 nameservers"},
		{out("INSYNC", 2, 2), "INSYNC [████████████████████] 2/2 nameservers"},
		{out("PENDING", 0, 0), "PENDING, 0 of 0 nameservers"},
		{&client.GetChangeOutput{Change: client.Change{Status: "PENDING"}}, "PENDING"},
	} {
		if got := progressBar(tt.in); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}
