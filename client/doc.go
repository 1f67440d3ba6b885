// Package client is the Go SDK for Waymark's JSON API (openapi.yaml at the
// repository root): typed requests and responses for every /v1 operation,
// pagination as iterators, a waiter for change propagation, retries with
// backoff, and typed errors.
//
// The package depends on the standard library only, so programs that
// manage DNS through Waymark link none of the server.
//
// # Operations
//
// Every operation of openapi.yaml is a method of [Client] named after its
// operationId (listHostedZones is [Client.ListHostedZones]); its input and
// output types carry the JSON fields of the schema, and a test keeps both
// true to openapi.yaml. Operations on one resource take the resource id
// first. Methods that list one page have an iterator that walks every page:
// [Client.HostedZones], [Client.RRSets], [Client.HealthChecks] and
// [Client.HealthCheckTransitions].
//
// # Waiting
//
// [Client.WaitInSync] long-polls GET /v1/changes/{id}?wait=insync until a
// change is INSYNC on every live nameserver, reporting progress. The
// registrar's operations do not exist in the API yet, so there is no
// WaitOperation.
//
// # Errors and retries
//
// A response with an error status is returned as an [*Error] with the
// API's code, message, details and request id; use [IsCode] or errors.As.
// 429 (after Retry-After) and 503 are retried with exponential backoff and
// jitter, at most [RetryPolicy.MaxAttempts] times in all; no other status
// is retried. Requests that create resources carry a caller reference, so
// a retry cannot create a second one.
package client
