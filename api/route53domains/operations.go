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
	{name: "CheckDomainTransferability", run: checkDomainTransferability},
	{name: "GetDomainSuggestions", run: getDomainSuggestions},
	{name: "ListPrices", run: listPrices},

	// Registration and the domain's life.
	{name: "RegisterDomain", run: registerDomain, mutating: true},
	{name: "RenewDomain", run: renewDomain, mutating: true},
	{name: "DeleteDomain", run: deleteDomain, mutating: true},
	{name: "GetDomainDetail", run: getDomainDetail},
	{name: "ListDomains", run: listDomains},

	// Operations.
	{name: "GetOperationDetail", run: getOperationDetail},
	{name: "ListOperations", run: listOperations},
	{name: "ResendOperationAuthorization", mutating: true},

	// Settings of a domain.
	{name: "UpdateDomainNameservers", run: updateDomainNameservers, mutating: true},
	{name: "UpdateDomainContact", run: updateDomainContact, mutating: true},
	{name: "UpdateDomainContactPrivacy", run: updateDomainContactPrivacy, mutating: true},
	{name: "EnableDomainAutoRenew", run: setAutoRenew(true), mutating: true},
	{name: "DisableDomainAutoRenew", run: setAutoRenew(false), mutating: true},
	{name: "EnableDomainTransferLock", run: setTransferLock(true), mutating: true},
	{name: "DisableDomainTransferLock", run: setTransferLock(false), mutating: true},
	{name: "RetrieveDomainAuthCode", run: retrieveDomainAuthCode, mutating: true},
	{name: "GetContactReachabilityStatus", run: getContactReachabilityStatus},
	{name: "ResendContactReachabilityEmail", run: resendContactReachabilityEmail, mutating: true},

	// DNSSEC at the registry.
	{name: "AssociateDelegationSignerToDomain", run: associateDelegationSigner, mutating: true},
	{name: "DisassociateDelegationSignerFromDomain", run: disassociateDelegationSigner, mutating: true},

	// Transfers.
	{name: "TransferDomain", run: transferDomain, mutating: true},
	{name: "TransferDomainToAnotherAwsAccount", run: transferDomainToAnotherAccount, mutating: true},
	{name: "AcceptDomainTransferFromAnotherAwsAccount", run: acceptDomainTransfer, mutating: true},
	{name: "RejectDomainTransferFromAnotherAwsAccount", run: rejectDomainTransfer, mutating: true},
	{name: "CancelDomainTransferToAnotherAwsAccount", run: cancelDomainTransfer, mutating: true},
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
