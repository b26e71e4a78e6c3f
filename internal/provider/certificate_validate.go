package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// ValidateConfig checks what single-attribute validators cannot: how
// attributes fit together. Values not known yet are skipped; they are
// checked again when known.
func (r *certificateResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var c certificateModel
	resp.Diagnostics.Append(readCertificate(ctx, req.Config.Raw, &c)...)
	if resp.Diagnostics.HasError() {
		return
	}
	validateRenewalWindow(c, &resp.Diagnostics)
	// Validation cannot know whether the plan sends an IR: only what is
	// wrong whatever the plan.
	_, _, diags := irCredentials(ctx, c.Enrollment, nil, "")
	resp.Diagnostics.Append(diags...)
	validateKeyWOConfig(c, &resp.Diagnostics)
	if custodyOf(c) == custodyCSR {
		// The CSR holds the key and what to certify (certificate_csr.go).
		validateCSRConfig(c, &resp.Diagnostics)
		return
	}
	if custodyOf(c) != custodyWriteOnly {
		validateKeyAttributes(c, &resp.Diagnostics) // else the key decides them (validateKeyWOConfig)
	}
	validateSomethingToCertify(c, &resp.Diagnostics)
}

// validateKeyAttributes: rsa_bits and ecdsa_curve only with their
// algorithm, and a user-supplied key must agree with what is configured.
func validateKeyAttributes(c certificateModel, diags *diag.Diagnostics) {
	if c.KeyAlgorithm.IsUnknown() {
		return
	}
	algorithm := c.KeyAlgorithm.ValueString()
	if c.KeyAlgorithm.IsNull() {
		algorithm = defaultKeyAlgorithm
	}
	userKey := !c.PrivateKeyPEM.IsNull() && !c.PrivateKeyPEM.IsUnknown()
	if userKey {
		key, err := parsePrivateKeyPEM(c.PrivateKeyPEM.ValueString())
		if err != nil {
			return // the attribute's validator reports it
		}
		spec, err := specOf(key)
		if err != nil {
			return
		}
		if !c.KeyAlgorithm.IsNull() && spec.Algorithm != algorithm {
			diags.AddAttributeError(path.Root("key_algorithm"), "Key algorithm does not match private_key_pem",
				fmt.Sprintf("key_algorithm is %q but private_key_pem holds an %s key; leave key_algorithm unset "+
					"with a user-supplied key, or make them agree.", algorithm, spec.Algorithm))
			return
		}
		algorithm = spec.Algorithm
		if spec.Algorithm == keyAlgorithmRSA && !c.RSABits.IsNull() && !c.RSABits.IsUnknown() &&
			c.RSABits.ValueInt64() != int64(spec.RSABits) {
			diags.AddAttributeError(path.Root("rsa_bits"), "RSA key size does not match private_key_pem",
				fmt.Sprintf("rsa_bits is %d but private_key_pem holds a %d-bit key.", c.RSABits.ValueInt64(), spec.RSABits))
		}
		if spec.Algorithm == keyAlgorithmECDSA && !c.ECDSACurve.IsNull() && !c.ECDSACurve.IsUnknown() &&
			c.ECDSACurve.ValueString() != spec.Curve {
			diags.AddAttributeError(path.Root("ecdsa_curve"), "ECDSA curve does not match private_key_pem",
				fmt.Sprintf("ecdsa_curve is %q but private_key_pem holds a %s key.", c.ECDSACurve.ValueString(), spec.Curve))
		}
	}
	if !c.RSABits.IsNull() && algorithm != keyAlgorithmRSA {
		diags.AddAttributeError(path.Root("rsa_bits"), "rsa_bits without an RSA key",
			fmt.Sprintf("rsa_bits applies only to RSA keys; the key algorithm is %s.", algorithm))
	}
	if !c.ECDSACurve.IsNull() && algorithm != keyAlgorithmECDSA {
		diags.AddAttributeError(path.Root("ecdsa_curve"), "ecdsa_curve without an ECDSA key",
			fmt.Sprintf("ecdsa_curve applies only to ECDSA keys; the key algorithm is %s.", algorithm))
	}
}

// validateRenewalWindow: a renewal window as long as the requested validity
// would make the certificate due for renewal as soon as it is issued. One
// that does not fit it otherwise (renewalFits) is set aside with a warning
// by the plan (warnRenewalFallback).
func validateRenewalWindow(c certificateModel, diags *diag.Diagnostics) {
	if c.ValidityPeriodHours.IsNull() || c.ValidityPeriodHours.IsUnknown() {
		return
	}
	validity := time.Duration(c.ValidityPeriodHours.ValueInt64()) * time.Hour
	for _, w := range []struct {
		name string
		v    types.String
	}{{"renew_before_expiry", c.RenewBeforeExpiry}, {"renew_after_issue", c.RenewAfterIssue}} {
		if w.v.IsNull() || w.v.IsUnknown() {
			continue
		}
		d, err := checkDuration(w.v.ValueString())
		if err != nil {
			continue // the attribute's validator reports it
		}
		if d >= validity {
			consequence := "the certificate would be due for renewal as soon as it is issued"
			if w.name == "renew_after_issue" {
				consequence = "the window would open only when the certificate has expired"
			}
			diags.AddAttributeError(path.Root(w.name), "Renewal window longer than the validity",
				fmt.Sprintf("%s is %s but validity_period_hours requests only %s: %s. %s", w.name, d, validity,
					consequence, renewalFix(w.name, d, validity)))
		}
	}
}

// validateSomethingToCertify: a request needs a subject or at least one SAN
// (RFC 5280 section 4.1.2.6).
func validateSomethingToCertify(c certificateModel, diags *diag.Diagnostics) {
	if c.Subject.IsUnknown() {
		return
	}
	for _, v := range c.Subject.Attributes() { // none when null
		if s, ok := v.(types.String); !ok || s.IsUnknown() || s.ValueString() != "" {
			return
		}
	}
	for _, l := range []types.List{c.DNSNames, c.IPAddresses, c.URIs, c.EmailAddresses} {
		if l.IsUnknown() || len(l.Elements()) > 0 {
			return
		}
	}
	diags.AddAttributeError(path.Root("subject"), "Nothing to certify",
		"Set subject (for example subject = { common_name = \"...\" }) or at least one of dns_names, "+
			"ip_addresses, uris, email_addresses.")
}
