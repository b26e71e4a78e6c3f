package provider

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// A certificate whose key is write-only (custodyWriteOnly): the key lives
// in a secret store and reaches the provider only as the write-only
// private_key_wo, from an ephemeral variable or an ephemeral resource, in
// the plans and applies whose configuration carries it. Terraform keeps
// write-only values out of every plan and state, so what identifies the
// key is the certificate's public key (certificate_pem) and the version
// the configuration gives it (private_key_wo_version).
//
//   - The key signs the POP of the IR, CR and KUR that certify it (RFC 4211
//     section 4.1) and the protection of the CR, KUR and RR about its
//     certificate (RFC 9483 sections 4.1.2, 4.1.3 and 4.2).
//   - A key that is not the certificate's is refused at plan and again
//     before any message of the apply is sent, unless
//     private_key_wo_version changed: that is a rotation, a KUR for the new
//     key signed with the key being replaced (previous_private_key_wo) or
//     protected by MAC (update_protection = "mac").
//   - Terraform gives a destroy only the prior state, never a write-only
//     value, so the RR of a destroy is sent only with update_protection =
//     "mac" (and a stored secret); otherwise the destroy's plan and the
//     destroy warn that the certificate stays valid until it expires.

// keyWOAttribute is private_key_wo.
func keyWOAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		Description: "Private key of the certificate, PEM, write-only: never in a plan or the state " +
			"(Terraform 1.11 or later, OpenTofu 1.11 or later). Give it from an ephemeral source (an ephemeral " +
			"variable, or an ephemeral resource of a secret store) with `private_key_wo_version`. It signs the POP " +
			"of the IR, CR and KUR and the protection of the CR, KUR and RR; the state keeps only the certificate, " +
			"whose public key identifies it, and `private_key_pem` stays null. Every plan that sends a request " +
			"(create, a change of subject or extensions, an open renewal window, `rotation_triggers`, a new " +
			"`private_key_wo_version`) fails without it, and a key that is not the certificate's fails every plan " +
			"unless `private_key_wo_version` changes. A renewal with the same key is a KUR for that key signed with " +
			"it. A destroy gets no write-only value from Terraform: its RR is sent only with `update_protection = " +
			"\"mac\"` and a stored secret; otherwise the certificate stays valid until it expires, and the destroy's " +
			"plan warns with its serial. Conflicts with `private_key_pem`, `certificate_request_pem`, the key " +
			"attributes and the PKCS#12 password (a bundle would keep the key in the state).",
		Optional:   true,
		WriteOnly:  true,
		Validators: []validator.String{privateKeyPEMValidator()},
	}
}

// keyWOVersionAttribute is private_key_wo_version.
func keyWOVersionAttribute() schema.Int64Attribute {
	return schema.Int64Attribute{
		Description: "Version of the key `private_key_wo` supplies, required with it and kept in state: a new " +
			"version with a new key is a rotation, a KUR for the new key signed with the key it replaces, given once " +
			"as `previous_private_key_wo` for that apply, or protected by MAC with `update_protection = \"mac\"`; " +
			"the plan says which, and fails without either. Setting or removing it replaces the certificate.",
		Optional:   true,
		Validators: []validator.Int64{int64validator.AtLeast(0)},
	}
}

// previousKeyWOAttribute is previous_private_key_wo.
func previousKeyWOAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		Description: "The key a rotation replaces, PEM, write-only: give it, for the apply of a new " +
			"`private_key_wo_version`, to sign the KUR for the new key with the current certificate (RFC 9483 " +
			"section 4.1.3); not needed with `update_protection = \"mac\"`. It also signs the RR of the " +
			"certificate that update pushes out of the state when that certificate is its own. A key that is not " +
			"the current certificate's fails the plan.",
		Optional:   true,
		WriteOnly:  true,
		Validators: []validator.String{privateKeyPEMValidator(), stringvalidator.AlsoRequires(path.MatchRoot("private_key_wo"))},
	}
}

// keyWOIntent is, in certificateIntent.KeyPEM, the write-only key of m: its
// version, which alone says whether the key changes (the value is in no
// plan or state).
func keyWOIntent(m certificateModel) string {
	return fmt.Sprintf("private_key_wo_version %d", m.PrivateKeyWOVersion.ValueInt64())
}

// keyWODecision is classifyUpdate's decision for a write-only key: the key
// is new exactly when private_key_wo_version changed (rotation_triggers and
// an open renewal window renew with the same key, since the provider makes
// no key), and the reason names the version rather than private_key_pem.
func keyWODecision(d updateDecision, state, plan certificateModel) updateDecision {
	d.NewKey = keyWORotates(state, plan)
	for i, why := range d.Why {
		if why == "private_key_pem changed" {
			d.Why[i] = fmt.Sprintf("private_key_wo_version changed from %d to %d",
				state.PrivateKeyWOVersion.ValueInt64(), plan.PrivateKeyWOVersion.ValueInt64())
		}
	}
	return d
}

// keyWORotates reports whether m (a configuration or plan) rotates the
// write-only key of the certificate of state: a new private_key_wo_version.
func keyWORotates(state, m certificateModel) bool {
	return !m.PrivateKeyWOVersion.Equal(state.PrivateKeyWOVersion)
}

// keyWO reads the write-only key v (attribute name), for a request that
// needs it.
func keyWO(v types.String, name string) (crypto.Signer, error) {
	switch {
	case v.IsUnknown():
		return nil, fmt.Errorf("%s is still unknown during apply", name)
	case v.IsNull():
		return nil, fmt.Errorf("%s is not set: it is write-only, so no plan or state keeps it; give it again, from "+
			"its ephemeral source, in the configuration of every plan and apply that sends a request", name)
	}
	key, err := parsePrivateKeyPEM(v.ValueString())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return key, nil
}

// errKeyWONotCertificate is a write-only key that is not the key of the
// certificate a request is about.
var errKeyWONotCertificate = errors.New("is not the key of the certificate in state")

// keyWOUpdateKeys is updateKeys for a write-only key: config's
// private_key_wo is the key the new certificate certifies; the request
// about cur is signed with it when it is cur's key, else, for a rotation
// (a new private_key_wo_version), with previous_private_key_wo, which
// must be cur's key, or protected by MAC (mac). Any other key is refused
// before a message is sent. spare is the key that did not sign, for the RR
// of the certificate the update pushes out of the state.
func keyWOUpdateKeys(config, state certificateModel, cur *x509.Certificate, mac bool) (
	signer, key crypto.Signer, keyPEM string, spare []crypto.Signer, attr string, err error) {
	key, err = keyWO(config.PrivateKeyWO, "private_key_wo")
	if err != nil {
		return nil, nil, "", nil, "private_key_wo", err
	}
	var previous crypto.Signer
	if !config.PreviousPrivateKeyWO.IsNull() {
		if previous, err = keyWO(config.PreviousPrivateKeyWO, "previous_private_key_wo"); err != nil {
			return nil, nil, "", nil, "previous_private_key_wo", err
		}
	}
	rotates := keyWORotates(state, config)
	switch {
	case pemkey.BelongsTo(key, cur):
		return key, key, "", nonNil(previous), "", nil
	case !rotates:
		return nil, nil, "", nil, "private_key_wo", fmt.Errorf("private_key_wo %w (serial %s) and "+
			"private_key_wo_version is still %d: give the certificate's key, or a new private_key_wo_version to "+
			"rotate to this key", errKeyWONotCertificate, cur.SerialNumber, state.PrivateKeyWOVersion.ValueInt64())
	case previous != nil && !pemkey.BelongsTo(previous, cur):
		return nil, nil, "", nil, "previous_private_key_wo", fmt.Errorf("previous_private_key_wo %w (serial %s): "+
			"it must be the key being replaced, which signs the KUR for the new key", errKeyWONotCertificate, cur.SerialNumber)
	case previous != nil:
		return previous, key, "", []crypto.Signer{previous}, "", nil
	case mac:
		return nil, key, "", nil, "", nil
	}
	return nil, nil, "", nil, "previous_private_key_wo", fmt.Errorf("private_key_wo_version changed from %d to %d, "+
		"so the KUR certifies a new key, and a KUR is signed with the certificate it updates (RFC 9483 section "+
		"4.1.3), whose key private_key_wo no longer is: give that key once, for this apply, as "+
		"previous_private_key_wo, or set update_protection = \"mac\" to protect the KUR with the enrollment's "+
		"reference and secret", state.PrivateKeyWOVersion.ValueInt64(), config.PrivateKeyWOVersion.ValueInt64())
}

func nonNil(keys ...crypto.Signer) []crypto.Signer {
	var out []crypto.Signer
	for _, k := range keys {
		if k != nil {
			out = append(out, k)
		}
	}
	return out
}

// validateKeyWOConfig: private_key_wo goes with private_key_wo_version
// (which marks the custody in state) and with none of the other places a
// key can come from, nor with the key attributes (the key decides them);
// previous_private_key_wo only beside private_key_wo (its validator).
func validateKeyWOConfig(c certificateModel, diags *diag.Diagnostics) {
	// Unknown (variables during validation) is checked again once known.
	if !c.PrivateKeyWO.IsNull() && !c.PrivateKeyWO.IsUnknown() && c.PrivateKeyWOVersion.IsNull() {
		diags.AddAttributeError(path.Root("private_key_wo_version"), "private_key_wo needs private_key_wo_version",
			"private_key_wo is write-only, so no plan or state keeps it: set private_key_wo_version beside it (for "+
				"example 1), and change the version to rotate to a new key.")
	}
	if c.PrivateKeyWOVersion.IsNull() {
		return
	}
	const key = "the key private_key_wo supplies decides it"
	const p12InState = "a PKCS#12 bundle would keep the write-only key in the state"
	for _, a := range []struct {
		name, why string
		v         attr.Value
	}{
		{"private_key_pem", "the key is either in state (private_key_pem) or write-only (private_key_wo), not both", c.PrivateKeyPEM},
		{"certificate_request_pem", "the key is either where the CSR was made or write-only (private_key_wo)", c.CertificateRequestPEM},
		{"key_algorithm", key, c.KeyAlgorithm},
		{"rsa_bits", key, c.RSABits},
		{"ecdsa_curve", key, c.ECDSACurve},
		{"certificate_p12_password", p12InState, c.P12Password},
		{"certificate_p12_password_wo_version", p12InState, c.P12PasswordWOVersion},
	} {
		if !a.v.IsNull() {
			diags.AddAttributeError(path.Root(a.name), a.name+" conflicts with private_key_wo",
				fmt.Sprintf("%s cannot be set together with private_key_wo_version: %s. Remove %s.", a.name, a.why, a.name))
		}
	}
}

// planKeyAttributesFromWriteOnly is planKeyAttributesFromUserKey for a
// write-only key (config's custody): the plan shows the key's algorithm,
// size and curve and private_key_pem null. Without the key in config (a
// plan that sends nothing needs none) they are the state's (prior; nil at
// create), and while it is unknown they are unknown too, until setIssued
// reads them off the issued certificate.
func planKeyAttributesFromWriteOnly(config certificateModel, prior *certificateModel, plan *certificateModel) {
	plan.PrivateKeyPEM = custodyWriteOnly.stateKeyPEM("")
	key, err := keyWO(config.PrivateKeyWO, "private_key_wo")
	if err != nil {
		if prior != nil && custodyOf(*prior) == custodyWriteOnly && config.PrivateKeyWO.IsNull() {
			plan.KeyAlgorithm, plan.RSABits, plan.ECDSACurve = prior.KeyAlgorithm, prior.RSABits, prior.ECDSACurve
			return
		}
		plan.KeyAlgorithm, plan.RSABits, plan.ECDSACurve = types.StringUnknown(), types.Int64Unknown(), types.StringUnknown()
		return
	}
	setKeyAttributes(plan, key.Public())
}

// setKeyAttributes sets key_algorithm, rsa_bits and ecdsa_curve of m to
// describe pub, the other algorithm's attribute at its default: for a
// write-only key, which the configuration does not describe (the key
// decides, validateKeyWOConfig).
func setKeyAttributes(m *certificateModel, pub crypto.PublicKey) {
	spec, err := specOfPublicKey(pub)
	if err != nil {
		return // certRequest refuses the key
	}
	m.KeyAlgorithm = types.StringValue(spec.Algorithm)
	m.RSABits = types.Int64Value(defaultRSABits)
	m.ECDSACurve = types.StringValue(defaultECDSACurve)
	if spec.Algorithm == keyAlgorithmRSA {
		m.RSABits = types.Int64Value(int64(spec.RSABits))
	}
	if spec.Algorithm == keyAlgorithmECDSA {
		m.ECDSACurve = types.StringValue(spec.Curve)
	}
}

// checkKeyWOPlan checks, at plan time, that the write-only keys the
// planned operation op of the certificate of state needs are in config
// and are the right ones (keyWOUpdateKeys, the rule the apply follows
// again), and says for the plan's warning how a CR or KUR is protected.
// Values known only during apply are checked then. why says why op is sent.
func checkKeyWOPlan(config, plan, state certificateModel, op operation, why []string, diags *diag.Diagnostics) (protection string) {
	mac := plan.UpdateProtection.ValueString() == updateProtectionMAC
	if config.PrivateKeyWO.IsUnknown() || config.PreviousPrivateKeyWO.IsUnknown() {
		return "signed as private_key_wo and previous_private_key_wo decide (known during apply)"
	}
	cur, err := parseCertificatePEM(state.CertificatePEM.ValueString())
	if err != nil {
		diags.AddAttributeError(path.Root("certificate_pem"), "Unreadable certificate in state", err.Error())
		return ""
	}
	if op == opNone {
		// Nothing is sent, and nothing needs the key; a key given must
		// still be the certificate's, or a rotation would be planned.
		if key, err := keyWO(config.PrivateKeyWO, "private_key_wo"); err == nil && !pemkey.BelongsTo(key, cur) {
			keyWOMismatch(cur, state, diags)
		}
		return ""
	}
	needs := fmt.Sprintf("The %s (because %s) needs the certificate's key. ", operationName(op), strings.Join(why, "; "))
	if op == opReplace {
		if _, err := keyWO(config.PrivateKeyWO, "private_key_wo"); err != nil {
			diags.AddAttributeError(path.Root("private_key_wo"), "private_key_wo needed", needs+err.Error())
		}
		return ""
	}
	signer, key, _, _, attr, err := keyWOUpdateKeys(config, state, cur, mac)
	switch {
	case errors.Is(err, errKeyWONotCertificate) && attr == "private_key_wo":
		keyWOMismatch(cur, state, diags)
		return ""
	case errors.Is(err, errKeyWONotCertificate):
		diags.AddAttributeError(path.Root(attr), attr+" is not the certificate's key", needs+err.Error())
		return ""
	case err != nil:
		diags.AddAttributeError(path.Root(attr), attr+" needed", needs+err.Error())
		return ""
	case mac:
		return "protected by the enrollment's reference and secret (update_protection = \"mac\"), with the POP " +
			"signed by the key private_key_wo supplies"
	case signer != nil && !pemkey.HasPublicKey(signer, key.Public()):
		return "signed with the current certificate and previous_private_key_wo (the key being replaced), for the " +
			"new key private_key_wo supplies"
	}
	return "signed with the current certificate and the key private_key_wo supplies"
}

// keyWOMismatch is the plan's error for a private_key_wo that is not the
// certificate's key while private_key_wo_version did not change.
func keyWOMismatch(cur *x509.Certificate, state certificateModel, diags *diag.Diagnostics) {
	diags.AddAttributeError(path.Root("private_key_wo"), "private_key_wo is not the certificate's key",
		fmt.Sprintf("private_key_wo %s (serial %s) and private_key_wo_version is still %d, so no request would be "+
			"signed with it. Give the certificate's key, or set a new private_key_wo_version to rotate to this key "+
			"(a KUR signed with previous_private_key_wo or, with update_protection = \"mac\", by MAC).",
			errKeyWONotCertificate, cur.SerialNumber, state.PrivateKeyWOVersion.ValueInt64()))
}

// checkKeyWOCreate fails the plan of an IR (create, or a replacement) of a
// write-only key that the configuration does not give.
func checkKeyWOCreate(config certificateModel, diags *diag.Diagnostics) {
	if config.PrivateKeyWO.IsNull() {
		_, err := keyWO(config.PrivateKeyWO, "private_key_wo")
		diags.AddAttributeError(path.Root("private_key_wo"), "private_key_wo needed",
			"The initialization request (IR) certifies the key private_key_wo supplies, and its POP is signed with "+
				"it. "+err.Error())
	}
}

// keyWONotRevoked warns that the certificates of state (a write-only key,
// revoke_on_destroy, no MAC) leave the state unrevoked, naming each live
// one's serial: Terraform gives a destroy no write-only value, so nothing
// can sign their RR. previous says the certificate previous_certificate_pem
// holds is due for revocation too.
func keyWONotRevoked(state certificateModel, now time.Time, previous bool) diag.Diagnostics {
	var diags diag.Diagnostics
	certs := []struct{ pem, what string }{{state.CertificatePEM.ValueString(), "The destroyed certificate"}}
	if previous {
		certs = append(certs, struct{ pem, what string }{state.PreviousCertificatePEM.ValueString(),
			"The certificate the last " + strings.ToUpper(state.LastOperation.ValueString()) + " replaced"})
	}
	for _, c := range certs {
		cert, err := parseCertificatePEM(c.pem)
		if c.pem == "" || err != nil || !now.Before(cert.NotAfter) {
			continue // nothing held, or expired: no longer live
		}
		diags.AddWarning("cmpv2_certificate: certificate with a write-only key not revoked",
			fmt.Sprintf("%s (serial %s, issuer %s) leaves the state and is not revoked: an RR must be signed with "+
				"its key (RFC 9483 section 4.2), and Terraform gives a destroy no write-only value, so private_key_wo "+
				"cannot reach it. It stays valid until %s unless the CA's operator revokes serial %s. Set "+
				"update_protection = \"mac\" with enrollment.secret or the provider's secret for a CA that accepts "+
				"a MAC-protected RR.", c.what, cert.SerialNumber, cert.Issuer, formatTime(cert.NotAfter), cert.SerialNumber))
	}
	return diags
}

// warnKeyWODestroy says, in the plan of a destroy, that the certificates of
// a write-only key will not be revoked (revoke_on_destroy without
// update_protection = "mac"), naming their serials (keyWONotRevoked).
func (r *certificateResource) warnKeyWODestroy(state certificateModel, resp *resource.ModifyPlanResponse) {
	if custodyOf(state) != custodyWriteOnly ||
		!state.RevokeOnDestroy.ValueBool() || state.UpdateProtection.ValueString() == updateProtectionMAC {
		return
	}
	resp.Diagnostics.Append(keyWONotRevoked(state, r.clock.now(), revokesSuperseded(state))...)
}

// keyWOSupersededNote is supersededNote (note) for a write-only key: the
// certificate previous_certificate_pem holds is revoked only when its key
// is at hand in the configuration (private_key_wo or
// previous_private_key_wo) or MAC protects its RR; otherwise the note says
// it leaves the state unrevoked, naming its serial.
func keyWOSupersededNote(config, plan, state certificateModel, note string) string {
	prev, err := parseCertificatePEM(state.PreviousCertificatePEM.ValueString())
	if err != nil || !revokesSuperseded(plan) || plan.UpdateProtection.ValueString() == updateProtectionMAC {
		return note
	}
	for _, v := range []types.String{config.PrivateKeyWO, config.PreviousPrivateKeyWO} {
		if key, err := keyWO(v, ""); err == nil && pemkey.BelongsTo(key, prev) || v.IsUnknown() {
			return note
		}
	}
	return fmt.Sprintf(" The certificate previous_certificate_pem holds now (serial %s) leaves the state and is NOT "+
		"revoked: its key is neither private_key_wo nor previous_private_key_wo, and an RR must be signed with it "+
		"(RFC 9483 section 4.2). Give it as previous_private_key_wo to revoke it; else it stays valid until %s.",
		prev.SerialNumber, formatTime(prev.NotAfter))
}
