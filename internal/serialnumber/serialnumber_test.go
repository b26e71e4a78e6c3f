package serialnumber

import (
	"math/big"
	"testing"
)

// TestRandom: every serial is positive and fits RFC 5280's 20 octets, and
// they differ.
func TestRandom(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		n, err := Random()
		if err != nil {
			t.Fatal(err)
		}
		if n.Sign() <= 0 || n.Cmp(new(big.Int).Lsh(big.NewInt(1), 127)) >= 0 {
			t.Fatalf("serial %s out of [1, 2^127)", n)
		}
		if der := n.Bytes(); len(der)+1 > 20 {
			t.Fatalf("serial %s takes more than 20 octets", n)
		}
		if seen[n.String()] {
			t.Fatalf("serial %s repeated", n)
		}
		seen[n.String()] = true
	}
}
