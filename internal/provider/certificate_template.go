package provider

import (
	"context"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"slices"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// templateForCreate is why the plan of a create sends a genm.
const templateForCreate = "use_request_template asks the CA for its request template with a general message (genm)."

// planRequestTemplate applies use_request_template to the plan: the CA's
// certificate request template (RFC 9483 section 4.3.3) fills what the
// configuration leaves null. At the plan of a create it is asked once (genm
// id-it-certReqTemplate) and fills key_algorithm with ecdsa_curve or
// rsa_bits of a generated key (the first key type it names that agrees
// with what is configured) and subject (its attributes that have values);
// a configured value always wins, and a template value that disagrees with
// one is passed over, since the template is the CA's advice and the request
// is still the CA's to refuse. Later plans keep what state holds where the
// configuration is still null (the attributes' defaults would replace it
// otherwise) and ask nothing. Without the opt-in nothing is asked, and an
// unset subject, computed only for the template, stays null.
func (r *certificateResource) planRequestTemplate(ctx context.Context, stateRaw tftypes.Value, config certificateModel,
	plan *certificateModel, diags *diag.Diagnostics) {
	if !plan.UseRequestTemplate.ValueBool() {
		if config.Subject.IsNull() {
			plan.Subject = types.ObjectNull(subjectAttrTypes)
		}
		return
	}
	if !stateRaw.IsNull() { // the zero Value at a create
		var state certificateModel
		if diags.Append(readCertificate(ctx, stateRaw, &state)...); diags.HasError() {
			return
		}
		keepTemplateValues(config, state, plan)
		return
	}
	if config.Subject.IsNull() {
		plan.Subject = types.ObjectNull(subjectAttrTypes)
	}
	tmpl := r.fetchRequestTemplate(ctx, *plan, config, diags)
	if tmpl == nil {
		return
	}
	if custodyOf(config) == custodyGenerated {
		if spec, ok := templateKey(tmpl, config); ok {
			fillString(&plan.KeyAlgorithm, config.KeyAlgorithm, spec.Algorithm)
			switch spec.Algorithm {
			case keyAlgorithmECDSA:
				fillString(&plan.ECDSACurve, config.ECDSACurve, spec.Curve)
			case keyAlgorithmRSA:
				if config.RSABits.IsNull() && spec.RSABits != 0 {
					plan.RSABits = types.Int64Value(int64(spec.RSABits))
				}
			}
		}
	}
	if config.Subject.IsNull() && custodyOf(config) != custodyCSR && tmpl.Subject != nil {
		if s := subjectObject(ctx, *tmpl.Subject, diags); !allNull(s) {
			plan.Subject = s
		}
	}
}

// keepTemplateValues: where the configuration is null, the plan keeps the
// value state holds, which may be the template's.
func keepTemplateValues(config, state certificateModel, plan *certificateModel) {
	if config.Subject.IsNull() {
		plan.Subject = state.Subject
	}
	if config.KeyAlgorithm.IsNull() {
		plan.KeyAlgorithm = state.KeyAlgorithm
	}
	if config.ECDSACurve.IsNull() {
		plan.ECDSACurve = state.ECDSACurve
	}
	if config.RSABits.IsNull() {
		plan.RSABits = state.RSABits
	}
}

// fetchRequestTemplate asks the CA for its template with the credentials
// and connection of the IR; nil when there is none (a warning) or it
// cannot be asked (an error on use_request_template).
func (r *certificateResource) fetchRequestTemplate(ctx context.Context, plan, config certificateModel, diags *diag.Diagnostics) *cmpclient.CertReqTemplate {
	at := path.Root("use_request_template")
	conn, d := resolveConnection(ctx, path.Root("server"), plan.Server, r.defaults)
	diags.Append(d...)
	creds, _, d := irCredentials(ctx, config.Enrollment, r.defaults, templateForCreate)
	if diags.Append(d...); diags.HasError() {
		return nil
	}
	if conn == nil || creds == nil {
		diags.AddAttributeError(at, "Request template not available at plan",
			"use_request_template asks the CA at the plan that creates the certificate, so that the plan shows the "+
				"values taken; the server or the credentials are known only during apply. Configure them with "+
				"values known at plan, or set the key and subject attributes and remove use_request_template.")
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	tmpl, err := newCMPClient(ctx, conn, creds).CertReqTemplate(ctx)
	switch {
	case errors.Is(err, cmpclient.ErrNotSupported) || err == nil && tmpl == nil || genmRefused(err):
		diags.AddAttributeWarning(at, "cmpv2_certificate: the CA has no request template",
			"The CA answers no certificate request template (genm id-it-certReqTemplate, RFC 9483 section 4.3.3): "+
				"the configuration and the attributes' defaults apply.")
		return nil
	case err != nil:
		diags.AddAttributeError(at, "cmpv2_certificate: asking for the request template failed", cmpErrorDetail(err))
		return nil
	}
	return tmpl
}

// fillString sets *planned to v when the configuration leaves it null.
func fillString(planned *types.String, configured types.String, v string) {
	if configured.IsNull() && v != "" {
		*planned = types.StringValue(v)
	}
}

// allNull reports whether every attribute of the object o is null.
func allNull(o types.Object) bool {
	for _, v := range o.Attributes() {
		if !v.IsNull() {
			return false
		}
	}
	return true
}

// Key algorithms and curves of a template's keySpec (RFC 9810 5.3.19.16,
// RFC 9481 sections 2.3 and 3), as this provider names them.
var (
	oidECPublicKey   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidEd25519       = asn1.ObjectIdentifier{1, 3, 101, 112}
	templateCurves   = map[string]asn1.ObjectIdentifier{
		"P256": {1, 2, 840, 10045, 3, 1, 7}, "P384": {1, 3, 132, 0, 34}, "P521": {1, 3, 132, 0, 35},
	}
)

// templateKey is the first key type of tmpl this provider can generate that
// agrees with the key attributes config sets: the id-regCtrl-algId
// controls in the CA's order, then the id-regCtrl-rsaKeyLen ones, then the
// template's publicKey algorithm. An RSA algorithm without a length takes
// the first RSA length the template names that this provider generates.
func templateKey(tmpl *cmpclient.CertReqTemplate, config certificateModel) (keySpec, bool) {
	var bits int
	for _, b := range tmpl.RSAKeyLengths {
		if slices.Contains(rsaKeySizes, int64(b)) {
			bits = b
			break
		}
	}
	var candidates []keySpec
	add := func(alg pkix.AlgorithmIdentifier) {
		switch {
		case alg.Algorithm.Equal(oidECPublicKey):
			var curve asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &curve); err != nil {
				candidates = append(candidates, keySpec{Algorithm: keyAlgorithmECDSA})
				return
			}
			for name, oid := range templateCurves {
				if oid.Equal(curve) {
					candidates = append(candidates, keySpec{Algorithm: keyAlgorithmECDSA, Curve: name})
				}
			}
		case alg.Algorithm.Equal(oidRSAEncryption):
			candidates = append(candidates, keySpec{Algorithm: keyAlgorithmRSA, RSABits: bits})
		case alg.Algorithm.Equal(oidEd25519):
			candidates = append(candidates, keySpec{Algorithm: keyAlgorithmEd25519})
		}
	}
	for _, alg := range tmpl.KeyAlgorithms {
		add(alg)
	}
	for _, b := range tmpl.RSAKeyLengths {
		candidates = append(candidates, keySpec{Algorithm: keyAlgorithmRSA, RSABits: b})
	}
	if tmpl.PublicKeyAlgorithm != nil {
		add(pkix.AlgorithmIdentifier{Algorithm: tmpl.PublicKeyAlgorithm})
	}
	for _, c := range candidates {
		if templateKeyAgrees(c, config) {
			return c, true
		}
	}
	return keySpec{}, false
}

// templateKeyAgrees reports whether the key type c agrees with the key
// attributes config sets, and is one this provider generates. A configured
// ecdsa_curve or rsa_bits names its algorithm.
func templateKeyAgrees(c keySpec, config certificateModel) bool {
	set := func(v types.String, want string) bool { return v.IsNull() || v.IsUnknown() || v.ValueString() == want }
	switch {
	case !set(config.KeyAlgorithm, c.Algorithm):
		return false
	case config.KeyAlgorithm.IsNull() && !config.ECDSACurve.IsNull() && c.Algorithm != keyAlgorithmECDSA,
		config.KeyAlgorithm.IsNull() && !config.RSABits.IsNull() && c.Algorithm != keyAlgorithmRSA:
		return false
	case c.Algorithm == keyAlgorithmECDSA:
		return c.Curve == "" && !config.ECDSACurve.IsNull() || c.Curve != "" && set(config.ECDSACurve, c.Curve)
	case c.Algorithm == keyAlgorithmRSA:
		if c.RSABits != 0 && !slices.Contains(rsaKeySizes, int64(c.RSABits)) {
			return false
		}
		return config.RSABits.IsNull() || config.RSABits.IsUnknown() || c.RSABits == 0 || config.RSABits.ValueInt64() == int64(c.RSABits)
	}
	return true
}
