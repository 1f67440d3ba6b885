package route53domains

// opFunc runs an operation and returns its response body.
type opFunc func(h *Handler, c *call) (any, error)

// operation is one row of the operation table.
type operation struct {
	name string
	run  opFunc // nil: an operation of the model Waymark does not offer
	// mutating operations (and RetrieveDomainAuthCode, which hands out a
	// secret) are written to the audit log.
	mutating bool
}

// operations is the operation table: every operation of Route 53
// Domains' model. Those with a nil run are answered UnsupportedOperation;
// docs/route53domains.md lists the same table with each status.
var operations = []operation{
	// Availability, prices.
	{name: "CheckDomainAvailability", run: checkDomainAvailability},
	{name: "CheckDomainTransferability"},
	{name: "GetDomainSuggestions"},
	{name: "ListPrices"},

	// Registration and the domain's life.
	{name: "RegisterDomain", run: registerDomain, mutating: true},
	{name: "RenewDomain", run: renewDomain, mutating: true},
	{name: "DeleteDomain", mutating: true},
	{name: "GetDomainDetail"},
	{name: "ListDomains"},

	// Operations.
	{name: "GetOperationDetail", run: getOperationDetail},
	{name: "ListOperations", run: listOperations},
	{name: "ResendOperationAuthorization", mutating: true},

	// Settings of a domain.
	{name: "UpdateDomainNameservers", mutating: true},
	{name: "UpdateDomainContact", mutating: true},
	{name: "UpdateDomainContactPrivacy", mutating: true},
	{name: "EnableDomainAutoRenew", mutating: true},
	{name: "DisableDomainAutoRenew", mutating: true},
	{name: "EnableDomainTransferLock", mutating: true},
	{name: "DisableDomainTransferLock", mutating: true},
	{name: "RetrieveDomainAuthCode", mutating: true},
	{name: "GetContactReachabilityStatus"},
	{name: "ResendContactReachabilityEmail", mutating: true},

	// DNSSEC at the registry.
	{name: "AssociateDelegationSignerToDomain", mutating: true},
	{name: "DisassociateDelegationSignerFromDomain", mutating: true},

	// Transfers.
	{name: "TransferDomain", mutating: true},
	{name: "TransferDomainToAnotherAwsAccount", mutating: true},
	{name: "AcceptDomainTransferFromAnotherAwsAccount", mutating: true},
	{name: "RejectDomainTransferFromAnotherAwsAccount", mutating: true},
	{name: "CancelDomainTransferToAnotherAwsAccount", mutating: true},
	{name: "PushDomain", mutating: true},

	// Tags and billing.
	{name: "ListTagsForDomain"},
	{name: "UpdateTagsForDomain", mutating: true},
	{name: "DeleteTagsForDomain", mutating: true},
	{name: "ViewBilling"},
}

var byName = func() map[string]operation {
	m := make(map[string]operation, len(operations))
	for _, op := range operations {
		m[op.name] = op
	}
	return m
}()

// lookup finds an operation by its X-Amz-Target name.
func lookup(name string) (operation, bool) {
	op, ok := byName[name]
	return op, ok
}
