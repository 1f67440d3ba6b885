package route53

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"

	"github.com/waymark-dns/waymark/controlplane"
)

// r53Error is an error in Route 53's terms: the code its SDKs match on and
// the HTTP status its model gives that code.
type r53Error struct {
	Status  int
	Code    string
	Message string
}

func (e *r53Error) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, msg string) *r53Error {
	return &r53Error{Status: status, Code: code, Message: msg}
}

func errInvalidInput(msg string) *r53Error {
	return newError(http.StatusBadRequest, "InvalidInput", msg)
}

// r53Code is THE table from control-plane error codes to Route 53's code
// and status (ROUTE53.md §3.2). ok is false for a code it does not know,
// which is then answered as an internal error; a test keeps it complete.
//
// The statuses are Route 53's, not those of /v1 (api/errors.go), which
// answers some state conflicts 409 where Route 53's SDKs expect 400.
func r53Code(code controlplane.Code) (r53 string, status int, ok bool) {
	switch code {
	case controlplane.CodeInvalidInput, controlplane.CodeInvalidDomainName,
		controlplane.CodeInvalidChangeBatch, controlplane.CodeInvalidPaginationToken,
		controlplane.CodeTooManyHostedZones, controlplane.CodeTooManyHealthChecks,
		controlplane.CodeHostedZoneNotEmpty, controlplane.CodeConflictingDomainExists,
		controlplane.CodePriorRequestNotComplete, controlplane.CodeHealthCheckInUse,
		controlplane.CodeLimitsExceeded:
		return string(code), http.StatusBadRequest, true
	case controlplane.CodeNoSuchDelegationSet, controlplane.CodeDelegationSetNotAvailable,
		controlplane.CodeDelegationSetInUse, controlplane.CodeDelegationSetNotReusable,
		controlplane.CodeDelegationSetAlreadyCreated, controlplane.CodeDelegationSetAlreadyReusable:
		// All 400 in Route 53's model, NoSuchDelegationSet included.
		return string(code), http.StatusBadRequest, true
	case controlplane.CodeInvalidKeySigningKeyName, controlplane.CodeInvalidKeySigningKeyStatus,
		controlplane.CodeKeySigningKeyWithActiveStatusNotFound, controlplane.CodeKeySigningKeyInParentDSRecord,
		controlplane.CodeKeySigningKeyInUse, controlplane.CodeTooManyKeySigningKeys:
		return string(code), http.StatusBadRequest, true
	case controlplane.CodeNoSuchTSIGKey, controlplane.CodeTSIGKeyAlreadyExists, controlplane.CodeTSIGKeyInUse,
		controlplane.CodeTransferNotAvailable:
		// Route 53 has no zone transfers; these come only from /v1, but
		// the table covers every code.
		return string(code), http.StatusBadRequest, true
	case controlplane.CodeDNSSECNotEnabled:
		return "DNSSECNotFound", http.StatusBadRequest, true
	case controlplane.CodeNoSuchKeySigningKey, controlplane.CodeNoSuchQueryLoggingConfig:
		return string(code), http.StatusNotFound, true
	case controlplane.CodeQueryLoggingConfigAlreadyExists:
		return string(code), http.StatusConflict, true
	case controlplane.CodeHostedZoneIsSecondary:
		// Route 53 has no secondary zones; a write to one through its API
		// is a batch it cannot apply.
		return "InvalidChangeBatch", http.StatusBadRequest, true
	case controlplane.CodeIdempotencyKeyReused:
		// Route 53's ChangeResourceRecordSets takes no idempotency key;
		// only /v1 sends one, but the table covers every code.
		return "InvalidInput", http.StatusBadRequest, true
	case controlplane.CodeNoSuchAlarm:
		// Alarms are not on the Route 53 API (CloudWatch's are); the
		// table stays complete.
		return "ResourceNotFound", http.StatusNotFound, true
	case controlplane.CodeAlarmAlreadyExists:
		return "ResourceAlreadyExists", http.StatusConflict, true
	case controlplane.CodeKeySigningKeyAlreadyExists:
		return string(code), http.StatusConflict, true
	case controlplane.CodeTooManyRecords:
		// The zone's record-set quota: Route 53 reports it in the batch.
		return "InvalidChangeBatch", http.StatusBadRequest, true
	case controlplane.CodeTooManyKeys:
		return "LimitsExceeded", http.StatusBadRequest, true
	case controlplane.CodeNoSuchHostedZone, controlplane.CodeNoSuchChange, controlplane.CodeNoSuchHealthCheck:
		return string(code), http.StatusNotFound, true
	case controlplane.CodeNoSuchCidrCollection, controlplane.CodeNoSuchCidrLocation:
		return string(code) + "Exception", http.StatusNotFound, true
	case controlplane.CodeNoSuchKey:
		return "InvalidClientTokenId", http.StatusForbidden, true
	case controlplane.CodeNoSuchTenant, controlplane.CodeUnauthorized, controlplane.CodeForbidden:
		return "AccessDenied", http.StatusForbidden, true
	case controlplane.CodeHostedZoneAlreadyExists, controlplane.CodeHealthCheckAlreadyExists,
		controlplane.CodeHealthCheckVersionMismatch, controlplane.CodeTenantAlreadyExists:
		return string(code), http.StatusConflict, true
	case controlplane.CodeCidrCollectionVersionMismatch:
		return string(code) + "Exception", http.StatusConflict, true
	case controlplane.CodeCidrCollectionAlreadyExists, controlplane.CodeCidrCollectionInUse, controlplane.CodeCidrBlockInUse:
		return string(code) + "Exception", http.StatusBadRequest, true
	}
	return "", 0, false
}

// toR53Error converts any error of a handler. Details (one per failing
// change of a batch) become Route 53's bracketed message list, which is
// how it reports every problem of a batch in one InvalidChangeBatch.
func toR53Error(err error) (*r53Error, bool) {
	var re *r53Error
	if errors.As(err, &re) {
		return re, true
	}
	e, ok := controlplane.AsError(err)
	if !ok {
		return nil, false
	}
	code, status, ok := r53Code(e.Code)
	if !ok {
		return nil, false
	}
	msg := e.Message
	if len(e.Details) > 0 {
		parts := make([]string, 0, len(e.Details))
		for _, d := range e.Details {
			parts = append(parts, d.Message)
		}
		msg = "[" + strings.Join(parts, ", ") + "]"
	}
	return newError(status, code, msg), true
}

// errorResponse is Route 53's error envelope.
type errorResponse struct {
	XMLName   xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ErrorResponse"`
	Error     errorXML `xml:"Error"`
	RequestID string   `xml:"RequestId"`
}

type errorXML struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// writeError is the one place errors become responses. Anything that is
// not a business error is logged and answered InternalFailure, revealing
// nothing.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := toR53Error(err)
	if !ok {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			e = newError(http.StatusRequestEntityTooLarge, "InvalidInput", "The request body is too large.")
		default:
			level := h.log.ErrorContext
			if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
				level = h.log.InfoContext
			}
			level(r.Context(), "internal error", "request_id", h.requestID(r),
				"method", r.Method, "path", r.URL.Path, "err", err)
			e = newError(http.StatusInternalServerError, "InternalFailure",
				"The request processing has failed because of an unknown error; quote the request id when reporting it.")
		}
	}
	if a := controlplane.AuditFrom(r.Context()); a != nil {
		a.Result = e.Code
	}
	typ := "Sender"
	if e.Status >= 500 {
		typ = "Receiver"
	}
	h.writeXML(w, r, e.Status, errorResponse{
		Error:     errorXML{Type: typ, Code: e.Code, Message: e.Message},
		RequestID: h.requestID(r),
	})
}
