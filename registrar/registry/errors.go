package registry

import (
	"errors"
	"fmt"
)

// Code is a registry error, named for its EPP result (RFC 5730 s3).
type Code string

// The codes.
const (
	ErrObjectExists        Code = "ObjectExists"        // 2302
	ErrObjectDoesNotExist  Code = "ObjectDoesNotExist"  // 2303
	ErrStatusProhibits     Code = "StatusProhibits"     // 2304
	ErrPolicy              Code = "PolicyError"         // 2306: reserved names, too many years
	ErrParameterRange      Code = "ParameterRange"      // 2004
	ErrParameterPolicy     Code = "ParameterPolicy"     // 2005: syntax of names
	ErrAuthorization       Code = "AuthorizationError"  // 2201: another registrar's object
	ErrInvalidAuthInfo     Code = "InvalidAuthInfo"     // 2202
	ErrPendingTransfer     Code = "PendingTransfer"     // 2300
	ErrNotPendingTransfer  Code = "NotPendingTransfer"  // 2301
	ErrUnimplementedObject Code = "UnimplementedObject" // 2307: a TLD we do not run
	ErrAssociationExists   Code = "AssociationExists"   // 2305: host in use
	ErrPrice               Code = "PriceTooHigh"        // 2306: above the registrar's maximum price
)

// EPP returns the EPP result code of c.
func (c Code) EPP() int {
	switch c {
	case ErrObjectExists:
		return 2302
	case ErrObjectDoesNotExist:
		return 2303
	case ErrStatusProhibits:
		return 2304
	case ErrPolicy, ErrPrice:
		return 2306
	case ErrParameterRange:
		return 2004
	case ErrParameterPolicy:
		return 2005
	case ErrAuthorization:
		return 2201
	case ErrInvalidAuthInfo:
		return 2202
	case ErrPendingTransfer:
		return 2300
	case ErrNotPendingTransfer:
		return 2301
	case ErrUnimplementedObject:
		return 2307
	case ErrAssociationExists:
		return 2305
	}
	return 2400
}

// Error is a refused registry command.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("registry: %s: %s", e.Code, e.Message) }

func errorf(c Code, format string, a ...any) *Error {
	return &Error{Code: c, Message: fmt.Sprintf(format, a...)}
}

// AsError returns err's *Error, if it has one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsCode reports whether err is an *Error with code c.
func IsCode(err error, c Code) bool {
	e, ok := AsError(err)
	return ok && e.Code == c
}
