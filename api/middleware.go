package api

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/waymark-dns/waymark/controlplane"
	"golang.org/x/time/rate"
)

// ctxKey keys this package's context values.
type ctxKey int

const (
	ctxRequest ctxKey = iota // *requestInfo
)

// requestInfo is per-request state shared between the outer middleware
// (which logs it) and the inner ones (which fill it in).
type requestInfo struct {
	id        string
	principal *controlplane.Principal
	refused   bool // by a rate limit or budget (rateLimited)
}

func infoFrom(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(ctxRequest).(*requestInfo)
	if ri == nil {
		return &requestInfo{}
	}
	return ri
}

// requestID returns the id of the request ctx belongs to.
func requestID(ctx context.Context) string { return infoFrom(ctx).id }

// principalFrom returns the authenticated tenant of the request; ok is
// false outside requireTenant.
func principalFrom(ctx context.Context) (controlplane.Principal, bool) {
	p := infoFrom(ctx).principal
	if p == nil {
		return controlplane.Principal{}, false
	}
	return *p, true
}

// tenantID returns the authenticated tenant; handlers behind requireTenant
// may rely on it.
func tenantID(r *http.Request) string {
	p, _ := principalFrom(r.Context())
	return p.TenantID
}

// requestID takes the caller's X-Request-Id if it is short and plain, or
// makes one, and echoes it in the response.
func (h *handler) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !plainID(id) {
			var b [16]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), ctxRequest, &requestInfo{id: id})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func plainID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// accessLog writes one structured line per request. It logs no headers
// (so never Authorization), no bodies (secrets) and no query strings.
func (h *handler) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		ri := infoFrom(r.Context())
		attrs := []any{
			"request_id", ri.id, "method", r.Method, "path", r.URL.Path,
			"status", sw.status, "bytes", sw.bytes, "duration", time.Since(start),
			"remote", clientIP(r),
		}
		if ri.principal != nil {
			attrs = append(attrs, "tenant_id", ri.principal.TenantID, "key_id", ri.principal.KeyID)
		}
		level := slog.LevelInfo
		if ri.refused {
			level = slog.LevelDebug
		}
		h.log.Log(r.Context(), level, "http request", attrs...)
	})
}

// recoverer turns a panic in a handler into a logged 500 InternalError,
// so one bad request cannot take the process down.
func (h *handler) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.writeError(w, r, fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
		}()
		next.ServeHTTP(w, r)
	})
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, bool) {
	v := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func errUnauthorized(msg string) *controlplane.Error {
	return apiError(controlplane.CodeUnauthorized, msg)
}

// isAdminToken compares in constant time; an empty AdminToken matches
// nothing.
func (h *handler) isAdminToken(tok string) bool {
	return h.cfg.AdminToken != "" &&
		subtle.ConstantTimeCompare([]byte(tok), []byte(h.cfg.AdminToken)) == 1
}

// requireTenant authenticates a tenant's API key or token (401 otherwise;
// 403 for the operator token, which is not a tenant).
func (h *handler) requireTenant(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		if !ok {
			h.writeError(w, r, errUnauthorized("missing credentials: send Authorization: Bearer <api key token or JWT>"))
			return
		}
		if h.isAdminToken(tok) {
			h.writeError(w, r, apiError(controlplane.CodeForbidden, "the operator token cannot act as a tenant"))
			return
		}
		if !h.authAllowed(w, r, tok) {
			return
		}
		p, err := h.svc.Authenticate(r.Context(), tok)
		if err != nil {
			h.authFailed(r, tok, err)
			h.writeError(w, r, err)
			return
		}
		infoFrom(r.Context()).principal = &p
		auditPrincipal(r.Context(), p.TenantID, p.KeyID)
		next.ServeHTTP(w, r)
	})
}

// requireAdmin admits only the operator token: 401 without credentials or
// with unknown ones, 403 for a valid tenant credential or when the admin
// API is disabled.
func (h *handler) requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		if !ok {
			h.writeError(w, r, errUnauthorized("missing credentials: send Authorization: Bearer <operator token>"))
			return
		}
		if h.isAdminToken(tok) {
			next.ServeHTTP(w, r)
			return
		}
		if h.cfg.AdminToken == "" {
			h.writeError(w, r, apiError(controlplane.CodeForbidden, "the admin API is disabled on this server"))
			return
		}
		if !h.authAllowed(w, r, tok) {
			return
		}
		if _, err := h.svc.Authenticate(r.Context(), tok); err == nil {
			h.writeError(w, r, apiError(controlplane.CodeForbidden, "this endpoint needs the operator token"))
			return
		} else if !controlplane.IsCode(err, controlplane.CodeUnauthorized) {
			h.writeError(w, r, err)
			return
		}
		h.authFailed(r, tok, controlplane.Errorf(controlplane.CodeUnauthorized, "invalid credentials"))
		h.writeError(w, r, errUnauthorized("invalid credentials"))
	})
}

// authAllowed answers 429 and returns false when the client address, or
// the API key the token names, has used up its failed authentications;
// it costs no database or cryptographic work, so a flood of wrong secrets
// stays cheap.
func (h *handler) authAllowed(w http.ResponseWriter, r *http.Request, tok string) bool {
	wait, blocked := h.authThrottled(r, controlplane.TokenKeyID(tok))
	if !blocked {
		return true
	}
	secs := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	h.writeError(w, r, apiError(codeThrottling,
		"too many failed authentications; retry after "+strconv.Itoa(secs)+"s"))
	return false
}

// authThrottled reports whether the client address of r, or the API key
// id keyID ("" for none), has used up its failed authentications: the one
// throttle of /v1 and of the Route 53 API (route53.Config.AuthThrottled).
func (h *handler) authThrottled(r *http.Request, keyID string) (wait time.Duration, blocked bool) {
	now := h.cfg.NowFunc()
	wait, blocked = h.authFail.exhausted("ip:"+clientIP(r), now)
	if !blocked && keyID != "" {
		wait, blocked = h.authFail.exhausted("key:"+keyID, now)
	}
	if blocked {
		h.rateLimited(r, limiterAuthFailures)
	}
	return wait, blocked
}

// authFailed spends one failure of the client address and of the key id
// when err says the credentials were wrong.
func (h *handler) authFailed(r *http.Request, tok string, err error) {
	if !controlplane.IsCode(err, controlplane.CodeUnauthorized) {
		return
	}
	h.authFailedKey(r, controlplane.TokenKeyID(tok))
}

// authFailedKey spends one failure of the client address of r and of the
// API key id keyID ("" for none).
func (h *handler) authFailedKey(r *http.Request, keyID string) {
	now := h.cfg.NowFunc()
	h.authFail.take("ip:"+clientIP(r), now)
	if keyID != "" {
		h.authFail.take("key:"+keyID, now)
	}
}

// rateLimit applies the tenant's token bucket (after requireTenant).
func (h *handler) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.allow(w, r, h.tenant, tenantID(r)) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// signupLimit hides sign-up when it is disabled and rate-limits it per
// client IP when it is not.
func (h *handler) signupLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.cfg.SignupEnabled {
			h.writeError(w, r, errNoEndpoint(r))
			return
		}
		if !h.allow(w, r, h.signup, clientIP(r)) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// allow takes a token from key's bucket, or answers 429 with Retry-After
// (whole seconds, at least 1) and returns false.
func (h *handler) allow(w http.ResponseWriter, r *http.Request, set *limiterSet, key string) bool {
	wait, ok := set.take(key, h.cfg.NowFunc())
	if ok {
		return true
	}
	if set == h.signup {
		h.rateLimited(r, limiterSignup)
	} else {
		h.rateLimited(r, limiterTenant)
	}
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	h.writeError(w, r, apiError(codeThrottling, "rate exceeded; retry after "+strconv.Itoa(secs)+"s"))
	return false
}

// clientIP is the peer address of the connection. Forwarded headers are
// not trusted: a proxy in front should rate-limit itself.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limitBody caps the request body at n bytes; reading past it fails with
// *http.MaxBytesError, which writeError answers 413.
func (h *handler) limitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				h.writeError(w, r, apiError(codePayloadTooLarge,
					fmt.Sprintf("request body is too large (limit %d bytes)", n)))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}

// limiterSet is a set of token buckets, one per key (tenant or IP).
type limiterSet struct {
	limit rate.Limit
	burst int
	max   int // entries kept before idle ones are dropped

	mu sync.Mutex
	m  map[string]*rate.Limiter // guarded by mu
}

func newLimiterSet(perSecond float64, burst, maxEntries int) *limiterSet {
	return &limiterSet{limit: rate.Limit(perSecond), burst: burst, max: maxEntries, m: make(map[string]*rate.Limiter)}
}

// take spends one token of key's bucket at now. If none is available it
// returns how long until one will be.
func (s *limiterSet) take(key string, now time.Time) (time.Duration, bool) {
	s.mu.Lock()
	lim, ok := s.m[key]
	if !ok {
		if len(s.m) >= s.max {
			s.pruneLocked(now)
		}
		lim = rate.NewLimiter(s.limit, s.burst)
		s.m[key] = lim
	}
	s.mu.Unlock()
	if lim.AllowN(now, 1) {
		return 0, true
	}
	res := lim.ReserveN(now, 1)
	if !res.OK() {
		return time.Minute, false
	}
	wait := res.DelayFrom(now)
	res.CancelAt(now)
	return wait, false
}

// exhausted reports whether key's bucket has no token at now, and how long
// until it has one, without spending any.
func (s *limiterSet) exhausted(key string, now time.Time) (time.Duration, bool) {
	s.mu.Lock()
	lim, ok := s.m[key]
	s.mu.Unlock()
	if !ok {
		return 0, false
	}
	tok := lim.TokensAt(now)
	if tok >= 1 {
		return 0, false
	}
	return time.Duration((1 - tok) / float64(s.limit) * float64(time.Second)), true
}

// pruneLocked drops buckets that are full again: forgetting them changes
// nothing. If every bucket is busy the map is reset, which at worst
// briefly gives the busiest callers a fresh burst.
func (s *limiterSet) pruneLocked(now time.Time) {
	for k, lim := range s.m {
		if lim.TokensAt(now) >= float64(s.burst) {
			delete(s.m, k)
		}
	}
	if len(s.m) >= s.max {
		clear(s.m)
	}
}
