package devca

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
)

// liveHeap is the heap in use after garbage collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestIssuedCertificatesRetainedMemory bounds what the CA keeps in memory
// per issued certificate. It used to keep every certificate parsed, about
// 10 kB each, so a long throughput run grew the CA to hundreds of MiB; it
// now keeps a small record and reads a certificate back from the record
// file on request. Memory, not time, is measured: the heap in use after
// garbage collection, before and after issuing n certificates.
func TestIssuedCertificatesRetainedMemory(t *testing.T) {
	tests := []struct {
		name string
		n    int
		// maxPerCert is the bound in bytes per certificate.
		maxPerCert uint64
		// setup returns a function that issues certificate i, and
		// something to keep alive until the heap is measured.
		setup func(t *testing.T) (issue func(i int), keep any)
	}{
		{name: "record store", n: 2000, maxPerCert: 1024, setup: func(t *testing.T) (func(int), any) {
			s, err := openStore(filepath.Join(t.TempDir(), recordFile))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.close() })
			key := testpki.NewKey(t, testpki.P256)
			now := time.Now()
			return func(i int) {
				tmpl := &x509.Certificate{
					SerialNumber: big.NewInt(int64(i) + 1),
					Subject:      pkix.Name{CommonName: fmt.Sprintf("host-%d.example", i), Organization: []string{"Example"}},
					DNSNames:     []string{fmt.Sprintf("host-%d.example", i)},
					NotBefore:    now.Add(-time.Minute),
					NotAfter:     now.Add(90 * 24 * time.Hour),
				}
				if err := s.addIssued(testpki.Issue(t, tmpl, key, nil).Cert, "ir", "", now); err != nil {
					t.Fatal(err)
				}
			}, s
		}},
		// Through the CA the bound also covers the transaction table, which
		// remembers each transaction for transactionTTL (about 1 kB each)
		// to refuse replays. The test's event log is not kept.
		{name: "CA enrolling over HTTP", n: 300, maxPerCert: 2048, setup: func(t *testing.T) (func(int), any) {
			c := startCA(t, Config{Events: func(Event) {}})
			client := c.client(cmpclient.PBMHMACSHA256)
			key := newKey(t)
			ctx := ctxT(t)
			return func(i int) {
				_, err := client.Enroll(ctx, &cmpclient.CertRequest{
					Key:      key,
					Subject:  pkix.Name{CommonName: fmt.Sprintf("host-%d.example", i)},
					DNSNames: []string{fmt.Sprintf("host-%d.example", i)},
				})
				if err != nil {
					t.Fatal(err)
				}
			}, c
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			issue, keep := tc.setup(t)
			issue(0) // first use: lazily built tables, connections
			before := liveHeap()
			for i := 1; i <= tc.n; i++ {
				issue(i)
			}
			after := liveHeap()
			runtime.KeepAlive(keep)
			var perCert uint64
			if after > before {
				perCert = (after - before) / uint64(tc.n)
			}
			t.Logf("%d certificates: heap %d -> %d bytes, %d bytes per certificate", tc.n, before, after, perCert)
			if perCert > tc.maxPerCert {
				t.Errorf("the CA keeps %d bytes per issued certificate, want at most %d", perCert, tc.maxPerCert)
			}
		})
	}
}
