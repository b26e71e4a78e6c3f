package devca

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
)

// testCertificate makes a throw-away self-signed certificate.
func testCertificate(t *testing.T, cn string, serial int64, notAfter time.Time) *x509.Certificate {
	t.Helper()
	return testpki.Issue(t, &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    notAfter.Add(-time.Hour),
		NotAfter:     notAfter,
	}, nil, nil).Cert
}

func TestStoreReplay(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		// torn is appended to the file after the records, as a crash
		// in the middle of a write would leave it.
		torn        string
		wantIssued  int
		wantRevoked int
	}{
		{name: "clean", wantIssued: 3, wantRevoked: 1},
		{name: "torn last line", torn: `{"kind":"issued","serial":"9`, wantIssued: 3, wantRevoked: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), recordFile)
			s, err := openStore(path)
			if err != nil {
				t.Fatal(err)
			}
			live := testCertificate(t, "live", 1, now.Add(time.Hour))
			revoked := testCertificate(t, "revoked", 2, now.Add(time.Hour))
			expired := testCertificate(t, "expired", 3, now.Add(-time.Minute))
			for _, c := range []*x509.Certificate{live, revoked, expired} {
				if err := s.addIssued(c, "ir", "", now); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.revoke(revoked.SerialNumber, 4, now); err != nil {
				t.Fatal(err)
			}
			if err := s.revoke(revoked.SerialNumber, 4, now); err != errAlreadyRevoked {
				t.Fatalf("second revoke: got %v, want errAlreadyRevoked", err)
			}
			if err := s.revoke(big.NewInt(77), 0, now); err != errUnknownSerial {
				t.Fatalf("revoke unknown: got %v, want errUnknownSerial", err)
			}
			s.close()
			if tc.torn != "" {
				f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteString(tc.torn)
				f.Close()
			}

			s2, err := openStore(path)
			if err != nil {
				t.Fatalf("replay: %v", err)
			}
			defer s2.close()
			issued, revokedN := s2.counts()
			if issued != tc.wantIssued || revokedN != tc.wantRevoked {
				t.Fatalf("after replay: %d issued, %d revoked; want %d, %d", issued, revokedN, tc.wantIssued, tc.wantRevoked)
			}
			if sc, ok := s2.lookup(revoked.SerialNumber); !ok || !sc.revoked || sc.reason != 4 {
				t.Fatalf("revoked certificate after replay: %+v, %v", sc, ok)
			}
			if _, ok := s2.liveForSubject(live.RawSubject, now); !ok {
				t.Error("live certificate not found by subject")
			}
			for _, c := range []*x509.Certificate{revoked, expired} {
				if _, ok := s2.liveForSubject(c.RawSubject, now); ok {
					t.Errorf("%s counted as live", c.Subject)
				}
			}
			// The torn line is cut, so a record appended now replays.
			extra := testCertificate(t, "after", 4, now.Add(time.Hour))
			if err := s2.addIssued(extra, "ir", "", now); err != nil {
				t.Fatal(err)
			}
			s2.close()
			s3, err := openStore(path)
			if err != nil {
				t.Fatalf("replay after append: %v", err)
			}
			defer s3.close()
			if _, ok := s3.lookup(extra.SerialNumber); !ok {
				t.Error("record appended after a torn line was lost")
			}
		})
	}
}

func TestStoreConcurrentAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), recordFile)
	s, err := openStore(path)
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	certs := make([]*x509.Certificate, n)
	for i := range certs {
		certs[i] = testCertificate(t, "c", int64(i+1), time.Now().Add(time.Hour))
	}
	var wg sync.WaitGroup
	for _, c := range certs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.addIssued(c, "ir", "", time.Now()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	s.close()
	s2, err := openStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.close()
	if issued, _ := s2.counts(); issued != n {
		t.Fatalf("replayed %d records, want %d", issued, n)
	}
}

func TestStoreRejectsCorruptRecord(t *testing.T) {
	tests := []struct {
		name, content string
	}{
		{"not json", "garbage\n"},
		{"unknown kind", `{"kind":"frozen","serial":"1"}` + "\n"},
		{"revocation of unknown serial", `{"kind":"revoked","serial":"5"}` + "\n"},
		{"bad certificate", `{"kind":"issued","serial":"1","certificate":"AAAA"}` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), recordFile)
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if s, err := openStore(path); err == nil {
				s.close()
				t.Fatal("openStore accepted a corrupt record")
			}
		})
	}
}
