package api

import (
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/controlplane"
)

type createDelegationSetRequest struct {
	CallerReference string   `json:"caller_reference"`
	HostedZoneID    string   `json:"hosted_zone_id"`
	VanityNames     []string `json:"vanity_names"`
}

type reusableDelegationSetJSON struct {
	ID              string    `json:"id"`
	CallerReference string    `json:"caller_reference"`
	NameServers     []string  `json:"name_servers"`
	PoolNames       []string  `json:"pool_names"`
	CreatedAt       time.Time `json:"created_at"`
}

type delegationSetResponse struct {
	DelegationSet reusableDelegationSetJSON `json:"delegation_set"`
}

type listDelegationSetsResponse struct {
	DelegationSets []reusableDelegationSetJSON `json:"delegation_sets"`
}

func toReusableDelegationSetJSON(d controlplane.DelegationSet) reusableDelegationSetJSON {
	return reusableDelegationSetJSON{
		ID: d.ID, CallerReference: d.CallerReference, CreatedAt: d.CreatedAt.UTC(),
		NameServers: append([]string{}, d.NameServers...), PoolNames: append([]string{}, d.PoolNames...),
	}
}

// createDelegationSet is POST /v1/delegationsets.
func (h *handler) createDelegationSet(w http.ResponseWriter, r *http.Request) error {
	var req createDelegationSetRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	set, err := h.svc.CreateDelegationSet(r.Context(), tenantID(r), controlplane.CreateDelegationSetInput{
		CallerReference: req.CallerReference, HostedZoneID: req.HostedZoneID, VanityNames: req.VanityNames,
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/delegationsets/"+url.PathEscape(set.ID))
	h.writeJSON(w, http.StatusCreated, delegationSetResponse{DelegationSet: toReusableDelegationSetJSON(set)})
	return nil
}

// listDelegationSets is GET /v1/delegationsets.
func (h *handler) listDelegationSets(w http.ResponseWriter, r *http.Request) error {
	sets, err := h.svc.ListDelegationSets(r.Context(), tenantID(r))
	if err != nil {
		return err
	}
	out := listDelegationSetsResponse{DelegationSets: make([]reusableDelegationSetJSON, 0, len(sets))}
	for _, s := range sets {
		out.DelegationSets = append(out.DelegationSets, toReusableDelegationSetJSON(s))
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// getDelegationSet is GET /v1/delegationsets/{id}.
func (h *handler) getDelegationSet(w http.ResponseWriter, r *http.Request) error {
	set, err := h.svc.GetDelegationSet(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, delegationSetResponse{DelegationSet: toReusableDelegationSetJSON(set)})
	return nil
}

// deleteDelegationSet is DELETE /v1/delegationsets/{id}.
func (h *handler) deleteDelegationSet(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DeleteDelegationSet(r.Context(), tenantID(r), chi.URLParam(r, "id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
