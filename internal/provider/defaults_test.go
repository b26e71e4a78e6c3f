package provider

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// testCertificate makes a self-signed certificate and its PKCS#8 key, PEM.
func testCertificate(t testing.TB, cn string) (certPEM, keyPEM string) {
	t.Helper()
	c := testpki.Issue(t, &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}, nil, nil)
	return string(c.CertPEM()), string(c.KeyPEM())
}

func nullProviderModel() providerModel {
	return providerModel{
		URL: types.StringNull(), Reference: types.StringNull(), Secret: types.StringNull(),
		TrustedCAPEM: types.StringNull(), TLS: types.ObjectNull(tlsAttrTypes),
		BasicAuth: types.ObjectNull(basicAuthAttrTypes), MessageTimeout: types.StringNull(),
		ImplicitConfirm: types.BoolNull(),
	}
}

func tlsObject(t *testing.T, caPEM, certPEM, keyPEM string) types.Object {
	t.Helper()
	str := func(s string) attr.Value {
		if s == "" {
			return types.StringNull()
		}
		return types.StringValue(s)
	}
	obj, diags := types.ObjectValue(tlsAttrTypes, map[string]attr.Value{
		"ca_pem": str(caPEM), "client_certificate_pem": str(certPEM), "client_private_key_pem": str(keyPEM),
		"server_name": types.StringValue("ca.internal"), "insecure_skip_verify": types.BoolNull(),
	})
	if diags.HasError() {
		t.Fatal(diags)
	}
	return obj
}

func TestResolveDefaults(t *testing.T) {
	caPEM, _ := testCertificate(t, "Test Root")
	clientPEM, clientKey := testCertificate(t, "client")
	_, otherKey := testCertificate(t, "other")

	cases := []struct {
		name     string
		edit     func(m *providerModel)
		env      map[string]string
		wantPath path.Path // zero: no error expected
		wantText string    // part of the error detail
		check    func(t *testing.T, d *Defaults)
	}{
		{
			name: "empty block gives built-in defaults",
			check: func(t *testing.T, d *Defaults) {
				if d.URL != "" || d.BasicAuth != nil || d.ImplicitConfirm || d.MessageTimeout != defaultMessageTimeout {
					t.Errorf("got %+v, want zero values and message timeout %s", d, defaultMessageTimeout)
				}
			},
		},
		{
			name: "environment fills unset attributes",
			env: map[string]string{envURL: "http://127.0.0.1:8829/.well-known/cmp", envReference: "ref",
				envSecret: "pw", envMessageTimeout: "45s", envImplicitConfirm: "true", envTrustedCAPEM: caPEM,
				envUsername: "alice", envPassword: "pa55"},
			check: func(t *testing.T, d *Defaults) {
				if d.URL != "http://127.0.0.1:8829/.well-known/cmp" || d.Reference != "ref" || d.Secret != "pw" ||
					d.MessageTimeout != 45*time.Second || !d.ImplicitConfirm || len(d.TrustedCAs) != 1 ||
					d.BasicAuth == nil || d.BasicAuth.Username != "alice" || d.BasicAuth.Password != "pa55" {
					t.Errorf("environment not applied: URL %q ref %q timeout %s implicit %v CAs %d basic %v",
						d.URL, d.Reference, d.MessageTimeout, d.ImplicitConfirm, len(d.TrustedCAs), d.BasicAuth != nil)
				}
			},
		},
		{
			name: "configuration wins over environment",
			edit: func(m *providerModel) {
				m.URL = types.StringValue("https://ca.example/cmp")
				m.ImplicitConfirm = types.BoolValue(false)
			},
			env: map[string]string{envURL: "http://other.example/", envImplicitConfirm: "true"},
			check: func(t *testing.T, d *Defaults) {
				if d.URL != "https://ca.example/cmp" || d.ImplicitConfirm {
					t.Errorf("got URL %q implicit %v, want the configured values", d.URL, d.ImplicitConfirm)
				}
			},
		},
		{
			name: "empty attribute falls back to the environment",
			edit: func(m *providerModel) { m.URL = types.StringValue("") },
			env:  map[string]string{envURL: "http://127.0.0.1:8829/.well-known/cmp"},
			check: func(t *testing.T, d *Defaults) {
				if d.URL != "http://127.0.0.1:8829/.well-known/cmp" {
					t.Errorf("got URL %q, want the one from %s", d.URL, envURL)
				}
			},
		},
		{
			name:     "url with another scheme",
			edit:     func(m *providerModel) { m.URL = types.StringValue("ldap://ca.example") },
			wantPath: path.Root("url"), wantText: `scheme must be http or https, got "ldap"`,
		},
		{
			name:     "url without host",
			env:      map[string]string{envURL: "http:///cmp"},
			wantPath: path.Root("url"), wantText: "no host: " + cmpURLShape + " (from the CMPV2_URL environment variable)",
		},
		{
			name:     "url with credentials",
			edit:     func(m *providerModel) { m.URL = types.StringValue("https://u:p@ca.example/cmp") },
			wantPath: path.Root("url"), wantText: "set basic_auth instead",
		},
		{
			name:     "unknown url",
			edit:     func(m *providerModel) { m.URL = types.StringUnknown() },
			wantPath: path.Root("url"), wantText: "known only after apply",
		},
		{
			name:     "secret without reference",
			env:      map[string]string{envSecret: "pw"},
			wantPath: path.Root("reference"), wantText: "secret is set but reference is not",
		},
		{
			name:     "trusted_ca_pem holding a key",
			edit:     func(m *providerModel) { m.TrustedCAPEM = types.StringValue(clientKey) },
			wantPath: path.Root("trusted_ca_pem"), wantText: `"PRIVATE KEY", want "CERTIFICATE"`,
		},
		{
			name:     "trusted_ca_pem with trailing garbage",
			edit:     func(m *providerModel) { m.TrustedCAPEM = types.StringValue(caPEM + "garbage") },
			wantPath: path.Root("trusted_ca_pem"), wantText: "unexpected data after PEM block 1",
		},
		{
			name:     "message_timeout not a duration",
			edit:     func(m *providerModel) { m.MessageTimeout = types.StringValue("5 minutes") },
			wantPath: path.Root("message_timeout"), wantText: "not a Go duration",
		},
		{
			name:     "message_timeout not positive",
			env:      map[string]string{envMessageTimeout: "0s"},
			wantPath: path.Root("message_timeout"), wantText: "must be positive",
		},
		{
			name:     "implicit_confirm from the environment not a boolean",
			env:      map[string]string{envImplicitConfirm: "yes please"},
			wantPath: path.Root("implicit_confirm"), wantText: "CMPV2_IMPLICIT_CONFIRM must be true or false",
		},
		{
			name: "tls with CA bundle and client certificate",
			edit: func(m *providerModel) { m.TLS = tlsObject(t, caPEM, clientPEM, clientKey) },
			check: func(t *testing.T, d *Defaults) {
				cfg := d.TLS
				if cfg == nil || cfg.RootCAs == nil || len(cfg.Certificates) != 1 || cfg.ServerName != "ca.internal" || cfg.InsecureSkipVerify {
					t.Errorf("tls.Config: roots %v, %d client certificates, server name %q, skip verify %v",
						cfg.RootCAs != nil, len(cfg.Certificates), cfg.ServerName, cfg.InsecureSkipVerify)
				}
			},
		},
		{
			name: "https verifies with system roots by default",
			check: func(t *testing.T, d *Defaults) {
				// No tls object: cmpclient's shared client, which verifies
				// with the system roots.
				conn := d.connection()
				if c := newCMPClient(context.Background(), &conn, nil); d.TLS != nil || c.HTTPClient != nil {
					t.Errorf("default: tls.Config %v, HTTP client %v; want none, so the system roots verify", d.TLS, c.HTTPClient)
				}
			},
		},
		{
			name:     "tls client certificate without key",
			edit:     func(m *providerModel) { m.TLS = tlsObject(t, "", clientPEM, "") },
			wantPath: path.Root("tls").AtName("client_private_key_pem"), wantText: "needs its private key",
		},
		{
			name:     "tls client key of another certificate",
			edit:     func(m *providerModel) { m.TLS = tlsObject(t, "", clientPEM, otherKey) },
			wantPath: path.Root("tls").AtName("client_private_key_pem"), wantText: "does not match",
		},
		{
			name:     "tls ca_pem not PEM",
			edit:     func(m *providerModel) { m.TLS = tlsObject(t, "not pem", "", "") },
			wantPath: path.Root("tls").AtName("ca_pem"), wantText: "no PEM",
		},
		{
			name:     "basic auth user without password",
			env:      map[string]string{envUsername: "alice"},
			wantPath: path.Root("basic_auth").AtName("password"), wantText: "no password",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := nullProviderModel()
			if tc.edit != nil {
				tc.edit(&m)
			}
			d, diags := resolveDefaults(context.Background(), m, func(k string) string { return tc.env[k] })
			if tc.wantText == "" {
				if diags.HasError() {
					t.Fatalf("unexpected error: %v", diags)
				}
				if tc.check != nil {
					tc.check(t, d)
				}
				return
			}
			if !diags.HasError() {
				t.Fatalf("no error, want one at %s containing %q", tc.wantPath, tc.wantText)
			}
			for _, e := range diags.Errors() {
				withPath, ok := e.(interface{ Path() path.Path })
				if ok && withPath.Path().Equal(tc.wantPath) && strings.Contains(e.Detail(), tc.wantText) {
					return
				}
			}
			t.Errorf("errors %v: none at %s containing %q", diags, tc.wantPath, tc.wantText)
		})
	}
}

// Secrets must never be quoted in diagnostics.
func TestResolveDefaultsKeepsSecretsOutOfErrors(t *testing.T) {
	certPEM, _ := testCertificate(t, "client")
	_, otherKey := testCertificate(t, "other")
	m := nullProviderModel()
	m.TLS = tlsObject(t, "", certPEM, otherKey)
	env := map[string]string{envSecret: "TOPSECRET-PBM", envPassword: "TOPSECRET-BASIC"}
	_, diags := resolveDefaults(context.Background(), m, func(k string) string { return env[k] })
	if !diags.HasError() {
		t.Fatal("want errors")
	}
	keyBody := strings.Split(otherKey, "\n")[1]
	for _, d := range diags {
		text := d.Summary() + d.Detail()
		for _, secret := range []string{"TOPSECRET-PBM", "TOPSECRET-BASIC", keyBody} {
			if strings.Contains(text, secret) {
				t.Errorf("diagnostic %q quotes a secret", d.Summary())
			}
		}
	}
}
