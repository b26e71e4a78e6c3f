package devca

import (
	"crypto/x509"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Config is what a development CA is built from. Only Dir is required; the
// zero value of every other field is a sensible default.
type Config struct {
	// Dir is the state directory (created if missing): CA key and
	// certificate, CMP signer, PBM credential, record of certificates.
	Dir string

	// Reference and Secret, each when set, replace that part of the PBM
	// credential stored in Dir for this run.
	Reference string
	Secret    string

	// Trusted are the trust anchors for IR and P10CR signed by an externally
	// issued certificate (for example a manufacturer's device certificate).
	Trusted []*x509.Certificate

	// RejectDuplicateIR refuses an IR or P10CR for a subject that already
	// holds a certificate of this CA that is neither revoked nor expired.
	RejectDuplicateIR bool
	// MaxValidity caps the validity the CA grants (default 365 days).
	MaxValidity time.Duration
	// DefaultValidity is granted when the request names none (default 90
	// days, never more than MaxValidity).
	DefaultValidity time.Duration
	// ImplicitConfirm grants implicit confirmation to clients that ask for it.
	ImplicitConfirm bool
	// Polls is how many times an enrollment is answered with `waiting`
	// before the certificate is delivered; CheckAfter is the checkAfter
	// sent in pollRep (default 1s).
	Polls      int
	CheckAfter time.Duration

	// Username and Password, when Username is set, are the HTTP basic
	// authentication every request must carry (as some CAs, e.g. MTG CLM,
	// require in addition to CMP protection); others get HTTP 401.
	Username string
	Password string

	// Emulate makes the CA answer as a product's CMP server does; see
	// Emulation. Under EmulateVault, ServerTLSConfig always requires a
	// client certificate, which may also chain to Trusted.
	Emulate Emulation

	// AnnounceNewRoot makes the CA announce a successor of its root at
	// start (a new key, in memory only) in every answer to genm rootCaCert:
	// rootCaKeyUpdate with newWithNew, newWithOld and oldWithNew (RFC 9483
	// section 4.3.2), for tests of clients' root key update handling. It
	// keeps issuing under its current root. The CA must be self-signed.
	AnnounceNewRoot bool

	// RequestTemplate, when set, is the answer to genm certReqTemplate
	// (RFC 9483 section 4.3.3) instead of the default; see RequestTemplate.
	RequestTemplate *RequestTemplate

	// Faults switches on misbehaviour for tests of clients; see Faults.
	Faults []Fault

	// Events, when set, is called once per handled message (concurrently
	// for concurrent requests).
	Events func(Event)

	// ConfirmWaitTime is how long the CA waits for the certConf of a
	// certificate it delivered before it revokes the certificate (RFC 9810
	// 5.1.1.2; answers announce the deadline as id-it-confirmWaitTime).
	// Default 15 minutes.
	ConfirmWaitTime time.Duration
	// MaxTimeSkew is how far a request's messageTime, when present, may be
	// from the CA's clock; further is refused with badTime (RFC 9483 3.5).
	// Default 10 minutes; negative: messageTime is not checked.
	MaxTimeSkew time.Duration

	// Now returns the current time (default time.Now); tests move the clock.
	Now func() time.Time
}

// Fault is a deliberate misbehaviour of the CA, for testing clients.
type Fault string

// The faults the CA knows. Each affects every transaction.
const (
	// FaultCertConfError answers every certConf with an error message
	// (systemFailure) instead of pkiConf; the certificate stays issued.
	FaultCertConfError Fault = "certconf-error"
	// FaultDropAfterIssue records the certificate and then answers the
	// enrollment with HTTP 503 and no CMP message, like a response lost
	// on the way; the certificate then awaits its certConf like any
	// other, and is revoked after Config.ConfirmWaitTime.
	FaultDropAfterIssue Fault = "drop-after-issue"
	// FaultRejectAll answers every ir, cr, kur and p10cr with a rejection
	// (badRequest, "rejected by fault mode").
	FaultRejectAll Fault = "reject-enrollment"
	// FaultUnprotectedError answers every request with an unprotected
	// error message (systemUnavail).
	FaultUnprotectedError Fault = "unprotected-error"
	// FaultBadProtection corrupts the protection of every response.
	FaultBadProtection Fault = "bad-protection"
	// FaultWrongRecipNonce puts a wrong recipNonce into every response.
	FaultWrongRecipNonce Fault = "wrong-recip-nonce"
	// FaultWrongTransactionID puts a wrong transactionID into every response.
	FaultWrongTransactionID Fault = "wrong-transaction-id"
	// FaultWrongCertificate issues the certificate for a fresh key the CA
	// makes up instead of the requested one (the client must reject it).
	FaultWrongCertificate Fault = "wrong-certificate"
	// FaultSlow waits 3 seconds before every answer.
	FaultSlow Fault = "slow"
)

// faultHelp documents each fault for `devca -h`.
var faultHelp = map[Fault]string{
	FaultCertConfError:      "answer certConf with an error message (the certificate stays issued)",
	FaultDropAfterIssue:     "record the certificate, then answer the enrollment with HTTP 503 and no CMP message",
	FaultRejectAll:          "reject every ir, cr, kur and p10cr (badRequest)",
	FaultUnprotectedError:   "answer every request with an unprotected error message (systemUnavail)",
	FaultBadProtection:      "corrupt the protection of every response",
	FaultWrongRecipNonce:    "put a wrong recipNonce into every response",
	FaultWrongTransactionID: "put a wrong transactionID into every response",
	FaultWrongCertificate:   "issue the certificate for a key other than the requested one",
	FaultSlow:               "wait 3 seconds before every answer",
}

// ParseFaults reads a comma-separated list of fault names.
func ParseFaults(list string) ([]Fault, error) {
	var out []Fault
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		f := Fault(name)
		if _, ok := faultHelp[f]; !ok {
			return nil, fmt.Errorf("unknown fault %q (known: %s)", name, strings.Join(faultNames(), ", "))
		}
		out = append(out, f)
	}
	return out, nil
}

func faultNames() []string {
	var names []string
	for f := range faultHelp {
		names = append(names, string(f))
	}
	sort.Strings(names)
	return names
}

const (
	defaultMaxValidity     = 365 * 24 * time.Hour
	defaultDefaultValidity = 90 * 24 * time.Hour
	defaultCheckAfter      = time.Second
	defaultConfirmWaitTime = 15 * time.Minute
	defaultMaxTimeSkew     = 10 * time.Minute
)

// withDefaults returns the configuration with zero values replaced by defaults.
func (c Config) withDefaults() (Config, error) {
	if c.Dir == "" {
		return c, fmt.Errorf("devca: Config.Dir is required")
	}
	if c.MaxValidity < 0 || c.DefaultValidity < 0 || c.CheckAfter < 0 || c.Polls < 0 || c.ConfirmWaitTime < 0 {
		return c, fmt.Errorf("devca: validities, check-after, polls and confirm wait time must not be negative")
	}
	if c.ConfirmWaitTime == 0 {
		c.ConfirmWaitTime = defaultConfirmWaitTime
	}
	if c.MaxTimeSkew == 0 {
		c.MaxTimeSkew = defaultMaxTimeSkew
	}
	if c.MaxValidity == 0 {
		c.MaxValidity = defaultMaxValidity
	}
	if c.DefaultValidity == 0 {
		c.DefaultValidity = min(defaultDefaultValidity, c.MaxValidity)
	}
	if c.DefaultValidity > c.MaxValidity {
		return c, fmt.Errorf("devca: default validity %v exceeds max validity %v", c.DefaultValidity, c.MaxValidity)
	}
	if _, err := ParseEmulation(string(c.Emulate)); err != nil {
		return c, fmt.Errorf("devca: %w", err)
	}
	if c.CheckAfter == 0 {
		c.CheckAfter = defaultCheckAfter
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

func (c Config) hasFault(f Fault) bool {
	for _, x := range c.Faults {
		if x == f {
			return true
		}
	}
	return false
}
