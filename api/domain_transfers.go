package api

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/registrar"
)

// Domain transfers and registrant verification under /v1 (docs/registrar.md,
// "Transfers" and "Registrant verification"); each handler calls one
// method of registrar.Service (registrar/transfer.go,
// registrar/transfer_pending.go, registrar/lifecycle_verify.go).

// DomainTransferService is the part of RegistrarService these routes
// need beyond route53domains.Registrar.
type DomainTransferService interface {
	PendingTransfers(ctx context.Context, tenantID, name string) ([]registrar.PendingTransfer, error)
	VerifyContact(ctx context.Context, token string) (registrar.Verified, error)
}

var _ DomainTransferService = (*registrar.Service)(nil)

type transferInRequest struct {
	Name            string                 `json:"name"`
	AuthCode        string                 `json:"auth_code"`
	DurationInYears int                    `json:"duration_in_years"`
	Contacts        map[string]contactJSON `json:"contacts"`
	Privacy         *bool                  `json:"privacy"`
	AutoRenew       *bool                  `json:"auto_renew"`
	CallerReference string                 `json:"caller_reference"`
}

type pendingTransferJSON struct {
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

type listTransfersResponse struct {
	Transfers []pendingTransferJSON `json:"transfers"`
}

type transferToAccountRequest struct {
	ToAccount       string `json:"to_account"`
	CallerReference string `json:"caller_reference"`
}

type transferOfferResponse struct {
	Operation operationJSON `json:"operation"`
	// Password is what the receiving account accepts with; shown in the
	// first answer only (a repeated caller_reference answers without it).
	Password string `json:"password,omitempty"`
}

type acceptTransferRequest struct {
	Password        string `json:"password"`
	CallerReference string `json:"caller_reference"`
}

type reachabilityJSON struct {
	Domain string     `json:"domain"`
	Email  string     `json:"email,omitempty"`
	Status string     `json:"status"`
	DueAt  *time.Time `json:"due_at,omitempty"`
}

type verifyContactRequest struct {
	Token string `json:"token"`
}

type verifiedJSON struct {
	Email           string   `json:"email"`
	ReleasedDomains []string `json:"released_domains"`
}

// maxSecret bounds auth codes, passwords and tokens in requests.
const maxSecret = 1024

// transferIn is POST /v1/domains/transfers: a transfer in from another
// registrar, with the domain's auth code.
func (h *handler) transferIn(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	var req transferInRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Name == "" {
		return &controlplane.Error{Code: controlplane.CodeInvalidInput, Message: "name is required",
			Details: []controlplane.Detail{{Field: "name", Message: "is required"}}}
	}
	if req.AuthCode == "" || len(req.AuthCode) > maxSecret {
		return &controlplane.Error{Code: controlplane.CodeInvalidInput, Message: "auth_code is required (at most 1024 characters)",
			Details: []controlplane.Detail{{Field: "auth_code", Message: "is required"}}}
	}
	if req.DurationInYears < 0 || req.DurationInYears > 10 {
		return invalidInput("duration_in_years must be 1 to 10")
	}
	op, err := rs.TransferIn(r.Context(), tenantID(r), registrar.TransferInInput{
		Name: req.Name, AuthCode: req.AuthCode, Years: req.DurationInYears,
		AutoRenew: req.AutoRenew == nil || *req.AutoRenew, Privacy: req.Privacy == nil || *req.Privacy,
		Contacts: contactsIn(req.Contacts), CallerReference: req.CallerReference,
	})
	if err != nil {
		return err
	}
	h.writeOperation(w, op)
	return nil
}

// listTransfers is GET /v1/domains/transfers?domain=: the pending
// transfers that involve the tenant.
func (h *handler) listTransfers(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	list, err := rs.PendingTransfers(r.Context(), tenantID(r), r.URL.Query().Get("domain"))
	if err != nil {
		return err
	}
	out := listTransfersResponse{Transfers: make([]pendingTransferJSON, 0, len(list))}
	for _, p := range list {
		out.Transfers = append(out.Transfers, pendingTransferJSON{Domain: p.Domain, Direction: p.Direction, OperationID: p.OperationID,
			FromAccount: p.FromAccount, ToAccount: p.ToAccount, GainingRegistrar: p.GainingRegistrar, LosingRegistrar: p.LosingRegistrar,
			RequestedAt: p.RequestedAt.UTC(), ActBy: p.ActBy.UTC()})
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// transferToAccount is POST /v1/domains/{name}/transfer: an offer of the
// domain to another account (Route 53's TransferDomainToAnotherAwsAccount).
func (h *handler) transferToAccount(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	var req transferToAccountRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	if req.ToAccount == "" || len(req.ToAccount) > 255 {
		return &controlplane.Error{Code: controlplane.CodeInvalidInput, Message: "to_account (the receiving tenant's id) is required",
			Details: []controlplane.Detail{{Field: "to_account", Message: "is required"}}}
	}
	offer, err := rs.TransferToTenant(r.Context(), tenantID(r), chi.URLParam(r, "name"), req.ToAccount, req.CallerReference)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/operations/"+url.PathEscape(offer.Operation.ID))
	h.writeJSON(w, http.StatusAccepted, transferOfferResponse{Operation: toOperationJSON(offer.Operation), Password: offer.Password})
	return nil
}

// acceptTransfer is POST /v1/domains/{name}/transfer/accept: the receiving
// account accepts an offer with its password, or the owner approves a
// transfer to another registrar (no password).
func (h *handler) acceptTransfer(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	var req acceptTransferRequest
	if r.ContentLength != 0 || r.Header.Get("Content-Type") != "" {
		if err := h.decodeJSON(r, &req); err != nil {
			return err
		}
	}
	if len(req.Password) > maxSecret {
		return invalidInput("password is at most 1024 characters")
	}
	op, err := rs.AcceptTransfer(r.Context(), tenantID(r), chi.URLParam(r, "name"), req.Password, req.CallerReference)
	if err != nil {
		return err
	}
	h.writeOperation(w, op)
	return nil
}

// transferAnswer is POST /v1/domains/{name}/transfer/reject and …/cancel.
func (h *handler) transferAnswer(fn func(rs RegistrarService, ctx context.Context, tenantID, name, ref string) (registrar.Operation, error)) func(http.ResponseWriter, *http.Request, RegistrarService) error {
	return func(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
		ref, err := h.optionalRef(r)
		if err != nil {
			return err
		}
		op, err := fn(rs, r.Context(), tenantID(r), chi.URLParam(r, "name"), ref)
		if err != nil {
			return err
		}
		h.writeOperation(w, op)
		return nil
	}
}

func toReachabilityJSON(x registrar.Reachability) reachabilityJSON {
	out := reachabilityJSON{Domain: x.Domain, Email: x.Email, Status: x.Status}
	if x.DueAt != nil {
		t := x.DueAt.UTC()
		out.DueAt = &t
	}
	return out
}

// contactVerification is GET /v1/domains/{name}/contact-verification:
// whether the registrant verified their address (Route 53's
// GetContactReachabilityStatus).
func (h *handler) contactVerification(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	x, err := rs.ContactReachability(r.Context(), tenantID(r), chi.URLParam(r, "name"))
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, toReachabilityJSON(x))
	return nil
}

// resendVerification is POST /v1/domains/{name}/contact-verification/resend
// (Route 53's ResendContactReachabilityEmail): a new token by mail, the
// deadline unchanged; nothing for an address already verified.
func (h *handler) resendVerification(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	x, err := rs.ResendVerification(r.Context(), tenantID(r), chi.URLParam(r, "name"))
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, toReachabilityJSON(x))
	return nil
}

// verifyContact is POST /v1/contact-verification {"token": …}: the token a
// verification mail carries; lifts the holds lateness put on domains.
func (h *handler) verifyContact(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	var req verifyContactRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Token == "" || len(req.Token) > maxSecret {
		return &controlplane.Error{Code: controlplane.CodeInvalidInput, Message: "token is required",
			Details: []controlplane.Detail{{Field: "token", Message: "is required"}}}
	}
	v, err := rs.VerifyContact(r.Context(), req.Token)
	if err != nil {
		return err
	}
	out := verifiedJSON{Email: v.Email, ReleasedDomains: v.Released}
	if out.ReleasedDomains == nil {
		out.ReleasedDomains = []string{}
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}
