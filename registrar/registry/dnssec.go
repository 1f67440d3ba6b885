package registry

import (
	"context"
	"fmt"

	"github.com/waymark-dns/waymark/controlplane"
)

// SignTLD makes the control plane sign a TLD's zone (its own DNSSEC
// support: a KSK and a ZSK, online signing by the fleet) and returns the
// TLD with its DS records, the trust anchor a private resolver configures
// for it. A TLD already signing is left as it is.
func (r *Registry) SignTLD(ctx context.Context, name string) (TLD, error) {
	t, err := r.TLD(ctx, name)
	if err != nil {
		return TLD{}, err
	}
	info, err := r.svc.GetDNSSEC(ctx, r.tenantID, t.ZoneID)
	if err != nil {
		return TLD{}, fmt.Errorf("DNSSEC of %s: %w", t.Name, err)
	}
	if info.ServeSignature != controlplane.SigningStatusSigning {
		if _, err := r.svc.EnableDNSSEC(ctx, r.tenantID, t.ZoneID); err != nil {
			return TLD{}, fmt.Errorf("sign %s: %w", t.Name, err)
		}
	}
	return r.TLD(ctx, t.Name)
}

// trustAnchors returns the DS records of a TLD zone's active KSKs, in
// presentation form ("test. DS 12345 13 2 …"); none while it is unsigned.
func (r *Registry) trustAnchors(ctx context.Context, t TLD) ([]string, error) {
	info, err := r.svc.GetDNSSEC(ctx, r.tenantID, t.ZoneID)
	if err != nil {
		return nil, err
	}
	var out []string
	if info.ServeSignature != controlplane.SigningStatusSigning {
		return out, nil
	}
	for _, k := range info.KeySigningKeys {
		if k.Status == controlplane.KeyStatusActive {
			out = append(out, t.Name+" DS "+k.DSRecord)
		}
	}
	return out, nil
}
