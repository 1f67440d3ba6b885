package route53domains

import (
	"context"
	"errors"
	"net/http"

	"github.com/waymark-dns/waymark/api/route53"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/registrar"
)

// awsError is an error in Route 53 Domains' terms: the HTTP status, the
// code the SDKs match on (the body's __type), a message and, for
// DuplicateRequest, the id of the operation in the way.
type awsError struct {
	Status    int
	Code      string
	Message   string
	RequestID string
}

func (e *awsError) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, msg string) *awsError {
	return &awsError{Status: status, Code: code, Message: msg}
}

func errInvalidInput(msg string) *awsError {
	return newError(http.StatusBadRequest, "InvalidInput", msg)
}

// modeled are Route 53 Domains' modeled errors (ROUTE53.md §1.2), all
// 400. A registrar code that is one of them is passed through as it is.
var modeled = map[string]bool{
	"InvalidInput": true, "UnsupportedTLD": true, "DuplicateRequest": true, "TLDRulesViolation": true,
	"DomainLimitExceeded": true, "OperationLimitExceeded": true, "TLDInMaintenance": true, "DnssecLimitExceeded": true,
}

// awsCode is THE mapping from the registrar's codes to Route 53 Domains'.
// The registrar's codes are Route 53 Domains' where it has one; for the
// others Route 53 Domains answers InvalidInput (an unknown domain or
// operation id, a name that is taken, a price over the consent), and so
// does any code added later until this table names it: a refusal is
// never an internal error.
func awsCode(c registrar.Code) string {
	if modeled[string(c)] {
		return string(c)
	}
	if c == registrar.CodeRegistryUnavailable {
		// An external registry that cannot be reached: Route 53 Domains'
		// error for a TLD that is not taking requests now.
		return "TLDInMaintenance"
	}
	// DomainUnavailable, NoSuchDomain, NoSuchOperation, PriceTooHigh, …
	return "InvalidInput"
}

// toAWSError converts any error of an operation; ok is false for an
// internal error.
func toAWSError(err error) (*awsError, bool) {
	var ae *awsError
	if errors.As(err, &ae) {
		return ae, true
	}
	var se *route53.AuthError
	if errors.As(err, &se) {
		return newError(se.Status, se.Code, se.Message), true
	}
	var re *registrar.Error
	if errors.As(err, &re) {
		return &awsError{Status: http.StatusBadRequest, Code: awsCode(re.Code), Message: re.Message, RequestID: re.RequestID}, true
	}
	// The control plane refuses a registration's hosted zone (quota, a
	// name it will not host) in its own codes: the request was refused,
	// not broken.
	if ce, ok := controlplane.AsError(err); ok {
		code := "InvalidInput"
		switch ce.Code {
		case controlplane.CodeTooManyHostedZones, controlplane.CodeLimitsExceeded:
			code = "OperationLimitExceeded"
		case controlplane.CodeNoSuchTenant, controlplane.CodeUnauthorized, controlplane.CodeForbidden:
			return newError(http.StatusForbidden, "AccessDeniedException", ce.Message), true
		}
		return newError(http.StatusBadRequest, code, ce.Message), true
	}
	return nil, false
}

// errorBody is the JSON 1.1 error shape: __type and message, and the
// members of the modeled error (DuplicateRequest's requestId).
type errorBody struct {
	Type      string `json:"__type"`
	Message   string `json:"message"`
	RequestID string `json:"requestId,omitempty"`
}

// writeError is the one place errors become responses. Anything that is
// not a refusal is logged and answered InternalFailure, revealing nothing.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := toAWSError(err)
	if !ok {
		level := h.log.ErrorContext
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			level = h.log.InfoContext
		}
		level(r.Context(), "internal error", "request_id", h.requestID(r), "target", quoteShort(r.Header.Get("X-Amz-Target")), "err", err)
		e = newError(http.StatusInternalServerError, "InternalFailure",
			"The request processing has failed because of an unknown error; quote the request id when reporting it.")
	}
	if a := controlplane.AuditFrom(r.Context()); a != nil {
		a.Result = e.Code
	}
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	h.writeJSON(w, r, e.Status, errorBody{Type: e.Code, Message: e.Message, RequestID: e.RequestID})
}
