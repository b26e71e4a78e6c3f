package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// ModifyPlan decides, for every plan, which CMP operation the apply will run
// (decideUpdate, then classifyUpdate in renewal.go) and shapes the plan to
// match: a state-only update keeps the issued certificate's attributes, a
// CR or KUR marks them unknown and warns with the reason, an expired
// certificate is replaced. Update (certificate_update.go) decides again
// with the same function once every input is known.
func (r *certificateResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		r.planDestroy(ctx, req, resp)
		return
	}
	// Plans that change nothing do not come here: the protocol server
	// answers them (server_nochange.go, plan_fastpath.go).
	r.modifyPlan(ctx, req, resp)
}

// planDestroy checks, in the plan of a destroy, what Delete can do with the
// certificate of the state, read once: whether its RR will find a trust
// anchor and credentials, or, when nothing can sign it, says that it stays
// valid.
func (r *certificateResource) planDestroy(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var state certificateModel
	if req.State.Raw.IsNull() || readCertificate(ctx, req.State.Raw, &state).HasError() {
		return // an unreadable state is the framework's to report
	}
	sendsRR := r.destroySendsRR(state)
	r.checkTrustForDestroy(ctx, state, sendsRR, resp)
	r.checkCredentialsForDestroy(ctx, state, sendsRR, resp)
	r.warnCSRDestroy(state, resp)
	r.warnKeyWODestroy(state, resp)
}

// modifyPlan is ModifyPlan on the whole model, for a create or a plan that
// changes something.
func (r *certificateResource) modifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.State.Raw.IsNull() {
		resp.Diagnostics.Append(r.planCreate(ctx, req.Config.Raw, &resp.Plan.Raw)...)
		return
	}
	var config, plan certificateModel
	resp.Diagnostics.Append(readCertificate(ctx, req.Config.Raw, &config)...)
	resp.Diagnostics.Append(readCertificate(ctx, req.Plan.Raw, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if r.planRequestTemplate(ctx, req.State.Raw, config, &plan, &resp.Diagnostics); resp.Diagnostics.HasError() {
		return
	}
	planKeyAttributesFromUserKey(config, &plan)
	planKeyAttributesFromCSR(config, &plan)
	generatedKey := custodyOf(config) == custodyGenerated

	var state certificateModel
	resp.Diagnostics.Append(readCertificate(ctx, req.State.Raw, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if custodyOf(config) == custodyWriteOnly {
		planKeyAttributesFromWriteOnly(config, &state, &plan)
	}
	if custodyChanged(state, config) {
		r.planCustodyChange(ctx, state, config, &plan, resp)
		return
	}
	u, known, err := decideUpdate(ctx, state, plan, config.PrivateKeyPEM, importPending(ctx, req.Private), r.clock.now())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("not_after"), "Unreadable certificate validity in state", err.Error())
		return
	}
	if !known {
		// Some inputs are known only during apply; the operation is decided then.
		markIssuedUnknown(&plan, generatedKey)
		plan.CertificateP12 = plannedP12(config.p12Model, plan.p12Model, &state.p12Model, true)
		resp.Diagnostics.Append(writeCertificate(ctx, plan, &resp.Plan.Raw)...)
		return
	}
	if u.FellBack {
		warnRenewalFallback(u.NotBefore, u.NotAfter, u.Settings, true, &resp.Diagnostics)
	}
	protection, superseded := protectionNote(plan), supersededNote(state, revokesSuperseded(plan))
	if custodyOf(state) == custodyWriteOnly {
		if protection = checkKeyWOPlan(config, plan, state, u.Op, u.Why, &resp.Diagnostics); resp.Diagnostics.HasError() {
			return
		}
		superseded = keyWOSupersededNote(config, plan, state, superseded)
	}

	switch u.Op {
	case opNone:
		copyIssued(&plan, state)
		plan.RenewalTime = types.StringValue(formatTime(u.RenewAt))
		plan.ReadyForRenewal = types.BoolValue(false)
	case opReplace:
		_, _, diags := irCredentials(ctx, config.Enrollment, r.defaults, "The certificate expired at "+
			formatTime(u.NotAfter)+". CMP does not accept an expired certificate as proof of identity, "+
			"so it must be replaced by a new initialization request (IR), which must be protected.")
		resp.Diagnostics.Append(diags...)
		if diags.HasError() {
			return
		}
		markIssuedUnknown(&plan, generatedKey)
		resp.RequiresReplace = path.Paths{path.Root("not_after")}
		resp.Diagnostics.AddWarning("cmpv2_certificate: planned replacement (new IR)",
			"Because "+strings.Join(u.Why, "; ")+", the certificate is replaced by a new initialization request: "+
				"CMP does not accept an expired certificate as proof of identity for a KUR.")
	case opP10CR:
		if !r.planP10CR(ctx, config, &plan, state, u.updateDecision, &resp.Diagnostics) {
			return
		}
	case opCR, opKUR:
		if r.checkTrustForUpdate(ctx, plan, state, operationName(u.Op), &resp.Diagnostics); resp.Diagnostics.HasError() {
			return
		}
		if _, diags := updateCredentials(ctx, plan, config.Enrollment, r.defaults, operationName(u.Op)); diags.HasError() {
			resp.Diagnostics.Append(diags...)
			return
		}
		markIssuedUnknown(&plan, u.NewKey && generatedKey)
		// Update runs the operation decided here, and the CA's answer
		// names it (cmpclient.Enrollment.Operation).
		plan.LastOperation = types.StringValue(string(u.Op))
		resp.Diagnostics.AddWarning(fmt.Sprintf("cmpv2_certificate: planned %s", operationName(u.Op)),
			fmt.Sprintf("Applying sends a %s %s, because %s. The "+
				"certificate is updated in place; the current one is kept in previous_certificate_pem.%s",
				operationName(u.Op), protection, strings.Join(u.Why, "; "), superseded))
	}
	plan.CertificateP12 = plannedP12(config.p12Model, plan.p12Model, &state.p12Model, u.Op != opNone)
	resp.Diagnostics.Append(writeCertificate(ctx, plan, &resp.Plan.Raw)...)
}

// planCreate is ModifyPlan of a new certificate on the planned value
// *planned (for the framework, or for the protocol server, which plans
// creates itself: server_create.go). The configuration decides the key
// attributes and the request template; what would refuse the IR fails the
// plan. An error before the plan is shaped leaves *planned as it was.
func (r *certificateResource) planCreate(ctx context.Context, configRaw tftypes.Value, planned *tftypes.Value) diag.Diagnostics {
	var diags diag.Diagnostics
	var config, plan certificateModel
	diags.Append(readCertificate(ctx, configRaw, &config)...)
	diags.Append(readCertificate(ctx, *planned, &plan)...)
	if diags.HasError() {
		return diags
	}
	if r.planRequestTemplate(ctx, tftypes.Value{}, config, &plan, &diags); diags.HasError() {
		return diags
	}
	planKeyAttributesFromUserKey(config, &plan)
	planKeyAttributesFromCSR(config, &plan)
	if custodyOf(config) == custodyWriteOnly {
		planKeyAttributesFromWriteOnly(config, nil, &plan)
		checkKeyWOCreate(config, &diags)
	}
	r.checkCreatable(ctx, config, &diags)
	// The CA may grant less than validity_period_hours: then the plan
	// after the IR warns with the validity granted.
	if settings, known := renewalSettingsOf(plan); known && !config.ValidityPeriodHours.IsNull() &&
		!config.ValidityPeriodHours.IsUnknown() {
		now := r.clock.now()
		requested := time.Duration(config.ValidityPeriodHours.ValueInt64()) * time.Hour
		warnRenewalFallback(now, now.Add(requested), settings, false, &diags)
	}
	plan.CertificateP12 = plannedP12(config.p12Model, plan.p12Model, nil, true)
	return append(diags, writeCertificate(ctx, plan, planned)...)
}

// planKeyAttributesFromUserKey shows a user-supplied key's algorithm, size
// and curve in the plan where the configuration leaves them unset, instead
// of the defaults for generated keys. The key itself stays known in the
// plan (private_key_pem is the configuration's), as does a key in state
// that a CR or KUR keeps (markIssuedUnknown), so what is derived from the
// key is known at plan time; what is derived from the certificate is not,
// since a CA may answer from a new issuing CA certificate.
func planKeyAttributesFromUserKey(config certificateModel, plan *certificateModel) {
	if config.PrivateKeyPEM.IsNull() || config.PrivateKeyPEM.IsUnknown() {
		return
	}
	key, err := parsePrivateKeyPEM(config.PrivateKeyPEM.ValueString())
	if err != nil {
		return // the attribute's validator reports it
	}
	spec, err := specOf(key)
	if err != nil {
		return
	}
	if config.KeyAlgorithm.IsNull() {
		plan.KeyAlgorithm = types.StringValue(spec.Algorithm)
	}
	if config.RSABits.IsNull() && spec.Algorithm == keyAlgorithmRSA {
		plan.RSABits = types.Int64Value(int64(spec.RSABits))
	}
	if config.ECDSACurve.IsNull() && spec.Algorithm == keyAlgorithmECDSA {
		plan.ECDSACurve = types.StringValue(spec.Curve)
	}
}

// warnRenewalFallback warns when renewalTime sets a configured renewal
// window aside for a certificate valid from notBefore to notAfter (issued:
// granted by the CA; else requested), naming the window, the validity, the
// rule applied instead and the fix (renewalFallback).
func warnRenewalFallback(notBefore, notAfter time.Time, s renewalSettings, issued bool, diags *diag.Diagnostics) {
	attribute, detail := renewalFallback(notBefore, notAfter, s, issued)
	if attribute == "" {
		return
	}
	summary := "Renewal window does not fit the granted validity"
	if !issued {
		summary = "Renewal window does not fit the requested validity"
	}
	diags.AddAttributeWarning(path.Root(attribute), summary, detail)
}

// checkCreatable reports, at plan time, what a create would miss: a server
// URL and credentials for the IR.
func (r *certificateResource) checkCreatable(ctx context.Context, config certificateModel, diags *diag.Diagnostics) {
	hasURL, d := willHaveURL(ctx, config.Server, r.defaults)
	diags.Append(d...)
	if !hasURL && !d.HasError() {
		noServer(path.Root("server"), diags)
	}
	creds, _, d := irCredentials(ctx, config.Enrollment, r.defaults, createNeeds(config))
	diags.Append(d...)
	r.checkTrustForIR(ctx, config.Server, creds, diags)
}

// plannedUpdate is what an update of an issued certificate does, and the
// window it was decided in.
type plannedUpdate struct {
	updateDecision
	NotBefore, NotAfter, RenewAt time.Time
	Settings                     renewalSettings
	// FellBack: a configured renewal window does not fit the granted
	// validity and was set aside (renewalTime).
	FellBack bool
}

// decideUpdate decides what an update from state to plan does at now:
// ModifyPlan asks it at plan time, Update again during apply. configKey is
// the configuration's private_key_pem (null: the provider generates the
// key); importing says the state comes from an import not yet applied.
// known is false when an input is known only during apply: then the
// decision is not final, and ModifyPlan leaves it to Update. err says the
// state's validity does not read.
func decideUpdate(ctx context.Context, state, plan certificateModel, configKey types.String, importing bool,
	now time.Time) (u plannedUpdate, known bool, err error) {
	u.NotBefore, u.NotAfter, err = parseValidity(state.NotBefore.ValueString(), state.NotAfter.ValueString())
	if err != nil {
		return u, false, err
	}
	settings, settingsKnown := renewalSettingsOf(plan)
	u.Settings = settings
	prior, _ := intentOf(ctx, state, state.PrivateKeyPEM)
	planned, plannedKnown := intentOf(ctx, plan, configKey)
	priorForImport(&prior, planned, state, importing)
	u.RenewAt, u.FellBack = renewalTime(u.NotBefore, u.NotAfter, settings)
	if custodyOf(plan) == custodyCSR {
		var csrKnown bool
		u.updateDecision, csrKnown = classifyCSRUpdate(ctx, state, plan, now, u.RenewAt, u.NotAfter)
		return u, settingsKnown && csrKnown, nil
	}
	if custodyOf(plan) == custodyWriteOnly {
		prior.KeyPEM, planned.KeyPEM = keyWOIntent(state), keyWOIntent(plan)
		plannedKnown = plannedKnown && !plan.PrivateKeyWOVersion.IsUnknown()
	}
	u.updateDecision = classifyUpdate(prior, planned, now, u.RenewAt, u.NotAfter)
	if custodyOf(plan) == custodyWriteOnly {
		u.updateDecision = keyWODecision(u.updateDecision, state, plan)
	}
	return u, settingsKnown && plannedKnown, nil
}

// renewalSettingsOf reads the renewal settings of m; known is false when
// one is known only during apply.
func renewalSettingsOf(m certificateModel) (s renewalSettings, known bool) {
	if m.RenewBeforeExpiry.IsUnknown() || m.RenewAfterIssue.IsUnknown() {
		return s, false
	}
	return parseRenewalSettings(m.RenewBeforeExpiry.ValueString(), m.RenewAfterIssue.ValueString()), true
}

// intentOf extracts what m asks for; keyPEM is the user-supplied key (null:
// generated) or, for the prior state, the key in state. known is false when
// any part is known only during apply.
func intentOf(ctx context.Context, m certificateModel, keyPEM types.String) (certificateIntent, bool) {
	c := certificateIntent{
		ValidityHours: m.ValidityPeriodHours.ValueInt64(),
		Profile:       m.CertificateProfile.ValueString(),
		KeyPEM:        keyPEM.ValueString(),
		KeySpec: keySpec{Algorithm: m.KeyAlgorithm.ValueString(), RSABits: int(m.RSABits.ValueInt64()),
			Curve: m.ECDSACurve.ValueString()},
	}
	known := !keyPEM.IsUnknown() && !m.KeyAlgorithm.IsUnknown() && !m.RSABits.IsUnknown() && !m.ECDSACurve.IsUnknown() &&
		!m.ValidityPeriodHours.IsUnknown() && !m.CertificateProfile.IsUnknown()
	switch {
	case m.Subject.IsUnknown():
		known = false
	case !m.Subject.IsNull():
		var s subjectModel
		if diags := m.Subject.As(ctx, &s, basetypes.ObjectAsOptions{}); diags.HasError() {
			known = false
		}
		c.Subject = s.name().String()
	}
	lists := []struct {
		dst *[]string
		src interface {
			IsUnknown() bool
			ElementsAs(context.Context, any, bool) diag.Diagnostics
		}
	}{
		{&c.DNSNames, m.DNSNames}, {&c.IPAddresses, m.IPAddresses}, {&c.URIs, m.URIs},
		{&c.EmailAddresses, m.EmailAddresses}, {&c.KeyUsages, m.KeyUsages}, {&c.ExtendedKeyUsages, m.ExtendedKeyUsages},
	}
	for _, l := range lists {
		if l.src.IsUnknown() || l.src.ElementsAs(ctx, l.dst, false).HasError() {
			known = false
		}
	}
	if m.RotationTriggers.IsUnknown() || m.RotationTriggers.ElementsAs(ctx, &c.RotationTriggers, false).HasError() {
		known = false
	}
	return c, known
}

// copyIssued keeps the issued certificate's attributes of state in a plan
// that sends no CMP message.
func copyIssued(plan *certificateModel, state certificateModel) {
	plan.ID = state.ID
	plan.CertificatePEM = state.CertificatePEM
	plan.CAChainPEM = state.CAChainPEM
	plan.SerialNumber = state.SerialNumber
	plan.NotBefore = state.NotBefore
	plan.NotAfter = state.NotAfter
	plan.PreviousCertificatePEM = state.PreviousCertificatePEM
	plan.PreviousPrivateKeyPEM = state.PreviousPrivateKeyPEM
	plan.LastOperation = state.LastOperation
	plan.TrustAnchorSHA256 = state.TrustAnchorSHA256
}

// markIssuedUnknown marks what a new certificate will change as unknown;
// newGeneratedKey says the provider will generate a new private key too
// (else private_key_pem keeps its planned value: the configuration's or
// the state's).
func markIssuedUnknown(plan *certificateModel, newGeneratedKey bool) {
	plan.CertificatePEM = types.StringUnknown()
	plan.CAChainPEM = types.StringUnknown()
	plan.SerialNumber = types.StringUnknown()
	plan.NotBefore = types.StringUnknown()
	plan.NotAfter = types.StringUnknown()
	plan.PreviousCertificatePEM = types.StringUnknown()
	plan.PreviousPrivateKeyPEM = types.StringUnknown()
	plan.LastOperation = types.StringUnknown()
	plan.TrustAnchorSHA256 = types.StringUnknown()
	plan.ReadyForRenewal = types.BoolUnknown()
	plan.RenewalTime = types.StringUnknown()
	if newGeneratedKey {
		plan.PrivateKeyPEM = types.StringUnknown()
	}
}

// supersededNote tells, in a planned CR or KUR, which certificate the
// apply revokes: the one previous_certificate_pem holds leaves the state.
// With revoke_superseded = false (revoke false) it says that none is
// revoked and replaced certificates stay valid until they expire.
func supersededNote(state certificateModel, revoke bool) string {
	prev, err := parseCertificatePEM(state.PreviousCertificatePEM.ValueString())
	held := state.PreviousCertificatePEM.ValueString() != "" && err == nil
	switch {
	case !revoke && held:
		return fmt.Sprintf(" With revoke_superseded = false no certificate is revoked: the one "+
			"previous_certificate_pem holds now (serial %s) leaves the state and stays valid until it expires "+
			"(%s), and so will the current one once replaced.", prev.SerialNumber, formatTime(prev.NotAfter))
	case !revoke:
		return " With revoke_superseded = false no certificate is revoked: the current one, once replaced, " +
			"stays valid until it expires."
	case !held:
		return ""
	}
	return fmt.Sprintf(" The certificate previous_certificate_pem holds now (serial %s) leaves the state and is "+
		"revoked (superseded).", prev.SerialNumber)
}
