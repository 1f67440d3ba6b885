package controlplane

import (
	"fmt"

	"github.com/waymark-dns/waymark/dnssec"
)

// SealSecret encrypts a secret another part of Waymark stores (the
// registrar's logins at external registries) with the master key, so the
// key never leaves the control plane. purpose is the associated data: it
// is prefixed "ext/" so that no blob sealed here opens as a TSIG or
// DNSSEC key, and binds the blob to its row (a blob copied to another row
// does not open).
func (s *Service) SealSecret(purpose string, secret []byte) ([]byte, error) {
	return dnssec.Seal(s.cfg.MasterKey, secret, []byte("ext/"+purpose), s.cfg.Rand)
}

// OpenSecret reverses SealSecret. A failure means the master key changed
// or the row was tampered with: an internal error, not a bad request.
func (s *Service) OpenSecret(purpose string, sealed []byte) ([]byte, error) {
	pt, err := dnssec.Open(s.cfg.MasterKey, sealed, []byte("ext/"+purpose))
	if err != nil {
		return nil, fmt.Errorf("open sealed secret %s: %w", purpose, err)
	}
	return pt, nil
}
