package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/waymark-dns/waymark/controlplane"
)

// Error codes that only the HTTP layer raises. They share the Code type
// with the control plane's so that one table maps every code to a status.
const (
	codePayloadTooLarge      controlplane.Code = "PayloadTooLarge"
	codeUnsupportedMediaType controlplane.Code = "UnsupportedMediaType"
	codeThrottling           controlplane.Code = "Throttling"
	codeNotFound             controlplane.Code = "NotFound"
	codeMethodNotAllowed     controlplane.Code = "MethodNotAllowed"
	codeInternalError        controlplane.Code = "InternalError"
	codeServiceUnavailable   controlplane.Code = "ServiceUnavailable"
)

// httpStatus is THE table from error code to HTTP status; ok is false for a
// code it does not know, which is then answered as an internal error (and
// a test fails: every code in controlplane/errors.go must be listed here
// and in openapi.yaml's ErrorCode enum).
//
// Choices: quota errors (TooMany*) are 400, as in Route 53, whose SDKs
// expect that; state conflicts (already exists, not empty, conflicting
// domain, prior request not complete) are 409, where Route 53 uses 400
// for some, because 409 says "retrying the same request won't help until
// the state changes" more precisely.
func httpStatus(code controlplane.Code) (status int, ok bool) {
	switch code {
	case controlplane.CodeInvalidInput, controlplane.CodeInvalidDomainName,
		controlplane.CodeInvalidChangeBatch, controlplane.CodeInvalidPaginationToken,
		controlplane.CodeDelegationSetNotReusable,
		controlplane.CodeInvalidKeySigningKeyName, controlplane.CodeInvalidKeySigningKeyStatus,
		controlplane.CodeTooManyKeySigningKeys, controlplane.CodeHostedZoneIsSecondary:
		return http.StatusBadRequest, true
	case controlplane.CodeTooManyHostedZones, controlplane.CodeTooManyRecords, controlplane.CodeTooManyKeys,
		controlplane.CodeTooManyHealthChecks, controlplane.CodeLimitsExceeded:
		return http.StatusBadRequest, true
	case controlplane.CodeUnauthorized:
		return http.StatusUnauthorized, true
	case controlplane.CodeForbidden:
		return http.StatusForbidden, true
	case controlplane.CodeNoSuchHostedZone, controlplane.CodeNoSuchChange,
		controlplane.CodeNoSuchKey, controlplane.CodeNoSuchTenant, controlplane.CodeNoSuchHealthCheck, codeNotFound,
		controlplane.CodeNoSuchCidrCollection, controlplane.CodeNoSuchCidrLocation, controlplane.CodeNoSuchDelegationSet,
		controlplane.CodeNoSuchKeySigningKey, controlplane.CodeNoSuchTSIGKey, controlplane.CodeNoSuchAlarm,
		controlplane.CodeNoSuchQueryLoggingConfig:
		return http.StatusNotFound, true
	case controlplane.CodeHostedZoneAlreadyExists, controlplane.CodeTenantAlreadyExists,
		controlplane.CodeHostedZoneNotEmpty, controlplane.CodeConflictingDomainExists,
		controlplane.CodePriorRequestNotComplete, controlplane.CodeHealthCheckAlreadyExists, controlplane.CodeAlarmAlreadyExists,
		controlplane.CodeHealthCheckVersionMismatch, controlplane.CodeHealthCheckInUse,
		controlplane.CodeTSIGKeyAlreadyExists, controlplane.CodeTSIGKeyInUse, controlplane.CodeTransferNotAvailable,
		controlplane.CodeCidrCollectionAlreadyExists, controlplane.CodeCidrCollectionVersionMismatch,
		controlplane.CodeCidrCollectionInUse, controlplane.CodeCidrBlockInUse,
		controlplane.CodeDelegationSetInUse, controlplane.CodeDelegationSetAlreadyCreated,
		controlplane.CodeDelegationSetAlreadyReusable, controlplane.CodeDelegationSetNotAvailable,
		controlplane.CodeKeySigningKeyAlreadyExists, controlplane.CodeKeySigningKeyWithActiveStatusNotFound,
		controlplane.CodeKeySigningKeyInParentDSRecord, controlplane.CodeKeySigningKeyInUse,
		controlplane.CodeDNSSECNotEnabled, controlplane.CodeQueryLoggingConfigAlreadyExists:
		return http.StatusConflict, true
	case controlplane.CodeIdempotencyKeyReused:
		// As the IETF's Idempotency-Key draft answers a key reused with
		// another payload.
		return http.StatusUnprocessableEntity, true
	case codeMethodNotAllowed:
		return http.StatusMethodNotAllowed, true
	case codePayloadTooLarge:
		return http.StatusRequestEntityTooLarge, true
	case codeUnsupportedMediaType:
		return http.StatusUnsupportedMediaType, true
	case codeThrottling:
		return http.StatusTooManyRequests, true
	// The registrar's (api/domains.go): Route 53 Domains answers all of
	// its errors 400; a missing domain or operation is 404 and a state
	// conflict 409 here, as for the rest of the API.
	case codeUnsupportedTLD, codeTLDRulesViolation, codePriceTooHigh, codeDnssecLimitExceeded:
		return http.StatusBadRequest, true
	case codeNoSuchDomain, codeNoSuchOperation, codeNoSuchDS, codeNoSuchTLD:
		return http.StatusNotFound, true
	case codeDuplicateRequest, codeDomainUnavailable:
		return http.StatusConflict, true
	case codeInternalError:
		return http.StatusInternalServerError, true
	case codeServiceUnavailable, codeRegistryUnavailable:
		return http.StatusServiceUnavailable, true
	}
	return 0, false
}

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error     errorJSON `json:"error"`
	RequestID string    `json:"request_id"`
}

type errorJSON struct {
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Details []detailJSON `json:"details"`
	// OperationID names the operation in progress of a DuplicateRequest.
	OperationID string `json:"operation_id,omitempty"`
}

type detailJSON struct {
	Index   *int   `json:"index,omitempty"`
	Line    int    `json:"line,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func toDetailsJSON(ds []controlplane.Detail) []detailJSON {
	out := make([]detailJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, detailJSON{Index: d.Index, Line: d.Line, Field: d.Field, Message: d.Message})
	}
	return out
}

// apiError builds an *controlplane.Error for the HTTP layer's own codes.
func apiError(code controlplane.Code, msg string) *controlplane.Error {
	return &controlplane.Error{Code: code, Message: msg}
}

// writeError is the one place errors become responses. A business error
// (*controlplane.Error with a known code) is shown as it is; anything else
// is logged with its cause and answered 500 InternalError, revealing
// nothing.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	pending := ""
	if re, id, ok := fromRegistrar(err); ok {
		err, pending = re, id
	}
	e, ok := controlplane.AsError(err)
	var status int
	if ok {
		status, ok = httpStatus(e.Code)
	}
	if !ok {
		var mbe *http.MaxBytesError
		switch {
		case unavailable(r, err):
			// The database is down, unreachable or too slow: the request
			// may succeed later, so say so instead of "internal error".
			h.log.WarnContext(r.Context(), "database unavailable", "request_id", requestID(r.Context()),
				"method", r.Method, "path", r.URL.Path, "err", err)
			w.Header().Set("Retry-After", h.retryAfterSeconds())
			e, status = apiError(codeServiceUnavailable, "the service is temporarily unavailable; retry later"), http.StatusServiceUnavailable
		case errors.As(err, &mbe):
			e, status = apiError(codePayloadTooLarge, "request body is too large"), http.StatusRequestEntityTooLarge
		default:
			level := h.log.ErrorContext
			if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
				level = h.log.InfoContext // the client went away
			}
			level(r.Context(), "internal error", "request_id", requestID(r.Context()),
				"method", r.Method, "path", r.URL.Path, "err", err)
			e, status = apiError(codeInternalError, "internal error; quote the request id when reporting it"), http.StatusInternalServerError
		}
	}
	auditError(r.Context(), string(e.Code))
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="waymark"`)
	}
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		// An external registry that did not answer may answer later.
		w.Header().Set("Retry-After", h.retryAfterSeconds())
	}
	h.writeJSON(w, status, errorBody{
		Error:     errorJSON{Code: string(e.Code), Message: e.Message, Details: toDetailsJSON(e.Details), OperationID: pending},
		RequestID: requestID(r.Context()),
	})
}

// handlerFunc is the shape of every endpoint: it writes its success
// response itself and returns the error that ends the request otherwise,
// which serve answers with writeError. An error after the response has
// started cannot change it; such endpoints log it and return nil.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// serve adapts an endpoint to net/http: the one place an endpoint's error
// becomes an HTTP response.
func (h *handler) serve(fn handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			h.writeError(w, r, err)
		}
	}
}
