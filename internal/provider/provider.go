// Package provider implements the cmpv2 Terraform provider: it maps the
// resource lifecycle onto CMP operations (IR, CR, KUR, RR).
package provider

import (
	"context"
	"os"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// cmpv2Provider is the provider type. getenv is os.Getenv except in tests,
// which inject the environment the fallbacks read. clock is the time of the
// certificate resources; tests inject theirs too (newProvider).
type cmpv2Provider struct {
	configuredData // what Configure gave the resources (server_create.go)
	version        string
	getenv         func(string) string
	clock          clock
	// open holds the ephemeral certificates to revoke on close.
	open openCertificates
}

var (
	_ provider.Provider                       = (*cmpv2Provider)(nil)
	_ provider.ProviderWithEphemeralResources = (*cmpv2Provider)(nil)
	_ provider.ProviderWithFunctions          = (*cmpv2Provider)(nil)
)

// New returns the provider factory that providerserver.Serve expects.
func New(version string) func() provider.Provider {
	return newProvider(version, clock{})
}

// newProvider is New with the certificate resources' clock c.
func newProvider(version string, c clock) func() provider.Provider {
	return func() provider.Provider {
		return &cmpv2Provider{version: version, getenv: os.Getenv, clock: c}
	}
}

func (p *cmpv2Provider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "cmpv2"
	resp.Version = p.version
}

func (p *cmpv2Provider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Obtains and maintains X.509 certificates from a CA that speaks CMP (RFC 4210/9810). " +
			"Every attribute here is a default for the resources and falls back to an environment variable, " +
			"so CI pipelines can keep credentials out of the configuration.",
		Attributes: map[string]schema.Attribute{
			"url": schema.StringAttribute{
				Description: "Default CMP endpoint: the full URL including the path, for example " +
					"`https://ca.example/.well-known/cmp/p/tls`. Plain `http://` is allowed because CMP messages are " +
					"protected themselves; `https://` verifies the server's TLS certificate. Environment: `" + envURL + "`.",
				Optional:   true,
				Validators: []validator.String{urlValidator()},
			},
			"reference": schema.StringAttribute{
				Description: "Default reference (senderKID) of the pre-shared secret for MAC-protected initialization " +
					"requests (IR). Environment: `" + envReference + "`.",
				Optional: true,
			},
			"secret": schema.StringAttribute{
				Description: "Default pre-shared secret that goes with `reference`. Environment: `" + envSecret + "`.",
				Optional:    true,
				Sensitive:   true,
			},
			"mac_algorithm": schema.StringAttribute{
				Description: "Default MAC that protects requests with `secret` (RFC 9481 section 6.1): " +
					"`pbm-hmac-sha256` (default: PasswordBasedMac with HMAC-SHA256), `pbm-hmac-sha1` or `pbmac1`; " +
					"`enrollment.mac_algorithm` overrides it. Environment: `" + envMACAlgorithm + "`.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.OneOf(sortedNames(macAlgorithms)...)},
			},
			"secret_encoding": schema.StringAttribute{
				Description: "How `secret` is written: `text` (default) or `hex` (decoded, for CAs that issue binary " +
					"pre-shared keys). Environment: `" + envSecretEncoding + "`.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.OneOf(secretEncodingText, secretEncodingHex)},
			},
			"trusted_ca_pem": schema.StringAttribute{
				Description: "PEM certificates trusted to sign CMP responses and to anchor the chains of issued " +
					"certificates. Alone, it accepts a response signed by any certificate under these anchors that " +
					"may sign, another end entity's included: for a production CA also pin the CA's CMP signer " +
					"(`server_certificate_pem`) or name it (`recipient`) in `cmpv2_server` or `cmpv2_certificate.server`. " +
					"Environment: `" + envTrustedCAPEM + "`, holding the PEM itself or the path of a file with the PEM " +
					"(as a GitLab CI file variable does); a value with no `-----BEGIN` line is read as a path.",
				Optional:   true,
				Validators: []validator.String{certificatesPEMValidator()},
			},
			"tls":        providerTLSAttribute(),
			"basic_auth": providerBasicAuthAttribute(),
			"message_timeout": schema.StringAttribute{
				Description: "How long to wait for the answer to one CMP message, as a Go duration such as `30s`. " +
					"Default `" + defaultMessageTimeout.String() + "`. Environment: `" + envMessageTimeout + "`.",
				Optional:   true,
				Validators: []validator.String{durationValidator()},
			},
			"implicit_confirm": schema.BoolAttribute{
				Description: "Ask the server for implicit confirmation, which saves the certConf/pkiConf round trip " +
					"when the server grants it. Default `false`. Environment: `" + envImplicitConfirm + "`.",
				Optional: true,
			},
		},
	}
}

func providerBasicAuthAttribute() schema.Attribute {
	return schema.SingleNestedAttribute{
		Description: "HTTP basic authentication, which some CAs (for example MTG CLM) require in front of CMP. " +
			"The provider block is never stored in state, so its password needs no write-only variant. Its password " +
			"also completes, at apply time, a `basic_auth` of `cmpv2_server` or `cmpv2_certificate.server` that names " +
			"the same user name without a password: a `cmpv2_server` endpoint whose password was given as " +
			"`password_wo` carries the user name alone, and the certificates' IR, CR, KUR and RR authenticate so.",
		Optional: true,
		Attributes: map[string]schema.Attribute{
			"username": schema.StringAttribute{
				Description: "User name. Environment: `" + envUsername + "`.",
				Optional:    true,
			},
			"password": schema.StringAttribute{
				Description: "Password. Environment: `" + envPassword + "`.",
				Optional:    true,
				Sensitive:   true,
			},
		},
	}
}

func (p *cmpv2Provider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	defaults, diags := resolveDefaults(ctx, cfg, p.getenv)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.ResourceData = defaults
	p.set(defaults)
	resp.DataSourceData = defaults
	resp.EphemeralResourceData = defaults
}

func (p *cmpv2Provider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewServerResource,
		func() resource.Resource { return &certificateResource{clock: p.clock} },
	}
}

func (p *cmpv2Provider) EphemeralResources(context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{
		func() ephemeral.EphemeralResource { return &ephemeralCertificate{clock: p.clock, open: &p.open} },
	}
}

func (p *cmpv2Provider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{NewCACertificatesDataSource}
}

func (p *cmpv2Provider) Functions(context.Context) []func() function.Function {
	return []func() function.Function{newCertificateInfoFunction, newCertificateChainFunction}
}
