package cmpclient

import (
	"crypto/rand"
	"fmt"
	"sync"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// macState is what a Client keeps for MAC protection.
type macState struct {
	// keys caches keys derived from MAC secrets, so that enrollments with
	// the same credential do not pay for key derivation each time.
	keys cmp.PBMKeyCache
	// salt is this client's PasswordBasedMac/PBMAC1 salt: reusing it keeps
	// the MAC parameters constant, so keys is hit (RFC 9810 section 5.1.3.1
	// recommends constant parameters within a transaction; a fresh salt per
	// client keeps precomputation useless).
	salt []byte
}

// macStateMu guards the allocation of Client.mac. It lives outside Client
// so that a Client holds no lock and can be copied.
var macStateMu sync.Mutex

// macState returns the client's MAC state, allocating it on first use.
func (c *Client) macState() (*macState, error) {
	macStateMu.Lock()
	defer macStateMu.Unlock()
	if c.mac == nil {
		salt := make([]byte, macSaltLength)
		if _, err := rand.Read(salt); err != nil {
			return nil, fmt.Errorf("MAC salt: %w", err)
		}
		c.mac = &macState{salt: salt}
	}
	return c.mac, nil
}
