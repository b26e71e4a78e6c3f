package provider

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/cmpv2/terraform-provider-cmpv2/cmpclient"
)

// cmpErrorDetail explains a failed CMP operation to the person who reads
// the diagnostic: cmpclient's message (PKIStatus, every failInfo bit by
// name, statusString, HTTP status, transaction ID) and what to do about it.
// The message never holds a secret or key: cmpclient's errors do not.
func cmpErrorDetail(err error) string {
	var b strings.Builder
	b.WriteString(err.Error())
	var cmpErr *cmpclient.Error
	var protoErr *cmpclient.ProtocolError
	var rejected *cmpclient.CertificateRejectedError
	switch {
	case errors.Is(err, cmpclient.ErrNoTrust):
		b.WriteString("\n\nNothing was sent: the CA's signed answer could not be verified. " + noTrustFix)
	case errors.As(err, &rejected):
		b.WriteString("\n\nThe CA issued a certificate that is not what was asked for (or does not chain to the " +
			"trust anchors); it was refused with a certConf, so the CA revokes it. Check trusted_ca_pem and what " +
			"the CA's profile allows.")
	case errors.As(err, &cmpErr):
		names := cmpErr.FailInfo.Names()
		switch {
		case slices.Contains(names, "badMessageCheck") || slices.Contains(names, "wrongIntegrity") || slices.Contains(names, "signerNotTrusted"):
			b.WriteString("\n\nThe CA did not accept the request's protection: check the reference and secret " +
				"(or the signing certificate) the CA expects for this endpoint.")
		case slices.Contains(names, "duplicateCertReq"):
			b.WriteString("\n\nThe CA already holds a live certificate for this subject: revoke it first or " +
				"import it, since this CA refuses a second initialization request.")
		case cmpErr.HTTPStatus == 404:
			b.WriteString("\n\nThe URL's path is probably not a CMP endpoint of this server.")
		case cmpErr.HTTPStatus == 401 || cmpErr.HTTPStatus == 403:
			b.WriteString("\n\nThe server wants HTTP authentication: check basic_auth or the TLS client certificate.")
		}
	case errors.As(err, &protoErr):
		switch {
		case errors.Is(err, cmpclient.ErrUntrustedSigner):
			b.WriteString("\n\nThe response is signed by a certificate that does not chain to trusted_ca_pem " +
				"(or is not the pinned server_certificate_pem): configure the CA's trust anchors.")
		case errors.Is(err, cmpclient.ErrProtection):
			b.WriteString("\n\nThe response's protection does not verify: a wrong secret, or something between " +
				"this host and the CA changed the message.")
		}
	case errors.Is(err, context.DeadlineExceeded):
		b.WriteString("\n\nThe operation ran out of time: raise message_timeout or the resource's timeouts.")
	}
	return b.String()
}

// credentialHint names where the IR's credentials came from (from, as
// irCredentials gives it) when err says the CA refused their protection,
// or its answer under them did not verify: the secret or certificate at
// fault is then one of the configuration's, and the reader should know
// which. Neither the secret nor a key is named, only where it is set.
func credentialHint(err error, from string) string {
	var cmpErr *cmpclient.Error
	refused := errors.As(err, &cmpErr) && slices.ContainsFunc(cmpErr.FailInfo.Names(), func(n string) bool {
		return n == "badMessageCheck" || n == "wrongIntegrity" || n == "signerNotTrusted"
	})
	if from == "" || !(refused || errors.Is(err, cmpclient.ErrProtection)) {
		return ""
	}
	return "\n\nThe IR was protected with " + from + ": check that this is the secret (or certificate) the CA " +
		"holds for that reference."
}
