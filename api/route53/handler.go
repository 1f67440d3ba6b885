package route53

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/event"
)

// Prefix is the path under which the API is mounted: Route 53's version.
const Prefix = "/2013-04-01"

// Namespace is the XML namespace of every request and response body.
const Namespace = "https://route53.amazonaws.com/doc/2013-04-01/"

// DefaultMaxBodyBytes bounds request bodies (a change batch of 1,000
// records of 32,000 characters in all fits many times over).
const DefaultMaxBodyBytes = 1 << 20

// Service is what the Route 53 front end needs of the control plane,
// exactly the methods its operations call; *controlplane.Service has them.
type Service interface {
	// KeySecret returns the tenant and secret of an API key, for SigV4.
	KeySecret(ctx context.Context, keyID string) (tenantID, secret string, err error)
	zoneService
	delegationSetService
	healthCheckService
	cidrService
	tagService
	dnssecService
}

// zoneService is what the hosted zone, record set and change operations
// need.
type zoneService interface {
	CreateZone(ctx context.Context, tenantID string, in controlplane.CreateZoneInput) (controlplane.Zone, controlplane.ChangeInfo, error)
	GetZone(ctx context.Context, tenantID, zoneID string) (controlplane.Zone, error)
	ListZones(ctx context.Context, tenantID string, in controlplane.ListZonesInput) (controlplane.ZonePage, error)
	UpdateZoneComment(ctx context.Context, tenantID, zoneID, comment string) (controlplane.Zone, error)
	DeleteZone(ctx context.Context, tenantID, zoneID string) (controlplane.ChangeInfo, error)
	ChangeRRSets(ctx context.Context, tenantID, zoneID string, b controlplane.ChangeBatch) (controlplane.ChangeInfo, error)
	ListRRSets(ctx context.Context, tenantID, zoneID string, in controlplane.ListRRSetsInput) (controlplane.RRSetPage, error)
	GetChange(ctx context.Context, tenantID, changeID string) (controlplane.ChangeInfo, error)
	ZoneCounts(ctx context.Context, tenantID string) (controlplane.ZoneCounts, error)
}

var _ Service = (*controlplane.Service)(nil)

// Config configures a Handler. Service is required.
type Config struct {
	Service Service
	// Allow takes one request from the tenant's rate limit, the one /v1
	// uses; false means throttled. Nil allows everything. r is the
	// request it counts.
	Allow func(r *http.Request, tenantID string) bool
	// AuthThrottled reports whether the client address of r, or the key
	// id, has used up its failed authentications, and when to retry. It is
	// asked as soon as the key id is read from the Authorization header,
	// before any database or cryptographic work (the payload hash
	// included); AuthFailed spends one failure of both when a signature
	// names an unknown key or does not match. /v1 passes its own throttle
	// (api.Config.AuthFailRate, AuthFailBurst), so the two APIs share one
	// budget. Nil: no throttle.
	AuthThrottled func(r *http.Request, keyID string) (retryAfter time.Duration, throttled bool)
	AuthFailed    func(r *http.Request, keyID string)
	// RequestID returns the id of a request (the API's X-Request-Id), sent
	// back as x-amzn-RequestId and in error bodies. Nil makes one.
	RequestID func(r *http.Request) string
	// Authenticated is told who a request's caller is, for the access log.
	Authenticated func(r *http.Request, tenantID, keyID string)
	// Now is the server's clock, for the signature's time window. Default
	// time.Now.
	Now func() time.Time
	// MaxBodyBytes bounds request bodies. Default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// TestAnswer asks a live nameserver for TestDNSAnswer. Nil: that
	// operation answers ServiceUnavailable.
	TestAnswer func(ctx context.Context, req event.TestAnswerRequest) (event.TestAnswerResponse, error)
	// CheckerIPRanges are the address ranges the health checkers probe
	// from, for GetCheckerIpRanges (the operator knows them; empty lists
	// none).
	CheckerIPRanges []string
	// Logger receives internal errors. Default: discard.
	Logger *slog.Logger
}

// Handler serves Route 53's REST-XML API.
type Handler struct {
	cfg  Config
	svc  Service
	log  *slog.Logger
	auth *Verifier
}

// NewHandler returns the Route 53 API handler. Mount it so that it sees
// the whole path, starting with Prefix.
func NewHandler(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, svc: cfg.Service, log: cfg.Logger, auth: &Verifier{
		SigningName: SigningName, Now: cfg.Now,
		// A closure, not the method value: a Handler may be built before
		// (or without) its Service, as the router's tests do.
		KeySecret: func(ctx context.Context, keyID string) (string, string, error) {
			return cfg.Service.KeySecret(ctx, keyID)
		},
		AuthThrottled: cfg.AuthThrottled, AuthFailed: cfg.AuthFailed,
	}}
}

// call is one request on its way through an operation.
type call struct {
	w        http.ResponseWriter
	r        *http.Request
	ctx      context.Context
	tenant   string
	params   []string // the path's {} segments, unescaped, in order
	body     []byte
	location string // the Location header of a 201
}

// query returns a query parameter.
func (c *call) query(name string) string { return c.r.URL.Query().Get(name) }

// opFunc runs an operation and returns its status and response body.
type opFunc func(h *Handler, c *call) (int, any, error)

// operation is one row of the route table.
type operation struct {
	name    string
	method  string
	pattern string // below Prefix; {} is one path segment
	run     opFunc // nil: a Route 53 operation Waymark does not implement
	public  bool   // needs no signature (GetCheckerIpRanges)
}

func (o operation) match(method string, segs []string) ([]string, bool) {
	if method != o.method {
		return nil, false
	}
	pat := strings.Split(strings.Trim(o.pattern, "/"), "/")
	if len(pat) != len(segs) {
		return nil, false
	}
	var params []string
	for i, p := range pat {
		switch {
		case p == "{}":
			if segs[i] == "" {
				return nil, false
			}
			params = append(params, segs[i])
		case p != segs[i]:
			return nil, false
		}
	}
	return params, true
}

// ServeHTTP authenticates, rate-limits and dispatches a request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", h.requestID(r))
	// The server's own clock, which SDKs read to correct their skew.
	w.Header().Set("Date", h.cfg.Now().UTC().Format(http.TimeFormat))

	op, params, known := route(r)
	if a := controlplane.AuditFrom(r.Context()); a != nil && known {
		// Audited by the API around this handler: name the operation;
		// the read-only POSTs (ListTagsForResources) are not audited.
		a.Operation = op.name
		a.Skip = !mutatingOperation(op.name)
	}
	body, err := h.readBody(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	c := &call{w: w, r: r, ctx: r.Context(), params: params, body: body}
	if !op.public {
		tenant, keyID, err := h.auth.authenticate(w, r, body)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		c.tenant = tenant
		if h.cfg.Authenticated != nil {
			h.cfg.Authenticated(r, tenant, keyID)
		}
		if h.cfg.Allow != nil && !h.cfg.Allow(r, tenant) {
			h.writeError(w, r, newError(http.StatusBadRequest, "Throttling", "Rate exceeded"))
			return
		}
	}
	switch {
	case !known:
		h.writeError(w, r, newError(http.StatusBadRequest, "InvalidAction",
			fmt.Sprintf("The action %s %s is not valid for this web service.", r.Method, quoteShort(r.URL.EscapedPath()))))
		return
	case op.run == nil:
		h.writeError(w, r, newError(http.StatusBadRequest, "InvalidAction",
			fmt.Sprintf("The operation %s is not supported by this Route 53-compatible service (see docs/route53.md).", op.name)))
		return
	}
	status, out, err := op.run(h, c)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if c.location != "" {
		w.Header().Set("Location", c.location)
	}
	h.writeXML(w, r, status, out)
}

// route finds the operation of r. It splits the escaped path, so that an
// id sent as %2Fhostedzone%2FZ1 stays one segment (ROUTE53.md §11), and
// ignores one trailing slash (botocore's …/rrset/).
func route(r *http.Request) (operation, []string, bool) {
	p := r.URL.EscapedPath()
	rest, ok := strings.CutPrefix(p, Prefix+"/")
	if !ok {
		return operation{}, nil, false
	}
	rest = strings.TrimSuffix(rest, "/")
	raw := strings.Split(rest, "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		u, err := url.PathUnescape(s)
		if err != nil {
			return operation{}, nil, false
		}
		segs[i] = u
	}
	for _, op := range operations {
		if params, ok := op.match(r.Method, segs); ok {
			return op, params, true
		}
	}
	return operation{}, nil, false
}

// readBody reads the whole body (it is hashed for the signature), at most
// MaxBodyBytes.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	if r.ContentLength > h.cfg.MaxBodyBytes {
		return nil, newError(http.StatusRequestEntityTooLarge, "InvalidInput",
			fmt.Sprintf("The request body is too large (limit %d bytes).", h.cfg.MaxBodyBytes))
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, newError(http.StatusBadRequest, "InvalidInput", "The request body could not be read.")
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b, nil
}

// authenticate verifies the request's SigV4 signature and returns the
// tenant of its key. The order of the checks matters: everything that can
// be judged without the key (shape, scope, time window) is judged first,
// so that a caller who has not produced a complete, timely signature
// learns nothing about which key ids exist.
func (v *Verifier) authenticate(w http.ResponseWriter, r *http.Request, body []byte) (tenantID, keyID string, err error) {
	hv := r.Header.Get("Authorization")
	if hv == "" {
		return "", "", newError(http.StatusForbidden, "MissingAuthenticationToken", "Missing Authentication Token")
	}
	a, serr := parseAuthorizationFor(hv, v.SigningName)
	if serr != nil {
		return "", "", sigHTTPError(serr)
	}
	throttleID := a.KeyID // the limiter's keys stay short
	if len(throttleID) > 128 {
		throttleID = ""
	}
	if v.AuthThrottled != nil {
		if wait, throttled := v.AuthThrottled(r, throttleID); throttled {
			secs := max(1, int(math.Ceil(wait.Seconds())))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			return "", "", newError(http.StatusBadRequest, "Throttling",
				"Too many failed authentications; retry after "+strconv.Itoa(secs)+"s.")
		}
	}
	tenantID, keyID, err = v.verify(r, a, body)
	if v.AuthFailed != nil {
		var e *r53Error
		if errors.As(err, &e) && (e.Code == "InvalidClientTokenId" || e.Code == "SignatureDoesNotMatch") {
			v.AuthFailed(r, throttleID)
		}
	}
	return tenantID, keyID, err
}

// verify is authenticate after the throttle: the checks of a parsed
// Authorization header.
func (v *Verifier) verify(r *http.Request, a authHeader, body []byte) (tenantID, keyID string, err error) {
	t, serr := requestTime(r)
	if serr != nil {
		return "", "", sigHTTPError(serr)
	}
	dateHeader := "x-amz-date"
	if r.Header.Get("X-Amz-Date") == "" {
		dateHeader = "date"
	}
	if !contains(a.SignedHeaders, dateHeader) {
		return "", "", sigHTTPError(errIncomplete("SignedHeaders must include '" + dateHeader + "'."))
	}
	if d := t.Format("20060102"); d != a.Date {
		return "", "", newError(http.StatusForbidden, "SignatureDoesNotMatch",
			fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s'.", a.Date, d))
	}
	clock := v.Now
	if clock == nil {
		clock = time.Now
	}
	now := clock().UTC()
	if skew := t.Sub(now); skew > maxClockSkew || skew < -maxClockSkew {
		return "", "", newError(http.StatusForbidden, "RequestTimeTooSkewed",
			fmt.Sprintf("The difference between the request time (%s) and the server time (%s) is more than %s.",
				t.Format(amzDateFormat), now.Format(amzDateFormat), maxClockSkew))
	}
	hash := payloadHash(body)
	if sent := r.Header.Get("X-Amz-Content-Sha256"); sent != "" && sent != hash {
		return "", "", newError(http.StatusForbidden, "SignatureDoesNotMatch",
			"The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	if r.Header.Get("X-Amz-Security-Token") != "" {
		// Waymark issues no temporary credentials.
		return "", "", errInvalidToken()
	}
	if len(a.KeyID) > 128 {
		return "", "", errInvalidToken()
	}
	tenantID, secret, err := v.KeySecret(r.Context(), a.KeyID)
	if err != nil {
		if controlplane.IsCode(err, controlplane.CodeNoSuchKey) {
			return "", "", errInvalidToken()
		}
		return "", "", err
	}
	amzDate := t.Format(amzDateFormat)
	if dateHeader == "x-amz-date" {
		amzDate = r.Header.Get("X-Amz-Date")
	}
	want := signature(secret, a, stringToSign(amzDate, a, canonicalRequest(r, a.SignedHeaders, hash)))
	if !hmac.Equal([]byte(want), []byte(a.Signature)) {
		return "", "", newError(http.StatusForbidden, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return tenantID, a.KeyID, nil
}

func errInvalidToken() *r53Error {
	return newError(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
}

// sigHTTPError gives a signature error its status.
func sigHTTPError(e *sigError) *r53Error {
	status := http.StatusBadRequest
	if e.code == "SignatureDoesNotMatch" {
		status = http.StatusForbidden
	}
	return newError(status, e.code, e.msg)
}

func (h *Handler) requestID(r *http.Request) string {
	if h.cfg.RequestID != nil {
		if id := h.cfg.RequestID(r); id != "" {
			return id
		}
	}
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 128 {
		return id
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// writeXML writes v as an XML document, as Route 53 does (text/xml).
func (h *Handler) writeXML(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if v != nil {
		if err := xml.NewEncoder(&buf).Encode(v); err != nil {
			h.log.ErrorContext(r.Context(), "encode XML response", "err", err)
			status = http.StatusInternalServerError
			buf.Reset()
			buf.WriteString(xml.Header)
			_ = xml.NewEncoder(&buf).Encode(errorResponse{
				Error:     errorXML{Type: "Receiver", Code: "InternalFailure", Message: "The response could not be encoded."},
				RequestID: h.requestID(r),
			})
		}
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// decodeXML reads a request body whose root element is root. Route 53
// answers a body that does not parse, or has another root, MalformedInput.
func decodeXML(body []byte, root string, v any) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(v); err != nil {
		var se *xml.SyntaxError
		if errors.As(err, &se) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return newError(http.StatusBadRequest, "MalformedInput", "The XML document is not valid, expected "+root+".")
		}
		var ue xml.UnmarshalError
		if errors.As(err, &ue) {
			return newError(http.StatusBadRequest, "MalformedInput", "The XML document is not valid, expected "+root+".")
		}
		return errInvalidInput("Invalid XML: " + err.Error())
	}
	return nil
}

// mutatingOperation reports whether a Route 53 operation changes state:
// all but the List and Get ones (some of which are POSTs).
func mutatingOperation(name string) bool {
	return !strings.HasPrefix(name, "List") && !strings.HasPrefix(name, "Get") && !strings.HasPrefix(name, "Test")
}
