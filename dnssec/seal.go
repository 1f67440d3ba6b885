package dnssec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
)

// sealVersion is the first octet of every sealed blob, so that a later
// format can be told apart.
const sealVersion = 1

// ErrUnseal is returned when a sealed key cannot be opened: a wrong key,
// wrong associated data or tampered bytes.
var ErrUnseal = errors.New("dnssec: cannot unseal key")

// Seal encrypts plaintext with AES-256-GCM under key (32 octets), binding
// it to ad (for keys: the zone id and key name, so a sealed key copied to
// another zone or row does not open). rnd supplies the nonce.
func Seal(key, plaintext, ad []byte, rnd io.Reader) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = sealVersion
	if _, err := io.ReadFull(rnd, out[1:]); err != nil {
		return nil, fmt.Errorf("dnssec: seal: %w", err)
	}
	return aead.Seal(out, out[1:], plaintext, ad), nil
}

// Open reverses Seal.
func Open(key, sealed, ad []byte) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	if len(sealed) < 1+n+aead.Overhead() || sealed[0] != sealVersion {
		return nil, ErrUnseal
	}
	pt, err := aead.Open(nil, sealed[1:1+n], sealed[1+n:], ad)
	if err != nil {
		return nil, ErrUnseal
	}
	return pt, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, errors.New("dnssec: sealing key must be 32 octets")
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// KeyAD is the associated data that binds a sealed key to its zone and
// key name.
func KeyAD(zoneID, keyName string) []byte { return []byte(zoneID + "/" + keyName) }

// FleetKeyFrom derives a fleet key from the master key, for deployments
// (such as `waymark dev`) that set none of their own: HMAC-SHA256 is
// one-way, so a nameserver holding the fleet key learns nothing of the
// master key.
func FleetKeyFrom(master []byte) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("waymark dnssec fleet key v1"))
	return m.Sum(nil)
}
