package provider

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// certificateInfoFunction is `provider::cmpv2::certificate_info`: what a
// certificate says, decoded from its PEM. Everything it returns is
// derivable from `certificate_pem`, so the resource keeps none of it: a
// function costs nothing in plans that do not call it, and nothing in
// state.
type certificateInfoFunction struct{}

var _ function.Function = certificateInfoFunction{}

func newCertificateInfoFunction() function.Function { return certificateInfoFunction{} }

// certificateInfoTypes is the returned object's shape.
var certificateInfoTypes = map[string]attr.Type{
	"subject":            types.StringType,
	"issuer":             types.StringType,
	"serial_number":      types.StringType,
	"not_before":         types.StringType,
	"not_after":          types.StringType,
	"public_key_pem":     types.StringType,
	"fingerprint_sha256": types.StringType,
	"dns_names":          types.ListType{ElemType: types.StringType},
	"ip_addresses":       types.ListType{ElemType: types.StringType},
	"uris":               types.ListType{ElemType: types.StringType},
	"email_addresses":    types.ListType{ElemType: types.StringType},
	"is_ca":              types.BoolType,
}

func (certificateInfoFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "certificate_info"
}

func (certificateInfoFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Decode an X.509 certificate",
		MarkdownDescription: "Decodes the first certificate of a PEM string, such as `cmpv2_certificate.certificate_pem` or " +
			"`previous_certificate_pem`, and returns an object with `subject` and `issuer` (RFC 4514 form), " +
			"`serial_number` (decimal), `not_before` and `not_after` (RFC 3339), `public_key_pem` " +
			"(SubjectPublicKeyInfo, PEM), `fingerprint_sha256` (of the DER, lower-case hex), `dns_names`, " +
			"`ip_addresses`, `uris` and `email_addresses` (the subject alternative names) and `is_ca`. " +
			"It replaces the resource's former `issuer`, `public_key_pem` and `fingerprint_sha256` attributes, " +
			"at no cost to plans that do not call it. A certificate that is known only after apply gives a " +
			"result known only after apply.",
		Parameters: []function.Parameter{
			function.StringParameter{
				Name:        "pem",
				Description: "One or more PEM certificates; the first one is decoded.",
			},
		},
		Return: function.ObjectReturn{AttributeTypes: certificateInfoTypes},
	}
}

func (certificateInfoFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var pem string
	if resp.Error = req.Arguments.Get(ctx, &pem); resp.Error != nil {
		return
	}
	info, err := certificateInfo(pem)
	if err != nil {
		resp.Error = function.NewArgumentFuncError(0, err.Error())
		return
	}
	obj, diags := types.ObjectValue(certificateInfoTypes, info)
	if diags.HasError() {
		resp.Error = function.FuncErrorFromDiags(ctx, diags)
		return
	}
	resp.Error = resp.Result.Set(ctx, obj)
}

// certificateInfo decodes the first certificate of pem into the values of
// certificate_info's object.
func certificateInfo(pem string) (map[string]attr.Value, error) {
	certs, err := parseCertificatesPEM(pem)
	if err != nil {
		return nil, fmt.Errorf("pem: %w", err)
	}
	c := certs[0] // ParseCertificates finds at least one or fails
	pub, err := pemkey.MarshalPublicKey(c.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("public key of certificate %s: %w", c.Subject, err)
	}
	sum := sha256.Sum256(c.Raw)
	ips := make([]string, len(c.IPAddresses))
	for i, ip := range c.IPAddresses {
		ips[i] = ip.String()
	}
	uris := make([]string, len(c.URIs))
	for i, u := range c.URIs {
		uris[i] = u.String()
	}
	return map[string]attr.Value{
		"subject":            types.StringValue(c.Subject.String()),
		"issuer":             types.StringValue(c.Issuer.String()),
		"serial_number":      types.StringValue(c.SerialNumber.String()),
		"not_before":         types.StringValue(formatTime(c.NotBefore)),
		"not_after":          types.StringValue(formatTime(c.NotAfter)),
		"public_key_pem":     types.StringValue(string(pub)),
		"fingerprint_sha256": types.StringValue(hex.EncodeToString(sum[:])),
		"dns_names":          stringList(c.DNSNames),
		"ip_addresses":       stringList(ips),
		"uris":               stringList(uris),
		"email_addresses":    stringList(c.EmailAddresses),
		"is_ca":              types.BoolValue(isCA(c)),
	}, nil
}

// isCA reports the cA flag of basic constraints (RFC 5280 section
// 4.2.1.9); a certificate without the extension is no CA.
func isCA(c *x509.Certificate) bool { return c.BasicConstraintsValid && c.IsCA }

// stringList is a list value of ss; nil gives an empty list, so the
// result's lists are never null.
func stringList(ss []string) types.List {
	elems := make([]attr.Value, len(ss))
	for i, s := range ss {
		elems[i] = types.StringValue(s)
	}
	return types.ListValueMust(types.StringType, elems)
}
