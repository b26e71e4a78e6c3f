package provider

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// topWriteOnly are cmpv2_certificate's top-level write-only attributes,
// which are not Sensitive; enrollment.secret_wo, nested, is.
var topWriteOnly = []string{"private_key_wo", "previous_private_key_wo", "certificate_p12_password_wo"}

// woConfig is two certificates whose write-only values come from variables
// declared with decl (plain variables when ""): one keyed by private_key_wo
// (previous_private_key_wo from previous_key), one with a bundle under
// certificate_p12_password_wo, both enrolled with enrollment.secret_wo.
func woConfig(e *caEnv, decl string) string {
	var b strings.Builder
	b.WriteString(e.providerBlock(false))
	for _, name := range []string{"key", "previous_key", "p12_password", "enrollment_secret"} {
		fmt.Fprintf(&b, "variable %q {\n  type    = string\n  default = null\n%s}\n", name, decl)
	}
	return b.String() + `
variable "secret_encoding" {
  type    = string
  default = "text"
}
resource "cmpv2_certificate" "key" {
  subject                 = { common_name = "wo-key.example" }
  enrollment              = { reference = "` + e.reference + `", secret_wo = var.enrollment_secret, secret_encoding = var.secret_encoding }
  private_key_wo          = var.key
  private_key_wo_version  = 1
  previous_private_key_wo = var.previous_key
}
resource "cmpv2_certificate" "bundle" {
  subject                             = { common_name = "wo-bundle.example" }
  enrollment                          = { reference = "` + e.reference + `", secret_wo = var.enrollment_secret, secret_encoding = var.secret_encoding }
  certificate_p12_password_wo         = var.p12_password
  certificate_p12_password_wo_version = 1
}
`
}

// TestAccCertificateWriteOnlyPlainValues: top-level write-only attributes
// are not marked Sensitive, and a write-only value hides itself all the
// same. The key, the PKCS#12 password and the enrollment secret come from
// plain variables (-var and TF_VAR_), with Terraform and OpenTofu where
// both are at hand; none of them is in the human output of plan and apply,
// in show of a saved plan (human and JSON, apart from the variables
// Terraform keeps as given), in the state, or in the errors for a value
// that is not a key, a key that is not the certificate's and a secret that
// is not hex. The state's sensitive_attributes name no top-level
// write-only attribute.
func TestAccCertificateWriteOnlyPlainValues(t *testing.T) {
	eachCLI(t, plainWriteOnlyValues)
}

func plainWriteOnlyValues(t *testing.T, cli string) {
	f := newKeyWORun(t, 2)
	e := f.e
	random := func(what string) string {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		return what + "-" + hex.EncodeToString(b)
	}
	password, notHex := random("p12-password"), random("not-hex")
	if len(e.secret) < 16 {
		t.Fatalf("the CA's secret has %d characters, too few to search for", len(e.secret))
	}
	f.secrets = map[string]string{"the PKCS#12 password": password, "the enrollment secret": e.secret,
		"the secret that is not hex": notHex}
	// A value that is not a key, holding key 1's material under the type of
	// a certificate.
	notKey := strings.ReplaceAll(f.keyPEM(1), "PRIVATE KEY", "CERTIFICATE")

	run := newCLIRun(t, cli)
	run.env = append(run.env, "TF_VAR_enrollment_secret="+e.secret)
	run.write(woConfig(e, ""))
	vars := func(key string) []string { return []string{"-var", "key=" + key, "-var", "p12_password=" + password} }
	// clean checks that what the CLI printed or wrote holds no value.
	clean := func(what, text string) {
		t.Helper()
		if k := f.found([]byte(text)); k != "" {
			t.Errorf("%s holds %s", what, k)
		}
	}
	// shows checks that text says want (that the search looks at the
	// right output).
	shows := func(what, text, want string) {
		t.Helper()
		if !strings.Contains(text, want) {
			t.Errorf("%s lacks %q", what, want)
		}
	}
	// writeOnlyShown checks that a human plan shows every write-only
	// attribute of both certificates as such (Terraform adds "sensitive, "
	// for the nested one, OpenTofu does not).
	writeOnlyShown := func(what, text string) {
		t.Helper()
		for _, wo := range append(topWriteOnly, "secret_wo") {
			sensitive := ""
			if wo == "secret_wo" {
				sensitive = "(?:sensitive, )?"
			}
			if n := len(regexp.MustCompile(`\+ `+wo+` += \(`+sensitive+`write-only attribute\)\n`).FindAllString(text, -1)); n != 2 {
				t.Errorf("%s shows %s as a write-only attribute %d times, want 2", what, wo, n)
			}
		}
	}

	mark := e.mark()
	plan := run.cli(append([]string{"plan", "-input=false", "-out=tfplan"}, vars(f.keyPEM(0))...)...)
	clean("plan", plan)
	shows("plan", plan, "2 to add")
	writeOnlyShown("plan", plan)
	shown := run.cli("show", "tfplan")
	clean("show of the saved plan", shown)
	writeOnlyShown("show of the saved plan", shown)
	planJSON := run.cli("show", "-json", "tfplan")
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(planJSON), &doc); err != nil {
		t.Fatalf("show -json of the saved plan: %v", err)
	}
	// The variables are the input as given: Terraform keeps a plain
	// variable's value in the plan whatever the attribute it feeds. That
	// the search finds the key there proves it looks; everything else must
	// hold none.
	if f.found(doc["variables"]) == "" {
		t.Error("the variables of show -json hold no value: the search finds nothing")
	}
	delete(doc, "variables")
	rest, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	clean("show -json of the saved plan (without its variables)", string(rest))
	shows("show -json of the saved plan", string(rest), `"private_key_wo"`)
	if ops := e.ops(mark); len(ops) != 0 {
		t.Errorf("the plan sent %v", ops)
	}

	apply := run.cli(append([]string{"apply", "-input=false", "-auto-approve"}, vars(f.keyPEM(0))...)...)
	clean("apply", apply)
	shows("apply", apply, "2 added")
	writeOnlyShown("apply", apply)
	// The two enrollments run in parallel: their messages interleave.
	if ops := e.ops(mark); !slices.Equal(slices.Sorted(slices.Values(ops)),
		[]string{"certConf:confirmed", "certConf:confirmed", "ir:accepted", "ir:accepted"}) {
		t.Errorf("the apply sent %v, want an IR and its certConf for each certificate", ops)
	}
	state, err := os.ReadFile(filepath.Join(run.dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	clean("the state", string(state))
	checkSensitiveAttributes(t, state)

	mark = e.mark()
	again := run.cli(append([]string{"plan", "-input=false"}, vars(f.keyPEM(0))...)...)
	clean("a plan without changes", again)
	shows("a plan without changes", again, "No changes")

	// Wrong values: each error names the attribute and quotes nothing.
	for _, tc := range []struct {
		name, want string
		args       []string
	}{
		{"a write-only key that is not a key", "Invalid private key PEM", vars(notKey)},
		{"a write-only key that is not the certificate's", "private_key_wo is not the certificate's key", vars(f.keyPEM(1))},
		{"a write-only secret that is not hex", "Secret is not hex",
			append(vars(f.keyPEM(0)), "-var", "enrollment_secret="+notHex, "-var", "secret_encoding=hex")},
	} {
		for _, cmd := range []string{"plan", "apply"} {
			args := []string{cmd, "-input=false"}
			if cmd == "apply" {
				args = append(args, "-auto-approve")
			}
			out := run.fails(append(args, tc.args...)...)
			clean(cmd+" with "+tc.name, out)
			shows(cmd+" with "+tc.name, out, tc.want)
		}
	}
	if ops := e.ops(mark); len(ops) != 0 {
		t.Errorf("the plans without changes and the refused ones sent %v", ops)
	}
}

// checkSensitiveAttributes checks that the sensitive_attributes of every
// instance in state name stored secrets (private_key_pem) and the nested
// enrollment.secret_wo, and no top-level write-only attribute, and logs
// their size per instance.
func checkSensitiveAttributes(t *testing.T, state []byte) {
	t.Helper()
	var st struct {
		Resources []struct {
			Type, Name string
			Instances  []struct {
				SensitiveAttributes json.RawMessage `json:"sensitive_attributes"`
			}
		}
	}
	if err := json.Unmarshal(state, &st); err != nil {
		t.Fatalf("the state: %v", err)
	}
	instances := 0
	for _, r := range st.Resources {
		for _, in := range r.Instances {
			instances++
			var paths [][]struct{ Value any }
			if err := json.Unmarshal(in.SensitiveAttributes, &paths); err != nil {
				t.Fatalf("%s.%s: sensitive_attributes: %v", r.Type, r.Name, err)
			}
			names := map[string]bool{}
			for _, p := range paths {
				var steps []string
				for _, step := range p {
					steps = append(steps, fmt.Sprint(step.Value))
				}
				names[strings.Join(steps, ".")] = true
			}
			for _, want := range []string{"private_key_pem", "enrollment.secret_wo"} {
				if !names[want] {
					t.Errorf("%s.%s: sensitive_attributes do not name %s: %v", r.Type, r.Name, want, names)
				}
			}
			for _, wo := range topWriteOnly {
				if names[wo] {
					t.Errorf("%s.%s: sensitive_attributes name the write-only %s", r.Type, r.Name, wo)
				}
			}
			t.Logf("%s.%s: %d sensitive_attributes, %d bytes; state %d bytes in all", r.Type, r.Name, len(paths),
				len(in.SensitiveAttributes), len(state))
		}
	}
	if instances != 2 {
		t.Errorf("the state holds %d instances, want 2", instances)
	}
}

// TestAccCertificateWriteOnlyMarks: write-only values from sensitive
// ephemeral variables that one run gives and the next does not leave a
// plan without changes, with Terraform and OpenTofu: the top-level
// write-only key (given, then not), the previous key (not given, then
// given) and the nested enrollment.secret_wo (given, then not), which
// needs its Sensitive flag for that.
func TestAccCertificateWriteOnlyMarks(t *testing.T) {
	eachCLI(t, func(t *testing.T, cli string) {
		f := newKeyWORun(t, 1)
		run := newCLIRun(t, cli)
		run.write(woConfig(f.e, "  ephemeral = true\n  sensitive = true\n"))
		key, p12 := []string{"-var", "key=" + f.keyPEM(0)}, []string{"-var", "p12_password=p12-password"}
		secret := []string{"-var", "enrollment_secret=" + f.e.secret}
		mark := f.e.mark()
		run.cli(slices.Concat([]string{"apply", "-input=false", "-auto-approve"}, key, p12, secret)...)
		if ops := f.e.ops(mark); len(ops) != 4 {
			t.Fatalf("the apply sent %v, want an IR and its certConf for each certificate", ops)
		}
		mark = f.e.mark()
		for _, tc := range []struct {
			name string
			vars []string
		}{
			{"every value as in the apply", slices.Concat(key, p12, secret)},
			{"no write-only key", slices.Concat(p12, secret)},
			{"the previous key as well", slices.Concat(key, p12, secret, []string{"-var", "previous_key=" + f.keyPEM(0)})},
			{"no enrollment secret", slices.Concat(key, p12)},
			{"the PKCS#12 password alone", p12},
		} {
			if out := run.cli(append([]string{"plan", "-input=false"}, tc.vars...)...); !strings.Contains(out, "No changes.") {
				t.Errorf("%s: the plan is not empty:\n%s", tc.name, out)
			}
		}
		if ops := f.e.ops(mark); len(ops) != 0 {
			t.Errorf("the plans sent %v", ops)
		}
	})
}
