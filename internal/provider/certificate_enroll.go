package provider

import (
	"context"
	"errors"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
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
	conn, diags := resolveConnection(ctx, path.Root("server"), plan.Server, r.defaults)
	resp.Diagnostics.Append(diags...)
	creds, credsFrom, diags := irCredentials(ctx, config.Enrollment, r.defaults, createNeeds(config))
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if creds == nil {
		resp.Diagnostics.AddAttributeError(path.Root("enrollment"), "IR credentials not known",
			"The enrollment credentials are still unknown during apply.")
		return
	}
	send, keyPEM, op, diags := createRequest(ctx, config, plan, r.clock.now())
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	ctx, cancel := operationContext(ctx, timeout, r.clock.stopGrace())
	defer cancel()
	enr, err := send(ctx, newCMPClient(ctx, conn, creds))
	// A certificate refused as not what was asked for is not ours to keep:
	// the rejection told the CA to revoke it, and its serial is in the error.
	var rejected *cmpclient.CertificateRejectedError
	if enr == nil || errors.As(err, &rejected) {
		resp.Diagnostics.AddError("cmpv2_certificate: "+op+" failed",
			cmpErrorDetail(err)+credentialHint(err, credsFrom))
		return
	}
	if serr := setIssued(&plan, enr, keyPEM.ValueString(), nil, r.clock.now()); serr != nil {
		resp.Diagnostics.AddError("cmpv2_certificate: issued certificate unreadable", serr.Error())
		return
	}
	plan.PrivateKeyPEM = keyPEM
	// The id is the serial of the first certificate: stable across CR and
	// KUR, and findable in the CA's records.
	plan.ID = plan.SerialNumber
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	if err != nil {
		var unconfirmed *cmpclient.UnconfirmedError
		detail := cmpErrorDetail(err)
		if errors.As(err, &unconfirmed) {
			detail += "\n\nThe certificate (serial " + plan.SerialNumber.ValueString() + ")" + unconfirmedNote(config)
		}
		resp.Diagnostics.AddError("cmpv2_certificate: certificate issued but the "+op+" did not complete", detail)
	}
}
