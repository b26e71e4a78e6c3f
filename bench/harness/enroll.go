package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
)

// enrollResults is the CMP throughput section.
type enrollResults struct {
	Seconds float64 `json:"seconds_per_measurement"`
	// Sequential enrollments (ir + certConf, ECDSA P-256, PBM) by one
	// cmpclient.Client and by `openssl cmp` processes one after another.
	CMPClientPerSec float64 `json:"cmpclient_enrollments_per_s"`
	CMPClientCount  int     `json:"cmpclient_enrollments"`
	OpenSSLPerSec   float64 `json:"openssl_enrollments_per_s"`
	OpenSSLCount    int     `json:"openssl_enrollments"`
	Ratio           float64 `json:"cmpclient_to_openssl"`
	// Go benchmark of cmpclient alone (the CA in another process).
	GoBench goBench `json:"go_benchmark"`
	// Concurrent clients against the devca.
	Concurrency []concurrencyResult `json:"concurrency"`
	// DevCAMaxRSSMiB is the CA process's peak resident memory over the
	// whole section.
	DevCAMaxRSSMiB float64  `json:"devca_max_rss_mib"`
	CAFailures     []string `json:"ca_failures"`
	Errors         []string `json:"errors,omitempty"`
	Notes          []string `json:"notes,omitempty"`
}

type goBench struct {
	NsPerOp     float64 `json:"ns_per_op"`
	BytesPerOp  float64 `json:"bytes_per_op"`
	AllocsPerOp float64 `json:"allocs_per_op"`
	Iterations  int     `json:"iterations"`
	Output      string  `json:"-"`
}

type concurrencyResult struct {
	Clients        int     `json:"clients"`
	Enrollments    int     `json:"enrollments"`
	EnrollPerSec   float64 `json:"enrollments_per_s"`
	RequestsPerSec float64 `json:"ca_requests_per_s"`
	Errors         int     `json:"client_errors"`
}

// runEnrollBench measures the section against a fresh devca process, so
// the CA's memory and the client's allocations are each their own.
func runEnrollBench(l *lab, seconds float64, logf func(string, ...any)) (res enrollResults) {
	res.Seconds = seconds
	dir := filepath.Join(l.dir, "enroll")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		res.Errors = append(res.Errors, err.Error())
		return res
	}
	ca, err := startDevCA(l.provider, dir)
	if err != nil {
		res.Errors = append(res.Errors, err.Error())
		return res
	}
	defer func() {
		ca.stop()
		res.DevCAMaxRSSMiB = ca.MaxRSSMiB
		_, _, res.CAFailures = ca.counts()
	}()
	caCert, err := parseCert(ca.ready.CACertificatePEM)
	if err != nil {
		res.Errors = append(res.Errors, err.Error())
		return res
	}
	keys, err := keyPool(8)
	if err != nil {
		res.Errors = append(res.Errors, err.Error())
		return res
	}
	budget := time.Duration(seconds * float64(time.Second))

	logf("enroll: cmpclient, one client, sequential, %v", budget)
	n, errs, elapsed := enrollFor(1, budget, func() *cmpclient.Client { return newClient(ca, caCert) }, keys)
	res.CMPClientCount, res.CMPClientPerSec = n, float64(n)/elapsed.Seconds()
	if errs > 0 {
		res.Errors = append(res.Errors, fmt.Sprintf("cmpclient sequential: %d errors", errs))
	}

	logf("enroll: openssl cmp, sequential processes, %v", budget)
	count, rate, warn, err := opensslFor(ca, caCert, dir, budget)
	res.OpenSSLCount, res.OpenSSLPerSec = count, rate
	if err != nil {
		res.Errors = append(res.Errors, err.Error())
	}
	if warn != "" {
		res.Notes = append(res.Notes, warn)
	}
	if rate > 0 {
		res.Ratio = res.CMPClientPerSec / rate
	}

	logf("enroll: go test -bench BenchmarkEnrollIR (allocations per enrollment)")
	res.GoBench, err = runGoBench(l.repo, ca)
	if err != nil {
		res.Errors = append(res.Errors, err.Error())
	}

	for _, clients := range []int{1, 8, 32} {
		logf("enroll: %d concurrent cmpclient clients, %v", clients, budget)
		before, _, _ := ca.counts()
		n, errs, elapsed := enrollFor(clients, budget, func() *cmpclient.Client { return newClient(ca, caCert) }, keys)
		time.Sleep(100 * time.Millisecond) // let the last event lines arrive
		after, _, _ := ca.counts()
		res.Concurrency = append(res.Concurrency, concurrencyResult{
			Clients:        clients,
			Enrollments:    n,
			EnrollPerSec:   float64(n) / elapsed.Seconds(),
			RequestsPerSec: float64(after-before) / elapsed.Seconds(),
			Errors:         errs,
		})
	}
	return res
}

func newClient(ca *devca, caCert *x509.Certificate) *cmpclient.Client {
	return &cmpclient.Client{
		URL:          ca.ready.URL,
		Credentials:  cmpclient.MACCredentials{Reference: ca.ready.Reference, Secret: []byte(ca.ready.Secret)},
		TrustAnchors: []*x509.Certificate{caCert},
	}
}

// enrollFor runs `clients` goroutines, each with its own Client, that
// enroll one after another until the budget is spent.
func enrollFor(clients int, budget time.Duration, newC func() *cmpclient.Client, keys []crypto.Signer) (done, failed int, elapsed time.Duration) {
	var ok, bad atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), budget+2*time.Minute)
	defer cancel()
	start := time.Now()
	deadline := start.Add(budget)
	var wg sync.WaitGroup
	for g := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newC()
			for i := 0; time.Now().Before(deadline); i++ {
				req := &cmpclient.CertRequest{
					Subject:  pkix.Name{CommonName: fmt.Sprintf("enroll-%d-%d.bench.example", g, i), Organization: []string{"Bench"}},
					DNSNames: []string{fmt.Sprintf("enroll-%d-%d.bench.example", g, i)},
					KeyUsage: x509.KeyUsageDigitalSignature,
					Key:      keys[(g+i)%len(keys)],
				}
				if _, err := c.Enroll(ctx, req); err != nil {
					bad.Add(1)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(ok.Load()), int(bad.Load()), time.Since(start)
}

// keyPool makes ECDSA P-256 keys ahead of time: both clients enroll keys
// that exist already, since `openssl cmp -newkey` reads a key file.
func keyPool(n int) ([]crypto.Signer, error) {
	var keys []crypto.Signer
	for range n {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// opensslFor runs `openssl cmp -cmd ir` processes one after another
// (PBM as OpenSSL sends it by default, certConf included) until the budget
// is spent. The secret goes through the environment, not the argv.
func opensslFor(ca *devca, caCert *x509.Certificate, dir string, budget time.Duration) (count int, rate float64, warn string, err error) {
	if _, err := exec.LookPath("openssl"); err != nil {
		return 0, 0, "", fmt.Errorf("openssl not on PATH: %v", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return 0, 0, "", err
	}
	keyPEM, err := pemkey.MarshalPrivateKey(key)
	if err != nil {
		return 0, 0, "", err
	}
	keyFile := filepath.Join(dir, "openssl-new.key")
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return 0, 0, "", err
	}
	u, err := url.Parse(ca.ready.URL)
	if err != nil {
		return 0, 0, "", err
	}
	start := time.Now()
	n, notYetValid := 0, 0
	for time.Since(start) < budget || n == 0 {
		cmd := exec.Command("openssl", "cmp", "-cmd", "ir",
			"-server", u.Host, "-path", strings.TrimPrefix(u.Path, "/"),
			"-ref", ca.ready.Reference, "-secret", "env:BENCH_CMP_SECRET",
			"-recipient", opensslName(caCert.Subject),
			"-newkey", keyFile, "-subject", fmt.Sprintf("/O=Bench/CN=openssl-%d.bench.example", n),
			"-out_trusted", ca.ready.CACertificateFile,
			"-certout", filepath.Join(dir, "openssl.crt"),
			"-msg_timeout", "20", "-total_timeout", "50", "-batch")
		cmd.Env = append(os.Environ(), "BENCH_CMP_SECRET="+ca.ready.Secret)
		out, err := cmd.CombinedOutput()
		switch {
		case err == nil:
			n++
		case bytes.Contains(out, []byte("certificate is not yet valid")) && notYetValid < 5:
			// OpenSSL checks the new certificate against the time its
			// run started; one issued in the next second (the devca
			// sets notBefore to the issuing second) is refused. Such a
			// run counts as time spent, not as an enrollment.
			notYetValid++
		default:
			return n, 0, "", fmt.Errorf("openssl cmp ir #%d: %v\n%s", n+notYetValid, err, out)
		}
	}
	if notYetValid > 0 {
		warn = fmt.Sprintf("%d openssl runs refused the new certificate as not yet valid (notBefore = the second it was issued) and were not counted", notYetValid)
	}
	return n, float64(n) / time.Since(start).Seconds(), warn, nil
}

// opensslName writes a Name as OpenSSL's -recipient wants it: /TYPE=value
// from the most significant RDN on.
func opensslName(n pkix.Name) string {
	var b strings.Builder
	for _, c := range n.Country {
		b.WriteString("/C=" + c)
	}
	for _, o := range n.Organization {
		b.WriteString("/O=" + o)
	}
	for _, ou := range n.OrganizationalUnit {
		b.WriteString("/OU=" + ou)
	}
	if n.CommonName != "" {
		b.WriteString("/CN=" + n.CommonName)
	}
	return b.String()
}

func parseCert(pemText string) (*x509.Certificate, error) {
	certs, err := pemkey.ParseCertificates([]byte(pemText))
	if err != nil {
		return nil, fmt.Errorf("devca ready line: CA certificate: %w", err)
	}
	return certs[0], nil
}

var benchLine = regexp.MustCompile(`^BenchmarkEnrollIR\S*\s+(\d+)\s+([\d.]+) ns/op(?:.*?\s([\d.]+) B/op\s+([\d.]+) allocs/op)?`)

// runGoBench runs bench's BenchmarkEnrollIR against the CA process, so the
// allocations it reports are the client's alone.
func runGoBench(repo string, ca *devca) (goBench, error) {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", "^BenchmarkEnrollIR$", "-benchmem", "-benchtime", "300x", "-count", "1", "./bench/")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(),
		"BENCH_CMP_URL="+ca.ready.URL,
		"BENCH_CMP_REFERENCE="+ca.ready.Reference,
		"BENCH_CMP_SECRET="+ca.ready.Secret,
		"BENCH_CMP_CA_FILE="+ca.ready.CACertificateFile,
	)
	out, err := cmd.CombinedOutput()
	gb := goBench{Output: string(out)}
	if err != nil {
		return gb, fmt.Errorf("go test -bench: %v\n%s", err, out)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		gb.Iterations, _ = strconv.Atoi(m[1])
		gb.NsPerOp, _ = strconv.ParseFloat(m[2], 64)
		gb.BytesPerOp, _ = strconv.ParseFloat(m[3], 64)
		gb.AllocsPerOp, _ = strconv.ParseFloat(m[4], 64)
		return gb, nil
	}
	return gb, fmt.Errorf("go test -bench: no BenchmarkEnrollIR line in:\n%s", out)
}
