package provider

import (
	"context"
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
// none; none is the error's summary when it does and nothing protects it.
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
		if needs == "" || e.Reference.IsUnknown() || e.Secret.IsUnknown() || e.SecretWO.IsUnknown() {
			return nil, "", diags
		}
		s, from := e.Secret.ValueString(), at("secret")
		if s == "" {
			s, from = e.SecretWO.ValueString(), at("secret_wo")
		}
		ref := e.Reference.ValueString()
		if ref == "" {
			ref = defaults.Reference
			from += " with the provider's reference (or " + envReference + ")"
		}
		return cmpclient.MACCredentials{Reference: ref, Secret: []byte(s)}, fmt.Sprintf("%s (reference %q)", from, ref), diags
	case needs == "":
		// No credentials in the object and no message: nothing to require.
	case defaults != nil && defaults.Reference != "" && defaults.Secret != "":
		return cmpclient.MACCredentials{Reference: defaults.Reference, Secret: []byte(defaults.Secret)},
			fmt.Sprintf("the provider's secret (or %s, reference %q)", envSecret, defaults.Reference), diags
	default:
		diags.AddAttributeError(p, none, needs+" Set "+at("reference")+" with "+at("secret")+" or "+at("secret_wo")+
			", or "+at("certificate_pem")+" with "+at("private_key_pem")+", or the provider's reference and secret ("+
			envReference+", "+envSecret+").")
	}
	return nil, "", diags
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
		"secret_wo": schema.StringAttribute{
			Description: "Pre-shared secret, write-only: used for " + what + " and never stored " +
				"(Terraform >= 1.11).",
			Optional:  true,
			Sensitive: true,
			WriteOnly: true,
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
