package cmpclient

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/bits"
	"net"
	"net/url"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

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
}

// Extension OIDs (RFC 5280 section 4.2.1).
var (
	oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidKeyUsage       = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtKeyUsage    = asn1.ObjectIdentifier{2, 5, 29, 37}
)

// extKeyUsageOIDs maps crypto/x509's ExtKeyUsage to RFC 5280 / RFC 9336
// OIDs (crypto/x509 does not export its table).
var extKeyUsageOIDs = map[x509.ExtKeyUsage]asn1.ObjectIdentifier{
	x509.ExtKeyUsageAny:                            {2, 5, 29, 37, 0},
	x509.ExtKeyUsageServerAuth:                     {1, 3, 6, 1, 5, 5, 7, 3, 1},
	x509.ExtKeyUsageClientAuth:                     {1, 3, 6, 1, 5, 5, 7, 3, 2},
	x509.ExtKeyUsageCodeSigning:                    {1, 3, 6, 1, 5, 5, 7, 3, 3},
	x509.ExtKeyUsageEmailProtection:                {1, 3, 6, 1, 5, 5, 7, 3, 4},
	x509.ExtKeyUsageIPSECEndSystem:                 {1, 3, 6, 1, 5, 5, 7, 3, 5},
	x509.ExtKeyUsageIPSECTunnel:                    {1, 3, 6, 1, 5, 5, 7, 3, 6},
	x509.ExtKeyUsageIPSECUser:                      {1, 3, 6, 1, 5, 5, 7, 3, 7},
	x509.ExtKeyUsageTimeStamping:                   {1, 3, 6, 1, 5, 5, 7, 3, 8},
	x509.ExtKeyUsageOCSPSigning:                    {1, 3, 6, 1, 5, 5, 7, 3, 9},
	x509.ExtKeyUsageMicrosoftServerGatedCrypto:     {1, 3, 6, 1, 4, 1, 311, 10, 3, 3},
	x509.ExtKeyUsageNetscapeServerGatedCrypto:      {2, 16, 840, 1, 113730, 4, 1},
	x509.ExtKeyUsageMicrosoftCommercialCodeSigning: {1, 3, 6, 1, 4, 1, 311, 2, 1, 22},
	x509.ExtKeyUsageMicrosoftKernelCodeSigning:     {1, 3, 6, 1, 4, 1, 311, 61, 1, 1},
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
		value, err := marshalSANs(r.DNSNames, r.EmailAddresses, r.IPAddresses, r.URIs)
		if err != nil {
			return nil, err
		}
		// RFC 5280 4.2.1.6: critical when the subject is empty.
		exts = append(exts, pkix.Extension{Id: oidSubjectAltName, Critical: !r.hasSubject(), Value: value})
	}
	if r.KeyUsage != 0 {
		value, err := marshalKeyUsage(r.KeyUsage)
		if err != nil {
			return nil, err
		}
		// RFC 5280 4.2.1.3: "conforming CAs SHOULD mark this extension as critical".
		exts = append(exts, pkix.Extension{Id: oidKeyUsage, Critical: true, Value: value})
	}
	if len(r.ExtKeyUsage) > 0 {
		value, err := marshalExtKeyUsage(r.ExtKeyUsage)
		if err != nil {
			return nil, err
		}
		exts = append(exts, pkix.Extension{Id: oidExtKeyUsage, Value: value})
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

// marshalSANs encodes SubjectAltName (RFC 5280 section 4.2.1.6):
//
//	SubjectAltName ::= GeneralNames
//	GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName
//	GeneralName ::= CHOICE { rfc822Name [1] IA5String, dNSName [2] IA5String,
//	     uniformResourceIdentifier [6] IA5String, iPAddress [7] OCTET STRING, ... }
func marshalSANs(dns, emails []string, ips []net.IP, uris []*url.URL) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		add := func(tag int, v string, what string) {
			if !isIA5(v) {
				b.SetError(fmt.Errorf("%s %q is not ASCII (IA5String)", what, v))
				return
			}
			b.AddASN1(cbasn1.Tag(tag).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(v)) })
		}
		// The order crypto/x509 uses.
		for _, d := range dns {
			add(2, d, "DNS name")
		}
		for _, e := range emails {
			add(1, e, "email address")
		}
		for _, ip := range ips {
			raw := ip.To4()
			if raw == nil {
				raw = ip.To16()
			}
			if raw == nil {
				b.SetError(fmt.Errorf("invalid IP address %v", ip))
				return
			}
			b.AddASN1(cbasn1.Tag(7).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(raw) })
		}
		for _, u := range uris {
			add(6, u.String(), "URI")
		}
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("subjectAltName: %w", err)
	}
	return out, nil
}

func isIA5(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// marshalKeyUsage encodes KeyUsage (RFC 5280 section 4.2.1.3), a named BIT
// STRING whose bit n is x509.KeyUsage 1<<n; DER drops trailing zero bits.
func marshalKeyUsage(ku x509.KeyUsage) ([]byte, error) {
	n := bits.Len32(uint32(ku)) // significant bits
	if n > 9 {
		return nil, fmt.Errorf("key usage %#x has undefined bits", ku)
	}
	octets := make([]byte, (n+7)/8)
	for i := 0; i < n; i++ {
		if ku&(1<<i) != 0 {
			octets[i/8] |= 0x80 >> (i % 8)
		}
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
		b.AddUint8(uint8(len(octets)*8 - n))
		b.AddBytes(octets)
	})
	return b.Bytes()
}

// marshalExtKeyUsage encodes ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX)
// OF KeyPurposeId (RFC 5280 section 4.2.1.12).
func marshalExtKeyUsage(ekus []x509.ExtKeyUsage) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, u := range ekus {
			oid, ok := extKeyUsageOIDs[u]
			if !ok {
				b.SetError(fmt.Errorf("unknown extended key usage %d", u))
				return
			}
			b.AddASN1ObjectIdentifier(oid)
		}
	})
	return b.Bytes()
}
