package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	providerschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	resourceschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// The `tls` object appears in the provider block and in every connection
// (cmpv2_server, cmpv2_certificate.server). The framework has a schema
// type per place, so the two attributes are built here from one list of
// fields: same names, descriptions, sensitivity and validators.

const descTLS = "TLS settings for `https://` endpoints."

// tlsField is one attribute of the `tls` object.
type tlsField struct {
	desc       string
	boolean    bool
	sensitive  bool
	validators func() []validator.String
	// option is the cmpclient.TLSOptions field the attribute sets, which
	// a cmpclient.TLSOptionError names.
	option string
}

var tlsFields = map[string]tlsField{
	"ca_pem": {
		desc:       "PEM certificates trusted for the server's TLS certificate instead of the system roots.",
		option:     "CAPEM",
		validators: func() []validator.String { return []validator.String{certificatesPEMValidator()} },
	},
	"client_certificate_pem": {
		desc: "PEM client certificate (and its chain) for mutual TLS.",
		// Without client_private_key_pem, a connection takes the provider's
		// key for the same certificate (resolveSettings); the resolver
		// reports a certificate left without a key.
		option:     "ClientCertificatePEM",
		validators: func() []validator.String { return []validator.String{certificatesPEMValidator()} },
	},
	"client_private_key_pem": {
		desc: "PEM private key of `client_certificate_pem`. In `cmpv2_server` and `cmpv2_certificate.server` it is " +
			"stored in state: leave it unset there to take, at apply time, the provider's `tls.client_private_key_pem` " +
			"when the provider's `tls.client_certificate_pem` is the same certificate (`cmpv2_server` takes " +
			"`client_private_key_wo` for its own messages).",
		sensitive: true,
		option:    "ClientKeyPEM",
		validators: func() []validator.String {
			return []validator.String{privateKeyPEMValidator(),
				stringvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("client_certificate_pem"))}
		},
	},
	"server_name": {desc: "Name to verify the server's TLS certificate against, when it differs from the URL's host."},
	"insecure_skip_verify": {
		desc: "Do not verify the server's TLS certificate. For tests only: CMP protection still authenticates the " +
			"messages, but the HTTP layer (including basic auth) is then exposed.",
		boolean: true,
	},
}

// tlsAttributeOf returns the `tls` attribute that sets the
// cmpclient.TLSOptions field option.
func tlsAttributeOf(option string) string {
	for name, f := range tlsFields {
		if f.option == option {
			return name
		}
	}
	return option
}

// providerTLSAttribute is the provider block's `tls`.
func providerTLSAttribute() providerschema.Attribute {
	attrs := make(map[string]providerschema.Attribute, len(tlsFields))
	for name, f := range tlsFields {
		if f.boolean {
			attrs[name] = providerschema.BoolAttribute{Description: f.desc, Optional: true}
			continue
		}
		a := providerschema.StringAttribute{Description: f.desc, Optional: true, Sensitive: f.sensitive}
		if f.validators != nil {
			a.Validators = f.validators()
		}
		attrs[name] = a
	}
	return providerschema.SingleNestedAttribute{Description: descTLS, Optional: true, Attributes: attrs}
}

// connectionTLSAttribute is a connection's `tls`: Optional with validators
// as an input, Computed as cmpv2_server's output.
func connectionTLSAttribute(computed bool) resourceschema.Attribute {
	attrs := make(map[string]resourceschema.Attribute, len(tlsFields))
	for name, f := range tlsFields {
		if f.boolean {
			attrs[name] = resourceschema.BoolAttribute{Description: f.desc, Optional: !computed, Computed: computed}
			continue
		}
		a := resourceschema.StringAttribute{Description: f.desc, Optional: !computed, Computed: computed,
			Sensitive: f.sensitive}
		if f.validators != nil && !computed {
			a.Validators = f.validators()
		}
		attrs[name] = a
	}
	return resourceschema.SingleNestedAttribute{Description: descTLS + " Replaces the provider's `tls` as a whole.",
		Optional: !computed, Computed: computed, Attributes: attrs}
}
