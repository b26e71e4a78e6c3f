package provider

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"software.sslmate.com/src/go-pkcs12"
)

// p12Model is the PKCS#12 (RFC 7292) output of cmpv2_certificate: opt-in,
// so a certificate without a password configured stores four nulls.
type p12Model struct {
	CertificateP12       types.String `tfsdk:"certificate_p12"`
	P12Password          types.String `tfsdk:"certificate_p12_password"`
	P12PasswordWO        types.String `tfsdk:"certificate_p12_password_wo"`
	P12PasswordWOVersion types.Int64  `tfsdk:"certificate_p12_password_wo_version"`
	P12Encoding          types.String `tfsdk:"certificate_p12_encoding"`
}

// PKCS#12 encodings (certificate_p12_encoding). Each names a fixed set of
// algorithms, pinned here rather than following the library's aliases
// (pkcs12.Modern, pkcs12.Legacy), so that a library upgrade never changes
// what an importer receives.
const (
	p12Modern    = "modern"
	p12Legacy    = "legacy"
	p12LegacyRC2 = "legacy_rc2"
)

var p12Encoders = map[string]*pkcs12.Encoder{
	// PBES2 (PBKDF2-HMAC-SHA-256, AES-256-CBC), HMAC-SHA-256 MAC: OpenSSL
	// 1.1.1+, Java 12+, Windows Server 2019+.
	p12Modern: pkcs12.Modern2023,
	// pbeWithSHAAnd3-KeyTripleDES-CBC for key and certificates, HMAC-SHA-1
	// MAC (OpenSSL's -descert): read by nearly every importer, OpenSSL 3
	// included.
	p12Legacy: pkcs12.LegacyDES,
	// pbeWithSHAAnd40BitRC2-CBC for the certificates, 3DES for the key,
	// HMAC-SHA-1 MAC: what OpenSSL before 3.0 and older Java wrote; OpenSSL 3
	// reads it only with -legacy.
	p12LegacyRC2: pkcs12.LegacyRC2,
}

// p12Attributes are the PKCS#12 attributes of cmpv2_certificate's schema.
func p12Attributes() map[string]schema.Attribute {
	password, passwordWO := path.MatchRoot("certificate_p12_password"), path.MatchRoot("certificate_p12_password_wo")
	version := path.MatchRoot("certificate_p12_password_wo_version")
	return map[string]schema.Attribute{
		"certificate_p12": schema.StringAttribute{
			Description: "The private key, `certificate_pem` and `ca_chain_pem` as one PKCS#12 (PFX, RFC 7292) file, " +
				"base64, encrypted and MACed under the password (`certificate_p12_password` or " +
				"`certificate_p12_password_wo`), for Java keystores, Windows and load balancers: write it with " +
				"`local_sensitive_file`'s `content_base64`, or give it to a Kubernetes secret's `binary_data`. Null " +
				"unless a password is configured. " +
				"It is made at every enrollment (IR, CR, KUR) and when the password, its version or the encoding " +
				"changes, and kept otherwise, so plans without changes show no diff.",
			Computed:  true,
			Sensitive: true,
		},
		"certificate_p12_password": schema.StringAttribute{
			Description: "Password of `certificate_p12`; setting it (or `certificate_p12_password_wo`) asks for the " +
				"bundle. Stored in state (sensitive): prefer `certificate_p12_password_wo`. An empty string asks for a " +
				"bundle under the empty password, for importers that take none; whoever holds the file can then " +
				"read the key. A change re-makes the bundle with the same key and certificate (a state-only update).",
			Optional:   true,
			Sensitive:  true,
			Validators: []validator.String{stringvalidator.ConflictsWith(passwordWO)},
		},
		"certificate_p12_password_wo": schema.StringAttribute{
			Description: "Write-only password of `certificate_p12` (Terraform 1.11 or later): never stored, so " +
				"the bundle in state is encrypted under a password the state does not hold. Requires " +
				"`certificate_p12_password_wo_version`; change that version to re-make the bundle under a new " +
				"password (Terraform cannot see a change of a write-only value). Give it in every configuration: " +
				"each enrollment re-makes the bundle with it.",
			Optional:   true,
			WriteOnly:  true,
			Validators: []validator.String{stringvalidator.ConflictsWith(password), stringvalidator.AlsoRequires(version)},
		},
		"certificate_p12_password_wo_version": schema.Int64Attribute{
			Description: "Version of `certificate_p12_password_wo`; any change re-makes `certificate_p12` under " +
				"the write-only password of that apply (a state-only update).",
			Optional:   true,
			Validators: []validator.Int64{int64validator.AlsoRequires(passwordWO)},
		},
		"certificate_p12_encoding": schema.StringAttribute{
			Description: "Algorithms of `certificate_p12`: `" + p12Modern + "` (unset: AES-256-CBC under PBKDF2 with " +
				"SHA-256 and an HMAC-SHA-256 MAC; OpenSSL 1.1.1+, Java 12+, Windows Server 2019+), `" + p12Legacy +
				"` (3DES and an HMAC-SHA-1 MAC, as `openssl pkcs12 -descert` writes: older Java and Windows " +
				"importers) or `" + p12LegacyRC2 + "` (40-bit RC2 for the certificates, 3DES for the key, as OpenSSL " +
				"before 3.0 wrote; OpenSSL 3 reads it only with `-legacy`). The legacy encodings are weak: protect " +
				"such a file by other means. Used only with a password. A change re-makes the bundle (a state-only update).",
			Optional:   true,
			Validators: []validator.String{stringvalidator.OneOf(p12Modern, p12Legacy, p12LegacyRC2)},
		},
	}
}

// wantsP12 reports whether config asks for certificate_p12: a password is
// set (an unknown one counts; it is known at apply).
func (p p12Model) wantsP12() bool {
	return !p.P12Password.IsNull() || !p.P12PasswordWO.IsNull()
}

// p12Encoding is the configured encoding; unset is modern.
func (p p12Model) p12Encoding() string {
	if e := p.P12Encoding.ValueString(); e != "" {
		return e
	}
	return p12Modern
}

// sameP12Inputs reports whether a bundle made under a's settings is what
// b's settings ask for: the same password (or write-only version) and
// encoding.
func sameP12Inputs(a, b p12Model) bool {
	return a.P12Password.Equal(b.P12Password) && a.P12PasswordWOVersion.Equal(b.P12PasswordWOVersion) &&
		!a.P12Encoding.IsUnknown() && !b.P12Encoding.IsUnknown() && a.p12Encoding() == b.p12Encoding()
}

// plannedP12 is certificate_p12 in a plan: null when config asks for no
// bundle; unknown when the apply makes one (reissue: the apply enrolls, or
// may; or the state holds no bundle, or one made under other settings);
// else the state's bundle, kept.
func plannedP12(config, plan p12Model, state *p12Model, reissue bool) types.String {
	switch {
	case !config.wantsP12():
		return types.StringNull()
	case reissue || state == nil || state.CertificateP12.IsNull() || !sameP12Inputs(plan, *state):
		return types.StringUnknown()
	}
	return state.CertificateP12
}

// setP12 sets certificate_p12 of m, whose certificate, chain and key are
// those to store: null when config asks for no bundle; else a new bundle
// when remake (the apply enrolled) or when the plan left it unknown, and
// the planned one kept otherwise. The password is config's, the only place
// that holds the write-only one.
func setP12(m *certificateModel, config certificateModel, remake bool) error {
	if !config.wantsP12() {
		m.CertificateP12 = types.StringNull()
		return nil
	}
	if !remake && !m.CertificateP12.IsUnknown() {
		return nil
	}
	password := config.P12Password.ValueString()
	if !config.P12PasswordWO.IsNull() {
		password = config.P12PasswordWO.ValueString()
	}
	der, err := encodeP12(m.PrivateKeyPEM.ValueString(), m.CertificatePEM.ValueString(), m.CAChainPEM.ValueString(),
		password, m.p12Encoding())
	if err != nil {
		m.CertificateP12 = types.StringNull() // the state takes no unknown value
		return fmt.Errorf("certificate_p12: %w", err)
	}
	m.CertificateP12 = types.StringValue(base64.StdEncoding.EncodeToString(der))
	return nil
}

// p12Failed reports a bundle setP12 could not make. issued says what the
// apply put in the state all the same (the certificate an enrollment
// issued), "" when it issued nothing.
func p12Failed(diags *diag.Diagnostics, issued string, err error) {
	detail := err.Error() + "."
	if issued != "" {
		detail = issued + ", which is in the state, but " + detail
	}
	diags.AddAttributeError(path.Root("certificate_p12"), "cmpv2_certificate: no PKCS#12 bundle", detail)
}

// encodeP12 makes a PKCS#12 file of the key, the certificate and its issuer
// chain (nearest issuer first, as ca_chain_pem holds it) under password
// with the named encoding. Errors name the input, never its content.
func encodeP12(keyPEM, certPEM, chainPEM, password, encoding string) ([]byte, error) {
	enc, ok := p12Encoders[encoding]
	if !ok {
		return nil, fmt.Errorf("unknown encoding %q", encoding)
	}
	if keyPEM == "" {
		return nil, errors.New("no private key in the provider: the bundle holds the key")
	}
	key, err := parsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	cert, err := parseCertificatePEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	var chain []*x509.Certificate
	if chainPEM != "" {
		if chain, err = parseCertificatesPEM(chainPEM); err != nil {
			return nil, fmt.Errorf("issuer chain: %w", err)
		}
	}
	der, err := enc.Encode(key, cert, chain, password)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", encoding, err)
	}
	return der, nil
}
