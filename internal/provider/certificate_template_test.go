package provider

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// TestAccCertificateRequestTemplate: with use_request_template the plan
// of a create asks the CA for its template (genm certReqTemplate, RFC 9483
// 4.3.3) and shows the key type and subject taken where the configuration
// is silent; the certificate is issued with them, and the next plan is
// empty and asks nothing. Configured values win. Without the opt-in no
// genm is sent.
func TestAccCertificateRequestTemplate(t *testing.T) {
	clearProviderEnv(t)
	tmpl, err := devca.ParseRequestTemplate("keys=ec-p384 rsa-3072; subject=O=Example Org,C=DE")
	if err != nil {
		t.Fatal(err)
	}
	const addr = "cmpv2_certificate.test"
	tests := []struct {
		name, body string
		// What the plan shows and the certificate holds.
		keyAlgorithm, curve string
		rsaBits             int
		subject             string
		genm                bool
	}{
		{name: "nothing configured", body: "use_request_template = true\n  dns_names = [\"tmpl.example\"]",
			keyAlgorithm: "ECDSA", curve: "P384", subject: "O=Example Org,C=DE", genm: true},
		{name: "configured values win",
			body:         "use_request_template = true\n  key_algorithm = \"RSA\"\n  subject = { common_name = \"mine\" }",
			keyAlgorithm: "RSA", rsaBits: 3072, subject: "CN=mine", genm: true},
		{name: "not opted in", body: "dns_names = [\"tmpl.example\"]", keyAlgorithm: "ECDSA", curve: "P256"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := startCA(t, devca.Config{RequestTemplate: tmpl})
			config := e.providerBlock(true) + fmt.Sprintf("resource \"cmpv2_certificate\" \"test\" {\n  %s\n}\n", tc.body)
			checks := []plancheck.PlanCheck{
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("key_algorithm"), knownvalue.StringExact(tc.keyAlgorithm)),
			}
			if tc.curve != "" {
				checks = append(checks, plancheck.ExpectKnownValue(addr, tfjsonpath.New("ecdsa_curve"), knownvalue.StringExact(tc.curve)))
			}
			if tc.rsaBits != 0 {
				checks = append(checks, plancheck.ExpectKnownValue(addr, tfjsonpath.New("rsa_bits"), knownvalue.Int64Exact(int64(tc.rsaBits))))
			}
			switch tc.subject {
			case "O=Example Org,C=DE":
				checks = append(checks,
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("subject").AtMapKey("organization"), knownvalue.StringExact("Example Org")),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("subject").AtMapKey("country"), knownvalue.StringExact("DE")),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("subject").AtMapKey("common_name"), knownvalue.Null()))
			case "CN=mine":
				checks = append(checks,
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("subject").AtMapKey("organization"), knownvalue.Null()))
			default:
				checks = append(checks, plancheck.ExpectKnownValue(addr, tfjsonpath.New("subject"), knownvalue.Null()))
			}
			var applied int
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps: []resource.TestStep{
					{
						Config:           config,
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: checks},
						Check: func(s *terraform.State) error {
							applied = e.mark()
							cert, err := parseCertificatePEM(stateAttr(s, addr, "certificate_pem"))
							if err != nil {
								return err
							}
							if got := cert.Subject.String(); got != tc.subject && !(tc.subject == "" && got == "") {
								return fmt.Errorf("subject %q, want %q", got, tc.subject)
							}
							switch k := cert.PublicKey.(type) {
							case *ecdsa.PublicKey:
								want := map[string]elliptic.Curve{"P256": elliptic.P256(), "P384": elliptic.P384()}[tc.curve]
								if tc.keyAlgorithm != "ECDSA" || k.Curve != want {
									return fmt.Errorf("an ECDSA %s key, want %s %s", k.Curve.Params().Name, tc.keyAlgorithm, tc.curve)
								}
							case *rsa.PublicKey:
								if tc.keyAlgorithm != "RSA" || k.N.BitLen() != tc.rsaBits {
									return fmt.Errorf("an RSA %d key, want %s %d", k.N.BitLen(), tc.keyAlgorithm, tc.rsaBits)
								}
							default:
								return fmt.Errorf("a %T key", k)
							}
							ops := e.ops(0)
							var genm, ir []string
							for _, op := range ops {
								if strings.HasPrefix(op, "genm") {
									genm = append(genm, op)
								} else {
									ir = append(ir, op)
								}
							}
							if !slices.Equal(ir, []string{"ir:accepted", "certConf:confirmed"}) {
								return fmt.Errorf("the CA saw %v, want one ir and its certConf", ops)
							}
							if tc.genm != (len(genm) > 0) || slices.IndexFunc(ops, func(op string) bool { return op == "ir:accepted" }) < len(genm) {
								return fmt.Errorf("the CA saw %v: want genm before the ir only with use_request_template", ops)
							}
							return e.accountedFor(t, s)
						},
					},
					{
						// Later plans keep what state holds and ask nothing.
						Config:           config,
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
						Check: func(s *terraform.State) error {
							return e.sawSince(applied, nil)
						},
					},
				},
			})
		})
	}
}

// TestTemplateKey: the first key type of the template that agrees with the
// configuration is taken, in the CA's order.
func TestTemplateKey(t *testing.T) {
	ec := func(curve asn1.ObjectIdentifier) pkix.AlgorithmIdentifier {
		param, _ := asn1.Marshal(curve)
		return pkix.AlgorithmIdentifier{Algorithm: oidECPublicKey, Parameters: asn1.RawValue{FullBytes: param}}
	}
	tmpl := &cmpclient.CertReqTemplate{
		KeyAlgorithms: []pkix.AlgorithmIdentifier{ec(templateCurves["P384"]), {Algorithm: oidEd25519}, ec(templateCurves["P521"])},
		RSAKeyLengths: []int{1024, 3072},
	}
	str := func(s string) types.String {
		if s == "" {
			return types.StringNull()
		}
		return types.StringValue(s)
	}
	for _, tc := range []struct {
		name, alg, curve string
		bits             int64
		tmpl             *cmpclient.CertReqTemplate
		want             keySpec
		ok               bool
	}{
		{name: "nothing configured", tmpl: tmpl, want: keySpec{Algorithm: "ECDSA", Curve: "P384"}, ok: true},
		{name: "curve configured", curve: "P521", tmpl: tmpl, want: keySpec{Algorithm: "ECDSA", Curve: "P521"}, ok: true},
		{name: "Ed25519 configured", alg: "ED25519", tmpl: tmpl, want: keySpec{Algorithm: "ED25519"}, ok: true},
		{name: "RSA configured skips 1024", alg: "RSA", tmpl: tmpl, want: keySpec{Algorithm: "RSA", RSABits: 3072}, ok: true},
		{name: "RSA size configured", alg: "RSA", bits: 4096, tmpl: tmpl},
		{name: "curve the template lacks", curve: "P256", tmpl: tmpl},
		{name: "publicKey algorithm only", tmpl: &cmpclient.CertReqTemplate{PublicKeyAlgorithm: oidRSAEncryption},
			want: keySpec{Algorithm: "RSA"}, ok: true},
		{name: "empty template", tmpl: &cmpclient.CertReqTemplate{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := certificateModel{KeyAlgorithm: str(tc.alg), ECDSACurve: str(tc.curve), RSABits: types.Int64Null()}
			if tc.bits != 0 {
				config.RSABits = types.Int64Value(tc.bits)
			}
			got, ok := templateKey(tc.tmpl, config)
			if ok != tc.ok || got != tc.want {
				t.Errorf("got %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
