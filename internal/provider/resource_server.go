package provider

import (
	"context"
	"maps"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// serverResource is `cmpv2_server`: a CMP endpoint registered with
// Terraform. Create and Read ask the server for its CA certificates
// (genm id-it-caCerts, RFC 9483 section 4.3.1); Delete only forgets.
type serverResource struct {
	defaults *Defaults
}

var (
	_ resource.Resource               = (*serverResource)(nil)
	_ resource.ResourceWithConfigure  = (*serverResource)(nil)
	_ resource.ResourceWithModifyPlan = (*serverResource)(nil)

	_ resource.ResourceWithValidateConfig = (*serverResource)(nil)
)

// NewServerResource returns the `cmpv2_server` resource.
func NewServerResource() resource.Resource { return &serverResource{} }

// serverModel is the `cmpv2_server` state: the connection inputs at the top
// level, plus what the server told us.
type serverModel struct {
	ID                   types.String `tfsdk:"id"`
	URL                  types.String `tfsdk:"url"`
	TrustedCAPEM         types.String `tfsdk:"trusted_ca_pem"`
	ServerCertificatePEM types.String `tfsdk:"server_certificate_pem"`
	Recipient            types.String `tfsdk:"recipient"`
	TLS                  types.Object `tfsdk:"tls"`
	BasicAuth            types.Object `tfsdk:"basic_auth"`
	ImplicitConfirm      types.Bool   `tfsdk:"implicit_confirm"`
	MessageTimeout       types.String `tfsdk:"message_timeout"`
	CACertificatesPEM    types.String `tfsdk:"ca_certificates_pem"`
	Endpoint             types.Object `tfsdk:"endpoint"`
	Credentials          types.Object `tfsdk:"credentials"`
}

func (r *serverResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_server"
}

func (r *serverResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	attrs := connectionAttributes(false)
	url := attrs["url"].(schema.StringAttribute)
	url.Optional, url.Required = false, true
	attrs["url"] = url
	// basic_auth.password_wo: a write-only password for this resource's own
	// messages. Write-only values cannot be computed, so the connection
	// object (endpoint, cmpv2_certificate.server) has no such attribute and
	// carries the user name alone. It and tls.client_private_key_wo are
	// nested, so they stay Sensitive as credentials.secret_wo does.
	ba := attrs["basic_auth"].(schema.SingleNestedAttribute)
	ba.Attributes = maps.Clone(ba.Attributes)
	ba.Attributes["password_wo"] = schema.StringAttribute{
		Description: "Password, write-only (Terraform >= 1.11): used for this resource's general messages and " +
			"stored nowhere. `endpoint.basic_auth` then carries the user name without a password, and certificates " +
			"that use the endpoint take the provider's password for that user name (its `basic_auth` or `" +
			envUsername + "`/`" + envPassword + "`) at apply time.",
		Optional:  true,
		Sensitive: true,
		WriteOnly: true,
		Validators: []validator.String{
			stringvalidator.ConflictsWith(path.MatchRelative().AtParent().AtName("password")),
			stringvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("username")),
		},
	}
	attrs["basic_auth"] = ba
	tlsAttr := attrs["tls"].(schema.SingleNestedAttribute)
	tlsAttr.Attributes = maps.Clone(tlsAttr.Attributes)
	tlsAttr.Attributes["client_private_key_wo"] = schema.StringAttribute{
		Description: "PEM private key of `client_certificate_pem`, write-only (Terraform >= 1.11): used for this " +
			"resource's general messages and stored nowhere. `endpoint.tls` then carries the client certificate " +
			"without a key, and certificates that use the endpoint take the provider's `tls.client_private_key_pem` " +
			"when the provider's `tls.client_certificate_pem` is the same certificate, at apply time.",
		Optional:  true,
		Sensitive: true,
		WriteOnly: true,
		Validators: []validator.String{
			privateKeyPEMValidator(),
			stringvalidator.ConflictsWith(path.MatchRelative().AtParent().AtName("client_private_key_pem")),
			stringvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("client_certificate_pem")),
		},
	}
	attrs["tls"] = tlsAttr
	attrs["id"] = schema.StringAttribute{
		Description:   "The server's URL.",
		Computed:      true,
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}
	attrs["ca_certificates_pem"] = schema.StringAttribute{
		Description: "The CA certificates, PEM. Set in the configuration, it is what the resource reports, whatever " +
			"the server answers, for a CA that answers no genm (Vault Enterprise, MTG CLM): still checked against " +
			"`trusted_ca_pem` when that is set. Unset, it is what the server returned for id-it-caCerts (RFC 9483 " +
			"section 4.3.1) after the response's protection was verified, and empty when the server refuses general " +
			"messages (a warning says so).",
		Optional:   true,
		Computed:   true,
		Validators: []validator.String{certificatesPEMValidator()},
	}
	// Not `connection`: Terraform reserves that root name for provisioner
	// connection blocks and the framework refuses it.
	attrs["endpoint"] = schema.SingleNestedAttribute{
		Description: "Everything needed to reach this server (its connection settings), in the shape " +
			"`cmpv2_certificate.server` accepts: pass it as `server = cmpv2_server.example.endpoint`. " +
			"(Terraform reserves the name `connection`.)",
		Computed:   true,
		Attributes: connectionAttributes(true),
	}
	attrs["credentials"] = schema.SingleNestedAttribute{
		Description: "Credentials that protect this resource's general messages (genm), so that discovery needs " +
			"nothing at provider level: `reference` with `secret` or the write-only `secret_wo` (MAC protection), or " +
			"`certificate_pem` with `private_key_pem` (signature protection, for a CA that verifies no MAC, such as " +
			"Vault). Default: the provider's `reference` and `secret`. They are this resource's alone: `endpoint` " +
			"does not carry them to certificates. With `secret_wo`, which Terraform hands to create and update only, " +
			"a refresh keeps the last answer instead of asking again.",
		Optional:   true,
		Attributes: credentialAttributes("credentials", "the general messages"),
	}
	resp.Schema = schema.Schema{
		Description: "A CMP endpoint registered with Terraform. Create and every refresh (so every plan) send " +
			"the server three general messages (RFC 9483 section 4.3): genm id-it-caCerts for its CA certificates, " +
			"id-it-rootCaCert for a root CA update and id-it-certReqTemplate for its request template, and verify " +
			"the answers' protection; a server that offers no root CA update or template is warned about, not " +
			"failed, and a refresh that cannot reach the server keeps the last answer with a warning. A server that " +
			"refuses general messages altogether (Vault Enterprise, MTG CLM) is registered with a warning, and " +
			"`ca_certificates_pem` can then be set in the configuration. Destroy only forgets the server.",
		Attributes: attrs,
	}
}

func (r *serverResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	configureDefaults(&r.defaults, req, resp)
}

// ValidateConfig checks the credentials object with the one credentials
// rule (messageCredentials); whether they are complete is decided when a
// genm is sent.
func (r *serverResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var creds types.Object
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("credentials"), &creds)...)
	if resp.Diagnostics.HasError() {
		return
	}
	_, _, diags := messageCredentials(ctx, path.Root("credentials"), creds, nil, "", "")
	resp.Diagnostics.Append(diags...)
}

// ModifyPlan derives id and endpoint from the inputs, so certificates that
// take the endpoint as their server plan with known values.
func (r *serverResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan serverModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID = plan.URL
	// ca_certificates_pem taken out of the configuration: ask the server
	// again rather than keep reporting the value it no longer holds.
	var configured types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("ca_certificates_pem"), &configured)...)
	flag, d := req.Private.GetKey(ctx, privateCAFromConfig)
	resp.Diagnostics.Append(d...)
	if configured.IsNull() && string(flag) == string(caFromConfig(true)) {
		plan.CACertificatesPEM = types.StringUnknown()
	}
	endpoint, diags := plan.endpoint(ctx)
	resp.Diagnostics.Append(diags...)
	plan.Endpoint = endpoint
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// serverBasicAuthModel is cmpv2_server's basic_auth: the connection's
// and password_wo.
type serverBasicAuthModel struct {
	Username   types.String `tfsdk:"username"`
	Password   types.String `tfsdk:"password"`
	PasswordWO types.String `tfsdk:"password_wo"`
}

// serverTLSModel is cmpv2_server's tls: the connection's and
// client_private_key_wo.
type serverTLSModel struct {
	tlsModel
	ClientPrivateKeyWO types.String `tfsdk:"client_private_key_wo"`
}

// connection is the server's inputs as a connection object: the endpoint,
// which never holds a write-only value. wo, when it holds values, is the
// configuration's password_wo and client_private_key_wo, put in the place
// of password and client_private_key_pem for this resource's own messages
// (the object is then resolved, never stored).
func (m serverModel) connection(ctx context.Context, wo writeOnlyInputs) (connectionModel, diag.Diagnostics) {
	c := connectionModel{
		URL: m.URL, TrustedCAPEM: m.TrustedCAPEM, ServerCertificatePEM: m.ServerCertificatePEM,
		Recipient: m.Recipient, ImplicitConfirm: m.ImplicitConfirm, MessageTimeout: m.MessageTimeout,
		BasicAuth: types.ObjectNull(basicAuthAttrTypes), TLS: types.ObjectNull(tlsAttrTypes),
	}
	var diags diag.Diagnostics
	c.TLS = withoutWriteOnly(ctx, m.TLS, tlsAttrTypes, &diags, func(t *serverTLSModel) any {
		if wo.clientKey != "" {
			t.ClientPrivateKeyPEM = types.StringValue(wo.clientKey)
		}
		return t.tlsModel
	})
	c.BasicAuth = withoutWriteOnly(ctx, m.BasicAuth, basicAuthAttrTypes, &diags, func(ba *serverBasicAuthModel) any {
		if wo.password != "" {
			ba.Password = types.StringValue(wo.password)
		}
		return basicAuthModel{Username: ba.Username, Password: ba.Password}
	})
	return c, diags
}

// withoutWriteOnly converts obj, one of cmpv2_server's objects that hold
// a write-only attribute (read as W), to the connection's object of
// attrTypes, which has none: narrow returns the connection's model.
func withoutWriteOnly[W any](ctx context.Context, obj types.Object, attrTypes map[string]attr.Type,
	diags *diag.Diagnostics, narrow func(*W) any) types.Object {
	switch {
	case obj.IsUnknown():
		return types.ObjectUnknown(attrTypes)
	case obj.IsNull():
		return types.ObjectNull(attrTypes)
	}
	var w W
	d := obj.As(ctx, &w, basetypes.ObjectAsOptions{})
	if diags.Append(d...); d.HasError() {
		return types.ObjectNull(attrTypes)
	}
	v, d := types.ObjectValueFrom(ctx, attrTypes, narrow(&w))
	diags.Append(d...)
	return v
}

// endpoint is the server's endpoint object.
func (m serverModel) endpoint(ctx context.Context) (types.Object, diag.Diagnostics) {
	c, diags := m.connection(ctx, writeOnlyInputs{})
	if diags.HasError() {
		return types.ObjectNull(connectionAttrTypes), diags
	}
	obj, d := c.object(ctx)
	diags.Append(d...)
	return obj, diags
}

// Create asks the server for its CA certificates (server_discovery.go).
func (r *serverResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.discoverPlanned(ctx, req.Plan, req.Config, &resp.State, resp.Private, &resp.Diagnostics)
}

// discoverPlanned asks the server of plan for its CA certificates, with
// the credentials of config (the only place that holds secret_wo), and
// stores the answer in state.
func (r *serverResource) discoverPlanned(ctx context.Context, plan tfsdk.Plan, config tfsdk.Config, state *tfsdk.State, private privateSetter, diags *diag.Diagnostics) {
	var m serverModel
	diags.Append(plan.Get(ctx, &m)...)
	if diags.HasError() {
		return
	}
	var creds types.Object
	diags.Append(config.GetAttribute(ctx, path.Root("credentials"), &creds)...)
	if diags.HasError() {
		return
	}
	var configured, passwordWO, keyWO types.String
	diags.Append(config.GetAttribute(ctx, path.Root("ca_certificates_pem"), &configured)...)
	diags.Append(config.GetAttribute(ctx, path.Root("basic_auth").AtName("password_wo"), &passwordWO)...)
	diags.Append(config.GetAttribute(ctx, path.Root("tls").AtName("client_private_key_wo"), &keyWO)...)
	if diags.HasError() {
		return
	}
	wo := writeOnlyInputs{credentials: creds, password: passwordWO.ValueString(), clientKey: keyWO.ValueString()}
	diags.Append(r.discover(ctx, &m, wo, configured.ValueString() != "")...)
	if diags.HasError() {
		return
	}
	diags.Append(private.SetKey(ctx, privateCAFromConfig, caFromConfig(configured.ValueString() != ""))...)
	if diags.HasError() {
		return
	}
	diags.Append(state.Set(ctx, &m)...)
}

// Read asks again, so that a refresh shows the CA certificates the server
// publishes now. A server that cannot be reached during a refresh is a
// warning: the state keeps what the server said last, so a CA outage does
// not block plans of everything that uses it.
func (r *serverResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state serverModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if missing := r.missingWriteOnly(ctx, state); missing != "" {
		// Terraform hands write-only values to create and update only.
		tflog.Debug(ctx, "cmpv2_server: "+missing+" is not available to a refresh; the state keeps the last answer")
		return
	}
	flag, d := req.Private.GetKey(ctx, privateCAFromConfig)
	if resp.Diagnostics.Append(d...); resp.Diagnostics.HasError() {
		return
	}
	fresh := state
	diags := r.discover(ctx, &fresh, writeOnlyInputs{credentials: state.Credentials},
		string(flag) == string(caFromConfig(true)))
	if diags.HasError() {
		for _, d := range diags {
			resp.Diagnostics.AddWarning(d.Summary()+" (refresh; the state keeps the last answer)", d.Detail())
		}
		return
	}
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &fresh)...)
}

// Update asks the server again with the new settings.
func (r *serverResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.discoverPlanned(ctx, req.Plan, req.Config, &resp.State, resp.Private, &resp.Diagnostics)
}

// privateCAFromConfig is the private state key that records whether
// ca_certificates_pem came from the configuration, which Read does not
// see: a refresh then keeps it instead of replacing it with the server's
// answer.
const privateCAFromConfig = "ca_certificates_from_config"

// caFromConfig is the value of privateCAFromConfig.
func caFromConfig(configured bool) []byte {
	if configured {
		return []byte(`true`)
	}
	return []byte(`false`)
}

// Delete only forgets: the CA keeps no record of a client registering it.
func (r *serverResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}
