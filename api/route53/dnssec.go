package route53

import (
	"context"
	"encoding/xml"
	"net/http"
	"time"

	"github.com/waymark-dns/waymark/controlplane"
)

// dnssecService is what the DNSSEC operations need (docs/dnssec.md).
type dnssecService interface {
	GetDNSSEC(ctx context.Context, tenantID, zoneID string) (controlplane.DNSSECInfo, error)
	EnableDNSSEC(ctx context.Context, tenantID, zoneID string) (controlplane.ChangeInfo, error)
	DisableDNSSEC(ctx context.Context, tenantID, zoneID string) (controlplane.ChangeInfo, error)
	CreateKeySigningKey(ctx context.Context, tenantID, zoneID string, in controlplane.CreateKeySigningKeyInput) (controlplane.KeySigningKey, controlplane.ChangeInfo, error)
	ActivateKeySigningKey(ctx context.Context, tenantID, zoneID, name string) (controlplane.ChangeInfo, error)
	DeactivateKeySigningKey(ctx context.Context, tenantID, zoneID, name string) (controlplane.ChangeInfo, error)
	DeleteKeySigningKey(ctx context.Context, tenantID, zoneID, name string) (controlplane.ChangeInfo, error)
}

type keySigningKeyXML struct {
	Name                     string `xml:"Name"`
	KmsArn                   string `xml:"KmsArn"`
	Flag                     int    `xml:"Flag"`
	SigningAlgorithmMnemonic string `xml:"SigningAlgorithmMnemonic"`
	SigningAlgorithmType     int    `xml:"SigningAlgorithmType"`
	DigestAlgorithmMnemonic  string `xml:"DigestAlgorithmMnemonic"`
	DigestAlgorithmType      int    `xml:"DigestAlgorithmType"`
	KeyTag                   int    `xml:"KeyTag"`
	DigestValue              string `xml:"DigestValue"`
	PublicKey                string `xml:"PublicKey"`
	DSRecord                 string `xml:"DSRecord"`
	DNSKEYRecord             string `xml:"DNSKEYRecord"`
	Status                   string `xml:"Status"`
	StatusMessage            string `xml:"StatusMessage,omitempty"`
	CreatedDate              string `xml:"CreatedDate"`
	LastModifiedDate         string `xml:"LastModifiedDate"`
}

type getDNSSECResponse struct {
	XMLName xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ GetDNSSECResponse"`
	Status  struct {
		ServeSignature string `xml:"ServeSignature"`
		StatusMessage  string `xml:"StatusMessage,omitempty"`
	} `xml:"Status"`
	KeySigningKeys []keySigningKeyXML `xml:"KeySigningKeys>member"`
}

// getDNSSEC is GET /hostedzone/{Id}/dnssec: the signing status and the
// KSKs (KmsArn is empty: Waymark keeps the keys itself).
func getDNSSEC(h *Handler, c *call) (int, any, error) {
	info, err := h.svc.GetDNSSEC(c.ctx, c.tenant, c.params[0])
	if err != nil {
		return 0, nil, err
	}
	var out getDNSSECResponse
	out.Status.ServeSignature, out.Status.StatusMessage = info.ServeSignature, info.StatusMessage
	for _, k := range info.KeySigningKeys {
		out.KeySigningKeys = append(out.KeySigningKeys, toKeySigningKeyXML(k))
	}
	return http.StatusOK, out, nil
}

func toKeySigningKeyXML(k controlplane.KeySigningKey) keySigningKeyXML {
	return keySigningKeyXML{
		Name: k.Name, Flag: k.Flag, SigningAlgorithmMnemonic: k.SigningAlgorithmMnemonic,
		SigningAlgorithmType: k.SigningAlgorithmType, DigestAlgorithmMnemonic: k.DigestAlgorithmMnemonic,
		DigestAlgorithmType: k.DigestAlgorithmType, KeyTag: int(k.KeyTag), DigestValue: k.DigestValue,
		PublicKey: k.PublicKey, DSRecord: k.DSRecord, DNSKEYRecord: k.DNSKEYRecord, Status: k.Status,
		StatusMessage: k.StatusMessage, CreatedDate: k.CreatedAt.UTC().Format(time.RFC3339),
		LastModifiedDate: k.LastModifiedAt.UTC().Format(time.RFC3339),
	}
}

type createKeySigningKeyRequest struct {
	XMLName                 xml.Name `xml:"CreateKeySigningKeyRequest"`
	CallerReference         string   `xml:"CallerReference"`
	HostedZoneID            string   `xml:"HostedZoneId"`
	KeyManagementServiceArn string   `xml:"KeyManagementServiceArn"`
	Name                    string   `xml:"Name"`
	Status                  string   `xml:"Status"`
}

type createKeySigningKeyResponse struct {
	XMLName       xml.Name         `xml:"https://route53.amazonaws.com/doc/2013-04-01/ CreateKeySigningKeyResponse"`
	ChangeInfo    changeInfoXML    `xml:"ChangeInfo"`
	KeySigningKey keySigningKeyXML `xml:"KeySigningKey"`
}

// createKeySigningKey is POST /keysigningkey. Route 53 requires a KMS key
// ARN and signs with that customer key; Waymark makes and keeps the key
// itself (sealed under its master key), so the ARN must be present, as
// the SDKs require it, but is otherwise not used, and KmsArn is answered
// empty, as GetDNSSEC answers it.
func createKeySigningKey(h *Handler, c *call) (int, any, error) {
	var req createKeySigningKeyRequest
	if err := decodeXML(c.body, "CreateKeySigningKeyRequest", &req); err != nil {
		return 0, nil, err
	}
	switch {
	case req.HostedZoneID == "":
		return 0, nil, errInvalidInput("HostedZoneId is required.")
	case req.CallerReference == "":
		return 0, nil, errInvalidInput("CallerReference is required.")
	case req.KeyManagementServiceArn == "":
		return 0, nil, newError(http.StatusBadRequest, "InvalidKMSArn", "KeyManagementServiceArn is required.")
	}
	zoneID := bareID(req.HostedZoneID)
	k, ch, err := h.svc.CreateKeySigningKey(c.ctx, c.tenant, zoneID, controlplane.CreateKeySigningKeyInput{
		Name: req.Name, Status: req.Status, CallerReference: req.CallerReference,
	})
	if err != nil {
		return 0, nil, err
	}
	c.location = h.baseURL(c.r) + Prefix + "/keysigningkey/" + zoneID + "/" + k.Name
	return http.StatusCreated, createKeySigningKeyResponse{ChangeInfo: toChangeInfoXML(ch), KeySigningKey: toKeySigningKeyXML(k)}, nil
}

// activateKeySigningKey is POST /keysigningkey/{HostedZoneId}/{Name}/activate.
func activateKeySigningKey(h *Handler, c *call) (int, any, error) {
	ch, err := h.svc.ActivateKeySigningKey(c.ctx, c.tenant, c.params[0], c.params[1])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, changeResponse("ActivateKeySigningKeyResponse", ch), nil
}

// deactivateKeySigningKey is POST /keysigningkey/{HostedZoneId}/{Name}/deactivate.
func deactivateKeySigningKey(h *Handler, c *call) (int, any, error) {
	ch, err := h.svc.DeactivateKeySigningKey(c.ctx, c.tenant, c.params[0], c.params[1])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, changeResponse("DeactivateKeySigningKeyResponse", ch), nil
}

// deleteKeySigningKey is DELETE /keysigningkey/{HostedZoneId}/{Name}.
func deleteKeySigningKey(h *Handler, c *call) (int, any, error) {
	ch, err := h.svc.DeleteKeySigningKey(c.ctx, c.tenant, c.params[0], c.params[1])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, changeResponse("DeleteKeySigningKeyResponse", ch), nil
}

// enableDNSSEC is POST /hostedzone/{Id}/enable-dnssec; like /v1, a zone
// without a KSK gets one.
func enableDNSSEC(h *Handler, c *call) (int, any, error) {
	ch, err := h.svc.EnableDNSSEC(c.ctx, c.tenant, c.params[0])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, changeResponse("EnableHostedZoneDNSSECResponse", ch), nil
}

// disableDNSSEC is POST /hostedzone/{Id}/disable-dnssec.
func disableDNSSEC(h *Handler, c *call) (int, any, error) {
	ch, err := h.svc.DisableDNSSEC(c.ctx, c.tenant, c.params[0])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, changeResponse("DisableHostedZoneDNSSECResponse", ch), nil
}
