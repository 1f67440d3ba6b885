package registry

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"

	"golang.org/x/crypto/argon2"
)

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	hash, err := hashPassword(rand.Reader, "s3cret-pw")
	if err != nil {
		t.Fatal(err)
	}
	again, err := hashPassword(rand.Reader, "s3cret-pw")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(hash, again) {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	legacy := sha256.Sum256([]byte("s3cret-pw"))
	weaker := []byte("$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$")
	for _, tc := range []struct {
		name       string
		stored     []byte
		password   string
		ok, rehash bool
		malformed  bool
	}{
		{"right", hash, "s3cret-pw", true, false, false},
		{"wrong", hash, "s3cret-pX", false, false, false},
		{"empty", hash, "", false, false, false},
		{"legacy right", legacy[:], "s3cret-pw", true, true, false},
		{"legacy wrong", legacy[:], "other-pw", false, true, false},
		{"other parameters", weakHash(t, weaker, "s3cret-pw"), "s3cret-pw", true, true, false},
		{"not argon2id", []byte("$argon2i$v=19$m=19456,t=2,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"), "x", false, false, true},
		{"huge memory", []byte("$argon2id$v=19$m=99999999,t=2,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"), "x", false, false, true},
		{"short salt", []byte("$argon2id$v=19$m=19456,t=2,p=1$AAAA$AAAAAAAAAAAAAAAAAAAAAA"), "x", false, false, true},
		{"garbage", []byte("not a hash"), "x", false, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := checkPassword(tc.stored, tc.password)
			if tc.malformed != errors.Is(err, errBadHash) || (err != nil && !tc.malformed) {
				t.Fatalf("err = %v, want malformed %v", err, tc.malformed)
			}
			if ok != tc.ok || (err == nil && ok && rehash != tc.rehash) {
				t.Fatalf("ok, rehash = %v, %v; want %v, %v", ok, rehash, tc.ok, tc.rehash)
			}
		})
	}
}

// weakHash completes prefix (a PHC string up to the salt
// "saltsaltsalt") with the key of password under m=1024, t=1, p=1.
func weakHash(t *testing.T, prefix []byte, password string) []byte {
	t.Helper()
	key := argon2.IDKey([]byte(password), []byte("saltsaltsalt"), 1, 1024, 1, 32)
	return append(bytes.Clone(prefix), base64.RawStdEncoding.EncodeToString(key)...)
}

func TestDummyHashParses(t *testing.T) {
	t.Parallel()
	if _, _, err := checkPassword([]byte(dummyHash), "x"); err != nil {
		t.Fatal(err)
	}
}

func FuzzCheckPassword(f *testing.F) {
	f.Add([]byte(dummyHash), "pw")
	f.Add([]byte("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA"), "pw")
	f.Add(make([]byte, 32), "")
	f.Fuzz(func(t *testing.T, stored []byte, password string) {
		ok, _, err := checkPassword(stored, password)
		if err != nil && ok {
			t.Fatal("ok with an error")
		}
	})
}
