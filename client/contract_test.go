package client

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
)

// contract says, for one operationId, how to call its method with every
// input field set, and which Go types carry its JSON request body and its
// successful answer (nil: none, or not JSON).
type contract struct {
	call func(ctx context.Context, c *Client) error
	req  reflect.Type
	resp reflect.Type
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// contracts covers every operation; TestContractWithOpenAPI fails when one
// of openapi.yaml's is missing here, or one here is not in openapi.yaml.
func contracts() map[string]contract {
	return map[string]contract{
		"healthz": {func(ctx context.Context, c *Client) error { _, err := c.Healthz(ctx); return err }, nil, typeOf[Status]()},
		"readyz":  {func(ctx context.Context, c *Client) error { _, err := c.Readyz(ctx); return err }, nil, typeOf[Status]()},
		"metrics": {func(ctx context.Context, c *Client) error { _, err := c.Metrics(ctx); return err }, nil, nil},
		"createTenant": {func(ctx context.Context, c *Client) error {
			_, err := c.CreateTenant(ctx, CreateTenantInput{Name: "t"})
			return err
		}, typeOf[CreateTenantInput](), typeOf[CreateTenantOutput]()},
		"signup": {func(ctx context.Context, c *Client) error {
			_, err := c.Signup(ctx, CreateTenantInput{Name: "t"})
			return err
		}, typeOf[CreateTenantInput](), typeOf[CreateTenantOutput]()},
		"listAPIKeys": {func(ctx context.Context, c *Client) error { _, err := c.ListAPIKeys(ctx); return err }, nil, typeOf[ListAPIKeysOutput]()},
		"createAPIKey": {func(ctx context.Context, c *Client) error {
			_, err := c.CreateAPIKey(ctx, CreateAPIKeyInput{Description: "d"})
			return err
		}, typeOf[CreateAPIKeyInput](), typeOf[CreateAPIKeyOutput]()},
		"deleteAPIKey": {func(ctx context.Context, c *Client) error { return c.DeleteAPIKey(ctx, "k1") }, nil, nil},
		"createToken":  {func(ctx context.Context, c *Client) error { _, err := c.CreateToken(ctx); return err }, nil, typeOf[Token]()},
		"createHostedZone": {func(ctx context.Context, c *Client) error {
			_, err := c.CreateHostedZone(ctx, CreateHostedZoneInput{Name: "example.com", CallerReference: "r", Comment: "c", DelegationSetID: "N1"})
			return err
		}, typeOf[CreateHostedZoneInput](), typeOf[CreateHostedZoneOutput]()},
		"listHostedZones": {func(ctx context.Context, c *Client) error {
			_, err := c.ListHostedZones(ctx, &ListHostedZonesInput{Name: "a.", ZoneID: "z", MaxItems: 2})
			return err
		}, nil, typeOf[ListHostedZonesOutput]()},
		"getHostedZone": {func(ctx context.Context, c *Client) error { _, err := c.GetHostedZone(ctx, "z1"); return err }, nil, typeOf[HostedZoneOutput]()},
		"updateHostedZone": {func(ctx context.Context, c *Client) error {
			_, err := c.UpdateHostedZone(ctx, "z1", UpdateHostedZoneInput{Comment: "c"})
			return err
		}, typeOf[UpdateHostedZoneInput](), typeOf[HostedZoneOutput]()},
		"listTSIGKeys": {func(ctx context.Context, c *Client) error { _, err := c.ListTSIGKeys(ctx); return err }, nil, typeOf[TSIGKeysOutput]()},
		"createTSIGKey": {func(ctx context.Context, c *Client) error {
			_, err := c.CreateTSIGKey(ctx, CreateTSIGKeyInput{Name: "k.example.", Algorithm: "hmac-sha256"})
			return err
		}, typeOf[CreateTSIGKeyInput](), typeOf[TSIGKeyOutput]()},
		"deleteTSIGKey": {func(ctx context.Context, c *Client) error { return c.DeleteTSIGKey(ctx, "k.example.") }, nil, nil},
		"createQueryLoggingConfig": {func(ctx context.Context, c *Client) error {
			_, err := c.CreateQueryLoggingConfig(ctx, "z1")
			return err
		}, nil, typeOf[QueryLoggingConfigOutput]()},
		"getQueryLoggingConfig": {func(ctx context.Context, c *Client) error {
			_, err := c.GetQueryLoggingConfig(ctx, "z1")
			return err
		}, nil, typeOf[QueryLoggingConfigOutput]()},
		"deleteQueryLoggingConfig": {func(ctx context.Context, c *Client) error {
			_, err := c.DeleteQueryLoggingConfig(ctx, "z1")
			return err
		}, nil, typeOf[ChangeOutput]()},
		"getQueryLogs": {func(ctx context.Context, c *Client) error {
			return c.GetQueryLogs(ctx, "z1", &GetQueryLogsInput{Since: time.Unix(1e9, 0), Follow: true, Limit: 5},
				func(QueryLogEntry) error { return nil })
		}, nil, nil},
		"getTransfers":     {func(ctx context.Context, c *Client) error { _, err := c.GetTransfers(ctx, "z1"); return err }, nil, typeOf[TransfersOutput]()},
		"refreshSecondary": {func(ctx context.Context, c *Client) error { _, err := c.RefreshSecondary(ctx, "z1"); return err }, nil, typeOf[HostedZoneOutput]()},
		"putTransfers": {func(ctx context.Context, c *Client) error {
			_, err := c.PutTransfers(ctx, "z1", TransferConfig{Allow: []TransferAllow{{TSIGKey: "k.example.", CIDRs: []string{"192.0.2.0/24"}}}})
			return err
		}, typeOf[TransferConfig](), typeOf[PutTransfersOutput]()},
		"createKeySigningKey": {func(ctx context.Context, c *Client) error {
			_, err := c.CreateKeySigningKey(ctx, "z1", CreateKeySigningKeyInput{Name: "k1", Status: "ACTIVE", CallerReference: "r"})
			return err
		}, typeOf[CreateKeySigningKeyInput](), typeOf[CreateKeySigningKeyOutput]()},
		"deleteKeySigningKey": {func(ctx context.Context, c *Client) error {
			_, err := c.DeleteKeySigningKey(ctx, "z1", "k1")
			return err
		}, nil, typeOf[ChangeOutput]()},
		"activateKeySigningKey": {func(ctx context.Context, c *Client) error {
			_, err := c.ActivateKeySigningKey(ctx, "z1", "k1")
			return err
		}, nil, typeOf[ChangeOutput]()},
		"deactivateKeySigningKey": {func(ctx context.Context, c *Client) error {
			_, err := c.DeactivateKeySigningKey(ctx, "z1", "k1")
			return err
		}, nil, typeOf[ChangeOutput]()},
		"getDNSSEC":        {func(ctx context.Context, c *Client) error { _, err := c.GetDNSSEC(ctx, "z1"); return err }, nil, typeOf[DNSSECOutput]()},
		"enableDNSSEC":     {func(ctx context.Context, c *Client) error { _, err := c.EnableDNSSEC(ctx, "z1"); return err }, nil, typeOf[ChangeOutput]()},
		"disableDNSSEC":    {func(ctx context.Context, c *Client) error { _, err := c.DisableDNSSEC(ctx, "z1"); return err }, nil, typeOf[ChangeOutput]()},
		"rollZSK":          {func(ctx context.Context, c *Client) error { _, err := c.RollZSK(ctx, "z1"); return err }, nil, typeOf[ChangeOutput]()},
		"deleteHostedZone": {func(ctx context.Context, c *Client) error { _, err := c.DeleteHostedZone(ctx, "z1"); return err }, nil, typeOf[ChangeOutput]()},
		"changeRRSets": {func(ctx context.Context, c *Client) error {
			_, err := c.ChangeRRSets(ctx, "z1", ChangeBatch{Comment: "c", Changes: []RRSetChange{{Action: ActionCreate,
				RRSet: RRSet{Name: "a.example.com", Type: "A", TTL: Ptr[int64](60), Records: []string{"192.0.2.1"}}}}})
			return err
		}, typeOf[ChangeBatch](), typeOf[ChangeOutput]()},
		"listRRSets": {func(ctx context.Context, c *Client) error {
			_, err := c.ListRRSets(ctx, "z1", &ListRRSetsInput{Name: "a.", Type: "A", Identifier: "i", MaxItems: 2})
			return err
		}, nil, typeOf[ListRRSetsOutput]()},
		"testAnswer": {func(ctx context.Context, c *Client) error {
			_, err := c.TestAnswer(ctx, "z1", TestAnswerInput{Name: "a.", Type: "A", ClientIP: "192.0.2.1", ECS: "192.0.2.0/24"})
			return err
		}, nil, typeOf[TestAnswerOutput]()},
		"createCidrCollection": {func(ctx context.Context, c *Client) error {
			_, err := c.CreateCidrCollection(ctx, CreateCidrCollectionInput{Name: "n", CallerReference: "r"})
			return err
		}, typeOf[CreateCidrCollectionInput](), typeOf[CidrCollectionOutput]()},
		"listCidrCollections":  {func(ctx context.Context, c *Client) error { _, err := c.ListCidrCollections(ctx); return err }, nil, typeOf[ListCidrCollectionsOutput]()},
		"getCidrCollection":    {func(ctx context.Context, c *Client) error { _, err := c.GetCidrCollection(ctx, "c1"); return err }, nil, typeOf[CidrCollectionOutput]()},
		"deleteCidrCollection": {func(ctx context.Context, c *Client) error { return c.DeleteCidrCollection(ctx, "c1") }, nil, nil},
		"changeCidrCollection": {func(ctx context.Context, c *Client) error {
			_, err := c.ChangeCidrCollection(ctx, "c1", ChangeCidrCollectionInput{CollectionVersion: Ptr[int64](1),
				Changes: []CidrChange{{LocationName: "l", Action: CidrActionPut, CIDRList: []string{"192.0.2.0/24"}}}})
			return err
		}, typeOf[ChangeCidrCollectionInput](), typeOf[ChangeCidrCollectionOutput]()},
		"listCidrLocations": {func(ctx context.Context, c *Client) error { _, err := c.ListCidrLocations(ctx, "c1"); return err }, nil, typeOf[ListCidrLocationsOutput]()},
		"listCidrBlocks": {func(ctx context.Context, c *Client) error {
			_, err := c.ListCidrBlocks(ctx, "c1", &ListCidrBlocksInput{Location: "l"})
			return err
		}, nil, typeOf[ListCidrBlocksOutput]()},
		"exportZone": {func(ctx context.Context, c *Client) error { _, err := c.ExportZone(ctx, "z1"); return err }, nil, nil},
		"importZone": {func(ctx context.Context, c *Client) error {
			_, err := c.ImportZone(ctx, "z1", []byte("a 60 IN A 192.0.2.1\n"))
			return err
		}, nil, typeOf[ChangeOutput]()},
		"getChange": {func(ctx context.Context, c *Client) error {
			_, err := c.GetChange(ctx, "ch1", &GetChangeInput{Wait: true, Timeout: time.Second})
			return err
		}, nil, typeOf[GetChangeOutput]()},
		"createHealthCheck": {func(ctx context.Context, c *Client) error {
			_, err := c.CreateHealthCheck(ctx, CreateHealthCheckInput{CallerReference: "r", Config: HealthCheckConfig{Type: HealthCheckHTTP}})
			return err
		}, typeOf[CreateHealthCheckInput](), typeOf[HealthCheckOutput]()},
		"listHealthChecks": {func(ctx context.Context, c *Client) error {
			_, err := c.ListHealthChecks(ctx, &ListHealthChecksInput{Marker: "m", MaxItems: 2})
			return err
		}, nil, typeOf[ListHealthChecksOutput]()},
		"getHealthCheck": {func(ctx context.Context, c *Client) error { _, err := c.GetHealthCheck(ctx, "h1"); return err }, nil, typeOf[HealthCheckOutput]()},
		"updateHealthCheck": {func(ctx context.Context, c *Client) error {
			_, err := c.UpdateHealthCheck(ctx, "h1", UpdateHealthCheckInput{Version: Ptr[int64](1)})
			return err
		}, typeOf[UpdateHealthCheckInput](), typeOf[HealthCheckOutput]()},
		"deleteHealthCheck":    {func(ctx context.Context, c *Client) error { return c.DeleteHealthCheck(ctx, "h1") }, nil, nil},
		"getHealthCheckStatus": {func(ctx context.Context, c *Client) error { _, err := c.GetHealthCheckStatus(ctx, "h1"); return err }, nil, typeOf[HealthCheckStatusOutput]()},
		"getHealthCheckLastFailure": {func(ctx context.Context, c *Client) error {
			_, err := c.GetHealthCheckLastFailure(ctx, "h1")
			return err
		}, nil, typeOf[HealthCheckLastFailureOutput]()},
		"createAlarm": {func(ctx context.Context, c *Client) error {
			_, err := c.CreateAlarm(ctx, CreateAlarmInput{Name: "a", Metric: AlarmMetric{Namespace: "healthcheck", Name: "health_check_status", ResourceID: "h1"},
				Statistic: "Minimum", Period: 60, EvaluationPeriods: 1, Threshold: 1, Comparison: "LessThanThreshold",
				AlarmActions: []AlarmActionInput{{Webhook: Webhook{URL: "https://hooks.example.com/w", Secret: "s"}}}})
			return err
		}, typeOf[CreateAlarmInput](), typeOf[AlarmOutput]()},
		"listAlarms":  {func(ctx context.Context, c *Client) error { _, err := c.ListAlarms(ctx); return err }, nil, typeOf[AlarmsOutput]()},
		"getAlarm":    {func(ctx context.Context, c *Client) error { _, err := c.GetAlarm(ctx, "a1"); return err }, nil, typeOf[AlarmOutput]()},
		"deleteAlarm": {func(ctx context.Context, c *Client) error { return c.DeleteAlarm(ctx, "a1") }, nil, nil},
		"getZoneMetrics": {func(ctx context.Context, c *Client) error {
			_, err := c.GetZoneMetrics(ctx, "z1", MetricsInput{Metric: "dns_queries", Start: time.Unix(0, 0), End: time.Unix(3600, 0),
				Period: time.Minute, RCode: "NXDOMAIN", Region: "eu-west-1"})
			return err
		}, nil, typeOf[MetricSeries]()},
		"getHealthCheckMetrics": {func(ctx context.Context, c *Client) error {
			_, err := c.GetHealthCheckMetrics(ctx, "h1", MetricsInput{Metric: "connection_time", Start: time.Unix(0, 0), End: time.Unix(3600, 0),
				Period: time.Minute, Region: "eu-west-1"})
			return err
		}, nil, typeOf[MetricSeries]()},
		"getAlarmHistory": {func(ctx context.Context, c *Client) error { _, err := c.GetAlarmHistory(ctx, "a1"); return err }, nil, typeOf[AlarmHistoryOutput]()},
		"listAuditLog": {func(ctx context.Context, c *Client) error {
			_, err := c.ListAuditLog(ctx, &ListAuditLogInput{MaxItems: 2, NextToken: "t", Operation: "o", KeyID: "k",
				API: "v1", Target: "/v1", Result: "success", Since: time.Unix(1, 0), Until: time.Unix(2, 0)})
			return err
		}, nil, typeOf[AuditLogOutput]()},
		"getHealthCheckHistory": {func(ctx context.Context, c *Client) error {
			_, err := c.GetHealthCheckHistory(ctx, "h1", &GetHealthCheckHistoryInput{MaxItems: 2, Before: 7})
			return err
		}, nil, typeOf[HealthCheckHistoryOutput]()},
		"listZoneTags": {func(ctx context.Context, c *Client) error { _, err := c.ListZoneTags(ctx, "z1"); return err }, nil, typeOf[Tags]()},
		"changeZoneTags": {func(ctx context.Context, c *Client) error {
			_, err := c.ChangeZoneTags(ctx, "z1", TagChange{Add: []Tag{{Key: "k", Value: "v"}}, Remove: []string{"old"}})
			return err
		}, typeOf[TagChange](), typeOf[Tags]()},
		"listHealthCheckTags": {func(ctx context.Context, c *Client) error { _, err := c.ListHealthCheckTags(ctx, "h1"); return err }, nil, typeOf[Tags]()},
		"changeHealthCheckTags": {func(ctx context.Context, c *Client) error {
			_, err := c.ChangeHealthCheckTags(ctx, "h1", TagChange{Add: []Tag{{Key: "k", Value: "v"}}, Remove: []string{"old"}})
			return err
		}, typeOf[TagChange](), typeOf[Tags]()},
		"getNameserverSnapshot": {func(ctx context.Context, c *Client) error {
			_, err := c.GetNameserverSnapshot(ctx, &GetNameserverSnapshotInput{Serve: []string{"ns1.waymark.test."}})
			return err
		}, nil, typeOf[Snapshot]()},
		"createDelegationSet": {func(ctx context.Context, c *Client) error {
			_, err := c.CreateDelegationSet(ctx, CreateDelegationSetInput{CallerReference: "r", HostedZoneID: "Z1", VanityNames: []string{"ns1.example."}})
			return err
		}, typeOf[CreateDelegationSetInput](), typeOf[DelegationSetOutput]()},
		"listDelegationSets":  {func(ctx context.Context, c *Client) error { _, err := c.ListDelegationSets(ctx); return err }, nil, typeOf[ListDelegationSetsOutput]()},
		"getDelegationSet":    {func(ctx context.Context, c *Client) error { _, err := c.GetDelegationSet(ctx, "N1"); return err }, nil, typeOf[DelegationSetOutput]()},
		"deleteDelegationSet": {func(ctx context.Context, c *Client) error { return c.DeleteDelegationSet(ctx, "N1") }, nil, nil},
		"getNameserverZone":   {func(ctx context.Context, c *Client) error { _, err := c.GetNameserverZone(ctx, "z1"); return err }, nil, typeOf[ZoneState]()},
		"listNameservers":     {func(ctx context.Context, c *Client) error { _, err := c.ListNameservers(ctx); return err }, nil, typeOf[ListNameserversOutput]()},
		"checkDomainAvailability": {func(ctx context.Context, c *Client) error {
			_, err := c.CheckDomainAvailability(ctx, "a.test")
			return err
		}, nil, typeOf[Availability]()},
		"checkDomainTransferability": {func(ctx context.Context, c *Client) error {
			_, err := c.CheckDomainTransferability(ctx, "a.test")
			return err
		}, nil, typeOf[Transferability]()},
		"getDomainSuggestions": {func(ctx context.Context, c *Client) error {
			_, err := c.GetDomainSuggestions(ctx, GetDomainSuggestionsInput{Name: "a.test", Count: 3, AllAvailability: true})
			return err
		}, nil, typeOf[SuggestionsOutput]()},
		"listDomainPrices": {func(ctx context.Context, c *Client) error { _, err := c.ListDomainPrices(ctx, "test"); return err }, nil, typeOf[PricesOutput]()},
		"registerDomain": {func(ctx context.Context, c *Client) error {
			ct := &Contact{Name: "n", City: "c", CountryCode: "GB", Email: "e@example.com"}
			_, err := c.RegisterDomain(ctx, RegisterDomainInput{Name: "a.test", DurationInYears: 1, Contacts: Contacts{Registrant: ct},
				Privacy: Ptr(true), AutoRenew: Ptr(true), MaxPrice: 1, HostedZone: "create", CallerReference: "r",
				Nameservers: []DomainNameserver{{Name: "ns.a.test", GlueIPs: []string{"192.0.2.1"}}}})
			return err
		}, typeOf[RegisterDomainInput](), typeOf[OperationOutput]()},
		"listDomains": {func(ctx context.Context, c *Client) error {
			_, err := c.ListDomains(ctx, &ListDomainsInput{NamePrefix: "a", ExpiresBefore: time.Unix(2, 0), ExpiresAfter: time.Unix(1, 0),
				SortBy: "expiry", SortOrder: "DESC", Marker: "m", MaxItems: 2})
			return err
		}, nil, typeOf[ListDomainsOutput]()},
		"getDomain": {func(ctx context.Context, c *Client) error { _, err := c.GetDomain(ctx, "a.test"); return err }, nil, typeOf[DomainOutput]()},
		"updateDomain": {func(ctx context.Context, c *Client) error {
			_, err := c.UpdateDomain(ctx, "a.test", UpdateDomainInput{AutoRenew: Ptr(true), TransferLock: Ptr(false), Privacy: Ptr(true),
				Contacts: &Contacts{Tech: &Contact{Name: "n"}}, CallerReference: "r"})
			return err
		}, typeOf[UpdateDomainInput](), typeOf[UpdateDomainOutput]()},
		"deleteDomain": {func(ctx context.Context, c *Client) error { _, err := c.DeleteDomain(ctx, "a.test", "r"); return err }, nil, typeOf[OperationOutput]()},
		"updateDomainNameservers": {func(ctx context.Context, c *Client) error {
			_, err := c.UpdateDomainNameservers(ctx, "a.test", UpdateDomainNameserversInput{Nameservers: []DomainNameserver{{Name: "ns.example.net"}}, CallerReference: "r"})
			return err
		}, typeOf[UpdateDomainNameserversInput](), typeOf[OperationOutput]()},
		"renewDomain": {func(ctx context.Context, c *Client) error {
			_, err := c.RenewDomain(ctx, "a.test", RenewDomainInput{DurationInYears: 1, CurrentExpiryYear: 2027, CallerReference: "r"})
			return err
		}, typeOf[RenewDomainInput](), typeOf[OperationOutput]()},
		"restoreDomain": {func(ctx context.Context, c *Client) error {
			_, err := c.RestoreDomain(ctx, "a.test", CallerReferenceInput{CallerReference: "r"})
			return err
		}, typeOf[CallerReferenceInput](), typeOf[OperationOutput]()},
		"listDomainDS": {func(ctx context.Context, c *Client) error { _, err := c.ListDomainDS(ctx, "a.test"); return err }, nil, typeOf[DSListOutput]()},
		"addDomainDS": {func(ctx context.Context, c *Client) error {
			_, err := c.AddDomainDS(ctx, "a.test", AddDomainDSInput{Records: []DSInput{{KeyTag: Ptr(1), Algorithm: 13, DigestType: 2, Digest: "AB", Flags: 257, PublicKey: "k"}}, CallerReference: "r"})
			return err
		}, typeOf[AddDomainDSInput](), typeOf[AddDomainDSOutput]()},
		"removeDomainDS": {func(ctx context.Context, c *Client) error {
			_, err := c.RemoveDomainDS(ctx, "a.test", "ds-1", "r")
			return err
		}, nil, typeOf[OperationOutput]()},
		"getDomainAuthCode": {func(ctx context.Context, c *Client) error { _, err := c.GetDomainAuthCode(ctx, "a.test"); return err }, nil, typeOf[AuthCodeOutput]()},
		"rotateDomainAuthCode": {func(ctx context.Context, c *Client) error {
			_, err := c.RotateDomainAuthCode(ctx, "a.test")
			return err
		}, nil, typeOf[AuthCodeOutput]()},
		"listOperations": {func(ctx context.Context, c *Client) error {
			_, err := c.ListOperations(ctx, &ListOperationsInput{Statuses: []string{"SUCCESSFUL"}, Types: []string{"RENEW_DOMAIN"}, Domain: "a.test",
				SubmittedSince: time.Unix(1, 0), SortOrder: "ASC", Marker: "m", MaxItems: 2})
			return err
		}, nil, typeOf[ListOperationsOutput]()},
		"getOperation": {func(ctx context.Context, c *Client) error {
			_, err := c.GetOperation(ctx, "op-1", &GetOperationInput{Wait: true, Timeout: time.Second})
			return err
		}, nil, typeOf[OperationOutput]()},
		"listExternalTLDs": {func(ctx context.Context, c *Client) error { _, err := c.ListExternalTLDs(ctx); return err }, nil, typeOf[ExternalTLDsOutput]()},
		"getExternalTLD":   {func(ctx context.Context, c *Client) error { _, err := c.GetExternalTLD(ctx, "ext"); return err }, nil, typeOf[ExternalTLDOutput]()},
		"putExternalTLD": {func(ctx context.Context, c *Client) error {
			_, err := c.PutExternalTLD(ctx, "ext", PutExternalTLDInput{EPPAddress: Ptr("epp.example:700"), Password: "secret1", Prices: &TLDPrices{Registration: Ptr[int64](1)}})
			return err
		}, typeOf[PutExternalTLDInput](), typeOf[ExternalTLDOutput]()},
		"deleteExternalTLD": {func(ctx context.Context, c *Client) error { return c.DeleteExternalTLD(ctx, "ext") }, nil, nil},
		"listRegistryTLDs":  {func(ctx context.Context, c *Client) error { _, err := c.ListRegistryTLDs(ctx); return err }, nil, typeOf[RegistryTLDsOutput]()},
		"getRegistryTLD":    {func(ctx context.Context, c *Client) error { _, err := c.GetRegistryTLD(ctx, "test"); return err }, nil, typeOf[RegistryTLDOutput]()},
		"putRegistryTLD": {func(ctx context.Context, c *Client) error {
			_, err := c.PutRegistryTLD(ctx, "test", PutRegistryTLDInput{Prices: &TLDPrices{Registration: Ptr[int64](1)}, Policy: &TLDPolicy{NegativeTTL: Ptr[int64](30)}})
			return err
		}, typeOf[PutRegistryTLDInput](), typeOf[RegistryTLDOutput]()},
		"listRegistryNames": {func(ctx context.Context, c *Client) error { _, err := c.ListRegistryNames(ctx, "test"); return err }, nil, typeOf[NameRulesOutput]()},
		"putRegistryName": {func(ctx context.Context, c *Client) error {
			_, err := c.PutRegistryName(ctx, "test", "gold", PutNameRuleInput{Kind: "premium", Price: 1})
			return err
		}, typeOf[PutNameRuleInput](), typeOf[NameRuleOutput]()},
		"getRegistryClock": {func(ctx context.Context, c *Client) error { _, err := c.GetRegistryClock(ctx); return err }, nil, typeOf[RegistryClock]()},
		"advanceRegistryClock": {func(ctx context.Context, c *Client) error {
			_, err := c.AdvanceRegistryClock(ctx, time.Hour)
			return err
		}, typeOf[RegistryClockAdvance](), typeOf[RegistryClock]()},
		"deleteRegistryName": {func(ctx context.Context, c *Client) error { return c.DeleteRegistryName(ctx, "test", "gold") }, nil, nil},
	}
}

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile("../openapi.yaml")
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	return doc
}

// specOp is an operation of openapi.yaml.
type specOp struct {
	method, path string
	op           *openapi3.Operation
	item         *openapi3.PathItem
}

func specOps(doc *openapi3.T) map[string]specOp {
	out := map[string]specOp{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			out[op.OperationID] = specOp{method: method, path: path, op: op, item: item}
		}
	}
	return out
}

// recorded is what the recording server saw of one request.
type recorded struct {
	method, path string
	query        []string
	body         []byte
	contentType  string
}

// TestContractWithOpenAPI checks the SDK against openapi.yaml: the same
// operations with the same methods and paths; a Client method named after
// each operationId, which sends that method and path and no query
// parameter or body field the operation does not have (and all of them,
// given every input field); and request and response types whose JSON
// fields are the schemas' properties, recursively.
func TestContractWithOpenAPI(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	spec := specOps(doc)
	table := map[string]operation{}
	for _, o := range operations() {
		if _, dup := table[o.ID]; dup {
			t.Errorf("operation %s twice in operations()", o.ID)
		}
		table[o.ID] = o
	}
	cs := contracts()
	maps.Copy(cs, domainTransferContracts())
	for id, s := range spec {
		o, ok := table[id]
		switch {
		case !ok:
			t.Errorf("openapi.yaml has %s (%s %s); the SDK does not", id, s.method, s.path)
		case o.Method != s.method || o.Path != s.path:
			t.Errorf("%s: SDK has %s %s, openapi.yaml %s %s", id, o.Method, o.Path, s.method, s.path)
		}
		if _, ok := reflect.TypeFor[*Client]().MethodByName(exported(id)); !ok {
			t.Errorf("%s: no method Client.%s", id, exported(id))
		}
		if _, ok := cs[id]; !ok {
			t.Errorf("%s: no contract in contracts()", id)
		}
	}
	for id := range table {
		if _, ok := spec[id]; !ok {
			t.Errorf("the SDK has %s; openapi.yaml does not", id)
		}
	}

	var mu sync.Mutex
	var last recorded
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var q []string
		for k := range r.URL.Query() {
			q = append(q, k)
		}
		sort.Strings(q)
		mu.Lock()
		last = recorded{method: r.Method, path: r.URL.EscapedPath(), query: q, body: b, contentType: r.Header.Get("Content-Type")}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, WithToken("tok"))
	if err != nil {
		t.Fatal(err)
	}
	for id, k := range cs {
		s, ok := spec[id]
		if !ok {
			t.Errorf("contracts() has %s; openapi.yaml does not", id)
			continue
		}
		t.Run(id, func(t *testing.T) {
			if err := k.call(context.Background(), c); err != nil {
				t.Fatalf("call: %v", err)
			}
			mu.Lock()
			got := last
			mu.Unlock()
			if got.method != s.method || !pathPattern(s.path).MatchString(got.path) {
				t.Errorf("sent %s %s, want %s %s", got.method, got.path, s.method, s.path)
			}
			var params []string
			for _, p := range append(slices.Clone(s.item.Parameters), s.op.Parameters...) {
				if p.Value.In == "query" {
					params = append(params, p.Value.Name)
				}
			}
			sort.Strings(params)
			if !slices.Equal(got.query, params) {
				t.Errorf("sent query parameters %v, openapi.yaml has %v", got.query, params)
			}
			checkRequestBody(t, s.op, k.req, got)
			checkResponse(t, s.op, k.resp)
		})
	}
}

// exported is the method name of an operationId: its first letter upper.
func exported(id string) string {
	r := []rune(id)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// pathPattern matches the paths of a template, each {param} one segment.
func pathPattern(tmpl string) *regexp.Regexp {
	parts := regexp.MustCompile(`\{[^}]+\}`).Split(tmpl, -1)
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + strings.Join(parts, "[^/]+") + "$")
}

func checkRequestBody(t *testing.T, op *openapi3.Operation, typ reflect.Type, got recorded) {
	t.Helper()
	if op.RequestBody == nil {
		if len(got.body) > 0 {
			t.Errorf("sent a body %s; the operation has none", got.body)
		}
		if typ != nil {
			t.Errorf("request type %v; the operation has no body", typ)
		}
		return
	}
	content := op.RequestBody.Value.Content
	if mt := content.Get("application/json"); mt != nil {
		if typ == nil {
			t.Fatalf("no request type for a JSON body")
		}
		if !strings.HasPrefix(got.contentType, "application/json") {
			t.Errorf("sent Content-Type %q", got.contentType)
		}
		compareSchema(t, "request", mt.Schema.Value, typ, true)
		var sent map[string]any
		if err := json.Unmarshal(got.body, &sent); err != nil {
			t.Fatalf("sent body %s: %v", got.body, err)
		}
		for k := range sent {
			if _, ok := mt.Schema.Value.Properties[k]; !ok {
				t.Errorf("sent field %q; the schema has no such property", k)
			}
		}
		return
	}
	if content.Get(got.contentType) == nil {
		t.Errorf("sent Content-Type %q; the operation takes %v", got.contentType, mapKeys(content))
	}
}

func checkResponse(t *testing.T, op *openapi3.Operation, typ reflect.Type) {
	t.Helper()
	var schemas []*openapi3.Schema
	for code, r := range op.Responses.Map() {
		if !strings.HasPrefix(code, "2") {
			continue
		}
		if mt := r.Value.Content.Get("application/json"); mt != nil {
			schemas = append(schemas, mt.Schema.Value)
		}
	}
	if len(schemas) == 0 {
		if typ != nil {
			t.Errorf("response type %v; the operation has no JSON answer", typ)
		}
		return
	}
	if typ == nil {
		t.Fatalf("no response type for a JSON answer")
	}
	for _, s := range schemas {
		compareSchema(t, "response", s, typ, false)
	}
}

func mapKeys[M ~map[string]V, V any](m M) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var timeType = reflect.TypeFor[time.Time]()

// compareSchema checks that typ carries schema s: an object's properties
// are the struct's JSON fields (embedded structs flattened), arrays are
// slices, maps carry additionalProperties, and scalars have a matching
// kind. In a request, a required property must not be omitempty.
func compareSchema(t *testing.T, at string, s *openapi3.Schema, typ reflect.Type, request bool) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch {
	case s.Type.Is("object") && s.AdditionalProperties.Schema != nil:
		if typ.Kind() != reflect.Map {
			t.Errorf("%s: %v for a map", at, typ)
			return
		}
		compareSchema(t, at+"[]", s.AdditionalProperties.Schema.Value, typ.Elem(), request)
	case s.Type.Is("object"):
		if typ.Kind() != reflect.Struct {
			t.Errorf("%s: %v for an object", at, typ)
			return
		}
		fields := jsonFields(typ)
		for name, p := range s.Properties {
			f, ok := fields[name]
			if !ok {
				t.Errorf("%s: %v lacks property %q", at, typ, name)
				continue
			}
			compareSchema(t, at+"."+name, p.Value, f.typ, request)
		}
		for name := range fields {
			if _, ok := s.Properties[name]; !ok {
				t.Errorf("%s: %v has field %q that the schema lacks", at, typ, name)
			}
		}
		if request {
			for _, name := range s.Required {
				if f, ok := fields[name]; ok && f.omitempty {
					t.Errorf("%s: required property %q of %v is omitempty", at, name, typ)
				}
			}
		}
	case s.Type.Is("array"):
		if typ.Kind() != reflect.Slice {
			t.Errorf("%s: %v for an array", at, typ)
			return
		}
		compareSchema(t, at+"[]", s.Items.Value, typ.Elem(), request)
	case s.Type.Is("string"):
		if s.Format == "date-time" {
			if typ != timeType {
				t.Errorf("%s: %v for a date-time", at, typ)
			}
		} else if typ.Kind() != reflect.String {
			t.Errorf("%s: %v for a string", at, typ)
		}
	case s.Type.Is("integer"):
		switch typ.Kind() {
		case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint32, reflect.Uint64:
		default:
			t.Errorf("%s: %v for an integer", at, typ)
		}
	case s.Type.Is("number"):
		if k := typ.Kind(); k != reflect.Float64 && k != reflect.Float32 {
			t.Errorf("%s: %v for a number", at, typ)
		}
	case s.Type.Is("boolean"):
		if typ.Kind() != reflect.Bool {
			t.Errorf("%s: %v for a boolean", at, typ)
		}
	default:
		t.Errorf("%s: schema type %v not handled", at, s.Type)
	}
}

type jsonField struct {
	typ       reflect.Type
	omitempty bool
}

// jsonFields returns a struct's JSON fields, promoting those of embedded
// structs as encoding/json does.
func jsonFields(typ reflect.Type) map[string]jsonField {
	out := map[string]jsonField{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := f.Tag.Get("json")
		if f.Anonymous && tag == "" {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		out[name] = jsonField{typ: f.Type, omitempty: strings.Contains(opts, "omitempty")}
	}
	return out
}

// TestErrorCodesAreTheAPIs: every Code… constant of errors.go is a value
// of openapi.yaml's ErrorCode enum, so a renamed code cannot go unnoticed.
func TestErrorCodesAreTheAPIs(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	enum := map[string]bool{}
	for _, v := range doc.Components.Schemas["ErrorCode"].Value.Enum {
		enum[v.(string)] = true
	}
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Code") {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Errorf("%s is not a string literal", name.Name)
					continue
				}
				v, _ := strconv.Unquote(lit.Value)
				if !enum[v] || name.Name != "Code"+v {
					t.Errorf("%s = %q: not ErrorCode %s of openapi.yaml", name.Name, v, strings.TrimPrefix(name.Name, "Code"))
				}
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("no Code constants found")
	}
}
