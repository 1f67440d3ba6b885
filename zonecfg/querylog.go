package zonecfg

// QueryLogging is a zone's query logging as it travels to the nameservers,
// in the snapshot, in zone events and in the nameservers' cache: when
// ConfigID is set, every nameserver publishes an entry for each answer it
// gives from the zone (docs/observability.md, "Query logging").
//
// As with Transfers, a nil *QueryLogging in a zone state means logging
// off; in a zone event it means "unchanged", and a non-nil value replaces
// the setting (an empty ConfigID: logging off).
type QueryLogging struct {
	// ConfigID is the id of the zone's query logging configuration.
	ConfigID string `json:"config_id,omitempty"`
}

// Enabled reports whether q turns logging on.
func (q *QueryLogging) Enabled() bool { return q != nil && q.ConfigID != "" }
