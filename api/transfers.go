package api

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/controlplane"
)

// TransferService serves TSIG keys and zones' transfer configuration
// (docs/transfers.md).
type TransferService interface {
	CreateTSIGKey(ctx context.Context, tenantID, name, algorithm string) (controlplane.NewTSIGKey, error)
	ListTSIGKeys(ctx context.Context, tenantID string) ([]controlplane.TSIGKey, error)
	DeleteTSIGKey(ctx context.Context, tenantID, name string) error
	PutTransfers(ctx context.Context, tenantID, zoneID string, in controlplane.TransferConfig) (controlplane.TransferConfig, controlplane.ChangeInfo, error)
	GetTransfers(ctx context.Context, tenantID, zoneID string) (controlplane.TransferStatus, error)
	RequestSecondaryRefresh(ctx context.Context, tenantID, zoneID string) (controlplane.Zone, error)
}

type createTSIGKeyRequest struct {
	Name      string `json:"name"`
	Algorithm string `json:"algorithm"`
}

type tsigKeyJSON struct {
	Name      string    `json:"name"`
	Algorithm string    `json:"algorithm"`
	CreatedAt time.Time `json:"created_at"`
	Zones     []string  `json:"hosted_zones"`
	// Secret is set only in the response to the key's creation.
	Secret string `json:"secret,omitempty"`
}

type tsigKeyResponse struct {
	TSIGKey tsigKeyJSON `json:"tsig_key"`
}

type tsigKeysResponse struct {
	TSIGKeys []tsigKeyJSON `json:"tsig_keys"`
}

type transfersResponse struct {
	Transfers    controlplane.TransferConfig `json:"transfers"`
	Version      int64                       `json:"version"`
	Available    bool                        `json:"available"`
	Reason       string                      `json:"reason,omitempty"`
	RoutedRRSets int                         `json:"routed_rrsets"`
	Note         string                      `json:"note"`
}

type putTransfersResponse struct {
	Transfers controlplane.TransferConfig `json:"transfers"`
	Change    changeJSON                  `json:"change"`
}

func toTSIGKeyJSON(k controlplane.TSIGKey) tsigKeyJSON {
	zones := k.Zones
	if zones == nil {
		zones = []string{}
	}
	return tsigKeyJSON{Name: k.Name, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt.UTC(), Zones: zones}
}

// createTSIGKey is POST /v1/tsigkeys; the only response with the secret.
func (h *handler) createTSIGKey(w http.ResponseWriter, r *http.Request) error {
	var req createTSIGKeyRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	k, err := h.svc.CreateTSIGKey(r.Context(), tenantID(r), req.Name, req.Algorithm)
	if err != nil {
		return err
	}
	out := toTSIGKeyJSON(k.TSIGKey)
	out.Secret = k.Secret
	w.Header().Set("Cache-Control", "no-store")
	h.writeJSON(w, http.StatusCreated, tsigKeyResponse{TSIGKey: out})
	return nil
}

// listTSIGKeys is GET /v1/tsigkeys.
func (h *handler) listTSIGKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := h.svc.ListTSIGKeys(r.Context(), tenantID(r))
	if err != nil {
		return err
	}
	out := tsigKeysResponse{TSIGKeys: make([]tsigKeyJSON, 0, len(keys))}
	for _, k := range keys {
		out.TSIGKeys = append(out.TSIGKeys, toTSIGKeyJSON(k))
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// deleteTSIGKey is DELETE /v1/tsigkeys/{name}: 204, 404, or 409 in use.
func (h *handler) deleteTSIGKey(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DeleteTSIGKey(r.Context(), tenantID(r), chi.URLParam(r, "name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// putTransfers is PUT /v1/hostedzones/{id}/transfers.
func (h *handler) putTransfers(w http.ResponseWriter, r *http.Request) error {
	var req controlplane.TransferConfig
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	cfg, ch, err := h.svc.PutTransfers(r.Context(), tenantID(r), chi.URLParam(r, "id"), req)
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, putTransfersResponse{Transfers: cfg, Change: toChangeJSON(ch)})
	return nil
}

// getTransfers is GET /v1/hostedzones/{id}/transfers.
func (h *handler) getTransfers(w http.ResponseWriter, r *http.Request) error {
	st, err := h.svc.GetTransfers(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, transfersResponse{Transfers: st.Config, Version: st.Version, Available: st.Available,
		Reason: st.Reason, RoutedRRSets: st.RoutedRRSets, Note: st.Note})
	return nil
}

// refreshSecondary is POST /v1/hostedzones/{id}/secondary/refresh: the
// refresh leader checks the zone's primaries now, as after a NOTIFY.
func (h *handler) refreshSecondary(w http.ResponseWriter, r *http.Request) error {
	z, err := h.svc.RequestSecondaryRefresh(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusAccepted, zoneResponse{HostedZone: toHostedZoneJSON(z)})
	return nil
}
