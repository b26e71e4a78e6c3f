package cmpclient

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
)

// This file is test scaffolding, not a CA: a small in-process CMP
// responder that answers well-formed requests and lets each test break
// one thing in the answer.

// testPKI is a throwaway CA and a response signer.
type testPKI struct {
	root      *x509.Certificate
	rootKey   crypto.Signer
	signer    *x509.Certificate // digitalSignature, issued by root
	signerKey crypto.Signer
	secret    []byte
	reference string
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	p := &testPKI{secret: []byte("scaffold-secret-7f3a"), reference: "ref-42"}
	p.rootKey = newKey(t)
	p.root = issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Scaffold Root"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}, p.rootKey.Public(), nil, p.rootKey)
	p.signerKey = newKey(t)
	p.signer = issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Scaffold CMP Signer"}, KeyUsage: x509.KeyUsageDigitalSignature},
		p.signerKey.Public(), p.root, p.rootKey)
	return p
}

func newKey(t testing.TB) crypto.Signer {
	t.Helper()
	return testpki.NewKey(t, testpki.P256)
}

// issue creates a certificate from tmpl for pub, signed by parent/parentKey
// (self-signed when parent is nil).
func issue(t testing.TB, tmpl *x509.Certificate, pub crypto.PublicKey, parent *x509.Certificate, parentKey crypto.Signer) *x509.Certificate {
	t.Helper()
	cert, err := issueCert(tmpl, pub, parent, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func issueCert(tmpl *x509.Certificate, pub crypto.PublicKey, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, error) {
	if parent == nil {
		c, err := testpki.Sign(tmpl, parentKey, nil)
		if err != nil {
			return nil, err
		}
		return c.Cert, nil
	}
	return testpki.SignPublicKey(tmpl, pub, &testpki.Cert{Cert: parent, Key: parentKey})
}

// responder answers CMP requests over HTTP. The hooks let a test change an
// answer: mutate before protection, rewrite after encoding, or take over
// the HTTP exchange entirely.
type responder struct {
	pki *testPKI
	// implicitConfirm grants implicit confirmation when asked.
	implicitConfirm bool
	// issueKey, when set, is the public key put in issued certificates
	// instead of the requested one.
	issueKey crypto.PublicKey
	// status of the CertResponse (default accepted).
	status cmp.PKIStatusInfo
	// revStatus is the status of rp answers (default accepted).
	revStatus cmp.PKIStatusInfo
	// genp answers genm (default: echo).
	genp func(req []cmp.InfoTypeAndValue) []cmp.InfoTypeAndValue
	// pollRep answers pollReq (default: the final response at once).
	pollRep func(req *cmp.Message) []cmp.PollRepEntry
	// http, when set, handles HTTP request n (0-based) itself when it
	// returns true.
	http func(n int, w http.ResponseWriter, r *http.Request) bool
	// mutate changes the answer to request n before it is protected.
	mutate func(n int, req, resp *cmp.Message)
	// rewrite changes the DER of the answer to request n.
	rewrite func(n int, der []byte) []byte
	// httpCode, when set, is the HTTP status of CMP answers.
	httpCode int
	// protect overrides how the answer is protected (nil: MAC for MAC
	// requests, signature by pki.signer otherwise).
	protect func(resp *cmp.Message) error

	keys cmp.PBMKeyCache
	mu   sync.Mutex
	n    int
	reqs []*cmp.Message
}

// requests returns the CMP requests received so far.
func (r *responder) requests() []*cmp.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*cmp.Message(nil), r.reqs...)
}

func (r *responder) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	r.mu.Lock()
	n := r.n
	r.n++
	r.mu.Unlock()
	if r.http != nil && r.http(n, w, hr) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(hr.Body, cmp.MaxMessageSize+1))
	if err != nil || hr.Method != http.MethodPost || hr.Header.Get("Content-Type") != contentType {
		http.Error(w, "bad HTTP request", http.StatusBadRequest)
		return
	}
	req, err := cmp.Parse(body)
	if err != nil {
		http.Error(w, "bad CMP request: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	resp, err := r.answer(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if r.mutate != nil {
		r.mutate(n, req, resp)
	}
	if err := r.protectResponse(req, resp); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	der, err := resp.Marshal()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if r.rewrite != nil {
		der = r.rewrite(n, der)
	}
	w.Header().Set("Content-Type", contentType)
	if r.httpCode != 0 {
		w.WriteHeader(r.httpCode)
	}
	w.Write(der)
}

func (r *responder) protectResponse(req, resp *cmp.Message) error {
	if r.protect != nil {
		return r.protect(resp)
	}
	if resp.Header.ProtectionAlg != nil {
		return nil // a test set its own
	}
	if cmp.IsMACProtected(req.Header.ProtectionAlg) {
		if err := cmp.VerifyMAC(req, r.pki.secret, &r.keys); err != nil {
			return fmt.Errorf("request MAC: %w", err)
		}
		return macProtect(resp, r.pki.secret, &r.keys)
	}
	return signProtect(resp, r.pki.signerKey, []*x509.Certificate{r.pki.signer})
}

func macProtect(m *cmp.Message, secret []byte, cache *cmp.PBMKeyCache) error {
	return cmp.ProtectMAC(m, cmp.MACParams{Algorithm: cmp.PBMHMACSHA256, Iterations: 500,
		Salt: []byte("fixed-salt-16byt"), Cache: cache}, secret)
}

// signProtect signs m with key as chain[0], its sender, with chain alone in
// extraCerts.
func signProtect(m *cmp.Message, key crypto.Signer, chain []*x509.Certificate) error {
	m.Header.Sender = cmp.NameFromDER(chain[0].RawSubject)
	m.ExtraCerts = nil
	return cmp.ProtectSignature(m, key, chain, cmp.SignatureOptions{})
}

// answer builds the unprotected answer to req.
func (r *responder) answer(req *cmp.Message) (*cmp.Message, error) {
	nonce := make([]byte, 16)
	rand.Read(nonce)
	resp := &cmp.Message{Header: cmp.Header{
		PVNO:          cmp.PVNO2,
		Sender:        cmp.NameFromDER(r.pki.root.RawSubject),
		Recipient:     req.Header.Sender,
		MessageTime:   time.Now(),
		TransactionID: req.Header.TransactionID,
		SenderNonce:   nonce,
		RecipNonce:    req.Header.SenderNonce,
	}}
	switch req.Body.Type {
	case cmp.BodyIR, cmp.BodyCR, cmp.BodyKUR, cmp.BodyP10CR:
		var pub crypto.PublicKey
		var subject []byte
		var exts []pkix.Extension
		id := int64(0)
		if req.Body.Type == cmp.BodyP10CR {
			csr, err := x509.ParseCertificateRequest(req.Body.P10CR)
			if err != nil {
				return nil, err
			}
			pub, subject, exts, id = csr.PublicKey, csr.RawSubject, csr.Extensions, -1
		} else {
			tmpl := req.Body.CertReq[0].Template
			var err error
			if pub, err = x509.ParsePKIXPublicKey(tmpl.PublicKey); err != nil {
				return nil, err
			}
			subject, exts = tmpl.Subject, tmpl.Extensions
		}
		if r.issueKey != nil {
			pub = r.issueKey
		}
		cert, err := issueCert(&x509.Certificate{RawSubject: subject, ExtraExtensions: exts}, pub, r.pki.root, r.pki.rootKey)
		if err != nil {
			return nil, err
		}
		resp.Body = cmp.Body{Type: replyTypeAll[req.Body.Type], CertRep: &cmp.CertRepMessage{
			CAPubs:   [][]byte{r.pki.root.Raw},
			Response: []cmp.CertResponse{{CertReqID: id, Status: r.status, Certificate: cert.Raw}},
		}}
		if r.implicitConfirm && req.Header.ImplicitConfirm() {
			resp.Header.GeneralInfo = []cmp.InfoTypeAndValue{cmp.ImplicitConfirmITAV()}
		}
	case cmp.BodyCertConf:
		resp.Body = cmp.Body{Type: cmp.BodyPKIConf}
	case cmp.BodyPollReq:
		if r.pollRep == nil {
			return nil, fmt.Errorf("scaffold responder: not polling")
		}
		resp.Body = cmp.Body{Type: cmp.BodyPollRep, PollRep: r.pollRep(req)}
	case cmp.BodyRR:
		resp.Body = cmp.Body{Type: cmp.BodyRP, RevRep: &cmp.RevRepContent{Status: []cmp.PKIStatusInfo{r.revStatus}}}
	case cmp.BodyGenM:
		items := req.Body.GenMsg
		if r.genp != nil {
			items = r.genp(items)
		}
		resp.Body = cmp.Body{Type: cmp.BodyGenP, GenMsg: items}
	default:
		return nil, fmt.Errorf("scaffold responder: no answer to %s", req.Body.Type)
	}
	return resp, nil
}

var replyTypeAll = map[cmp.BodyType]cmp.BodyType{
	cmp.BodyIR: cmp.BodyIP, cmp.BodyCR: cmp.BodyCP, cmp.BodyKUR: cmp.BodyKUP, cmp.BodyP10CR: cmp.BodyCP,
}

// startResponder serves r on loopback and returns a client for it,
// protected by the PKI's shared secret and trusting its root.
func startResponder(t testing.TB, r *responder) *Client {
	t.Helper()
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return &Client{
		URL:            srv.URL + "/pkix/",
		HTTPClient:     srv.Client(),
		Credentials:    MACCredentials{Reference: r.pki.reference, Secret: r.pki.secret, Iterations: 500},
		TrustAnchors:   []*x509.Certificate{r.pki.root},
		MessageTimeout: 5 * time.Second,
	}
}

// testContext is a context bounded for one test step.
func testContext(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// certRequest asks for CN=name with a fresh key.
func certRequest(t testing.TB, name string) *CertRequest {
	return &CertRequest{Subject: pkix.Name{CommonName: name}, DNSNames: []string{name + ".example"}, Key: newKey(t)}
}
