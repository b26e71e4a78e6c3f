package cmp

import (
	"crypto"
	"crypto/sha256"
	"sync"
)

// PBMKeyCache remembers keys derived from a shared secret by PasswordBasedMac
// or by PBKDF2 (PBMAC1), so that messages protected with the same parameters
// do not pay for the derivation again. RFC 9810 section 5.1.3.1 recommends
// keeping the PBMParameter constant across the messages of a transaction
// for exactly this reason; with MACParams.Salt fixed, a client then derives
// once per transaction (or once per credential) instead of once per message.
//
// The zero value is ready to use and safe for concurrent use. A nil
// *PBMKeyCache disables caching. The cache holds at most maxCachedKeys
// entries; it keys entries by a SHA-256 of the secret, never the secret
// itself.
type PBMKeyCache struct {
	mu   sync.Mutex
	keys map[derivedKeyID][]byte
}

// maxCachedKeys bounds the cache; when full, an arbitrary entry is dropped.
const maxCachedKeys = 256

// derivedKeyID is everything a derived key depends on.
type derivedKeyID struct {
	scheme     string      // "PasswordBasedMac" or "PBKDF2"
	hash       crypto.Hash // OWF or PRF hash
	iterations int
	keyLength  int
	salt       string
	secret     [sha256.Size]byte
}

// key returns the cached key for id and secret, or derives, stores and
// returns it.
func (c *PBMKeyCache) key(id derivedKeyID, secret []byte, derive func() ([]byte, error)) ([]byte, error) {
	if c == nil {
		return derive()
	}
	id.secret = sha256.Sum256(secret)
	c.mu.Lock()
	k, ok := c.keys[id]
	c.mu.Unlock()
	if ok {
		return k, nil
	}
	// Derive outside the lock: derivation is the slow part, and two
	// goroutines deriving the same key at once only waste time.
	k, err := derive()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		c.keys = make(map[derivedKeyID][]byte)
	}
	if len(c.keys) >= maxCachedKeys {
		for old := range c.keys {
			delete(c.keys, old)
			break
		}
	}
	c.keys[id] = k
	return k, nil
}

// Len returns the number of keys held.
func (c *PBMKeyCache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.keys)
}
