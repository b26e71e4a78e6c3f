package cmp

import (
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every error Parse (and the value decoders) return
// for input that is not valid DER of the expected ASN.1 type: truncated data,
// trailing bytes, wrong tags, lengths past the end, values out of range, or a
// collection above its cap. A server answers such input with failInfo
// badDataFormat (RFC 9810 section 5.2.3).
var ErrMalformed = errors.New("cmp: malformed message")

// ErrUnsupportedBody is wrapped by the error Parse returns for a PKIBody
// choice this package does not model (for example popdecc, krr, nested); the
// message reads "unsupported body type N". A server answers it with failInfo
// badRequest.
var ErrUnsupportedBody = errors.New("unsupported body type")

// within prefixes err with the name of the enclosing structure, keeping the
// cause for errors.Is.
func within(where string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", where, err)
}

// asMalformed turns an internal decoding error into the error a public
// decoder returns: it wraps ErrMalformed unless the cause is an unsupported
// body, which is not a DER problem.
func asMalformed(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrUnsupportedBody):
		return fmt.Errorf("cmp: %w", err)
	}
	return fmt.Errorf("%w: %w", ErrMalformed, err)
}

// errTrailing is the cause for bytes left after a complete element.
var errTrailing = errors.New("trailing data")
