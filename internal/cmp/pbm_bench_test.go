package cmp

import (
	"crypto"
	"fmt"
	"testing"
)

// BenchmarkPBMKeyDerivation measures PasswordBasedMac key derivation (OWF
// SHA-256) at OpenSSL's 500 iterations, our default and the receive cap.
func BenchmarkPBMKeyDerivation(b *testing.B) {
	secret, salt := []byte("benchmark secret"), []byte("0123456789abcdef")
	for _, n := range []int{500, DefaultMACIterations, MaxMACIterations} {
		b.Run(fmt.Sprintf("sha256-%d", n), func(b *testing.B) {
			for b.Loop() {
				derivePBMKey(crypto.SHA256, secret, salt, n)
			}
		})
	}
}

// BenchmarkProtectMAC measures protecting one message (ProtectedPart
// encoding, key derivation, HMAC) per algorithm, deriving every time and
// with a PBMKeyCache and fixed parameters, the way a client that keeps the
// parameters of a transaction protects its messages.
func BenchmarkProtectMAC(b *testing.B) {
	secret := []byte("benchmark secret")
	for _, alg := range []MACAlgorithm{PBMHMACSHA256, PBMHMACSHA1, PBMAC1HMACSHA256} {
		b.Run(alg.String()+"/derive-each-time", func(b *testing.B) {
			m := protTestMessage(b)
			for b.Loop() {
				if err := ProtectMAC(m, MACParams{Algorithm: alg}, secret); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg.String()+"/cached", func(b *testing.B) {
			m := protTestMessage(b)
			p := MACParams{Algorithm: alg, Salt: []byte("0123456789abcdef"), Cache: &PBMKeyCache{}}
			for b.Loop() {
				if err := ProtectMAC(m, p, secret); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyMAC measures checking a received PasswordBasedMac message
// made by OpenSSL (500 iterations).
func BenchmarkVerifyMAC(b *testing.B) {
	m := protParse(b, protDir+"/msg/pbm_sha1_ip.der")
	for b.Loop() {
		if err := VerifyMAC(m, []byte(protSecret), nil); err != nil {
			b.Fatal(err)
		}
	}
}
