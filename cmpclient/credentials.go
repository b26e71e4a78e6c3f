package cmpclient

import (
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
	msg.Header.SenderKID = []byte(m.Reference)
	return cmp.ProtectMAC(msg, params, m.Secret)
}

// sender: with a shared secret there is no certificate to name the sender.
func (m MACCredentials) sender() (cmp.GeneralName, error) { return cmp.NullDN(), nil }

// protect: RFC 9483 section 3.2: signed with the key of Chain[0], which
// travels first in extraCerts followed by its chain; senderKID is its
// subject key identifier (cmp.ProtectSignature does all three and checks
// that the key belongs to Chain[0]).
func (s SignatureCredentials) protect(_ *Client, msg *cmp.Message) error {
	if s.Key == nil || len(s.Chain) == 0 || s.Chain[0] == nil {
		return errors.New("signature credentials need a key and its certificate")
	}
	return cmp.ProtectSignature(msg, s.Key, s.Chain, cmp.SignatureOptions{RSAPSS: s.RSAPSS})
}

// sender: RFC 9483 section 3.1, the subject of the protection certificate.
func (s SignatureCredentials) sender() (cmp.GeneralName, error) {
	if len(s.Chain) == 0 || s.Chain[0] == nil {
		return cmp.GeneralName{}, errors.New("signature credentials need a certificate")
	}
	return cmp.NameFromDER(s.Chain[0].RawSubject), nil
}
