package provider

import (
	"context"
	"crypto/x509"
	"errors"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// caCertificatesDataSource is `data "cmpv2_ca_certificates"`: what a CA
// publishes through general messages (RFC 9483 section 4.3), read at plan
// time: its CA certificates (id-it-caCerts, section 4.3.1) and a root CA
// key update (id-it-rootCaKeyUpdate, section 4.3.2) when it announces one.
type caCertificatesDataSource struct {
	defaults *Defaults
}

var (
	_ datasource.DataSource              = (*caCertificatesDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*caCertificatesDataSource)(nil)
)

// NewCACertificatesDataSource returns the cmpv2_ca_certificates data source.
func NewCACertificatesDataSource() datasource.DataSource { return &caCertificatesDataSource{} }

// caCertificatesModel is the data source's configuration and result.
type caCertificatesModel struct {
	Server      types.Object `tfsdk:"server"`
	Credentials types.Object `tfsdk:"credentials"`

	CertificatesPEM types.List   `tfsdk:"certificates_pem"`
	BundlePEM       types.String `tfsdk:"bundle_pem"`
	RootPEM         types.String `tfsdk:"root_pem"`
	NewRootPEM      types.String `tfsdk:"new_root_pem"`
	NewWithOldPEM   types.String `tfsdk:"new_with_old_pem"`
	OldWithNewPEM   types.String `tfsdk:"old_with_new_pem"`
}

func (d *caCertificatesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_ca_certificates"
}

func (d *caCertificatesDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	creds := dataSourceAttributes(credentialAttributes("credentials", "the general messages"))
	// A data source keeps its arguments in state and has no write-only
	// attributes: the provider's secret is the one kept out of state.
	creds["secret"] = schema.StringAttribute{
		Description: "Pre-shared secret. A data source keeps its arguments in state (sensitive): prefer the " +
			"provider's `secret` or `" + envSecret + "`, which protect the general messages when this object is unset.",
		Optional: true, Sensitive: true,
	}
	computed := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Description: desc, Computed: true}
	}
	resp.Schema = schema.Schema{
		Description: "The CA certificates a CMP server publishes, read at plan time with a general message (genm): " +
			"id-it-caCerts (RFC 9483 section 4.3.1) and id-it-rootCaCert, answered with id-it-rootCaKeyUpdate " +
			"(section 4.3.2), which announces a new root CA certificate and its link certificates. The answer's " +
			"protection is verified as every CMP answer is: a MAC with the same secret, or a signature chaining to " +
			"`trusted_ca_pem` (or by the pinned `server_certificate_pem`). Without any credentials (neither `credentials` " +
			"nor the provider's `reference` and `secret`) the genm goes unprotected (RFC 9810 section 5.1.3.4), for CAs " +
			"that answer support messages to anyone; the answer must then be signed by a certificate chaining to " +
			"`trusted_ca_pem` (or by the pinned `server_certificate_pem`), or, when unprotected, list only CA " +
			"certificates that chain to `trusted_ca_pem`: an unauthenticated root is never trusted, so this needs " +
			"`trusted_ca_pem` or `server_certificate_pem`. With `trusted_ca_pem` set, the published certificates must " +
			"chain to it.",
		Attributes: map[string]schema.Attribute{
			"server": schema.SingleNestedAttribute{
				Description: "The CMP server, in the shape of `cmpv2_server.endpoint` (pass that object as is). " +
					"Unset attributes fall back to the provider's.",
				Optional:   true,
				Attributes: dataSourceAttributes(connectionAttributes(false)),
			},
			"credentials": schema.SingleNestedAttribute{
				Description: "Credentials that protect the general messages: `reference` with `secret` (MAC " +
					"protection), or `certificate_pem` with `private_key_pem` (signature protection). Unset, the " +
					"provider's `reference` and `secret` protect them; without those either, the general messages go " +
					"unprotected and the answer is verified against `trusted_ca_pem` (see above).",
				Optional:   true,
				Attributes: creds,
			},
			"certificates_pem": schema.ListAttribute{
				Description: "The CA certificates the server publishes (caCerts), one PEM certificate per element, in " +
					"the server's order.",
				Computed:    true,
				ElementType: types.StringType,
			},
			"bundle_pem": computed("`certificates_pem` as one PEM bundle, ready for a trust store."),
			"root_pem": computed("The root CA certificate the root CA key update was checked against: the first " +
				"self-signed certificate of `trusted_ca_pem`, else of `certificates_pem`; null when there is none."),
			"new_root_pem": computed("The new root CA certificate (newWithNew, self-signed) when the CA announces a " +
				"root CA key update, else null. Add it to trust stores before the old root is retired."),
			"new_with_old_pem": computed("The link certificate newWithOld of an announced root CA key update (the " +
				"new root's key certified by the old root, checked against `root_pem`), else null: it lets holders of " +
				"the old root trust the new one."),
			"old_with_new_pem": computed("The link certificate oldWithNew of an announced root CA key update (the " +
				"old root's key certified by the new root), else null: it lets holders of the new root trust what the " +
				"old one issued."),
		},
	}
}

func (d *caCertificatesDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	if def := providerDefaults(req.ProviderData, &resp.Diagnostics); def != nil {
		d.defaults = def
	}
}

// genmForCACerts is why the data source uses credentials.
const genmForCACerts = "Asking the CA for its certificates sends a general message (genm)."

// Read asks the CA (data sources are read at plan time, or during apply
// when their configuration is known only then).
func (d *caCertificatesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m caCertificatesModel
	if resp.Diagnostics.Append(req.Config.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	conn, diags := resolveConnection(ctx, path.Root("server"), m.Server, d.defaults)
	resp.Diagnostics.Append(diags...)
	credsObj, diags := asEnrollmentObject(m.Credentials)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	// No credentials at all: the genm goes unprotected (RFC 9810 5.1.3.4).
	creds, _, diags := messageCredentials(ctx, path.Root("credentials"), credsObj, d.defaults, genmForCACerts, "")
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	const who = "data.cmpv2_ca_certificates"
	unprotected := creds == nil
	if unprotected && len(conn.TrustedCAs) == 0 && conn.ServerCertificate == nil {
		resp.Diagnostics.AddAttributeError(path.Root("server").AtName("trusted_ca_pem"), who+": nothing to verify the answer with",
			"Without credentials the general message goes unprotected, and the CA's answer can be verified only "+
				"against a trust anchor: set trusted_ca_pem to the CA's root certificate (obtained out of band; an "+
				"unauthenticated root is never trusted), or server_certificate_pem to pin the CA's CMP signer, or "+
				"give credentials (credentials, or the provider's reference and secret).")
		return
	}
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	client := newCMPClient(ctx, conn, creds)
	client.UnprotectedSupportMessages = unprotected

	certs, err := client.CACerts(ctx)
	switch {
	case genmRefused(err):
		resp.Diagnostics.AddAttributeError(path.Root("server").AtName("url"), who+": the server answers no general message (genm)",
			"The server refused genm id-it-caCerts (RFC 9483 section 4.3.1); some CAs (Vault Enterprise, MTG CLM) "+
				"offer no genm. Obtain the CA certificates out of band.\n\n"+cmpErrorDetail(err))
		return
	case unprotected && errors.Is(err, cmpclient.ErrUnprotected):
		resp.Diagnostics.AddAttributeError(path.Root("server").AtName("trusted_ca_pem"), who+": the unprotected answer does not verify",
			"The CA answered the unprotected general message without protection, and its CA certificates do not all "+
				"chain to trusted_ca_pem, so nothing proves they are this CA's. Set trusted_ca_pem to the CA's root, "+
				"or give credentials.\n\n"+cmpErrorDetail(err))
		return
	case errors.Is(err, cmpclient.ErrNotSupported):
		resp.Diagnostics.AddAttributeError(path.Root("server").AtName("url"), who+": the server does not publish its CA certificates",
			"The server's answer holds no id-it-caCerts (RFC 9483 section 4.3.1).\n\n"+err.Error())
		return
	case err != nil:
		resp.Diagnostics.AddAttributeError(path.Root("server").AtName("url"), who+": asking for the CA certificates (genm caCerts) failed",
			cmpErrorDetail(err))
		return
	}
	checkPublished(conn, certs, "the server published (genm caCerts, RFC 9483 section 4.3.1)",
		path.Root("server").AtName("trusted_ca_pem"), who, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}

	// The old root the update must be certified by: a trusted one, else
	// the one the CA published under the protection just verified.
	root, rootFrom := firstSelfSigned(conn), "trusted_ca_pem"
	if root == nil {
		root, rootFrom = firstSelfSigned(&Connection{TrustedCAs: certs}), "the CA certificates the server published"
	}
	upd := askRootCAUpdate(ctx, client, root, rootFrom, true, path.Root("server"), who, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}

	pems := make([]attr.Value, len(certs))
	for i, c := range certs {
		pems[i] = types.StringValue(certificatePEM(c))
	}
	m.CertificatesPEM = types.ListValueMust(types.StringType, pems)
	m.BundlePEM = types.StringValue(certificatesPEM(certs))
	m.RootPEM = optionalPEM(root)
	m.NewRootPEM, m.NewWithOldPEM, m.OldWithNewPEM = types.StringNull(), types.StringNull(), types.StringNull()
	if upd != nil {
		m.NewRootPEM, m.NewWithOldPEM, m.OldWithNewPEM = optionalPEM(upd.NewWithNew), optionalPEM(upd.NewWithOld),
			optionalPEM(upd.OldWithNew)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// optionalPEM is c as PEM, null when c is nil.
func optionalPEM(c *x509.Certificate) types.String {
	if c == nil {
		return types.StringNull()
	}
	return types.StringValue(certificatePEM(c))
}

// asEnrollmentObject returns a credentials object of a data source or an
// ephemeral resource, whose schemas have no write-only attributes, in the
// shape of enrollmentAttributes that messageCredentials reads: secret_wo
// null.
func asEnrollmentObject(obj types.Object) (types.Object, diag.Diagnostics) {
	switch {
	case obj.IsNull():
		return types.ObjectNull(enrollmentAttrTypes), nil
	case obj.IsUnknown():
		return types.ObjectUnknown(enrollmentAttrTypes), nil
	}
	attrs := make(map[string]attr.Value, len(enrollmentAttrTypes))
	for name, v := range obj.Attributes() {
		attrs[name] = v
	}
	attrs["secret_wo"] = types.StringNull()
	return types.ObjectValue(enrollmentAttrTypes, attrs)
}
