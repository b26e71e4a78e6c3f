package cmp

import (
	"encoding/hex"
	"errors"
	"testing"
)

// The DER below was made by OpenSSL 3.0:
//
//	openssl asn1parse -genstr 'INTEGER:2048' -out k.der
//	openssl asn1parse -genconf a.cnf -out a.der   # SEQUENCE { OID id-ecPublicKey, OID secp384r1 }
//	openssl asn1parse -genconf e.cnf -out e.der   # SEQUENCE { OID ED25519 }
const (
	opensslInteger2048  = "02020800"
	opensslAlgIDECP384  = "301006072a8648ce3d020106052b81040022"
	opensslAlgIDEd25519 = "300506032b6570"
)

func TestKeySpecControls(t *testing.T) {
	tests := []struct {
		name      string
		der       string
		rsa       bool
		wantBits  int
		wantOID   string
		wantParam bool
		wantErr   bool
	}{
		{name: "rsaKeyLen 2048", der: opensslInteger2048, rsa: true, wantBits: 2048},
		{name: "algId EC P-384", der: opensslAlgIDECP384, wantOID: OIDECPublicKey.String(), wantParam: true},
		{name: "algId Ed25519", der: opensslAlgIDEd25519, wantOID: OIDEd25519.String()},
		{name: "rsaKeyLen 0", der: "020100", rsa: true, wantErr: true},
		{name: "rsaKeyLen negative", der: "0201ff", rsa: true, wantErr: true},
		{name: "rsaKeyLen too large", der: "020400ffffff", rsa: true, wantErr: true},
		{name: "rsaKeyLen with trailing data", der: opensslInteger2048 + "00", rsa: true, wantErr: true},
		{name: "rsaKeyLen not an INTEGER", der: "04020800", rsa: true, wantErr: true},
		{name: "algId with trailing data", der: opensslAlgIDEd25519 + "0500", wantErr: true},
		{name: "algId not a SEQUENCE", der: "06032b6570", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			der, err := hex.DecodeString(tc.der)
			if err != nil {
				t.Fatal(err)
			}
			if tc.rsa {
				bits, err := ParseRSAKeyLenControl(der)
				if tc.wantErr {
					if err == nil || !errors.Is(err, ErrMalformed) {
						t.Fatalf("got %d, %v; want an ErrMalformed", bits, err)
					}
					return
				}
				if err != nil || bits != tc.wantBits {
					t.Fatalf("got %d, %v; want %d", bits, err, tc.wantBits)
				}
				// Building mirrors parsing: the control encodes what OpenSSL did.
				ctrl, err := RSAKeyLenControl(bits)
				if err != nil || hex.EncodeToString(ctrl.Value) != tc.der || !ctrl.Type.Equal(OIDRegCtrlRSAKeyLen) {
					t.Fatalf("RSAKeyLenControl(%d) = %x (%v), %v", bits, ctrl.Value, ctrl.Type, err)
				}
				return
			}
			alg, err := ParseAlgIDControl(der)
			if tc.wantErr {
				if err == nil || !errors.Is(err, ErrMalformed) {
					t.Fatalf("got %v, %v; want an ErrMalformed", alg.Algorithm, err)
				}
				return
			}
			if err != nil || alg.Algorithm.String() != tc.wantOID || (len(alg.Parameters.FullBytes) > 0) != tc.wantParam {
				t.Fatalf("got %v %x, %v; want %s (parameters %v)", alg.Algorithm, alg.Parameters.FullBytes, err, tc.wantOID, tc.wantParam)
			}
			ctrl, err := AlgIDControl(alg)
			if err != nil || hex.EncodeToString(ctrl.Value) != tc.der || !ctrl.Type.Equal(OIDRegCtrlAlgID) {
				t.Fatalf("AlgIDControl = %x (%v), %v", ctrl.Value, ctrl.Type, err)
			}
		})
	}
	if _, err := RSAKeyLenControl(0); err == nil {
		t.Errorf("RSAKeyLenControl(0) succeeded")
	}
}
