package epp

import (
	"errors"
	"fmt"
)

// Code is an RFC 5730 §3 result code. 1xxx is success, 2xxx failure; the
// second digit says which part failed (x5xx: the session is closed).
type Code int

// The result codes used here, all of RFC 5730 §3 that a registry of ours can
// produce or a client of ours must understand.
const (
	CodeOK                     Code = 1000
	CodePending                Code = 1001
	CodeNoMessages             Code = 1300
	CodeAckToDequeue           Code = 1301
	CodeEndingSession          Code = 1500
	CodeUnknownCommand         Code = 2000
	CodeSyntaxError            Code = 2001
	CodeUseError               Code = 2002
	CodeMissingParameter       Code = 2003
	CodeValueRange             Code = 2004
	CodeValueSyntax            Code = 2005
	CodeUnimplementedVersion   Code = 2100
	CodeUnimplementedCommand   Code = 2101
	CodeUnimplementedOption    Code = 2102
	CodeUnimplementedExtension Code = 2103
	CodeBillingFailure         Code = 2104
	CodeNotEligibleForRenewal  Code = 2105
	CodeNotEligibleForTransfer Code = 2106
	CodeAuthenticationError    Code = 2200
	CodeAuthorizationError     Code = 2201
	CodeInvalidAuthInfo        Code = 2202
	CodePendingTransfer        Code = 2300
	CodeNotPendingTransfer     Code = 2301
	CodeObjectExists           Code = 2302
	CodeObjectDoesNotExist     Code = 2303
	CodeStatusProhibits        Code = 2304
	CodeAssociationProhibits   Code = 2305
	CodeParameterPolicy        Code = 2306
	CodeUnimplementedService   Code = 2307
	CodeDataManagementPolicy   Code = 2308
	CodeCommandFailed          Code = 2400
	CodeFailedClosing          Code = 2500
	CodeAuthClosing            Code = 2501
	CodeSessionLimit           Code = 2502
)

// messages are the RFC 5730 texts for each code, sent when a Registry gives
// no more specific one.
var messages = map[Code]string{
	CodeOK:                     "Command completed successfully",
	CodePending:                "Command completed successfully; action pending",
	CodeNoMessages:             "Command completed successfully; no messages",
	CodeAckToDequeue:           "Command completed successfully; ack to dequeue",
	CodeEndingSession:          "Command completed successfully; ending session",
	CodeUnknownCommand:         "Unknown command",
	CodeSyntaxError:            "Command syntax error",
	CodeUseError:               "Command use error",
	CodeMissingParameter:       "Required parameter missing",
	CodeValueRange:             "Parameter value range error",
	CodeValueSyntax:            "Parameter value syntax error",
	CodeUnimplementedVersion:   "Unimplemented protocol version",
	CodeUnimplementedCommand:   "Unimplemented command",
	CodeUnimplementedOption:    "Unimplemented option",
	CodeUnimplementedExtension: "Unimplemented extension",
	CodeBillingFailure:         "Billing failure",
	CodeNotEligibleForRenewal:  "Object is not eligible for renewal",
	CodeNotEligibleForTransfer: "Object is not eligible for transfer",
	CodeAuthenticationError:    "Authentication error",
	CodeAuthorizationError:     "Authorization error",
	CodeInvalidAuthInfo:        "Invalid authorization information",
	CodePendingTransfer:        "Object pending transfer",
	CodeNotPendingTransfer:     "Object not pending transfer",
	CodeObjectExists:           "Object exists",
	CodeObjectDoesNotExist:     "Object does not exist",
	CodeStatusProhibits:        "Object status prohibits operation",
	CodeAssociationProhibits:   "Object association prohibits operation",
	CodeParameterPolicy:        "Parameter value policy error",
	CodeUnimplementedService:   "Unimplemented object service",
	CodeDataManagementPolicy:   "Data management policy violation",
	CodeCommandFailed:          "Command failed",
	CodeFailedClosing:          "Command failed; server closing connection",
	CodeAuthClosing:            "Authentication error; server closing connection",
	CodeSessionLimit:           "Session limit exceeded; server closing connection",
}

// Message is the standard text for c.
func (c Code) Message() string {
	if m, ok := messages[c]; ok {
		return m
	}
	return fmt.Sprintf("result %d", int(c))
}

// Success reports whether c is a 1xxx code.
func (c Code) Success() bool { return c >= 1000 && c < 2000 }

// closes reports whether the server ends the session after sending c.
func (c Code) closes() bool { return c >= 2500 && c < 2600 }

// Error is an EPP result that is not a success: a Registry returns one to
// choose the code, and the Client returns one for a failed command.
type Error struct {
	Code Code
	// Msg is the human-readable text; Code.Message() when empty.
	Msg string
	// Reason, when set, is sent as the result's extValue reason (RFC 5730
	// §2.6), e.g. which value broke a policy.
	Reason string
}

// Error says the code and text, as "epp 2302: Object exists".
func (e *Error) Error() string {
	m := e.Msg
	if m == "" {
		m = e.Code.Message()
	}
	if e.Reason != "" {
		m += ": " + e.Reason
	}
	return fmt.Sprintf("epp %d: %s", int(e.Code), m)
}

// Errorf makes an *Error with code c whose reason is formatted.
func Errorf(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Reason: fmt.Sprintf(format, args...)}
}

// CodeOf is the one place an error becomes a result code: an *Error (at any
// depth of wrapping) gives its own; anything else is 2400, Command failed,
// so an internal failure never passes as a protocol error of the client's.
func CodeOf(err error) Code {
	if err == nil {
		return CodeOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeCommandFailed
}
