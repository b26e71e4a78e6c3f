// Package serialnumber makes certificate serial numbers.
package serialnumber

import (
	"crypto/rand"
	"fmt"
	"math/big"
)

// limit is 2^127: a serial below it takes at most 16 octets, within the 20
// of RFC 5280 section 4.1.2.2, and carries well over the 64 random bits the
// CA/Browser Forum Baseline Requirements (section 7.1) ask for.
var limit = new(big.Int).Lsh(big.NewInt(1), 127)

// Random returns a random serial number in [1, 2^127). RFC 5280 section
// 4.1.2.2: serial numbers are positive.
func Random() (*big.Int, error) {
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("serial number: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}
