package api

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/controlplane"
)

// DNSSECService serves a zone's DNSSEC keys and signing (docs/dnssec.md).
type DNSSECService interface {
	CreateKeySigningKey(ctx context.Context, tenantID, zoneID string, in controlplane.CreateKeySigningKeyInput) (controlplane.KeySigningKey, controlplane.ChangeInfo, error)
	ActivateKeySigningKey(ctx context.Context, tenantID, zoneID, name string) (controlplane.ChangeInfo, error)
	DeactivateKeySigningKey(ctx context.Context, tenantID, zoneID, name string) (controlplane.ChangeInfo, error)
	DeleteKeySigningKey(ctx context.Context, tenantID, zoneID, name string) (controlplane.ChangeInfo, error)
	EnableDNSSEC(ctx context.Context, tenantID, zoneID string) (controlplane.ChangeInfo, error)
	DisableDNSSEC(ctx context.Context, tenantID, zoneID string) (controlplane.ChangeInfo, error)
	RollZSK(ctx context.Context, tenantID, zoneID string) (controlplane.ChangeInfo, error)
	GetDNSSEC(ctx context.Context, tenantID, zoneID string) (controlplane.DNSSECInfo, error)
}

type createKSKRequest struct {
	Name            string `json:"name"`
	Status          string `json:"status"`
	CallerReference string `json:"caller_reference"`
}

type keySigningKeyJSON struct {
	Name                     string    `json:"name"`
	KeyTag                   int       `json:"key_tag"`
	Flag                     int       `json:"flag"`
	SigningAlgorithmMnemonic string    `json:"signing_algorithm_mnemonic"`
	SigningAlgorithmType     int       `json:"signing_algorithm_type"`
	DigestAlgorithmMnemonic  string    `json:"digest_algorithm_mnemonic"`
	DigestAlgorithmType      int       `json:"digest_algorithm_type"`
	DigestValue              string    `json:"digest_value"`
	PublicKey                string    `json:"public_key"`
	DSRecord                 string    `json:"ds_record"`
	DNSKEYRecord             string    `json:"dnskey_record"`
	Status                   string    `json:"status"`
	StatusMessage            string    `json:"status_message"`
	CreatedAt                time.Time `json:"created_at"`
	LastModifiedAt           time.Time `json:"last_modified_at"`
}

type zoneSigningKeyJSON struct {
	Name                     string    `json:"name"`
	KeyTag                   int       `json:"key_tag"`
	SigningAlgorithmMnemonic string    `json:"signing_algorithm_mnemonic"`
	DNSKEYRecord             string    `json:"dnskey_record"`
	Status                   string    `json:"status"`
	CreatedAt                time.Time `json:"created_at"`
	StatusSince              time.Time `json:"status_since"`
}

type createKSKResponse struct {
	KeySigningKey keySigningKeyJSON `json:"key_signing_key"`
	Change        changeJSON        `json:"change"`
}

type dnssecStatusJSON struct {
	ServeSignature string `json:"serve_signature"`
	StatusMessage  string `json:"status_message"`
}

type dnssecResponse struct {
	Status          dnssecStatusJSON     `json:"status"`
	KeySigningKeys  []keySigningKeyJSON  `json:"key_signing_keys"`
	ZoneSigningKeys []zoneSigningKeyJSON `json:"zone_signing_keys"`
}

func toKSKJSON(k controlplane.KeySigningKey) keySigningKeyJSON {
	return keySigningKeyJSON{
		Name: k.Name, KeyTag: int(k.KeyTag), Flag: k.Flag,
		SigningAlgorithmMnemonic: k.SigningAlgorithmMnemonic, SigningAlgorithmType: k.SigningAlgorithmType,
		DigestAlgorithmMnemonic: k.DigestAlgorithmMnemonic, DigestAlgorithmType: k.DigestAlgorithmType,
		DigestValue: k.DigestValue, PublicKey: k.PublicKey, DSRecord: k.DSRecord, DNSKEYRecord: k.DNSKEYRecord,
		Status: k.Status, StatusMessage: k.StatusMessage, CreatedAt: k.CreatedAt.UTC(), LastModifiedAt: k.LastModifiedAt.UTC(),
	}
}

// createKSK is POST /v1/hostedzones/{id}/keysigningkeys.
func (h *handler) createKSK(w http.ResponseWriter, r *http.Request) error {
	var req createKSKRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	k, ch, err := h.svc.CreateKeySigningKey(r.Context(), tenantID(r), chi.URLParam(r, "id"), controlplane.CreateKeySigningKeyInput{
		Name: req.Name, Status: req.Status, CallerReference: req.CallerReference,
	})
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusCreated, createKSKResponse{KeySigningKey: toKSKJSON(k), Change: toChangeJSON(ch)})
	return nil
}

// kskChange adapts a KSK operation to a handler answering its change.
// op is a method expression, so the route table can be built before the
// handler has a Service (tests).
func (h *handler) kskChange(op func(s DNSSECService, ctx context.Context, tenantID, zoneID, name string) (controlplane.ChangeInfo, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ch, err := op(h.svc, r.Context(), tenantID(r), chi.URLParam(r, "id"), chi.URLParam(r, "name"))
		if err != nil {
			return err
		}
		h.writeJSON(w, http.StatusOK, changeResponse{Change: toChangeJSON(ch)})
		return nil
	}
}

// zoneChange adapts a zone-wide DNSSEC operation to a handler answering
// its change.
func (h *handler) zoneChange(op func(s DNSSECService, ctx context.Context, tenantID, zoneID string) (controlplane.ChangeInfo, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ch, err := op(h.svc, r.Context(), tenantID(r), chi.URLParam(r, "id"))
		if err != nil {
			return err
		}
		h.writeJSON(w, http.StatusOK, changeResponse{Change: toChangeJSON(ch)})
		return nil
	}
}

// getDNSSEC is GET /v1/hostedzones/{id}/dnssec.
func (h *handler) getDNSSEC(w http.ResponseWriter, r *http.Request) error {
	info, err := h.svc.GetDNSSEC(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	out := dnssecResponse{
		Status:          dnssecStatusJSON{ServeSignature: info.ServeSignature, StatusMessage: info.StatusMessage},
		KeySigningKeys:  []keySigningKeyJSON{},
		ZoneSigningKeys: []zoneSigningKeyJSON{},
	}
	for _, k := range info.KeySigningKeys {
		out.KeySigningKeys = append(out.KeySigningKeys, toKSKJSON(k))
	}
	for _, k := range info.ZoneSigningKeys {
		out.ZoneSigningKeys = append(out.ZoneSigningKeys, zoneSigningKeyJSON{
			Name: k.Name, KeyTag: int(k.KeyTag), SigningAlgorithmMnemonic: k.SigningAlgorithmMnemonic,
			DNSKEYRecord: k.DNSKEYRecord, Status: k.Status, CreatedAt: k.CreatedAt.UTC(), StatusSince: k.StatusSince.UTC(),
		})
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}
