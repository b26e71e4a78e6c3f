package cmp

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Golden files made by OpenSSL 3.0 `openssl cmp`: testdata/protection/ (made
// by its gen.sh for these tests) and testdata/golden/ (made for the codec).
const (
	protDir           = "testdata/protection"
	protSecret        = "protection-test" // gen.sh SECRET
	codecGoldenDir    = "testdata/golden"
	codecCredsDir     = "testdata/creds"
	codecGoldenSecret = "test" // testdata/README.md: PBM secret
)

func protRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func protParse(t testing.TB, path string) *Message {
	t.Helper()
	m, err := Parse(protRead(t, path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func protCertFile(t testing.TB, path string) *x509.Certificate {
	t.Helper()
	return protCertPEM(t, protRead(t, path))
}

// protTamperPositions returns offsets into the protected part to flip: a
// byte of the senderNonce (header) and the last byte (body).
func protTamperPositions(t testing.TB, m *Message) map[string]int {
	t.Helper()
	pos := map[string]int{"body": len(m.RawProtectedPart) - 1}
	if len(m.Header.SenderNonce) > 0 {
		i := bytes.Index(m.RawProtectedPart, m.Header.SenderNonce)
		if i < 0 {
			t.Fatal("senderNonce not found in the protected part")
		}
		pos["header senderNonce"] = i + 3
	}
	return pos
}

// TestOpenSSLMAC checks PasswordBasedMac protection made by OpenSSL's client
// and mock server (hmac-sha1 and hmacWithSHA256): the right secret
// verifies, the parameters are what OpenSSL 3.0 sends, and a wrong secret,
// any flipped bit of header, body or protection fail.
func TestOpenSSLMAC(t *testing.T) {
	cases := []struct {
		file, secret string
		mac          asn1.ObjectIdentifier
	}{
		{protDir + "/msg/pbm_sha1_ir.der", protSecret, OIDHMACSHA1},
		{protDir + "/msg/pbm_sha1_ip.der", protSecret, OIDHMACSHA1},
		{protDir + "/msg/pbm_sha1_certConf.der", protSecret, OIDHMACSHA1},
		{protDir + "/msg/pbm_sha1_pkiConf.der", protSecret, OIDHMACSHA1},
		{protDir + "/msg/pbm_sha256_ir.der", protSecret, OIDHMACWithSHA256},
		// The 3.0 mock answers with its own default MAC, hmac-sha1.
		{protDir + "/msg/pbm_sha256_ip.der", protSecret, OIDHMACSHA1},
		{protDir + "/msg/pbm_sha256_certConf.der", protSecret, OIDHMACWithSHA256},
		{protDir + "/msg/pbm_sha256_pkiConf.der", protSecret, OIDHMACSHA1},
		{codecGoldenDir + "/ir_pbm_sha1.der", codecGoldenSecret, OIDHMACSHA1},
		{codecGoldenDir + "/ir_pbm_sha256.der", codecGoldenSecret, OIDHMACWithSHA256},
		{codecGoldenDir + "/ip_pbm_sha256.der", codecGoldenSecret, OIDHMACSHA1},
		{codecGoldenDir + "/p10cr.der", codecGoldenSecret, OIDHMACSHA1},
		{codecGoldenDir + "/rr_pbm.der", codecGoldenSecret, OIDHMACSHA1},
		{codecGoldenDir + "/pollReq_1.der", codecGoldenSecret, OIDHMACSHA1},
		{codecGoldenDir + "/pollRep_1.der", codecGoldenSecret, OIDHMACSHA1},
		{codecGoldenDir + "/genp_caCerts.der", codecGoldenSecret, OIDHMACSHA1},
		{codecGoldenDir + "/error.der", codecGoldenSecret, OIDHMACSHA1},
	}
	for _, tc := range cases {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			m := protParse(t, tc.file)
			if !IsMACProtected(m.Header.ProtectionAlg) {
				t.Fatalf("protectionAlg %v is not a MAC", m.Header.ProtectionAlg)
			}
			params, err := AlgorithmParameters(*m.Header.ProtectionAlg)
			if err != nil {
				t.Fatal(err)
			}
			p, err := ParsePBMParameter(params)
			if err != nil {
				t.Fatal(err)
			}
			// openssl-cmp-peer.md: 3.0.19 sends salt 16 B, owf sha256, 500 iterations.
			if len(p.Salt) != 16 || !p.OWF.Algorithm.Equal(OIDSHA256) || p.IterationCount != 500 || !p.MAC.Algorithm.Equal(tc.mac) {
				t.Errorf("PBMParameter = salt %d B, owf %s, %d iterations, mac %s; want 16 B, sha256, 500, %s",
					len(p.Salt), p.OWF.Algorithm, p.IterationCount, p.MAC.Algorithm, tc.mac)
			}
			if err := VerifyMAC(m, []byte(tc.secret), nil); err != nil {
				t.Fatalf("right secret: %v", err)
			}
			if err := VerifyMAC(m, []byte("not-"+tc.secret), nil); !errors.Is(err, ErrBadMAC) {
				t.Errorf("wrong secret: got %v, want ErrBadMAC", err)
			}
			for where, i := range protTamperPositions(t, m) {
				c := *m
				c.RawProtectedPart = protFlipBit(m.RawProtectedPart, i)
				if err := VerifyMAC(&c, []byte(tc.secret), nil); !errors.Is(err, ErrBadMAC) {
					t.Errorf("%s bit flipped: got %v, want ErrBadMAC", where, err)
				}
			}
			c := *m
			c.Protection = protFlipBit(m.Protection, len(m.Protection)-1)
			if err := VerifyMAC(&c, []byte(tc.secret), nil); !errors.Is(err, ErrBadMAC) {
				t.Errorf("protection bit flipped: got %v, want ErrBadMAC", err)
			}
			if err := VerifySignature(m, protCertFile(t, codecCredsDir+"/server.crt")); !errors.Is(err, ErrUnsupportedAlgorithm) {
				t.Errorf("VerifySignature of a MAC-protected message: got %v, want ErrUnsupportedAlgorithm", err)
			}
		})
	}
}

// TestOpenSSLSignature checks signature protection made by OpenSSL's client
// (RSA, P-256, P-384, P-521 signers) and mock server (P-256): it verifies
// with the signer's certificate and fails with another certificate and
// after any flipped bit.
func TestOpenSSLSignature(t *testing.T) {
	cases := []struct {
		file, signer string
		alg          asn1.ObjectIdentifier
	}{
		{protDir + "/msg/sig_rsa_ir.der", protDir + "/creds/signer_rsa.crt", OIDSHA256WithRSA},
		{protDir + "/msg/sig_rsa_certConf.der", protDir + "/creds/signer_rsa.crt", OIDSHA256WithRSA},
		{protDir + "/msg/sig_rsa_ip.der", protDir + "/creds/server.crt", OIDECDSAWithSHA256},
		{protDir + "/msg/sig_rsa_pkiConf.der", protDir + "/creds/server.crt", OIDECDSAWithSHA256},
		// OpenSSL 3.0 signs with its default digest SHA-256 whatever the curve.
		{protDir + "/msg/sig_p384_ir.der", protDir + "/creds/signer_p384.crt", OIDECDSAWithSHA256},
		{protDir + "/msg/sig_p384_certConf.der", protDir + "/creds/signer_p384.crt", OIDECDSAWithSHA256},
		{protDir + "/msg/sig_p521_ir.der", protDir + "/creds/signer_p521.crt", OIDECDSAWithSHA256},
		{protDir + "/msg/sig_p521_ip.der", protDir + "/creds/server.crt", OIDECDSAWithSHA256},
		{codecGoldenDir + "/ir_sig_rsa.der", codecCredsDir + "/rsa.crt", OIDSHA256WithRSA},
		{codecGoldenDir + "/cr.der", codecCredsDir + "/client1.crt", OIDECDSAWithSHA256},
		{codecGoldenDir + "/kur.der", codecCredsDir + "/client1.crt", OIDECDSAWithSHA256},
		{codecGoldenDir + "/kup.der", codecCredsDir + "/server.crt", OIDECDSAWithSHA256},
		{codecGoldenDir + "/rr_sig.der", codecCredsDir + "/client2.crt", OIDECDSAWithSHA256},
		{codecGoldenDir + "/rp_sig.der", codecCredsDir + "/server.crt", OIDECDSAWithSHA256},
	}
	for _, tc := range cases {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			m := protParse(t, tc.file)
			if m.Header.ProtectionAlg == nil || !m.Header.ProtectionAlg.Algorithm.Equal(tc.alg) {
				t.Fatalf("protectionAlg %v, want %s", m.Header.ProtectionAlg, tc.alg)
			}
			signer := protCertFile(t, tc.signer)
			if err := VerifySignature(m, signer); err != nil {
				t.Fatalf("verify: %v", err)
			}
			other := protCertFile(t, codecCredsDir+"/client2.crt")
			if bytes.Equal(other.Raw, signer.Raw) {
				other = protCertFile(t, codecCredsDir+"/client1.crt")
			}
			if err := VerifySignature(m, other); !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrUnsupportedAlgorithm) {
				t.Errorf("verify with another certificate: got %v, want a failure", err)
			}
			for where, i := range protTamperPositions(t, m) {
				c := *m
				c.RawProtectedPart = protFlipBit(m.RawProtectedPart, i)
				if err := VerifySignature(&c, signer); !errors.Is(err, ErrBadSignature) {
					t.Errorf("%s bit flipped: got %v, want ErrBadSignature", where, err)
				}
			}
			c := *m
			c.Protection = protFlipBit(m.Protection, len(m.Protection)/2)
			if err := VerifySignature(&c, signer); !errors.Is(err, ErrBadSignature) {
				t.Errorf("protection bit flipped: got %v, want ErrBadSignature", err)
			}
			if err := VerifyMAC(m, []byte(protSecret), nil); !errors.Is(err, ErrUnsupportedAlgorithm) {
				t.Errorf("VerifyMAC of a signed message: got %v, want ErrUnsupportedAlgorithm", err)
			}
		})
	}
	// A CA certificate whose key usage lacks digitalSignature must not be
	// accepted as a message signer (RFC 9483 section 3.1).
	m := protParse(t, protDir+"/msg/sig_rsa_ip.der")
	ca := protCertFile(t, protDir+"/creds/root_ec.crt")
	if err := VerifySignature(m, ca); err == nil || !strings.Contains(err.Error(), "digitalSignature") {
		t.Errorf("signer without digitalSignature: got %v, want a key usage error", err)
	}
}

// TestOpenSSLPOP verifies the signature POPs of requests made by OpenSSL
// (EC P-256 and Ed25519 keys), and that an altered request or another
// template key fails with ErrBadPOP.
func TestOpenSSLPOP(t *testing.T) {
	files := []string{
		protDir + "/msg/pbm_sha1_ir.der",
		protDir + "/msg/sig_rsa_ir.der",
		codecGoldenDir + "/ir_pop_ed25519.der",
		codecGoldenDir + "/ir_sig_rsa.der",
		codecGoldenDir + "/cr.der",
		codecGoldenDir + "/kur.der",
	}
	otherKey := protCertFile(t, protDir+"/creds/signer_p384.crt").RawSubjectPublicKeyInfo
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			m := protParse(t, f)
			if len(m.Body.CertReq) == 0 {
				t.Fatal("no certificate request")
			}
			for i := range m.Body.CertReq {
				req := m.Body.CertReq[i]
				if err := VerifyPOP(&req); err != nil {
					t.Fatalf("certReqId %d: %v", req.CertReqID, err)
				}
				altered := req
				altered.RawCertRequest = protFlipBit(req.RawCertRequest, len(req.RawCertRequest)-1)
				if err := VerifyPOP(&altered); !errors.Is(err, ErrBadPOP) {
					t.Errorf("altered CertRequest: got %v, want ErrBadPOP", err)
				}
				swapped := req
				swapped.Template.PublicKey = otherKey
				if err := VerifyPOP(&swapped); !errors.Is(err, ErrBadPOP) {
					t.Errorf("another template key: got %v, want ErrBadPOP", err)
				}
			}
		})
	}
}

// protCertHashCases pairs certificates with the hash certHash must use and
// the certConf in which OpenSSL 3.0 confirmed them.
var protCertHashCases = []struct {
	cert, certConf string
	hash           crypto.Hash
	opensslDigest  string
}{
	{"ee_ecdsa_sha256", "pbm_sha1_certConf", crypto.SHA256, "-sha256"},
	{"ee_ecdsa_sha384", "certhash_ecdsa_sha384_certConf", crypto.SHA384, "-sha384"},
	{"ee_rsa_sha256", "certhash_rsa_sha256_certConf", crypto.SHA256, "-sha256"},
	{"ee_rsa_sha512", "certhash_rsa_sha512_certConf", crypto.SHA512, "-sha512"},
	{"ee_rsa_sha1", "certhash_rsa_sha1_certConf", crypto.SHA1, "-sha1"},
	{"ee_rsa_pss_sha384", "certhash_rsa_pss_sha384_certConf", crypto.SHA384, "-sha384"},
	{"ee_ed25519", "certhash_ed25519_certConf", crypto.SHA512, "-sha512"},
}

// TestCertHashOpenSSLCertConf: CertHash equals the certHash OpenSSL's client
// put in certConf for the same certificate, for every signature algorithm.
func TestCertHashOpenSSLCertConf(t *testing.T) {
	for _, tc := range protCertHashCases {
		t.Run(tc.cert, func(t *testing.T) {
			cert := protCertFile(t, protDir+"/creds/"+tc.cert+".crt")
			m := protParse(t, protDir+"/msg/"+tc.certConf+".der")
			if len(m.Body.CertConf) != 1 {
				t.Fatalf("%d CertStatus, want 1", len(m.Body.CertConf))
			}
			want := m.Body.CertConf[0].CertHash
			h, err := CertHashAlgorithm(cert)
			if err != nil {
				t.Fatal(err)
			}
			if h != tc.hash {
				t.Errorf("CertHashAlgorithm = %v, want %v", h, tc.hash)
			}
			got, err := CertHash(cert)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("CertHash = %x, OpenSSL sent %x", got, want)
			}
			if err := VerifyCertHash(cert, want); err != nil {
				t.Errorf("VerifyCertHash: %v", err)
			}
			if err := VerifyCertHash(cert, protFlipBit(want, 0)); err == nil {
				t.Error("VerifyCertHash accepted an altered hash")
			}
		})
	}
	// The codec's goldens: certConf for the certificate in the ip before it.
	for _, pair := range [][2]string{{"ip_pbm_sha1", "certConf_pbm_sha1"}, {"ip_ed25519", "certConf_ed25519"}, {"kup", "certConf_kur"}} {
		t.Run(pair[1], func(t *testing.T) {
			rep := protParse(t, codecGoldenDir+"/"+pair[0]+".der")
			conf := protParse(t, codecGoldenDir+"/"+pair[1]+".der")
			cert, err := x509.ParseCertificate(rep.Body.CertRep.Response[0].Certificate)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyCertHash(cert, conf.Body.CertConf[0].CertHash); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestCertHashOpenSSLFingerprint compares CertHash with `openssl x509
// -fingerprint` run now with the digest certHash must use.
func TestCertHashOpenSSLFingerprint(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skipf("SKIPPED: comparison with `openssl x509 -fingerprint` needs openssl on PATH: %v", err)
	}
	for _, tc := range protCertHashCases {
		t.Run(tc.cert, func(t *testing.T) {
			path := protDir + "/creds/" + tc.cert + ".crt"
			out, err := exec.Command("openssl", "x509", "-in", path, "-noout", "-fingerprint", tc.opensslDigest).Output()
			if err != nil {
				t.Fatal(err)
			}
			_, fp, ok := strings.Cut(strings.TrimSpace(string(out)), "=")
			if !ok {
				t.Fatalf("unexpected openssl output %q", out)
			}
			want, err := hex.DecodeString(strings.ReplaceAll(fp, ":", ""))
			if err != nil {
				t.Fatal(err)
			}
			got, err := CertHash(protCertFile(t, path))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("CertHash = %x, openssl %s fingerprint %x", got, tc.opensslDigest, want)
			}
		})
	}
}

// TestOpenSSLRSAPSSCertificate checks RSASSA-PSS parameter parsing and
// verification against a certificate OpenSSL signed with RSASSA-PSS, SHA-384
// and a digest-long salt.
func TestOpenSSLRSAPSSCertificate(t *testing.T) {
	cert := protCertFile(t, protDir+"/creds/ee_rsa_pss_sha384.crt")
	root := protCertFile(t, protDir+"/creds/root_rsa.crt")
	alg, err := certificateSignatureAlgorithm(cert.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if !alg.Algorithm.Equal(OIDRSASSAPSS) {
		t.Fatalf("signature algorithm %s, want RSASSA-PSS", alg.Algorithm)
	}
	params, err := AlgorithmParameters(alg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePSSParameters(params)
	if err != nil {
		t.Fatal(err)
	}
	if p.Hash != crypto.SHA384 || p.SaltLength != 48 {
		t.Errorf("PSS parameters %+v, want SHA-384 with 48-byte salt", p)
	}
	if err := CheckSignatureProtection(root.PublicKey, alg, cert.RawTBSCertificate, cert.Signature); err != nil {
		t.Errorf("verify OpenSSL's PSS signature: %v", err)
	}
	if err := CheckSignatureProtection(root.PublicKey, alg, protFlipBit(cert.RawTBSCertificate, 20), cert.Signature); !errors.Is(err, ErrBadSignature) {
		t.Errorf("altered TBSCertificate: got %v, want ErrBadSignature", err)
	}
	wrongSalt, err := MarshalPSSParameters(PSSParameters{Hash: crypto.SHA384, SaltLength: 32})
	if err != nil {
		t.Fatal(err)
	}
	wrongAlg, err := NewAlgorithmIdentifier(OIDRSASSAPSS, wrongSalt)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckSignatureProtection(root.PublicKey, wrongAlg, cert.RawTBSCertificate, cert.Signature); !errors.Is(err, ErrBadSignature) {
		t.Errorf("wrong salt length: got %v, want ErrBadSignature", err)
	}
}
