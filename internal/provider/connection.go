package provider

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// A connection is everything needed to talk to one CMP endpoint. It is the
// shape of `cmpv2_server.endpoint` (computed; SPEC section 2 calls it
// `connection`, a name Terraform reserves) and of
// `cmpv2_certificate.server` (input), so a module can pass one server's
// connection to many certificates as is (SPEC section 2).

// connectionModel is the connection object.
type connectionModel struct {
	URL                  types.String `tfsdk:"url"`
	TrustedCAPEM         types.String `tfsdk:"trusted_ca_pem"`
	ServerCertificatePEM types.String `tfsdk:"server_certificate_pem"`
	Recipient            types.String `tfsdk:"recipient"`
	TLS                  types.Object `tfsdk:"tls"`
	BasicAuth            types.Object `tfsdk:"basic_auth"`
	ImplicitConfirm      types.Bool   `tfsdk:"implicit_confirm"`
	MessageTimeout       types.String `tfsdk:"message_timeout"`
}

var tlsAttrTypes = map[string]attr.Type{
	"ca_pem":                 types.StringType,
	"client_certificate_pem": types.StringType,
	"client_private_key_pem": types.StringType,
	"server_name":            types.StringType,
	"insecure_skip_verify":   types.BoolType,
}

var basicAuthAttrTypes = map[string]attr.Type{
	"username": types.StringType,
	"password": types.StringType,
}

var connectionAttrTypes = map[string]attr.Type{
	"url":                    types.StringType,
	"trusted_ca_pem":         types.StringType,
	"server_certificate_pem": types.StringType,
	"recipient":              types.StringType,
	"tls":                    types.ObjectType{AttrTypes: tlsAttrTypes},
	"basic_auth":             types.ObjectType{AttrTypes: basicAuthAttrTypes},
	"implicit_confirm":       types.BoolType,
	"message_timeout":        types.StringType,
}

// Descriptions shared by the server's inputs and the connection object.
const (
	descURL = "CMP endpoint: the full URL including the path, for example `https://ca.example/.well-known/cmp/p/tls` " +
		"or an MTG-style `https://clm.example/<policy>/cmp`. Plain `http://` is allowed because CMP messages are protected."
	descTrustedCAPEM = "PEM certificates trusted to sign CMP responses and to anchor the chains of issued " +
		"certificates. Alone, it accepts a response signed by any certificate under these anchors that may sign, " +
		"another end entity's included: for a production CA also pin `server_certificate_pem` or set `recipient` " +
		"to the CA's CMP signer name."
	descServerCertificatePEM = "PEM certificate the server signs its responses with, pinned: a response signed by " +
		"any other certificate is rejected."
	descRecipient = "Distinguished name the requests are addressed to (the CMP header's recipient), in the form " +
		"`CN=CA,O=Example`; default: the NULL-DN, which lets the server choose. When set, it is also the only " +
		"sender accepted in responses (as OpenSSL's `-expect_sender`), so set it to the name of the CA's CMP " +
		"signer (the subject of the certificate that protects its responses)."
	descImplicitConfirm = "Ask the server for implicit confirmation (no certConf/pkiConf round trip when granted)."
	descMessageTimeout  = "How long to wait for the answer to one CMP message, as a Go duration such as `30s`."
)

// connectionAttributes returns the connection's attributes: all Optional for
// an input, all Computed for the server's output.
func connectionAttributes(computed bool) map[string]schema.Attribute {
	optional := !computed
	str := func(desc string, sensitive bool, validators ...validator.String) schema.StringAttribute {
		a := schema.StringAttribute{Description: desc, Optional: optional, Computed: computed, Sensitive: sensitive}
		if optional {
			a.Validators = validators
		}
		return a
	}
	boolean := func(desc string) schema.BoolAttribute {
		return schema.BoolAttribute{Description: desc, Optional: optional, Computed: computed}
	}
	return map[string]schema.Attribute{
		"url":                    str(descURL, false, urlValidator()),
		"trusted_ca_pem":         str(descTrustedCAPEM, false, certificatesPEMValidator()),
		"server_certificate_pem": str(descServerCertificatePEM, false, certificatesPEMValidator()),
		"recipient":              str(descRecipient, false, distinguishedNameValidator()),
		"tls":                    connectionTLSAttribute(computed),
		"basic_auth": schema.SingleNestedAttribute{
			Description: "HTTP basic authentication, which some CAs (for example MTG CLM) require in front of CMP.",
			Optional:    optional,
			Computed:    computed,
			Attributes: map[string]schema.Attribute{
				"username": str("User name.", false,
					stringvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("password"))),
				"password": str("Password.", true,
					stringvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("username"))),
			},
		},
		"implicit_confirm": boolean(descImplicitConfirm),
		"message_timeout":  str(descMessageTimeout, false, durationValidator()),
	}
}

// Connection is a resolved connection: a `server` object (or a
// cmpv2_server's inputs) with the provider's defaults filled in where it
// leaves attributes unset, checked and parsed. It is what a CMP client needs.
type Connection struct {
	URL               string
	TrustedCAs        []*x509.Certificate
	ServerCertificate *x509.Certificate // pinned response signer; nil when not pinned
	Recipient         pkix.RDNSequence  // nil: the NULL-DN
	TLS               TLSSettings
	BasicAuth         *BasicAuth
	ImplicitConfirm   bool
	MessageTimeout    time.Duration
}

// resolveConnection merges the connection object found at p (null: none)
// over the provider defaults d (nil: none). Errors name the attribute under
// p they are about.
func resolveConnection(ctx context.Context, p path.Path, obj types.Object, d *Defaults) (*Connection, diag.Diagnostics) {
	var diags diag.Diagnostics
	if d == nil {
		d = &Defaults{MessageTimeout: defaultMessageTimeout}
	}
	c := &Connection{
		URL: d.URL, TrustedCAs: d.TrustedCAs, TLS: d.TLS, BasicAuth: d.BasicAuth,
		ImplicitConfirm: d.ImplicitConfirm, MessageTimeout: d.MessageTimeout,
	}
	if obj.IsUnknown() {
		diags.AddAttributeError(p, "Unknown server", "The server connection must be known before the CA is contacted.")
		return nil, diags
	}
	var m connectionModel
	if !obj.IsNull() {
		diags.Append(obj.As(ctx, &m, basetypes.ObjectAsOptions{})...)
		if diags.HasError() {
			return nil, diags
		}
	}
	if s := m.URL.ValueString(); s != "" {
		if err := checkURL(s); err != nil {
			diags.AddAttributeError(p.AtName("url"), "Invalid CMP server URL", err.Error())
		}
		c.URL = s
	}
	if c.URL == "" {
		diags.AddAttributeError(p.AtName("url"), "No CMP server",
			"Set "+p.AtName("url").String()+", the provider's url, or "+envURL+".")
	}
	if s := m.TrustedCAPEM.ValueString(); s != "" {
		certs, err := parseCertificatesPEM(s)
		if err != nil {
			diags.AddAttributeError(p.AtName("trusted_ca_pem"), "Invalid certificate PEM", err.Error())
		}
		c.TrustedCAs = certs
	}
	if s := m.ServerCertificatePEM.ValueString(); s != "" {
		certs, err := parseCertificatesPEM(s)
		switch {
		case err != nil:
			diags.AddAttributeError(p.AtName("server_certificate_pem"), "Invalid certificate PEM", err.Error())
		case len(certs) != 1:
			diags.AddAttributeError(p.AtName("server_certificate_pem"), "More than one pinned certificate",
				fmt.Sprintf("server_certificate_pem pins the one certificate that signs responses; it holds %d.", len(certs)))
		default:
			c.ServerCertificate = certs[0]
		}
	}
	if s := m.Recipient.ValueString(); s != "" {
		rdn, err := parseDistinguishedName(s)
		if err != nil {
			diags.AddAttributeError(p.AtName("recipient"), "Invalid distinguished name", err.Error())
		}
		c.Recipient = rdn
	}
	if !m.TLS.IsNull() {
		c.TLS = resolveTLS(ctx, p.AtName("tls"), m.TLS, &diags)
	}
	if !m.BasicAuth.IsNull() {
		var ba basicAuthModel
		diags.Append(m.BasicAuth.As(ctx, &ba, basetypes.ObjectAsOptions{})...)
		if ba.Username.ValueString() == "" || ba.Password.ValueString() == "" {
			diags.AddAttributeError(p.AtName("basic_auth"), "Incomplete basic_auth", "basic_auth needs username and password.")
		}
		c.BasicAuth = &BasicAuth{Username: ba.Username.ValueString(), Password: ba.Password.ValueString()}
	}
	if !m.ImplicitConfirm.IsNull() {
		c.ImplicitConfirm = m.ImplicitConfirm.ValueBool()
	}
	if s := m.MessageTimeout.ValueString(); s != "" {
		t, err := checkDuration(s)
		if err != nil {
			diags.AddAttributeError(p.AtName("message_timeout"), "Invalid duration", err.Error())
		}
		c.MessageTimeout = t
	}
	if diags.HasError() {
		return nil, diags
	}
	return c, diags
}

// object returns m as the connection object value.
func (m connectionModel) object(ctx context.Context) (types.Object, diag.Diagnostics) {
	return types.ObjectValueFrom(ctx, connectionAttrTypes, m)
}
