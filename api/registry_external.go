package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/registrar"
)

// The operator's external registries, /v1/registry/external/{tld}: TLDs
// run by another registry, sold through the registrar's EPP client. The
// password and the client key go in and never come out.

type externalTLDJSON struct {
	TLD           string     `json:"tld"`
	EPPAddress    string     `json:"epp_address"`
	ClientID      string     `json:"client_id"`
	ClientCertPEM string     `json:"client_cert_pem"`
	CAPEM         string     `json:"ca_pem"`
	Prices        pricesJSON `json:"prices"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

func toExternalTLDJSON(t registrar.ExternalTLD) externalTLDJSON {
	return externalTLDJSON{TLD: t.TLD, EPPAddress: t.EPPAddress, ClientID: t.ClientID, ClientCertPEM: t.ClientCertPEM, CAPEM: t.CAPEM,
		Prices: toPricesJSON(t.Prices), CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC()}
}

type externalTLDResponse struct {
	External externalTLDJSON `json:"external"`
}

type listExternalTLDsResponse struct {
	External []externalTLDJSON `json:"external"`
}

// putExternalTLDRequest: fields left out keep their value; password and
// client_key_pem are required when the TLD is new.
type putExternalTLDRequest struct {
	EPPAddress    *string       `json:"epp_address"`
	ClientID      *string       `json:"client_id"`
	Password      string        `json:"password"`
	ClientCertPEM *string       `json:"client_cert_pem"`
	ClientKeyPEM  string        `json:"client_key_pem"`
	CAPEM         *string       `json:"ca_pem"`
	Prices        putPricesJSON `json:"prices"`
}

// listExternalTLDs is GET /v1/registry/external.
func (h *handler) listExternalTLDs(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	list, err := rs.ExternalTLDs(r.Context())
	if err != nil {
		return err
	}
	out := listExternalTLDsResponse{External: make([]externalTLDJSON, 0, len(list))}
	for _, t := range list {
		out.External = append(out.External, toExternalTLDJSON(t))
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// getExternalTLD is GET /v1/registry/external/{tld}.
func (h *handler) getExternalTLD(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	t, err := rs.ExternalTLDByName(r.Context(), chi.URLParam(r, "tld"))
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, externalTLDResponse{External: toExternalTLDJSON(t)})
	return nil
}

// putExternalTLD is PUT /v1/registry/external/{tld}: 201 when created.
func (h *handler) putExternalTLD(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	var req putExternalTLDRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	name := chi.URLParam(r, "tld")
	cur, err := rs.ExternalTLDByName(r.Context(), name)
	if err != nil && !controlplane.IsCode(asAPIError(err), codeNoSuchTLD) {
		return err
	}
	in := registrar.ExternalInput{EPPAddress: cur.EPPAddress, ClientID: cur.ClientID, Password: req.Password, ClientCertPEM: cur.ClientCertPEM,
		ClientKeyPEM: req.ClientKeyPEM, CAPEM: cur.CAPEM, Prices: cur.Prices}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setI := func(dst *int64, v *int64) {
		if v != nil {
			*dst = *v
		}
	}
	set(&in.EPPAddress, req.EPPAddress)
	set(&in.ClientID, req.ClientID)
	set(&in.ClientCertPEM, req.ClientCertPEM)
	set(&in.CAPEM, req.CAPEM)
	set(&in.Prices.Currency, req.Prices.Currency)
	setI(&in.Prices.Register, req.Prices.Registration)
	setI(&in.Prices.Renew, req.Prices.Renewal)
	setI(&in.Prices.Transfer, req.Prices.Transfer)
	setI(&in.Prices.Restore, req.Prices.Restoration)
	t, created, err := rs.ConfigureExternal(r.Context(), name, in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	h.writeJSON(w, status, externalTLDResponse{External: toExternalTLDJSON(t)})
	return nil
}

// deleteExternalTLD is DELETE /v1/registry/external/{tld}.
func (h *handler) deleteExternalTLD(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	if err := rs.DeleteExternal(r.Context(), chi.URLParam(r, "tld")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
