package provider

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// A certificate made from certificate_request_pem (custodyCSR): the key
// stays where the CSR was made, and the provider enrolls the CSR as it is
// with a p10cr (RFC 9483 section 4.1.4; RFC 9810 section 5.3.4), answered
// by a cp and confirmed as an ir is. The provider holds no key of the
// certificate, so nothing about it can be signed by it:
//   - every p10cr (create, a new CSR, renewal, rotation_triggers) is
//     protected as the IR is (irCredentials: the enrollment's reference and
//     secret or secret_wo, or its certificate_pem and private_key_pem, else
//     the provider's); a p10cr cannot be a KUR, which the certificate's own
//     key signs (RFC 9483 section 4.1.3);
//   - an RR must be signed by the certificate it revokes (RFC 9483 section
//     4.2): an end entity's other certificates, the enrollment certificate
//     among them, do not authorize it. The provider sends one only with
//     update_protection = "mac", the MAC variant RFC 9483 section 4.1.5
//     describes for the other requests, for a CA that accepts it; otherwise
//     a replaced or destroyed certificate stays valid until it expires, and
//     a warning names its serial.

// opP10CR is a new certificate for certificate_request_pem, in place.
const opP10CR operation = "p10cr"

// p10crName names the p10cr in diagnostics, as operationName does the others.
const p10crName = "certification request in PKCS#10 form (p10cr)"

// csrForCreate is why a create from a CSR needs the IR's credentials.
const csrForCreate = "Creating a certificate from certificate_request_pem sends a p10cr, which is protected as " +
	"the initialization request (IR) is."

// csrValidator checks certificate_request_pem: one PEM PKCS#10 request
// whose signature verifies, naming a subject or a subjectAltName entry
// (RFC 5280 section 4.1.2.6).
func csrValidator() validator.String {
	return stringCheck{
		summary:     "Invalid certificate_request_pem",
		description: "value must be one PEM PKCS#10 certification request whose signature verifies",
		check: func(s string) error {
			_, err := parseCSRPEM(s)
			return err
		},
	}
}

// parseCSRPEM parses certificate_request_pem (pemkey.ParseCertificateRequest)
// and requires something to certify.
func parseCSRPEM(s string) (*x509.CertificateRequest, error) {
	csr, err := pemkey.ParseCertificateRequest([]byte(s))
	if err != nil {
		return nil, err
	}
	if len(csr.Subject.ToRDNSequence()) == 0 && len(csr.DNSNames)+len(csr.IPAddresses)+len(csr.URIs)+len(csr.EmailAddresses) == 0 {
		return nil, errors.New("the certification request names neither a subject nor a subjectAltName entry")
	}
	return csr, nil
}

// validateCSRConfig: with certificate_request_pem set, none of the
// attributes the CSR decides itself is set, each named with why: a p10cr
// carries the CSR as its signer made it, and nothing can be added to it
// without its key. Values known only during apply count as set.
func validateCSRConfig(c certificateModel, diags *diag.Diagnostics) {
	const (
		key  = "the CSR's public key decides the key"
		san  = "subjectAltName entries come from the CSR: put them in the CSR"
		exts = "the requested extensions come from the CSR: put them in the CSR"
	)
	const p12NoKey = "a PKCS#12 bundle holds the private key, which stays where the CSR was made"
	for _, a := range []struct {
		name, why string
		v         attr.Value
	}{
		{"private_key_pem", "the key stays where the CSR was made and never reaches the provider", c.PrivateKeyPEM},
		{"key_algorithm", key, c.KeyAlgorithm},
		{"rsa_bits", key, c.RSABits},
		{"ecdsa_curve", key, c.ECDSACurve},
		{"subject", "the subject comes from the CSR, which cannot be changed without its key: put it in the CSR", c.Subject},
		{"dns_names", san, c.DNSNames},
		{"ip_addresses", san, c.IPAddresses},
		{"uris", san, c.URIs},
		{"email_addresses", san, c.EmailAddresses},
		{"key_usages", exts, c.KeyUsages},
		{"extended_key_usages", exts, c.ExtendedKeyUsages},
		{"validity_period_hours", "a PKCS#10 request carries no validity: the CA decides it", c.ValidityPeriodHours},
		{"certificate_profile", "a p10cr of this provider carries no certProfile", c.CertificateProfile},
		{"certificate_p12_password", p12NoKey, c.P12Password},
		{"certificate_p12_password_wo_version", p12NoKey, c.P12PasswordWOVersion},
	} {
		if a.v.IsNull() {
			continue
		}
		diags.AddAttributeError(path.Root(a.name), a.name+" conflicts with certificate_request_pem",
			fmt.Sprintf("%s cannot be set together with certificate_request_pem: %s. Remove %s.", a.name, a.why, a.name))
	}
}

// planKeyAttributesFromCSR is planKeyAttributesFromUserKey for a CSR: the
// plan shows the CSR's key algorithm, size and curve (the configuration
// sets none, validateCSRConfig) and private_key_pem null, when config is
// made from a CSR.
func planKeyAttributesFromCSR(config certificateModel, plan *certificateModel) {
	if custodyOf(config) != custodyCSR {
		return
	}
	plan.PrivateKeyPEM = custodyCSR.stateKeyPEM("")
	if config.CertificateRequestPEM.IsUnknown() {
		return
	}
	csr, err := parseCSRPEM(config.CertificateRequestPEM.ValueString())
	if err != nil {
		return // the attribute's validator reports it
	}
	if spec, err := specOfPublicKey(csr.PublicKey); err == nil {
		plan.KeyAlgorithm = types.StringValue(spec.Algorithm)
		if spec.Algorithm == keyAlgorithmRSA {
			plan.RSABits = types.Int64Value(int64(spec.RSABits))
		}
		if spec.Algorithm == keyAlgorithmECDSA {
			plan.ECDSACurve = types.StringValue(spec.Curve)
		}
	}
}

// classifyCSRUpdate is classifyUpdate for a certificate made from a CSR
// (state and plan both custodyCSR): a new p10cr, in place, when the CSR
// changed, rotation_triggers changed, the renewal window opened or the
// certificate expired (a p10cr needs no valid certificate, so an expired
// one is not replaced); else nothing. known is false while the CSR or the
// triggers are known only during apply.
func classifyCSRUpdate(ctx context.Context, state, plan certificateModel, now, renewAt, notAfter time.Time) (updateDecision, bool) {
	if plan.CertificateRequestPEM.IsUnknown() || plan.RotationTriggers.IsUnknown() {
		return updateDecision{}, false
	}
	var why []string
	if !sameCSR(state.CertificateRequestPEM.ValueString(), plan.CertificateRequestPEM.ValueString()) {
		why = append(why, "certificate_request_pem changed")
	}
	var prior, planned map[string]string
	state.RotationTriggers.ElementsAs(ctx, &prior, false)
	plan.RotationTriggers.ElementsAs(ctx, &planned, false)
	if !maps.Equal(prior, planned) {
		why = append(why, "rotation_triggers changed")
	}
	switch {
	case !now.Before(notAfter):
		why = append(why, fmt.Sprintf("the certificate expired at %s", formatTime(notAfter)))
	case !now.Before(renewAt):
		why = append(why, renewalReason(renewAt))
	}
	if len(why) == 0 {
		return updateDecision{Op: opNone}, true
	}
	return updateDecision{Op: opP10CR, Why: why}, true
}

// sameCSR compares two certificate_request_pem values by their DER, so
// that a CSR written again with other line endings is no change.
func sameCSR(a, b string) bool {
	ca, errA := pemkey.ParseCertificateRequest([]byte(a))
	cb, errB := pemkey.ParseCertificateRequest([]byte(b))
	if errA != nil || errB != nil {
		return a == b
	}
	return bytes.Equal(ca.Raw, cb.Raw)
}

// custodyChanged reports whether a plan moves the key of the certificate
// of state between the provider and a CSR: certificate_request_pem set or
// removed. No request about the current certificate can do that (a p10cr
// cannot be signed by a key the provider holds for a CSR it does not, nor
// a CR or KUR by a key it never held), so the resource is replaced.
func custodyChanged(state, config certificateModel) bool {
	return custodyOf(state).home() != custodyOf(config).home()
}

// planCustodyChange plans the replacement custodyChanged asks for: the
// destroy revokes the current certificate as destroy does (or warns), and
// the create enrolls anew, protected by the IR's credentials.
func (r *certificateResource) planCustodyChange(ctx context.Context, state, config certificateModel, plan *certificateModel,
	resp *resource.ModifyPlanResponse) {
	_, _, diags := irCredentials(ctx, config.Enrollment, r.defaults, createNeeds(config))
	resp.Diagnostics.Append(diags...)
	if diags.HasError() {
		return
	}
	if custodyOf(config) == custodyWriteOnly {
		if checkKeyWOCreate(config, &resp.Diagnostics); resp.Diagnostics.HasError() {
			return
		}
	}
	markIssuedUnknown(plan, custodyOf(config) == custodyGenerated)
	attribute, what := custodyChangeReason(custodyOf(state), custodyOf(config))
	resp.RequiresReplace = path.Paths{path.Root(attribute)}
	resp.Diagnostics.AddWarning("cmpv2_certificate: planned replacement",
		"Because "+what+", the certificate is replaced: destroy revokes the current one as destroy does, and "+
			"create enrolls a new one.")
	resp.Diagnostics.Append(writeCertificate(ctx, *plan, &resp.Plan.Raw)...)
}

// createNeeds is why a create of config needs the IR's credentials.
func createNeeds(config certificateModel) string {
	if custodyOf(config) == custodyCSR {
		return csrForCreate
	}
	return irForCreate
}

// csrForUpdate is why a p10cr of an update needs the IR's credentials.
func csrForUpdate(why []string) string {
	return "A new certificate for certificate_request_pem (because " + strings.Join(why, "; ") + ") is requested by " +
		"a p10cr, which is protected as the initialization request (IR) is: the provider holds no key of the " +
		"certificate to sign a KUR with. enrollment.secret_wo is never stored: give it again in the configuration " +
		"of every apply that sends a p10cr."
}

// planP10CR shapes the plan of an update that sends a p10cr and says, in a
// warning, how it is protected and what becomes of the replaced
// certificate. It fails the plan when nothing can protect the p10cr, when
// a signed answer could not be verified, or when update_protection = "mac"
// has no secret for the RR. ok is false on error.
func (r *certificateResource) planP10CR(ctx context.Context, config certificateModel, plan *certificateModel,
	state certificateModel, d updateDecision, diags *diag.Diagnostics) bool {
	creds, from, credDiags := irCredentials(ctx, config.Enrollment, r.defaults, csrForUpdate(d.Why))
	diags.Append(credDiags...)
	if credDiags.HasError() {
		return false
	}
	if _, signed := creds.(cmpclient.SignatureCredentials); signed && trustMissing(ctx, plan.Server, r.defaults, state) {
		diags.AddAttributeError(path.Root("server").AtName("trusted_ca_pem"), "No trust anchor for the CA's answer to the planned p10cr",
			"The p10cr is signed with enrollment.certificate_pem, so the CA signs its answer. "+noTrustDetail)
		return false
	}
	rrCreds, rrDiags := r.csrRevocationCredentials(ctx, *plan, config.Enrollment, state)
	diags.Append(rrDiags...)
	if rrDiags.HasError() {
		return false
	}
	markIssuedUnknown(plan, false)
	plan.PrivateKeyPEM = custodyCSR.stateKeyPEM("")
	plan.LastOperation = types.StringValue(string(opP10CR))
	if from == "" {
		from = "the enrollment's credentials (known during apply)"
	}
	diags.AddWarning("cmpv2_certificate: planned p10cr",
		fmt.Sprintf("Applying sends a %s for certificate_request_pem, protected by %s, because %s. The certificate "+
			"is replaced in place; the current one is kept in previous_certificate_pem.%s", p10crName, from,
			strings.Join(d.Why, "; "), csrSupersededNote(state, revokesSuperseded(*plan), rrCreds != nil)))
	return true
}

// csrRevocationCredentials protect an RR about a certificate made from a
// CSR: the MAC credentials of update_protection = "mac", or nil when no
// RR can be sent (the provider holds no key to sign one). Asked only when
// an RR is due (state holds a previous certificate to revoke).
func (r *certificateResource) csrRevocationCredentials(ctx context.Context, plan certificateModel, enrollment types.Object,
	state certificateModel) (cmpclient.Credentials, diag.Diagnostics) {
	if !revokesSuperseded(plan) || state.PreviousCertificatePEM.ValueString() == "" {
		return nil, nil
	}
	return updateCredentials(ctx, plan, enrollment, r.defaults, "revocation request (RR) of the replaced certificate")
}

// csrSupersededNote is supersededNote for a certificate made from a CSR,
// whose replaced certificate can be revoked only with MAC protection
// (mac: update_protection = "mac").
func csrSupersededNote(state certificateModel, revoke, mac bool) string {
	prev, err := parseCertificatePEM(state.PreviousCertificatePEM.ValueString())
	if !revoke || mac || state.PreviousCertificatePEM.ValueString() == "" || err != nil {
		return supersededNote(state, revoke)
	}
	return fmt.Sprintf(" The certificate previous_certificate_pem holds now (serial %s) leaves the state and is NOT "+
		"revoked: %s. It stays valid until %s unless revoked at the CA.", prev.SerialNumber, csrNoRR,
		formatTime(prev.NotAfter))
}

// csrNoRR says why a certificate made from a CSR gets no RR.
const csrNoRR = "its key stays where the CSR was made, and an RR must be signed by the certificate it revokes " +
	"(RFC 9483 section 4.2); set update_protection = \"mac\" for a CA that accepts a MAC-protected RR"

// renewCSR is Update for a planned p10cr: the CSR is enrolled again under
// the IR's credentials, the current certificate moves to
// previous_certificate_pem, and the certificate that held until now is
// revoked when an RR can be protected (csrRevocationCredentials), else
// named in a warning. A failure leaves the state as it was.
func (r *certificateResource) renewCSR(ctx context.Context, plan, config, state certificateModel, d plannedUpdate,
	resp *resource.UpdateResponse) {
	cur, err := parseCertificatePEM(state.CertificatePEM.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("certificate_pem"), "Unreadable certificate in state", err.Error())
		return
	}
	csr, err := parseCSRPEM(plan.CertificateRequestPEM.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("certificate_request_pem"), "Invalid certificate_request_pem", err.Error())
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultOperationTimeout)
	resp.Diagnostics.Append(diags...)
	creds, from, diags := irCredentials(ctx, config.Enrollment, r.defaults, csrForUpdate(d.Why))
	resp.Diagnostics.Append(diags...)
	rrCreds, diags := r.csrRevocationCredentials(ctx, plan, config.Enrollment, state)
	resp.Diagnostics.Append(diags...)
	conn, kept, diags := csrConnection(ctx, plan, state, r.defaults)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if creds == nil {
		resp.Diagnostics.AddAttributeError(path.Root("enrollment"), "p10cr credentials not known",
			"The enrollment credentials are still unknown during apply.")
		return
	}
	ctx, cancel := operationContext(ctx, timeout, r.clock.stopGrace())
	defer cancel()
	enr, err := newCMPClient(ctx, conn, creds).EnrollCSR(ctx, csr.Raw)
	if err != nil {
		detail := fmt.Sprintf("The p10cr (because %s) failed; the state keeps the current certificate (serial %s).\n\n%s%s",
			strings.Join(d.Why, "; "), cur.SerialNumber, cmpErrorDetail(err), credentialHint(err, from))
		var unconfirmed *cmpclient.UnconfirmedError
		if enr != nil && errors.As(err, &unconfirmed) {
			if rrCreds != nil {
				detail += r.discardUnconfirmed(ctx, conn, rrCreds, enr, nil)
			} else {
				detail += fmt.Sprintf("\n\nThe CA issued certificate serial %s, which was not confirmed and is not "+
					"revoked (%s): revoke it at the CA.", enr.Certificate.SerialNumber, csrNoRR)
			}
		}
		resp.Diagnostics.AddError("cmpv2_certificate: p10cr failed", detail)
		return
	}
	setIssued(&plan, enr, "", cur, r.clock.now())
	plan.PrivateKeyPEM = custodyCSR.stateKeyPEM("")
	plan.ID = state.ID
	plan.TrustAnchorSHA256 = adoptedAnchorSHA256(enr.AdoptedTrustAnchor, kept)
	resp.Diagnostics.Append(writeCertificate(ctx, plan, &resp.State.Raw)...)
	if revokesSuperseded(plan) {
		if rrCreds != nil {
			resp.Diagnostics.Append(revokeSuperseded(ctx, conn, rrCreds, state, r.clock.now())...)
		} else {
			resp.Diagnostics.Append(csrNotRevoked(state.PreviousCertificatePEM.ValueString(), r.clock.now(),
				"This update replaced previous_certificate_pem, and the certificate it held left the state")...)
		}
	}
	resp.Diagnostics.Append(setPreviousKey(ctx, resp.Private, "")...)
	resp.Diagnostics.Append(setImported(ctx, resp.Private, false)...)
}

// csrConnection is the connection of a p10cr about the certificate of
// state: with the trust anchors a CR would use when there are any, else
// without, as for an answer under the shared secret: a p10cr that would need
// one (a signed p10cr without an anchor) was refused at plan.
func csrConnection(ctx context.Context, plan, state certificateModel, d *Defaults) (*Connection, types.String, diag.Diagnostics) {
	return certificateConnection(ctx, plan.Server, d, state, types.StringValue(updateProtectionMAC))
}

// csrNotRevoked warns that the certificate certPEM (made from a CSR, valid
// at now) is not revoked, naming its serial; what says how it left.
func csrNotRevoked(certPEM string, now time.Time, what string) diag.Diagnostics {
	var diags diag.Diagnostics
	cert, err := parseCertificatePEM(certPEM)
	if certPEM == "" || err != nil || !now.Before(cert.NotAfter) {
		return diags // nothing held, or expired: no longer live
	}
	diags.AddWarning("cmpv2_certificate: certificate made from a CSR not revoked",
		fmt.Sprintf("%s (serial %s, issuer %s) and is not revoked: %s. It stays valid until %s unless the CA's "+
			"operator revokes serial %s.", what, cert.SerialNumber, cert.Issuer, csrNoRR,
			formatTime(cert.NotAfter), cert.SerialNumber))
	return diags
}

// warnCSRDestroy says, in the plan of a destroy, that a certificate made
// from a CSR will not be revoked (revoke_on_destroy without
// update_protection = "mac"), naming its serial and that of the
// certificate previous_certificate_pem holds.
func (r *certificateResource) warnCSRDestroy(state certificateModel, resp *resource.ModifyPlanResponse) {
	if custodyOf(state) != custodyCSR ||
		!state.RevokeOnDestroy.ValueBool() || state.UpdateProtection.ValueString() == updateProtectionMAC {
		return
	}
	now := r.clock.now()
	if revokesSuperseded(state) {
		resp.Diagnostics.Append(csrNotRevoked(state.PreviousCertificatePEM.ValueString(), now,
			"The certificate replaced by the last p10cr leaves the state")...)
	}
	resp.Diagnostics.Append(csrNotRevoked(state.CertificatePEM.ValueString(), now, "The destroyed certificate leaves the state")...)
}
