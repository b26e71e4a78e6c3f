package cmpclient

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// wantCert is what the issued certificate must hold.
type wantCert struct {
	spki       []byte // DER SubjectPublicKeyInfo
	subject    []byte // DER Name; checked when hasSubject
	hasSubject bool
	dnsNames   []string
	emails     []string
	ips        []net.IP
	uris       []*url.URL
	p10        bool
}

// checkIssued checks the issued certificate against the request (RFC 9483
// section 4.1.1: the end entity checks the certificate before confirming)
// and sets enr.Chain. It returns why the certificate is unacceptable, or "".
// The public key must always match; subject and SANs must match unless the
// CA said grantedWithMods; the chain must verify to TrustAnchors when set.
// adopt says the response was MAC-protected and the Client has no trust
// anchors: then the caPubs are the anchors (adoptAnchor).
func (c *Client) checkIssued(enr *Enrollment, want wantCert, adopt bool) string {
	cert := enr.Certificate
	if !bytes.Equal(cert.RawSubjectPublicKeyInfo, want.spki) {
		return "public key differs from the requested key"
	}
	if enr.Status.Status != cmp.StatusGrantedWithMods {
		if want.hasSubject && !sameDERName(cert.RawSubject, want.subject) {
			return fmt.Sprintf("subject %q is not the requested one", cert.Subject.String())
		}
		if r := sanMismatch(cert, want); r != "" {
			return r
		}
	}
	pool := append(slices.Clone(enr.ExtraCerts), enr.CACerts...)
	if len(c.TrustAnchors) > 0 {
		chain, err := verifiedChain(c.TrustAnchors, cert, pool)
		if err != nil {
			return fmt.Sprintf("certificate does not verify to the trust anchors: %v", err)
		}
		enr.Chain = chain[1:]
		return ""
	}
	if adopt && adoptAnchor(enr, pool) {
		return ""
	}
	enr.Chain = issuerChain(cert, pool)
	return ""
}

// adoptAnchor makes the caPubs certificate that the issued certificate's
// chain verifies to the enrollment's trust anchor, and sets enr.Chain to
// the verified chain; false when there is none. RFC 9810 section 5.3.2:
// when the protection is shared-secret information, the certificates in
// caPubs may be trusted directly as root CA certificates; caPubs is in the
// body, which the MAC covers. extraCerts are not covered (RFC 9810 section
// 5.1.3: the protection is over header and body), so they serve only as
// intermediates, never as anchors (RFC 9810 section 8.9: a trust anchor
// must come from an authenticated source). Only a CA certificate anchors.
func adoptAnchor(enr *Enrollment, pool []*x509.Certificate) bool {
	var roots []*x509.Certificate
	for _, c := range enr.CACerts {
		if c.BasicConstraintsValid && c.IsCA {
			roots = append(roots, c)
		}
	}
	if len(roots) == 0 {
		return false
	}
	chain, err := verifiedChain(roots, enr.Certificate, pool)
	if err != nil {
		return false
	}
	enr.Chain = chain[1:]
	enr.AdoptedTrustAnchor = chain[len(chain)-1]
	return true
}

// sameDERName compares two DER Names, semantically when the bytes differ
// (a CA may re-encode string types).
func sameDERName(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var ra, rb pkix.RDNSequence
	if rest, err := asn1.Unmarshal(a, &ra); err != nil || len(rest) > 0 {
		return false
	}
	if rest, err := asn1.Unmarshal(b, &rb); err != nil || len(rest) > 0 {
		return false
	}
	var na, nb pkix.Name
	na.FillFromRDNSequence(&ra)
	nb.FillFromRDNSequence(&rb)
	return na.String() == nb.String()
}

// sanMismatch compares the subjectAltName entries as sets.
func sanMismatch(cert *x509.Certificate, want wantCert) string {
	lower := func(s []string) []string {
		out := make([]string, len(s))
		for i, v := range s {
			out[i] = strings.ToLower(v)
		}
		return out
	}
	if !sameSet(lower(cert.DNSNames), lower(want.dnsNames)) {
		return fmt.Sprintf("DNS names %q differ from the requested %q", cert.DNSNames, want.dnsNames)
	}
	if !sameSet(cert.EmailAddresses, want.emails) {
		return fmt.Sprintf("email addresses %q differ from the requested %q", cert.EmailAddresses, want.emails)
	}
	ipStrings := func(ips []net.IP) []string {
		out := make([]string, len(ips))
		for i, ip := range ips {
			out[i] = ip.String()
		}
		return out
	}
	if !sameSet(ipStrings(cert.IPAddresses), ipStrings(want.ips)) {
		return fmt.Sprintf("IP addresses %v differ from the requested %v", cert.IPAddresses, want.ips)
	}
	uriStrings := func(us []*url.URL) []string {
		out := make([]string, len(us))
		for i, u := range us {
			out[i] = u.String()
		}
		return out
	}
	if !sameSet(uriStrings(cert.URIs), uriStrings(want.uris)) {
		return fmt.Sprintf("URIs %v differ from the requested %v", cert.URIs, want.uris)
	}
	return ""
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// issuerChain follows issuers through pool (nearest first) without trust
// anchors: the best chain the response allows, stopping at a self-signed
// certificate.
func issuerChain(cert *x509.Certificate, pool []*x509.Certificate) []*x509.Certificate {
	var chain []*x509.Certificate
	cur := cert
	for len(chain) < len(pool) {
		if bytes.Equal(cur.RawIssuer, cur.RawSubject) && cur.CheckSignatureFrom(cur) == nil {
			break
		}
		var next *x509.Certificate
		for _, cand := range pool {
			if bytes.Equal(cand.RawSubject, cur.RawIssuer) && !slices.Contains(chain, cand) && cur.CheckSignatureFrom(cand) == nil {
				next = cand
				break
			}
		}
		if next == nil {
			break
		}
		chain = append(chain, next)
		cur = next
	}
	return chain
}
