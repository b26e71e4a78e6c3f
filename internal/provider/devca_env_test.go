package provider

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// caEnv is a development CA served in process on 127.0.0.1 for the
// acceptance tests, with a record of every message it handled.
type caEnv struct {
	ca                            *devca.CA
	url, reference, secret, caPEM string

	mu     sync.Mutex
	events []devca.Event
}

// startCA starts a development CA with cfg (Events is set here, and Dir
// when empty).
func startCA(t *testing.T, cfg devca.Config) *caEnv {
	t.Helper()
	e := &caEnv{}
	if cfg.Dir == "" { // a test may bring its own CA key and certificate in cfg.Dir
		cfg.Dir = t.TempDir()
	}
	cfg.Events = func(ev devca.Event) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.events = append(e.events, ev)
	}
	ca, err := devca.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ca)
	t.Cleanup(func() {
		srv.Close()
		ca.Close()
	})
	caPEM, err := os.ReadFile(ca.CACertificateFile())
	if err != nil {
		t.Fatal(err)
	}
	e.ca, e.url, e.reference, e.secret, e.caPEM = ca, srv.URL+"/.well-known/cmp", ca.Reference(), ca.Secret(), string(caPEM)
	return e
}

// providerBlock configures the provider for this CA; withCredentials adds
// the PBM reference and secret as IR defaults.
func (e *caEnv) providerBlock(withCredentials bool) string {
	c := hclConfig{url: e.url, messageTimeout: "5s", trustedCAPEM: e.caPEM}
	if withCredentials {
		c.reference, c.secret = e.reference, e.secret
	}
	return c.provider()
}

// mark returns a position in the event record, for since.
func (e *caEnv) mark() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.events)
}

// ops lists the operations of the messages handled since mark n, each as
// "op:status".
func (e *caEnv) ops(n int) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.events[n:] {
		out = append(out, ev.Op+":"+ev.Status)
	}
	return out
}

// sawSince checks that the CA handled exactly want since mark, each
// message as "op:status" in order (confirmations included).
func (e *caEnv) sawSince(mark int, want []string) error {
	if got := e.ops(mark); !slices.Equal(got, want) {
		return fmt.Errorf("the CA saw %v, want %v", got, want)
	}
	return nil
}

// accountedFor: every certificate the CA issued is in state s (current or
// previous_certificate_pem) or revoked at the CA.
func (e *caEnv) accountedFor(t *testing.T, s *terraform.State) error {
	_, held, _ := serialsInState(s)
	e.mu.Lock()
	events := slices.Clone(e.events)
	e.mu.Unlock()
	for _, ev := range events {
		if ev.Serial == "" || !slices.Contains([]string{"ir", "cr", "kur"}, ev.Op) {
			continue
		}
		if !held[ev.Serial] && !e.revoked(t, ev.Serial) {
			return fmt.Errorf("certificate %s (%s, by %s) is neither in state nor revoked", ev.Serial, ev.Subject, ev.Op)
		}
	}
	return nil
}

// revoked reports whether the CA revoked the certificate with serial.
func (e *caEnv) revoked(t *testing.T, serial string) bool {
	t.Helper()
	_, revoked, ok := e.ca.Certificate(serial)
	if !ok {
		t.Errorf("serial %s is not a certificate of the CA", serial)
	}
	return revoked
}

// stateAttr reads one attribute of a resource from the state.
func stateAttr(s *terraform.State, addr, name string) string {
	rs := s.RootModule().Resources[addr]
	if rs == nil || rs.Primary == nil {
		return ""
	}
	return rs.Primary.Attributes[name]
}

// testClock is a clock a test moves, starting at the real time; the
// provider reads it from its own goroutines.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock by d.
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set puts the clock at t.
func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// providersAt is testAccProviders with the certificate resources on c.
func providersAt(c clock) map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"cmpv2": func() (tfprotov6.ProviderServer, error) { return newServer("test", c)(), nil },
	}
}

// fixedClock is a clock that stays at t.
func fixedClock(t time.Time) clock { return clock{Now: func() time.Time { return t }} }

// testExternalCredential makes a manufacturer CA and a device certificate
// it issued (digitalSignature), as an externally issued IR credential.
func testExternalCredential(t *testing.T) (ca *x509.Certificate, certPEM, keyPEM string) {
	t.Helper()
	manufacturer := testpki.Issue(t, &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Manufacturer CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}, nil, nil)
	device := testpki.Issue(t, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "device-0001"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}, nil, manufacturer)
	return manufacturer.Cert, string(device.CertPEM()), string(device.KeyPEM())
}

// trustAnchors is the CA certificate, for clients built in tests.
func (e *caEnv) trustAnchors(t *testing.T) []*x509.Certificate {
	t.Helper()
	return []*x509.Certificate{e.ca.CACertificate()}
}
