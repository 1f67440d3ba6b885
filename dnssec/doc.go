// Package dnssec holds Waymark's DNSSEC primitives, shared by the control
// plane (which owns the keys) and the nameservers (which sign answers):
// key generation and parsing, sealing of private keys with AES-256-GCM,
// deterministic signatures (ECDSA P-256 per RFC 6979, Ed25519), RRSIG
// validity windows, and the compact-denial NSEC records of RFC 9824.
//
// It is a leaf: it knows nothing of zones, events or storage. Private key
// material only ever leaves it sealed; no function here logs or formats a
// private key.
package dnssec
