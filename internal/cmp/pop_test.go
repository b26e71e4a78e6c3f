package cmp

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"testing"
)

// TestVerifyPOPTemplateRule: RFC 4211 section 4.1 requires poposkInput
// unless the template holds both a subject and the public key. Presence of
// the subject field decides: the empty Name (NULL-DN) counts as a subject,
// an absent one does not. Each case is encoded and parsed first, so the
// signature is checked over RawCertRequest as a server receives it.
func TestVerifyPOPTemplateRule(t *testing.T) {
	keys := protTestKeys()
	key := keys["P-256"]
	spki, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	named, err := asn1.Marshal(pkix.Name{CommonName: "pop rule"}.ToRDNSequence())
	if err != nil {
		t.Fatal(err)
	}
	emptyName := []byte{0x30, 0x00}
	// signed signs the request as it stands, whatever its template holds
	// (SignPOP refuses templates that need poposkInput).
	signed := func(t *testing.T, r CertReqMsg) CertReqMsg {
		alg, err := SignatureAlgorithmFor(key.Public(), false)
		if err != nil {
			t.Fatal(err)
		}
		der, err := r.CertRequestDER()
		if err != nil {
			t.Fatal(err)
		}
		sig, err := SignatureProtection(key, alg, der)
		if err != nil {
			t.Fatal(err)
		}
		r.POP = &ProofOfPossession{Type: POPSignature, Signature: &POPOSigningKey{Algorithm: alg, Signature: sig}}
		return r
	}
	for _, tc := range []struct {
		name    string
		req     func(t *testing.T) CertReqMsg
		wantErr error // nil: accepted
	}{
		{"named subject", func(t *testing.T) CertReqMsg {
			return signed(t, CertReqMsg{Template: CertTemplate{Subject: named, PublicKey: spki}})
		}, nil},
		{"empty Name as subject", func(t *testing.T) CertReqMsg {
			return signed(t, CertReqMsg{Template: CertTemplate{Subject: emptyName, PublicKey: spki}})
		}, nil},
		{"subject absent", func(t *testing.T) CertReqMsg {
			return signed(t, CertReqMsg{Template: CertTemplate{PublicKey: spki}})
		}, ErrBadPOP},
		{"publicKey absent", func(t *testing.T) CertReqMsg {
			r := signed(t, CertReqMsg{Template: CertTemplate{Subject: named, PublicKey: spki}})
			r.Template.PublicKey = nil
			return r
		}, ErrBadPOP},
		{"poposkInput present", func(t *testing.T) CertReqMsg {
			r := signed(t, CertReqMsg{Template: CertTemplate{Subject: named, PublicKey: spki}})
			r.POP.Signature.Input = []byte{0x30, 0x00}
			return r
		}, ErrBadPOP},
		{"raVerified", func(t *testing.T) CertReqMsg {
			return CertReqMsg{Template: CertTemplate{Subject: named, PublicKey: spki}, POP: &ProofOfPossession{Type: POPRAVerified}}
		}, ErrBadPOP},
		{"no POP", func(t *testing.T) CertReqMsg {
			return CertReqMsg{Template: CertTemplate{Subject: named, PublicKey: spki}}
		}, ErrBadPOP},
		{"signed by another key", func(t *testing.T) CertReqMsg {
			other, _ := x509.MarshalPKIXPublicKey(keys["P-384"].Public())
			r := signed(t, CertReqMsg{Template: CertTemplate{Subject: named, PublicKey: spki}})
			r.Template.PublicKey = other
			return r
		}, ErrBadPOP},
		{"algorithm not for the key", func(t *testing.T) CertReqMsg {
			r := signed(t, CertReqMsg{Template: CertTemplate{Subject: named, PublicKey: spki}})
			r.POP.Signature.Algorithm = pkix.AlgorithmIdentifier{Algorithm: OIDEd25519}
			return r
		}, ErrUnsupportedAlgorithm},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := protTestMessage(t)
			m.Body = Body{Type: BodyIR, CertReq: []CertReqMsg{tc.req(t)}}
			got, _ := protRoundTrip(t, m)
			err := VerifyPOP(&got.Body.CertReq[0])
			switch {
			case tc.wantErr == nil && err != nil:
				t.Errorf("refused: %v", err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Errorf("got %v, want an error wrapping %v", err, tc.wantErr)
			case tc.wantErr != nil && !errors.Is(err, ErrBadPOP):
				t.Errorf("got %v, want it to wrap ErrBadPOP too", err)
			}
		})
	}
	t.Run("zero-length subject built in memory", func(t *testing.T) {
		// Not a Name at all: present, but the request cannot be encoded
		// to check the signature against.
		r := signed(t, CertReqMsg{Template: CertTemplate{Subject: named, PublicKey: spki}})
		r.Template.Subject = []byte{}
		if err := VerifyPOP(&r); !errors.Is(err, ErrBadPOP) {
			t.Errorf("got %v, want ErrBadPOP", err)
		}
	})
}
