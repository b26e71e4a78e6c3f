package devca

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// Emulation makes the CA answer as a product's CMP server does, from what
// that product documents: its paths, its authentication, the operations
// and algorithms it offers, and how it refuses the rest.
type Emulation string

const (
	// EmulateNone is the development CA's own behaviour.
	EmulateNone Emulation = ""
	// EmulateVault is HashiCorp Vault Enterprise's PKI secrets engine:
	// HTTPS with a required client certificate, ir, cr and kur only,
	// signature protection only, answers signed by the issuing CA key,
	// paths /v1/<mount>/cmp and /v1/<mount>/roles/<role>/cmp.
	EmulateVault Emulation = "vault"
	// EmulateMTG is MTG CLM's CMP server: ir, cr, kur, rr and certConf
	// only, PasswordBasedMac (not PBMAC1) with the end entity's UUID as
	// senderKID, SHA-2 RSA and ECDSA signatures only, the policy chosen by
	// path (/cmp, /<policy-id>/cmp, /cmp/<policy-id>).
	EmulateMTG Emulation = "mtg"
)

// emulationHelp documents each emulation for `devca -h`.
var emulationHelp = map[Emulation]string{
	EmulateVault: "Vault Enterprise: HTTPS (implies -tls) with a required client certificate of this CA or a -trust anchor; ir, cr, kur, certConf only, signed (MAC refused: wrongIntegrity; rr, genm, p10cr: badRequest); answers signed by the CA key; paths /v1/<mount>/cmp and /v1/<mount>/roles/<role>/cmp",
	EmulateMTG:   "MTG CLM: ir, cr, kur, rr, certConf only (genm, p10cr: badRequest); PasswordBasedMac only (PBMAC1: badAlg) with a UUID reference; SHA-256/384/512 RSA or ECDSA signatures only (others: badAlg); paths /cmp, /<policy-id>/cmp, /cmp/<policy-id>; -basic-auth as the end entity's ID and password",
}

// ParseEmulation reads an -emulate value.
func ParseEmulation(name string) (Emulation, error) {
	e := Emulation(strings.TrimSpace(name))
	if _, ok := emulationHelp[e]; ok || e == EmulateNone {
		return e, nil
	}
	return "", fmt.Errorf("unknown emulation %q (known: %s, %s)", name, EmulateVault, EmulateMTG)
}

// vaultMount is the PKI mount the ready line names for -emulate vault.
const vaultMount = "pki"

// endpointPath is the CMP path the ready line announces.
func (e Emulation) endpointPath() string {
	switch e {
	case EmulateVault:
		return "/v1/" + vaultMount + "/cmp"
	case EmulateMTG:
		return "/cmp"
	}
	return "/.well-known/cmp"
}

// pathSegment is one path segment naming a mount, role or policy.
var pathSegment = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// route returns the profile a request path names (a Vault role, an MTG
// policy id, the <profile> of /.well-known/cmp/p/<profile>), or the HTTP
// status and text to answer a path that is no CMP endpoint.
func (ca *CA) route(path string) (profile string, status int, text string) {
	switch ca.cfg.Emulate {
	case EmulateVault:
		// /v1/<mount>/cmp and /v1/<mount>/roles/<role>/cmp; a mount may
		// be nested (pki/issuing).
		rest, ok := strings.CutPrefix(path, "/v1/")
		if ok {
			rest, ok = strings.CutSuffix(rest, "/cmp")
		}
		if ok {
			mount, role, hasRole := strings.Cut(rest, "/roles/")
			if validSegments(mount) && (!hasRole || pathSegment.MatchString(role)) {
				return role, 0, ""
			}
		}
		return "", http.StatusNotFound, "no CMP endpoint here; use /v1/<mount>/cmp or /v1/<mount>/roles/<role>/cmp"
	case EmulateMTG:
		// BASE/cmp (the default policy), BASE/<policy-id>/cmp and
		// BASE/cmp/<policy-id>; the CA's address is BASE.
		parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
		switch {
		case len(parts) == 1 && parts[0] == "cmp":
			return "", 0, ""
		case len(parts) == 2 && parts[1] == "cmp" && pathSegment.MatchString(parts[0]):
			return parts[0], 0, ""
		case len(parts) == 2 && parts[0] == "cmp" && pathSegment.MatchString(parts[1]):
			return parts[1], 0, ""
		}
		return "", http.StatusNotFound, "invalid identifier: use BASE/cmp, BASE/<policy-id>/cmp or BASE/cmp/<policy-id>"
	}
	if profile, ok := cmpPath(path); ok {
		return profile, 0, ""
	}
	return "", http.StatusNotFound, "no CMP endpoint here; use /.well-known/cmp or /.well-known/cmp/p/<profile>"
}

func validSegments(p string) bool {
	for _, s := range strings.Split(p, "/") {
		if !pathSegment.MatchString(s) {
			return false
		}
	}
	return true
}

// clientCertificateOK says whether an HTTPS request came with a client
// certificate that chains to this CA or to a Config.Trusted anchor (the
// TLS configuration of ServerTLSConfig verified the chain), as Vault's
// cert auth method requires.
func clientCertificateOK(r *http.Request) bool {
	return r.TLS != nil && len(r.TLS.VerifiedChains) > 0
}

// emulationRefusal refuses what the emulated CA does not offer, before the
// protection is verified (a CA without shared secrets cannot check a MAC).
func (ca *CA) emulationRefusal(msg *cmp.Message) *refusal {
	op := msg.Body.Type
	alg := msg.Header.ProtectionAlg
	switch ca.cfg.Emulate {
	case EmulateVault:
		switch op {
		case cmp.BodyIR, cmp.BodyCR, cmp.BodyKUR, cmp.BodyCertConf, cmp.BodyPollReq, cmp.BodyError:
		default:
			return refuse(cmp.FailBadRequest, "%s is not supported: this CA (Vault Enterprise emulation) offers ir, cr and kur only", op)
		}
		if cmp.IsMACProtected(alg) {
			return refuse(cmp.FailWrongIntegrity, "MAC-based protection is not supported: this CA (Vault Enterprise emulation) accepts requests signed with a certificate only")
		}
	case EmulateMTG:
		switch op {
		case cmp.BodyGenM, cmp.BodyP10CR:
			return refuse(cmp.FailBadRequest, "%s is not supported: this CA (MTG CLM emulation) offers ir, cr, kur, rr and certConf only", op)
		}
		switch {
		case alg == nil:
			// verifyProtection refuses it.
		case cmp.IsMACProtected(alg):
			if !alg.Algorithm.Equal(cmp.OIDPasswordBasedMac) {
				return refuse(cmp.FailBadAlg, "MAC algorithm %v is not supported: this CA (MTG CLM emulation) accepts PasswordBasedMac (1.2.840.113533.7.66.13) only", alg.Algorithm)
			}
		case !mtgSignature(alg.Algorithm):
			return refuse(cmp.FailBadAlg, "signature algorithm %v is not supported: this CA (MTG CLM emulation) accepts SHA-256, SHA-384 or SHA-512 with RSA or ECDSA only", alg.Algorithm)
		}
		for _, r := range msg.Body.CertReq {
			if r.POP != nil && r.POP.Signature != nil && !mtgSignature(r.POP.Signature.Algorithm.Algorithm) {
				return refuse(cmp.FailBadAlg|cmp.FailBadPOP, "POP signature algorithm %v is not supported: this CA (MTG CLM emulation) accepts SHA-256, SHA-384 or SHA-512 with RSA or ECDSA only", r.POP.Signature.Algorithm.Algorithm)
			}
		}
	}
	return nil
}

// mtgSignature says whether a signature algorithm is one MTG CLM lists.
func mtgSignature(alg asn1.ObjectIdentifier) bool {
	for _, ok := range []asn1.ObjectIdentifier{
		cmp.OIDSHA256WithRSA, cmp.OIDSHA384WithRSA, cmp.OIDSHA512WithRSA,
		cmp.OIDECDSAWithSHA256, cmp.OIDECDSAWithSHA384, cmp.OIDECDSAWithSHA512,
	} {
		if ok.Equal(alg) {
			return true
		}
	}
	return false
}

// checkEmulationCA checks what an emulation needs of the CA certificate.
func checkEmulationCA(e Emulation, caCert *x509.Certificate) error {
	// Vault signs CMP answers with the issuing CA's key, so its certificate
	// must allow digitalSignature (RFC 5280 section 4.2.1.3).
	if e != EmulateVault {
		return nil
	}
	if err := cmp.CheckSignerKeyUsage(caCert); err != nil {
		return fmt.Errorf("devca: -emulate vault signs answers with the CA key, but the CA certificate lacks keyUsage digitalSignature: %w", err)
	}
	return nil
}

// uuidPattern is the textual form of a UUID (RFC 9562 section 4).
var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// emulationReference is the PBM reference under an emulation: for MTG the
// end entity's UUID, given with -reference or derived from the stored
// reference, so that it stays the same across restarts.
func emulationReference(e Emulation, given, stored string) (string, error) {
	if e != EmulateMTG {
		return "", nil
	}
	if given != "" {
		if !uuidPattern.MatchString(given) {
			return "", fmt.Errorf("devca: -emulate mtg wants a UUID as reference (the end entity's ID), not %q", given)
		}
		return given, nil
	}
	if uuidPattern.MatchString(stored) {
		return stored, nil
	}
	// A name-based UUID (RFC 9562 section 5.8, version 8) of the stored
	// reference.
	sum := sha256.Sum256([]byte(stored))
	u := sum[:16]
	u[6] = u[6]&0x0f | 0x80
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]), nil
}
