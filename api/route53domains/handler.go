package route53domains

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/waymark-dns/waymark/api/route53"
	"github.com/waymark-dns/waymark/controlplane"
)

// TargetPrefix is what X-Amz-Target starts with: the service's JSON
// protocol name and version; the operation's name follows the dot.
const TargetPrefix = "Route53Domains_v20140515."

// ContentType is the AWS JSON 1.1 media type of requests and responses.
const ContentType = "application/x-amz-json-1.1"

// SigningName is the SigV4 service name requests are signed for.
const SigningName = "route53domains"

// DefaultMaxBodyBytes bounds request bodies: the largest request
// (RegisterDomain with four contacts of 255-character fields) is a few
// kilobytes.
const DefaultMaxBodyBytes = 64 << 10

// IsRequest reports whether r is a Route 53 Domains call: POST with an
// X-Amz-Target of this service. The API router sends these here.
func IsRequest(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
}

// Keys looks up API keys for the signature; *controlplane.Service has it.
type Keys interface {
	KeySecret(ctx context.Context, keyID string) (tenantID, secret string, err error)
}

// Config configures a Handler. Keys and Registrar are required.
type Config struct {
	Keys      Keys
	Registrar Registrar
	// Allow takes one request from the tenant's rate limit; false means
	// throttled. Nil allows everything. r is the request it counts.
	Allow func(r *http.Request, tenantID string) bool
	// AuthThrottled and AuthFailed are the failed-authentication budget,
	// as in route53.Config (the API router passes the same one).
	AuthThrottled func(r *http.Request, keyID string) (retryAfter time.Duration, throttled bool)
	AuthFailed    func(r *http.Request, keyID string)
	// RequestID returns the id of a request, sent back as
	// x-amzn-RequestId. Nil makes one.
	RequestID func(r *http.Request) string
	// Authenticated is told who a request's caller is, for the access log
	// and the audit log.
	Authenticated func(r *http.Request, tenantID, keyID string)
	// Now is the server's clock, for the signature's time window. Default
	// time.Now.
	Now func() time.Time
	// MaxBodyBytes bounds request bodies. Default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives internal errors. Default: discard.
	Logger *slog.Logger
}

// Handler serves the Route 53 Domains API.
type Handler struct {
	cfg  Config
	reg  Registrar
	log  *slog.Logger
	auth *route53.Verifier
}

// NewHandler returns the Route 53 Domains handler. Mount it where POST /
// with this service's X-Amz-Target arrives (IsRequest).
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
	return &Handler{cfg: cfg, reg: cfg.Registrar, log: cfg.Logger, auth: &route53.Verifier{
		SigningName: SigningName, Now: cfg.Now,
		KeySecret: func(ctx context.Context, keyID string) (string, string, error) {
			return cfg.Keys.KeySecret(ctx, keyID)
		},
		AuthThrottled: cfg.AuthThrottled, AuthFailed: cfg.AuthFailed,
	}}
}

// call is one request on its way through an operation.
type call struct {
	ctx    context.Context
	tenant string
	body   []byte
}

// ServeHTTP authenticates, rate-limits and dispatches a request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", h.requestID(r))
	w.Header().Set("Date", h.cfg.Now().UTC().Format(http.TimeFormat))
	if r.Method != http.MethodPost || (r.URL.Path != "/" && r.URL.Path != "") {
		h.writeError(w, r, newError(http.StatusNotFound, "UnknownOperationException",
			"Route 53 Domains is served at POST / only."))
		return
	}
	name, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	if !ok {
		h.writeError(w, r, newError(http.StatusBadRequest, "UnknownOperationException",
			"X-Amz-Target must be "+TargetPrefix+"<Operation>."))
		return
	}
	op, known := lookup(name)
	if a := controlplane.AuditFrom(r.Context()); a != nil {
		// Audited by the API around this handler: name the operation;
		// reads are not audited.
		a.Operation = quoteShort(name)
		a.Skip = !known || !op.mutating
	}
	body, err := h.readBody(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	tenant, keyID, err := h.auth.Authenticate(w, r, body)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if h.cfg.Authenticated != nil {
		h.cfg.Authenticated(r, tenant, keyID)
	}
	if h.cfg.Allow != nil && !h.cfg.Allow(r, tenant) {
		h.writeError(w, r, newError(http.StatusBadRequest, "ThrottlingException", "Rate exceeded"))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		// SDKs send the JSON 1.1 type; a body of some other kind is not
		// a request of this API. (No Content-Type at all is tolerated, as
		// AWS does for an empty body.)
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != ContentType && mt != "application/json") {
			h.writeError(w, r, newError(http.StatusBadRequest, "SerializationException",
				"Content-Type must be "+ContentType+"."))
			return
		}
	}
	switch {
	case !known:
		h.writeError(w, r, newError(http.StatusBadRequest, "UnknownOperationException",
			fmt.Sprintf("The operation %s is not an operation of Route 53 Domains.", quoteShort(name))))
		return
	case op.run == nil:
		h.writeError(w, r, newError(http.StatusBadRequest, "UnsupportedOperation",
			fmt.Sprintf("The operation %s is not supported by this Route 53 Domains-compatible service (see docs/route53domains.md).", op.name)))
		return
	}
	out, err := op.run(h, &call{ctx: r.Context(), tenant: tenant, body: body})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.writeJSON(w, r, http.StatusOK, out)
}

// readBody reads the whole body (it is hashed for the signature), at most
// MaxBodyBytes.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	if r.ContentLength > h.cfg.MaxBodyBytes {
		return nil, errBodyTooLarge(h.cfg.MaxBodyBytes)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errBodyTooLarge(h.cfg.MaxBodyBytes)
		}
		return nil, errInvalidInput("The request body could not be read.")
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b, nil
}

func errBodyTooLarge(limit int64) *awsError {
	return newError(http.StatusRequestEntityTooLarge, "InvalidInput",
		fmt.Sprintf("The request body is too large (limit %d bytes).", limit))
}

func (h *Handler) requestID(r *http.Request) string {
	if h.cfg.RequestID != nil {
		if id := h.cfg.RequestID(r); id != "" {
			return id
		}
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// writeJSON writes v as the JSON 1.1 response body.
func (h *Handler) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		h.log.ErrorContext(r.Context(), "encode JSON response", "err", err)
		status = http.StatusInternalServerError
		b = []byte(`{"__type":"InternalFailure","message":"The response could not be encoded."}`)
	}
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// quoteShort cuts an untrusted string for a message to 64 bytes of valid
// UTF-8.
func quoteShort(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.ToValidUTF8(s, "?")
}
