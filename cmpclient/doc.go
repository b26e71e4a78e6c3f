// Package cmpclient is a client for the Certificate Management Protocol
// (CMP, RFC 9810 / RFC 4210) over HTTP (RFC 6712), for end entities: it
// enrolls certificates (ir, cr, kur, p10cr), revokes them (rr) and asks
// the general questions of the Lightweight CMP Profile (RFC 9483): CA
// certificates, root CA updates, certificate request templates.
//
// A Client holds the configuration in exported fields whose zero values
// are useful; each method runs one transaction, takes a context first and
// returns plain Go values:
//
//	c := &cmpclient.Client{
//		URL:          "https://ca.example/.well-known/cmp/p/tls",
//		Credentials:  cmpclient.MACCredentials{Reference: ref, Secret: secret},
//		TrustAnchors: roots, // verify signed responses and issued chains
//	}
//	enr, err := c.Enroll(ctx, &cmpclient.CertRequest{Subject: subj, DNSNames: names, Key: key})
//	enr, err = c.UpdateKey(ctx, &cmpclient.CertRequest{Key: newKey}, enr.Certificate, key)
//	err = c.Revoke(ctx, enr.Certificate, newKey, cmpclient.ReasonSuperseded)
//
// # What the client checks
//
// Every response must carry the transaction's transactionID and, as
// recipNonce, the senderNonce of the request it answers; its protection
// must verify (a MAC with the shared secret of the request, or a signature
// by the pinned ServerCertificate or by a certificate with digitalSignature
// that chains to TrustAnchors and is named as the sender); with
// MaxTimeSkew set, its messageTime must be that close to the local clock;
// its body must be one the request allows. Unprotected or badly protected error messages
// are refused unless AllowUnprotectedErrors is set. An issued certificate
// must hold the requested public key, subject and subjectAltName entries
// (unless the CA said grantedWithMods) and chain to TrustAnchors when set;
// otherwise it is rejected with a certConf carrying incorrectData.
//
// # Trust anchors
//
// A Client with neither TrustAnchors nor ServerCertificate sends no request
// the CA answers with a signature (ErrNoTrust). An ir or p10cr it protects
// with MACCredentials is answered under the shared secret; the caPubs
// certificate that certificate's chain verifies to is then returned as
// Enrollment.AdoptedTrustAnchor (RFC 9810 section 5.3.2), for the
// TrustAnchors of that certificate's later cr, kur and rr. A response whose
// protection does not verify is an *UnverifiedResponseError saying what it
// claims; a certificate it claims to carry is rejected with a certConf.
//
// # Errors
//
// Failures the server reports are *Error: PKIStatus, every failure bit by
// name, statusString, HTTP status and transaction ID, e.g.
//
//	cmp kur (transaction 3f2a…): rejection: badRequest, badPOP: "signature does not verify"
//
// Responses that break the protocol are *ProtocolError, whose Cause is one
// of the Err* values (errors.Is). A rejected certificate is a
// *CertificateRejectedError.
//
// # No certificate is lost
//
// Once the CA has issued a certificate, a later failure (certConf or
// pkiConf failing, the context ending) returns the *Enrollment together
// with an error wrapping *UnconfirmedError. Keep that certificate (or
// revoke it); it may be live on the CA.
//
// # Transport
//
// Requests are POSTed as application/pkixcmp with keep-alive through
// HTTPClient (default: a shared client with proxies from the environment;
// NewTransport and TLSConfig build one with a CA bundle, a client
// certificate for mutual TLS and a server name). MessageTimeout bounds
// each exchange, the context the whole operation; HTTP 503 with
// Retry-After is retried a bounded number of times within the deadline;
// answers are capped at 1 MiB. Redirects are not followed (RFC 6712
// section 3.3) unless HTTPClient.CheckRedirect says so. A request that
// meets a kept-alive connection the server closed is resent on a fresh one
// with the same transactionID and senderNonce, so a server that did
// receive the first copy refuses the second (transactionIdInUse, a reused
// senderNonce) instead of acting twice.
//
// # Logging
//
// Client.Log is called once per message sent or received with its type,
// transaction ID and status, never with secrets or keys.
package cmpclient
