package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// TestCheckURL is the one URL rule (provider url, CMPV2_URL, server.url,
// cmpv2_server url, a cmpv2_server's import id): every refusal says what a
// CMP URL looks like, and a value without a scheme gets the URL it most
// likely means.
func TestCheckURL(t *testing.T) {
	cases := []struct {
		name string
		url  string
		want []string // parts of the error; nil: accepted
		not  []string // must not appear in the error
	}{
		{name: "https with a path", url: "https://ca.example/.well-known/cmp/p/tls"},
		{name: "http with a port", url: "http://127.0.0.1:8829/.well-known/cmp"},
		{name: "IPv6 host", url: "http://[::1]:8080/cmp"},
		{name: "query kept", url: "https://ca.example/cmp?profile=tls"},
		{name: "upper-case scheme", url: "HTTPS://ca.example/cmp"},
		{name: "no scheme, host with a port", url: "ca.example:8080/cmp",
			want: []string{"no scheme", cmpURLShape, "did you mean https://ca.example:8080/cmp?"},
			not:  []string{"first path segment"}},
		{name: "no scheme, host without a port", url: "ca.example/.well-known/cmp",
			want: []string{"no scheme", "did you mean https://ca.example/.well-known/cmp?"}},
		{name: "no scheme, localhost with a port", url: "localhost:8080/cmp",
			want: []string{"no scheme", "did you mean https://localhost:8080/cmp?"}},
		{name: "scheme-relative", url: "//ca.example/cmp",
			want: []string{"no scheme", "did you mean https://ca.example/cmp?"}},
		{name: "no scheme and no host", url: "/.well-known/cmp",
			want: []string{"no scheme", cmpURLShape}, not: []string{"did you mean"}},
		{name: "no scheme with a password gets no guess", url: "user:s3cret@ca.example/cmp",
			want: []string{"no scheme"}, not: []string{"s3cret", "did you mean"}},
		{name: "other scheme", url: "ftp://ca.example/cmp", want: []string{`got "ftp"`, cmpURLShape}},
		{name: "cmp scheme", url: "cmp://ca.example:829/", want: []string{`got "cmp"`}},
		{name: "https without slashes", url: "https:ca.example/cmp",
			want: []string{"no host", cmpURLShape}, not: []string{"did you mean"}},
		{name: "no host", url: "https:///.well-known/cmp", want: []string{"no host", cmpURLShape}},
		{name: "port without a host", url: "https://:8080/cmp", want: []string{"no host"}},
		{name: "leading space", url: " https://ca.example/cmp", want: []string{"white space", cmpURLShape},
			not: []string{"did you mean"}},
		{name: "trailing newline", url: "https://ca.example/cmp\n", want: []string{"white space"}},
		{name: "space in the path", url: "https://ca.example/my cmp", want: []string{"white space", "%20"}},
		{name: "space in the host", url: "https://ca example/cmp", want: []string{"white space"}},
		{name: "fragment", url: "https://ca.example/cmp#tls", want: []string{"fragment"}},
		{name: "empty fragment", url: "https://ca.example/cmp#", want: []string{"fragment"}},
		{name: "password in the URL", url: "https://user:s3cret@ca.example/cmp", want: []string{"basic_auth"},
			not: []string{"s3cret"}},
		{name: "bad port", url: "http://127.0.0.1:port/", want: []string{"not a URL", cmpURLShape}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkURL(tc.url)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("checkURL(%q): %v, want it accepted", tc.url, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("checkURL(%q) accepted it, want an error with %q", tc.url, tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("checkURL(%q) = %q, want it to contain %q", tc.url, err, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(err.Error(), n) {
					t.Errorf("checkURL(%q) = %q, must not contain %q", tc.url, err, n)
				}
			}
		})
	}
}

// errorAt returns the detail of the error at p in diags containing want,
// failing the test when there is none.
func errorAt(t *testing.T, diags diag.Diagnostics, p path.Path, want string) string {
	t.Helper()
	for _, e := range diags.Errors() {
		withPath, ok := e.(interface{ Path() path.Path })
		if ok && withPath.Path().Equal(p) && strings.Contains(e.Detail(), want) {
			return e.Detail()
		}
	}
	t.Fatalf("errors %v: none at %s containing %q", diags, p, want)
	return ""
}

// The URL error names where the value came from: the attribute, the
// environment variable, or the server object's attribute.
func TestURLErrorNamesItsSource(t *testing.T) {
	ctx := context.Background()
	env := map[string]string{envURL: "ca.example:8080/cmp"}
	_, diags := resolveDefaults(ctx, nullProviderModel(), func(k string) string { return env[k] })
	detail := errorAt(t, diags, path.Root("url"), "CMPV2_URL environment variable")
	if !strings.Contains(detail, "did you mean https://ca.example:8080/cmp?") {
		t.Errorf("detail %q: want the guess", detail)
	}

	m := nullProviderModel()
	m.URL = types.StringValue("ca.example:8080/cmp")
	_, diags = resolveDefaults(ctx, m, func(string) string { return "" })
	if detail := errorAt(t, diags, path.Root("url"), "url: the URL has no scheme"); strings.Contains(detail, "environment") {
		t.Errorf("detail %q names an environment variable for a configured value", detail)
	}

	obj := types.ObjectValueMust(connectionAttrTypes, map[string]attr.Value{
		"url": types.StringValue("ca.example/cmp"), "trusted_ca_pem": types.StringNull(),
		"server_certificate_pem": types.StringNull(), "recipient": types.StringNull(),
		"tls": types.ObjectNull(tlsAttrTypes), "basic_auth": types.ObjectNull(basicAuthAttrTypes),
		"implicit_confirm": types.BoolNull(), "message_timeout": types.StringNull(),
	})
	_, diags = resolveConnection(ctx, path.Root("server"), obj, nil)
	errorAt(t, diags, path.Root("server").AtName("url"), "server.url: the URL has no scheme")

	// The plan-time validator says the same with the attribute's path.
	resp := validateString(t, urlValidator(), path.Root("server").AtName("url"), "ca.example:8080/cmp")
	errorAt(t, resp, path.Root("server").AtName("url"), "server.url: the URL has no scheme")
}

// CMPV2_TRUSTED_CA_PEM holds the PEM itself or, as a CI "file" variable
// does, the path of a file with the PEM in it.
func TestTrustedCAPEMFromEnvironment(t *testing.T) {
	caPEM, _ := testCertificate(t, "Env Root")
	dir := t.TempDir()
	file := filepath.Join(dir, "CMPV2_TRUSTED_CA_PEM")
	if err := os.WriteFile(file, []byte(caPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "not-pem")
	if err := os.WriteFile(notPEM, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "secret-dir-name", "missing")

	cases := []struct {
		name  string
		value string
		want  string // part of the error at trusted_ca_pem; "": the certificate is trusted
		not   string // must not appear in the error
	}{
		{name: "PEM itself", value: caPEM},
		{name: "path of a PEM file", value: file},
		{name: "path of a missing file", value: missing,
			want: "CMPV2_TRUSTED_CA_PEM holds no PEM block, so it is read as the path", not: "secret-dir-name"},
		{name: "path of a file without PEM", value: notPEM,
			want: "(from the file named by the CMPV2_TRUSTED_CA_PEM environment variable)"},
		{name: "broken PEM is not a path", value: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
			want: "CMPV2_TRUSTED_CA_PEM environment variable", not: "read as the path"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{envTrustedCAPEM: tc.value}
			d, diags := resolveDefaults(context.Background(), nullProviderModel(), func(k string) string { return env[k] })
			if tc.want == "" {
				if diags.HasError() {
					t.Fatalf("unexpected error: %v", diags)
				}
				if len(d.TrustedCAs) != 1 || d.TrustedCAs[0].Subject.CommonName != "Env Root" {
					t.Fatalf("trusted CAs %v, want the one certificate", d.TrustedCAs)
				}
				return
			}
			detail := errorAt(t, diags, path.Root("trusted_ca_pem"), tc.want)
			if tc.not != "" && strings.Contains(detail, tc.not) {
				t.Errorf("detail %q must not contain %q", detail, tc.not)
			}
		})
	}

	// The attribute itself always holds PEM: a path there is an error
	// that says how to read a file.
	resp := validateString(t, certificatesPEMValidator(), path.Root("trusted_ca_pem"), file)
	errorAt(t, resp, path.Root("trusted_ca_pem"), `file("<path>")`)
	m := nullProviderModel()
	m.TrustedCAPEM = types.StringValue(file)
	_, diags := resolveDefaults(context.Background(), m, func(string) string { return "" })
	errorAt(t, diags, path.Root("trusted_ca_pem"), "no PEM")
}

// validateString runs the plan-time validator v on value at p.
func validateString(t *testing.T, v validator.String, p path.Path, value string) diag.Diagnostics {
	t.Helper()
	var resp validator.StringResponse
	v.ValidateString(context.Background(), validator.StringRequest{Path: p, ConfigValue: types.StringValue(value)}, &resp)
	return resp.Diagnostics
}

// TestAccProviderFromCIVariables: a provider configured by environment
// variables alone, as a CI pipeline does. A GitLab CI "file" variable puts
// the path of a file in CMPV2_TRUSTED_CA_PEM; the certificate is enrolled
// and revoked with it. A CMPV2_URL without a scheme fails the plan naming
// the variable and the URL it most likely means, before any message is sent.
func TestAccProviderFromCIVariables(t *testing.T) {
	body := `subject = { common_name = "ci.example" }`
	t.Run("trust anchor from a file variable", func(t *testing.T) {
		clearProviderEnv(t)
		e := startCA(t, devca.Config{})
		file := filepath.Join(t.TempDir(), "CMPV2_TRUSTED_CA_PEM")
		if err := os.WriteFile(file, []byte(e.caPEM), 0o600); err != nil {
			t.Fatal(err)
		}
		for k, v := range map[string]string{envURL: e.url, envReference: e.reference, envSecret: e.secret, envTrustedCAPEM: file} {
			t.Setenv(k, v)
		}
		var serials []string
		tfresource.Test(t, tfresource.TestCase{
			ProtoV6ProviderFactories: testAccProviders,
			Steps: []tfresource.TestStep{{
				Config:           hclConfig{body: body}.String(),
				ConfigPlanChecks: emptyPlanAfterApply,
				Check: tfresource.ComposeTestCheckFunc(checkIssued(t, e, "ir", "ci.example"), record(&serials),
					func(*terraform.State) error {
						if ops := e.ops(0); !slices.Equal(ops, []string{"ir:accepted", "certConf:confirmed"}) {
							return fmt.Errorf("CA saw %v, want one IR and its certConf", ops)
						}
						return nil
					}),
			}},
			CheckDestroy: revokedOnDestroy(t, e, &serials),
		})
	})
	t.Run("url without a scheme", func(t *testing.T) {
		clearProviderEnv(t)
		e := startCA(t, devca.Config{})
		t.Setenv(envURL, strings.TrimPrefix(e.url, "http://"))
		t.Setenv(envReference, e.reference)
		t.Setenv(envSecret, e.secret)
		tfresource.Test(t, tfresource.TestCase{
			ProtoV6ProviderFactories: testAccProviders,
			Steps: []tfresource.TestStep{{
				Config: hclConfig{body: body}.String(),
				ExpectError: regexp.MustCompile(`(?s)Invalid CMP server URL.*no scheme.*did\s+you\s+mean\s+` +
					regexp.QuoteMeta("https://"+strings.TrimPrefix(e.url, "http://")) + `\?.*CMPV2_URL\s+environment\s+variable`),
			}},
		})
		if ops := e.ops(0); len(ops) != 0 {
			t.Errorf("CA saw %v, want no message", ops)
		}
	})
}
