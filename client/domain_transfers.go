package client

import (
	"context"
	"net/url"
	"time"
)

// Domain transfers and registrant verification (docs/registrar.md,
// "Transfers" and "Registrant verification").
var (
	opTransferDomainIn          = operation{"transferDomainIn", "POST", "/v1/domains/transfers"}
	opListDomainTransfers       = operation{"listDomainTransfers", "GET", "/v1/domains/transfers"}
	opTransferDomainToAccount   = operation{"transferDomainToAccount", "POST", "/v1/domains/{name}/transfer"}
	opAcceptDomainTransfer      = operation{"acceptDomainTransfer", "POST", "/v1/domains/{name}/transfer/accept"}
	opRejectDomainTransfer      = operation{"rejectDomainTransfer", "POST", "/v1/domains/{name}/transfer/reject"}
	opCancelDomainTransfer      = operation{"cancelDomainTransfer", "POST", "/v1/domains/{name}/transfer/cancel"}
	opGetContactVerification    = operation{"getContactVerification", "GET", "/v1/domains/{name}/contact-verification"}
	opResendContactVerification = operation{"resendContactVerification", "POST", "/v1/domains/{name}/contact-verification/resend"}
	opVerifyContact             = operation{"verifyContact", "POST", "/v1/contact-verification"}
)

func domainTransferOperations() []operation {
	return []operation{opTransferDomainIn, opListDomainTransfers, opTransferDomainToAccount, opAcceptDomainTransfer,
		opRejectDomainTransfer, opCancelDomainTransfer, opGetContactVerification, opResendContactVerification, opVerifyContact}
}

// Directions of a PendingTransfer.
const (
	TransferInFromRegistrar = "IN_FROM_REGISTRAR"
	TransferOutToRegistrar  = "OUT_TO_REGISTRAR"
	TransferOutToAccount    = "OUT_TO_ACCOUNT"
	TransferInFromAccount   = "IN_FROM_ACCOUNT"
)

// Verification statuses of ContactVerification.
const (
	VerificationPending = "PENDING"
	VerificationDone    = "DONE"
	VerificationExpired = "EXPIRED"
)

// TransferDomainInInput transfers a domain in from another registrar.
type TransferDomainInInput struct {
	Name     string `json:"name"`
	AuthCode string `json:"auth_code"`
	// DurationInYears is added to the expiry when the transfer completes
	// (default 1).
	DurationInYears int      `json:"duration_in_years,omitempty"`
	Contacts        Contacts `json:"contacts"`
	Privacy         *bool    `json:"privacy,omitempty"`
	AutoRenew       *bool    `json:"auto_renew,omitempty"`
	CallerReference string   `json:"caller_reference,omitempty"`
}

// PendingTransfer is a transfer waiting for an answer that involves the
// account. OperationID is the account's own operation for it, if any.
type PendingTransfer struct {
	Domain           string    `json:"domain"`
	Direction        string    `json:"direction"`
	OperationID      string    `json:"operation_id,omitempty"`
	FromAccount      string    `json:"from_account,omitempty"`
	ToAccount        string    `json:"to_account,omitempty"`
	GainingRegistrar string    `json:"gaining_registrar,omitempty"`
	LosingRegistrar  string    `json:"losing_registrar,omitempty"`
	RequestedAt      time.Time `json:"requested_at"`
	ActBy            time.Time `json:"act_by"`
}

// TransferList is the answer of ListDomainTransfers.
type TransferList struct {
	Transfers []PendingTransfer `json:"transfers"`
}

// TransferDomainToAccountInput offers a domain to another account.
type TransferDomainToAccountInput struct {
	ToAccount       string `json:"to_account"`
	CallerReference string `json:"caller_reference,omitempty"`
}

// TransferOfferOutput is the offer's operation and the password the
// receiving account accepts with (in the first answer only).
type TransferOfferOutput struct {
	Operation Operation `json:"operation"`
	Password  string    `json:"password,omitempty"`
}

// AcceptDomainTransferInput accepts a transfer; Password is required for
// an offer from another account.
type AcceptDomainTransferInput struct {
	Password        string `json:"password,omitempty"`
	CallerReference string `json:"caller_reference,omitempty"`
}

// ContactVerification says whether a domain's registrant verified their
// email address.
type ContactVerification struct {
	Domain string     `json:"domain"`
	Email  string     `json:"email,omitempty"`
	Status string     `json:"status"`
	DueAt  *time.Time `json:"due_at,omitempty"`
}

// VerifyContactInput carries the token of a verification mail.
type VerifyContactInput struct {
	Token string `json:"token"`
}

// ContactVerified is the verified address and the domains whose hold the
// verification lifted.
type ContactVerified struct {
	Email           string   `json:"email"`
	ReleasedDomains []string `json:"released_domains"`
}

// TransferDomainIn asks for the transfer of a domain from another
// registrar, with its auth code; the operation stays IN_PROGRESS until the
// transfer is approved (SUCCESSFUL) or refused (FAILED).
func (c *Client) TransferDomainIn(ctx context.Context, in TransferDomainInInput) (*OperationOutput, error) {
	if in.CallerReference == "" {
		in.CallerReference = callerReference()
	}
	return callOut[OperationOutput](ctx, c, request{op: opTransferDomainIn, body: in})
}

// ListDomainTransfers lists the pending transfers that involve the
// account; domain "" lists all.
func (c *Client) ListDomainTransfers(ctx context.Context, domain string) (*TransferList, error) {
	return callOut[TransferList](ctx, c, request{op: opListDomainTransfers, query: url.Values(query{}.str("domain", domain))})
}

// TransferDomainToAccount offers a domain to another account.
func (c *Client) TransferDomainToAccount(ctx context.Context, name string, in TransferDomainToAccountInput) (*TransferOfferOutput, error) {
	return callOut[TransferOfferOutput](ctx, c, request{op: opTransferDomainToAccount, pathArgs: []string{name}, body: in})
}

// AcceptDomainTransfer accepts an offer from another account (with its
// password) or approves a transfer to another registrar.
func (c *Client) AcceptDomainTransfer(ctx context.Context, name string, in AcceptDomainTransferInput) (*OperationOutput, error) {
	return callOut[OperationOutput](ctx, c, request{op: opAcceptDomainTransfer, pathArgs: []string{name}, body: in})
}

// RejectDomainTransfer rejects an offer from another account or a
// transfer to another registrar.
func (c *Client) RejectDomainTransfer(ctx context.Context, name string, in CallerReferenceInput) (*OperationOutput, error) {
	return callOut[OperationOutput](ctx, c, request{op: opRejectDomainTransfer, pathArgs: []string{name}, body: in})
}

// CancelDomainTransfer withdraws an offer to another account or a
// transfer in still pending.
func (c *Client) CancelDomainTransfer(ctx context.Context, name string, in CallerReferenceInput) (*OperationOutput, error) {
	return callOut[OperationOutput](ctx, c, request{op: opCancelDomainTransfer, pathArgs: []string{name}, body: in})
}

// GetContactVerification says whether the domain's registrant verified
// their email address.
func (c *Client) GetContactVerification(ctx context.Context, name string) (*ContactVerification, error) {
	return callOut[ContactVerification](ctx, c, request{op: opGetContactVerification, pathArgs: []string{name}})
}

// ResendContactVerification mails the registrant a new token.
func (c *Client) ResendContactVerification(ctx context.Context, name string) (*ContactVerification, error) {
	return callOut[ContactVerification](ctx, c, request{op: opResendContactVerification, pathArgs: []string{name}})
}

// VerifyContact verifies a registrant address with the mailed token.
func (c *Client) VerifyContact(ctx context.Context, in VerifyContactInput) (*ContactVerified, error) {
	return callOut[ContactVerified](ctx, c, request{op: opVerifyContact, body: in})
}
