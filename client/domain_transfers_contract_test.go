package client

import "context"

// domainTransferContracts are the contracts of client/domain_transfers.go.
func domainTransferContracts() map[string]contract {
	yes := true
	return map[string]contract{
		"transferDomainIn": {func(ctx context.Context, c *Client) error {
			_, err := c.TransferDomainIn(ctx, TransferDomainInInput{Name: "a.test", AuthCode: "code", DurationInYears: 1,
				Contacts: Contacts{Registrant: &Contact{Name: "n", Organization: "o", Street: []string{"s"}, City: "c", State: "st",
					PostalCode: "p", CountryCode: "GB", Voice: "+44.1", Fax: "+44.2", Email: "e@example.com"}},
				Privacy: &yes, AutoRenew: &yes, CallerReference: "r"})
			return err
		}, typeOf[TransferDomainInInput](), typeOf[OperationOutput]()},
		"listDomainTransfers": {func(ctx context.Context, c *Client) error {
			_, err := c.ListDomainTransfers(ctx, "a.test")
			return err
		}, nil, typeOf[TransferList]()},
		"transferDomainToAccount": {func(ctx context.Context, c *Client) error {
			_, err := c.TransferDomainToAccount(ctx, "a.test", TransferDomainToAccountInput{ToAccount: "t2", CallerReference: "r"})
			return err
		}, typeOf[TransferDomainToAccountInput](), typeOf[TransferOfferOutput]()},
		"acceptDomainTransfer": {func(ctx context.Context, c *Client) error {
			_, err := c.AcceptDomainTransfer(ctx, "a.test", AcceptDomainTransferInput{Password: "pw", CallerReference: "r"})
			return err
		}, typeOf[AcceptDomainTransferInput](), typeOf[OperationOutput]()},
		"rejectDomainTransfer": {func(ctx context.Context, c *Client) error {
			_, err := c.RejectDomainTransfer(ctx, "a.test", CallerReferenceInput{CallerReference: "r"})
			return err
		}, typeOf[CallerReferenceInput](), typeOf[OperationOutput]()},
		"cancelDomainTransfer": {func(ctx context.Context, c *Client) error {
			_, err := c.CancelDomainTransfer(ctx, "a.test", CallerReferenceInput{CallerReference: "r"})
			return err
		}, typeOf[CallerReferenceInput](), typeOf[OperationOutput]()},
		"getContactVerification": {func(ctx context.Context, c *Client) error {
			_, err := c.GetContactVerification(ctx, "a.test")
			return err
		}, nil, typeOf[ContactVerification]()},
		"resendContactVerification": {func(ctx context.Context, c *Client) error {
			_, err := c.ResendContactVerification(ctx, "a.test")
			return err
		}, nil, typeOf[ContactVerification]()},
		"verifyContact": {func(ctx context.Context, c *Client) error {
			_, err := c.VerifyContact(ctx, VerifyContactInput{Token: "tok"})
			return err
		}, typeOf[VerifyContactInput](), typeOf[ContactVerified]()},
	}
}
