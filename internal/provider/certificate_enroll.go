package provider

import (
	"context"
	"errors"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// defaultOperationTimeout bounds a whole CMP operation (all its messages,
// polling included) when the timeouts block does not.
const defaultOperationTimeout = 10 * time.Minute

// enroll is Create: an initialization request (IR, RFC 9483 section 4.1.1)
// protected by the enrollment credentials or the provider's.
//
// No issued certificate is lost: when the CA issued one but
// the transaction did not finish (certConf failed, apply interrupted), the
// certificate and its key are saved to state AND an error is returned, so
// Terraform keeps the resource tainted; the next apply revokes it (RR) and
// enrolls again.
func (r *certificateResource) enroll(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config certificateModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultOperationTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	enr, keyPEM, err, diags := sendIR(ctx, r.defaults, r.clock, config, plan, timeout)
	if resp.Diagnostics.Append(diags...); enr == nil {
		return
	}
	if serr := setIssued(&plan, enr, keyPEM, nil, r.clock.now()); serr != nil {
		resp.Diagnostics.AddError("cmpv2_certificate: issued certificate unreadable", serr.Error())
		return
	}
	// The id is the serial of the first certificate: stable across CR and
	// KUR, and findable in the CA's records.
	plan.ID = plan.SerialNumber
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	if err != nil {
		var unconfirmed *cmpclient.UnconfirmedError
		detail := cmpErrorDetail(err)
		if errors.As(err, &unconfirmed) {
			detail += "\n\nThe certificate (serial " + plan.SerialNumber.ValueString() + ") and its key are saved in " +
				"the state and the resource is tainted: the next apply revokes it and enrolls a new one."
		}
		resp.Diagnostics.AddError("cmpv2_certificate: certificate issued but the IR did not complete", detail)
	}
}

// sendIR is the one initialization request (RFC 9483 section 4.1.1) of a
// certificate, for cmpv2_certificate's Create and the ephemeral
// cmpv2_certificate's Open: it resolves the server of plan over the
// provider defaults d, takes the IR credentials of config's enrollment
// (irCredentials), the key (keyForRequest) and the request (certRequest),
// and enrolls within timeout.
//
// enr is nil when nothing was issued, with the error in diags. Otherwise
// keyPEM is the certified key, and err, when set, says that the
// transaction did not complete after the certificate was issued (certConf
// failed, the apply was interrupted): the caller must keep or revoke it.
func sendIR(ctx context.Context, d *Defaults, clk clock, config, plan certificateModel, timeout time.Duration) (
	enr *cmpclient.Enrollment, keyPEM string, err error, diags diag.Diagnostics) {
	conn, dd := resolveConnection(ctx, path.Root("server"), plan.Server, d)
	diags.Append(dd...)
	creds, credsFrom, dd := irCredentials(ctx, config.Enrollment, d, irForCreate)
	diags.Append(dd...)
	if diags.HasError() {
		return nil, "", nil, diags
	}
	if creds == nil {
		diags.AddAttributeError(path.Root("enrollment"), "IR credentials not known",
			"The enrollment credentials are still unknown during apply.")
		return nil, "", nil, diags
	}
	key, keyPEM, kerr := keyForRequest(config, plan)
	if kerr != nil {
		diags.AddAttributeError(path.Root("private_key_pem"), "No key to enroll", kerr.Error())
		return nil, "", nil, diags
	}
	creq, dd := certRequest(ctx, plan, key, clk.now())
	if diags.Append(dd...); diags.HasError() {
		return nil, "", nil, diags
	}

	ctx, cancel := operationContext(ctx, timeout, clk.stopGrace())
	defer cancel()
	enr, err = newCMPClient(ctx, conn, creds).Enroll(ctx, creq)
	// A certificate refused as not what was asked for is not ours to keep:
	// the rejection told the CA to revoke it, and its serial is in the error.
	var rejected *cmpclient.CertificateRejectedError
	if enr == nil || errors.As(err, &rejected) {
		diags.AddError("cmpv2_certificate: initialization request (IR) failed",
			cmpErrorDetail(err)+credentialHint(err, credsFrom))
		return nil, "", nil, diags
	}
	return enr, keyPEM, err, diags
}
