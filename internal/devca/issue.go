package devca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/serialnumber"
)

// notBeforeBackdate is how far before the moment of issue a certificate's
// notBefore lies. OpenSSL 3.0's client refused, now and then, a certificate
// issued in the second after its run began as not yet valid.
const notBeforeBackdate = time.Minute

// certRequest is what a client asked for, from a CertTemplate (ir, cr, kur)
// or a PKCS#10 request (p10cr), after its POP was checked.
type certRequest struct {
	// subject is the DER of the requested Name; it goes into the
	// certificate as is.
	subject []byte
	// publicKey is the requested key.
	publicKey crypto.PublicKey
	// extensions are the requested extensions.
	extensions []pkix.Extension
	// notBefore and notAfter are the requested validity, zero when absent.
	notBefore, notAfter time.Time
	// otherIssuer says the template named an issuer other than this CA.
	otherIssuer bool
}

// refusal is a reason not to grant a request: the failure bits and the
// text the client sees as statusString.
type refusal struct {
	failInfo cmp.FailureInfo
	text     string
}

func (r *refusal) Error() string { return r.text }

func refuse(fi cmp.FailureInfo, format string, args ...any) *refusal {
	return &refusal{failInfo: fi, text: fmt.Sprintf(format, args...)}
}

// issued is a certificate the CA made for a request.
type issued struct {
	cert *x509.Certificate
	// modified says the CA granted less or other than asked
	// (PKIStatus grantedWithMods).
	modified bool
}

// issue makes a certificate for a checked request. It does not record it.
func (ca *CA) issue(req certRequest) (*issued, *refusal) {
	now := ca.cfg.Now().UTC().Truncate(time.Second)
	if len(req.subject) == 0 || isEmptyName(req.subject) {
		if !hasExtension(req.extensions, cmp.OIDExtSubjectAltName) {
			return nil, refuse(cmp.FailBadCertTemplate, "the request names neither a subject nor subjectAltName")
		}
	}
	if req.publicKey == nil {
		return nil, refuse(cmp.FailBadCertTemplate, "the request carries no public key")
	}
	if err := checkPublicKey(req.publicKey); err != nil {
		return nil, refuse(cmp.FailBadCertTemplate|cmp.FailBadAlg, "unacceptable public key: %v", err)
	}

	modified := req.otherIssuer
	var extra []pkix.Extension
	for _, ext := range req.extensions {
		switch {
		case ext.Id.Equal(cmp.OIDExtKeyUsage):
			if ref := checkEndEntityKeyUsage(ext.Value); ref != nil {
				return nil, ref
			}
			extra = append(extra, ext)
		case ext.Id.Equal(cmp.OIDExtSubjectAltName), ext.Id.Equal(cmp.OIDExtExtKeyUsage):
			extra = append(extra, ext)
		case ext.Id.Equal(cmp.OIDExtCertificatePolicies):
			// A development CA issues the policies it is asked for, with
			// the criticality asked for (RFC 5280 section 4.2.1.4); the
			// certificate is parsed back below, which refuses a malformed one.
			extra = append(extra, ext)
		case ext.Id.Equal(cmp.OIDExtBasicConstraints):
			var bc struct {
				IsCA       bool `asn1:"optional"`
				MaxPathLen int  `asn1:"optional,default:-1"`
			}
			if rest, err := asn1.Unmarshal(ext.Value, &bc); err != nil || len(rest) > 0 {
				return nil, refuse(cmp.FailBadCertTemplate, "malformed basicConstraints extension")
			}
			if bc.IsCA {
				return nil, refuse(cmp.FailBadCertTemplate|cmp.FailNotAuthorized, "this development CA issues end-entity certificates only (basicConstraints cA requested)")
			}
		case ext.Id.Equal(cmp.OIDExtSubjectKeyID), ext.Id.Equal(cmp.OIDExtAuthorityKeyID):
			// The CA computes these itself.
		case ext.Critical:
			return nil, refuse(cmp.FailUnacceptedExtension, "critical extension %v is not supported", ext.Id)
		default:
			modified = true
		}
	}

	// The validity counts from start: now, or a later notBefore the
	// request asks for. A certificate valid from now has notBefore
	// backdated by notBeforeBackdate, so a peer whose clock is a little
	// behind, or that checks against the time its run began (OpenSSL's
	// client does), does not refuse it as not yet valid; notAfter stays
	// start + validity.
	start, notBefore := now, now.Add(-notBeforeBackdate)
	if !req.notBefore.IsZero() && req.notBefore.After(now) {
		start = req.notBefore.UTC()
		notBefore = start
	}
	validity := ca.cfg.DefaultValidity
	if !req.notAfter.IsZero() {
		if !req.notAfter.After(start) {
			return nil, refuse(cmp.FailBadCertTemplate, "requested notAfter %s is not after notBefore %s", req.notAfter.UTC().Format(time.RFC3339), start.Format(time.RFC3339))
		}
		validity = req.notAfter.Sub(start)
	}
	if validity > ca.cfg.MaxValidity {
		validity = ca.cfg.MaxValidity
		modified = !req.notAfter.IsZero() || modified
	}
	notAfter := start.Add(validity)
	if notAfter.After(ca.st.caCert.NotAfter) {
		notAfter = ca.st.caCert.NotAfter
		modified = true
	}

	skid, err := subjectKeyID(req.publicKey)
	if err != nil {
		return nil, refuse(cmp.FailBadCertTemplate, "%v", err)
	}
	serial, err := ca.newSerial()
	if err != nil {
		return nil, refuse(cmp.FailSystemFailure, "%v", err)
	}
	subject := req.subject
	if len(subject) == 0 {
		subject = emptyName
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		RawSubject:            subject,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		BasicConstraintsValid: true,
		SubjectKeyId:          skid,
		ExtraExtensions:       extra,
	}
	pub := req.publicKey
	if ca.cfg.hasFault(FaultWrongCertificate) {
		other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, refuse(cmp.FailSystemFailure, "%v", err)
		}
		pub = other.Public()
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.st.caCert, pub, ca.st.caKey)
	if err != nil {
		return nil, refuse(cmp.FailBadCertTemplate, "cannot issue the requested certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		// A requested extension that Go cannot parse back (e.g. a
		// malformed subjectAltName) lands here.
		return nil, refuse(cmp.FailBadCertTemplate, "the requested certificate would be malformed: %v", err)
	}
	return &issued{cert: cert, modified: modified}, nil
}

// checkEndEntityKeyUsage refuses a requested keyUsage that only a CA
// certificate may carry: keyCertSign requires the cA bit (RFC 5280 section
// 4.2.1.3), which this CA never sets, and cRLSign is for CRL issuers.
func checkEndEntityKeyUsage(value []byte) *refusal {
	var ku asn1.BitString
	if rest, err := asn1.Unmarshal(value, &ku); err != nil || len(rest) > 0 {
		return refuse(cmp.FailBadCertTemplate, "malformed keyUsage extension")
	}
	const keyCertSign, cRLSign = 5, 6 // RFC 5280 KeyUsage bit numbers
	if ku.At(keyCertSign) == 1 || ku.At(cRLSign) == 1 {
		return refuse(cmp.FailBadCertTemplate|cmp.FailNotAuthorized, "keyUsage keyCertSign or cRLSign is for CA certificates; this development CA issues end-entity certificates only (RFC 5280 section 4.2.1.3)")
	}
	return nil
}

// newSerial returns a serial number this CA has not used.
func (ca *CA) newSerial() (*big.Int, error) {
	for range 8 {
		n, err := serialnumber.Random()
		if err != nil {
			return nil, err
		}
		if !ca.store.serialTaken(n) {
			return n, nil
		}
	}
	return nil, fmt.Errorf("no free serial number")
}

// checkPublicKey accepts the key types and sizes RFC 9481 names.
func checkPublicKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 || k.N.BitLen() > 8192 {
			return fmt.Errorf("RSA key of %d bits (2048 to 8192 accepted)", k.N.BitLen())
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return fmt.Errorf("ECDSA curve %s", k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
	default:
		return fmt.Errorf("key type %T", pub)
	}
	return nil
}

// emptyName is the DER of an empty RDNSequence.
var emptyName = []byte{0x30, 0x00}

func isEmptyName(der []byte) bool {
	return len(der) == 2 && der[0] == 0x30 && der[1] == 0
}

func hasExtension(exts []pkix.Extension, oid asn1.ObjectIdentifier) bool {
	for _, e := range exts {
		if e.Id.Equal(oid) {
			return true
		}
	}
	return false
}
