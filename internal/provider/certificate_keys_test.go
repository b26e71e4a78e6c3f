package provider

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// TestAccCertificateKeysAndConfirmation enrolls generated keys of each
// algorithm, and follows the CA through polling (waiting, pollReq) and
// implicit confirmation (no certConf).
func TestAccCertificateKeysAndConfirmation(t *testing.T) {
	cases := []struct {
		name     string
		key      string
		cfg      devca.Config
		provider string // extra provider settings
		wantKey  func(any) bool
		wantOps  []string // must appear at the CA
		noOps    []string // must not
	}{
		{name: "RSA 3072", key: "key_algorithm = \"RSA\"\nrsa_bits = 3072",
			wantKey: func(k any) bool { r, ok := k.(*rsa.PublicKey); return ok && r.N.BitLen() == 3072 }},
		{name: "ECDSA P384", key: "ecdsa_curve = \"P384\"",
			wantKey: func(k any) bool { e, ok := k.(*ecdsa.PublicKey); return ok && e.Curve.Params().Name == "P-384" }},
		{name: "ECDSA P521", key: "ecdsa_curve = \"P521\"",
			wantKey: func(k any) bool { e, ok := k.(*ecdsa.PublicKey); return ok && e.Curve.Params().Name == "P-521" }},
		{name: "Ed25519", key: "key_algorithm = \"ED25519\"",
			wantKey: func(k any) bool { _, ok := k.(ed25519.PublicKey); return ok }},
		{name: "polling", cfg: devca.Config{Polls: 1, CheckAfter: time.Second},
			wantOps: []string{"ir:waiting", "pollReq:accepted", "certConf:confirmed"}},
		{name: "implicit confirmation", cfg: devca.Config{ImplicitConfirm: true}, provider: "implicit_confirm = true",
			wantOps: []string{"ir:accepted"}, noOps: []string{"certConf:confirmed"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearProviderEnv(t)
			e := startCA(t, tc.cfg)
			provider := e.providerBlock(true)
			if tc.provider != "" {
				provider = provider[:len(provider)-2] + "  " + tc.provider + "\n}\n"
			}
			var serials []string
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps: []resource.TestStep{{
					Config: provider + fmt.Sprintf(`resource "cmpv2_certificate" "test" {
  subject = { common_name = "key.example" }
  %s
}`, tc.key),
					ConfigPlanChecks: emptyPlanAfterApply,
					Check: resource.ComposeTestCheckFunc(checkIssued(t, e, "ir", "key.example"), record(&serials),
						func(s *terraform.State) error {
							c, err := certOf(s)
							if err != nil {
								return err
							}
							if tc.wantKey != nil && !tc.wantKey(c.PublicKey) {
								return fmt.Errorf("certified key is a %T", c.PublicKey)
							}
							key, err := parsePrivateKeyPEM(stateAttr(s, certAddr, "private_key_pem"))
							if err != nil {
								return err
							}
							if pub, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(key.Public()) {
								return fmt.Errorf("private_key_pem does not belong to the certificate")
							}
							ops := e.ops(0)
							for _, op := range tc.wantOps {
								if !slices.Contains(ops, op) {
									return fmt.Errorf("the CA saw %v, want %s", ops, op)
								}
							}
							for _, op := range tc.noOps {
								if slices.Contains(ops, op) {
									return fmt.Errorf("the CA saw %v, want no %s", ops, op)
								}
							}
							return nil
						}),
				}},
				CheckDestroy: revokedOnDestroy(t, e, &serials),
			})
		})
	}
}
