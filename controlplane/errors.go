package controlplane

import (
	"errors"
	"fmt"
)

// Code is a stable, public error code in the style of Route 53's.
type Code string

// Error codes. The api package maps each to an HTTP status; a test keeps
// that table and openapi.yaml in step with this list.
const (
	CodeInvalidInput            Code = "InvalidInput"
	CodeInvalidDomainName       Code = "InvalidDomainName"
	CodeInvalidChangeBatch      Code = "InvalidChangeBatch"
	CodeInvalidPaginationToken  Code = "InvalidPaginationToken"
	CodeNoSuchHostedZone        Code = "NoSuchHostedZone"
	CodeNoSuchChange            Code = "NoSuchChange"
	CodeNoSuchKey               Code = "NoSuchKey"
	CodeNoSuchTenant            Code = "NoSuchTenant"
	CodeHostedZoneAlreadyExists Code = "HostedZoneAlreadyExists"
	CodeHostedZoneNotEmpty      Code = "HostedZoneNotEmpty"
	CodeConflictingDomainExists Code = "ConflictingDomainExists"
	CodeTenantAlreadyExists     Code = "TenantAlreadyExists"
	CodeTooManyHostedZones      Code = "TooManyHostedZones"
	CodeTooManyRecords          Code = "TooManyRecords"
	CodeTooManyKeys             Code = "TooManyKeys"
	CodePriorRequestNotComplete Code = "PriorRequestNotComplete"
	CodeUnauthorized            Code = "Unauthorized"
	CodeForbidden               Code = "Forbidden"
	// Health checks (healthcheck.go).
	CodeNoSuchHealthCheck          Code = "NoSuchHealthCheck"
	CodeHealthCheckAlreadyExists   Code = "HealthCheckAlreadyExists"
	CodeHealthCheckVersionMismatch Code = "HealthCheckVersionMismatch"
	CodeHealthCheckInUse           Code = "HealthCheckInUse"
	CodeTooManyHealthChecks        Code = "TooManyHealthChecks"

	// CIDR collections (docs/routing.md).
	CodeNoSuchCidrCollection          Code = "NoSuchCidrCollection"
	CodeNoSuchCidrLocation            Code = "NoSuchCidrLocation"
	CodeCidrCollectionAlreadyExists   Code = "CidrCollectionAlreadyExists"
	CodeCidrCollectionVersionMismatch Code = "CidrCollectionVersionMismatch"
	CodeCidrCollectionInUse           Code = "CidrCollectionInUse"
	CodeCidrBlockInUse                Code = "CidrBlockInUse"
	CodeLimitsExceeded                Code = "LimitsExceeded"

	// Delegation sets (delegation.go).
	CodeNoSuchDelegationSet          Code = "NoSuchDelegationSet"
	CodeDelegationSetNotAvailable    Code = "DelegationSetNotAvailable"
	CodeDelegationSetInUse           Code = "DelegationSetInUse"
	CodeDelegationSetNotReusable     Code = "DelegationSetNotReusable"
	CodeDelegationSetAlreadyCreated  Code = "DelegationSetAlreadyCreated"
	CodeDelegationSetAlreadyReusable Code = "DelegationSetAlreadyReusable"

	// DNSSEC (dnssec.go), Route 53's codes.
	CodeNoSuchKeySigningKey                   Code = "NoSuchKeySigningKey"
	CodeKeySigningKeyAlreadyExists            Code = "KeySigningKeyAlreadyExists"
	CodeInvalidKeySigningKeyName              Code = "InvalidKeySigningKeyName"
	CodeInvalidKeySigningKeyStatus            Code = "InvalidKeySigningKeyStatus"
	CodeKeySigningKeyWithActiveStatusNotFound Code = "KeySigningKeyWithActiveStatusNotFound"
	CodeKeySigningKeyInParentDSRecord         Code = "KeySigningKeyInParentDSRecord"
	CodeKeySigningKeyInUse                    Code = "KeySigningKeyInUse"
	CodeTooManyKeySigningKeys                 Code = "TooManyKeySigningKeys"
	CodeDNSSECNotEnabled                      Code = "DNSSECNotEnabled"

	// Zone transfers (tsig.go, transfers.go).
	CodeNoSuchTSIGKey        Code = "NoSuchTSIGKey"
	CodeTSIGKeyAlreadyExists Code = "TSIGKeyAlreadyExists"
	CodeTSIGKeyInUse         Code = "TSIGKeyInUse"
	CodeTransferNotAvailable Code = "TransferNotAvailable"
	// CodeHostedZoneIsSecondary refuses changes to a secondary zone,
	// whose records come from its primaries (secondary.go).
	CodeHostedZoneIsSecondary Code = "HostedZoneIsSecondary"

	// CodeIdempotencyKeyReused refuses a change batch whose idempotency
	// key an earlier, different batch of the tenant used (idempotency.go).
	CodeIdempotencyKeyReused Code = "IdempotencyKeyReused"

	// Alarms (alarms.go).
	CodeNoSuchAlarm        Code = "NoSuchAlarm"
	CodeAlarmAlreadyExists Code = "AlarmAlreadyExists"

	// Query logging (querylog.go), Route 53's codes.
	CodeNoSuchQueryLoggingConfig        Code = "NoSuchQueryLoggingConfig"
	CodeQueryLoggingConfigAlreadyExists Code = "QueryLoggingConfigAlreadyExists"
)

// Detail is one specific problem inside an error, such as one failing
// change of a batch (Index is the change's position, from 0) or one line of
// an imported zone file (Line, from 1).
type Detail struct {
	Index   *int   `json:"index,omitempty"`
	Line    int    `json:"line,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Error is a business error: safe to show to the caller as it is.
type Error struct {
	Code    Code
	Message string
	Details []Detail
}

func (e *Error) Error() string {
	if len(e.Details) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s (%d details)", e.Code, e.Message, len(e.Details))
}

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// AsError returns err as an *Error, if it is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsCode reports whether err is an *Error with the given code.
func IsCode(err error, code Code) bool {
	e, ok := AsError(err)
	return ok && e.Code == code
}

// Common errors, shared so that every "not found" reads the same: another
// tenant's resource answers exactly like a missing one.
func errNoSuchZone(id string) *Error {
	return Errorf(CodeNoSuchHostedZone, "no hosted zone found with id %s", id)
}

func errNoSuchChange(id string) *Error {
	return Errorf(CodeNoSuchChange, "no change found with id %s", id)
}
