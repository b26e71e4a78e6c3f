package provider

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
)

// The environment of TestAccFaultMatrix: the fault environment of
// TestAccCertificateFaults plus what the proxy needs to forge answers.

// matrixEnv is a faultEnv with a signer the provider does not trust and
// the CA's key, for answers the proxy forges.
type matrixEnv struct {
	*faultEnv
	foreignKey  crypto.Signer
	foreignCert *x509.Certificate
	// caKey and caCert sign the certificate a rewritten answer carries.
	caKey  crypto.Signer
	caCert *x509.Certificate
}

func startMatrixEnv(t *testing.T) *matrixEnv {
	t.Helper()
	e := startFaultEnv(t)

	// A self-signed signer with the CA signer's name: only trust tells
	// them apart.
	foreign := testpki.Issue(t, &x509.Certificate{
		SerialNumber: big.NewInt(77), Subject: e.signerChain[0].Subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true, IsCA: true, SubjectKeyId: []byte("foreign signer"),
	}, nil, nil)
	ca, _ := testpki.ReadDevCA(t, e.dir, testpki.DevCARoot)
	return &matrixEnv{faultEnv: e, foreignKey: foreign.Key, foreignCert: foreign.Cert, caKey: ca.Key, caCert: e.ca.CACertificate()}
}

// reprotect protects an edited answer again as the CA protected it.
func (e *matrixEnv) reprotect(m *cmp.Message) error {
	if cmp.IsMACProtected(m.Header.ProtectionAlg) {
		return cmp.ProtectMAC(m, cmp.MACParams{Identifier: m.Header.ProtectionAlg}, []byte(e.secret))
	}
	return cmp.ProtectSignature(m, e.signerKey, e.signerChain, cmp.SignatureOptions{})
}

// wrongMAC protects the answer with a MAC under a secret the provider does
// not share.
func (e *matrixEnv) wrongMAC(m *cmp.Message) error {
	m.ExtraCerts = nil
	return cmp.ProtectMAC(m, cmp.MACParams{Algorithm: cmp.PBMHMACSHA256, Iterations: 1000, Salt: []byte("0123456789abcdef")}, []byte("not the shared secret"))
}

// wrongSignature signs the answer with the CA signer, then alters the
// signature.
func (e *matrixEnv) wrongSignature(m *cmp.Message) error {
	if err := cmp.ProtectSignature(m, e.signerKey, e.signerChain, cmp.SignatureOptions{}); err != nil {
		return err
	}
	m.Protection[len(m.Protection)-1] ^= 0xff
	return nil
}

// anotherKey replaces the issued certificate with one the CA's key signs
// for a key the provider never asked for (what the CA's
// FaultWrongCertificate does), protected again.
func (e *matrixEnv) anotherKey(m *cmp.Message) error {
	if m.Body.CertRep == nil || len(m.Body.CertRep.Response) == 0 || m.Body.CertRep.Response[0].Certificate == nil {
		return fmt.Errorf("the answer carries no certificate")
	}
	issued, err := x509.ParseCertificate(m.Body.CertRep.Response[0].Certificate)
	if err != nil {
		return err
	}
	forged, err := testpki.Sign(issued, nil, &testpki.Cert{Cert: e.caCert, Key: e.caKey})
	if err != nil {
		return err
	}
	m.Body.CertRep.Response[0].Certificate = forged.Cert.Raw
	return e.reprotect(m)
}

// waiting turns the answer into a `waiting` status without a certificate
// (RFC 9810 5.3.4), as a CA that has not decided yet.
func (e *matrixEnv) waiting(m *cmp.Message) error {
	if m.Body.CertRep == nil || len(m.Body.CertRep.Response) == 0 {
		return fmt.Errorf("the answer is not a CertRepMessage")
	}
	r := &m.Body.CertRep.Response[0]
	r.Status = cmp.PKIStatusInfo{Status: cmp.StatusWaiting, StatusString: []string{"the fault proxy makes you wait"}}
	r.Certificate, r.EncryptedCert, r.PrivateKey, r.PublicationInfo = nil, nil, nil, nil
	return e.reprotect(m)
}

// pollAgain answers a pollReq (which the CA, knowing of no waiting
// request, refuses) with a pollRep asking to come back in a second.
func (e *matrixEnv) pollAgain(m *cmp.Message) error {
	m.Body = cmp.Body{Type: cmp.BodyPollRep, PollRep: []cmp.PollRepEntry{{CertReqID: 0, CheckAfter: 1}}}
	return e.reprotect(m)
}

// untrusted signs the answer correctly with a certificate that chains to
// no trust anchor of the provider.
func (e *matrixEnv) untrusted(m *cmp.Message) error {
	m.ExtraCerts = nil
	return cmp.ProtectSignature(m, e.foreignKey, []*x509.Certificate{e.foreignCert}, cmp.SignatureOptions{})
}

// warmUp runs op once through the proxy in a transaction of its own, so a
// replay fault has an earlier answer to send; every certificate it makes
// is revoked again, so the ledger stays clean.
func (e *matrixEnv) warmUp(op string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := &cmpclient.Client{
		URL:          e.url,
		Credentials:  cmpclient.MACCredentials{Reference: e.reference, Secret: []byte(e.secret), Iterations: 1000},
		TrustAnchors: []*x509.Certificate{e.signerChain[len(e.signerChain)-1]},
	}
	if op == "genm" {
		_, err := c.CACerts(ctx)
		return err
	}
	newKey := func() crypto.Signer {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		return k
	}
	key := newKey()
	enr, err := c.Enroll(ctx, &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "warm-up " + op + ".example"}, Key: key})
	if err != nil {
		return fmt.Errorf("warm-up ir: %w", err)
	}
	certs := []*x509.Certificate{enr.Certificate}
	keys := []crypto.Signer{key}
	switch op {
	case "cr":
		k := newKey()
		enr2, err := c.Certify(ctx, &cmpclient.CertRequest{Subject: pkix.Name{CommonName: "warm-up cr.example"}, DNSNames: []string{"cr.example"}, Key: k}, enr.Certificate, key)
		if err != nil {
			return fmt.Errorf("warm-up cr: %w", err)
		}
		certs, keys = append(certs, enr2.Certificate), append(keys, k)
	case "kur":
		k := newKey()
		enr2, err := c.UpdateKey(ctx, &cmpclient.CertRequest{Key: k}, enr.Certificate, key)
		if err != nil {
			return fmt.Errorf("warm-up kur: %w", err)
		}
		certs, keys = append(certs, enr2.Certificate), append(keys, k)
	}
	for i := len(certs) - 1; i >= 0; i-- {
		if err := c.Revoke(ctx, certs[i], keys[i], cmpclient.ReasonSuperseded); err != nil && !strings.Contains(err.Error(), "certRevoked") {
			return fmt.Errorf("warm-up rr: %w", err)
		}
	}
	return nil
}
