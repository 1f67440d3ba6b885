package registry

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/argon2"
)

// EPP passwords are chosen by people and are short (RFC 5730's pwType
// allows 6 to 16 characters), so they are kept as Argon2id hashes
// (RFC 9106) with a per-registrar salt, not a fast digest an attacker
// holding the table could try every short password against. The
// parameters are OWASP's minimum for Argon2id; a login costs them once
// per session, not per command.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// hashPassword returns the PHC string of password under a new salt from
// rand: $argon2id$v=19$m=…,t=…,p=…$salt$hash.
func hashPassword(rand io.Reader, password string) ([]byte, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return nil, fmt.Errorf("random: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Appendf(nil, "$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// errBadHash: a stored hash that is neither a PHC Argon2id string nor a
// legacy digest.
var errBadHash = errors.New("registry: stored password hash is malformed")

// checkPassword reports whether password matches stored, and whether
// stored should be replaced by a hash under the current parameters (a
// SHA-256 digest written before Argon2id, or other parameters).
func checkPassword(stored []byte, password string) (ok, rehash bool, err error) {
	if len(stored) == sha256.Size {
		h := sha256.Sum256([]byte(password))
		return subtle.ConstantTimeCompare(h[:], stored) == 1, true, nil
	}
	var v, m, t, p int
	f := strings.Split(string(stored), "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" {
		return false, false, errBadHash
	}
	if _, err := fmt.Sscanf(f[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, false, errBadHash
	}
	if _, err := fmt.Sscanf(f[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m < 8 || m > 1<<18 || t < 1 || t > 16 || p < 1 || p > 16 {
		return false, false, errBadHash
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(f[4])
	want, err2 := enc.DecodeString(f[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(want) < 16 || len(want) > 64 {
		return false, false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, uint32(t), uint32(m), uint8(p), uint32(len(want)))
	ok = subtle.ConstantTimeCompare(got, want) == 1
	return ok, m != argonMemory || t != argonTime || p != argonThreads || len(want) != argonKeyLen, nil
}

// dummyHash is checked against when a registrar has no password, so that
// a login for an unknown client id takes as long as one for a known one.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
