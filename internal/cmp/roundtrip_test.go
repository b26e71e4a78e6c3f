package cmp

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"reflect"
	"testing"
	"time"
)

// clearParsed removes what Parse adds beyond the fields a caller sets.
func clearParsed(m *Message) {
	m.RawProtectedPart = nil
	for i := range m.Body.CertReq {
		m.Body.CertReq[i].RawCertRequest = nil
	}
}

func mustName(t *testing.T, n pkix.Name) GeneralName {
	t.Helper()
	g, err := NameFromPKIX(n)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func testHeader(t *testing.T) Header {
	t.Helper()
	return Header{
		PVNO:          PVNO2,
		Sender:        mustName(t, pkix.Name{CommonName: "client", Organization: []string{"Example"}}),
		Recipient:     NullDN(),
		MessageTime:   time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC),
		ProtectionAlg: &pkix.AlgorithmIdentifier{Algorithm: OIDECDSAWithSHA256},
		SenderKID:     []byte("kid"),
		RecipKID:      []byte{1, 2, 3},
		TransactionID: bytes.Repeat([]byte{0x11}, 16),
		SenderNonce:   bytes.Repeat([]byte{0x22}, 16),
		RecipNonce:    bytes.Repeat([]byte{0x33}, 16),
		FreeText:      []string{"hello", "wörld"},
		GeneralInfo:   []InfoTypeAndValue{ImplicitConfirmITAV(), {Type: asn1.ObjectIdentifier{1, 2, 3}}},
	}
}

func testTemplate(t *testing.T) CertTemplate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	subject := mustName(t, pkix.Name{CommonName: "subject"}).DirectoryName
	issuer := mustName(t, pkix.Name{CommonName: "issuer"}).DirectoryName
	nb := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	na := time.Date(2051, 1, 1, 0, 0, 0, 0, time.UTC) // GeneralizedTime from 2050
	v := 2
	return CertTemplate{
		Version:      &v,
		SerialNumber: big.NewInt(0x7fff_ffff_ffff),
		SigningAlg:   &pkix.AlgorithmIdentifier{Algorithm: OIDECDSAWithSHA256},
		Issuer:       issuer,
		Validity:     &OptionalValidity{NotBefore: &nb, NotAfter: &na},
		Subject:      subject,
		PublicKey:    spki,
		Extensions: []pkix.Extension{
			{Id: asn1.ObjectIdentifier{2, 5, 29, 15}, Critical: true, Value: []byte{0x03, 0x02, 0x07, 0x80}},
			{Id: asn1.ObjectIdentifier{2, 5, 29, 17}, Value: []byte{0x30, 0x00}},
		},
	}
}

func roundTrip(t *testing.T, m *Message) *Message {
	t.Helper()
	der, err := m.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	again, err := m.Marshal()
	if err != nil || !bytes.Equal(der, again) {
		t.Fatal("Marshal is not deterministic")
	}
	pp, err := m.ProtectedPart()
	if err != nil {
		t.Fatalf("ProtectedPart: %v", err)
	}
	got, err := Parse(der)
	if err != nil {
		t.Fatalf("Parse(Marshal()): %v", err)
	}
	if !bytes.Equal(got.RawProtectedPart, pp) {
		t.Error("the protected part Parse sees is not what ProtectedPart returned")
	}
	clearParsed(got)
	if !reflect.DeepEqual(got, m) {
		t.Errorf("round trip changed the message\n got %+v\nwant %+v", got, m)
	}
	return got
}

func TestRoundTripBodies(t *testing.T) {
	tmpl := testTemplate(t)
	oldID, err := OldCertIDControl(CertID{Issuer: NameFromDER(tmpl.Issuer), Serial: big.NewInt(-5)})
	if err != nil {
		t.Fatal(err)
	}
	reason, err := ReasonExtension(ReasonCessationOfOperation)
	if err != nil {
		t.Fatal(err)
	}
	code := int64(-42)
	certDER := []byte{0x30, 0x03, 0x02, 0x01, 0x01} // codec only requires a SEQUENCE
	bodies := map[string]Body{
		"ir": {Type: BodyIR, CertReq: []CertReqMsg{{
			CertReqID: 0, Template: tmpl,
			POP: &ProofOfPossession{Type: POPSignature, Signature: &POPOSigningKey{
				Algorithm: pkix.AlgorithmIdentifier{Algorithm: OIDECDSAWithSHA256}, Signature: []byte{1, 2, 3}}},
			RegInfo: []AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{1, 2, 9}, Value: []byte{0x0c, 0x01, 'x'}}},
		}, {
			CertReqID: 1, Template: CertTemplate{Subject: tmpl.Subject},
			POP: &ProofOfPossession{Type: POPRAVerified},
		}}},
		"cr with poposkInput": {Type: BodyCR, CertReq: []CertReqMsg{{
			CertReqID: 7, Template: CertTemplate{PublicKey: tmpl.PublicKey},
			POP: &ProofOfPossession{Type: POPSignature, Signature: &POPOSigningKey{
				Input:     []byte{0x30, 0x03, 0x02, 0x01, 0x05},
				Algorithm: pkix.AlgorithmIdentifier{Algorithm: OIDEd25519}, Signature: make([]byte, 64)}},
		}}},
		"kur": {Type: BodyKUR, CertReq: []CertReqMsg{{
			CertReqID: 0, Template: tmpl, Controls: []AttributeTypeAndValue{oldID},
			POP: &ProofOfPossession{Type: POPKeyEncipherment, PrivKey: []byte{0x80, 0x01, 0x00}},
		}}},
		"ip": {Type: BodyIP, CertRep: &CertRepMessage{
			CAPubs: [][]byte{certDER, certDER},
			Response: []CertResponse{
				{CertReqID: 0, Status: PKIStatusInfo{Status: StatusGrantedWithMods, StatusString: []string{"changed"}}, Certificate: certDER, RspInfo: []byte("info")},
				{CertReqID: 1, Status: PKIStatusInfo{Status: StatusRejection, FailInfo: FailBadPOP | FailBadCertTemplate, HasFailInfo: true}},
				{CertReqID: 2, Status: PKIStatusInfo{Status: StatusAccepted}, EncryptedCert: []byte{0x30, 0x00},
					PrivateKey: []byte{0x30, 0x00}, PublicationInfo: []byte{0x30, 0x03, 0x02, 0x01, 0x00}},
			}}},
		"cp empty response list": {Type: BodyCP, CertRep: &CertRepMessage{Response: []CertResponse{}}},
		"kup waiting":            {Type: BodyKUP, CertRep: &CertRepMessage{Response: []CertResponse{{Status: PKIStatusInfo{Status: StatusWaiting}}}}},
		"p10cr":                  {Type: BodyP10CR, P10CR: []byte{0x30, 0x03, 0x02, 0x01, 0x00}},
		"rr": {Type: BodyRR, RevReq: []RevDetails{{
			CertDetails: CertTemplate{Issuer: tmpl.Issuer, SerialNumber: big.NewInt(0x2001)},
			Extensions:  []pkix.Extension{reason}}}},
		"rr empty": {Type: BodyRR, RevReq: []RevDetails{}},
		"rp": {Type: BodyRP, RevRep: &RevRepContent{
			Status:   []PKIStatusInfo{{Status: StatusRejection, FailInfo: FailCertRevoked, HasFailInfo: true}},
			RevCerts: []CertID{{Issuer: NameFromDER(tmpl.Issuer), Serial: big.NewInt(1)}},
			CRLs:     [][]byte{{0x30, 0x00}}}},
		"pkiconf":    {Type: BodyPKIConf},
		"genm":       {Type: BodyGenM, GenMsg: []InfoTypeAndValue{{Type: OIDCACerts}, {Type: OIDRootCACert, Value: certDER}}},
		"genp empty": {Type: BodyGenP, GenMsg: []InfoTypeAndValue{}},
		"error": {Type: BodyError, Error: &ErrorMsgContent{
			Status:    PKIStatusInfo{Status: StatusRejection, FailInfo: FailSystemFailure, HasFailInfo: true, StatusString: []string{"x"}},
			ErrorCode: &code, ErrorDetails: []string{"detail"}}},
		"error minimal": {Type: BodyError, Error: &ErrorMsgContent{Status: PKIStatusInfo{Status: StatusRejection}}},
		"certConf": {Type: BodyCertConf, CertConf: []CertStatus{
			{CertHash: make([]byte, 32), CertReqID: 0},
			{CertHash: make([]byte, 64), CertReqID: 1, StatusInfo: &PKIStatusInfo{Status: StatusRejection, FailInfo: FailIncorrectData, HasFailInfo: true},
				HashAlg: &pkix.AlgorithmIdentifier{Algorithm: OIDSHA512}}}},
		"certConf empty": {Type: BodyCertConf, CertConf: []CertStatus{}},
		"pollReq":        {Type: BodyPollReq, PollReq: []int64{0, 1, -1}},
		"pollRep":        {Type: BodyPollRep, PollRep: []PollRepEntry{{CertReqID: 0, CheckAfter: 10}, {CertReqID: 1, CheckAfter: 0, Reason: []string{"busy"}}}},
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			h := testHeader(t)
			if body.Type == BodyCertConf {
				h.PVNO = PVNO3 // hashAlg is a version-3 feature
			}
			m := &Message{Header: h, Body: body, Protection: []byte{9, 9, 9}, ExtraCerts: [][]byte{certDER}}
			got := roundTrip(t, m)
			if got.Body.Type.String() != body.Type.String() {
				t.Errorf("type %s", got.Body.Type)
			}
		})
	}
}

func TestRoundTripMinimalHeader(t *testing.T) {
	m := &Message{Header: Header{PVNO: PVNO2, Sender: NullDN(), Recipient: NullDN()}, Body: Body{Type: BodyPKIConf}}
	der := roundTrip(t, m)
	if der.Header.ProtectionAlg != nil || der.Protection != nil || der.ExtraCerts != nil {
		t.Error("absent fields came back present")
	}
	// Non-directoryName sender (rfc822Name [1]) is kept raw.
	m.Header.Sender = GeneralName{Raw: []byte{0x81, 0x03, 'a', '@', 'b'}}
	roundTrip(t, m)
}

func TestMarshalRejects(t *testing.T) {
	h := Header{PVNO: PVNO2, Sender: NullDN(), Recipient: NullDN()}
	cases := map[string]*Message{
		"pvno 0":                          {Header: Header{Sender: NullDN(), Recipient: NullDN()}, Body: Body{Type: BodyPKIConf}},
		"empty sender":                    {Header: Header{PVNO: 2, Recipient: NullDN()}, Body: Body{Type: BodyPKIConf}},
		"unsupported body":                {Header: h, Body: Body{Type: 5}},
		"ir without requests":             {Header: h, Body: Body{Type: BodyIR}},
		"ip without CertRep":              {Header: h, Body: Body{Type: BodyIP}},
		"error without Error":             {Header: h, Body: Body{Type: BodyError}},
		"rp without status":               {Header: h, Body: Body{Type: BodyRP, RevRep: &RevRepContent{}}},
		"p10cr not DER":                   {Header: h, Body: Body{Type: BodyP10CR, P10CR: []byte{0x30, 0x05}}},
		"extraCert not DER":               {Header: h, Body: Body{Type: BodyPKIConf}, ExtraCerts: [][]byte{{0x02, 0x01, 0x00}}},
		"too many extraCerts":             {Header: h, Body: Body{Type: BodyPKIConf}, ExtraCerts: repeat([]byte{0x30, 0x00}, MaxCertificates+1)},
		"too many pollReq":                {Header: h, Body: Body{Type: BodyPollReq, PollReq: make([]int64, MaxRequests+1)}},
		"too many certConf":               {Header: h, Body: Body{Type: BodyCertConf, CertConf: make([]CertStatus, MaxRequests+1)}},
		"invalid UTF-8 text":              {Header: Header{PVNO: 2, Sender: NullDN(), Recipient: NullDN(), FreeText: []string{"\xff"}}, Body: Body{Type: BodyPKIConf}},
		"itav value not DER":              {Header: h, Body: Body{Type: BodyGenM, GenMsg: []InfoTypeAndValue{{Type: OIDCACerts, Value: []byte{0x05}}}}},
		"template key not DER":            {Header: h, Body: Body{Type: BodyIR, CertReq: []CertReqMsg{{Template: CertTemplate{PublicKey: []byte{1}}}}}},
		"signature POP without signature": {Header: h, Body: Body{Type: BodyIR, CertReq: []CertReqMsg{{POP: &ProofOfPossession{Type: POPSignature}}}}},
		"unknown POP type":                {Header: h, Body: Body{Type: BodyIR, CertReq: []CertReqMsg{{POP: &ProofOfPossession{Type: 9}}}}},
		"both name forms":                 {Header: Header{PVNO: 2, Sender: GeneralName{DirectoryName: []byte{0x30, 0}, Raw: []byte{0x81, 0}}, Recipient: NullDN()}, Body: Body{Type: BodyPKIConf}},
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			if der, err := m.Marshal(); err == nil {
				t.Fatalf("Marshal accepted it: %x", der)
			}
			if _, err := m.ProtectedPart(); err == nil && m.ExtraCerts == nil {
				t.Error("ProtectedPart accepted it")
			}
		})
	}
}

func TestMessageTimeEncoding(t *testing.T) {
	// Local time with nanoseconds becomes UTC whole seconds (DER GeneralizedTime).
	loc := time.FixedZone("UTC+2", 2*3600)
	m := &Message{Header: Header{PVNO: 2, Sender: NullDN(), Recipient: NullDN(),
		MessageTime: time.Date(2026, 3, 4, 14, 5, 6, 789, loc)}, Body: Body{Type: BodyPKIConf}}
	der, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(der, []byte("20260304120506Z")) {
		t.Errorf("messageTime not encoded as 20260304120506Z: %x", der)
	}
	got, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 4, 12, 5, 6, 0, time.UTC); !got.Header.MessageTime.Equal(want) || got.Header.MessageTime.Location() != time.UTC {
		t.Errorf("messageTime %v, want %v UTC", got.Header.MessageTime, want)
	}
}

func TestValidityTimeChoice(t *testing.T) {
	// RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050;
	// RFC 4211: notBefore [0] / notAfter [1] explicitly wrap the Time CHOICE.
	nb := time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC)
	na := time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC)
	r := CertReqMsg{Template: CertTemplate{Validity: &OptionalValidity{NotBefore: &nb, NotAfter: &na}}}
	der, err := r.CertRequestDER()
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0xa4, 0x24,
		0xa0, 0x0f, 0x17, 0x0d, '4', '9', '1', '2', '3', '1', '2', '3', '5', '9', '5', '9', 'Z',
		0xa1, 0x11, 0x18, 0x0f, '2', '0', '5', '0', '0', '1', '0', '1', '0', '0', '0', '0', '0', '0', 'Z'}
	if !bytes.Contains(der, want) {
		t.Errorf("validity encoding %x does not contain %x", der, want)
	}
}

func TestAlgorithmParametersKept(t *testing.T) {
	// Absent and NULL parameters differ on the wire (RFC 9481 section 3.1
	// wants NULL for RSA, absent for ECDSA); both must survive a round trip.
	cases := []struct {
		name   string
		alg    pkix.AlgorithmIdentifier
		params []byte
	}{
		{"absent", pkix.AlgorithmIdentifier{Algorithm: OIDECDSAWithSHA256}, nil},
		{"NULL via RawValue", pkix.AlgorithmIdentifier{Algorithm: OIDSHA256WithRSA, Parameters: asn1.NullRawValue}, []byte{5, 0}},
		{"NULL via FullBytes", pkix.AlgorithmIdentifier{Algorithm: OIDSHA256WithRSA, Parameters: asn1.RawValue{FullBytes: []byte{5, 0}}}, []byte{5, 0}},
		{"SEQUENCE", pkix.AlgorithmIdentifier{Algorithm: OIDRSASSAPSS, Parameters: asn1.RawValue{FullBytes: []byte{0x30, 0x03, 0x02, 0x01, 0x20}}}, []byte{0x30, 0x03, 0x02, 0x01, 0x20}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := Header{PVNO: 2, Sender: NullDN(), Recipient: NullDN(), ProtectionAlg: &tc.alg}
			der, err := (&Message{Header: h, Body: Body{Type: BodyPKIConf}}).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(der)
			if err != nil {
				t.Fatal(err)
			}
			got := m.Header.ProtectionAlg
			if !got.Algorithm.Equal(tc.alg.Algorithm) || !bytes.Equal(got.Parameters.FullBytes, tc.params) {
				t.Errorf("got %v params %x, want %x", got.Algorithm, got.Parameters.FullBytes, tc.params)
			}
			again, err := m.Marshal()
			if err != nil || !bytes.Equal(again, der) {
				t.Errorf("second encoding differs (err %v)", err)
			}
		})
	}
}

func TestMarshalRejectsBadRawParts(t *testing.T) {
	h := Header{PVNO: 2, Sender: NullDN(), Recipient: NullDN()}
	cases := map[string]*Message{
		"raw sender is a directoryName": {Header: Header{PVNO: 2, Sender: GeneralName{Raw: tlv(tagDirectoryName, []byte{0x30, 0x00})}, Recipient: NullDN()}, Body: Body{Type: BodyPKIConf}},
		"raw sender two elements":       {Header: Header{PVNO: 2, Sender: GeneralName{Raw: []byte{0x82, 0x00, 0x82, 0x00}}, Recipient: NullDN()}, Body: Body{Type: BodyPKIConf}},
		"raw sender universal tag":      {Header: Header{PVNO: 2, Sender: GeneralName{Raw: []byte{0x04, 0x00}}, Recipient: NullDN()}, Body: Body{Type: BodyPKIConf}},
		"certificate and encryptedCert": {Header: h, Body: Body{Type: BodyIP, CertRep: &CertRepMessage{Response: []CertResponse{{Certificate: []byte{0x30, 0x00}, EncryptedCert: []byte{0x30, 0x00}}}}}},
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := m.Marshal(); err == nil {
				t.Fatal("Marshal accepted it")
			}
		})
	}
}
