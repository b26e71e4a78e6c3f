package cmp

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSharedVectorsDecode(t *testing.T) {
	dir := vectorsDir
	cases := []struct {
		file        string
		body        BodyType
		protAlg     asn1.ObjectIdentifier // nil: unprotected
		kid         string
		extraCerts  int
		sameEncoded bool
		check       func(t *testing.T, m *Message)
	}{
		{file: "IP_PBM.der", body: BodyIP, protAlg: OIDPasswordBasedMac, kid: "3078", extraCerts: 1, sameEncoded: true,
			check: func(t *testing.T, m *Message) {
				r := m.Body.CertRep.Response[0]
				if r.Status.Status != StatusAccepted || len(r.Certificate) == 0 {
					t.Errorf("status %s, certificate %d bytes", r.Status, len(r.Certificate))
				}
				if got := m.Header.Recipient.String(); got != "CN=test2" {
					t.Errorf("recipient %q", got)
				}
			}},
		{file: "IP_waitingStatus_PBM.der", body: BodyIP, protAlg: OIDPasswordBasedMac, kid: "4787", sameEncoded: true,
			check: func(t *testing.T, m *Message) {
				r := m.Body.CertRep.Response[0]
				if r.Status.Status != StatusWaiting || r.Certificate != nil || len(m.Body.CertRep.CAPubs) != 1 {
					t.Errorf("status %s, certificate %d bytes, caPubs %d", r.Status, len(r.Certificate), len(m.Body.CertRep.CAPubs))
				}
				if !m.Header.MessageTime.IsZero() {
					t.Error("messageTime present; the vector has none")
				}
			}},
		{file: "CR_protected_PBM_1234.der", body: BodyCR, protAlg: OIDPasswordBasedMac, sameEncoded: true,
			check: func(t *testing.T, m *Message) {
				if got := m.Header.Sender.String(); got != "CN=sender" {
					t.Errorf("sender %q", got)
				}
			}},
		{file: "IR_protected.der", body: BodyIR, protAlg: OIDSHA256WithRSA,
			// Its extraCerts is an empty SEQUENCE, which we accept but do not re-send.
			check: func(t *testing.T, m *Message) {
				if m.ExtraCerts == nil || len(m.ExtraCerts) != 0 {
					t.Errorf("extraCerts %v, want present and empty", m.ExtraCerts)
				}
				if len(m.Body.CertReq[0].Template.Extensions) != 3 {
					t.Errorf("%d template extensions, want 3", len(m.Body.CertReq[0].Template.Extensions))
				}
			}},
		{file: "IR_unprotected.der", body: BodyIR, sameEncoded: true},
		{file: "IR_rmprotection.der", body: BodyIP, kid: "3078", sameEncoded: true},
		{file: "IR_protected_0_extraCerts.der", body: BodyIR, protAlg: OIDSHA256WithRSA, sameEncoded: true},
		{file: "IR_protected_2_extraCerts.der", body: BodyIR, protAlg: OIDSHA256WithRSA, extraCerts: 2, sameEncoded: true},
		{file: "GENM_protected_Ed.der", body: BodyGenM, protAlg: OIDEd25519, sameEncoded: true,
			check: func(t *testing.T, m *Message) {
				if m.Body.GenMsg == nil || len(m.Body.GenMsg) != 0 {
					t.Errorf("GenMsg %v, want an empty GenMsgContent", m.Body.GenMsg)
				}
				if len(m.Protection) != 64 {
					t.Errorf("Ed25519 protection %d bytes", len(m.Protection))
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			der, err := os.ReadFile(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(der)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			h := m.Header
			if m.Body.Type != tc.body || h.PVNO != PVNO2 || len(h.TransactionID) != 16 || len(h.SenderNonce) != 16 {
				t.Errorf("body %s pvno %d transactionID %d B senderNonce %d B", m.Body.Type, h.PVNO, len(h.TransactionID), len(h.SenderNonce))
			}
			if tc.protAlg == nil {
				if h.ProtectionAlg != nil || m.Protection != nil {
					t.Error("protection present in an unprotected vector")
				}
			} else if h.ProtectionAlg == nil || !h.ProtectionAlg.Algorithm.Equal(tc.protAlg) || len(m.Protection) == 0 {
				t.Errorf("protectionAlg %v, want %v", h.ProtectionAlg, tc.protAlg)
			}
			if tc.kid != "" && string(h.SenderKID) != tc.kid {
				t.Errorf("senderKID %q, want %q", h.SenderKID, tc.kid)
			}
			if len(m.ExtraCerts) != tc.extraCerts {
				t.Errorf("%d extraCerts, want %d", len(m.ExtraCerts), tc.extraCerts)
			}
			if tc.check != nil {
				tc.check(t, m)
			}
			re, err := m.Marshal()
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if tc.sameEncoded && !bytes.Equal(re, der) {
				t.Error("re-encoding differs from the vector")
			}
			again, err := Parse(re)
			if err != nil {
				t.Fatalf("Parse(Marshal()): %v", err)
			}
			if !bytes.Equal(again.RawProtectedPart, m.RawProtectedPart) {
				t.Error("protected part changed through a round trip")
			}
		})
	}

	// pkcs10.der is a CSR, not a PKIMessage.
	csr, err := os.ReadFile(filepath.Join(dir, "pkcs10.der"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(csr); !errors.Is(err, ErrMalformed) {
		t.Errorf("Parse(pkcs10.der) = %v, want ErrMalformed", err)
	}
}
