// Package e2e holds the end-to-end tests of propagation: the control plane
// on a real PostgreSQL schema, the real API router, an embedded NATS
// JetStream server, relays, trackers and nameservers answering on real UDP
// sockets, all in one test process. It has no non-test code; run it with
//
//	go test ./internal/e2e/
//
// and the propagation-latency benchmark with
//
//	go test ./internal/e2e/ -run '^$' -bench Propagation -benchtime 1000x
package e2e
