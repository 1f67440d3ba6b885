package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// createTenant is POST /v1/tenants (operator token).
func (h *handler) createTenant(w http.ResponseWriter, r *http.Request) error {
	return h.newTenant(w, r)
}

// signupTenant is POST /v1/signup: open sign-up, when enabled.
func (h *handler) signupTenant(w http.ResponseWriter, r *http.Request) error {
	return h.newTenant(w, r)
}

func (h *handler) newTenant(w http.ResponseWriter, r *http.Request) error {
	var req createTenantRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	t, key, err := h.svc.CreateTenant(r.Context(), req.Name)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store") // it carries a secret
	h.writeJSON(w, http.StatusCreated, createTenantResponse{Tenant: toTenantJSON(t), APIKey: toNewAPIKeyJSON(key)})
	return nil
}

// listAPIKeys is GET /v1/apikeys.
func (h *handler) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := h.svc.ListAPIKeys(r.Context(), tenantID(r))
	if err != nil {
		return err
	}
	out := apiKeysResponse{APIKeys: make([]apiKeyJSON, 0, len(keys))}
	for _, k := range keys {
		out.APIKeys = append(out.APIKeys, toAPIKeyJSON(k))
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// createAPIKey is POST /v1/apikeys; the only response that shows the
// secret. An empty body is allowed (no description).
func (h *handler) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	var req createAPIKeyRequest
	if r.ContentLength != 0 {
		if err := h.decodeJSON(r, &req); err != nil {
			return err
		}
	}
	key, err := h.svc.CreateAPIKey(r.Context(), tenantID(r), req.Description)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/apikeys/"+key.ID)
	w.Header().Set("Cache-Control", "no-store")
	h.writeJSON(w, http.StatusCreated, apiKeyResponse{APIKey: toNewAPIKeyJSON(key)})
	return nil
}

// deleteAPIKey is DELETE /v1/apikeys/{id}: 204, or 404 for a key that is
// not the caller's, or 400 for the tenant's last key.
func (h *handler) deleteAPIKey(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DeleteAPIKey(r.Context(), tenantID(r), chi.URLParam(r, "id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// createToken is POST /v1/tokens: a short-lived JWT for the API key the
// caller authenticated with (403 when the caller used a JWT).
func (h *handler) createToken(w http.ResponseWriter, r *http.Request) error {
	p, _ := principalFrom(r.Context())
	tok, exp, err := h.svc.IssueToken(r.Context(), p)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	h.writeJSON(w, http.StatusOK, tokenResponse{Token: tok, TokenType: "Bearer", ExpiresAt: exp.UTC()})
	return nil
}
