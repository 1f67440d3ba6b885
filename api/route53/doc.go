// Package route53 is Waymark's Route 53-compatible front end: Amazon Route
// 53's REST-XML API (version 2013-04-01) with AWS Signature Version 4, so
// that unmodified AWS SDKs, the AWS CLI and tools built on them talk to
// Waymark through an endpoint override.
//
// It is a translation layer over the same control-plane methods as the
// JSON API under /v1: requests are decoded from XML into the control
// plane's types, results encoded back, and control-plane errors mapped to
// Route 53's codes in one place (errors.go). No rule about zones, record
// sets or health checks is decided here. A tenant's API key signs
// requests: its id is the access key id and its secret the secret access
// key.
//
// Files: handler.go (dispatch, authentication, XML I/O), sigv4.go (the
// signature verifier's pure steps), routes.go (the route table: every
// Route 53 operation, implemented or not), names.go (Route 53's octal
// escapes), zones.go, rrsets.go, healthchecks.go, misc.go (limits,
// geolocations, TestDNSAnswer, CIDR collections). docs/route53.md lists
// each operation's status and the known differences from Route 53.
package route53

import "time"

// testAnswerTimeout bounds the wait for a nameserver's test answer.
const testAnswerTimeout = 5 * time.Second
