package cmpclient

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"testing"
)

// BenchmarkEnrollPBM measures complete enrollments (ir, ip, certConf,
// pkiConf) protected by PasswordBasedMac over loopback HTTP with keep-alive.
// One op is one enrollment; the new key is generated once, outside the
// timing, since key generation is not part of the protocol.
//
// Without environment settings the peer is the in-process scaffolding
// responder. To measure against another CMP server (e.g. the development
// CA), set the variables bench/ uses: BENCH_CMP_URL, BENCH_CMP_REFERENCE,
// BENCH_CMP_SECRET, and BENCH_CMP_CA_FILE (PEM trust anchors) when the
// server signs its responses or to verify issued chains.
func BenchmarkEnrollPBM(b *testing.B) {
	c := benchClient(b)
	req := certRequest(b, "bench")
	ctx := context.Background() // bounded by the benchmark time, not a test timeout
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Enroll(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "enrollments/s")
}

// benchClient returns a client for the benchmark peer.
func benchClient(b *testing.B) *Client {
	b.Helper()
	if url := os.Getenv("BENCH_CMP_URL"); url != "" {
		c := &Client{URL: url, Credentials: MACCredentials{
			Reference: os.Getenv("BENCH_CMP_REFERENCE"),
			Secret:    []byte(os.Getenv("BENCH_CMP_SECRET")),
		}}
		if f := os.Getenv("BENCH_CMP_CA_FILE"); f != "" {
			data, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
				cert, err := x509.ParseCertificate(block.Bytes)
				if err != nil {
					b.Fatal(err)
				}
				c.TrustAnchors = append(c.TrustAnchors, cert)
			}
		}
		return c
	}
	pki := newTestPKI(b)
	srv := httptest.NewServer(&responder{pki: pki})
	b.Cleanup(srv.Close)
	return &Client{
		URL:          srv.URL + "/pkix/",
		Credentials:  MACCredentials{Reference: pki.reference, Secret: pki.secret},
		TrustAnchors: []*x509.Certificate{pki.root},
	}
}
