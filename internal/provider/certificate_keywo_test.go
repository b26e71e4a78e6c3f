package provider

import (
	"archive/zip"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// keyWORun is a certificate whose key is write-only, under a development
// CA that grants 24 hours: the provider's clock, what the CA saw since
// mark, where Terraform works (dir) and logs at TRACE (log), and the keys
// and other write-only values (secrets, by name) that must never reach a
// file Terraform writes.
type keyWORun struct {
	t       *testing.T
	e       *caEnv
	now     *testClock
	dir     string
	log     string
	mark    int
	keys    []*csrKey
	secrets map[string]string
}

func newKeyWORun(t *testing.T, keys int) *keyWORun {
	clearProviderEnv(t)
	dir, logDir := t.TempDir(), t.TempDir()
	t.Setenv("TF_ACC_TEMP_DIR", dir)
	t.Setenv("TF_ACC_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", filepath.Join(logDir, "trace.log"))
	f := &keyWORun{t: t, e: startCA(t, devca.Config{MaxValidity: 24 * time.Hour}), now: newTestClock(), dir: dir,
		log: filepath.Join(logDir, "trace.log")}
	for range keys {
		f.keys = append(f.keys, newCSRKey(t))
	}
	return f
}

// keyPEM is key i as PKCS#8 PEM, as a secret store would hand it out.
func (f *keyWORun) keyPEM(i int) string {
	der, err := x509.MarshalPKCS8PrivateKey(f.keys[i].key)
	if err != nil {
		f.t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// config is the provider (no credentials) and the resource with extra
// settings; the key, the previous key and the enrollment secret come from
// ephemeral variables, the key's version from a plain one.
func (f *keyWORun) config(dnsNames, extra string) string {
	return f.e.providerBlock(false) + fmt.Sprintf(`
variable "key" {
  type      = string
  ephemeral = true
  sensitive = true
  default   = null
}
variable "previous_key" {
  type      = string
  ephemeral = true
  sensitive = true
  default   = null
}
variable "enrollment_secret" {
  type      = string
  ephemeral = true
  sensitive = true
  default   = null
}
variable "key_version" {
  type = number
}
resource "cmpv2_certificate" "test" {
  subject                 = { common_name = "keyless.example" }
  dns_names               = %s
  enrollment              = { reference = %q, secret_wo = var.enrollment_secret }
  private_key_wo          = var.key
  private_key_wo_version  = var.key_version
  previous_private_key_wo = var.previous_key
  %s
}`, dnsNames, f.e.reference, extra)
}

// vars gives key i (-1: none) as version v, previous key p (-1: none) and
// the enrollment secret.
func (f *keyWORun) vars(i, v, p int) config.Variables {
	vars := config.Variables{"key_version": config.IntegerVariable(v),
		"enrollment_secret": config.StringVariable(f.e.secret)}
	if i >= 0 {
		vars["key"] = config.StringVariable(f.keyPEM(i))
	}
	if p >= 0 {
		vars["previous_key"] = config.StringVariable(f.keyPEM(p))
	}
	return vars
}

func (f *keyWORun) setMark() { f.mark = f.e.mark() }

// saw checks that the CA handled exactly want since the mark, each as
// "op:status:protection".
func (f *keyWORun) saw(want ...string) resource.TestCheckFunc {
	return f.e.sawProtected(&f.mark, want...)
}

// found reports which form of which key, or which secret, text holds, ""
// for none.
func (f *keyWORun) found(text []byte) string {
	for i, k := range f.keys {
		for name, form := range k.forms {
			if strings.Contains(string(text), form) {
				return fmt.Sprintf("key %d (%s)", i, name)
			}
		}
	}
	for name, s := range f.secrets {
		if strings.Contains(string(text), s) {
			return name
		}
	}
	return ""
}

// noKeyInFiles searches every file Terraform wrote under dir (states,
// backups, saved plans unpacked, lock and configuration) and the TRACE
// log for every form of every key. The variables file the test framework
// writes is the input, as a secret store is, and is not searched. wantPlan
// says a saved plan must be among them (a plan check), else a state.
func (f *keyWORun) noKeyInFiles(wantPlan bool) error {
	states, plans := 0, 0
	err := filepath.WalkDir(f.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || strings.Contains(p, "plugins") ||
			filepath.Base(p) == "terraform-plugin-testing.auto.tfvars.json" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(p, ".tfstate"):
			states++
		case filepath.Base(p) == "tfplan":
			plans++
			return f.noKeyInPlanFile(p, b)
		}
		if k := f.found(b); k != "" {
			return fmt.Errorf("%s holds %s", p, k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if (!wantPlan && states == 0) || (wantPlan && plans == 0) {
		return fmt.Errorf("found %d state files and %d saved plans under %s to search", states, plans, f.dir)
	}
	log, err := os.ReadFile(f.log)
	// Terraform's own lines and the provider's (the framework logs each
	// request it serves at TRACE) must both be there to be searched.
	if err != nil || !strings.Contains(string(log), "PlanResourceChange") || !strings.Contains(string(log), "sdk.framework") {
		return fmt.Errorf("the TRACE log %s is missing, or lacks Terraform's or the provider's lines (%d bytes, %v)",
			f.log, len(log), err)
	}
	if k := f.found(log); k != "" {
		return fmt.Errorf("the TRACE log holds %s", k)
	}
	return nil
}

// noKeyInPlanFile searches a saved plan, a zip archive, entry by entry.
func (f *keyWORun) noKeyInPlanFile(p string, b []byte) error {
	if k := f.found(b); k != "" {
		return fmt.Errorf("%s holds %s", p, k)
	}
	z, err := zip.NewReader(strings.NewReader(string(b)), int64(len(b)))
	if err != nil {
		return fmt.Errorf("saved plan %s: %w", p, err)
	}
	for _, e := range z.File {
		r, err := e.Open()
		if err != nil {
			return err
		}
		text, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return err
		}
		if k := f.found(text); k != "" {
			return fmt.Errorf("%s, entry %s, holds %s", p, e.Name, k)
		}
	}
	return nil
}

// check is noKeyInFiles as a step's check.
func (f *keyWORun) check(*terraform.State) error { return f.noKeyInFiles(false) }

// noKeyInPlan is a plan check: the plan as `terraform show -json` gives it
// and the saved plan file hold no key.
type noKeyInPlan struct{ f *keyWORun }

func (c noKeyInPlan) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	b, err := json.Marshal(req.Plan)
	if err != nil {
		resp.Error = err
		return
	}
	if k := c.f.found(b); k != "" {
		resp.Error = fmt.Errorf("the JSON plan holds %s", k)
		return
	}
	resp.Error = c.f.noKeyInFiles(true)
}

// certifies checks that the state's certificate is for key i, made by op,
// with private_key_pem null and private_key_wo_version v.
func (f *keyWORun) certifies(i int, op string, v int) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		cert, err := parseCertificatePEM(stateAttr(s, certAddr, "certificate_pem"))
		if err != nil {
			return err
		}
		if !pemkey.HasPublicKey(f.keys[i].key, cert.PublicKey) {
			return fmt.Errorf("certificate serial %s does not certify key %d", cert.SerialNumber, i)
		}
		for name, want := range map[string]string{"private_key_pem": "", "private_key_wo": "",
			"previous_private_key_wo": "", "last_operation": op, "private_key_wo_version": fmt.Sprint(v)} {
			if got := stateAttr(s, certAddr, name); got != want {
				return fmt.Errorf("%s is %q, want %q", name, got, want)
			}
		}
		return nil
	}
}

// plans are the checks of a step's plan: its action, last_operation
// (unknown when op is ""), and no key in the plan.
func (f *keyWORun) plans(action plancheck.ResourceActionType, op string) []plancheck.PlanCheck {
	checks := []plancheck.PlanCheck{plancheck.ExpectResourceAction(certAddr, action), noKeyInPlan{f},
		plancheck.ExpectKnownValue(certAddr, tfjsonpath.New("private_key_pem"), knownvalue.Null())}
	if op != "" {
		checks = append(checks, plancheck.ExpectKnownValue(certAddr, tfjsonpath.New("last_operation"), knownvalue.StringExact(op)))
	}
	return checks
}

// TestAccCertificateKeyWO: a certificate whose key comes only from an
// ephemeral variable through private_key_wo, through create (an IR whose
// POP the key signs), a plan without changes, a renewal (a KUR for the
// same key, signed with it), a rotation signed with the previous key (a
// KUR for the new key, signed with previous_private_key_wo; the certificate
// leaving the state is revoked with the key that is its own), a CR (signed
// with the key; previous_private_key_wo revokes the certificate leaving the
// state), a rotation protected by MAC (the KUR and the RR of the replaced
// certificate MAC-protected) and destroy (no RR: a destroy gets no write-only
// value). After every step no file Terraform wrote, no saved plan and no
// TRACE log line holds the key.
func TestAccCertificateKeyWO(t *testing.T) {
	keyWOLifecycle(t, newKeyWORun(t, 3))
}

// TestAccCertificateKeyWOOtherCLI is TestAccCertificateKeyWO with the CLI
// the acceptance tests do not run with (OpenTofu beside Terraform).
func TestAccCertificateKeyWOOtherCLI(t *testing.T) {
	useOtherCLI(t, "the write-only key's lifecycle")
	keyWOLifecycle(t, newKeyWORun(t, 3))
}

func keyWOLifecycle(t *testing.T, f *keyWORun) {
	var serials []string
	record := func(s *terraform.State) error {
		serials = append(serials, stateAttr(s, certAddr, "serial_number"))
		return f.e.accountedFor(t, s)
	}
	revoked := func(i int) resource.TestCheckFunc {
		return func(*terraform.State) error {
			if !f.e.revoked(t, serials[i]) {
				return fmt.Errorf("serial %s, which left the state, is not revoked", serials[i])
			}
			return nil
		}
	}
	one, two := `["keyless.example"]`, `["keyless.example", "www.keyless.example"]`
	empty := []plancheck.PlanCheck{plancheck.ExpectEmptyPlan(), noKeyInPlan{f}}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providersAt(clock{Now: f.now.Now}),
		Steps: []resource.TestStep{
			{
				PreConfig: f.setMark, Config: f.config(one, ""), ConfigVariables: f.vars(0, 1, -1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: f.plans(plancheck.ResourceActionCreate, ""),
					PostApplyPostRefresh: empty},
				Check: resource.ComposeTestCheckFunc(f.saw("ir:accepted:mac", "certConf:confirmed:mac"),
					f.certifies(0, "ir", 1), record, f.check),
			},
			// A plan without changes sends nothing, with the key or without.
			{PreConfig: f.setMark, Config: f.config(one, ""), ConfigVariables: f.vars(0, 1, -1), PlanOnly: true},
			{Config: f.config(one, ""), ConfigVariables: f.vars(-1, 1, -1), PlanOnly: true},
			// The default window (a third of 24h left) opens at 16h: a KUR
			// for the same key, signed with it.
			{
				PreConfig: func() {
					if err := f.e.sawSince(f.mark, nil); err != nil {
						t.Error(err)
					}
					f.setMark()
					f.now.Add(17 * time.Hour)
				},
				Config: f.config(one, ""), ConfigVariables: f.vars(0, 1, -1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: f.plans(plancheck.ResourceActionUpdate, "kur")},
				// The CA grants 24h from its own clock: at the provider's the
				// new certificate is due at once, until the clock is set back.
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeTestCheckFunc(f.saw("kur:accepted:signature", "certConf:confirmed:signature"),
					f.certifies(0, "kur", 1), record, f.check),
			},
			{PreConfig: func() { f.now.Set(time.Now()); f.setMark() }, RefreshState: true},
			{Config: f.config(one, ""), ConfigVariables: f.vars(0, 1, -1), PlanOnly: true},
			// Rotation to key 1, signed with key 0 given once as
			// previous_private_key_wo, which also signs the RR of the first
			// certificate, leaving the state.
			{
				PreConfig: f.setMark, Config: f.config(one, ""), ConfigVariables: f.vars(1, 2, 0),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: f.plans(plancheck.ResourceActionUpdate, "kur"),
					PostApplyPostRefresh: empty},
				Check: resource.ComposeTestCheckFunc(
					f.saw("kur:accepted:signature", "certConf:confirmed:signature", "rr:accepted:signature"),
					f.certifies(1, "kur", 2), record, revoked(0), f.check),
			},
			// A CR for another name, signed with key 1; key 0 signs the RR of
			// the renewed certificate leaving the state.
			{
				PreConfig: f.setMark, Config: f.config(two, ""), ConfigVariables: f.vars(1, 2, 0),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: f.plans(plancheck.ResourceActionUpdate, "cr"),
					PostApplyPostRefresh: empty},
				Check: resource.ComposeTestCheckFunc(
					f.saw("cr:accepted:signature", "certConf:confirmed:signature", "rr:accepted:signature"),
					f.certifies(1, "cr", 2), record, revoked(1), f.check),
			},
			// Rotation to key 2 protected by MAC: the KUR and the RR of the
			// certificate leaving the state go MAC-protected, which this CA
			// accepts for the certificates of its reference.
			{
				PreConfig: f.setMark, Config: f.config(two, `update_protection = "mac"`), ConfigVariables: f.vars(2, 3, -1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: f.plans(plancheck.ResourceActionUpdate, "kur"),
					PostApplyPostRefresh: empty},
				Check: resource.ComposeTestCheckFunc(
					f.saw("kur:accepted:mac", "certConf:confirmed:mac", "rr:accepted:mac"),
					f.certifies(2, "kur", 3), record, revoked(2), f.check),
			},
			// Back to signed updates: a state-only change.
			{
				PreConfig: f.setMark, Config: f.config(two, ""), ConfigVariables: f.vars(2, 3, -1),
				Check: resource.ComposeTestCheckFunc(f.certifies(2, "kur", 3), f.check),
			},
		},
		// Destroy sends no RR: it gets no write-only value (its plan and
		// the destroy warn with the serials).
		CheckDestroy: func(*terraform.State) error {
			if err := f.e.sawSince(f.mark, nil); err != nil {
				return err
			}
			return f.noKeyInFiles(false)
		},
	})
}

// TestAccCertificateKeyWOPlanErrors: every plan that needs the write-only
// key and lacks it, or is given a key that is not the certificate's,
// fails at plan time naming the attribute, and no message reaches the CA;
// so do the configurations that cannot work.
func TestAccCertificateKeyWOPlanErrors(t *testing.T) {
	f := newKeyWORun(t, 3)
	one, two := `["keyless.example"]`, `["keyless.example", "www.keyless.example"]`
	_, otherKeyPEM := testCertificate(t, "other")
	csr := f.keys[0].csr(t, "keyless.example", "keyless.example")
	noVersion := strings.Replace(f.config(one, ""), "private_key_wo_version  = var.key_version", "", 1)
	withCSR := strings.NewReplacer("subject                 = { common_name = \"keyless.example\" }", "",
		"dns_names               = [\"keyless.example\"]", "").Replace(f.config(one, "certificate_request_pem = <<EOT\n"+csr+"EOT"))
	planFails := func(cfg string, vars config.Variables, want string) resource.TestStep {
		return resource.TestStep{Config: cfg, ConfigVariables: vars, PlanOnly: true, ExpectError: regexp.MustCompile(want)}
	}
	unchanged := func() {
		if err := f.e.sawSince(f.mark, nil); err != nil {
			t.Error(err)
		}
	}
	steps := []resource.TestStep{
		// Configurations that cannot work, before anything exists.
		planFails(f.config(one, ""), f.vars(-1, 1, -1),
			`(?s)private_key_wo needed.*initialization request \(IR\).*private_key_wo is not set`),
		planFails(noVersion, f.vars(0, 1, -1), `(?s)private_key_wo needs private_key_wo_version`),
		planFails(f.config(one, "private_key_pem = <<EOT\n"+otherKeyPEM+"EOT"), f.vars(0, 1, -1),
			`(?s)private_key_pem conflicts with private_key_wo`),
		planFails(f.config(one, `key_algorithm = "RSA"`), f.vars(0, 1, -1), `(?s)key_algorithm conflicts with private_key_wo`),
		planFails(withCSR, f.vars(0, 1, -1), `(?s)certificate_request_pem conflicts with private_key_wo`),
		planFails(f.config(one, `certificate_p12_password = "changeit"`), f.vars(0, 1, -1),
			`(?s)certificate_p12_password conflicts with\s+private_key_wo.*PKCS#12`),
		planFails(f.config(one, ""), f.vars(-1, 1, 0), `(?s)previous_private_key_wo.*private_key_wo`),
		// The certificate, for key 0.
		{PreConfig: f.setMark, Config: f.config(one, ""), ConfigVariables: f.vars(0, 1, -1)},
		// Another key under the same version, with nothing to send.
		{PreConfig: f.setMark, Config: f.config(one, ""), ConfigVariables: f.vars(1, 1, -1), PlanOnly: true,
			ExpectError: regexp.MustCompile(`(?s)private_key_wo is not the certificate's key.*private_key_wo_version is\s+still\s+1`)},
		// A renewal due without the key.
		{PreConfig: func() { f.now.Add(17 * time.Hour) }, Config: f.config(one, ""), ConfigVariables: f.vars(-1, 1, -1),
			PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)private_key_wo needed.*key update request \(KUR\).*renewal\s+window.*private_key_wo is not set`)},
		// A renewal due with another key under the same version.
		planFails(f.config(one, ""), f.vars(1, 1, -1), `(?s)private_key_wo is not the certificate's key`),
		// A CR without the key, and with another key.
		{PreConfig: func() { f.now.Set(time.Now()) }, Config: f.config(two, ""), ConfigVariables: f.vars(-1, 1, -1),
			PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)private_key_wo needed.*certification request \(CR\)`)},
		planFails(f.config(two, ""), f.vars(1, 1, -1), `(?s)private_key_wo is not the certificate's key`),
		// A rotation without the previous key or MAC, with a previous key
		// that is not the certificate's, and without the new key.
		planFails(f.config(one, ""), f.vars(1, 2, -1),
			`(?s)previous_private_key_wo needed.*previous_private_key_wo.*update_protection\s+=\s+"mac"`),
		planFails(f.config(one, ""), f.vars(1, 2, 2), `(?s)previous_private_key_wo is not the certificate's key.*previous_private_key_wo is not the key of\s+the\s+certificate`),
		planFails(f.config(one, ""), f.vars(-1, 2, -1), `(?s)private_key_wo needed.*private_key_wo is not set`),
		// None of them sent anything.
		{PreConfig: unchanged, Config: f.config(one, ""), ConfigVariables: f.vars(0, 1, -1), PlanOnly: true},
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providersAt(clock{Now: f.now.Now}),
		Steps:                    steps,
		CheckDestroy:             func(*terraform.State) error { return f.e.sawSince(f.mark, nil) },
	})
}

// TestKeyWONotRevoked: the warning of a destroy that cannot revoke a
// certificate of a write-only key names its serial and why, and says
// nothing of a certificate that expired.
func TestKeyWONotRevoked(t *testing.T) {
	certPEM, _ := testCertificate(t, "keyless.example")
	state := certificateModel{CertificatePEM: types.StringValue(certPEM), LastOperation: types.StringValue("kur"),
		PreviousCertificatePEM: types.StringValue(certPEM)}
	diags := keyWONotRevoked(state, time.Now(), true)
	if len(diags) != 2 || diags.HasError() {
		t.Fatalf("want two warnings, got %v", diags)
	}
	for _, want := range []string{"serial 1", "private_key_wo", "update_protection = \"mac\"", "stays valid until"} {
		if !strings.Contains(diags[0].Detail(), want) {
			t.Errorf("the warning %q does not say %q", diags[0].Detail(), want)
		}
	}
	if !strings.Contains(diags[1].Detail(), "the last KUR replaced") {
		t.Errorf("the second warning %q does not name the replaced certificate", diags[1].Detail())
	}
	if got := keyWONotRevoked(state, time.Now().Add(2*time.Hour), true); len(got) != 0 {
		t.Errorf("expired certificates: %v", got)
	}
}

// TestKeyWOUpdateKeys: which key signs a CR or KUR of a write-only key, and
// every refusal, each naming the attribute at fault, before anything is sent.
func TestKeyWOUpdateKeys(t *testing.T) {
	certPEM, keyPEM := testCertificate(t, "keyless.example")
	_, newKeyPEM := testCertificate(t, "new")
	_, otherKeyPEM := testCertificate(t, "other")
	cur, err := parseCertificatePEM(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	str := func(s string) types.String {
		if s == "" {
			return types.StringNull()
		}
		return types.StringValue(s)
	}
	state := certificateModel{PrivateKeyWOVersion: types.Int64Value(1)}
	cases := []struct {
		name              string
		key, previous     string
		version           int64
		mac               bool
		signer, attr, err string // signer: "key", "previous" or ""
	}{
		{"renewal with the certificate's key", keyPEM, "", 1, false, "key", "", ""},
		{"another key, same version", otherKeyPEM, "", 1, false, "", "private_key_wo", "is not the key of the certificate"},
		{"another key, same version, with MAC", otherKeyPEM, "", 1, true, "", "private_key_wo", "is not the key of the certificate"},
		{"no key", "", "", 1, false, "", "private_key_wo", "private_key_wo is not set"},
		{"rotation signed with the previous key", newKeyPEM, keyPEM, 2, false, "previous", "", ""},
		{"rotation with a previous key not the certificate's", newKeyPEM, otherKeyPEM, 2, false, "", "previous_private_key_wo", "previous_private_key_wo is not the key"},
		{"rotation by MAC", newKeyPEM, "", 2, true, "", "", ""},
		{"rotation without previous key or MAC", newKeyPEM, "", 2, false, "", "previous_private_key_wo", `update_protection = "mac"`},
		{"new version, same key", keyPEM, "", 2, false, "key", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			config := certificateModel{PrivateKeyWO: str(tc.key), PreviousPrivateKeyWO: str(tc.previous),
				PrivateKeyWOVersion: types.Int64Value(tc.version)}
			signer, key, keyPEMOut, _, attr, err := keyWOUpdateKeys(config, state, cur, tc.mac)
			if attr != tc.attr || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("attr %q, error %v; want %q, %q", attr, err, tc.attr, tc.err)
			}
			if err != nil {
				if strings.Contains(err.Error(), "PRIVATE KEY") {
					t.Errorf("the error quotes a key")
				}
				return
			}
			if keyPEMOut != "" || !pemkey.HasPublicKey(key, mustKey(t, tc.key).Public()) {
				t.Errorf("certified key is not private_key_wo, or its PEM is kept (%d bytes)", len(keyPEMOut))
			}
			want := map[string]string{"key": tc.key, "previous": tc.previous}[tc.signer]
			switch {
			case want == "" && signer != nil:
				t.Errorf("signed with a key, want MAC")
			case want != "" && (signer == nil || !pemkey.HasPublicKey(signer, mustKey(t, want).Public())):
				t.Errorf("not signed with the %s key", tc.signer)
			}
		})
	}
}

func mustKey(t *testing.T, keyPEM string) crypto.Signer {
	t.Helper()
	key, err := parsePrivateKeyPEM(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// TestKeyWODecision: with a write-only key only a new private_key_wo_version
// is a new key, and the reason names the version.
func TestKeyWODecision(t *testing.T) {
	state := certificateModel{PrivateKeyWOVersion: types.Int64Value(1)}
	rotation := keyWODecision(updateDecision{Op: opKUR, NewKey: true, Why: []string{"private_key_pem changed"}}, state,
		certificateModel{PrivateKeyWOVersion: types.Int64Value(2)})
	if !rotation.NewKey || rotation.Why[0] != "private_key_wo_version changed from 1 to 2" {
		t.Errorf("rotation: %+v", rotation)
	}
	triggers := keyWODecision(updateDecision{Op: opKUR, NewKey: true, Why: []string{"rotation_triggers changed"}}, state, state)
	if triggers.NewKey || triggers.Op != opKUR {
		t.Errorf("rotation_triggers with the same version: %+v, want a KUR for the same key", triggers)
	}
}

// TestCheckKeyWOPlan: the plan's warning says how a CR or KUR of a
// write-only key is signed: with the key, with previous_private_key_wo, or
// by MAC; a plan that sends nothing needs no key.
func TestCheckKeyWOPlan(t *testing.T) {
	certPEM, keyPEM := testCertificate(t, "keyless.example")
	_, newKeyPEM := testCertificate(t, "new")
	state := certificateModel{CertificatePEM: types.StringValue(certPEM), PrivateKeyWOVersion: types.Int64Value(1),
		PreviousPrivateKeyWO: types.StringNull()}
	signature, mac := certificateModel{UpdateProtection: types.StringValue(updateProtectionSignature)},
		certificateModel{UpdateProtection: types.StringValue(updateProtectionMAC)}
	cases := []struct {
		name          string
		key, previous types.String
		version       int64
		op            operation
		plan          certificateModel
		want          string
	}{
		{"renewal", types.StringValue(keyPEM), types.StringNull(), 1, opKUR, signature, "signed with the current certificate and the key private_key_wo supplies"},
		{"rotation with the previous key", types.StringValue(newKeyPEM), types.StringValue(keyPEM), 2, opKUR, signature, "signed with the current certificate and previous_private_key_wo"},
		{"rotation by MAC", types.StringValue(newKeyPEM), types.StringNull(), 2, opKUR, mac, `update_protection = "mac"`},
		{"key known during apply", types.StringUnknown(), types.StringNull(), 1, opCR, signature, "known during apply"},
		{"nothing to send, no key", types.StringNull(), types.StringNull(), 1, opNone, signature, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var diags diag.Diagnostics
			config := certificateModel{PrivateKeyWO: tc.key, PreviousPrivateKeyWO: tc.previous,
				PrivateKeyWOVersion: types.Int64Value(tc.version)}
			got := checkKeyWOPlan(config, tc.plan, state, tc.op, []string{"a test"}, &diags)
			if diags.HasError() || !strings.Contains(got, tc.want) {
				t.Errorf("protection %q (%v), want %q", got, diags, tc.want)
			}
		})
	}
}

// TestAccCertificateKeyWOCustodyChange: setting private_key_wo_version on a
// certificate whose key is in state replaces it (an RR signed with the key
// in state, then an IR for the write-only key); removing it replaces it
// again, and the certificate of the write-only key leaves unrevoked, since
// its destroy gets no write-only value.
func TestAccCertificateKeyWOCustodyChange(t *testing.T) {
	f := newKeyWORun(t, 1)
	one := `["keyless.example"]`
	inState := strings.Replace(f.config(one, ""), "private_key_wo_version  = var.key_version", "", 1)
	var serials []string
	record := func(s *terraform.State) error {
		serials = append(serials, stateAttr(s, certAddr, "serial_number"))
		return nil
	}
	replaces := []plancheck.PlanCheck{plancheck.ExpectResourceAction(certAddr, plancheck.ResourceActionDestroyBeforeCreate)}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providersAt(clock{Now: f.now.Now}),
		Steps: []resource.TestStep{
			{PreConfig: f.setMark, Config: inState, ConfigVariables: f.vars(-1, 1, -1),
				Check: resource.ComposeTestCheckFunc(f.saw("ir:accepted:mac", "certConf:confirmed:mac"), record)},
			{
				PreConfig: f.setMark, Config: f.config(one, ""), ConfigVariables: f.vars(0, 1, -1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: replaces, PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: resource.ComposeTestCheckFunc(
					f.saw("rr:accepted:signature", "ir:accepted:mac", "certConf:confirmed:mac"),
					f.certifies(0, "ir", 1), record, f.check,
					func(*terraform.State) error {
						if !f.e.revoked(t, serials[0]) {
							return fmt.Errorf("the certificate whose key was in state (serial %s) is not revoked", serials[0])
						}
						return nil
					}),
			},
			{
				PreConfig: f.setMark, Config: inState, ConfigVariables: f.vars(-1, 1, -1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: replaces},
				Check: resource.ComposeTestCheckFunc(f.saw("ir:accepted:mac", "certConf:confirmed:mac"), record,
					func(s *terraform.State) error {
						if stateAttr(s, certAddr, "private_key_pem") == "" || f.e.revoked(t, serials[1]) {
							return fmt.Errorf("the key is not back in state, or the write-only key's certificate was revoked")
						}
						return nil
					}),
			},
		},
		CheckDestroy: func(*terraform.State) error {
			return f.e.sawSince(f.mark, []string{"ir:accepted", "certConf:confirmed", "rr:accepted"})
		},
	})
}
