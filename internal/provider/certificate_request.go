package provider

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// certRequest builds what m asks the CA for, with key as the new key. The
// inputs passed plan-time validation, so a failure here names the attribute
// but is not expected.
func certRequest(ctx context.Context, m certificateModel, key crypto.Signer, now time.Time) (*cmpclient.CertRequest, diag.Diagnostics) {
	var diags diag.Diagnostics
	req := &cmpclient.CertRequest{Key: key, Profile: m.CertificateProfile.ValueString()}
	if !m.Subject.IsNull() {
		var s subjectModel
		diags.Append(m.Subject.As(ctx, &s, basetypes.ObjectAsOptions{})...)
		req.Subject = s.name()
	}
	diags.Append(m.DNSNames.ElementsAs(ctx, &req.DNSNames, false)...)
	diags.Append(m.EmailAddresses.ElementsAs(ctx, &req.EmailAddresses, false)...)

	var ips, uris, usages, extUsages []string
	diags.Append(m.IPAddresses.ElementsAs(ctx, &ips, false)...)
	diags.Append(m.URIs.ElementsAs(ctx, &uris, false)...)
	diags.Append(m.KeyUsages.ElementsAs(ctx, &usages, false)...)
	diags.Append(m.ExtendedKeyUsages.ElementsAs(ctx, &extUsages, false)...)
	if diags.HasError() {
		return nil, diags
	}
	for _, s := range ips {
		ip := net.ParseIP(s)
		if ip == nil {
			diags.AddAttributeError(path.Root("ip_addresses"), "Invalid IP address", fmt.Sprintf("%q is not an IP address", s))
			continue
		}
		req.IPAddresses = append(req.IPAddresses, ip)
	}
	for _, s := range uris {
		u, err := url.Parse(s)
		if err != nil {
			diags.AddAttributeError(path.Root("uris"), "Invalid URI", err.Error())
			continue
		}
		req.URIs = append(req.URIs, u)
	}
	for _, name := range usages {
		req.KeyUsage |= keyUsages[name]
	}
	for _, name := range extUsages {
		req.ExtKeyUsage = append(req.ExtKeyUsage, extendedKeyUsages[name])
	}
	// Only the end of the validity is asked for: a notBefore of "now" by
	// our clock would be refused by a CA whose clock is behind.
	if h := m.ValidityPeriodHours.ValueInt64(); h > 0 {
		req.NotAfter = now.Add(time.Duration(h) * time.Hour)
	}
	return req, diags
}

// keyForRequest returns the key a request of m certifies and its PEM for
// the state: the user's private_key_pem, the key already in plan (kept by
// a CR or a same-key KUR), or a new key as key_algorithm, rsa_bits and
// ecdsa_curve say when the plan leaves private_key_pem unknown.
func keyForRequest(config, plan certificateModel) (crypto.Signer, string, error) {
	keyPEM := plan.PrivateKeyPEM
	if !config.PrivateKeyPEM.IsNull() {
		keyPEM = config.PrivateKeyPEM
	}
	if !keyPEM.IsUnknown() && !keyPEM.IsNull() && keyPEM.ValueString() != "" {
		key, err := parsePrivateKeyPEM(keyPEM.ValueString())
		if err != nil {
			return nil, "", fmt.Errorf("private_key_pem: %w", err)
		}
		return key, keyPEM.ValueString(), nil
	}
	spec := keySpec{Algorithm: plan.KeyAlgorithm.ValueString(), RSABits: int(plan.RSABits.ValueInt64()),
		Curve: plan.ECDSACurve.ValueString()}
	key, err := generateKey(spec)
	if err != nil {
		return nil, "", fmt.Errorf("generate key: %w", err)
	}
	pemText, err := marshalPrivateKeyPEM(key)
	if err != nil {
		return nil, "", err
	}
	return key, pemText, nil
}

// parseCertificatePEM parses the one certificate a state attribute holds.
func parseCertificatePEM(s string) (*x509.Certificate, error) {
	certs, err := parseCertificatesPEM(s)
	if err != nil {
		return nil, err
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("want one certificate, found %d", len(certs))
	}
	return certs[0], nil
}
