package dataplane

import (
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
)

// Stats counts what the server did to protect itself and others: TCP
// connections admitted, evicted and refused, UDP responses rate limited
// (dropped) and slipped (sent truncated), cookies seen. Every counter is
// here, in one struct, so that an exporter can walk them; they only grow.
type Stats struct {
	TCPAccepted atomic.Uint64 // connections admitted
	TCPEvicted  atomic.Uint64 // idle connections closed to admit a new one
	TCPRefused  atomic.Uint64 // new connections closed: every one in the way was busy

	RRLDropped atomic.Uint64 // UDP responses over the rate, not sent
	RRLSlipped atomic.Uint64 // UDP responses over the rate, sent truncated (or BADCOOKIE)

	CookiesValid     atomic.Uint64 // queries with a valid server cookie (exempt from RRL)
	CookiesNew       atomic.Uint64 // queries with a client cookie only
	CookiesBad       atomic.Uint64 // queries with an invalid server cookie
	CookiesBadCookie atomic.Uint64 // BADCOOKIE answers sent
	CookiesMalformed atomic.Uint64 // malformed COOKIE options (FORMERR)

	FormErrHeader atomic.Uint64 // queries answered FORMERR for their header or sections

	Unanswered atomic.Uint64 // packets dropped unanswered: responses (QR set), runts, UDP datagrams over 4096 octets
}

// StatsSnapshot is a copy of Stats at one moment; field names match.
type StatsSnapshot struct {
	TCPAccepted, TCPEvicted, TCPRefused                                      uint64
	RRLDropped, RRLSlipped                                                   uint64
	CookiesValid, CookiesNew, CookiesBad, CookiesBadCookie, CookiesMalformed uint64
	FormErrHeader, Unanswered                                                uint64
}

// Snapshot copies the counters.
func (s *Stats) Snapshot() StatsSnapshot {
	var out StatsSnapshot
	sv, ov := reflect.ValueOf(s).Elem(), reflect.ValueOf(&out).Elem()
	for i := range sv.NumField() {
		v := sv.Field(i).Addr().Interface().(*atomic.Uint64).Load()
		ov.FieldByName(sv.Type().Field(i).Name).SetUint(v)
	}
	return out
}

// Add returns the sum of s and o, field by field: the counters of several
// servers (one per listening address) as one.
func (s StatsSnapshot) Add(o StatsSnapshot) StatsSnapshot {
	sv, ov := reflect.ValueOf(&s).Elem(), reflect.ValueOf(o)
	for i := range sv.NumField() {
		sv.Field(i).SetUint(sv.Field(i).Uint() + ov.Field(i).Uint())
	}
	return s
}

// LogArgs returns the counters as slog key-value pairs (snake case), for
// the nameserver's periodic report.
func (s StatsSnapshot) LogArgs() []any {
	v := reflect.ValueOf(s)
	out := make([]any, 0, 2*v.NumField())
	for i := range v.NumField() {
		out = append(out, snake(v.Type().Field(i).Name), v.Field(i).Uint())
	}
	return out
}

// String renders the counters as key=value pairs.
func (s StatsSnapshot) String() string {
	a := s.LogArgs()
	var b strings.Builder
	for i := 0; i < len(a); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", a[i], a[i+1])
	}
	return b.String()
}

// snake turns TCPEvicted into tcp_evicted.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 {
			prevLower := s[i-1] >= 'a' && s[i-1] <= 'z'
			nextLower := i+1 < len(s) && s[i+1] >= 'a' && s[i+1] <= 'z'
			if prevLower || nextLower && s[i-1] >= 'A' && s[i-1] <= 'Z' {
				b.WriteByte('_')
			}
		}
		if upper {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
