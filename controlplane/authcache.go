package controlplane

import (
	"crypto/sha256"
	"sync"
	"time"
)

// DefaultAuthCacheTTL is how long a successful API key authentication is
// remembered; DefaultAuthCacheSize how many are, at most.
const (
	DefaultAuthCacheTTL  = 5 * time.Second
	DefaultAuthCacheSize = 10000
)

// authCache remembers successful API key authentications for a short
// time, so that a busy client costs one lookup and one decryption per TTL
// rather than per request. Entries are keyed by a hash of the whole token
// (never the secret itself) and dropped at once when their key is deleted
// through this Service; another API process's deletion is seen when the
// entry expires.
type authCache struct {
	ttl time.Duration
	max int

	mu sync.Mutex
	m  map[[32]byte]authEntry // guarded by mu
}

type authEntry struct {
	p       Principal
	expires time.Time
}

func newAuthCache(ttl time.Duration, max int) *authCache {
	return &authCache{ttl: ttl, max: max, m: map[[32]byte]authEntry{}}
}

func (c *authCache) get(token string, now time.Time) (Principal, bool) {
	if c.ttl <= 0 {
		return Principal{}, false
	}
	k := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || !now.Before(e.expires) {
		return Principal{}, false
	}
	return e.p, true
}

func (c *authCache) put(token string, p Principal, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	k := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k, e := range c.m {
			if !now.Before(e.expires) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= c.max {
			clear(c.m) // at worst a burst of lookups again
		}
	}
	c.m[k] = authEntry{p: p, expires: now.Add(c.ttl)}
}

// forgetKey drops every entry of keyID.
func (c *authCache) forgetKey(keyID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if e.p.KeyID == keyID {
			delete(c.m, k)
		}
	}
}
