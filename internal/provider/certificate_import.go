package provider

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ resource.ResourceWithImportState = (*certificateResource)(nil)

// ImportState adopts a certificate enrolled elsewhere (for example by
// another CMP client), so that Terraform renews it with KUR instead of a
// new IR. The id is the path of a PEM file, or the PEM text itself, holding
// the certificate, optionally its issuer chain, and its private key (which
// later CR, KUR and RR are signed with). The requested attributes are read
// off the certificate; settings the certificate does not carry (server,
// enrollment, renewal, revocation) come from the configuration at the next
// apply, as a state-only update.
func (r *certificateResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	pemText := req.ID
	if !strings.HasPrefix(strings.TrimSpace(pemText), "-----BEGIN") {
		b, err := os.ReadFile(req.ID)
		if err != nil {
			resp.Diagnostics.AddError("cmpv2_certificate: cannot read the import file",
				"The import id is the path of a PEM file with the certificate and its private key (or that PEM "+
					"text): "+err.Error())
			return
		}
		pemText = string(b)
	}
	m, err := importedModel(ctx, pemText, r.clock.now())
	if err != nil {
		resp.Diagnostics.AddError("cmpv2_certificate: cannot import", err.Error())
		return
	}
	resp.Diagnostics.Append(writeCertificate(ctx, *m, &resp.State.Raw)...)
	resp.Diagnostics.Append(setImported(ctx, resp.Private, true)...)
}

// importedModel builds the state of an imported certificate at now.
func importedModel(ctx context.Context, pemText string, now time.Time) (*certificateModel, error) {
	certs, key, keyBlock, err := pemkey.ParseBundle([]byte(pemText))
	if err != nil {
		return nil, fmt.Errorf("import PEM: %w", err)
	}
	cert := certs[0]
	if !pemkey.BelongsTo(key, cert) {
		return nil, errors.New("the private key does not belong to the first certificate")
	}
	spec, err := enrollableSpec(key)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	// The key is kept in the form it was given (PKCS#8, PKCS#1 or SEC 1).
	keyPEM := string(pem.EncodeToMemory(keyBlock))

	m := nullCertificateModel()
	setIssued(m, &cmpclient.Enrollment{Certificate: cert, Chain: certs[1:]}, keyPEM, nil, now)
	m.ID = m.SerialNumber
	m.LastOperation = types.StringNull() // not known: another client enrolled it
	m.KeyAlgorithm = types.StringValue(spec.Algorithm)
	m.RSABits = types.Int64Value(defaultRSABits)
	m.ECDSACurve = types.StringValue(defaultECDSACurve)
	switch spec.Algorithm {
	case keyAlgorithmRSA:
		m.RSABits = types.Int64Value(int64(spec.RSABits))
	case keyAlgorithmECDSA:
		m.ECDSACurve = types.StringValue(spec.Curve)
	}
	m.RevokeOnDestroy = types.BoolValue(true)
	m.RevokeSuperseded = types.BoolValue(true)
	m.UpdateProtection = types.StringValue(updateProtectionSignature)
	m.RevocationReason = types.StringValue(defaultRevocationReason)

	var diags diag.Diagnostics
	m.Subject = subjectOf(ctx, cert, &diags)
	strs := func(list []string) types.List {
		if len(list) == 0 {
			return types.ListNull(types.StringType)
		}
		v, d := types.ListValueFrom(ctx, types.StringType, list)
		diags.Append(d...)
		return v
	}
	var ips, uris, usages, extUsages []string
	for _, ip := range cert.IPAddresses {
		ips = append(ips, ip.String())
	}
	for _, u := range cert.URIs {
		uris = append(uris, u.String())
	}
	for name, bit := range keyUsages {
		if cert.KeyUsage&bit != 0 {
			usages = append(usages, name)
		}
	}
	for name, eku := range extendedKeyUsages {
		for _, have := range cert.ExtKeyUsage {
			if have == eku {
				extUsages = append(extUsages, name)
			}
		}
	}
	m.DNSNames, m.EmailAddresses = strs(cert.DNSNames), strs(cert.EmailAddresses)
	m.IPAddresses, m.URIs = strs(ips), strs(uris)
	set := func(list []string) types.Set {
		if len(list) == 0 {
			return types.SetNull(types.StringType)
		}
		v, d := types.SetValueFrom(ctx, types.StringType, list)
		diags.Append(d...)
		return v
	}
	m.KeyUsages, m.ExtendedKeyUsages = set(usages), set(extUsages)
	if diags.HasError() {
		return nil, fmt.Errorf("import: %v", diags)
	}
	return m, nil
}

// subjectOf is the subject object of cert (the first value of each
// attribute; the subject object holds one).
func subjectOf(ctx context.Context, cert *x509.Certificate, diags *diag.Diagnostics) types.Object {
	return subjectObject(ctx, cert.Subject, diags)
}

// subjectObject is the subject object of n: the first value of each
// attribute, null for an attribute without a value.
func subjectObject(ctx context.Context, n pkix.Name, diags *diag.Diagnostics) types.Object {
	first := func(v []string) types.String {
		if len(v) == 0 || v[0] == "" {
			return types.StringNull()
		}
		return types.StringValue(v[0])
	}
	one := func(s string) types.String {
		if s == "" {
			return types.StringNull()
		}
		return types.StringValue(s)
	}
	s := subjectModel{
		CommonName: one(n.CommonName), Organization: first(n.Organization), OrganizationalUnit: first(n.OrganizationalUnit),
		Country: first(n.Country), Province: first(n.Province), Locality: first(n.Locality),
		StreetAddress: first(n.StreetAddress), PostalCode: first(n.PostalCode), SerialNumber: one(n.SerialNumber),
	}
	obj, d := types.ObjectValueFrom(ctx, subjectAttrTypes, s)
	diags.Append(d...)
	return obj
}

// nullCertificateModel is a certificate state with every attribute null.
func nullCertificateModel() *certificateModel {
	m := &certificateModel{
		Server:              types.ObjectNull(connectionAttrTypes),
		Enrollment:          types.ObjectNull(enrollmentAttrTypes),
		Subject:             types.ObjectNull(subjectAttrTypes),
		DNSNames:            types.ListNull(types.StringType),
		IPAddresses:         types.ListNull(types.StringType),
		URIs:                types.ListNull(types.StringType),
		EmailAddresses:      types.ListNull(types.StringType),
		KeyUsages:           types.SetNull(types.StringType),
		ExtendedKeyUsages:   types.SetNull(types.StringType),
		ValidityPeriodHours: types.Int64Null(),
		RenewBeforeExpiry:   types.StringNull(),
		RenewAfterIssue:     types.StringNull(),
		RotationTriggers:    types.MapNull(types.StringType),
	}
	m.Timeouts.Object = types.ObjectNull(map[string]attr.Type{
		"create": types.StringType, "update": types.StringType, "delete": types.StringType,
	})
	return m
}

// priorForImport: the validity an imported certificate was requested with
// is not known, nor were rotation_triggers set for it, so until the first
// apply after the import (pending) what the configuration says is taken as
// what the certificate was made with (a validity setting applies from the
// next CR or KUR); without this, every import would be followed by a CR or
// KUR. After that apply the state holds the adopted values, which later
// changes are compared with, as for any certificate.
func priorForImport(prior *certificateIntent, planned certificateIntent, state certificateModel, pending bool) {
	if pending {
		prior.ValidityHours = planned.ValidityHours
		prior.Profile = planned.Profile // the profile it was issued under is not known
		if state.RotationTriggers.IsNull() {
			prior.RotationTriggers = planned.RotationTriggers
		}
	}
}
