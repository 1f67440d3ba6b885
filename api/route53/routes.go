package route53

// operations is the route table: every Route 53 operation, in the model's
// paths below Prefix. Those with a nil run are answered InvalidAction
// ("not supported"), the way AWS answers an operation a service does not
// offer; docs/route53.md lists the same table with each status. Order
// matters only where a literal segment and {} could both match; literal
// rows come first.
var operations = []operation{
	// Hosted zones.
	{name: "CreateHostedZone", method: "POST", pattern: "/hostedzone", run: createHostedZone},
	{name: "ListHostedZones", method: "GET", pattern: "/hostedzone", run: listHostedZones},
	{name: "GetHostedZone", method: "GET", pattern: "/hostedzone/{}", run: getHostedZone},
	{name: "UpdateHostedZoneComment", method: "POST", pattern: "/hostedzone/{}", run: updateHostedZoneComment},
	{name: "DeleteHostedZone", method: "DELETE", pattern: "/hostedzone/{}", run: deleteHostedZone},
	{name: "ListHostedZonesByName", method: "GET", pattern: "/hostedzonesbyname", run: listHostedZonesByName},
	{name: "GetHostedZoneCount", method: "GET", pattern: "/hostedzonecount", run: getHostedZoneCount},
	{name: "GetHostedZoneLimit", method: "GET", pattern: "/hostedzonelimit/{}/{}", run: getHostedZoneLimit},
	{name: "GetAccountLimit", method: "GET", pattern: "/accountlimit/{}", run: getAccountLimit},
	{name: "ListHostedZonesByVPC", method: "GET", pattern: "/hostedzonesbyvpc"},
	{name: "UpdateHostedZoneFeatures", method: "POST", pattern: "/hostedzone/{}/features"},
	{name: "AssociateVPCWithHostedZone", method: "POST", pattern: "/hostedzone/{}/associatevpc"},
	{name: "DisassociateVPCFromHostedZone", method: "POST", pattern: "/hostedzone/{}/disassociatevpc"},
	{name: "CreateVPCAssociationAuthorization", method: "POST", pattern: "/hostedzone/{}/authorizevpcassociation"},
	{name: "ListVPCAssociationAuthorizations", method: "GET", pattern: "/hostedzone/{}/authorizevpcassociation"},
	{name: "DeleteVPCAssociationAuthorization", method: "POST", pattern: "/hostedzone/{}/deauthorizevpcassociation"},

	// Record sets and changes.
	{name: "ChangeResourceRecordSets", method: "POST", pattern: "/hostedzone/{}/rrset", run: changeResourceRecordSets},
	{name: "ListResourceRecordSets", method: "GET", pattern: "/hostedzone/{}/rrset", run: listResourceRecordSets},
	{name: "GetChange", method: "GET", pattern: "/change/{}", run: getChange},
	{name: "TestDNSAnswer", method: "GET", pattern: "/testdnsanswer", run: testDNSAnswer},
	{name: "GetGeoLocation", method: "GET", pattern: "/geolocation", run: getGeoLocation},
	{name: "ListGeoLocations", method: "GET", pattern: "/geolocations", run: listGeoLocations},

	// Health checks.
	{name: "CreateHealthCheck", method: "POST", pattern: "/healthcheck", run: createHealthCheck},
	{name: "ListHealthChecks", method: "GET", pattern: "/healthcheck", run: listHealthChecks},
	{name: "GetHealthCheck", method: "GET", pattern: "/healthcheck/{}", run: getHealthCheck},
	{name: "UpdateHealthCheck", method: "POST", pattern: "/healthcheck/{}", run: updateHealthCheck},
	{name: "DeleteHealthCheck", method: "DELETE", pattern: "/healthcheck/{}", run: deleteHealthCheck},
	{name: "GetHealthCheckStatus", method: "GET", pattern: "/healthcheck/{}/status", run: getHealthCheckStatus},
	{name: "GetHealthCheckLastFailureReason", method: "GET", pattern: "/healthcheck/{}/lastfailurereason", run: getHealthCheckLastFailureReason},
	{name: "GetHealthCheckCount", method: "GET", pattern: "/healthcheckcount", run: getHealthCheckCount},
	{name: "GetCheckerIpRanges", method: "GET", pattern: "/checkeripranges", run: getCheckerIPRanges, public: true},

	// Reusable delegation sets.
	{name: "CreateReusableDelegationSet", method: "POST", pattern: "/delegationset", run: createReusableDelegationSet},
	{name: "ListReusableDelegationSets", method: "GET", pattern: "/delegationset", run: listReusableDelegationSets},
	{name: "GetReusableDelegationSet", method: "GET", pattern: "/delegationset/{}", run: getReusableDelegationSet},
	{name: "DeleteReusableDelegationSet", method: "DELETE", pattern: "/delegationset/{}", run: deleteReusableDelegationSet},
	{name: "GetReusableDelegationSetLimit", method: "GET", pattern: "/reusabledelegationsetlimit/{}/{}"},

	// DNSSEC.
	{name: "CreateKeySigningKey", method: "POST", pattern: "/keysigningkey", run: createKeySigningKey},
	{name: "ActivateKeySigningKey", method: "POST", pattern: "/keysigningkey/{}/{}/activate", run: activateKeySigningKey},
	{name: "DeactivateKeySigningKey", method: "POST", pattern: "/keysigningkey/{}/{}/deactivate", run: deactivateKeySigningKey},
	{name: "DeleteKeySigningKey", method: "DELETE", pattern: "/keysigningkey/{}/{}", run: deleteKeySigningKey},
	{name: "EnableHostedZoneDNSSEC", method: "POST", pattern: "/hostedzone/{}/enable-dnssec", run: enableDNSSEC},
	{name: "DisableHostedZoneDNSSEC", method: "POST", pattern: "/hostedzone/{}/disable-dnssec", run: disableDNSSEC},
	{name: "GetDNSSEC", method: "GET", pattern: "/hostedzone/{}/dnssec", run: getDNSSEC},

	// Tags.
	{name: "ChangeTagsForResource", method: "POST", pattern: "/tags/{}/{}", run: changeTagsForResource},
	{name: "ListTagsForResource", method: "GET", pattern: "/tags/{}/{}", run: listTagsForResource},
	{name: "ListTagsForResources", method: "POST", pattern: "/tags/{}", run: listTagsForResources},

	// Query logging.
	{name: "CreateQueryLoggingConfig", method: "POST", pattern: "/queryloggingconfig"},
	{name: "ListQueryLoggingConfigs", method: "GET", pattern: "/queryloggingconfig"},
	{name: "GetQueryLoggingConfig", method: "GET", pattern: "/queryloggingconfig/{}"},
	{name: "DeleteQueryLoggingConfig", method: "DELETE", pattern: "/queryloggingconfig/{}"},

	// CIDR collections.
	{name: "CreateCidrCollection", method: "POST", pattern: "/cidrcollection", run: createCidrCollection},
	{name: "ListCidrCollections", method: "GET", pattern: "/cidrcollection", run: listCidrCollections},
	{name: "ChangeCidrCollection", method: "POST", pattern: "/cidrcollection/{}", run: changeCidrCollection},
	{name: "ListCidrLocations", method: "GET", pattern: "/cidrcollection/{}", run: listCidrLocations},
	{name: "DeleteCidrCollection", method: "DELETE", pattern: "/cidrcollection/{}", run: deleteCidrCollection},
	{name: "ListCidrBlocks", method: "GET", pattern: "/cidrcollection/{}/cidrblocks", run: listCidrBlocks},

	// Traffic policies.
	{name: "CreateTrafficPolicy", method: "POST", pattern: "/trafficpolicy"},
	{name: "CreateTrafficPolicyVersion", method: "POST", pattern: "/trafficpolicy/{}"},
	{name: "GetTrafficPolicy", method: "GET", pattern: "/trafficpolicy/{}/{}"},
	{name: "UpdateTrafficPolicyComment", method: "POST", pattern: "/trafficpolicy/{}/{}"},
	{name: "DeleteTrafficPolicy", method: "DELETE", pattern: "/trafficpolicy/{}/{}"},
	{name: "ListTrafficPolicies", method: "GET", pattern: "/trafficpolicies"},
	{name: "ListTrafficPolicyVersions", method: "GET", pattern: "/trafficpolicies/{}/versions"},
	{name: "CreateTrafficPolicyInstance", method: "POST", pattern: "/trafficpolicyinstance"},
	{name: "GetTrafficPolicyInstance", method: "GET", pattern: "/trafficpolicyinstance/{}"},
	{name: "UpdateTrafficPolicyInstance", method: "POST", pattern: "/trafficpolicyinstance/{}"},
	{name: "DeleteTrafficPolicyInstance", method: "DELETE", pattern: "/trafficpolicyinstance/{}"},
	{name: "ListTrafficPolicyInstances", method: "GET", pattern: "/trafficpolicyinstances"},
	{name: "ListTrafficPolicyInstancesByHostedZone", method: "GET", pattern: "/trafficpolicyinstances/hostedzone"},
	{name: "ListTrafficPolicyInstancesByPolicy", method: "GET", pattern: "/trafficpolicyinstances/trafficpolicy"},
	{name: "GetTrafficPolicyInstanceCount", method: "GET", pattern: "/trafficpolicyinstancecount"},
}
