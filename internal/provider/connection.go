package provider

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// A connection is everything needed to talk to one CMP endpoint. It is the
// shape of `cmpv2_server.endpoint` (computed; not `connection`, a root
// name Terraform reserves for provisioners) and of
// `cmpv2_certificate.server` (input), so a module can pass one server's
// endpoint to many certificates as is.

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

// The object types of the connection, its `tls` and its `basic_auth`,
// derived from the schema so that object values always match it.
var (
	connectionAttrTypes = schema.SingleNestedAttribute{Attributes: connectionAttributes(false)}.
				GetType().(types.ObjectType).AttrTypes
	tlsAttrTypes       = connectionAttrTypes["tls"].(types.ObjectType).AttrTypes
	basicAuthAttrTypes = connectionAttrTypes["basic_auth"].(types.ObjectType).AttrTypes
)

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
			Description: "HTTP basic authentication, which some CAs (for example MTG CLM) require in front of CMP. " +
				"Replaces the provider's `basic_auth` as a whole: the user name and the password come from one place.",
			Optional: optional,
			Computed: computed,
			Attributes: map[string]schema.Attribute{
				"username": str("User name. Without `password`, the provider's basic auth password (its "+
					"`basic_auth.password` or `"+envPassword+"`) is used when the provider's user name is the same: "+
					"a `cmpv2_server` endpoint whose password was given as `password_wo` carries the user name only.", false),
				"password": str("Password; stored in the state of every resource that holds this object. Leave it "+
					"unset to take the provider's password for the same user name at apply time.", true,
					stringvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("username"))),
			},
		},
		"implicit_confirm": boolean(descImplicitConfirm),
		"message_timeout":  str(descMessageTimeout, false, durationValidator()),
	}
}

// Connection is a resolved connection: the settings of a `server` object
// (or a cmpv2_server's inputs) over the provider's defaults, checked and
// parsed. It is what a CMP client needs (newCMPClient).
type Connection struct {
	URL               string
	TrustedCAs        []*x509.Certificate
	ServerCertificate *x509.Certificate // pinned response signer; nil when not pinned
	Recipient         pkix.RDNSequence  // nil: the NULL-DN
	TLS               *tls.Config       // nil: the system roots, no client certificate
	BasicAuth         *BasicAuth
	ImplicitConfirm   bool
	MessageTimeout    time.Duration
}

// BasicAuth is the HTTP basic authentication credential.
type BasicAuth struct {
	Username string
	Password string
}

// settingsSource is one place connection settings come from: the provider
// block, whose unset attributes fall back to environment variables, or a
// server object (cmpv2_certificate.server, a cmpv2_server's inputs).
type settingsSource struct {
	root   path.Path           // the parent of the attributes, for errors
	m      connectionModel     // attributes the place does not have are null
	getenv func(string) string // nil: no environment fallback
}

// resolveSettings is the one resolver of connection settings: it returns
// base with every attribute src sets replaced, checked and parsed. The
// provider's Configure resolves its block over the built-in defaults; a
// server object resolves over the provider's result. A null or empty
// attribute is unset: in the provider block it falls back to its
// environment variable, in a server object to the provider's value. The
// `tls` and `basic_auth` objects replace the provider's as a whole, since
// their parts belong to one server. Errors name the attribute path and,
// for a value from the environment, the variable.
func resolveSettings(ctx context.Context, base Connection, src settingsSource) (Connection, diag.Diagnostics) {
	var diags diag.Diagnostics
	c, m, at := base, src.m, src.root.AtName
	if s, from := src.str(at("url"), m.URL, envURL, &diags); s != "" {
		if err := checkURL(s); err != nil {
			diags.AddAttributeError(at("url"), "Invalid CMP server URL", at("url").String()+": "+err.Error()+from)
		}
		c.URL = s
	}
	if s, from := src.pem(at("trusted_ca_pem"), m.TrustedCAPEM, envTrustedCAPEM, &diags); s != "" {
		certs, err := parseCertificatesPEM(s)
		if err != nil {
			diags.AddAttributeError(at("trusted_ca_pem"), "Invalid certificate PEM",
				at("trusted_ca_pem").String()+": "+err.Error()+from)
		}
		c.TrustedCAs = certs
	}
	if s, _ := src.str(at("server_certificate_pem"), m.ServerCertificatePEM, "", &diags); s != "" {
		certs, err := parseCertificatesPEM(s)
		switch {
		case err != nil:
			diags.AddAttributeError(at("server_certificate_pem"), "Invalid certificate PEM", err.Error())
		case len(certs) != 1:
			diags.AddAttributeError(at("server_certificate_pem"), "More than one pinned certificate",
				fmt.Sprintf("server_certificate_pem pins the one certificate that signs responses; it holds %d.", len(certs)))
		default:
			c.ServerCertificate = certs[0]
		}
	}
	if s, _ := src.str(at("recipient"), m.Recipient, "", &diags); s != "" {
		rdn, err := parseDistinguishedName(s)
		if err != nil {
			diags.AddAttributeError(at("recipient"), "Invalid distinguished name", err.Error())
		}
		c.Recipient = rdn
	}
	if cfg, set := src.tls(ctx, base.TLS, &diags); set {
		c.TLS = cfg
	}
	if ba, set := src.basicAuth(ctx, base.BasicAuth, &diags); set {
		c.BasicAuth = ba
	}
	if b, set := src.boolean(at("implicit_confirm"), m.ImplicitConfirm, envImplicitConfirm, &diags); set {
		c.ImplicitConfirm = b
	}
	if s, from := src.str(at("message_timeout"), m.MessageTimeout, envMessageTimeout, &diags); s != "" {
		t, err := checkDuration(s)
		if err != nil {
			diags.AddAttributeError(at("message_timeout"), "Invalid duration", err.Error()+from)
		}
		c.MessageTimeout = t
	}
	return c, diags
}

// str returns the string at p or, when it is null or empty, the
// environment variable env (none when env or src.getenv is empty); from
// names the variable for error messages when the value came from it.
func (src settingsSource) str(p path.Path, v types.String, env string, diags *diag.Diagnostics) (s, from string) {
	if v.IsUnknown() {
		src.unknown(p, env, diags)
		return "", ""
	}
	if s := v.ValueString(); s != "" || env == "" || src.getenv == nil {
		return s, ""
	}
	if s := src.getenv(env); s != "" {
		return s, fmt.Sprintf(" (from the %s environment variable)", env)
	}
	return "", ""
}

// pem is str for an attribute that holds PEM. An environment variable
// may hold the PEM itself or, when it holds no PEM block, the path of a
// file with the PEM in it, as a CI "file" variable does (GitLab CI puts
// the path of a temporary file in the variable); the attribute itself
// always holds PEM (file() reads a file in the configuration). Errors do
// not repeat the variable's value.
func (src settingsSource) pem(p path.Path, v types.String, env string, diags *diag.Diagnostics) (s, from string) {
	s, from = src.str(p, v, env, diags)
	if from == "" || strings.Contains(s, "-----BEGIN") {
		return s, from
	}
	b, err := os.ReadFile(s)
	if err != nil {
		var perr *fs.PathError
		if errors.As(err, &perr) {
			err = perr.Err // the path is the variable's value
		}
		diags.AddAttributeError(p, "Invalid certificate PEM", fmt.Sprintf("%s holds no PEM block, so it is read as "+
			"the path of a PEM file (as a CI file variable holds), and that file cannot be read: %v. "+
			"Set %s to the PEM certificates or to the path of a readable file holding them.", env, err, env))
		return "", ""
	}
	return string(b), fmt.Sprintf(" (from the file named by the %s environment variable)", env)
}

// boolean returns the bool at p or, when it is null, the environment
// variable env; set is false when neither gives one.
func (src settingsSource) boolean(p path.Path, v types.Bool, env string, diags *diag.Diagnostics) (b, set bool) {
	switch {
	case v.IsUnknown():
		src.unknown(p, env, diags)
		return false, false
	case !v.IsNull():
		return v.ValueBool(), true
	case env == "" || src.getenv == nil || src.getenv(env) == "":
		return false, false
	}
	b, err := strconv.ParseBool(src.getenv(env))
	if err != nil {
		diags.AddAttributeError(p, "Invalid boolean", fmt.Sprintf("%s must be true or false: %v", env, err))
		return false, false
	}
	return b, true
}

// unknown reports a value at p that is known only after apply.
func (src settingsSource) unknown(p path.Path, env string, diags *diag.Diagnostics) {
	detail := p.String() + " must be known before the CA is contacted, but it is known only after apply."
	if env != "" && src.getenv != nil {
		detail += " Set it to a known value, or leave it unset and use the " + env + " environment variable."
	}
	diags.AddAttributeError(p, "Value known only after apply", detail)
}

// orEnv names env as the alternative to an attribute, when src has one.
func (src settingsSource) orEnv(env string) string {
	if src.getenv == nil {
		return ""
	}
	return " or " + env
}

// object reads the object at p into target; set is false when it is null
// or unknown (an error).
func (src settingsSource) object(ctx context.Context, p path.Path, obj types.Object, target any, diags *diag.Diagnostics) (set bool) {
	if obj.IsUnknown() {
		src.unknown(p, "", diags)
		return false
	}
	if obj.IsNull() {
		return false
	}
	d := obj.As(ctx, target, basetypes.ObjectAsOptions{})
	diags.Append(d...)
	return !d.HasError()
}

// tls builds the tls.Config of the `tls` object with cmpclient.TLSConfig;
// set is false when the object is null.
func (src settingsSource) tls(ctx context.Context, base *tls.Config, diags *diag.Diagnostics) (cfg *tls.Config, set bool) {
	p := src.root.AtName("tls")
	var m tlsModel
	if !src.object(ctx, p, src.m.TLS, &m, diags) {
		return nil, false
	}
	str := func(name string, v types.String) []byte {
		s, _ := src.str(p.AtName(name), v, "", diags)
		return []byte(s)
	}
	skip, _ := src.boolean(p.AtName("insecure_skip_verify"), m.InsecureSkipVerify, "", diags)
	opts := cmpclient.TLSOptions{
		CAPEM:                str("ca_pem", m.CAPEM),
		ClientCertificatePEM: str("client_certificate_pem", m.ClientCertificatePEM),
		ClientKeyPEM:         str("client_private_key_pem", m.ClientPrivateKeyPEM),
		ServerName:           string(str("server_name", m.ServerName)),
		InsecureSkipVerify:   skip,
	}
	if diags.HasError() {
		return nil, false
	}
	// A server object's client certificate without its key takes the
	// provider's key when the provider's tls holds the same certificate, so
	// that a key kept out of state (cmpv2_server's client_private_key_wo) is
	// given at apply time by the provider block; another certificate's key
	// is never used.
	var inherited *tls.Certificate
	if len(opts.ClientKeyPEM) == 0 && src.getenv == nil {
		if c := sameClientCertificate(base, opts.ClientCertificatePEM); c != nil {
			inherited, opts.ClientCertificatePEM = c, nil
		}
	}
	cfg, err := cmpclient.TLSConfig(opts)
	if err == nil && inherited != nil {
		cfg.Certificates = []tls.Certificate{*inherited}
	}
	if err != nil {
		// The error names the cmpclient option; the path names the attribute.
		var oerr *cmpclient.TLSOptionError
		if errors.As(err, &oerr) {
			at := p.AtName(tlsAttributeOf(oerr.Option))
			diags.AddAttributeError(at, "Invalid TLS setting", at.String()+": "+oerr.Err.Error())
		} else {
			diags.AddAttributeError(p, "Invalid TLS settings", err.Error())
		}
		return nil, false
	}
	return cfg, true
}

// sameClientCertificate returns the client certificate and key of base
// when its leaf is the first certificate of certPEM, else nil.
func sameClientCertificate(base *tls.Config, certPEM []byte) *tls.Certificate {
	if base == nil || len(base.Certificates) == 0 || len(base.Certificates[0].Certificate) == 0 {
		return nil
	}
	certs, err := parseCertificatesPEM(string(certPEM))
	if err != nil || len(certs) == 0 || !bytes.Equal(certs[0].Raw, base.Certificates[0].Certificate[0]) {
		return nil
	}
	return &base.Certificates[0]
}

// basicAuth reads the `basic_auth` object, each part falling back to its
// environment variable in the provider block. A user name and a password
// go together: one without the other is an error, with one exception. A
// server object's user name without a password takes the password of base
// (the provider's basic auth) when base is for the same user name, so that
// a password kept out of state (cmpv2_server's password_wo) is given at
// apply time by the provider block or CMPV2_PASSWORD; another user's
// password is never used. set is false when neither is given.
func (src settingsSource) basicAuth(ctx context.Context, base *BasicAuth, diags *diag.Diagnostics) (ba *BasicAuth, set bool) {
	p := src.root.AtName("basic_auth")
	var m basicAuthModel // null when the object is: the environment alone
	if src.object(ctx, p, src.m.BasicAuth, &m, diags); src.m.BasicAuth.IsUnknown() {
		return nil, false
	}
	user, _ := src.str(p.AtName("username"), m.Username, envUsername, diags)
	pass, _ := src.str(p.AtName("password"), m.Password, envPassword, diags)
	switch {
	case user == "" && pass == "":
		return nil, false
	case user == "":
		diags.AddAttributeError(p.AtName("username"), "Missing basic auth user name",
			"A password is set but no user name: set "+p.AtName("username").String()+src.orEnv(envUsername)+".")
		return nil, false
	case pass == "" && src.getenv == nil && base != nil && base.Username == user:
		return &BasicAuth{Username: user, Password: base.Password}, true
	case pass == "":
		detail := "A user name is set but no password: set " + p.AtName("password").String() + src.orEnv(envPassword) + "."
		if src.getenv == nil {
			detail += " Or give the provider basic_auth (or " + envUsername + " and " + envPassword + ") for user " +
				strconv.Quote(user) + ": its password completes a user name without one at apply time."
		}
		diags.AddAttributeError(p.AtName("password"), "Missing basic auth password", detail)
		return nil, false
	}
	return &BasicAuth{Username: user, Password: pass}, true
}

// resolveConnection resolves the server object at p (null: none) over the
// provider defaults d (nil: none), for a resource that contacts the CA: it
// needs a URL from one of them.
func resolveConnection(ctx context.Context, p path.Path, obj types.Object, d *Defaults) (*Connection, diag.Diagnostics) {
	var diags diag.Diagnostics
	src := settingsSource{root: p}
	if src.object(ctx, p, obj, &src.m, &diags); diags.HasError() {
		return nil, diags
	}
	c, d2 := resolveSettings(ctx, d.connection(), src)
	diags.Append(d2...)
	if c.URL == "" && !diags.HasError() {
		noServer(p, &diags)
	}
	if diags.HasError() {
		return nil, diags
	}
	return &c, diags
}

// willHaveURL is resolveConnection's URL rule at plan time, when a value
// known only after apply (a cmpv2_server created in the same apply) counts
// as given: the server object's url when it is not empty, else the
// provider's. It applies resolveConnection's basic-auth and TLS rules
// (basicAuth, tls) at plan time too, to objects whose parts are known: a
// user name without a password, or a client certificate without its key,
// fails the plan unless the provider has the password for that user or
// the key of that certificate, so a create does not fail on it after
// planning well.
func willHaveURL(ctx context.Context, obj types.Object, d *Defaults) (bool, diag.Diagnostics) {
	if obj.IsUnknown() {
		return true, nil
	}
	if !obj.IsNull() {
		var m connectionModel
		if diags := obj.As(ctx, &m, basetypes.ObjectAsOptions{}); diags.HasError() {
			return false, diags
		}
		var diags diag.Diagnostics
		var ba basicAuthModel
		if !m.BasicAuth.IsNull() && !m.BasicAuth.IsUnknown() &&
			!m.BasicAuth.As(ctx, &ba, basetypes.ObjectAsOptions{}).HasError() &&
			!ba.Username.IsUnknown() && !ba.Password.IsUnknown() && d != nil {
			settingsSource{root: path.Root("server"), m: m}.basicAuth(ctx, d.connection().BasicAuth, &diags)
		}
		var t tlsModel
		if !m.TLS.IsNull() && !m.TLS.IsUnknown() && !m.TLS.As(ctx, &t, basetypes.ObjectAsOptions{}).HasError() &&
			!t.ClientCertificatePEM.IsUnknown() && !t.ClientPrivateKeyPEM.IsUnknown() && !t.CAPEM.IsUnknown() &&
			!t.ServerName.IsUnknown() && !t.InsecureSkipVerify.IsUnknown() && d != nil {
			settingsSource{root: path.Root("server"), m: m}.tls(ctx, d.connection().TLS, &diags)
		}
		if m.URL.IsUnknown() || m.URL.ValueString() != "" {
			return true, diags
		}
		return d.connection().URL != "", diags
	}
	return d.connection().URL != "", nil
}

// noServer is the error of a resource that contacts the CA with no URL
// for it in the server object at p, the provider block or the environment.
func noServer(p path.Path, diags *diag.Diagnostics) {
	diags.AddAttributeError(p.AtName("url"), "No CMP server",
		"Set "+p.AtName("url").String()+" (for example server = cmpv2_server.<name>.endpoint), the provider's url, or "+envURL+".")
}

// object returns m as the connection object value.
func (m connectionModel) object(ctx context.Context) (types.Object, diag.Diagnostics) {
	return types.ObjectValueFrom(ctx, connectionAttrTypes, m)
}
