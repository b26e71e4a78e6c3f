package cmpclient

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// The security considerations of RFC 9810 section 8 and RFC 9483 section 9
// that the client enforces, one test each (docs/guides/reliability.md has the
// table that points here).

// pbmWithIterations is a PasswordBasedMac identifier asking for n
// iterations, encoded by hand because our own encoder refuses such values.
func pbmWithIterations(t *testing.T, n int64) pkix.AlgorithmIdentifier {
	t.Helper()
	params, err := asn1.Marshal(struct {
		Salt       []byte
		OWF        pkix.AlgorithmIdentifier
		Iterations int64
		MAC        pkix.AlgorithmIdentifier
	}{
		Salt:       []byte("0123456789abcdef"),
		OWF:        pkix.AlgorithmIdentifier{Algorithm: cmp.OIDSHA256},
		Iterations: n,
		MAC:        pkix.AlgorithmIdentifier{Algorithm: cmp.OIDHMACWithSHA256},
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkix.AlgorithmIdentifier{Algorithm: cmp.OIDPasswordBasedMac, Parameters: asn1.RawValue{FullBytes: params}}
}

// TestSecurityIterationCountCapped: a response whose PasswordBasedMac asks
// for more iterations than cmp.MaxMACIterations is refused without running
// them, so a hostile server cannot make the client spin (RFC 9810 section
// 8.7 leaves the count to the sender; the receiver bounds its cost).
func TestSecurityIterationCountCapped(t *testing.T) {
	for _, tc := range []struct {
		name       string
		iterations int64
		wantErr    bool
	}{
		{"at the cap", cmp.MaxMACIterations, false},
		{"one over the cap", cmp.MaxMACIterations + 1, true},
		{"two billion", 2_000_000_000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pki := newTestPKI(t)
			r := &responder{pki: pki, protect: func(m *cmp.Message) error {
				alg := pbmWithIterations(t, tc.iterations)
				if tc.iterations > cmp.MaxMACIterations {
					// The codec refuses to compute this MAC; the
					// client must refuse it before computing it.
					m.Header.ProtectionAlg = &alg
					m.Protection = make([]byte, 32) // never checked
					return nil
				}
				return cmp.ProtectMAC(m, cmp.MACParams{Identifier: &alg}, pki.secret)
			}}
			c := startResponder(t, r)
			start := time.Now()
			_, err := c.CACerts(testContext(t))
			took := time.Since(start)
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("a response at the cap is valid: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("a response over the iteration cap was accepted")
			}
			if !errors.Is(err, ErrProtection) || !strings.Contains(err.Error(), "exceeds the cap") {
				t.Errorf("error does not say the iteration count is over the cap: %v", err)
			}
			if took > 2*time.Second {
				t.Errorf("refusing took %v: the iterations were run", took)
			}
		})
	}
}

// TestSecurityConstantTimeMAC: the MAC of a message is compared with
// hmac.Equal (constant time), never with bytes.Equal or ==, in the one
// function that checks MAC protection for the client and the CA.
func TestSecurityConstantTimeMAC(t *testing.T) {
	path := filepath.Join("..", "internal", "cmp", "protection_mac.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var fn *ast.FuncDecl
	for _, d := range f.Decls {
		if d, ok := d.(*ast.FuncDecl); ok && d.Name.Name == "CheckMACProtection" {
			fn = d
		}
	}
	if fn == nil {
		t.Fatalf("%s has no CheckMACProtection", path)
	}
	var calls []string
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok {
					calls = append(calls, x.Name+"."+sel.Sel.Name)
				}
			}
		case *ast.BinaryExpr:
			isNil := func(e ast.Expr) bool { id, ok := e.(*ast.Ident); return ok && id.Name == "nil" }
			if (n.Op == token.EQL || n.Op == token.NEQ) && !isNil(n.X) && !isNil(n.Y) {
				t.Errorf("CheckMACProtection compares values with %s", n.Op)
			}
		}
		return true
	})
	joined := strings.Join(calls, " ")
	if !strings.Contains(joined, "hmac.Equal") {
		t.Errorf("CheckMACProtection does not use hmac.Equal (calls: %s)", joined)
	}
	if strings.Contains(joined, "bytes.Equal") || strings.Contains(joined, "bytes.Compare") {
		t.Errorf("CheckMACProtection compares with the bytes package (calls: %s)", joined)
	}
	// And the client verifies MAC protection through it: verify.go calls
	// cmp.VerifyMAC, which calls CheckMACProtection.
	for _, c := range []struct{ path, fn, call string }{
		{"verify.go", "", "VerifyMAC"},
		{filepath.Join("..", "internal", "cmp", "protection.go"), "VerifyMAC", "CheckMACProtection"},
	} {
		src, err := parser.ParseFile(token.NewFileSet(), c.path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		ast.Inspect(src, func(n ast.Node) bool {
			if d, ok := n.(*ast.FuncDecl); ok && c.fn != "" && d.Name.Name != c.fn {
				return false
			}
			switch n := n.(type) {
			case *ast.SelectorExpr:
				found = found || n.Sel.Name == c.call
			case *ast.Ident:
				found = found || n.Name == c.call && c.fn != ""
			}
			return true
		})
		if !found {
			t.Errorf("%s does not check MAC protection with %s", c.path, c.call)
		}
	}
}

// TestSecurityTLSVerifiedByDefault: over https the server's certificate is
// verified against the system roots unless the caller supplies others; a
// self-signed test server is refused, and accepted once its root is given.
func TestSecurityTLSVerifiedByDefault(t *testing.T) {
	pki := newTestPKI(t)
	srv := httptest.NewTLSServer(&responder{pki: pki})
	t.Cleanup(srv.Close)
	c := &Client{URL: srv.URL + "/pkix/", Credentials: MACCredentials{Reference: pki.reference, Secret: pki.secret, Iterations: 500},
		TrustAnchors: []*x509.Certificate{pki.root}, MessageTimeout: 5 * time.Second}
	_, err := c.CACerts(testContext(t))
	var uerr x509.UnknownAuthorityError
	if err == nil || !errors.As(err, &uerr) {
		t.Fatalf("default client: want an unknown-authority TLS error, got %v", err)
	}
	cfg, err := TLSConfig(TLSOptions{CAPEM: pemOf("CERTIFICATE", srv.Certificate().Raw)})
	if err != nil {
		t.Fatal(err)
	}
	c.HTTPClient = &http.Client{Transport: NewTransport(cfg)}
	if _, err := c.CACerts(testContext(t)); err != nil {
		t.Fatalf("with the server's root: %v", err)
	}
}

// TestSecurityEveryRequestProtected: plain HTTP is acceptable for CMP only
// because every message carries its own protection (RFC 6712 section 3.1,
// RFC 9483 section 3.2). The client sends nothing without credentials, and
// every message it sends in every operation is protected.
func TestSecurityEveryRequestProtected(t *testing.T) {
	pki := newTestPKI(t)
	r := &responder{pki: pki}
	c := startResponder(t, r)

	bare := &Client{URL: c.URL, HTTPClient: c.HTTPClient, TrustAnchors: c.TrustAnchors}
	if _, err := bare.Enroll(testContext(t), certRequest(t, "none")); err == nil || !strings.Contains(err.Error(), "no credentials") {
		t.Fatalf("enrollment without credentials: %v", err)
	}
	if n := len(r.requests()); n != 0 {
		t.Fatalf("%d requests reached the server without credentials", n)
	}

	key := newKey(t)
	enr, err := c.Enroll(testContext(t), &CertRequest{Subject: pkix.Name{CommonName: "device"}, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Certify(testContext(t), certRequest(t, "device"), enr.Certificate, key); err != nil {
		t.Fatal(err)
	}
	newKey := newKey(t)
	kup, err := c.UpdateKey(testContext(t), &CertRequest{Key: newKey}, enr.Certificate, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Revoke(testContext(t), kup.Certificate, newKey, ReasonSuperseded); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CACerts(testContext(t)); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range r.requests() {
		seen[m.Body.Type.String()] = true
		if m.Header.ProtectionAlg == nil || len(m.Protection) == 0 {
			t.Errorf("a %s was sent without protection", m.Body.Type)
		}
	}
	for _, want := range []string{"ir", "cr", "kur", "rr", "genm", "certConf"} {
		if !seen[want] {
			t.Errorf("no %s was sent; the test does not cover it", want)
		}
	}
}
