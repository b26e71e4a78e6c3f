package provider

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/pemkey"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// setIssued stores an issued certificate in m: the certificate, its chain
// and what users read off it, the key that goes with it, and the renewal
// window. previous is the certificate a CR or KUR replaced (nil after an
// IR); it is kept for overlapping deployments and only then, so the state
// holds no second copy of anything: the state stays lean. now decides
// ready_for_renewal.
func setIssued(m *certificateModel, enr *cmpclient.Enrollment, keyPEM string, previous *x509.Certificate, now time.Time) error {
	cert := enr.Certificate
	pub, err := pemkey.MarshalPublicKey(cert.PublicKey)
	if err != nil {
		return err
	}
	// ca_chain_pem is the issuer chain without the leaf; cmpclient built
	// (and, with trust anchors, verified) it from extraCerts and caPubs.
	chain := enr.Chain
	if len(chain) == 0 {
		chain = enr.CACerts
	}
	sum := sha256.Sum256(cert.Raw)

	m.CertificatePEM = types.StringValue(certificatePEM(cert))
	m.CAChainPEM = types.StringValue(certificatesPEM(chain))
	m.CertificateChainPEM = types.StringValue(certificatesPEM(servedChain(cert, enr.Chain)))
	m.SerialNumber = types.StringValue(cert.SerialNumber.String())
	m.Issuer = types.StringValue(cert.Issuer.String())
	m.NotBefore = types.StringValue(formatTime(cert.NotBefore))
	m.NotAfter = types.StringValue(formatTime(cert.NotAfter))
	m.PublicKeyPEM = types.StringValue(string(pub))
	m.FingerprintSHA256 = types.StringValue(hex.EncodeToString(sum[:]))
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
	return nil
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
