package cmp

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// The golden files were captured from openssl cmp 3.0 (testdata/README.md);
// the expectations below come from what the generator asked OpenSSL to do
// and from the credentials in testdata/creds, never from our encoder.

func readGolden(t *testing.T, name string) ([]byte, *Message) {
	t.Helper()
	der, err := os.ReadFile(filepath.Join("testdata", "golden", name+".der"))
	if err != nil {
		t.Fatalf("read golden %s: %v", name, err)
	}
	m, err := Parse(der)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return der, m
}

func readCred(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "creds", name+".crt"))
	if err != nil {
		t.Fatalf("read cred %s: %v", name, err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("cred %s: no PEM block", name)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("cred %s: %v", name, err)
	}
	return cert
}

// goldenFiles lists every captured message; TestGoldenAllFilesCovered keeps
// it in step with the directory.
var goldenFiles = map[string]BodyType{
	"ir_pbm_sha1": BodyIR, "ip_pbm_sha1": BodyIP, "certConf_pbm_sha1": BodyCertConf, "pkiConf_pbm_sha1": BodyPKIConf,
	"ir_pbm_sha256": BodyIR, "ip_pbm_sha256": BodyIP, "certConf_pbm_sha256": BodyCertConf, "pkiConf_pbm_sha256": BodyPKIConf,
	"ir_sig_rsa": BodyIR, "ip_sig_rsa": BodyIP, "certConf_sig_rsa": BodyCertConf, "pkiConf_sig_rsa": BodyPKIConf,
	"ir_pop_ed25519": BodyIR, "ip_ed25519": BodyIP, "certConf_ed25519": BodyCertConf, "pkiConf_ed25519": BodyPKIConf,
	"ir_template": BodyIR, "ip_template": BodyIP, "certConf_template": BodyCertConf, "pkiConf_template": BodyPKIConf,
	"ir_raverified": BodyIR, "ip_raverified": BodyIP, "certConf_raverified": BodyCertConf, "pkiConf_raverified": BodyPKIConf,
	"cr": BodyCR, "cp": BodyCP, "certConf_cr": BodyCertConf, "pkiConf_cr": BodyPKIConf,
	"kur": BodyKUR, "kup": BodyKUP, "certConf_kur": BodyCertConf, "pkiConf_kur": BodyPKIConf,
	"p10cr": BodyP10CR, "cp_p10cr": BodyCP, "certConf_p10cr": BodyCertConf, "pkiConf_p10cr": BodyPKIConf,
	"rr_pbm": BodyRR, "rp_pbm": BodyRP, "rr_sig": BodyRR, "rp_sig": BodyRP,
	"genm_caCerts": BodyGenM, "genp_caCerts": BodyGenP,
	"genm_signKeyPairTypes": BodyGenM, "genp_signKeyPairTypes": BodyGenP,
	"ir_poll": BodyIR, "ip_waiting": BodyIP, "pollReq_1": BodyPollReq, "pollRep_1": BodyPollRep,
	"pollReq_2": BodyPollReq, "ip_after_poll": BodyIP, "certConf_poll": BodyCertConf, "pkiConf_poll": BodyPKIConf,
	"ir_implicit": BodyIR, "ip_implicit": BodyIP,
	"ir_rejected": BodyIR, "ip_rejection": BodyIP,
	"ir_rejected_bits": BodyIR, "ip_rejection_bits": BodyIP,
	"ir_error": BodyIR, "error": BodyError,
}

func TestGoldenAllFilesCovered(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.der"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		name = name[:len(name)-len(".der")]
		if _, ok := goldenFiles[name]; !ok {
			t.Errorf("golden file %s has no expectation in goldenFiles", name)
		}
	}
	if len(files) != len(goldenFiles) {
		t.Errorf("%d golden files on disk, %d expected", len(files), len(goldenFiles))
	}
}

// TestGoldenCommon checks what every OpenSSL-made message shares, and that
// re-encoding what was decoded gives the identical bytes.
func TestGoldenCommon(t *testing.T) {
	for name, want := range goldenFiles {
		t.Run(name, func(t *testing.T) {
			der, m := readGolden(t, name)
			h := m.Header
			if m.Body.Type != want {
				t.Errorf("body type %s, want %s", m.Body.Type, want)
			}
			if h.PVNO != PVNO2 {
				t.Errorf("pvno %d, want 2", h.PVNO)
			}
			if len(h.TransactionID) != 16 {
				t.Errorf("transactionID %d bytes, want 16", len(h.TransactionID))
			}
			if len(h.SenderNonce) != 16 {
				t.Errorf("senderNonce %d bytes, want 16", len(h.SenderNonce))
			}
			if h.MessageTime.IsZero() {
				t.Error("messageTime absent")
			}
			if h.ProtectionAlg == nil || len(m.Protection) == 0 {
				t.Error("message not protected")
			}
			if !h.Sender.IsDirectoryName() || !h.Recipient.IsDirectoryName() {
				t.Errorf("sender %v / recipient %v not directoryNames", h.Sender, h.Recipient)
			}
			re, err := m.Marshal()
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if !bytes.Equal(re, der) {
				t.Fatalf("re-encoding differs from OpenSSL's bytes (%d vs %d bytes)", len(re), len(der))
			}
			pp, err := m.ProtectedPart()
			if err != nil {
				t.Fatalf("ProtectedPart: %v", err)
			}
			if !bytes.Equal(pp, m.RawProtectedPart) {
				t.Error("ProtectedPart() differs from RawProtectedPart")
			}
			// Marshal embeds exactly the ProtectedPart's header and body.
			if !bytes.Contains(re, pp[headerLen(pp):]) {
				t.Error("Marshal does not embed ProtectedPart's header and body")
			}
		})
	}
}

// headerLen returns the length of the DER header of the element der starts with.
func headerLen(der []byte) int {
	if der[1] < 0x80 {
		return 2
	}
	return 2 + int(der[1]&0x7f)
}

// TestGoldenTransactions checks that each response answers its request:
// same transactionID, recipNonce = the request's senderNonce (RFC 9810
// section 5.1.1).
func TestGoldenTransactions(t *testing.T) {
	pairs := [][2]string{
		{"ir_pbm_sha1", "ip_pbm_sha1"}, {"certConf_pbm_sha1", "pkiConf_pbm_sha1"},
		{"ir_pbm_sha256", "ip_pbm_sha256"}, {"certConf_pbm_sha256", "pkiConf_pbm_sha256"},
		{"ir_sig_rsa", "ip_sig_rsa"}, {"certConf_sig_rsa", "pkiConf_sig_rsa"},
		{"ir_pop_ed25519", "ip_ed25519"}, {"certConf_ed25519", "pkiConf_ed25519"},
		{"ir_template", "ip_template"}, {"certConf_template", "pkiConf_template"},
		{"ir_raverified", "ip_raverified"}, {"certConf_raverified", "pkiConf_raverified"},
		{"cr", "cp"}, {"certConf_cr", "pkiConf_cr"},
		{"kur", "kup"}, {"certConf_kur", "pkiConf_kur"},
		{"p10cr", "cp_p10cr"}, {"certConf_p10cr", "pkiConf_p10cr"},
		{"rr_pbm", "rp_pbm"}, {"rr_sig", "rp_sig"},
		{"genm_caCerts", "genp_caCerts"}, {"genm_signKeyPairTypes", "genp_signKeyPairTypes"},
		{"ir_poll", "ip_waiting"}, {"pollReq_1", "pollRep_1"}, {"pollReq_2", "ip_after_poll"},
		{"certConf_poll", "pkiConf_poll"},
		{"ir_implicit", "ip_implicit"}, {"ir_rejected", "ip_rejection"},
		{"ir_rejected_bits", "ip_rejection_bits"}, {"ir_error", "error"},
	}
	for _, p := range pairs {
		t.Run(p[0], func(t *testing.T) {
			_, req := readGolden(t, p[0])
			_, rsp := readGolden(t, p[1])
			if !bytes.Equal(req.Header.TransactionID, rsp.Header.TransactionID) {
				t.Error("transactionID differs between request and response")
			}
			if !bytes.Equal(rsp.Header.RecipNonce, req.Header.SenderNonce) {
				t.Error("response recipNonce is not the request's senderNonce")
			}
			if bytes.Equal(rsp.Header.SenderNonce, req.Header.SenderNonce) {
				t.Error("response reuses the request's senderNonce")
			}
		})
	}
}

func mustPBM(t *testing.T, m *Message) *PBMParameter {
	t.Helper()
	alg := m.Header.ProtectionAlg
	if alg == nil || !alg.Algorithm.Equal(OIDPasswordBasedMac) {
		t.Fatalf("protectionAlg %v, want PasswordBasedMac", alg)
	}
	p, err := ParsePBMParameter(alg.Parameters.FullBytes)
	if err != nil {
		t.Fatalf("PBMParameter: %v", err)
	}
	return p
}

func TestGoldenIRWithPBM(t *testing.T) {
	client1 := readCred(t, "client1")
	root := readCred(t, "root")
	cases := []struct {
		file    string
		mac     asn1.ObjectIdentifier
		macSize int
	}{
		{"ir_pbm_sha1", OIDHMACSHA1, 20},
		{"ir_pbm_sha256", OIDHMACWithSHA256, 32},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			_, m := readGolden(t, tc.file)
			h := m.Header
			p := mustPBM(t, m)
			if len(p.Salt) != 16 || p.IterationCount != 500 || !p.OWF.Algorithm.Equal(OIDSHA256) || !p.MAC.Algorithm.Equal(tc.mac) {
				t.Errorf("PBM params salt %d B, %d iterations, owf %v, mac %v", len(p.Salt), p.IterationCount, p.OWF.Algorithm, p.MAC.Algorithm)
			}
			if len(m.Protection) != tc.macSize {
				t.Errorf("protection %d bytes, want %d", len(m.Protection), tc.macSize)
			}
			if string(h.SenderKID) != "1234" {
				t.Errorf("senderKID %q, want the reference 1234", h.SenderKID)
			}
			// OpenSSL names the requested subject as sender of a PBM ir.
			if !bytes.Equal(h.Sender.DirectoryName, client1.RawSubject) {
				t.Errorf("sender %v, want %s", h.Sender, client1.Subject)
			}
			if !bytes.Equal(h.Recipient.DirectoryName, root.RawSubject) {
				t.Errorf("recipient %v, want %s", h.Recipient, root.Subject)
			}
			if h.RecipNonce != nil || h.ImplicitConfirm() || m.ExtraCerts != nil {
				t.Error("unexpected recipNonce, implicitConfirm or extraCerts in a first PBM ir")
			}
			checkCertReq(t, m, client1, OIDECDSAWithSHA256)
		})
	}
}

// checkCertReq checks the single CertReqMsg OpenSSL sends: certReqId 0,
// template with subject and public key of cert, signature POP by alg.
func checkCertReq(t *testing.T, m *Message, cert *x509.Certificate, alg asn1.ObjectIdentifier) *CertReqMsg {
	t.Helper()
	if len(m.Body.CertReq) != 1 {
		t.Fatalf("%d CertReqMsg, want 1", len(m.Body.CertReq))
	}
	r := &m.Body.CertReq[0]
	if r.CertReqID != 0 {
		t.Errorf("certReqId %d, want 0", r.CertReqID)
	}
	if !bytes.Equal(r.Template.Subject, cert.RawSubject) {
		t.Errorf("template subject differs from %s", cert.Subject)
	}
	if !bytes.Equal(r.Template.PublicKey, cert.RawSubjectPublicKeyInfo) {
		t.Error("template publicKey differs from the certificate's key")
	}
	if _, err := x509.ParsePKIXPublicKey(r.Template.PublicKey); err != nil {
		t.Errorf("template publicKey does not parse: %v", err)
	}
	if r.POP == nil || r.POP.Type != POPSignature || r.POP.Signature == nil {
		t.Fatalf("POP %+v, want a signature POP", r.POP)
	}
	if !r.POP.Signature.Algorithm.Algorithm.Equal(alg) || r.POP.Signature.Input != nil {
		t.Errorf("POP algorithm %v (want %v), poposkInput %x", r.POP.Signature.Algorithm.Algorithm, alg, r.POP.Signature.Input)
	}
	re, err := r.CertRequestDER()
	if err != nil || !bytes.Equal(re, r.RawCertRequest) {
		t.Errorf("CertRequestDER() differs from the received CertRequest (err %v)", err)
	}
	if !bytes.Contains(m.RawProtectedPart, r.RawCertRequest) {
		t.Error("RawCertRequest is not part of the message")
	}
	return r
}

func TestGoldenIRSigned(t *testing.T) {
	rsa := readCred(t, "rsa")
	client1 := readCred(t, "client1")
	_, m := readGolden(t, "ir_sig_rsa")
	h := m.Header
	if !h.ProtectionAlg.Algorithm.Equal(OIDSHA256WithRSA) || len(m.Protection) != 256 {
		t.Errorf("protection %v with %d bytes, want sha256WithRSAEncryption, 256", h.ProtectionAlg.Algorithm, len(m.Protection))
	}
	if len(m.ExtraCerts) == 0 || !bytes.Equal(m.ExtraCerts[0], rsa.Raw) {
		t.Error("extraCerts[0] is not the signer certificate")
	}
	if !bytes.Equal(h.SenderKID, rsa.SubjectKeyId) {
		t.Errorf("senderKID %x, want signer SKI %x", h.SenderKID, rsa.SubjectKeyId)
	}
	if !bytes.Equal(h.Sender.DirectoryName, rsa.RawSubject) {
		t.Errorf("sender %v, want the signer %s", h.Sender, rsa.Subject)
	}
	checkCertReq(t, m, client1, OIDECDSAWithSHA256)

	_, ed := readGolden(t, "ir_pop_ed25519")
	checkCertReq(t, ed, readCred(t, "ed25519"), OIDEd25519)
}

func TestGoldenCRAndKUR(t *testing.T) {
	client1, client2, root := readCred(t, "client1"), readCred(t, "client2"), readCred(t, "root")

	_, cr := readGolden(t, "cr")
	if !cr.Header.ProtectionAlg.Algorithm.Equal(OIDECDSAWithSHA256) {
		t.Errorf("cr protection %v", cr.Header.ProtectionAlg.Algorithm)
	}
	if len(cr.ExtraCerts) == 0 || !bytes.Equal(cr.ExtraCerts[0], client1.Raw) || !bytes.Equal(cr.Header.SenderKID, client1.SubjectKeyId) {
		t.Error("cr signer certificate / senderKID is not client1's")
	}
	checkCertReq(t, cr, client1, OIDECDSAWithSHA256)

	_, kur := readGolden(t, "kur")
	r := checkCertReq(t, kur, client2, OIDECDSAWithSHA256)
	if !bytes.Equal(r.Template.Issuer, root.RawSubject) {
		t.Error("kur template issuer is not the root's subject")
	}
	id, err := r.OldCertID()
	if err != nil || id == nil {
		t.Fatalf("oldCertID: %v, %v", id, err)
	}
	if id.Serial.Cmp(client2.SerialNumber) != 0 || id.Serial.Cmp(big.NewInt(0x2002)) != 0 {
		t.Errorf("oldCertID serial %v, want 0x2002", id.Serial)
	}
	if !bytes.Equal(id.Issuer.DirectoryName, root.RawSubject) {
		t.Errorf("oldCertID issuer %v", id.Issuer)
	}
	// Our encoding of the same CertID gives OpenSSL's control byte for byte.
	ctrl, err := OldCertIDControl(*id)
	if err != nil || !slices.EqualFunc(r.Controls, []AttributeTypeAndValue{ctrl}, func(a, b AttributeTypeAndValue) bool {
		return a.Type.Equal(b.Type) && bytes.Equal(a.Value, b.Value)
	}) {
		t.Errorf("OldCertIDControl does not reproduce OpenSSL's control (err %v)", err)
	}
}

func TestGoldenCertResponses(t *testing.T) {
	client1, client2, root, server := readCred(t, "client1"), readCred(t, "client2"), readCred(t, "root"), readCred(t, "server")
	ed := readCred(t, "ed25519")
	cases := []struct {
		file   string
		id     int64
		cert   *x509.Certificate
		caPubs bool
	}{
		{"ip_pbm_sha1", 0, client1, true},
		{"ip_pbm_sha256", 0, client1, true},
		{"ip_sig_rsa", 0, client1, true},
		{"ip_ed25519", 0, ed, false},
		{"ip_template", 0, client1, true},
		{"ip_raverified", 0, client1, true},
		{"cp", 0, client1, false}, // caPubs only in ip (RFC 9810 5.3.4)
		{"kup", 0, client2, false},
		{"cp_p10cr", -1, client1, false}, // RFC 9810 5.3.4: certReqId -1 answers a p10cr
		{"ip_after_poll", 0, client1, true},
		{"ip_implicit", 0, client1, true},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			_, m := readGolden(t, tc.file)
			rep := m.Body.CertRep
			if rep == nil || len(rep.Response) != 1 {
				t.Fatalf("CertRep %+v, want one response", rep)
			}
			r := rep.Response[0]
			if r.CertReqID != tc.id || r.Status.Status != StatusAccepted || r.Status.HasFailInfo {
				t.Errorf("certReqId %d status %s, want %d accepted", r.CertReqID, r.Status, tc.id)
			}
			if !bytes.Equal(r.Certificate, tc.cert.Raw) {
				t.Error("certificate differs from the mock's -rsp_cert")
			}
			if tc.caPubs != (len(rep.CAPubs) == 1 && bytes.Equal(rep.CAPubs[0], root.Raw)) {
				t.Errorf("caPubs %d certificates, want root: %v", len(rep.CAPubs), tc.caPubs)
			}
			if len(m.ExtraCerts) == 0 || !slices.ContainsFunc(m.ExtraCerts, func(c []byte) bool { return bytes.Equal(c, root.Raw) }) {
				t.Error("extraCerts lack the root (-rsp_extracerts)")
			}
			if !bytes.Equal(m.Header.Sender.DirectoryName, server.RawSubject) {
				t.Errorf("sender %v, want the mock's %s", m.Header.Sender, server.Subject)
			}
		})
	}
	_, implicit := readGolden(t, "ip_implicit")
	if !implicit.Header.ImplicitConfirm() {
		t.Error("ip_implicit does not grant implicitConfirm")
	}
	_, plain := readGolden(t, "ip_pbm_sha1")
	if plain.Header.ImplicitConfirm() {
		t.Error("ip_pbm_sha1 grants implicitConfirm")
	}
	_, ir := readGolden(t, "ir_implicit")
	if !ir.Header.ImplicitConfirm() || !bytes.Equal(FindITAV(ir.Header.GeneralInfo, OIDImplicitConfirm).Value, ImplicitConfirmITAV().Value) {
		t.Error("ir_implicit does not ask for implicitConfirm with a NULL value")
	}
}

func TestGoldenCertConf(t *testing.T) {
	cases := []struct{ file, cert string }{
		{"certConf_pbm_sha1", "client1"}, {"certConf_pbm_sha256", "client1"}, {"certConf_sig_rsa", "client1"},
		{"certConf_cr", "client1"}, {"certConf_kur", "client2"}, {"certConf_poll", "client1"},
		{"certConf_ed25519", "ed25519"}, {"certConf_p10cr", "client1"},
		{"certConf_template", "client1"}, {"certConf_raverified", "client1"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			cert := readCred(t, tc.cert)
			_, m := readGolden(t, tc.file)
			if len(m.Body.CertConf) != 1 {
				t.Fatalf("%d CertStatus, want 1", len(m.Body.CertConf))
			}
			cs := m.Body.CertConf[0]
			wantID := int64(0)
			if tc.file == "certConf_p10cr" {
				wantID = -1
			}
			// The root signs with ecdsa-with-SHA256, so certHash is SHA-256 (RFC 9481 section 2).
			sum := sha256.Sum256(cert.Raw)
			if !bytes.Equal(cs.CertHash, sum[:]) || cs.CertReqID != wantID {
				t.Errorf("certHash %x id %d, want %x id %d", cs.CertHash, cs.CertReqID, sum, wantID)
			}
			if cs.StatusInfo == nil || cs.StatusInfo.Status != StatusAccepted || cs.HashAlg != nil {
				t.Errorf("statusInfo %v hashAlg %v, want accepted and no hashAlg", cs.StatusInfo, cs.HashAlg)
			}
		})
	}
}

func TestGoldenP10CR(t *testing.T) {
	csr, err := os.ReadFile(filepath.Join("testdata", "creds", "client1.csr.der"))
	if err != nil {
		t.Fatal(err)
	}
	_, m := readGolden(t, "p10cr")
	if !bytes.Equal(m.Body.P10CR, csr) {
		t.Error("p10cr body differs from the CSR given to openssl")
	}
	if _, err := x509.ParseCertificateRequest(m.Body.P10CR); err != nil {
		t.Errorf("p10cr CSR does not parse: %v", err)
	}
}

func TestGoldenRevocation(t *testing.T) {
	root := readCred(t, "root")
	cases := []struct {
		rr, rp string
		serial int64
		reason CRLReason
	}{
		{"rr_pbm", "rp_pbm", 0x2001, ReasonKeyCompromise},
		{"rr_sig", "rp_sig", 0x2002, ReasonSuperseded},
	}
	for _, tc := range cases {
		t.Run(tc.rr, func(t *testing.T) {
			_, rr := readGolden(t, tc.rr)
			if len(rr.Body.RevReq) != 1 {
				t.Fatalf("%d RevDetails, want 1", len(rr.Body.RevReq))
			}
			d := rr.Body.RevReq[0]
			if d.CertDetails.SerialNumber == nil || d.CertDetails.SerialNumber.Int64() != tc.serial {
				t.Errorf("serial %v, want %#x", d.CertDetails.SerialNumber, tc.serial)
			}
			if !bytes.Equal(d.CertDetails.Issuer, root.RawSubject) {
				t.Error("issuer is not the root's subject")
			}
			reason, ok, err := d.Reason()
			if err != nil || !ok || reason != tc.reason {
				t.Errorf("reason %d %v %v, want %d", reason, ok, err, tc.reason)
			}
			ext, err := ReasonExtension(tc.reason)
			if err != nil || len(d.Extensions) != 1 || !bytes.Equal(d.Extensions[0].Value, ext.Value) || d.Extensions[0].Critical {
				t.Errorf("ReasonExtension(%d) does not reproduce OpenSSL's extension (err %v)", tc.reason, err)
			}

			_, rp := readGolden(t, tc.rp)
			rep := rp.Body.RevRep
			if rep == nil || len(rep.Status) != 1 || rep.Status[0].Status != StatusAccepted {
				t.Fatalf("rp %+v, want one accepted status", rep)
			}
			if len(rep.RevCerts) != 1 || rep.RevCerts[0].Serial.Int64() != tc.serial ||
				!bytes.Equal(rep.RevCerts[0].Issuer.DirectoryName, root.RawSubject) {
				t.Errorf("revCerts %+v, want root/%#x", rep.RevCerts, tc.serial)
			}
		})
	}
}

func TestGoldenGeneralMessages(t *testing.T) {
	cases := []struct {
		file string
		oid  asn1.ObjectIdentifier
	}{
		{"genm_caCerts", OIDCACerts}, {"genp_caCerts", OIDCACerts},
		{"genm_signKeyPairTypes", OIDSignKeyPairTypes}, {"genp_signKeyPairTypes", OIDSignKeyPairTypes},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			_, m := readGolden(t, tc.file)
			// A genm asks with an absent value; the 3.0 mock echoes it.
			if len(m.Body.GenMsg) != 1 || !m.Body.GenMsg[0].Type.Equal(tc.oid) || m.Body.GenMsg[0].Value != nil {
				t.Errorf("items %+v, want one %v without value", m.Body.GenMsg, tc.oid)
			}
			certs, err := ParseCACertsValue(m.Body.GenMsg[0].Value)
			if err != nil || certs != nil {
				t.Errorf("absent caCerts value: %v, %v", certs, err)
			}
		})
	}
}

func TestGoldenPolling(t *testing.T) {
	_, waiting := readGolden(t, "ip_waiting")
	r := waiting.Body.CertRep.Response[0]
	if r.Status.Status != StatusWaiting || r.Certificate != nil || r.CertReqID != 0 {
		t.Errorf("ip_waiting: status %s, certificate %d bytes, id %d", r.Status, len(r.Certificate), r.CertReqID)
	}
	for _, f := range []string{"pollReq_1", "pollReq_2"} {
		_, m := readGolden(t, f)
		if !slices.Equal(m.Body.PollReq, []int64{0}) {
			t.Errorf("%s: certReqIds %v, want [0]", f, m.Body.PollReq)
		}
	}
	_, rep := readGolden(t, "pollRep_1")
	if len(rep.Body.PollRep) != 1 || rep.Body.PollRep[0].CertReqID != 0 || rep.Body.PollRep[0].CheckAfter != 1 || rep.Body.PollRep[0].Reason != nil {
		t.Errorf("pollRep %+v, want certReqId 0 checkAfter 1", rep.Body.PollRep)
	}
}

func TestGoldenRejectionAndError(t *testing.T) {
	cases := []struct {
		file   string
		fail   FailureInfo
		names  []string
		status []string
	}{
		{"ip_rejection", FailBadRequest, []string{"badRequest"}, []string{"mock says no"}},
		{"ip_rejection_bits", FailBadRequest | FailBadPOP | FailDuplicateCertReq,
			[]string{"badRequest", "badPOP", "duplicateCertReq"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			_, m := readGolden(t, tc.file)
			r := m.Body.CertRep.Response[0]
			s := r.Status
			if s.Status != StatusRejection || !s.HasFailInfo || s.FailInfo != tc.fail || r.Certificate != nil {
				t.Errorf("status %s (failInfo %#x), want rejection %#x without certificate", s, uint64(s.FailInfo), uint64(tc.fail))
			}
			if !slices.Equal(s.FailInfo.Names(), tc.names) || !slices.Equal(s.StatusString, tc.status) {
				t.Errorf("names %v statusString %q", s.FailInfo.Names(), s.StatusString)
			}
		})
	}
	_, m := readGolden(t, "error")
	e := m.Body.Error
	if e == nil || e.Status.Status != StatusRejection || e.Status.FailInfo != FailBadRequest {
		t.Fatalf("error body %+v, want rejection/badRequest", e)
	}
	if !slices.Equal(e.Status.StatusString, []string{"error processing message"}) || !slices.Contains(e.ErrorDetails, "error processing message") {
		t.Errorf("statusString %q errorDetails %q", e.Status.StatusString, e.ErrorDetails)
	}
	if e.ErrorCode == nil {
		t.Error("errorCode absent; OpenSSL sends its error code")
	}
}

// TestGoldenTemplate checks a template with -days, -sans and -policy_oids:
// OptionalValidity is [4] IMPLICIT with [0]/[1] EXPLICIT Time (RFC 4211
// appendix B), extensions are [9] IMPLICIT.
func TestGoldenTemplate(t *testing.T) {
	der, m := readGolden(t, "ir_template")
	r := checkCertReq(t, m, readCred(t, "client1"), OIDECDSAWithSHA256)
	v := r.Template.Validity
	if v == nil || v.NotBefore == nil || v.NotAfter == nil {
		t.Fatalf("validity %+v, want both times", v)
	}
	if d := v.NotAfter.Sub(*v.NotBefore); d != 365*24*time.Hour {
		t.Errorf("requested validity %v, want 365 days (-days 365)", d)
	}
	if d := v.NotBefore.Sub(m.Header.MessageTime); d < -time.Minute || d > time.Minute {
		t.Errorf("notBefore %v is not the time of the request %v", v.NotBefore, m.Header.MessageTime)
	}
	// UTCTime inside explicit [0] and [1], inside implicit [4].
	if !bytes.Contains(der, []byte{0xa4, 0x22, 0xa0, 0x0f, 0x17, 0x0d}) {
		t.Error("validity is not A4 { A0 { UTCTime } A1 { UTCTime } }")
	}
	exts := map[string]pkix.Extension{}
	for _, e := range r.Template.Extensions {
		exts[e.Id.String()] = e
	}
	san, ok := exts["2.5.29.17"]
	if !ok || !bytes.Contains(san.Value, []byte("client1.example")) || !bytes.Contains(san.Value, []byte{0x87, 0x04, 127, 0, 0, 1}) ||
		!bytes.Contains(san.Value, []byte("https://client1.example/")) {
		t.Errorf("subjectAltName %x lacks the -sans DNS name, IP address or URI", san.Value)
	}
	pol, ok := exts["2.5.29.32"]
	if !ok || !bytes.Contains(pol.Value, []byte{0x06, 0x03, 0x2a, 0x03, 0x04}) {
		t.Errorf("certificatePolicies %x lacks 1.2.3.4", pol.Value)
	}
	if len(exts) != 2 {
		t.Errorf("%d extensions, want SAN and policies", len(exts))
	}

	_, rav := readGolden(t, "ir_raverified")
	if len(rav.Body.CertReq) != 1 || rav.Body.CertReq[0].POP == nil || rav.Body.CertReq[0].POP.Type != POPRAVerified {
		t.Errorf("ir_raverified POP %+v, want raVerified", rav.Body.CertReq[0].POP)
	}
}
