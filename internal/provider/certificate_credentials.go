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

// irCredentials is the one rule for the credentials of an initialization
// request (IR): messageCredentials of cmpv2_certificate's enrollment.
// ValidateConfig, ModifyPlan and Create all ask it. sendsIR says why the
// planned change sends an IR (a create, a replacement), or is "" when it
// sends none: refresh, a CR, a KUR, a state-only update and destroy
// protect their messages with the certificate in state, so they never
// need these credentials.
func irCredentials(ctx context.Context, enrollment types.Object, defaults *Defaults, sendsIR string) (creds cmpclient.Credentials, from string, diags diag.Diagnostics) {
	return messageCredentials(ctx, path.Root("enrollment"), enrollment, defaults, sendsIR,
		"No credentials for the initialization request")
}

// messageCredentials is the one rule for a credentials object in the shape
// of enrollmentAttributes (cmpv2_certificate's enrollment, cmpv2_server's
// credentials) at the root attribute p: what protects the messages it is
// for.
//
// obj is the configuration's object: secret_wo is write-only, so only the
// configuration holds it and plan and state always hold it null. defaults
// are the provider's (nil before Configure). needs says why the planned
// change sends a message these credentials protect, or is "" when it sends
// none; none is the error's summary when it does and nothing protects it,
// or "" when the caller may send the message unprotected (a support
// message, RFC 9810 5.1.3.4): then no credentials anywhere is no error.
//
// A value is set when it is not null and not "", or when it is unknown: a
// value known only during apply (an ephemeral variable, another resource's
// attribute) will be set then. Whatever the plan, the object must hold one
// kind of credential (RFC 4210 section 5.1.3: MAC protection with a shared
// secret, or signature protection), with no half of the other and nothing
// that could never be completed. Only when a message is sent must the
// credentials be complete: reference with a secret, or a certificate with
// its key; a secret without a reference takes the provider's reference, and
// with no credentials in the object the provider's reference and secret
// protect the message.
//
// The result is the credentials when a message is sent and every value is
// known (always the case during apply), with from naming where they came
// from for the errors of a refused message; else nil, with diagnostics
// naming the attribute at fault when the configuration cannot work.
func messageCredentials(ctx context.Context, p path.Path, obj types.Object, defaults *Defaults, needs, none string) (creds cmpclient.Credentials, from string, diags diag.Diagnostics) {
	if obj.IsUnknown() {
		return nil, "", diags // decided when the object is known
	}
	var e enrollmentModel
	if !obj.IsNull() {
		diags.Append(obj.As(ctx, &e, basetypes.ObjectAsOptions{})...)
		if diags.HasError() {
			return nil, "", diags
		}
	}
	name, at := p.String(), func(attr string) string { return p.AtName(attr).String() }
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
		// Attached inside the object, not to the object itself: for a
		// top-level attribute Terraform prints its whole expression, which
		// here may hold a private key.
		title := "Conflicting " + name + " credentials"
		if name == "credentials" {
			title = "Conflicting credentials"
		}
		diags.AddAttributeError(p.AtName("certificate_pem"), title,
			name+": use either reference with secret or secret_wo (MAC protection), or certificate_pem with "+
				"private_key_pem (signature protection), not both.")
	case secret && !set(e.Reference) && !providerReference:
		if defaults != nil {
			diags.AddAttributeError(p.AtName("reference"), "Missing "+name+" reference",
				"A pre-shared secret needs the reference (senderKID) the CA knows it by: set "+at("reference")+
					", or the provider's reference ("+envReference+").")
		}
	case set(e.CertificatePEM) && !set(e.PrivateKeyPEM):
		diags.AddAttributeError(p.AtName("private_key_pem"), "Missing "+name+" key",
			at("certificate_pem")+" needs its private key in "+at("private_key_pem")+".")
	case set(e.PrivateKeyPEM) && !set(e.CertificatePEM):
		diags.AddAttributeError(p.AtName("certificate_pem"), "Missing "+name+" certificate",
			at("private_key_pem")+" needs the certificate it belongs to in "+at("certificate_pem")+".")
	case sig:
		creds := signatureCredentials(p, e, needs != "", &diags)
		if needs == "" {
			return nil, "", diags
		}
		return creds, at("certificate_pem") + " with " + at("private_key_pem"), diags
	case mac && !secret:
		// secret_wo is null in every plan after the apply that used it:
		// only a message that needs it asks for it again.
		if needs != "" {
			diags.AddAttributeError(p.AtName("secret_wo"), "Missing "+name+" secret",
				needs+" "+at("reference")+" needs "+at("secret_wo")+" or "+at("secret")+".")
		}
	case mac:
		if e.Reference.IsUnknown() || e.Secret.IsUnknown() || e.SecretWO.IsUnknown() || e.SecretEncoding.IsUnknown() {
			return nil, "", diags
		}
		s, attr := e.Secret.ValueString(), "secret"
		if s == "" {
			s, attr = e.SecretWO.ValueString(), "secret_wo"
		}
		from := at(attr)
		// A secret that does not decode is wrong whatever the plan.
		secret, ok := decodeSecret(s, e.SecretEncoding.ValueString(), p, attr, &diags)
		if needs == "" || !ok {
			return nil, "", diags
		}
		ref := e.Reference.ValueString()
		if ref == "" {
			ref = defaults.Reference
			from += " with the provider's reference (or " + envReference + ")"
		}
		return macCredentials(ref, secret, e.MACAlgorithm, defaults), fmt.Sprintf("%s (reference %q)", from, ref), diags
	case needs == "":
		// No credentials in the object and no message: nothing to require.
	case defaults != nil && defaults.Reference != "" && defaults.Secret != "":
		return macCredentials(defaults.Reference, []byte(defaults.Secret), e.MACAlgorithm, defaults),
			fmt.Sprintf("the provider's secret (or %s, reference %q)", envSecret, defaults.Reference), diags
	case none == "":
		// Unprotected, as the caller allows.
	default:
		diags.AddAttributeError(p, none, needs+" Set "+at("reference")+" with "+at("secret")+" or "+at("secret_wo")+
			", or "+at("certificate_pem")+" with "+at("private_key_pem")+", or the provider's reference and secret ("+
			envReference+", "+envSecret+").")
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

// decodeSecret decodes a pre-shared secret, the attribute attr of the
// credentials object at p, given in encoding (secret_encoding: "text", the
// default, takes its UTF-8 bytes; "hex" decodes it, for CAs that issue
// binary keys). An error is attached to the attribute and never quotes the
// secret.
func decodeSecret(s, encoding string, p path.Path, attr string, diags *diag.Diagnostics) ([]byte, bool) {
	if encoding != secretEncodingHex {
		return []byte(s), true
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) == 0 {
		diags.AddAttributeError(p.AtName(attr), "Secret is not hex",
			p.AtName("secret_encoding").String()+" is \"hex\", so the secret must be an even number of hex digits "+
				"(0-9, a-f), at least two.")
		return nil, false
	}
	return b, true
}

// signatureCredentials reads an external certificate and its key from e,
// the object at p (both set), and checks that they belong together; nil
// while either is unknown. Unreadable PEM is reported only when building,
// for a message: at validation the attributes' validators report it.
func signatureCredentials(p path.Path, e enrollmentModel, building bool, diags *diag.Diagnostics) cmpclient.Credentials {
	if e.CertificatePEM.IsUnknown() || e.PrivateKeyPEM.IsUnknown() {
		return nil
	}
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
		name := p.String()
		diags.AddAttributeError(p.AtName("private_key_pem"), strings.ToUpper(name[:1])+name[1:]+" key does not match the certificate",
			"The first certificate in "+p.AtName("certificate_pem").String()+" must be the one "+
				p.AtName("private_key_pem").String()+" belongs to.")
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
	return credentialAttributes("enrollment", "the IR")
}

// credentialAttributes are the attributes of a credentials object that
// messageCredentials reads: the object named name, protecting what.
func credentialAttributes(name, what string) map[string]schema.Attribute {
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
		// Write-only and nested, secret_wo stays Sensitive: Terraform and
		// OpenTofu keep the mark of a sensitive value given to a nested
		// attribute in the state, and plan an update that shows no change
		// when a later run gives none (secret_wo is given for the messages
		// that need it only), unless the schema marks it in every run. A
		// top-level write-only attribute needs no mark.
		"secret_wo": schema.StringAttribute{
			Description: "Pre-shared secret, write-only: used for " + what + " and never stored " +
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
				"that signs " + what + ", followed by its chain.",
			Optional:   true,
			Validators: []validator.String{certificatesPEMValidator()},
		},
		"private_key_pem": schema.StringAttribute{
			Description: "Private key of `" + name + ".certificate_pem`.",
			Optional:    true,
			Sensitive:   true,
			Validators:  []validator.String{privateKeyPEMValidator()},
		},
	}
}
