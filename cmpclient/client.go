package cmpclient

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// Client talks to one CMP endpoint. Its exported fields are the
// configuration; the zero value of each is a sensible default. Set them
// before the first call and do not change them while calls run; a Client is
// safe for concurrent use. A Client may be copied (for example to change a
// field for some calls): a copy of a used Client shares its cache of keys
// derived from MAC secrets, which is safe for concurrent use.
type Client struct {
	// URL is the full CMP endpoint URL, e.g.
	// https://ca.example/.well-known/cmp/p/tls.
	URL string
	// HTTPClient sends the requests. Nil: a shared client that keeps
	// connections alive and takes proxies from the environment (see
	// NewTransport and TLSConfig for TLS options).
	HTTPClient *http.Client
	// Username and Password, when either is set, are sent as HTTP basic
	// authentication (some CAs require it in addition to CMP protection).
	Username, Password string

	// Credentials protect the requests that are not protected by a
	// certificate the operation itself names: ir, p10cr, genm, and rr
	// without a key. MACCredentials or SignatureCredentials.
	Credentials Credentials

	// UnprotectedSupportMessages lets a Client without Credentials send
	// its general messages (genm: CACerts, RootCAUpdate, CertReqTemplate,
	// GeneralMessage) without protection, which RFC 9810 section 5.1.3.4
	// allows, for CAs that answer support messages (RFC 9483 section 4.3)
	// to anyone. The answer must still be verified, so TrustAnchors or
	// ServerCertificate is required (else ErrNoTrust, before anything is
	// sent): a signed genp must verify as any signed answer; an unprotected
	// genp is accepted only where its content proves itself: by CACerts
	// when every certificate it lists chains to TrustAnchors, by
	// RootCAUpdate when oldRoot chains to TrustAnchors (the update is then
	// checked against it). Any other unprotected answer is refused with
	// ErrUnprotected. Other requests, and a Client with Credentials, are
	// not affected.
	UnprotectedSupportMessages bool

	// TrustAnchors verify signature-protected responses (the signer's chain
	// is built from the response's extraCerts) and, when set, the chain of
	// every issued certificate.
	TrustAnchors []*x509.Certificate
	// ServerCertificate, when set, is the only certificate accepted as the
	// signer of signature-protected responses (pinning, RFC 9483 section
	// 3.5); TrustAnchors are then not needed for protection.
	ServerCertificate *x509.Certificate

	// ExpectedSender, when set, is the only header sender accepted in
	// protected responses (as OpenSSL's -expect_sender): with signature
	// protection it names the CMP signer of the CA, so that no other
	// certificate chaining to TrustAnchors (for example another end
	// entity's) can speak for the CA. Zero: any sender that matches the
	// protection.
	ExpectedSender pkix.Name
	// Recipient is the header recipient; zero: NULL-DN (RFC 9483 section
	// 3.1 allows it when the CA's name is not known).
	Recipient pkix.Name
	// Sender is the header sender. Zero: the subject of the signer's
	// certificate for signature protection (RFC 9483 section 3.1); with MAC
	// protection the requested subject for ir and p10cr (as OpenSSL sends
	// it), else NULL-DN (RFC 9810 section 5.1.1).
	Sender pkix.Name

	// ImplicitConfirm asks the CA to skip certConf/pkiConf (RFC 9483 section
	// 4.1.1); the client still confirms when the CA does not grant it.
	ImplicitConfirm bool
	// MessageTimeout bounds each request/response exchange; zero:
	// DefaultMessageTimeout. The whole operation is bounded by the ctx of
	// the call.
	MessageTimeout time.Duration
	// MaxTimeSkew, when positive, refuses a response whose messageTime is
	// further than this from the local clock (RFC 9483 section 3.5: check
	// messageTime when present and the local time is trusted). Zero: not
	// checked, since the local clock may be the one that is off.
	MaxTimeSkew time.Duration
	// AllowUnprotectedErrors accepts error messages and negative responses
	// without valid protection, as OpenSSL's -unprotected_errors does. Their
	// content is then unauthenticated (Error.Unprotected is set).
	AllowUnprotectedErrors bool

	// Log, when set, is called once per message sent or received. It never
	// receives secrets or keys. Concurrent operations call it concurrently.
	Log func(MessageLog)

	// mac is allocated on first use and shared by copies; see macState.
	// A pointer, so that copying a Client copies no lock.
	mac *macState
}

// MessageLog describes one CMP message, for logging.
type MessageLog struct {
	// Direction is "send" or "receive".
	Direction string
	// Operation is the transaction: "ir", "cr", "kur", "p10cr", "rr", "genm".
	Operation string
	// Type is the body type: "ir", "ip", "certConf", "pkiConf", "error", ...
	Type          string
	TransactionID []byte
	// Status is the PKIStatusInfo of a response as text (e.g. "accepted",
	// "rejection: badPOP"), empty for messages that carry none.
	Status string
	// Size is the DER size in bytes.
	Size int
}

func (c *Client) log(m MessageLog) {
	if c.Log != nil {
		c.Log(m)
	}
}

// Enrollment is the outcome of ir, cr, kur or p10cr.
type Enrollment struct {
	// Certificate is the issued certificate.
	Certificate *x509.Certificate
	// CACerts are the caPubs of the response: CA certificates the CA
	// suggests trusting (usually its root), RFC 9483 section 4.1.1.
	CACerts []*x509.Certificate
	// ExtraCerts are the extraCerts of the response carrying the
	// certificate (the response signer and chains).
	ExtraCerts []*x509.Certificate
	// Chain is the issuer chain of Certificate, leaf excluded, nearest
	// issuer first, built from ExtraCerts and CACerts. With TrustAnchors set
	// it is the verified chain and ends with the anchor; without, it follows
	// issuer signatures as far as the response allows (possibly empty).
	Chain []*x509.Certificate
	// AdoptedTrustAnchor is set when the Client has neither TrustAnchors
	// nor ServerCertificate and the response was protected with the shared
	// secret (ir or p10cr with MACCredentials): it is the caPubs
	// certificate Chain verifies to, which RFC 9810 section 5.3.2 lets the
	// end entity trust directly as a root CA certificate. Keep it as
	// TrustAnchors for the later operations of this certificate (cr, kur,
	// rr), whose answers the CA signs. Nil otherwise, and when the caPubs
	// are absent or do not anchor the certificate (extraCerts are never
	// adopted: the protection does not cover them).
	AdoptedTrustAnchor *x509.Certificate
	// Status is the PKIStatusInfo the CA gave the request; grantedWithMods
	// means the CA changed what was asked for.
	Status cmp.PKIStatusInfo
	// TransactionID of the transaction.
	TransactionID []byte
	// ImplicitlyConfirmed is true when the CA granted implicit confirmation
	// and no certConf was sent.
	ImplicitlyConfirmed bool
	// Operation is "ir", "cr", "kur" or "p10cr".
	Operation string
}

// Credentials protect requests: MACCredentials (a shared secret) or
// SignatureCredentials (a key and its certificate).
type Credentials interface {
	// protect sets ProtectionAlg, SenderKID, Protection and ExtraCerts of m,
	// whose header is otherwise complete.
	protect(c *Client, m *cmp.Message) error
	// sender is the default header sender.
	sender() (cmp.GeneralName, error)
}

// MACAlgorithm selects password-based MAC protection (RFC 9481 section 6.1).
type MACAlgorithm int

const (
	// PBMHMACSHA256 is PasswordBasedMac with OWF SHA-256 and MAC
	// hmacWithSHA256 (the zero value).
	PBMHMACSHA256 MACAlgorithm = iota
	// PBMHMACSHA1 is PasswordBasedMac with OWF SHA-256 and MAC hmac-sha1,
	// what OpenSSL 3.0 sends by default; for CAs that want it.
	PBMHMACSHA1
	// PBMAC1 is PBMAC1 with PBKDF2-HMAC-SHA256 and HMAC-SHA256 (RFC 9481
	// section 6.1.3).
	PBMAC1
)

// MACCredentials protect requests with a secret shared with the CA, as
// for an initial enrollment (RFC 9483 section 4.1.5).
type MACCredentials struct {
	// Reference identifies the secret to the CA; sent as senderKID.
	Reference string
	Secret    []byte
	Algorithm MACAlgorithm
	// Iterations of the key derivation; zero: cmp.DefaultMACIterations.
	Iterations int
}

// SignatureCredentials protect requests with a signature (RFC 9483 section
// 3.2): Key signs, Chain[0] is its certificate and the rest its issuers,
// sent in extraCerts.
type SignatureCredentials struct {
	Key   crypto.Signer
	Chain []*x509.Certificate
	// RSAPSS signs with RSASSA-PSS instead of PKCS #1 v1.5 when Key is an
	// RSA key (RFC 9481 section 3.1).
	RSAPSS bool
}
