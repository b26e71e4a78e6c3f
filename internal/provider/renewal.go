package provider

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// overridableTimeFunc is the clock of the renewal logic; tests replace it to
// move through renewal windows without sleeping.
var overridableTimeFunc = time.Now

// operation is the CMP transaction an apply will run for a planned change.
type operation string

const (
	opNone    operation = ""    // state-only update: no CMP message
	opCR      operation = "cr"  // certification request (RFC 9483 section 4.1.2)
	opKUR     operation = "kur" // key update request (RFC 9483 section 4.1.3)
	opReplace operation = "ir"  // destroy and create: a new initialization request
)

// renewalSettings are renew_before_expiry and renew_after_issue; zero means
// unset.
type renewalSettings struct {
	Before time.Duration
	After  time.Duration
}

// renewalTime returns when the renewal window of a certificate valid from
// notBefore to notAfter opens. With no setting, one third of the granted
// validity remains (SPEC section 2); with both, the earlier time wins.
//
// A window that would open at or before notBefore (the CA granted less
// validity than renew_before_expiry, or renew_after_issue is zero-length)
// would make every plan a KUR; then the default rule applies and fellBack
// tells the caller to warn.
func renewalTime(notBefore, notAfter time.Time, s renewalSettings) (t time.Time, fellBack bool) {
	byDefault := notAfter.Add(-notAfter.Sub(notBefore) / 3)
	if s.Before == 0 && s.After == 0 {
		return byDefault, false
	}
	var candidates []time.Time
	if s.Before > 0 {
		candidates = append(candidates, notAfter.Add(-s.Before))
	}
	if s.After > 0 {
		candidates = append(candidates, notBefore.Add(s.After))
	}
	t = slices.MinFunc(candidates, time.Time.Compare)
	if !t.After(notBefore) {
		return byDefault, true
	}
	return t, false
}

// certificateIntent is what a configuration asks for, in the terms that
// decide which CMP operation an update needs.
type certificateIntent struct {
	Subject           string // pkix.Name in RFC 4514 form
	DNSNames          []string
	IPAddresses       []string
	URIs              []string
	EmailAddresses    []string
	KeyUsages         []string
	ExtendedKeyUsages []string
	ValidityHours     int64 // 0: unset, the CA decides

	// KeyPEM is the user-supplied key; "" when the provider generates the
	// key. For the prior state it is the key the certificate holds.
	KeyPEM           string
	KeySpec          keySpec
	RotationTriggers map[string]string
}

// updateDecision is the outcome of classifyUpdate: the operation, whether
// it carries a new key, and the reasons, for the plan's warning.
type updateDecision struct {
	Op     operation
	NewKey bool
	Why    []string
}

// classifyUpdate decides what an update of a certificate issued with prior
// needs to do to satisfy planned (SPEC section 1):
//   - expired (now >= notAfter): replace with a new IR, since CMP does not
//     accept an expired certificate as proof of identity;
//   - subject, SANs, usages or requested validity changed: CR, with a new
//     key if the key must change too;
//   - only the key must change (user key changed, generated-key parameters
//     changed, rotation_triggers changed, renewal window open): KUR;
//   - anything else: state only.
//
// A planned KeyPEM of "" means the provider generates the key.
func classifyUpdate(prior, planned certificateIntent, now, renewAt, notAfter time.Time) updateDecision {
	if !now.Before(notAfter) {
		return updateDecision{Op: opReplace, NewKey: true, Why: []string{
			fmt.Sprintf("the certificate expired at %s", notAfter.UTC().Format(time.RFC3339))}}
	}

	var content []string
	if prior.Subject != planned.Subject {
		content = append(content, "subject changed")
	}
	if prior.ValidityHours != planned.ValidityHours {
		content = append(content, "validity_period_hours changed")
	}
	for _, f := range []struct {
		name      string
		a, b      []string
		normalize func(string) string
	}{
		{"dns_names", prior.DNSNames, planned.DNSNames, strings.ToLower},
		{"ip_addresses", prior.IPAddresses, planned.IPAddresses, canonicalIP},
		{"uris", prior.URIs, planned.URIs, nil},
		{"email_addresses", prior.EmailAddresses, planned.EmailAddresses, nil},
		{"key_usages", prior.KeyUsages, planned.KeyUsages, nil},
		{"extended_key_usages", prior.ExtendedKeyUsages, planned.ExtendedKeyUsages, nil},
	} {
		if !sameSet(f.a, f.b, f.normalize) {
			content = append(content, f.name+" changed")
		}
	}

	var key []string
	generated := planned.KeyPEM == ""
	switch {
	case !generated && planned.KeyPEM != prior.KeyPEM:
		key = append(key, "private_key_pem changed")
	case generated && normalizedSpec(planned.KeySpec) != normalizedSpec(prior.KeySpec):
		key = append(key, "the generated key's algorithm, size or curve changed")
	}
	if !maps.Equal(prior.RotationTriggers, planned.RotationTriggers) {
		key = append(key, "rotation_triggers changed")
	}
	renewalDue := !now.Before(renewAt)
	newKey := len(key) > 0

	switch {
	case len(content) > 0:
		why := append(content, key...)
		if renewalDue {
			why = append(why, renewalReason(renewAt))
		}
		return updateDecision{Op: opCR, NewKey: newKey, Why: why}
	case newKey:
		return updateDecision{Op: opKUR, NewKey: true, Why: key}
	case renewalDue:
		// A user-supplied key that did not change is kept: KUR with the
		// same key (RFC 4210 section 5.3.5 allows it); a generated key is
		// replaced at every KUR (SPEC section 2).
		return updateDecision{Op: opKUR, NewKey: generated, Why: []string{renewalReason(renewAt)}}
	default:
		return updateDecision{Op: opNone}
	}
}

func renewalReason(renewAt time.Time) string {
	return fmt.Sprintf("the renewal window opened at %s", renewAt.UTC().Format(time.RFC3339))
}

// normalizedSpec keeps only the fields that matter for the algorithm, so a
// changed rsa_bits does not count for an ECDSA key.
func normalizedSpec(s keySpec) keySpec {
	switch s.Algorithm {
	case keyAlgorithmRSA:
		return keySpec{Algorithm: s.Algorithm, RSABits: s.RSABits}
	case keyAlgorithmECDSA:
		return keySpec{Algorithm: s.Algorithm, Curve: s.Curve}
	default:
		return keySpec{Algorithm: s.Algorithm}
	}
}

// sameSet compares two lists as sets after normalize (nil: as is): the
// order of SANs or usages is no reason to ask the CA for a new certificate.
func sameSet(a, b []string, normalize func(string) string) bool {
	norm := func(list []string) []string {
		out := make([]string, 0, len(list))
		for _, s := range list {
			if normalize != nil {
				s = normalize(s)
			}
			out = append(out, s)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(norm(a), norm(b))
}

// canonicalIP writes an IP address the one way netip prints it, so
// "::1" and "0:0::1" compare equal.
func canonicalIP(s string) string {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.String()
	}
	return s
}

// ModifyPlan decides, for every plan, which CMP operation the apply will run
// (see classifyUpdate) and shapes the plan to match: a state-only update
// keeps the issued certificate's attributes, a CR or KUR marks them unknown
// and warns with the reason, an expired certificate is replaced.
func (r *certificateResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	// Most plans change nothing: answer those without the whole model
	// (plan_fastpath.go).
	if !req.State.Raw.IsNull() && planStandsAsProposed(req.Plan.Raw, req.State.Raw, overridableTimeFunc()) {
		return
	}
	r.modifyPlan(ctx, req, resp)
}

// modifyPlan is ModifyPlan on the whole model, for a create or a plan that
// changes something.
func (r *certificateResource) modifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var config, plan certificateModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	planKeyAttributesFromUserKey(config, &plan)
	generatedKey := config.PrivateKeyPEM.IsNull()

	if req.State.Raw.IsNull() {
		r.checkCreatable(ctx, config, &resp.Diagnostics)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}

	var state certificateModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	notBefore, notAfter, err := validityOf(state)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("not_after"), "Unreadable certificate validity in state", err.Error())
		return
	}
	settings, settingsKnown := renewalSettingsOf(plan)
	prior, _ := intentOf(ctx, state, state.PrivateKeyPEM)
	planned, plannedKnown := intentOf(ctx, plan, config.PrivateKeyPEM)
	priorForImport(&prior, planned, state, importPending(ctx, req.Private))
	if !settingsKnown || !plannedKnown {
		// Some inputs are known only during apply; the operation is decided then.
		markIssuedUnknown(&plan, generatedKey)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	renewAt, fellBack := renewalTime(notBefore, notAfter, settings)
	if fellBack {
		resp.Diagnostics.AddAttributeWarning(path.Root("renew_before_expiry"), "Renewal window covers the whole validity",
			fmt.Sprintf("The CA granted %s of validity, which the configured renewal window does not fit in; "+
				"renewal is due when one third of the validity remains instead (%s).",
				notAfter.Sub(notBefore), renewAt.UTC().Format(time.RFC3339)))
	}

	d := classifyUpdate(prior, planned, overridableTimeFunc(), renewAt, notAfter)
	switch d.Op {
	case opNone:
		copyIssued(&plan, state)
		plan.RenewalTime = types.StringValue(renewAt.UTC().Format(time.RFC3339))
		plan.ReadyForRenewal = types.BoolValue(false)
	case opReplace:
		_, diags := irCredentials(ctx, config.Enrollment, r.defaults, "The certificate expired at "+
			notAfter.UTC().Format(time.RFC3339)+". CMP does not accept an expired certificate as proof of identity, "+
			"so it must be replaced by a new initialization request (IR), which must be protected.")
		resp.Diagnostics.Append(diags...)
		if diags.HasError() {
			return
		}
		markIssuedUnknown(&plan, generatedKey)
		resp.RequiresReplace = path.Paths{path.Root("not_after")}
		resp.Diagnostics.AddWarning("cmpv2_certificate: planned replacement (new IR)",
			"Because "+strings.Join(d.Why, "; ")+", the certificate is replaced by a new initialization request: "+
				"CMP does not accept an expired certificate as proof of identity for a KUR.")
	case opCR, opKUR:
		markIssuedUnknown(&plan, d.NewKey && generatedKey)
		resp.Diagnostics.AddWarning(fmt.Sprintf("cmpv2_certificate: planned %s", operationName(d.Op)),
			fmt.Sprintf("Applying sends a %s signed with the current certificate and key, because %s. The "+
				"certificate is updated in place; the current one is kept in previous_certificate_pem.%s",
				operationName(d.Op), strings.Join(d.Why, "; "), supersededNote(state)))
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// supersededNote tells, in a planned CR or KUR, which certificate the
// apply revokes: the one previous_certificate_pem holds leaves the state.
func supersededNote(state certificateModel) string {
	prev, err := parseCertificatePEM(state.PreviousCertificatePEM.ValueString())
	if state.PreviousCertificatePEM.ValueString() == "" || err != nil {
		return ""
	}
	return fmt.Sprintf(" The certificate previous_certificate_pem holds now (serial %s) leaves the state and is "+
		"revoked (superseded).", prev.SerialNumber)
}

func operationName(op operation) string {
	switch op {
	case opCR:
		return "certification request (CR)"
	case opKUR:
		return "key update request (KUR)"
	default:
		return "initialization request (IR)"
	}
}

// checkCreatable reports, at plan time, what a create would miss: a server
// URL and credentials for the IR.
func (r *certificateResource) checkCreatable(ctx context.Context, config certificateModel, diags *diag.Diagnostics) {
	var server connectionModel
	hasURL := r.defaults != nil && r.defaults.URL != ""
	if !config.Server.IsNull() && !config.Server.IsUnknown() {
		diags.Append(config.Server.As(ctx, &server, basetypes.ObjectAsOptions{})...)
		hasURL = hasURL || !server.URL.IsNull()
	}
	if config.Server.IsUnknown() {
		hasURL = true
	}
	if !hasURL {
		diags.AddAttributeError(path.Root("server").AtName("url"), "No CMP server",
			"Set server.url (for example server = cmpv2_server.<name>.endpoint), the provider's url, or "+envURL+".")
	}
	_, d := irCredentials(ctx, config.Enrollment, r.defaults, irForCreate)
	diags.Append(d...)
}

// planKeyAttributesFromUserKey shows a user-supplied key's algorithm, size
// and curve in the plan where the configuration leaves them unset, instead
// of the defaults for generated keys.
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

// validityOf reads not_before and not_after from state.
func validityOf(state certificateModel) (notBefore, notAfter time.Time, err error) {
	notBefore, err = time.Parse(time.RFC3339, state.NotBefore.ValueString())
	if err != nil {
		return notBefore, notAfter, fmt.Errorf("not_before: %w", err)
	}
	notAfter, err = time.Parse(time.RFC3339, state.NotAfter.ValueString())
	if err != nil {
		return notBefore, notAfter, fmt.Errorf("not_after: %w", err)
	}
	return notBefore, notAfter, nil
}

// renewalSettingsOf parses the planned renewal settings; known is false
// when one is known only during apply. Invalid durations were reported by
// the attributes' validators and count as unset here.
func renewalSettingsOf(m certificateModel) (s renewalSettings, known bool) {
	if m.RenewBeforeExpiry.IsUnknown() || m.RenewAfterIssue.IsUnknown() {
		return s, false
	}
	if v := m.RenewBeforeExpiry.ValueString(); v != "" {
		s.Before, _ = checkDuration(v)
	}
	if v := m.RenewAfterIssue.ValueString(); v != "" {
		s.After, _ = checkDuration(v)
	}
	return s, true
}

// intentOf extracts what m asks for; keyPEM is the user-supplied key (null:
// generated) or, for the prior state, the key in state. known is false when
// any part is known only during apply.
func intentOf(ctx context.Context, m certificateModel, keyPEM types.String) (certificateIntent, bool) {
	c := certificateIntent{
		ValidityHours: m.ValidityPeriodHours.ValueInt64(),
		KeyPEM:        keyPEM.ValueString(),
		KeySpec: keySpec{Algorithm: m.KeyAlgorithm.ValueString(), RSABits: int(m.RSABits.ValueInt64()),
			Curve: m.ECDSACurve.ValueString()},
	}
	known := !keyPEM.IsUnknown() && !m.KeyAlgorithm.IsUnknown() && !m.RSABits.IsUnknown() && !m.ECDSACurve.IsUnknown() &&
		!m.ValidityPeriodHours.IsUnknown()
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
	plan.Issuer = state.Issuer
	plan.NotBefore = state.NotBefore
	plan.NotAfter = state.NotAfter
	plan.PublicKeyPEM = state.PublicKeyPEM
	plan.FingerprintSHA256 = state.FingerprintSHA256
	plan.PreviousCertificatePEM = state.PreviousCertificatePEM
	plan.LastOperation = state.LastOperation
}

// markIssuedUnknown marks what a new certificate will change as unknown;
// newGeneratedKey says the provider will generate a new private key too.
func markIssuedUnknown(plan *certificateModel, newGeneratedKey bool) {
	plan.CertificatePEM = types.StringUnknown()
	plan.CAChainPEM = types.StringUnknown()
	plan.SerialNumber = types.StringUnknown()
	plan.Issuer = types.StringUnknown()
	plan.NotBefore = types.StringUnknown()
	plan.NotAfter = types.StringUnknown()
	plan.PublicKeyPEM = types.StringUnknown()
	plan.FingerprintSHA256 = types.StringUnknown()
	plan.PreviousCertificatePEM = types.StringUnknown()
	plan.LastOperation = types.StringUnknown()
	plan.ReadyForRenewal = types.BoolUnknown()
	plan.RenewalTime = types.StringUnknown()
	if newGeneratedKey {
		plan.PrivateKeyPEM = types.StringUnknown()
	}
}
