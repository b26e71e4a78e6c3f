package provider

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// A certificate's CR, KUR and RR are signed with the certificate itself,
// and the CA signs its answers (RFC 9483 section 3.5): they can be
// verified only against trust anchors. Those are the configured ones
// (trusted_ca_pem or server_certificate_pem of the server object, the
// provider or CMPV2_TRUSTED_CA_PEM) or, without them, the root the
// resource adopted from its IR's caPubs (RFC 9810 section 5.3.2; cmpclient
// decides what may be adopted). Configured anchors win. Without either, no
// such request is sent: the plan fails first.
//
// With update_protection = "mac" the CA answers CR, KUR and RR under the
// shared secret (RFC 9810 5.1.3.1), which authenticates the answer as it
// does the IR's: no anchor is required. An anchor, when there is one, still
// verifies the new certificate's chain; without one the certificate is
// accepted as the MAC-protected answer delivers it, like an IR's without
// caPubs, and ca_chain_pem holds the chain the CA sent, unverified.

// answeredUnderMAC says whether the CR, KUR or RR of a certificate whose
// update_protection is protection is answered under the shared secret.
func answeredUnderMAC(protection types.String) bool {
	return protection.ValueString() == updateProtectionMAC
}

// adoptedAnchorSHA256 is trust_anchor_sha256 for an enrollment: the
// fingerprint of the anchor the IR adopted, else the one the resource had
// when its own adopted anchor verified this answer, else null.
func adoptedAnchorSHA256(adopted *x509.Certificate, kept types.String) types.String {
	if adopted != nil {
		sum := sha256.Sum256(adopted.Raw)
		return types.StringValue(hex.EncodeToString(sum[:]))
	}
	return kept
}

// adoptedAnchor returns the anchor m adopted: the certificate of
// ca_chain_pem whose SHA-256 is trust_anchor_sha256 (the verified chain
// ends with it, so the state holds it once). nil when none was adopted.
func adoptedAnchor(m certificateModel) (*x509.Certificate, error) {
	want := m.TrustAnchorSHA256.ValueString()
	if want == "" {
		return nil, nil
	}
	chain, err := parseCertificatesPEM(m.CAChainPEM.ValueString())
	if err != nil {
		return nil, fmt.Errorf("ca_chain_pem, which holds the adopted trust anchor: %w", err)
	}
	for _, c := range chain {
		if sum := sha256.Sum256(c.Raw); hex.EncodeToString(sum[:]) == want {
			return c, nil
		}
	}
	return nil, fmt.Errorf("the adopted trust anchor (trust_anchor_sha256 %s) is not in ca_chain_pem", want)
}

// certificateConnection resolves the connection for a request about the
// certificate of state (CR, KUR, RR): the server object obj over the
// provider defaults, with the adopted anchor when nothing is configured.
// kept is trust_anchor_sha256 for the next certificate: the state's when
// its adopted anchor is in use, else null. protection is the request's
// update_protection: under "mac" no anchor is required.
func certificateConnection(ctx context.Context, obj types.Object, d *Defaults, state certificateModel,
	protection types.String) (conn *Connection, kept types.String, diags diag.Diagnostics) {
	kept = types.StringNull()
	conn, diags = resolveConnection(ctx, path.Root("server"), obj, d)
	if diags.HasError() || len(conn.TrustedCAs) > 0 || conn.ServerCertificate != nil {
		return conn, kept, diags
	}
	anchor, err := adoptedAnchor(state)
	switch {
	case err != nil:
		diags.AddAttributeError(path.Root("trust_anchor_sha256"), "Adopted trust anchor unreadable", err.Error()+
			"\n\n"+noTrustFix)
	case anchor == nil && answeredUnderMAC(protection):
		// The shared secret authenticates the answer.
	case anchor == nil:
		diags.AddAttributeError(path.Root("server").AtName("trusted_ca_pem"), "No trust anchor for the CA's signed answers",
			noTrustDetail)
	default:
		conn.TrustedCAs = []*x509.Certificate{anchor}
		kept = state.TrustAnchorSHA256
	}
	return conn, kept, diags
}

const (
	noTrustFix = "Set trusted_ca_pem (the CA's root certificate, PEM) or server_certificate_pem (the certificate " +
		"the CA signs its CMP answers with) in the server object, or trusted_ca_pem in the provider block (or " +
		envTrustedCAPEM + ")."
	noTrustDetail = "The CA signs its answers to a CR, KUR or RR, and there is nothing to verify that signature " +
		"with: no trust anchor is configured, and this certificate adopted none (an IR adopts the root the CA " +
		"sends in caPubs under the shared secret; this one sent none the certificate chains to, or the " +
		"certificate was imported). Nothing was sent to the CA. " + noTrustFix
)

// trustMissing reports whether a signed answer about the certificate of
// state could certainly not be verified: obj (the server object; unknown
// counts as configuring anchors, since it may) and the provider configure
// none, and state adopted none.
func trustMissing(ctx context.Context, obj types.Object, d *Defaults, state certificateModel) bool {
	if obj.IsUnknown() {
		return false
	}
	if !obj.IsNull() {
		var m connectionModel
		if diags := obj.As(ctx, &m, basetypes.ObjectAsOptions{}); diags.HasError() {
			return false // reported where the object is resolved
		}
		for _, v := range []types.String{m.TrustedCAPEM, m.ServerCertificatePEM} {
			if v.IsUnknown() || v.ValueString() != "" {
				return false
			}
		}
	}
	if c := d.connection(); len(c.TrustedCAs) > 0 || c.ServerCertificate != nil {
		return false
	}
	anchor, err := adoptedAnchor(state)
	return anchor == nil || err != nil
}

// checkTrustForUpdate fails a plan for a CR or KUR of the certificate of
// state, which the CA answers with a signature, when that answer could not
// be verified: before any message is sent, and before the CA issues a
// certificate this provider would have to refuse. An update under the
// shared secret needs no anchor.
func (r *certificateResource) checkTrustForUpdate(ctx context.Context, plan, state certificateModel, op string,
	diags *diag.Diagnostics) {
	if !answeredUnderMAC(plan.UpdateProtection) && trustMissing(ctx, plan.Server, r.defaults, state) {
		diags.AddAttributeError(path.Root("server").AtName("trusted_ca_pem"),
			"No trust anchor for the CA's answer to the planned "+op, noTrustDetail)
	}
}

// checkTrustForIR fails the plan of an IR signed with an externally
// issued certificate (creds), which the CA answers with a signature, when
// nothing could verify that answer: the certificate issued in it could be
// neither accepted nor confirmed. An IR protected by the shared secret is
// answered under it and needs no anchor.
func (r *certificateResource) checkTrustForIR(ctx context.Context, server types.Object, creds cmpclient.Credentials,
	diags *diag.Diagnostics) {
	if _, signed := creds.(cmpclient.SignatureCredentials); signed && trustMissing(ctx, server, r.defaults, certificateModel{}) {
		diags.AddAttributeError(path.Root("server").AtName("trusted_ca_pem"),
			"No trust anchor for the CA's answer to the initialization request (IR)",
			"The IR is signed with enrollment.certificate_pem, so the CA signs its answer, and no trust anchor is "+
				"configured to verify it. Nothing was sent to the CA. "+noTrustFix)
	}
}

// checkTrustForDestroy fails a destroy plan whose RR (revoke_on_destroy,
// certificate not expired at now) would be answered with a signature that
// could not be verified (not an RR under the shared secret). Setting revoke_on_destroy = false (applied before
// the destroy) forgets the certificate without an RR.
func (r *certificateResource) checkTrustForDestroy(ctx context.Context, state certificateModel, sendsRR bool,
	resp *resource.ModifyPlanResponse) {
	if sendsRR && !answeredUnderMAC(state.UpdateProtection) && trustMissing(ctx, state.Server, r.defaults, state) {
		resp.Diagnostics.AddAttributeError(path.Root("server").AtName("trusted_ca_pem"),
			"No trust anchor for the CA's answer to the revocation on destroy", noTrustDetail+
				" (A trust anchor in the server object takes effect after an apply; the provider's at once.) To "+
				"forget the certificate without revoking it, set revoke_on_destroy = false and apply before destroying.")
	}
}
