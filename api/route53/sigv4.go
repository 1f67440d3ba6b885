package route53

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// AWS Signature Version 4, as Route 53 checks it. The verifier is split
// into pure steps (parse the Authorization header, build the canonical
// request, derive the signature) so that each can be tested and fuzzed
// without a server; verifyRequest in handler.go strings them together with
// the key lookup.

const (
	sigAlgorithm  = "AWS4-HMAC-SHA256"
	sigService    = SigningName
	sigTerminator = "aws4_request"
	amzDateFormat = "20060102T150405Z"
	// maxClockSkew is how far a request's signing time may be from the
	// server's clock, as in AWS.
	maxClockSkew = 5 * time.Minute
	// maxAuthorizationLength rejects absurd headers before parsing.
	maxAuthorizationLength = 8192
)

// authHeader is a parsed Authorization header.
type authHeader struct {
	KeyID         string
	Date          string // YYYYMMDD of the credential scope
	Region        string
	Service       string
	SignedHeaders []string // lowercase, as sent (sorted by the signer)
	Signature     string   // lowercase hex
}

// scope is the credential scope string.
func (a authHeader) scope() string {
	return a.Date + "/" + a.Region + "/" + a.Service + "/" + sigTerminator
}

// sigError is why a signature was refused, with the AWS code.
type sigError struct {
	code string
	msg  string
}

func (e *sigError) Error() string { return e.code + ": " + e.msg }

func errIncomplete(msg string) *sigError { return &sigError{code: "IncompleteSignature", msg: msg} }

// parseAuthorization parses a Route 53 Authorization header
// (parseAuthorizationFor with the signing name route53).
func parseAuthorization(v string) (authHeader, *sigError) {
	return parseAuthorizationFor(v, sigService)
}

// parseAuthorizationFor parses
//
//	AWS4-HMAC-SHA256 Credential=AK/20261201/us-east-1/route53/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex
//
// whose scope must name service. It checks the shape only: the key id is
// not looked up.
func parseAuthorizationFor(v, service string) (authHeader, *sigError) {
	if len(v) > maxAuthorizationLength {
		return authHeader{}, errIncomplete("Authorization header is too long.")
	}
	alg, rest, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || alg != sigAlgorithm {
		return authHeader{}, errIncomplete("Authorization header requires the " + sigAlgorithm + " algorithm.")
	}
	var a authHeader
	var haveCred, haveSigned, haveSig bool
	for _, part := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return authHeader{}, errIncomplete("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.")
		}
		switch k {
		case "Credential":
			f := strings.Split(val, "/")
			if len(f) != 5 || f[0] == "" || f[2] == "" {
				return authHeader{}, errIncomplete("Credential should be scoped to a valid region: <key>/<date>/<region>/<service>/aws4_request.")
			}
			if !isDate(f[1]) {
				return authHeader{}, errIncomplete("Credential should be scoped to a valid date: YYYYMMDD.")
			}
			if f[4] != sigTerminator {
				return authHeader{}, errIncomplete("Credential should be scoped with a valid terminator: 'aws4_request'.")
			}
			a.KeyID, a.Date, a.Region, a.Service = f[0], f[1], f[2], f[3]
			haveCred = true
		case "SignedHeaders":
			if val == "" {
				return authHeader{}, errIncomplete("SignedHeaders must not be empty.")
			}
			a.SignedHeaders = strings.Split(val, ";")
			for _, h := range a.SignedHeaders {
				if h == "" || h != strings.ToLower(h) {
					return authHeader{}, errIncomplete("SignedHeaders must be lowercase header names separated by ';'.")
				}
			}
			haveSigned = true
		case "Signature":
			if len(val) != 64 || !isLowerHex(val) {
				return authHeader{}, errIncomplete("Signature must be 64 lowercase hexadecimal characters.")
			}
			a.Signature = val
			haveSig = true
		default:
			return authHeader{}, errIncomplete("Authorization header has an unknown parameter " + quoteShort(k) + ".")
		}
	}
	if !haveCred || !haveSigned || !haveSig {
		return authHeader{}, errIncomplete("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.")
	}
	if a.Service != service {
		return authHeader{}, &sigError{code: "SignatureDoesNotMatch",
			msg: "Credential should be scoped to correct service: '" + service + "'."}
	}
	if !contains(a.SignedHeaders, "host") {
		return authHeader{}, errIncomplete("SignedHeaders must include 'host'.")
	}
	return a, nil
}

// requestTime returns the signing time of r: X-Amz-Date, else Date.
func requestTime(r *http.Request) (time.Time, *sigError) {
	if v := r.Header.Get("X-Amz-Date"); v != "" {
		t, err := time.Parse(amzDateFormat, v)
		if err != nil {
			return time.Time{}, errIncomplete("X-Amz-Date must be in the format YYYYMMDD'T'HHMMSS'Z'.")
		}
		return t, nil
	}
	if v := r.Header.Get("Date"); v != "" {
		t, err := http.ParseTime(v)
		if err != nil {
			return time.Time{}, errIncomplete("Date header is not a valid HTTP date.")
		}
		return t.UTC(), nil
	}
	return time.Time{}, errIncomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
}

// canonicalRequest builds SigV4's canonical request for r with the given
// signed headers and payload hash. The URI is the request's escaped path
// escaped once more, as every AWS service but S3 signs it.
func canonicalRequest(r *http.Request, signed []string, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(awsEscape(path, false))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery))
	b.WriteByte('\n')
	for _, h := range signed {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(canonicalHeaderValue(r, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// canonicalQuery sorts the query's parameters by name, then value, each
// decoded and re-encoded the AWS way.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type kv struct{ k, v string }
	var ps []kv
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		ps = append(ps, kv{awsEscape(k, true), awsEscape(v, true)})
	}
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].k != ps[j].k {
			return ps[i].k < ps[j].k
		}
		return ps[i].v < ps[j].v
	})
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// canonicalHeaderValue is the value of header h (lowercase) as signed:
// several values joined by commas, each trimmed, inner runs of spaces
// collapsed. Go keeps Host and Content-Length outside Header.
func canonicalHeaderValue(r *http.Request, h string) string {
	var vals []string
	switch h {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		vals = r.Header.Values("Content-Length")
		if len(vals) == 0 && r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	default:
		vals = r.Header.Values(h)
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

// stringToSign is SigV4's string to sign.
func stringToSign(amzDate string, a authHeader, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return sigAlgorithm + "\n" + amzDate + "\n" + a.scope() + "\n" + hex.EncodeToString(sum[:])
}

// signature computes the hex signature of sts with secret over a's scope.
func signature(secret string, a authHeader, sts string) string {
	k := hmacSHA256([]byte("AWS4"+secret), a.Date)
	k = hmacSHA256(k, a.Region)
	k = hmacSHA256(k, a.Service)
	k = hmacSHA256(k, sigTerminator)
	return hex.EncodeToString(hmacSHA256(k, sts))
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// payloadHash is the hex SHA-256 of body.
func payloadHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// awsEscape percent-encodes everything but A-Z a-z 0-9 - _ . ~ (and '/'
// unless encodeSlash), with uppercase hex, as SigV4 requires.
func awsEscape(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encodeSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func isDate(s string) bool {
	if len(s) != 8 {
		return false
	}
	_, err := time.Parse("20060102", s)
	return err == nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// quoteShort quotes an untrusted string for a message, cut to 64 bytes.
func quoteShort(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return "'" + strings.ToValidUTF8(s, "?") + "'"
}
