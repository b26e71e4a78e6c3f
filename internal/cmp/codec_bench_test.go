package cmp

import (
	"os"
	"path/filepath"
	"testing"
)

// Benchmarks of the codec on OpenSSL-made messages, for the throughput
// numbers of the client and the development CA.
func BenchmarkCodec(b *testing.B) {
	for _, name := range []string{"ir_pbm_sha1", "ip_pbm_sha1", "certConf_pbm_sha1", "kur"} {
		der, err := os.ReadFile(filepath.Join("testdata", "golden", name+".der"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run("Parse/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(der)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(der); err != nil {
					b.Fatal(err)
				}
			}
		})
		m, err := Parse(der)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("Marshal/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(der)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Marshal(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
