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
