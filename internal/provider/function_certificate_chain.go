package provider

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/function"
)

// certificateChainFunction is `provider::cmpv2::certificate_chain`: the
// chain a TLS server sends, from a certificate and its issuer chain. The
// resource keeps the two parts once; joining them costs nothing in plans
// that do not ask.
type certificateChainFunction struct{}

var _ function.Function = certificateChainFunction{}

func newCertificateChainFunction() function.Function { return certificateChainFunction{} }

func (certificateChainFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "certificate_chain"
}

func (certificateChainFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "The certificate chain a TLS server sends",
		MarkdownDescription: "Returns `certificate_pem` followed by its issuer chain from `ca_chain_pem` without the " +
			"root (a self-signed CA certificate) the chain ends with, PEM: what a TLS server sends (RFC 8446 section " +
			"4.4.2), ready for a Kubernetes `tls.crt` or a load balancer's certificate chain. A chain that ends " +
			"with an intermediate is kept whole. Only the leading certificates of `ca_chain_pem` that issued " +
			"`certificate_pem` and each other are taken, so a `ca_chain_pem` that holds the CA's caPubs as sent " +
			"(when no issuer chain could be built) gives the certificate alone, as does an empty one. It replaces " +
			"the resource's former `certificate_chain_pem`: `provider::cmpv2::certificate_chain(" +
			"cmpv2_certificate.web.certificate_pem, cmpv2_certificate.web.ca_chain_pem)`.",
		Parameters: []function.Parameter{
			function.StringParameter{Name: "certificate_pem", Description: "The certificate, PEM: one certificate."},
			function.StringParameter{
				Name:        "ca_chain_pem",
				Description: "Its issuer chain, PEM, nearest issuer first, as `ca_chain_pem` holds it; may be empty.",
			},
		},
		Return: function.StringReturn{},
	}
}

func (certificateChainFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var certPEM, chainPEM string
	if resp.Error = req.Arguments.Get(ctx, &certPEM, &chainPEM); resp.Error != nil {
		return
	}
	cert, err := parseCertificatePEM(certPEM)
	if err != nil {
		resp.Error = function.NewArgumentFuncError(0, fmt.Sprintf("certificate_pem: %v", err))
		return
	}
	served := servedChain(cert, nil)
	if chainPEM != "" {
		chain, err := parseCertificatesPEM(chainPEM)
		if err != nil {
			resp.Error = function.NewArgumentFuncError(1, fmt.Sprintf("ca_chain_pem: %v", err))
			return
		}
		served = servedChain(cert, issuedPrefix(cert, chain))
	}
	resp.Error = resp.Result.Set(ctx, certificatesPEM(served))
}

// issuedPrefix is the leading part of chain in which each certificate
// issued the one before it, starting with cert's issuer: all of an issuer
// chain as ca_chain_pem holds it, nothing of caPubs that did not issue
// cert. Issued means the issuer's key verifies the signature and it may
// sign certificates (RFC 5280 sections 4.2.1.3 and 4.2.1.9).
func issuedPrefix(cert *x509.Certificate, chain []*x509.Certificate) []*x509.Certificate {
	child := cert
	for i, c := range chain {
		if !bytes.Equal(child.RawIssuer, c.RawSubject) || child.CheckSignatureFrom(c) != nil {
			return chain[:i]
		}
		child = c
	}
	return chain
}
