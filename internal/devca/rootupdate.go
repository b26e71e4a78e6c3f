package devca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/serialnumber"
)

// newRootUpdate makes a successor of the self-signed CA certificate old
// (whose key is oldKey) and returns the rootCaKeyUpdate value that
// announces it (RFC 9810 section 5.3.19.15, RFC 4210 section 4.4): the new
// root newWithNew, with the same name and a new key; newWithOld, the new
// key certified by the old root; and oldWithNew, the old key certified by
// the new root. The new key lives in memory only: the CA keeps issuing
// under its current root.
func newRootUpdate(oldKey crypto.Signer, old *x509.Certificate, now time.Time) ([]byte, error) {
	if !bytes.Equal(old.RawSubject, old.RawIssuer) || old.CheckSignatureFrom(old) != nil {
		return nil, errors.New("devca: a new root can be announced only by a self-signed CA")
	}
	newKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("new root key: %w", err)
	}
	// link returns a CA certificate for pub, named as the old root, valid
	// from now until notAfter, issued by parent with signer.
	link := func(pub crypto.PublicKey, parent *x509.Certificate, signer crypto.Signer, notAfter time.Time) (*x509.Certificate, error) {
		serial, err := serialnumber.Random()
		if err != nil {
			return nil, err
		}
		skid, err := subjectKeyID(pub)
		if err != nil {
			return nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber:          serial,
			RawSubject:            old.RawSubject,
			NotBefore:             now.Add(-time.Minute),
			NotAfter:              notAfter,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
			BasicConstraintsValid: true,
			IsCA:                  true,
			SubjectKeyId:          skid,
		}
		if parent == nil {
			parent = tmpl
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
		if err != nil {
			return nil, err
		}
		return x509.ParseCertificate(der)
	}
	newWithNew, err := link(newKey.Public(), nil, newKey, now.Add(caLifetime))
	if err != nil {
		return nil, fmt.Errorf("new root certificate: %w", err)
	}
	// A link certificate outlives neither of the two roots.
	newWithOld, err := link(newKey.Public(), old, oldKey, old.NotAfter)
	if err != nil {
		return nil, fmt.Errorf("newWithOld: %w", err)
	}
	oldWithNew, err := link(old.PublicKey, newWithNew, newKey, old.NotAfter)
	if err != nil {
		return nil, fmt.Errorf("oldWithNew: %w", err)
	}
	u := cmp.RootCAKeyUpdate{NewWithNew: newWithNew.Raw, NewWithOld: newWithOld.Raw, OldWithNew: oldWithNew.Raw}
	return u.Marshal()
}
