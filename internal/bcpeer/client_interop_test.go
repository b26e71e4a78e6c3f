package bcpeer_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/bcpeer"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
)

// TestBouncyCastleClientInterop drives the development CA with Bouncy
// Castle's CMP client through ir (PBM with HMAC-SHA1 and HMAC-SHA256,
// PBMAC1), p10cr, genm, cr, kur and rr, each followed by certConf where the
// operation issues a certificate. The Java client checks every answer as a
// strict client (protection, transactionID, nonces, status, public key,
// chain); this side checks what the CA recorded.
func TestBouncyCastleClientInterop(t *testing.T) {
	t.Parallel() // each waits mostly on a JVM
	java := bcpeer.Find(t)
	classes := java.Compile(t, bcpeer.Source(t, "BcCmpClient.java"))

	var mu sync.Mutex
	var events []devca.Event
	ca, err := devca.New(devca.Config{Dir: t.TempDir(), Events: func(e devca.Event) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}})
	if err != nil {
		t.Fatalf("devca.New: %v", err)
	}
	srv := httptest.NewServer(ca)
	t.Cleanup(func() {
		srv.Close()
		ca.Close()
	})
	out := t.TempDir()
	secretFile := filepath.Join(out, "secret")
	if err := os.WriteFile(secretFile, []byte(ca.Secret()), 0o600); err != nil {
		t.Fatal(err)
	}
	cases, stderr := java.RunCases(t, classes, "BcCmpClient", srv.URL+"/.well-known/cmp", ca.Reference(), secretFile, ca.CACertificateFile(), out)
	if stderr != "" {
		t.Logf("BcCmpClient stderr:\n%s", stderr)
	}

	// issued checks that the CA holds the certificate the case reports and
	// whether it is revoked.
	issued := func(t *testing.T, r bcpeer.Result, key string, wantRevoked bool) {
		t.Helper()
		serial := r.Field(key)
		if serial == "" {
			t.Fatalf("case %s reported no %s: %q", r.Name, key, r.Detail)
		}
		_, revoked, ok := ca.Certificate(serial)
		if !ok {
			t.Fatalf("the CA has no certificate with serial %s", serial)
		}
		if revoked != wantRevoked {
			t.Errorf("certificate %s revoked = %v, want %v", serial, revoked, wantRevoked)
		}
	}
	for _, tc := range []struct {
		name  string
		check func(t *testing.T, r bcpeer.Result)
	}{
		{"ir-pbm-hmac-sha1", func(t *testing.T, r bcpeer.Result) { issued(t, r, "serial", false) }},
		{"ir-pbm-hmac-sha256", func(t *testing.T, r bcpeer.Result) { issued(t, r, "serial", false) }},
		{"ir-pbmac1", func(t *testing.T, r bcpeer.Result) { issued(t, r, "serial", false) }},
		{"p10cr", func(t *testing.T, r bcpeer.Result) { issued(t, r, "serial", false) }},
		{"genm-caCerts", nil},
		{"cr", func(t *testing.T, r bcpeer.Result) { issued(t, r, "serial", false) }},
		{"kur", func(t *testing.T, r bcpeer.Result) { issued(t, r, "serial", true) }},
		{"rr", func(t *testing.T, r bcpeer.Result) { issued(t, r, "serial", true) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := cases[tc.name]
			if !ok {
				t.Fatalf("the Bouncy Castle client reported no case %s", tc.name)
			}
			if !r.Pass {
				t.Fatalf("Bouncy Castle client: %s", r.Detail)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}

	t.Run("ca-saw", func(t *testing.T) {
		mu.Lock()
		defer mu.Unlock()
		count := map[string]int{}
		for _, e := range events {
			count[e.Op+"/"+e.Status]++
		}
		want := map[string]int{
			"ir/accepted": 3, "p10cr/accepted": 1, "cr/accepted": 1, "kur/accepted": 1,
			"certConf/confirmed": 6, "genm/accepted": 1, "rr/accepted": 1,
		}
		for k, n := range want {
			if count[k] != n {
				t.Errorf("CA saw %d %s, want %d (all: %v)", count[k], k, n, count)
			}
		}
		if len(events) != 14 {
			t.Errorf("CA saw %d messages, want 14: %v", len(events), count)
		}
	})
}
