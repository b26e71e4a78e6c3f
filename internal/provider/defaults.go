package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Environment variables the provider attributes fall back to when they are
// unset, so that CI pipelines can keep credentials out of the configuration.
const (
	envURL             = "CMPV2_URL"
	envReference       = "CMPV2_REFERENCE"
	envSecret          = "CMPV2_SECRET"
	envTrustedCAPEM    = "CMPV2_TRUSTED_CA_PEM"
	envUsername        = "CMPV2_USERNAME"
	envPassword        = "CMPV2_PASSWORD"
	envMessageTimeout  = "CMPV2_MESSAGE_TIMEOUT"
	envImplicitConfirm = "CMPV2_IMPLICIT_CONFIRM"
	envMACAlgorithm    = "CMPV2_MAC_ALGORITHM"
	envSecretEncoding  = "CMPV2_SECRET_ENCODING"
)

// defaultMessageTimeout matches the default of `openssl cmp -msg_timeout`.
const defaultMessageTimeout = 120 * time.Second

// providerModel is the provider block as Terraform sends it.
type providerModel struct {
	URL             types.String `tfsdk:"url"`
	Reference       types.String `tfsdk:"reference"`
	Secret          types.String `tfsdk:"secret"`
	MACAlgorithm    types.String `tfsdk:"mac_algorithm"`
	SecretEncoding  types.String `tfsdk:"secret_encoding"`
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
	// Secret holds the secret's bytes (decoded when secret_encoding is hex).
	Reference string
	Secret    string
	// MACAlgorithm protects requests with Secret (mac_algorithm).
	MACAlgorithm cmpclient.MACAlgorithm
	// TrustedCAs anchor protection signatures and issued chains; nil when none.
	TrustedCAs      []*x509.Certificate
	TLS             *tls.Config // nil: the system roots, no client certificate
	BasicAuth       *BasicAuth
	MessageTimeout  time.Duration
	ImplicitConfirm bool
}

// connection is what d gives a server object to resolve over; a nil d
// gives the built-in defaults.
func (d *Defaults) connection() Connection {
	if d == nil {
		return Connection{MessageTimeout: defaultMessageTimeout}
	}
	return Connection{URL: d.URL, TrustedCAs: d.TrustedCAs, TLS: d.TLS, BasicAuth: d.BasicAuth,
		MessageTimeout: d.MessageTimeout, ImplicitConfirm: d.ImplicitConfirm}
}

// connection is the provider block's connection settings; it has no
// server_certificate_pem and no recipient, which name one server.
func (m providerModel) connection() connectionModel {
	return connectionModel{URL: m.URL, TrustedCAPEM: m.TrustedCAPEM, TLS: m.TLS, BasicAuth: m.BasicAuth,
		MessageTimeout: m.MessageTimeout, ImplicitConfirm: m.ImplicitConfirm}
}

// resolveDefaults resolves the provider block, with its environment
// fallbacks, over the built-in defaults (resolveSettings), and reads the
// IR credential. Every error names the attribute it is about; a value
// that came from the environment also names the variable.
func resolveDefaults(ctx context.Context, cfg providerModel, getenv func(string) string) (*Defaults, diag.Diagnostics) {
	src := settingsSource{root: path.Empty(), m: cfg.connection(), getenv: getenv}
	c, diags := resolveSettings(ctx, (*Defaults)(nil).connection(), src)
	d := &Defaults{URL: c.URL, TrustedCAs: c.TrustedCAs, TLS: c.TLS, BasicAuth: c.BasicAuth,
		MessageTimeout: c.MessageTimeout, ImplicitConfirm: c.ImplicitConfirm}
	d.Reference, _ = src.str(path.Root("reference"), cfg.Reference, envReference, &diags)
	d.Secret, _ = src.str(path.Root("secret"), cfg.Secret, envSecret, &diags)
	d.MACAlgorithm = resolveMACSettings(src, cfg, &d.Secret, &diags)
	// A reference alone is complete here: it names the shared secret that
	// each resource's enrollment supplies (secret_wo in CI); the IR
	// credential rule asks for the secret when an IR is sent.
	if d.Secret != "" && d.Reference == "" {
		diags.AddAttributeError(path.Root("reference"), "Missing reference",
			"secret is set but reference is not: MAC protection needs both (or set "+envReference+").")
	}
	if diags.HasError() {
		return nil, diags
	}
	return d, diags
}

// resolveMACSettings reads mac_algorithm and secret_encoding (or their
// environment variables), decodes *secret by the latter and returns the
// former. Errors never quote the secret or a variable's value.
func resolveMACSettings(src settingsSource, cfg providerModel, secret *string, diags *diag.Diagnostics) cmpclient.MACAlgorithm {
	alg, from := src.str(path.Root("mac_algorithm"), cfg.MACAlgorithm, envMACAlgorithm, diags)
	algorithm, ok := macAlgorithms[alg]
	if alg != "" && !ok {
		diags.AddAttributeError(path.Root("mac_algorithm"), "Invalid MAC algorithm",
			"mac_algorithm"+from+" must be one of "+quotedList(sortedNames(macAlgorithms))+".")
	}
	encoding, from := src.str(path.Root("secret_encoding"), cfg.SecretEncoding, envSecretEncoding, diags)
	switch encoding {
	case "", secretEncodingText:
	case secretEncodingHex:
		if b, ok := decodeSecret(*secret, encoding, path.Empty(), "secret", diags); ok {
			*secret = string(b)
		}
	default:
		diags.AddAttributeError(path.Root("secret_encoding"), "Invalid secret encoding",
			"secret_encoding"+from+" must be `"+secretEncodingText+"` or `"+secretEncodingHex+"`.")
	}
	return algorithm
}

// configureDefaults is a resource's Configure: it keeps the provider's
// Defaults in *dst. ProviderData is nil before the provider is configured
// (validation runs then), which leaves *dst as it is.
func configureDefaults(dst **Defaults, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if d := providerDefaults(req.ProviderData, &resp.Diagnostics); d != nil {
		*dst = d
	}
}

// providerDefaults is the provider's Defaults as Configure hands them to a
// resource, data source or ephemeral resource (nil before Configure).
func providerDefaults(data any, diags *diag.Diagnostics) *Defaults {
	if data == nil {
		return nil
	}
	d, ok := data.(*Defaults)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("want *Defaults, got %T", data))
	}
	return d
}
