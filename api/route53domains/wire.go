package route53domains

// The JSON shapes of the service model (botocore route53domains
// 2014-05-15), member names as on the wire. Optional members are pointers
// or omitempty, so that what a client did not send is told apart from a
// zero value where the model gives a default.

// contactDetail is ContactDetail.
type contactDetail struct {
	FirstName        string       `json:"FirstName,omitempty"`
	LastName         string       `json:"LastName,omitempty"`
	ContactType      string       `json:"ContactType,omitempty"`
	OrganizationName string       `json:"OrganizationName,omitempty"`
	AddressLine1     string       `json:"AddressLine1,omitempty"`
	AddressLine2     string       `json:"AddressLine2,omitempty"`
	City             string       `json:"City,omitempty"`
	State            string       `json:"State,omitempty"`
	CountryCode      string       `json:"CountryCode,omitempty"`
	ZipCode          string       `json:"ZipCode,omitempty"`
	PhoneNumber      string       `json:"PhoneNumber,omitempty"`
	Email            string       `json:"Email,omitempty"`
	Fax              string       `json:"Fax,omitempty"`
	ExtraParams      []extraParam `json:"ExtraParams,omitempty"`
}

type extraParam struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

type checkDomainAvailabilityInput struct {
	DomainName  string `json:"DomainName"`
	IdnLangCode string `json:"IdnLangCode"`
}

type checkDomainAvailabilityOutput struct {
	Availability string `json:"Availability"`
}

type registerDomainInput struct {
	DomainName                      string         `json:"DomainName"`
	IdnLangCode                     string         `json:"IdnLangCode"`
	DurationInYears                 *int           `json:"DurationInYears"`
	AutoRenew                       *bool          `json:"AutoRenew"`
	AdminContact                    *contactDetail `json:"AdminContact"`
	RegistrantContact               *contactDetail `json:"RegistrantContact"`
	TechContact                     *contactDetail `json:"TechContact"`
	BillingContact                  *contactDetail `json:"BillingContact"`
	PrivacyProtectAdminContact      *bool          `json:"PrivacyProtectAdminContact"`
	PrivacyProtectRegistrantContact *bool          `json:"PrivacyProtectRegistrantContact"`
	PrivacyProtectTechContact       *bool          `json:"PrivacyProtectTechContact"`
	PrivacyProtectBillingContact    *bool          `json:"PrivacyProtectBillingContact"`
}

// operationIDOutput is the output of every asynchronous operation.
type operationIDOutput struct {
	OperationId string `json:"OperationId"`
}

type getOperationDetailInput struct {
	OperationId string `json:"OperationId"`
}

type getOperationDetailOutput struct {
	OperationId     string `json:"OperationId"`
	Status          string `json:"Status"`
	Message         string `json:"Message,omitempty"`
	DomainName      string `json:"DomainName"`
	Type            string `json:"Type"`
	SubmittedDate   epoch  `json:"SubmittedDate"`
	LastUpdatedDate epoch  `json:"LastUpdatedDate"`
	StatusFlag      string `json:"StatusFlag,omitempty"`
}

type listOperationsInput struct {
	SubmittedSince *epoch   `json:"SubmittedSince"`
	Marker         string   `json:"Marker"`
	MaxItems       *int     `json:"MaxItems"`
	Status         []string `json:"Status"`
	Type           []string `json:"Type"`
	SortBy         string   `json:"SortBy"`
	SortOrder      string   `json:"SortOrder"`
}

// operationSummary is OperationSummary.
type operationSummary struct {
	OperationId     string `json:"OperationId"`
	Status          string `json:"Status"`
	Type            string `json:"Type"`
	SubmittedDate   epoch  `json:"SubmittedDate"`
	DomainName      string `json:"DomainName"`
	Message         string `json:"Message,omitempty"`
	StatusFlag      string `json:"StatusFlag,omitempty"`
	LastUpdatedDate epoch  `json:"LastUpdatedDate"`
}

type listOperationsOutput struct {
	Operations     []operationSummary `json:"Operations"`
	NextPageMarker string             `json:"NextPageMarker,omitempty"`
}

type renewDomainInput struct {
	DomainName        string `json:"DomainName"`
	DurationInYears   *int   `json:"DurationInYears"`
	CurrentExpiryYear *int   `json:"CurrentExpiryYear"`
}

// nameserver is Nameserver.
type nameserver struct {
	Name    string   `json:"Name"`
	GlueIps []string `json:"GlueIps,omitempty"`
}

// domainInput is the input of the operations on one domain that take
// nothing else (GetDomainDetail, DeleteDomain, Enable/Disable…,
// RetrieveDomainAuthCode, Reject/CancelDomainTransfer…).
type domainInput struct {
	DomainName string `json:"DomainName"`
}

type checkDomainTransferabilityInput struct {
	DomainName string `json:"DomainName"`
	AuthCode   string `json:"AuthCode"`
}

type domainTransferability struct {
	Transferable string `json:"Transferable"`
}

type checkDomainTransferabilityOutput struct {
	Transferability domainTransferability `json:"Transferability"`
	Message         string                `json:"Message,omitempty"`
}

type getDomainSuggestionsInput struct {
	DomainName      string `json:"DomainName"`
	SuggestionCount *int   `json:"SuggestionCount"`
	OnlyAvailable   *bool  `json:"OnlyAvailable"`
}

type domainSuggestion struct {
	DomainName   string `json:"DomainName"`
	Availability string `json:"Availability"`
}

type getDomainSuggestionsOutput struct {
	SuggestionsList []domainSuggestion `json:"SuggestionsList"`
}

type listPricesInput struct {
	Tld      string `json:"Tld"`
	Marker   string `json:"Marker"`
	MaxItems *int   `json:"MaxItems"`
}

type priceWithCurrency struct {
	Price    float64 `json:"Price"`
	Currency string  `json:"Currency"`
}

type domainPrice struct {
	Name                 string             `json:"Name"`
	RegistrationPrice    *priceWithCurrency `json:"RegistrationPrice,omitempty"`
	TransferPrice        *priceWithCurrency `json:"TransferPrice,omitempty"`
	RenewalPrice         *priceWithCurrency `json:"RenewalPrice,omitempty"`
	ChangeOwnershipPrice *priceWithCurrency `json:"ChangeOwnershipPrice,omitempty"`
	RestorationPrice     *priceWithCurrency `json:"RestorationPrice,omitempty"`
}

type listPricesOutput struct {
	Prices         []domainPrice `json:"Prices"`
	NextPageMarker string        `json:"NextPageMarker,omitempty"`
}

type dnssecKey struct {
	Algorithm  int    `json:"Algorithm"`
	Flags      int    `json:"Flags,omitempty"`
	PublicKey  string `json:"PublicKey,omitempty"`
	DigestType int    `json:"DigestType"`
	Digest     string `json:"Digest"`
	KeyTag     int    `json:"KeyTag"`
	Id         string `json:"Id"`
}

type getDomainDetailOutput struct {
	DomainName        string         `json:"DomainName"`
	Nameservers       []nameserver   `json:"Nameservers"`
	AutoRenew         bool           `json:"AutoRenew"`
	AdminContact      *contactDetail `json:"AdminContact,omitempty"`
	RegistrantContact *contactDetail `json:"RegistrantContact,omitempty"`
	TechContact       *contactDetail `json:"TechContact,omitempty"`
	BillingContact    *contactDetail `json:"BillingContact,omitempty"`
	AdminPrivacy      bool           `json:"AdminPrivacy"`
	RegistrantPrivacy bool           `json:"RegistrantPrivacy"`
	TechPrivacy       bool           `json:"TechPrivacy"`
	BillingPrivacy    bool           `json:"BillingPrivacy"`
	RegistrarName     string         `json:"RegistrarName,omitempty"`
	RegistryDomainId  string         `json:"RegistryDomainId,omitempty"`
	CreationDate      epoch          `json:"CreationDate"`
	UpdatedDate       epoch          `json:"UpdatedDate"`
	ExpirationDate    epoch          `json:"ExpirationDate"`
	DnsSec            string         `json:"DnsSec"`
	StatusList        []string       `json:"StatusList"`
	DnssecKeys        []dnssecKey    `json:"DnssecKeys"`
}

type filterCondition struct {
	Name     string   `json:"Name"`
	Operator string   `json:"Operator"`
	Values   []string `json:"Values"`
}

type sortCondition struct {
	Name      string `json:"Name"`
	SortOrder string `json:"SortOrder"`
}

type listDomainsInput struct {
	FilterConditions []filterCondition `json:"FilterConditions"`
	SortCondition    *sortCondition    `json:"SortCondition"`
	Marker           string            `json:"Marker"`
	MaxItems         *int              `json:"MaxItems"`
}

type domainSummary struct {
	DomainName   string `json:"DomainName"`
	AutoRenew    bool   `json:"AutoRenew"`
	TransferLock bool   `json:"TransferLock"`
	Expiry       epoch  `json:"Expiry"`
}

type listDomainsOutput struct {
	Domains        []domainSummary `json:"Domains"`
	NextPageMarker string          `json:"NextPageMarker,omitempty"`
}

type updateDomainNameserversInput struct {
	DomainName  string       `json:"DomainName"`
	FIAuthKey   string       `json:"FIAuthKey"`
	Nameservers []nameserver `json:"Nameservers"`
}

type consent struct {
	MaxPrice float64 `json:"MaxPrice"`
	Currency string  `json:"Currency"`
}

type updateDomainContactInput struct {
	DomainName        string         `json:"DomainName"`
	AdminContact      *contactDetail `json:"AdminContact"`
	RegistrantContact *contactDetail `json:"RegistrantContact"`
	TechContact       *contactDetail `json:"TechContact"`
	BillingContact    *contactDetail `json:"BillingContact"`
	Consent           *consent       `json:"Consent"`
}

type updateDomainContactPrivacyInput struct {
	DomainName        string `json:"DomainName"`
	AdminPrivacy      *bool  `json:"AdminPrivacy"`
	RegistrantPrivacy *bool  `json:"RegistrantPrivacy"`
	TechPrivacy       *bool  `json:"TechPrivacy"`
	BillingPrivacy    *bool  `json:"BillingPrivacy"`
}

type retrieveDomainAuthCodeOutput struct {
	AuthCode string `json:"AuthCode"`
}

type signingAttributes struct {
	Algorithm *int   `json:"Algorithm"`
	Flags     *int   `json:"Flags"`
	PublicKey string `json:"PublicKey"`
}

type associateDelegationSignerInput struct {
	DomainName        string             `json:"DomainName"`
	SigningAttributes *signingAttributes `json:"SigningAttributes"`
}

type disassociateDelegationSignerInput struct {
	DomainName string `json:"DomainName"`
	Id         string `json:"Id"`
}

type transferDomainInput struct {
	registerDomainInput
	Nameservers []nameserver `json:"Nameservers"`
	AuthCode    string       `json:"AuthCode"`
}

type transferToAccountInput struct {
	DomainName string `json:"DomainName"`
	AccountId  string `json:"AccountId"`
}

type transferToAccountOutput struct {
	OperationId string `json:"OperationId"`
	Password    string `json:"Password"`
}

type acceptTransferInput struct {
	DomainName string `json:"DomainName"`
	Password   string `json:"Password"`
}

// reachabilityInput: these two operations' member is domainName, in lower
// camel case, as in the model.
type reachabilityInput struct {
	DomainName string `json:"domainName"`
}

type getContactReachabilityStatusOutput struct {
	DomainName string `json:"domainName"`
	Status     string `json:"status"`
}

type resendContactReachabilityEmailOutput struct {
	DomainName        string `json:"domainName"`
	EmailAddress      string `json:"emailAddress"`
	IsAlreadyVerified bool   `json:"isAlreadyVerified"`
}
