package cmp

import (
	"bytes"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Certificates travel as CMPCertificate, held as the certificate's DER:
//
//	CMPCertificate ::= CHOICE { x509v3PKCert Certificate, ... }
//
// The codec checks only that each is one SEQUENCE element; crypto/x509
// parses them where they are used.

// readCertificate reads one CMPCertificate (a Certificate SEQUENCE).
func readCertificate(s *cryptobyte.String) ([]byte, error) {
	var cert cryptobyte.String
	if !s.ReadASN1Element(&cert, cbasn1.SEQUENCE) {
		return nil, errors.New("CMPCertificate: not a Certificate SEQUENCE")
	}
	return bytes.Clone(cert), nil
}

// readCertificatesContents decodes the contents of a
// SEQUENCE SIZE (1..MAX) OF CMPCertificate, at most MaxCertificates.
func readCertificatesContents(seq cryptobyte.String) ([][]byte, error) {
	if seq.Empty() {
		return nil, errors.New("empty SEQUENCE OF CMPCertificate (SIZE (1..MAX))")
	}
	var out [][]byte
	for !seq.Empty() {
		if len(out) >= MaxCertificates {
			return nil, fmt.Errorf("more than %d certificates", MaxCertificates)
		}
		c, err := readCertificate(&seq)
		if err != nil {
			return nil, within(fmt.Sprintf("certificate %d", len(out)), err)
		}
		out = append(out, c)
	}
	return out, nil
}

// addCertificates writes a SEQUENCE OF CMPCertificate.
func addCertificates(b *cryptobyte.Builder, certs [][]byte) {
	if len(certs) > MaxCertificates {
		b.SetError(fmt.Errorf("cmp: more than %d certificates", MaxCertificates))
		return
	}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, c := range certs {
			addCertificate(b, c)
		}
	})
}

// addCertificate writes one certificate's DER after checking it is a single
// SEQUENCE element, so a caller's mistake cannot corrupt the message.
func addCertificate(b *cryptobyte.Builder, cert []byte) {
	s := cryptobyte.String(cert)
	var elem cryptobyte.String
	if !s.ReadASN1Element(&elem, cbasn1.SEQUENCE) || !s.Empty() {
		b.SetError(errors.New("cmp: certificate is not one DER SEQUENCE"))
		return
	}
	b.AddBytes(cert)
}
