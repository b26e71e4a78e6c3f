package devca

import (
	"encoding/asn1"
	"os"
	"path/filepath"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// TestInteropOpenSSLCertificatePolicies: the certificatePolicies a request
// asks for (OpenSSL's -policy_oids, -policy_oids_critical and -policies)
// are issued as asked, criticality included, and carried over by a kur.
func TestInteropOpenSSLCertificatePolicies(t *testing.T) {
	c := startCA(t, Config{})
	dir := t.TempDir()
	config := filepath.Join(dir, "policies.cnf")
	const section = "[dev_policies]\ncertificatePolicies = @dev_policy\n[dev_policy]\npolicyIdentifier = 1.3.6.1.4.1.99999.3\nCPS.1 = \"http://cps.example/\"\n"
	if err := os.WriteFile(config, []byte("[default]\n"+section), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		oids     []string
		critical bool
	}{
		{"-policy_oids", []string{"-policy_oids", "1.3.6.1.4.1.99999.1"}, []string{"1.3.6.1.4.1.99999.1"}, false},
		{"-policy_oids critical", []string{"-policy_oids", "1.3.6.1.4.1.99999.1,1.3.6.1.4.1.99999.2", "-policy_oids_critical"},
			[]string{"1.3.6.1.4.1.99999.1", "1.3.6.1.4.1.99999.2"}, true},
		{"-policies with a qualifier", []string{"-config", config, "-policies", "dev_policies"}, []string{"1.3.6.1.4.1.99999.3"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from := len(c.log.all())
			key, _ := writeKey(t, t.TempDir(), "k.pem")
			out := filepath.Join(t.TempDir(), "c.crt")
			res := c.openssl(t, append(append(c.pbm(), "-cmd", "ir", "-newkey", key, "-subject", "/CN=policies", "-certout", out), tc.args...)...)
			expect(t, res, 0, "received IP", "received PKICONF")
			expectEvents(t, c.log, from, "ir:accepted", "certConf:confirmed")
			cert := readCert(t, out)
			var got []string
			for _, p := range cert.PolicyIdentifiers {
				got = append(got, p.String())
			}
			if len(got) != len(tc.oids) {
				t.Fatalf("policies %v, want %v", got, tc.oids)
			}
			for i := range got {
				if got[i] != tc.oids[i] {
					t.Fatalf("policies %v, want %v", got, tc.oids)
				}
			}
			for _, e := range cert.Extensions {
				if e.Id.Equal(cmp.OIDExtCertificatePolicies) && e.Critical != tc.critical {
					t.Errorf("certificatePolicies critical %v, want %v", e.Critical, tc.critical)
				}
			}

			// A kur that names no extensions keeps the policies.
			key2, _ := writeKey(t, t.TempDir(), "k2.pem")
			kurOut := filepath.Join(t.TempDir(), "kur.crt")
			res = c.openssl(t, append(c.signed(out, key), "-cmd", "kur", "-newkey", key2, "-certout", kurOut)...)
			expect(t, res, 0, "received KUP")
			if kur := readCert(t, kurOut); !samePolicies(kur.PolicyIdentifiers, cert.PolicyIdentifiers) {
				t.Errorf("kur certificate policies %v, want %v", kur.PolicyIdentifiers, cert.PolicyIdentifiers)
			}
		})
	}
}

func samePolicies(a, b []asn1.ObjectIdentifier) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}
