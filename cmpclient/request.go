package cmpclient

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// CertRequest is what an enrollment asks the CA for. The CA may grant less
// (status grantedWithMods); see Enrollment.Status.
type CertRequest struct {
	// Subject of the certificate; RawSubject (DER Name), when set, is used
	// instead.
	Subject    pkix.Name
	RawSubject []byte

	DNSNames       []string
	IPAddresses    []net.IP
	URIs           []*url.URL
	EmailAddresses []string

	KeyUsage        x509.KeyUsage
	ExtKeyUsage     []x509.ExtKeyUsage
	ExtraExtensions []pkix.Extension

	// NotBefore and NotAfter, when set, are the requested validity.
	NotBefore, NotAfter time.Time

	// Key is the new key: its public key goes into the template and it
	// signs the proof of possession (RFC 4211 section 4.1).
	Key crypto.Signer

	// Profile, when set, names the certificate profile to issue under,
	// sent as id-it-certProfile in generalInfo (RFC 9483 section 4.1.1).
	Profile string
}

// subjectDER returns the DER Name of the requested subject.
func (r *CertRequest) subjectDER() ([]byte, error) {
	if r.RawSubject != nil {
		return r.RawSubject, nil
	}
	der, err := asn1.Marshal(r.Subject.ToRDNSequence())
	if err != nil {
		return nil, fmt.Errorf("subject: %w", err)
	}
	return der, nil
}

// hasSubject reports whether a non-empty subject was requested.
func (r *CertRequest) hasSubject() bool {
	if r.RawSubject != nil {
		return len(r.RawSubject) > 2 // more than an empty SEQUENCE
	}
	return !isZeroName(r.Subject)
}

func isZeroName(n pkix.Name) bool {
	return len(n.ToRDNSequence()) == 0
}

// template builds the CertTemplate (RFC 4211 section 5, RFC 9483 section
// 4.1.1): subject, public key, requested validity and extensions.
func (r *CertRequest) template() (cmp.CertTemplate, error) {
	var tmpl cmp.CertTemplate
	if r.Key == nil {
		return tmpl, errors.New("CertRequest.Key is nil")
	}
	spki, err := x509.MarshalPKIXPublicKey(r.Key.Public())
	if err != nil {
		return tmpl, fmt.Errorf("public key: %w", err)
	}
	tmpl.PublicKey = spki
	// RFC 4211 section 4.1: a POP signature without poposkInput needs the
	// template to hold both the public key and the subject; RFC 9483
	// 4.1.1 requires the subject. With no subject requested (subjectAltName
	// only) it is the empty Name, as the certificate will hold (RFC 5280
	// section 4.1.2.6).
	tmpl.Subject = []byte{0x30, 0x00}
	if r.hasSubject() {
		if tmpl.Subject, err = r.subjectDER(); err != nil {
			return tmpl, err
		}
	}
	if !r.NotBefore.IsZero() || !r.NotAfter.IsZero() {
		tmpl.Validity = &cmp.OptionalValidity{}
		if !r.NotBefore.IsZero() {
			nb := r.NotBefore
			tmpl.Validity.NotBefore = &nb
		}
		if !r.NotAfter.IsZero() {
			na := r.NotAfter
			tmpl.Validity.NotAfter = &na
		}
	}
	if tmpl.Extensions, err = r.extensions(); err != nil {
		return tmpl, err
	}
	return tmpl, nil
}

// extensions encodes the requested SANs, key usages and extra extensions.
func (r *CertRequest) extensions() ([]pkix.Extension, error) {
	var exts []pkix.Extension
	if len(r.DNSNames)+len(r.IPAddresses)+len(r.URIs)+len(r.EmailAddresses) > 0 {
		value, err := cmp.MarshalSubjectAltName(r.DNSNames, r.EmailAddresses, r.IPAddresses, r.URIs)
		if err != nil {
			return nil, err
		}
		// RFC 5280 4.2.1.6: critical when the subject is empty.
		exts = append(exts, pkix.Extension{Id: cmp.OIDExtSubjectAltName, Critical: !r.hasSubject(), Value: value})
	}
	if r.KeyUsage != 0 {
		value, err := cmp.MarshalKeyUsage(r.KeyUsage)
		if err != nil {
			return nil, err
		}
		// RFC 5280 4.2.1.3: "conforming CAs SHOULD mark this extension as critical".
		exts = append(exts, pkix.Extension{Id: cmp.OIDExtKeyUsage, Critical: true, Value: value})
	}
	if len(r.ExtKeyUsage) > 0 {
		value, err := cmp.MarshalExtKeyUsage(r.ExtKeyUsage)
		if err != nil {
			return nil, err
		}
		exts = append(exts, pkix.Extension{Id: cmp.OIDExtExtKeyUsage, Value: value})
	}
	for _, e := range r.ExtraExtensions {
		for _, have := range exts {
			if have.Id.Equal(e.Id) {
				return nil, fmt.Errorf("extension %v given twice", e.Id)
			}
		}
		exts = append(exts, e)
	}
	return exts, nil
}
