package cmp

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/bits"
	"net"
	"net/url"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Certificate extensions a requester puts in a CertTemplate (RFC 4211
// section 5) and the SubjectPublicKeyInfo of a template, encoded as RFC
// 5280 defines them.

// Extension OIDs (RFC 5280 section 4.2.1).
var (
	OIDExtSubjectKeyID        = asn1.ObjectIdentifier{2, 5, 29, 14}
	OIDExtKeyUsage            = asn1.ObjectIdentifier{2, 5, 29, 15}
	OIDExtSubjectAltName      = asn1.ObjectIdentifier{2, 5, 29, 17}
	OIDExtBasicConstraints    = asn1.ObjectIdentifier{2, 5, 29, 19}
	OIDExtAuthorityKeyID      = asn1.ObjectIdentifier{2, 5, 29, 35}
	OIDExtCertificatePolicies = asn1.ObjectIdentifier{2, 5, 29, 32}
	OIDExtExtKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 37}
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

// MarshalSubjectAltName encodes the extnValue of SubjectAltName (RFC 5280 section 4.2.1.6):
//
//	SubjectAltName ::= GeneralNames
//	GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName
//	GeneralName ::= CHOICE { rfc822Name [1] IA5String, dNSName [2] IA5String,
//	     uniformResourceIdentifier [6] IA5String, iPAddress [7] OCTET STRING, ... }
func MarshalSubjectAltName(dns, emails []string, ips []net.IP, uris []*url.URL) ([]byte, error) {
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

// MarshalKeyUsage encodes the extnValue of KeyUsage (RFC 5280 section 4.2.1.3), a named BIT
// STRING whose bit n is x509.KeyUsage 1<<n; DER drops trailing zero bits.
func MarshalKeyUsage(ku x509.KeyUsage) ([]byte, error) {
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

// MarshalExtKeyUsage encodes the extnValue ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX)
// OF KeyPurposeId (RFC 5280 section 4.2.1.12).
func MarshalExtKeyUsage(ekus []x509.ExtKeyUsage) ([]byte, error) {
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

// ParseSPKIAlgorithm returns the algorithm of a DER SubjectPublicKeyInfo
// (RFC 5280 section 4.1.2.7):
//
//	SubjectPublicKeyInfo ::= SEQUENCE {
//	     algorithm         AlgorithmIdentifier,
//	     subjectPublicKey  BIT STRING }
//
// The key itself is not read: a certificate request template names the
// algorithm with an empty or absent key (RFC 9483 section 4.3.3).
func ParseSPKIAlgorithm(der []byte) (pkix.AlgorithmIdentifier, error) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return pkix.AlgorithmIdentifier{}, asMalformed(errors.New("SubjectPublicKeyInfo: not a SEQUENCE"))
	}
	if !in.Empty() {
		return pkix.AlgorithmIdentifier{}, asMalformed(within("SubjectPublicKeyInfo", errTrailing))
	}
	var alg pkix.AlgorithmIdentifier
	if err := readAlgID(&seq, &alg); err != nil {
		return pkix.AlgorithmIdentifier{}, asMalformed(within("SubjectPublicKeyInfo", err))
	}
	return alg, nil
}
