package provider

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"strings"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// update is Update. ModifyPlan decided what the apply does (certificate_plan.go): a
// plan that kept the certificate attributes is a state-only change and
// sends nothing; one that left them unknown needs a CR (the request
// changed) or a KUR (only the key must change), signed with the current
// certificate and key (RFC 9483 sections 4.1.2 and 4.1.3).
//
// A failed CR or KUR leaves the state as it was: the framework starts
// Update's new state from the prior state and it is only replaced on
// success. A certificate issued but not confirmed is revoked, best effort,
// and its serial named.
func (r *certificateResource) update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, config, state certificateModel
	resp.Diagnostics.Append(readCertificate(ctx, req.Plan.Raw, &plan)...)
	resp.Diagnostics.Append(readCertificate(ctx, req.Config.Raw, &config)...)
	resp.Diagnostics.Append(readCertificate(ctx, req.State.Raw, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.CertificatePEM.IsUnknown() {
		if err := setP12(&plan, config, false); err != nil {
			p12Failed(&resp.Diagnostics, "", err)
			return
		}
		resp.Diagnostics.Append(writeCertificate(ctx, plan, &resp.State.Raw)...)
		resp.Diagnostics.Append(setImported(ctx, resp.Private, false)...)
		return
	}

	// The plan left the certificate unknown: decide again now that every
	// input is known (some may not have been at plan time).
	d, _, err := decideUpdate(ctx, state, plan, config.PrivateKeyPEM, importPending(ctx, req.Private), r.clock.now())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("not_after"), "Unreadable certificate validity in state", err.Error())
		return
	}
	switch d.Op {
	case opNone:
		copyIssued(&plan, state)
		if plan.PrivateKeyPEM.IsUnknown() {
			plan.PrivateKeyPEM = state.PrivateKeyPEM
		}
		setRenewal(&plan, d.NotBefore, d.NotAfter, r.clock.now())
		if err := setP12(&plan, config, false); err != nil {
			p12Failed(&resp.Diagnostics, "", err)
			return
		}
		resp.Diagnostics.Append(writeCertificate(ctx, plan, &resp.State.Raw)...)
		resp.Diagnostics.Append(setImported(ctx, resp.Private, false)...)
		return
	case opReplace:
		resp.Diagnostics.AddError("cmpv2_certificate: certificate expired during the apply",
			"The certificate expired at "+formatTime(d.NotAfter)+" after the plan was "+
				"made, so it can no longer sign a CR or KUR. Plan again: the plan replaces it with a new IR.")
		return
	case opP10CR:
		r.renewCSR(ctx, plan, config, state, d, resp)
		return
	}

	cur, err := parseCertificatePEM(state.CertificatePEM.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("certificate_pem"), "Unreadable certificate in state", err.Error())
		return
	}
	curKey, key, keyPEM, spare, attr, err := updateKeys(config, plan, state, cur,
		plan.UpdateProtection.ValueString() == updateProtectionMAC)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root(attr), "No key for the "+operationName(d.Op), err.Error())
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultOperationTimeout)
	resp.Diagnostics.Append(diags...)
	conn, kept, diags := certificateConnection(ctx, plan.Server, r.defaults, state, plan.UpdateProtection)
	resp.Diagnostics.Append(diags...)
	creq, diags := certRequest(ctx, plan, key, r.clock.now())
	resp.Diagnostics.Append(diags...)
	creds, diags := updateCredentials(ctx, plan, config.Enrollment, r.defaults, operationName(d.Op))
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	ctx, cancel := operationContext(ctx, timeout, r.clock.stopGrace())
	defer cancel()
	client := newCMPClient(ctx, conn, creds)
	var enr *cmpclient.Enrollment
	if d.Op == opCR {
		enr, err = client.Certify(ctx, creq, cur, requestKey(creds, curKey))
	} else {
		enr, err = client.UpdateKey(ctx, creq, cur, requestKey(creds, curKey))
	}
	why := strings.Join(d.Why, "; ")
	if err != nil {
		detail := fmt.Sprintf("The %s (because %s) failed; the state keeps the current certificate (serial %s)%s."+
			"\n\n%s", operationName(d.Op), why, cur.SerialNumber, keptKeyNote(state), cmpErrorDetail(err))
		var unconfirmed *cmpclient.UnconfirmedError
		var unverified *cmpclient.UnverifiedResponseError
		switch {
		case enr != nil && errors.As(err, &unconfirmed):
			detail += r.discardUnconfirmed(ctx, conn, creds, enr, key)
		case errors.As(err, &unverified) && unverified.Certificate != nil:
			detail += unverifiedIssueNote(unverified)
			if !unverified.Rejected {
				// The CA did not take the rejection: revoke instead.
				detail += r.discardUnconfirmed(ctx, conn, creds, &cmpclient.Enrollment{Certificate: unverified.Certificate}, key)
			}
		}
		resp.Diagnostics.AddError(fmt.Sprintf("cmpv2_certificate: %s failed", operationName(d.Op)), detail)
		return
	}
	setIssued(&plan, enr, keyPEM, cur, r.clock.now())
	plan.PrivateKeyPEM = custodyOf(plan).stateKeyPEM(keyPEM)
	plan.ID = state.ID
	plan.TrustAnchorSHA256 = adoptedAnchorSHA256(enr.AdoptedTrustAnchor, kept)
	var previous string
	plan.PreviousPrivateKeyPEM, previous = previousKeyOutput(state.PrivateKeyPEM.ValueString(), keyPEM,
		!config.PrivateKeyPEM.IsNull())
	p12Err := setP12(&plan, config, true)
	resp.Diagnostics.Append(writeCertificate(ctx, plan, &resp.State.Raw)...)
	// The certificate previous_certificate_pem held until now leaves the
	// state: revoke it, so that no certificate of this resource stays live
	// without being in the state, unless revoke_superseded is false.
	if revokesSuperseded(plan) {
		prevKey, _ := previousKey(ctx, state, req.Private)
		resp.Diagnostics.Append(revokeSuperseded(ctx, conn, creds, state, r.clock.now(), append([]crypto.Signer{prevKey, curKey}, spare...)...)...)
	}
	resp.Diagnostics.Append(setPreviousKey(ctx, resp.Private, previous)...)
	resp.Diagnostics.Append(setImported(ctx, resp.Private, false)...)
	if p12Err != nil {
		p12Failed(&resp.Diagnostics, fmt.Sprintf("The %s issued certificate serial %s", operationName(d.Op),
			plan.SerialNumber.ValueString()), p12Err)
	}
}

// discardUnconfirmed revokes a certificate a CR or KUR issued but did not
// confirm, signed with itself (or protected by creds, update_protection =
// "mac"), and says what became of it: the state keeps the old certificate,
// so this one would otherwise be live and forgotten.
func (r *certificateResource) discardUnconfirmed(ctx context.Context, conn *Connection, creds cmpclient.Credentials,
	enr *cmpclient.Enrollment, key crypto.Signer) string {
	serial := enr.Certificate.SerialNumber.String()
	// The operation's context may be what ended; the revocation gets its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), conn.MessageTimeout)
	defer cancel()
	if err := newCMPClient(ctx, conn, creds).Revoke(ctx, enr.Certificate, requestKey(creds, key), cmpclient.ReasonSuperseded); err != nil {
		return fmt.Sprintf("\n\nThe CA issued certificate serial %s, which was not confirmed and %s (%v): revoke "+
			"it at the CA.", serial, revocationFailure(err), err)
	}
	return fmt.Sprintf("\n\nThe CA issued certificate serial %s, which was not confirmed; it has been revoked.", serial)
}

// unverifiedIssueNote says what became of a certificate the CA claims to
// have issued in an answer that could not be verified: cmpclient rejected
// it with a certConf, which makes the CA revoke it.
func unverifiedIssueNote(u *cmpclient.UnverifiedResponseError) string {
	serial := u.Certificate.SerialNumber.String()
	if u.Rejected {
		return fmt.Sprintf("\n\nThe CA claims it issued certificate serial %s. An answer that cannot be verified "+
			"cannot be accepted, so the certificate was rejected with a certConf, which makes the CA revoke it; "+
			"check at the CA that serial %s is revoked.", serial, serial)
	}
	return fmt.Sprintf("\n\nThe CA claims it issued certificate serial %s, and did not take its rejection: it may "+
		"stay live until the CA's confirmation wait ends.", serial)
}
