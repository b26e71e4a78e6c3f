package cmpclient

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// macSaltLength is the length of the PBM/PBMAC1 salt, as OpenSSL and Insta
// send it.
const macSaltLength = 16

func (m MACCredentials) macParams(c *Client) (cmp.MACParams, error) {
	st, err := c.macState()
	if err != nil {
		return cmp.MACParams{}, err
	}
	var alg cmp.MACAlgorithm
	switch m.Algorithm {
	case PBMHMACSHA256:
		alg = cmp.PBMHMACSHA256
	case PBMHMACSHA1:
		alg = cmp.PBMHMACSHA1
	case PBMAC1:
		alg = cmp.PBMAC1HMACSHA256
	default:
		return cmp.MACParams{}, fmt.Errorf("unknown MAC algorithm %d", m.Algorithm)
	}
	return cmp.MACParams{Algorithm: alg, Iterations: m.Iterations, Salt: st.salt, Cache: &st.keys}, nil
}

// protect: RFC 9483 section 3.2 / RFC 9810 section 5.1.3.1; senderKID
// carries the reference that names the secret.
func (m MACCredentials) protect(c *Client, msg *cmp.Message) error {
	if len(m.Secret) == 0 {
		return errors.New("MAC credentials without a secret")
	}
	params, err := m.macParams(c)
	if err != nil {
		return err
	}
	alg, err := cmp.NewMACAlgorithmIdentifier(params)
	if err != nil {
		return fmt.Errorf("MAC protection: %w", err)
	}
	msg.Header.ProtectionAlg = &alg
	msg.Header.SenderKID = []byte(m.Reference)
	pp, err := msg.ProtectedPart()
	if err != nil {
		return err
	}
	prot, err := cmp.MACProtection(alg, m.Secret, pp, params.Cache)
	if err != nil {
		return fmt.Errorf("MAC protection: %w", err)
	}
	msg.Protection = prot
	return nil
}

// sender: with a shared secret there is no certificate to name the sender.
func (m MACCredentials) sender() (cmp.GeneralName, error) { return cmp.NullDN(), nil }

// protect: RFC 9483 section 3.2: signed with the key of Chain[0], which
// travels first in extraCerts followed by its chain; senderKID is its
// subject key identifier.
func (s SignatureCredentials) protect(c *Client, msg *cmp.Message) error {
	if s.Key == nil || len(s.Chain) == 0 || s.Chain[0] == nil {
		return errors.New("signature credentials need a key and its certificate")
	}
	signer := s.Chain[0]
	if !publicKeyMatches(signer, s.Key) {
		return fmt.Errorf("signature credentials: key does not belong to certificate %q", signer.Subject.String())
	}
	alg, err := cmp.SignatureAlgorithmFor(s.Key.Public(), s.RSAPSS)
	if err != nil {
		return fmt.Errorf("signature protection: %w", err)
	}
	msg.Header.ProtectionAlg = &alg
	msg.Header.SenderKID = signer.SubjectKeyId
	pp, err := msg.ProtectedPart()
	if err != nil {
		return err
	}
	prot, err := cmp.SignatureProtection(s.Key, alg, pp)
	if err != nil {
		return fmt.Errorf("signature protection: %w", err)
	}
	msg.Protection = prot
	msg.ExtraCerts = msg.ExtraCerts[:0]
	for _, cert := range s.Chain {
		msg.ExtraCerts = append(msg.ExtraCerts, cert.Raw)
	}
	return nil
}

// sender: RFC 9483 section 3.1, the subject of the protection certificate.
func (s SignatureCredentials) sender() (cmp.GeneralName, error) {
	if len(s.Chain) == 0 || s.Chain[0] == nil {
		return cmp.GeneralName{}, errors.New("signature credentials need a certificate")
	}
	return cmp.NameFromDER(s.Chain[0].RawSubject), nil
}

// publicKeyMatches reports whether key is the private key of cert.
func publicKeyMatches(cert *x509.Certificate, key crypto.Signer) bool {
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	return err == nil && bytes.Equal(pub, cert.RawSubjectPublicKeyInfo)
}
