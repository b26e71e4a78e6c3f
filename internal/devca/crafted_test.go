package devca

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// The tests in this file send requests no well-behaved client sends, built
// field by field, to check that the CA refuses each for the right reason.

// header is a request header from sender (DER Name).
func header(sender []byte) cmp.Header {
	return cmp.Header{
		PVNO:          cmp.PVNO2,
		Sender:        cmp.NameFromDER(sender),
		Recipient:     cmp.NullDN(),
		TransactionID: mustRandom(16),
		SenderNonce:   mustRandom(16),
	}
}

// certReq is a CertReqMsg for subject and key with a signature POP by
// popKey (normally key itself).
func certReq(t *testing.T, subject string, key, popKey crypto.Signer, controls ...cmp.AttributeTypeAndValue) cmp.CertReqMsg {
	t.Helper()
	spki, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	r := cmp.CertReqMsg{Template: cmp.CertTemplate{PublicKey: spki}, Controls: controls}
	if subject != "" {
		r.Template.Subject = rawName(t, subject)
	}
	// Signed here, not with cmp.SignPOP: crafted requests may pair a key with
	// a template it does not match, or have no subject.
	signPOP(t, &r, popKey)
	return r
}

func rawName(t *testing.T, cn string) []byte {
	t.Helper()
	n, err := cmp.NameFromPKIX(pkix.Name{CommonName: cn})
	if err != nil {
		t.Fatal(err)
	}
	return n.DirectoryName
}

// macProtect protects m with the CA's PBM credential (or ref/secret when
// given) and encodes it.
func macProtect(t *testing.T, m *cmp.Message, ref, secret string) []byte {
	t.Helper()
	m.Header.SenderKID = []byte(ref)
	if err := cmp.ProtectMAC(m, cmp.MACParams{Algorithm: cmp.PBMHMACSHA256, Iterations: 500}, []byte(secret)); err != nil {
		t.Fatal(err)
	}
	der, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// sigProtect signs m with key, cert alone in extraCerts.
func sigProtect(t *testing.T, m *cmp.Message, cert *x509.Certificate, key crypto.Signer) []byte {
	t.Helper()
	m.ExtraCerts = nil
	if err := cmp.ProtectSignature(m, key, []*x509.Certificate{cert}, cmp.SignatureOptions{}); err != nil {
		t.Fatal(err)
	}
	der, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// exchange posts a request and decodes the answer.
func (c *testCA) exchange(t *testing.T, der []byte) *cmp.Message {
	t.Helper()
	rec := post(c.ca, http.MethodPost, "/.well-known/cmp", contentType, der)
	if rec.Code != http.StatusOK {
		t.Fatalf("HTTP %d", rec.Code)
	}
	m, err := cmp.Parse(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("answer: %v", err)
	}
	return m
}

// outcome reads the status and failure bits of an answer: the error
// message's, or the first CertResponse's or rp status.
func outcome(t *testing.T, m *cmp.Message) (cmp.BodyType, cmp.PKIStatus, cmp.FailureInfo) {
	t.Helper()
	switch m.Body.Type {
	case cmp.BodyError:
		return m.Body.Type, m.Body.Error.Status.Status, m.Body.Error.Status.FailInfo
	case cmp.BodyIP, cmp.BodyCP, cmp.BodyKUP:
		s := m.Body.CertRep.Response[0].Status
		return m.Body.Type, s.Status, s.FailInfo
	case cmp.BodyRP:
		s := m.Body.RevRep.Status[0]
		return m.Body.Type, s.Status, s.FailInfo
	}
	return m.Body.Type, cmp.StatusAccepted, 0
}

func TestCraftedRequests(t *testing.T) {
	c := startCA(t, Config{})
	cl := c.client(cmpclient.PBMHMACSHA256)
	ctx := context.Background()
	enroll := func(cn string) (*x509.Certificate, crypto.Signer) {
		key := newKey(t)
		e, err := cl.Enroll(ctx, &cmpclient.CertRequest{Subject: pkix.Name{CommonName: cn}, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		return e.Certificate, key
	}
	certA, keyA := enroll("a")
	certB, _ := enroll("b")
	certC, keyC := enroll("a")
	if err := cl.Revoke(ctx, certC, keyC, cmpclient.ReasonKeyCompromise); err != nil {
		t.Fatal(err)
	}
	caName := cmp.NameFromDER(c.ca.CACertificate().RawSubject)
	oldCertID := func(issuer cmp.GeneralName, serial *big.Int) cmp.AttributeTypeAndValue {
		ctrl, err := cmp.OldCertIDControl(cmp.CertID{Issuer: issuer, Serial: serial})
		if err != nil {
			t.Fatal(err)
		}
		return ctrl
	}
	kurFor := func(subject string, ctrl ...cmp.AttributeTypeAndValue) []byte {
		k := newKey(t)
		m := &cmp.Message{Header: header(certA.RawSubject), Body: cmp.Body{Type: cmp.BodyKUR, CertReq: []cmp.CertReqMsg{certReq(t, subject, k, k, ctrl...)}}}
		return sigProtect(t, m, certA, keyA)
	}
	kur := func(ctrl ...cmp.AttributeTypeAndValue) []byte { return kurFor("a", ctrl...) }
	ir := func(mod func(m *cmp.Message)) []byte {
		k := newKey(t)
		m := &cmp.Message{Header: header(rawName(t, "crafted")), Body: cmp.Body{Type: cmp.BodyIR, CertReq: []cmp.CertReqMsg{certReq(t, "crafted", k, k)}}}
		if mod != nil {
			mod(m)
		}
		return macProtect(t, m, c.ca.Reference(), c.ca.Secret())
	}

	tests := []struct {
		name     string
		der      func() []byte
		body     cmp.BodyType
		status   cmp.PKIStatus
		failInfo cmp.FailureInfo
		pvno     int
	}{
		{"kur with oldCertID of the signer", func() []byte { return kur(oldCertID(caName, certA.SerialNumber)) }, cmp.BodyKUP, cmp.StatusAccepted, 0, 2},
		{"kur without oldCertID", func() []byte { return kur() }, cmp.BodyKUP, cmp.StatusAccepted, 0, 2},
		// RFC 4211 4.1: a POP without poposkInput needs the subject.
		{"kur without subject", func() []byte { return kurFor("") }, cmp.BodyKUP, cmp.StatusRejection, cmp.FailBadPOP, 2},
		{"kur with oldCertID of another live certificate", func() []byte { return kur(oldCertID(caName, certB.SerialNumber)) }, cmp.BodyKUP, cmp.StatusRejection, cmp.FailBadCertID, 2},
		{"kur with oldCertID of a revoked certificate", func() []byte { return kur(oldCertID(caName, certC.SerialNumber)) }, cmp.BodyKUP, cmp.StatusRejection, cmp.FailCertRevoked, 2},
		{"kur with oldCertID of an unknown serial", func() []byte { return kur(oldCertID(caName, big.NewInt(12345))) }, cmp.BodyKUP, cmp.StatusRejection, cmp.FailBadCertID, 2},
		{"kur with oldCertID of another issuer", func() []byte {
			return kur(oldCertID(cmp.NameFromDER(rawName(t, "Other CA")), certA.SerialNumber))
		}, cmp.BodyKUP, cmp.StatusRejection, cmp.FailBadCertID, 2},
		{"ir with POP by another key", func() []byte {
			return ir(func(m *cmp.Message) { m.Body.CertReq[0] = certReq(t, "crafted", newKey(t), newKey(t)) })
		}, cmp.BodyIP, cmp.StatusRejection, cmp.FailBadPOP, 2},
		{"ir without POP", func() []byte { return ir(func(m *cmp.Message) { m.Body.CertReq[0].POP = nil }) }, cmp.BodyIP, cmp.StatusRejection, cmp.FailBadPOP, 2},
		{"ir with raVerified POP", func() []byte {
			return ir(func(m *cmp.Message) { m.Body.CertReq[0].POP = &cmp.ProofOfPossession{Type: cmp.POPRAVerified} })
		}, cmp.BodyIP, cmp.StatusRejection, cmp.FailBadPOP, 2},
		// RFC 9483 4.1.1 profiles poposkInput away.
		{"ir with poposkInput", func() []byte {
			return ir(func(m *cmp.Message) { m.Body.CertReq[0].POP.Signature.Input = []byte{0x30, 0x00} })
		}, cmp.BodyIP, cmp.StatusRejection, cmp.FailBadPOP, 2},
		{"ir without public key", func() []byte { return ir(func(m *cmp.Message) { m.Body.CertReq[0].Template.PublicKey = nil }) }, cmp.BodyIP, cmp.StatusRejection, cmp.FailBadCertTemplate, 2},
		{"ir with two requests", func() []byte {
			return ir(func(m *cmp.Message) { m.Body.CertReq = append(m.Body.CertReq, m.Body.CertReq[0]) })
		}, cmp.BodyIP, cmp.StatusRejection, cmp.FailBadRequest, 2},
		{"ir with pvno 3 is answered with pvno 3", func() []byte { return ir(func(m *cmp.Message) { m.Header.PVNO = cmp.PVNO3 }) }, cmp.BodyIP, cmp.StatusAccepted, 0, 3},
		{"ir with pvno 1", func() []byte { return ir(func(m *cmp.Message) { m.Header.PVNO = 1 }) }, cmp.BodyError, cmp.StatusRejection, cmp.FailUnsupportedVersion, 2},
		{"ir without senderNonce", func() []byte { return ir(func(m *cmp.Message) { m.Header.SenderNonce = nil }) }, cmp.BodyError, cmp.StatusRejection, cmp.FailBadSenderNonce, 2},
		{"ir without transactionID", func() []byte { return ir(func(m *cmp.Message) { m.Header.TransactionID = nil }) }, cmp.BodyError, cmp.StatusRejection, cmp.FailBadRequest, 2},
		{"ir with an unknown reference", func() []byte {
			k := newKey(t)
			m := &cmp.Message{Header: header(rawName(t, "x")), Body: cmp.Body{Type: cmp.BodyIR, CertReq: []cmp.CertReqMsg{certReq(t, "x", k, k)}}}
			return macProtect(t, m, "other", c.ca.Secret())
		}, cmp.BodyError, cmp.StatusRejection, cmp.FailBadMessageCheck, 2},
		// RFC 9810 5.1.3.4: a support message may go unprotected; any
		// other request may not.
		{"unprotected genm is answered", func() []byte {
			m := &cmp.Message{Header: header(rawName(t, "x")), Body: cmp.Body{Type: cmp.BodyGenM}}
			der, err := m.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			return der
		}, cmp.BodyGenP, cmp.StatusAccepted, 0, 2},
		{"unprotected rr", func() []byte {
			cert, _ := enroll("unprotected-rr")
			m := &cmp.Message{Header: header(rawName(t, "x")), Body: cmp.Body{Type: cmp.BodyRR, RevReq: []cmp.RevDetails{{
				CertDetails: cmp.CertTemplate{Issuer: cert.RawIssuer, SerialNumber: cert.SerialNumber}}}}}
			der, err := m.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			return der
		}, cmp.BodyError, cmp.StatusRejection, cmp.FailBadMessageCheck, 2},
		{"pollReq of an unknown transaction", func() []byte {
			m := &cmp.Message{Header: header(rawName(t, "x")), Body: cmp.Body{Type: cmp.BodyPollReq, PollReq: []int64{0}}}
			return macProtect(t, m, c.ca.Reference(), c.ca.Secret())
		}, cmp.BodyError, cmp.StatusRejection, cmp.FailBadRequest, 2},
		{"ip sent to the CA", func() []byte {
			m := &cmp.Message{Header: header(rawName(t, "x")), Body: cmp.Body{Type: cmp.BodyIP, CertRep: &cmp.CertRepMessage{Response: []cmp.CertResponse{}}}}
			return macProtect(t, m, c.ca.Reference(), c.ca.Secret())
		}, cmp.BodyError, cmp.StatusRejection, cmp.FailBadRequest, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := c.exchange(t, tc.der())
			body, status, fi := outcome(t, m)
			if body != tc.body || status != tc.status || !fi.Has(tc.failInfo) {
				t.Fatalf("answer %s %v %v, want %s %v %v", body, status, fi, tc.body, tc.status, tc.failInfo)
			}
			if m.Header.PVNO != tc.pvno {
				t.Errorf("answer pvno %d, want %d", m.Header.PVNO, tc.pvno)
			}
		})
	}
}

// TestCraftedConfirmation checks certConf and pollReq against the state of
// their transaction.
func TestCraftedConfirmation(t *testing.T) {
	c := startCA(t, Config{})
	// start runs an ir and returns the request, the answer and the cert.
	start := func(t *testing.T) (*cmp.Message, *cmp.Message, *x509.Certificate) {
		k := newKey(t)
		req := &cmp.Message{Header: header(rawName(t, "conf")), Body: cmp.Body{Type: cmp.BodyIR, CertReq: []cmp.CertReqMsg{certReq(t, "conf", k, k)}}}
		ip := c.exchange(t, macProtect(t, req, c.ca.Reference(), c.ca.Secret()))
		if ip.Body.Type != cmp.BodyIP {
			t.Fatalf("answer %s", ip.Body.Type)
		}
		cert, err := x509.ParseCertificate(ip.Body.CertRep.Response[0].Certificate)
		if err != nil {
			t.Fatal(err)
		}
		return req, ip, cert
	}
	// followUp is the next message of the transaction.
	followUp := func(req, ans *cmp.Message, body cmp.Body) *cmp.Message {
		h := header(req.Header.Sender.DirectoryName)
		h.TransactionID, h.RecipNonce = req.Header.TransactionID, ans.Header.SenderNonce
		return &cmp.Message{Header: h, Body: body}
	}
	hash := func(t *testing.T, cert *x509.Certificate) []byte {
		h, err := cmp.CertHash(cert)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	tests := []struct {
		name     string
		msg      func(t *testing.T, req, ip *cmp.Message, cert *x509.Certificate) *cmp.Message
		body     cmp.BodyType
		failInfo cmp.FailureInfo
		revoked  bool
	}{
		{"certConf accepting", func(t *testing.T, req, ip *cmp.Message, cert *x509.Certificate) *cmp.Message {
			return followUp(req, ip, cmp.Body{Type: cmp.BodyCertConf, CertConf: []cmp.CertStatus{{CertHash: hash(t, cert)}}})
		}, cmp.BodyPKIConf, 0, false},
		{"certConf rejecting revokes", func(t *testing.T, req, ip *cmp.Message, cert *x509.Certificate) *cmp.Message {
			return followUp(req, ip, cmp.Body{Type: cmp.BodyCertConf, CertConf: []cmp.CertStatus{{CertHash: hash(t, cert),
				StatusInfo: &cmp.PKIStatusInfo{Status: cmp.StatusRejection, FailInfo: cmp.FailIncorrectData, HasFailInfo: true, StatusString: []string{"wrong key"}}}}})
		}, cmp.BodyPKIConf, 0, true},
		{"empty certConf rejects", func(t *testing.T, req, ip *cmp.Message, cert *x509.Certificate) *cmp.Message {
			return followUp(req, ip, cmp.Body{Type: cmp.BodyCertConf, CertConf: []cmp.CertStatus{}})
		}, cmp.BodyPKIConf, 0, true},
		{"certConf with a wrong certHash", func(t *testing.T, req, ip *cmp.Message, cert *x509.Certificate) *cmp.Message {
			return followUp(req, ip, cmp.Body{Type: cmp.BodyCertConf, CertConf: []cmp.CertStatus{{CertHash: make([]byte, 32)}}})
		}, cmp.BodyError, cmp.FailBadCertID, false},
		{"certConf with a wrong certReqId", func(t *testing.T, req, ip *cmp.Message, cert *x509.Certificate) *cmp.Message {
			return followUp(req, ip, cmp.Body{Type: cmp.BodyCertConf, CertConf: []cmp.CertStatus{{CertHash: hash(t, cert), CertReqID: 7}}})
		}, cmp.BodyError, cmp.FailBadCertID, false},
		{"certConf with a wrong recipNonce", func(t *testing.T, req, ip *cmp.Message, cert *x509.Certificate) *cmp.Message {
			m := followUp(req, ip, cmp.Body{Type: cmp.BodyCertConf, CertConf: []cmp.CertStatus{{CertHash: hash(t, cert)}}})
			m.Header.RecipNonce = mustRandom(16)
			return m
		}, cmp.BodyError, cmp.FailBadRecipientNonce, false},
		{"certConf with pvno 3 and hashAlg", func(t *testing.T, req, ip *cmp.Message, cert *x509.Certificate) *cmp.Message {
			m := followUp(req, ip, cmp.Body{Type: cmp.BodyCertConf, CertConf: []cmp.CertStatus{{CertHash: hash(t, cert),
				HashAlg: &pkix.AlgorithmIdentifier{Algorithm: oidSHA256}}}})
			m.Header.PVNO = cmp.PVNO3
			return m
		}, cmp.BodyPKIConf, 0, false},
		{"pollReq without polling", func(t *testing.T, req, ip *cmp.Message, cert *x509.Certificate) *cmp.Message {
			return followUp(req, ip, cmp.Body{Type: cmp.BodyPollReq, PollReq: []int64{0}})
		}, cmp.BodyError, cmp.FailBadRequest, false},
		{"error from the client revokes", func(t *testing.T, req, ip *cmp.Message, cert *x509.Certificate) *cmp.Message {
			return followUp(req, ip, cmp.Body{Type: cmp.BodyError, Error: &cmp.ErrorMsgContent{Status: cmp.PKIStatusInfo{Status: cmp.StatusRejection}}})
		}, cmp.BodyPKIConf, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, ip, cert := start(t)
			ans := c.exchange(t, macProtect(t, tc.msg(t, req, ip, cert), c.ca.Reference(), c.ca.Secret()))
			body, _, fi := outcome(t, ans)
			if body != tc.body || !fi.Has(tc.failInfo) {
				t.Fatalf("answer %s %v, want %s %v", body, fi, tc.body, tc.failInfo)
			}
			if _, revoked, _ := c.ca.Certificate(cert.SerialNumber.String()); revoked != tc.revoked {
				t.Errorf("revoked %v, want %v", revoked, tc.revoked)
			}
		})
	}
}

// TestTransactionLifetime moves the CA's clock: a transactionID stays
// reserved for transactionTTL and an open transaction ends with it.
func TestTransactionLifetime(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	c := startCA(t, Config{Now: clock})
	txID := mustRandom(16)
	ir := func() (*cmp.Message, *cmp.Message) {
		k := newKey(t)
		req := &cmp.Message{Header: header(rawName(t, "ttl")), Body: cmp.Body{Type: cmp.BodyIR, CertReq: []cmp.CertReqMsg{certReq(t, "ttl", k, k)}}}
		req.Header.TransactionID = txID
		return req, c.exchange(t, macProtect(t, req, c.ca.Reference(), c.ca.Secret()))
	}
	req, ip := ir()
	if ip.Body.Type != cmp.BodyIP {
		t.Fatalf("first ir answered %s", ip.Body.Type)
	}
	advance(transactionTTL - time.Minute)
	if _, ans := ir(); ans.Body.Type != cmp.BodyError || !ans.Body.Error.Status.FailInfo.Has(cmp.FailTransactionIDInUse) {
		t.Fatalf("reused ID within the lifetime answered %s", ans.Body.Type)
	}
	advance(2 * time.Minute)
	// The open transaction is gone: its certConf is refused...
	h := header(req.Header.Sender.DirectoryName)
	h.TransactionID, h.RecipNonce = txID, ip.Header.SenderNonce
	conf := &cmp.Message{Header: h, Body: cmp.Body{Type: cmp.BodyCertConf, CertConf: []cmp.CertStatus{}}}
	if ans := c.exchange(t, macProtect(t, conf, c.ca.Reference(), c.ca.Secret())); ans.Body.Type != cmp.BodyError || !ans.Body.Error.Status.FailInfo.Has(cmp.FailBadRequest) {
		t.Fatalf("certConf after the lifetime answered %s", ans.Body.Type)
	}
	// ...and the ID may start a new transaction.
	if _, ans := ir(); ans.Body.Type != cmp.BodyIP {
		t.Fatalf("reused ID after the lifetime answered %s", ans.Body.Type)
	}
}
