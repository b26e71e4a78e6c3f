package devca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// eventLog records the events a CA emits.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (l *eventLog) add(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// all returns a copy of the events so far.
func (l *eventLog) all() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}

// last returns the last event with the op, and whether there is one.
func (l *eventLog) last(op string) (Event, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.events) - 1; i >= 0; i-- {
		if l.events[i].Op == op {
			return l.events[i], true
		}
	}
	return Event{}, false
}

// testCA is a CA served on 127.0.0.1 by httptest.
type testCA struct {
	ca  *CA
	srv *httptest.Server
	log *eventLog
	dir string
}

// startCA serves a CA built from cfg (Dir defaults to a temporary
// directory) until the test ends.
func startCA(t testing.TB, cfg Config) *testCA {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	log := &eventLog{}
	if cfg.Events == nil {
		cfg.Events = log.add
	}
	ca, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(ca)
	t.Cleanup(func() {
		srv.Close()
		ca.Close()
	})
	return &testCA{ca: ca, srv: srv, log: log, dir: cfg.Dir}
}

// url is the CMP endpoint.
func (c *testCA) url() string { return c.srv.URL + "/.well-known/cmp" }

// hostPort is the server address for `openssl cmp -server`.
func (c *testCA) hostPort() string { return strings.TrimPrefix(c.srv.URL, "http://") }

// writeKey makes a P-256 key, writes it as PKCS#8 PEM and returns the path.
func writeKey(t testing.TB, dir, name string) (string, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, key
}

// readCert reads the first certificate of a PEM file.
func readCert(t testing.TB, path string) *x509.Certificate {
	t.Helper()
	certs, err := readCertificates(path)
	if err != nil {
		t.Fatalf("read %s: %v", filepath.Base(path), err)
	}
	return certs[0]
}

// opensslName writes a Name the way `openssl -subject` takes it.
func opensslName(n pkix.Name) string {
	var b strings.Builder
	for _, o := range n.Organization {
		b.WriteString("/O=" + o)
	}
	if n.CommonName != "" {
		b.WriteString("/CN=" + n.CommonName)
	}
	return b.String()
}
