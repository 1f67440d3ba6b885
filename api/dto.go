package api

import (
	"fmt"
	"io"
	"time"

	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/zonecfg"
)

// The API's JSON shapes. They are the public contract (openapi.yaml), so
// they are declared here and filled by named converters: a field renamed
// in the control plane or zonecfg cannot silently change the API.

// Tenants and keys.

type tenantJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// apiKeyJSON is a key as listed; the secret and token appear only in the
// response that creates the key.
type apiKeyJSON struct {
	ID          string     `json:"id"`
	Description string     `json:"description"`
	CreatedAt   time.Time  `json:"created_at"`
	LastUsedAt  *time.Time `json:"last_used_at,omitempty"`
	Secret      string     `json:"secret,omitempty"`
	Token       string     `json:"token,omitempty"`
}

type createTenantRequest struct {
	Name string `json:"name"`
}

type createTenantResponse struct {
	Tenant tenantJSON `json:"tenant"`
	APIKey apiKeyJSON `json:"api_key"`
}

type createAPIKeyRequest struct {
	Description string `json:"description"`
}

type apiKeyResponse struct {
	APIKey apiKeyJSON `json:"api_key"`
}

type apiKeysResponse struct {
	APIKeys []apiKeyJSON `json:"api_keys"`
}

type tokenResponse struct {
	Token     string    `json:"token"`
	TokenType string    `json:"token_type"`
	ExpiresAt time.Time `json:"expires_at"`
}

func toTenantJSON(t controlplane.Tenant) tenantJSON {
	return tenantJSON{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt.UTC()}
}

func toAPIKeyJSON(k controlplane.APIKey) apiKeyJSON {
	out := apiKeyJSON{ID: k.ID, Description: k.Description, CreatedAt: k.CreatedAt.UTC()}
	if k.LastUsedAt != nil {
		t := k.LastUsedAt.UTC()
		out.LastUsedAt = &t
	}
	return out
}

func toNewAPIKeyJSON(k controlplane.NewAPIKey) apiKeyJSON {
	out := toAPIKeyJSON(k.APIKey)
	out.Secret, out.Token = k.Secret, k.Token
	return out
}

// Hosted zones.

type hostedZoneJSON struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	CallerReference string    `json:"caller_reference"`
	Comment         string    `json:"comment"`
	RecordSetCount  int       `json:"record_set_count"`
	Version         int64     `json:"version"`
	CreatedAt       time.Time `json:"created_at"`
	// Secondary is present on a secondary zone only.
	Secondary *secondaryJSON `json:"secondary,omitempty"`
}

// secondaryJSON is a secondary zone's primaries and the status of its
// last transfer.
type secondaryJSON struct {
	Primaries   []secondaryPrimaryJSON `json:"primaries"`
	LastSerial  uint32                 `json:"last_serial"`
	LastSuccess *time.Time             `json:"last_success_at,omitempty"`
	LastError   string                 `json:"last_error,omitempty"`
	// Serving is false while the nameservers answer SERVFAIL for the
	// zone: never transferred, or past its SOA expire (last_error says
	// which).
	Serving bool `json:"serving"`
	// LastChangeID is the change that publishes the last version
	// (GET /v1/changes/{id} says when it is INSYNC).
	LastChangeID string `json:"last_change_id,omitempty"`
}

type secondaryPrimaryJSON struct {
	Address string `json:"address"`
	TSIGKey string `json:"tsig_key"`
}

type secondaryRequest struct {
	Primaries []secondaryPrimaryJSON `json:"primaries"`
}

type delegationSetJSON struct {
	ID          string   `json:"id,omitempty"`
	NameServers []string `json:"name_servers"`
}

type changeJSON struct {
	ID          string     `json:"id"`
	Status      string     `json:"status"`
	SubmittedAt time.Time  `json:"submitted_at"`
	Comment     string     `json:"comment"`
	InSyncAt    *time.Time `json:"insync_at,omitempty"`
}

type createZoneRequest struct {
	Name            string `json:"name"`
	CallerReference string `json:"caller_reference"`
	Comment         string `json:"comment"`
	DelegationSetID string `json:"delegation_set_id"`
	// Secondary, when present, creates a secondary zone.
	Secondary *secondaryRequest `json:"secondary"`
}

type createZoneResponse struct {
	HostedZone    hostedZoneJSON    `json:"hosted_zone"`
	Change        changeJSON        `json:"change"`
	DelegationSet delegationSetJSON `json:"delegation_set"`
}

type zoneResponse struct {
	HostedZone    hostedZoneJSON     `json:"hosted_zone"`
	DelegationSet *delegationSetJSON `json:"delegation_set,omitempty"`
}

type updateZoneRequest struct {
	Comment *string `json:"comment"`
}

type listZonesResponse struct {
	HostedZones []hostedZoneJSON `json:"hosted_zones"`
	IsTruncated bool             `json:"is_truncated"`
	NextName    string           `json:"next_name,omitempty"`
	NextZoneID  string           `json:"next_zone_id,omitempty"`
	MaxItems    int              `json:"max_items"`
}

type changeResponse struct {
	Change changeJSON `json:"change"`
}

func toHostedZoneJSON(z controlplane.Zone) hostedZoneJSON {
	out := hostedZoneJSON{
		ID: z.ID, Name: z.Name, CallerReference: z.CallerReference, Comment: z.Comment,
		RecordSetCount: z.RRSetCount, Version: z.Version, CreatedAt: z.CreatedAt.UTC(),
	}
	if z.Secondary != nil {
		sj := &secondaryJSON{Primaries: []secondaryPrimaryJSON{}, LastSerial: z.SecondaryStatus.Serial,
			LastSuccess: z.SecondaryStatus.SuccessAt, LastError: z.SecondaryStatus.Error,
			Serving: !z.SecondaryStatus.NotServed}
		if id := z.SecondaryStatus.ChangeID; id != nil {
			sj.LastChangeID = *id
		}
		for _, p := range z.Secondary.Primaries {
			sj.Primaries = append(sj.Primaries, secondaryPrimaryJSON(p))
		}
		out.Secondary = sj
	}
	return out
}

// fromSecondaryRequest is the control plane's form of a request's
// secondary object (nil when absent).
func fromSecondaryRequest(r *secondaryRequest) *controlplane.SecondaryConfig {
	if r == nil {
		return nil
	}
	c := &controlplane.SecondaryConfig{Primaries: []controlplane.SecondaryPrimary{}}
	for _, p := range r.Primaries {
		c.Primaries = append(c.Primaries, controlplane.SecondaryPrimary(p))
	}
	return c
}

func toDelegationSetJSON(z controlplane.Zone) delegationSetJSON {
	ns := append([]string{}, z.NameServers...)
	return delegationSetJSON{ID: z.DelegationSetID, NameServers: ns}
}

func toChangeJSON(c controlplane.ChangeInfo) changeJSON {
	out := changeJSON{ID: c.ID, Status: string(c.Status), SubmittedAt: c.SubmittedAt.UTC(), Comment: c.Comment}
	if c.InSyncAt != nil {
		t := c.InSyncAt.UTC()
		out.InSyncAt = &t
	}
	return out
}

func toListZonesResponse(p controlplane.ZonePage) listZonesResponse {
	out := listZonesResponse{
		HostedZones: make([]hostedZoneJSON, 0, len(p.Zones)),
		IsTruncated: p.IsTruncated, NextName: p.NextName, NextZoneID: p.NextID, MaxItems: p.MaxItems,
	}
	for _, z := range p.Zones {
		out.HostedZones = append(out.HostedZones, toHostedZoneJSON(z))
	}
	return out
}

// Record sets and change batches.

// rrsetJSON is a record set in responses. An alias record set has no ttl
// and no records (as Route 53 lists them); every other has both. The
// routing fields (docs/routing.md) are zonecfg.Routing's, the same in
// requests and responses; at most one policy field is set, none means
// simple routing.
type rrsetJSON struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	SetIdentifier string   `json:"set_identifier,omitempty"`
	TTL           *int64   `json:"ttl,omitempty"`
	Records       []string `json:"records,omitempty"`
	zonecfg.Routing
}

// rrsetInput is a record set in a change batch. TTL is a pointer so that
// a missing TTL is an error rather than a silent 0 (and an alias's TTL,
// which must be absent, can be told from 0). Weight and AliasTarget
// shadow the Routing fields of the same JSON names, for what JSON cannot
// check: a weight out of range and a missing evaluate_target_health.
type rrsetInput struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	SetIdentifier string   `json:"set_identifier"`
	TTL           *int64   `json:"ttl"`
	Records       []string `json:"records"`
	zonecfg.Routing
	Weight      *int              `json:"weight,omitempty"`
	AliasTarget *aliasTargetInput `json:"alias_target,omitempty"`
}

// aliasTargetInput is an alias target in a request. EvaluateTargetHealth
// is required, as in Route 53, hence the pointer.
type aliasTargetInput struct {
	HostedZoneID         string `json:"hosted_zone_id"`
	DNSName              string `json:"dns_name"`
	EvaluateTargetHealth *bool  `json:"evaluate_target_health"`
}

// routing returns the routing of in; it reports what JSON cannot check
// (weight range, a missing evaluate_target_health) through bad.
func (in *rrsetInput) routing(bad func(field, msg string)) zonecfg.Routing {
	r := in.Routing
	if in.Weight != nil {
		if *in.Weight < 0 || *in.Weight > 255 {
			bad("rrset.weight", fmt.Sprintf("weight %d is out of range 0..255", *in.Weight))
		} else {
			w := uint8(*in.Weight)
			r.Weight = &w
		}
	}
	if a := in.AliasTarget; a != nil {
		if a.EvaluateTargetHealth == nil {
			bad("rrset.alias_target.evaluate_target_health", "evaluate_target_health is required")
		}
		r.Alias = &zonecfg.AliasTarget{HostedZoneID: a.HostedZoneID, DNSName: a.DNSName,
			EvaluateTargetHealth: a.EvaluateTargetHealth != nil && *a.EvaluateTargetHealth}
	}
	return r
}

type changeInput struct {
	Action string      `json:"action"`
	RRSet  *rrsetInput `json:"rrset"`
}

type changeBatchRequest struct {
	Comment string        `json:"comment"`
	Changes []changeInput `json:"changes"`
}

type listRRSetsResponse struct {
	RRSets         []rrsetJSON `json:"rrsets"`
	IsTruncated    bool        `json:"is_truncated"`
	NextName       string      `json:"next_name,omitempty"`
	NextType       string      `json:"next_type,omitempty"`
	NextIdentifier string      `json:"next_identifier,omitempty"`
	MaxItems       int         `json:"max_items"`
}

func toRRSetJSON(rs zonecfg.RRSet) rrsetJSON {
	out := rrsetJSON{Name: rs.Name, Type: rs.Type, SetIdentifier: rs.SetIdentifier, Routing: rs.Routing}
	if rs.Alias == nil {
		ttl := int64(rs.TTL)
		out.TTL, out.Records = &ttl, append([]string{}, rs.Records...)
	}
	return out
}

func toListRRSetsResponse(p controlplane.RRSetPage) listRRSetsResponse {
	out := listRRSetsResponse{
		RRSets:      make([]rrsetJSON, 0, len(p.RRSets)),
		IsTruncated: p.IsTruncated, NextName: p.NextName, NextType: p.NextType,
		NextIdentifier: p.NextIdentifier, MaxItems: p.MaxItems,
	}
	for _, rs := range p.RRSets {
		out.RRSets = append(out.RRSets, toRRSetJSON(rs))
	}
	return out
}

// decodeChangeBatch reads a change-batch request body strictly and
// converts it. It is a pure function (fuzzed by FuzzDecodeChangeBatch).
func decodeChangeBatch(body io.Reader) (controlplane.ChangeBatch, error) {
	var req changeBatchRequest
	if err := decodeStrict(body, &req); err != nil {
		return controlplane.ChangeBatch{}, err
	}
	return fromChangeBatchJSON(req)
}

// fromChangeBatchJSON converts a decoded change batch. It checks only what
// JSON cannot express (presence of rrset and ttl, TTL range); names,
// types, records and actions are the control plane's to validate. Every
// problem is reported, each with the change's index.
func fromChangeBatchJSON(req changeBatchRequest) (controlplane.ChangeBatch, error) {
	b := controlplane.ChangeBatch{Comment: req.Comment, Changes: make([]controlplane.RRSetChange, 0, len(req.Changes))}
	var details []controlplane.Detail
	bad := func(i int, field, msg string) {
		details = append(details, controlplane.Detail{Index: &i, Field: field, Message: msg})
	}
	for i, c := range req.Changes {
		if c.RRSet == nil {
			bad(i, "rrset", "rrset is required")
			continue
		}
		var ttl uint32
		alias := c.RRSet.AliasTarget != nil
		switch t := c.RRSet.TTL; {
		case alias && (t != nil || len(c.RRSet.Records) > 0):
			bad(i, "rrset.alias_target", "Expected exactly one of alias_target or ttl and records, but found both")
		case alias:
		case t == nil:
			bad(i, "rrset.ttl", "ttl is required (or alias_target)")
		case *t < 0 || *t > zonecfg.MaxTTL:
			bad(i, "rrset.ttl", fmt.Sprintf("ttl %d is out of range 0..%d", *t, zonecfg.MaxTTL))
		default:
			ttl = uint32(*t)
		}
		rs := zonecfg.RRSet{
			Name: c.RRSet.Name, Type: c.RRSet.Type, SetIdentifier: c.RRSet.SetIdentifier,
			TTL: ttl, Records: append([]string{}, c.RRSet.Records...),
			Routing: c.RRSet.routing(func(field, msg string) { bad(i, field, msg) }),
		}
		b.Changes = append(b.Changes, controlplane.RRSetChange{Action: controlplane.Action(c.Action), RRSet: rs})
	}
	if len(details) > 0 {
		return controlplane.ChangeBatch{}, &controlplane.Error{
			Code:    controlplane.CodeInvalidInput,
			Message: fmt.Sprintf("invalid change batch request: %d problem(s), see details", len(details)),
			Details: details,
		}
	}
	return b, nil
}
