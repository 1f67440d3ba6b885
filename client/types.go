package client

import "time"

// The API's JSON shapes, named as openapi.yaml's schemas where it names
// them. A test checks every one against its schema.

// Status is the answer of the liveness and readiness probes.
type Status struct {
	Status string `json:"status"`
}

// Tenants and keys.

// Tenant is a customer account.
type Tenant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// APIKey is an API key as listed (without its secret).
type APIKey struct {
	ID          string     `json:"id"`
	Description string     `json:"description"`
	CreatedAt   time.Time  `json:"created_at"`
	LastUsedAt  *time.Time `json:"last_used_at,omitempty"`
}

// NewAPIKey is a key as created: the only time its secret and token are
// shown.
type NewAPIKey struct {
	APIKey
	Secret string `json:"secret"`
	// Token is the bearer token, wmk_<id>_<secret>.
	Token string `json:"token"`
}

// CreateTenantInput is the body of createTenant and signup.
type CreateTenantInput struct {
	Name string `json:"name"`
}

// CreateTenantOutput is a new tenant and its first API key.
type CreateTenantOutput struct {
	Tenant Tenant    `json:"tenant"`
	APIKey NewAPIKey `json:"api_key"`
}

// ListAPIKeysOutput lists the tenant's keys, oldest first.
type ListAPIKeysOutput struct {
	APIKeys []APIKey `json:"api_keys"`
}

// CreateAPIKeyInput is the body of createAPIKey.
type CreateAPIKeyInput struct {
	Description string `json:"description,omitempty"`
}

// CreateAPIKeyOutput is the new key.
type CreateAPIKeyOutput struct {
	APIKey NewAPIKey `json:"api_key"`
}

// Token is a short-lived bearer token (a JWT).
type Token struct {
	Token     string    `json:"token"`
	TokenType string    `json:"token_type"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Hosted zones and changes.

// HostedZone is a hosted zone.
type HostedZone struct {
	ID string `json:"id"`
	// Name is canonical: lowercase, with a trailing dot.
	Name            string `json:"name"`
	CallerReference string `json:"caller_reference"`
	Comment         string `json:"comment"`
	RecordSetCount  int    `json:"record_set_count"`
	// Version is bumped by every change; it is the SOA serial.
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	// Secondary is set on a secondary zone only: its primaries and the
	// last transfer from them (docs/transfers.md).
	Secondary *SecondaryState `json:"secondary,omitempty"`
}

// SecondaryPrimary is a primary a secondary zone transfers from, always
// with TSIG.
type SecondaryPrimary struct {
	// Address is an IP address with an optional port (53 if absent).
	Address string `json:"address"`
	// TSIGKey names one of the tenant's TSIG keys.
	TSIGKey string `json:"tsig_key"`
}

// SecondaryConfig makes a new zone a secondary of its primaries.
type SecondaryConfig struct {
	Primaries []SecondaryPrimary `json:"primaries"`
}

// SecondaryState is a secondary zone's primaries and its last transfer.
type SecondaryState struct {
	Primaries []SecondaryPrimary `json:"primaries"`
	// LastSerial is the primary's SOA serial last applied; 0 before the
	// first transfer.
	LastSerial    int64      `json:"last_serial"`
	LastSuccessAt *time.Time `json:"last_success_at,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	// Serving is false while the nameservers answer SERVFAIL for the
	// zone: never transferred, or past its SOA expire (LastError says
	// which).
	Serving bool `json:"serving"`
	// LastChangeID is the change that publishes the last version: wait
	// for it (WaitInSync) to know when every nameserver serves it.
	LastChangeID string `json:"last_change_id,omitempty"`
}

// DelegationSet is the zone's name servers: the names to publish at the
// registrar.
type DelegationSet struct {
	// ID is the delegation set (N…); reusable sets are under
	// /v1/delegationsets.
	ID          string   `json:"id,omitempty"`
	NameServers []string `json:"name_servers"`
}

// ReusableDelegationSet is a delegation set that zones can be created on.
type ReusableDelegationSet struct {
	ID              string `json:"id"`
	CallerReference string `json:"caller_reference"`
	// NameServers are the names zones on the set publish: the vanity names
	// if given, else PoolNames.
	NameServers []string `json:"name_servers"`
	// PoolNames are the operator's nameserver names serving the set.
	PoolNames []string  `json:"pool_names"`
	CreatedAt time.Time `json:"created_at"`
}

// CreateDelegationSetInput is the body of createDelegationSet: a new set
// from the pool, or HostedZoneID's set made reusable.
type CreateDelegationSetInput struct {
	// CallerReference makes retries safe; the SDK generates one when empty.
	CallerReference string `json:"caller_reference"`
	HostedZoneID    string `json:"hosted_zone_id,omitempty"`
	// VanityNames are white-label names, one per name server, in order.
	VanityNames []string `json:"vanity_names,omitempty"`
}

// DelegationSetOutput is one reusable delegation set.
type DelegationSetOutput struct {
	DelegationSet ReusableDelegationSet `json:"delegation_set"`
}

// ListDelegationSetsOutput lists the tenant's reusable sets, oldest first.
type ListDelegationSetsOutput struct {
	DelegationSets []ReusableDelegationSet `json:"delegation_sets"`
}

// Change statuses.
const (
	StatusPending = "PENDING"
	StatusInSync  = "INSYNC"
)

// Change is a change batch's status: PENDING until every live nameserver
// serves it, then INSYNC.
type Change struct {
	ID          string     `json:"id"`
	Status      string     `json:"status"`
	SubmittedAt time.Time  `json:"submitted_at"`
	Comment     string     `json:"comment"`
	InSyncAt    *time.Time `json:"insync_at,omitempty"`
}

// ChangeOutput is the answer of the operations that make a change.
type ChangeOutput struct {
	Change Change `json:"change"`
}

// Propagation says how far a change has spread.
type Propagation struct {
	// LiveNameservers is the number of nameservers that gate INSYNC now,
	// AppliedNameservers how many of them have applied the change.
	LiveNameservers    int `json:"live_nameservers"`
	AppliedNameservers int `json:"applied_nameservers"`
}

// GetChangeInput are getChange's query parameters.
type GetChangeInput struct {
	// Wait, when true, long-polls: the answer comes once the change is
	// INSYNC or Timeout (default 30 s, at most 60 s) has passed.
	Wait    bool
	Timeout time.Duration
}

// GetChangeOutput is a change and its propagation.
type GetChangeOutput struct {
	Change      Change       `json:"change"`
	Propagation *Propagation `json:"propagation,omitempty"`
}

// CreateHostedZoneInput is the body of createHostedZone.
type CreateHostedZoneInput struct {
	Name string `json:"name"`
	// CallerReference makes retries safe: unique per tenant. When empty,
	// the SDK generates one.
	CallerReference string `json:"caller_reference"`
	Comment         string `json:"comment,omitempty"`
	// DelegationSetID creates the zone on this reusable delegation set.
	DelegationSetID string `json:"delegation_set_id,omitempty"`
	// Secondary, when set, creates a secondary zone of these primaries:
	// its record sets cannot be changed, imported or signed.
	Secondary *SecondaryConfig `json:"secondary,omitempty"`
}

// CreateHostedZoneOutput is the new zone, the change that creates it and
// its name servers.
type CreateHostedZoneOutput struct {
	HostedZone    HostedZone    `json:"hosted_zone"`
	Change        Change        `json:"change"`
	DelegationSet DelegationSet `json:"delegation_set"`
}

// HostedZoneOutput is a zone and its name servers.
type HostedZoneOutput struct {
	HostedZone    HostedZone     `json:"hosted_zone"`
	DelegationSet *DelegationSet `json:"delegation_set,omitempty"`
}

// UpdateHostedZoneInput is the body of updateHostedZone.
type UpdateHostedZoneInput struct {
	Comment string `json:"comment"`
}

// ListHostedZonesInput are listHostedZones' query parameters: a page
// starts at (Name, ZoneID), the previous page's NextName and NextZoneID.
type ListHostedZonesInput struct {
	Name     string
	ZoneID   string
	MaxItems int
}

// ListHostedZonesOutput is a page of zones, by name then id.
type ListHostedZonesOutput struct {
	HostedZones []HostedZone `json:"hosted_zones"`
	IsTruncated bool         `json:"is_truncated"`
	NextName    string       `json:"next_name,omitempty"`
	NextZoneID  string       `json:"next_zone_id,omitempty"`
	MaxItems    int          `json:"max_items"`
}

// Record sets.

// Change actions.
const (
	ActionCreate = "CREATE"
	ActionDelete = "DELETE"
	ActionUpsert = "UPSERT"
)

// RRSet is a record set: TTL and Records, or AliasTarget. At most one
// routing policy field is set (Weight, Region, Geolocation, Failover,
// MultiValueAnswer, CIDRRouting), and SetIdentifier exactly when one is.
type RRSet struct {
	Name          string `json:"name"`
	Type          string `json:"type"`
	SetIdentifier string `json:"set_identifier,omitempty"`
	// TTL is in seconds; nil for an alias (use Ptr to set it).
	TTL *int64 `json:"ttl,omitempty"`
	// Records are RDATA in presentation format, e.g. "10 mail.example.com.".
	Records          []string     `json:"records,omitempty"`
	Weight           *int         `json:"weight,omitempty"`
	Region           string       `json:"region,omitempty"`
	Geolocation      *GeoLocation `json:"geolocation,omitempty"`
	Failover         string       `json:"failover,omitempty"`
	MultiValueAnswer bool         `json:"multivalue_answer,omitempty"`
	CIDRRouting      *CidrRouting `json:"cidr_routing,omitempty"`
	HealthCheckID    string       `json:"health_check_id,omitempty"`
	AliasTarget      *AliasTarget `json:"alias_target,omitempty"`
}

// GeoLocation is a continent, or a country ("*" is the default) with an
// optional US subdivision.
type GeoLocation struct {
	ContinentCode   string `json:"continent_code,omitempty"`
	CountryCode     string `json:"country_code,omitempty"`
	SubdivisionCode string `json:"subdivision_code,omitempty"`
}

// CidrRouting routes by the resolver's prefix: a location of a CIDR
// collection, or "*".
type CidrRouting struct {
	CollectionID string `json:"collection_id"`
	LocationName string `json:"location_name"`
}

// AliasTarget points a record set at another in a hosted zone of the
// tenant.
type AliasTarget struct {
	HostedZoneID         string `json:"hosted_zone_id"`
	DNSName              string `json:"dns_name"`
	EvaluateTargetHealth bool   `json:"evaluate_target_health"`
}

// RRSetChange is one change of a batch.
type RRSetChange struct {
	Action string `json:"action"`
	RRSet  RRSet  `json:"rrset"`
}

// ChangeBatch is applied atomically: every change, or none.
type ChangeBatch struct {
	Comment string        `json:"comment,omitempty"`
	Changes []RRSetChange `json:"changes"`
	// IdempotencyKey is sent as the Idempotency-Key header. Empty: the
	// client makes one per call, so that its own retries (of a 503 whose
	// batch had in fact been applied, say) are answered the first
	// attempt's change. Set it to retry across calls or processes.
	IdempotencyKey string `json:"-"`
}

// ListRRSetsInput are listRRSets' query parameters: a page starts at
// (Name, Type, Identifier), the previous page's Next* fields.
type ListRRSetsInput struct {
	Name       string
	Type       string
	Identifier string
	MaxItems   int
}

// ListRRSetsOutput is a page of record sets in Route 53 order
// (reversed-label name, type, set identifier).
type ListRRSetsOutput struct {
	RRSets         []RRSet `json:"rrsets"`
	IsTruncated    bool    `json:"is_truncated"`
	NextName       string  `json:"next_name,omitempty"`
	NextType       string  `json:"next_type,omitempty"`
	NextIdentifier string  `json:"next_identifier,omitempty"`
	MaxItems       int     `json:"max_items"`
}

// TestAnswerInput are testAnswer's query parameters.
type TestAnswerInput struct {
	Name string
	Type string
	// ClientIP is the resolver's address; ECS an EDNS0 client subnet (a
	// prefix, or an address).
	ClientIP string
	ECS      string
}

// TestAnswerOutput is the answer a live nameserver would give, and why.
type TestAnswerOutput struct {
	Nameserver   string         `json:"nameserver"`
	ZoneVersion  int64          `json:"zone_version"`
	RecordName   string         `json:"record_name"`
	RecordType   string         `json:"record_type"`
	ClientIP     string         `json:"client_ip,omitempty"`
	ECS          string         `json:"ecs,omitempty"`
	Protocol     string         `json:"protocol"`
	ResponseCode string         `json:"response_code"`
	Records      []AnswerRecord `json:"records"`
	Explanation  []string       `json:"explanation"`
}

// AnswerRecord is one record of a test answer.
type AnswerRecord struct {
	Name string `json:"name"`
	Type string `json:"type"`
	TTL  int64  `json:"ttl"`
	Data string `json:"data"`
}

// CIDR collections.

// CidrCollection is a named set of locations, each a list of prefixes.
type CidrCollection struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version int64  `json:"version"`
}

// CreateCidrCollectionInput is the body of createCidrCollection.
type CreateCidrCollectionInput struct {
	Name string `json:"name"`
	// CallerReference makes retries safe; the SDK generates one when empty.
	CallerReference string `json:"caller_reference"`
}

// CidrLocation is a location of a collection.
type CidrLocation struct {
	LocationName string `json:"location_name"`
	BlockCount   int    `json:"block_count"`
}

// CidrCollectionOutput is a collection and its locations.
type CidrCollectionOutput struct {
	Collection CidrCollection `json:"collection"`
	Locations  []CidrLocation `json:"locations,omitempty"`
}

// ListCidrCollectionsOutput lists the tenant's collections, by name.
type ListCidrCollectionsOutput struct {
	CidrCollections []CidrCollection `json:"cidr_collections"`
}

// ListCidrLocationsOutput lists a collection's locations, by name.
type ListCidrLocationsOutput struct {
	Locations []CidrLocation `json:"locations"`
}

// ListCidrBlocksInput filters listCidrBlocks by location.
type ListCidrBlocksInput struct {
	Location string
}

// CidrBlock is a prefix of a location.
type CidrBlock struct {
	CIDR         string `json:"cidr"`
	LocationName string `json:"location_name"`
}

// ListCidrBlocksOutput lists blocks by location, then block.
type ListCidrBlocksOutput struct {
	Blocks []CidrBlock `json:"blocks"`
}

// CIDR change actions.
const (
	CidrActionPut            = "PUT"
	CidrActionDeleteIfExists = "DELETE_IF_EXISTS"
)

// CidrChange adds (PUT) or removes (DELETE_IF_EXISTS) blocks of a location.
type CidrChange struct {
	LocationName string   `json:"location_name"`
	Action       string   `json:"action"`
	CIDRList     []string `json:"cidr_list"`
}

// ChangeCidrCollectionInput is the body of changeCidrCollection. With
// CollectionVersion, the change applies only at that version.
type ChangeCidrCollectionInput struct {
	CollectionVersion *int64       `json:"collection_version,omitempty"`
	Changes           []CidrChange `json:"changes"`
}

// ZoneChange is the change of one hosted zone that uses a collection.
type ZoneChange struct {
	HostedZoneID string `json:"hosted_zone_id"`
	Change
}

// ChangeCidrCollectionOutput is the new version and the zone changes that
// carry it to the nameservers.
type ChangeCidrCollectionOutput struct {
	Collection CidrCollection `json:"collection"`
	Changes    []ZoneChange   `json:"changes"`
}

// Health checks.

// Health check types.
const (
	HealthCheckHTTP          = "HTTP"
	HealthCheckHTTPS         = "HTTPS"
	HealthCheckHTTPStrMatch  = "HTTP_STR_MATCH"
	HealthCheckHTTPSStrMatch = "HTTPS_STR_MATCH"
	HealthCheckTCP           = "TCP"
	HealthCheckCalculated    = "CALCULATED"
)

// Health statuses.
const (
	Healthy   = "HEALTHY"
	Unhealthy = "UNHEALTHY"
)

// HealthCheckConfig is what a health check probes and how.
type HealthCheckConfig struct {
	Type              string   `json:"type"`
	IPAddress         string   `json:"ip_address,omitempty"`
	FQDN              string   `json:"fqdn,omitempty"`
	Port              int      `json:"port,omitempty"`
	ResourcePath      string   `json:"resource_path,omitempty"`
	SearchString      string   `json:"search_string,omitempty"`
	RequestInterval   int      `json:"request_interval,omitempty"`
	FailureThreshold  int      `json:"failure_threshold,omitempty"`
	Inverted          bool     `json:"inverted,omitempty"`
	Disabled          bool     `json:"disabled,omitempty"`
	EnableSNI         bool     `json:"enable_sni,omitempty"`
	Regions           []string `json:"regions,omitempty"`
	ChildHealthChecks []string `json:"child_health_checks,omitempty"`
	HealthThreshold   *int     `json:"health_threshold,omitempty"`
}

// CreateHealthCheckInput is the body of createHealthCheck.
type CreateHealthCheckInput struct {
	// CallerReference makes retries safe; the SDK generates one when empty.
	CallerReference string            `json:"caller_reference"`
	Config          HealthCheckConfig `json:"config"`
	// Notify are webhooks POSTed a HealthCheckNotification on every status
	// change, signed with their secrets as an alarm's actions are.
	Notify []AlarmActionInput `json:"notify,omitempty"`
}

// HealthCheck is a health check and its aggregated status.
type HealthCheck struct {
	ID              string            `json:"id"`
	CallerReference string            `json:"caller_reference"`
	Version         int64             `json:"version"`
	Config          HealthCheckConfig `json:"config"`
	Status          string            `json:"status"`
	StatusChangedAt time.Time         `json:"status_changed_at"`
	CreatedAt       time.Time         `json:"created_at"`
	// Notify are the check's webhooks, without their secrets.
	Notify []AlarmAction `json:"notify"`
}

// HealthCheckNotification is the JSON document a health check's notify
// webhooks are POSTed on a status change (Status and OldStatus are
// Healthy or Unhealthy). Delivery is at least once: a receiver may see a
// TransitionID twice.
type HealthCheckNotification struct {
	HealthCheckID   string    `json:"health_check_id"`
	CallerReference string    `json:"caller_reference"`
	TransitionID    int64     `json:"transition_id"`
	OldStatus       string    `json:"old_status"`
	Status          string    `json:"status"`
	Reason          string    `json:"reason"`
	Timestamp       time.Time `json:"timestamp"`
}

// HealthCheckOutput is one health check.
type HealthCheckOutput struct {
	HealthCheck HealthCheck `json:"health_check"`
}

// ListHealthChecksInput are listHealthChecks' query parameters.
type ListHealthChecksInput struct {
	Marker   string
	MaxItems int
}

// ListHealthChecksOutput is a page of health checks, by id.
type ListHealthChecksOutput struct {
	HealthChecks []HealthCheck `json:"health_checks"`
	IsTruncated  bool          `json:"is_truncated"`
	NextMarker   string        `json:"next_marker,omitempty"`
	MaxItems     int           `json:"max_items"`
}

// UpdateHealthCheckInput changes the fields that are set. With Version,
// it applies only at that version.
type UpdateHealthCheckInput struct {
	Version           *int64    `json:"version,omitempty"`
	IPAddress         *string   `json:"ip_address,omitempty"`
	FQDN              *string   `json:"fqdn,omitempty"`
	Port              *int      `json:"port,omitempty"`
	ResourcePath      *string   `json:"resource_path,omitempty"`
	SearchString      *string   `json:"search_string,omitempty"`
	FailureThreshold  *int      `json:"failure_threshold,omitempty"`
	Inverted          *bool     `json:"inverted,omitempty"`
	Disabled          *bool     `json:"disabled,omitempty"`
	EnableSNI         *bool     `json:"enable_sni,omitempty"`
	Regions           *[]string `json:"regions,omitempty"`
	ChildHealthChecks *[]string `json:"child_health_checks,omitempty"`
	HealthThreshold   *int      `json:"health_threshold,omitempty"`
	// ResetElements resets fields to their defaults: fqdn, regions,
	// resource_path, child_health_checks.
	ResetElements []string `json:"reset_elements,omitempty"`
	// Notify, when set, replaces the check's webhooks; a pointer to an
	// empty slice removes them all.
	Notify *[]AlarmActionInput `json:"notify,omitempty"`
}

// HealthCheckStatusOutput is a check's status and each region's last
// observation.
type HealthCheckStatusOutput struct {
	Status          string               `json:"status"`
	StatusChangedAt time.Time            `json:"status_changed_at"`
	Checkers        []HealthCheckerCheck `json:"checkers"`
}

// HealthCheckerCheck is one region's last observation of a check.
type HealthCheckerCheck struct {
	Region    string    `json:"region"`
	Status    string    `json:"status"`
	CheckedAt time.Time `json:"checked_at"`
	// Reason is as Route 53's, e.g. "Success: HTTP Status Code 200, OK".
	Reason string `json:"reason"`
}

// HealthCheckLastFailureOutput is each region's most recent failure.
type HealthCheckLastFailureOutput struct {
	Checkers []HealthCheckFailure `json:"checkers"`
}

// HealthCheckFailure is one region's last failure.
type HealthCheckFailure struct {
	Region   string    `json:"region"`
	FailedAt time.Time `json:"failed_at"`
	Reason   string    `json:"reason"`
}

// GetHealthCheckHistoryInput are getHealthCheckHistory's query
// parameters: a page starts before Before, the previous page's NextBefore.
type GetHealthCheckHistoryInput struct {
	MaxItems int
	Before   int64
}

// HealthCheckHistoryOutput is a page of status transitions, newest first.
type HealthCheckHistoryOutput struct {
	Transitions []HealthTransition `json:"transitions"`
	// NextBefore, when not 0, is the Before of the next (older) page.
	NextBefore int64 `json:"next_before,omitempty"`
}

// HealthTransition is a change of a check's status, with the deliveries
// of its notifications to the check's notify webhooks.
type HealthTransition struct {
	Status     string          `json:"status"`
	At         time.Time       `json:"at"`
	Reason     string          `json:"reason"`
	Deliveries []AlarmDelivery `json:"deliveries"`
}

// Operator endpoints.

// Snapshot is every zone at a position of the zone stream.
type Snapshot struct {
	Seq   int64       `json:"seq"`
	Zones []ZoneState `json:"zones"`
}

// ZoneState is a zone's whole content as nameservers receive it.
type ZoneState struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	TenantID string `json:"tenant_id"`
	Version  int64  `json:"version"`
	// NameServers are the pool names of the zone's delegation set.
	NameServers     []string                  `json:"name_servers,omitempty"`
	RRSets          []ZoneStateRRSet          `json:"rrsets"`
	CidrCollections []ZoneStateCidrCollection `json:"cidr_collections,omitempty"`
}

// ZoneStateRRSet is a record set as nameservers receive it: TTL and
// Records always present, records canonical.
type ZoneStateRRSet struct {
	Name             string       `json:"name"`
	Type             string       `json:"type"`
	SetIdentifier    string       `json:"set_identifier,omitempty"`
	TTL              int64        `json:"ttl"`
	Records          []string     `json:"records"`
	Weight           *int         `json:"weight,omitempty"`
	Region           string       `json:"region,omitempty"`
	Geolocation      *GeoLocation `json:"geolocation,omitempty"`
	Failover         string       `json:"failover,omitempty"`
	MultiValueAnswer bool         `json:"multivalue_answer,omitempty"`
	CIDRRouting      *CidrRouting `json:"cidr_routing,omitempty"`
	HealthCheckID    string       `json:"health_check_id,omitempty"`
	AliasTarget      *AliasTarget `json:"alias_target,omitempty"`
}

// ZoneStateCidrCollection is a collection's whole content: location name
// to prefixes.
type ZoneStateCidrCollection struct {
	ID        string              `json:"id"`
	Name      string              `json:"name"`
	Version   int64               `json:"version"`
	Locations map[string][]string `json:"locations"`
}

// ListNameserversOutput is the fleet, by region then node id.
type ListNameserversOutput struct {
	Nameservers []Nameserver `json:"nameservers"`
}

// Nameserver is a nameserver as the fleet trackers see it.
type Nameserver struct {
	NodeID     string `json:"node_id"`
	Region     string `json:"region"`
	AppliedSeq int64  `json:"applied_seq"`
	// Lag is how many stream events the node is behind.
	Lag int64 `json:"lag"`
	// Ready: the node serves; Live: ready and recently heard from (only
	// live nodes gate INSYNC).
	Ready bool `json:"ready"`
	Live  bool `json:"live"`
	Zones int  `json:"zones"`
	// UnservableRRSets counts record sets the node received but could not
	// load (it answers SERVFAIL for their names); non-zero means the
	// planes disagree on what is valid.
	UnservableRRSets int `json:"unservable_rrsets"`
	// Serves are the pool names the node serves; empty: all of them.
	Serves        []string  `json:"serves"`
	FirstSeen     time.Time `json:"first_seen"`
	LastHeartbeat time.Time `json:"last_heartbeat"`
}

// Tag is one key and value on a hosted zone or health check.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Tags are a resource's tags, by key.
type Tags struct {
	// ResourceType is "hostedzone" or "healthcheck".
	ResourceType string `json:"resource_type"`
	ResourceID   string `json:"resource_id"`
	Tags         []Tag  `json:"tags"`
}

// TagChange adds (or overwrites) and removes tags in one step: at most 10
// of each per request, 50 tags per resource.
type TagChange struct {
	Add    []Tag    `json:"add,omitempty"`
	Remove []string `json:"remove,omitempty"`
}
