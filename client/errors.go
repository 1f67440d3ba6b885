package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Error codes of the API (openapi.yaml's ErrorCode) that callers commonly
// act on. Error.Code may hold any code of the API, listed or not.
const (
	CodeInvalidInput             = "InvalidInput"
	CodeInvalidDomainName        = "InvalidDomainName"
	CodeInvalidChangeBatch       = "InvalidChangeBatch"
	CodeNoSuchHostedZone         = "NoSuchHostedZone"
	CodeNoSuchChange             = "NoSuchChange"
	CodeNoSuchKey                = "NoSuchKey"
	CodeNoSuchHealthCheck        = "NoSuchHealthCheck"
	CodeNoSuchCidrCollection     = "NoSuchCidrCollection"
	CodeHostedZoneAlreadyExists  = "HostedZoneAlreadyExists"
	CodeHostedZoneNotEmpty       = "HostedZoneNotEmpty"
	CodeHealthCheckInUse         = "HealthCheckInUse"
	CodePriorRequestNotComplete  = "PriorRequestNotComplete"
	CodeUnauthorized             = "Unauthorized"
	CodeForbidden                = "Forbidden"
	CodeNotFound                 = "NotFound"
	CodeThrottling               = "Throttling"
	CodeInternalError            = "InternalError"
	CodeServiceUnavailable       = "ServiceUnavailable"
	CodeHealthCheckAlreadyExists = "HealthCheckAlreadyExists"
	CodeIdempotencyKeyReused     = "IdempotencyKeyReused"
)

// Error is an error answer of the API: the body's code, message and
// details, the request id (quote it when reporting a problem), and the
// HTTP status.
type Error struct {
	// Operation is the operationId of the failed call.
	Operation string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the API's error code (e.g. NoSuchHostedZone); empty when the
	// answer was not the API's JSON (a proxy's page, say).
	Code    string
	Message string
	// Details list the individual problems: the failing change of a batch
	// (Index) or line of a zone file (Line).
	Details []ErrorDetail
	// RequestID is the X-Request-Id of the answer.
	RequestID string
	// RetryAfter is the answer's Retry-After, if any.
	RetryAfter time.Duration
	// OperationID names the registrar operation in progress of a
	// DuplicateRequest.
	OperationID string
}

// ErrorDetail is one problem of an error answer.
type ErrorDetail struct {
	// Index is the position of the failing change in the batch, from 0.
	Index *int `json:"index,omitempty"`
	// Line is the zone file's line, from 1.
	Line    int    `json:"line,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// errorResponse is the JSON of every error answer (ErrorResponse).
type errorResponse struct {
	Error struct {
		Code    string        `json:"code"`
		Message string        `json:"message"`
		Details []ErrorDetail `json:"details"`
		// OperationID: a DuplicateRequest's operation in progress.
		OperationID string `json:"operation_id"`
	} `json:"error"`
	RequestID string `json:"request_id"`
}

func newError(op string, r response, now time.Time) *Error {
	e := &Error{
		Operation:  op,
		StatusCode: r.status,
		RequestID:  r.header.Get("X-Request-Id"),
		RetryAfter: parseRetryAfter(r.header.Get("Retry-After"), now),
	}
	var body errorResponse
	if err := json.Unmarshal(r.body, &body); err == nil && body.Error.Code != "" {
		e.Code, e.Message, e.Details, e.OperationID = body.Error.Code, body.Error.Message, body.Error.Details, body.Error.OperationID
		if body.RequestID != "" {
			e.RequestID = body.RequestID
		}
		return e
	}
	msg := strings.TrimSpace(string(r.body))
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	e.Message = http.StatusText(r.status)
	if msg != "" {
		e.Message += ": " + msg
	}
	return e
}

// Error formats the error as "Code: message (HTTP status, request id)".
func (e *Error) Error() string {
	var sb strings.Builder
	if e.Code != "" {
		sb.WriteString(e.Code)
		sb.WriteString(": ")
	}
	sb.WriteString(e.Message)
	fmt.Fprintf(&sb, " (HTTP %d", e.StatusCode)
	if e.RequestID != "" {
		sb.WriteString(", request id ")
		sb.WriteString(e.RequestID)
	}
	sb.WriteString(")")
	return sb.String()
}

// String formats the detail as "change 2: message" or "line 7: message".
func (d ErrorDetail) String() string {
	var where []string
	if d.Index != nil {
		where = append(where, fmt.Sprintf("change %d", *d.Index))
	}
	if d.Line > 0 {
		where = append(where, fmt.Sprintf("line %d", d.Line))
	}
	if d.Field != "" {
		where = append(where, d.Field)
	}
	if len(where) == 0 {
		return d.Message
	}
	return strings.Join(where, ", ") + ": " + d.Message
}

// AsError returns err's *Error, if it has one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsCode reports whether err is an API error with the given code.
func IsCode(err error, code string) bool {
	e, ok := AsError(err)
	return ok && e.Code == code
}
