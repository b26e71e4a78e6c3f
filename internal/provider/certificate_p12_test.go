package provider

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/bcpeer"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"software.sslmate.com/src/go-pkcs12"
)

// p12Readers are the importers a PKCS#12 file is checked with besides
// Go's decoder: OpenSSL and Java's keytool.
type p12Readers struct {
	openssl, keytool string
}

// findP12Readers locates openssl and keytool; without them the test is
// skipped, or fails under CI (bcpeer.Keytool).
func findP12Readers(t *testing.T) p12Readers {
	t.Helper()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skipf("SKIPPED: PKCS#12 test needs `openssl` on PATH: %v", err)
	}
	return p12Readers{openssl: openssl, keytool: bcpeer.Keytool(t)}
}

// p12Want is what a bundle must hold: the key, the certificate and its
// issuer chain, as PEM (the state's attributes).
type p12Want struct {
	keyPEM, certPEM, chainPEM string
}

// p12Algorithms is what `openssl pkcs12 -info` prints for the certificates'
// encryption of each encoding.
var p12Algorithms = map[string]string{
	p12Modern:    "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC",
	p12Legacy:    "PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC",
	p12LegacyRC2: "PKCS7 Encrypted data: pbeWithSHA1And40BitRC2-CBC",
}

// check reads the base64 bundle b64 under password with Go's decoder,
// OpenSSL and keytool, and checks that it is of encoding and holds want.
// The password reaches the tools through the environment, never argv or
// output.
func (r p12Readers) check(b64, password, encoding string, want p12Want) error {
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(der) == 0 {
		return fmt.Errorf("certificate_p12 is not base64 of a file (%d bytes): %v", len(b64), err)
	}
	if err := checkP12Contents(der, password, want); err != nil {
		return err
	}
	if _, _, _, err := pkcs12.DecodeChain(der, password+"x"); err == nil {
		return errors.New("the bundle decodes under a wrong password")
	}
	dir, err := os.MkdirTemp("", "p12")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "bundle.p12")
	if err := os.WriteFile(file, der, 0o600); err != nil {
		return err
	}
	env := append(os.Environ(), "P12_PASSWORD="+password)
	run := func(name string, args ...string) (string, error) {
		cmd := exec.Command(name, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	legacy := []string{}
	if encoding == p12LegacyRC2 {
		// OpenSSL 3 keeps RC2 in its legacy provider: without it the file
		// does not read, as the attribute's description says.
		if out, err := run(r.openssl, "pkcs12", "-in", file, "-info", "-noout", "-passin", "env:P12_PASSWORD"); err == nil {
			return fmt.Errorf("openssl read a legacy_rc2 bundle without -legacy:\n%s", out)
		}
		legacy = []string{"-legacy"}
	}
	out, err := run(r.openssl, append(append([]string{"pkcs12"}, legacy...), "-in", file, "-info", "-noout", "-passin", "env:P12_PASSWORD")...)
	if err != nil || !strings.Contains(out, p12Algorithms[encoding]) || !strings.Contains(out, "Shrouded Keybag") {
		return fmt.Errorf("openssl pkcs12 -info (%v), want %q and a shrouded key bag:\n%s", err, p12Algorithms[encoding], out)
	}
	out, err = run(r.openssl, append(append([]string{"pkcs12"}, legacy...), "-in", file, "-nokeys", "-passin", "env:P12_PASSWORD")...)
	wantCerts := 1 + strings.Count(want.chainPEM, "BEGIN CERTIFICATE")
	if got := strings.Count(out, "BEGIN CERTIFICATE"); err != nil || got != wantCerts {
		return fmt.Errorf("openssl pkcs12 -nokeys (%v): %d certificates, want %d", err, got, wantCerts)
	}
	out, err = run(r.keytool, "-list", "-v", "-storetype", "PKCS12", "-keystore", file, "-storepass:env", "P12_PASSWORD")
	if err != nil || !strings.Contains(out, "Entry type: PrivateKeyEntry") ||
		!strings.Contains(out, fmt.Sprintf("Certificate chain length: %d", wantCerts)) {
		return fmt.Errorf("keytool -list (%v), want one PrivateKeyEntry with a chain of %d:\n%s", err, wantCerts, out)
	}
	return nil
}

// checkP12Contents decodes der under password with Go's decoder and
// compares key, certificate and chain with want.
func checkP12Contents(der []byte, password string, want p12Want) error {
	key, cert, chain, err := pkcs12.DecodeChain(der, password)
	if err != nil {
		return fmt.Errorf("pkcs12.DecodeChain: %w", err)
	}
	wantKey, err := pemkey.ParsePrivateKey([]byte(want.keyPEM))
	if err != nil {
		return fmt.Errorf("wanted key: %w", err)
	}
	if k, ok := key.(crypto.Signer); !ok || !pemkey.HasPublicKey(wantKey, k.Public()) {
		return errors.New("the bundle's key is not private_key_pem")
	}
	if got := certificatePEM(cert); got != want.certPEM {
		return fmt.Errorf("the bundle's certificate (serial %s) is not certificate_pem", cert.SerialNumber)
	}
	if got := certificatesPEM(chain); got != want.chainPEM {
		return fmt.Errorf("the bundle's chain:\n%s\nwant ca_chain_pem:\n%s", got, want.chainPEM)
	}
	return nil
}

// TestEncodeP12: every encoding of every key type the provider generates
// reads back, with Go's decoder, OpenSSL and keytool, as the key, the
// certificate and the chain it was made of.
func TestEncodeP12(t *testing.T) {
	readers := findP12Readers(t)
	root := testpki.Root(t, "P12 Root")
	inter := testpki.Intermediate(t, "P12 Issuing CA", root)
	chainPEM := certificatesPEM([]*x509.Certificate{inter.Cert, root.Cert})
	for _, kt := range []testpki.KeyType{testpki.P256, testpki.RSA2048, testpki.Ed25519} {
		leaf := testpki.Leaf(t, inter, testpki.LeafOptions{CommonName: "p12.example", KeyType: kt})
		want := p12Want{keyPEM: string(leaf.KeyPEM()), certPEM: certificatePEM(leaf.Cert), chainPEM: chainPEM}
		for _, encoding := range []string{p12Modern, p12Legacy, p12LegacyRC2} {
			for _, password := range []string{"changeit-3f9a", ""} {
				t.Run(fmt.Sprintf("%s %s password %t", kt, encoding, password != ""), func(t *testing.T) {
					der, err := encodeP12(want.keyPEM, want.certPEM, want.chainPEM, password, encoding)
					if err != nil {
						t.Fatal(err)
					}
					if err := readers.check(base64.StdEncoding.EncodeToString(der), password, encoding, want); err != nil {
						t.Fatal(err)
					}
				})
			}
		}
	}
}

// TestEncodeP12Errors: what cannot become a bundle says which input is
// wrong, and never shows the key.
func TestEncodeP12Errors(t *testing.T) {
	leaf := testpki.Leaf(t, nil, testpki.LeafOptions{CommonName: "p12.example"})
	keyPEM, certPEM := string(leaf.KeyPEM()), certificatePEM(leaf.Cert)
	cases := []struct {
		name, key, cert, chain, encoding, want string
	}{
		{"no key (a certificate whose key stays outside)", "", certPEM, "", p12Modern, "no private key"},
		{"unreadable key", "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkq\n-----END PRIVATE KEY-----\n", certPEM, "", p12Modern, "private key"},
		{"unreadable certificate", keyPEM, "not PEM", "", p12Modern, "certificate"},
		{"unreadable chain", keyPEM, certPEM, "not PEM", p12Modern, "issuer chain"},
		{"unknown encoding", keyPEM, certPEM, "", "rc4", `unknown encoding "rc4"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := encodeP12(tc.key, tc.cert, tc.chain, "pw", tc.encoding)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "MIIBVQIBADANBgkq") || strings.Contains(err.Error(), strings.Split(keyPEM, "\n")[1]) {
				t.Fatal("the error shows key material")
			}
		})
	}
}

// TestPlannedP12: a bundle is planned unknown (the apply makes one) only
// when one is asked for and an enrollment, a first bundle or a change of
// its settings needs it; otherwise the state's is kept, or it is null.
func TestPlannedP12(t *testing.T) {
	bundle := types.StringValue("MIIbundle")
	made := p12Model{CertificateP12: bundle, P12Password: types.StringValue("one")}
	madeWO := p12Model{CertificateP12: bundle, P12PasswordWOVersion: types.Int64Value(1)}
	pw := func(s string) p12Model { return p12Model{P12Password: types.StringValue(s)} }
	wo := func(version int64) p12Model {
		return p12Model{P12PasswordWO: types.StringValue("secret"), P12PasswordWOVersion: types.Int64Value(version)}
	}
	withEncoding := func(m p12Model, e string) p12Model { m.P12Encoding = types.StringValue(e); return m }
	cases := []struct {
		name        string
		config      p12Model // the plan holds the same, less the write-only value
		state       *p12Model
		reissue     bool
		want        types.String
		wantUnknown bool
	}{
		{"not asked for, create", p12Model{}, nil, true, types.StringNull(), false},
		{"not asked for any more", p12Model{}, &made, false, types.StringNull(), false},
		{"create", pw("one"), nil, true, types.String{}, true},
		{"nothing changed", pw("one"), &made, false, bundle, false},
		{"unset encoding is modern", withEncoding(pw("one"), p12Modern), &made, false, bundle, false},
		{"enrollment", pw("one"), &made, true, types.String{}, true},
		{"password changed", pw("two"), &made, false, types.String{}, true},
		{"empty password is a password", pw(""), &made, false, types.String{}, true},
		{"encoding changed", withEncoding(pw("one"), p12Legacy), &made, false, types.String{}, true},
		{"asked for after the enrollment", pw("one"), &p12Model{}, false, types.String{}, true},
		{"password unknown", p12Model{P12Password: types.StringUnknown()}, &made, false, types.String{}, true},
		{"write-only, same version", wo(1), &madeWO, false, bundle, false},
		{"write-only, new version", wo(2), &madeWO, false, types.String{}, true},
		{"from password to write-only", wo(1), &made, false, types.String{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan := tc.config
			plan.P12PasswordWO = types.StringNull() // write-only: null in every plan
			got := plannedP12(tc.config, plan, tc.state, tc.reissue)
			if tc.wantUnknown != got.IsUnknown() || (!tc.wantUnknown && !got.Equal(tc.want)) {
				t.Fatalf("planned %v, want %v (unknown %t)", got, tc.want, tc.wantUnknown)
			}
		})
	}
}

// TestSetP12: the apply makes a bundle when the configuration asks for one
// and an enrollment or the plan needs it, keeps the planned one otherwise,
// and stores null (never unknown) when none is asked for or none can be
// made.
func TestSetP12(t *testing.T) {
	leaf := testpki.Leaf(t, nil, testpki.LeafOptions{CommonName: "p12.example"})
	kept := types.StringValue("planned-bundle")
	cases := []struct {
		name        string
		password    types.String
		keyPEM      string
		planned     types.String
		remake      bool
		wantErr     bool
		wantBundle  bool // a new bundle that reads under the password
		wantPlanned bool // the planned value, kept
	}{
		{"not asked for", types.StringNull(), string(leaf.KeyPEM()), types.StringUnknown(), true, false, false, false},
		{"enrollment", types.StringValue("pw"), string(leaf.KeyPEM()), kept, true, false, true, false},
		{"plan left it unknown", types.StringValue("pw"), string(leaf.KeyPEM()), types.StringUnknown(), false, false, true, false},
		{"plan kept it", types.StringValue("pw"), string(leaf.KeyPEM()), kept, false, false, false, true},
		{"no key", types.StringValue("pw"), "", types.StringUnknown(), true, true, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := nullCertificateModel()
			m.PrivateKeyPEM, m.CertificatePEM = types.StringValue(tc.keyPEM), types.StringValue(certificatePEM(leaf.Cert))
			m.CertificateP12, m.P12Password = tc.planned, tc.password
			config := *m
			err := setP12(m, config, tc.remake)
			switch {
			case (err != nil) != tc.wantErr:
				t.Fatalf("error %v, want one: %t", err, tc.wantErr)
			case m.CertificateP12.IsUnknown():
				t.Fatal("certificate_p12 left unknown")
			case tc.wantPlanned && !m.CertificateP12.Equal(kept):
				t.Fatal("the planned bundle was not kept")
			case !tc.wantBundle && !tc.wantPlanned && !m.CertificateP12.IsNull():
				t.Fatal("certificate_p12 set, want null")
			case tc.wantBundle:
				err := checkP12Contents(mustDecodeBase64(m.CertificateP12.ValueString()), "pw",
					p12Want{keyPEM: tc.keyPEM, certPEM: certificatePEM(leaf.Cert)})
				if err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestPreviousKeyOutput: the replaced certificate's key is handed out only
// when the provider generated it and it differs from the current one.
func TestPreviousKeyOutput(t *testing.T) {
	cases := []struct {
		name, old, current string
		userKey            bool
		attribute          types.String
		record             string
	}{
		{"KUR, generated keys", "old", "new", false, types.StringValue("old"), ""},
		{"CR that kept the key", "same", "same", false, types.StringNull(), ""},
		{"KUR, user-supplied keys", "old", "new", true, types.StringNull(), "old"},
		{"KUR that kept a user-supplied key", "same", "same", true, types.StringNull(), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			attribute, record := previousKeyOutput(tc.old, tc.current, tc.userKey)
			if !attribute.Equal(tc.attribute) || record != tc.record {
				t.Fatalf("attribute %v record %q, want %v and %q", attribute, record, tc.attribute, tc.record)
			}
		})
	}
}

// p12Of returns a check that the resource's certificate_p12 reads under
// password as the state's key, certificate and chain, in encoding, and
// records the bundle in *into.
func p12Of(r p12Readers, password, encoding string, into *string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		b64 := stateAttr(s, certAddr, "certificate_p12")
		if err := r.check(b64, password, encoding, p12Want{
			keyPEM:   stateAttr(s, certAddr, "private_key_pem"),
			certPEM:  stateAttr(s, certAddr, "certificate_pem"),
			chainPEM: stateAttr(s, certAddr, "ca_chain_pem"),
		}); err != nil {
			return err
		}
		if into != nil {
			*into = b64
		}
		return nil
	}
}

// withChecks adds checks to the step s.
func withChecks(s resource.TestStep, checks ...resource.TestCheckFunc) resource.TestStep {
	s.Check = resource.ComposeTestCheckFunc(append([]resource.TestCheckFunc{s.Check}, checks...)...)
	return s
}

// p12Kept checks that certificate_p12 is still the bundle *was.
func p12Kept(was *string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		if stateAttr(s, certAddr, "certificate_p12") != *was {
			return errors.New("certificate_p12 was made again by an apply that did not ask for it")
		}
		return nil
	}
}

// previousKeyMatches checks previous_private_key_pem: with want, it is the
// key of previous_certificate_pem and not the current key; without, null.
func previousKeyMatches(want bool) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		keyPEM := stateAttr(s, certAddr, "previous_private_key_pem")
		if !want {
			if keyPEM != "" {
				return errors.New("previous_private_key_pem is set, want null")
			}
			return nil
		}
		key, err := pemkey.ParsePrivateKey([]byte(keyPEM))
		if err != nil {
			return fmt.Errorf("previous_private_key_pem: %w", err)
		}
		prev, err := parseCertificatePEM(stateAttr(s, certAddr, "previous_certificate_pem"))
		if err != nil {
			return fmt.Errorf("previous_certificate_pem: %w", err)
		}
		if !pemkey.BelongsTo(key, prev) {
			return errors.New("previous_private_key_pem is not the key of previous_certificate_pem")
		}
		if keyPEM == stateAttr(s, certAddr, "private_key_pem") {
			return errors.New("previous_private_key_pem is the current key")
		}
		return nil
	}
}

// planHoldsNo checks that none of its strings is in the plan's values (its
// JSON, sensitive values included): the planned values, the changes and
// the prior state. The plan's copy of the configuration is left out: a
// literal written in the configuration is there as written.
type planHoldsNo []string

func (c planHoldsNo) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	plan := *req.Plan
	if plan.Config == nil {
		resp.Error = errors.New("the plan holds no configuration; the check would not know what it left out")
		return
	}
	plan.Config = nil
	b, err := json.Marshal(plan)
	if err != nil {
		resp.Error = err
		return
	}
	for i, secret := range c {
		if bytes.Contains(b, []byte(secret)) {
			resp.Error = fmt.Errorf("secret %d of the check is in the plan", i)
			return
		}
	}
}

// TestAccCertificateP12: a bundle asked for at create is made by the IR
// and read by Go, OpenSSL and keytool; an apply that changes nothing keeps
// it byte for byte; a KUR makes it again with the new key; a new password
// and each encoding make it again without a CMP message; without a
// password it is null, and asked for again it is made without a message.
// Destroy revokes both certificates.
func TestAccCertificateP12(t *testing.T) {
	readers := findP12Readers(t)
	const cn = "p12.example"
	f := newWindowRun(t, devca.Config{}, cn)
	body := func(epoch, password, encoding string) string {
		b := fmt.Sprintf("subject = { common_name = %q }\nrotation_triggers = { epoch = %q }\n", cn, epoch)
		if password != "-" {
			b += fmt.Sprintf("certificate_p12_password = %q\n", password)
		}
		if encoding != "" {
			b += fmt.Sprintf("certificate_p12_encoding = %q\n", encoding)
		}
		return b
	}
	var bundle, beforeKUR string
	remade := func(s resource.TestStep) resource.TestStep {
		s.ConfigPlanChecks.PreApply = append(s.ConfigPlanChecks.PreApply,
			plancheck.ExpectResourceAction(certAddr, plancheck.ResourceActionUpdate),
			plancheck.ExpectUnknownValue(certAddr, tfjsonpath.New("certificate_p12")))
		return s
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providersAt(clock{Now: f.now.Now}),
		Steps: []resource.TestStep{
			withChecks(f.step(0, body("1", "first-pass", ""), sentIR), p12Of(readers, "first-pass", p12Modern, &bundle),
				previousKeyMatches(false)),
			// Nothing changed: no message, the same bundle.
			withChecks(f.step(time.Hour, body("1", "first-pass", "")), p12Kept(&bundle)),
			withChecks(f.step(0, body("2", "first-pass", ""), sentKUR), func(s *terraform.State) error {
				beforeKUR = bundle
				return nil
			}, p12Of(readers, "first-pass", p12Modern, &bundle), previousKeyMatches(true), func(s *terraform.State) error {
				// The bundle before the KUR held what are now the previous
				// key and certificate.
				der, err := base64.StdEncoding.DecodeString(beforeKUR)
				if err != nil {
					return err
				}
				return checkP12Contents(der, "first-pass", p12Want{
					keyPEM:   stateAttr(s, certAddr, "previous_private_key_pem"),
					certPEM:  stateAttr(s, certAddr, "previous_certificate_pem"),
					chainPEM: stateAttr(s, certAddr, "ca_chain_pem"),
				})
			}),
			withChecks(remade(f.step(0, body("2", "second-pass", ""))), p12Of(readers, "second-pass", p12Modern, &bundle)),
			withChecks(remade(f.step(0, body("2", "second-pass", p12Legacy))), p12Of(readers, "second-pass", p12Legacy, &bundle)),
			withChecks(remade(f.step(0, body("2", "second-pass", p12LegacyRC2))), p12Of(readers, "second-pass", p12LegacyRC2, &bundle)),
			withChecks(f.step(0, body("2", "-", "")), resource.TestCheckNoResourceAttr(certAddr, "certificate_p12")),
			// Asked for again: made from the certificate in state, no message.
			withChecks(remade(f.step(0, body("2", "third-pass", ""))), p12Of(readers, "third-pass", p12Modern, &bundle)),
		},
		CheckDestroy: f.allRevoked(2),
	})
}

// TestAccCertificateP12WriteOnly: a bundle under the write-only password,
// which neither the state nor any plan holds. A new write-only value alone
// changes nothing (Terraform cannot see it); a new version makes the
// bundle again under it, with no CMP message; a KUR makes it again under
// the password of that apply.
func TestAccCertificateP12WriteOnly(t *testing.T) {
	readers := findP12Readers(t)
	const cn = "p12-wo.example"
	const first, second = "wo-pass-7c1e0b", "wo-pass-93d2aa"
	f := newWindowRun(t, devca.Config{}, cn)
	body := func(epoch, password string, version int) string {
		return fmt.Sprintf("subject = { common_name = %q }\nrotation_triggers = { epoch = %q }\n"+
			"certificate_p12_password_wo = %q\ncertificate_p12_password_wo_version = %d\n", cn, epoch, password, version)
	}
	neverStored := func(s resource.TestStep, checks ...resource.TestCheckFunc) resource.TestStep {
		s.ConfigStateChecks = append(s.ConfigStateChecks, stateHoldsNo{first, second})
		s.ConfigPlanChecks.PreApply = append(s.ConfigPlanChecks.PreApply, planHoldsNo{first, second})
		return withChecks(s, append([]resource.TestCheckFunc{
			resource.TestCheckNoResourceAttr(certAddr, "certificate_p12_password_wo"),
			resource.TestCheckNoResourceAttr(certAddr, "certificate_p12_password")}, checks...)...)
	}
	var bundle string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providersAt(clock{Now: f.now.Now}),
		Steps: []resource.TestStep{
			neverStored(f.step(0, body("1", first, 1), sentIR), p12Of(readers, first, p12Modern, &bundle)),
			// The value changed, its version did not: nothing to do.
			neverStored(f.step(0, body("1", second, 1)), p12Kept(&bundle), p12Of(readers, first, p12Modern, nil)),
			neverStored(f.step(0, body("1", second, 2)), p12Of(readers, second, p12Modern, &bundle)),
			neverStored(f.step(0, body("2", second, 2), sentKUR), p12Of(readers, second, p12Modern, &bundle),
				previousKeyMatches(true)),
		},
		CheckDestroy: f.allRevoked(2),
	})
}

// TestAccCertificateP12WriteOnlyNeedsVersion: the write-only password
// without its version (which alone tells Terraform it changed) is refused
// at plan, before any message.
func TestAccCertificateP12WriteOnlyNeedsVersion(t *testing.T) {
	f := newWindowRun(t, devca.Config{}, "p12-noversion.example")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providersAt(clock{Now: f.now.Now}),
		Steps: []resource.TestStep{{
			Config: f.config("subject = { common_name = \"p12-noversion.example\" }\n" +
				"certificate_p12_password_wo = \"wo-pass\"\n"),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)certificate_p12_password_wo_version`),
		}},
		CheckDestroy: func(*terraform.State) error {
			if ops := f.e.ops(0); len(ops) != 0 {
				return fmt.Errorf("the CA saw %v, want nothing", ops)
			}
			return nil
		},
	})
}

// TestAccCertificateP12UserKey: with private_key_pem configured the bundle
// holds that key, and a new one sends a KUR whose bundle holds the new
// key; previous_private_key_pem stays null (the keys are the user's), and
// destroy still revokes the replaced certificate with its own key (kept
// in private state).
func TestAccCertificateP12UserKey(t *testing.T) {
	readers := findP12Readers(t)
	const cn = "p12-userkey.example"
	f := newWindowRun(t, devca.Config{}, cn)
	keys := []string{string(pemOf(t, testpki.NewKey(t, testpki.P256))), string(pemOf(t, testpki.NewKey(t, testpki.RSA2048)))}
	body := func(key string) string {
		return fmt.Sprintf("subject = { common_name = %q }\nprivate_key_pem = <<EOT\n%sEOT\ncertificate_p12_password = \"user-key-pass\"\n", cn, key)
	}
	holds := func(key string) resource.TestCheckFunc {
		return func(s *terraform.State) error {
			return checkP12Contents(mustDecodeBase64(stateAttr(s, certAddr, "certificate_p12")), "user-key-pass", p12Want{
				keyPEM: key, certPEM: stateAttr(s, certAddr, "certificate_pem"), chainPEM: stateAttr(s, certAddr, "ca_chain_pem"),
			})
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providersAt(clock{Now: f.now.Now}),
		Steps: []resource.TestStep{
			withChecks(f.step(0, body(keys[0]), sentIR), holds(keys[0]), p12Of(readers, "user-key-pass", p12Modern, nil)),
			withChecks(f.step(0, body(keys[1]), sentKUR), holds(keys[1]), previousKeyMatches(false)),
		},
		CheckDestroy: f.allRevoked(2),
	})
}

// TestAccCertificatePreviousPrivateKey: previous_private_key_pem after
// each kind of update of a generated key: a KUR hands out the replaced
// key; a CR that keeps the key leaves it null (the previous certificate
// has the current key); a CR with a new key hands out the replaced one.
// The RR of each certificate pushed out of the state, and those of
// destroy, are signed with the key the state holds for it.
func TestAccCertificatePreviousPrivateKey(t *testing.T) {
	const cn = "previous-key.example"
	f := newWindowRun(t, devca.Config{}, cn)
	body := func(dns, epoch string) string {
		return fmt.Sprintf("subject = { common_name = %q }\ndns_names = [%q]\nrotation_triggers = { epoch = %q }\n", cn, dns, epoch)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providersAt(clock{Now: f.now.Now}),
		Steps: []resource.TestStep{
			withChecks(f.step(0, body("a.previous-key.example", "1"), sentIR), previousKeyMatches(false),
				resource.TestCheckNoResourceAttr(certAddr, "certificate_p12")),
			withChecks(f.step(0, body("a.previous-key.example", "2"), sentKUR), previousKeyMatches(true)),
			withChecks(crKeepsKey(f.step(0, body("b.previous-key.example", "2"), sentCR, sentRR)), previousKeyMatches(false)),
			withChecks(f.step(0, body("c.previous-key.example", "3"), sentCR, sentRR), previousKeyMatches(true)),
		},
		CheckDestroy: func(s *terraform.State) error {
			if err := f.allRevoked(4)(s); err != nil {
				return err
			}
			for serial, n := range f.e.rrCount() {
				if n != 1 {
					return fmt.Errorf("certificate %s got %d RRs, want 1", serial, n)
				}
			}
			return nil
		},
	})
}

func pemOf(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	b, err := pemkey.MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustDecodeBase64(s string) []byte {
	b, _ := base64.StdEncoding.DecodeString(s)
	return b
}
