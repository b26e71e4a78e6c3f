package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strconv"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// Environment variables the provider attributes fall back to (SPEC section 2).
const (
	envURL             = "CMPV2_URL"
	envReference       = "CMPV2_REFERENCE"
	envSecret          = "CMPV2_SECRET"
	envTrustedCAPEM    = "CMPV2_TRUSTED_CA_PEM"
	envUsername        = "CMPV2_USERNAME"
	envPassword        = "CMPV2_PASSWORD"
	envMessageTimeout  = "CMPV2_MESSAGE_TIMEOUT"
	envImplicitConfirm = "CMPV2_IMPLICIT_CONFIRM"
)

// defaultMessageTimeout matches the default of `openssl cmp -msg_timeout`.
const defaultMessageTimeout = 120 * time.Second

// providerModel is the provider block as Terraform sends it.
type providerModel struct {
	URL             types.String `tfsdk:"url"`
	Reference       types.String `tfsdk:"reference"`
	Secret          types.String `tfsdk:"secret"`
	TrustedCAPEM    types.String `tfsdk:"trusted_ca_pem"`
	TLS             types.Object `tfsdk:"tls"`
	BasicAuth       types.Object `tfsdk:"basic_auth"`
	MessageTimeout  types.String `tfsdk:"message_timeout"`
	ImplicitConfirm types.Bool   `tfsdk:"implicit_confirm"`
}

// tlsModel is the `tls` object, in the provider block and in a server connection.
type tlsModel struct {
	CAPEM                types.String `tfsdk:"ca_pem"`
	ClientCertificatePEM types.String `tfsdk:"client_certificate_pem"`
	ClientPrivateKeyPEM  types.String `tfsdk:"client_private_key_pem"`
	ServerName           types.String `tfsdk:"server_name"`
	InsecureSkipVerify   types.Bool   `tfsdk:"insecure_skip_verify"`
}

// basicAuthModel is the `basic_auth` object.
type basicAuthModel struct {
	Username types.String `tfsdk:"username"`
	Password types.String `tfsdk:"password"`
}

// Defaults is the resolved provider configuration: every value after its
// environment fallback, checked and parsed. The provider hands it to
// resources and data sources as ResourceData / DataSourceData.
type Defaults struct {
	// URL of the CMP endpoint; empty when neither the provider block nor
	// the environment names one (resources then need their own server.url).
	URL string
	// Reference and Secret are the MAC credential for IR; both or neither.
	Reference string
	Secret    string
	// TrustedCAs anchor protection signatures and issued chains; nil when none.
	TrustedCAs      []*x509.Certificate
	TLS             TLSSettings
	BasicAuth       *BasicAuth
	MessageTimeout  time.Duration
	ImplicitConfirm bool
}

// TLSSettings is the `tls` object with its PEM values parsed.
type TLSSettings struct {
	RootCAs            []*x509.Certificate
	ClientCertificate  *tls.Certificate
	ServerName         string
	InsecureSkipVerify bool
}

// BasicAuth is the HTTP basic authentication credential.
type BasicAuth struct {
	Username string
	Password string
}

// Config returns the tls.Config for an https endpoint. With no roots given
// the system roots verify the server, as for any https client.
func (s TLSSettings) Config() *tls.Config {
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         s.ServerName,
		InsecureSkipVerify: s.InsecureSkipVerify, //nolint:gosec // opt-in, documented as for tests only
	}
	if len(s.RootCAs) > 0 {
		pool := x509.NewCertPool()
		for _, c := range s.RootCAs {
			pool.AddCert(c)
		}
		cfg.RootCAs = pool
	}
	if s.ClientCertificate != nil {
		cfg.Certificates = []tls.Certificate{*s.ClientCertificate}
	}
	return cfg
}

// resolveDefaults applies the environment fallbacks to the provider block and
// checks the result. Every error names the attribute it is about; a value
// that came from the environment also names the variable.
func resolveDefaults(ctx context.Context, cfg providerModel, getenv func(string) string) (*Defaults, diag.Diagnostics) {
	var diags diag.Diagnostics
	d := &Defaults{MessageTimeout: defaultMessageTimeout}

	// value returns the configured string or, when it is null, the
	// environment variable, and where it came from for error messages.
	value := func(p path.Path, v types.String, env string) (string, string, bool) {
		if v.IsUnknown() {
			diags.AddAttributeError(p, "Unknown provider configuration value",
				fmt.Sprintf("The provider cannot be configured with a value that is known only after apply. "+
					"Set it to a known value, or leave it unset and use the %s environment variable.", env))
			return "", "", false
		}
		if !v.IsNull() {
			return v.ValueString(), "", true
		}
		s := getenv(env)
		if s == "" {
			return "", "", false
		}
		return s, fmt.Sprintf(" (from the %s environment variable)", env), true
	}

	if s, from, ok := value(path.Root("url"), cfg.URL, envURL); ok {
		if err := checkURL(s); err != nil {
			diags.AddAttributeError(path.Root("url"), "Invalid CMP server URL", err.Error()+from)
		}
		d.URL = s
	}
	d.Reference, _, _ = value(path.Root("reference"), cfg.Reference, envReference)
	d.Secret, _, _ = value(path.Root("secret"), cfg.Secret, envSecret)
	switch {
	case d.Reference != "" && d.Secret == "":
		diags.AddAttributeError(path.Root("secret"), "Missing secret",
			"reference is set but secret is not: MAC protection needs both (or set "+envSecret+").")
	case d.Secret != "" && d.Reference == "":
		diags.AddAttributeError(path.Root("reference"), "Missing reference",
			"secret is set but reference is not: MAC protection needs both (or set "+envReference+").")
	}
	if s, from, ok := value(path.Root("trusted_ca_pem"), cfg.TrustedCAPEM, envTrustedCAPEM); ok {
		certs, err := parseCertificatesPEM(s)
		if err != nil {
			diags.AddAttributeError(path.Root("trusted_ca_pem"), "Invalid certificate PEM", err.Error()+from)
		}
		d.TrustedCAs = certs
	}
	if s, from, ok := value(path.Root("message_timeout"), cfg.MessageTimeout, envMessageTimeout); ok {
		t, err := checkDuration(s)
		if err != nil {
			diags.AddAttributeError(path.Root("message_timeout"), "Invalid duration", err.Error()+from)
		} else {
			d.MessageTimeout = t
		}
	}
	switch {
	case cfg.ImplicitConfirm.IsUnknown():
		diags.AddAttributeError(path.Root("implicit_confirm"), "Unknown provider configuration value",
			"The provider cannot be configured with a value that is known only after apply.")
	case !cfg.ImplicitConfirm.IsNull():
		d.ImplicitConfirm = cfg.ImplicitConfirm.ValueBool()
	case getenv(envImplicitConfirm) != "":
		b, err := strconv.ParseBool(getenv(envImplicitConfirm))
		if err != nil {
			diags.AddAttributeError(path.Root("implicit_confirm"), "Invalid boolean",
				fmt.Sprintf("%s must be true or false: %v", envImplicitConfirm, err))
		}
		d.ImplicitConfirm = b
	}

	d.TLS = resolveTLS(ctx, path.Root("tls"), cfg.TLS, &diags)
	d.BasicAuth = resolveBasicAuth(ctx, cfg.BasicAuth, value, &diags)
	if diags.HasError() {
		return nil, diags
	}
	return d, diags
}

// resolveTLS checks and parses a `tls` object found at p.
func resolveTLS(ctx context.Context, p path.Path, obj types.Object, diags *diag.Diagnostics) TLSSettings {
	var s TLSSettings
	if obj.IsNull() {
		return s
	}
	if obj.IsUnknown() {
		diags.AddAttributeError(p, "Unknown TLS settings", "The TLS settings must be known before apply.")
		return s
	}
	var m tlsModel
	diags.Append(obj.As(ctx, &m, basetypes.ObjectAsOptions{})...)
	for name, v := range map[string]attr.Value{
		"ca_pem": m.CAPEM, "client_certificate_pem": m.ClientCertificatePEM,
		"client_private_key_pem": m.ClientPrivateKeyPEM, "server_name": m.ServerName,
		"insecure_skip_verify": m.InsecureSkipVerify,
	} {
		if v.IsUnknown() {
			diags.AddAttributeError(p.AtName(name), "Unknown TLS setting", "The TLS settings must be known before apply.")
		}
	}
	if diags.HasError() {
		return s
	}
	if pemText := m.CAPEM.ValueString(); pemText != "" {
		certs, err := parseCertificatesPEM(pemText)
		if err != nil {
			diags.AddAttributeError(p.AtName("ca_pem"), "Invalid certificate PEM", err.Error())
		}
		s.RootCAs = certs
	}
	certPEM, keyPEM := m.ClientCertificatePEM.ValueString(), m.ClientPrivateKeyPEM.ValueString()
	switch {
	case certPEM != "" && keyPEM == "":
		diags.AddAttributeError(p.AtName("client_private_key_pem"), "Missing TLS client key",
			"client_certificate_pem is set but client_private_key_pem is not.")
	case keyPEM != "" && certPEM == "":
		diags.AddAttributeError(p.AtName("client_certificate_pem"), "Missing TLS client certificate",
			"client_private_key_pem is set but client_certificate_pem is not.")
	case certPEM != "":
		if _, err := parseCertificatesPEM(certPEM); err != nil {
			diags.AddAttributeError(p.AtName("client_certificate_pem"), "Invalid certificate PEM", err.Error())
			break
		}
		if _, err := parsePrivateKeyPEM(keyPEM); err != nil {
			diags.AddAttributeError(p.AtName("client_private_key_pem"), "Invalid private key PEM", err.Error())
			break
		}
		pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
		if err != nil {
			// X509KeyPair's errors describe the mismatch without quoting the key.
			diags.AddAttributeError(p.AtName("client_private_key_pem"), "TLS client key does not match the certificate", err.Error())
			break
		}
		s.ClientCertificate = &pair
	}
	s.ServerName = m.ServerName.ValueString()
	s.InsecureSkipVerify = m.InsecureSkipVerify.ValueBool()
	return s
}

// resolveBasicAuth applies CMPV2_USERNAME / CMPV2_PASSWORD to the
// `basic_auth` object; nil means no basic authentication.
func resolveBasicAuth(ctx context.Context, obj types.Object,
	value func(path.Path, types.String, string) (string, string, bool), diags *diag.Diagnostics) *BasicAuth {
	p := path.Root("basic_auth")
	m := basicAuthModel{Username: types.StringNull(), Password: types.StringNull()}
	if obj.IsUnknown() {
		diags.AddAttributeError(p, "Unknown basic_auth", "basic_auth must be known before apply.")
		return nil
	}
	if !obj.IsNull() {
		diags.Append(obj.As(ctx, &m, basetypes.ObjectAsOptions{})...)
	}
	user, _, _ := value(p.AtName("username"), m.Username, envUsername)
	pass, _, _ := value(p.AtName("password"), m.Password, envPassword)
	switch {
	case user == "" && pass == "":
		return nil
	case user == "":
		diags.AddAttributeError(p.AtName("username"), "Missing basic auth user name",
			"A password is set but no user name (set basic_auth.username or "+envUsername+").")
		return nil
	case pass == "":
		diags.AddAttributeError(p.AtName("password"), "Missing basic auth password",
			"A user name is set but no password (set basic_auth.password or "+envPassword+").")
		return nil
	}
	return &BasicAuth{Username: user, Password: pass}
}

// configureDefaults is a resource's Configure: it keeps the provider's
// Defaults in *dst. ProviderData is nil before the provider is configured
// (validation runs then), which leaves *dst as it is.
func configureDefaults(dst **Defaults, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if req.ProviderData == nil {
		return
	}
	d, ok := req.ProviderData.(*Defaults)
	if !ok {
		resp.Diagnostics.AddError("Unexpected provider data", fmt.Sprintf("want *Defaults, got %T", req.ProviderData))
		return
	}
	*dst = d
}
