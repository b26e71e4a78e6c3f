package cmp

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// PKIFreeText is held in a []string:
//
//	PKIFreeText ::= SEQUENCE SIZE (1..MAX) OF UTF8String
//
// RFC 9810 section 5.1.1. An empty slice means the field is absent.

// readFreeTextContents decodes the contents of a PKIFreeText SEQUENCE.
func readFreeTextContents(seq cryptobyte.String) ([]string, error) {
	if seq.Empty() {
		return nil, errors.New("PKIFreeText: empty SEQUENCE (SIZE (1..MAX))")
	}
	var out []string
	for !seq.Empty() {
		if len(out) >= MaxCollection {
			return nil, fmt.Errorf("PKIFreeText: more than %d strings", MaxCollection)
		}
		var s cryptobyte.String
		if !seq.ReadASN1(&s, cbasn1.UTF8String) {
			return nil, fmt.Errorf("PKIFreeText: string %d is not a UTF8String", len(out))
		}
		if !utf8.Valid(s) {
			return nil, fmt.Errorf("PKIFreeText: string %d is not valid UTF-8", len(out))
		}
		out = append(out, string(s))
	}
	return out, nil
}

// readFreeText reads a PKIFreeText SEQUENCE.
func readFreeText(s *cryptobyte.String) ([]string, error) {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, errors.New("PKIFreeText: not a SEQUENCE")
	}
	return readFreeTextContents(seq)
}

// addFreeText writes texts as a PKIFreeText SEQUENCE; the caller decides
// whether an empty list is written at all.
func addFreeText(b *cryptobyte.Builder, texts []string) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, t := range texts {
			if !utf8.ValidString(t) {
				b.SetError(errors.New("cmp: PKIFreeText string is not valid UTF-8"))
				return
			}
			b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) {
				b.AddBytes([]byte(t))
			})
		}
	})
}
