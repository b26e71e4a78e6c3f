package cmpclient

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// InfoTypeAndValue is one item of a general message (RFC 9810 section
// 5.3.19): Value is the DER of infoValue, nil when absent.
type InfoTypeAndValue struct {
	Type  asn1.ObjectIdentifier
	Value []byte
}

// ErrNotSupported is wrapped by the error of CACerts, RootCAUpdate and
// CertReqTemplate when the server's genp does not answer the question (it
// does not support it); callers may treat that as a warning. That error
// names the operation and transaction but is no *ProtocolError: the answer
// is valid, it just lacks the item.
var ErrNotSupported = errors.New("server does not support this general message")

// ErrRootCAUpdate is the cause of the *ProtocolError RootCAUpdate returns
// when the certificates of a root CA key update do not certify each other
// as RFC 9483 section 4.3.2 requires.
var ErrRootCAUpdate = errors.New("root CA key update does not verify")

// GeneralMessage sends a genm with items, protected by c.Credentials, and
// returns the items of the genp (RFC 9483 section 4.3). Their content is
// not known here, so an unprotected genp (see UnprotectedSupportMessages)
// is refused with ErrUnprotected.
func (c *Client) GeneralMessage(ctx context.Context, items []InfoTypeAndValue) ([]InfoTypeAndValue, error) {
	t, out, err := c.generalMessage(ctx, items)
	if err != nil {
		return nil, err
	}
	if err := t.requireProtectedGenP("its items cannot be checked"); err != nil {
		return nil, err
	}
	return out, nil
}

// requireProtectedGenP refuses an unprotected genp whose content cannot
// prove itself (RFC 9483 section 3.5: answers are verified), saying why.
func (t *transaction) requireProtectedGenP(why string) error {
	if !t.unverifiedGenP {
		return nil
	}
	return t.protocolError(fmt.Errorf("%w: the genp is unprotected and %s", ErrUnprotected, why))
}

// generalMessage is GeneralMessage that also returns the transaction, so
// that errors about the genp's content name it.
func (c *Client) generalMessage(ctx context.Context, items []InfoTypeAndValue) (*transaction, []InfoTypeAndValue, error) {
	t, err := c.newTransaction("genm", c.Credentials, nil)
	if err != nil {
		return nil, nil, err
	}
	in := make([]cmp.InfoTypeAndValue, len(items))
	for i, it := range items {
		in[i] = cmp.InfoTypeAndValue{Type: it.Type, Value: it.Value}
	}
	resp, err := t.roundTripDelayed(ctx, request{
		body:   cmp.Body{Type: cmp.BodyGenM, GenMsg: in},
		expect: []cmp.BodyType{cmp.BodyGenP},
	})
	if err != nil {
		return nil, nil, err
	}
	out := make([]InfoTypeAndValue, len(resp.Body.GenMsg))
	for i, it := range resp.Body.GenMsg {
		out[i] = InfoTypeAndValue{Type: it.Type, Value: it.Value}
	}
	return t, out, nil
}

// ask sends a genm with one item and returns the transaction and the value
// of the genp item of type answer (nil when that item has no value). A genp
// without such an item gives an error wrapping ErrNotSupported.
func (c *Client) ask(ctx context.Context, question InfoTypeAndValue, answer asn1.ObjectIdentifier) (*transaction, []byte, error) {
	t, items, err := c.generalMessage(ctx, []InfoTypeAndValue{question})
	if err != nil {
		return nil, nil, err
	}
	for _, it := range items {
		if it.Type.Equal(answer) {
			return t, it.Value, nil
		}
	}
	return nil, nil, t.wrap(fmt.Errorf("%w: no %v in the genp answering %v", ErrNotSupported, answer, question.Type))
}

// malformed is the *ProtocolError for a genp item that does not decode.
func (t *transaction) malformed(item string, err error) error {
	return t.protocolError(fmt.Errorf("%w: %s: %w", ErrMalformedResponse, item, err))
}

// CACerts asks for the CA certificates the server publishes (genm
// id-it-caCerts, RFC 9483 section 4.3.1). An empty answer is no error,
// unless the genp is unprotected (UnprotectedSupportMessages): it is then
// accepted only when it lists certificates and every one chains to
// TrustAnchors, the others serving as intermediates.
func (c *Client) CACerts(ctx context.Context) ([]*x509.Certificate, error) {
	t, value, err := c.ask(ctx, InfoTypeAndValue{Type: cmp.OIDCACerts}, cmp.OIDCACerts)
	if err != nil {
		return nil, err
	}
	ders, err := cmp.ParseCACertsValue(value)
	if err != nil {
		return nil, t.malformed("caCerts", err)
	}
	certs, err := parseCerts(ders)
	if err != nil {
		return nil, t.malformed("caCerts", err)
	}
	if t.unverifiedGenP {
		if err := t.provenByAnchors(certs); err != nil {
			return nil, err
		}
	}
	return certs, nil
}

// provenByAnchors checks the certificates of an unprotected genp: there
// must be some, and every one must chain to TrustAnchors, the others
// serving as intermediates; else the answer is refused with ErrUnprotected.
func (t *transaction) provenByAnchors(certs []*x509.Certificate) error {
	if len(t.c.TrustAnchors) == 0 {
		return t.requireProtectedGenP("no TrustAnchors are configured to check its certificates against")
	}
	if len(certs) == 0 {
		return t.requireProtectedGenP("lists no certificate that could prove it")
	}
	for _, cert := range certs {
		if _, err := verifiedChain(t.c.TrustAnchors, cert, certs); err != nil {
			return t.requireProtectedGenP(fmt.Sprintf("its certificate %q does not chain to TrustAnchors: %v", cert.Subject.String(), err))
		}
	}
	return nil
}

// RootCAUpdate is a root CA key update (RFC 9810 section 5.3.19.15).
type RootCAUpdate struct {
	// NewWithNew is the new root certificate (self-signed).
	NewWithNew *x509.Certificate
	// NewWithOld is the new root's key certified by the old root; it lets
	// holders of the old root trust the new one. Optional.
	NewWithOld *x509.Certificate
	// OldWithNew is the old root's key certified by the new root. Optional.
	OldWithNew *x509.Certificate
}

// RootCAUpdate asks whether the root CA oldRoot (nil: the server's
// default) has a successor (genm id-it-rootCaCert, answered with
// id-it-rootCaKeyUpdate, RFC 9483 section 4.3.2). It returns nil, nil when
// there is no update (RFC 9483 4.3.2: the value is then absent). When
// oldRoot is given, newWithOld must be present, verify with oldRoot and
// certify the new root's name and key, and oldWithNew, when present, must
// certify oldRoot's key. An unprotected genp (UnprotectedSupportMessages)
// is accepted only when oldRoot is given and chains to TrustAnchors: the
// update is then proven by newWithOld.
func (c *Client) RootCAUpdate(ctx context.Context, oldRoot *x509.Certificate) (*RootCAUpdate, error) {
	q := InfoTypeAndValue{Type: cmp.OIDRootCACert}
	if oldRoot != nil {
		q.Value = oldRoot.Raw // RootCaCertValue ::= CMPCertificate
	}
	t, value, err := c.ask(ctx, q, cmp.OIDRootCAKeyUpdate)
	if err != nil {
		return nil, err
	}
	if t.unverifiedGenP {
		if oldRoot == nil {
			return nil, t.requireProtectedGenP("no old root was given to check the update against")
		}
		if err := t.provenByAnchors([]*x509.Certificate{oldRoot}); err != nil {
			return nil, err
		}
	}
	if value == nil {
		return nil, nil
	}
	u, err := cmp.ParseRootCAKeyUpdate(value)
	if err != nil {
		return nil, t.malformed("rootCaKeyUpdate", err)
	}
	refuse := func(format string, args ...any) error {
		return t.protocolError(fmt.Errorf("%w: rootCaKeyUpdate: "+format, append([]any{ErrRootCAUpdate}, args...)...))
	}
	var out RootCAUpdate
	for _, f := range []struct {
		der  []byte
		dst  **x509.Certificate
		name string
	}{{u.NewWithNew, &out.NewWithNew, "newWithNew"}, {u.NewWithOld, &out.NewWithOld, "newWithOld"}, {u.OldWithNew, &out.OldWithNew, "oldWithNew"}} {
		if f.der == nil {
			continue
		}
		if *f.dst, err = x509.ParseCertificate(f.der); err != nil {
			return nil, t.malformed("rootCaKeyUpdate "+f.name, err)
		}
	}
	if out.NewWithNew == nil {
		return nil, t.malformed("rootCaKeyUpdate", errors.New("newWithNew missing"))
	}
	// RFC 9483 4.3.2: newWithNew is self-signed; newWithOld proves the new
	// key to holders of the old root.
	if err := out.NewWithNew.CheckSignature(out.NewWithNew.SignatureAlgorithm, out.NewWithNew.RawTBSCertificate, out.NewWithNew.Signature); err != nil {
		return nil, refuse("newWithNew is not self-signed: %w", err)
	}
	if oldRoot != nil {
		// RFC 9483 4.3.2: newWithOld is required; it is what lets the
		// holder of the old root trust the new one, so it must be signed by
		// the old root and certify the new root's name and key.
		if out.NewWithOld == nil {
			return nil, refuse("newWithOld missing, so the new root cannot be checked against the old one")
		}
		if err := out.NewWithOld.CheckSignatureFrom(oldRoot); err != nil {
			return nil, refuse("newWithOld is not signed by the old root: %w", err)
		}
		switch {
		case !bytes.Equal(out.NewWithOld.RawSubjectPublicKeyInfo, out.NewWithNew.RawSubjectPublicKeyInfo) ||
			!bytes.Equal(out.NewWithOld.RawSubject, out.NewWithNew.RawSubject):
			return nil, refuse("newWithOld does not certify the new root's name and key")
		}
	}
	if out.OldWithNew != nil {
		if err := out.OldWithNew.CheckSignatureFrom(out.NewWithNew); err != nil {
			return nil, refuse("oldWithNew is not signed by the new root: %w", err)
		}
		if oldRoot != nil && !bytes.Equal(out.OldWithNew.RawSubjectPublicKeyInfo, oldRoot.RawSubjectPublicKeyInfo) {
			return nil, refuse("oldWithNew does not certify the old root's key")
		}
	}
	return &out, nil
}

// CertReqTemplate is what the CA wants in certificate requests (RFC 9483
// section 4.3.3).
type CertReqTemplate struct {
	// Subject is the subject to request, nil when the template has none.
	Subject *pkix.Name
	// PublicKeyAlgorithm is the key type the CA wants, nil when not given.
	PublicKeyAlgorithm asn1.ObjectIdentifier
	// Extensions the CA expects (values may be empty placeholders).
	Extensions []pkix.Extension
	// NotBefore and NotAfter are the validity the template names, if any.
	NotBefore, NotAfter time.Time
	// KeySpec holds controls such as id-regCtrl-algId and
	// id-regCtrl-rsaKeyLen as raw items.
	KeySpec []InfoTypeAndValue
	// KeyAlgorithms are the public key algorithms the CA certifies, from
	// the id-regCtrl-algId controls of KeySpec (RFC 9810 5.3.19.16), e.g.
	// id-ecPublicKey with the named curve as parameters, or id-Ed25519.
	KeyAlgorithms []pkix.AlgorithmIdentifier
	// RSAKeyLengths are the RSA modulus lengths in bits the CA certifies,
	// from the id-regCtrl-rsaKeyLen controls of KeySpec.
	RSAKeyLengths []int
}

// CertReqTemplate asks for the certificate request template (genm
// id-it-certReqTemplate, RFC 9483 section 4.3.3). It returns nil, nil when
// the CA has none. An unprotected genp (UnprotectedSupportMessages) is
// refused: nothing in a template proves who sent it.
func (c *Client) CertReqTemplate(ctx context.Context) (*CertReqTemplate, error) {
	t, value, err := c.ask(ctx, InfoTypeAndValue{Type: cmp.OIDCertReqTemplate}, cmp.OIDCertReqTemplate)
	if err != nil {
		return nil, err
	}
	if err := t.requireProtectedGenP("a request template cannot prove who sent it"); err != nil {
		return nil, err
	}
	if value == nil {
		return nil, nil
	}
	rt, err := cmp.ParseCertReqTemplate(value)
	if err != nil {
		return nil, t.malformed("certReqTemplate", err)
	}
	out := &CertReqTemplate{Extensions: rt.Template.Extensions}
	if rt.Template.Subject != nil {
		var rdn pkix.RDNSequence
		if rest, err := asn1.Unmarshal(rt.Template.Subject, &rdn); err != nil {
			return nil, t.malformed("certReqTemplate subject", err)
		} else if len(rest) > 0 {
			return nil, t.malformed("certReqTemplate subject", errors.New("trailing data"))
		}
		out.Subject = new(pkix.Name)
		out.Subject.FillFromRDNSequence(&rdn)
	}
	if rt.Template.PublicKey != nil {
		// RFC 9483 4.3.3: a SubjectPublicKeyInfo with the algorithm and an
		// empty key; only the algorithm is of interest.
		alg, err := cmp.ParseSPKIAlgorithm(rt.Template.PublicKey)
		if err != nil {
			return nil, t.malformed("certReqTemplate publicKey", err)
		}
		out.PublicKeyAlgorithm = alg.Algorithm
	}
	if v := rt.Template.Validity; v != nil {
		if v.NotBefore != nil {
			out.NotBefore = *v.NotBefore
		}
		if v.NotAfter != nil {
			out.NotAfter = *v.NotAfter
		}
	}
	for _, ks := range rt.KeySpec {
		out.KeySpec = append(out.KeySpec, InfoTypeAndValue{Type: ks.Type, Value: ks.Value})
		switch {
		case ks.Type.Equal(cmp.OIDRegCtrlAlgID):
			alg, err := cmp.ParseAlgIDControl(ks.Value)
			if err != nil {
				return nil, t.malformed("certReqTemplate keySpec", err)
			}
			out.KeyAlgorithms = append(out.KeyAlgorithms, alg)
		case ks.Type.Equal(cmp.OIDRegCtrlRSAKeyLen):
			bits, err := cmp.ParseRSAKeyLenControl(ks.Value)
			if err != nil {
				return nil, t.malformed("certReqTemplate keySpec", err)
			}
			out.RSAKeyLengths = append(out.RSAKeyLengths, bits)
		}
	}
	return out, nil
}
