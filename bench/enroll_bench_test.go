// Package bench holds the benchmark harness of `make bench` (harness/),
// the plugin floor provider (floorprovider/), the provider wrapper that
// measures a plugin process (providerwrap/), and the Go benchmarks below.
package bench

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
)

// target is the CA the benchmark enrolls at: the one `make bench` started
// in its own process (BENCH_CMP_* variables), so that the allocations
// reported are cmpclient's alone, or else an in-process devca, whose
// allocations then count too.
func target(b *testing.B) *cmpclient.Client {
	b.Helper()
	if u := os.Getenv("BENCH_CMP_URL"); u != "" {
		pemData, err := os.ReadFile(os.Getenv("BENCH_CMP_CA_FILE"))
		if err != nil {
			b.Fatalf("BENCH_CMP_CA_FILE: %v", err)
		}
		block, _ := pem.Decode(pemData)
		if block == nil {
			b.Fatal("BENCH_CMP_CA_FILE holds no PEM block")
		}
		caCert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			b.Fatal(err)
		}
		return &cmpclient.Client{
			URL:          u,
			Credentials:  cmpclient.MACCredentials{Reference: os.Getenv("BENCH_CMP_REFERENCE"), Secret: []byte(os.Getenv("BENCH_CMP_SECRET"))},
			TrustAnchors: []*x509.Certificate{caCert},
		}
	}
	b.Log("BENCH_CMP_URL not set: in-process devca, its allocations are counted too")
	ca, err := devca.New(devca.Config{Dir: b.TempDir(), Events: func(devca.Event) {}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(ca)
	b.Cleanup(func() {
		srv.Close()
		ca.Close()
	})
	return &cmpclient.Client{
		URL:          srv.URL + "/.well-known/cmp",
		Credentials:  cmpclient.MACCredentials{Reference: ca.Reference(), Secret: []byte(ca.Secret())},
		TrustAnchors: []*x509.Certificate{ca.CACertificate()},
	}
}

// BenchmarkEnrollIR is one complete initial enrollment per iteration: ir
// with an ECDSA P-256 key made beforehand, PBM protection, ip, certConf,
// pkiConf, over loopback HTTP.
func BenchmarkEnrollIR(b *testing.B) {
	c := target(b)
	key := testpki.NewKey(b, testpki.P256)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := &cmpclient.CertRequest{
			Subject:  pkix.Name{CommonName: fmt.Sprintf("gobench-%d.bench.example", i), Organization: []string{"Bench"}},
			DNSNames: []string{fmt.Sprintf("gobench-%d.bench.example", i)},
			KeyUsage: x509.KeyUsageDigitalSignature,
			Key:      key,
		}
		enr, err := c.Enroll(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if enr.Certificate == nil || len(enr.TransactionID) == 0 {
			b.Fatal("enrollment without certificate or transaction ID")
		}
		i++
	}
}
