package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/waymark-dns/waymark/controlplane"
)

// Defaults of DatabaseGate and the request deadline.
const (
	DefaultGateInterval   = time.Second
	DefaultGateTimeout    = time.Second
	DefaultRetryAfter     = 2 * time.Second
	DefaultRequestTimeout = 15 * time.Second
)

// errDatabaseDown is the cause given to the contexts of requests in flight
// when the gate sees the database go away.
var errDatabaseDown = errors.New("database unavailable")

// DatabaseGate watches the database with a periodic check (a ping through
// the pool) so that the API fails fast while it is gone: requests arriving
// during an outage are answered 503 with Retry-After without touching the
// pool, and requests in flight when it starts are cancelled rather than
// left waiting on a connection whose packets go nowhere. The first check
// that succeeds again reopens the gate: recovery needs no restart.
type DatabaseGate struct {
	check    func(ctx context.Context) error
	interval time.Duration
	timeout  time.Duration

	mu     sync.Mutex
	down   error                   // the last check's failure; nil while up
	since  time.Time               // when down began
	outage context.Context         // cancelled with errDatabaseDown when an outage begins
	cancel context.CancelCauseFunc // cancels outage
}

// GateOptions configure a DatabaseGate; zero fields take the defaults.
type GateOptions struct {
	// Interval is the time between checks (default 1 s); Timeout bounds
	// one check (default 1 s). An outage is noticed within about their sum.
	Interval, Timeout time.Duration
}

// NewDatabaseGate returns a gate that runs check; it is open (up) until a
// check fails. Run must be called for it to check at all.
func NewDatabaseGate(check func(ctx context.Context) error, o GateOptions) *DatabaseGate {
	if o.Interval <= 0 {
		o.Interval = DefaultGateInterval
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultGateTimeout
	}
	g := &DatabaseGate{check: check, interval: o.Interval, timeout: o.Timeout}
	g.outage, g.cancel = context.WithCancelCause(context.Background())
	return g
}

// Run checks the database every interval until ctx ends.
func (g *DatabaseGate) Run(ctx context.Context) {
	t := time.NewTicker(g.interval)
	defer t.Stop()
	for {
		g.CheckNow(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CheckNow runs one check and updates the gate.
func (g *DatabaseGate) CheckNow(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, g.timeout)
	err := g.check(cctx)
	cancel()
	if ctx.Err() != nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case err != nil && g.down == nil:
		g.down, g.since = err, time.Now()
		g.cancel(errDatabaseDown)
	case err != nil:
		g.down = err
	case g.down != nil:
		g.down = nil
		g.outage, g.cancel = context.WithCancelCause(context.Background())
	}
}

// gateState is a DatabaseGate at one moment.
type gateState struct {
	down   error           // the current failure; nil while up
	since  time.Time       // when down began
	outage context.Context // cancelled when the next outage begins
}

func (g *DatabaseGate) state() gateState {
	g.mu.Lock()
	defer g.mu.Unlock()
	return gateState{down: g.down, since: g.since, outage: g.outage}
}

// reason describes a check's failure for /readyz without revealing
// addresses or credentials.
func reason(err error, timeout time.Duration) string {
	return controlplane.DescribeUnavailable(err, timeout)
}

// isProbe reports whether r is a liveness or readiness probe, which the
// gate never blocks (readiness reports the gate instead).
func isProbe(r *http.Request) bool {
	return r.URL.Path == "/healthz" || r.URL.Path == "/readyz"
}

// deadline gives every request a deadline (Config.RequestTimeout; long
// polls get their longest wait on top) and, with a DatabaseGate, answers
// 503 at once while the database is down and cancels the request if an
// outage begins while it runs.
func (h *handler) deadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isProbe(r) {
			next.ServeHTTP(w, r)
			return
		}
		timeout := h.cfg.RequestTimeout
		if r.URL.Query().Has("wait") {
			// A long poll: its wait is bounded by MaxChangeWait, and the
			// server's write timeout must not cut it either.
			timeout += controlplane.MaxChangeWait
			if h.cfg.WriteTimeout > 0 {
				_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(timeout + h.cfg.WriteTimeout))
			}
		}
		if isQueryLogFollow(r) {
			// A query log follow stream lasts up to MaxQueryLogFollow.
			timeout += controlplane.MaxQueryLogFollow
			if h.cfg.WriteTimeout > 0 {
				_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(timeout + h.cfg.WriteTimeout))
			}
		}
		ctx, cancel := context.WithTimeoutCause(r.Context(), timeout, errRequestTimeout)
		defer cancel()
		if g := h.cfg.Database; g != nil {
			st := g.state()
			if st.down != nil {
				h.writeError(w, r, errDatabaseDown)
				return
			}
			var cancelCause context.CancelCauseFunc
			ctx, cancelCause = context.WithCancelCause(ctx)
			defer cancelCause(nil)
			stop := context.AfterFunc(st.outage, func() { cancelCause(errDatabaseDown) })
			defer stop()
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// isQueryLogFollow reports whether r asks to follow a query log.
func isQueryLogFollow(r *http.Request) bool {
	if !strings.HasSuffix(r.URL.Path, "/querylogs") {
		return false
	}
	f := r.URL.Query().Get("follow")
	return f == "true" || f == "1"
}

// errRequestTimeout is the cause of a request's context when its deadline
// passes.
var errRequestTimeout = errors.New("request deadline exceeded")

// unavailable reports whether err (met by request r) means "try again
// later": the database is down or slow, or the request's deadline passed.
func unavailable(r *http.Request, err error) bool {
	if errors.Is(err, errDatabaseDown) || controlplane.IsUnavailable(err) {
		return true
	}
	cause := context.Cause(r.Context())
	return errors.Is(cause, errDatabaseDown) || errors.Is(cause, errRequestTimeout)
}

// retryAfterSeconds is the Retry-After of 503 answers, whole seconds.
func (h *handler) retryAfterSeconds() string {
	return strconv.Itoa(max(1, int((h.cfg.RetryAfter+time.Second-1)/time.Second)))
}
