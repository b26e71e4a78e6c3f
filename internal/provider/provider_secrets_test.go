package provider

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/faultproxy"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// secretName matches the attributes that hold secrets or private keys.
var secretName = regexp.MustCompile(`secret|password|private_key`)

// notSecret are names secretName matches that hold no secret:
// secret_encoding says how a secret is written, a *_wo_version counts changes
// (private_key_wo_version numbers a write-only key).
var notSecret = map[string]bool{"secret_encoding": true, "private_key_wo_version": true,
	"certificate_p12_password_wo_version": true}

// schemaAttr is what both schema packages' attributes answer.
type schemaAttr interface {
	IsSensitive() bool
	IsWriteOnly() bool
}

// walkResource visits every attribute of a resource schema, nested ones
// with their dotted path.
func walkResource(prefix string, attrs map[string]rschema.Attribute, visit func(path string, a schemaAttr)) {
	for name, a := range attrs {
		p := prefix + name
		visit(p, a)
		if n, ok := a.(rschema.SingleNestedAttribute); ok {
			walkResource(p+".", n.Attributes, visit)
		}
	}
}

func walkProvider(prefix string, attrs map[string]pschema.Attribute, visit func(path string, a schemaAttr)) {
	for name, a := range attrs {
		p := prefix + name
		visit(p, a)
		if n, ok := a.(pschema.SingleNestedAttribute); ok {
			walkProvider(p+".", n.Attributes, visit)
		}
	}
}

// TestSchemaSecretsSensitive: every attribute that holds a secret, a
// password or a private key is Sensitive (Terraform then hides it in plans
// and output) or write-only (never in a plan or the state, so Terraform
// shows it as "(write-only attribute)"), and every *_wo attribute is
// write-only. A top-level write-only attribute is not also Sensitive: the
// flag hides nothing there, and Terraform writes a sensitive_attributes
// entry for it into the state of every instance, null or not, and marks
// and unmarks its path in every plan. A nested one is: without the flag,
// a sensitive value given in one run and not in the next makes Terraform
// and OpenTofu plan an update that shows no change
// (TestAccCertificateWriteOnlyMarks).
func TestSchemaSecretsSensitive(t *testing.T) {
	ctx := context.Background()
	checked, writeOnly := 0, 0
	check := func(where string) func(path string, a schemaAttr) {
		return func(path string, a schemaAttr) {
			if name := path[strings.LastIndex(path, ".")+1:]; secretName.MatchString(name) && !notSecret[name] {
				checked++
				if !a.IsSensitive() && !a.IsWriteOnly() {
					t.Errorf("%s: %s holds a secret but is neither Sensitive nor write-only", where, path)
				}
			}
			if a.IsWriteOnly() {
				writeOnly++
				if nested := strings.Contains(path, "."); a.IsSensitive() != nested {
					t.Errorf("%s: %s is write-only and Sensitive = %t: a write-only attribute is Sensitive exactly when nested",
						where, path, a.IsSensitive())
				}
			}
			if strings.HasSuffix(path, "_wo") && !a.IsWriteOnly() {
				t.Errorf("%s: %s is not write-only", where, path)
			}
		}
	}
	var presp provider.SchemaResponse
	p := New("test")()
	p.Schema(ctx, provider.SchemaRequest{}, &presp)
	walkProvider("", presp.Schema.Attributes, check("provider"))
	for _, newRes := range p.Resources(ctx) {
		r := newRes()
		var mresp resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "cmpv2"}, &mresp)
		var sresp resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &sresp)
		walkResource("", sresp.Schema.Attributes, check(mresp.TypeName))
	}
	// provider secret, tls and basic_auth secrets of the provider, both
	// resources' server objects, the enrollment credentials and the key.
	if checked < 8 {
		t.Errorf("only %d secret attributes found; the walk misses some", checked)
	}
	// cmpv2_certificate: private_key_wo, previous_private_key_wo,
	// certificate_p12_password_wo, enrollment.secret_wo; cmpv2_server:
	// credentials.secret_wo, basic_auth.password_wo, tls.client_private_key_wo.
	if writeOnly < 7 {
		t.Errorf("only %d write-only attributes found; the walk misses some", writeOnly)
	}
	t.Logf("%d secret-holding attributes checked, %d of them write-only", checked, writeOnly)
}

// The secrets of TestAccSecretsNeverLogged. "¤" appears nowhere else, so an
// error pattern can require its absence.
const (
	logSecretProvider = "prov¤S3cret-1a2b"
	logSecretWO       = "wo¤S3cret-3c4d"
	logSecretState    = "state¤S3cret-5e6f"
	logSecretBasic    = "basic¤S3cret-7a8b"
)

// TestAccSecretsNeverLogged plans configurations full of secrets and
// private keys with Terraform and the provider logging at TRACE into one
// file, and checks that no secret and no line of private key material is
// in that file, in an error, or unmarked in the plan.
func TestAccSecretsNeverLogged(t *testing.T) {
	clearProviderEnv(t)
	logFile := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("TF_ACC_LOG_PATH", logFile)
	t.Setenv("TF_LOG", "TRACE")
	userCertPEM, userKeyPEM := testCertificate(t, "own key")
	devCertPEM, devKeyPEM := testCertificate(t, "device")
	tlsCertPEM, tlsKeyPEM := testCertificate(t, "tls client")

	heredoc := func(attr, pem string) string { return attr + " = <<EOT\n" + pem + "EOT\n" }
	providerBlock := fmt.Sprintf(`
locals {
  provider_secret = %q
  wo_secret       = %q
  state_secret    = %q
  basic_password  = %q
}
provider "cmpv2" {
  url       = "http://127.0.0.1:8829/.well-known/cmp"
  reference = "ref"
  secret    = local.provider_secret
}
`, logSecretProvider, logSecretWO, logSecretState, logSecretBasic)
	server := "server = {\nurl = \"http://127.0.0.1:8829/.well-known/cmp\"\nbasic_auth = { username = \"u\", password = local.basic_password }\ntls = {\n" +
		heredoc("client_certificate_pem", tlsCertPEM) + heredoc("client_private_key_pem", tlsKeyPEM) + "}\n}\n"
	valid := providerBlock + `
resource "cmpv2_certificate" "wo" {
  subject    = { common_name = "wo.example" }
  enrollment = { reference = "r", secret_wo = local.wo_secret }
` + server + `}
resource "cmpv2_certificate" "stored" {
  subject    = { common_name = "stored.example" }
  enrollment = { reference = "r", secret = local.state_secret }
` + heredoc("private_key_pem", userKeyPEM) + `}
resource "cmpv2_certificate" "device" {
  subject    = { common_name = "device.example" }
  enrollment = {
` + heredoc("certificate_pem", devCertPEM) + heredoc("private_key_pem", devKeyPEM) + `}
  server = {
` + heredoc("trusted_ca_pem", devCertPEM) + `}
}
`
	// noSecret wraps a pattern so that it matches only output without "¤".
	noSecret := func(pattern string) *regexp.Regexp {
		return regexp.MustCompile(`^(?s)[^¤]*` + pattern + `[^¤]*$`)
	}
	invalid := []struct {
		name, config, want string
	}{
		{"conflicting credentials next to a secret", providerBlock + `
resource "cmpv2_certificate" "bad" {
  subject    = { common_name = "bad.example" }
  enrollment = {
    reference = "r"
    secret    = local.state_secret
` + heredoc("certificate_pem", devCertPEM) + heredoc("private_key_pem", devKeyPEM) + `}
}`, `Conflicting enrollment credentials`},
		{"secret and secret_wo together", providerBlock + `
resource "cmpv2_certificate" "bad" {
  subject    = { common_name = "bad.example" }
  enrollment = { reference = "r", secret = local.state_secret, secret_wo = local.wo_secret }
}`, `cannot be specified when`},
		// With no reference in the provider either: a provider reference
		// would go with the secret.
		{"secret without reference", strings.NewReplacer(`reference = "ref"`, "", `secret    = local.provider_secret`, "").Replace(providerBlock) + `
resource "cmpv2_certificate" "bad" {
  subject    = { common_name = "bad.example" }
  enrollment = { secret_wo = local.wo_secret }
}`, `Missing enrollment reference`},
		{"password without a user", providerBlock + `
resource "cmpv2_certificate" "bad" {
  subject = { common_name = "bad.example" }
  server  = { url = "http://127.0.0.1:8829/", basic_auth = { password = local.basic_password } }
}`, `username`},
		{"secret in the URL", providerBlock + `
resource "cmpv2_certificate" "bad" {
  subject = { common_name = "bad.example" }
  server  = { url = "http://u:${local.basic_password}@127.0.0.1:8829/" }
}`, `Invalid CMP server URL`},
		{"private key where a certificate belongs", providerBlock + `
resource "cmpv2_certificate" "bad" {
  subject = { common_name = "bad.example" }
  server  = {
    url = "http://127.0.0.1:8829/"
` + heredoc("trusted_ca_pem", userKeyPEM) + `}
}`, `Invalid certificate PEM`},
	}

	sensitivePaths := map[string][]string{
		"cmpv2_certificate.wo":     {"server.basic_auth.password", "server.tls.client_private_key_pem", "private_key_pem"},
		"cmpv2_certificate.stored": {"enrollment.secret", "private_key_pem"},
		"cmpv2_certificate.device": {"enrollment.private_key_pem", "private_key_pem"},
	}
	steps := []tfresource.TestStep{{
		Config:             valid,
		PlanOnly:           true,
		ExpectNonEmptyPlan: true,
		ConfigPlanChecks: tfresource.ConfigPlanChecks{PostApplyPreRefresh: []plancheck.PlanCheck{
			sensitiveInPlan{paths: sensitivePaths, writeOnly: map[string]string{"cmpv2_certificate.wo": "secret_wo"}},
		}},
	}}
	for _, tc := range invalid {
		steps = append(steps, tfresource.TestStep{
			Config:             tc.config,
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
			ExpectError:        noSecret(tc.want),
		})
	}
	// An apply against a live development CA whose PBM secret is the
	// provider secret: IR, certConf, genm and, at the end, RR. The proxy
	// keeps the requests, so the PBM keys they used can be derived below.
	ca, err := devca.New(devca.Config{Dir: t.TempDir(), Reference: "ref", Secret: logSecretProvider})
	if err != nil {
		t.Fatal(err)
	}
	proxy := faultproxy.New(ca)
	srv := httptest.NewServer(proxy)
	t.Cleanup(func() {
		srv.Close()
		ca.Close()
	})
	caPEM, err := os.ReadFile(ca.CACertificateFile())
	if err != nil {
		t.Fatal(err)
	}
	caURL := srv.URL + "/.well-known/cmp"
	applied := strings.Replace(providerBlock, `url       = "http://127.0.0.1:8829/.well-known/cmp"`,
		fmt.Sprintf("url       = %q\n  trusted_ca_pem = <<EOT\n%sEOT", caURL, caPEM), 1) + fmt.Sprintf(`
resource "cmpv2_certificate" "applied" {
  subject   = { common_name = "applied.example" }
  dns_names = ["applied.example"]
}
resource "cmpv2_server" "applied" {
  url = %q
}
`, caURL)
	var issuedKeyPEM string
	steps = append(steps, tfresource.TestStep{
		Config: applied,
		Check: func(s *terraform.State) error {
			rs := s.RootModule().Resources["cmpv2_certificate.applied"]
			if rs == nil || rs.Primary.Attributes["private_key_pem"] == "" {
				return fmt.Errorf("no generated key in state")
			}
			issuedKeyPEM = rs.Primary.Attributes["private_key_pem"]
			return nil
		},
	})
	tfresource.Test(t, tfresource.TestCase{ProtoV6ProviderFactories: testAccProviders, Steps: steps})

	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("no trace log: %v", err)
	}
	log := withoutConfigDump(string(data))
	// The file must hold both Terraform's and the provider's trace lines,
	// or the check below proves nothing.
	for _, want := range []string{"[TRACE]", "ValidateResourceConfig", "cmpv2_certificate", "tf_provider_addr", "test_terraform_plan=", "(sensitive value)"} {
		if !strings.Contains(log, want) {
			t.Errorf("trace log (%d bytes) lacks %q: the provider's or Terraform's logs were not captured", len(data), want)
		}
	}
	leaks := map[string]string{
		"provider secret": logSecretProvider, "write-only secret": logSecretWO, "enrollment secret": logSecretState,
		"basic auth password": logSecretBasic, "secret marker": "¤",
	}
	pbmKeys := derivedPBMKeys(t, proxy.Exchanges(), []byte(logSecretProvider))
	if len(pbmKeys) == 0 {
		t.Error("no PBM-protected request went to the CA: the PBM key check proves nothing")
	}
	for i, k := range pbmKeys {
		leaks[fmt.Sprintf("PBM key %d (hex)", i)] = hex.EncodeToString(k)
		leaks[fmt.Sprintf("PBM key %d (HEX)", i)] = strings.ToUpper(hex.EncodeToString(k))
		leaks[fmt.Sprintf("PBM key %d (base64)", i)] = base64.StdEncoding.EncodeToString(k)
	}
	for name, pemText := range map[string]string{"user private key": userKeyPEM, "enrollment private key": devKeyPEM,
		"TLS client key": tlsKeyPEM, "generated private key": issuedKeyPEM} {
		for i, line := range strings.Split(pemText, "\n") {
			if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
				leaks[fmt.Sprintf("%s line %d", name, i)] = line
			}
		}
	}
	for name, secret := range leaks {
		if i := strings.Index(log, secret); i >= 0 {
			// Show what leads up to it (not the secret), to find the writer.
			line := log[strings.LastIndex(log[:i], "\n")+1 : i]
			t.Errorf("the %s appears in the TRACE log at byte %d, after: %.300s", name, i, line)
		}
	}
	t.Logf("trace log: %d bytes, %d lines, %d secrets, PBM keys and key lines searched, %d invalid configurations with secrets planned, one apply and destroy against a live CA",
		len(data), strings.Count(log, "\n"), len(leaks), len(invalid))
	_ = userCertPEM
}

// derivedPBMKeys returns the keys PasswordBasedMac derived from secret for
// the requests in exchanges (RFC 4211 section 4.4: the one-way function
// applied iterationCount times to secret || salt), checking each against
// the MAC the request carries.
func derivedPBMKeys(t *testing.T, exchanges []faultproxy.Exchange, secret []byte) [][]byte {
	t.Helper()
	var keys [][]byte
	seen := map[string]bool{}
	for _, ex := range exchanges {
		m, err := cmp.Parse(ex.Request)
		if err != nil || m.Header.ProtectionAlg == nil || !m.Header.ProtectionAlg.Algorithm.Equal(cmp.OIDPasswordBasedMac) {
			continue
		}
		p, err := cmp.ParsePBMParameter(m.Header.ProtectionAlg.Parameters.FullBytes)
		if err != nil {
			t.Fatalf("PBM parameters of a %s: %v", m.Body.Type, err)
		}
		if !p.OWF.Algorithm.Equal(cmp.OIDSHA256) || p.IterationCount < 1 || p.IterationCount > cmp.MaxMACIterations {
			t.Fatalf("unexpected PBM parameters: owf %v, %d iterations", p.OWF.Algorithm, p.IterationCount)
		}
		var newMAC func() hash.Hash
		switch {
		case p.MAC.Algorithm.Equal(cmp.OIDHMACWithSHA256):
			newMAC = sha256.New
		case p.MAC.Algorithm.Equal(cmp.OIDHMACSHA1), p.MAC.Algorithm.Equal(cmp.OIDHMACWithSHA1):
			newMAC = sha1.New
		default:
			t.Fatalf("unexpected PBM MAC %v", p.MAC.Algorithm)
		}
		k := sha256.Sum256(append(append([]byte(nil), secret...), p.Salt...))
		for i := int64(1); i < p.IterationCount; i++ {
			k = sha256.Sum256(k[:])
		}
		// The derivation must reproduce the request's MAC, or searching the
		// log for the key proves nothing.
		mac := hmac.New(newMAC, k[:])
		mac.Write(m.RawProtectedPart)
		if !hmac.Equal(mac.Sum(nil), m.Protection) {
			t.Fatalf("the PBM key derived for a %s does not reproduce its MAC", m.Body.Type)
		}
		if !seen[string(k[:])] {
			seen[string(k[:])] = true
			keys = append(keys, append([]byte(nil), k[:]...))
		}
	}
	return keys
}

// withoutConfigDump drops the test harness's copy of the configuration
// (the user's own file, secrets included, logged as
// test_terraform_configuration), keeping everything Terraform and the
// provider logged, and the harness's copy of the rendered plan.
func withoutConfigDump(log string) string {
	var out strings.Builder
	skipping := false
	for _, line := range strings.SplitAfter(log, "\n") {
		if !strings.HasPrefix(line, " ") {
			// A new entry starts with its timestamp; continuation lines
			// are indented.
			skipping = strings.Contains(line, "Setting Terraform configuration")
		}
		if !skipping {
			out.WriteString(line)
		}
	}
	return out.String()
}

// sensitiveInPlan checks that the plan marks the secret attributes
// sensitive (so the rendered plan shows "(sensitive value)") and that
// write-only attributes are null in the plan.
type sensitiveInPlan struct {
	paths     map[string][]string
	writeOnly map[string]string
}

func (c sensitiveInPlan) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	found := 0
	for _, rc := range req.Plan.ResourceChanges {
		paths, ok := c.paths[rc.Address]
		if !ok {
			continue
		}
		found++
		marks, _ := rc.Change.AfterSensitive.(map[string]any)
		after, _ := rc.Change.After.(map[string]any)
		for _, p := range paths {
			if !markedSensitive(marks, strings.Split(p, ".")) {
				resp.Error = fmt.Errorf("%s: %s is not marked sensitive in the plan", rc.Address, p)
				return
			}
		}
		if wo, ok := c.writeOnly[rc.Address]; ok {
			enr, _ := after["enrollment"].(map[string]any)
			if v, present := enr[wo]; !present || v != nil {
				resp.Error = fmt.Errorf("%s: enrollment.%s is %v in the plan, want null (write-only)", rc.Address, wo, v)
				return
			}
		}
	}
	if found != len(c.paths) {
		resp.Error = fmt.Errorf("the plan holds %d of the %d resources checked", found, len(c.paths))
	}
}

// markedSensitive follows path through after_sensitive: true at any level
// marks everything below it.
func markedSensitive(marks any, path []string) bool {
	switch m := marks.(type) {
	case bool:
		return m
	case map[string]any:
		if len(path) == 0 {
			return false
		}
		return markedSensitive(m[path[0]], path[1:])
	}
	return false
}
