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
		out.KeySigningKeys = append(out.KeySigningKeys, keySigningKeyXML{
			Name: k.Name, Flag: k.Flag, SigningAlgorithmMnemonic: k.SigningAlgorithmMnemonic,
			SigningAlgorithmType: k.SigningAlgorithmType, DigestAlgorithmMnemonic: k.DigestAlgorithmMnemonic,
			DigestAlgorithmType: k.DigestAlgorithmType, KeyTag: int(k.KeyTag), DigestValue: k.DigestValue,
			PublicKey: k.PublicKey, DSRecord: k.DSRecord, DNSKEYRecord: k.DNSKEYRecord, Status: k.Status,
			StatusMessage: k.StatusMessage, CreatedDate: k.CreatedAt.UTC().Format(time.RFC3339),
			LastModifiedDate: k.LastModifiedAt.UTC().Format(time.RFC3339),
		})
	}
	return http.StatusOK, out, nil
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
