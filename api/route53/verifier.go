package route53

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// SigningName is the SigV4 service name Route 53 requests are signed for.
const SigningName = "route53"

// Verifier authenticates SigV4-signed requests with the tenants' API keys
// (the key id is the access key id, the key's secret the secret access
// key) for one signing name. The Route 53 handler has one for
// SigningName; api/route53domains uses one for "route53domains", so that
// both AWS front ends check signatures the same way, with one throttle.
type Verifier struct {
	// SigningName is the service a credential scope must name.
	SigningName string
	// KeySecret returns the tenant and secret of an API key;
	// controlplane.CodeNoSuchKey for an unknown one.
	KeySecret func(ctx context.Context, keyID string) (tenantID, secret string, err error)
	// Now is the server's clock, for the signature's time window; nil is
	// time.Now.
	Now func() time.Time
	// AuthThrottled and AuthFailed: as in Config.
	AuthThrottled func(r *http.Request, keyID string) (retryAfter time.Duration, throttled bool)
	AuthFailed    func(r *http.Request, keyID string)
}

// AuthError is a refused signature in AWS's terms: the HTTP status, the
// code the SDKs match on (MissingAuthenticationToken,
// IncompleteSignature, SignatureDoesNotMatch, InvalidClientTokenId,
// RequestTimeTooSkewed, Throttling) and a message.
type AuthError struct {
	Status  int
	Code    string
	Message string
}

func (e *AuthError) Error() string { return e.Code + ": " + e.Message }

// Authenticate verifies r's signature over body (the whole request body,
// already read) and returns the tenant and key id. A refusal is an
// *AuthError; any other error is internal (the database). It may set
// Retry-After on w when the caller is throttled.
func (v *Verifier) Authenticate(w http.ResponseWriter, r *http.Request, body []byte) (tenantID, keyID string, err error) {
	tenantID, keyID, err = v.authenticate(w, r, body)
	var re *r53Error
	if errors.As(err, &re) {
		return "", "", &AuthError{Status: re.Status, Code: re.Code, Message: re.Message}
	}
	return tenantID, keyID, err
}
