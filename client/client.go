package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Version is the SDK's version, sent in the User-Agent header.
const Version = "0.1.0"

// Environment variables read by [NewFromEnv]: the API's base URL and the
// bearer token (what `source .waymark/dev.env` sets).
const (
	EnvAPI    = "WAYMARK_API"
	EnvAPIKey = "WAYMARK_API_KEY"
)

// RetryPolicy bounds the retries of 429 and 503 answers. The delay before
// retry n (from 1) is a random duration in [d/2, d] where d is BaseDelay·2ⁿ⁻¹
// capped at MaxDelay; a 429's Retry-After replaces it. A Retry-After
// longer than MaxRetryAfter is not waited for: the error is returned.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts in all, the first included
	// (default 4). 1 disables retries.
	MaxAttempts int
	// BaseDelay is the first backoff (default 200 ms); MaxDelay caps every
	// backoff (default 10 s).
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// MaxRetryAfter is the longest Retry-After honoured (default 60 s).
	MaxRetryAfter time.Duration
}

// DefaultRetryPolicy returns the policy of a Client built without
// WithRetryPolicy.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 4, BaseDelay: 200 * time.Millisecond, MaxDelay: 10 * time.Second, MaxRetryAfter: 60 * time.Second}
}

// Client calls the Waymark API. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	token     string
	http      *http.Client
	retry     RetryPolicy
	sleep     func(ctx context.Context, d time.Duration) error
	now       func() time.Time
	userAgent string
}

// Option configures a Client.
type Option func(*Client)

// WithToken sets the bearer token: an API key token (wmk_…), a JWT from
// [Client.CreateToken], or the operator's token for the operator
// endpoints.
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithHTTPClient sets the HTTP client (default: one with a 90 s timeout,
// longer than the longest long poll).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithRetryPolicy sets the retry policy; zero fields take the defaults.
func WithRetryPolicy(p RetryPolicy) Option { return func(c *Client) { c.retry = p } }

// WithSleep replaces the function that waits between retries (default: a
// timer that gives up when ctx ends). Tests use it to retry without
// waiting and to see the delays.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) { c.sleep = sleep }
}

// WithClock sets the clock that reads Retry-After dates (default
// time.Now).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithUserAgent puts product (e.g. "myapp/1.2") before the SDK's own
// User-Agent.
func WithUserAgent(product string) Option {
	return func(c *Client) { c.userAgent = product + " " + c.userAgent }
}

// New returns a client of the API at baseURL (e.g. http://127.0.0.1:8080).
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("waymark: API URL %q: %w", baseURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("waymark: API URL %q: want http(s)://host[:port]", baseURL)
	}
	c := &Client{
		base:      u,
		http:      &http.Client{Timeout: 90 * time.Second},
		retry:     DefaultRetryPolicy(),
		sleep:     sleepContext,
		now:       time.Now,
		userAgent: "waymark-go/" + Version,
	}
	for _, o := range opts {
		o(c)
	}
	d := DefaultRetryPolicy()
	if c.retry.MaxAttempts <= 0 {
		c.retry.MaxAttempts = d.MaxAttempts
	}
	if c.retry.BaseDelay <= 0 {
		c.retry.BaseDelay = d.BaseDelay
	}
	if c.retry.MaxDelay <= 0 {
		c.retry.MaxDelay = d.MaxDelay
	}
	if c.retry.MaxRetryAfter <= 0 {
		c.retry.MaxRetryAfter = d.MaxRetryAfter
	}
	return c, nil
}

// NewFromEnv returns a client of the API at $WAYMARK_API with the token
// $WAYMARK_API_KEY; opts come after, so they may override the token.
func NewFromEnv(opts ...Option) (*Client, error) {
	api := os.Getenv(EnvAPI)
	if api == "" {
		return nil, fmt.Errorf("waymark: %s is not set (source .waymark/dev.env, or export it)", EnvAPI)
	}
	return New(api, append([]Option{WithToken(os.Getenv(EnvAPIKey))}, opts...)...)
}

// BaseURL returns the API's base URL.
func (c *Client) BaseURL() string { return c.base.String() }

// Ptr returns a pointer to v, for optional fields such as RRSet.TTL.
func Ptr[T any](v T) *T { return &v }

// request is one call: an operation, its path parameters, query and body.
type request struct {
	op          operation
	pathArgs    []string
	query       url.Values
	body        any    // JSON-encoded unless raw is set
	raw         []byte // a non-JSON body (zone files)
	contentType string
	rawResult   *[]byte // receives a non-JSON response body
	// idempotencyKey is sent as the Idempotency-Key header of every
	// attempt.
	idempotencyKey string
}

// call runs r, retrying as the policy allows, and decodes a successful
// JSON answer into out (unless out is nil).
func (c *Client) call(ctx context.Context, r request, out any) error {
	var body []byte
	contentType := r.contentType
	switch {
	case r.raw != nil:
		body = r.raw
	case r.body != nil:
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("waymark: %s: encode request: %w", r.op.ID, err)
		}
		body, contentType = b, "application/json"
	}
	target, err := r.op.url(c.base.String(), r.pathArgs)
	if err != nil {
		return err
	}
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	for attempt := 1; ; attempt++ {
		accept := "application/json"
		if r.rawResult != nil {
			accept = "text/dns, application/json;q=0.9"
		}
		resp, err := c.do(ctx, r.op.Method, target, body, contentType, accept, r.idempotencyKey)
		if err != nil {
			return fmt.Errorf("waymark: %s: %w", r.op.ID, err)
		}
		if resp.status >= 200 && resp.status < 300 {
			if r.rawResult != nil {
				*r.rawResult = resp.body
				return nil
			}
			if out == nil || resp.status == http.StatusNoContent {
				return nil
			}
			if err := json.Unmarshal(resp.body, out); err != nil {
				return fmt.Errorf("waymark: %s: decode response: %w", r.op.ID, err)
			}
			return nil
		}
		apiErr := newError(r.op.ID, resp, c.now())
		delay, retry := c.retryDelay(attempt, apiErr)
		if !retry {
			return apiErr
		}
		if err := c.sleep(ctx, delay); err != nil {
			return apiErr
		}
	}
}

// response is a fully read HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (c *Client) do(ctx context.Context, method, u string, body []byte, contentType, accept, idempotencyKey string) (response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return response{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", accept)
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, fmt.Errorf("read response: %w", err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}, nil
}

// retryDelay says whether the failed attempt may be retried and after how
// long: only 429 and 503, only MaxAttempts times in all.
func (c *Client) retryDelay(attempt int, e *Error) (time.Duration, bool) {
	if e.StatusCode != http.StatusTooManyRequests && e.StatusCode != http.StatusServiceUnavailable {
		return 0, false
	}
	if attempt >= c.retry.MaxAttempts {
		return 0, false
	}
	if e.RetryAfter > 0 {
		if e.RetryAfter > c.retry.MaxRetryAfter {
			return 0, false
		}
		return e.RetryAfter, true
	}
	d := c.retry.BaseDelay << (attempt - 1)
	if d > c.retry.MaxDelay || d <= 0 {
		d = c.retry.MaxDelay
	}
	// Jitter spreads the retries of many clients throttled at once.
	return d/2 + time.Duration(mathrand.Int64N(int64(d/2)+1)), true
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// callerReference returns a random caller reference for a create request
// that has none: generated once per call, so retries reuse it and cannot
// create a second resource.
func callerReference() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "waymark-go-" + hex.EncodeToString(b[:])
}

// idempotencyKey returns a random idempotency key for a change batch that
// has none, generated once per call as callerReference is.
func idempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "waymark-go-" + hex.EncodeToString(b[:])
}
