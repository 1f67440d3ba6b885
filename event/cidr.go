package event

import "net/netip"

// CIDRCollection is a CIDR collection as nameservers need it for IP-based
// routing: named locations, each a list of prefixes. Version counts the
// collection's changes (it is Route 53's collection version).
//
// How collections reach nameservers: through the zone stream, with no
// subject of their own. Every zone event and zone state carries, in
// CIDRCollections, the full content of the collections its record sets
// reference:
//
//   - ZoneState.CIDRCollections holds every collection referenced by the
//     zone's record sets at that version (snapshots included).
//   - A ZoneEvent whose upserts reference a collection carries that
//     collection, and when a collection changes the control plane emits a
//     zone.updated event (no deletes or upserts, a new zone version) for
//     every zone referencing it, carrying the new content.
//
// A nameserver keeps the collections per zone by ID and replaces its copy
// with each one an event carries. Collections that no record set
// references any more may be dropped whenever convenient. The zone stream's
// ordering and gap detection thus cover collections too: a nameserver that
// misses an event re-fetches the zone state, collections included.
type CIDRCollection struct {
	ID        string                    `json:"id"`
	Name      string                    `json:"name"`
	Version   int64                     `json:"version"`
	Locations map[string][]netip.Prefix `json:"locations"`
}
