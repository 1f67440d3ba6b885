package client

import (
	"context"
	"net/url"
	"strconv"
	"strings"
)

// The methods of the operations, one per operationId of openapi.yaml, in
// its order. Each fills a request from its input and decodes the answer.

// query builds a query string, leaving out empty values.
type query url.Values

func (q query) str(k, v string) query {
	if v != "" {
		url.Values(q).Set(k, v)
	}
	return q
}

func (q query) int(k string, v int64) query {
	if v != 0 {
		url.Values(q).Set(k, strconv.FormatInt(v, 10))
	}
	return q
}

// Healthz is the liveness probe (GET /healthz).
func (c *Client) Healthz(ctx context.Context) (*Status, error) {
	return callOut[Status](ctx, c, request{op: opHealthz})
}

// Metrics returns the server's Prometheus exposition (GET /metrics), in
// the text format: for operators' tools, not tenants'.
func (c *Client) Metrics(ctx context.Context) ([]byte, error) {
	var out []byte
	err := c.call(ctx, request{op: opMetrics, rawResult: &out}, nil)
	return out, err
}

// Readyz is the readiness probe (GET /readyz); 503 when not ready.
func (c *Client) Readyz(ctx context.Context) (*Status, error) {
	return callOut[Status](ctx, c, request{op: opReadyz})
}

// CreateTenant creates a tenant and its first API key. It needs the
// operator's token.
func (c *Client) CreateTenant(ctx context.Context, in CreateTenantInput) (*CreateTenantOutput, error) {
	return callOut[CreateTenantOutput](ctx, c, request{op: opCreateTenant, body: in})
}

// Signup creates a tenant without credentials, where the operator opened
// sign-up (404 otherwise).
func (c *Client) Signup(ctx context.Context, in CreateTenantInput) (*CreateTenantOutput, error) {
	return callOut[CreateTenantOutput](ctx, c, request{op: opSignup, body: in})
}

// ListAPIKeys lists the tenant's API keys, without secrets.
func (c *Client) ListAPIKeys(ctx context.Context) (*ListAPIKeysOutput, error) {
	return callOut[ListAPIKeysOutput](ctx, c, request{op: opListAPIKeys})
}

// CreateAPIKey creates an API key; its secret and token are shown only in
// this answer.
func (c *Client) CreateAPIKey(ctx context.Context, in CreateAPIKeyInput) (*CreateAPIKeyOutput, error) {
	return callOut[CreateAPIKeyOutput](ctx, c, request{op: opCreateAPIKey, body: in})
}

// DeleteAPIKey deletes an API key and revokes its tokens. The last key
// cannot be deleted.
func (c *Client) DeleteAPIKey(ctx context.Context, id string) error {
	return c.call(ctx, request{op: opDeleteAPIKey, pathArgs: []string{id}}, nil)
}

// CreateToken issues a short-lived JWT for the API key the client
// authenticates with.
func (c *Client) CreateToken(ctx context.Context) (*Token, error) {
	return callOut[Token](ctx, c, request{op: opCreateToken})
}

// CreateDelegationSet creates a reusable delegation set: a new one from
// the operator's pool, or a zone's set made reusable (in.HostedZoneID).
func (c *Client) CreateDelegationSet(ctx context.Context, in CreateDelegationSetInput) (*DelegationSetOutput, error) {
	if in.CallerReference == "" {
		in.CallerReference = callerReference()
	}
	return callOut[DelegationSetOutput](ctx, c, request{op: opCreateDelegationSet, body: in})
}

// ListDelegationSets lists the tenant's reusable delegation sets.
func (c *Client) ListDelegationSets(ctx context.Context) (*ListDelegationSetsOutput, error) {
	return callOut[ListDelegationSetsOutput](ctx, c, request{op: opListDelegationSets})
}

// GetDelegationSet returns a reusable delegation set.
func (c *Client) GetDelegationSet(ctx context.Context, id string) (*DelegationSetOutput, error) {
	return callOut[DelegationSetOutput](ctx, c, request{op: opGetDelegationSet, pathArgs: []string{id}})
}

// DeleteDelegationSet deletes a reusable delegation set that no zone uses.
func (c *Client) DeleteDelegationSet(ctx context.Context, id string) error {
	return c.call(ctx, request{op: opDeleteDelegationSet, pathArgs: []string{id}}, nil)
}

// CreateHostedZone creates a hosted zone with its SOA and NS record sets.
func (c *Client) CreateHostedZone(ctx context.Context, in CreateHostedZoneInput) (*CreateHostedZoneOutput, error) {
	if in.CallerReference == "" {
		in.CallerReference = callerReference()
	}
	return callOut[CreateHostedZoneOutput](ctx, c, request{op: opCreateHostedZone, body: in})
}

// ListHostedZones returns one page of zones; [Client.HostedZones] walks
// them all.
func (c *Client) ListHostedZones(ctx context.Context, in *ListHostedZonesInput) (*ListHostedZonesOutput, error) {
	if in == nil {
		in = &ListHostedZonesInput{}
	}
	q := query{}.str("name", in.Name).str("zone_id", in.ZoneID).int("max_items", int64(in.MaxItems))
	return callOut[ListHostedZonesOutput](ctx, c, request{op: opListHostedZones, query: url.Values(q)})
}

// GetHostedZone returns a zone and its name servers.
func (c *Client) GetHostedZone(ctx context.Context, id string) (*HostedZoneOutput, error) {
	return callOut[HostedZoneOutput](ctx, c, request{op: opGetHostedZone, pathArgs: []string{id}})
}

// UpdateHostedZone changes a zone's comment.
func (c *Client) UpdateHostedZone(ctx context.Context, id string, in UpdateHostedZoneInput) (*HostedZoneOutput, error) {
	return callOut[HostedZoneOutput](ctx, c, request{op: opUpdateHostedZone, pathArgs: []string{id}, body: in})
}

// DeleteHostedZone deletes a zone that holds only its SOA and NS record
// sets (HostedZoneNotEmpty otherwise).
func (c *Client) DeleteHostedZone(ctx context.Context, id string) (*ChangeOutput, error) {
	return callOut[ChangeOutput](ctx, c, request{op: opDeleteHostedZone, pathArgs: []string{id}})
}

// ChangeRRSets applies a change batch atomically. InvalidChangeBatch
// lists every failing change by index in the error's details.
func (c *Client) ChangeRRSets(ctx context.Context, zoneID string, batch ChangeBatch) (*ChangeOutput, error) {
	key := batch.IdempotencyKey
	if key == "" {
		key = idempotencyKey()
	}
	return callOut[ChangeOutput](ctx, c, request{op: opChangeRRSets, pathArgs: []string{zoneID}, body: batch, idempotencyKey: key})
}

// ListRRSets returns one page of a zone's record sets; [Client.RRSets]
// walks them all.
func (c *Client) ListRRSets(ctx context.Context, zoneID string, in *ListRRSetsInput) (*ListRRSetsOutput, error) {
	if in == nil {
		in = &ListRRSetsInput{}
	}
	q := query{}.str("name", in.Name).str("type", in.Type).str("identifier", in.Identifier).int("max_items", int64(in.MaxItems))
	return callOut[ListRRSetsOutput](ctx, c, request{op: opListRRSets, pathArgs: []string{zoneID}, query: url.Values(q)})
}

// TestAnswer asks a live nameserver what it would answer, and why.
func (c *Client) TestAnswer(ctx context.Context, zoneID string, in TestAnswerInput) (*TestAnswerOutput, error) {
	q := query{}.str("name", in.Name).str("type", in.Type).str("client_ip", in.ClientIP).str("ecs", in.ECS)
	return callOut[TestAnswerOutput](ctx, c, request{op: opTestAnswer, pathArgs: []string{zoneID}, query: url.Values(q)})
}

// CreateCidrCollection creates a CIDR collection (a retry returns the
// existing one).
func (c *Client) CreateCidrCollection(ctx context.Context, in CreateCidrCollectionInput) (*CidrCollectionOutput, error) {
	if in.CallerReference == "" {
		in.CallerReference = callerReference()
	}
	return callOut[CidrCollectionOutput](ctx, c, request{op: opCreateCidrCollection, body: in})
}

// ListCidrCollections lists the tenant's CIDR collections.
func (c *Client) ListCidrCollections(ctx context.Context) (*ListCidrCollectionsOutput, error) {
	return callOut[ListCidrCollectionsOutput](ctx, c, request{op: opListCidrCollections})
}

// GetCidrCollection returns a collection and its locations.
func (c *Client) GetCidrCollection(ctx context.Context, id string) (*CidrCollectionOutput, error) {
	return callOut[CidrCollectionOutput](ctx, c, request{op: opGetCidrCollection, pathArgs: []string{id}})
}

// DeleteCidrCollection deletes a collection no record set uses.
func (c *Client) DeleteCidrCollection(ctx context.Context, id string) error {
	return c.call(ctx, request{op: opDeleteCidrCollection, pathArgs: []string{id}}, nil)
}

// ChangeCidrCollection changes a collection's locations atomically.
func (c *Client) ChangeCidrCollection(ctx context.Context, id string, in ChangeCidrCollectionInput) (*ChangeCidrCollectionOutput, error) {
	return callOut[ChangeCidrCollectionOutput](ctx, c, request{op: opChangeCidrCollection, pathArgs: []string{id}, body: in})
}

// ListCidrLocations lists a collection's locations.
func (c *Client) ListCidrLocations(ctx context.Context, id string) (*ListCidrLocationsOutput, error) {
	return callOut[ListCidrLocationsOutput](ctx, c, request{op: opListCidrLocations, pathArgs: []string{id}})
}

// ListCidrBlocks lists a collection's blocks, optionally of one location.
func (c *Client) ListCidrBlocks(ctx context.Context, id string, in *ListCidrBlocksInput) (*ListCidrBlocksOutput, error) {
	if in == nil {
		in = &ListCidrBlocksInput{}
	}
	q := query{}.str("location", in.Location)
	return callOut[ListCidrBlocksOutput](ctx, c, request{op: opListCidrBlocks, pathArgs: []string{id}, query: url.Values(q)})
}

// ExportZone returns the zone as an RFC 1035 master file.
func (c *Client) ExportZone(ctx context.Context, zoneID string) ([]byte, error) {
	var out []byte
	err := c.call(ctx, request{op: opExportZone, pathArgs: []string{zoneID}, rawResult: &out}, nil)
	return out, err
}

// ImportZone replaces the zone's records with those of a master file, as
// one change batch (UPSERT semantics). Parse errors come back as an
// [*Error] whose details carry line numbers.
func (c *Client) ImportZone(ctx context.Context, zoneID string, zoneFile []byte) (*ChangeOutput, error) {
	if zoneFile == nil {
		zoneFile = []byte{}
	}
	return callOut[ChangeOutput](ctx, c, request{op: opImportZone, pathArgs: []string{zoneID}, raw: zoneFile, contentType: "text/dns"})
}

// GetChange returns a change's status and propagation; with in.Wait it
// long-polls until INSYNC or in.Timeout. [Client.WaitInSync] waits as
// long as its context allows.
func (c *Client) GetChange(ctx context.Context, id string, in *GetChangeInput) (*GetChangeOutput, error) {
	q := query{}
	if in != nil && in.Wait {
		q.str("wait", "insync")
		if in.Timeout > 0 {
			q.str("timeout", in.Timeout.String())
		}
	}
	return callOut[GetChangeOutput](ctx, c, request{op: opGetChange, pathArgs: []string{id}, query: url.Values(q)})
}

// CreateHealthCheck creates a health check. The same caller reference and
// settings return the existing check.
func (c *Client) CreateHealthCheck(ctx context.Context, in CreateHealthCheckInput) (*HealthCheckOutput, error) {
	if in.CallerReference == "" {
		in.CallerReference = callerReference()
	}
	return callOut[HealthCheckOutput](ctx, c, request{op: opCreateHealthCheck, body: in})
}

// ListHealthChecks returns one page of health checks;
// [Client.HealthChecks] walks them all.
func (c *Client) ListHealthChecks(ctx context.Context, in *ListHealthChecksInput) (*ListHealthChecksOutput, error) {
	if in == nil {
		in = &ListHealthChecksInput{}
	}
	q := query{}.str("marker", in.Marker).int("max_items", int64(in.MaxItems))
	return callOut[ListHealthChecksOutput](ctx, c, request{op: opListHealthChecks, query: url.Values(q)})
}

// GetHealthCheck returns a health check.
func (c *Client) GetHealthCheck(ctx context.Context, id string) (*HealthCheckOutput, error) {
	return callOut[HealthCheckOutput](ctx, c, request{op: opGetHealthCheck, pathArgs: []string{id}})
}

// UpdateHealthCheck changes the fields set in in.
func (c *Client) UpdateHealthCheck(ctx context.Context, id string, in UpdateHealthCheckInput) (*HealthCheckOutput, error) {
	return callOut[HealthCheckOutput](ctx, c, request{op: opUpdateHealthCheck, pathArgs: []string{id}, body: in})
}

// DeleteHealthCheck deletes a health check nothing uses.
func (c *Client) DeleteHealthCheck(ctx context.Context, id string) error {
	return c.call(ctx, request{op: opDeleteHealthCheck, pathArgs: []string{id}}, nil)
}

// GetHealthCheckStatus returns a check's status and each region's last
// observation.
func (c *Client) GetHealthCheckStatus(ctx context.Context, id string) (*HealthCheckStatusOutput, error) {
	return callOut[HealthCheckStatusOutput](ctx, c, request{op: opGetHealthCheckStatus, pathArgs: []string{id}})
}

// GetHealthCheckLastFailure returns each region's most recent failure.
func (c *Client) GetHealthCheckLastFailure(ctx context.Context, id string) (*HealthCheckLastFailureOutput, error) {
	return callOut[HealthCheckLastFailureOutput](ctx, c, request{op: opGetHealthCheckLastFailure, pathArgs: []string{id}})
}

// GetHealthCheckHistory returns one page of a check's status transitions,
// newest first; [Client.HealthCheckTransitions] walks them all.
func (c *Client) GetHealthCheckHistory(ctx context.Context, id string, in *GetHealthCheckHistoryInput) (*HealthCheckHistoryOutput, error) {
	if in == nil {
		in = &GetHealthCheckHistoryInput{}
	}
	q := query{}.int("max_items", int64(in.MaxItems)).int("before", in.Before)
	return callOut[HealthCheckHistoryOutput](ctx, c, request{op: opGetHealthCheckHistory, pathArgs: []string{id}, query: url.Values(q)})
}

// GetNameserverSnapshotInput are getNameserverSnapshot's query
// parameters.
type GetNameserverSnapshotInput struct {
	// Serve limits the snapshot to the zones on delegation sets holding one
	// of these pool names (a sharded nameserver's view).
	Serve []string
}

// GetNameserverSnapshot returns every zone at a stream position. It needs
// the operator's token, and reads the whole snapshot into memory.
func (c *Client) GetNameserverSnapshot(ctx context.Context, in *GetNameserverSnapshotInput) (*Snapshot, error) {
	q := query{}
	if in != nil {
		q.str("serve", strings.Join(in.Serve, ","))
	}
	return callOut[Snapshot](ctx, c, request{op: opGetNameserverSnapshot, query: url.Values(q)})
}

// GetNameserverZone returns one zone's whole content, whoever owns it. It
// needs the operator's token.
func (c *Client) GetNameserverZone(ctx context.Context, id string) (*ZoneState, error) {
	return callOut[ZoneState](ctx, c, request{op: opGetNameserverZone, pathArgs: []string{id}})
}

// ListNameservers returns the nameserver fleet. It needs the operator's
// token.
func (c *Client) ListNameservers(ctx context.Context) (*ListNameserversOutput, error) {
	return callOut[ListNameserversOutput](ctx, c, request{op: opListNameservers})
}

// callOut runs r and decodes its answer into a new T.
func callOut[T any](ctx context.Context, c *Client, r request) (*T, error) {
	var out T
	if err := c.call(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListZoneTags returns a hosted zone's tags, by key.
func (c *Client) ListZoneTags(ctx context.Context, zoneID string) (*Tags, error) {
	return callOut[Tags](ctx, c, request{op: opListZoneTags, pathArgs: []string{zoneID}})
}

// ChangeZoneTags adds (or overwrites) and removes a hosted zone's tags in
// one step and returns the tags after the change.
func (c *Client) ChangeZoneTags(ctx context.Context, zoneID string, in TagChange) (*Tags, error) {
	return callOut[Tags](ctx, c, request{op: opChangeZoneTags, pathArgs: []string{zoneID}, body: in})
}

// ListHealthCheckTags returns a health check's tags, by key.
func (c *Client) ListHealthCheckTags(ctx context.Context, healthCheckID string) (*Tags, error) {
	return callOut[Tags](ctx, c, request{op: opListHealthCheckTags, pathArgs: []string{healthCheckID}})
}

// ChangeHealthCheckTags adds (or overwrites) and removes a health check's
// tags in one step and returns the tags after the change.
func (c *Client) ChangeHealthCheckTags(ctx context.Context, healthCheckID string, in TagChange) (*Tags, error) {
	return callOut[Tags](ctx, c, request{op: opChangeHealthCheckTags, pathArgs: []string{healthCheckID}, body: in})
}
