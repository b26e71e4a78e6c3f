package provider

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/opensslpeer"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// The CMP messages of one p10cr enrollment, as caEnv.ops lists them: a cp
// confirmed as an ir's ip is (RFC 9483 section 4.1.4).
var sentP10CR = []string{"p10cr:accepted", "certConf:confirmed"}

// csrKey is a key that stays in the test, as it would on the host that made
// the CSR, with every form in which it could leak into a state file.
type csrKey struct {
	key   *ecdsa.PrivateKey
	forms map[string]string // name of the form: its text
}

func newCSRKey(t *testing.T) *csrKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8PEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
	return &csrKey{key: key, forms: map[string]string{
		"PKCS#8 PEM (first line)": strings.Split(pkcs8PEM, "\n")[1],
		"PKCS#8 DER, base64":      base64.StdEncoding.EncodeToString(pkcs8),
		"SEC 1 DER, base64":       base64.StdEncoding.EncodeToString(sec1),
		"private scalar, hex":     hex.EncodeToString(key.D.Bytes()),
		"private scalar, base64":  base64.StdEncoding.EncodeToString(key.D.Bytes()),
	}}
}

// csr is a PEM certification request signed with k for cn and dnsNames.
func (k *csrKey) csr(t *testing.T, cn string, dnsNames ...string) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: cn}, DNSNames: dnsNames}, k.key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: pemkey.TypeCSR, Bytes: der}))
}

// notInFiles checks that no file under dir (the working directories of
// the test, state and backups included) holds any form of k.
func (k *csrKey) notInFiles(t *testing.T, dir string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		states := 0
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err // directories, and links to the test data
			}
			if strings.Contains(p, "plugins") || strings.HasSuffix(p, ".exe") {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if strings.HasSuffix(p, ".tfstate") {
				states++
			}
			for name, form := range k.forms {
				if strings.Contains(string(b), form) {
					return fmt.Errorf("%s holds the CSR's private key (%s)", p, name)
				}
			}
			return nil
		})
		if err == nil && states == 0 {
			err = fmt.Errorf("no state file under %s to search", dir)
		}
		return err
	}
}

// certifies checks that the state's certificate certifies k's public key
// for cn, that private_key_pem is null and last_operation is p10cr.
func (k *csrKey) certifies(cn string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		cert, err := parseCertificatePEM(stateAttr(s, certAddr, "certificate_pem"))
		if err != nil {
			return err
		}
		if !pemkey.HasPublicKey(k.key, cert.PublicKey) || cert.Subject.CommonName != cn {
			return fmt.Errorf("certificate for %s is not the CSR's (%s) or not for its key", cert.Subject, cn)
		}
		if got := stateAttr(s, certAddr, "private_key_pem"); got != "" {
			return fmt.Errorf("private_key_pem holds %d bytes, want null", len(got))
		}
		if got := stateAttr(s, certAddr, "last_operation"); got != "p10cr" {
			return fmt.Errorf("last_operation %q, want p10cr", got)
		}
		return nil
	}
}

// csrRun is a certificate made from a CSR under a development CA that
// grants 24 hours, the provider's clock and what the CA saw since mark.
type csrRun struct {
	t    *testing.T
	e    *caEnv
	now  *testClock
	dir  string // TF_ACC_TEMP_DIR: where Terraform's working directories are
	mark int
}

func newCSRRun(t *testing.T) *csrRun {
	clearProviderEnv(t)
	dir := t.TempDir()
	t.Setenv("TF_ACC_TEMP_DIR", dir)
	return &csrRun{t: t, e: startCA(t, devca.Config{MaxValidity: 24 * time.Hour}), now: newTestClock(), dir: dir}
}

// config is the provider (no credentials: the enrollment brings them) and
// the resource for csr with extra settings; the reference's secret comes
// from the ephemeral variable enrollment_secret.
func (f *csrRun) config(csr, extra string) string {
	return f.e.providerBlock(false) + fmt.Sprintf(`
variable "enrollment_secret" {
  type      = string
  ephemeral = true
  sensitive = true
  default   = null
}
resource "cmpv2_certificate" "test" {
  certificate_request_pem = <<EOT
%sEOT
  enrollment = { reference = %q, secret_wo = var.enrollment_secret }
  %s
}`, csr, f.e.reference, extra)
}

func (f *csrRun) secret() config.Variables {
	return config.Variables{"enrollment_secret": config.StringVariable(f.e.secret)}
}

func (f *csrRun) setMark() { f.mark = f.e.mark() }

// saw checks that the CA handled exactly want since the mark, and that
// every p10cr among them was MAC-protected.
func (f *csrRun) saw(want ...[]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if err := f.e.sawSince(f.mark, slices.Concat(want...)); err != nil {
			return err
		}
		f.e.mu.Lock()
		defer f.e.mu.Unlock()
		for _, ev := range f.e.events[f.mark:] {
			if ev.Op == "p10cr" && ev.Protection != "mac" {
				return fmt.Errorf("a p10cr was protected by %q, want mac", ev.Protection)
			}
		}
		return nil
	}
}

// protectedOps lists the messages the CA handled since mark, each as
// "op:status:protection".
func (e *caEnv) protectedOps(mark int) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var got []string
	for _, ev := range e.events[mark:] {
		got = append(got, ev.Op+":"+ev.Status+":"+ev.Protection)
	}
	return got
}

// sawProtected checks that the CA handled exactly want since mark, as
// protectedOps lists them.
func (e *caEnv) sawProtected(mark *int, want ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := e.protectedOps(*mark); !slices.Equal(got, want) {
			return fmt.Errorf("the CA saw %v, want %v", got, want)
		}
		return nil
	}
}

// plansP10CR checks that a step's plan updates the certificate in place
// with a p10cr.
var plansP10CR = []plancheck.PlanCheck{
	plancheck.ExpectResourceAction(certAddr, plancheck.ResourceActionUpdate),
	plancheck.ExpectKnownValue(certAddr, tfjsonpath.New("last_operation"), knownvalue.StringExact("p10cr")),
	plancheck.ExpectKnownValue(certAddr, tfjsonpath.New("private_key_pem"), knownvalue.Null()),
	plancheck.ExpectUnknownValue(certAddr, tfjsonpath.New("certificate_pem")),
}

// TestAccCertificateCSR: a certificate made from certificate_request_pem
// through create (a MAC-protected p10cr and its certConf), a plan without
// changes, a renewal window (a new p10cr, in place), a new CSR for a new
// key (a new p10cr; the certificate previous_certificate_pem held leaves
// the state unrevoked, since nothing the provider holds can sign its RR)
// and destroy (no RR: the same rule). The key is never in any file
// Terraform writes; the secret is write-only and given for every p10cr.
func TestAccCertificateCSR(t *testing.T) {
	f := newCSRRun(t)
	k1, k2 := newCSRKey(t), newCSRKey(t)
	csr1 := k1.csr(t, "csr.example", "csr.example")
	csr2 := k2.csr(t, "csr.example", "csr.example", "www.csr.example")
	var first, second string // serials
	serial := func(dst *string) resource.TestCheckFunc {
		return func(s *terraform.State) error { *dst = stateAttr(s, certAddr, "serial_number"); return nil }
	}
	noKey := resource.ComposeTestCheckFunc(k1.notInFiles(t, f.dir), k2.notInFiles(t, f.dir))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providersAt(clock{Now: f.now.Now}),
		Steps: []resource.TestStep{
			{
				PreConfig: f.setMark, Config: f.config(csr1, ""), ConfigVariables: f.secret(),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectKnownValue(certAddr, tfjsonpath.New("private_key_pem"), knownvalue.Null()),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeTestCheckFunc(f.saw(sentP10CR), k1.certifies("csr.example"), serial(&first),
					func(s *terraform.State) error { return f.e.accountedFor(t, s) }, noKey),
			},
			// A plan without changes sends nothing.
			{PreConfig: f.setMark, Config: f.config(csr1, ""), ConfigVariables: f.secret(), PlanOnly: true},
			// The default window (a third of 24h left) opens at 16h.
			{
				PreConfig: func() {
					if err := f.e.sawSince(f.mark, nil); err != nil {
						t.Error(err)
					}
					f.setMark()
					f.now.Add(17 * time.Hour)
				},
				Config: f.config(csr1, ""), ConfigVariables: f.secret(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: plansP10CR},
				// The CA grants 24h from its own clock, so at the provider's
				// the new certificate is due as soon as it is issued: the
				// plans after this apply renew again, until the next step
				// sets the clock back.
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeTestCheckFunc(
					f.saw(sentP10CR), k1.certifies("csr.example"), serial(&second),
					func(s *terraform.State) error {
						prev, err := parseCertificatePEM(stateAttr(s, certAddr, "previous_certificate_pem"))
						if err != nil || prev.SerialNumber.String() != first || second == first {
							return fmt.Errorf("previous_certificate_pem is not serial %s (%v), current %s", first, err, second)
						}
						if id := stateAttr(s, certAddr, "id"); id != first {
							return fmt.Errorf("id changed to %s", id)
						}
						return nil
					}, noKey),
			},
			// With the clock back, a refresh clears ready_for_renewal and a
			// plan without changes sends nothing.
			{PreConfig: func() { f.now.Set(time.Now()); f.setMark() }, RefreshState: true},
			{Config: f.config(csr1, ""), ConfigVariables: f.secret(), PlanOnly: true},
			// A new CSR (new key, another name): a new p10cr. The first
			// certificate leaves the state and is not revoked.
			{
				PreConfig: func() {
					if err := f.e.sawSince(f.mark, nil); err != nil {
						t.Error(err)
					}
					f.setMark()
				},
				Config: f.config(csr2, ""), ConfigVariables: f.secret(),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             plansP10CR,
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeTestCheckFunc(f.saw(sentP10CR), k2.certifies("csr.example"),
					func(s *terraform.State) error {
						cert, _ := parseCertificatePEM(stateAttr(s, certAddr, "certificate_pem"))
						if cert == nil || !slices.Contains(cert.DNSNames, "www.csr.example") {
							return fmt.Errorf("the certificate does not carry the new CSR's names")
						}
						if f.e.revoked(t, first) {
							return fmt.Errorf("serial %s was revoked, and nothing the provider holds can sign its RR", first)
						}
						return nil
					}, noKey),
			},
		},
		// Destroy sends no RR: the key that could sign it is not here.
		CheckDestroy: func(*terraform.State) error {
			if err := f.e.sawSince(f.mark, sentP10CR); err != nil {
				return err
			}
			return k1.notInFiles(t, f.dir)(nil)
		},
	})
}

// TestAccCertificateCSRMACRevocation: with update_protection = "mac" the
// certificate a p10cr pushes out of the state, and the certificate on
// destroy, are revoked by a MAC-protected RR, the one protection the
// provider holds for a certificate made from a CSR. The development CA
// accepts it, as an RA does, for a certificate enrolled under the same
// reference (RFC 9810 section 5.1.3.1). The destroy would need a stored secret (secret_wo is gone):
// its plan fails, naming update_protection, until revoke_on_destroy =
// false.
func TestAccCertificateCSRMACRevocation(t *testing.T) {
	f := newCSRRun(t)
	k := newCSRKey(t)
	csr := k.csr(t, "mac.csr.example", "mac.csr.example")
	cfg := func(revokeOnDestroy bool) string {
		return strings.Replace(f.config(csr, fmt.Sprintf("update_protection = \"mac\"\n  revoke_on_destroy = %t\n  rotation_triggers = { n = var.n }", revokeOnDestroy)),
			`variable "enrollment_secret"`, "variable \"n\" {\n  type = string\n}\nvariable \"enrollment_secret\"", 1)
	}
	vars := func(n string) config.Variables {
		v := f.secret()
		v["n"] = config.StringVariable(n)
		return v
	}
	var serials []string
	record := func(s *terraform.State) error {
		serials = append(serials, stateAttr(s, certAddr, "serial_number"))
		return nil
	}
	revokedRR := func(serial int) resource.TestCheckFunc {
		return resource.ComposeTestCheckFunc(
			f.e.sawProtected(&f.mark, "p10cr:accepted:mac", "certConf:confirmed:mac", "rr:accepted:mac"),
			func(*terraform.State) error {
				if ev := f.e.events[len(f.e.events)-1]; ev.Serial != "" && ev.Serial != serials[serial] {
					return fmt.Errorf("the rr was for serial %s, want %s", ev.Serial, serials[serial])
				}
				return nil
			})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providersAt(clock{Now: f.now.Now}),
		Steps: []resource.TestStep{
			{PreConfig: f.setMark, Config: cfg(true), ConfigVariables: vars("1"),
				Check: resource.ComposeTestCheckFunc(f.saw(sentP10CR), record)},
			// The first certificate moves to previous_certificate_pem.
			{PreConfig: f.setMark, Config: cfg(true), ConfigVariables: vars("2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: plansP10CR},
				Check:            resource.ComposeTestCheckFunc(f.saw(sentP10CR), record)},
			// It leaves the state now: a MAC-protected RR, accepted.
			{PreConfig: f.setMark, Config: cfg(true), ConfigVariables: vars("3"),
				Check: resource.ComposeTestCheckFunc(revokedRR(0), record, k.certifies("mac.csr.example"),
					k.notInFiles(t, f.dir))},
			{PreConfig: f.setMark, Config: cfg(true), ConfigVariables: vars("3"), Destroy: true,
				ExpectError: regexp.MustCompile(`(?s)update_protection = "mac".*revocation request \(RR\) on destroy.*revoke_on_destroy = false`)},
			{PreConfig: f.setMark, Config: cfg(false), ConfigVariables: vars("3")},
		},
		CheckDestroy: func(*terraform.State) error { return f.e.sawSince(f.mark, nil) },
	})
}

// TestAccCertificateCSRPlanErrors: every configuration that cannot work
// with certificate_request_pem fails at plan, naming the attribute, before
// any message reaches the CA.
func TestAccCertificateCSRPlanErrors(t *testing.T) {
	k := newCSRKey(t)
	good := k.csr(t, "err.csr.example", "err.csr.example")
	der, _ := pem.Decode([]byte(good))
	tampered := slices.Clone(der.Bytes)
	i := strings.Index(string(tampered), "err.csr.example")
	tampered[i] ^= 0x01 // the signature covers the subject
	badSig := string(pem.EncodeToMemory(&pem.Block{Type: pemkey.TypeCSR, Bytes: tampered}))
	_, keyPEM := testCertificate(t, "key")
	empty := string(pem.EncodeToMemory(&pem.Block{Type: pemkey.TypeCSR, Bytes: mustCSR(t, k.key, &x509.CertificateRequest{})}))
	cases := []struct {
		name, csr, extra string
		noCredentials    bool
		want             string
	}{
		{"not PEM", "MIIBhjCCASsCAQAw\n", "", false, `(?s)Invalid certificate_request_pem.*certificate_request_pem: no PEM\s+"CERTIFICATE\s+REQUEST"\s+block\s+found`},
		{"a private key", keyPEM, "", false, `(?s)Invalid certificate_request_pem.*PEM block 1 is a "PRIVATE KEY", want\s+"CERTIFICATE\s+REQUEST"`},
		{"signature does not verify", badSig, "", false, `(?s)Invalid certificate_request_pem.*signature\s+does\s+not\s+verify`},
		{"nothing to certify", empty, "", false, `(?s)Invalid certificate_request_pem.*neither\s+a\s+subject\s+nor\s+a\s+subjectAltName`},
		{"key_algorithm", good, `key_algorithm = "RSA"`, false, `(?s)key_algorithm conflicts with certificate_request_pem.*Remove\s+key_algorithm`},
		{"rsa_bits", good, `rsa_bits = 3072`, false, `(?s)rsa_bits conflicts with certificate_request_pem`},
		{"ecdsa_curve", good, `ecdsa_curve = "P384"`, false, `(?s)ecdsa_curve conflicts with certificate_request_pem`},
		{"private_key_pem", good, "private_key_pem = <<EOT\n" + keyPEM + "EOT", false, `(?s)private_key_pem conflicts with certificate_request_pem.*never\s+reaches\s+the\s+provider`},
		{"subject", good, `subject = { common_name = "other.example" }`, false, `(?s)subject conflicts with certificate_request_pem.*put\s+it\s+in\s+the\s+CSR`},
		{"dns_names", good, `dns_names = ["err.csr.example"]`, false, `(?s)dns_names conflicts with certificate_request_pem`},
		{"ip_addresses", good, `ip_addresses = ["192.0.2.1"]`, false, `(?s)ip_addresses conflicts with certificate_request_pem`},
		{"uris", good, `uris = ["spiffe://example/err"]`, false, `(?s)uris conflicts with certificate_request_pem`},
		{"email_addresses", good, `email_addresses = ["err@example.com"]`, false, `(?s)email_addresses conflicts with\s+certificate_request_pem`},
		{"key_usages", good, `key_usages = ["digital_signature"]`, false, `(?s)key_usages conflicts with certificate_request_pem.*extensions`},
		{"extended_key_usages", good, `extended_key_usages = ["server_auth"]`, false, `(?s)extended_key_usages conflicts with\s+certificate_request_pem`},
		{"validity_period_hours", good, `validity_period_hours = 24`, false, `(?s)validity_period_hours conflicts with\s+certificate_request_pem.*carries\s+no\s+validity`},
		{"certificate_profile", good, `certificate_profile = "tls"`, false, `(?s)certificate_profile conflicts with\s+certificate_request_pem`},
		{"certificate_p12_password", good, `certificate_p12_password = "changeit"`, false, `(?s)certificate_p12_password conflicts\s+with\s+certificate_request_pem.*PKCS#12`},
		{"no credentials for the p10cr", good, "", true, `(?s)No credentials for the initialization request.*from\s+certificate_request_pem\s+sends\s+a\s+p10cr.*enrollment.reference`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearProviderEnv(t)
			e := startCA(t, devca.Config{})
			enrollment := fmt.Sprintf("enrollment = { reference = %q, secret = %q }", e.reference, e.secret)
			if tc.noCredentials {
				enrollment = ""
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps: []resource.TestStep{{
					Config: e.providerBlock(false) + fmt.Sprintf("resource \"cmpv2_certificate\" \"test\" {\n"+
						"certificate_request_pem = <<EOT\n%sEOT\n%s\n%s\n}", tc.csr, enrollment, tc.extra),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(tc.want),
				}},
				CheckDestroy: func(*terraform.State) error { return e.sawSince(0, nil) },
			})
		})
	}
}

// TestAccCertificateCSRUpdateNeedsSecret: a due p10cr without the
// write-only secret (never stored) fails at plan, naming what protects it,
// and sends nothing; with the secret given again it is sent.
func TestAccCertificateCSRUpdateNeedsSecret(t *testing.T) {
	f := newCSRRun(t)
	k := newCSRKey(t)
	csr1, csr2 := k.csr(t, "wo.csr.example"), k.csr(t, "wo.csr.example", "wo.csr.example")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providersAt(clock{Now: f.now.Now}),
		Steps: []resource.TestStep{
			{PreConfig: f.setMark, Config: f.config(csr1, ""), ConfigVariables: f.secret(), Check: f.saw(sentP10CR)},
			{
				PreConfig: f.setMark, Config: f.config(csr2, ""),
				ExpectError: regexp.MustCompile(`(?s)Missing enrollment secret.*certificate_request_pem\s+\(because\s+certificate_request_pem\s+changed\)\s+is\s+requested\s+by\s+a\s+p10cr.*enrollment.secret_wo`),
			},
			{
				PreConfig: func() {
					if err := f.e.sawSince(f.mark, nil); err != nil {
						t.Error(err)
					}
					f.setMark()
				},
				Config: f.config(csr2, ""), ConfigVariables: f.secret(), Check: f.saw(sentP10CR),
			},
		},
	})
}

// TestClassifyCSRUpdate: what an update of a certificate made from a CSR
// sends.
func TestClassifyCSRUpdate(t *testing.T) {
	k := newCSRKey(t)
	a, b := k.csr(t, "a.example"), k.csr(t, "b.example")
	now := time.Now()
	triggers := func(v string) types.Map {
		return types.MapValueMust(types.StringType, map[string]attr.Value{"n": types.StringValue(v)})
	}
	cases := []struct {
		name              string
		prior, planned    string
		priorT, plannedT  types.Map
		renewAt, notAfter time.Time
		wantOp            operation
		wantWhy           string
	}{
		{"nothing changed", a, a, triggers("1"), triggers("1"), now.Add(time.Hour), now.Add(2 * time.Hour), opNone, ""},
		{"same CSR, other line endings", a, strings.ReplaceAll(a, "\n", "\r\n"), triggers("1"), triggers("1"), now.Add(time.Hour), now.Add(2 * time.Hour), opNone, ""},
		{"new CSR", a, b, triggers("1"), triggers("1"), now.Add(time.Hour), now.Add(2 * time.Hour), opP10CR, "certificate_request_pem changed"},
		{"rotation_triggers", a, a, triggers("1"), triggers("2"), now.Add(time.Hour), now.Add(2 * time.Hour), opP10CR, "rotation_triggers changed"},
		{"window open", a, a, triggers("1"), triggers("1"), now.Add(-time.Hour), now.Add(2 * time.Hour), opP10CR, "renewal window opened"},
		{"expired: a p10cr, not a replacement", a, a, triggers("1"), triggers("1"), now.Add(-2 * time.Hour), now.Add(-time.Hour), opP10CR, "expired"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			state := certificateModel{CertificateRequestPEM: types.StringValue(tc.prior), RotationTriggers: tc.priorT}
			plan := certificateModel{CertificateRequestPEM: types.StringValue(tc.planned), RotationTriggers: tc.plannedT}
			d, known := classifyCSRUpdate(t.Context(), state, plan, now, tc.renewAt, tc.notAfter)
			if !known || d.Op != tc.wantOp || !strings.Contains(strings.Join(d.Why, "; "), tc.wantWhy) {
				t.Errorf("got %q %v (known %v), want %q with %q", d.Op, d.Why, known, tc.wantOp, tc.wantWhy)
			}
		})
	}
}

// TestKeyCustody: where the key of a configuration, plan or state lives.
func TestKeyCustody(t *testing.T) {
	null := certificateModel{CertificateRequestPEM: types.StringNull(), PrivateKeyPEM: types.StringNull()}
	withKey, withCSR, unknownCSR := null, null, null
	withKey.PrivateKeyPEM = types.StringValue("key")
	withCSR.CertificateRequestPEM = types.StringValue("csr")
	unknownCSR.CertificateRequestPEM = types.StringUnknown()
	cases := []struct {
		name string
		m    certificateModel
		want keyCustody
		held bool
	}{
		{"generated", null, custodyGenerated, true},
		{"user key", withKey, custodyUserKey, true},
		{"CSR", withCSR, custodyCSR, false},
		{"CSR known only during apply", unknownCSR, custodyCSR, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := custodyOf(tc.m)
			if c != tc.want || c.holdsKey() != tc.held || c.stateKeyPEM("k").IsNull() == tc.held {
				t.Errorf("custodyOf = %v (holds %v), want %v (holds %v)", c, c.holdsKey(), tc.want, tc.held)
			}
		})
	}
	key, err := heldKey(withCSR)
	if key != nil || err != nil {
		t.Errorf("heldKey of a CSR's certificate = %v, %v; want none", key, err)
	}
}

func mustCSR(t *testing.T, key crypto.Signer, tmpl *x509.CertificateRequest) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestCSRRevocationNotes: what the plan and the apply say about the RR of
// a certificate made from a CSR: revoked with MAC protection, else named
// by serial and left to expire; nothing for an expired one.
func TestCSRRevocationNotes(t *testing.T) {
	certPEM, _ := testCertificate(t, "prev.example")
	cert, err := parseCertificatePEM(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	serial := cert.SerialNumber.String()
	state := certificateModel{PreviousCertificatePEM: types.StringValue(certPEM)}
	notes := []struct {
		name, got, want, not string
	}{
		{"p10cr, signature protection", csrSupersededNote(state, true, false), "(serial " + serial + ") leaves the state and is NOT revoked", "(superseded)"},
		{"p10cr, update_protection = mac", csrSupersededNote(state, true, true), "is revoked (superseded)", "NOT"},
		{"p10cr, revoke_superseded = false", csrSupersededNote(state, false, false), "revoke_superseded = false", "NOT"},
		{"p10cr, nothing held", csrSupersededNote(certificateModel{PreviousCertificatePEM: types.StringNull()}, true, false), "", "serial"},
	}
	for _, n := range notes {
		t.Run(n.name, func(t *testing.T) {
			if !strings.Contains(n.got, n.want) || (n.want == "" && n.got != "") || strings.Contains(n.got, n.not) {
				t.Errorf("note %q, want it to hold %q and not %q", n.got, n.want, n.not)
			}
		})
	}
	warn := csrNotRevoked(certPEM, time.Now(), "The destroyed certificate leaves the state")
	if len(warn) != 1 || warn.HasError() || !strings.Contains(warn[0].Detail(), "serial "+serial) ||
		!strings.Contains(warn[0].Detail(), `update_protection = "mac"`) {
		t.Errorf("warning %v, want one naming serial %s and update_protection", warn, serial)
	}
	if expired := csrNotRevoked(certPEM, cert.NotAfter, "gone"); len(expired) != 0 {
		t.Errorf("an expired certificate warned: %v", expired)
	}
}

// TestAccCertificateCSRCustodyChange: setting certificate_request_pem on a
// certificate whose key the provider holds, and removing it again, moves
// the key, which no request about the current certificate can do: the
// certificate is replaced. The destroy of the first revokes it with its
// own key; that of the CSR's certificate sends no RR.
func TestAccCertificateCSRCustodyChange(t *testing.T) {
	f := newCSRRun(t)
	k := newCSRKey(t)
	csr := k.csr(t, "move.csr.example", "move.csr.example")
	generated := `subject = { common_name = "move.csr.example" }`
	cfg := func(body string) string {
		return f.e.providerBlock(true) + "resource \"cmpv2_certificate\" \"test\" {\n" + body + "\n}"
	}
	replaced := resource.ConfigPlanChecks{
		PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(certAddr, plancheck.ResourceActionDestroyBeforeCreate)},
		PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
	}
	var first, second string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providersAt(clock{Now: f.now.Now}),
		Steps: []resource.TestStep{
			{PreConfig: f.setMark, Config: cfg(generated), Check: resource.ComposeTestCheckFunc(f.saw(sentIR),
				func(s *terraform.State) error { first = stateAttr(s, certAddr, "serial_number"); return nil })},
			{
				PreConfig: f.setMark, Config: cfg("certificate_request_pem = <<EOT\n" + csr + "EOT"), ConfigPlanChecks: replaced,
				Check: resource.ComposeTestCheckFunc(f.saw(sentRR, sentP10CR), k.certifies("move.csr.example"),
					func(s *terraform.State) error {
						second = stateAttr(s, certAddr, "serial_number")
						if !f.e.revoked(t, first) {
							return fmt.Errorf("the replaced certificate %s is not revoked", first)
						}
						return nil
					}),
			},
			{
				PreConfig: f.setMark, Config: cfg(generated), ConfigPlanChecks: replaced,
				Check: resource.ComposeTestCheckFunc(f.saw(sentIR), func(s *terraform.State) error {
					if stateAttr(s, certAddr, "private_key_pem") == "" || stateAttr(s, certAddr, "last_operation") != "ir" {
						return fmt.Errorf("the new certificate's key is not in state, or it was not made by an IR")
					}
					if f.e.revoked(t, second) {
						return fmt.Errorf("the CSR's certificate %s was revoked, and nothing the provider holds signs its RR", second)
					}
					return nil
				}),
			},
		},
		CheckDestroy: func(s *terraform.State) error { return f.e.sawSince(f.mark, slices.Concat(sentIR, sentRR)) },
	})
}

// TestAccCertificateCSREnrollmentCertificate: a p10cr signed with the
// externally issued enrollment certificate, at create and at renewal: the
// one certificate the provider holds for a CSR's certificate, so no secret
// is needed. The CA signs its answers, verified against trusted_ca_pem.
func TestAccCertificateCSREnrollmentCertificate(t *testing.T) {
	clearProviderEnv(t)
	dir := t.TempDir()
	t.Setenv("TF_ACC_TEMP_DIR", dir)
	deviceCA, certPEM, keyPEM := testExternalCredential(t)
	e := startCA(t, devca.Config{Trusted: []*x509.Certificate{deviceCA}, MaxValidity: 24 * time.Hour})
	now := newTestClock()
	k := newCSRKey(t)
	cfg := e.providerBlock(false) + fmt.Sprintf(`
resource "cmpv2_certificate" "test" {
  certificate_request_pem = <<EOT
%sEOT
  enrollment = {
    certificate_pem = <<EOT
%sEOT
    private_key_pem = <<EOT
%sEOT
  }
}`, k.csr(t, "signed.csr.example"), certPEM, keyPEM)
	var mark int
	signed := e.sawProtected(&mark, "p10cr:accepted:signature", "certConf:confirmed:signature")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providersAt(clock{Now: now.Now}),
		Steps: []resource.TestStep{
			{
				PreConfig: func() { mark = e.mark() }, Config: cfg, ConfigPlanChecks: emptyPlanAfterApply,
				Check: resource.ComposeTestCheckFunc(signed, k.certifies("signed.csr.example"), k.notInFiles(t, dir)),
			},
			{
				PreConfig: func() { mark = e.mark(); now.Add(17 * time.Hour) }, Config: cfg,
				ConfigPlanChecks:   resource.ConfigPlanChecks{PreApply: plansP10CR},
				ExpectNonEmptyPlan: true, // due again at once: see TestAccCertificateCSR
				Check:              resource.ComposeTestCheckFunc(signed, k.certifies("signed.csr.example"), k.notInFiles(t, dir)),
			},
			{PreConfig: func() { now.Set(time.Now()); mark = e.mark() }, RefreshState: true},
		},
		CheckDestroy: func(*terraform.State) error { return e.sawSince(mark, nil) },
	})
}

// TestAccCertificateCSRKeyAttributes: the plan and state show the CSR's key
// in key_algorithm, rsa_bits and ecdsa_curve (which the configuration
// cannot set with a CSR), and a second plan is empty.
func TestAccCertificateCSRKeyAttributes(t *testing.T) {
	f := newCSRRun(t)
	key, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		t.Fatal(err)
	}
	csr := string(pem.EncodeToMemory(&pem.Block{Type: pemkey.TypeCSR,
		Bytes: mustCSR(t, key, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "rsa.csr.example"}})}))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			PreConfig: f.setMark, Config: f.config(csr, ""), ConfigVariables: f.secret(),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(certAddr, tfjsonpath.New("key_algorithm"), knownvalue.StringExact("RSA")),
					plancheck.ExpectKnownValue(certAddr, tfjsonpath.New("rsa_bits"), knownvalue.Int64Exact(3072)),
				},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			Check: resource.ComposeTestCheckFunc(f.saw(sentP10CR),
				resource.TestCheckResourceAttr(certAddr, "key_algorithm", "RSA"),
				resource.TestCheckResourceAttr(certAddr, "rsa_bits", "3072"),
				resource.TestCheckNoResourceAttr(certAddr, "private_key_pem")),
		}},
	})
}

// TestAccCertificateCSROpenSSLMock: a certificate made from a CSR (for the
// key of the mock's fixed certificate, which stays in the test) is enrolled
// by a MAC-protected p10cr and, with update_protection = "mac", revoked on
// destroy by a MAC-protected RR, which OpenSSL's mock accepts: the RR the
// provider can protect for a key it never held.
func TestAccCertificateCSROpenSSLMock(t *testing.T) {
	creds, ok := openSSLMockAcc(t)
	if !ok {
		return
	}
	mock := opensslpeer.StartMock(t, creds)
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: creds.Client1.Cert.Subject}, creds.Client1.Key)
	if err != nil {
		t.Fatal(err)
	}
	config := hclConfig{url: mock.URL, messageTimeout: "10s", trustedCAPEM: certificatePEM(creds.Root.Cert),
		body: fmt.Sprintf(`certificate_request_pem = <<EOT
%sEOT
enrollment        = { reference = %q, secret = %q }
update_protection = "mac"`, pem.EncodeToMemory(&pem.Block{Type: pemkey.TypeCSR, Bytes: csr}),
			opensslpeer.MockReference, opensslpeer.MockSecret)}.String()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:           config,
			ConfigPlanChecks: emptyPlanAfterApply,
			Check: resource.ComposeTestCheckFunc(
				resource.TestCheckResourceAttr(certAddr, "last_operation", "p10cr"),
				resource.TestCheckResourceAttr(certAddr, "serial_number", creds.Client1.Cert.SerialNumber.String()),
				resource.TestCheckNoResourceAttr(certAddr, "private_key_pem"),
			),
		}},
		// The destroy succeeded, so the mock accepted the MAC-protected RR.
		CheckDestroy: func(*terraform.State) error {
			if n := strings.Count(mock.Output(), "Received request"); n != 3 {
				return fmt.Errorf("the mock received %d requests, want 3 (p10cr, certConf, rr):\n%s", n, mock.Output())
			}
			return nil
		},
	})
}
