// Package dataplane is the Waymark nameserver: zones held in memory as
// immutable snapshots, authoritative answers computed by a pure lookup, and
// UDP/TCP listeners.
//
//	store := dataplane.NewStore()
//	_ = store.ReplaceZone(zoneState)            // or Apply(event) per zone event
//	srv := dataplane.NewServer(store, dataplane.Config{Addr: "127.0.0.1:5300"})
//	if err := srv.Start(ctx); err != nil { ... }
//	srv.SetReady(true)                          // after the initial sync
//	defer srv.Shutdown(context.Background())
//
// # Zones in memory
//
// A Store holds one immutable zone set behind an atomic pointer. The set
// maps zone names to zones through 256 copy-on-write shards, and each zone
// maps owner names to nodes through its own copy-on-write shards (about a
// thousand names each), so an event for one record of one zone copies a few
// kilobytes, not the world. Writers are serialised by a mutex and build
// every new value before one atomic swap; queries never lock.
//
// Names are kept in lowercase wire format; record sets as packed RDATA
// only (see rrset). The SOA serial served is always the zone version.
//
// # Answers
//
// lookup implements RFC 1034 §4.3.2 (with RFC 2181): the deepest served
// zone containing the name answers; names outside every zone get REFUSED
// without AA. Zone cuts below the apex give referrals (AA clear, NS in
// authority, in-zone glue in additional, glue below the cut being required
// per RFC 9471), except DS at the cut, which the parent side answers
// authoritatively — also when parent and child are both hosted here.
// CNAMEs are followed through every served zone, at most 12 links, and stop
// at a loop; the rcode is that of the last name (RFC 6604). Wildcards follow
// RFC 4592 (closest encloser; NODATA at a wildcard without the type; no
// match at or below existing names, empty non-terminals included; never
// across a cut). Negative answers carry the zone's SOA with TTL
// min(SOA TTL, MINIMUM) (RFC 2308). NS, MX and SRV answers get the in-zone
// addresses of their targets in additional.
//
// Other choices, per RFC 8906 and the RFCs named:
//   - ANY (RFC 8482): the one record set of lowest type at the name, over
//     UDP and TCP alike; no HINFO synthesis, since the data is real.
//   - Class other than IN: REFUSED (we hold no data there). AXFR and IXFR:
//     xfr.go (TSIG and an allow entry, else REFUSED; AXFR over UDP always
//     REFUSED, IXFR over UDP the SOA alone). MAILA/MAILB: NOTIMP. OPT, TSIG, TKEY or
//     type 0 as the question: FORMERR.
//   - NOTIFY (RFC 1996): secondary.go (accepted only for a secondary zone,
//     from its primaries, signed when they sign; else REFUSED, or NOTAUTH
//     for a TSIG failure). Other opcodes than QUERY: NOTIMP with the
//     question echoed.
//   - A secondary zone past its SOA expire: SERVFAIL for every name in it
//     (secondary.go).
//   - QDCOUNT ≠ 1, answer or authority records in a query, two OPTs (the
//     answer then has no OPT), an OPT not at the root, an unparsable
//     message: FORMERR. Responses (QR=1) and messages shorter than a header
//     are dropped, never answered.
//   - EDNS (RFC 6891): version ≠ 0 gets BADVERS; options are ignored and
//     not echoed, except Client Subnet (RFC 7871), echoed with its scope
//     (see Routing); DO is copied (RFC 3225); we advertise 1232 and send at
//     most min(max(client size, 512), 1232) over UDP, 512 without EDNS.
//   - Truncation drops whole record sets: TC is set when an answer or
//     authority set, or required glue, does not fit; optional additional
//     data is dropped silently (RFC 2181 §9).
//   - RD and CD are copied; RA and AD are never set.
//   - The question is echoed byte for byte (0x20 case kept), and owner
//     names that share a suffix with it are written as pointers into it.
//   - Before SetReady(true): SERVFAIL (see Handler).
//   - EDNS clients get an Extended DNS Error (RFC 8914) with the refusals
//     and failures: 14 Not Ready before SetReady, 20 Not Authoritative for
//     names and classes we do not serve, 21 Not Supported for NOTIMP and
//     for zone transfers.
//   - Compared with Knot DNS on the same zones (by hand): Knot stops CNAME
//     chains at the zone's edge, answers DS at a hosted child's apex from
//     the parent even when the parent does not delegate (NXDOMAIN, which
//     RFC 8020 resolvers extend to the whole child zone; we answer NODATA
//     from the child), does not copy CD (RFC 4035 §3.1.6 says to), answers
//     QCLASS ANY with AA, and drops unparsable queries where we send
//     FORMERR.
//
// # Wire paths
//
// Handler.ServeWire parses plain queries (one IN question, no compression,
// at most a bare OPT) straight from the packet and encodes the answer from
// the packed record sets without building miekg messages; everything else
// goes through miekg's parser. Both paths fill the same request and run the
// same lookup and encoder, so their responses are byte-identical (tested on
// every golden case).
//
// # Routing
//
// Weighted, latency, geolocation, failover, multivalue answer and IP-based
// record sets, and aliases, are evaluated per query by the same lookup
// (routing.go), from the client's ECS subnet or address, the health view,
// a GeoIP database and a random source given through Handler.SetRouting
// (or StartRouting). Simple record sets pay one nil test for it. Answers
// at routed names depend on the client and on chance: nothing may cache
// them without those (routedNode marks such names). See
// docs/routing-dataplane.md.
//
// # Hostile traffic
//
// The Server bounds TCP (tcp.go: a total and a per-address connection
// limit that evict idle connections rather than refuse new ones, idle and
// I/O timeouts), rate limits UDP responses per client prefix and response
// class with slip (rrl.go), answers DNS Cookies with RFC 9018 server
// cookies and exempts clients with a valid one from rate limiting
// (cookie.go), and counts all of it in one Stats struct. Limits, defaults
// and counters: docs/operations.md. The last health statuses are kept on
// disk beside the zone cache (healthcache.go).
package dataplane
