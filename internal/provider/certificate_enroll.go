package provider

import (
	"context"
	"errors"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// defaultOperationTimeout bounds a whole CMP operation (all its messages,
// polling included) when the timeouts block does not.
const defaultOperationTimeout = 10 * time.Minute

// enroll is Create: an initialization request (IR, RFC 9483 section 4.1.1)
// protected by the enrollment credentials or the provider's.
//
// No issued certificate is lost (SPEC section 2): when the CA issued one but
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
	creds, diags := r.irCredentials(ctx, config)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	key, keyPEM, err := keyForRequest(config, plan)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("private_key_pem"), "No key to enroll", err.Error())
		return
	}
	creq, diags := certRequest(ctx, plan, key, overridableTimeFunc())
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	ctx, cancel := operationContext(ctx, timeout)
	defer cancel()
	enr, err := newCMPClient(ctx, conn, creds).Enroll(ctx, creq)
	// A certificate refused as not what was asked for is not ours to keep:
	// the rejection told the CA to revoke it, and its serial is in the error.
	var rejected *cmpclient.CertificateRejectedError
	if enr == nil || errors.As(err, &rejected) {
		resp.Diagnostics.AddError("cmpv2_certificate: initialization request (IR) failed", cmpErrorDetail(err))
		return
	}
	if serr := setIssued(&plan, enr, keyPEM, nil); serr != nil {
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

// irCredentials returns what protects the IR: the enrollment object's
// reference with secret or secret_wo (write-only values are only in the
// configuration), or its external certificate and key, else the provider's
// reference and secret.
func (r *certificateResource) irCredentials(ctx context.Context, config certificateModel) (cmpclient.Credentials, diag.Diagnostics) {
	var diags diag.Diagnostics
	p := path.Root("enrollment")
	if !config.Enrollment.IsNull() {
		var e enrollmentModel
		diags.Append(config.Enrollment.As(ctx, &e, basetypes.ObjectAsOptions{})...)
		if diags.HasError() {
			return nil, diags
		}
		switch {
		case e.CertificatePEM.ValueString() != "":
			chain, err := parseCertificatesPEM(e.CertificatePEM.ValueString())
			if err != nil {
				diags.AddAttributeError(p.AtName("certificate_pem"), "Invalid certificate PEM", err.Error())
				return nil, diags
			}
			key, err := parsePrivateKeyPEM(e.PrivateKeyPEM.ValueString())
			if err != nil {
				diags.AddAttributeError(p.AtName("private_key_pem"), "Invalid private key PEM", err.Error())
				return nil, diags
			}
			return cmpclient.SignatureCredentials{Key: key, Chain: chain}, diags
		case e.Reference.ValueString() != "":
			secret := e.Secret.ValueString()
			if secret == "" {
				secret = e.SecretWO.ValueString()
			}
			if secret == "" {
				diags.AddAttributeError(p.AtName("secret_wo"), "Missing enrollment secret",
					"enrollment.reference needs enrollment.secret_wo or enrollment.secret.")
				return nil, diags
			}
			return cmpclient.MACCredentials{Reference: e.Reference.ValueString(), Secret: []byte(secret)}, diags
		}
	}
	if r.defaults != nil && r.defaults.Reference != "" && r.defaults.Secret != "" {
		return cmpclient.MACCredentials{Reference: r.defaults.Reference, Secret: []byte(r.defaults.Secret)}, diags
	}
	diags.AddAttributeError(p, "No credentials for the initialization request",
		"Creating a certificate sends an IR, which must be protected. "+irCredentialsRemedy)
	return nil, diags
}
