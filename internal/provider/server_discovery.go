package provider

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// discoveryTimeout bounds the general messages of one create, update or
// refresh of a cmpv2_server.
const discoveryTimeout = 2 * time.Minute

// discover asks the server of m for its CA certificates (genm
// id-it-caCerts, RFC 9483 section 4.3.1) and fills ca_certificates_pem, id
// and endpoint. creds is the credentials object of the configuration
// (null: the provider's reference and secret) that protects the genm
// (messageCredentials). cmpclient verifies the genp's protection: a MAC
// with the same secret, or a signature chaining to trusted_ca_pem (or by
// the pinned server_certificate_pem). The root CA update (id-it-rootCaCert,
// section 4.3.2) and the certificate request template
// (id-it-certReqTemplate, section 4.3.3) are asked for too; a server that
// does not offer them gets a warning, not an error.
func (r *serverResource) discover(ctx context.Context, m *serverModel, wo writeOnlyInputs, configured bool) diag.Diagnostics {
	var diags diag.Diagnostics
	credsObj := wo.credentials
	own, d := m.connection(ctx, wo)
	diags.Append(d...)
	obj, d := own.object(ctx)
	diags.Append(d...)
	if diags.HasError() {
		return diags
	}
	conn, d := resolveConnection(ctx, path.Empty(), obj, r.defaults)
	diags.Append(d...)
	if diags.HasError() {
		return diags
	}
	m.ID = m.URL
	endpoint, d := m.endpoint(ctx)
	diags.Append(d...)
	m.Endpoint = endpoint
	// Precedence: ca_certificates_pem from the configuration is what the
	// resource reports, whatever the server answers (or whether it answers
	// at all); it is still checked against trusted_ca_pem.
	var fromConfig []*x509.Certificate
	if configured {
		certs, err := parseCertificatesPEM(m.CACertificatesPEM.ValueString())
		if err != nil {
			diags.AddAttributeError(path.Root("ca_certificates_pem"), "Invalid certificate PEM", err.Error())
			return diags
		}
		fromConfig = certs
		if checkPublished(conn, certs, "ca_certificates_pem in the configuration", path.Root("trusted_ca_pem"), "cmpv2_server", &diags); diags.HasError() {
			return diags
		}
	}
	if credsObj.IsNull() && (r.defaults == nil || r.defaults.Reference == "" || r.defaults.Secret == "") {
		// The endpoint is still useful to the certificates (which may carry
		// their own IR credentials); only the discovery is left out.
		if !configured {
			diags.AddAttributeWarning(path.Root("url"), "cmpv2_server: CA certificates not asked for",
				"Asking the server for its CA certificates sends a genm, which must be protected, and neither "+
					"credentials nor the provider's reference and secret (nor "+envReference+" and "+envSecret+") are set; "+
					"ca_certificates_pem stays empty.")
			m.CACertificatesPEM = types.StringValue("")
		}
		return diags
	}
	creds, _, d := messageCredentials(ctx, path.Root("credentials"), credsObj, r.defaults,
		"Asking the server for its CA certificates sends a general message (genm), which must be protected.",
		"No credentials for the general messages")
	if diags.Append(d...); diags.HasError() {
		return diags
	}
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	client := newCMPClient(ctx, conn, creds)

	certs, err := client.CACerts(ctx)
	switch {
	case genmRefused(err):
		// RFC 9483 section 4.3 makes general messages optional for a
		// server: some CAs answer none. The registration stands.
		if !configured {
			diags.AddAttributeWarning(path.Root("url"), "cmpv2_server: the server answers no general message (genm)",
				"The server refused genm id-it-caCerts (RFC 9483 section 4.3.1), so its CA certificates, root CA "+
					"update (id-it-rootCaCert) and certificate request template (id-it-certReqTemplate) are not asked "+
					"for; some CAs (Vault Enterprise, MTG CLM) offer no genm. The server is registered with empty "+
					"ca_certificates_pem: set ca_certificates_pem in the configuration to the CA certificates you "+
					"obtained from the CA out of band.\n\n"+cmpErrorDetail(err))
			m.CACertificatesPEM = types.StringValue("")
		}
		return diags
	case err != nil && !errors.Is(err, cmpclient.ErrNotSupported):
		diags.AddAttributeError(path.Root("url"), "cmpv2_server: asking for the CA certificates (genm caCerts) failed",
			cmpErrorDetail(err))
		return diags
	case err != nil && !configured:
		diags.AddAttributeWarning(path.Root("url"), "cmpv2_server: the server does not publish its CA certificates",
			"The server does not answer id-it-caCerts (RFC 9483 section 4.3.1); ca_certificates_pem stays empty: "+
				"set it in the configuration to the CA certificates obtained out of band.\n\n"+err.Error())
	}
	if configured {
		certs = fromConfig
	} else if checkPublished(conn, certs, "the server published (genm caCerts, RFC 9483 section 4.3.1)", path.Root("trusted_ca_pem"), "cmpv2_server", &diags); diags.HasError() {
		return diags
	}
	m.CACertificatesPEM = types.StringValue(certificatesPEM(certs))

	upd := askRootCAUpdate(ctx, client, firstSelfSigned(conn), "trusted_ca_pem", len(conn.TrustedCAs) > 0,
		path.Empty(), "cmpv2_server", &diags)
	if diags.HasError() {
		return diags
	}
	if upd != nil {
		diags.AddAttributeWarning(path.Root("trusted_ca_pem"), "cmpv2_server: the CA announces a new root CA certificate",
			fmt.Sprintf("The server offers a new root CA certificate %q (serial %s, valid from %s): add it to "+
				"trusted_ca_pem before the old root is retired.\n\n%s", upd.NewWithNew.Subject, upd.NewWithNew.SerialNumber,
				upd.NewWithNew.NotBefore.UTC().Format(time.RFC3339), certificatePEM(upd.NewWithNew)))
	}
	if _, err := client.CertReqTemplate(ctx); err != nil {
		diags.AddAttributeWarning(path.Root("url"), "cmpv2_server: no certificate request template",
			"The server did not answer id-it-certReqTemplate (RFC 9483 section 4.3.3); certificates are requested "+
				"as configured.\n\n"+err.Error())
	}

	return diags
}

// checkPublished compares the CA certificates certs (from where) with
// trusted_ca_pem: a MAC-protected genp proves who answered, not that its
// CA is the one trusted_ca_pem names, and a configured value proves
// nothing. A wrong anchor then fails here, not when a certificate has been
// issued and must be refused. at is the trusted_ca_pem attribute of who
// (the resource or data source asking).
func checkPublished(conn *Connection, certs []*x509.Certificate, where string, at path.Path, who string, diags *diag.Diagnostics) {
	anchors := &cmpclient.Client{TrustAnchors: conn.TrustedCAs}
	if len(conn.TrustedCAs) == 0 || len(certs) == 0 || len(anchors.TrustedAmong(certs)) > 0 {
		return
	}
	diags.AddAttributeError(at, who+": trusted_ca_pem is not this CA's",
		fmt.Sprintf("None of the %d CA certificates %s (%s) chains to trusted_ca_pem (%s). Certificates this CA "+
			"issues would be refused as not chaining to the trust anchors. Set trusted_ca_pem to this CA's root "+
			"certificate (compare what the server publishes, genm caCerts, with the CA's out of band).",
			len(certs), where, subjects(certs), subjects(conn.TrustedCAs)))
}

// askRootCAUpdate asks the CA whether the root oldRoot (nil: the CA's)
// has a successor (genm id-it-rootCaCert, answered with
// id-it-rootCaKeyUpdate, RFC 9483 section 4.3.2) and returns it, nil when
// there is none. cmpclient checks the update's certificates against each
// other and against oldRoot, which came from rootFrom. An update that
// fails these checks is an error when strict (oldRoot is trusted, or the
// update is what the asker reports), at rootFrom under at; otherwise it
// and a server that does not answer are a warning on the url.
func askRootCAUpdate(ctx context.Context, client *cmpclient.Client, oldRoot *x509.Certificate, rootFrom string,
	strict bool, at path.Path, who string, diags *diag.Diagnostics) *cmpclient.RootCAUpdate {
	upd, err := client.RootCAUpdate(ctx, oldRoot)
	switch {
	case errors.Is(err, cmpclient.ErrRootCAUpdate) && strict:
		diags.AddAttributeError(at.AtName("trusted_ca_pem"), who+": the root CA update does not verify",
			"The server's root CA key update (id-it-rootCaKeyUpdate, RFC 9483 section 4.3.2) does not certify its "+
				"new root with the root in "+rootFrom+": either is probably not this CA's root.\n\n"+err.Error())
	case err != nil:
		diags.AddAttributeWarning(at.AtName("url"), who+": no root CA update information",
			"The server did not answer id-it-rootCaCert (RFC 9483 section 4.3.2); root CA key updates will not be "+
				"announced.\n\n"+err.Error())
	case upd != nil && upd.NewWithNew != nil:
		return upd
	}
	return nil
}

// genmRefused reports whether err is the server refusing general messages
// as such, rather than this one failing: an HTTP 4xx other than an
// authentication failure (401, 403, 407), an HTTP 501, or a CMP error
// whose failInfo says no more than badRequest or badDataFormat (RFC 9810
// section 5.2.3). A refused protection (badMessageCheck, wrongIntegrity,
// ...) stays an error: the credentials are wrong, not the question.
func genmRefused(err error) bool {
	var e *cmpclient.Error
	if !errors.As(err, &e) {
		return false
	}
	switch h := e.HTTPStatus; {
	case h == http.StatusNotImplemented:
		return true
	case h == http.StatusUnauthorized || h == http.StatusForbidden || h == http.StatusProxyAuthRequired:
		return false
	case h >= 400 && h < 500:
		return true
	case h != 0 || e.Body == "":
		return false
	}
	for _, name := range e.FailInfo.Names() {
		if name != "badRequest" && name != "badDataFormat" {
			return false
		}
	}
	return true
}

// writeOnlyInputs are what discover takes from the configuration rather
// than from plan or state, where write-only values are always null: the
// credentials object (secret_wo), basic_auth.password_wo and
// tls.client_private_key_wo. A refresh has only the state's.
type writeOnlyInputs struct {
	credentials types.Object
	password    string // basic_auth.password_wo
	clientKey   string // tls.client_private_key_wo
}

// missingWriteOnly names the write-only value a refresh of state would
// need and does not have, or is "": credentials.secret_wo,
// tls.client_private_key_wo when the provider has no key for that client
// certificate, or basic_auth.password_wo when the provider has no password
// for that user name.
func (r *serverResource) missingWriteOnly(ctx context.Context, state serverModel) string {
	if writeOnlyCredentials(ctx, state.Credentials) {
		return "credentials.secret_wo"
	}
	var t serverTLSModel
	if !state.TLS.IsNull() && !state.TLS.IsUnknown() && !state.TLS.As(ctx, &t, basetypes.ObjectAsOptions{}).HasError() &&
		t.ClientCertificatePEM.ValueString() != "" && t.ClientPrivateKeyPEM.ValueString() == "" &&
		sameClientCertificate(r.defaults.connection().TLS, []byte(t.ClientCertificatePEM.ValueString())) == nil {
		return "tls.client_private_key_wo"
	}
	var ba serverBasicAuthModel
	if state.BasicAuth.IsNull() || state.BasicAuth.IsUnknown() ||
		state.BasicAuth.As(ctx, &ba, basetypes.ObjectAsOptions{}).HasError() || ba.Password.ValueString() != "" {
		return ""
	}
	if p := r.defaults.connection().BasicAuth; p != nil && p.Username == ba.Username.ValueString() {
		return ""
	}
	return "basic_auth.password_wo"
}

// writeOnlyCredentials reports whether the credentials object obj, as
// state holds it, had its secret in secret_wo: a MAC credential with no
// secret and no certificate left.
func writeOnlyCredentials(ctx context.Context, obj types.Object) bool {
	if obj.IsNull() || obj.IsUnknown() {
		return false
	}
	var e enrollmentModel
	if obj.As(ctx, &e, basetypes.ObjectAsOptions{}).HasError() {
		return false
	}
	return e.Secret.ValueString() == "" && e.CertificatePEM.ValueString() == ""
}

// firstSelfSigned returns the first self-signed trust anchor, the root
// whose successor a root CA update names; nil lets the server choose.
func firstSelfSigned(conn *Connection) *x509.Certificate {
	for _, c := range conn.TrustedCAs {
		if selfSigned(c) {
			return c
		}
	}
	return nil
}

// subjects names certificates for an error message.
func subjects(certs []*x509.Certificate) string {
	var b strings.Builder
	for i, c := range certs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", c.Subject.String())
	}
	return b.String()
}
