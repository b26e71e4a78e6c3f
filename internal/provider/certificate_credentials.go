package provider

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// The values of enrollment.secret_encoding.
const (
	secretEncodingText = "text"
	secretEncodingHex  = "hex"
)

// irForCreate is why a create needs IR credentials, for irCredentials.
const irForCreate = "Creating a certificate sends an initialization request (IR), which must be protected."

const irCredentialsRemedy = "Set enrollment.reference with enrollment.secret or enrollment.secret_wo, or " +
	"enrollment.certificate_pem with enrollment.private_key_pem, or the provider's reference and secret " +
	"(" + envReference + ", " + envSecret + ")."

// irCredentials is the one rule for the credentials of an initialization
// request (IR). ValidateConfig, ModifyPlan and Create all ask it.
//
// enrollment is the configuration's enrollment object: secret_wo is
// write-only, so only the configuration holds it and plan and state always
// hold it null. defaults are the provider's (nil before Configure). sendsIR
// says why the planned change sends an IR (a create, a replacement), or is
// "" when it sends none: refresh, a CR, a KUR, a state-only update and
// destroy protect their messages with the certificate in state, so they
// never need these credentials.
//
// A value is set when it is not null and not "", or when it is unknown: a
// value known only during apply (an ephemeral variable, another resource's
// attribute) will be set then. Whatever the IR, the enrollment object must
// hold one kind of credential (RFC 4210 section 5.1.3: MAC protection with
// a shared secret, or signature protection), with no half of the other and
// nothing that could never be completed. Only when an IR is sent must the
// credentials be complete: reference with a secret, or a certificate with
// its key; a secret without a reference takes the provider's reference, and
// with no enrollment credentials the provider's reference and secret
// protect the IR.
//
// The result is the credentials when an IR is sent and every value is
// known (always the case during apply), with from naming where they came
// from for the errors of a refused IR; else nil, with diagnostics naming
// the attribute at fault when the configuration cannot work.
func irCredentials(ctx context.Context, enrollment types.Object, defaults *Defaults, sendsIR string) (creds cmpclient.Credentials, from string, diags diag.Diagnostics) {
	if enrollment.IsUnknown() {
		return nil, "", diags // decided when the object is known
	}
	var e enrollmentModel
	if !enrollment.IsNull() {
		diags.Append(enrollment.As(ctx, &e, basetypes.ObjectAsOptions{})...)
		if diags.HasError() {
			return nil, "", diags
		}
	}
	p := path.Root("enrollment")
	set := func(v types.String) bool { return v.IsUnknown() || v.ValueString() != "" }
	secret := set(e.Secret) || set(e.SecretWO)
	mac := set(e.Reference) || secret
	// A secret here without a reference here is the provider's reference's
	// (CMPV2_REFERENCE in CI); defaults is nil only before Configure, when
	// that cannot be known yet.
	providerReference := defaults != nil && defaults.Reference != ""
	sig := set(e.CertificatePEM) || set(e.PrivateKeyPEM)
	switch {
	case mac && sig:
		// Attached inside the object, not to enrollment itself: for a
		// top-level attribute Terraform prints its whole expression, which
		// here may hold a private key.
		diags.AddAttributeError(p.AtName("certificate_pem"), "Conflicting enrollment credentials",
			"enrollment: use either reference with secret or secret_wo (MAC protection), or certificate_pem with "+
				"private_key_pem (signature protection), not both.")
	case secret && !set(e.Reference) && !providerReference:
		if defaults != nil {
			diags.AddAttributeError(p.AtName("reference"), "Missing enrollment reference",
				"A pre-shared secret needs the reference (senderKID) the CA knows it by: set enrollment.reference, "+
					"or the provider's reference ("+envReference+").")
		}
	case set(e.CertificatePEM) && !set(e.PrivateKeyPEM):
		diags.AddAttributeError(p.AtName("private_key_pem"), "Missing enrollment key",
			"enrollment.certificate_pem needs its private key in enrollment.private_key_pem.")
	case set(e.PrivateKeyPEM) && !set(e.CertificatePEM):
		diags.AddAttributeError(p.AtName("certificate_pem"), "Missing enrollment certificate",
			"enrollment.private_key_pem needs the certificate it belongs to in enrollment.certificate_pem.")
	case sig:
		creds := signatureCredentials(e, sendsIR != "", &diags)
		if sendsIR == "" {
			return nil, "", diags
		}
		return creds, "enrollment.certificate_pem with enrollment.private_key_pem", diags
	case mac && !secret:
		// secret_wo is null in every plan after the create that used it:
		// only an IR needs it again.
		if sendsIR != "" {
			diags.AddAttributeError(p.AtName("secret_wo"), "Missing enrollment secret",
				sendsIR+" enrollment.reference needs enrollment.secret_wo or enrollment.secret.")
		}
	case mac:
		if e.Reference.IsUnknown() || e.Secret.IsUnknown() || e.SecretWO.IsUnknown() || e.SecretEncoding.IsUnknown() {
			return nil, "", diags
		}
		s, from := e.Secret.ValueString(), "enrollment.secret"
		if s == "" {
			s, from = e.SecretWO.ValueString(), "enrollment.secret_wo"
		}
		// A secret that does not decode is wrong whatever the plan.
		secret, ok := decodeSecret(s, e.SecretEncoding.ValueString(), p.AtName(strings.TrimPrefix(from, "enrollment.")), &diags)
		if sendsIR == "" || !ok {
			return nil, "", diags
		}
		ref := e.Reference.ValueString()
		if ref == "" {
			ref = defaults.Reference
			from += " with the provider's reference (or " + envReference + ")"
		}
		return macCredentials(ref, secret, e.MACAlgorithm, defaults), fmt.Sprintf("%s (reference %q)", from, ref), diags
	case sendsIR == "":
		// No enrollment credentials and no IR: nothing to require.
	case defaults != nil && defaults.Reference != "" && defaults.Secret != "":
		return macCredentials(defaults.Reference, []byte(defaults.Secret), e.MACAlgorithm, defaults),
			fmt.Sprintf("the provider's secret (or %s, reference %q)", envSecret, defaults.Reference), diags
	default:
		diags.AddAttributeError(p, "No credentials for the initialization request", sendsIR+" "+irCredentialsRemedy)
	}
	return nil, "", diags
}

// The values of enrollment.mac_algorithm (RFC 9481 section 6.1), and the
// cmpclient algorithm of each; unset is the first.
var macAlgorithms = map[string]cmpclient.MACAlgorithm{
	"pbm-hmac-sha256": cmpclient.PBMHMACSHA256,
	"pbm-hmac-sha1":   cmpclient.PBMHMACSHA1,
	"pbmac1":          cmpclient.PBMAC1,
}

// macCredentials are the MAC credentials of reference and secret under
// algorithm (enrollment.mac_algorithm; null: the provider's mac_algorithm,
// whose default is PasswordBasedMac with HMAC-SHA256).
func macCredentials(reference string, secret []byte, algorithm types.String, defaults *Defaults) cmpclient.MACCredentials {
	alg := macAlgorithms[algorithm.ValueString()]
	if algorithm.ValueString() == "" && defaults != nil {
		alg = defaults.MACAlgorithm
	}
	return cmpclient.MACCredentials{Reference: reference, Secret: secret, Algorithm: alg}
}

// decodeSecret decodes a pre-shared secret given in encoding
// (enrollment.secret_encoding: "text", the default, takes its UTF-8 bytes;
// "hex" decodes it, for CAs that issue binary keys). An error is attached
// to at and never quotes the secret.
func decodeSecret(s, encoding string, at path.Path, diags *diag.Diagnostics) ([]byte, bool) {
	if encoding != secretEncodingHex {
		return []byte(s), true
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) == 0 {
		diags.AddAttributeError(at, "Secret is not hex",
			"enrollment.secret_encoding is \"hex\", so the secret must be an even number of hex digits "+
				"(0-9, a-f), at least two.")
		return nil, false
	}
	return b, true
}

// signatureCredentials reads an external certificate and its key from e
// (both set) and checks that they belong together; nil while either is
// unknown. Unreadable PEM is reported only when building, for an IR: at
// validation the attributes' validators report it.
func signatureCredentials(e enrollmentModel, building bool, diags *diag.Diagnostics) cmpclient.Credentials {
	if e.CertificatePEM.IsUnknown() || e.PrivateKeyPEM.IsUnknown() {
		return nil
	}
	p := path.Root("enrollment")
	chain, err := parseCertificatesPEM(e.CertificatePEM.ValueString())
	if err != nil {
		if building {
			diags.AddAttributeError(p.AtName("certificate_pem"), "Invalid certificate PEM", err.Error())
		}
		return nil
	}
	key, err := parsePrivateKeyPEM(e.PrivateKeyPEM.ValueString())
	if err != nil {
		if building {
			diags.AddAttributeError(p.AtName("private_key_pem"), "Invalid private key PEM", err.Error())
		}
		return nil
	}
	// RFC 4210 section 5.1.3.3: the first certificate in extraCerts is the
	// one that verifies the protection, so it must be this key's.
	if !pemkey.BelongsTo(key, chain[0]) {
		diags.AddAttributeError(p.AtName("private_key_pem"), "Enrollment key does not match the certificate",
			"The first certificate in enrollment.certificate_pem must be the one enrollment.private_key_pem belongs to.")
		return nil
	}
	return cmpclient.SignatureCredentials{Key: key, Chain: chain}
}

// enrollmentAttrTypes is the enrollment object's type, derived from the
// schema.
var enrollmentAttrTypes = schema.SingleNestedAttribute{Attributes: enrollmentAttributes()}.GetType().(types.ObjectType).AttrTypes

// enrollmentAttributes are the attributes of cmpv2_certificate's
// enrollment: the IR credentials irCredentials reads.
func enrollmentAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"reference": schema.StringAttribute{
			Description: "Reference (senderKID) of the pre-shared secret.",
			Optional:    true,
		},
		"secret": schema.StringAttribute{
			Description: "Pre-shared secret; stored in state (sensitive). Prefer `secret_wo`.",
			Optional:    true,
			Sensitive:   true,
			Validators: []validator.String{
				stringvalidator.ConflictsWith(path.MatchRelative().AtParent().AtName("secret_wo")),
			},
		},
		"secret_wo": schema.StringAttribute{
			Description: "Pre-shared secret, write-only: used for the IR and never stored " +
				"(Terraform >= 1.11).",
			Optional:  true,
			Sensitive: true,
			WriteOnly: true,
		},
		"mac_algorithm": schema.StringAttribute{
			Description: "MAC that protects requests with the secret (RFC 9481 section 6.1): `pbm-hmac-sha256` " +
				"(default: PasswordBasedMac, OID 1.2.840.113533.7.66.13, with HMAC-SHA256), `pbm-hmac-sha1` (the " +
				"same with HMAC-SHA1, as OpenSSL 3.0 sends by default) or `pbmac1` (PBMAC1 with PBKDF2 and " +
				"HMAC-SHA256). It applies to the provider's secret too when this object sets none.",
			Optional:   true,
			Validators: []validator.String{stringvalidator.OneOf(sortedNames(macAlgorithms)...)},
		},
		"secret_encoding": schema.StringAttribute{
			Description: "How `secret` or `secret_wo` is written: `text` (default, its UTF-8 bytes) or `hex` " +
				"(decoded, for CAs that issue binary pre-shared keys).",
			Optional:   true,
			Validators: []validator.String{stringvalidator.OneOf(secretEncodingText, secretEncodingHex)},
		},
		"certificate_pem": schema.StringAttribute{
			Description: "Externally issued certificate (for example a manufacturer device certificate) " +
				"that signs the IR, followed by its chain.",
			Optional:   true,
			Validators: []validator.String{certificatesPEMValidator()},
		},
		"private_key_pem": schema.StringAttribute{
			Description: "Private key of `enrollment.certificate_pem`.",
			Optional:    true,
			Sensitive:   true,
			Validators:  []validator.String{privateKeyPEMValidator()},
		},
	}
}
