// Package route53domains is Waymark's Route 53 Domains-compatible front
// end: Amazon Route 53 Domains' AWS JSON 1.1 API (version 2014-05-15),
// signed with AWS Signature Version 4 for the service name
// route53domains, so that the AWS SDKs' route53domains clients and the
// AWS CLI register and manage domains through an endpoint override.
//
// Every call is POST / with Content-Type application/x-amz-json-1.1 and
// X-Amz-Target Route53Domains_v20140515.<Operation>. The operation table
// (operations.go) lists every operation of the service model; those
// Waymark does not offer answer UnsupportedOperation, never a made-up
// success.
//
// It is a translation layer over the registrar service
// (registrar.Service): requests are decoded into the registrar's inputs,
// results encoded back, and the registrar's error codes mapped to Route
// 53 Domains' in one place (errors.go). No rule about domains,
// operations or prices is decided here. A tenant's API key signs
// requests, exactly as for the Route 53 API (api/route53's Verifier).
//
// Files: handler.go (dispatch, authentication, JSON I/O), decode.go (the
// request decoder), operations.go (the operation table), wire.go (the
// JSON shapes), domains.go (the operations), errors.go.
// docs/route53domains.md lists each operation's status.
package route53domains
