package controlplane

import (
	"encoding/base32"
	"fmt"
	"io"
)

// idEncoding is base32 without padding, uppercase: ids look like Route 53's
// (Z1D633PJN98FT9, C2682N5HXP0BZ4).
var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newID returns prefix followed by 80 random bits in base32 (16 chars).
func (s *Service) newID(prefix string) (string, error) {
	var b [10]byte
	if _, err := io.ReadFull(s.cfg.Rand, b[:]); err != nil {
		return "", fmt.Errorf("read random id: %w", err)
	}
	return prefix + idEncoding.EncodeToString(b[:]), nil
}

// Id prefixes.
const (
	prefixZone   = "Z"
	prefixChange = "C"
	prefixTenant = "T"
	prefixKey    = "AKW"
)
