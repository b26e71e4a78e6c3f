package provider

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// revoke is Delete: a revocation request (RR, RFC 9483 section 4.2) signed
// with the certificate being revoked, for revocation_reason. A CA that
// answers certRevoked (already revoked) counts as done. A failed RR returns
// an error, so Terraform keeps the resource in state. An expired
// certificate is not revoked (a CA no longer lists it, and it cannot sign
// the request); the resource is forgotten with a warning.
//
// The certificate a CR or KUR replaced (previous_certificate_pem) is
// revoked too, as superseded, best effort: the resource that owned both
// is gone; not with revoke_superseded = false.
func (r *certificateResource) revoke(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state certificateModel
	resp.Diagnostics.Append(readCertificate(ctx, req.State.Raw, &state)...)
	if resp.Diagnostics.HasError() || !state.RevokeOnDestroy.ValueBool() {
		return // revoke_on_destroy = false: only forget
	}
	if state.CertificatePEM.ValueString() == "" {
		return // nothing was issued
	}
	cert, err := parseCertificatePEM(state.CertificatePEM.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("certificate_pem"), "Unreadable certificate in state", err.Error())
		return
	}
	key, err := heldKey(state)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("private_key_pem"), "Unreadable private key in state", err.Error())
		return
	}
	now := r.clock.now()
	expired := !now.Before(cert.NotAfter)
	if expired {
		resp.Diagnostics.AddWarning("cmpv2_certificate: expired certificate not revoked",
			fmt.Sprintf("Certificate serial %s expired at %s; an expired certificate cannot sign its revocation "+
				"request, and CAs stop listing it. It is removed from the state without an RR.",
				cert.SerialNumber, cert.NotAfter.UTC().Format(time.RFC3339)))
	}
	var prev *x509.Certificate
	if s := state.PreviousCertificatePEM.ValueString(); s != "" && revokesSuperseded(state) {
		if p, err := parseCertificatePEM(s); err == nil && now.Before(p.NotAfter) {
			prev = p // replaced by the last CR or KUR, and still valid
		}
	}
	if expired && prev == nil {
		return
	}
	reason, err := cmpclient.ParseReason(state.RevocationReason.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("revocation_reason"), "Invalid revocation reason", err.Error())
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, defaultOperationTimeout)
	resp.Diagnostics.Append(diags...)
	conn, _, diags := certificateConnection(ctx, state.Server, r.defaults, state, state.UpdateProtection)
	creds, credDiags := updateCredentials(ctx, state, state.Enrollment, r.defaults, "revocation request (RR)")
	diags.Append(credDiags...)
	if key == nil && creds == nil && !diags.HasError() && custodyOf(state) == custodyWriteOnly {
		// A destroy never gets private_key_wo (certificate_keywo.go).
		resp.Diagnostics.Append(keyWONotRevoked(state, now, prev != nil)...)
		return
	}
	if key == nil && creds == nil && !diags.HasError() {
		// Made from a CSR: no key here signs an RR (certificate_csr.go).
		if prev != nil {
			resp.Diagnostics.Append(csrNotRevoked(state.PreviousCertificatePEM.ValueString(), now,
				"The certificate replaced by the last p10cr left the state")...)
		}
		resp.Diagnostics.Append(csrNotRevoked(state.CertificatePEM.ValueString(), now,
			"The destroyed certificate left the state")...)
		return
	}
	if expired && diags.HasError() {
		// The expired certificate goes whatever happens; the previous one
		// is named, since it stays valid.
		resp.Diagnostics.AddWarning("cmpv2_certificate: previous certificate not revoked",
			fmt.Sprintf("The certificate replaced by the last %s (serial %s) could not be revoked (%s); it stays "+
				"valid until %s unless revoked at the CA.", state.LastOperation.ValueString(), prev.SerialNumber,
				diags.Errors()[0].Detail(), prev.NotAfter.UTC().Format(time.RFC3339)))
		return
	}
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := operationContext(ctx, timeout, r.clock.stopGrace())
	defer cancel()

	// The previous certificate is revoked with its own key, or the current
	// one where a CR kept it; an expired current certificate signs nothing.
	if prev != nil {
		prevKey, _ := previousKey(ctx, state, req.Private)
		if err := revokeWith(ctx, conn, creds, prev, cmpclient.ReasonSuperseded, prevKey, key); err != nil && !alreadyRevoked(err) {
			resp.Diagnostics.AddWarning("cmpv2_certificate: previous certificate not known to be revoked",
				fmt.Sprintf("The certificate replaced by the last %s (serial %s) %s; it stays "+
					"valid until %s unless revoked at the CA.\n\n%s%s", state.LastOperation.ValueString(),
					prev.SerialNumber, revocationFailure(err), prev.NotAfter.UTC().Format(time.RFC3339), cmpErrorDetail(err),
					refusedRevocation(err, "revoke_superseded")))
		}
	}
	if expired {
		return
	}
	err = newCMPClient(ctx, conn, creds).Revoke(ctx, cert, requestKey(creds, key), reason)
	var unverified *cmpclient.UnverifiedResponseError
	switch {
	case errors.As(err, &unverified):
		resp.Diagnostics.AddError("cmpv2_certificate: the answer to the revocation request (RR) could not be verified; "+
			"the resource stays in state",
			fmt.Sprintf("The RR for certificate serial %s was sent, and the CA's answer claims %s, but that answer "+
				"could not be verified, so whether the certificate is revoked is not known.\n\n%s\n\nCheck at the CA. "+
				"Fix the trust anchors (trusted_ca_pem or server_certificate_pem) and destroy again (a CA that already "+
				"revoked it answers certRevoked, which counts as done), or set revoke_on_destroy = false and apply "+
				"before destroying to forget the certificate.", cert.SerialNumber, unverified.Status.String(),
				cmpErrorDetail(err)))
	case err != nil && !alreadyRevoked(err):
		resp.Diagnostics.AddError("cmpv2_certificate: revocation request (RR) failed; the resource stays in state",
			fmt.Sprintf("Certificate serial %s was not revoked.\n\n%s\n\nFix the cause and destroy again, or set "+
				"revoke_on_destroy = false and apply before destroying to forget the certificate without revoking it.%s",
				cert.SerialNumber, cmpErrorDetail(err), refusedRevocation(err, "revoke_on_destroy")))
	}
}

// revokeSuperseded revokes, as superseded, the certificate that
// previous_certificate_pem of state holds, when a CR or KUR has just
// replaced the current certificate of state: the current one becomes the
// previous, so the old previous leaves the state and would otherwise stay
// live at the CA, owned by nobody. Its RR is signed with its own key
// (RFC 9483 section 4.2): the recorded previous key when a KUR or a CR with
// a new key made the current certificate, else the current key; or it is
// protected by creds (update_protection = "mac"). A
// certificate expired at now needs no revocation. Best effort: a failure is a
// warning naming the serial, since the new certificate is already issued
// and in the state.
func revokeSuperseded(ctx context.Context, conn *Connection, creds cmpclient.Credentials, state certificateModel, now time.Time,
	keys ...crypto.Signer) diag.Diagnostics {
	var diags diag.Diagnostics
	s := state.PreviousCertificatePEM.ValueString()
	if s == "" {
		return diags
	}
	prev, err := parseCertificatePEM(s)
	if err != nil {
		diags.AddAttributeWarning(path.Root("previous_certificate_pem"), "cmpv2_certificate: replaced certificate not revoked",
			"The certificate previous_certificate_pem held is unreadable, so it was not revoked: "+err.Error())
		return diags
	}
	if !now.Before(prev.NotAfter) {
		return diags // expired: no longer live
	}
	if err := revokeWith(ctx, conn, creds, prev, cmpclient.ReasonSuperseded, keys...); err != nil && !alreadyRevoked(err) {
		diags.AddWarning("cmpv2_certificate: replaced certificate not known to be revoked",
			fmt.Sprintf("This update replaced previous_certificate_pem, and the certificate it held (serial %s, "+
				"issuer %s) left the state, but it %s; it stays valid until %s unless revoked. Ask the CA's operator "+
				"to revoke serial %s (reason superseded).\n\n%s%s", prev.SerialNumber, prev.Issuer, revocationFailure(err),
				prev.NotAfter.UTC().Format(time.RFC3339), prev.SerialNumber, cmpErrorDetail(err),
				refusedRevocation(err, "revoke_superseded")))
	}
	return diags
}

// revokesSuperseded reports whether m revokes the certificates its CR and
// KUR replace (revoke_superseded). A state written before the attribute
// existed holds it null, and revoked them.
func revokesSuperseded(m certificateModel) bool {
	return m.RevokeSuperseded.IsNull() || m.RevokeSuperseded.ValueBool()
}

// revokeWith revokes target with an RR signed by target itself (RFC 9483
// section 4.2), with whichever of keys belongs to it, or protected by creds
// when set (update_protection = "mac").
func revokeWith(ctx context.Context, conn *Connection, creds cmpclient.Credentials, target *x509.Certificate,
	reason cmpclient.Reason, keys ...crypto.Signer) error {
	if creds != nil {
		return newCMPClient(ctx, conn, creds).Revoke(ctx, target, nil, reason)
	}
	for _, key := range keys {
		if pemkey.BelongsTo(key, target) {
			return newCMPClient(ctx, conn, nil).Revoke(ctx, target, key, reason)
		}
	}
	return fmt.Errorf("the private key of certificate serial %s is no longer held, and an RR must be signed with it",
		target.SerialNumber)
}

// alreadyRevoked reports a refusal because the certificate is revoked
// already. cmpclient counts an rp with certRevoked as success; a CA may
// instead refuse the request itself with an error message saying the
// signer is revoked, which, for an RR signed with the certificate being
// revoked, means the same: an RR whose answer was lost and is sent again.
func alreadyRevoked(err error) bool {
	var cmpErr *cmpclient.Error
	return errors.As(err, &cmpErr) && cmpErr.FailInfo&cmpclient.FailCertRevoked != 0
}

// refusedRevocation names the setting that keeps RRs from a CA that
// refused one (an error message or a rejection, other than certRevoked):
// a CA without revocation refuses every RR, and revoke_on_destroy (the
// resource's own certificate) or revoke_superseded (a replaced one) set to
// false sends it none. "" for other failures, which are not the CA's answer.
func refusedRevocation(err error, setting string) string {
	var cmpErr *cmpclient.Error
	var unverified *cmpclient.UnverifiedResponseError
	if !errors.As(err, &cmpErr) || errors.As(err, &unverified) {
		return ""
	}
	return fmt.Sprintf("\n\nThe CA refused the revocation request. If it offers no revocation (Vault Enterprise's "+
		"CMP has none), set %s = false: it then never sends this CA an RR for that certificate.", setting)
}

// revocationFailure says what a failed RR means for the certificate: an
// answer that could not be verified says nothing for certain.
func revocationFailure(err error) string {
	var unverified *cmpclient.UnverifiedResponseError
	if errors.As(err, &unverified) {
		return fmt.Sprintf("was asked to be revoked, and the CA's answer claims %s, but that answer could not be "+
			"verified, so whether it is revoked is not known", unverified.Status.String())
	}
	return "could not be revoked"
}

// destroySendsRR reports, for the plan of a destroy of state, whether
// Delete will send an RR for the certificate: revoke_on_destroy is set and
// the certificate has not expired (an expired one signs nothing). An
// unreadable certificate is Delete's to report.
func (r *certificateResource) destroySendsRR(state certificateModel) bool {
	if !state.RevokeOnDestroy.ValueBool() || state.CertificatePEM.ValueString() == "" {
		return false
	}
	if !custodyOf(state).holdsKey() && state.UpdateProtection.ValueString() != updateProtectionMAC {
		return false // nothing signs its RR: Delete warns instead
	}
	cert, err := parseCertificatePEM(state.CertificatePEM.ValueString())
	return err == nil && r.clock.now().Before(cert.NotAfter)
}
