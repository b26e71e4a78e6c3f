package provider

import (
	"context"
	"crypto"
	"fmt"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// The values of update_protection: how a CR, KUR or RR is protected.
const (
	updateProtectionSignature = "signature"
	updateProtectionMAC       = "mac"
)

// updateCredentials is how the CR, KUR or RR (op) of m is protected: nil
// for a signature with the certificate the request is about (RFC 9483
// sections 4.1.2, 4.1.3 and 4.2, the default), or, with update_protection =
// "mac", a shared secret as for the IR (RFC 9483 section 4.1.5): the
// enrollment's reference and secret, else the provider's. irCredentials,
// the one rule for those credentials, decides; the reason it is given names
// update_protection.
//
// enrollment is the configuration's, which alone holds secret_wo; a
// destroy has no configuration and passes the state's, where secret_wo is
// always null. Without known values (at plan) the result is nil with no
// error: the apply asks again.
func updateCredentials(ctx context.Context, m certificateModel, enrollment types.Object, defaults *Defaults,
	op string) (cmpclient.Credentials, diag.Diagnostics) {
	if m.UpdateProtection.ValueString() != updateProtectionMAC {
		return nil, nil
	}
	why := fmt.Sprintf("With update_protection = %q the %s is protected by the enrollment's reference and secret "+
		"(else the provider's), like the IR. enrollment.secret_wo is never stored: give it again in the "+
		"configuration of every apply that sends a CR or KUR; a destroy has no configuration, so its RR needs "+
		"enrollment.secret or the provider's secret (or revoke_on_destroy = false).", updateProtectionMAC, op)
	creds, _, diags := irCredentials(ctx, enrollment, defaults, why)
	if _, signed := creds.(cmpclient.SignatureCredentials); signed {
		diags.AddAttributeError(path.Root("update_protection"), "update_protection needs a shared secret",
			fmt.Sprintf("update_protection = %q protects the %s with a reference and secret, but enrollment holds "+
				"certificate_pem and private_key_pem, which sign the IR only. Set enrollment.reference with "+
				"enrollment.secret or enrollment.secret_wo, or update_protection = %q.", updateProtectionMAC, op,
				updateProtectionSignature))
		return nil, diags
	}
	return creds, diags
}

// checkCredentialsForDestroy fails a destroy plan whose RR (revoke_on_destroy,
// a live certificate) must be MAC-protected (update_protection = "mac") when
// no secret will be there: a destroy has only the state, where secret_wo is
// null.
func (r *certificateResource) checkCredentialsForDestroy(ctx context.Context, state certificateModel, sendsRR bool,
	resp *resource.ModifyPlanResponse) {
	if !sendsRR || state.UpdateProtection.ValueString() != updateProtectionMAC {
		return
	}
	_, diags := updateCredentials(ctx, state, state.Enrollment, r.defaults, "revocation request (RR) on destroy")
	resp.Diagnostics.Append(diags...)
}

// protectionNote says, in a planned CR or KUR, how it is protected.
func protectionNote(plan certificateModel) string {
	if plan.UpdateProtection.ValueString() == updateProtectionMAC {
		return "protected by the enrollment's reference and secret (update_protection = \"mac\")"
	}
	return "signed with the current certificate and key"
}

// requestKey is the key that signs a CR, KUR or RR about a certificate
// whose key is key: none when creds (update_protection = "mac") protect it.
func requestKey(creds cmpclient.Credentials, key crypto.Signer) crypto.Signer {
	if creds != nil {
		return nil
	}
	return key
}
