package healthcheck

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/healthcfg"
)

// Route 53's timeouts and limits (ROUTE53.md §6.2).
const (
	// DefaultConnectTimeout bounds the TCP connect of an HTTP(S) probe.
	DefaultConnectTimeout = 4 * time.Second
	// DefaultResponseTimeout bounds the wait for the status line and
	// headers after connecting, and then again for the body of a string
	// match.
	DefaultResponseTimeout = 2 * time.Second
	// DefaultTCPTimeout bounds the connect of a TCP probe.
	DefaultTCPTimeout = 10 * time.Second
	// SearchWindow is how much of the body a search string must lie in.
	SearchWindow = 5120
	// MaxHeaderBytes is the largest response header block accepted.
	MaxHeaderBytes = 16 << 10
	// DefaultUserAgent is sent with every HTTP probe.
	DefaultUserAgent = "Waymark-Health-Check/1.0"
)

// Result is the outcome of one probe: whether the endpoint passed, and a
// reason in Route 53's style ("Success: HTTP Status Code 200, OK").
// ConnectTime is how long the TCP connect took, when it succeeded
// (Connected); TimeToFirstByte is how long from the start of the connect
// to the first byte of the HTTP response, when one came (GotFirstByte):
// Route 53's ConnectionTime and TimeToFirstByte. A TCP probe reads
// nothing, so it has no time to first byte.
type Result struct {
	OK     bool
	Reason string

	Connected       bool
	ConnectTime     time.Duration
	GotFirstByte    bool
	TimeToFirstByte time.Duration
}

func success(format string, args ...any) Result {
	return Result{OK: true, Reason: "Success: " + fmt.Sprintf(format, args...)}
}

func failure(format string, args ...any) Result {
	return Result{Reason: "Failure: " + fmt.Sprintf(format, args...)}
}

// Prober probes endpoints. The zero value uses Route 53's timeouts and
// refuses non-public addresses; it is safe for concurrent use.
type Prober struct {
	// ConnectTimeout, ResponseTimeout and TCPTimeout default to
	// DefaultConnectTimeout, DefaultResponseTimeout and DefaultTCPTimeout;
	// tests shorten them.
	ConnectTimeout  time.Duration
	ResponseTimeout time.Duration
	TCPTimeout      time.Duration
	// AllowPrivate lets probes reach private, loopback and other
	// non-public addresses (waymark dev, tests).
	AllowPrivate bool
	// Resolver resolves FQDNs (IPv4 only). Default net.DefaultResolver.
	Resolver *net.Resolver
	// UserAgent is the User-Agent of HTTP probes. Default DefaultUserAgent.
	UserAgent string
	// Now is the clock the connect and first-byte times are read from.
	// Default time.Now.
	Now func() time.Time
}

func (p *Prober) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Prober) connectTimeout() time.Duration {
	return cmpOr(p.ConnectTimeout, DefaultConnectTimeout)
}

func (p *Prober) responseTimeout() time.Duration {
	return cmpOr(p.ResponseTimeout, DefaultResponseTimeout)
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Probe checks hc's endpoint once. Calculated checks are not probed; for
// them (and for unknown types) Probe returns a failure.
func (p *Prober) Probe(ctx context.Context, hc event.HealthCheck) Result {
	ip, res, ok := p.target(ctx, hc)
	if !ok {
		return res
	}
	addr := net.JoinHostPort(ip.String(), strconv.Itoa(hc.Port))
	switch hc.Type {
	case healthcfg.TCP:
		return p.probeTCP(ctx, addr)
	case healthcfg.HTTP, healthcfg.HTTPS, healthcfg.HTTPStrMatch, healthcfg.HTTPSStrMatch:
		return p.probeHTTP(ctx, hc, ip, addr)
	}
	return failure("health checks of type %s are not probed", hc.Type)
}

// target returns the address to probe: the IP address, or the FQDN's
// first IPv4 address, resolved now.
func (p *Prober) target(ctx context.Context, hc event.HealthCheck) (netip.Addr, Result, bool) {
	var ip netip.Addr
	if hc.IPAddress != "" {
		a, err := netip.ParseAddr(hc.IPAddress)
		if err != nil {
			return ip, failure("invalid IP address %q", hc.IPAddress), false
		}
		ip = a.Unmap()
	} else {
		r := p.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		rctx, cancel := context.WithTimeout(ctx, p.connectTimeout())
		addrs, err := r.LookupNetIP(rctx, "ip4", hc.FQDN)
		cancel()
		if err != nil || len(addrs) == 0 {
			return ip, failure("DNS resolution failed for %s", hc.FQDN), false
		}
		ip = addrs[0].Unmap()
	}
	if !p.AllowPrivate && !healthcfg.PublicTarget(ip) {
		return ip, failure("the endpoint address %s is not a public address", ip), false
	}
	return ip, Result{}, true
}

func (p *Prober) probeTCP(ctx context.Context, addr string) Result {
	d := net.Dialer{Timeout: cmpOr(p.TCPTimeout, DefaultTCPTimeout)}
	start := p.now()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return connectFailure(err)
	}
	took := p.now().Sub(start)
	_ = c.Close()
	res := success("TCP connection established")
	res.Connected, res.ConnectTime = true, took
	return res
}

// connectFailure describes a failed connect.
func connectFailure(err error) Result {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return failure("Connection refused. The endpoint is not listening on the port.")
	case isTimeout(err):
		return failure("Connection timed out. The endpoint or the internet connection is down, or requests are being blocked by a firewall.")
	}
	return failure("Connection failed: %s", shortError(err))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// shortError is the innermost text of err, without the URL and address
// prefixes that net/http and net add.
func shortError(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}

// capturingDialer dials one fixed address, sets the response deadline
// right after connecting, and keeps the connection so that the body read
// of a string match can get a fresh deadline.
// It also times the connect: started is when the dial began, connected
// when it succeeded.
type capturingDialer struct {
	addr            string
	connectTimeout  time.Duration
	responseTimeout time.Duration
	now             func() time.Time

	mu                 sync.Mutex
	conn               net.Conn
	dialErr            error
	started, connected time.Time
}

func (d *capturingDialer) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	nd := net.Dialer{Timeout: d.connectTimeout}
	start := d.now()
	c, err := nd.DialContext(ctx, "tcp", d.addr)
	end := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.started = start
	if err != nil {
		d.dialErr = err
		return nil, err
	}
	d.connected = end
	// Route 53: the status must arrive within 2 s of connecting (TLS
	// handshake included).
	_ = c.SetDeadline(time.Now().Add(d.responseTimeout))
	d.conn = c
	return c, nil
}

func (d *capturingDialer) state() (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.conn, d.dialErr
}

// timed adds the connect time and, if firstByte is set, the time to first
// byte to res.
func (d *capturingDialer) timed(res Result, firstByte time.Time) Result {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		return res
	}
	res.Connected, res.ConnectTime = true, d.connected.Sub(d.started)
	if !firstByte.IsZero() {
		res.GotFirstByte, res.TimeToFirstByte = true, firstByte.Sub(d.started)
	}
	return res
}

// probeHTTP probes an HTTP(S) endpoint and times the connect and the
// first byte of the response (httptrace's GotFirstResponseByte).
func (p *Prober) probeHTTP(ctx context.Context, hc event.HealthCheck, ip netip.Addr, addr string) Result {
	var mu sync.Mutex
	var firstByte time.Time
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotFirstResponseByte: func() {
		t := p.now()
		mu.Lock()
		firstByte = t
		mu.Unlock()
	}})
	dialer := &capturingDialer{addr: addr, connectTimeout: p.connectTimeout(), responseTimeout: p.responseTimeout(), now: p.now}
	res := p.probeHTTPWith(ctx, hc, ip, addr, dialer)
	mu.Lock()
	defer mu.Unlock()
	return dialer.timed(res, firstByte)
}

func (p *Prober) probeHTTPWith(ctx context.Context, hc event.HealthCheck, ip netip.Addr, addr string, dialer *capturingDialer) Result {
	scheme := "http"
	defaultPort := 80
	if hc.Type.TLS() {
		scheme, defaultPort = "https", 443
	}
	host := hc.FQDN
	if host == "" {
		host = ip.String()
		if ip.Is6() {
			host = "[" + host + "]"
		}
	}
	if hc.Port != defaultPort {
		host = net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(hc.Port))
	}
	path := hc.ResourcePath
	if !strings.HasPrefix(path, "/") {
		path = "/" + path // Route 53 adds the leading slash
	}
	tlsConf := &tls.Config{
		// Route 53 does not validate certificates: a health check asks
		// "is it up", not "is it who it says".
		InsecureSkipVerify: true, //nolint:gosec // deliberate, see above
		MinVersion:         tls.VersionTLS10,
	}
	if hc.EnableSNI && hc.FQDN != "" {
		tlsConf.ServerName = hc.FQDN
	}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSClientConfig:        tlsConf,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: MaxHeaderBytes,
		TLSHandshakeTimeout:    p.responseTimeout(),
		ResponseHeaderTimeout:  p.responseTimeout(),
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		// A redirect is an answer (3xx is healthy); it is not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	rctx, cancel := context.WithTimeout(ctx, p.connectTimeout()+2*p.responseTimeout()+time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, scheme+"://"+addr+path, nil)
	if err != nil {
		return failure("invalid resource path %q", path)
	}
	req.Host = host
	req.Header.Set("User-Agent", cmpOrString(p.UserAgent, DefaultUserAgent))
	resp, err := client.Do(req)
	if err != nil {
		conn, dialErr := dialer.state()
		if conn == nil && dialErr != nil {
			return connectFailure(dialErr)
		}
		if isTimeout(err) {
			return failure("Timeout: no HTTP response within %s of connecting", p.responseTimeout())
		}
		return failure("%s", shortError(err))
	}
	defer resp.Body.Close()
	code := fmt.Sprintf("HTTP Status Code %d, %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		return failure("%s", code)
	}
	if !hc.Type.StrMatch() {
		return success("%s", code)
	}
	if conn, _ := dialer.state(); conn != nil {
		_ = conn.SetDeadline(time.Now().Add(p.responseTimeout()))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, SearchWindow))
	if strings.Contains(string(body), hc.SearchString) {
		return success("%s. Search string found", code)
	}
	if err != nil {
		if isTimeout(err) {
			return failure("%s. Timeout reading the response body", code)
		}
		return failure("%s. Error reading the response body: %s", code, shortError(err))
	}
	return failure("%s. The search string was not found in the first %d bytes of the response body", code, SearchWindow)
}

func cmpOrString(s, def string) string {
	if s != "" {
		return s
	}
	return def
}
