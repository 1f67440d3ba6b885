package dnssec

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/miekg/dns"
)

// Algorithms Waymark signs with: ECDSA P-256 with SHA-256 by default and
// Ed25519 as an option. No RSA, no SHA-1 (DNSSEC.md §1).
const (
	ECDSAP256SHA256 = dns.ECDSAP256SHA256 // 13
	ED25519         = dns.ED25519         // 15
)

// DNSKEY flags.
const (
	FlagZSK = dns.ZONE           // 256
	FlagKSK = dns.ZONE | dns.SEP // 257
)

// ErrAlgorithm is returned for an algorithm Waymark does not sign with.
var ErrAlgorithm = errors.New("dnssec: unsupported algorithm")

// AlgorithmMnemonic returns the algorithm's name as Route 53 spells it.
func AlgorithmMnemonic(alg uint8) string {
	switch alg {
	case ECDSAP256SHA256:
		return "ECDSAP256SHA256"
	case ED25519:
		return "ED25519"
	}
	return ""
}

// Generate makes a new private key for alg and returns its raw form (the
// 32-octet P-256 scalar or Ed25519 seed), which callers seal at once.
// The randomness is the operating system's: Go ignores any other source
// for key generation.
func Generate(alg uint8) ([]byte, error) {
	switch alg {
	case ECDSAP256SHA256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("dnssec: generate: %w", err)
		}
		return k.Bytes()
	case ED25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("dnssec: generate: %w", err)
		}
		return k.Seed(), nil
	}
	return nil, ErrAlgorithm
}

// Key is a parsed signing key: the DNSKEY record that publishes it and a
// signer that makes deterministic signatures (the same RRset, key and
// validity window always give the same RRSIG, so answers and golden
// files are reproducible).
type Key struct {
	DNSKEY *dns.DNSKEY
	signer crypto.Signer
}

// ParseKey builds the key of zone (canonical, with the trailing dot) from
// its raw private form. flags is FlagKSK or FlagZSK; ttl the DNSKEY TTL.
func ParseKey(zone string, flags uint16, alg uint8, ttl uint32, raw []byte) (*Key, error) {
	var signer crypto.Signer
	var pub []byte
	switch alg {
	case ECDSAP256SHA256:
		k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), raw)
		if err != nil {
			return nil, fmt.Errorf("dnssec: parse key: %w", err)
		}
		p, err := k.PublicKey.Bytes() // 0x04 || X || Y
		if err != nil {
			return nil, fmt.Errorf("dnssec: parse key: %w", err)
		}
		pub, signer = p[1:], detECDSA{k}
	case ED25519:
		if len(raw) != ed25519.SeedSize {
			return nil, errors.New("dnssec: parse key: bad Ed25519 seed length")
		}
		k := ed25519.NewKeyFromSeed(raw)
		pub, signer = k.Public().(ed25519.PublicKey), k
	default:
		return nil, ErrAlgorithm
	}
	key := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: strings.ToLower(dns.Fqdn(zone)), Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: ttl},
		Flags:     flags,
		Protocol:  3,
		Algorithm: alg,
		PublicKey: base64.StdEncoding.EncodeToString(pub),
	}
	return &Key{DNSKEY: key, signer: signer}, nil
}

// KeyTag returns the key's tag (RFC 4034 Appendix B).
func (k *Key) KeyTag() uint16 { return k.DNSKEY.KeyTag() }

// DS returns the key's DS record with a SHA-256 digest.
func (k *Key) DS() *dns.DS { return k.DNSKEY.ToDS(dns.SHA256) }

// String describes the key by its public parts only, so that a key that
// reaches a log line or an error by mistake leaks nothing.
func (k *Key) String() string {
	return fmt.Sprintf("dnssec key %s flags %d alg %d tag %d", k.DNSKEY.Hdr.Name, k.DNSKEY.Flags, k.DNSKEY.Algorithm, k.KeyTag())
}

// detECDSA makes RFC 6979 deterministic ECDSA signatures: Go signs
// deterministically when given no randomness, and miekg/dns always passes
// some, so this drops it.
type detECDSA struct{ k *ecdsa.PrivateKey }

func (d detECDSA) Public() crypto.PublicKey { return d.k.Public() }

func (d detECDSA) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return d.k.Sign(nil, digest, opts)
}
