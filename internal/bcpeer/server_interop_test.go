package bcpeer_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"strings"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/bcpeer"
)

// enrolled is an issued certificate with its key.
type enrolled struct {
	*cmpclient.Enrollment
	key *ecdsa.PrivateKey
}

// TestBouncyCastleServerInterop has the client library enroll (ir with
// certConf), ask for the CA certificates (genm caCerts) and revoke the
// certificate (rr signed with it) at a Bouncy Castle CMP server, with each
// MAC algorithm, the server answering MAC-protected requests with a MAC or
// with a signature.
func TestBouncyCastleServerInterop(t *testing.T) {
	t.Parallel() // each waits mostly on a JVM
	java := bcpeer.Find(t)
	classes := java.Compile(t, bcpeer.Source(t, "BcCmpServer.java"))
	const reference = "bc-ref"
	secret := rand.Text()
	ctx, cancel := context.WithTimeout(context.Background(), bcpeer.RunTimeout)
	defer cancel()

	for _, mode := range []string{bcpeer.AnswerMAC, bcpeer.AnswerSignature} {
		srv := java.StartCMPServer(t, classes, reference, secret, mode)
		for _, alg := range []cmpclient.MACAlgorithm{cmpclient.PBMHMACSHA1, cmpclient.PBMHMACSHA256, cmpclient.PBMAC1} {
			c := &cmpclient.Client{
				URL:            srv.URL,
				Credentials:    cmpclient.MACCredentials{Reference: reference, Secret: []byte(secret), Algorithm: alg, Iterations: 10000},
				TrustAnchors:   []*x509.Certificate{srv.CA},
				MessageTimeout: 20 * time.Second,
			}
			name := mode + "/" + macName(alg)
			var issued *enrolled
			t.Run(name+"/ir", func(t *testing.T) {
				key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				cn := "bc-" + strings.ReplaceAll(name, "/", "-")
				enr, err := c.Enroll(ctx, &cmpclient.CertRequest{Subject: pkix.Name{CommonName: cn}, Key: key})
				if err != nil {
					t.Fatalf("Enroll: %v\nserver:\n%s", err, srv.Stderr())
				}
				e := &enrolled{Enrollment: enr, key: key}
				if e.Certificate.Subject.CommonName != cn {
					t.Errorf("issued subject %v, want CN=%s", e.Certificate.Subject, cn)
				}
				if !e.Certificate.PublicKey.(*ecdsa.PublicKey).Equal(&key.PublicKey) {
					t.Errorf("issued certificate's public key is not the requested one")
				}
				if len(e.Chain) == 0 || !e.Chain[len(e.Chain)-1].Equal(srv.CA) {
					t.Errorf("chain does not end with the server's CA")
				}
				if e.ImplicitlyConfirmed {
					t.Errorf("implicitly confirmed; the server grants no implicit confirmation")
				}
				want := "EVENT certConf confirmed serial=" + e.Certificate.SerialNumber.String()
				if !srv.Logged(want) {
					t.Errorf("the server saw no %q:\n%s", want, srv.Stderr())
				}
				issued = e
			})
			t.Run(name+"/rr", func(t *testing.T) {
				if issued == nil {
					t.Fatal("no certificate from ir to revoke")
				}
				if err := c.Revoke(ctx, issued.Certificate, issued.key, cmpclient.ReasonSuperseded); err != nil {
					t.Fatalf("Revoke: %v\nserver:\n%s", err, srv.Stderr())
				}
				want := "EVENT rr accepted serial=" + issued.Certificate.SerialNumber.String()
				if !srv.Logged(want) {
					t.Errorf("the server saw no %q:\n%s", want, srv.Stderr())
				}
			})
			t.Run(name+"/genm-caCerts", func(t *testing.T) {
				certs, err := c.CACerts(ctx)
				if err != nil {
					t.Fatalf("CACerts: %v\nserver:\n%s", err, srv.Stderr())
				}
				if len(certs) != 1 || !bytes.Equal(certs[0].Raw, srv.CA.Raw) {
					t.Errorf("caCerts: %d certificates, want the server's CA", len(certs))
				}
			})
		}
		if strings.Contains(srv.Stderr(), " refused ") || strings.Contains(srv.Stderr(), "EVENT invalid") {
			t.Errorf("the %s server refused requests:\n%s", mode, srv.Stderr())
		}
	}
}

func macName(a cmpclient.MACAlgorithm) string {
	switch a {
	case cmpclient.PBMHMACSHA1:
		return "pbm-hmac-sha1"
	case cmpclient.PBMHMACSHA256:
		return "pbm-hmac-sha256"
	case cmpclient.PBMAC1:
		return "pbmac1"
	}
	return "unknown"
}
