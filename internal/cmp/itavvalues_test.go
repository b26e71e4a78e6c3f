package cmp

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"reflect"
	"testing"
	"time"
)

func TestCACertsValue(t *testing.T) {
	root, server := readCred(t, "root"), readCred(t, "server")
	v, err := CACertsValue([][]byte{root.Raw, server.Raw})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseCACertsValue(v)
	if err != nil || len(got) != 2 || !bytes.Equal(got[0], root.Raw) || !bytes.Equal(got[1], server.Raw) {
		t.Fatalf("ParseCACertsValue: %d certs, %v", len(got), err)
	}
	if v, err := CACertsValue(nil); v != nil || err != nil {
		t.Errorf("no certificates: value %x, %v; want absent", v, err)
	}
	if got, err := ParseCACertsValue(nil); got != nil || err != nil {
		t.Errorf("absent value: %v, %v", got, err)
	}
	if got, err := ParseCACertsValue([]byte{0x30, 0x00}); got != nil || err != nil {
		t.Errorf("empty SEQUENCE: %v, %v; want no certificates", got, err)
	}
	bad := map[string][]byte{
		"trailing data":   append(bytes.Clone(v), 0),
		"not a SEQUENCE":  {0x31, 0x00},
		"element not SEQ": {0x30, 0x02, 0x04, 0x00},
		"too many":        tlv(0x30, repeat([]byte{0x30, 0x00}, MaxCertificates+1)...),
	}
	for name, der := range bad {
		if _, err := ParseCACertsValue(der); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	if _, err := CACertsValue([][]byte{{0x02, 0x01, 0x00}}); err == nil {
		t.Error("CACertsValue accepted a non-certificate")
	}
}

func TestRootCAKeyUpdate(t *testing.T) {
	root, server, client := readCred(t, "root"), readCred(t, "server"), readCred(t, "client1")
	cases := map[string]RootCAKeyUpdate{
		"all three":       {NewWithNew: root.Raw, NewWithOld: server.Raw, OldWithNew: client.Raw},
		"newWithNew only": {NewWithNew: root.Raw},
		"oldWithNew only": {NewWithNew: root.Raw, OldWithNew: client.Raw},
	}
	for name, u := range cases {
		t.Run(name, func(t *testing.T) {
			der, err := u.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			// EXPLICIT TAGS: [0]/[1] wrap the whole Certificate.
			if u.NewWithOld != nil && !bytes.Contains(der, tlv(explicitTag(0), u.NewWithOld)) {
				t.Error("newWithOld is not A0 { Certificate }")
			}
			if u.OldWithNew != nil && !bytes.Contains(der, tlv(explicitTag(1), u.OldWithNew)) {
				t.Error("oldWithNew is not A1 { Certificate }")
			}
			got, err := ParseRootCAKeyUpdate(der)
			if err != nil || !reflect.DeepEqual(*got, u) {
				t.Errorf("round trip: %+v, %v", got, err)
			}
		})
	}
	bad := map[string][]byte{
		"empty":            {0x30, 0x00},
		"[1] before [0]":   tlv(0x30, root.Raw, tlv(explicitTag(1), root.Raw), tlv(explicitTag(0), root.Raw)),
		"implicit [0]":     tlv(0x30, root.Raw, tlv(implicitTag(0).Constructed(), root.Raw[4:])),
		"trailing in [0]":  tlv(0x30, root.Raw, tlv(explicitTag(0), root.Raw, []byte{5, 0})),
		"trailing outside": append(tlv(0x30, root.Raw), 0),
	}
	for name, der := range bad {
		if _, err := ParseRootCAKeyUpdate(der); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	if _, err := (&RootCAKeyUpdate{}).Marshal(); err == nil {
		t.Error("Marshal without newWithNew succeeded")
	}
	if c, err := ParseRootCACertValue(root.Raw); err != nil || !bytes.Equal(c, root.Raw) {
		t.Errorf("ParseRootCACertValue: %v", err)
	}
	if c, err := ParseRootCACertValue(nil); c != nil || err != nil {
		t.Errorf("absent rootCaCert: %v %v", c, err)
	}
	if _, err := ParseRootCACertValue(append(bytes.Clone(root.Raw), 0)); !errors.Is(err, ErrMalformed) {
		t.Errorf("trailing data accepted: %v", err)
	}
}

func TestCertReqTemplate(t *testing.T) {
	subject := mustName(t, pkix.Name{CommonName: "device", Organization: []string{"Example"}}).DirectoryName
	// RFC 9810 5.3.19.16 example shape: template with subject and
	// extensions, keySpec with id-regCtrl-algId (1.3.6.1.5.5.7.5.1.11).
	algID := []byte{0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}
	tmpl := CertReqTemplate{
		Template: CertTemplate{Subject: subject, Extensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 15}, Critical: true, Value: []byte{3, 2, 7, 0x80}}}},
		KeySpec:  []AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 5, 1, 11}, Value: algID}},
	}
	der, err := tmpl.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseCertReqTemplate(der)
	if err != nil || !reflect.DeepEqual(*got, tmpl) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	noKeySpec := CertReqTemplate{Template: CertTemplate{Subject: subject}}
	der2, _ := noKeySpec.Marshal()
	if got, err := ParseCertReqTemplate(der2); err != nil || got.KeySpec != nil {
		t.Errorf("without keySpec: %+v %v", got, err)
	}
	for name, der := range map[string][]byte{
		"empty keySpec": tlv(0x30, tlv(0x30), tlv(0x30)),
		"trailing":      append(bytes.Clone(der), 0),
		"no template":   {0x30, 0x00},
	} {
		if _, err := ParseCertReqTemplate(der); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

func TestConfirmWaitTimeAndSignKeyPairTypes(t *testing.T) {
	when := time.Date(2026, 11, 23, 15, 4, 5, 0, time.UTC)
	itav, err := ConfirmWaitTimeITAV(when)
	if err != nil || !itav.Type.Equal(OIDConfirmWaitTime) {
		t.Fatal(err)
	}
	if got, err := ParseConfirmWaitTime(itav.Value); err != nil || !got.Equal(when) {
		t.Errorf("confirmWaitTime %v, %v", got, err)
	}
	if _, err := ParseConfirmWaitTime([]byte{0x17, 0x0d, '2', '6', '1', '1', '2', '3', '1', '5', '0', '4', '0', '5', 'Z'}); !errors.Is(err, ErrMalformed) {
		t.Error("UTCTime accepted as confirmWaitTime")
	}

	algs := []pkix.AlgorithmIdentifier{{Algorithm: OIDECDSAWithSHA256}, {Algorithm: OIDSHA256WithRSA, Parameters: asn1.RawValue{FullBytes: []byte{5, 0}}}}
	v, err := SignKeyPairTypesValue(algs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSignKeyPairTypes(v)
	if err != nil || len(got) != 2 || !got[0].Algorithm.Equal(OIDECDSAWithSHA256) || !bytes.Equal(got[1].Parameters.FullBytes, []byte{5, 0}) {
		t.Errorf("signKeyPairTypes %+v, %v", got, err)
	}
	if _, err := ParseSignKeyPairTypes([]byte{0x30, 0x00}); !errors.Is(err, ErrMalformed) {
		t.Error("empty signKeyPairTypes accepted")
	}
	if _, err := SignKeyPairTypesValue(nil); err == nil {
		t.Error("empty list encoded")
	}
}

func TestGeneralNames(t *testing.T) {
	name := pkix.Name{CommonName: "client1", Organization: []string{"Example"}, Country: []string{"FI"}}
	g, err := NameFromPKIX(name)
	if err != nil {
		t.Fatal(err)
	}
	back, err := g.PKIXName()
	if err != nil || back.String() != name.String() || g.String() != "CN=client1,O=Example,C=FI" {
		t.Errorf("PKIXName %q / String %q, %v", back.String(), g.String(), err)
	}
	if !NullDN().IsNullDN() || g.IsNullDN() || !g.IsDirectoryName() || !g.Equal(NameFromDER(g.DirectoryName)) {
		t.Error("NullDN / IsDirectoryName / Equal")
	}
	raw := GeneralName{Raw: []byte{0x82, 0x03, 'a', '.', 'b'}}
	if raw.IsDirectoryName() || raw.String() != "<GeneralName choice [2]>" {
		t.Errorf("raw name: %q", raw.String())
	}
	if _, err := raw.PKIXName(); err == nil {
		t.Error("PKIXName of a dNSName succeeded")
	}
}

func TestCertIDAndReason(t *testing.T) {
	root := readCred(t, "root")
	id := CertID{Issuer: NameFromDER(root.RawSubject), Serial: big.NewInt(0x2002)}
	ctrl, err := OldCertIDControl(id)
	if err != nil || !ctrl.Type.Equal(OIDRegCtrlOldCertID) {
		t.Fatal(err)
	}
	r := CertReqMsg{Controls: []AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{1, 2, 3}, Value: []byte{5, 0}}, ctrl}}
	got, err := r.OldCertID()
	if err != nil || got == nil || got.Serial.Cmp(id.Serial) != 0 || !got.Issuer.Equal(id.Issuer) {
		t.Errorf("OldCertID %+v, %v", got, err)
	}
	if got, err := (&CertReqMsg{}).OldCertID(); got != nil || err != nil {
		t.Error("OldCertID of a request without controls")
	}
	if _, err := ParseCertID(append(bytes.Clone(ctrl.Value), 0)); !errors.Is(err, ErrMalformed) {
		t.Error("CertId with trailing data accepted")
	}
	if _, err := OldCertIDControl(CertID{Issuer: id.Issuer}); err == nil {
		t.Error("CertID without serial encoded")
	}

	for _, bad := range []CRLReason{-1, 7, 11} {
		if _, err := ReasonExtension(bad); err == nil {
			t.Errorf("ReasonExtension(%d) accepted", bad)
		}
	}
	one, _ := ReasonExtension(ReasonKeyCompromise)
	two, _ := ReasonExtension(ReasonSuperseded)
	if !bytes.Equal(one.Value, []byte{0x0a, 0x01, 0x01}) || one.Critical {
		t.Errorf("keyCompromise extension %x", one.Value)
	}
	if _, _, err := (&RevDetails{Extensions: []pkix.Extension{one, two}}).Reason(); err == nil {
		t.Error("two CRLReason extensions accepted")
	}
	if _, ok, err := (&RevDetails{}).Reason(); ok || err != nil {
		t.Error("reason found where there is none")
	}
	if _, _, err := (&RevDetails{Extensions: []pkix.Extension{{Id: OIDCRLReason, Value: []byte{2, 1, 1}}}}).Reason(); err == nil {
		t.Error("INTEGER accepted as CRLReason ENUMERATED")
	}
}
