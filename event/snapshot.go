package event

import "github.com/waymark-dns/waymark/zonecfg"

// ZoneState is one zone's whole content at a version: the unit of
// snapshots, caches and re-syncs.
type ZoneState struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	TenantID string          `json:"tenant_id"`
	Version  int64           `json:"version"`
	RRSets   []zonecfg.RRSet `json:"rrsets"`
	// CIDRCollections are the collections the zone's record sets
	// reference, at this version.
	CIDRCollections []CIDRCollection `json:"cidr_collections,omitempty"`
	// NameServers are the pool names of the zone's delegation set. Empty
	// (caches and snapshots from before delegation sets): served on all.
	NameServers []string `json:"name_servers,omitempty"`
	// DNSSEC is the zone's signing material; nil: not signed.
	DNSSEC *zonecfg.DNSSEC `json:"dnssec,omitempty"`
	// Transfers is the zone's outgoing transfer configuration; nil: none.
	Transfers *zonecfg.Transfers `json:"transfers,omitempty"`
	// QueryLogging is the zone's query logging; nil: off.
	QueryLogging *zonecfg.QueryLogging `json:"query_logging,omitempty"`
	// Secondary is set for a secondary zone; nil: an ordinary zone.
	Secondary *zonecfg.Secondary `json:"secondary,omitempty"`
}

// Snapshot is the control plane's full state at stream position Seq:
// consuming the zone stream from Seq+1 on top of it loses nothing.
type Snapshot struct {
	Seq   uint64      `json:"seq"`
	Zones []ZoneState `json:"zones"`
}
