package provider

import (
	"context"
	"errors"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
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
	resp.Diagnostics.Append(readCertificate(ctx, req.Plan.Raw, &plan)...)
	resp.Diagnostics.Append(readCertificate(ctx, req.Config.Raw, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultOperationTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	enr, keyPEM, op, err, diags := sendCreate(ctx, r.defaults, r.clock, config, plan, timeout)
	if resp.Diagnostics.Append(diags...); enr == nil {
		return
	}
	setIssued(&plan, enr, keyPEM.ValueString(), nil, r.clock.now())
	plan.PrivateKeyPEM = keyPEM
	// The id is the serial of the first certificate: stable across CR and
	// KUR, and findable in the CA's records.
	plan.ID = plan.SerialNumber
	if p12Err := setP12(&plan, config, true); p12Err != nil {
		p12Failed(&resp.Diagnostics, "The IR issued certificate serial "+plan.SerialNumber.ValueString(), p12Err)
	}
	resp.Diagnostics.Append(writeCertificate(ctx, plan, &resp.State.Raw)...)
	if err != nil {
		var unconfirmed *cmpclient.UnconfirmedError
		detail := cmpErrorDetail(err)
		if errors.As(err, &unconfirmed) {
			detail += "\n\nThe certificate (serial " + plan.SerialNumber.ValueString() + ")" + unconfirmedNote(config)
		}
		resp.Diagnostics.AddError("cmpv2_certificate: certificate issued but the "+op+" did not complete", detail)
	}
}

// sendCreate is the one first request of a certificate, for
// cmpv2_certificate's Create and the ephemeral cmpv2_certificate's Open: an
// initialization request (RFC 9483 section 4.1.1), or a p10cr for a CSR
// (createRequest). It resolves the server of plan over the provider defaults
// d, takes the IR credentials of config's enrollment (irCredentials), and
// enrolls within timeout.
//
// enr is nil when nothing was issued, with the error in diags. Otherwise
// keyPEM is what private_key_pem holds (null for a CSR), op names the
// request, and err, when set, says that the transaction did not complete
// after the certificate was issued (certConf failed, the apply was
// interrupted): the caller must keep or revoke it.
func sendCreate(ctx context.Context, d *Defaults, clk clock, config, plan certificateModel, timeout time.Duration) (
	enr *cmpclient.Enrollment, keyPEM types.String, op string, err error, diags diag.Diagnostics) {
	conn, dd := resolveConnection(ctx, path.Root("server"), plan.Server, d)
	diags.Append(dd...)
	creds, credsFrom, dd := irCredentials(ctx, config.Enrollment, d, createNeeds(config))
	diags.Append(dd...)
	if diags.HasError() {
		return nil, keyPEM, "", nil, diags
	}
	if creds == nil {
		diags.AddAttributeError(path.Root("enrollment"), "IR credentials not known",
			"The enrollment credentials are still unknown during apply.")
		return nil, keyPEM, "", nil, diags
	}
	send, keyPEM, op, dd := createRequest(ctx, config, plan, clk.now())
	if diags.Append(dd...); diags.HasError() {
		return nil, keyPEM, "", nil, diags
	}

	ctx, cancel := operationContext(ctx, timeout, clk.stopGrace())
	defer cancel()
	enr, err = send(ctx, newCMPClient(ctx, conn, creds))
	// A certificate refused as not what was asked for is not ours to keep:
	// the rejection told the CA to revoke it, and its serial is in the error.
	var rejected *cmpclient.CertificateRejectedError
	if enr == nil || errors.As(err, &rejected) {
		diags.AddError("cmpv2_certificate: "+op+" failed", cmpErrorDetail(err)+credentialHint(err, credsFrom))
		return nil, keyPEM, "", nil, diags
	}
	return enr, keyPEM, op, err, diags
}
