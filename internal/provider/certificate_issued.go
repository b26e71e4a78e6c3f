package provider

import (
	"bytes"
	"crypto/x509"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// setIssued stores an issued certificate in m: the certificate, its chain,
// serial and validity, the key that goes with it, and the renewal window.
// What else a certificate says is derivable from it, so the state keeps
// none of it (the functions certificate_info and certificate_chain).
// previous is the certificate a CR or KUR replaced (nil after an IR); it
// is kept for overlapping deployments and only then, so the state holds no
// second copy of anything. now decides ready_for_renewal.
func setIssued(m *certificateModel, enr *cmpclient.Enrollment, keyPEM string, previous *x509.Certificate, now time.Time) {
	cert := enr.Certificate
	// ca_chain_pem is the issuer chain without the leaf; cmpclient built
	// (and, with trust anchors, verified) it from extraCerts and caPubs.
	chain := enr.Chain
	if len(chain) == 0 {
		chain = enr.CACerts
	}

	m.CertificatePEM = types.StringValue(certificatePEM(cert))
	m.CAChainPEM = types.StringValue(certificatesPEM(chain))
	m.SerialNumber = types.StringValue(cert.SerialNumber.String())
	m.NotBefore = types.StringValue(formatTime(cert.NotBefore))
	m.NotAfter = types.StringValue(formatTime(cert.NotAfter))
	m.LastOperation = types.StringValue(enr.Operation)
	// The adopted anchor ends the verified chain, so ca_chain_pem holds it
	// and trust_anchor_sha256 only names it (certificate_trust.go).
	m.TrustAnchorSHA256 = adoptedAnchorSHA256(enr.AdoptedTrustAnchor, types.StringNull())
	m.PrivateKeyPEM = types.StringValue(keyPEM)
	if previous != nil {
		m.PreviousCertificatePEM = types.StringValue(certificatePEM(previous))
	} else {
		m.PreviousCertificatePEM = types.StringNull()
	}
	if m.KeyAlgorithm.IsUnknown() {
		setKeyAttributes(m, cert.PublicKey) // a write-only key unknown at plan
	}
	m.PreviousPrivateKeyPEM = types.StringNull() // a CR or KUR sets it (previousKeyOutput)
	setRenewal(m, cert.NotBefore, cert.NotAfter, now)
}

// previousKeyOutput says where the key of the certificate a CR or KUR
// replaced goes, when that certificate had the key oldKeyPEM and the new
// one has newKeyPEM: the attribute previous_private_key_pem, or (record)
// the resource's private state, which only signs the old certificate's RR
// (RFC 9483 section 4.2). The same key goes nowhere: the current key signs
// that RR. A key the configuration supplies (userKey) is the user's, so the
// provider keeps the old one to itself; a key it generated is handed out.
func previousKeyOutput(oldKeyPEM, newKeyPEM string, userKey bool) (attribute types.String, record string) {
	switch {
	case oldKeyPEM == "" || oldKeyPEM == newKeyPEM:
		return types.StringNull(), ""
	case userKey:
		return types.StringNull(), oldKeyPEM
	}
	return types.StringValue(oldKeyPEM), ""
}

// setRenewal computes renewal_time and ready_for_renewal of a certificate
// valid from notBefore to notAfter under m's renewal settings, at now.
func setRenewal(m *certificateModel, notBefore, notAfter, now time.Time) {
	settings, _ := renewalSettingsOf(*m)
	renewAt, _ := renewalTime(notBefore, notAfter, settings)
	m.RenewalTime = types.StringValue(formatTime(renewAt))
	m.ReadyForRenewal = types.BoolValue(!now.Before(renewAt))
}

// servedChain is what a TLS server sends (RFC 8446 section 4.4.2, RFC 5246
// section 7.4.2): the certificate, then its issuer chain (nearest issuer
// first) without the root, which the peer must already hold as a trust
// anchor. The root is the self-signed certificate the chain ends with; a
// chain that ends with an intermediate (trust anchored there) is kept whole.
func servedChain(cert *x509.Certificate, chain []*x509.Certificate) []*x509.Certificate {
	served := append([]*x509.Certificate{cert}, chain...)
	if last := served[len(served)-1]; len(served) > 1 && selfSigned(last) {
		served = served[:len(served)-1]
	}
	return served
}

// selfSigned reports whether c is a self-signed certificate: its issuer is
// its subject and its own key verifies its signature.
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

func certificatePEM(c *x509.Certificate) string {
	return string(pemkey.EncodeCertificates(c.Raw))
}

func certificatesPEM(certs []*x509.Certificate) string {
	ders := make([][]byte, len(certs))
	for i, c := range certs {
		ders[i] = c.Raw
	}
	return string(pemkey.EncodeCertificates(ders...))
}
