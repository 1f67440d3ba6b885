package client

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// operation is one operation of openapi.yaml: its operationId, method and
// path template. The table below is the SDK's only copy of the routes; a
// test checks it against openapi.yaml in both directions, and every
// Client method named after an operationId must use its entry.
type operation struct {
	ID     string
	Method string
	Path   string
}

// url returns base followed by the path with its {parameters} replaced by
// args, path-escaped, in order. An empty argument is an error: it would
// name another resource (or the collection).
func (o operation) url(base string, args []string) (string, error) {
	var sb strings.Builder
	sb.WriteString(base)
	rest, i := o.Path, 0
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			sb.WriteString(rest)
			break
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return "", fmt.Errorf("waymark: bad path template %s", o.Path)
		}
		name := rest[open+1 : open+end]
		if i >= len(args) || args[i] == "" {
			return "", fmt.Errorf("waymark: %s: %s is required", o.ID, name)
		}
		sb.WriteString(rest[:open])
		sb.WriteString(url.PathEscape(args[i]))
		rest, i = rest[open+end+1:], i+1
	}
	if i != len(args) {
		return "", fmt.Errorf("waymark: %s: %d path arguments for %s", o.ID, len(args), o.Path)
	}
	return sb.String(), nil
}

// The operations, in openapi.yaml's order.
var (
	opHealthz = operation{"healthz", "GET", "/healthz"}
	opReadyz  = operation{"readyz", "GET", "/readyz"}
	opMetrics = operation{"metrics", "GET", "/metrics"}

	opCreateTenant = operation{"createTenant", "POST", "/v1/tenants"}
	opSignup       = operation{"signup", "POST", "/v1/signup"}
	opListAPIKeys  = operation{"listAPIKeys", "GET", "/v1/apikeys"}
	opCreateAPIKey = operation{"createAPIKey", "POST", "/v1/apikeys"}
	opDeleteAPIKey = operation{"deleteAPIKey", "DELETE", "/v1/apikeys/{id}"}
	opCreateToken  = operation{"createToken", "POST", "/v1/tokens"}

	opCreateDelegationSet = operation{"createDelegationSet", "POST", "/v1/delegationsets"}
	opListDelegationSets  = operation{"listDelegationSets", "GET", "/v1/delegationsets"}
	opGetDelegationSet    = operation{"getDelegationSet", "GET", "/v1/delegationsets/{id}"}
	opDeleteDelegationSet = operation{"deleteDelegationSet", "DELETE", "/v1/delegationsets/{id}"}

	opCreateHostedZone = operation{"createHostedZone", "POST", "/v1/hostedzones"}
	opListHostedZones  = operation{"listHostedZones", "GET", "/v1/hostedzones"}
	opGetHostedZone    = operation{"getHostedZone", "GET", "/v1/hostedzones/{id}"}
	opUpdateHostedZone = operation{"updateHostedZone", "PATCH", "/v1/hostedzones/{id}"}
	opDeleteHostedZone = operation{"deleteHostedZone", "DELETE", "/v1/hostedzones/{id}"}
	opChangeRRSets     = operation{"changeRRSets", "POST", "/v1/hostedzones/{id}/rrsets/changes"}
	opListRRSets       = operation{"listRRSets", "GET", "/v1/hostedzones/{id}/rrsets"}
	opTestAnswer       = operation{"testAnswer", "GET", "/v1/hostedzones/{id}/test-answer"}

	opCreateCidrCollection = operation{"createCidrCollection", "POST", "/v1/cidrcollections"}
	opListCidrCollections  = operation{"listCidrCollections", "GET", "/v1/cidrcollections"}
	opGetCidrCollection    = operation{"getCidrCollection", "GET", "/v1/cidrcollections/{id}"}
	opDeleteCidrCollection = operation{"deleteCidrCollection", "DELETE", "/v1/cidrcollections/{id}"}
	opChangeCidrCollection = operation{"changeCidrCollection", "POST", "/v1/cidrcollections/{id}/changes"}
	opListCidrLocations    = operation{"listCidrLocations", "GET", "/v1/cidrcollections/{id}/locations"}
	opListCidrBlocks       = operation{"listCidrBlocks", "GET", "/v1/cidrcollections/{id}/blocks"}

	opExportZone = operation{"exportZone", "GET", "/v1/hostedzones/{id}/export"}
	opImportZone = operation{"importZone", "POST", "/v1/hostedzones/{id}/import"}
	opGetChange  = operation{"getChange", "GET", "/v1/changes/{id}"}

	opCreateHealthCheck         = operation{"createHealthCheck", "POST", "/v1/healthchecks"}
	opListHealthChecks          = operation{"listHealthChecks", "GET", "/v1/healthchecks"}
	opGetHealthCheck            = operation{"getHealthCheck", "GET", "/v1/healthchecks/{id}"}
	opUpdateHealthCheck         = operation{"updateHealthCheck", "PATCH", "/v1/healthchecks/{id}"}
	opDeleteHealthCheck         = operation{"deleteHealthCheck", "DELETE", "/v1/healthchecks/{id}"}
	opGetHealthCheckStatus      = operation{"getHealthCheckStatus", "GET", "/v1/healthchecks/{id}/status"}
	opGetHealthCheckLastFailure = operation{"getHealthCheckLastFailure", "GET", "/v1/healthchecks/{id}/last-failure"}
	opGetHealthCheckHistory     = operation{"getHealthCheckHistory", "GET", "/v1/healthchecks/{id}/history"}
	opListAuditLog              = operation{"listAuditLog", "GET", "/v1/auditlog"}

	opListZoneTags          = operation{"listZoneTags", "GET", "/v1/hostedzones/{id}/tags"}
	opChangeZoneTags        = operation{"changeZoneTags", "POST", "/v1/hostedzones/{id}/tags"}
	opListHealthCheckTags   = operation{"listHealthCheckTags", "GET", "/v1/healthchecks/{id}/tags"}
	opChangeHealthCheckTags = operation{"changeHealthCheckTags", "POST", "/v1/healthchecks/{id}/tags"}

	opGetNameserverSnapshot = operation{"getNameserverSnapshot", "GET", "/v1/nameserver/snapshot"}
	opGetNameserverZone     = operation{"getNameserverZone", "GET", "/v1/nameserver/zones/{id}"}
	opListNameservers       = operation{"listNameservers", "GET", "/v1/nameservers"}
)

// operations lists every operation, for the contract test.
func operations() []operation {
	return append([]operation{
		opHealthz, opReadyz, opMetrics,
		opCreateTenant, opSignup, opListAPIKeys, opCreateAPIKey, opDeleteAPIKey, opCreateToken,
		opCreateDelegationSet, opListDelegationSets, opGetDelegationSet, opDeleteDelegationSet,
		opCreateHostedZone, opListHostedZones, opGetHostedZone, opUpdateHostedZone, opDeleteHostedZone,
		opChangeRRSets, opListRRSets, opTestAnswer,
		opCreateCidrCollection, opListCidrCollections, opGetCidrCollection, opDeleteCidrCollection,
		opChangeCidrCollection, opListCidrLocations, opListCidrBlocks,
		opExportZone, opImportZone, opGetChange,
		opCreateHealthCheck, opListHealthChecks, opGetHealthCheck, opUpdateHealthCheck, opDeleteHealthCheck,
		opGetHealthCheckStatus, opGetHealthCheckLastFailure, opGetHealthCheckHistory,
		opListZoneTags, opChangeZoneTags, opListHealthCheckTags, opChangeHealthCheckTags,
		opGetNameserverSnapshot, opGetNameserverZone, opListNameservers,
		opListAuditLog,
	}, slices.Concat(dnssecOperations(), transferOperations(), alarmOperations(), queryLogOperations(), metricOperations(), domainOperations(), domainTransferOperations())...)
}
