// Package dnstest is the DNS test kit: a recorder ResponseWriter (the DNS
// httptest.ResponseRecorder), a dig-like query syntax and a stable
// presentation of responses for golden files, master-file loading into
// record sets, and exchanges over real sockets.
package dnstest
