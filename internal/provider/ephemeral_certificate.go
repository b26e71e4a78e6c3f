package provider

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sync"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	resourceschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// ephemeralCertificate is `ephemeral "cmpv2_certificate"` (Terraform
// 1.10+): a certificate enrolled with an IR at Open, whose certificate and
// key exist only in memory for the run: never in the plan or the state.
// Close revokes it (RR) with revoke_on_close, else it is left to expire,
// which its short default validity makes soon.
type ephemeralCertificate struct {
	defaults *Defaults
	clock    clock
	open     *openCertificates
}

var (
	_ ephemeral.EphemeralResource                   = (*ephemeralCertificate)(nil)
	_ ephemeral.EphemeralResourceWithConfigure      = (*ephemeralCertificate)(nil)
	_ ephemeral.EphemeralResourceWithClose          = (*ephemeralCertificate)(nil)
	_ ephemeral.EphemeralResourceWithValidateConfig = (*ephemeralCertificate)(nil)
)

// defaultEphemeralValidityHours is the validity an ephemeral certificate
// asks for unless configured: long enough for one run, short enough that a
// certificate nobody revokes is soon of no use.
const defaultEphemeralValidityHours = 1

// ephemeralCertificateModel is the ephemeral resource's configuration and
// result. The request attributes are cmpv2_certificate's, by the same names.
type ephemeralCertificateModel struct {
	Server              types.Object `tfsdk:"server"`
	Enrollment          types.Object `tfsdk:"enrollment"`
	Subject             types.Object `tfsdk:"subject"`
	DNSNames            types.List   `tfsdk:"dns_names"`
	IPAddresses         types.List   `tfsdk:"ip_addresses"`
	URIs                types.List   `tfsdk:"uris"`
	EmailAddresses      types.List   `tfsdk:"email_addresses"`
	KeyUsages           types.Set    `tfsdk:"key_usages"`
	ExtendedKeyUsages   types.Set    `tfsdk:"extended_key_usages"`
	ValidityPeriodHours types.Int64  `tfsdk:"validity_period_hours"`
	CertificateProfile  types.String `tfsdk:"certificate_profile"`
	KeyAlgorithm        types.String `tfsdk:"key_algorithm"`
	RSABits             types.Int64  `tfsdk:"rsa_bits"`
	ECDSACurve          types.String `tfsdk:"ecdsa_curve"`
	RevokeOnClose       types.Bool   `tfsdk:"revoke_on_close"`
	RevocationReason    types.String `tfsdk:"revocation_reason"`

	CertificatePEM types.String `tfsdk:"certificate_pem"`
	CAChainPEM     types.String `tfsdk:"ca_chain_pem"`
	PrivateKeyPEM  types.String `tfsdk:"private_key_pem"`
	SerialNumber   types.String `tfsdk:"serial_number"`
	NotBefore      types.String `tfsdk:"not_before"`
	NotAfter       types.String `tfsdk:"not_after"`
}

// ephemeralRequestAttributes are the attributes of cmpv2_certificate that
// the ephemeral certificate takes as they are: how to reach the CA, the IR
// credentials and what to request.
var ephemeralRequestAttributes = []string{
	"server", "enrollment", "subject", "dns_names", "ip_addresses", "uris", "email_addresses", "key_usages",
	"extended_key_usages", "certificate_profile", "key_algorithm", "rsa_bits", "ecdsa_curve", "revocation_reason",
	"certificate_pem", "ca_chain_pem", "serial_number", "not_before", "not_after",
}

// changeSentence is what a description of cmpv2_certificate says a change
// does (a CR, a KUR), which an ephemeral certificate, enrolled anew at every
// open, never does.
var changeSentence = regexp.MustCompile(` A change [^.]*\.`)

// ephemeralDescription is a description of cmpv2_certificate as the
// ephemeral certificate's.
func ephemeralDescription(desc string) string {
	return changeSentence.ReplaceAllString(desc, "")
}

func (r *ephemeralCertificate) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_certificate"
}

func (r *ephemeralCertificate) Schema(ctx context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	var res resource.SchemaResponse
	(&certificateResource{}).Schema(ctx, resource.SchemaRequest{}, &res)
	taken := make(map[string]resourceschema.Attribute, len(ephemeralRequestAttributes))
	for _, name := range ephemeralRequestAttributes {
		taken[name] = res.Schema.Attributes[name]
	}
	// The resource's subject is computed for use_request_template only.
	subject := taken["subject"].(resourceschema.SingleNestedAttribute)
	subject.Computed = false
	taken["subject"] = subject
	attrs := ephemeralAttributes(taken, ephemeralDescription)
	enrollment := ephemeralAttributes(enrollmentAttributes(), ephemeralDescription)
	enrollment["secret"] = schema.StringAttribute{
		Description: "Pre-shared secret; never stored, as no argument of an ephemeral resource is.",
		Optional:    true, Sensitive: true,
	}
	attrs["enrollment"] = schema.SingleNestedAttribute{
		Description: "Credentials for the initialization request (IR): `reference` with `secret` (MAC protection), " +
			"or `certificate_pem` with `private_key_pem` of an externally issued certificate (signature " +
			"protection). Unset, the provider's `reference` and `secret` protect the IR; a secret set here without " +
			"`reference` goes with the provider's `reference`. An ephemeral resource keeps none of its arguments, " +
			"so `secret` here is never stored.",
		Optional:   true,
		Attributes: enrollment,
	}
	attrs["validity_period_hours"] = schema.Int64Attribute{
		Description: fmt.Sprintf("Requested validity in hours. Default %d: the certificate serves one run and, "+
			"unless revoked on close, expires soon after. The CA may grant less.", defaultEphemeralValidityHours),
		Optional:   true,
		Computed:   true,
		Validators: res.Schema.Attributes["validity_period_hours"].(resourceschema.Int64Attribute).Validators,
	}
	attrs["revoke_on_close"] = schema.BoolAttribute{
		Description: "Revoke the certificate (RR, signed with the certificate itself, RFC 9483 section 4.2) when " +
			"Terraform closes the ephemeral resource at the end of the run. Default `false`: the certificate is " +
			"left to expire. A certificate whose RR fails is left to expire with a warning.",
		Optional: true,
		Computed: true,
	}
	attrs["private_key_pem"] = schema.StringAttribute{
		Description: "Private key of the certificate, PEM (PKCS#8), generated in memory as `key_algorithm`, " +
			"`rsa_bits` and `ecdsa_curve` say.",
		Computed:  true,
		Sensitive: true,
	}
	resp.Schema = schema.Schema{
		Description: "A short-lived certificate enrolled over CMP with an initialization request (IR) when " +
			"Terraform opens it, and never written to the plan or the state (Terraform 1.10 or later): for " +
			"client certificates that configure another provider (Kubernetes, Vault, a database) within one run. " +
			"Terraform opens an ephemeral resource in every plan and every apply, a destroy's included, even when " +
			"nothing refers to it, so each of them enrolls a certificate of its own. When the run ends, Terraform closes it: with `revoke_on_close` the " +
			"certificate is revoked (RR), else it is left to expire (default validity " +
			fmt.Sprint(defaultEphemeralValidityHours) + " hour).",
		Attributes: attrs,
	}
}

func (r *ephemeralCertificate) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	if d := providerDefaults(req.ProviderData, &resp.Diagnostics); d != nil {
		r.defaults = d
	}
}

// setDefaults fills what m leaves unset with the ephemeral certificate's
// defaults, which are cmpv2_certificate's but for the validity.
func (m *ephemeralCertificateModel) setDefaults() {
	if m.ValidityPeriodHours.IsNull() {
		m.ValidityPeriodHours = types.Int64Value(defaultEphemeralValidityHours)
	}
	if m.RevokeOnClose.IsNull() {
		m.RevokeOnClose = types.BoolValue(false)
	}
	for _, d := range []struct {
		v   *types.String
		def string
	}{{&m.KeyAlgorithm, defaultKeyAlgorithm}, {&m.ECDSACurve, defaultECDSACurve}, {&m.RevocationReason, defaultRevocationReason}} {
		if d.v.IsNull() {
			*d.v = types.StringValue(d.def)
		}
	}
	if m.RSABits.IsNull() {
		m.RSABits = types.Int64Value(defaultRSABits)
	}
}

// asCertificate is m as cmpv2_certificate's configuration (and plan of a
// create), for the rules and the request building of the resource.
func (m ephemeralCertificateModel) asCertificate() (certificateModel, diag.Diagnostics) {
	enrollment, diags := asEnrollmentObject(m.Enrollment)
	return certificateModel{
		Server: m.Server, Enrollment: enrollment, Subject: m.Subject, DNSNames: m.DNSNames,
		IPAddresses: m.IPAddresses, URIs: m.URIs, EmailAddresses: m.EmailAddresses, KeyUsages: m.KeyUsages,
		ExtendedKeyUsages: m.ExtendedKeyUsages, ValidityPeriodHours: m.ValidityPeriodHours,
		CertificateProfile: m.CertificateProfile, KeyAlgorithm: m.KeyAlgorithm, RSABits: m.RSABits,
		ECDSACurve: m.ECDSACurve, PrivateKeyPEM: types.StringNull(),
	}, diags
}

// ValidateConfig applies cmpv2_certificate's rules for what is wrong
// whatever happens: key attributes of another algorithm, credentials that
// can never protect an IR, nothing to certify.
func (r *ephemeralCertificate) ValidateConfig(ctx context.Context, req ephemeral.ValidateConfigRequest, resp *ephemeral.ValidateConfigResponse) {
	var m ephemeralCertificateModel
	if resp.Diagnostics.Append(req.Config.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	cm, diags := m.asCertificate()
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	validateKeyAttributes(cm, &resp.Diagnostics)
	_, _, diags = irCredentials(ctx, cm.Enrollment, nil, "")
	resp.Diagnostics.Append(diags...)
	validateSomethingToCertify(cm, &resp.Diagnostics)
}

// privateHandle is the key of the ephemeral resource's private data that
// names the certificate Close revokes in openCertificates; the private
// data holds no certificate and no key.
const privateHandle = "open"

// Open enrolls the certificate (sendCreate, as cmpv2_certificate's Create).
func (r *ephemeralCertificate) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	var m ephemeralCertificateModel
	if resp.Diagnostics.Append(req.Config.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	m.setDefaults()
	cm, diags := m.asCertificate()
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	reason, err := cmpclient.ParseReason(m.RevocationReason.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Invalid revocation reason", err.Error())
		return
	}
	enr, keyPEM, _, incomplete, diags := sendCreate(ctx, r.defaults, r.clock, cm, cm, defaultOperationTimeout)
	if resp.Diagnostics.Append(diags...); enr == nil {
		return
	}
	key, err := parsePrivateKeyPEM(keyPEM.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("cmpv2_certificate: generated key unreadable", err.Error())
		return
	}
	// The RR of Close goes where the IR went, and its signed answer is
	// verified with the configured anchors, else with the one the IR
	// adopted.
	conn, diags := resolveConnection(ctx, path.Root("server"), cm.Server, r.defaults)
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	if len(conn.TrustedCAs) == 0 && conn.ServerCertificate == nil && enr.AdoptedTrustAnchor != nil {
		conn.TrustedCAs = []*x509.Certificate{enr.AdoptedTrustAnchor}
	}
	opened := &openCertificate{conn: conn, cert: enr.Certificate, key: key, reason: reason}
	if incomplete != nil {
		// Issued but not confirmed: nobody holds it after this run, so it
		// is revoked now, and the run fails.
		detail := cmpErrorDetail(incomplete)
		if err := r.revoke(ctx, opened); err != nil {
			detail += "\n\nRevoking it failed too; it stays valid until " + formatTime(enr.Certificate.NotAfter) +
				".\n\n" + cmpErrorDetail(err)
		}
		resp.Diagnostics.AddError("cmpv2_certificate: certificate issued but the IR did not complete", detail)
		return
	}
	setIssued(&cm, enr, keyPEM.ValueString(), nil, r.clock.now())
	m.CertificatePEM, m.CAChainPEM, m.PrivateKeyPEM = cm.CertificatePEM, cm.CAChainPEM, cm.PrivateKeyPEM
	m.SerialNumber, m.NotBefore, m.NotAfter = cm.SerialNumber, cm.NotBefore, cm.NotAfter
	if m.RevokeOnClose.ValueBool() {
		handle, err := r.open.add(opened)
		if err != nil {
			resp.Diagnostics.AddError("cmpv2_certificate: cannot remember the certificate to revoke", err.Error())
			return
		}
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateHandle, handle)...)
	}
	resp.Diagnostics.Append(resp.Result.Set(ctx, &m)...)
}

// Close revokes the certificate when revoke_on_close is set. A failure
// is a warning: the run's work is done, and the certificate expires soon.
func (r *ephemeralCertificate) Close(ctx context.Context, req ephemeral.CloseRequest, resp *ephemeral.CloseResponse) {
	handle, diags := req.Private.GetKey(ctx, privateHandle)
	if resp.Diagnostics.Append(diags...); handle == nil {
		return // revoke_on_close = false: left to expire
	}
	c := r.open.take(handle)
	if c == nil {
		resp.Diagnostics.AddWarning("cmpv2_certificate: ephemeral certificate not revoked",
			"The provider process that enrolled the certificate is not the one closing it, so it holds no key to "+
				"sign the revocation request with; the certificate is left to expire.")
		return
	}
	if !r.clock.now().Before(c.cert.NotAfter) {
		return // expired: nothing to revoke
	}
	if err := r.revoke(ctx, c); err != nil && !alreadyRevoked(err) {
		resp.Diagnostics.AddWarning("cmpv2_certificate: ephemeral certificate not known to be revoked",
			fmt.Sprintf("The certificate (serial %s) %s; it stays valid until %s.\n\n%s%s", c.cert.SerialNumber,
				revocationFailure(err), formatTime(c.cert.NotAfter), cmpErrorDetail(err),
				refusedRevocation(err, "revoke_on_close")))
	}
}

// revoke sends the RR of c, signed with c's certificate (revokeWith).
func (r *ephemeralCertificate) revoke(ctx context.Context, c *openCertificate) error {
	ctx, cancel := operationContext(ctx, defaultOperationTimeout, r.clock.stopGrace())
	defer cancel()
	return revokeWith(ctx, c.conn, nil, c.cert, c.reason, c.key)
}

// openCertificate is what Close needs to revoke an ephemeral certificate.
type openCertificate struct {
	conn   *Connection
	cert   *x509.Certificate
	key    crypto.Signer
	reason cmpclient.Reason
}

// openCertificates holds the ephemeral certificates to revoke on Close, in
// the provider's memory, by a random handle that the ephemeral resource's
// private data carries: Terraform opens and closes an ephemeral resource
// within one run of the provider, and the private data then holds nothing
// secret. The zero value is ready to use.
type openCertificates struct {
	mu    sync.Mutex
	certs map[string]*openCertificate
}

// add keeps c and returns its handle, as JSON for the private data.
func (o *openCertificates) add(c *openCertificate) ([]byte, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("handle: %w", err)
	}
	handle := hex.EncodeToString(b)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.certs == nil {
		o.certs = map[string]*openCertificate{}
	}
	o.certs[handle] = c
	return json.Marshal(handle)
}

// take removes and returns the certificate of the handle add returned, nil
// when this process holds none.
func (o *openCertificates) take(handleJSON []byte) *openCertificate {
	var handle string
	if json.Unmarshal(handleJSON, &handle) != nil {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	c := o.certs[handle]
	delete(o.certs, handle)
	return c
}
